/* Writing heatmaps as PNG files (libpng). Files are written to a temporary name in the same
 * directory and renamed into place, so a reader never sees a partial file. */
#ifndef UM_REPORT_PNG_WRITE_H
#define UM_REPORT_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

/* channels: 1 (gray) or 3 (RGB), 8-bit, rows packed. Returns 0, or -1 with errno-like text in
 * err. */
int um_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t errlen);

#endif
