/* Localization metrics: F1 and MCC at 0.5, best-threshold F1 and pixel AUC (metrics.h).
 *
 * The best F1 and the AUC come from one exact sweep over the map's distinct values, from the
 * highest down: at each distinct value t the prediction "map >= t" gains that value's pixels,
 * so TP and FP are running sums, and the Mann-Whitney statistic adds, for the positives at t,
 * the negatives strictly below t plus one half of the negatives tied at t.
 *
 * The distinct values are found without sorting the whole map: a map value in [0,1] is a
 * non-negative float, whose IEEE-754 bit pattern orders like the value. A histogram on the top
 * 16 bits (sign, exponent, 7 mantissa bits) is exact for a bin holding a single value -- the
 * usual case for block-wise maps -- and only bins holding several values are sorted. */
#include "bench/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double um_f1(um_confusion c)
{
    double denom = 2.0 * (double)c.tp + (double)c.fp + (double)c.fn;
    return denom > 0 ? 2.0 * (double)c.tp / denom : NAN;
}

double um_mcc(um_confusion c)
{
    double tp = (double)c.tp, fp = (double)c.fp, fn = (double)c.fn, tn = (double)c.tn;
    double denom = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
    if (denom <= 0)
        return 0.0;
    return (tp * tn - fp * fn) / sqrt(denom);
}

um_confusion um_confusion_at(const float *map, const uint8_t *mask, size_t n, float threshold)
{
    um_confusion c = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int predicted = map ? map[i] >= threshold : 0.0f >= threshold;
        int truth = mask[i] != 0;
        if (predicted && truth)
            c.tp++;
        else if (predicted)
            c.fp++;
        else if (truth)
            c.fn++;
        else
            c.tn++;
    }
    return c;
}

double um_all_white_f1(const uint8_t *mask, size_t n)
{
    um_confusion c = um_confusion_at(NULL, mask, n, 0.0f); /* 0 >= 0: every pixel on */
    return um_f1(c);
}

/* ---- the exact threshold sweep ---- */

struct sweep {
    uint64_t positives, negatives; /* totals P and N of the mask */
    uint64_t tp, fp;               /* of "map >= current value" */
    double best_f1;
    double u;                      /* Mann-Whitney U, accumulated */
};

/* One distinct map value holding pos mask pixels and neg other pixels, visited in decreasing
 * order of value. */
static void sweep_group(struct sweep *s, uint64_t pos, uint64_t neg)
{
    uint64_t neg_below = s->negatives - s->fp - neg;
    s->u += (double)pos * ((double)neg_below + 0.5 * (double)neg);
    s->tp += pos;
    s->fp += neg;
    /* F1 = 2TP / (2TP + FP + FN) with FN = P - TP. */
    double f1 = 2.0 * (double)s->tp / ((double)s->tp + (double)s->fp + (double)s->positives);
    if (f1 > s->best_f1)
        s->best_f1 = f1;
}

/* The order-preserving key of a map value: its float bits after clamping to [0,1]. */
static uint32_t value_key(float v)
{
    if (!(v > 0.0f)) /* also NaN and -0 */
        return 0;
    if (v > 1.0f)
        v = 1.0f;
    uint32_t k;
    memcpy(&k, &v, sizeof k);
    return k;
}

#define KEY_ONE 0x3F800000u              /* bits of 1.0f, the largest key */
#define BIN_SHIFT 16
#define BIN_COUNT ((KEY_ONE >> BIN_SHIFT) + 1)
#define LOW_MASK ((1u << BIN_SHIFT) - 1)

struct bin {
    uint32_t count, positives;
    uint32_t low_min, low_max; /* range of the low 16 key bits seen in this bin */
};

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Visit the entries of one multi-valued bin, sorted ascending as (low bits << 1 | label),
 * from the highest value down, one sweep_group per distinct value. */
static void sweep_sorted_bin(struct sweep *s, const uint32_t *entries, size_t count)
{
    size_t end = count;
    while (end > 0) {
        uint32_t low = entries[end - 1] >> 1;
        uint64_t pos = 0, neg = 0;
        while (end > 0 && entries[end - 1] >> 1 == low) {
            if (entries[end - 1] & 1u)
                pos++;
            else
                neg++;
            end--;
        }
        sweep_group(s, pos, neg);
    }
}

/* The sweep over a real map; returns -1 when out of memory. */
static int sweep_map(struct sweep *s, const float *map, const uint8_t *mask, size_t n)
{
    struct bin *bins = calloc(BIN_COUNT, sizeof *bins);
    if (!bins)
        return -1;
    for (uint32_t b = 0; b < BIN_COUNT; b++)
        bins[b].low_min = LOW_MASK;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = value_key(map[i]), low = key & LOW_MASK;
        struct bin *b = &bins[key >> BIN_SHIFT];
        b->count++;
        b->positives += mask[i] != 0;
        if (low < b->low_min)
            b->low_min = low;
        if (low > b->low_max)
            b->low_max = low;
    }
    /* Gather the pixels of multi-valued bins, bin by bin (a counting sort on the bin). */
    size_t *start = malloc(BIN_COUNT * sizeof *start);
    size_t mixed = 0;
    for (uint32_t b = 0; start && b < BIN_COUNT; b++) {
        start[b] = mixed;
        if (bins[b].count && bins[b].low_min != bins[b].low_max)
            mixed += bins[b].count;
    }
    uint32_t *entries = mixed ? malloc(mixed * sizeof *entries) : NULL;
    if (!start || (mixed && !entries)) {
        free(bins);
        free(start);
        free(entries);
        return -1;
    }
    size_t *fill = start; /* aliases start: after the scatter fill[b] is the end of bin b */
    for (size_t i = 0; i < n; i++) {
        uint32_t key = value_key(map[i]);
        const struct bin *b = &bins[key >> BIN_SHIFT];
        if (b->low_min != b->low_max)
            entries[fill[key >> BIN_SHIFT]++] = (key & LOW_MASK) << 1 | (mask[i] != 0);
    }
    for (uint32_t b = BIN_COUNT; b-- > 0;) {
        if (!bins[b].count)
            continue;
        if (bins[b].low_min == bins[b].low_max) {
            sweep_group(s, bins[b].positives, bins[b].count - bins[b].positives);
            continue;
        }
        size_t end = fill[b], begin = end - bins[b].count;
        qsort(entries + begin, bins[b].count, sizeof *entries, compare_u32);
        sweep_sorted_bin(s, entries + begin, bins[b].count);
    }
    free(bins);
    free(start);
    free(entries);
    return 0;
}

int um_pixel_metrics_compute(const float *map, const uint8_t *mask, size_t n,
                             um_pixel_metrics *out)
{
    out->f1_05 = out->f1_best = out->mcc_05 = out->auc = NAN;
    struct sweep s = {0};
    for (size_t i = 0; i < n; i++)
        s.positives += mask[i] != 0;
    s.negatives = n - s.positives;
    if (s.positives == 0)
        return 0; /* nothing to localise: every metric undefined */

    if (map) {
        if (sweep_map(&s, map, mask, n) != 0)
            return -1;
    } else {
        sweep_group(&s, s.positives, s.negatives); /* one value, 0, on every pixel */
    }
    um_confusion c = um_confusion_at(map, mask, n, UM_BENCH_THRESHOLD);
    out->f1_05 = um_f1(c);
    out->mcc_05 = um_mcc(c);
    out->f1_best = s.best_f1;
    if (s.negatives > 0)
        out->auc = s.u / ((double)s.positives * (double)s.negatives);
    return 0;
}
