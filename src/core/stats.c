#include "core/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Hoare-style quickselect: the k-th smallest of a[0..n-1], reordering a. */
static float select_kth(float *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                float t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

double um_quantile(const float *values, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    float *copy = malloc(n * sizeof *copy);
    if (!copy)
        return NAN;
    memcpy(copy, values, n * sizeof *copy);
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    double v = select_kth(copy, n, k);
    free(copy);
    return v;
}

double um_median(const float *values, size_t n)
{
    return um_quantile(values, n, 0.5);
}

struct scored {
    float score;
    unsigned char label;
};

static int by_score(const void *a, const void *b)
{
    float x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
    return (x > y) - (x < y);
}

double um_auc(const float *scores, const unsigned char *labels, size_t n)
{
    struct scored *s = malloc(n * sizeof *s);
    if (!s)
        return -1;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        s[i].score = scores[i];
        s[i].label = labels[i] ? 1 : 0;
        npos += s[i].label;
    }
    size_t nneg = n - npos;
    if (npos == 0 || nneg == 0) {
        free(s);
        return -1;
    }
    qsort(s, n, sizeof *s, by_score);
    /* Sum of the (mid-)ranks of the positives, ties sharing their average rank. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t pos_in_tie = 0;
        while (j < n && s[j].score == s[i].score) {
            pos_in_tie += s[j].label;
            j++;
        }
        double mid_rank = 0.5 * (double)(i + 1 + j); /* ranks i+1..j */
        rank_sum += mid_rank * (double)pos_in_tie;
        i = j;
    }
    free(s);
    double u = rank_sum - (double)npos * (double)(npos + 1) / 2.0;
    return u / ((double)npos * (double)nneg);
}

void um_box_filter(const float *in, int width, int height, int r, float *out)
{
    /* Separable running sums; edges clamped so the window always has (2r+1) samples. */
    float *tmp = malloc((size_t)width * (size_t)height * sizeof *tmp);
    if (!tmp) {
        memcpy(out, in, (size_t)width * (size_t)height * sizeof *out);
        return;
    }
    float norm = 1.0f / (float)(2 * r + 1);
    for (int y = 0; y < height; y++) {
        const float *row = in + (size_t)y * width;
        float *t = tmp + (size_t)y * width;
        double acc = 0;
        for (int k = -r; k <= r; k++)
            acc += row[k < 0 ? 0 : (k >= width ? width - 1 : k)];
        for (int x = 0; x < width; x++) {
            t[x] = (float)acc * norm;
            int add = x + r + 1, sub = x - r;
            acc += row[add >= width ? width - 1 : add] - row[sub < 0 ? 0 : sub];
        }
    }
    for (int x = 0; x < width; x++) {
        double acc = 0;
        for (int k = -r; k <= r; k++)
            acc += tmp[(size_t)(k < 0 ? 0 : (k >= height ? height - 1 : k)) * width + x];
        for (int y = 0; y < height; y++) {
            out[(size_t)y * width + x] = (float)acc * norm;
            int add = y + r + 1, sub = y - r;
            acc += tmp[(size_t)(add >= height ? height - 1 : add) * width + x] -
                   tmp[(size_t)(sub < 0 ? 0 : sub) * width + x];
        }
    }
    free(tmp);
}
