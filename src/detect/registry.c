/* The one table of detectors. Adding a detector: one new file in src/detect/ and one line here.
 * Order is the order they run in and appear in JSON, maps and the benchmark. */
#include "detect/detector.h"

extern const struct um_detector um_detector_jpeg_structure;

const struct um_detector *const um_detectors[] = {
    &um_detector_jpeg_structure,
};

const size_t um_detector_total = sizeof um_detectors / sizeof um_detectors[0];
