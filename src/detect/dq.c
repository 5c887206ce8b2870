/* dq: aligned double-quantization (A-DJPG) probability map.
 *
 * Bianchi & Piva, "Image forgery localization via block-grained analysis of JPEG artifacts",
 * IEEE TIFS 7(3), 2012 (the A-DJPG model, Sec. III-A, and its EM estimate of the primary
 * step, Sec. IV); after Lin, He, Tang & Tang, "Fast, automatic and fine-grained tampered JPEG
 * image detection via DCT coefficient analysis", Pattern Recognition 42(11), 2009.
 *
 * A JPEG decompressed and compressed again on the same 8x8 grid carries the first quantization
 * in its coefficients: the first compression left only the lattice k*q1, and the second maps
 * each lattice point to the bin round(k*q1/q2). When q1 > q2 some bins receive no lattice point
 * (Lin's comb); when q1 < q2 and q2/q1 is not an integer the bins receive alternately one or
 * two lattice points (e.g. q1 = 5, q2 = 8: 2,1,2,2,1,...), so their probabilities still differ
 * from a single quantization by factors up to two (Bianchi & Piva eq. 5, the periodic n(x)).
 * A region pasted in from elsewhere (never compressed, or compressed on another grid) was
 * quantized once, by q2 only. Steps:
 *   1. per AC frequency (zig-zag 1..DQ_LAST_ZZ) of the luminance, the histogram of the
 *      quantized coefficients;
 *   2. the two laws of a coefficient, single- and double-quantized, built from the
 *      unquantized distribution estimated by calibration on a grid shifted by half a block;
 *   3. the primary step q1 (finer or coarser than q2) and the share alpha of double-quantized
 *      coefficients by EM on the mixture alpha*double + (1-alpha)*single, for every candidate
 *      q1; the best one must beat "no double quantization" by a clear margin;
 *   4. per coefficient value the log-likelihood ratio log p(x | single) / p(x | double);
 *   5. per 8x8 block the sum over frequencies (naive Bayes, Lin eq. 9), pooled over 5x5
 *      blocks, as a posterior probability of tampering with the prior 1 - alpha.
 * Chroma is left out on purpose: a decoder upsamples subsampled chroma and the next encoder
 * downsamples it again, which is not the identity, so chroma coefficients leave the first
 * lattice wherever colour varies and a re-saved camera photo looks "pasted" in its colourful
 * parts. Measured: with Cb/Cr added, the CASIA v1 fit half lost a little (dq best-F1 0.545 vs
 * 0.548) and untouched camera JPEGs (IMG_0003.jpg, P1000827.jpg of the C2PA fixtures) were
 * flagged; luminance alone flags neither. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dct.h"
#include "core/jpeg_tables.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    DQ_FIRST_ZZ = 1,       /* first AC frequency examined, zig-zag index */
    DQ_LAST_ZZ = 40,       /* last one. High frequencies matter: editors cap their steps
                              there (Photoshop: 12) below a camera's earlier ones (16-39), so
                              the comb is plainest where coefficients are rarest. On the CASIA
                              v1 fit half, last index 27 / 34 / 40 / 48 / 63 gave dq best-F1
                              0.449 / 0.537 / 0.545 / 0.549 / 0.549 and fused F1@0.5 0.364 /
                              0.466 / 0.477 / 0.468 / 0.459 */
    DQ_NF = DQ_LAST_ZZ - DQ_FIRST_ZZ + 1,
    DQ_XMAX = 80,          /* histogram of |x| = 0..DQ_XMAX (the distributions are symmetric) */
    DQ_MIN_NONZERO = 100,  /* fewer non-zero coefficients than this: frequency not usable */
    DQ_MIN_BLOCKS = 16,    /* smaller images cannot show a histogram */
    DQ_Q1_MAX = 128,       /* largest primary step tried */
    DQ_EM_ITERATIONS = 20,  /* EM iterations for the finalists ... */
    DQ_EM_SCREEN = 8,       /* ... and for screening every candidate */
    DQ_FINALISTS = 4,
    DQ_X0 = 1              /* first |x| used: the zero bin is left out; flat blocks fill it
                              whatever the history, and calibration misjudges its mass */
};
#define DQ_SIGMA 0.7          /* std of the rounding noise a decode/re-encode adds to a DCT
                                 coefficient (pixel rounding, colour conversion), DCT units */
#define DQ_OUTLIER 0.03       /* share of the single-compression law mixed into the double one:
                                 clipped or saturated blocks break the lattice */
#define DQ_LLR_CLAMP 4.0      /* bound on one coefficient's log-likelihood ratio */
#define DQ_MIN_GAIN_PER_COEF 0.02 /* nats per coefficient the mixture must add ... */
#define DQ_MIN_GAIN 20.0      /* ... and in total, before a frequency counts as double-quantized */
#define DQ_POOL_RADIUS 2       /* blocks: the naive Bayes sum runs over (2r+1)^2 neighbours;
                                 5x5 beat 3x3 and 7x7 on the CASIA v1 fit half (best-F1 0.449
                                 vs 0.428 and 0.445) */
#define DQ_MARGIN_NATS 1.0    /* evidence a window must carry beyond the prior: strongly textured
                                 regions of authentic images show a systematic shift of about
                                 this size towards "single compression" under the image-wide laws
                                 (their pooled evidence sits 3-9 standard deviations off what the
                                 laws predict: a shift, not noise). CASIA v1 fit half: authentic
                                 images with score >= 0.5 3.0 % -> 1.5 %, tampered 72.9 % ->
                                 71.4 %, best F1 0.548 -> 0.549 */
#define DQ_ALPHA_MIN 0.5      /* bounds on the prior share of double-quantized blocks */
#define DQ_ALPHA_MAX 0.98
#define DQ_HIGH 0.5           /* map level counted as "suspicious" for the score */

/* The luminance component as the detector uses it. */
struct dq_component {
    const um_jpeg_component *c;
    const uint16_t *qt;
    int bw, bh;      /* blocks that cover the image */
};

struct dq_frequency {
    int zz, pos;          /* zig-zag index and natural position */
    int q2;               /* step of the file (secondary quantization) */
    int q1;               /* estimated primary step; 0 when not double-quantized/informative */
    long nonzero;         /* non-zero coefficients in the histogram */
    double gain;          /* log-likelihood gain of the mixture over a single quantization */
    double alpha;         /* EM share of double-quantized coefficients */
    float llr[DQ_XMAX + 1]; /* log p(x|single)/p(x|double) per |x|; 0 where uninformative */
};

/* Standard normal CDF, tabulated over +-6 (the laws below evaluate it millions of times);
 * each run fills its own table. */
enum { DQ_PHI_STEPS = 64, DQ_PHI_SPAN = 6 * DQ_PHI_STEPS, DQ_PHI_SIZE = 2 * DQ_PHI_SPAN + 2 };

static void phi_fill(float *table)
{
    for (int i = 0; i < DQ_PHI_SIZE; i++)
        table[i] = (float)(0.5 * erfc(-((double)(i - DQ_PHI_SPAN) / DQ_PHI_STEPS) / M_SQRT2));
}

static double phi(const float *table, double t)
{
    double u = t * DQ_PHI_STEPS + DQ_PHI_SPAN;
    if (u <= 0)
        return 0;
    if (u >= 2 * DQ_PHI_SPAN)
        return 1;
    int i = (int)u;
    return table[i] + (u - i) * (table[i + 1] - table[i]);
}

/* Step 2a, calibration (Bianchi & Piva Sec. IV-A, after Fridrich's calibration): the DCT of
 * the decoded component on a grid shifted by (4,4) samples no longer sees either quantization
 * lattice, but keeps the shape of the coefficient distribution: an estimate of the
 * unquantized coefficients. One cumulative distribution of |D| per frequency, in fine bins of
 * q2 / DQ_FINE. */
enum { DQ_FINE = 16, DQ_CAL_BINS = DQ_FINE * (DQ_XMAX + 2), DQ_CAL_MAX_BLOCKS = 30000 };

struct dq_calibration {
    double bin;                    /* fine bin width, DCT units */
    double cum[DQ_CAL_BINS + 1];   /* fraction of |D| below i * bin */
    double count;                  /* coefficients behind it */
};

/* C(t / scale): fraction of |D| below t, linear between fine bins, for the calibrated
 * distribution stretched by scale (see analyse_frequency). */
static double cal_cdf(const struct dq_calibration *c, double scale, double t)
{
    if (t <= 0)
        return 0;
    double u = t / (c->bin * scale);
    if (u >= DQ_CAL_BINS)
        return c->cum[DQ_CAL_BINS];
    int i = (int)u;
    return c->cum[i] + (u - i) * (c->cum[i + 1] - c->cum[i]);
}

static int calibrate(const um_image *luma, struct dq_frequency *f, int nf,
                     struct dq_calibration *cal)
{
    int w = luma->width;
    long sw = (w - 4) / 8, sh = (luma->height - 4) / 8, total = sw * sh;
    if (sw <= 0 || sh <= 0)
        return -1;
    /* Whole rows of blocks, every row_stride-th: contiguous reads (a scattered sample of a
     * large image spends its time in cache misses). */
    long row_stride = total / DQ_CAL_MAX_BLOCKS + 1;
    for (int i = 0; i < nf; i++) {
        memset(&cal[i], 0, sizeof cal[i]);
        cal[i].bin = (double)f[i].q2 / DQ_FINE;
    }
    for (long b = 0; b < total; b++) {
        long bx = b % sw, by = b / sw;
        if (by % row_stride)
            continue;
        float coef[64];
        um_dct8x8(luma->data + (size_t)(8 * by + 4) * (size_t)w + (size_t)(8 * bx + 4),
                  (size_t)w, coef);
        for (int i = 0; i < nf; i++) {
            double u = fabs((double)coef[f[i].pos]) / cal[i].bin;
            cal[i].cum[u < DQ_CAL_BINS ? (int)u + 1 : DQ_CAL_BINS] += 1; /* density first */
        }
    }
    for (int i = 0; i < nf; i++) {
        double acc = 0;
        for (int k = 0; k <= DQ_CAL_BINS; k++) {
            acc += cal[i].cum[k];
            cal[i].cum[k] = acc;
        }
        cal[i].count = acc;
        for (int k = 0; k <= DQ_CAL_BINS; k++)
            cal[i].cum[k] /= acc;
    }
    return 0;
}

/* Step 2b, the two laws of |x| = 0..DQ_XMAX for a candidate q1 (Bianchi & Piva eq. 3-5):
 *   single(x) = P(|D| rounds to x at step q2);
 *   dbl(x)    = sum_k P(|D| rounds to k at step q1) P(k q1 + noise rounds to x at step q2),
 *               the noise being the rounding a decode / re-encode adds (Gaussian, DQ_SIGMA),
 *               mixed with a little of single(x) for clipped and saturated blocks.
 * The sum over k is the integral form of eq. 5, valid for q1 above or below q2. Both laws are
 * conditioned on |x| <= DQ_XMAX and smoothed by one calibration sample per bin so that no bin
 * has probability zero. */
static void single_law(const struct dq_calibration *cal, double scale, int q2, int xtop,
                       double *single)
{
    double floor_mass = 1.0 / (cal->count + 1.0), z = 0;
    single[0] = 0;
    for (int x = DQ_X0; x <= xtop; x++) {
        single[x] = cal_cdf(cal, scale, (x + 0.5) * q2) - cal_cdf(cal, scale, (x - 0.5) * q2) +
                    floor_mass;
        z += single[x];
    }
    for (int x = DQ_X0; x <= xtop; x++)
        single[x] /= z;
}

static void candidate_laws(const struct dq_calibration *cal, const float *phi_tab, double scale,
                           int q1, int q2, int xtop, double *single, double *dbl)
{
    double floor_mass = 1.0 / (cal->count + 1.0);
    for (int x = 0; x <= xtop; x++) {
        single[x] = cal_cdf(cal, scale, (x + 0.5) * q2) - cal_cdf(cal, scale, (x - 0.5) * q2);
        dbl[x] = 0;
    }
    long kmax = (long)(((xtop + 0.5) * q2 + 6 * DQ_SIGMA) / q1) + 1;
    for (long k = 0; k <= kmax; k++) {
        double mass = cal_cdf(cal, scale, (k + 0.5) * q1) - cal_cdf(cal, scale, (k - 0.5) * q1);
        if (mass <= 0)
            continue;
        double centre = (double)k * q1;
        int x_lo = (int)floor((centre - 6 * DQ_SIGMA) / q2 + 0.5);
        int x_hi = (int)floor((centre + 6 * DQ_SIGMA) / q2 + 0.5);
        for (int x = x_lo < 0 ? 0 : x_lo; x <= x_hi && x <= xtop; x++) {
            double p = phi(phi_tab, ((x + 0.5) * q2 - centre) / DQ_SIGMA) -
                       phi(phi_tab, ((x - 0.5) * q2 - centre) / DQ_SIGMA);
            /* |x|: the lattice point 0 spreads to both signs of a bin */
            dbl[x] += mass * p * (k == 0 && x > 0 ? 2 : 1);
        }
    }
    double zs = 0, zd = 0;
    single[0] = dbl[0] = 0;
    for (int x = DQ_X0; x <= xtop; x++) {
        single[x] += floor_mass;
        dbl[x] += floor_mass;
        zs += single[x];
        zd += dbl[x];
    }
    for (int x = DQ_X0; x <= xtop; x++) {
        single[x] /= zs;
        dbl[x] = (1 - DQ_OUTLIER) * dbl[x] / zd + DQ_OUTLIER * single[x];
    }
}

/* Step 3, EM on the mixture alpha*dbl + (1-alpha)*single (Bianchi & Piva Sec. IV): the share
 * alpha of double-quantized coefficients, and the log-likelihood gain of the mixture over
 * single quantization alone. */
static double mixture_gain(const double *hist, const double *single, const double *dbl,
                           int xtop, int iterations, double *alpha)
{
    double a = 0.5;
    for (int it = 0; it < iterations; it++) {
        double num = 0, total = 0;
        for (int x = DQ_X0; x <= xtop; x++)
            if (hist[x] > 0) {
                double pd = a * dbl[x];
                num += hist[x] * pd / (pd + (1 - a) * single[x]);
                total += hist[x];
            }
        a = total > 0 ? num / total : 0;
    }
    double g = 0;
    for (int x = DQ_X0; x <= xtop; x++)
        if (hist[x] > 0)
            g += hist[x] * log(a * dbl[x] / single[x] + 1 - a);
    *alpha = a;
    return g;
}

/* Step 1: histograms of |x| for every frequency, in one pass over the blocks inside the
 * image (not libjpeg's MCU padding). Values above DQ_XMAX are not kept. */
static void luma_histograms(const struct dq_component *cc, const struct dq_frequency *f,
                                 int nf, double (*hist)[DQ_XMAX + 1], long *nonzero)
{
    for (int i = 0; i < nf; i++) {
        memset(hist[i], 0, sizeof hist[i]);
        nonzero[i] = 0;
    }
    for (int by = 0; by < cc->bh; by++)
        for (int bx = 0; bx < cc->bw; bx++) {
            const int16_t *b = cc->c->coef + ((size_t)by * (size_t)cc->c->blocks_w + bx) * 64;
            for (int i = 0; i < nf; i++) {
                int v = abs(b[f[i].pos]);
                nonzero[i] += v != 0;
                if (v <= DQ_XMAX)
                    hist[i][v] += 1;
            }
        }
}

/* The 99th percentile of the non-zero |x|: primary steps are only credible over a range the
 * data covers. */
static int percentile99(const double *hist)
{
    double acc = 0, total = 0;
    for (int x = 1; x <= DQ_XMAX; x++)
        total += hist[x];
    for (int x = 1; x <= DQ_XMAX; x++) {
        acc += hist[x];
        if (acc >= 0.99 * total)
            return x;
    }
    return DQ_XMAX;
}

/* Log-likelihood of the histogram under one law. */
static double log_likelihood(const double *hist, const double *law, int xtop)
{
    double ll = 0;
    for (int x = DQ_X0; x <= xtop; x++)
        if (hist[x] > 0)
            ll += hist[x] * log(law[x]);
    return ll;
}

/* Stretch factors tried for the calibrated distribution. Calibration is biased: on the
 * shifted grid the block edges of the decoded image add energy, and frequencies the
 * compression zeroed lose it. A single-compression law free to stretch absorbs that smooth
 * misfit, so that only the periodic signature of a lattice can favour a double quantization
 * (without it, a finer "primary step" that reshapes the first two bins fits many single-
 * compressed histograms better). */
static const double dq_scales[] = {0.67, 0.74, 0.82, 0.9, 1.0, 1.1, 1.22, 1.35, 1.5};
enum { DQ_NSCALES = sizeof dq_scales / sizeof dq_scales[0] };

/* Steps 2-4 for one frequency: find q1 and fill the likelihood-ratio table. */
static void analyse_frequency(const double *hist, const struct dq_calibration *cal,
                              const float *phi_tab, struct dq_frequency *f)
{
    f->q1 = 0;
    f->gain = 0;
    f->alpha = 0;
    memset(f->llr, 0, sizeof f->llr);
    /* Steps beyond 8-bit tables (16-bit DQT) are left alone: they would make the lattice sums
     * below run over millions of points for a frequency no real encoder quantizes that hard. */
    if (f->nonzero < DQ_MIN_NONZERO || f->q2 > 255)
        return;
    /* The laws cover the whole histogram range, also past the largest value seen: a law
     * that puts mass where the data has none is rightly penalised (conditioning on the
     * observed range instead lost most detections on CASIA v1). */
    const int xtop = DQ_XMAX;
    double single[DQ_XMAX + 1], dbl[DQ_XMAX + 1];
    /* The null hypothesis: single quantization, best stretch. */
    int s0 = 0;
    double ll_null = -INFINITY, ll_single[DQ_NSCALES];
    for (int s = 0; s < DQ_NSCALES; s++) {
        single_law(cal, dq_scales[s], f->q2, xtop, single);
        ll_single[s] = log_likelihood(hist, single, xtop);
        if (ll_single[s] > ll_null) {
            ll_null = ll_single[s];
            s0 = s;
        }
    }
    /* Candidates: every primary step whose lattice is distinguishable from the secondary one
     * (q1 dividing q2 puts the same number of lattice points in every bin: no trace), up to
     * a comb tooth inside the data; each with the stretches next to the null's. */
    int q1_max = f->q2 * (percentile99(hist) + 1);
    if (q1_max > DQ_Q1_MAX)
        q1_max = DQ_Q1_MAX;
    /* Screening: a few EM iterations for every (q1, stretch); the best DQ_FINALISTS get a
     * full EM. */
    int fin_q1[DQ_FINALISTS] = {0}, fin_s[DQ_FINALISTS] = {0};
    double fin_gain[DQ_FINALISTS];
    for (int i = 0; i < DQ_FINALISTS; i++)
        fin_gain[i] = 0;
    for (int q1 = 2; q1 <= q1_max; q1++) {
        if (f->q2 % q1 == 0)
            continue;
        for (int s = s0 > 0 ? s0 - 1 : 0; s <= s0 + 1 && s < DQ_NSCALES; s++) {
            double a;
            candidate_laws(cal, phi_tab, dq_scales[s], q1, f->q2, xtop, single, dbl);
            double g =
                mixture_gain(hist, single, dbl, xtop, DQ_EM_SCREEN, &a) + ll_single[s] - ll_null;
            int slot = DQ_FINALISTS;
            while (slot > 0 && g > fin_gain[slot - 1])
                slot--;
            if (slot == DQ_FINALISTS)
                continue;
            for (int i = DQ_FINALISTS - 1; i > slot; i--) {
                fin_gain[i] = fin_gain[i - 1];
                fin_q1[i] = fin_q1[i - 1];
                fin_s[i] = fin_s[i - 1];
            }
            fin_gain[slot] = g;
            fin_q1[slot] = q1;
            fin_s[slot] = s;
        }
    }
    int best = 0, best_s = s0;
    double best_gain = 0, best_alpha = 0;
    for (int i = 0; i < DQ_FINALISTS && fin_q1[i]; i++) {
        double a;
        candidate_laws(cal, phi_tab, dq_scales[fin_s[i]], fin_q1[i], f->q2, xtop, single, dbl);
        double g = mixture_gain(hist, single, dbl, xtop, DQ_EM_ITERATIONS, &a) +
                   ll_single[fin_s[i]] - ll_null;
        if (g > best_gain) {
            best_gain = g;
            best = fin_q1[i];
            best_s = fin_s[i];
            best_alpha = a;
        }
    }
    f->gain = best_gain;
    f->alpha = best_alpha;
    double used = 0;
    for (int x = DQ_X0; x <= DQ_XMAX; x++)
        used += hist[x];
    if (!best || best_gain < DQ_MIN_GAIN || best_gain < DQ_MIN_GAIN_PER_COEF * used)
        return;
    f->q1 = best;
    candidate_laws(cal, phi_tab, dq_scales[best_s], best, f->q2, xtop, single, dbl);
    /* Step 4: L(x) = log p(x | H1 single) / p(x | H0 double); |x| > DQ_XMAX says nothing. */
    for (int x = DQ_X0; x <= xtop; x++) {
        double l = log(single[x] / dbl[x]);
        f->llr[x] = (float)(l > DQ_LLR_CLAMP ? DQ_LLR_CLAMP : (l < -DQ_LLR_CLAMP ? -DQ_LLR_CLAMP : l));
    }
}

/* Step 5: per block the sum of log-likelihood ratios over the double-quantized frequencies
 * (Lin eq. 9: the frequencies are treated as independent). */
static void block_llr(const struct dq_component *cc, const struct dq_frequency *f, int nf,
                      float *out)
{
    for (int by = 0; by < cc->bh; by++) {
        for (int bx = 0; bx < cc->bw; bx++) {
            const int16_t *b = cc->c->coef + ((size_t)by * (size_t)cc->c->blocks_w + bx) * 64;
            float s = 0;
            for (int i = 0; i < nf; i++) {
                if (!f[i].q1)
                    continue;
                int v = abs(b[f[i].pos]);
                if (v <= DQ_XMAX)
                    s += f[i].llr[v];
            }
            out[(size_t)by * cc->bw + bx] = s;
        }
    }
}

/* The luminance component with a valid table, or 0 with a sentence in why. */
static int luma_component(const um_decoded *d, int mw, int mh, struct dq_component *cc,
                          const char **why)
{
    const uint16_t *qt;
    const um_jpeg_component *y = um_jpeg_luma(d, mw, mh, &qt, why);
    if (!y)
        return 0;
    *cc = (struct dq_component){y, qt, mw, mh};
    return 1;
}

/* The IJG quality whose luminance steps best match the estimated primary steps, or -1. */
static int primary_quality(const struct dq_frequency *f, int nf, double *mean_abs_error)
{
    int best = -1;
    double best_err = INFINITY;
    for (int q = 100; q >= 1; q--) {
        uint16_t t[64];
        um_jpeg_scaled_table(q, 0, t);
        double err = 0;
        int n = 0;
        for (int i = 0; i < nf; i++)
            if (f[i].q1) {
                err += fabs((double)t[f[i].pos] - f[i].q1) / f[i].q1;
                n++;
            }
        if (n && err / n < best_err) {
            best_err = err / n;
            best = q;
        }
    }
    *mean_abs_error = best_err;
    return best;
}

static void add_details(struct um_evidence *ev, const struct dq_frequency *f, int nf,
                        double alpha, double suspicious)
{
    json_t *d = json_object(), *primary = json_object(), *secondary = json_object();
    if (!d || !primary || !secondary) {
        json_decref(d);
        json_decref(primary);
        json_decref(secondary);
        return;
    }
    for (int i = 0; i < nf; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", f[i].zz); /* zig-zag index */
        if (f[i].q1)
            json_object_set_new(primary, key, json_integer(f[i].q1));
        json_object_set_new(secondary, key, json_integer(f[i].q2));
    }
    json_object_set_new(d, "primary_step", primary);
    json_object_set_new(d, "secondary_step", secondary);
    json_object_set_new(d, "double_compressed_share", um_json_number(alpha));
    json_object_set_new(d, "suspicious_fraction", um_json_number(suspicious));
    ev->details = d;
}

static void describe(struct um_evidence *ev, const struct dq_frequency *f, int nf, int tested,
                     int found, double suspicious)
{
    char steps[120] = "";
    size_t len = 0;
    for (int i = 0; i < nf && len + 20 < sizeof steps; i++)
        if (f[i].q1)
            len += (size_t)snprintf(steps + len, sizeof steps - len, "%s%d (file %d)",
                                    len ? ", " : "", f[i].q1, f[i].q2);
    um_evidence_add_finding(ev,
                            "double-compression pattern found in %d of %d frequencies; "
                            "estimated primary quantization steps %s",
                            found, tested, steps);
    double fit;
    int q = primary_quality(f, nf, &fit);
    if (q > 0 && fit < 0.15)
        um_evidence_add_finding(ev, "the earlier compression matches IJG quality about %d", q);
    if (suspicious >= 0.005)
        um_evidence_add_headline(ev,
                                "%.1f%% of the image lacks the double-compression pattern the "
                                "rest shows: it was likely pasted in or re-rendered",
                                100.0 * suspicious);
    else
        um_evidence_add_finding(ev, "the double-compression pattern is uniform over the image");
}

/* Image score: the suspicious area, full weight from 3% of the image, damped when it covers
 * most of the image (then the "background" pattern is itself doubtful), times the share of
 * the evidence (frequencies with a double-quantization trace, full weight from 3). */
static double image_score(double suspicious, int found)
{
    double s = suspicious / 0.03;
    if (s > 1)
        s = 1;
    if (suspicious > 0.6)
        s *= (1.0 - suspicious) / 0.4;
    double w = found / 3.0;
    return s * (w > 1 ? 1 : w);
}

/* Steps 1-4: fills the DQ_NF frequencies in f; -1 when out of memory. */
static int analyse_luma(const struct um_input *in, const struct dq_component *cc,
                        struct dq_frequency *f)
{
    struct dq_calibration *cal = malloc(DQ_NF * sizeof *cal);
    double (*hist)[DQ_XMAX + 1] = malloc(DQ_NF * sizeof *hist);
    float *phi_tab = malloc(DQ_PHI_SIZE * sizeof *phi_tab);
    if (!cal || !hist || !phi_tab) {
        free(cal);
        free(hist);
        free(phi_tab);
        return -1;
    }
    phi_fill(phi_tab);
    long nonzero[DQ_NF];
    for (int i = 0; i < DQ_NF; i++) {
        f[i] = (struct dq_frequency){.zz = DQ_FIRST_ZZ + i};
        f[i].pos = um_zigzag[f[i].zz];
        f[i].q2 = cc->qt[f[i].pos];
    }
    if (calibrate(in->luma, f, DQ_NF, cal) == 0) {
        luma_histograms(cc, f, DQ_NF, hist, nonzero);
        for (int i = 0; i < DQ_NF; i++) {
            f[i].nonzero = nonzero[i];
            analyse_frequency(hist[i], &cal[i], phi_tab, &f[i]);
        }
    }
    free(cal);
    free(hist);
    free(phi_tab);
    return 0;
}

/* The prior share of double-quantized blocks: the median EM alpha of the frequencies with a
 * trace, bounded (the untouched part is the larger one). */
static double prior_alpha(const struct dq_frequency *f, int nf)
{
    float a[DQ_NF];
    size_t n = 0;
    for (int i = 0; i < nf; i++)
        if (f[i].q1)
            a[n++] = (float)f[i].alpha;
    double m = n ? um_median(a, n) : DQ_ALPHA_MAX;
    if (!(m == m)) /* NaN: the median's scratch copy could not be allocated */
        m = DQ_ALPHA_MAX;
    return m < DQ_ALPHA_MIN ? DQ_ALPHA_MIN : (m > DQ_ALPHA_MAX ? DQ_ALPHA_MAX : m);
}

static um_error dq_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *d = in->decoded;
    int mw = (d->width + 7) / 8, mh = (d->height + 7) / 8;
    struct dq_component cc;
    const char *why = "";
    if (!luma_component(d, mw, mh, &cc, &why)) {
        um_evidence_not_applicable(ev, "%s", why);
        return UM_OK;
    }
    if (mw * mh < DQ_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is too small for coefficient statistics");
        return UM_OK;
    }
    const int nf = DQ_NF;
    struct dq_frequency *f = calloc((size_t)nf, sizeof *f);
    if (!f || analyse_luma(in, &cc, f)) {
        free(f);
        return UM_ERR_NOMEM;
    }
    int tested = 0, found = 0;
    for (int i = 0; i < nf; i++) {
        tested += f[i].nonzero >= DQ_MIN_NONZERO;
        found += f[i].q1 != 0;
    }
    if (!tested) {
        free(f);
        um_evidence_not_applicable(ev, "too few non-zero DCT coefficients for histograms (a "
                                       "small, very smooth or very strongly compressed image)");
        return UM_OK;
    }
    if (!found) {
        free(f);
        um_evidence_not_applicable(ev,
                                   "no trace of double JPEG compression: in none of the %d "
                                   "usable frequencies of the luminance do the "
                                   "coefficients follow an earlier quantization better than a "
                                   "single one (a single-compressed image, or an earlier "
                                   "quantization the last one hides)",
                                   tested);
        return UM_OK;
    }
    size_t nb = (size_t)mw * (size_t)mh;
    float *llr = calloc(nb, sizeof *llr), *smooth = malloc(nb * sizeof *smooth);
    float *map = um_evidence_alloc_map(ev, mw, mh, 8);
    if (!llr || !smooth || !map) {
        free(llr);
        free(smooth);
        free(f);
        return UM_ERR_NOMEM;
    }
    block_llr(&cc, f, nf, llr);
    /* Pooling over 5x5 blocks: a pasted object spans several blocks, so the naive Bayes sum of
     * step 5 is extended to the block's neighbours (the box mean times its area). Lin Sec. 4
     * filters the posterior map for the same reason; a plain mean would dilute the weak
     * evidence of a finer primary quantization (a ripple rather than a comb) to nothing. */
    um_box_filter(llr, mw, mh, DQ_POOL_RADIUS, smooth);
    const float pool_area = (float)((2 * DQ_POOL_RADIUS + 1) * (2 * DQ_POOL_RADIUS + 1));
    double alpha = prior_alpha(f, nf);
    float log_prior = (float)log((1 - alpha) / alpha);
    size_t high = 0;
    for (size_t i = 0; i < nb; i++) {
        /* posterior P(tampered | coefficients) = 1 / (1 + exp(-llr - log prior odds)), the
         * evidence less the margin */
        map[i] = 1.0f / (1.0f + expf(-(pool_area * smooth[i] + log_prior - (float)DQ_MARGIN_NATS)));
        high += map[i] > DQ_HIGH;
    }
    free(llr);
    free(smooth);
    double suspicious = (double)high / (double)nb;
    ev->applicable = 1;
    ev->score = image_score(suspicious, found);
    describe(ev, f, nf, tested, found, suspicious);
    add_details(ev, f, nf, alpha, suspicious);
    free(f);
    return UM_OK;
}

const struct um_detector um_detector_dq = {
    .name = "dq",
    .family = "jpeg",
    .summary = "Aligned double JPEG compression: finds regions whose luminance DCT coefficients "
               "lack the traces an earlier quantization on the same grid leaves "
               "(Bianchi & Piva 2012, Lin et al. 2009)",
    .limits = "Needs a JPEG compressed at least twice on the same 8x8 grid with primary steps "
              "that do not divide the last ones; silent when a region was pasted with grid "
              "alignment from a JPEG of the same quality, or on smooth areas.",
    .needs = UM_NEEDS_JPEG,
    .run = dq_run,
};
