/* Calibration: how each detector's output becomes comparable evidence, and how the evidence
 * becomes a probability.
 *
 * Evidence is measured against the detector's own behaviour on authentic images. For a score s
 * the p-value is the share of authentic images of the calibration set whose score is at least
 * s (so p = 1 means "as ordinary as it gets", p = 0.01 means "1 authentic image in 100 scores
 * this high"); the evidence is z = -log10 p, in decades of false alarms. The image
 * probability is a logistic model on the z of every detector,
 *     P(manipulated) = 1 / (1 + exp(-(b0 + sum_d b_d z_d))),
 * fitted on the calibration set's fit half (maximum likelihood, small ridge penalty). The
 * numbers themselves live in calibration.c, which `unmask bench DIR --half fit --refit FILE`
 * writes (um_calib_write below) with the data and date they were fitted on. */
#ifndef UM_FUSE_CALIBRATE_H
#define UM_FUSE_CALIBRATE_H

#include <stddef.h>

#define UM_CALIB_QUANTILES 31 /* levels of an authentic distribution kept (um_calib_levels):
                                 every 5 % up to 90 %, then finer into the upper tail, where
                                 false alarms are decided */

/* The quantile levels, in [0,1], increasing. */
extern const double um_calib_levels[UM_CALIB_QUANTILES];

/* One detector's calibration. */
struct um_calib_detector {
    const char *name;
    double coef;                          /* b_d of the logistic model */
    double map_weight;                    /* its share in the fused map (0: not used there) */
    double score_q[UM_CALIB_QUANTILES];   /* authentic image scores, quantiles */
};

/* The calibration compiled into the library (calibration.c). */
struct um_calibration {
    const char *dataset, *date;           /* what it was fitted on, when */
    double intercept;                     /* b0 */
    double likely, manipulated;           /* probability thresholds of the two labels */
    double min_p;                         /* smallest p-value the set can show: 1/(n+1) */
    double verdict_q[UM_CALIB_QUANTILES]; /* authentic images' probabilities, quantiles: the
                                             false-alarm rate of a verdict */
    size_t ndetectors;
    const struct um_calib_detector *detectors;
};

extern const struct um_calibration um_calibration;

/* Share of the authentic distribution (given by its quantiles) at or above v, in [min_p, 1]:
 * linear between quantiles, min_p above the largest. */
double um_calib_upper_tail(const double q[UM_CALIB_QUANTILES], double v, double min_p);

/* z = -log10 of the score's p-value: 0 = ordinary, 2 = one authentic image in a hundred. */
double um_calib_evidence(const struct um_calib_detector *d, double score);

/* The logistic model on evidence z[d] (in um_calibration.detectors order; 0 for detectors that
 * did not judge the image). */
double um_calib_probability(const double *z);

/* ---- fitting (the benchmark's --refit) ---- */

struct um_calib_fit_input {
    const char *dataset;        /* e.g. "casia1, fit half (460 tampered, 400 authentic)" */
    size_t ndetectors;
    const char *const *names;   /* [ndetectors] */
    const double *map_weight;   /* [ndetectors] map weights to write */
    size_t nimages;
    const int *tampered;        /* [nimages] 1 tampered, 0 authentic */
    const double *score;        /* [nimages * ndetectors] image scores */
    const unsigned char *applicable; /* [nimages * ndetectors] */
};

/* Fit the model and write calibration.c to path. Returns 0, or -1 with a sentence in err. */
int um_calib_write(const struct um_calib_fit_input *in, const char *path, char *err,
                   size_t errlen);

#endif
