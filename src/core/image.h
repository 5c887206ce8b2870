/* Planar float images: the one pixel type every detector works on. */
#ifndef UM_CORE_IMAGE_H
#define UM_CORE_IMAGE_H

#include <stddef.h>

/* Channel c of pixel (x, y) is data[(size_t)c * width * height + (size_t)y * width + x].
 * Pixel values are on the 0..255 scale of 8-bit images, whatever the source depth. */
typedef struct um_image {
    int width, height, channels;
    float *data;
} um_image;

/* NULL when out of memory or when the size is not positive. Pixels start at 0. */
um_image *um_image_new(int width, int height, int channels);
void um_image_free(um_image *img);

static inline float *um_image_plane(const um_image *img, int c)
{
    return img->data + (size_t)c * (size_t)img->width * (size_t)img->height;
}

/* Luminance Y = 0.299 R + 0.587 G + 0.114 B (JFIF), one channel. A one-channel input is copied. */
um_image *um_image_luminance(const um_image *rgb);

/* Resample a map of map_w x map_h cells, each covering step x step input pixels starting at
 * (0,0), to width x height by nearest cell (the cell a pixel falls in; past the edge the last
 * cell). Writes width*height floats to out. */
void um_map_upsample(const float *map, int map_w, int map_h, int step, int width, int height,
                     float *out);

/* Resample a map of map_w x map_h cells of map_step pixels onto a grid of cells of cell_step
 * pixels (out_w x out_h cells) covering the same image: each output cell is the mean of the
 * input cells it overlaps (nearest input cell when those are larger). */
void um_map_to_grid(const float *map, int map_w, int map_h, int map_step, float *out, int out_w,
                    int out_h, int cell_step);

#endif
