#include "bench/verdicts.h"

#include <string.h>

#include "unmask.h"

#define BINS 10

static double share(long k, long n)
{
    return n ? 100.0 * (double)k / (double)n : 0.0;
}

static void print_labels(FILE *f, const struct um_bench_verdict *v, size_t n)
{
    static const char *const labels[] = {UM_LABEL_MANIPULATED, UM_LABEL_LIKELY_MANIPULATED,
                                         UM_LABEL_AI_GENERATED, UM_LABEL_NO_EVIDENCE,
                                         UM_LABEL_INCONCLUSIVE};
    long count[2][5] = {{0}}, total[2] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!v[i].label)
            continue;
        total[v[i].tampered]++;
        for (int k = 0; k < 5; k++)
            count[v[i].tampered][k] += strcmp(v[i].label, labels[k]) == 0;
    }
    fprintf(f, "\nverdict labels (%% of images):\n%-12s %6s", "class", "n");
    for (int k = 0; k < 5; k++)
        fprintf(f, " %19s", labels[k]);
    fprintf(f, " %19s\n", ">= likely");
    for (int c = 1; c >= 0; c--) {
        fprintf(f, "%-12s %6ld", c ? "tampered" : "authentic", total[c]);
        for (int k = 0; k < 5; k++)
            fprintf(f, " %19.1f", share(count[c][k], total[c]));
        fprintf(f, " %19.1f\n", share(count[c][0] + count[c][1], total[c]));
    }
}

static void print_reliability(FILE *f, const struct um_bench_verdict *v, size_t n)
{
    long count[BINS] = {0}, positives[BINS] = {0};
    double predicted[BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!v[i].label)
            continue;
        int b = (int)(v[i].probability * BINS);
        b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
        count[b]++;
        positives[b] += v[i].tampered;
        predicted[b] += v[i].probability;
    }
    fprintf(f, "\ncalibration of the verdict probability (predicted vs observed share of tampered "
               "images;\nthe observed share reflects this dataset's mix of tampered and authentic "
               "images):\n%-11s %6s %10s %9s\n", "P bin", "images", "predicted", "observed");
    for (int b = 0; b < BINS; b++) {
        if (!count[b])
            continue;
        fprintf(f, "%4.1f-%-6.1f %6ld %10.3f %9.3f\n", (double)b / BINS, (double)(b + 1) / BINS,
                count[b], predicted[b] / count[b], (double)positives[b] / count[b]);
    }
}

void um_bench_verdicts_print(FILE *f, const struct um_bench_verdict *v, size_t n)
{
    print_labels(f, v, n);
    print_reliability(f, v, n);
}
