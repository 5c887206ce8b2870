/* A-contrario helpers (Desolneux, Moisan & Morel): the number of false alarms of an event is
 * the number of tests times the probability of the event under the background (null) model.
 * A detection with NFA < 1 (log10 NFA < 0) is expected less than once by chance in the image. */
#ifndef UM_CORE_NFA_H
#define UM_CORE_NFA_H

/* log10 of P[X >= k] for X ~ Binomial(n, p), accurate far into the tail (no underflow: it is
 * summed in log space). Returns 0 (probability bound 1) when k <= n p, where the tail is at
 * least about 1/2 anyway, and -INFINITY when k > n (impossible). */
double um_log10_binomial_tail(long n, long k, double p);

/* log10 NFA = log10(number_of_tests) + log10 P[X >= k], X ~ Binomial(n, p). */
double um_log10_nfa(double number_of_tests, long n, long k, double p);

#endif
