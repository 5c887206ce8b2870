/* Calibration (calibrate.h): evidence from authentic distributions, the logistic model, and
 * the fit that writes calibration.c. */
#include "fuse/calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/stats.h"

const double um_calib_levels[UM_CALIB_QUANTILES] = {
    0.00, 0.05, 0.10, 0.15, 0.20,  0.25,  0.30, 0.35,   0.40,  0.45,   0.50,
    0.55, 0.60, 0.65, 0.70, 0.75,  0.80,  0.85, 0.90,   0.92,  0.94,   0.95,
    0.96, 0.97, 0.98, 0.985, 0.99, 0.9925, 0.995, 0.9975, 1.00};

double um_calib_upper_tail(const double q[UM_CALIB_QUANTILES], double v, double min_p)
{
    const int last = UM_CALIB_QUANTILES - 1;
    if (!(v > q[0])) /* at or below the smallest (NaN too): every authentic value is >= v */
        return 1.0;
    if (v >= q[last])
        return min_p;
    int j = last;
    while (j > 0 && q[j] > v)
        j--;
    /* q[j] <= v < q[j+1]; at a tie (v == q[j]) the share >= v starts at the tie's first level */
    double cdf;
    if (v == q[j]) {
        int first = j;
        while (first > 0 && q[first - 1] == v)
            first--;
        cdf = um_calib_levels[first];
    } else {
        double t = (v - q[j]) / (q[j + 1] - q[j]);
        cdf = um_calib_levels[j] + t * (um_calib_levels[j + 1] - um_calib_levels[j]);
    }
    double p = 1.0 - cdf;
    return p < min_p ? min_p : p;
}

double um_calib_evidence(const struct um_calib_detector *d, double score)
{
    return -log10(um_calib_upper_tail(d->score_q, score, um_calibration.min_p));
}

double um_calib_probability(const double *z)
{
    double t = um_calibration.intercept;
    for (size_t i = 0; i < um_calibration.ndetectors; i++)
        t += um_calibration.detectors[i].coef * z[i];
    return 1.0 / (1.0 + exp(-t));
}

/* ---------------------------------------------------------------------------------------------
 * Fitting */

/* Quantiles at um_calib_levels of values[0..n). */
static void quantiles_of(const float *values, size_t n, double out[UM_CALIB_QUANTILES])
{
    for (int k = 0; k < UM_CALIB_QUANTILES; k++)
        out[k] = n ? um_quantile(values, n, um_calib_levels[k]) : 0.0;
}

/* Solve the (n x n) system a x = b in place by Gaussian elimination with partial pivoting.
 * Returns -1 when singular. */
static int solve(double *a, double *b, int n)
{
    for (int c = 0; c < n; c++) {
        int pivot = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[pivot * n + c]))
                pivot = r;
        if (fabs(a[pivot * n + c]) < 1e-12)
            return -1;
        for (int k = 0; k < n; k++) {
            double t = a[c * n + k];
            a[c * n + k] = a[pivot * n + k];
            a[pivot * n + k] = t;
        }
        double t = b[c];
        b[c] = b[pivot];
        b[pivot] = t;
        for (int r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            for (int k = c; k < n; k++)
                a[r * n + k] -= f * a[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        for (int k = c + 1; k < n; k++)
            b[c] -= a[c * n + k] * b[k];
        b[c] /= a[c * n + c];
    }
    return 0;
}

#define RIDGE 0.01      /* penalty on the detector coefficients (not the intercept): keeps a
                           detector that separates the fit half perfectly from an infinite b.
                           Small on purpose: a rare but specific detector (grid fires on 31 of
                           921 CASIA tampered images and 1 of 800 authentic) must keep its weight;
                           a penalty of 1 shrank grid's b to 0.27, so a validated foreign-grid
                           region alone stayed "no evidence found" */
#define NEWTON_STEPS 50

/* Maximum-likelihood logistic regression of y on x (n rows of d features), ridge-penalised;
 * beta[0] is the intercept; features with use[k] == 0 keep beta[k+1] = 0. Newton-Raphson.
 * Returns -1 when it cannot solve. */
static int logistic_newton(const double *x, const int *y, size_t n, int d, const int *use,
                           double *beta)
{
    int m = d + 1;
    double *h = malloc((size_t)m * m * sizeof *h), *g = malloc((size_t)m * sizeof *g);
    if (!h || !g) {
        free(h);
        free(g);
        return -1;
    }
    memset(beta, 0, (size_t)m * sizeof *beta);
    int rc = 0;
    for (int step = 0; step < NEWTON_STEPS && rc == 0; step++) {
        memset(h, 0, (size_t)m * m * sizeof *h);
        memset(g, 0, (size_t)m * sizeof *g);
        for (size_t i = 0; i < n; i++) {
            const double *xi = x + i * (size_t)d;
            double t = beta[0];
            for (int k = 0; k < d; k++)
                t += beta[k + 1] * xi[k];
            double p = 1.0 / (1.0 + exp(-t)), w = p * (1.0 - p), r = y[i] - p;
            for (int a = 0; a < m; a++) {
                double xa = a ? xi[a - 1] : 1.0;
                g[a] += r * xa;
                for (int b = 0; b < m; b++)
                    h[a * m + b] += w * xa * (b ? xi[b - 1] : 1.0);
            }
        }
        for (int a = 1; a < m; a++) {
            g[a] -= RIDGE * beta[a];
            h[a * m + a] += RIDGE;
            if (!use[a - 1]) { /* pinned at 0: its row and column say only that */
                for (int b = 0; b < m; b++)
                    h[a * m + b] = h[b * m + a] = 0;
                h[a * m + a] = 1;
                g[a] = 0;
            }
        }
        rc = solve(h, g, m);
        double change = 0;
        for (int a = 0; a < m && rc == 0; a++) {
            beta[a] += g[a];
            change += fabs(g[a]);
        }
        if (change < 1e-9)
            break;
    }
    free(h);
    free(g);
    return rc;
}

/* The logistic fit with every coefficient >= 0: evidence a detector finds may raise the
 * probability of manipulation, never lower it (a dataset where a detector fires more often on
 * authentic images, as ELA does on CASIA's authentic set, says something about the dataset, and
 * absence of evidence must never count as proof of authenticity). Active set: fit, pin the
 * negative coefficients at 0, refit until none is negative. */
static int logistic_fit(const double *x, const int *y, size_t n, int d, double *beta)
{
    int *use = malloc((size_t)d * sizeof *use + 1);
    if (!use)
        return -1;
    for (int k = 0; k < d; k++)
        use[k] = 1;
    int rc, again;
    do {
        rc = logistic_newton(x, y, n, d, use, beta);
        again = 0;
        for (int k = 0; k < d && rc == 0; k++)
            if (use[k] && beta[k + 1] < 0) {
                use[k] = 0;
                again = 1;
            }
    } while (again);
    free(use);
    return rc;
}

/* The largest false-alarm share r whose one-sided 95 % upper confidence bound over n authentic
 * images, r + 1.645 sqrt(r (1 - r) / n), stays within `target`: the label's promise must hold on
 * new images, not only on the fit half. */
static double rate_with_margin(double target, size_t n)
{
    double lo = 0, hi = target;
    for (int i = 0; i < 60; i++) {
        double r = 0.5 * (lo + hi);
        if (r + 1.645 * sqrt(r * (1 - r) / (double)(n ? n : 1)) <= target)
            lo = r;
        else
            hi = r;
    }
    return lo;
}

/* The smallest threshold t >= floor such that at most `rate` of the authentic probabilities
 * are >= t. */
static double threshold_for(const float *auth_p, size_t n, double rate, double floor)
{
    double t = n ? um_quantile(auth_p, n, 1.0 - rate) : floor;
    t = nextafter(t, 2.0); /* strictly above the allowed share */
    return t < floor ? floor : t;
}

static void write_array(FILE *f, const double *v, int n)
{
    fprintf(f, "{");
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%.9g", k ? (k % 6 ? ", " : ",\n         ") : "", v[k]);
    fprintf(f, "}");
}

/* Label thresholds: a Neyman-Pearson choice on the fit half (at most this share of authentic
 * images labelled so, with the confidence margin of rate_with_margin for "likely"), never below
 * a probability that would contradict the label's words. */
#define LIKELY_FALSE_ALARMS 0.05
#define MANIPULATED_FALSE_ALARMS 0.01
#define LIKELY_FLOOR 0.5
#define MANIPULATED_FLOOR 0.8

struct fitted {
    double *z;              /* [nimages * ndetectors] evidence */
    double *beta;           /* [ndetectors + 1] */
    double (*score_q)[UM_CALIB_QUANTILES];
    double verdict_q[UM_CALIB_QUANTILES];
    double likely, manipulated, min_p;
    size_t authentic;
};

#define FOLDS 5 /* cross-fitting: see out_of_fold_evidence */

/* The authentic score quantiles of detector d over the authentic images not in `fold` (all of
 * them when fold < 0). column is scratch space for ni values. */
static void authentic_quantiles(const struct um_calib_fit_input *in, size_t d, int fold,
                                float *column, double q[UM_CALIB_QUANTILES])
{
    size_t nd = in->ndetectors, n = 0;
    for (size_t i = 0; i < in->nimages; i++) /* not applicable counts as score 0 */
        if (!in->tampered[i] && (fold < 0 || (int)(i % FOLDS) != fold))
            column[n++] = in->applicable[i * nd + d] ? (float)in->score[i * nd + d] : 0.0f;
    quantiles_of(column, n, q);
}

/* Evidence of every image measured against authentic quantiles that did not see it (5-fold
 * cross-fitting). An image's own score sits inside the quantiles it helped to make, which makes
 * the rare scores of authentic images look less rare than they are on new images; fitting the
 * model and the label thresholds on out-of-fold evidence keeps their false-alarm promise honest.
 * The quantiles compiled in (f->score_q) use every authentic image. */
static void out_of_fold_evidence(const struct um_calib_fit_input *in, struct fitted *f,
                                 float *column)
{
    size_t nd = in->ndetectors;
    double q[UM_CALIB_QUANTILES];
    for (size_t d = 0; d < nd; d++) {
        authentic_quantiles(in, d, -1, column, f->score_q[d]);
        for (int fold = 0; fold < FOLDS; fold++) {
            authentic_quantiles(in, d, fold, column, q);
            for (size_t i = (size_t)fold; i < in->nimages; i += FOLDS)
                f->z[i * nd + d] =
                    in->applicable[i * nd + d]
                        ? -log10(um_calib_upper_tail(q, in->score[i * nd + d], f->min_p))
                        : 0.0;
        }
    }
}

static int fit(const struct um_calib_fit_input *in, struct fitted *f)
{
    size_t nd = in->ndetectors, ni = in->nimages;
    float *column = malloc((ni + 1) * sizeof *column), *auth_p = malloc((ni + 1) * sizeof *auth_p);
    f->z = calloc(ni * nd + 1, sizeof *f->z);
    f->beta = calloc(nd + 1, sizeof *f->beta);
    f->score_q = calloc(nd + 1, sizeof *f->score_q);
    if (!column || !auth_p || !f->z || !f->beta || !f->score_q) {
        free(column);
        free(auth_p);
        return -1;
    }
    f->authentic = 0;
    for (size_t i = 0; i < ni; i++)
        f->authentic += !in->tampered[i];
    f->min_p = 1.0 / (double)(f->authentic + 1);
    out_of_fold_evidence(in, f, column);
    int rc = logistic_fit(f->z, in->tampered, ni, (int)nd, f->beta);
    size_t na = 0;
    for (size_t i = 0; i < ni && rc == 0; i++) {
        if (in->tampered[i])
            continue;
        double t = f->beta[0];
        for (size_t d = 0; d < nd; d++)
            t += f->beta[d + 1] * f->z[i * nd + d];
        auth_p[na++] = (float)(1.0 / (1.0 + exp(-t)));
    }
    if (rc == 0) {
        f->likely = threshold_for(auth_p, na, rate_with_margin(LIKELY_FALSE_ALARMS, na),
                                  LIKELY_FLOOR);
        f->manipulated = threshold_for(auth_p, na, MANIPULATED_FALSE_ALARMS, MANIPULATED_FLOOR);
        quantiles_of(auth_p, na, f->verdict_q);
    }
    free(column);
    free(auth_p);
    return rc;
}

/* The dataset's description as text safe inside a C string and a C comment. */
static void c_safe_text(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++)
        out[o++] = (*in == '"' || *in == '\\' || *in == '*' || (unsigned char)*in < 0x20) ? '_' : *in;
    out[o] = 0;
}

static void write_source(FILE *out, const struct um_calib_fit_input *in, const struct fitted *f)
{
    char date[32], dataset[300];
    c_safe_text(in->dataset, dataset, sizeof dataset);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    fprintf(out,
            "/* Calibration constants of the fused verdict (the model: src/fuse/calibrate.h).\n"
            " *\n"
            " * GENERATED by `unmask bench DIR --half fit --refit src/fuse/calibration.c`: do not\n"
            " * edit by hand, refit. Fitted on %s, %s.\n"
            " * Per detector: the logistic coefficient (evidence z = -log10 p, p = the share of\n"
            " * authentic images scoring at least as high), its weight in the fused map (2 x (pixel\n"
            " * AUC - 0.5) on the same images, 0 when no better than chance) and the authentic\n"
            " * distribution of its image scores at um_calib_levels.\n"
            " * The model and the label thresholds are fitted on 5-fold cross-fitted evidence.\n"
            " * Labels: likely-manipulated from P >= %.4f (the 95 %% upper confidence bound of the\n"
            " * share of authentic images so labelled stays within %.0f %%; never below %.1f),\n"
            " * manipulated from P >= %.4f (at most %.0f %% of the authentic images; never below %.1f).\n"
            " */\n"
            "#include \"fuse/calibrate.h\"\n\n"
            "static const struct um_calib_detector calibrated[] = {\n",
            dataset, date, f->likely, 100 * LIKELY_FALSE_ALARMS, LIKELY_FLOOR, f->manipulated,
            100 * MANIPULATED_FALSE_ALARMS, MANIPULATED_FLOOR);
    for (size_t d = 0; d < in->ndetectors; d++) {
        fprintf(out, "    {\"%s\", %.9g, %.9g,\n        ", in->names[d], f->beta[d + 1],
                in->map_weight[d]);
        write_array(out, f->score_q[d], UM_CALIB_QUANTILES);
        fprintf(out, "},\n");
    }
    fprintf(out, "};\n\nconst struct um_calibration um_calibration = {\n"
                 "    \"%s\", \"%s\",\n    %.9g, %.9g, %.9g, %.9g,\n    ",
            dataset, date, f->beta[0], f->likely, f->manipulated, f->min_p);
    write_array(out, f->verdict_q, UM_CALIB_QUANTILES);
    fprintf(out, ",\n    sizeof calibrated / sizeof calibrated[0], calibrated};\n");
}

int um_calib_write(const struct um_calib_fit_input *in, const char *path, char *err,
                   size_t errlen)
{
    struct fitted f = {0};
    int rc = fit(in, &f);
    if (rc != 0) {
        snprintf(err, errlen, "the logistic fit failed (too few images, or out of memory)");
    } else {
        FILE *out = fopen(path, "w");
        if (!out) {
            snprintf(err, errlen, "cannot write %s", path);
            rc = -1;
        } else {
            write_source(out, in, &f);
            if (fclose(out) != 0) {
                snprintf(err, errlen, "cannot write %s", path);
                rc = -1;
            }
        }
    }
    free(f.z);
    free(f.beta);
    free(f.score_q);
    return rc;
}
