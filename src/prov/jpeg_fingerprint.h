/* JPEG quantization-table fingerprint: encoder family and quality from the tables, plus the
 * coding options (subsampling, progressive, restart markers, EXIF thumbnail, trailing bytes).
 * One implementation for the jpeg-structure detector and the provenance report. */
#ifndef UM_PROV_JPEG_FINGERPRINT_H
#define UM_PROV_JPEG_FINGERPRINT_H

#include <jansson.h>

#include "io/decode.h"

struct um_jpeg_fingerprint {
    int luma_quality;         /* nearest IJG quality of the luminance table, 0 if invalid */
    const char *family_id;    /* "ijg", "adobe", "custom-with-exif", "custom" */
    const char *family_words; /* the family for a person */
    const char *subsampling;  /* "4:2:0", "4:4:4", ..., "none (grayscale)", "unusual" */
};

/* Fill fp and return the facts as a JSON object (quantization_tables, encoder_family,
 * quality_estimate, subsampling, progressive, ...); NULL when out of memory. */
json_t *um_jpeg_fingerprint(const um_jpeg_info *j, struct um_jpeg_fingerprint *fp);

/* Chroma subsampling of a 3-component JPEG as a name. */
const char *um_jpeg_subsampling_name(const um_jpeg_info *j);

#endif
