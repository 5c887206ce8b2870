/* The one table of detectors. Adding a detector: one new file in src/detect/ and one line here.
 * Order is the order they run in and appear in JSON, maps and the benchmark. */
#include "detect/detector.h"

extern const struct um_detector um_detector_jpeg_structure;
extern const struct um_detector um_detector_grid;
extern const struct um_detector um_detector_blk;
extern const struct um_detector um_detector_dq;
extern const struct um_detector um_detector_ghost;
extern const struct um_detector um_detector_ela;
extern const struct um_detector um_detector_splicebuster;
extern const struct um_detector um_detector_noise_wavelet;
extern const struct um_detector um_detector_cfa;
extern const struct um_detector um_detector_noise_nfa;
extern const struct um_detector um_detector_resampling;
extern const struct um_detector um_detector_copymove_keypoint;
extern const struct um_detector um_detector_copymove_dense;

const struct um_detector *const um_detectors[] = {
    &um_detector_jpeg_structure,
    &um_detector_grid,
    &um_detector_blk,
    &um_detector_dq,
    &um_detector_ghost,
    &um_detector_ela,
    &um_detector_splicebuster,
    &um_detector_noise_wavelet,
    &um_detector_cfa,
    &um_detector_noise_nfa,
    &um_detector_resampling,
    &um_detector_copymove_keypoint,
    &um_detector_copymove_dense,
};

const size_t um_detector_total = sizeof um_detectors / sizeof um_detectors[0];
