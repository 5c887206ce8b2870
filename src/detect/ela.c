/* ela: error level analysis.
 *
 * Krawetz, "A picture's worth: digital image analysis and forensics", Black Hat 2007.
 *
 * ELA saves the image again at a known quality and looks at how much each region changes:
 * content that already went through a compression at that quality sits close to its lattice
 * and changes little, content that did not (pasted, painted, re-rendered) changes more.
 * Steps:
 *   1. the quality: for a JPEG the one its luminance table was made with
 *      (um_jpeg_estimate_quality), else ELA_DEFAULT_QUALITY, Krawetz's customary resave;
 *   2. the pixels as an 8-bit encoder sees them (rounded luminance and chroma), each plane
 *      cut into 8x8 blocks on the JPEG grid and transformed (chroma on a 2x2-averaged plane,
 *      as 4:2:0 encoders store it);
 *   3. per block the recompression error at that quality in the DCT domain (requant.h, equal
 *      to the pixel error of a resave but without running an encoder), the chroma error
 *      spread over the four luminance blocks it covers;
 *   4. averaging over 3x3 blocks (ELA is read by eye at that scale) and normalising by the
 *      image's own error levels: z = (e - median) / (1.4826 MAD), map = 1 - exp(-(z-1)/2)
 *      for z > 1 (one robust deviation above the median is still ordinary), so that the map reads "how unusual is this region's error level in this image"
 *      and maps of different images are comparable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/jpeg_tables.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    ELA_DEFAULT_QUALITY = 90,
    ELA_MIN_BLOCKS = 16
};
#define ELA_HIGH 0.6       /* map level counted as "stands out" (z about 2.8) */
#define ELA_ORDINARY_Z 1.0 /* within one robust deviation above the median is ordinary */

/* Step 1 for pixels without tables (PNG, TIFF, ... possibly a JPEG once): the quality of an
 * earlier compression on the 8x8 grid, if any. Content that went through quality q sits on its
 * lattice, so its requantization error at q is only the rounding noise of 8-bit pixels, far
 * below the Q^2/12 that off-lattice content gives. R(q) = error / expected off-lattice error,
 * over coefficients at least half a step large (the others requantize to zero either way), on
 * a sample of blocks. Returns the quality with the least R when R < ELA_LATTICE_RATIO, else -1. */
#define ELA_LATTICE_RATIO 0.4
static int previous_quality(const float *luma, int w, int h, double *ratio)
{
    int bw = w / 8, bh = h / 8;
    long nblocks = (long)bw * bh;
    long stride = nblocks / 4000 + 1; /* about 4000 blocks decide; the answer is global */
    int best = -1;
    double best_ratio = INFINITY;
    for (int q = 40; q <= 98; q++) {
        struct um_requant_table t;
        um_requant_table_ijg(&t, q, 0);
        double err = 0, expected = 0;
        long counted = 0;
        for (long i = 0; i < nblocks; i += stride) {
            float coef[64];
            um_block_dct_from_plane(luma, w, h, (int)(i % bw), (int)(i / bw), 1, coef);
            for (int k = 0; k < 64; k++) {
                float a = fabsf(coef[k]);
                if (a < 0.5f * t.step[k])
                    continue;
                float e = a - t.step[k] * um_requant_round(a * t.inv_step[k]);
                err += e * e;
                expected += t.step[k] * t.step[k] / 12.0;
                counted++;
            }
        }
        if (counted >= 500 && err / expected < best_ratio) {
            best_ratio = err / expected;
            best = q;
        }
    }
    *ratio = best_ratio;
    return best_ratio < ELA_LATTICE_RATIO ? best : -1;
}

/* The encoder's chroma (JFIF Cb, Cr) of one RGB pixel. */
static inline void chroma_of(float r, float g, float b, float *cb, float *cr)
{
    *cb = -0.168736f * r - 0.331264f * g + 0.5f * b + 128.0f;
    *cr = 0.5f * r - 0.418688f * g - 0.081312f * b + 128.0f;
}

/* The chroma planes an encoder transforms: full resolution, or for 4:2:0 the 2x2 average
 * (edges replicated; chroma is linear in RGB, so averaging RGB first is the same). */
static void chroma_planes(const um_image *rgb, int half, float *cb, float *cr, int cw, int ch)
{
    int w = rgb->width, h = rgb->height;
    const float *r = um_image_plane(rgb, 0), *g = um_image_plane(rgb, 1),
                *b = um_image_plane(rgb, 2);
    int f = half ? 2 : 1;
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            float sr = 0, sg = 0, sb = 0;
            for (int dy = 0; dy < f; dy++)
                for (int dx = 0; dx < f; dx++) {
                    int sx = f * x + dx < w ? f * x + dx : w - 1;
                    int sy = f * y + dy < h ? f * y + dy : h - 1;
                    size_t i = (size_t)sy * (size_t)w + (size_t)sx;
                    sr += r[i];
                    sg += g[i];
                    sb += b[i];
                }
            float inv = 1.0f / (float)(f * f);
            size_t o = (size_t)y * (size_t)cw + (size_t)x;
            chroma_of(sr * inv, sg * inv, sb * inv, &cb[o], &cr[o]);
        }
}

/* Step 3 for one plane: add the error of each of its blocks to the luminance blocks it covers
 * (scale 1 for luminance, 2 for half-resolution chroma). */
static void plane_errors(const float *plane, int w, int h, int scale,
                         const struct um_requant_table *t, int mw, int mh, float *error)
{
    static const uint8_t all[64] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
        44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
    int pw = (w + 7) / 8, ph = (h + 7) / 8;
    for (int by = 0; by < ph; by++)
        for (int bx = 0; bx < pw; bx++) {
            float coef[64];
            um_block_dct_from_plane(plane, w, h, bx, by, 1, coef);
            float e = um_requant_error(t, coef, all, 64) / (float)(scale * scale);
            for (int sy = 0; sy < scale; sy++)
                for (int sx = 0; sx < scale; sx++) {
                    int x = bx * scale + sx, y = by * scale + sy;
                    if (x < mw && y < mh)
                        error[(size_t)y * mw + x] += e;
                }
        }
}

/* Steps 2-3: per luminance block, the recompression error of Y, Cb and Cr. */
static int error_levels(const um_image *rgb, const um_image *luma, int quality, int chroma_half,
                        int mw, int mh, float *error)
{
    int w = rgb->width, h = rgb->height;
    int cw = chroma_half ? (w + 1) / 2 : w, ch = chroma_half ? (h + 1) / 2 : h;
    size_t cn = (size_t)cw * (size_t)ch;
    float *cb = malloc(cn * sizeof *cb), *cr = malloc(cn * sizeof *cr);
    if (!cb || !cr) {
        free(cb);
        free(cr);
        return -1;
    }
    chroma_planes(rgb, chroma_half, cb, cr, cw, ch);
    struct um_requant_table luma_t, chroma_t;
    um_requant_table_ijg(&luma_t, quality, 0);
    um_requant_table_ijg(&chroma_t, quality, 1);
    memset(error, 0, (size_t)mw * (size_t)mh * sizeof *error);
    plane_errors(luma->data, w, h, 1, &luma_t, mw, mh, error);
    plane_errors(cb, cw, ch, chroma_half ? 2 : 1, &chroma_t, mw, mh, error);
    plane_errors(cr, cw, ch, chroma_half ? 2 : 1, &chroma_t, mw, mh, error);
    free(cb);
    free(cr);
    return 0;
}

/* Step 4: robust z-score of the smoothed error level, mapped to 0..1. */
static int normalise(const float *error, int mw, int mh, float *map, double *median,
                     double *spread)
{
    size_t nb = (size_t)mw * (size_t)mh;
    float *smooth = malloc(nb * sizeof *smooth), *dev = malloc(nb * sizeof *dev);
    if (!smooth || !dev) {
        free(smooth);
        free(dev);
        return -1;
    }
    um_box_filter(error, mw, mh, 1, smooth);
    *median = um_median(smooth, nb);
    for (size_t i = 0; i < nb; i++)
        dev[i] = fabsf(smooth[i] - (float)*median);
    *spread = 1.4826 * um_median(dev, nb);
    /* A floor on the spread: on a flat image the MAD can be ~0 and any speck would stand out. */
    double floor_spread = 0.05 * *median + 1.0;
    if (!(*spread >= floor_spread))
        *spread = floor_spread;
    for (size_t i = 0; i < nb; i++) {
        double z = (smooth[i] - *median) / *spread - ELA_ORDINARY_Z;
        map[i] = z > 0 ? (float)(1.0 - exp(-z / 2.0)) : 0.0f;
    }
    free(smooth);
    free(dev);
    return 0;
}

static int chroma_is_half(const um_decoded *d)
{
    const um_jpeg_info *j = d->jpeg;
    if (!j || j->num_components < 3)
        return 0;
    return j->comp[0].h_samp == 2 * j->comp[1].h_samp && j->comp[0].v_samp == 2 * j->comp[1].v_samp;
}

static um_error ela_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *d = in->decoded;
    int mw = (d->width + 7) / 8, mh = (d->height + 7) / 8;
    if (mw * mh < ELA_MIN_BLOCKS || !d->rgb || d->rgb->channels < 3) {
        um_evidence_not_applicable(ev, "the image is too small for error level analysis");
        return UM_OK;
    }
    if (um_textured_blocks(in->luma) < ELA_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: fewer than %d textured "
                                       "8x8 blocks for a recompression to act on",
                                   ELA_MIN_BLOCKS);
        return UM_OK;
    }
    int quality = ELA_DEFAULT_QUALITY, previous = -1;
    double fit = 0, lattice_ratio = 1;
    const uint16_t *qt;
    const char *why;
    int from_tables = 0;
    if (d->jpeg && um_jpeg_luma(d, mw, mh, &qt, &why)) {
        int q = um_jpeg_estimate_quality(qt, &fit);
        if (q > 0) {
            quality = q;
            from_tables = 1;
        }
    } else if (!d->jpeg) {
        previous = previous_quality(in->luma->data, in->luma->width, in->luma->height,
                                    &lattice_ratio);
        if (previous > 0)
            quality = previous;
    }
    size_t nb = (size_t)mw * (size_t)mh;
    float *error = malloc(nb * sizeof *error);
    float *map = um_evidence_alloc_map(ev, mw, mh, 8);
    double median, spread;
    if (!error || !map || error_levels(d->rgb, in->luma, quality, chroma_is_half(d), mw, mh, error) ||
        normalise(error, mw, mh, map, &median, &spread)) {
        free(error);
        return UM_ERR_NOMEM;
    }
    free(error);
    size_t high = 0;
    for (size_t i = 0; i < nb; i++)
        high += map[i] > ELA_HIGH;
    double frac = (double)high / (double)nb;
    ev->applicable = 1;
    /* A weak image score by design: ELA alone cannot tell an edit from texture. Full weight
     * needs 5% of the image standing out. */
    ev->score = 0.5 * (frac / 0.05 > 1 ? 1 : frac / 0.05);
    if (from_tables)
        um_evidence_add_finding(ev, "resaved at quality %d, the quality of the file's own "
                                    "tables%s",
                                quality, fit > 0.5 ? " (nearest IJG equivalent of a custom table)" : "");
    else if (previous > 0)
        um_evidence_add_finding(ev, "resaved at quality %d: the pixels carry an earlier JPEG "
                                    "compression at about that quality on the 8x8 grid",
                                quality);
    else
        um_evidence_add_finding(ev, "resaved at quality %d (no earlier JPEG compression seen "
                                    "in the pixels: the customary ELA quality)",
                                quality);
    um_evidence_add_headline(ev, "%.1f%% of the image has an unusually high error level",
                            100.0 * frac);
    um_evidence_add_finding(ev, "ELA shows where the error level differs; edges and textures "
                                "also raise it, so it is not proof on its own.");
    json_t *det = json_object();
    if (det) {
        json_object_set_new(det, "quality", json_integer(quality));
        if (!d->jpeg)
            json_object_set_new(det, "lattice_ratio", um_json_number(lattice_ratio));
        json_object_set_new(det, "median_error", um_json_number(median / 64.0));
        json_object_set_new(det, "error_spread", um_json_number(spread / 64.0));
        ev->details = det;
    }
    return UM_OK;
}

const struct um_detector um_detector_ela = {
    .name = "ela",
    .family = "jpeg",
    .summary = "Error level analysis: regions whose recompression error differs from the rest "
               "of the image (Krawetz 2007)",
    .limits = "Edges, fine texture and saturated colours raise the error level too; a region "
              "saved as many times as the rest, at the same quality, does not stand out.",
    .needs = 0,
    .run = ela_run,
};
