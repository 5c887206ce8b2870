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

/* The fused map, after the weighted mean: a box mean over (2r+1)^2 cells of 8x8 pixels (a
 * manipulated region is spatially coherent, the detectors' block-wise noise is not), then
 * v -> v^gamma, which places the map's 0.5 level where the fit half's F1 at 0.5 is best.
 * CASIA v1 fit half (best-F1 / F1@0.5), dq with luminance and chroma (since: luminance only,
 * radius 2, gamma 0.6: 0.651 / 0.489): radius 1, gamma 0.6 / 0.8 /
 * 1.0: 0.622 / 0.484, 0.623 / 0.475, 0.623 / 0.466; radius 2, gamma 0.6 / 0.8 / 1.0: 0.640 /
 * 0.477, 0.640 / 0.464, 0.640 / 0.445. Radius 2, gamma 0.6 kept for the best-F1. */
#define UM_FUSED_SMOOTH_RADIUS 2
#define UM_FUSED_GAMMA 0.6

/* Verdict thresholds on the fused score. */
#define UM_THRESHOLD_MANIPULATED 0.75
#define UM_THRESHOLD_LIKELY 0.5

#endif
