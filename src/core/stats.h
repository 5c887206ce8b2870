/* Small statistics shared by detectors, fusion and the benchmark. */
#ifndef UM_CORE_STATS_H
#define UM_CORE_STATS_H

#include <stddef.h>

/* The q-quantile (0..1) of n values, by partial selection on a copy (values is untouched).
 * Returns 0 for n == 0. */
double um_quantile(const float *values, size_t n, double q);
double um_median(const float *values, size_t n);

/* Area under the ROC curve of scores for positives (label 1) vs negatives (label 0), ties
 * counted as half (Mann-Whitney). Returns -1 when one class is empty. O(n log n). */
double um_auc(const float *scores, const unsigned char *labels, size_t n);

/* Box filter: mean over a (2r+1)^2 window, edges clamped, out may not alias in. */
void um_box_filter(const float *in, int width, int height, int r, float *out);

#endif
