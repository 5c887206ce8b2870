#include "core/nfa.h"

#include <math.h>

/* Above the mean, terms of the tail are summed in log space from the first one, k, because the series
 * decreases quickly once k > n p; the ratio of successive terms is (n-i)/(i+1) * p/(1-p).
 * Stops when a term adds less than a relative 1e-12. */
double um_log10_binomial_tail(long n, long k, double p)
{
    if (k <= 0)
        return 0.0;
    if (k > n || p <= 0.0)
        return -INFINITY; /* an impossible event */
    if (p >= 1.0 || (double)k <= (double)n * p)
        return 0.0; /* at or below the mean the tail is >= ~1/2: keep the conservative bound 1 */
    double log_term = lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
                      (double)k * log(p) + (double)(n - k) * log1p(-p);
    double ratio_base = p / (1.0 - p);
    double sum = 1.0, term = 1.0; /* relative to the first term */
    for (long i = k; i < n; i++) {
        term *= (double)(n - i) / (double)(i + 1) * ratio_base;
        sum += term;
        if (term < sum * 1e-12)
            break;
    }
    double log10_tail = (log_term + log(sum)) / M_LN10;
    return log10_tail > 0 ? 0 : log10_tail;
}

double um_log10_nfa(double number_of_tests, long n, long k, double p)
{
    return log10(number_of_tests) + um_log10_binomial_tail(n, k, p);
}
