/* resampling: the periodic trace that interpolation (resizing, rotating) leaves in a region.
 *
 * M. Kirchner, "Fast and reliable resampling detection by spectral analysis of fixed linear
 * predictor residue", ACM MM&Sec 2008, after A. C. Popescu and H. Farid, "Exposing digital
 * forgeries by detecting traces of resampling", IEEE TSP 53(2), 2005.
 *
 * An interpolated pixel is a weighted sum of its neighbours with weights that repeat with the
 * resampling period, so how well a pixel is predicted from its neighbours varies periodically
 * (Kirchner, Theorem 1). Steps:
 *   1. the residue e of Kirchner's fixed linear predictor (Sec. 5.1, eq. 25: the 3x3 weights
 *      alpha below), on the luma plane;
 *   2. the p-map p = lambda exp(-|e|^tau / sigma) (eq. 21; lambda = 1, tau = 2 as in the paper,
 *      sigma = 16 on the 0..255 scale instead of the paper's 1: see RS_SIGMA): near 1 where the
 *      predictor fits, near 0 elsewhere;
 *   3. per block of RS_BLOCK pixels at stride RS_STRIDE (half a block; side by side on large
 *      images), the magnitude of the DFT of the p-map
 *      (mean removed, Hann window against the block edge's leakage);
 *   4. Popescu & Farid's contrast step (Sec. 3) made a whitening: each frequency is divided by
 *      the median of the spectrum along its own radial line (a robust local reference), which
 *      removes the spectrum's fall-off and the lines edges draw through the origin, and keeps
 *      the isolated peaks a periodic p-map makes; the block statistic is the largest ratio
 *      (Kirchner's peak detector: the maximum of the contrast-enhanced spectrum against a
 *      threshold). The lowest frequencies
 *      (image content) and the JPEG lattice k/8 cycles per pixel (the 8x8 block grid of any
 *      JPEG makes the p-map 8-periodic) are never tested;
 *   5. blocks whose statistic passes the threshold (set for a measured false-alarm rate on
 *      never-resampled images) are resampled. When nearly every block shows the same peak,
 *      the whole image was resized (reported, low score: not a local manipulation); otherwise
 *      the resampled blocks are a local region, validated by a binomial NFA (core/nfa.h). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/fft.h"
#include "core/nfa.h"
#include "core/parallel.h"
#include "core/regions.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    RS_BLOCK = 128,            /* block side: 1/128 cycle per pixel per frequency bin */
    RS_STRIDE = 64,            /* block stride (half a block), also the map's cell size ... */
    RS_MAX_OVERLAPPED = 1500,  /* ... unless that makes more blocks than this: then blocks do not
                                  overlap (the 12 MP time budget) */
    RS_LUT = 4096,             /* p-map look-up table entries over e^2 / sigma in [0, 12) */
    RS_HALF = RS_BLOCK / 2 + 1, /* columns of the r2c spectrum */
    RS_LOW_BINS = 10,          /* frequencies below 10/128 cycles per pixel carry the content:
                                  not tested */
    RS_REF_LOW_BINS = 3,       /* ... but from 3/128 they may serve as a reference */
    RS_JPEG_PERIOD = RS_BLOCK / 8, /* bins per 1/8 cycle per pixel */
    RS_JPEG_REACH = 2,         /* bins around the JPEG lattice left out: the 8-periodic pattern
                                  is modulated by the content, which widens its peaks */
    RS_RADIAL_MIN = 2,         /* radial reference: offsets 2..7 bins either side (a Hann-
                                  windowed peak leaks into the next bin, so 1 is skipped) */
    RS_RADIAL_MAX = 7,
    RS_MIN_TEXTURED = 16       /* textured 8x8 blocks needed to judge at all */
};
#define RS_CANDIDATE 4.0f      /* only bins above 4x the block's median magnitude can be peaks
                                  (a passing peak is RS_THRESHOLD = 9 times its reference) */
#define RS_P_CUT 12.0f         /* exp(-12) = 6e-6: the p-map is 0 beyond */
#define RS_MIN_PVAR 1e-5f      /* p-map variance below which a block is flat (nothing to see) */
/* Kirchner's sigma is 1 on 0..255 samples: p then only sees residues below about 2 grey
 * levels. Measured (with a first version of step 4) on resized copies of CASIA v1 authentic
 * fit-half images, block detection rate at a 1% false-alarm rate: x1.3 17% / 30% / 37%, x1.5
 * 61% / 69% / 70%, x2.5 56% / 67% / 91% for sigma 1 / 4 / 16; the wider p-map also sees the
 * periodic residue of textured content. */
#define RS_SIGMA 16.0f
#define RS_MAX_CLIPPED 0.5f    /* share of clipped pixels above which a block is not judged */

/* Kirchner eq. 25: the fixed predictor, centre excluded. */
static const float rs_alpha[3][3] = {
    {-0.25f, 0.50f, -0.25f},
    {0.50f, 0.00f, 0.50f},
    {-0.25f, 0.50f, -0.25f},
};

/* Steps 1-2, one row: p-map value of every pixel (edge pixels: 1, i.e. "predicted", which the
 * mean removal of step 3 turns into nothing). */
struct pmap_job {
    const float *luma;
    float *p;
    int width, height;
    float lut[RS_LUT + 1]; /* exp(-t) at t = i * RS_P_CUT / RS_LUT: expf per pixel is the
                              slowest step at 12 MP */
};

static void pmap_lut_init(struct pmap_job *j)
{
    for (int i = 0; i < RS_LUT; i++)
        j->lut[i] = expf(-(float)i * RS_P_CUT / RS_LUT);
    j->lut[RS_LUT] = 0;
}

static void pmap_row(void *ctx, int y)
{
    const struct pmap_job *j = ctx;
    float *out = j->p + (size_t)y * j->width;
    if (y == 0 || y == j->height - 1 || j->width < 3) {
        for (int x = 0; x < j->width; x++)
            out[x] = 1.0f;
        return;
    }
    const float *r0 = j->luma + (size_t)(y - 1) * j->width, *r1 = r0 + j->width,
                *r2 = r1 + j->width;
    out[0] = out[j->width - 1] = 1.0f;
    for (int x = 1; x < j->width - 1; x++) {
        float pred = rs_alpha[0][0] * r0[x - 1] + rs_alpha[0][1] * r0[x] +
                     rs_alpha[0][2] * r0[x + 1] + rs_alpha[1][0] * r1[x - 1] +
                     rs_alpha[1][2] * r1[x + 1] + rs_alpha[2][0] * r2[x - 1] +
                     rs_alpha[2][1] * r2[x] + rs_alpha[2][2] * r2[x + 1];
        float e = r1[x] - pred;
        /* lambda = 1, tau = 2: p = exp(-e^2 / sigma), through the table */
        float t = e * e * (RS_LUT / (RS_P_CUT * RS_SIGMA)) + 0.5f;
        out[x] = j->lut[t < RS_LUT ? (int)t : RS_LUT];
    }
}

/* Which frequency bins are tested or may serve as a reference (shared by all blocks). */
struct spectrum_plan {
    float window[RS_BLOCK];                  /* 1-D Hann window */
    unsigned char tested[RS_BLOCK][RS_HALF]; /* 1: a candidate frequency */
    unsigned char usable[RS_BLOCK][RS_HALF]; /* 1: may serve as a reference (not on the JPEG
                                                lattice, not the lowest frequencies) */
};

static int signed_row(int v)
{
    return v < RS_BLOCK / 2 ? v : v - RS_BLOCK;
}

static int near_jpeg_lattice(int k)
{
    int a = abs(k) % RS_JPEG_PERIOD;
    return a <= RS_JPEG_REACH || a >= RS_JPEG_PERIOD - RS_JPEG_REACH;
}

static void spectrum_plan_init(struct spectrum_plan *sp)
{
    for (int i = 0; i < RS_BLOCK; i++)
        sp->window[i] = 0.5f - 0.5f * cosf(6.2831853f * (i + 0.5f) / RS_BLOCK);
    for (int v = 0; v < RS_BLOCK; v++)
        for (int u = 0; u < RS_HALF; u++) {
            int ky = signed_row(v);
            float r = sqrtf((float)(u * u + ky * ky));
            int jpeg = near_jpeg_lattice(u) && near_jpeg_lattice(ky);
            sp->usable[v][u] = !jpeg && r >= RS_REF_LOW_BINS;
            /* The u = 0 and u = RS_BLOCK/2 columns hold each frequency twice (conjugates):
             * test only their upper half. */
            int duplicate = (u == 0 || u == RS_BLOCK / 2) && ky < 0;
            sp->tested[v][u] = sp->usable[v][u] && !duplicate && r >= RS_LOW_BINS;
        }
}

/* Where frequency (kx, ky), in bins, is stored: the DFT is RS_BLOCK-periodic (a line running
 * past the Nyquist frequency comes back aliased) and conjugate-symmetric, which maps every bin
 * into the stored half-plane, row *v and column *u. */
static size_t stored_bin(int kx, int ky, int *v, int *u)
{
    kx = ((kx % RS_BLOCK) + RS_BLOCK) % RS_BLOCK;
    ky = ((ky % RS_BLOCK) + RS_BLOCK) % RS_BLOCK;
    if (kx > RS_BLOCK / 2) {
        kx = RS_BLOCK - kx;
        ky = (RS_BLOCK - ky) % RS_BLOCK;
    }
    *v = ky;
    *u = kx;
    return (size_t)ky * RS_HALF + (size_t)kx;
}

/* Magnitude at (kx, ky), or -1 when that bin may not serve as a reference. */
static float reference_bin(const struct spectrum_plan *sp, const float *mag, int kx, int ky)
{
    int v, u;
    size_t k = stored_bin(kx, ky, &v, &u);
    return sp->usable[v][u] ? mag[k] : -1;
}

/* Sub-bin position of a peak along one axis from its two neighbours (the Hann window's peak is
 * close to a Gaussian, whose log is a parabola): an offset in -0.5..0.5 bins. */
static float peak_offset(const float *mag, int kx, int ky, int dx, int dy)
{
    int v, u;
    float lo = mag[stored_bin(kx - dx, ky - dy, &v, &u)], mid = mag[stored_bin(kx, ky, &v, &u)];
    float hi = mag[stored_bin(kx + dx, ky + dy, &v, &u)];
    if (!(lo > 0 && mid > 0 && hi > 0))
        return 0;
    float a = logf(lo), b = logf(mid), c = logf(hi), den = a - 2 * b + c;
    if (!(den < 0))
        return 0;
    float off = 0.5f * (a - c) / den;
    return off < -0.5f ? -0.5f : (off > 0.5f ? 0.5f : off);
}

/* Step 4's reference: median magnitude along the radial line through (kx, ky), 2..7 bins
 * inward and outward. */
static float radial_reference(const struct spectrum_plan *sp, const float *mag, int kx, int ky)
{
    float r = sqrtf((float)(kx * kx + ky * ky));
    float ux = kx / r, uy = ky / r, vals[2 * (RS_RADIAL_MAX - RS_RADIAL_MIN + 1)];
    int n = 0;
    for (int d = RS_RADIAL_MIN; d <= RS_RADIAL_MAX; d++)
        for (int s = -1; s <= 1; s += 2) {
            float m = reference_bin(sp, mag, (int)lroundf(kx + s * d * ux),
                                    (int)lroundf(ky + s * d * uy));
            if (m >= 0)
                vals[n++] = m;
        }
    if (n < 4)
        return -1;
    /* Insertion sort: at most 12 values. */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && vals[k] < vals[k - 1]; k--) {
            float t = vals[k];
            vals[k] = vals[k - 1];
            vals[k - 1] = t;
        }
    return n % 2 ? vals[n / 2] : 0.5f * (vals[n / 2 - 1] + vals[n / 2]);
}

/* What one block gives. */
struct block_result {
    float stat;    /* largest whitened peak; 0 when not judged */
    short kx, ky;  /* where (kx >= 0), in bins of 1/RS_BLOCK cycle per pixel */
    float fx, fy;  /* the same, refined between bins */
    unsigned char judged;
};

struct block_job {
    const struct spectrum_plan *sp;
    const float *p, *luma;
    int width, nbx, stride;
    struct block_result *res;
    atomic_int failed; /* set when a worker ran out of memory */
};

/* Block texture test: enough p-map variation, not mostly clipped. Writes the windowed,
 * mean-removed p-map into buf. */
static int prepare_block(const struct block_job *j, int x0, int y0, float *buf)
{
    double sum = 0, sum2 = 0;
    long clipped = 0;
    for (int y = 0; y < RS_BLOCK; y++) {
        const float *pr = j->p + (size_t)(y0 + y) * j->width + x0;
        const float *lr = j->luma + (size_t)(y0 + y) * j->width + x0;
        for (int x = 0; x < RS_BLOCK; x++) {
            sum += pr[x];
            sum2 += (double)pr[x] * pr[x];
            clipped += lr[x] <= 0.5f || lr[x] >= 254.5f;
        }
    }
    double n = (double)RS_BLOCK * RS_BLOCK, mean = sum / n;
    if (sum2 / n - mean * mean < RS_MIN_PVAR || clipped > RS_MAX_CLIPPED * n)
        return 0;
    for (int y = 0; y < RS_BLOCK; y++) {
        const float *pr = j->p + (size_t)(y0 + y) * j->width + x0;
        float wy = j->sp->window[y];
        for (int x = 0; x < RS_BLOCK; x++)
            buf[y * RS_BLOCK + x] = ((float)(pr[x] - mean)) * wy * j->sp->window[x];
    }
    return 1;
}

/* Steps 3-4 for one block: the largest whitened magnitude over the tested frequencies. */
static void block_statistic(const struct spectrum_plan *sp, const um_complexf *spec, float *mag,
                            float *scratch, struct block_result *r)
{
    for (int k = 0; k < RS_BLOCK * RS_HALF; k++)
        mag[k] = sqrtf(spec[k].re * spec[k].re + spec[k].im * spec[k].im);
    /* The median over every other tested bin (a median needs no more). */
    int n = 0;
    for (int v = 0; v < RS_BLOCK; v++)
        for (int u = v & 1; u < RS_HALF; u += 2)
            if (sp->tested[v][u])
                scratch[n++] = mag[v * RS_HALF + u];
    float median = (float)um_median(scratch, (size_t)n);
    if (!(median > 0))
        return;
    for (int v = 0; v < RS_BLOCK; v++)
        for (int u = 0; u < RS_HALF; u++) {
            float m = mag[v * RS_HALF + u];
            if (!sp->tested[v][u] || m < RS_CANDIDATE * median)
                continue;
            float ref = radial_reference(sp, mag, u, signed_row(v));
            if (ref <= 0)
                continue;
            float s = m / ref;
            if (s > r->stat) {
                r->stat = s;
                r->kx = (short)u;
                r->ky = (short)signed_row(v);
            }
        }
    if (r->stat > 0) {
        r->fx = r->kx + peak_offset(mag, r->kx, r->ky, 1, 0);
        r->fy = r->ky + peak_offset(mag, r->kx, r->ky, 0, 1);
    }
    r->judged = 1;
}

static void block_row(void *ctx, int by)
{
    struct block_job *j = ctx;
    float *buf = um_fft_alloc((size_t)RS_BLOCK * RS_BLOCK * sizeof *buf);
    um_complexf *spec = um_fft_alloc((size_t)RS_BLOCK * RS_HALF * sizeof *spec);
    float *mag = malloc((size_t)RS_BLOCK * RS_HALF * sizeof *mag);
    float *scratch = malloc((size_t)RS_BLOCK * RS_HALF * sizeof *scratch);
    if (!buf || !spec || !mag || !scratch) {
        atomic_store(&j->failed, 1);
        goto done;
    }
    for (int bx = 0; bx < j->nbx; bx++) {
        struct block_result *r = &j->res[(size_t)by * j->nbx + bx];
        memset(r, 0, sizeof *r);
        if (!prepare_block(j, bx * j->stride, by * j->stride, buf))
            continue;
        if (um_fft2_r2c(RS_BLOCK, RS_BLOCK, buf, spec)) {
            atomic_store(&j->failed, 1);
            break;
        }
        block_statistic(j->sp, spec, mag, scratch, r);
    }
done:
    um_fft_free(buf);
    um_fft_free(spec);
    free(mag);
    free(scratch);
}

/* Steps 1-4 over the image: res[by * nbx + bx] for every block. Returns 0, or -1 without
 * memory. */
static int block_results(const um_image *luma, struct block_result *res, int nbx, int nby,
                         int stride)
{
    size_t n = (size_t)luma->width * (size_t)luma->height;
    float *p = malloc(n * sizeof *p);
    struct spectrum_plan *sp = malloc(sizeof *sp);
    struct pmap_job *pj = malloc(sizeof *pj);
    int rc = -1;
    if (!p || !sp || !pj)
        goto done;
    *pj = (struct pmap_job){.luma = luma->data, .p = p, .width = luma->width,
                            .height = luma->height};
    pmap_lut_init(pj);
    um_parallel_for(luma->height, pmap_row, pj, 0);
    spectrum_plan_init(sp);
    struct block_job bj = {sp, p, luma->data, luma->width, nbx, stride, res, 0};
    um_parallel_for(nby, block_row, &bj, 0);
    rc = atomic_load(&bj.failed) ? -1 : 0;
done:
    free(p);
    free(sp);
    free(pj);
    return rc;
}

/* Step 5, calibrated on never-resampled images. Share of blocks above RS_THRESHOLD: 0.92% of
 * the 5995 blocks of the CASIA v1 authentic fit half (JPEG), 0.6-0.9% of 648 blocks of
 * synthetic photos (lossless, JPEG q75, q90, q98). Share of resampled blocks found at that
 * threshold, synthetic photos (lossless): x1.1 98%, x1.3 100%, x1.5 100%, x2.5 98%, rotated 5
 * degrees 97%, x0.8 0.7% (its period falls on the JPEG lattice); CASIA authentic images (JPEG
 * sources) resized: x1.3 48%, x1.5 72%, x2.5 58%, rotated 14%, x0.8 11%. A JPEG save after the
 * resize erases the trace: x1.3 then q90 0.3% (synthetic) / 2.2% (CASIA). */
#define RS_THRESHOLD 9.0f      /* block statistic from which a block counts as resampled */
#define RS_SLOPE 1.0f          /* logistic width of the map around the threshold */
#define RS_BLOCK_FA 0.01       /* the false-alarm rate above, rounded up */
#define RS_GLOBAL_SHARE 0.5    /* share of judged blocks with one common peak: a global resize */
#define RS_NFA_FULL 3.0        /* -log10 NFA at which the score saturates */
#define RS_NFA_REPORT -1.0     /* log10 NFA below which a region is reported as found (one
                                  passing block of a few dozen gives about -0.5) */

static float block_value(float stat)
{
    return 1.0f / (1.0f + expf(-(stat - RS_THRESHOLD) / RS_SLOPE));
}

/* The peak's distance from the origin along the axes, max(|kx|, |ky|): a resize by one factor
 * puts its peaks at (f, 0), (0, f) and (f, f), all with the same value. */
static int axis_bin(const struct block_result *r)
{
    int ax = abs(r->kx), ay = abs(r->ky);
    return ax > ay ? ax : ay;
}

struct rs_summary {
    long judged, resampled;
    int global_bin;     /* axis bin shared by most resampled blocks when global, else -1 */
    long global_blocks; /* resampled blocks at that bin */
    double global_freq; /* their mean refined peak position, cycles per pixel */
    long local;         /* resampled blocks not explained by a global resize */
    double log10_nfa;   /* of the local blocks */
    float best_stat;
};

static int is_local(const struct block_result *r, int global_bin)
{
    return r->judged && r->stat > RS_THRESHOLD &&
           (global_bin < 0 || abs(axis_bin(r) - global_bin) > 1);
}

/* A global resize: one axis bin (within one bin) shared by RS_GLOBAL_SHARE of judged blocks. */
static void find_global(const struct block_result *res, size_t nb, struct rs_summary *s)
{
    long hist[RS_BLOCK / 2 + 2] = {0};
    for (size_t i = 0; i < nb; i++)
        if (res[i].judged && res[i].stat > RS_THRESHOLD)
            hist[axis_bin(&res[i])]++;
    int best = -1;
    long best_count = 0;
    for (int b = 1; b <= RS_BLOCK / 2; b++) {
        long c = hist[b - 1] + hist[b] + hist[b + 1];
        if (c > best_count) {
            best_count = c;
            best = b;
        }
    }
    s->global_bin = -1;
    if (best < 0 || s->judged < 4 || best_count < RS_GLOBAL_SHARE * s->judged)
        return;
    s->global_bin = best;
    s->global_blocks = best_count;
    double sum = 0;
    for (size_t i = 0; i < nb; i++)
        if (res[i].judged && res[i].stat > RS_THRESHOLD && abs(axis_bin(&res[i]) - best) <= 1)
            sum += abs(res[i].kx) > abs(res[i].ky) ? fabsf(res[i].fx) : fabsf(res[i].fy);
    s->global_freq = sum / (double)best_count / RS_BLOCK;
}

/* The blocks: nbx x nby of RS_BLOCK pixels every stride pixels; lat = RS_BLOCK / stride blocks
 * overlap along each axis. */
struct block_grid {
    int nbx, nby, stride, lat;
};

/* Binomial NFA of the local blocks. Overlapping blocks are not independent, so each of the
 * lat^2 disjoint sub-lattices (blocks every lat-th along x and y, which share no pixel) is
 * tested on its own: lat^2 tests in all. */
static double local_nfa(const struct block_result *res, const struct block_grid *g,
                        int global_bin)
{
    double best = 0;
    int phases = g->lat * g->lat;
    for (int phase = 0; phase < phases; phase++) {
        long n = 0, k = 0;
        for (int by = phase / g->lat; by < g->nby; by += g->lat)
            for (int bx = phase % g->lat; bx < g->nbx; bx += g->lat) {
                const struct block_result *r = &res[(size_t)by * g->nbx + bx];
                n += r->judged;
                k += is_local(r, global_bin);
            }
        if (n == 0)
            continue;
        double l = um_log10_nfa(phases, n, k, RS_BLOCK_FA);
        best = l < best ? l : best;
    }
    return best;
}

static void summarise(const struct block_result *res, const struct block_grid *g,
                      struct rs_summary *s)
{
    size_t nb = (size_t)g->nbx * (size_t)g->nby;
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < nb; i++) {
        s->judged += res[i].judged;
        s->resampled += res[i].judged && res[i].stat > RS_THRESHOLD;
        s->best_stat = res[i].stat > s->best_stat ? res[i].stat : s->best_stat;
    }
    find_global(res, nb, s);
    for (size_t i = 0; i < nb; i++)
        s->local += is_local(&res[i], s->global_bin);
    s->log10_nfa = local_nfa(res, g, s->global_bin);
}

/* Map cells of stride pixels: the mean over the blocks covering the cell (lat^2, fewer past
 * the last block) of their logistic value; blocks explained by a global resize count as no
 * evidence. */
static void draw_map(const struct block_result *res, const struct block_grid *g, int global_bin,
                     float *map, int mw, int mh)
{
    for (int cy = 0; cy < mh; cy++)
        for (int cx = 0; cx < mw; cx++) {
            float sum = 0;
            int n = 0;
            for (int by = cy - g->lat + 1; by <= cy; by++)
                for (int bx = cx - g->lat + 1; bx <= cx; bx++) {
                    int x = bx < 0 ? 0 : (bx >= g->nbx ? g->nbx - 1 : bx);
                    int y = by < 0 ? 0 : (by >= g->nby ? g->nby - 1 : by);
                    const struct block_result *r = &res[(size_t)y * g->nbx + x];
                    int global = global_bin >= 0 && !is_local(r, global_bin) &&
                                 r->stat > RS_THRESHOLD;
                    sum += r->judged && !global ? block_value(r->stat) : 0.0f;
                    n++;
                }
            map[(size_t)cy * mw + cx] = sum / n;
        }
}

/* A resize by w puts the p-map's period at w pixels, seen at frequency f = |1/w - k| for the
 * nearest integer k: an enlargement by 1/(1 - f), by 1/f, or a reduction by 1/(1 + f) all give
 * the same f. */
static double enlargement_factor(double f)
{
    return 1.0 / (1.0 - f);
}

static void describe(struct um_evidence *ev, const struct rs_summary *s, double local_share)
{
    if (s->global_bin >= 0) {
        double f = s->global_freq;
        um_evidence_add_finding(ev,
                                "The whole image was resized (enlarged about %.2f times, or "
                                "%.2f times, or reduced to %.2f: they leave the same pattern); "
                                "this alone is not a local manipulation.",
                                enlargement_factor(f), 1.0 / f, 1.0 / (1.0 + f));
    }
    if (s->log10_nfa < RS_NFA_REPORT && local_share > 0)
        um_evidence_add_headline(ev,
                                 "A region of %.0f%% of the image shows the periodic pattern "
                                 "that resizing or rotating leaves%s: it may have been pasted in "
                                 "after being scaled.",
                                 100.0 * local_share,
                                 s->global_bin >= 0 ? ", at another scale than the rest"
                                                    : " and the rest lacks");
    else if (s->local > 0)
        um_evidence_add_finding(ev, "%ld small patch%s show%s a faint periodic pattern like "
                                    "resizing leaves: too little to conclude.",
                                s->local, s->local > 1 ? "es" : "", s->local > 1 ? "" : "s");
    else if (s->global_bin < 0)
        um_evidence_add_finding(ev, "No region shows traces of resizing or rotation.");
}

static void add_details(struct um_evidence *ev, const struct rs_summary *s)
{
    json_t *d = json_object();
    if (!d)
        return;
    json_object_set_new(d, "blocks_judged", json_integer(s->judged));
    json_object_set_new(d, "blocks_resampled", json_integer(s->resampled));
    json_object_set_new(d, "blocks_local", json_integer(s->local));
    json_object_set_new(d, "strongest_peak", um_json_number(s->best_stat));
    json_object_set_new(d, "global_resampling", json_boolean(s->global_bin >= 0));
    if (s->global_bin >= 0) {
        json_object_set_new(d, "peak_cycles_per_pixel",
                            um_json_number(s->global_freq));
        json_object_set_new(d, "estimated_factor",
                            um_json_number(enlargement_factor(s->global_freq)));
    }
    json_object_set_new(d, "jpeg_frequencies_excluded", json_true());
    ev->details = d;
}

/* Half-overlapping blocks, or side by side when those would be too many to fit the time
 * budget (large images, where blocks are plenty anyway). */
static struct block_grid block_grid_for(int width, int height)
{
    struct block_grid g;
    g.stride = RS_STRIDE;
    g.nbx = (width - RS_BLOCK) / g.stride + 1;
    g.nby = (height - RS_BLOCK) / g.stride + 1;
    if ((long)g.nbx * g.nby > RS_MAX_OVERLAPPED) {
        g.stride = RS_BLOCK;
        g.nbx = width / RS_BLOCK;
        g.nby = height / RS_BLOCK;
    }
    g.lat = RS_BLOCK / g.stride;
    return g;
}

static um_error resampling_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_image *luma = in->luma;
    long full_blocks = (long)(luma->width / 8) * (long)(luma->height / 8);
    if (full_blocks >= RS_MIN_TEXTURED && um_textured_blocks(luma) < RS_MIN_TEXTURED) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: no texture in which "
                                       "interpolation could leave a trace");
        return UM_OK;
    }
    if (luma->width < RS_BLOCK || luma->height < RS_BLOCK) {
        um_evidence_not_applicable(ev, "the image is too small for resampling analysis (at "
                                       "least %d x %d pixels)",
                                   RS_BLOCK, RS_BLOCK);
        return UM_OK;
    }
    struct block_grid g = block_grid_for(luma->width, luma->height);
    int mw = (luma->width + g.stride - 1) / g.stride, mh = (luma->height + g.stride - 1) / g.stride;
    struct block_result *res = calloc((size_t)g.nbx * (size_t)g.nby, sizeof *res);
    if (!res || block_results(luma, res, g.nbx, g.nby, g.stride)) {
        free(res);
        return UM_ERR_NOMEM;
    }
    struct rs_summary s;
    summarise(res, &g, &s);
    if (s.judged == 0) {
        free(res);
        um_evidence_not_applicable(ev, "the image is flat or saturated: no block has the "
                                       "texture interpolation traces need");
        return UM_OK;
    }
    float *map = um_evidence_alloc_map(ev, mw, mh, g.stride);
    if (!map) {
        free(res);
        return UM_ERR_NOMEM;
    }
    draw_map(res, &g, s.global_bin, map, mw, mh);
    free(res);
    struct um_region region;
    if (um_largest_region(map, mw, mh, 0.5f, 0, &region))
        return UM_ERR_NOMEM;
    ev->applicable = 1;
    ev->has_nfa = 1;
    ev->log10_nfa = s.log10_nfa;
    double strength = -s.log10_nfa / RS_NFA_FULL;
    ev->score = strength > 1 ? 1 : (strength > 0 ? strength : 0);
    describe(ev, &s, (double)region.cells / ((double)mw * mh));
    add_details(ev, &s);
    return UM_OK;
}

const struct um_detector um_detector_resampling = {
    .name = "resampling",
    .family = "resampling",
    .summary = "Resampling traces: the periodic pattern a resized or rotated region leaves in "
               "the residue of a linear predictor (Kirchner 2008, Popescu & Farid 2005)",
    .limits = "Sees enlargements and rotations of a region in lossless or near-lossless files; a "
              "JPEG save after the edit (even at quality 90), strong reductions and resizes whose "
              "period falls on the JPEG 8x8 grid (x2, x4/3, x0.8) leave no usable trace, and "
              "regularly repeating textures can look resampled. A resize of the whole image is "
              "reported but is not a manipulation.",
    .needs = 0,
    .run = resampling_run,
};
