/* The inside of um_result: what one analysis produced. Shared by the pipeline (api), fusion
 * and the report writers; opaque to library users. */
#ifndef UM_API_RESULT_H
#define UM_API_RESULT_H

#include "detect/detector.h"
#include "io/decode.h"
#include "prov/provenance.h"
#include "unmask.h"

struct um_detector_run {
    const struct um_detector *detector;
    int ran;                  /* selected and executed (else: filtered out or skipped) */
    struct um_evidence ev;
    double ms;
};

#define UM_MAX_REASONS 6
#define UM_REASON_LEN 300

struct um_verdict {
    double score;             /* 0..1; with calibrated: the probability of manipulation */
    int calibrated;           /* score comes from the calibrated model (fuse/calibrate.h) */
    double false_alarm_rate;  /* share of the calibration set's authentic images scoring as
                                 high (with calibrated) */
    const char *label;        /* UM_LABEL_* */
    int nreasons;
    char reasons[UM_MAX_REASONS][UM_REASON_LEN];
};

struct um_written_map {
    char *name;               /* detector name, "fused" or "overlay" */
    char *path;
};

struct um_result {
    char *file;               /* as given by the caller */
    char sha256[65];          /* hex of the analysed bytes; "" when they could not be read */
    uint64_t size_bytes;
    um_error error;
    char message[512];

    um_decoded decoded;       /* pixels kept for the colour overlay; freed with the result */
    size_t nruns;
    struct um_detector_run *runs; /* one per registered detector, registry order */

    float *fused;             /* fused map: fused_w x fused_h cells of fused_step pixels */
    int fused_w, fused_h, fused_step;
    struct um_verdict verdict;
    int provenance_only;      /* options.provenance_only: no detectors, no verdict */
    int prov_examined;        /* prov holds a report */
    um_provenance prov;

    double decode_ms, prov_ms, fuse_ms, total_ms;
    size_t nmaps;
    struct um_written_map *maps;
};

/* Find a run by detector name, NULL if none. */
const struct um_detector_run *um_result_find_run(const um_result *r, const char *name);

#endif
