/* Localization metrics of the benchmark: one map against one binary ground-truth mask.
 *
 * Protocol (printed with every benchmark run, see UM_BENCH_PROTOCOL):
 *  - a pixel is predicted "manipulated" when map >= threshold;
 *  - F1 and MCC at the fixed threshold 0.5;
 *  - best F1: the maximum F1 over every threshold equal to a distinct value of the map, per
 *    image (an oracle threshold, an upper bound; the map is never inverted or permuted and no
 *    band around the mask border is ignored). The lowest threshold is always a candidate, so
 *    a constant map scores the F1 of the all-on prediction, 2|M| / (|M| + N) for a mask of |M|
 *    positives among N pixels: abstaining can never beat the "all-white" floor;
 *  - pixel AUC: Mann-Whitney U of map values, mask pixels vs the rest, ties count one half;
 *  - a missing map (detector not applicable, or no map) counts as all zeros.
 */
#ifndef UM_BENCH_METRICS_H
#define UM_BENCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define UM_BENCH_THRESHOLD 0.5f

/* Metrics of one map vs one mask. A value is NAN when undefined for that mask: all four when
 * the mask has no positive pixel, the AUC also when it has no negative one. */
typedef struct um_pixel_metrics {
    double f1_05;   /* F1 at map >= 0.5 */
    double f1_best; /* max F1 over the map's distinct values as thresholds */
    double mcc_05;  /* Matthews correlation at map >= 0.5 (0 when a marginal is empty) */
    double auc;     /* pixel-level ROC AUC */
} um_pixel_metrics;

/* Confusion counts of a binary prediction. */
typedef struct um_confusion {
    uint64_t tp, fp, fn, tn;
} um_confusion;

/* F1 = 2TP / (2TP + FP + FN); NAN when there are neither positives nor predictions. */
double um_f1(um_confusion c);
/* MCC = (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0 when a factor is 0. */
double um_mcc(um_confusion c);

/* Counts of map >= threshold against mask (nonzero = manipulated). map may be NULL (zeros). */
um_confusion um_confusion_at(const float *map, const uint8_t *mask, size_t n, float threshold);

/* All four metrics. map may be NULL: it then counts as an all-zero map. Values outside [0,1]
 * are clamped, NaN counts as 0. Returns 0, or -1 when out of memory (out is then all NAN). */
int um_pixel_metrics_compute(const float *map, const uint8_t *mask, size_t n,
                             um_pixel_metrics *out);

/* F1 of the all-on prediction ("all-white map" floor): 2P / (P + n); NAN when P == 0. */
double um_all_white_f1(const uint8_t *mask, size_t n);

#endif
