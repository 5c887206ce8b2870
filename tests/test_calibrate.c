/* The calibration of the fused verdict (src/fuse/calibrate.h): p-values from an authentic
 * distribution, and the fit that writes calibration.c, on data made here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fuse/calibrate.h"

/* A uniform authentic distribution on [0,1]: quantile k sits at its level. */
static void uniform_quantiles(double q[UM_CALIB_QUANTILES])
{
    for (int k = 0; k < UM_CALIB_QUANTILES; k++)
        q[k] = um_calib_levels[k];
}

static void upper_tail_interpolates(void)
{
    double q[UM_CALIB_QUANTILES];
    uniform_quantiles(q);
    CHECK(um_calib_upper_tail(q, 0.0, 0.001) == 1.0);
    CHECK(fabs(um_calib_upper_tail(q, 0.5, 0.001) - 0.5) < 1e-9);
    CHECK(fabs(um_calib_upper_tail(q, 0.97, 0.001) - 0.03) < 1e-9);
    CHECK(fabs(um_calib_upper_tail(q, 0.9963, 0.001) - 0.0037) < 1e-9); /* the fine tail */
    CHECK(um_calib_upper_tail(q, 1.0, 0.001) == 0.001);                 /* never below min_p */
    CHECK(um_calib_upper_tail(q, 7.0, 0.001) == 0.001);
    CHECK(um_calib_upper_tail(q, -1.0, 0.001) == 1.0);
    CHECK(um_calib_upper_tail(q, NAN, 0.001) == 1.0); /* a NaN score is no evidence */
}

/* Most authentic images score exactly 0: a score of 0 is ordinary (p = 1), anything above the
 * tie is rarer than the tied share. */
static void upper_tail_respects_ties(void)
{
    double q[UM_CALIB_QUANTILES];
    for (int k = 0; k < UM_CALIB_QUANTILES; k++)
        q[k] = um_calib_levels[k] <= 0.9 ? 0.0 : um_calib_levels[k] - 0.9;
    CHECK(um_calib_upper_tail(q, 0.0, 0.001) == 1.0);
    double p = um_calib_upper_tail(q, 1e-6, 0.001);
    CHECK_MSG(p <= 0.1 + 1e-6 && p > 0.09, "p = %g", p);
}

/* xorshift: reproducible data. */
static double uniform(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* The coefficient the fit wrote for detector name, from the generated source. */
static double written_coef(const char *source, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "{\"%s\", ", name);
    const char *at = strstr(source, key);
    return at ? strtod(at + strlen(key), NULL) : NAN;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf)
        fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* Three detectors: one that separates tampered from authentic, one that fires more on
 * authentic images (as ELA does on CASIA), one that is noise. The fit must keep the first,
 * pin the second at 0 (evidence never argues for authenticity) and write thresholds that are
 * probabilities a label can stand on. */
static void fit_keeps_evidence_and_never_rewards_absence(void)
{
    enum { N = 600, D = 3 };
    static const char *const names[D] = {"separates", "reversed", "noise"};
    static const double weights[D] = {0.5, 0.0, 0.0};
    int *tampered = malloc(N * sizeof *tampered);
    double *score = malloc(N * D * sizeof *score);
    unsigned char *applicable = malloc(N * D);
    unsigned long long seed = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        tampered[i] = i % 2;
        double u = uniform(&seed), w = uniform(&seed), z = uniform(&seed);
        score[i * D + 0] = tampered[i] ? 0.4 + 0.6 * u : 0.6 * u;
        score[i * D + 1] = tampered[i] ? 0.5 * w : 0.3 + 0.7 * w;
        score[i * D + 2] = z;
        for (int d = 0; d < D; d++)
            applicable[i * D + d] = 1;
    }
    struct um_calib_fit_input in = {"synthetic test set", D, names, weights, N,
                                    tampered,             score, applicable};
    char path[] = "/tmp/um_calib_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    char err[300] = "";
    CHECK_MSG(um_calib_write(&in, path, err, sizeof err) == 0, "%s", err);
    char *source = read_all(path);
    CHECK(source != NULL);
    if (source) {
        double good = written_coef(source, "separates"), reversed = written_coef(source, "reversed");
        CHECK_MSG(good > 0.5, "separating detector coefficient %g", good);
        CHECK_MSG(reversed == 0.0, "reversed detector coefficient %g (must be pinned at 0)",
                  reversed);
        CHECK(strstr(source, "synthetic test set") != NULL); /* says what it was fitted on */
        CHECK(strstr(source, "GENERATED") != NULL);
    }
    free(source);
    unlink(path);
    free(tampered);
    free(score);
    free(applicable);
}

/* Too little data to fit: a sentence, no file. */
static void fit_refuses_empty_input(void)
{
    struct um_calib_fit_input in = {"nothing", 0, NULL, NULL, 0, NULL, NULL, NULL};
    char err[300] = "";
    CHECK(um_calib_write(&in, "/nonexistent-dir/calibration.c", err, sizeof err) != 0);
    CHECK(err[0] != 0);
}

static const struct um_test_case cases[] = {
    {"upper tail interpolates", upper_tail_interpolates},
    {"upper tail respects ties", upper_tail_respects_ties},
    {"fit keeps evidence and never rewards absence", fit_keeps_evidence_and_never_rewards_absence},
    {"fit refuses empty input", fit_refuses_empty_input},
};

UM_TEST_MAIN(cases)
