#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "core/random.h"
#include "io/limits.h"

static float uniform(unsigned *s)
{
    return (float)(um_xorshift32(s) & 0xffffff) / (float)0x1000000;
}

float synth_gaussian(unsigned *s)
{
    float u1 = uniform(s) + 1e-7f, u2 = uniform(s);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

um_image *synth_photo(int width, int height, unsigned seed)
{
    um_image *img = um_image_new(width, height, 3);
    if (!img)
        return NULL;
    unsigned s = seed * 2654435761u + 1;
    /* A few soft blobs with their own colours over a two-way gradient. */
    enum { BLOBS = 12 };
    float bx[BLOBS], by[BLOBS], br[BLOBS], bc[BLOBS][3];
    for (int i = 0; i < BLOBS; i++) {
        bx[i] = uniform(&s) * width;
        by[i] = uniform(&s) * height;
        br[i] = (0.05f + 0.2f * uniform(&s)) * (width < height ? width : height);
        for (int c = 0; c < 3; c++)
            bc[i][c] = 40 + 180 * uniform(&s);
    }
    float fx = 0.02f + 0.05f * uniform(&s), fy = 0.02f + 0.05f * uniform(&s);
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                float v = 60 + 80.0f * x / width + 40.0f * y / height + 15 * c;
                for (int i = 0; i < BLOBS; i++) {
                    float dx = x - bx[i], dy = y - by[i];
                    float w = expf(-(dx * dx + dy * dy) / (2 * br[i] * br[i]));
                    v = v * (1 - 0.8f * w) + bc[i][c] * 0.8f * w;
                }
                v += 12 * sinf(fx * x + 0.7f * c) * sinf(fy * y); /* texture */
                p[(size_t)y * width + x] = v;
            }
    }
    /* Sensor-like noise, then clip to the 8-bit range and round like a camera would. */
    size_t n = (size_t)width * height * 3;
    for (size_t i = 0; i < n; i++) {
        float v = img->data[i] + 3.0f * synth_gaussian(&s);
        v = v < 0 ? 0 : (v > 255 ? 255 : v);
        img->data[i] = roundf(v);
    }
    return img;
}

void synth_decode(const uint8_t *bytes, size_t size, um_decoded *decoded)
{
    um_limits lim = {UM_DEFAULT_MAX_BYTES, UM_DEFAULT_MAX_PIXELS, UM_DEFAULT_MAX_DIMENSION};
    char err[256];
    if (um_decode(bytes, size, &lim, decoded, err, sizeof err) != UM_OK) {
        fprintf(stderr, "synth_decode: %s\n", err);
        abort();
    }
}

um_error synth_jpeg_roundtrip(const um_image *rgb, int quality, uint8_t **bytes, size_t *size,
                              um_decoded *decoded)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    um_error e = um_encode_jpeg(rgb, quality, 0, &buf, &n);
    if (e != UM_OK)
        return e;
    synth_decode(buf, n, decoded);
    if (bytes) {
        *bytes = buf;
        *size = n;
    } else {
        free(buf);
    }
    return UM_OK;
}

void synth_paste(um_image *dst, const um_image *src, int sx, int sy, int w, int h, int dx, int dy)
{
    for (int c = 0; c < 3; c++) {
        const float *sp = um_image_plane(src, c);
        float *dp = um_image_plane(dst, c);
        for (int y = 0; y < h; y++)
            memcpy(dp + (size_t)(dy + y) * dst->width + dx, sp + (size_t)(sy + y) * src->width + sx,
                   (size_t)w * sizeof(float));
    }
}

um_image *synth_crop(const um_image *rgb, int ox, int oy, int width, int height)
{
    um_image *out = um_image_new(width, height, rgb->channels);
    if (!out)
        return NULL;
    for (int c = 0; c < rgb->channels; c++)
        for (int y = 0; y < height; y++)
            memcpy(um_image_plane(out, c) + (size_t)y * width,
                   um_image_plane(rgb, c) + (size_t)(oy + y) * rgb->width + ox,
                   (size_t)width * sizeof(float));
    return out;
}

double synth_mean_in_rect(const float *map, int width, int x0, int y0, int w, int h)
{
    double s = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            s += map[(size_t)y * width + x];
    return s / ((double)w * h);
}

double synth_mean_outside_rect(const float *map, int width, int height, int x0, int y0, int w,
                               int h)
{
    double s = 0;
    size_t n = 0;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            if (x >= x0 && x < x0 + w && y >= y0 && y < y0 + h)
                continue;
            s += map[(size_t)y * width + x];
            n++;
        }
    return n ? s / (double)n : 0.0;
}

um_decoded synth_as_lossless(um_image *rgb)
{
    um_decoded d = {0};
    d.format = UM_FORMAT_PNG;
    d.width = rgb->width;
    d.height = rgb->height;
    d.bit_depth = 8;
    d.source_channels = 3;
    d.rgb = rgb;
    return d;
}

um_error synth_run_detector(const struct um_detector *det, const um_decoded *d,
                            struct um_evidence *ev, float **full)
{
    um_image *luma = um_image_luminance(d->rgb);
    struct um_input in = {d, luma};
    memset(ev, 0, sizeof *ev);
    um_error e = luma ? det->run(&in, ev) : UM_ERR_NOMEM;
    if (full) {
        *full = NULL;
        if (e == UM_OK && ev->map) {
            *full = malloc((size_t)d->width * d->height * sizeof(float));
            if (*full)
                um_map_upsample(ev->map, ev->map_w, ev->map_h, ev->map_step, d->width,
                                d->height, *full);
        }
    }
    um_image_free(luma);
    return e;
}

um_image *synth_jpeg_pixels(const um_image *rgb, int q)
{
    um_decoded d = {0};
    if (synth_jpeg_roundtrip(rgb, q, NULL, NULL, &d) != UM_OK) {
        fprintf(stderr, "synth_jpeg_pixels: encoding failed\n");
        abort();
    }
    um_image *out = d.rgb;
    d.rgb = NULL;
    um_decoded_clear(&d);
    return out;
}

double synth_evidence_mean(const struct um_evidence *ev, int w, int h, int x0, int y0, int rw,
                           int rh, int inside)
{
    float *full = malloc(sizeof(float) * (size_t)w * (size_t)h);
    if (!full)
        abort();
    um_map_upsample(ev->map, ev->map_w, ev->map_h, ev->map_step, w, h, full);
    double m = inside ? synth_mean_in_rect(full, w, x0, y0, rw, rh)
                      : synth_mean_outside_rect(full, w, h, x0, y0, rw, rh);
    free(full);
    return m;
}

um_image *synth_photo_jpeg_pixels(int w, int h, unsigned seed, int q)
{
    um_image *src = synth_photo(w, h, seed);
    if (!src)
        abort();
    um_image *out = synth_jpeg_pixels(src, q);
    um_image_free(src);
    return out;
}

void synth_check_flat_not_applicable(const struct um_detector *det)
{
    for (int level = 0; level < 3; level++) {
        um_image *img = um_image_new(128, 96, 3);
        if (!img)
            abort();
        for (size_t k = 0; k < (size_t)128 * 96 * 3; k++)
            img->data[k] = level == 0 ? 0.0f : level == 1 ? 255.0f : (k % 7 ? 255.0f : 250.0f);
        um_decoded d = synth_as_lossless(img);
        struct um_evidence ev;
        CHECK(synth_run_detector(det, &d, &ev, NULL) == UM_OK);
        CHECK_MSG(!ev.applicable && strstr(ev.reason, "flat or saturated"), "%s, level %d: %s",
                  det->name, level, ev.reason);
        um_evidence_clear(&ev);
        um_image_free(img);
    }
}

void synth_check_small_not_applicable(const struct um_detector *det, int width, int height)
{
    um_image *img = synth_photo(width, height, 3);
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(det, &d, &ev, NULL) == UM_OK);
    CHECK_MSG(!ev.applicable && strstr(ev.reason, "too small"), "%s, %dx%d: %s", det->name, width,
              height, ev.reason);
    CHECK(ev.map == NULL); /* nothing judged, nothing to draw */
    um_evidence_clear(&ev);
    um_image_free(img);
}
