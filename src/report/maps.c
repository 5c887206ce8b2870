/* --maps: one 8-bit grayscale PNG per applicable detector and one for the fused map, at the
 * input's exact size (255 = strongest evidence), plus a colour overlay of the fused map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/result.h"
#include "report/png_write.h"

/* Nearest-cell upsampling straight to bytes. */
static void map_to_gray(const float *map, int mw, int mh, int step, int w, int h, uint8_t *out)
{
    for (int y = 0; y < h; y++) {
        int my = y / step < mh ? y / step : mh - 1;
        const float *row = map + (size_t)my * mw;
        for (int x = 0; x < w; x++) {
            int mx = x / step < mw ? x / step : mw - 1;
            out[(size_t)y * w + x] = um_unit_to_byte(row[mx]);
        }
    }
}

/* A perceptual-ish ramp from transparent (no evidence) through yellow to red over a dimmed
 * grayscale copy of the image, so the overlay reads at a glance and prints in grayscale too. */
static void overlay(const um_image *rgb, const uint8_t *gray, uint8_t *out)
{
    size_t n = (size_t)rgb->width * rgb->height;
    const float *r = um_image_plane(rgb, 0), *g = um_image_plane(rgb, 1), *b = um_image_plane(rgb, 2);
    for (size_t i = 0; i < n; i++) {
        float lum = 0.6f * (0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i]);
        float a = gray[i] / 255.0f;
        float hr = 255, hg = 255 * (1 - a), hb = 0; /* yellow -> red as a grows */
        /* Weak evidence (below 0.3) stays untinted so the picture is not drowned in noise. */
        float alpha = a < 0.3f ? 0 : 0.3f + 0.5f * (a - 0.3f) / 0.7f;
        out[3 * i + 0] = (uint8_t)(lum * (1 - alpha) + hr * alpha);
        out[3 * i + 1] = (uint8_t)(lum * (1 - alpha) + hg * alpha);
        out[3 * i + 2] = (uint8_t)(lum * (1 - alpha) + hb * alpha);
    }
}

static int remember(um_result *r, const char *name, const char *path)
{
    struct um_written_map *m = realloc(r->maps, (r->nmaps + 1) * sizeof *m);
    if (!m)
        return -1;
    r->maps = m;
    m[r->nmaps].name = strdup(name);
    m[r->nmaps].path = strdup(path);
    if (!m[r->nmaps].name || !m[r->nmaps].path) {
        free(m[r->nmaps].name);
        free(m[r->nmaps].path);
        return -1;
    }
    r->nmaps++;
    return 0;
}

static um_error write_one(um_result *r, const char *dir, const char *stem, const char *name,
                          const uint8_t *pixels, int channels, char *err, size_t errlen)
{
    size_t n = strlen(dir) + strlen(stem) + strlen(name) + 8;
    char *path = malloc(n);
    if (!path)
        return UM_ERR_NOMEM;
    snprintf(path, n, "%s/%s.%s.png", dir, stem, name);
    int rc = um_png_write(path, pixels, r->decoded.width, r->decoded.height, channels, err, errlen);
    if (rc == 0 && remember(r, channels == 3 ? "overlay" : name, path) != 0)
        rc = -2;
    free(path);
    return rc == 0 ? UM_OK : (rc == -2 ? UM_ERR_NOMEM : UM_ERR_IO);
}

um_error um_result_write_maps(um_result *r, const char *dir, const char *stem, char *err,
                              size_t errlen)
{
    if (r->error != UM_OK || !r->fused)
        return UM_OK; /* nothing trustworthy to draw: no map is written from a failed input */
    int w = r->decoded.width, h = r->decoded.height;
    uint8_t *gray = malloc((size_t)w * h);
    uint8_t *color = malloc((size_t)w * h * 3);
    um_error e = gray && color ? UM_OK : UM_ERR_NOMEM;
    for (size_t i = 0; e == UM_OK && i < r->nruns; i++) {
        const struct um_detector_run *run = &r->runs[i];
        if (!run->ran || !run->ev.applicable || !run->ev.map)
            continue;
        map_to_gray(run->ev.map, run->ev.map_w, run->ev.map_h, run->ev.map_step, w, h, gray);
        e = write_one(r, dir, stem, run->detector->name, gray, 1, err, errlen);
    }
    if (e == UM_OK) {
        map_to_gray(r->fused, r->fused_w, r->fused_h, r->fused_step, w, h, gray);
        e = write_one(r, dir, stem, "fused", gray, 1, err, errlen);
    }
    if (e == UM_OK) {
        overlay(r->decoded.rgb, gray, color);
        e = write_one(r, dir, stem, "fused.overlay", color, 3, err, errlen);
    }
    if (e == UM_ERR_NOMEM)
        snprintf(err, errlen, "out of memory while writing maps");
    free(gray);
    free(color);
    return e;
}
