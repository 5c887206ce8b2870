#include "core/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

um_image *um_image_new(int width, int height, int channels)
{
    if (width <= 0 || height <= 0 || channels <= 0 || channels > 4)
        return NULL;
    size_t n = (size_t)width * (size_t)height;
    if (n > SIZE_MAX / sizeof(float) / (size_t)channels)
        return NULL;
    um_image *img = malloc(sizeof *img);
    if (!img)
        return NULL;
    img->data = calloc(n * (size_t)channels, sizeof(float));
    if (!img->data) {
        free(img);
        return NULL;
    }
    img->width = width;
    img->height = height;
    img->channels = channels;
    return img;
}

void um_image_free(um_image *img)
{
    if (!img)
        return;
    free(img->data);
    free(img);
}

um_image *um_image_luminance(const um_image *rgb)
{
    um_image *y = um_image_new(rgb->width, rgb->height, 1);
    if (!y)
        return NULL;
    size_t n = (size_t)rgb->width * (size_t)rgb->height;
    if (rgb->channels < 3) {
        memcpy(y->data, rgb->data, n * sizeof(float));
        return y;
    }
    const float *r = um_image_plane(rgb, 0), *g = um_image_plane(rgb, 1),
                *b = um_image_plane(rgb, 2);
    for (size_t i = 0; i < n; i++)
        y->data[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
    return y;
}

void um_map_upsample(const float *map, int map_w, int map_h, int step, int width, int height,
                     float *out)
{
    for (int y = 0; y < height; y++) {
        int my = y / step;
        if (my >= map_h)
            my = map_h - 1;
        const float *row = map + (size_t)my * (size_t)map_w;
        float *o = out + (size_t)y * (size_t)width;
        for (int x = 0; x < width; x++) {
            int mx = x / step;
            o[x] = row[mx < map_w ? mx : map_w - 1];
        }
    }
}

void um_map_to_grid(const float *map, int map_w, int map_h, int map_step, float *out, int out_w,
                    int out_h, int cell_step)
{
    for (int cy = 0; cy < out_h; cy++) {
        /* Input cells overlapping output rows [cy*cell_step, (cy+1)*cell_step). */
        int y0 = cy * cell_step / map_step, y1 = ((cy + 1) * cell_step - 1) / map_step;
        if (y0 >= map_h)
            y0 = map_h - 1;
        if (y1 >= map_h)
            y1 = map_h - 1;
        for (int cx = 0; cx < out_w; cx++) {
            int x0 = cx * cell_step / map_step, x1 = ((cx + 1) * cell_step - 1) / map_step;
            if (x0 >= map_w)
                x0 = map_w - 1;
            if (x1 >= map_w)
                x1 = map_w - 1;
            double sum = 0;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                    sum += map[(size_t)y * map_w + x];
            out[(size_t)cy * out_w + cx] = (float)(sum / ((double)(y1 - y0 + 1) * (x1 - x0 + 1)));
        }
    }
}
