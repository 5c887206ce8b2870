/* dq: aligned double-quantization (A-DJPG) probability map.
 *
 * Lin, He, Tang & Tang, "Fast, automatic and fine-grained tampered JPEG image detection via
 * DCT coefficient analysis", Pattern Recognition 42(11), 2009; with the likelihood model of
 * Bianchi & Piva, "Image forgery localization via block-grained analysis of JPEG artifacts",
 * IEEE TIFS 7(3), 2012.
 *
 * A JPEG decompressed and compressed again on the same 8x8 grid carries the first quantization
 * in its coefficient histograms: a coefficient quantized with step q1, then with q2, can only
 * land in the q2-bins x that some multiple k*q1 rounds into, so each histogram becomes a comb
 * with period q1/gcd(q1,q2) bins (Lin et al. Sec. 3.1). A region pasted in from elsewhere
 * (never compressed, or compressed on another grid) was quantized once, by q2 only, and its
 * coefficients fall anywhere. Steps:
 *   1. per low AC frequency of the luminance, the histogram of the quantized coefficients;
 *   2. the primary step q1 that best explains the comb: a likelihood test over candidates
 *      (Bianchi & Piva Sec. III), both laws built from the unquantized distribution estimated
 *      by calibration on a shifted grid, instead of Lin's period search on the raw histogram;
 *      a comb is accepted only with a clear gain and a visible rise after a valley;
 *   3. per coefficient value the likelihood ratio L(x) = p(x | single) / p(x | double);
 *   4. per 8x8 block the product over frequencies (naive Bayes, Lin Sec. 3.3 eq. 9), pooled
 *      over 3x3 blocks, as a posterior probability of tampering. */
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
    DQ_LAST_ZZ = 20,       /* last one: higher frequencies are mostly zero at common qualities */
    DQ_XMAX = 80,          /* histogram of |x| = 1..DQ_XMAX (the distributions are symmetric) */
    DQ_MIN_NONZERO = 100,  /* fewer non-zero coefficients than this: frequency not usable */
    DQ_MIN_BLOCKS = 16     /* smaller images cannot show a histogram */
};
#define DQ_SIGMA 0.7          /* std of the rounding noise a decode/re-encode adds to a DCT
                                 coefficient (pixel rounding, colour conversion), DCT units */
#define DQ_OUTLIER 0.03       /* share of the single-compression law mixed into the double one:
                                 clipped or saturated blocks break the comb */
#define DQ_LLR_CLAMP 4.0      /* bound on one coefficient's log-likelihood ratio */
#define DQ_MIN_GAIN_PER_COEF 0.02 /* nats per non-zero coefficient a comb must add ... */
#define DQ_MIN_GAIN 15.0      /* ... and in total, before a frequency counts as double-quantized */
#define DQ_HIGH 0.5           /* map level counted as "suspicious" for the score */

struct dq_frequency {
    int zz, pos;          /* zig-zag index and natural position */
    int q2;               /* step of the file (secondary quantization) */
    int q1;               /* estimated primary step; 0 when no comb was found */
    long nonzero;         /* non-zero coefficients in the histogram */
    double gain;          /* log-likelihood gain of the comb over a single quantization, nats */
    float llr[DQ_XMAX + 1]; /* log p(x|single)/p(x|double) per |x|; 0 where uninformative */
};

/* Standard normal CDF. */
static double phi(double t)
{
    return 0.5 * erfc(-t / M_SQRT2);
}

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Step 2a, calibration (Bianchi & Piva Sec. IV-A, after Fridrich's calibration): the DCT of
 * the decoded image on a grid shifted by (4,4) pixels no longer sees either quantization
 * lattice, but keeps the shape of the coefficient distribution: an estimate of the
 * unquantized coefficients. One cumulative distribution of |D| per frequency, in fine bins of
 * q2 / DQ_FINE. */
enum { DQ_FINE = 16, DQ_CAL_BINS = DQ_FINE * (DQ_XMAX + 2), DQ_CAL_MAX_BLOCKS = 60000 };

struct dq_calibration {
    double bin;                    /* fine bin width, DCT units */
    double cum[DQ_CAL_BINS + 1];   /* fraction of |D| below i * bin */
    double count;                  /* coefficients behind it */
};

/* C(t): fraction of |D| below t, linear between fine bins. */
static double cal_cdf(const struct dq_calibration *c, double t)
{
    if (t <= 0)
        return 0;
    double u = t / c->bin;
    if (u >= DQ_CAL_BINS)
        return c->cum[DQ_CAL_BINS];
    int i = (int)u;
    return c->cum[i] + (u - i) * (c->cum[i + 1] - c->cum[i]);
}

static int calibrate(const um_image *luma, struct dq_frequency *f, int nf,
                     struct dq_calibration *cal)
{
    int w = luma->width, h = luma->height;
    long sw = (w - 4) / 8, sh = (h - 4) / 8, total = sw * sh;
    if (total <= 0)
        return -1;
    long stride = total / DQ_CAL_MAX_BLOCKS + 1;
    for (int i = 0; i < nf; i++) {
        memset(&cal[i], 0, sizeof cal[i]);
        cal[i].bin = (double)f[i].q2 / DQ_FINE;
    }
    for (long b = 0; b < total; b += stride) {
        long bx = b % sw, by = b / sw;
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

/* Step 2b, the two laws of |x| = 1..DQ_XMAX for a candidate q1 (Bianchi & Piva eq. 3-5):
 *   single(x) = P(|D| rounds to x at step q2);
 *   dbl(x)    = sum_k P(|D| rounds to k at step q1) P(k q1 + noise rounds to x at step q2),
 *               the noise being the rounding a decode / re-encode adds (Gaussian, DQ_SIGMA),
 *               mixed with a little of single(x) for clipped and saturated blocks.
 * Both conditioned on x != 0 (the zero bin, mostly flat blocks, is left out) and smoothed by
 * one calibration sample per bin so that no bin has probability zero. */
static void candidate_laws(const struct dq_calibration *cal, int q1, int q2, double *single,
                           double *dbl)
{
    double floor_mass = 1.0 / (cal->count + 1.0);
    for (int x = 0; x <= DQ_XMAX; x++) {
        single[x] = cal_cdf(cal, (x + 0.5) * q2) - cal_cdf(cal, (x - 0.5) * q2);
        dbl[x] = 0;
    }
    long kmax = (long)(((DQ_XMAX + 0.5) * q2 + 6 * DQ_SIGMA) / q1) + 1;
    for (long k = 0; k <= kmax; k++) {
        double mass = cal_cdf(cal, (k + 0.5) * q1) - cal_cdf(cal, (k - 0.5) * q1);
        if (mass <= 0)
            continue;
        double centre = (double)k * q1;
        int x_lo = (int)floor((centre - 6 * DQ_SIGMA) / q2 + 0.5);
        int x_hi = (int)floor((centre + 6 * DQ_SIGMA) / q2 + 0.5);
        for (int x = x_lo < 1 ? 1 : x_lo; x <= x_hi && x <= DQ_XMAX; x++)
            dbl[x] += mass * (phi(((x + 0.5) * q2 - centre) / DQ_SIGMA) -
                              phi(((x - 0.5) * q2 - centre) / DQ_SIGMA));
    }
    double zs = 0, zd = 0;
    for (int x = 1; x <= DQ_XMAX; x++) {
        single[x] += floor_mass;
        dbl[x] += floor_mass;
        zs += single[x];
        zd += dbl[x];
    }
    for (int x = 1; x <= DQ_XMAX; x++) {
        single[x] /= zs;
        dbl[x] = (1 - DQ_OUTLIER) * dbl[x] / zd + DQ_OUTLIER * single[x];
    }
}

/* The histogram of a singly quantized coefficient decreases with |x|; a comb makes it rise
 * again after a bin the comb leaves poor (Lin Sec. 3.1: peaks after valleys). A model misfit
 * can mistake a steep decay for a hole, so the rise itself must be seen: bins a < b within one
 * period, dbl(a) < dbl(b), and h(b) above h(a) by three standard deviations. */
static int comb_rise_seen(const double *hist, const double *dbl, int q1, int q2, int x99)
{
    int period = q1 / gcd(q1, q2);
    for (int a = 1; a < x99 && a < DQ_XMAX; a++)
        for (int b = a + 1; b <= a + period && b <= x99 && b <= DQ_XMAX; b++)
            if (dbl[a] < dbl[b] && hist[b] - hist[a] > 3.0 * sqrt(hist[a] + hist[b]) + 5.0)
                return 1;
    return 0;
}

/* Log-likelihood gain of the double law over the single one for the observed histogram. */
static double candidate_gain(const double *hist, const double *single, const double *dbl)
{
    double g = 0;
    for (int x = 1; x <= DQ_XMAX; x++)
        if (hist[x] > 0)
            g += hist[x] * log(dbl[x] / single[x]);
    return g;
}

/* Step 1: histogram of |x| over the blocks inside the image (not libjpeg's MCU padding). */
static long frequency_histogram(const um_jpeg_component *c, int pos, int mw, int mh,
                                double hist[DQ_XMAX + 1], int *x99)
{
    memset(hist, 0, sizeof(double) * (DQ_XMAX + 1));
    long nonzero = 0;
    for (int by = 0; by < mh; by++) {
        const int16_t *row = c->coef + (size_t)by * (size_t)c->blocks_w * 64;
        for (int bx = 0; bx < mw; bx++) {
            int v = abs(row[(size_t)bx * 64 + pos]);
            if (v == 0)
                continue;
            nonzero++;
            if (v <= DQ_XMAX)
                hist[v] += 1;
        }
    }
    /* The 99th percentile of |x|: combs are only credible over a range the data covers. */
    double acc = 0, total = 0;
    for (int x = 1; x <= DQ_XMAX; x++)
        total += hist[x];
    *x99 = DQ_XMAX;
    for (int x = 1; x <= DQ_XMAX; x++) {
        acc += hist[x];
        if (acc >= 0.99 * total) {
            *x99 = x;
            break;
        }
    }
    return nonzero;
}

/* Steps 1-3 for one frequency: find q1 and fill the likelihood-ratio table. */
static void analyse_frequency(const um_jpeg_component *c, int mw, int mh,
                              const struct dq_calibration *cal, struct dq_frequency *f)
{
    double hist[DQ_XMAX + 1];
    int x99;
    f->q1 = 0;
    f->gain = 0;
    memset(f->llr, 0, sizeof f->llr);
    f->nonzero = frequency_histogram(c, f->pos, mw, mh, hist, &x99);
    if (f->nonzero < DQ_MIN_NONZERO)
        return;
    /* Candidates: every primary step with at least one comb tooth (besides 0) inside the
     * data; the bins it leaves poor below that tooth are then the evidence. */
    int q1_max = f->q2 * (x99 + 1);
    if (q1_max > 255)
        q1_max = 255;
    double single[DQ_XMAX + 1], dbl[DQ_XMAX + 1];
    int best = 0;
    double best_gain = 0;
    for (int q1 = 2; q1 <= q1_max; q1++) {
        if (q1 == f->q2 || f->q2 % q1 == 0)
            continue; /* q1 dividing q2 leaves no comb: indistinguishable from single */
        candidate_laws(cal, q1, f->q2, single, dbl);
        double g = candidate_gain(hist, single, dbl);
        if (g > best_gain) {
            best_gain = g;
            best = q1;
        }
    }
    f->gain = best_gain;
    if (best)
        candidate_laws(cal, best, f->q2, single, dbl);
    if (!best || best_gain < DQ_MIN_GAIN ||
        best_gain < DQ_MIN_GAIN_PER_COEF * (double)f->nonzero ||
        !comb_rise_seen(hist, dbl, best, f->q2, x99))
        return;
    f->q1 = best;
    /* Step 3: L(x) = p(x | H1 single) / p(x | H0 double); x = 0 and |x| > DQ_XMAX say nothing
     * (the zero bin is dominated by flat blocks under either hypothesis). */
    for (int x = 1; x <= DQ_XMAX; x++) {
        double l = log(single[x] / dbl[x]);
        f->llr[x] = (float)(l > DQ_LLR_CLAMP ? DQ_LLR_CLAMP : (l < -DQ_LLR_CLAMP ? -DQ_LLR_CLAMP : l));
    }
}

/* Step 4: per block the sum of log-likelihood ratios over the double-quantized frequencies
 * (Lin eq. 9: the frequencies are treated as independent). */
static void block_llr(const um_jpeg_component *c, const struct dq_frequency *f, int nf, int mw,
                      int mh, float *out)
{
    for (int by = 0; by < mh; by++)
        for (int bx = 0; bx < mw; bx++) {
            const int16_t *b = c->coef + ((size_t)by * (size_t)c->blocks_w + (size_t)bx) * 64;
            float s = 0;
            for (int i = 0; i < nf; i++) {
                if (!f[i].q1)
                    continue;
                int v = abs(b[f[i].pos]);
                if (v <= DQ_XMAX)
                    s += f[i].llr[v];
            }
            out[(size_t)by * mw + bx] = s;
        }
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
                        double suspicious)
{
    json_t *d = json_object(), *primary = json_object(), *secondary = json_object();
    if (!d || !primary || !secondary) {
        json_decref(d);
        json_decref(primary);
        json_decref(secondary);
        return;
    }
    for (int i = 0; i < nf; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", f[i].zz);
        if (f[i].q1)
            json_object_set_new(primary, key, json_integer(f[i].q1));
        json_object_set_new(secondary, key, json_integer(f[i].q2));
    }
    json_object_set_new(d, "primary_step", primary);
    json_object_set_new(d, "secondary_step", secondary);
    json_object_set_new(d, "suspicious_fraction", json_real(suspicious));
    ev->details = d;
}

static void describe(struct um_evidence *ev, const struct dq_frequency *f, int nf, int tested,
                     int found, double suspicious)
{
    char steps[120] = "";
    size_t len = 0;
    for (int i = 0; i < nf && len + 16 < sizeof steps; i++)
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
        um_evidence_add_finding(ev,
                                "%.1f%% of the image lacks the double-compression pattern the "
                                "rest shows: it was likely pasted in or re-rendered",
                                100.0 * suspicious);
    else
        um_evidence_add_finding(ev, "the double-compression pattern is uniform over the image");
}

/* Image score: the suspicious area, full weight from 3% of the image, damped when it covers
 * most of the image (then the "background" comb is itself doubtful), times the share of the
 * evidence (frequencies with a comb, full weight from 3). */
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

static um_error dq_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *d = in->decoded;
    int mw = (d->width + 7) / 8, mh = (d->height + 7) / 8;
    const uint16_t *qt;
    const char *why;
    const um_jpeg_component *c = um_jpeg_luma(d, mw, mh, &qt, &why);
    if (!c) {
        um_evidence_not_applicable(ev, "%s", why);
        return UM_OK;
    }
    if (mw * mh < DQ_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is too small for coefficient statistics");
        return UM_OK;
    }
    enum { NF = DQ_LAST_ZZ - DQ_FIRST_ZZ + 1 };
    struct dq_frequency f[NF];
    for (int i = 0; i < NF; i++) {
        f[i].zz = DQ_FIRST_ZZ + i;
        f[i].pos = um_zigzag[f[i].zz];
        f[i].q2 = qt[f[i].pos];
    }
    struct dq_calibration *cal = malloc(NF * sizeof *cal);
    if (!cal)
        return UM_ERR_NOMEM;
    if (calibrate(in->luma, f, NF, cal)) {
        free(cal);
        um_evidence_not_applicable(ev, "the image is too small for coefficient statistics");
        return UM_OK;
    }
    int tested = 0, found = 0;
    for (int i = 0; i < NF; i++) {
        analyse_frequency(c, mw, mh, &cal[i], &f[i]);
        tested += f[i].nonzero >= DQ_MIN_NONZERO;
        found += f[i].q1 != 0;
    }
    free(cal);
    if (!tested) {
        um_evidence_not_applicable(ev, "too few non-zero DCT coefficients for histograms (a "
                                       "small, very smooth or very strongly compressed image)");
        return UM_OK;
    }
    if (!found) {
        um_evidence_not_applicable(ev,
                                   "no trace of double JPEG compression: none of the %d usable "
                                   "low frequencies shows the comb-shaped histogram it leaves "
                                   "(a single-compressed image, or a primary quality equal to "
                                   "or finer than the last one)",
                                   tested);
        return UM_OK;
    }
    size_t nb = (size_t)mw * (size_t)mh;
    float *llr = malloc(nb * sizeof *llr), *smooth = malloc(nb * sizeof *smooth);
    float *map = um_evidence_alloc_map(ev, mw, mh, 8);
    if (!llr || !smooth || !map) {
        free(llr);
        free(smooth);
        return UM_ERR_NOMEM;
    }
    block_llr(c, f, NF, mw, mh, llr);
    /* Pooling over 3x3 blocks: a pasted object spans several blocks, so the naive Bayes sum of
     * step 4 is extended to the block's neighbours (the 3x3 box mean times 9). Lin Sec. 4
     * filters the posterior map for the same reason; a plain mean would dilute the weak
     * evidence of a finer primary quantization (a ripple rather than a comb) to nothing. */
    um_box_filter(llr, mw, mh, 1, smooth);
    size_t high = 0;
    for (size_t i = 0; i < nb; i++) {
        /* posterior P(tampered) = 1 / (1 + exp(-llr)) with equal priors; the map keeps only
         * evidence FOR tampering: 2 P - 1 = tanh(llr / 2), floored at 0. */
        float p = tanhf(0.5f * 9.0f * smooth[i]);
        map[i] = p > 0 ? p : 0;
        high += map[i] > DQ_HIGH;
    }
    free(llr);
    free(smooth);
    double suspicious = (double)high / (double)nb;
    ev->applicable = 1;
    ev->score = image_score(suspicious, found);
    describe(ev, f, NF, tested, found, suspicious);
    add_details(ev, f, NF, suspicious);
    return UM_OK;
}

const struct um_detector um_detector_dq = {
    .name = "dq",
    .family = "jpeg",
    .summary = "aligned double JPEG compression: finds regions whose DCT coefficients lack the "
               "comb-shaped histograms left by an earlier compression (Lin et al. 2009)",
    .limits = "Needs a JPEG compressed at least twice on the same 8x8 grid with a coarser first "
              "quality; silent when the first quality was finer, when a region was pasted with "
              "grid alignment from a JPEG of the same quality, or on smooth areas.",
    .needs = UM_NEEDS_JPEG,
    .run = dq_run,
};
