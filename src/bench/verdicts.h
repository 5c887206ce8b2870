/* The benchmark's view of the fused verdict: how labels fall on tampered and authentic images,
 * and whether the verdict's probability means what it says (a reliability table: predicted
 * against observed). */
#ifndef UM_BENCH_VERDICTS_H
#define UM_BENCH_VERDICTS_H

#include <stddef.h>
#include <stdio.h>

/* One analysed image's verdict. */
struct um_bench_verdict {
    int tampered;
    double probability;   /* the verdict score */
    const char *label;
};

/* Label shares per class and the reliability table (10 bins of predicted probability: count,
 * mean predicted, observed share of tampered images). */
void um_bench_verdicts_print(FILE *f, const struct um_bench_verdict *v, size_t n);

#endif
