/* Requantization error of 8x8 DCT blocks: the measure shared by the JPEG-ghost and ELA
 * detectors (internal to src/detect/).
 *
 * Recompressing a block at a quantization table Q changes its DCT coefficients D into
 * Q round(D / Q); because the JPEG DCT is orthonormal (core/dct.h) the squared error
 * sum_k (D_k - Q_k round(D_k / Q_k))^2 equals the squared pixel difference between the block
 * and its recompression, apart from the final rounding and clipping to 8 bits. Working on
 * coefficients avoids re-encoding and decoding the whole image once per quality. */
#ifndef UM_DETECT_REQUANT_H
#define UM_DETECT_REQUANT_H

#include <stdint.h>

#include "io/decode.h"

/* One quantization table as float steps and their reciprocals (natural order). */
struct um_requant_table {
    float step[64];
    float inv_step[64];
};

void um_requant_table_init(struct um_requant_table *t, const uint16_t qtable[64]);

/* The IJG table at this quality (core/jpeg_tables.h), luminance or chrominance. */
void um_requant_table_ijg(struct um_requant_table *t, int quality, int chroma);

/* Squared requantization error of n coefficients: value[i] sits at natural position
 * position[i]. Pass all 64 positions for a dense block or only the non-zero ones of a sparse
 * JPEG block (a zero coefficient requantizes to zero at any step). */
float um_requant_error(const struct um_requant_table *t, const float *value,
                       const uint8_t *position, int n);

/* JPEG's own rounding of value / step (half away from zero, as libjpeg's quantizer does). */
static inline float um_requant_round(float x)
{
    return (float)(long)(x + (x >= 0 ? 0.5f : -0.5f));
}

/* The DCT (natural order) of the 8x8 block (bx, by) of a plane of width x height samples,
 * on JPEG's grid from (0,0), after the -128 level shift. Samples past the right or bottom
 * edge repeat the last column / row, as JPEG encoders pad partial blocks. When round_samples
 * is set the samples are first rounded to integers, as an 8-bit encoder would see them. */
void um_block_dct_from_plane(const float *plane, int width, int height, int bx, int by,
                             int round_samples, float out[64]);

/* Dequantized coefficients of block (bx, by) of a JPEG component: the non-zero ones only,
 * value[i] = coef * qtable at natural position position[i]. Returns their count (0..64). */
int um_block_dequantized(const um_jpeg_component *comp, const uint16_t qtable[64], int bx, int by,
                         float value[64], uint8_t position[64]);

/* The luminance component of a decoded JPEG when the detectors can use it: present, with its
 * quantization table, and covering at least map_w x map_h full-resolution blocks (a luminance
 * that is itself subsampled is refused). Returns NULL, with a sentence in why, otherwise. */
const um_jpeg_component *um_jpeg_luma(const um_decoded *d, int map_w, int map_h,
                                      const uint16_t **qtable, const char **why);

/* Full 8x8 luminance blocks (JPEG grid) that carry texture a recompression can act on: a
 * standard deviation of at least 1 grey level and at most half of the pixels clipped at 0 or
 * 255. Flat, black, white or saturated images have few or none: the recompression detectors
 * then have nothing to judge and say so instead of reporting "no evidence". */
long um_textured_blocks(const um_image *luma);

#endif
