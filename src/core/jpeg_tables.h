/* The IJG (libjpeg) standard quantization tables and quality scaling, shared by the JPEG
 * detectors (quality estimation, recompression at a chosen quality) and by provenance code
 * (quantization-table fingerprints).
 *
 * The base tables are those of ITU-T T.81 Annex K (K.1 luminance, K.2 chrominance); libjpeg's
 * jpeg_set_quality() scales them by a percentage derived from the quality setting. Everything
 * here is in natural order (v*8+u), like um_jpeg_info.qtable. */
#ifndef UM_CORE_JPEG_TABLES_H
#define UM_CORE_JPEG_TABLES_H

#include <stdint.h>

/* T.81 Annex K tables, natural order. */
extern const uint16_t um_jpeg_std_luminance[64];
extern const uint16_t um_jpeg_std_chrominance[64];

/* libjpeg's quality-to-percentage rule (jpeg_quality_scaling): quality is clamped to 1..100;
 * below 50 the percentage is 5000/quality, from 50 up it is 200 - 2*quality. */
int um_jpeg_quality_scale(int quality);

/* The table libjpeg writes at this quality (baseline: entries clamped to 1..255):
 * out[k] = clamp((base[k] * scale + 50) / 100, 1, 255). chroma != 0 selects the chrominance
 * base table. */
void um_jpeg_scaled_table(int quality, int chroma, uint16_t out[64]);

/* The IJG quality (1..100) whose luminance table is closest to qtable in its low and middle
 * frequencies (the first 21 zig-zag steps, as log ratios: editors cap the high ones). fit_error (may be NULL)
 * receives the mean absolute difference per entry, in quantization steps, between qtable and
 * that scaled table: 0 means qtable IS the IJG table at that quality; a larger value means a
 * custom (camera / editor) table, for which the quality is only the nearest equivalent.
 * Returns -1 (fit_error untouched) when qtable holds a zero entry, i.e. is not a valid table. */
int um_jpeg_estimate_quality(const uint16_t qtable[64], double *fit_error);

#endif
