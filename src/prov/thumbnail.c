/* Thumbnail against image (see thumbnail.h). Steps: decode the thumbnail; luma of both; remove
 * letterbox bars from the thumbnail; for the image as stored and (Orientation 2-8) as displayed,
 * resample to the common grid, match mean and contrast, measure; keep the better candidate.
 *
 * Thresholds, measured at an 80-pixel grid (mean |diff| / worst 8x8 cell / correlation):
 *   unedited since the thumbnail was written -
 *     IMG_0003.jpg (Lightroom)            0.63 /  1.35 / 0.9998
 *     P1000827.jpg (Lightroom)            1.48 /  3.35 / 0.9996
 *     no_manifest.jpg (Photoshop; black text on white, 3 KB thumbnail: the worst case)
 *                                         1.49 /  8.97 / 0.991
 *     synthetic photos, thumbnails at JPEG q30..q90 (12 pairs)   <= 1.68 / <= 2.1 / >= 0.992
 *   edited after the thumbnail was written -
 *     earth_apollo17.jpg / cloud.jpg (main reframed, seen by eye)  5.44 / 11.5 / 0.995
 *     CASIA v1 "authentic" files with a thumbnail (cropped and resized by the database's authors
 *     from the camera originals, seen by eye): 7 of 9 flagged
 *     synthetic 10 % crop-and-rescale (12 pairs)       5.6 .. 7.0 / 10 .. 18 / 0.85 .. 0.92,
 *     all 12 flagged
 *     synthetic pasted donor blocks of 1/16, 1/36, 1/133 of the area (36 cases): worst cell
 *     3.6 .. 37; 21 of 36 flagged (a donor that resembles what it covers is not seen)
 * Hence mean <= 4.0 (2.5x the unedited maximum), worst cell <= 14 (1.5x the text worst case),
 * correlation >= 0.95. */
#include "prov/thumbnail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/decode.h"

/* Small limits: an EXIF thumbnail is at most 64 KiB of a JPEG segment, typically 160x120. */
static const um_limits thumb_limits = {4u << 20, 4000000, 4096};

/* A single-channel plane. */
struct plane {
    int w, h;
    float *v;
};

static void plane_free(struct plane *p)
{
    free(p->v);
    p->v = NULL;
}

static int plane_from_image(const um_image *img, struct plane *out)
{
    um_image *y = um_image_luminance(img);
    if (!y)
        return 0;
    out->w = y->width;
    out->h = y->height;
    out->v = y->data; /* take the buffer over */
    y->data = NULL;
    um_image_free(y);
    return 1;
}

/* The plane as displayed under EXIF Orientation o (EXIF 2.32 4.6.4 tag 0x0112). */
static int plane_orient(const struct plane *s, int o, struct plane *d)
{
    int swap = o >= 5 && o <= 8;
    d->w = swap ? s->h : s->w;
    d->h = swap ? s->w : s->h;
    d->v = malloc(sizeof(float) * (size_t)s->w * (size_t)s->h);
    if (!d->v)
        return 0;
    int W = s->w, H = s->h;
    for (int y = 0; y < d->h; y++)
        for (int x = 0; x < d->w; x++) {
            int sx, sy;
            switch (o) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            case 8: sx = W - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            d->v[(size_t)y * d->w + x] = s->v[(size_t)sy * W + sx];
        }
    return 1;
}

/* Resample the window (x0, y0, w, h) of p to gw x gh by area averaging. */
static int plane_resample(const struct plane *p, int x0, int y0, int w, int h, int gw, int gh,
                          struct plane *out)
{
    um_image *win = um_image_new(w, h, 1);
    if (!win)
        return 0;
    for (int y = 0; y < h; y++)
        memcpy(win->data + (size_t)y * w, p->v + (size_t)(y0 + y) * p->w + x0,
               sizeof(float) * (size_t)w);
    um_image *r = um_resample_area(win, gw, gh);
    um_image_free(win);
    if (!r)
        return 0;
    out->w = gw;
    out->h = gh;
    out->v = r->data;
    r->data = NULL;
    um_image_free(r);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Letterbox bars: uniform dark rows (columns) at both ends, of about equal size (Canon and
 * others fit a 3:2 image into a 160x120 thumbnail this way). */

static int dark_line(const struct plane *p, int index, int is_row)
{
    int n = is_row ? p->w : p->h;
    float lo = 255.0f, hi = 0.0f;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        float v = is_row ? p->v[(size_t)index * p->w + i] : p->v[(size_t)i * p->w + index];
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    return sum / n < 20.0 && hi - lo < 24.0f;
}

static void find_bars(const struct plane *p, int is_row, int *start, int *len)
{
    int n = is_row ? p->h : p->w;
    int a = 0, b = 0;
    while (a < n / 3 && dark_line(p, a, is_row))
        a++;
    while (b < n / 3 && dark_line(p, n - 1 - b, is_row))
        b++;
    *start = 0;
    *len = n;
    if (a >= 1 && b >= 1 && abs(a - b) <= 2 && a + b < n / 3) {
        *start = a;
        *len = n - a - b;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Measures */

struct measure {
    double mad, max_cell, corr;
};

static void compare_planes(const struct plane *t, const struct plane *m, struct measure *out)
{
    size_t n = (size_t)t->w * t->h;
    double st = 0, sm = 0;
    for (size_t i = 0; i < n; i++) {
        st += t->v[i];
        sm += m->v[i];
    }
    double mt = st / n, mm = sm / n, vt = 0, vm = 0, cov = 0;
    for (size_t i = 0; i < n; i++) {
        double a = t->v[i] - mt, b = m->v[i] - mm;
        vt += a * a;
        vm += b * b;
        cov += a * b;
    }
    double sdt = sqrt(vt / n), sdm = sqrt(vm / n);
    int flat_t = sdt < 1e-3, flat_m = sdm < 1e-3;
    out->corr = flat_t || flat_m ? (flat_t && flat_m ? 1.0 : 0.0) : cov / sqrt(vt * vm);
    double gain = flat_t || flat_m ? 0.0 : sdt / sdm; /* main mapped onto the thumbnail's tones */
    int cw = (t->w + 7) / 8, ch = (t->h + 7) / 8;
    double total = 0.0, worst = 0.0;
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++) {
            double cell = 0.0;
            int count = 0;
            for (int y = cy * 8; y < cy * 8 + 8 && y < t->h; y++)
                for (int x = cx * 8; x < cx * 8 + 8 && x < t->w; x++) {
                    size_t i = (size_t)y * t->w + x;
                    double mapped = (m->v[i] - mm) * gain + mt;
                    cell += fabs(t->v[i] - mapped);
                    count++;
                }
            total += cell;
            if (cell / count > worst)
                worst = cell / count;
        }
    out->mad = total / n;
    out->max_cell = worst;
}

/* The grid: the (bar-free) thumbnail's size, reduced to UM_THUMB_COMPARE_SIDE. */
static void grid_size(int w, int h, int *gw, int *gh)
{
    int longest = w > h ? w : h;
    if (longest <= UM_THUMB_COMPARE_SIDE) {
        *gw = w;
        *gh = h;
        return;
    }
    double s = (double)UM_THUMB_COMPARE_SIDE / longest;
    *gw = (int)lround(w * s) < 1 ? 1 : (int)lround(w * s);
    *gh = (int)lround(h * s) < 1 ? 1 : (int)lround(h * s);
}

struct candidate {
    double aspect, thumb_aspect;
    int aspect_ok, bars;
    struct measure m;
};

static int evaluate(const struct plane *tgrid, double taspect, const struct plane *main,
                    struct candidate *c)
{
    struct plane mg = {0};
    if (!plane_resample(main, 0, 0, main->w, main->h, tgrid->w, tgrid->h, &mg))
        return 0;
    c->aspect = (double)main->w / main->h;
    c->aspect_ok = fabs(taspect / c->aspect - 1.0) <= UM_THUMB_ASPECT_TOLERANCE;
    compare_planes(tgrid, &mg, &c->m);
    plane_free(&mg);
    return 1;
}

static int better(const struct candidate *a, const struct candidate *b)
{
    if (a->aspect_ok != b->aspect_ok)
        return a->aspect_ok;
    return a->m.corr > b->m.corr;
}

/* ---------------------------------------------------------------------------------------------
 * Entry point */

static int build_json(um_thumb_result *r, const char *error)
{
    r->json = json_object();
    if (!r->json)
        return 1;
    int e = json_object_set_new(r->json, "decoded", json_boolean(r->decoded));
    if (!r->decoded)
        return e | json_object_set_new(r->json, "error", json_string(error ? error : ""));
    e |= json_object_set_new(r->json, "width", json_integer(r->thumb_width));
    e |= json_object_set_new(r->json, "height", json_integer(r->thumb_height));
    e |= json_object_set_new(r->json, "bars_removed", json_boolean(r->bars_removed));
    e |= json_object_set_new(r->json, "thumb_aspect", json_real(r->thumb_aspect));
    e |= json_object_set_new(r->json, "image_aspect", json_real(r->image_aspect));
    e |= json_object_set_new(r->json, "aspect_matches", json_boolean(r->aspect_matches));
    e |= json_object_set_new(r->json, "oriented", json_boolean(r->oriented));
    e |= json_object_set_new(r->json, "mean_abs_diff", json_real(r->mean_abs_diff));
    e |= json_object_set_new(r->json, "max_cell_diff", json_real(r->max_cell_diff));
    e |= json_object_set_new(r->json, "correlation", json_real(r->correlation));
    e |= json_object_set_new(r->json, "matches", json_boolean(r->matches));
    return e;
}

static um_error finish(um_thumb_result *out, const char *error)
{
    if (build_json(out, error)) {
        um_thumb_result_clear(out);
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

/* One reading of the thumbnail (whole, or without its bars) against the image as stored and,
 * for Orientation 2-8, as displayed; *best is replaced when a candidate does better. */
static int try_window(const struct plane *thumb, int x0, int y0, int w, int h,
                      const struct plane *stored, const struct plane *shown, struct candidate *best,
                      int *have_best, int *oriented)
{
    int gw, gh;
    grid_size(w, h, &gw, &gh);
    struct plane tgrid = {0};
    if (!plane_resample(thumb, x0, y0, w, h, gw, gh, &tgrid))
        return 0;
    double aspect = (double)w / h;
    const struct plane *images[2] = {stored, shown};
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
        struct candidate c;
        if (!images[k] || !images[k]->v)
            continue;
        ok = evaluate(&tgrid, aspect, images[k], &c);
        c.thumb_aspect = aspect;
        c.bars = w != thumb->w || h != thumb->h;
        if (ok && (!*have_best || better(&c, best))) {
            *best = c;
            *have_best = 1;
            *oriented = k == 1;
        }
    }
    plane_free(&tgrid);
    return ok;
}

/* Compare the decoded thumbnail plane with the image: bars kept or removed, image as stored or
 * as displayed; the best-matching reading is reported (a camera thumbnail matches in one of
 * them; an edited image in none). */
static um_error compare(const struct plane *thumb, const um_image *preview, int orientation,
                        um_thumb_result *out)
{
    struct plane stored = {0}, shown = {0};
    struct candidate best;
    int have_best = 0, oriented = 0;
    um_error e = UM_ERR_NOMEM;
    if (!plane_from_image(preview, &stored))
        goto done;
    if (orientation >= 2 && orientation <= 8 && !plane_orient(&stored, orientation, &shown))
        goto done;
    if (!try_window(thumb, 0, 0, thumb->w, thumb->h, &stored, &shown, &best, &have_best,
                    &oriented))
        goto done;
    int x0, w, y0, h;
    find_bars(thumb, 1, &y0, &h);
    find_bars(thumb, 0, &x0, &w);
    if ((w != thumb->w || h != thumb->h) &&
        !try_window(thumb, x0, y0, w, h, &stored, &shown, &best, &have_best, &oriented))
        goto done;
    out->oriented = oriented;
    out->bars_removed = best.bars;
    out->thumb_aspect = best.thumb_aspect;
    out->image_aspect = best.aspect;
    out->aspect_matches = best.aspect_ok;
    out->mean_abs_diff = best.m.mad;
    out->max_cell_diff = best.m.max_cell;
    out->correlation = best.m.corr;
    out->matches = best.aspect_ok && best.m.corr >= UM_THUMB_MIN_CORRELATION &&
                   best.m.mad <= UM_THUMB_MAX_MEAN_DIFF && best.m.max_cell <= UM_THUMB_MAX_CELL_DIFF;
    e = UM_OK;
done:
    plane_free(&stored);
    plane_free(&shown);
    return e;
}

um_error um_thumbnail_compare(const uint8_t *thumb, size_t n, const um_image *preview_of_main,
                              int orientation, um_thumb_result *out)
{
    memset(out, 0, sizeof *out);
    if (!preview_of_main || preview_of_main->width < 1 || preview_of_main->height < 1 ||
        (preview_of_main->channels != 1 && preview_of_main->channels != 3))
        return UM_ERR_ARGUMENT;
    char err[160] = "";
    um_decoded d;
    if (!thumb || n == 0 || um_decode(thumb, n, &thumb_limits, &d, err, sizeof err) != UM_OK)
        return finish(out, err[0] ? err : "no thumbnail bytes");
    out->decoded = 1;
    out->thumb_width = d.width;
    out->thumb_height = d.height;
    struct plane tp = {0};
    um_error e = plane_from_image(d.rgb, &tp) ? UM_OK : UM_ERR_NOMEM;
    um_decoded_clear(&d);
    if (e == UM_OK)
        e = compare(&tp, preview_of_main, orientation, out);
    plane_free(&tp);
    if (e != UM_OK) {
        um_thumb_result_clear(out);
        return e;
    }
    return finish(out, NULL);
}

void um_thumb_result_clear(um_thumb_result *r)
{
    if (!r)
        return;
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
