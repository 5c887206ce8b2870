#include "synth_clone.h"

#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Stateless hash of (seed, index) to [0, 1): every pixel's noise is reproducible on its own. */
static double hash_uniform(unsigned seed, size_t index)
{
    unsigned long long z = (unsigned long long)seed * 0x9e3779b97f4a7c15ull + index;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Mild sensor-like noise: a sum of four uniforms (close to Gaussian), sigma about 2.3 levels. */
static float mild_noise(unsigned seed, size_t index)
{
    double s = 0;
    for (int k = 0; k < 4; k++)
        s += hash_uniform(seed, index * 4 + (size_t)k);
    return (float)((s - 2.0) * 4.0);
}

static float clip_round(float v)
{
    return roundf(v < 0 ? 0 : (v > 255 ? 255 : v));
}

static float bilinear(const float *p, int width, double x, double y)
{
    int x0 = (int)floor(x), y0 = (int)floor(y);
    double fx = x - x0, fy = y - y0;
    const float *r = p + (size_t)y0 * width + x0;
    return (float)((1 - fy) * ((1 - fx) * r[0] + fx * r[1]) +
                   fy * ((1 - fx) * r[width] + fx * r[width + 1]));
}

static void extend_box(double x, double y, double *lo_x, double *lo_y, double *hi_x, double *hi_y)
{
    *lo_x = fmin(*lo_x, x);
    *lo_y = fmin(*lo_y, y);
    *hi_x = fmax(*hi_x, x);
    *hi_y = fmax(*hi_y, y);
}

struct synth_box synth_clone(um_image *img, int sx, int sy, int w, int h, double cx, double cy,
                             double rot_deg, double scale)
{
    struct synth_box box = {0, 0, 0, 0};
    size_t plane = (size_t)img->width * img->height;
    float *src = malloc(plane * img->channels * sizeof *src);
    if (!src || w < 2 || h < 2)
        return free(src), box;
    memcpy(src, img->data, plane * img->channels * sizeof *src);
    double th = rot_deg * M_PI / 180.0, co = cos(th), si = sin(th);
    double scx = sx + (w - 1) / 2.0, scy = sy + (h - 1) / 2.0;
    /* Bounding box of the four transformed corners. With y down, counter-clockwise as seen is
     * t - c = scale * [cos sin; -sin cos] (s - s_centre). */
    double lo_x = 1e30, lo_y = 1e30, hi_x = -1e30, hi_y = -1e30;
    for (int k = 0; k < 4; k++) {
        double u = (k & 1 ? sx + w - 1 : sx) - scx, v = (k & 2 ? sy + h - 1 : sy) - scy;
        extend_box(cx + scale * (co * u + si * v), cy + scale * (-si * u + co * v), &lo_x, &lo_y,
                   &hi_x, &hi_y);
    }
    int x0 = (int)fmax(0, floor(lo_x)), y0 = (int)fmax(0, floor(lo_y));
    int x1 = (int)fmin(img->width - 1, ceil(hi_x)), y1 = (int)fmin(img->height - 1, ceil(hi_y));
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            /* Inverse map: s = s_centre + R(rot)^T (t - c) / scale. */
            double dx = (x - cx) / scale, dy = (y - cy) / scale;
            double u = scx + co * dx - si * dy, v = scy + si * dx + co * dy;
            if (u < sx || v < sy || u > sx + w - 1 || v > sy + h - 1 || u > img->width - 2 ||
                v > img->height - 2)
                continue;
            for (int c = 0; c < img->channels; c++)
                um_image_plane(img, c)[(size_t)y * img->width + x] =
                    bilinear(src + c * plane, img->width, u, v);
        }
    free(src);
    if (x1 >= x0 && y1 >= y0)
        box = (struct synth_box){x0, y0, x1 - x0 + 1, y1 - y0 + 1};
    return box;
}

/* Value noise: random levels on a grid of `cell` pixels, bilinearly interpolated. */
static float value_noise(unsigned seed, int x, int y, int cell)
{
    int i = x / cell, j = y / cell;
    double fx = (double)(x % cell) / cell, fy = (double)(y % cell) / cell;
    double v00 = hash_uniform(seed, (size_t)j * 65536 + (size_t)i);
    double v10 = hash_uniform(seed, (size_t)j * 65536 + (size_t)i + 1);
    double v01 = hash_uniform(seed, (size_t)(j + 1) * 65536 + (size_t)i);
    double v11 = hash_uniform(seed, (size_t)(j + 1) * 65536 + (size_t)i + 1);
    return (float)((1 - fy) * ((1 - fx) * v00 + fx * v10) + fy * ((1 - fx) * v01 + fx * v11) -
                   0.5);
}

um_image *synth_textured_photo(int width, int height, unsigned seed)
{
    um_image *img = synth_photo(width, height, seed);
    if (!img)
        return NULL;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            float t = 50.0f * value_noise(seed + 101, x, y, 6) +
                      24.0f * value_noise(seed + 202, x, y, 3);
            for (int c = 0; c < img->channels; c++) {
                float *p = um_image_plane(img, c) + (size_t)y * width + x;
                *p = clip_round(*p + t);
            }
        }
    return img;
}

void synth_tiles(um_image *img, int px, int py, unsigned seed)
{
    if (px < 1 || py < 1)
        return;
    /* The motif: a coarse random relief (4 x 4 control points, bilinear, so the tile has soft
     * shading and edges) plus a dark grout line along its top and left borders. */
    double ctrl[3][5][5];
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 5; j++)
            for (int i = 0; i < 5; i++)
                ctrl[c][j][i] = 70 + 140 * hash_uniform(seed, (size_t)(c * 25 + (j % 4) * 5 + (i % 4)));
    for (int c = 0; c < img->channels && c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < img->height; y++)
            for (int x = 0; x < img->width; x++) {
                double u = 4.0 * (x % px) / px, v = 4.0 * (y % py) / py;
                int i = (int)u, j = (int)v;
                double fu = u - i, fv = v - j;
                double val = (1 - fv) * ((1 - fu) * ctrl[c][j][i] + fu * ctrl[c][j][i + 1]) +
                             fv * ((1 - fu) * ctrl[c][j + 1][i] + fu * ctrl[c][j + 1][i + 1]);
                if (x % px < 2 || y % py < 2)
                    val = 40;
                size_t at = (size_t)y * img->width + x;
                p[at] = clip_round((float)val + mild_noise(seed + 1 + c, at));
            }
    }
}

enum { GLYPHS = 24, GLYPH_W = 5, GLYPH_H = 7 };

void synth_text_page(um_image *img, int glyph_h, unsigned seed)
{
    if (glyph_h < GLYPH_H)
        glyph_h = GLYPH_H;
    unsigned char bits[GLYPHS][GLYPH_H][GLYPH_W];
    for (int g = 0; g < GLYPHS; g++)
        for (int r = 0; r < GLYPH_H; r++)
            for (int col = 0; col < GLYPH_W; col++)
                bits[g][r][col] = hash_uniform(seed, (size_t)(g * 64 + r * 8 + col)) < 0.45;
    int gw = glyph_h * GLYPH_W / GLYPH_H, advance = gw + glyph_h / 4 + 1;
    int line = glyph_h * 8 / 5, margin = 2 * glyph_h;
    size_t plane = (size_t)img->width * img->height;
    float *ink = calloc(plane, sizeof *ink);
    if (!ink)
        return;
    size_t k = 0;
    for (int top = margin; top + glyph_h <= img->height - margin; top += line)
        for (int left = margin; left + gw <= img->width - margin; left += advance, k++) {
            /* One glyph in six is a space, so the lines break into words of varying length. */
            double pick = hash_uniform(seed + 7, k);
            if (pick < 1.0 / 6)
                continue;
            int g = (int)((pick - 1.0 / 6) * 6.0 / 5.0 * GLYPHS) % GLYPHS;
            for (int y = 0; y < glyph_h; y++)
                for (int x = 0; x < gw; x++)
                    ink[(size_t)(top + y) * img->width + left + x] =
                        bits[g][y * GLYPH_H / glyph_h][x * GLYPH_W / gw];
        }
    for (int c = 0; c < img->channels; c++) {
        float *p = um_image_plane(img, c);
        for (size_t at = 0; at < plane; at++)
            p[at] = clip_round(235.0f - 200.0f * ink[at] + mild_noise(seed + 11 + c, at));
    }
    free(ink);
}
