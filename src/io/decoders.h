/* Internal to src/io: one decoder per format, and the helpers they share. decode.c sniffs the
 * format and calls one of these; each fills *out completely or leaves it empty. */
#ifndef UM_IO_DECODERS_H
#define UM_IO_DECODERS_H

#include <stddef.h>
#include <stdint.h>

#include "io/decode.h"

um_error um_decode_jpeg(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen);
/* The JPEG reduced by libjpeg's DCT scaling (1/1, 1/2, 1/4 or 1/8: the smallest that keeps the
 * longest side >= max_side; max_side <= 0 = full size), as a new 3-channel 0..255 image in *out.
 * The same checks as um_decode_jpeg (limits before allocation, truncation and damage are errors,
 * progressive scans capped). For comparisons with small images (io/preview.c). */
um_error um_decode_jpeg_scaled(const uint8_t *data, size_t size, const um_limits *limits,
                               int max_side, um_image **out, char *err, size_t errlen);
um_error um_decode_png(const uint8_t *data, size_t size, const um_limits *limits,
                       um_decoded *out, char *err, size_t errlen);
um_error um_decode_tiff(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen);
um_error um_decode_webp(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen);
/* HEIF/HEIC and AVIF share one container and one library; format says which it is. */
um_error um_decode_heif(const uint8_t *data, size_t size, const um_limits *limits,
                        um_format format, um_decoded *out, char *err, size_t errlen);

/* printf into err (when err is not NULL) and return code: every failure path ends here. */
um_error um_fail(char *err, size_t errlen, um_error code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks a header's width and height against the limits before anything is allocated:
 * UM_OK, UM_ERR_CORRUPT for a zero size, or UM_ERR_LIMIT with a sentence naming the option. */
um_error um_check_size(uint64_t width, uint64_t height, const um_limits *limits,
                       const char *format_label, char *err, size_t errlen);

/* How a decoder library lays out one row of samples. */
struct um_row_layout {
    int channels;      /* 1 gray (replicated to RGB), 3 RGB, 4 RGBA (alpha ignored) */
    int two_bytes;     /* 16-bit containers */
    int big_endian;    /* byte order of two-byte samples (PNG: big, libheif: little) */
    int bits;          /* significant bits per sample, 8..16: scaled to 0..255 */
};

/* Store interleaved row y into the planar 0..255 image. */
void um_store_row(um_image *img, int y, const uint8_t *row, const struct um_row_layout *layout);

/* A new 3-channel image of the checked size, or NULL with UM_ERR_NOMEM written to err. */
um_image *um_alloc_rgb(int width, int height, char *err, size_t errlen);

#endif
