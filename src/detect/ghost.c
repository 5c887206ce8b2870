/* ghost: JPEG ghosts.
 *
 * Farid, "Exposing digital forgeries from JPEG ghosts", IEEE TIFS 4(1), 2009.
 *
 * Recompressing an image at quality q and measuring the difference shows a minimum ("ghost")
 * at every quality the content was compressed at before (Farid Sec. II, eq. 1-2): a region
 * pasted from a JPEG of quality q0 dips at q0 even after the composite was saved at q2 > q0.
 * Steps, each on the image's own 8x8 grid and in the DCT domain (requant.h: the squared
 * requantization error of a block equals its pixel-domain recompression error, so no encoder
 * runs):
 *   1. for qualities q = 30, 35, ..., 95, the recompression error e(q) of every block
 *      (Farid eq. 1, luminance only);
 *   2. spatial averaging over 3x3 blocks (Farid's b x b window, here 24 x 24 pixels);
 *   3. per block the normalised difference d(q) = (e(q) - min_q e) / (max_q e - min_q e)
 *      (Farid eq. 2), and its median over the image: the image-wide curve, reported;
 *   4. one map instead of Farid's stack of maps read by eye. Content that never went
 *      through quality q changes less the finer the requantization, so e falls from q to the
 *      next level; a ghost at q makes it RISE. Per block and level the relative rise
 *      r(q) = (e(q+) - e(q)) / (e(q+) + e(q)), its image-wide median R(q), and the map value:
 *      a rise the image does not share (the block was compressed at q before, the rest was
 *      not), or the lack of a rise the image shows (the rest was, the block was not).
 *      Only levels clearly coarser than the image's own last quality count, and
 *      flat blocks, whose curves are noise, are weighted down by their error range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dct.h"
#include "core/jpeg_tables.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    GHOST_QMIN = 30,
    GHOST_QSTEP = 5,
    GHOST_LEVELS = 14,     /* 30, 35, ..., 95 */
    GHOST_MIN_BLOCKS = 16
};
#define GHOST_MIN_SPAN 64.0f  /* error range (squared DCT units per block) below which a block's
                                 curve is not judged: a mean squared pixel change under 1 */
#define GHOST_IMAGE_RISE 0.05f /* median rise from which the whole image shows a ghost */
#define GHOST_CLEAR_RISE 0.2f /* median rise of an unmistakable image-wide ghost */
#define GHOST_MIN_STEP_RATIO 1.5 /* levels considered: steps this much coarser than the own */
#define GHOST_GAIN 2.0f       /* map = GHOST_GAIN * unshared rise (a rise of 0.5 saturates) */
#define GHOST_HIGH 0.5        /* map level counted as a ghost region for score and findings */

static int level_quality(int l)
{
    return GHOST_QMIN + GHOST_QSTEP * l;
}

/* Where the block coefficients come from: the JPEG's own (dequantized) or the pixels' DCT. */
struct ghost_source {
    const um_jpeg_component *comp;
    const uint16_t *qtable;
    const float *plane;
    int width, height;
};

static int block_coefficients(const struct ghost_source *s, int bx, int by, float value[64],
                              uint8_t position[64])
{
    if (s->comp)
        return um_block_dequantized(s->comp, s->qtable, bx, by, value, position);
    um_block_dct_from_plane(s->plane, s->width, s->height, bx, by, 0, value);
    for (int k = 0; k < 64; k++)
        position[k] = (uint8_t)k;
    return 64;
}

/* Step 1: error[l * nb + b] = recompression error of block b at quality level l. */
static void recompression_errors(const struct ghost_source *s, int mw, int mh, float *error)
{
    struct um_requant_table tables[GHOST_LEVELS];
    for (int l = 0; l < GHOST_LEVELS; l++)
        um_requant_table_ijg(&tables[l], level_quality(l), 0);
    size_t nb = (size_t)mw * (size_t)mh;
    for (int by = 0; by < mh; by++)
        for (int bx = 0; bx < mw; bx++) {
            float value[64];
            uint8_t position[64];
            int n = block_coefficients(s, bx, by, value, position);
            size_t b = (size_t)by * mw + bx;
            for (int l = 0; l < GHOST_LEVELS; l++)
                error[l * nb + b] = um_requant_error(&tables[l], value, position, n);
        }
}

/* Step 2, in place; lo and span receive each block's min and max - min over the levels. */
static int average_errors(float *error, int mw, int mh, float *lo, float *span)
{
    size_t nb = (size_t)mw * (size_t)mh;
    float *tmp = malloc(nb * sizeof *tmp);
    if (!tmp)
        return -1;
    for (int l = 0; l < GHOST_LEVELS; l++) {
        um_box_filter(error + l * nb, mw, mh, 1, tmp);
        memcpy(error + l * nb, tmp, nb * sizeof *tmp);
    }
    free(tmp);
    for (size_t b = 0; b < nb; b++) {
        float a = INFINITY, z = -INFINITY;
        for (int l = 0; l < GHOST_LEVELS; l++) {
            float e = error[l * nb + b];
            a = e < a ? e : a;
            z = e > z ? e : z;
        }
        lo[b] = a;
        span[b] = z - a;
    }
    return 0;
}

static float relative_rise(const float *error, size_t nb, size_t b, int l)
{
    float e = error[l * nb + b], next = error[(l + 1) * nb + b];
    return (next - e) / (next + e + 1e-6f);
}

/* Steps 3-4a: medians over the judged blocks (span >= GHOST_MIN_SPAN) of Farid's d(q) and of
 * the rise r(q), on an even sample of at most GHOST_MEDIAN_SAMPLE blocks (a median needs no
 * more). Returns the number of judged blocks sampled, or (size_t)-1 without memory. */
enum { GHOST_MEDIAN_SAMPLE = 40000 };
static size_t image_curves(const float *error, const float *lo, const float *span, size_t nb,
                           float curve[GHOST_LEVELS], float rise[GHOST_LEVELS])
{
    size_t stride = nb / GHOST_MEDIAN_SAMPLE + 1;
    float *vals = malloc((nb / stride + 1) * sizeof *vals);
    if (!vals)
        return (size_t)-1;
    size_t n = 0;
    for (int l = 0; l < GHOST_LEVELS; l++) {
        n = 0;
        for (size_t b = 0; b < nb; b += stride)
            if (span[b] >= GHOST_MIN_SPAN)
                vals[n++] = (error[l * nb + b] - lo[b]) / span[b];
        curve[l] = (float)um_median(vals, n);
        rise[l] = 0;
        if (l + 1 < GHOST_LEVELS) {
            n = 0;
            for (size_t b = 0; b < nb; b += stride)
                if (span[b] >= GHOST_MIN_SPAN)
                    vals[n++] = relative_rise(error, nb, b, l);
            rise[l] = (float)um_median(vals, n);
        }
    }
    free(vals);
    return n;
}

/* The error range that counts as "textured enough": a quarter of the upper quartile of the
 * judged blocks' spans (at least GHOST_MIN_SPAN). */
static float reference_span(const float *span, size_t nb)
{
    float *vals = malloc(nb * sizeof *vals);
    if (!vals)
        return GHOST_MIN_SPAN;
    size_t n = 0;
    for (size_t b = 0; b < nb; b++)
        if (span[b] >= GHOST_MIN_SPAN)
            vals[n++] = span[b];
    float ref = 0.25f * (float)um_quantile(vals, n, 0.75);
    free(vals);
    return ref >= GHOST_MIN_SPAN ? ref : GHOST_MIN_SPAN;
}

struct ghost_summary {
    int own_quality;   /* quality the image as a whole was last compressed at (estimate) */
    int top;           /* rises r(l) with l < top can show a ghost; the rest end at the own
                          quality, where every block dips */
    int image_dip;     /* level of the strongest ghost the whole image shows, or -1 */
};

/* Step 4b: per block, the strongest rise the image does not share, or the image's strongest
 * ghost the block lacks, weighted by 1 - exp(-span / span_ref) so that flat blocks say little. */
static void ghost_map(const float *error, const float *span, size_t nb, const float *rise,
                      const struct ghost_summary *g, float span_ref, float *map,
                      unsigned char *dip_level)
{
    for (size_t b = 0; b < nb; b++) {
        map[b] = 0;
        dip_level[b] = 0;
        if (span[b] < GHOST_MIN_SPAN)
            continue;
        float own = 0;
        int own_l = 0;
        for (int l = 0; l < g->top; l++) {
            float r = relative_rise(error, nb, b, l);
            float unshared = r - (rise[l] > 0 ? rise[l] : 0);
            if (r > 0 && unshared > own) {
                own = unshared;
                own_l = l;
            }
        }
        /* Lacking the image's ghost weighs as much as that ghost is clear: full from a median
         * rise of GHOST_CLEAR_RISE (a faint image ghost is also missed by ordinary blocks). */
        float missing = 0;
        if (g->image_dip >= 0) {
            float image_rise = rise[g->image_dip];
            float clarity = image_rise / GHOST_CLEAR_RISE;
            missing = (image_rise - relative_rise(error, nb, b, g->image_dip)) *
                      (clarity < 1 ? clarity : 1);
        }
        float v = GHOST_GAIN * (own > missing ? own : missing);
        float w = 1.0f - expf(-span[b] / span_ref);
        map[b] = v * w > 1 ? 1 : (v * w > 0 ? v * w : 0);
        dip_level[b] = (unsigned char)(own >= missing ? own_l : g->image_dip);
    }
}

/* Most frequent ghost level among the high blocks, or -1. */
static int region_level(const float *map, const unsigned char *dip_level, size_t nb, size_t *high)
{
    size_t count[GHOST_LEVELS] = {0};
    *high = 0;
    for (size_t b = 0; b < nb; b++)
        if (map[b] > GHOST_HIGH) {
            count[dip_level[b]]++;
            (*high)++;
        }
    int best = -1;
    for (int l = 0; l < GHOST_LEVELS; l++)
        if (count[l] && (best < 0 || count[l] > count[best]))
            best = l;
    return best;
}

/* Median over zig-zag 1..20 of (IJG step at quality q) / (own step). */
static double step_ratio(int quality, const uint16_t own[64])
{
    uint16_t t[64];
    float r[20];
    um_jpeg_scaled_table(quality, 0, t);
    for (int i = 0; i < 20; i++) {
        int k = um_zigzag[i + 1];
        r[i] = (float)t[k] / (float)(own[k] ? own[k] : 1);
    }
    return um_median(r, 20);
}

static void summarise_quality(const struct ghost_source *src, const float *curve,
                              const float *rise, struct ghost_summary *g)
{
    if (src->comp) {
        double fit;
        g->own_quality = um_jpeg_estimate_quality(src->qtable, &fit);
    } else {
        /* No tables: the image-wide curve's minimum is its last compression (or, for a never
         * compressed image, the finest level). */
        int lmin = 0;
        for (int l = 1; l < GHOST_LEVELS; l++)
            if (curve[l] <= curve[lmin])
                lmin = l;
        g->own_quality = level_quality(lmin);
    }
    /* r(l) compares levels l and l+1: both must be clearly coarser than the own quality.
     * Near it, requantizing content that sits on the own lattice gives beat patterns (k*Q_own
     * against a step only a little larger) that rise and fall from block to block without any
     * history: the steps must be GHOST_MIN_STEP_RATIO times the own ones (median over the low
     * frequencies) before a rise means anything. */
    uint16_t own_table[64];
    if (src->comp)
        memcpy(own_table, src->qtable, sizeof own_table);
    else
        um_jpeg_scaled_table(g->own_quality, 0, own_table);
    g->top = 0;
    while (g->top + 1 < GHOST_LEVELS &&
           step_ratio(level_quality(g->top + 1), own_table) >= GHOST_MIN_STEP_RATIO)
        g->top++;
    g->image_dip = -1;
    for (int l = 0; l < g->top; l++)
        if (rise[l] > GHOST_IMAGE_RISE && (g->image_dip < 0 || rise[l] > rise[g->image_dip]))
            g->image_dip = l;
}

static void describe(struct um_evidence *ev, const struct ghost_summary *g, int region_l,
                     double high_fraction)
{
    if (region_l >= 0 && high_fraction >= 0.005) {
        if (region_l == g->image_dip)
            um_evidence_add_finding(ev,
                                    "the image shows a ghost at quality ≈ %d that %.1f%% of it "
                                    "lacks; the image was last saved at ≈ %d",
                                    level_quality(g->image_dip), 100.0 * high_fraction,
                                    g->own_quality);
        else
            um_evidence_add_finding(ev,
                                    "a region (%.1f%% of the image) shows a ghost at quality "
                                    "≈ %d, the rest at ≈ %d",
                                    100.0 * high_fraction, level_quality(region_l),
                                    g->own_quality);
    } else {
        um_evidence_add_finding(ev, "no region shows a JPEG ghost of its own; the image as a "
                                    "whole was last compressed at ≈ %d",
                                g->own_quality);
    }
    if (g->image_dip >= 0)
        um_evidence_add_finding(ev, "the whole image also shows a ghost at ≈ %d: it was "
                                    "compressed at that quality before",
                                level_quality(g->image_dip));
}

static void add_details(struct um_evidence *ev, const float *curve, const float *rise,
                        const struct ghost_summary *g, int region_l)
{
    json_t *det = json_object(), *c = json_array(), *r = json_array();
    if (!det || !c || !r) {
        json_decref(det);
        json_decref(c);
        json_decref(r);
        return;
    }
    for (int l = 0; l < GHOST_LEVELS; l++) {
        json_array_append_new(c, um_json_number(curve[l]));
        json_array_append_new(r, um_json_number(rise[l]));
    }
    json_object_set_new(det, "image_curve", c);
    json_object_set_new(det, "image_rise", r);
    json_object_set_new(det, "qualities_from", json_integer(GHOST_QMIN));
    json_object_set_new(det, "qualities_step", json_integer(GHOST_QSTEP));
    json_object_set_new(det, "own_quality", json_integer(g->own_quality));
    json_object_set_new(det, "image_ghost_quality",
                        g->image_dip >= 0 ? json_integer(level_quality(g->image_dip))
                                          : json_null());
    json_object_set_new(det, "region_quality",
                        region_l >= 0 ? json_integer(level_quality(region_l)) : json_null());
    ev->details = det;
}

static um_error ghost_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *dec = in->decoded;
    int mw = (dec->width + 7) / 8, mh = (dec->height + 7) / 8;
    if (mw * mh < GHOST_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is too small for JPEG ghosts");
        return UM_OK;
    }
    if (um_textured_blocks(in->luma) < GHOST_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: fewer than %d textured "
                                       "8x8 blocks for a recompression to act on",
                                   GHOST_MIN_BLOCKS);
        return UM_OK;
    }
    struct ghost_source src = {NULL, NULL, in->luma->data, in->luma->width, in->luma->height};
    const char *why;
    if (dec->jpeg)
        src.comp = um_jpeg_luma(dec, mw, mh, &src.qtable, &why); /* else: pixels' DCT */
    size_t nb = (size_t)mw * (size_t)mh;
    float *error = malloc(nb * GHOST_LEVELS * sizeof *error);
    float *lo = malloc(nb * sizeof *lo), *span = malloc(nb * sizeof *span);
    unsigned char *dip_level = malloc(nb);
    float *map = um_evidence_alloc_map(ev, mw, mh, 8);
    um_error err = UM_ERR_NOMEM;
    float curve[GHOST_LEVELS], rise[GHOST_LEVELS];
    if (!error || !lo || !span || !dip_level || !map)
        goto done;
    recompression_errors(&src, mw, mh, error);
    if (average_errors(error, mw, mh, lo, span))
        goto done;
    size_t judged = image_curves(error, lo, span, nb, curve, rise);
    if (judged == (size_t)-1)
        goto done;
    err = UM_OK;
    if (judged < GHOST_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is too flat for JPEG ghosts");
        goto done;
    }
    struct ghost_summary g;
    summarise_quality(&src, curve, rise, &g);
    ghost_map(error, span, nb, rise, &g, reference_span(span, nb), map, dip_level);
    size_t high;
    int region_l = region_level(map, dip_level, nb, &high);
    double high_fraction = (double)high / (double)nb;
    ev->applicable = 1;
    /* Score: the ghost area, full weight from 3% of the image. */
    ev->score = high_fraction / 0.03 > 1 ? 1 : high_fraction / 0.03;
    describe(ev, &g, region_l, high_fraction);
    add_details(ev, curve, rise, &g, region_l);
done:
    free(error);
    free(lo);
    free(span);
    free(dip_level);
    return err;
}

const struct um_detector um_detector_ghost = {
    .name = "ghost",
    .family = "jpeg",
    .summary = "JPEG ghosts: regions whose recompression error dips at a quality the rest of "
               "the image does not (Farid 2009)",
    .limits = "Needs a region previously compressed at a lower quality than the last save, on the "
              "same 8x8 grid; silent on smooth areas and when the earlier quality is equal to or "
              "higher than the last one.",
    .needs = 0,
    .run = ghost_run,
};
