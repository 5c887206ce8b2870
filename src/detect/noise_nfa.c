/* noise-nfa: Noisesniffer, regions whose noise is lower than the rest of the image.
 *
 * M. Gardella, P. Musé, J.-M. Morel, M. Colom, "Noisesniffer: a fully automatic image forgery
 * detector based on noise analysis", IWBF 2021; and "Image forgery detection based on noise
 * inspection: analysis and refinement of the Noisesniffer method", IPOL 14 (2024), pp. 86-115,
 * which adds the region growing used here. Algorithm numbers below are the IPOL article's.
 *
 * A camera's noise depends on the intensity; in the most homogeneous blocks of an image, what
 * variance is left is noise. Among blocks of the same intensity, the ones of lowest variance
 * should then be spread over the image like the homogeneous blocks they are drawn from. A region
 * pasted from another photo (or denoised, or painted) whose noise is LOWER holds more of them
 * than chance allows, and an a-contrario binomial test says how unlikely that is.
 *   1. w x w blocks (w = 3) that touch no saturated pixel (Alg. 1): a pixel at the minimum or
 *      the maximum of any channel is clipped and its noise is not the camera's;
 *   2. blocks sorted by their mean and cut into bins of b blocks (Alg. 2-5);
 *   3. in each bin, L = the fraction n of blocks of least low- and medium-frequency DCT energy
 *      (0 < u + v < T, Alg. 6-8): the most homogeneous blocks; a bin where m n b of them are
 *      perfectly flat is dropped (Alg. 9); S = the fraction m of L with the lowest variance
 *      (Alg. 10);
 *   4. over a tessellation in W x W cells, N = blocks of L and K = blocks of S per cell. With no
 *      forgery a block of L is in S with probability m wherever it is: K ~ Binomial(N, m);
 *   5. region growing (the IPOL refinement): every cell with K / N > m seeds a region, which takes a
 *      4-neighbour cell whenever that lowers its binomial tail by more than the growth of the
 *      number of candidate regions (tail / |R| > 4 tail' / (|R| + 1)); the region is a detection
 *      when NFA = N_tests * P[Binomial(N_R, m) >= K_R] < 1, with the reference's count of tests
 *      N_tests = 1/2 w^2 C^2 P(|R|), C cells and P(R) = 0.316915 / R * 4.062570^R the number of
 *      polyominoes of R cells (Jensen's asymptotic estimate).
 * Deviations from the reference:
 *   - the blocks are the disjoint w x w blocks of a grid, not all overlapping positions (for
 *     speed). The reference divides its counts by w^2 because overlapping blocks are not
 *     independent; disjoint blocks are (nearly) independent samples already, so the counts
 *     enter the binomial as they are, and b (20000 overlapping positions in the reference)
 *     becomes 20000 / w^2 blocks, the same image area per bin;
 *   - the noise is read on the brightness, not on each colour channel (see noise_nfa_run);
 *   - the map is not only the detection mask: each cell holds 1 / (1 + NFA) of the most
 *     meaningful grown region through it (> 0.5 exactly on detections), so that regions just
 *     short of the threshold still rank above the rest. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dct.h"
#include "core/nfa.h"
#include "core/parallel.h"
#include "core/stats.h"
#include "detect/detector.h"

enum {
    NS_W = 3,              /* block side w (IPOL default) */
    NS_T = 3,              /* low and medium frequencies: 0 < u + v < T (IPOL Alg. 6, w = 3) */
    NS_BIN_BLOCKS = 2222,  /* b: 20000 overlapping positions = 20000 / w^2 disjoint blocks */
    NS_CELL = 100,         /* W: cell side of the tessellation, pixels */
    NS_MIN_BLOCKS = 1000,  /* fewer unsaturated blocks: too little to estimate a noise model */
    NS_MEAN_LEVELS = 4096, /* block means are sorted by counting at 1/16 grey level */
    NS_GROW_BUDGET = 20000 /* binomial tails evaluated by the region growing, at most */
};
#define NS_LOWFREQ_FRACTION 0.1 /* n: share of each bin kept as the most homogeneous (L) */
#define NS_LOWVAR_FRACTION 0.5  /* m: share of L kept as the lowest-variance blocks (S) */
#define NS_FLAT_VAR 1e-6f       /* a block variance this small is a perfectly flat block */

/* Block statistics of the brightness, on the grid of bw x bh disjoint w x w blocks. */
struct ns_blocks {
    int bw, bh;
    size_t count;
    float *mean;     /* Alg. 2 */
    float *lowfreq;  /* energy of the DCT coefficients with 0 < u + v < T (Alg. 7) */
    float *variance; /* ordering key of Alg. 10 (the variance orders like the deviation) */
    unsigned char *valid; /* no saturated pixel (Alg. 1), all channels */
    unsigned char *class; /* NS_OUT, NS_IN_L or NS_IN_S after step 3 */
    uint32_t *order;      /* valid blocks by increasing mean */
};
enum { NS_OUT = 0, NS_IN_L = 1, NS_IN_S = 2 };

/* ---- Step 1: blocks touching no saturated pixel (Alg. 1). ---- */

struct ns_validity_ctx {
    const float *const *planes;
    int channels, width, height;
    float lo[3], hi[3];
    struct ns_blocks *b;
};

/* Per block row: which pixels sit strictly between every channel's extremes, then which
 * blocks hold only such pixels. */
static void validity_row(void *vctx, int by)
{
    const struct ns_validity_ctx *c = vctx;
    int used = c->b->bw * NS_W;
    unsigned char *ok = malloc((size_t)used);
    if (!ok) { /* judged invalid: fewer blocks, never a wrong one */
        memset(c->b->valid + (size_t)by * c->b->bw, 0, (size_t)c->b->bw);
        return;
    }
    memset(ok, 1, (size_t)used);
    for (int ch = 0; ch < c->channels; ch++)
        for (int y = 0; y < NS_W; y++) {
            const float *row = c->planes[ch] + (size_t)(by * NS_W + y) * c->width;
            float lo = c->lo[ch], hi = c->hi[ch];
            for (int x = 0; x < used; x++)
                ok[x] &= (unsigned char)((row[x] > lo) & (row[x] < hi));
        }
    unsigned char *valid = c->b->valid + (size_t)by * c->b->bw;
    for (int bx = 0; bx < c->b->bw; bx++)
        valid[bx] = ok[NS_W * bx] & ok[NS_W * bx + 1] & ok[NS_W * bx + 2];
    free(ok);
}

/* Extremes of every channel, one pixel row per task (merged afterwards). */
struct ns_extremes_ctx {
    const float *const *planes;
    int channels, width;
    float *lo, *hi; /* [row * 3 + channel] */
};

static void extremes_row(void *vctx, int y)
{
    enum { LANES = 16 }; /* element-wise minima per lane vectorise; a plain reduction does not */
    const struct ns_extremes_ctx *c = vctx;
    for (int ch = 0; ch < c->channels; ch++) {
        const float *row = c->planes[ch] + (size_t)y * c->width;
        float lo[LANES], hi[LANES];
        for (int j = 0; j < LANES; j++)
            lo[j] = hi[j] = row[0];
        int x = 0;
        for (; x + LANES <= c->width; x += LANES)
            for (int j = 0; j < LANES; j++) {
                lo[j] = row[x + j] < lo[j] ? row[x + j] : lo[j];
                hi[j] = row[x + j] > hi[j] ? row[x + j] : hi[j];
            }
        for (; x < c->width; x++) {
            lo[0] = row[x] < lo[0] ? row[x] : lo[0];
            hi[0] = row[x] > hi[0] ? row[x] : hi[0];
        }
        for (int j = 1; j < LANES; j++) {
            lo[0] = lo[j] < lo[0] ? lo[j] : lo[0];
            hi[0] = hi[j] > hi[0] ? hi[j] : hi[0];
        }
        c->lo[(size_t)y * 3 + ch] = lo[0];
        c->hi[(size_t)y * 3 + ch] = hi[0];
    }
}

static int mark_valid_blocks(const float *const *planes, int channels, int width, int height,
                             struct ns_blocks *b)
{
    float *lo = malloc((size_t)height * 3 * sizeof *lo), *hi = malloc((size_t)height * 3 * sizeof *hi);
    if (!lo || !hi) {
        free(lo);
        free(hi);
        return -1;
    }
    struct ns_extremes_ctx ectx = {planes, channels, width, lo, hi};
    um_parallel_for(height, extremes_row, &ectx, 0);
    struct ns_validity_ctx ctx = {.planes = planes, .channels = channels, .width = width,
                                  .height = height, .b = b};
    for (int ch = 0; ch < channels; ch++) {
        ctx.lo[ch] = lo[ch];
        ctx.hi[ch] = hi[ch];
        for (int y = 1; y < height; y++) {
            ctx.lo[ch] = lo[(size_t)y * 3 + ch] < ctx.lo[ch] ? lo[(size_t)y * 3 + ch] : ctx.lo[ch];
            ctx.hi[ch] = hi[(size_t)y * 3 + ch] > ctx.hi[ch] ? hi[(size_t)y * 3 + ch] : ctx.hi[ch];
        }
    }
    free(lo);
    free(hi);
    um_parallel_for(b->bh, validity_row, &ctx, 0);
    return 0;
}

/* ---- Steps 2-3a: per-block mean, variance and low-frequency energy (Alg. 2, 6, 7). ---- */

struct ns_stats_ctx {
    const float *plane;
    int width;
    float dct[NS_W * NS_W]; /* c[u * w + x], core/dct.h */
    struct ns_blocks *b;
};

enum { NS_LANES = 256 }; /* blocks processed together, one per vector lane */

/* Mean, variance and low-frequency energy of n <= NS_LANES consecutive blocks of one block
 * row; f[y * w + x][k] is pixel (x, y) of block k, so that every loop runs across blocks. */
static void lane_statistics(const float dct[NS_W * NS_W], float f[NS_W * NS_W][NS_LANES],
                            int n, float *restrict mean, float *restrict variance,
                            float *restrict lowfreq)
{
    float rows[NS_W * NS_W][NS_LANES]; /* rows[y * w + u]: DCT along row y, frequency u */
    for (int k = 0; k < n; k++) {
        float sum = 0;
        for (int i = 0; i < NS_W * NS_W; i++)
            sum += f[i][k];
        mean[k] = sum / (NS_W * NS_W);
    }
    for (int k = 0; k < n; k++) {
        float ss = 0;
        for (int i = 0; i < NS_W * NS_W; i++)
            ss += (f[i][k] - mean[k]) * (f[i][k] - mean[k]);
        variance[k] = ss / (NS_W * NS_W);
    }
    /* Separable DCT F = C f C^T: along the rows, then down the columns for the coefficients
     * with 0 < u + v < T only. */
    for (int y = 0; y < NS_W; y++)
        for (int u = 0; u < NS_W; u++) {
            float *out = rows[y * NS_W + u];
            for (int k = 0; k < n; k++)
                out[k] = 0;
            for (int x = 0; x < NS_W; x++) {
                float c = dct[u * NS_W + x];
                const float *in = f[y * NS_W + x];
                for (int k = 0; k < n; k++)
                    out[k] += c * in[k];
            }
        }
    for (int k = 0; k < n; k++)
        lowfreq[k] = 0;
    for (int v = 0; v < NS_W; v++)
        for (int u = 0; u < NS_W; u++) {
            if (u + v == 0 || u + v >= NS_T)
                continue;
            float coef[NS_LANES];
            for (int k = 0; k < n; k++)
                coef[k] = 0;
            for (int y = 0; y < NS_W; y++) {
                float c = dct[v * NS_W + y];
                const float *in = rows[y * NS_W + u];
                for (int k = 0; k < n; k++)
                    coef[k] += c * in[k];
            }
            for (int k = 0; k < n; k++)
                lowfreq[k] += coef[k] * coef[k];
        }
}

static void statistics_row(void *vctx, int by)
{
    const struct ns_stats_ctx *c = vctx;
    const float *top = c->plane + (size_t)by * NS_W * c->width;
    size_t at = (size_t)by * c->b->bw;
    float f[NS_W * NS_W][NS_LANES];
    for (int bx0 = 0; bx0 < c->b->bw; bx0 += NS_LANES) {
        int n = c->b->bw - bx0 < NS_LANES ? c->b->bw - bx0 : NS_LANES;
        for (int y = 0; y < NS_W; y++) {
            const float *row = top + (size_t)y * c->width + (size_t)bx0 * NS_W;
            for (int k = 0; k < n; k++)
                for (int x = 0; x < NS_W; x++)
                    f[y * NS_W + x][k] = row[k * NS_W + x];
        }
        lane_statistics(c->dct, f, n, c->b->mean + at + bx0, c->b->variance + at + bx0,
                        c->b->lowfreq + at + bx0);
    }
}

/* Alg. 3: the valid blocks by increasing mean, by counting (the order inside one 1/16 grey
 * level does not matter: bins are thousands of blocks wide). Returns how many there are. */
static size_t sort_by_mean(struct ns_blocks *b)
{
    static const float scale = NS_MEAN_LEVELS / 256.0f;
    size_t *start = calloc(NS_MEAN_LEVELS + 1, sizeof *start);
    if (!start)
        return (size_t)-1;
    for (size_t i = 0; i < b->count; i++)
        if (b->valid[i]) {
            int level = (int)(b->mean[i] * scale);
            level = level < 0 ? 0 : (level >= NS_MEAN_LEVELS ? NS_MEAN_LEVELS - 1 : level);
            start[level + 1]++;
        }
    for (int l = 0; l < NS_MEAN_LEVELS; l++)
        start[l + 1] += start[l];
    size_t total = start[NS_MEAN_LEVELS];
    for (size_t i = 0; i < b->count; i++)
        if (b->valid[i]) {
            int level = (int)(b->mean[i] * scale);
            level = level < 0 ? 0 : (level >= NS_MEAN_LEVELS ? NS_MEAN_LEVELS - 1 : level);
            b->order[start[level]++] = (uint32_t)i;
        }
    free(start);
    return total;
}

/* ---- Step 3: L and S in each bin (Alg. 4, 5, 8, 9, 10). ---- */

/* The count entries of idx with the lowest key (key[i] belongs to idx[i]), into out: those
 * below the count-th smallest key, then ties with it in order. Returns count, 0 when out of
 * memory. */
static size_t select_lowest(const float *key, const uint32_t *idx, size_t n, size_t count,
                            uint32_t *out)
{
    if (count == 0 || count > n)
        return 0;
    double q = n > 1 ? (double)(count - 1) / (double)(n - 1) : 0.0;
    double t = um_quantile(key, n, q);
    if (isnan(t))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] < (float)t)
            out[k++] = idx[i];
    for (size_t i = 0; i < n && k < count; i++)
        if (key[i] == (float)t)
            out[k++] = idx[i];
    return k;
}

struct ns_bins_ctx {
    struct ns_blocks *b;
    size_t nvalid, per_bin;
    int bins;
    float *sigma; /* per bin: the largest deviation in S, NAN if the bin was dropped */
    atomic_int bins_used, out_of_memory;
};

static void classify_bin(void *vctx, int bin)
{
    struct ns_bins_ctx *c = vctx;
    struct ns_blocks *b = c->b;
    /* Alg. 5: bins of per_bin blocks in order of mean, the last one takes the remainder. */
    size_t first = (size_t)bin * c->per_bin;
    size_t end = bin == c->bins - 1 ? c->nvalid : first + c->per_bin;
    size_t n = end - first;
    const uint32_t *idx = b->order + first;
    size_t n_low = (size_t)lround(NS_LOWFREQ_FRACTION * (double)n);
    size_t n_sel = (size_t)(NS_LOWVAR_FRACTION * (double)n_low);
    if (n_sel == 0)
        return;
    float *key = malloc(n * sizeof *key);
    uint32_t *low = malloc(n_low * sizeof *low), *sel = malloc(n_sel * sizeof *sel);
    if (!key || !low || !sel) {
        atomic_store(&c->out_of_memory, 1);
        goto done;
    }
    /* Alg. 8: L, the n_low most homogeneous blocks of the bin. */
    for (size_t i = 0; i < n; i++)
        key[i] = b->lowfreq[idx[i]];
    if (select_lowest(key, idx, n, n_low, low) != n_low) {
        atomic_store(&c->out_of_memory, 1);
        goto done;
    }
    /* Alg. 9: a bin whose lowest variances are zero (flat, posterized or clipped content)
     * says nothing about noise. */
    size_t flat = 0;
    for (size_t i = 0; i < n_low; i++) {
        key[i] = b->variance[low[i]];
        flat += key[i] <= NS_FLAT_VAR;
    }
    if (flat >= n_sel)
        goto done;
    /* Alg. 10: S, the n_sel blocks of L with the lowest variance. */
    if (select_lowest(key, low, n_low, n_sel, sel) != n_sel) {
        atomic_store(&c->out_of_memory, 1);
        goto done;
    }
    for (size_t i = 0; i < n_low; i++)
        b->class[low[i]] = NS_IN_L;
    float top = 0;
    for (size_t i = 0; i < n_sel; i++) {
        b->class[sel[i]] = NS_IN_S;
        top = b->variance[sel[i]] > top ? b->variance[sel[i]] : top;
    }
    c->sigma[bin] = sqrtf(top);
    atomic_fetch_add(&c->bins_used, 1);
done:
    free(key);
    free(low);
    free(sel);
}

/* Alg. 4: as many bins as b fits in the valid blocks (at least one), evened out. Returns the
 * number of bins used, -1 when out of memory; *s_deviation: the median over the used bins of
 * the largest deviation in S (grey levels; a lower bound of the noise, reported as a fact). */
static int classify_blocks(struct ns_blocks *b, size_t nvalid, int *bins_total,
                           double *s_deviation)
{
    memset(b->class, NS_OUT, b->count);
    long bins = lround((double)nvalid / NS_BIN_BLOCKS);
    bins = bins < 1 ? 1 : bins;
    struct ns_bins_ctx ctx = {.b = b, .nvalid = nvalid, .per_bin = nvalid / (size_t)bins,
                              .bins = (int)bins};
    ctx.sigma = malloc((size_t)bins * sizeof *ctx.sigma);
    if (!ctx.sigma)
        return -1;
    for (long i = 0; i < bins; i++)
        ctx.sigma[i] = NAN;
    atomic_init(&ctx.bins_used, 0);
    atomic_init(&ctx.out_of_memory, 0);
    um_parallel_for((int)bins, classify_bin, &ctx, 0);
    *bins_total = (int)bins;
    int used = 0;
    for (long i = 0; i < bins; i++)
        if (!isnan(ctx.sigma[i]))
            ctx.sigma[used++] = ctx.sigma[i];
    *s_deviation = um_median(ctx.sigma, (size_t)used);
    free(ctx.sigma);
    return atomic_load(&ctx.out_of_memory) ? -1 : atomic_load(&ctx.bins_used);
}

/* ---- Step 4: counts per cell. ---- */

struct ns_cells {
    int cw, ch;
    long *n; /* blocks of L (S included) */
    long *k; /* blocks of S */
};

static void count_in_cells(const struct ns_blocks *b, struct ns_cells *cells)
{
    for (int by = 0; by < b->bh; by++) {
        int cy = (by * NS_W + NS_W / 2) / NS_CELL;
        const unsigned char *cls = b->class + (size_t)by * b->bw;
        for (int bx = 0; bx < b->bw; bx++) {
            if (cls[bx] == NS_OUT)
                continue;
            size_t cell = (size_t)cy * cells->cw + (bx * NS_W + NS_W / 2) / NS_CELL;
            cells->n[cell]++;
            cells->k[cell] += cls[bx] == NS_IN_S;
        }
    }
}

/* ---- Step 5: region growing and the NFA (IPOL Sec. 4). ---- */

/* log10 of the reference's number of tests for a region of r cells among ncells. */
static double log10_tests(long r, long ncells)
{
    double polyominoes = log10(0.316915) - log10((double)r) + (double)r * log10(4.062570);
    return log10(0.5 * NS_W * NS_W) + 2.0 * log10((double)ncells) + polyominoes;
}

struct ns_growth {
    const struct ns_cells *cells;
    int *members;           /* cells of the region being grown */
    unsigned *stamp;        /* stamp[c] == current: c is in the region */
    unsigned current;
    unsigned char *detected;
    long budget;            /* binomial tails left to evaluate */
};

static double tail(struct ns_growth *g, long n, long k)
{
    g->budget--;
    return um_log10_binomial_tail(n, k, NS_LOWVAR_FRACTION);
}

/* Grow the region of seed as the reference does: sweep the region's cells (including those
 * added during the sweep) and take every 4-neighbour that lowers tail / |R| by more than the
 * factor 4 (|R| + 1) / |R|, until a sweep adds nothing. Returns |R|; *log10_tail is its tail. */
static int grow_region(struct ns_growth *g, int seed, double *log10_tail)
{
    const struct ns_cells *c = g->cells;
    long n = c->n[seed], k = c->k[seed];
    double lt = tail(g, n, k);
    int size = 1;
    g->current++;
    g->members[0] = seed;
    g->stamp[seed] = g->current;
    for (int added = 1; added && g->budget > 0;) {
        added = 0;
        for (int i = 0; i < size && g->budget > 0; i++) {
            int x = g->members[i] % c->cw, y = g->members[i] / c->cw;
            const int nx[4] = {x + 1, x - 1, x, x}, ny[4] = {y, y, y + 1, y - 1};
            for (int d = 0; d < 4; d++) {
                if (nx[d] < 0 || ny[d] < 0 || nx[d] >= c->cw || ny[d] >= c->ch)
                    continue;
                int cell = ny[d] * c->cw + nx[d];
                if (g->stamp[cell] == g->current || c->n[cell] == 0)
                    continue;
                double lt_new = tail(g, n + c->n[cell], k + c->k[cell]);
                if (lt - log10((double)size) <= log10(4.0) + lt_new - log10((double)size + 1))
                    continue;
                g->members[size++] = cell;
                g->stamp[cell] = g->current;
                n += c->n[cell];
                k += c->k[cell];
                lt = lt_new;
                added = 1;
            }
        }
    }
    *log10_tail = lt;
    return size;
}

struct ns_result {
    double best_log10_nfa; /* over every grown region */
    int grown, detections;
    long detected_cells;
    int budget_exhausted;
};

static float strength(double log10_nfa)
{
    /* 1 / (1 + NFA): 0.5 at the a-contrario threshold NFA = 1, towards 1 as it vanishes. */
    return log10_nfa > 30 ? 0.0f : (float)(1.0 / (1.0 + pow(10.0, log10_nfa)));
}

/* Every cell with more of S than its share seeds a region (unless a detection holds it
 * already); the map keeps, per cell, the strength of the most meaningful region through it. */
static int find_regions(const struct ns_cells *cells, float *map, struct ns_result *res)
{
    long ncells = (long)cells->cw * cells->ch;
    struct ns_growth g = {.cells = cells, .budget = NS_GROW_BUDGET};
    g.members = malloc((size_t)ncells * sizeof *g.members);
    g.stamp = calloc((size_t)ncells, sizeof *g.stamp);
    g.detected = calloc((size_t)ncells, 1);
    if (!g.members || !g.stamp || !g.detected) {
        free(g.members);
        free(g.stamp);
        free(g.detected);
        return -1;
    }
    res->best_log10_nfa = log10_tests(1, ncells); /* the bound with no region at all */
    for (long s = 0; s < ncells && g.budget > 0; s++) {
        if (g.detected[s] || cells->n[s] == 0 ||
            (double)cells->k[s] <= NS_LOWVAR_FRACTION * (double)cells->n[s])
            continue;
        double lt;
        int size = grow_region(&g, (int)s, &lt);
        double log10_nfa = log10_tests(size, ncells) + lt;
        res->grown++;
        res->best_log10_nfa = log10_nfa < res->best_log10_nfa ? log10_nfa : res->best_log10_nfa;
        float v = strength(log10_nfa);
        for (int i = 0; i < size; i++) {
            int cell = g.members[i];
            map[cell] = v > map[cell] ? v : map[cell];
            if (log10_nfa < 0 && !g.detected[cell]) {
                g.detected[cell] = 1;
                res->detected_cells++;
            }
        }
        res->detections += log10_nfa < 0;
    }
    res->budget_exhausted = g.budget <= 0;
    free(g.members);
    free(g.stamp);
    free(g.detected);
    return 0;
}

/* ---- The detector. ---- */

static void free_blocks(struct ns_blocks *b)
{
    free(b->mean);
    free(b->lowfreq);
    free(b->variance);
    free(b->valid);
    free(b->class);
    free(b->order);
}

static int alloc_blocks(struct ns_blocks *b, int width, int height)
{
    b->bw = width / NS_W;
    b->bh = height / NS_W;
    b->count = (size_t)b->bw * (size_t)b->bh;
    b->mean = malloc(b->count * sizeof *b->mean);
    b->lowfreq = malloc(b->count * sizeof *b->lowfreq);
    b->variance = malloc(b->count * sizeof *b->variance);
    b->valid = malloc(b->count);
    b->class = malloc(b->count);
    b->order = malloc(b->count * sizeof *b->order);
    return b->mean && b->lowfreq && b->variance && b->valid && b->class && b->order ? 0 : -1;
}

/* Fraction of the image's pixels inside detected cells (edge cells are partial). */
static double detected_fraction(const float *map, const struct ns_cells *cells, int width,
                                 int height)
{
    double area = 0;
    for (int cy = 0; cy < cells->ch; cy++)
        for (int cx = 0; cx < cells->cw; cx++)
            if (map[cy * cells->cw + cx] > 0.5f) {
                int w = width - cx * NS_CELL, h = height - cy * NS_CELL;
                area += (double)(w < NS_CELL ? w : NS_CELL) * (h < NS_CELL ? h : NS_CELL);
            }
    return area / ((double)width * height);
}

static void describe(struct um_evidence *ev, const struct ns_result *r, double fraction)
{
    if (r->detections > 0)
        um_evidence_add_headline(ev,
                                 "The noise in a region covering %.0f%% of the image is lower "
                                 "than elsewhere (NFA 10^%.1f): it may come from another photo "
                                 "or have been smoothed or retouched.",
                                 100.0 * fraction, r->best_log10_nfa);
    else
        um_evidence_add_finding(ev,
                                "The noise is consistent across the image: no region has "
                                "noticeably less noise than the rest (best NFA 10^%.1f, a "
                                "detection needs < 1).",
                                r->best_log10_nfa);
}

static void add_details(struct um_evidence *ev, const struct ns_result *r, double fraction,
                        size_t valid_blocks, int bins, int bins_used, double s_deviation)
{
    json_t *d = json_object();
    if (!d)
        return;
    json_object_set_new(d, "block_size", json_integer(NS_W));
    json_object_set_new(d, "cell_size", json_integer(NS_CELL));
    json_object_set_new(d, "valid_blocks", json_integer((json_int_t)valid_blocks));
    json_object_set_new(d, "bins", json_integer(bins));
    json_object_set_new(d, "bins_used", json_integer(bins_used));
    json_object_set_new(d, "s_deviation", um_json_number(s_deviation));
    json_object_set_new(d, "regions_grown", json_integer(r->grown));
    json_object_set_new(d, "regions_detected", json_integer(r->detections));
    json_object_set_new(d, "detected_fraction", um_json_number(fraction));
    json_object_set_new(d, "growth_budget_exhausted", json_boolean(r->budget_exhausted));
    ev->details = d;
}

static um_error noise_nfa_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_decoded *dec = in->decoded;
    int width = in->luma->width, height = in->luma->height;
    /* Saturation is judged on every colour channel (Alg. 1: a clipped channel carries no noise
     * into the brightness either); the noise itself is measured on the brightness. The paper
     * measures each colour channel, but chroma subsampling and its quantization make the noise
     * of R, G and B depend on the local colour content in any JPEG: on a uniformly noisy q90
     * JPEG of a smooth scene the colour channels gave NFA 10^-7 where the brightness gives
     * 10^2.6 (and it is a third of the work). */
    int channels = dec->rgb && dec->rgb->channels == 3 ? 3 : 1;
    const float *planes[3] = {in->luma->data, NULL, NULL};
    if (channels == 3)
        for (int c = 0; c < 3; c++)
            planes[c] = um_image_plane(dec->rgb, c);
    if ((size_t)(width / NS_W) * (size_t)(height / NS_W) < NS_MIN_BLOCKS) {
        um_evidence_not_applicable(ev, "the image is too small for a noise analysis");
        return UM_OK;
    }
    struct ns_blocks b = {0};
    struct ns_cells cells = {(width + NS_CELL - 1) / NS_CELL, (height + NS_CELL - 1) / NS_CELL,
                             NULL, NULL};
    size_t ncells = (size_t)cells.cw * (size_t)cells.ch;
    cells.n = calloc(ncells, sizeof *cells.n);
    cells.k = calloc(ncells, sizeof *cells.k);
    um_error err = UM_ERR_NOMEM;
    if (!cells.n || !cells.k || alloc_blocks(&b, width, height) || b.count > UINT32_MAX)
        goto done;
    if (mark_valid_blocks(planes, channels, width, height, &b))
        goto done;
    struct ns_stats_ctx sctx = {.plane = in->luma->data, .width = width, .b = &b};
    um_dct_matrix(NS_W, sctx.dct);
    um_parallel_for(b.bh, statistics_row, &sctx, 0);
    size_t nvalid = sort_by_mean(&b);
    if (nvalid == (size_t)-1)
        goto done;
    int bins = 0, bins_used = 0;
    double s_deviation = 0;
    if (nvalid >= NS_MIN_BLOCKS) {
        bins_used = classify_blocks(&b, nvalid, &bins, &s_deviation);
        if (bins_used < 0)
            goto done;
        count_in_cells(&b, &cells);
    }
    err = UM_OK;
    if (nvalid < NS_MIN_BLOCKS || bins_used == 0) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: too few unclipped, "
                                       "non-flat blocks to measure its noise");
        goto done;
    }
    float *map = um_evidence_alloc_map(ev, cells.cw, cells.ch, NS_CELL);
    struct ns_result res = {0};
    if (!map || find_regions(&cells, map, &res)) {
        err = UM_ERR_NOMEM;
        goto done;
    }
    double fraction = detected_fraction(map, &cells, width, height);
    ev->applicable = 1;
    ev->has_nfa = 1;
    ev->log10_nfa = res.best_log10_nfa;
    ev->score = strength(res.best_log10_nfa);
    describe(ev, &res, fraction);
    add_details(ev, &res, fraction, nvalid, bins, bins_used, s_deviation);
done:
    free_blocks(&b);
    free(cells.n);
    free(cells.k);
    return err;
}

const struct um_detector um_detector_noise_nfa = {
    .name = "noise-nfa",
    .family = "noise",
    .summary = "Noisesniffer: regions whose noise is lower than the rest of the image, with a "
               "false-alarm count (Gardella et al. 2021, IPOL 2024)",
    .limits = "Finds only regions with LESS noise than the rest (pasted from a cleaner photo, "
              "smoothed, painted); strong JPEG compression, resizing and denoising erase the "
              "noise it reads; the map is coarse (100-pixel cells).",
    .needs = 0,
    .run = noise_nfa_run,
};
