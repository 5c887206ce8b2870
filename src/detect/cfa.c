/* cfa: regions without the camera's demosaicing (colour filter array) trace.
 *
 * P. Ferrara, T. Bianchi, A. De Rosa & A. Piva, "Image forgery localization via fine-grained
 * analysis of CFA artifacts", IEEE TIFS 7(5), 2012, 1566-1577.
 *
 * A camera with a Bayer filter measures green at half of the pixels (a quincunx) and
 * interpolates the other half from their neighbours. A simple interpolator predicts the
 * interpolated samples much better than the acquired ones, so the prediction error varies less
 * at interpolated positions. Resampling, retouching or a piece pasted from another image removes
 * that contrast locally. Steps, in the paper's order:
 *   1. prediction error of the green channel with the bilinear kernel (Sec. III-A, eq. 1-2):
 *      e(x,y) = G(x,y) - (G(x-1,y) + G(x+1,y) + G(x,y-1) + G(x,y+1)) / 4, at every pixel;
 *   2. local weighted variance of e over a (2K+1)^2 Gaussian window restricted to the pixels of
 *      the same lattice as the centre (Sec. III-B, eq. 4-5): weights alpha_ij proportional to
 *      a Gaussian of std 1 where i+j is even, zero elsewhere, summing to 1;
 *      sigma^2 = (sum alpha e^2 - (sum alpha e)^2) / c with c = 1 - sum alpha^2;
 *   3. per 2x2 cell, the feature L = log(GM_A / GM_I), the log ratio of the geometric means of
 *      sigma^2 at the two acquired and the two interpolated green positions (Sec. III-C, eq. 8);
 *   4. a two-Gaussian mixture over all cells fitted by EM (Sec. IV, eq. 12-15): cells with the
 *      trace ~ N(mu1, sigma1^2), cells without it ~ N(0, sigma2^2) (mean fixed at zero);
 *   5. the per-cell log-likelihood ratio of "no trace" vs "trace", cumulated over a
 *      neighbourhood of cells (Sec. V, the paper's N_s x N_s cumulation), as a posterior
 *      probability with equal priors (eq. 16-17): the map.
 * Additions of this file, not the paper's (which assumes a known Bayer layout and an image that
 * has the trace):
 *   - the green lattice (which diagonal of the 2x2 cell is acquired) is found from the image:
 *     the one whose median L over the textured cells is positive;
 *   - applicability: that median, |median L|, is the global strength of the CFA periodicity. An
 *     image without the trace (resized, strongly compressed, never demosaiced) has a median near
 *     0; below CFA_MIN_CONTRAST the detector says it cannot judge instead of flagging everything;
 *   - cells whose prediction error barely varies (flat, clipped) carry no trace either way and
 *     are left out (they are not evidence of tampering);
 *   - sigma2 (the spread of L without a trace) starts from the image's own null statistic: the
 *     same log ratio between the two ROWS of each cell, which mixes one acquired and one
 *     interpolated sample on each side and so has no CFA contrast by construction;
 *   - the likelihood ratio is made non-increasing in L (see cell_llr), so that "more trace than
 *     typical" is never evidence of its absence (the two-Gaussian ratio is quadratic and would
 *     otherwise flag a far tail), while a reversed lattice (L < 0, a piece from another camera
 *     or shifted by one pixel) counts as lacking the image's trace;
 *   - the cumulated evidence is divided by CFA_DEPENDENCE because neighbouring cells share
 *     most of their variance windows (the paper's sum assumes independent cells).
 * There is no false-alarm rate: the score is the size of the largest region without the trace.
 *
 * Speed: the masked Gaussian window is a sum of two separable filters (the checkerboard mask is
 * (1 + (-1)^i (-1)^j) / 2), so step 2 costs four 7-tap passes per plane; bands of rows are
 * independent tasks (parallel when the detector runs alone). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/regions.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    CFA_K = 3,                 /* window half size: (2K+1)^2 = 7x7 (paper's K) */
    CFA_TAPS = 2 * CFA_K + 1,
    CFA_BAND_ROWS = 64,        /* even, fixed: results do not depend on the thread count */
    CFA_BLOCK = 8,             /* map cells: 8x8 pixels = 4x4 CFA cells */
    CFA_WINDOW_BLOCKS = 2,     /* evidence cumulated over (2*2+1)^2 blocks = 40x40 pixels */
    CFA_MIN_SIDE = 32,         /* and at least CFA_MIN_CELLS cells (64x64 pixels) */
    CFA_MIN_CELLS = 1024,      /* textured 2x2 cells needed to judge the image at all */
    CFA_MIN_TEXTURED_BLOCKS = 16,
    CFA_EM_SAMPLE = 16384,     /* cells used for the medians and the EM fit (an even sample) */
    CFA_EM_ITERATIONS = 100
};
#define CFA_WINDOW_STD 1.0f    /* std of the Gaussian window, pixels */
#define CFA_VAR_FLOOR (1.0f / 12.0f) /* the variance of 8-bit rounding: smaller local variances
                                        are not measured, only rounded */
#define CFA_MIN_VAR 1.0f       /* a cell is judged when one of its diagonals has a (geometric
                                  mean) error variance of at least 1 grey level^2 */
/* The global test on |median L| (figures from tests/test_cfa.c and from real images): images
 * without a CFA trace measure 0.00-0.06 when synthetic (never demosaiced; demosaiced then
 * resized by 0.5, 0.9 or 1.25, or saved as JPEG q75) and 0.00-0.08 on 1811 real ones (CASIA v1
 * authentic and tampered JPEGs, 99% below 0.04; CoMoFoD PNGs, below 0.02), all of them
 * downscaled or compressed. Bilinearly demosaiced images measure 4.1, with a gradient-corrected
 * (Malvar-He-Cutler) green 0.78-0.83, and the bilinear ones after a JPEG at q95 0.26-0.28.
 * From CFA_TRACE_CONTRAST (about twice the largest value without a trace) a trace is present;
 * below CFA_MIN_CONTRAST it is too weak to localise with (the q95 images' clean maps flag ~20%
 * of the image, while the gradient-corrected images' stay at 0). */
#define CFA_TRACE_CONTRAST 0.15
#define CFA_MIN_CONTRAST 0.4
#define CFA_DEPENDENCE 8.0f    /* cells per independent observation in the cumulated evidence */
#define CFA_LEVEL 0.5f         /* map level of a region without the trace */
#define CFA_SCORE_MIN_FRACTION 0.003 /* region sizes (fraction of the image) mapped to score 0.. */
#define CFA_SCORE_FULL_FRACTION 0.03 /* ..1 */

/* Step 2's window: 1-D Gaussian taps g and their alternating-sign version gs = g(i) (-1)^i. The
 * masked 2-D window is alpha_ij = (g_i g_j + gs_i gs_j) / (2 Z) with Z its unmasked sum. */
_Static_assert(CFA_K == 3, "horizontal() and vertical() fold a 7-tap window");

struct cfa_window {
    float g[CFA_TAPS], gs[CFA_TAPS];
    float norm; /* 1 / (2 Z) */
    float c;    /* 1 - sum alpha^2 (eq. 5's bias correction) */
};

static void window_init(struct cfa_window *win)
{
    double sg = 0, sgs = 0, q = 0, qs = 0;
    for (int i = -CFA_K; i <= CFA_K; i++) {
        double g = exp(-(double)(i * i) / (2.0 * CFA_WINDOW_STD * CFA_WINDOW_STD));
        double s = (i & 1) ? -1.0 : 1.0;
        win->g[i + CFA_K] = (float)g;
        win->gs[i + CFA_K] = (float)(g * s);
        sg += g;
        sgs += g * s;
        q += g * g;
        qs += g * g * s;
    }
    double z = (sg * sg + sgs * sgs) / 2.0;       /* sum over i+j even of g_i g_j */
    double sum_sq = (q * q + qs * qs) / 2.0 / (z * z); /* sum alpha^2 */
    win->norm = (float)(1.0 / (2.0 * z));
    win->c = (float)(1.0 - sum_sq);
}

/* Mirror an index into 0..n-1 without repeating the edge (-1 -> 1): the Bayer lattice keeps its
 * parity across the border. Needs n >= 2 and i in (-n, 2n). */
static int reflect(int i, int n)
{
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * n - 2 - i;
    return i;
}

struct cfa_job {
    const float *green;
    int w, h;
    int cw, ch;             /* 2x2 cells */
    struct cfa_window win;
    float *l_diag;          /* per cell: log GM(main diagonal) / GM(anti-diagonal), NAN if the
                               cell is not judged */
    float *l_rows;          /* per cell: the same between its two rows (the null statistic) */
    atomic_int failed;
};

/* Step 1 for one row, written with CFA_K mirrored samples on each side. */
static void error_row(const struct cfa_job *job, int y, float *out)
{
    const float *g = job->green;
    int w = job->w, h = job->h;
    const float *row = g + (size_t)y * w;
    const float *up = g + (size_t)reflect(y - 1, h) * w;
    const float *down = g + (size_t)reflect(y + 1, h) * w;
    float *e = out + CFA_K;
    e[0] = row[0] - 0.25f * (2.0f * row[1] + up[0] + down[0]);
    for (int x = 1; x < w - 1; x++)
        e[x] = row[x] - 0.25f * (row[x - 1] + row[x + 1] + up[x] + down[x]);
    e[w - 1] = row[w - 1] - 0.25f * (2.0f * row[w - 2] + up[w - 1] + down[w - 1]);
    for (int k = 1; k <= CFA_K; k++) {
        e[-k] = e[reflect(-k, w)];
        e[w - 1 + k] = e[reflect(w - 1 + k, w)];
    }
}

/* Horizontal passes of both separable parts over a padded row. g and gs are symmetric and
 * differ only in the sign of the odd taps, so with the folded sums f_k = p(x-k) + p(x+k):
 * g * p = (g0 p + g2 f2) + (g1 f1 + g3 f3) and gs * p = (g0 p + g2 f2) - (g1 f1 + g3 f3). */
static void horizontal(const struct cfa_window *win, const float *padded, int w, float *hg,
                       float *hgs)
{
    const float g0 = win->g[CFA_K], g1 = win->g[CFA_K + 1], g2 = win->g[CFA_K + 2],
                g3 = win->g[CFA_K + 3];
    const float *p = padded + CFA_K;
    for (int x = 0; x < w; x++) {
        float even = g0 * p[x] + g2 * (p[x - 2] + p[x + 2]);
        float odd = g1 * (p[x - 1] + p[x + 1]) + g3 * (p[x - 3] + p[x + 3]);
        hg[x] = even + odd;
        hgs[x] = even - odd;
    }
}

/* The vertical passes at one row of both parts, summed: rows[k] is the horizontal pass of row
 * r - K + k. out = sum_k g_k a_k + gs_k b_k, folded as in horizontal(). */
static void vertical(const struct cfa_window *win, const float *a[CFA_TAPS],
                     const float *b[CFA_TAPS], int w, float *out)
{
    const float g0 = win->g[CFA_K], g1 = win->g[CFA_K + 1], g2 = win->g[CFA_K + 2],
                g3 = win->g[CFA_K + 3], norm = win->norm;
    for (int x = 0; x < w; x++) {
        float even = g0 * (a[3][x] + b[3][x]) + g2 * (a[1][x] + a[5][x] + b[1][x] + b[5][x]);
        float odd = g1 * (a[2][x] + a[4][x] - b[2][x] - b[4][x]) +
                    g3 * (a[0][x] + a[6][x] - b[0][x] - b[6][x]);
        out[x] = (even + odd) * norm;
    }
}

/* Buffers of one band: CFA_K halo rows above and below. */
struct cfa_band {
    float *pad;             /* one padded row of e or e^2 */
    float *hg_e, *hgs_e, *hg_q, *hgs_q; /* (rows + 2K) x w horizontal passes of e and q = e^2 */
    float *var;             /* rows x w local variances */
    float *mean;            /* one row of local means */
};

static void band_free(struct cfa_band *b)
{
    free(b->pad);
    free(b->hg_e);
    free(b->hgs_e);
    free(b->hg_q);
    free(b->hgs_q);
    free(b->var);
    free(b->mean);
}

static int band_alloc(struct cfa_band *b, int w, int rows)
{
    size_t n = (size_t)(rows + 2 * CFA_K) * w;
    b->pad = malloc((size_t)(w + 2 * CFA_K) * sizeof(float));
    b->hg_e = malloc(n * sizeof(float));
    b->hgs_e = malloc(n * sizeof(float));
    b->hg_q = malloc(n * sizeof(float));
    b->hgs_q = malloc(n * sizeof(float));
    b->var = malloc((size_t)rows * w * sizeof(float));
    b->mean = malloc((size_t)w * sizeof(float));
    if (b->pad && b->hg_e && b->hgs_e && b->hg_q && b->hgs_q && b->var && b->mean)
        return 0;
    band_free(b);
    return -1;
}

/* Step 2 for output rows y0..y0+rows-1: sigma^2 into b->var. */
static void local_variance(const struct cfa_job *job, struct cfa_band *b, int y0, int rows)
{
    int w = job->w;
    const struct cfa_window *win = &job->win;
    const float inv_c = 1.0f / win->c;
    for (int r = 0; r < rows + 2 * CFA_K; r++) {
        int y = reflect(y0 - CFA_K + r, job->h);
        error_row(job, y, b->pad);
        size_t o = (size_t)r * w;
        horizontal(win, b->pad, w, b->hg_e + o, b->hgs_e + o);
        for (int x = 0; x < w + 2 * CFA_K; x++)
            b->pad[x] *= b->pad[x];
        horizontal(win, b->pad, w, b->hg_q + o, b->hgs_q + o);
    }
    for (int r = 0; r < rows; r++) {
        const float *he[CFA_TAPS], *hse[CFA_TAPS], *hq[CFA_TAPS], *hsq[CFA_TAPS];
        for (int k = 0; k < CFA_TAPS; k++) {
            size_t o = (size_t)(r + k) * w;
            he[k] = b->hg_e + o;
            hse[k] = b->hgs_e + o;
            hq[k] = b->hg_q + o;
            hsq[k] = b->hgs_q + o;
        }
        float *v = b->var + (size_t)r * w;
        vertical(win, he, hse, w, b->mean);
        vertical(win, hq, hsq, w, v);
        for (int x = 0; x < w; x++) {
            float s2 = (v[x] - b->mean[x] * b->mean[x]) * inv_c;
            v[x] = s2 > CFA_VAR_FLOOR ? s2 : CFA_VAR_FLOOR;
        }
    }
}

/* Step 3 for the cells of a band. The 2x2 cell at (2cx, 2cy) has variances a (0,0), b (1,0),
 * c (0,1), d (1,1); the main diagonal is {a, d}, the anti-diagonal {b, c}. Which one holds the
 * acquired greens is decided later for the whole image. */
static void cell_features(struct cfa_job *job, const float *var, int y0, int rows)
{
    int w = job->w;
    for (int cy = y0 / 2; cy < (y0 + rows) / 2 && cy < job->ch; cy++) {
        const float *r0 = var + (size_t)(2 * cy - y0) * w, *r1 = r0 + w;
        float *ld = job->l_diag + (size_t)cy * job->cw, *lr = job->l_rows + (size_t)cy * job->cw;
        for (int cx = 0; cx < job->cw; cx++) {
            float a = r0[2 * cx], b = r0[2 * cx + 1], c = r1[2 * cx], d = r1[2 * cx + 1];
            float main_diag = a * d, anti_diag = b * c;
            float larger = main_diag > anti_diag ? main_diag : anti_diag;
            if (!(larger >= CFA_MIN_VAR * CFA_MIN_VAR)) {
                ld[cx] = NAN;
                lr[cx] = NAN;
                continue;
            }
            /* log of the ratio of geometric means of two samples = half the log ratio of the
             * products (eq. 8 with |A| = |I| = 2). */
            ld[cx] = 0.5f * logf(main_diag / anti_diag);
            lr[cx] = 0.5f * logf((a * b) / (c * d));
        }
    }
}

static void cfa_band_task(void *ctx, int index)
{
    struct cfa_job *job = ctx;
    int y0 = index * CFA_BAND_ROWS;
    int rows = job->h - y0 < CFA_BAND_ROWS ? job->h - y0 : CFA_BAND_ROWS;
    struct cfa_band b;
    if (band_alloc(&b, job->w, rows)) {
        atomic_store(&job->failed, 1);
        return;
    }
    local_variance(job, &b, y0, rows);
    cell_features(job, b.var, y0, rows);
    band_free(&b);
}

/* An even sample of the judged cells' values: every stride-th judged cell, so that at most
 * CFA_EM_SAMPLE of them are kept however few are judged. Returns the sample's size. */
static size_t judged_sample(const float *l, size_t n, size_t judged, float *out)
{
    size_t stride = judged / CFA_EM_SAMPLE + 1, seen = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(l[i]) && seen++ % stride == 0)
            out[k++] = l[i];
    return k;
}

static double robust_std(const float *v, size_t n, float *scratch)
{
    double med = um_median(v, n);
    for (size_t i = 0; i < n; i++)
        scratch[i] = fabsf(v[i] - (float)med);
    return 1.4826 * um_median(scratch, n);
}

/* Step 4: the mixture pi N(mu1, s1^2) + (1 - pi) N(0, s2^2) by EM (eq. 12-15). */
struct cfa_mixture {
    double mu1, s1, s2, pi; /* pi: weight of the cells with the trace */
};

static double normal_pdf(double x, double mu, double s)
{
    double z = (x - mu) / s;
    return exp(-0.5 * z * z) / s;
}

static void fit_mixture(const float *l, size_t n, struct cfa_mixture *m)
{
    const double min_std = 0.05; /* keeps a component from collapsing onto a few equal values */
    for (int it = 0; it < CFA_EM_ITERATIONS; it++) {
        double r1 = 0, r2 = 0, s1x = 0, s1xx = 0, s2xx = 0;
        for (size_t i = 0; i < n; i++) {
            double x = l[i];
            double p1 = m->pi * normal_pdf(x, m->mu1, m->s1);
            double p2 = (1 - m->pi) * normal_pdf(x, 0, m->s2);
            double t = p1 + p2 > 1e-300 ? p1 / (p1 + p2) : (x > m->mu1 / 2 ? 1 : 0);
            r1 += t;
            r2 += 1 - t;
            s1x += t * x;
            s1xx += t * x * x;
            s2xx += (1 - t) * x * x;
        }
        if (r1 < 1 || r2 < 1)
            break; /* one component is empty: keep the last estimates */
        double mu1 = s1x / r1;
        double s1 = sqrt(fmax(s1xx / r1 - mu1 * mu1, 0)), s2 = sqrt(s2xx / r2);
        double pi = r1 / (r1 + r2);
        double change = fabs(mu1 - m->mu1) + fabs(s1 - m->s1) + fabs(s2 - m->s2) +
                        fabs(pi - m->pi);
        m->mu1 = mu1;
        m->s1 = fmax(s1, min_std);
        m->s2 = fmax(s2, min_std);
        m->pi = pi;
        if (change < 1e-5)
            break;
    }
}

/* Step 5, one cell: log p(L | no trace) - log p(L | trace), made non-increasing in L. The
 * ratio of two Gaussians of unequal spread is quadratic in L: it turns at
 * L* = mu1 s2^2 / (s2^2 - s1^2), beyond which it would call a cell with MORE trace than
 * typical tampered (s2 > s1, L* > mu1) or a cell far on the wrong side of zero authentic
 * (s1 > s2, L* < 0). L is held at L* past that turn. */
struct cfa_llr {
    float lo, hi;          /* L is clamped to [lo, hi] */
    float mu1, inv_s1, inv_s2, log_ratio;
};

static void llr_init(const struct cfa_mixture *m, struct cfa_llr *r)
{
    double v1 = m->s1 * m->s1, v2 = m->s2 * m->s2;
    r->lo = -INFINITY;
    r->hi = INFINITY;
    if (v2 > v1)
        r->hi = (float)(m->mu1 * v2 / (v2 - v1));
    else if (v2 < v1)
        r->lo = (float)(m->mu1 * v2 / (v2 - v1));
    r->mu1 = (float)m->mu1;
    r->inv_s1 = (float)(1.0 / m->s1);
    r->inv_s2 = (float)(1.0 / m->s2);
    r->log_ratio = (float)log(m->s1 / m->s2);
}

static float cell_llr(float l, const struct cfa_llr *r)
{
    float x = l < r->lo ? r->lo : (l > r->hi ? r->hi : l);
    float z2 = x * r->inv_s2, z1 = (x - r->mu1) * r->inv_s1;
    return r->log_ratio - 0.5f * z2 * z2 + 0.5f * z1 * z1;
}

struct cfa_map_job {
    const struct cfa_job *job;
    struct cfa_llr llr;
    float sign;            /* L = sign * (main-diagonal statistic) */
    int mw;
    float *sum, *count;    /* per map block: summed ratios, judged cells */
};

/* Step 5a for one row of map blocks (CFA_BLOCK / 2 rows of cells). */
static void block_row_task(void *ctx, int by)
{
    struct cfa_map_job *mj = ctx;
    const struct cfa_job *job = mj->job;
    const int cells_per_block = CFA_BLOCK / 2;
    float *sum = mj->sum + (size_t)by * mj->mw, *count = mj->count + (size_t)by * mj->mw;
    for (int cy = by * cells_per_block; cy < (by + 1) * cells_per_block && cy < job->ch; cy++) {
        const float *l = job->l_diag + (size_t)cy * job->cw;
        for (int cx = 0; cx < job->cw; cx++) {
            if (isnan(l[cx]))
                continue;
            sum[cx / cells_per_block] += cell_llr(mj->sign * l[cx], &mj->llr);
            count[cx / cells_per_block] += 1;
        }
    }
}

/* Step 5: per map block the sum of the cells' ratios and the count of judged cells, both
 * cumulated over the window, then the posterior of "no trace" with equal priors. */
static int evidence_map(const struct cfa_job *job, const struct cfa_mixture *m, float sign,
                        float *map, int mw, int mh)
{
    size_t nb = (size_t)mw * mh;
    struct cfa_map_job mj = {.job = job, .sign = sign, .mw = mw};
    llr_init(m, &mj.llr);
    mj.sum = calloc(nb, sizeof(float));
    mj.count = calloc(nb, sizeof(float));
    float *sum_w = malloc(nb * sizeof *sum_w), *count_w = malloc(nb * sizeof *count_w);
    int rc = -1;
    if (!mj.sum || !mj.count || !sum_w || !count_w)
        goto done;
    um_parallel_for(mh, block_row_task, &mj, 0);
    um_box_filter(mj.sum, mw, mh, CFA_WINDOW_BLOCKS, sum_w);
    um_box_filter(mj.count, mw, mh, CFA_WINDOW_BLOCKS, count_w);
    const float area = (float)((2 * CFA_WINDOW_BLOCKS + 1) * (2 * CFA_WINDOW_BLOCKS + 1));
    for (size_t b = 0; b < nb; b++) {
        /* The box filter gives window means: times the window's area, the window's summed
         * ratio; over CFA_DEPENDENCE, per independent observation. Unjudged cells add 0. */
        if (count_w[b] <= 0) {
            map[b] = 0;
            continue;
        }
        float evidence = sum_w[b] * area / CFA_DEPENDENCE;
        evidence = evidence > 60 ? 60 : (evidence < -60 ? -60 : evidence);
        map[b] = 1.0f / (1.0f + expf(-evidence));
    }
    rc = 0;
done:
    free(mj.sum);
    free(mj.count);
    free(sum_w);
    free(count_w);
    return rc;
}

struct cfa_global {
    size_t judged;       /* textured cells */
    double median_diag;  /* median of the main-vs-anti-diagonal L over them */
    double null_std;     /* robust spread of the row statistic */
    double agreement;    /* fraction of judged cells whose L has the image's sign */
};

/* The global CFA test and the lattice (additions of this file, see the header). */
static int global_statistics(const struct cfa_job *job, struct cfa_global *g, float **sample,
                             size_t *nsample)
{
    size_t n = (size_t)job->cw * job->ch;
    g->judged = 0;
    for (size_t i = 0; i < n; i++)
        g->judged += !isnan(job->l_diag[i]);
    float *s = malloc((size_t)(CFA_EM_SAMPLE + 1) * sizeof *s);
    float *scratch = malloc((size_t)(CFA_EM_SAMPLE + 1) * sizeof *scratch);
    if (!s || !scratch) {
        free(s);
        free(scratch);
        return -1;
    }
    size_t k = judged_sample(job->l_rows, n, g->judged, s);
    g->null_std = k ? robust_std(s, k, scratch) : 0;
    k = judged_sample(job->l_diag, n, g->judged, s);
    g->median_diag = um_median(s, k);
    size_t agree = 0;
    for (size_t i = 0; i < k; i++)
        agree += g->median_diag >= 0 ? s[i] > 0 : s[i] < 0;
    g->agreement = k ? (double)agree / (double)k : 0;
    free(scratch);
    *sample = s;
    *nsample = k;
    return 0;
}

static void add_details(struct um_evidence *ev, const struct cfa_job *job,
                        const struct cfa_global *g, const struct cfa_mixture *m,
                        const struct um_region *r)
{
    json_t *d = json_object();
    if (!d)
        return;
    json_object_set_new(d, "green_lattice",
                        json_string(g->median_diag >= 0 ? "main-diagonal" : "anti-diagonal"));
    json_object_set_new(d, "cfa_contrast", um_json_number(fabs(g->median_diag)));
    json_object_set_new(d, "cfa_contrast_min", um_json_number(CFA_MIN_CONTRAST));
    json_object_set_new(d, "sign_agreement", um_json_number(g->agreement));
    json_object_set_new(d, "null_std", um_json_number(g->null_std));
    json_object_set_new(d, "judged_fraction",
                        um_json_number((double)g->judged / ((double)job->cw * job->ch)));
    if (m) {
        json_object_set_new(d, "mu1", um_json_number(m->mu1));
        json_object_set_new(d, "sigma1", um_json_number(m->s1));
        json_object_set_new(d, "sigma2", um_json_number(m->s2));
        json_object_set_new(d, "trace_weight", um_json_number(m->pi));
    }
    if (r && r->cells) {
        json_t *jr = json_object();
        json_object_set_new(jr, "x", json_integer(r->x0 * CFA_BLOCK));
        json_object_set_new(jr, "y", json_integer(r->y0 * CFA_BLOCK));
        json_object_set_new(jr, "w", json_integer((r->x1 - r->x0 + 1) * CFA_BLOCK));
        json_object_set_new(jr, "h", json_integer((r->y1 - r->y0 + 1) * CFA_BLOCK));
        json_object_set_new(d, "region", jr);
    }
    ev->details = d;
}

/* Checks before any work: size, colour, texture. Returns 1 when the image can be judged. */
static int can_judge(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *dec = in->decoded;
    if (dec->width < CFA_MIN_SIDE || dec->height < CFA_MIN_SIDE || !dec->rgb ||
        dec->rgb->channels < 3 || (dec->width / 2) * (dec->height / 2) < CFA_MIN_CELLS) {
        um_evidence_not_applicable(ev, "the image is too small for a demosaicing trace");
        return 0;
    }
    if (dec->source_channels < 3) {
        um_evidence_not_applicable(ev, "a grey-scale image carries no colour-filter "
                                       "(demosaicing) trace");
        return 0;
    }
    if (um_textured_blocks(in->luma) < CFA_MIN_TEXTURED_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: fewer than %d textured "
                                       "8x8 blocks to look for a demosaicing trace",
                                   CFA_MIN_TEXTURED_BLOCKS);
        return 0;
    }
    return 1;
}

static void describe(struct um_evidence *ev, double fraction)
{
    if (ev->score > 0)
        um_evidence_add_headline(ev,
                                 "A region of %.1f%% of the image lacks the colour-filter "
                                 "pattern the camera left everywhere else: it may have been "
                                 "pasted in, retouched or resized.",
                                 100.0 * fraction);
    else
        um_evidence_add_finding(ev, "The camera's colour-filter (demosaicing) pattern is present "
                                    "throughout the image: no region lacks it.");
}

static um_error cfa_run(const struct um_input *in, struct um_evidence *ev)
{
    if (!can_judge(in, ev))
        return UM_OK;
    const um_decoded *dec = in->decoded;
    struct cfa_job job = {.green = um_image_plane(dec->rgb, 1), .w = dec->width,
                          .h = dec->height, .cw = dec->width / 2, .ch = dec->height / 2};
    window_init(&job.win);
    atomic_init(&job.failed, 0);
    size_t ncells = (size_t)job.cw * job.ch;
    job.l_diag = malloc(ncells * sizeof(float));
    job.l_rows = malloc(ncells * sizeof(float));
    float *sample = NULL;
    um_error err = UM_ERR_NOMEM;
    if (!job.l_diag || !job.l_rows)
        goto done;
    um_parallel_for((job.h + CFA_BAND_ROWS - 1) / CFA_BAND_ROWS, cfa_band_task, &job, 0);
    if (atomic_load(&job.failed))
        goto done;
    struct cfa_global g;
    size_t nsample;
    if (global_statistics(&job, &g, &sample, &nsample))
        goto done;
    err = UM_OK;
    if (g.judged < CFA_MIN_CELLS) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: too few textured pixels "
                                       "to look for a demosaicing trace");
        goto done;
    }
    if (fabs(g.median_diag) < CFA_TRACE_CONTRAST) {
        um_evidence_not_applicable(ev,
                                   "no demosaicing (colour-filter) trace: the image was resized, "
                                   "compressed too strongly or never came straight from a "
                                   "camera (contrast %.2f, needs %.2f)",
                                   fabs(g.median_diag), CFA_MIN_CONTRAST);
        add_details(ev, &job, &g, NULL, NULL);
        goto done;
    }
    if (fabs(g.median_diag) < CFA_MIN_CONTRAST) {
        um_evidence_not_applicable(ev,
                                   "the demosaicing (colour-filter) trace is too weak to locate "
                                   "a region without it, probably after JPEG compression "
                                   "(contrast %.2f, needs %.2f)",
                                   fabs(g.median_diag), CFA_MIN_CONTRAST);
        add_details(ev, &job, &g, NULL, NULL);
        goto done;
    }
    /* L > 0 where the trace is, on the lattice the image shows. */
    float sign = g.median_diag >= 0 ? 1.0f : -1.0f;
    for (size_t i = 0; i < nsample; i++)
        sample[i] *= sign;
    struct cfa_mixture m = {fabs(g.median_diag), g.null_std, g.null_std, 0.9};
    m.s1 = m.s1 > 0.05 ? m.s1 : 0.05;
    m.s2 = m.s2 > 0.05 ? m.s2 : 0.05;
    fit_mixture(sample, nsample, &m);
    int mw = (job.w + CFA_BLOCK - 1) / CFA_BLOCK, mh = (job.h + CFA_BLOCK - 1) / CFA_BLOCK;
    float *map = um_evidence_alloc_map(ev, mw, mh, CFA_BLOCK);
    struct um_region r;
    if (!map || evidence_map(&job, &m, sign, map, mw, mh) ||
        um_largest_region(map, mw, mh, CFA_LEVEL, 0, &r)) {
        err = UM_ERR_NOMEM;
        goto done;
    }
    ev->applicable = 1;
    double fraction = (double)r.cells / ((double)mw * mh);
    double score = (fraction - CFA_SCORE_MIN_FRACTION) /
                   (CFA_SCORE_FULL_FRACTION - CFA_SCORE_MIN_FRACTION);
    ev->score = score < 0 ? 0 : (score > 1 ? 1 : score);
    describe(ev, fraction);
    add_details(ev, &job, &g, &m, &r);
done:
    free(sample);
    free(job.l_diag);
    free(job.l_rows);
    return err;
}

const struct um_detector um_detector_cfa = {
    .name = "cfa",
    .family = "cfa",
    .summary = "Demosaicing trace: regions where the camera's colour-filter-array pattern is "
               "missing (Ferrara et al. 2012)",
    .limits = "Needs an image that still carries the camera's demosaicing pattern: not applicable "
              "to resized, strongly compressed or screenshot images; smooth and clipped areas are "
              "not judged.",
    .needs = 0,
    .run = cfa_run,
};
