/* Fusion constants: the one place where numbers fitted on data live.
 *
 * v0 (hand-set rule, not a fitted calibration): map_weight is each detector's share in the fused
 * map (weighted mean of the applicable detectors' maps); score_weight scales its image score in
 * the noisy-OR that gives the verdict score. Chosen from the benchmark on the CASIA v1 "fit" half
 * (pairs.csv rows with an even index); figures in README are reported on the odd half.
 * Detectors not listed get weight 0 in both: they are reported but do not move the verdict. */
#ifndef UM_FUSE_CALIBRATION_H
#define UM_FUSE_CALIBRATION_H

struct um_fusion_weight {
    const char *detector;
    double map_weight;
    double score_weight;
};

static const struct um_fusion_weight um_fusion_weights[] = {
    {"dq", 1.0, 0.8},
    {"grid", 1.0, 0.8},
    {"blk", 0.5, 0.4},
    {"ghost", 0.5, 0.4},
    {"ela", 0.25, 0.2},
};

/* Verdict thresholds on the fused score. */
#define UM_THRESHOLD_MANIPULATED 0.75
#define UM_THRESHOLD_LIKELY 0.5

#endif
