/* splicebuster: blind splicing localization from local co-occurrence features of the noise
 * residual.
 *
 * Cozzolino, Poggi & Verdoliva, "Splicebuster: a new blind image splicing detector", IEEE WIFS
 * 2015; the features are those of the "rich models" of Fridrich & Kodovsky, "Rich models for
 * steganalysis of digital images", IEEE TIFS 7(3), 2012.
 *
 * Every camera and processing chain (sensor noise, demosaicing, sharpening, compression) leaves
 * its own fine texture in the high-pass residual of an image; a region pasted from another photo
 * carries another. No training: the image itself is modelled. Steps (paper Sec. II):
 *   1. residuals of the luminance by the third-order filters (eq. 1)
 *        rh(x, y) = L(x-1, y) - 3 L(x, y) + 3 L(x+1, y) - L(x+2, y)
 *      and the same along y (rv);
 *   2. quantized and truncated (eq. 2): round(r / (q c)) clipped to -T..T, with c = 3 the
 *      filter's central coefficient and q = 2, T = 1 (the authors' parameters, in the rich-model
 *      notation where the step is q times c): 3 levels;
 *   3. co-occurrences of 4 consecutive quantized residuals, along the residual's direction
 *      (rh along x, rv along y) and across it (rh along y, rv along x): 3^4 = 81 codes each,
 *      folded by the rich model's symmetries (a code equals its reverse, and its negation:
 *      the statistics of natural images do not change under them) to 25 classes; the "along"
 *      and "across" histograms, each pooling the x and y versions, give 50 features;
 *   4. per window of W x W pixels (W = 128, or 64 on images under 512 pixels a side), sliding
 *      by one cell, the normalised
 *      histogram, square-rooted (the paper's power normalisation: a Hellinger-type mapping that
 *      makes the counts' variance nearly uniform), reduced by PCA to SB_PCA dimensions and
 *      whitened. Here the counts are made once per cell (8 x 8 pixels, or coarser on large
 *      images) and each window's counts are a sum over the cell grid (an integral image);
 *   5. EM on the image's own windows (Sec. II-B): pristine windows are Gaussian, forged ones are
 *      uniform over the feature range (nothing is known about the splice); the posterior
 *      probability of the uniform ("forged") class per window is the heat map. The pristine
 *      class is required to be the majority (pi >= 1/2), as the paper assumes.
 * Sliding windows cover the image unevenly: a central pixel lies in k x k windows, a corner
 * pixel in one. Fitted on the windows as they come, the PCA and the Gaussian describe the
 * centre's texture, and the edges look foreign (on CASIA v1, where splices are mostly central,
 * this put the map below chance: fit-half pixel AUC 0.44; a plain "distance from the centre"
 * map scores 0.35). Each window is therefore weighted so that every pixel counts once in the
 * PCA and the EM (coverage_weights). Measured (fit half, 200 + 200 images): pixel AUC 0.44 ->
 * 0.57 with this weighting, the 64-pixel window and the softer distance gate below.
 * Windows with many clipped (black or white) pixels are left out, as the authors do: clipping
 * zeroes the residual and would look like another camera. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/regions.h"
#include "detect/detector.h"
#include "detect/requant.h"

enum {
    SB_T = 1,                         /* truncation: residual levels -T..T */
    SB_BASE = 2 * SB_T + 1,
    SB_ORDER = 4,                     /* residuals per co-occurrence */
    SB_CODES = SB_BASE * SB_BASE * SB_BASE * SB_BASE,
    /* Orbits of the 4-tuples under {identity, reverse, negate, reverse+negate} (Burnside):
     * (B^4 + B^2 + 1 + B^2) / 4 = ((B^2 + 1) / 2)^2: 25 for T = 1, 169 for T = 2. */
    SB_CLASSES = ((SB_BASE * SB_BASE + 1) / 2) * ((SB_BASE * SB_BASE + 1) / 2),
    SB_FEATURES = 2 * SB_CLASSES,     /* "along" and "across" histograms */
    SB_PCA = 25,                      /* dimensions kept (the authors' choice) */
    SB_MIN_CELL = 8,                  /* window stride: 8 pixels ... */
    SB_WINDOW = 128,                  /* window side in pixels (the paper's W) ... */
    SB_SMALL_WINDOW = 64,             /* ... halved on images under SB_SMALL_SIDE pixels */
    SB_SMALL_SIDE = 512,
    SB_MAX_CELLS = 65536,             /* ... doubled while the cell grid is larger than this */
    SB_MIN_WINDOWS = 64,              /* fewer valid windows cannot fit a 25-d Gaussian */
    SB_MIN_TEXTURED = 16,             /* textured 8x8 blocks needed at all (requant.h) */
    SB_EM_SAMPLE = 2000,              /* windows the EM is fitted on (an even sample) */
    SB_EM_STARTS = 3,                 /* deterministic restarts; the best likelihood wins */
    SB_EM_ITERATIONS = 40,
    SB_BORDER = 0                     /* region search: edge cells count too */
};
#define SB_STEP 6.0f          /* quantization step q c = 2 x 3 grey levels */
#define SB_DARK 6.0f          /* pixels at or below / at or above these are clipped */
#define SB_BRIGHT 249.0f
#define SB_MIN_USABLE 0.85    /* share of unclipped pixels a window needs */
#define SB_HIGH 0.5f          /* posterior from which a window counts as "forged" */
#define SB_COV_FLOOR 1e-3
/* The forged class's density in the whitened 25-d feature space: -log u = 42, the authors'
 * constant (a box of side e^(42/25) = 5.4 standard deviations; scaled with the dimension when
 * fewer components are kept). The uniform spanning the windows' own range was tried: on
 * 768 x 512 test splices it is so diffuse that nothing is ever outlying. */
#define SB_UNIFORM_NLOGL 42.0
/* A window's evidence is its forged posterior times how far it lies from the pristine model:
 * nothing at a squared Mahalanobis distance of SB_FAR_FROM x dims (the mean of a Gaussian
 * sample is 1 x dims), full at SB_FAR_FULL x dims. (4 and 16 were tried: on CASIA v1 they
 * zeroed most of the posterior, fit-half pixel AUC 0.51 against 0.57.) */
#define SB_FAR_FROM 1.0
#define SB_FAR_FULL 4.0

/* ---- Steps 1-3: per-cell co-occurrence histograms ----------------------------------------- */

/* Class of each code: codes in one orbit of the symmetries share the class of the orbit's
 * smallest member; classes are numbered in increasing order of that member. */
static void symmetry_classes(uint8_t cls[SB_CODES])
{
    int rep_class[SB_CODES];
    int next = 0;
    for (int code = 0; code < SB_CODES; code++) {
        int d[SB_ORDER], c = code;
        for (int i = 0; i < SB_ORDER; i++, c /= SB_BASE)
            d[i] = c % SB_BASE;
        int rev = 0, neg = 0, revneg = 0;
        for (int i = SB_ORDER - 1; i >= 0; i--) {
            rev = rev * SB_BASE + d[SB_ORDER - 1 - i];
            neg = neg * SB_BASE + (SB_BASE - 1 - d[i]);
            revneg = revneg * SB_BASE + (SB_BASE - 1 - d[SB_ORDER - 1 - i]);
        }
        int rep = code;
        rep = rev < rep ? rev : rep;
        rep = neg < rep ? neg : rep;
        rep = revneg < rep ? revneg : rep;
        if (rep == code)
            rep_class[code] = next++;
        cls[code] = (uint8_t)rep_class[rep]; /* rep <= code: already numbered */
    }
}

struct sb_cells {
    const float *luma;
    int width, height;
    int window; /* window side in pixels */
    int cell, cells_x, cells_y;
    uint8_t cls[SB_CODES];
    uint16_t *hist;   /* cells_x * cells_y * SB_FEATURES counts */
    uint16_t *usable; /* per cell: pixels whose codes were counted */
    atomic_int nomem;
};

/* Step 2 for one residual value, as a digit 0..2T. */
static uint8_t quantize(float r)
{
    float q = r * (1.0f / SB_STEP);
    int v = (int)(q + (q >= 0 ? 0.5f : -0.5f));
    v = v < -SB_T ? -SB_T : (v > SB_T ? SB_T : v);
    return (uint8_t)(v + SB_T);
}

/* Step 1-2 for rows y0..y0+n-1: qh (along x) and qv (along y), n x width each. */
static void quantized_residuals(const struct sb_cells *s, int y0, int n, uint8_t *qh,
                                uint8_t *qv)
{
    int w = s->width, h = s->height;
    for (int j = 0; j < n; j++) {
        int y = y0 + j;
        uint8_t *rh = qh + (size_t)j * w, *rv = qv + (size_t)j * w;
        memset(rh, SB_T, (size_t)w); /* zero residual where undefined (never counted) */
        memset(rv, SB_T, (size_t)w);
        if (y >= h)
            continue;
        const float *row = s->luma + (size_t)y * w;
        for (int x = 1; x + 2 < w; x++)
            rh[x] = quantize(row[x - 1] - 3 * row[x] + 3 * row[x + 1] - row[x + 2]);
        if (y >= 1 && y + 2 < h) {
            const float *up = row - w, *d1 = row + w, *d2 = row + 2 * (size_t)w;
            for (int x = 0; x < w; x++)
                rv[x] = quantize(up[x] - 3 * row[x] + 3 * d1[x] - d2[x]);
        }
    }
}

/* Codes of 4 consecutive quantized residuals for x = x0..x1-1 of one row: along x from row q,
 * and along y from the 4 rows q, q + w, q + 2w, q + 3w; written as symmetry classes. */
static void cooccurrence_classes(const struct sb_cells *s, const uint8_t *q, int x0, int x1,
                                 uint8_t *along_x, uint8_t *along_y)
{
    size_t w = (size_t)s->width;
    for (int x = x0; x < x1; x++) {
        int cx = q[x] + SB_BASE * (q[x + 1] + SB_BASE * (q[x + 2] + SB_BASE * q[x + 3]));
        int cy = q[x] + SB_BASE * (q[x + w] + SB_BASE * (q[x + 2 * w] + SB_BASE * q[x + 3 * w]));
        along_x[x] = s->cls[cx];
        along_y[x] = s->cls[cy];
    }
}

/* Step 3 for one row of cells (a um_parallel_for task). Codes are counted at the pixels whose
 * four residuals exist each way (x and y in 1 .. size-6) and which are not clipped. */
static void cell_row_histograms(void *ctx, int cy)
{
    struct sb_cells *s = ctx;
    int w = s->width, c = s->cell, rows = c + SB_ORDER - 1;
    uint8_t *qh = malloc((size_t)rows * w), *qv = malloc((size_t)rows * w);
    uint8_t *codes = malloc(4 * (size_t)w);
    if (!qh || !qv || !codes) {
        atomic_store(&s->nomem, 1);
        free(qh);
        free(qv);
        free(codes);
        return;
    }
    int y0 = cy * c;
    quantized_residuals(s, y0, rows, qh, qv);
    uint8_t *hh = codes, *hv = codes + w, *vh = codes + 2 * (size_t)w, *vv = codes + 3 * (size_t)w;
    uint16_t *hist = s->hist + (size_t)cy * s->cells_x * SB_FEATURES;
    uint16_t *usable = s->usable + (size_t)cy * s->cells_x;
    int x0 = 1, x1 = w - 5 < s->cells_x * c ? w - 5 : s->cells_x * c;
    for (int j = 0; j < c; j++) {
        int y = y0 + j;
        if (y < 1 || y > s->height - 6)
            continue;
        cooccurrence_classes(s, qh + (size_t)j * w, x0, x1, hh, hv);
        cooccurrence_classes(s, qv + (size_t)j * w, x0, x1, vh, vv);
        const float *row = s->luma + (size_t)y * w;
        for (int cx = 0; cx < s->cells_x; cx++) {
            int a = cx * c > x0 ? cx * c : x0, b = (cx + 1) * c < x1 ? (cx + 1) * c : x1;
            uint16_t *hc = hist + (size_t)cx * SB_FEATURES;
            int n = 0;
            for (int x = a; x < b; x++) {
                if (row[x] <= SB_DARK || row[x] >= SB_BRIGHT)
                    continue;
                hc[hh[x]]++; /* along the residual's direction */
                hc[vv[x]]++;
                hc[SB_CLASSES + hv[x]]++; /* across it */
                hc[SB_CLASSES + vh[x]]++;
                n++;
            }
            usable[cx] += (uint16_t)n;
        }
    }
    free(qh);
    free(qv);
    free(codes);
}

/* ---- Step 4: window features ---------------------------------------------------------------- */

struct sb_windows {
    int k;              /* window side in cells */
    int nx, ny;         /* windows along x and y (stride one cell) */
    float *feature;     /* nx * ny * SB_FEATURES: sqrt of the normalised histograms */
    unsigned char *valid;
    size_t nvalid;
};

/* Integral image of the cell histograms (and usable counts as feature SB_FEATURES), so that
 * each window's counts take four look-ups per feature. */
static uint32_t *integral_counts(const struct sb_cells *s)
{
    int cw = s->cells_x, ch = s->cells_y, F = SB_FEATURES + 1;
    uint32_t *I = calloc((size_t)(cw + 1) * (ch + 1) * F, sizeof *I);
    if (!I)
        return NULL;
    for (int y = 0; y < ch; y++) {
        uint32_t run[SB_FEATURES + 1] = {0};
        const uint16_t *hist = s->hist + (size_t)y * cw * SB_FEATURES;
        for (int x = 0; x < cw; x++) {
            uint32_t *out = I + ((size_t)(y + 1) * (cw + 1) + x + 1) * F;
            const uint32_t *above = out - (size_t)(cw + 1) * F;
            for (int f = 0; f < SB_FEATURES; f++) {
                run[f] += hist[(size_t)x * SB_FEATURES + f];
                out[f] = above[f] + run[f];
            }
            run[SB_FEATURES] += s->usable[(size_t)y * cw + x];
            out[SB_FEATURES] = above[SB_FEATURES] + run[SB_FEATURES];
        }
    }
    return I;
}

struct sb_window_job {
    const struct sb_cells *s;
    const uint32_t *I;
    struct sb_windows *win;
};

static void window_row_features(void *ctx, int wy)
{
    const struct sb_window_job *job = ctx;
    const struct sb_cells *s = job->s;
    struct sb_windows *win = job->win;
    int F = SB_FEATURES + 1, stride = s->cells_x + 1, k = win->k;
    double need = SB_MIN_USABLE * (double)(k * s->cell) * (k * s->cell);
    for (int wx = 0; wx < win->nx; wx++) {
        const uint32_t *a = job->I + ((size_t)wy * stride + wx) * F;
        const uint32_t *b = a + (size_t)k * F, *c = a + (size_t)k * stride * F;
        const uint32_t *d = c + (size_t)k * F;
        size_t i = (size_t)wy * win->nx + wx;
        float *out = win->feature + i * SB_FEATURES;
        uint32_t n = d[SB_FEATURES] - b[SB_FEATURES] - c[SB_FEATURES] + a[SB_FEATURES];
        win->valid[i] = n > 0 && (double)n >= need;
        /* Each usable pixel adds two codes to each half. */
        float inv = n > 0 ? 1.0f / (2.0f * (float)n) : 0;
        for (int f = 0; f < SB_FEATURES; f++)
            out[f] = sqrtf((float)(d[f] - b[f] - c[f] + a[f]) * inv);
    }
}

/* ---- Small dense linear algebra (symmetric matrices, row-major, double) ------------------- */

/* Eigen-decomposition of the symmetric n x n matrix A by cyclic Jacobi rotations: A is
 * destroyed, eigenvalues go to lambda (descending) and eigenvectors to the columns of V. */
static void symmetric_eigen(double *A, int n, double *lambda, double *V)
{
    for (int i = 0; i < n * n; i++)
        V[i] = 0;
    for (int i = 0; i < n; i++)
        V[i * n + i] = 1;
    for (int sweep = 0; sweep < 30; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < n; i++) {
            diag += A[i * n + i] * A[i * n + i];
            for (int j = i + 1; j < n; j++)
                off += A[i * n + j] * A[i * n + j];
        }
        if (off <= 1e-16 * (diag + 1e-300))
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double cs = 1 / sqrt(t * t + 1), sn = t * cs;
                for (int k = 0; k < n; k++) { /* A <- A J (columns p, q) */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = cs * akp - sn * akq;
                    A[k * n + q] = sn * akp + cs * akq;
                }
                for (int k = 0; k < n; k++) { /* A <- J^T A (rows p, q) */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = cs * apk - sn * aqk;
                    A[q * n + k] = sn * apk + cs * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = cs * vkp - sn * vkq;
                    V[k * n + q] = sn * vkp + cs * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        lambda[i] = A[i * n + i];
    for (int i = 0; i < n; i++) { /* selection sort, descending, columns follow */
        int m = i;
        for (int j = i + 1; j < n; j++)
            if (lambda[j] > lambda[m])
                m = j;
        if (m == i)
            continue;
        double t = lambda[i];
        lambda[i] = lambda[m];
        lambda[m] = t;
        for (int k = 0; k < n; k++) {
            t = V[k * n + i];
            V[k * n + i] = V[k * n + m];
            V[k * n + m] = t;
        }
    }
}

/* Cholesky factor L (lower) of the n x n matrix S; returns -1 if S is not positive definite. */
static int cholesky(const double *S, int n, double *L)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = S[i * n + j];
            for (int k = 0; k < j; k++)
                s -= L[i * n + k] * L[j * n + k];
            if (i == j) {
                if (!(s > 0))
                    return -1;
                L[i * n + i] = sqrt(s);
            } else {
                L[i * n + j] = s / L[j * n + j];
            }
        }
    return 0;
}

/* Squared Mahalanobis distance of x (dimension n) from mean mu under the covariance L L^T. */
static double mahalanobis2(const float *x, const double *mu, const double *L, int n)
{
    double z[SB_PCA], d2 = 0;
    for (int i = 0; i < n; i++) {
        double s = x[i] - mu[i];
        for (int k = 0; k < i; k++)
            s -= L[i * n + k] * z[k];
        z[i] = s / L[i * n + i];
        d2 += z[i] * z[i];
    }
    return d2;
}

/* ---- Step 4b: PCA to SB_PCA whitened dimensions --------------------------------------------- */

struct sb_pca {
    int dims;
    double mean[SB_FEATURES];
    float basis[SB_PCA][SB_FEATURES]; /* eigenvector / sqrt(eigenvalue) */
};

/* Indices of the valid windows, evenly spread, at most max_n of them. */
static size_t even_sample(const struct sb_windows *win, size_t max_n, size_t *index)
{
    size_t total = (size_t)win->nx * win->ny, stride = win->nvalid / max_n + 1, n = 0, seen = 0;
    for (size_t i = 0; i < total && n < max_n; i++)
        if (win->valid[i] && seen++ % stride == 0)
            index[n++] = i;
    return n;
}

/* Windows covering the image's edges: k positions see each interior cell, one sees a corner
 * cell. Weighting each window by the mean over its cells of 1 / (windows covering the cell)
 * makes every pixel count once in the fit. Weights are scaled to a mean of 1. */
static double coverage_1d(int c, int nw, int k)
{
    int a = c - k + 1 < 0 ? 0 : c - k + 1, b = c < nw ? c : nw - 1;
    return 1.0 / (b - a + 1);
}

static void coverage_weights(const struct sb_windows *win, const size_t *index, size_t n,
                             double *wt)
{
    double total = 0;
    for (size_t s = 0; s < n; s++) {
        int wx = (int)(index[s] % (size_t)win->nx), wy = (int)(index[s] / (size_t)win->nx);
        double sx = 0, sy = 0;
        for (int c = wx; c < wx + win->k; c++)
            sx += coverage_1d(c, win->nx, win->k);
        for (int c = wy; c < wy + win->k; c++)
            sy += coverage_1d(c, win->ny, win->k);
        wt[s] = sx * sy;
        total += wt[s];
    }
    for (size_t s = 0; s < n; s++)
        wt[s] *= (double)n / total;
}

static int fit_pca(const struct sb_windows *win, const size_t *index, size_t n, const double *wt,
                   struct sb_pca *pca)
{
    enum { F = SB_FEATURES };
    double *C = calloc((size_t)F * F, sizeof *C), *V = malloc((size_t)F * F * sizeof *V);
    double lambda[F];
    if (!C || !V) {
        free(C);
        free(V);
        return -1;
    }
    memset(pca->mean, 0, sizeof pca->mean);
    for (size_t s = 0; s < n; s++)
        for (int f = 0; f < F; f++)
            pca->mean[f] += wt[s] * win->feature[index[s] * F + f];
    for (int f = 0; f < F; f++)
        pca->mean[f] /= (double)n;
    for (size_t s = 0; s < n; s++) {
        const float *x = win->feature + index[s] * F;
        double d[F];
        for (int f = 0; f < F; f++)
            d[f] = x[f] - pca->mean[f];
        for (int i = 0; i < F; i++)
            for (int j = i; j < F; j++)
                C[i * F + j] += wt[s] * d[i] * d[j];
    }
    for (int i = 0; i < F; i++)
        for (int j = i; j < F; j++)
            C[j * F + i] = C[i * F + j] /= (double)n;
    symmetric_eigen(C, F, lambda, V);
    /* Keep components carrying variance: a window feature is a probability vector's square
     * root, so a few directions can be exactly constant (empty classes). */
    pca->dims = 0;
    for (int k = 0; k < SB_PCA && k < F; k++) {
        if (!(lambda[k] > 1e-9 * lambda[0]) || lambda[0] <= 0)
            break;
        double scale = 1 / sqrt(lambda[k]);
        for (int f = 0; f < F; f++)
            pca->basis[k][f] = (float)(V[f * F + k] * scale);
        pca->dims++;
    }
    free(C);
    free(V);
    return 0;
}

struct sb_project_job {
    struct sb_windows *win;
    const struct sb_pca *pca;
    float *z; /* nx * ny * SB_PCA */
};

static void project_row(void *ctx, int wy)
{
    struct sb_project_job *job = ctx;
    const struct sb_pca *pca = job->pca;
    float mean[SB_FEATURES];
    for (int f = 0; f < SB_FEATURES; f++)
        mean[f] = (float)pca->mean[f];
    for (int wx = 0; wx < job->win->nx; wx++) {
        size_t i = (size_t)wy * job->win->nx + wx;
        const float *x = job->win->feature + i * SB_FEATURES;
        float d[SB_FEATURES];
        for (int f = 0; f < SB_FEATURES; f++)
            d[f] = x[f] - mean[f];
        float *out = job->z + i * SB_PCA;
        for (int k = 0; k < pca->dims; k++) {
            float s = 0;
            for (int f = 0; f < SB_FEATURES; f++)
                s += pca->basis[k][f] * d[f];
            out[k] = s;
        }
    }
}

/* ---- Step 5: EM, Gaussian (pristine) against uniform (forged) -------------------------------- */

struct sb_model {
    int dims;
    double pi;                  /* prior of the pristine class */
    double mu[SB_PCA];
    double L[SB_PCA * SB_PCA];  /* Cholesky factor of the pristine covariance */
    double log_norm;            /* -log((2 pi)^(D/2) |Sigma|^(1/2)) */
    double log_uniform;         /* log density of the forged class: 1 / volume of the range */
    double loglik;              /* mean log-likelihood of the fit sample */
};

static int model_set_covariance(struct sb_model *m, const double *S)
{
    int D = m->dims;
    if (cholesky(S, D, m->L))
        return -1;
    m->log_norm = -0.5 * D * log(2 * 3.14159265358979323846);
    for (int i = 0; i < D; i++)
        m->log_norm -= log(m->L[i * D + i]);
    return 0;
}

/* log of the pristine density at x. */
static double log_gaussian(const struct sb_model *m, const float *x)
{
    return m->log_norm - 0.5 * mahalanobis2(x, m->mu, m->L, m->dims);
}

/* Posterior of the pristine class, given the class log-densities. */
static double pristine_posterior(const struct sb_model *m, double lg, double *log_mix)
{
    double a = log(m->pi) + lg, b = log(1 - m->pi) + m->log_uniform;
    double top = a > b ? a : b;
    double sum = exp(a - top) + exp(b - top);
    if (log_mix)
        *log_mix = top + log(sum);
    return exp(a - top) / sum;
}

/* One EM run from a starting mean; the covariance starts as the sample's (identity after
 * whitening) and the forged prior at 1%, as the authors start. Returns -1 if it degenerates. */
static int em_run(const float *z, size_t n, const double *wt, struct sb_model *m,
                  const float *start, double *gamma)
{
    int D = m->dims;
    double S[SB_PCA * SB_PCA];
    for (int i = 0; i < D; i++) {
        m->mu[i] = start[i];
        for (int j = 0; j < D; j++)
            S[i * D + j] = i == j;
    }
    m->pi = 0.99;
    if (model_set_covariance(m, S))
        return -1;
    double previous = -INFINITY;
    for (int it = 0; it < SB_EM_ITERATIONS; it++) {
        /* E step. */
        double ll = 0, sum_g = 0;
        for (size_t s = 0; s < n; s++) {
            double log_mix;
            gamma[s] = pristine_posterior(m, log_gaussian(m, z + s * SB_PCA), &log_mix);
            ll += wt[s] * log_mix;
            gamma[s] *= wt[s];
            sum_g += gamma[s];
        }
        m->loglik = ll / (double)n;
        if (sum_g < 0.5 * (double)n || sum_g < 2 * D)
            return -1; /* the "pristine" class is no longer the majority */
        if (m->loglik - previous < 1e-6 * fabs(m->loglik))
            break;
        previous = m->loglik;
        /* M step. */
        m->pi = sum_g / (double)n;
        if (m->pi > 1 - 1e-6)
            m->pi = 1 - 1e-6;
        double mu[SB_PCA] = {0};
        for (size_t s = 0; s < n; s++)
            for (int i = 0; i < D; i++)
                mu[i] += gamma[s] * z[s * SB_PCA + i];
        for (int i = 0; i < D; i++)
            m->mu[i] = mu[i] / sum_g;
        memset(S, 0, sizeof S);
        for (size_t s = 0; s < n; s++) {
            double d[SB_PCA];
            for (int i = 0; i < D; i++)
                d[i] = z[s * SB_PCA + i] - m->mu[i];
            for (int i = 0; i < D; i++)
                for (int j = 0; j <= i; j++)
                    S[i * D + j] += gamma[s] * d[i] * d[j];
        }
        for (int i = 0; i < D; i++)
            for (int j = 0; j <= i; j++)
                S[j * D + i] = S[i * D + j] = S[i * D + j] / sum_g + (i == j ? SB_COV_FLOOR : 0);
        if (model_set_covariance(m, S))
            return -1;
    }
    return 0;
}

/* Fit on an even sample of the valid windows, from SB_EM_STARTS starting means spread over the
 * sample (its mean first); the run with the best likelihood wins. Returns -1 if none fitted. */
static int fit_model(const float *z, const size_t *index, size_t n, const double *wt, int dims,
                     struct sb_model *best)
{
    float *sample = malloc(n * SB_PCA * sizeof *sample);
    double *gamma = malloc(n * sizeof *gamma);
    int found = -1;
    if (!sample || !gamma)
        goto done;
    for (size_t s = 0; s < n; s++)
        memcpy(sample + s * SB_PCA, z + index[s] * SB_PCA, SB_PCA * sizeof *sample);
    double log_u = -SB_UNIFORM_NLOGL * dims / SB_PCA;
    for (int r = 0; r < SB_EM_STARTS; r++) {
        float start[SB_PCA] = {0}; /* the whitened sample's mean is 0 */
        if (r > 0)
            memcpy(start, sample + (n * (size_t)r / SB_EM_STARTS) * SB_PCA, sizeof start);
        struct sb_model m;
        m.dims = dims;
        m.log_uniform = log_u;
        if (em_run(sample, n, wt, &m, start, gamma))
            continue;
        if (found != 0 || m.loglik > best->loglik) { /* the first fit, or a better one */
            *best = m;
            found = 0;
        }
    }
done:
    free(sample);
    free(gamma);
    return found;
}

struct sb_posterior_job {
    const struct sb_windows *win;
    const struct sb_model *model;
    const float *z;
    float *forged; /* per window: evidence, forged posterior x distance (0: invalid window) */
    float *d2;     /* per window: squared Mahalanobis distance from the pristine class */
};

static void posterior_row(void *ctx, int wy)
{
    const struct sb_posterior_job *job = ctx;
    for (int wx = 0; wx < job->win->nx; wx++) {
        size_t i = (size_t)wy * job->win->nx + wx;
        job->forged[i] = 0;
        job->d2[i] = 0;
        if (!job->win->valid[i])
            continue;
        const float *x = job->z + i * SB_PCA;
        double d2 = mahalanobis2(x, job->model->mu, job->model->L, job->model->dims);
        double lg = job->model->log_norm - 0.5 * d2;
        double far = log(d2 / (SB_FAR_FROM * job->model->dims)) / log(SB_FAR_FULL / SB_FAR_FROM);
        far = far < 0 ? 0 : (far > 1 ? 1 : far);
        job->forged[i] = (float)((1 - pristine_posterior(job->model, lg, NULL)) * far);
        job->d2[i] = (float)d2;
    }
}

/* ---- The map, the score, the words ---------------------------------------------------------- */

/* Each cell takes the mean posterior of the valid windows that cover it: every window votes for
 * all its pixels. A region larger than a window is then drawn to its edges (where half the
 * covering windows see it), while a lone outlying window, which content alone can make, is
 * diluted among the k x k windows of each of its cells. Sums over the window grid come from a
 * running sum along x, then along y. */
static int cells_from_windows(const struct sb_windows *win, const float *forged, int cells_x,
                              int cells_y, float *map)
{
    int k = win->k;
    float *sum = calloc((size_t)cells_x * win->ny, sizeof *sum);
    float *cnt = calloc((size_t)cells_x * win->ny, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return -1;
    }
    for (int wy = 0; wy < win->ny; wy++) /* along x: windows wx in [cx - k + 1, cx] */
        for (int cx = 0; cx < cells_x; cx++) {
            int a = cx - k + 1 < 0 ? 0 : cx - k + 1, b = cx < win->nx ? cx : win->nx - 1;
            float s = 0, c = 0;
            for (int wx = a; wx <= b; wx++) {
                size_t i = (size_t)wy * win->nx + wx;
                s += forged[i];
                c += win->valid[i];
            }
            sum[(size_t)wy * cells_x + cx] = s;
            cnt[(size_t)wy * cells_x + cx] = c;
        }
    for (int cy = 0; cy < cells_y; cy++) {
        int a = cy - k + 1 < 0 ? 0 : cy - k + 1, b = cy < win->ny ? cy : win->ny - 1;
        for (int cx = 0; cx < cells_x; cx++) {
            float s = 0, c = 0;
            for (int wy = a; wy <= b; wy++) {
                s += sum[(size_t)wy * cells_x + cx];
                c += cnt[(size_t)wy * cells_x + cx];
            }
            map[(size_t)cy * cells_x + cx] = c > 0 ? s / c : 0;
        }
    }
    free(sum);
    free(cnt);
    return 0;
}

struct sb_summary {
    double pi;           /* pristine share from the EM */
    double forged_share; /* share of valid windows with posterior > SB_HIGH */
    double region_share; /* the largest connected forged region, share of the map */
    double region_mean;  /* its mean posterior */
    double compactness;  /* region cells / all forged cells */
    double mean_d2;      /* mean Mahalanobis^2 of the forged windows */
};

static void describe(struct um_evidence *ev, const struct sb_summary *sum)
{
    if (ev->score >= 0.5)
        um_evidence_add_headline(ev,
                                 "The fine noise texture of a region covering %.0f%% of the "
                                 "image differs from the rest: it may come from another photo "
                                 "or camera.",
                                 100 * sum->region_share);
    else if (sum->region_share > 0.005)
        um_evidence_add_finding(ev,
                                "The noise texture varies a little over the image (largest "
                                "deviating area %.0f%%), as content alone can make it; no "
                                "clear foreign region.",
                                100 * sum->region_share);
    else
        um_evidence_add_finding(ev, "The fine noise texture is consistent over the image.");
}

static void add_details(struct um_evidence *ev, const struct sb_summary *sum, int window,
                        int cell, int dims)
{
    json_t *d = json_object();
    if (!d)
        return;
    json_object_set_new(d, "window", json_integer(window));
    json_object_set_new(d, "stride", json_integer(cell));
    json_object_set_new(d, "pca_dims", json_integer(dims));
    json_object_set_new(d, "pristine_share", um_json_number(sum->pi));
    json_object_set_new(d, "forged_window_share", um_json_number(sum->forged_share));
    json_object_set_new(d, "region_share", um_json_number(sum->region_share));
    json_object_set_new(d, "region_mean", um_json_number(sum->region_mean));
    json_object_set_new(d, "region_compactness", um_json_number(sum->compactness));
    json_object_set_new(d, "forged_mean_d2", um_json_number(sum->mean_d2));
    ev->details = d;
}

/* The paper's 128-pixel window, halved on small images (as the authors' code does): on
 * CASIA's 384 x 256 images a 128-pixel window is half the height, and one window sees most of
 * a typical splice and its surroundings at once. */
static int choose_window(int width, int height)
{
    return width < SB_SMALL_SIDE || height < SB_SMALL_SIDE ? SB_SMALL_WINDOW : SB_WINDOW;
}

/* Stride: SB_MIN_CELL, doubled while the cell grid is too large (and a window still spans at
 * least 4 cells), so that a 12 MP image has a few tens of thousands of windows. */
static int choose_cell(int width, int height, int window)
{
    int c = SB_MIN_CELL;
    while ((double)(width / c) * (height / c) > SB_MAX_CELLS && window / (2 * c) >= 4)
        c *= 2;
    return c;
}

static um_error sb_compute_cells(const struct um_input *in, struct sb_cells *s)
{
    s->luma = in->luma->data;
    s->width = in->luma->width;
    s->height = in->luma->height;
    s->window = choose_window(s->width, s->height);
    s->cell = choose_cell(s->width, s->height, s->window);
    s->cells_x = s->width / s->cell;
    s->cells_y = s->height / s->cell;
    symmetry_classes(s->cls);
    size_t ncell = (size_t)s->cells_x * s->cells_y;
    s->hist = calloc(ncell * SB_FEATURES, sizeof *s->hist);
    s->usable = calloc(ncell, sizeof *s->usable);
    atomic_init(&s->nomem, 0);
    if (!s->hist || !s->usable)
        return UM_ERR_NOMEM;
    um_parallel_for(s->cells_y, cell_row_histograms, s, 0);
    return atomic_load(&s->nomem) ? UM_ERR_NOMEM : UM_OK;
}

static um_error sb_window_features(const struct sb_cells *s, struct sb_windows *win)
{
    win->k = s->window / s->cell;
    win->nx = s->cells_x - win->k + 1;
    win->ny = s->cells_y - win->k + 1;
    size_t total = (size_t)win->nx * win->ny;
    win->feature = malloc(total * SB_FEATURES * sizeof *win->feature);
    win->valid = malloc(total);
    uint32_t *I = integral_counts(s);
    if (!win->feature || !win->valid || !I) {
        free(I);
        return UM_ERR_NOMEM;
    }
    struct sb_window_job job = {s, I, win};
    um_parallel_for(win->ny, window_row_features, &job, 0);
    free(I);
    win->nvalid = 0;
    for (size_t i = 0; i < total; i++)
        win->nvalid += win->valid[i];
    return UM_OK;
}

static double mean_d2_of_forged(const float *d2, const float *forged, size_t total)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < total; i++)
        if (forged[i] > SB_HIGH) {
            sum += d2[i];
            n++;
        }
    return n ? sum / (double)n : 0;
}

static um_error splicebuster_run(const struct um_input *in, struct um_evidence *ev)
{
    if (um_textured_blocks(in->luma) < SB_MIN_TEXTURED) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: its noise residual has "
                                       "no texture to compare");
        return UM_OK;
    }
    int width = in->luma->width, height = in->luma->height;
    int window = choose_window(width, height);
    if (width < 2 * window || height < 2 * window) {
        um_evidence_not_applicable(ev, "the image is too small for Splicebuster: it needs at "
                                       "least %d x %d pixels (two %d-pixel windows each way)",
                                   2 * window, 2 * window, window);
        return UM_OK;
    }
    struct sb_cells s = {0};
    struct sb_windows win = {0};
    size_t *index = NULL;
    float *z = NULL, *forged = NULL, *d2 = NULL;
    um_error err = sb_compute_cells(in, &s);
    if (err == UM_OK)
        err = sb_window_features(&s, &win);
    if (err != UM_OK)
        goto done;
    err = UM_ERR_NOMEM;
    if (win.nvalid < SB_MIN_WINDOWS) {
        err = UM_OK;
        um_evidence_not_applicable(ev, "too much of the image is black or white (clipped) to "
                                       "compare noise textures");
        goto done;
    }
    size_t total = (size_t)win.nx * win.ny;
    size_t sample_max = SB_EM_SAMPLE > 4 * SB_FEATURES ? SB_EM_SAMPLE : 4 * SB_FEATURES;
    index = malloc(sample_max * sizeof *index);
    z = malloc(total * SB_PCA * sizeof *z);
    forged = malloc(total * sizeof *forged);
    d2 = malloc(total * sizeof *d2);
    if (!index || !z || !forged || !d2)
        goto done;
    /* Step 4b: PCA fitted on an even sample of the valid windows. */
    size_t n = even_sample(&win, sample_max, index);
    struct sb_pca pca;
    double *wt = malloc(n * sizeof *wt);
    if (!wt)
        goto done;
    coverage_weights(&win, index, n, wt);
    if (fit_pca(&win, index, n, wt, &pca)) {
        free(wt);
        goto done;
    }
    struct sb_project_job pj = {&win, &pca, z};
    um_parallel_for(win.ny, project_row, &pj, 0);
    free(win.feature); /* the 50-d features are no longer needed */
    win.feature = NULL;
    /* Step 5. */
    struct sb_model model;
    err = UM_OK;
    int fitted = pca.dims >= 2 && fit_model(z, index, n, wt, pca.dims, &model) == 0;
    free(wt);
    if (!fitted) {
        um_evidence_not_applicable(ev, "the noise texture is too uniform to model (no spread "
                                       "between windows)");
        goto done;
    }
    struct sb_posterior_job post = {&win, &model, z, forged, d2};
    um_parallel_for(win.ny, posterior_row, &post, 0);

    float *map = um_evidence_alloc_map(ev, s.cells_x, s.cells_y, s.cell);
    err = UM_ERR_NOMEM;
    struct um_region region;
    if (!map)
        goto done;
    if (cells_from_windows(&win, forged, s.cells_x, s.cells_y, map) ||
        um_largest_region(map, s.cells_x, s.cells_y, SB_HIGH, SB_BORDER, &region))
        goto done;
    err = UM_OK;
    struct sb_summary sum = {0};
    size_t nforged = 0;
    for (size_t i = 0; i < total; i++)
        nforged += forged[i] > SB_HIGH;
    long forged_cells = 0;
    size_t ncell = (size_t)s.cells_x * s.cells_y;
    for (size_t i = 0; i < ncell; i++)
        forged_cells += map[i] > SB_HIGH;
    sum.pi = model.pi;
    sum.forged_share = (double)nforged / (double)win.nvalid;
    sum.region_share = (double)region.cells / (double)ncell;
    sum.region_mean = region.cells ? region.mean : 0;
    sum.compactness = forged_cells ? (double)region.cells / (double)forged_cells : 0;
    sum.mean_d2 = mean_d2_of_forged(d2, forged, total);
    ev->applicable = 1;
    /* Score: one compact region holding most of the evidence (a splice is one blob; content
     * outliers are scattered), weighted by its mean evidence. A "region" over half the image
     * contradicts the model's premise that the pristine part is the majority. */
    double size_ok = sum.region_share >= 0.005 && sum.region_share <= 0.5 ? 1 : 0;
    ev->score = size_ok * sum.compactness * sum.region_mean;
    describe(ev, &sum);
    add_details(ev, &sum, s.window, s.cell, pca.dims);
done:
    free(s.hist);
    free(s.usable);
    free(win.feature);
    free(win.valid);
    free(index);
    free(z);
    free(forged);
    free(d2);
    return err;
}

const struct um_detector um_detector_splicebuster = {
    .name = "splicebuster",
    .family = "noise",
    .summary = "Splicebuster: regions whose local co-occurrences of the quantized noise residual "
               "do not fit the image's own model (Cozzolino, Poggi & Verdoliva 2015)",
    .limits = "Blind to a region from the same camera with the same processing; strong "
              "compression, resizing or denoising of the whole image weaken it; resolution is one "
              "128-pixel window, and large flat, dark or very textured areas can stand out by "
              "content alone.",
    .needs = 0,
    .run = splicebuster_run,
};
