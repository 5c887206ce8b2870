/* Decoding: bytes in, a planar float image (plus, for JPEG, its quantized DCT coefficients and
 * quantization tables) out. The format is sniffed from the bytes, never from a file name.
 * Every limit is checked before memory is committed; nothing here prints or exits. */
#ifndef UM_IO_DECODE_H
#define UM_IO_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/image.h"
#include "unmask.h"

typedef enum um_format {
    UM_FORMAT_UNKNOWN = 0,
    UM_FORMAT_JPEG,
    UM_FORMAT_PNG,
    UM_FORMAT_TIFF,
    UM_FORMAT_WEBP,
    UM_FORMAT_HEIF, /* HEIC/HEIF */
    UM_FORMAT_AVIF,
    UM_FORMAT_GIF,  /* recognised, not decoded: reported as unsupported */
    UM_FORMAT_JXL   /* recognised, not decoded */
} um_format;

/* Stable lower-case name used in JSON ("jpeg", "png", ...). */
const char *um_format_name(um_format f);

/* Sniff the format from the first bytes (at least 12 useful; fewer gives UNKNOWN). */
um_format um_sniff_format(const uint8_t *data, size_t size);

/* Limits the decoder enforces (from um_options; named constants in io/limits.h). */
typedef struct um_limits {
    uint64_t max_bytes;
    uint64_t max_pixels;
    uint32_t max_dimension;
} um_limits;

/* One colour component of a JPEG as stored: quantized coefficients, block by block. */
typedef struct um_jpeg_component {
    int id;                      /* component identifier from SOF */
    int h_samp, v_samp;          /* sampling factors */
    int quant_index;             /* which of jpeg->qtable this component uses */
    int blocks_w, blocks_h;      /* blocks stored: the component's own blocks, ceil(component
                                    width / 8) x ceil(height / 8) (libjpeg's width_in_blocks);
                                    the MCU padding blocks are not included */
    int16_t *coef;               /* blocks_h * blocks_w * 64, block-row-major; inside a block
                                    natural order (v*8+u), NOT zig-zag; values are quantized,
                                    i.e. DCT / qtable, as stored in the file */
} um_jpeg_component;

/* What a JPEG file holds beyond its pixels. */
typedef struct um_jpeg_info {
    int num_components;
    um_jpeg_component comp[4];
    uint16_t qtable[4][64];      /* natural order; valid where qtable_present */
    int qtable_present[4];
    int progressive;             /* SOF2 */
    int arithmetic;              /* arithmetic coding */
    int restart_interval;        /* DRI value, 0 if none */
    int jfif, adobe;             /* JFIF APP0 / Adobe APP14 seen */
    int adobe_transform;         /* Adobe APP14 colour transform flag, -1 if absent */
    int color_space;             /* libjpeg J_COLOR_SPACE of the file */
    int exif_present;            /* APP1 "Exif" seen */
    int exif_thumbnail;          /* an embedded JPEG thumbnail (SOI inside the EXIF APP1) */
    int segment_count;           /* markers read before the first SOS */
    uint64_t trailing_bytes;     /* bytes after EOI */
} um_jpeg_info;

typedef struct um_decoded {
    um_format format;
    int width, height;
    int bit_depth;               /* of the source samples: 8 or 16 */
    int source_channels;         /* 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha (or CMYK) */
    int has_alpha;
    um_image *rgb;               /* always 3 channels, 0..255 (16-bit scaled, alpha dropped,
                                    gray replicated, palette expanded, CMYK converted) */
    um_jpeg_info *jpeg;          /* NULL unless format == UM_FORMAT_JPEG */
    uint8_t *alpha;              /* width*height alpha samples, row-major, or NULL when the image
                                    has no alpha (or its decoder does not keep it: only PNG and
                                    WebP fill it). 8-bit sources: the exact stored value; 16-bit:
                                    value >> 8. Kept for metadata hidden in it (NovelAI's stealth
                                    alpha-LSB payload, provenance-markers.md 4.1); the detectors
                                    never read it. Freed by um_decoded_clear. */
} um_decoded;

/* Decode. On failure returns the error code, writes a sentence for a person into err, and
 * leaves *out empty (nothing to free). On success the caller frees with um_decoded_clear. */
um_error um_decode(const uint8_t *data, size_t size, const um_limits *limits, um_decoded *out,
                   char *err, size_t errlen);
void um_decoded_clear(um_decoded *d);

/* A reduced-size RGB decode for comparisons (the EXIF thumbnail against the image): longest
 * side <= max_side where possible (never upscaled). JPEG is decoded by libjpeg at 1/2, 1/4 or
 * 1/8 scale (DCT scaling: a 12 MP photo in a few tens of ms), other formats fully through
 * um_decode; either is then reduced by area averaging. Pixels are the stored orientation (EXIF
 * Orientation not applied). *out is a new 3-channel 0..255 image (um_image_free). Errors as
 * um_decode: a code, a sentence in err, *out NULL. */
um_error um_decode_preview(const uint8_t *data, size_t size, const um_limits *limits,
                           int max_side, um_image **out, char *err, size_t errlen);

/* src resampled to width x height by area averaging (each output pixel the coverage-weighted
 * mean of the input pixels under it, also when enlarging). All channels.
 * NULL when out of memory or a size is not positive. */
um_image *um_resample_area(const um_image *src, int width, int height);

/* A JPEG's header only (tables, components, coding options, marker facts; no coefficients,
 * no pixels: a few hundred microseconds even for a large photo): what the provenance report
 * needs to fingerprint the encoder without decoding. */
um_error um_jpeg_read_header(const uint8_t *data, size_t size, const um_limits *limits,
                             um_jpeg_info *info, int *width, int *height, char *err,
                             size_t errlen);

/* Read a whole file into memory, refusing files over max_bytes (UM_ERR_LIMIT) before reading
 * them. *data is malloc'ed; free() it. */
um_error um_read_file(const char *path, uint64_t max_bytes, uint8_t **data, size_t *size,
                      char *err, size_t errlen);

/* Encode rgb (3 channels, 0..255) as a baseline JPEG at quality 1..100 with 4:2:0 chroma
 * (4:4:4 when chroma_full), into a malloc'ed buffer. Used by tests, the demo and the bench.
 * A 1-channel image gives a grayscale JPEG. Returns UM_ERR_ARGUMENT for a bad image or quality. */
um_error um_encode_jpeg(const um_image *rgb, int quality, int chroma_full, uint8_t **data,
                        size_t *size);

#endif
