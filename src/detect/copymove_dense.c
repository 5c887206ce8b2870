/* copymove-dense: dense-field copy-move detection.
 *
 * Cozzolino, Poggi & Verdoliva, "Efficient dense-field copy-move forgery detection", IEEE TIFS
 * 10(11), 2015. Every pixel gets a rotation-invariant descriptor of its neighbourhood; a
 * nearest-neighbour field (the most similar other pixel, at least a minimum offset away) is
 * found by a modified PatchMatch; a copied region is where that field is smooth (a rigid or
 * affine map), which a dense linear fit verifies. Steps, in the paper's order:
 *   1. features (Sec. III-A): Zernike moment magnitudes |Z_nm|, n <= 5, m >= 0, n - m even:
 *      12 features, invariant to rotation because rotating the patch only changes the phase of
 *      Z_nm. Here the hard disc of the Zernike definition is replaced by a Gaussian aperture
 *      (sigma 2.75 px, also radially symmetric, so invariance is kept): each moment is then a
 *      sum of separable 1-D filters u^p g(u) * v^q g(v) (21 + 9 passes of 23 taps per pixel)
 *      instead of 12 complex products over a disc. The filters run to 4 sigma: cut shorter,
 *      the square cut-off weighs the high orders (rho^5) and breaks rotation invariance. Two
 *      more features, the local means of B - Y and R - Y, tell apart flat objects of another
 *      colour. The luminance is first low-passed by [1 2 1]/4 each way: a rotated or scaled
 *      clone was interpolated, and JPEG removed the finest detail, so that band cannot match;
 *   2. PatchMatch (Sec. III-B): random initialisation, propagation with the zero-order
 *      predictor (the neighbour's offset) and the paper's first-order predictor
 *      2 d(s-1) - d(s-2), which follows the linearly varying offsets of rotated and scaled
 *      copies, a one-pixel refinement (ours: on the integer grid the predictors alone lose a
 *      rotated copy after a few pixels), then random search at halving radii; offsets shorter
 *      than CM_MIN_OFFSET are never accepted (a patch always resembles its neighbourhood);
 *   3. post-processing (Sec. III-C): median filtering of the offset field, dense linear fitting
 *      (least-squares affine model of the offsets in a window around every pixel; a clone gives
 *      a near-zero residual, a random field a large one), threshold on the residual, removal of
 *      regions under the minimum offset or size (after joining the fragments of one copy:
 *      components with agreeing offsets a few pixels apart, merge_fragments), pairing each
 *      region with its mate (the pixels its offsets point to), dilation by the patch radius.
 * Added for fact-checking use (not in the paper), the rule against repeated structure (tiles,
 * text, bricks, a crowd of look-alikes, which match themselves everywhere). A region is set
 * aside, and counted in details.rejected_repeated, when
 *   - its match is not unique: PatchMatch keeps the best two *distinct* offsets per pixel
 *     (offsets closer than CM_DISTINCT pixels count as one match), and the region's median of
 *     sqrt(d_best / d_second) exceeds CM_MAX_RATIO: the content matches elsewhere nearly as
 *     well (Lowe's ratio test, as g2NN in Amerini et al. 2011). The price: a region copied
 *     twice (three instances) is set aside too;
 *   - it does not stand out from the image's own chance matches: CM_MAX_RIVALS or more other
 *     matched regions at least a quarter of its size, at other offsets (has_rivals);
 *   - it lies on a periodic lattice: more than CM_MAX_LATTICE of its pixels have their second
 *     match at -d or 2 d (the neighbours on both sides of a period d, or the next one along),
 *     or another matched region has offset 2 d or d / 2 (on_lattice);
 *   - the pair covers more than CM_MAX_COVER of the image's textured area;
 *   - its map is a reflection: bilateral symmetry, not a clone (judge_region).
 * Each pair gets an a-contrario NFA (describe_region); a pair needs NFA < 1.
 * Working resolution: images above CM_MAX_PIXELS are reduced by an integer box factor k (a
 * 12 MP photo is analysed at 800 x 600, k = 5); the map has cells of k x k input pixels. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nfa.h"
#include "core/parallel.h"
#include "core/random.h"
#include "core/stats.h"
#include "detect/copymove.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    CM_R = 11,            /* filter half-width (working pixels): 23 x 23 taps, 4 sigma */
    CM_ORDER = 5,         /* Zernike order n <= 5 */
    CM_NMOM = 21,         /* geometric moments u^p v^q with p + q <= 5 */
    CM_NZERNIKE = 12,     /* Zernike magnitudes |Z_nm|, 0 <= m <= n <= 5, n - m even */
    CM_NFEAT = CM_NZERNIKE + 2, /* and the local mean of two colour differences */
    CM_STRIDE = 16,             /* bytes per pixel of the quantised features, zero padded */
    CM_QUANT = 32,              /* quantisation steps per unit (mean absolute value) */
    CM_PLANES = CM_ORDER + 4,   /* horizontal passes: u^p g (p <= 5), I^2 g, B-Y g, R-Y g */
    CM_KEEP = 2,          /* distinct matches kept per pixel */
    CM_DISTINCT = 8,      /* offsets closer than this are "the same match" */
    CM_MIN_OFFSET = 24,   /* minimum clone offset (working pixels) */
    CM_ITERATIONS = 3,    /* PatchMatch passes, alternating scan direction */
    CM_MEDIAN_R = 2,      /* 5 x 5 median of the offset field */
    CM_FIT_R = 6,         /* 13 x 13 window of the dense linear fit */
    CM_MIN_REGION = 300,  /* working pixels, before dilation, per region of a pair */
    CM_MIN_TEXTURED = 16, /* textured 8 x 8 blocks for the image to be judged at all */
    CM_MIN_SIDE = 64,
    CM_MAX_PAIRS = 8,
    CM_MAX_RIVALS = 3,    /* chance matches of a pair's size that make it repeated structure */
    CM_MIN_FRAGMENT = 40, /* working pixels: smaller components are not joined to others */
    CM_MAX_FRAGMENTS = 256, /* largest components considered for joining */
    CM_MERGE_GAP = 16,    /* px between the boxes of fragments of one copy */
};

static const double CM_MAX_PIXELS = 0.5e6;  /* working-resolution cap (pixels) */
static const double CM_SIGMA = 2.75;        /* Gaussian aperture (working pixels) */
static const double CM_FLAT_STD = 2.5;      /* local std (grey levels) below which: flat */
static const double CM_FIT_MAX = 1.0;       /* max residual (px^2, per coordinate) of the fit */
static const double CM_MAX_RATIO = 0.7;     /* uniqueness: sqrt(d_best / d_keep) median */
static const double CM_MAX_LATTICE = 0.3;   /* share of second matches at -d or 2 d */
static const double CM_MAX_COVER = 0.5;     /* a "clone" over half the texture is a pattern */
static const double CM_NFA_TOL = 1.5;       /* px: raw offset agrees with the pair's model */

/* ---- Working image ---------------------------------------------------------------------- */

struct cm_work {
    int w, h, k;  /* working size and the box factor from the input */
    float *lum;   /* w x h luminance */
    float *chroma[2]; /* B - Y and R - Y (NULL for a grey image) */
};

/* A [1 2 1] / 4 low-pass each way. A rotated or rescaled clone was resampled (interpolated:
 * a low-pass with sub-pixel shifts), and JPEG removed its finest detail; the high-order
 * moments are sensitive to exactly that band, so it is removed from both sides first. */
static um_error binomial_smooth(float *img, int w, int h)
{
    float *tmp = malloc((size_t)w * h * sizeof *tmp);
    if (!tmp)
        return UM_ERR_NOMEM;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *r = img + (size_t)y * w;
            float l = r[x > 0 ? x - 1 : x], c = r[x], rr = r[x + 1 < w ? x + 1 : x];
            tmp[(size_t)y * w + x] = 0.25f * (l + 2 * c + rr);
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float u = tmp[(size_t)(y > 0 ? y - 1 : y) * w + x], c = tmp[(size_t)y * w + x];
            float d = tmp[(size_t)(y + 1 < h ? y + 1 : y) * w + x];
            img[(size_t)y * w + x] = 0.25f * (u + 2 * c + d);
        }
    free(tmp);
    return UM_OK;
}

/* Box-average the luminance by the smallest integer factor that brings it under
 * CM_MAX_PIXELS: cheap, alias-free enough for 17-pixel descriptors, and maps back exactly. */
static void box_reduce(const float *in, int in_w, int k, float *out, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0;
            for (int j = 0; j < k; j++)
                for (int i = 0; i < k; i++)
                    s += in[(size_t)(y * k + j) * in_w + x * k + i];
            out[(size_t)y * w + x] = (float)(s / (k * k));
        }
}

/* Colour differences B - Y and R - Y: flat-coloured objects (signs, clothes) have almost no
 * luminance texture, and two look-alike patches of another colour are no match. */
static um_error working_chroma(const um_image *rgb, const um_image *luma, struct cm_work *wk)
{
    if (!rgb || rgb->channels < 3 || rgb->width != luma->width || rgb->height != luma->height)
        return UM_OK;
    size_t n = (size_t)luma->width * luma->height;
    float *diff = malloc(n * sizeof *diff);
    if (!diff)
        return UM_ERR_NOMEM;
    for (int c = 0; c < 2; c++) {
        const float *p = um_image_plane(rgb, c ? 0 : 2);
        for (size_t i = 0; i < n; i++)
            diff[i] = p[i] - luma->data[i];
        wk->chroma[c] = malloc((size_t)wk->w * wk->h * sizeof *wk->chroma[c]);
        if (!wk->chroma[c])
            return free(diff), UM_ERR_NOMEM;
        box_reduce(diff, luma->width, wk->k, wk->chroma[c], wk->w, wk->h);
    }
    free(diff);
    return UM_OK;
}

static um_error working_image(const um_image *luma, const um_image *rgb, struct cm_work *wk)
{
    double px = (double)luma->width * luma->height;
    int k = 1;
    while (px / ((double)k * k) > CM_MAX_PIXELS)
        k++;
    wk->k = k;
    wk->w = luma->width / k;
    wk->h = luma->height / k;
    wk->lum = malloc((size_t)wk->w * wk->h * sizeof *wk->lum);
    if (!wk->lum)
        return UM_ERR_NOMEM;
    box_reduce(luma->data, luma->width, k, wk->lum, wk->w, wk->h);
    um_error err = binomial_smooth(wk->lum, wk->w, wk->h);
    return err == UM_OK ? working_chroma(rgb, luma, wk) : err;
}

/* ---- Step 1: Zernike features with a Gaussian aperture ------------------------------------ */

/* Z_nm (up to a constant) = sum over the patch of I * R_nm(rho) e^{-i m theta} * g, and
 * rho^(m+2j) e^{-i m theta} = conj(z)^(m+j) z^j with z = (u + i v) / (2 sigma). So Z_nm is a
 * combination of the complex moments C_ab = sum I z^a conj(z)^b g, themselves combinations of
 * the geometric moments M_pq = sum I u^p v^q g. The tables below hold those combinations. */
struct cm_zernike {
    float kern[CM_ORDER + 1][2 * CM_R + 1];   /* 1-D filters (u / 2 sigma)^p g(u) */
    /* feature f = | sum_pq coef[f][pq] M_pq |, complex coefficients */
    double re[CM_NZERNIKE][CM_NMOM], im[CM_NZERNIKE][CM_NMOM];
    int mom_p[CM_NMOM], mom_q[CM_NMOM];
};

/* Radial polynomial coefficients: R_nm(rho) = sum_j radial[n][m][j] rho^(m + 2 j). */
static double radial_coef(int n, int m, int j)
{
    int s = (n - m) / 2 - j; /* the standard sum index: rho^(n - 2 s) */
    double c = (s % 2) ? -1 : 1;
    double f[11] = {1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800};
    return c * f[n - s] / (f[s] * f[(n + m) / 2 - s] * f[(n - m) / 2 - s]);
}

static int moment_index(const struct cm_zernike *z, int p, int q)
{
    for (int i = 0; i < CM_NMOM; i++)
        if (z->mom_p[i] == p && z->mom_q[i] == q)
            return i;
    return -1;
}

/* Add w * conj(z)^a z^b, with z = u + i v, expanded in u^p v^q, into the feature's row. */
static void add_monomial(struct cm_zernike *z, int f, int a, int b, double w)
{
    double poly_re[CM_ORDER + 1][CM_ORDER + 1] = {{0}}, poly_im[CM_ORDER + 1][CM_ORDER + 1] = {{0}};
    poly_re[0][0] = w;
    for (int t = 0; t < a + b; t++) {
        double sign = t < a ? -1 : 1; /* conj(z) = u - i v, z = u + i v */
        double nre[CM_ORDER + 1][CM_ORDER + 1] = {{0}}, nim[CM_ORDER + 1][CM_ORDER + 1] = {{0}};
        for (int p = 0; p <= CM_ORDER; p++)
            for (int q = 0; p + q <= CM_ORDER; q++) {
                if (p + 1 + q <= CM_ORDER) { /* times u */
                    nre[p + 1][q] += poly_re[p][q];
                    nim[p + 1][q] += poly_im[p][q];
                }
                if (p + q + 1 <= CM_ORDER) { /* times (sign i v) */
                    nre[p][q + 1] -= sign * poly_im[p][q];
                    nim[p][q + 1] += sign * poly_re[p][q];
                }
            }
        memcpy(poly_re, nre, sizeof nre);
        memcpy(poly_im, nim, sizeof nim);
    }
    for (int p = 0; p <= CM_ORDER; p++)
        for (int q = 0; p + q <= CM_ORDER; q++) {
            int i = moment_index(z, p, q);
            z->re[f][i] += poly_re[p][q];
            z->im[f][i] += poly_im[p][q];
        }
}

static void zernike_tables(struct cm_zernike *z)
{
    memset(z, 0, sizeof *z);
    int i = 0;
    for (int p = 0; p <= CM_ORDER; p++)
        for (int q = 0; p + q <= CM_ORDER; q++, i++) {
            z->mom_p[i] = p;
            z->mom_q[i] = q;
        }
    for (int p = 0; p <= CM_ORDER; p++)
        for (int u = -CM_R; u <= CM_R; u++)
            z->kern[p][u + CM_R] =
                (float)(pow(u / (2 * CM_SIGMA), p) * exp(-u * u / (2 * CM_SIGMA * CM_SIGMA)));
    int f = 0;
    for (int n = 0; n <= CM_ORDER; n++)
        for (int m = n % 2; m <= n; m += 2, f++)
            for (int j = 0; m + 2 * j <= n; j++)
                add_monomial(z, f, m + j, j, radial_coef(n, m, j));
}

struct cm_features {
    int w, h;
    float *feat;           /* CM_NFEAT per pixel (stride CM_STRIDE), scaled as below */
    uint8_t *code;         /* the same quantised to bytes: 16 per pixel, for PatchMatch */
    unsigned char *tex;    /* 1: textured (local std >= CM_FLAT_STD) */
    float *hmom;           /* scratch: horizontal passes, CM_PLANES planes */
    const float *lum, *chroma[2];
    struct cm_zernike z;
    volatile int failed;   /* a row task ran out of memory */
};

/* Pixels whose aperture lies inside the image. */
static int inside(const struct cm_features *F, int x, int y)
{
    return x >= CM_R && y >= CM_R && x < F->w - CM_R && y < F->h - CM_R;
}

/* out[x] = sum_u in[x + u * step] k[u], u = -CM_R..CM_R, for x = CM_R..w-CM_R-1: a 1-D filter
 * along a row (step 1) or a column (step = row length), with x innermost so it vectorises. */
static void filter_line(const float *in, size_t step, const float *k, int w, float *out)
{
    for (int x = CM_R; x < w - CM_R; x++)
        out[x] = 0;
    for (int u = -CM_R; u <= CM_R; u++) {
        const float *src = in + (ptrdiff_t)u * (ptrdiff_t)step;
        float ku = k[u + CM_R];
        for (int x = CM_R; x < w - CM_R; x++)
            out[x] += src[x] * ku;
    }
}

/* Horizontal 1-D passes of row y: u^p g(u) for p = 0..5 (planes 0..5), g(u) on I^2 (plane 6)
 * and on the two colour differences (planes 7, 8). */
static void horizontal_row(void *ctx, int y)
{
    struct cm_features *F = ctx;
    size_t plane = (size_t)F->w * F->h, at = (size_t)y * F->w;
    const float *row = F->lum + at;
    for (int p = 0; p <= CM_ORDER; p++)
        filter_line(row, 1, F->z.kern[p], F->w, F->hmom + p * plane + at);
    float *line = malloc((size_t)F->w * sizeof *line);
    if (!line) {
        F->failed = 1;
        return;
    }
    for (int x = 0; x < F->w; x++)
        line[x] = row[x] * row[x];
    filter_line(line, 1, F->z.kern[0], F->w, F->hmom + (CM_ORDER + 1) * plane + at);
    for (int c = 0; c < 2 && F->chroma[0]; c++)
        filter_line(F->chroma[c] + at, 1, F->z.kern[0], F->w,
                    F->hmom + (CM_ORDER + 2 + c) * plane + at);
    free(line);
}

/* Vertical passes of row y (the 21 moments M_pq, the local mean of I^2 and of the colour
 * differences), then the 12 magnitudes and the texture flag. */
static void feature_row(void *ctx, int y)
{
    struct cm_features *F = ctx;
    if (y < CM_R || y >= F->h - CM_R)
        return;
    enum { OUTS = CM_NMOM + 3 };
    size_t plane = (size_t)F->w * F->h, at0 = (size_t)y * F->w;
    float *out = malloc((size_t)OUTS * F->w * sizeof *out);
    if (!out) {
        F->failed = 1;
        return;
    }
    for (int o = 0; o < OUTS; o++) {
        int src = o < CM_NMOM ? F->z.mom_p[o] : CM_ORDER + 1 + (o - CM_NMOM);
        int q = o < CM_NMOM ? F->z.mom_q[o] : 0;
        filter_line(F->hmom + src * plane + at0, (size_t)F->w, F->z.kern[q], F->w,
                    out + (size_t)o * F->w);
    }
    double g0 = 0;
    for (int u = -CM_R; u <= CM_R; u++)
        g0 += F->z.kern[0][u + CM_R];
    for (int x = CM_R; x < F->w - CM_R; x++) {
        double M[CM_NMOM];
        for (int i = 0; i < CM_NMOM; i++)
            M[i] = out[(size_t)i * F->w + x];
        size_t at = at0 + x;
        double mean = M[0] / (g0 * g0);
        double var = out[(size_t)CM_NMOM * F->w + x] / (g0 * g0) - mean * mean;
        F->tex[at] = var >= CM_FLAT_STD * CM_FLAT_STD;
        F->feat[at * CM_STRIDE + CM_NZERNIKE] = out[(size_t)(CM_NMOM + 1) * F->w + x];
        F->feat[at * CM_STRIDE + CM_NZERNIKE + 1] = out[(size_t)(CM_NMOM + 2) * F->w + x];
        for (int f = 0; f < CM_NZERNIKE; f++) {
            double re = 0, im = 0;
            for (int i = 0; i < CM_NMOM; i++) {
                re += F->z.re[f][i] * M[i];
                im += F->z.im[f][i] * M[i];
            }
            F->feat[at * CM_STRIDE + f] = (float)sqrt(re * re + im * im);
        }
    }
    free(out);
}

/* Each Zernike feature divided by its mean absolute value over the textured pixels, so that the
 * low orders (large numbers) do not drown the high ones in the L2 distance. The colour means
 * share the scale of Z_00 (the luminance mean): grey levels weigh alike, and a grey image's
 * tiny colour noise is not blown up. */
static void normalise_features(struct cm_features *F)
{
    double sum[CM_NFEAT] = {0};
    long n = 0;
    for (int y = CM_R; y < F->h - CM_R; y++)
        for (int x = CM_R; x < F->w - CM_R; x++) {
            size_t at = (size_t)y * F->w + x;
            if (!F->tex[at])
                continue;
            n++;
            for (int f = 0; f < CM_NFEAT; f++)
                sum[f] += F->feat[at * CM_STRIDE + f];
        }
    for (int f = 0; f < CM_NFEAT; f++) {
        int ref = f < CM_NZERNIKE ? f : 0;
        float scale = n && sum[ref] > 0 ? (float)(n / sum[ref]) : 1.0f;
        for (size_t at = 0; at < (size_t)F->w * F->h; at++)
            F->feat[at * CM_STRIDE + f] *= scale;
    }
}

/* Bytes instead of floats: 16 per pixel, a quarter of the memory, so the feature field of a
 * working image (12 MB at 0.75 MP) stays in cache for PatchMatch's random probes. A step of
 * 1/32 of a feature's mean adds a variance of about 14/12 steps^2 to a distance, far below
 * the distances that separate a copy from its surroundings. Colour means are centred on 128. */
static void quantise_features(struct cm_features *F)
{
    for (size_t at = 0; at < (size_t)F->w * F->h; at++)
        for (int f = 0; f < CM_STRIDE; f++) {
            float v = f < CM_NFEAT ? F->feat[at * CM_STRIDE + f] * CM_QUANT : 0;
            v += f >= CM_NZERNIKE && f < CM_NFEAT ? 128 : 0;
            F->code[at * CM_STRIDE + f] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v + 0.5f));
        }
}

static um_error compute_features(const struct cm_work *wk, struct cm_features *F)
{
    F->w = wk->w;
    F->h = wk->h;
    F->lum = wk->lum;
    F->chroma[0] = wk->chroma[0];
    F->chroma[1] = wk->chroma[1];
    size_t plane = (size_t)F->w * F->h;
    /* One aligned cache line per pixel: a PatchMatch candidate costs one memory fetch. */
    F->feat = calloc(plane * CM_STRIDE, sizeof *F->feat);
    F->code = aligned_alloc(64, plane * CM_STRIDE);
    F->tex = calloc(plane, 1);
    F->hmom = calloc(plane * CM_PLANES, sizeof *F->hmom);
    if (!F->feat || !F->code || !F->tex || !F->hmom)
        return UM_ERR_NOMEM;
    zernike_tables(&F->z);
    um_parallel_for(F->h, horizontal_row, F, 0);
    um_parallel_for(F->h, feature_row, F, 0);
    free(F->hmom);
    F->hmom = NULL;
    if (F->failed)
        return UM_ERR_NOMEM;
    normalise_features(F);
    quantise_features(F);
    free(F->feat);
    F->feat = NULL;
    return UM_OK;
}

/* ---- Step 2: PatchMatch with CM_KEEP distinct matches -------------------------------------- */

struct cm_match {
    int16_t dx[CM_KEEP], dy[CM_KEEP];
    float d[CM_KEEP]; /* squared feature distances, ascending */
};

struct cm_nnf {
    const struct cm_features *F;
    struct cm_match *m;
    int iter, bands, shift;
    unsigned seed;
};

/* A uniform integer in 0..n-1 (n >= 1) by a multiply-shift, not a division. */
static unsigned cm_below(unsigned *s, int n)
{
    return (unsigned)(((uint64_t)um_xorshift32(s) * (uint64_t)n) >> 32);
}

static float feature_distance(const uint8_t *a, const uint8_t *b)
{
    int s = 0;
    for (int f = 0; f < CM_STRIDE; f++) {
        int d = a[f] - b[f];
        s += d * d;
    }
    return (float)s;
}

/* Offer offset (dx, dy) to pixel (x, y): kept if it is among the CM_KEEP best distinct ones. */
static void consider(const struct cm_features *F, struct cm_match *m, int x, int y, int dx,
                     int dy)
{
    int tx = x + dx, ty = y + dy;
    if (!inside(F, tx, ty) || dx * dx + dy * dy < CM_MIN_OFFSET * CM_MIN_OFFSET)
        return;
    int same = -1;
    for (int j = 0; j < CM_KEEP; j++)
        if (abs(m->dx[j] - dx) < CM_DISTINCT && abs(m->dy[j] - dy) < CM_DISTINCT) {
            if (m->dx[j] == dx && m->dy[j] == dy)
                return;
            same = j;
            break;
        }
    float d = feature_distance(F->code + ((size_t)y * F->w + x) * CM_STRIDE,
                               F->code + ((size_t)ty * F->w + tx) * CM_STRIDE);
    int slot = same >= 0 ? same : CM_KEEP - 1;
    if (d >= m->d[slot])
        return;
    /* Insert at its rank, dropping the entry it replaces (the same match, or the worst). */
    int j = slot;
    while (j > 0 && m->d[j - 1] > d) {
        m->dx[j] = m->dx[j - 1];
        m->dy[j] = m->dy[j - 1];
        m->d[j] = m->d[j - 1];
        j--;
    }
    m->dx[j] = (int16_t)dx;
    m->dy[j] = (int16_t)dy;
    m->d[j] = d;
}

/* PatchMatch's random initialisation: a few uniform offers per pixel. */
static void random_init(const struct cm_features *F, struct cm_match *m, int x, int y,
                        unsigned *s)
{
    for (int j = 0; j < CM_KEEP; j++) {
        m->dx[j] = m->dy[j] = 0;
        m->d[j] = INFINITY;
    }
    for (int t = 0; t < 2 * CM_KEEP; t++) {
        int tx = CM_R + (int)cm_below(s, F->w - 2 * CM_R);
        int ty = CM_R + (int)cm_below(s, F->h - 2 * CM_R);
        consider(F, m, x, y, tx - x, ty - y);
    }
}

/* One pixel's update: propagation from the two previous pixels of the scan (zero- and
 * first-order predictors, paper Sec. III-B) and random search around the best offset. */
static void update_pixel(struct cm_nnf *N, int x, int y, int y0, int y1, int dir, unsigned *s)
{
    const struct cm_features *F = N->F;
    struct cm_match *m = &N->m[(size_t)y * F->w + x];
    for (int axis = 0; axis < 2; axis++) {
        int px = x - dir * (axis == 0), py = y - dir * (axis == 1);
        int qx = x - 2 * dir * (axis == 0), qy = y - 2 * dir * (axis == 1);
        if (!inside(F, px, py) || py < y0 || py >= y1)
            continue;
        const struct cm_match *p = &N->m[(size_t)py * F->w + px];
        for (int j = 0; j < CM_KEEP; j++)
            if (isfinite(p->d[j]))
                consider(F, m, x, y, p->dx[j], p->dy[j]);
        if (inside(F, qx, qy) && qy >= y0 && qy < y1 && isfinite(p->d[0])) {
            const struct cm_match *q = &N->m[(size_t)qy * F->w + qx];
            if (isfinite(q->d[0]))
                consider(F, m, x, y, 2 * p->dx[0] - q->dx[0], 2 * p->dy[0] - q->dy[0]);
        }
    }
    /* Local refinement: the offsets of a rotated or rescaled copy change by a fraction of a
     * pixel per pixel, which neither predictor follows on the integer grid; one step to the
     * best of the 4 neighbouring offsets keeps the propagated match on the true map. */
    int cx = m->dx[0], cy = m->dy[0];
    consider(F, m, x, y, cx - 1, cy);
    consider(F, m, x, y, cx + 1, cy);
    consider(F, m, x, y, cx, cy - 1);
    consider(F, m, x, y, cx, cy + 1);
    /* Random search (PatchMatch): radii halving from the image size down to 2, around the best
     * match, plus one uniform draw that keeps the other kept matches exploring. */
    int bx = m->dx[0], by = m->dy[0];
    for (int r = F->w > F->h ? F->w : F->h; r >= 2; r /= 2)
        consider(F, m, x, y, bx + (int)cm_below(s, 2 * r + 1) - r,
                 by + (int)cm_below(s, 2 * r + 1) - r);
    int tx = CM_R + (int)cm_below(s, F->w - 2 * CM_R);
    int ty = CM_R + (int)cm_below(s, F->h - 2 * CM_R);
    consider(F, m, x, y, tx - x, ty - y);
}

/* One band of rows per task: propagation stays inside the band (no data race between
 * threads); the band boundaries move between passes so information crosses them. */
static void patchmatch_band(void *ctx, int b)
{
    struct cm_nnf *N = ctx;
    const struct cm_features *F = N->F;
    int rows = (F->h + N->bands - 1) / N->bands;
    int y0 = b * rows - N->shift, y1 = y0 + rows;
    if (b == N->bands)
        y1 = F->h;
    y0 = y0 < CM_R ? CM_R : y0;
    y1 = y1 > F->h - CM_R ? F->h - CM_R : y1;
    unsigned s = N->seed ^ (unsigned)(b * 2654435761u) ^ (unsigned)(N->iter * 40503u);
    int dir = N->iter % 2 ? -1 : 1;
    for (int i = 0; i < y1 - y0; i++) {
        int y = dir > 0 ? y0 + i : y1 - 1 - i;
        for (int j = 0; j < F->w - 2 * CM_R; j++) {
            int x = dir > 0 ? CM_R + j : F->w - CM_R - 1 - j;
            if (N->iter < 0)
                random_init(F, &N->m[(size_t)y * F->w + x], x, y, &s);
            else
                update_pixel(N, x, y, y0, y1, dir, &s);
        }
    }
}

static void patchmatch(const struct cm_features *F, struct cm_match *m)
{
    struct cm_nnf N = {F, m, -1, 1, 0, 0x2545f491u};
    N.bands = F->h / 128 < 1 ? 1 : (F->h / 128 > 16 ? 16 : F->h / 128);
    int rows = (F->h + N.bands - 1) / N.bands;
    for (N.iter = -1; N.iter < CM_ITERATIONS; N.iter++) {
        N.shift = N.iter % 2 ? rows / 2 : 0;
        um_parallel_for(N.bands + 1, patchmatch_band, &N, 0);
    }
}

/* ---- Step 3: post-processing --------------------------------------------------------------- */

struct cm_field {
    const struct cm_features *F;
    const struct cm_match *m;
    float *ox, *oy;          /* median-filtered best offset (0 outside the valid area) */
    unsigned char *cand;     /* pixels passing the dense linear fit */
    double *integral;        /* 8 integral images of (w+1) x (h+1) */
};

/* The k-th smallest of v[0..n-1] (Hoare's quickselect; v is reordered). */
static int select_kth(int *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int pivot = v[(lo + hi) / 2], i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                int t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

/* The offsets' median over a (2 CM_MEDIAN_R + 1)^2 window: removes isolated wrong matches
 * without blurring the field's edges (paper Sec. III-C). */
static void median_row(void *ctx, int y)
{
    struct cm_field *V = ctx;
    const struct cm_features *F = V->F;
    if (y < CM_R || y >= F->h - CM_R)
        return;
    enum { SIDE = 2 * CM_MEDIAN_R + 1 };
    int vx[SIDE * SIDE], vy[SIDE * SIDE];
    for (int x = CM_R; x < F->w - CM_R; x++) {
        int n = 0;
        for (int j = -CM_MEDIAN_R; j <= CM_MEDIAN_R; j++)
            for (int i = -CM_MEDIAN_R; i <= CM_MEDIAN_R; i++) {
                if (!inside(F, x + i, y + j))
                    continue;
                const struct cm_match *q = &V->m[(size_t)(y + j) * F->w + x + i];
                vx[n] = q->dx[0];
                vy[n++] = q->dy[0];
            }
        V->ox[(size_t)y * F->w + x] = (float)select_kth(vx, n, n / 2);
        V->oy[(size_t)y * F->w + x] = (float)select_kth(vy, n, n / 2);
    }
}

/* Integral images (double: sums of x * d reach 1e12) of d, x d, y d, d^2 for d = ox, oy. */
static void build_integrals(struct cm_field *V)
{
    const struct cm_features *F = V->F;
    size_t W1 = (size_t)F->w + 1, plane = W1 * (F->h + 1);
    memset(V->integral, 0, 8 * plane * sizeof *V->integral);
    for (int y = 0; y < F->h; y++) {
        double row[8] = {0};
        for (int x = 0; x < F->w; x++) {
            size_t at = (size_t)y * F->w + x;
            for (int c = 0; c < 2; c++) {
                double d = c ? V->oy[at] : V->ox[at];
                row[4 * c] += d;
                row[4 * c + 1] += x * d;
                row[4 * c + 2] += y * d;
                row[4 * c + 3] += d * d;
            }
            for (int q = 0; q < 8; q++)
                V->integral[q * plane + (y + 1) * W1 + x + 1] =
                    V->integral[q * plane + y * W1 + x + 1] + row[q];
        }
    }
}

static double box_sum(const struct cm_field *V, int q, int x0, int y0, int x1, int y1)
{
    size_t W1 = (size_t)V->F->w + 1, plane = W1 * (V->F->h + 1);
    const double *I = V->integral + q * plane;
    return I[(size_t)(y1 + 1) * W1 + x1 + 1] - I[(size_t)y0 * W1 + x1 + 1] -
           I[(size_t)(y1 + 1) * W1 + x0] + I[(size_t)y0 * W1 + x0];
}

/* Dense linear fitting (paper Sec. III-C): in the window centred on (x, y), the least-squares
 * affine model d = c + a (x' - x) + b (y' - y) of each offset component. The window is
 * symmetric, so the normal matrix is diagonal (N, Sxx, Syy) and the residual is
 * (sum d^2 - (sum d)^2 / N - (sum x'd)^2 / Sxx - (sum y'd)^2 / Syy) / N, per component. */
static double fit_residual(const struct cm_field *V, int x, int y)
{
    int r = CM_FIT_R, side = 2 * r + 1;
    double n = (double)side * side, sxx = side * (r * (r + 1.0) * (2 * r + 1.0) / 3.0);
    double e = 0;
    for (int c = 0; c < 2; c++) {
        double s = box_sum(V, 4 * c, x - r, y - r, x + r, y + r);
        double sx = box_sum(V, 4 * c + 1, x - r, y - r, x + r, y + r) - x * s;
        double sy = box_sum(V, 4 * c + 2, x - r, y - r, x + r, y + r) - y * s;
        double ss = box_sum(V, 4 * c + 3, x - r, y - r, x + r, y + r);
        e += (ss - s * s / n - sx * sx / sxx - sy * sy / sxx) / n;
    }
    return e / 2;
}

static void fit_row(void *ctx, int y)
{
    struct cm_field *V = ctx;
    const struct cm_features *F = V->F;
    int b = CM_R + CM_FIT_R;
    if (y < b || y >= F->h - b)
        return;
    for (int x = b; x < F->w - b; x++) {
        size_t at = (size_t)y * F->w + x;
        float dx = V->ox[at], dy = V->oy[at];
        int tx = x + (int)dx, ty = y + (int)dy;
        V->cand[at] = F->tex[at] && dx * dx + dy * dy >= CM_MIN_OFFSET * CM_MIN_OFFSET &&
                      inside(F, tx, ty) && fit_residual(V, x, y) <= CM_FIT_MAX;
    }
}

static um_error verify_field(const struct cm_features *F, const struct cm_match *m,
                             struct cm_field *V)
{
    size_t plane = (size_t)F->w * F->h, iplane = ((size_t)F->w + 1) * (F->h + 1);
    V->F = F;
    V->m = m;
    V->ox = calloc(plane, sizeof *V->ox);
    V->oy = calloc(plane, sizeof *V->oy);
    V->cand = calloc(plane, 1);
    V->integral = malloc(8 * iplane * sizeof *V->integral);
    if (!V->ox || !V->oy || !V->cand || !V->integral)
        return UM_ERR_NOMEM;
    um_parallel_for(F->h, median_row, V, 0);
    build_integrals(V);
    um_parallel_for(F->h, fit_row, V, 0);
    free(V->integral);
    V->integral = NULL;
    return UM_OK;
}

/* ---- Regions and their mates --------------------------------------------------------------- */

struct cm_region {
    int label;
    long pixels;
    double a[6];           /* target = (a0 x + a1 y + a2, a3 x + a4 y + a5), working pixels */
    int x0, y0, x1, y1;    /* source bounding box */
    int tx0, ty0, tx1, ty1; /* target (mate) bounding box */
    double ratio;          /* median sqrt(d_best / d_keep): uniqueness of the match */
    double lattice;        /* share of pixels whose second match is at -d or 2 d */
    double mdx, mdy;       /* mean (median-filtered) offset */
    double log10_nfa;
};

/* 8-connected components of cand by an explicit stack; label[i] = component index + 1. */
static int label_components(const unsigned char *cand, int w, int h, int *label, int *stack,
                            long *sizes, int max_labels)
{
    int n = 0;
    memset(label, 0, (size_t)w * h * sizeof *label);
    for (size_t seed = 0; seed < (size_t)w * h; seed++) {
        if (!cand[seed] || label[seed] || n >= max_labels)
            continue;
        long top = 0, count = 0;
        label[seed] = ++n;
        stack[top++] = (int)seed;
        while (top > 0) {
            int p = stack[--top], px = p % w, py = p / w;
            count++;
            for (int j = -1; j <= 1; j++)
                for (int i = -1; i <= 1; i++) {
                    int qx = px + i, qy = py + j;
                    if (qx < 0 || qy < 0 || qx >= w || qy >= h)
                        continue;
                    size_t q = (size_t)qy * w + qx;
                    if (cand[q] && !label[q]) {
                        label[q] = n;
                        stack[top++] = (int)q;
                    }
                }
        }
        sizes[n - 1] = count;
    }
    return n;
}

/* Least-squares affine map s -> s + o(s) over the region's pixels (3 x 3 normal equations,
 * solved by Cramer's rule; the region is large, so the matrix is well conditioned). */
static int fit_region_affine(const struct cm_field *V, const int *label, struct cm_region *R)
{
    const struct cm_features *F = V->F;
    double S[3][3] = {{0}}, bx[3] = {0}, by[3] = {0};
    for (int y = R->y0; y <= R->y1; y++)
        for (int x = R->x0; x <= R->x1; x++) {
            size_t at = (size_t)y * F->w + x;
            if (label[at] != R->label)
                continue;
            double v[3] = {x, y, 1}, tx = x + V->ox[at], ty = y + V->oy[at];
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++)
                    S[i][j] += v[i] * v[j];
                bx[i] += v[i] * tx;
                by[i] += v[i] * ty;
            }
        }
    double det = S[0][0] * (S[1][1] * S[2][2] - S[1][2] * S[2][1]) -
                 S[0][1] * (S[1][0] * S[2][2] - S[1][2] * S[2][0]) +
                 S[0][2] * (S[1][0] * S[2][1] - S[1][1] * S[2][0]);
    if (fabs(det) < 1e-9)
        return -1;
    for (int c = 0; c < 2; c++) {
        const double *b = c ? by : bx;
        for (int k = 0; k < 3; k++) {
            double M[3][3];
            memcpy(M, S, sizeof M);
            for (int i = 0; i < 3; i++)
                M[i][k] = b[i];
            R->a[3 * c + k] = (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                               M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                               M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0])) /
                              det;
        }
    }
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    return (*(const float *)a > *(const float *)b) - (*(const float *)a < *(const float *)b);
}

/* The region's mate box, uniqueness ratio and NFA.
 * NFA (a contrario, in the spirit of Desolneux-Moisan-Morel): on a grid of step CM_R (patches
 * that barely overlap, so nearly independent), count the n samples of the region and the k
 * whose raw PatchMatch offset lands within CM_NFA_TOL pixels of the pair's affine model. With no
 * clone, a best match lands anywhere among the T candidate positions, so a sample agrees with a
 * given model with probability p = pi tol^2 / T. Tests: every region (T of them, one per seed
 * pixel) against every model (T translations): NFA = T^2 P[Bin(n, p) >= k]. */
static int describe_region(const struct cm_field *V, const int *label, struct cm_region *R,
                           float *scratch)
{
    const struct cm_features *F = V->F;
    double T = (double)(F->w - 2 * CM_R) * (F->h - 2 * CM_R);
    double p = M_PI * CM_NFA_TOL * CM_NFA_TOL / T;
    long n = 0, k = 0, nr = 0, lattice = 0;
    R->tx0 = F->w;
    R->ty0 = F->h;
    R->tx1 = R->ty1 = -1;
    for (int y = R->y0; y <= R->y1; y++)
        for (int x = R->x0; x <= R->x1; x++) {
            size_t at = (size_t)y * F->w + x;
            if (label[at] != R->label)
                continue;
            const struct cm_match *m = &V->m[at];
            double tx = R->a[0] * x + R->a[1] * y + R->a[2];
            double ty = R->a[3] * x + R->a[4] * y + R->a[5];
            R->tx0 = (int)fmin(R->tx0, floor(tx));
            R->ty0 = (int)fmin(R->ty0, floor(ty));
            R->tx1 = (int)fmax(R->tx1, ceil(tx));
            R->ty1 = (int)fmax(R->ty1, ceil(ty));
            double ox = tx - x, oy = ty - y, tol = 2 + 0.1 * hypot(ox, oy);
            lattice += hypot(m->dx[1] + ox, m->dy[1] + oy) <= tol ||
                       hypot(m->dx[1] - 2 * ox, m->dy[1] - 2 * oy) <= tol;
            scratch[nr++] = isfinite(m->d[CM_KEEP - 1]) && m->d[CM_KEEP - 1] > 0
                                ? sqrtf(m->d[0] / m->d[CM_KEEP - 1])
                                : 0.0f;
            if (x % CM_R || y % CM_R)
                continue;
            n++;
            double ex = x + m->dx[0] - tx, ey = y + m->dy[0] - ty;
            k += ex * ex + ey * ey <= CM_NFA_TOL * CM_NFA_TOL;
        }
    if (nr == 0)
        return -1;
    qsort(scratch, (size_t)nr, sizeof *scratch, cmp_float);
    R->ratio = scratch[nr / 2];
    R->lattice = (double)lattice / (double)nr;
    R->log10_nfa = um_log10_nfa(T * T, n, k, p);
    return 0;
}

/* ---- Verdict: pairs, map, report ----------------------------------------------------------- */

struct cm_state {
    struct cm_work wk;
    struct cm_features F;
    struct cm_match *m;
    struct cm_field V;
    int *label, *stack;
    long *sizes;
    float *scratch;
    unsigned char *mark; /* pixels of accepted pairs (source and mate), working resolution */
    struct cm_region pairs[CM_MAX_PAIRS]; /* the accepted pairs */
    int npairs;
    long textured;
    int rejected_repeated;
};

static void free_state(struct cm_state *S)
{
    free(S->wk.lum);
    free(S->wk.chroma[0]);
    free(S->wk.chroma[1]);
    free(S->F.feat);
    free(S->F.code);
    free(S->F.tex);
    free(S->F.hmom);
    free(S->m);
    free(S->V.ox);
    free(S->V.oy);
    free(S->V.cand);
    free(S->V.integral);
    free(S->label);
    free(S->stack);
    free(S->sizes);
    free(S->scratch);
    free(S->mark);
}

/* Share of the region's pixels already marked as part of an accepted pair: the second side of
 * a pair (B pointing back to A) is found as a region of its own and must not count twice. */
static double claimed_share(const struct cm_state *S, const struct cm_region *R)
{
    long claimed = 0;
    for (int y = R->y0; y <= R->y1; y++)
        for (int x = R->x0; x <= R->x1; x++) {
            size_t at = (size_t)y * S->wk.w + x;
            claimed += S->label[at] == R->label && S->mark[at];
        }
    return (double)claimed / (double)R->pixels;
}

static void mark_pair(struct cm_state *S, const struct cm_region *R)
{
    int w = S->wk.w, h = S->wk.h;
    for (int y = R->y0; y <= R->y1; y++)
        for (int x = R->x0; x <= R->x1; x++) {
            size_t at = (size_t)y * w + x;
            if (S->label[at] != R->label)
                continue;
            S->mark[at] = 1;
            int tx = (int)lround(R->a[0] * x + R->a[1] * y + R->a[2]);
            int ty = (int)lround(R->a[3] * x + R->a[4] * y + R->a[5]);
            if (tx >= 0 && ty >= 0 && tx < w && ty < h)
                S->mark[(size_t)ty * w + tx] = 1;
        }
}

/* The region as a clone record in input pixels: working pixel i covers input pixels
 * k i .. k i + k - 1, centre k i + c0 with c0 = (k - 1) / 2, so the map X -> A X + t becomes
 * A X + (k t + c0 - A c0) on input coordinates. */
static struct um_clone clone_record(const struct cm_state *S, const struct cm_region *R)
{
    int k = S->wk.k;
    double c0 = (k - 1) / 2.0;
    struct um_clone c = {
        .source = {R->x0 * k, R->y0 * k, (R->x1 - R->x0 + 1) * k, (R->y1 - R->y0 + 1) * k},
        .target = {R->tx0 * k, R->ty0 * k, (R->tx1 - R->tx0 + 1) * k, (R->ty1 - R->ty0 + 1) * k},
        .a11 = R->a[0], .a12 = R->a[1], .a21 = R->a[3], .a22 = R->a[4],
        .support = R->pixels * k * k, .support_unit = "pixels",
        .has_nfa = 1, .log10_nfa = R->log10_nfa,
    };
    c.tx = k * R->a[2] + c0 - (R->a[0] + R->a[1]) * c0;
    c.ty = k * R->a[5] + c0 - (R->a[3] + R->a[4]) * c0;
    return c;
}

/* The image's own background of chance matches: on text, tiles or a crowd, matched regions the
 * size of the repeated element turn up all over the image, each at its own offset, and one
 * more of them is no evidence. A pair is set aside when CM_MAX_RIVALS or more other regions at
 * least a quarter of its size match at other offsets (not its own offset d, nor the -d of its mate). */
static int has_rivals(const struct cm_region *R, int n, const struct cm_region *r)
{
    double d = hypot(r->mdx, r->mdy), tol = 0.25 * d + 8;
    int rivals = 0;
    for (int i = 0; i < n && 4 * R[i].pixels >= r->pixels; i++) {
        int same = hypot(R[i].mdx - r->mdx, R[i].mdy - r->mdy) < tol ||
                   hypot(R[i].mdx + r->mdx, R[i].mdy + r->mdy) < tol;
        rivals += !same;
    }
    return rivals >= CM_MAX_RIVALS;
}

/* The periodic-lattice rule, region level: another matched region at least a quarter of this
 * one's size whose offset is twice or half this one's (either sign) means the content repeats
 * with a period, as windows along a facade do: instances 1-2, 2-3 and 1-3 all match. */
static int on_lattice(const struct cm_region *R, int n, const struct cm_region *r)
{
    double tol = 4 + 0.1 * hypot(r->mdx, r->mdy);
    for (int i = 0; i < n && 4 * R[i].pixels >= r->pixels; i++)
        for (int sign = -1; sign <= 1; sign += 2) {
            double hx = sign * R[i].mdx, hy = sign * R[i].mdy;
            if (hypot(hx - 2 * r->mdx, hy - 2 * r->mdy) <= tol ||
                hypot(2 * hx - r->mdx, 2 * hy - r->mdy) <= tol)
                return 1;
        }
    return 0;
}

/* A region becomes a clone pair when it passes every test below; returns 1 if accepted. */
static int judge_region(struct cm_state *S, const struct cm_region *all, int n,
                        struct cm_region *R)
{
    if (R->pixels < CM_MIN_REGION || claimed_share(S, R) > 0.5)
        return 0;
    if (fit_region_affine(&S->V, S->label, R) != 0 ||
        describe_region(&S->V, S->label, R, S->scratch) != 0)
        return 0;
    double det = R->a[0] * R->a[4] - R->a[1] * R->a[3], area_scale = fabs(det);
    /* A real copy keeps its size within the tested range; a degenerate map (collapsing or
     * exploding the region) is an artefact of a smooth but meaningless field. */
    if (area_scale < 0.4 || area_scale > 2.5 || R->log10_nfa >= 0)
        return 0;
    /* A mirrored match (det A < 0; the features are blind to reflection) is what bilateral
     * symmetry gives: facades, faces, symmetric objects. Mirrored clones are rare; symmetric
     * scenes are everywhere (CoMoFoD's own originals include a symmetric facade). */
    if (det < 0) {
        S->rejected_repeated++;
        return 0;
    }
    if (R->ratio > CM_MAX_RATIO || R->lattice > CM_MAX_LATTICE || has_rivals(all, n, R) ||
        on_lattice(all, n, R) ||
        (double)R->pixels * (1 + area_scale) > CM_MAX_COVER * (double)S->textured) {
        S->rejected_repeated++;
        return 0;
    }
    return 1;
}

static int cmp_region_size(const void *a, const void *b)
{
    const struct cm_region *p = a, *q = b;
    return (q->pixels > p->pixels) - (q->pixels < p->pixels);
}

static int cmp_clone_nfa(const void *a, const void *b)
{
    const struct um_clone *p = a, *q = b;
    return (p->log10_nfa > q->log10_nfa) - (p->log10_nfa < q->log10_nfa);
}

/* Separable square dilation by CM_R: the fit window and the aperture erode a detected region
 * by about the patch radius (paper Sec. III-C dilates it back). */
static um_error dilate_into_map(const struct cm_state *S, float *map)
{
    int w = S->wk.w, h = S->wk.h;
    unsigned char *tmp = calloc((size_t)w * h, 1);
    if (!tmp)
        return UM_ERR_NOMEM;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int i = -CM_R; i <= CM_R && !tmp[(size_t)y * w + x]; i++)
                if (x + i >= 0 && x + i < w && S->mark[(size_t)y * w + x + i])
                    tmp[(size_t)y * w + x] = 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int j = -CM_R; j <= CM_R; j++)
                if (y + j >= 0 && y + j < h && tmp[(size_t)(y + j) * w + x]) {
                    map[(size_t)y * w + x] = 1.0f;
                    break;
                }
    free(tmp);
    return UM_OK;
}

/* The exactness of the copy (um_copy_exactness) under the affine map a over the box x0..x1,
 * y0..y1 of the working image grown by CM_R, kept in best[] where higher (best is the maximum
 * over the pairs and both directions). */
static um_error grade_box(const struct cm_state *S, const float *detail, const double a[6],
                          int x0, int y0, int x1, int y1, float *best)
{
    int w = S->wk.w, h = S->wk.h;
    x0 = x0 - CM_R < 0 ? 0 : x0 - CM_R, y0 = y0 - CM_R < 0 ? 0 : y0 - CM_R;
    x1 = x1 + CM_R >= w ? w - 1 : x1 + CM_R, y1 = y1 + CM_R >= h ? h - 1 : y1 + CM_R;
    if (x1 < x0 || y1 < y0)
        return UM_OK;
    int rw = x1 - x0 + 1, rh = y1 - y0 + 1;
    float *q = malloc((size_t)rw * rh * sizeof *q);
    if (!q || um_copy_exactness(detail, w, h, a, x0, y0, rw, rh, q) != UM_OK) {
        free(q);
        return UM_ERR_NOMEM;
    }
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            float *b = &best[(size_t)(y + y0) * w + x + x0];
            *b = fmaxf(*b, q[(size_t)y * rw + x]);
        }
    free(q);
    return UM_OK;
}

/* Grades the dilated map (1 on every accepted pair, grown by CM_R) from 0.5 to 1 by how exactly
 * each pixel is copied under its pair's map, source to target and back: the dilation restores
 * what the aperture and the fit window eroded, and also covers a rim that was never copied;
 * the grade tells them apart (the map at 0.5 is unchanged). */
static um_error grade_map(const struct cm_state *S, float *map)
{
    int w = S->wk.w, h = S->wk.h;
    size_t n = (size_t)w * h;
    float *detail = malloc(n * sizeof *detail), *best = calloc(n, sizeof *best);
    um_error err = detail && best ? UM_OK : UM_ERR_NOMEM;
    if (err == UM_OK) {
        /* The luma minus its 5x5 mean: shading alone must not count as a copy. */
        um_box_filter(S->wk.lum, w, h, 2, detail);
        for (size_t i = 0; i < n; i++)
            detail[i] = S->wk.lum[i] - detail[i];
    }
    for (int p = 0; p < S->npairs && err == UM_OK; p++) {
        const struct cm_region *R = &S->pairs[p];
        const double *a = R->a;
        double det = a[0] * a[4] - a[1] * a[3]; /* > 0: judge_region */
        double inv[6] = {a[4] / det, -a[1] / det, 0, -a[3] / det, a[0] / det, 0};
        inv[2] = -(inv[0] * a[2] + inv[1] * a[5]);
        inv[5] = -(inv[3] * a[2] + inv[4] * a[5]);
        err = grade_box(S, detail, a, R->x0, R->y0, R->x1, R->y1, best);
        if (err == UM_OK)
            err = grade_box(S, detail, inv, R->tx0, R->ty0, R->tx1, R->ty1, best);
    }
    for (size_t i = 0; i < n && err == UM_OK; i++)
        if (map[i] > 0)
            map[i] = 0.5f + 0.5f * best[i];
    free(detail);
    free(best);
    return err;
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
    return i;
}

/* Whether fragments p and q belong to one copy: their boxes are at most CM_MERGE_GAP apart and
 * their mean offsets agree up to what a rotation or rescaling of +-25 % changes across the
 * distance between them (the offset of a rotated or scaled copy varies linearly with position). */
static int same_copy(const struct cm_region *p, const struct cm_region *q)
{
    int gx = q->x0 - p->x1 > p->x0 - q->x1 ? q->x0 - p->x1 : p->x0 - q->x1;
    int gy = q->y0 - p->y1 > p->y0 - q->y1 ? q->y0 - p->y1 : p->y0 - q->y1;
    if (gx > CM_MERGE_GAP || gy > CM_MERGE_GAP)
        return 0;
    double dist = 0.5 * hypot(p->x0 + p->x1 - q->x0 - q->x1, p->y0 + p->y1 - q->y0 - q->y1);
    return hypot(p->mdx - q->mdx, p->mdy - q->mdy) <= 4 + 0.25 * dist;
}

/* One copied region often reaches the fit as several fragments: a flat patch or an edge of the
 * copy inside it fails the texture test or the fit, and cuts it apart (CoMoFoD's clones come
 * out in two to four pieces). Fragments of one copy share its smooth offset field, so the
 * largest CM_MAX_FRAGMENTS components are joined (union-find) when same_copy holds, and the
 * region tests below judge the whole. Joined regions take the root's label. */
static um_error merge_fragments(struct cm_state *S, struct cm_region *R, int n)
{
    int m = n < CM_MAX_FRAGMENTS ? n : CM_MAX_FRAGMENTS;
    while (m > 0 && R[m - 1].pixels < CM_MIN_FRAGMENT)
        m--;
    int *parent = malloc(((size_t)m + 1) * sizeof *parent);
    int *relabel = calloc((size_t)n + 1, sizeof *relabel);
    if (!parent || !relabel) {
        free(parent);
        free(relabel);
        return UM_ERR_NOMEM;
    }
    for (int i = 0; i < m; i++)
        parent[i] = i;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++)
            if (same_copy(&R[i], &R[j]))
                parent[find_root(parent, j)] = find_root(parent, i);
    int merged = 0;
    for (int i = 0; i < m; i++) {
        int r = find_root(parent, i);
        if (r == i)
            continue;
        struct cm_region *a = &R[r], *b = &R[i];
        double wa = (double)a->pixels, wb = (double)b->pixels;
        a->mdx = (a->mdx * wa + b->mdx * wb) / (wa + wb);
        a->mdy = (a->mdy * wa + b->mdy * wb) / (wa + wb);
        a->pixels += b->pixels;
        a->x0 = b->x0 < a->x0 ? b->x0 : a->x0;
        a->y0 = b->y0 < a->y0 ? b->y0 : a->y0;
        a->x1 = b->x1 > a->x1 ? b->x1 : a->x1;
        a->y1 = b->y1 > a->y1 ? b->y1 : a->y1;
        relabel[b->label] = a->label;
        b->pixels = 0;
        merged = 1;
    }
    if (merged)
        for (size_t at = 0; at < (size_t)S->wk.w * S->wk.h; at++)
            if (S->label[at] && relabel[S->label[at]])
                S->label[at] = relabel[S->label[at]];
    free(parent);
    free(relabel);
    return UM_OK;
}

static um_error find_pairs(struct cm_state *S, struct um_clone *clones, int *nclones)
{
    int w = S->wk.w, h = S->wk.h;
    size_t plane = (size_t)w * h;
    S->label = malloc(plane * sizeof *S->label);
    S->stack = malloc(plane * sizeof *S->stack);
    S->scratch = malloc(plane * sizeof *S->scratch);
    S->mark = calloc(plane, 1);
    S->sizes = malloc(plane * sizeof *S->sizes); /* at most one component per pixel */
    if (!S->label || !S->stack || !S->scratch || !S->mark || !S->sizes)
        return UM_ERR_NOMEM;
    int n = label_components(S->V.cand, w, h, S->label, S->stack, S->sizes, (int)plane);
    struct cm_region *R = calloc((size_t)n + 1, sizeof *R);
    if (!R)
        return UM_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        R[i] = (struct cm_region){.label = i + 1, .pixels = S->sizes[i], .x0 = w, .y0 = h,
                                  .x1 = -1, .y1 = -1};
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int l = S->label[(size_t)y * w + x];
            if (!l)
                continue;
            struct cm_region *r = &R[l - 1];
            r->mdx += S->V.ox[(size_t)y * w + x] / (double)r->pixels;
            r->mdy += S->V.oy[(size_t)y * w + x] / (double)r->pixels;
            r->x0 = x < r->x0 ? x : r->x0;
            r->y0 = y < r->y0 ? y : r->y0;
            r->x1 = x > r->x1 ? x : r->x1;
            r->y1 = y > r->y1 ? y : r->y1;
        }
    qsort(R, (size_t)n, sizeof *R, cmp_region_size);
    if (merge_fragments(S, R, n) != UM_OK) {
        free(R);
        return UM_ERR_NOMEM;
    }
    qsort(R, (size_t)n, sizeof *R, cmp_region_size);
    *nclones = 0;
    for (int i = 0; i < n && R[i].pixels >= CM_MIN_REGION && *nclones < CM_MAX_PAIRS; i++)
        if (judge_region(S, R, n, &R[i])) {
            mark_pair(S, &R[i]);
            S->pairs[S->npairs++] = R[i];
            clones[(*nclones)++] = clone_record(S, &R[i]);
        }
    free(R);
    qsort(clones, (size_t)*nclones, sizeof *clones, cmp_clone_nfa);
    return UM_OK;
}

static long count_textured(const struct cm_features *F)
{
    long n = 0;
    for (size_t i = 0; i < (size_t)F->w * F->h; i++)
        n += F->tex[i];
    return n;
}

/* Clone records, score (0 without a verified pair; else 1 - NFA^(1/10) / 2 for the strongest
 * pair: 0.5 at NFA = 1, near 1 for the overwhelming evidence a real clone gives), details. */
static um_error report_evidence(struct um_evidence *ev, const struct cm_state *S,
                                const struct um_clone *clones, int nclones)
{
    um_error err = um_clones_report(ev, clones, nclones);
    if (err != UM_OK)
        return err;
    ev->score = nclones ? 1.0 - 0.5 * pow(10.0, clones[0].log10_nfa / 10.0) : 0.0;
    ev->has_nfa = nclones > 0;
    ev->log10_nfa = nclones ? clones[0].log10_nfa : 0;
    json_object_set_new(ev->details, "working_size",
                        json_pack("[i, i]", S->wk.w, S->wk.h));
    json_object_set_new(ev->details, "rejected_repeated",
                        json_integer(S->rejected_repeated));
    if (!nclones)
        um_evidence_add_headline(ev, "no region was found copied elsewhere in the image%s",
                                 S->rejected_repeated ? " (matches on repeated structure "
                                                       "were set aside)" : "");
    return UM_OK;
}

static um_error copymove_dense_run(const struct um_input *in, struct um_evidence *ev)
{
    const um_image *luma = in->luma;
    if (luma->width < CM_MIN_SIDE || luma->height < CM_MIN_SIDE) {
        um_evidence_not_applicable(ev, "the image is too small for dense copy-move search: it "
                                       "needs at least %d x %d pixels", CM_MIN_SIDE, CM_MIN_SIDE);
        return UM_OK;
    }
    if (um_textured_blocks(luma) < CM_MIN_TEXTURED) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: there is no texture to "
                                       "match copied regions by");
        return UM_OK;
    }
    struct cm_state S = {0};
    struct um_clone clones[CM_MAX_PAIRS];
    int nclones = 0;
    um_error err = working_image(luma, in->decoded ? in->decoded->rgb : NULL, &S.wk);
    if (err == UM_OK && (S.wk.w < CM_MIN_SIDE || S.wk.h < CM_MIN_SIDE)) {
        /* A very elongated image: reduced to the working size it is too thin to search. */
        free_state(&S);
        um_evidence_not_applicable(ev, "the image is too small (too narrow) for dense copy-move "
                                       "search at its working resolution");
        return UM_OK;
    }
    if (err == UM_OK)
        err = compute_features(&S.wk, &S.F);
    if (err == UM_OK && !(S.m = malloc((size_t)S.wk.w * S.wk.h * sizeof *S.m)))
        err = UM_ERR_NOMEM;
    if (err == UM_OK) {
        patchmatch(&S.F, S.m);
        err = verify_field(&S.F, S.m, &S.V);
    }
    S.textured = err == UM_OK ? count_textured(&S.F) : 0;
    if (err == UM_OK)
        err = find_pairs(&S, clones, &nclones);
    float *map = err == UM_OK ? um_evidence_alloc_map(ev, S.wk.w, S.wk.h, S.wk.k) : NULL;
    if (err == UM_OK && !map)
        err = UM_ERR_NOMEM;
    if (err == UM_OK) {
        ev->applicable = 1;
        err = dilate_into_map(&S, map);
    }
    if (err == UM_OK)
        err = grade_map(&S, map);
    if (err == UM_OK)
        err = report_evidence(ev, &S, clones, nclones);
    free_state(&S);
    return err;
}

const struct um_detector um_detector_copymove_dense = {
    .name = "copymove-dense",
    .family = "copy-move",
    .summary = "Dense-field copy-move: regions copied elsewhere in the same image, possibly "
               "rotated or rescaled (Zernike features, PatchMatch, dense linear fitting; "
               "Cozzolino, Poggi & Verdoliva 2015)",
    .limits = "Works at most at 0.5 MP (larger images are box-reduced by an integer factor: "
              "800 x 600 for 12 MP), so clones under about 20 x 20 working pixels, flat or "
              "blurred clones, and scalings beyond about +-20% are missed; a region copied "
              "twice or more, a mirrored copy, and naturally repeated objects are set aside as "
              "repeated structure.",
    .needs = 0,
    .run = copymove_dense_run,
};
