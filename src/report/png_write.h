/* Encoding heatmaps and images as PNG (libpng), to a file or to memory. Files are written to a temporary name in the same
 * directory and renamed into place, so a reader never sees a partial file. */
#ifndef UM_REPORT_PNG_WRITE_H
#define UM_REPORT_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

/* A map value in [0,1] as a byte, 255 = strongest evidence (NaN and below 0 give 0). */
static inline uint8_t um_unit_to_byte(float v)
{
    if (!(v > 0))
        return 0;
    if (v >= 1)
        return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

/* channels: 1 (gray) or 3 (RGB), 8-bit, rows packed. Returns 0, or -1 with errno-like text in
 * err. */
int um_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t errlen);

/* The same PNG in memory: malloc'ed bytes (*len set), or NULL when out of memory or the size is
 * not positive. */
unsigned char *um_png_encode(const uint8_t *pixels, int width, int height, int channels,
                             size_t *len);

#endif
