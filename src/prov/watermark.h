/* Stable Diffusion's invisible watermark: a decoder for invisible-watermark's `dwtDct` method
 * (ShieldMnt/invisible-watermark imwatermark/maxDct.py), the mark the reference Stable
 * Diffusion scripts put on their outputs. No model weights: pure signal processing
 * (provenance-markers.md 4.2).
 *
 * What it reads: the U plane of YUV (OpenCV BGR->YUV), cropped to multiples of 4, one-level Haar
 * approximation band LL, tiled in 4x4 blocks; in each block the coefficient of largest magnitude
 * other than the first holds one bit as fmod(|v|, 36) > 18; the blocks' votes are averaged per
 * bit index (block number mod message length). It compares the bits read with the three known
 * payloads - SD 1.x "StableDiffusionV1" (136 bits), SD 2.x "SDV2" (32 bits), SDXL 0xB3EC907BB19E
 * (48 bits) - under four read variants (channel order BGR or RGB x OpenCV's uint8 fixed-point or
 * float conversion), because the writers differ in what they feed the encoder.
 *
 * What it says: a matched-bit count per message, the variant that gave it, and a confidence class
 * from Stability AI's detection thresholds (SDXL, 48 bits: <= 27 no, 28-33 partial, 34-35 likely,
 * >= 36 very likely), carried to 32 and 136 bits by equal binomial false-alarm probability. A
 * mark is evidence that an SD pipeline wrote the pixels; its absence proves nothing (any resize,
 * crop or recompression erases it, many generators never add it): the report never says "not
 * AI", only "not detected". */
#ifndef UM_PROV_WATERMARK_H
#define UM_PROV_WATERMARK_H

#include <jansson.h>

#include "core/image.h"
#include "unmask.h"

#define UM_WM_MIN_PIXELS (256 * 256) /* the library refuses smaller images (H*W) */
#define UM_WM_MAX_SIDE 2048          /* SD outputs are at most ~2048 on a side; a larger image
                                        has been resized (which erases the mark) or is not one */
#define UM_WM_MESSAGES 3
#define UM_WM_VARIANTS 4

/* Read variants, in the order of um_wm_message_match.matched_by_variant. */
typedef enum um_wm_variant {
    UM_WM_BGR_UINT8 = 0, /* the library's own path: uint8 BGR image (CompVis scripts) */
    UM_WM_RGB_UINT8,     /* RGB pixels fed where BGR is expected */
    UM_WM_BGR_FLOAT,     /* float32 0..255 BGR (Stability-AI generative-models / sgm) */
    UM_WM_RGB_FLOAT      /* float32 RGB (huggingface diffusers StableDiffusionXLWatermarker) */
} um_wm_variant;

const char *um_wm_variant_name(um_wm_variant v); /* "bgr-uint8", "rgb-uint8", ... */

/* Confidence class for one message (the SDXL script's wording). */
typedef enum um_wm_class {
    UM_WM_CLASS_NO = 0,       /* "no watermark" */
    UM_WM_CLASS_PARTIAL,      /* "partial, cannot determine" */
    UM_WM_CLASS_LIKELY,       /* "likely" */
    UM_WM_CLASS_VERY_LIKELY   /* "very likely" */
} um_wm_class;

const char *um_wm_class_name(um_wm_class c); /* "no", "partial", "likely", "very likely" */

typedef struct um_wm_message_match {
    const char *name;            /* "SD 1.x", "SD 2.x", "SDXL" (static) */
    int bits;                    /* 136, 32, 48 */
    int matched;                 /* best over the variants */
    um_wm_variant variant;       /* the variant that gave it (first of equals) */
    int matched_by_variant[UM_WM_VARIANTS];
    int threshold[3];            /* matched >= threshold[0] partial, [1] likely, [2] very likely */
    um_wm_class cls;
    double log10_p;              /* log10 P[Binomial(bits, 1/2) >= matched]: chance of this many
                                    matches for one variant of an unmarked image */
} um_wm_message_match;

typedef struct um_watermark_result {
    int applicable;              /* 0: image too small or too large; reason says why */
    char reason[200];
    int detected;                /* 0 not detected, 1 likely, 2 very likely */
    const char *name;            /* message of the strongest match ("SDXL", ...), static */
    int matched, total;          /* of that message */
    um_wm_variant variant;
    um_wm_message_match msg[UM_WM_MESSAGES]; /* order: SD 1.x, SD 2.x, SDXL */
    json_t *json;                /* the report fragment (owned): applicable, reason or
                                    detected/message/matched/bits/variant/class and every
                                    message's counts */
} um_watermark_result;

/* Decode the watermark from rgb (3 planes, values 0..255; 8-bit sources hold integers, other
 * values are rounded for the uint8 variants). An image outside UM_WM_MIN_PIXELS /
 * UM_WM_MAX_SIDE is "not applicable" with a reason (UM_OK). Returns UM_ERR_ARGUMENT for a NULL
 * or non-RGB image, UM_ERR_NOMEM when memory runs out; out->json is then NULL. */
um_error um_watermark_detect(const um_image *rgb, um_watermark_result *out);
void um_watermark_result_clear(um_watermark_result *r);

/* The payload bits of message m (0 SD 1.x, 1 SD 2.x, 2 SDXL), one per byte (0/1), MSB-first
 * expansion of the bytes. Returns the bit count (and writes at most cap bits), 0 for a bad m.
 * Tests use it to embed the mark. */
int um_wm_message_bits(int m, unsigned char *bits, int cap);

#endif
