/* The detector interface. One file per detector in src/detect/, each defining one
 * `const struct um_detector` and listed once in registry.c; everything else (CLI help, JSON,
 * maps, the benchmark table) reads that table. Detectors never print, exit or read files. */
#ifndef UM_DETECT_DETECTOR_H
#define UM_DETECT_DETECTOR_H

#include <jansson.h>

#include "core/image.h"
#include "io/decode.h"
#include "unmask.h"

/* What a detector gets: the decoded input and derived planes computed once for all. */
struct um_input {
    const um_decoded *decoded; /* pixels (rgb) and, for JPEG, decoded->jpeg */
    const um_image *luma;      /* Y plane, 0..255, same size as the image */
};

#define UM_MAX_FINDINGS 8
#define UM_FINDING_LEN 240

/* What a detector returns. um_evidence_* helpers below fill it; the runner frees it. */
struct um_evidence {
    int applicable;            /* set to 1 by the detector when it could judge the input; left 0
                                  with a reason (um_evidence_not_applicable) when not */
    char reason[UM_FINDING_LEN];
    double score;              /* image-level evidence of manipulation, 0..1 */
    int no_score;              /* 1: the detector reports facts only (JSON score null) */
    int has_nfa;
    double log10_nfa;          /* when the method defines one: < 0 is a meaningful detection */
    /* Localization map: map_w x map_h cells, each covering map_step x map_step input pixels
     * from (0,0); values 0 = no evidence .. 1 = strong evidence. NULL if the method has none. */
    float *map;
    int map_w, map_h, map_step;
    int nfindings;
    char findings[UM_MAX_FINDINGS][UM_FINDING_LEN]; /* short sentences for a person */
    json_t *details;           /* optional structured facts (owned; becomes "details" in JSON) */
};

enum { UM_NEEDS_JPEG = 1 }; /* needs decoded->jpeg (coefficients and tables) */

struct um_detector {
    const char *name;    /* stable identifier: JSON, map file names, --detectors */
    const char *family;  /* "jpeg", "noise", "cfa", "resampling", "copy-move", ... */
    const char *summary; /* one line: what it looks for */
    const char *limits;  /* one or two sentences: what it cannot show */
    unsigned needs;      /* UM_NEEDS_* flags */
    /* Fill ev (zeroed by the caller). Returns UM_OK, or UM_ERR_NOMEM; "cannot judge" is not an
     * error: set ev->applicable = 0 and a reason via um_evidence_not_applicable. */
    um_error (*run)(const struct um_input *in, struct um_evidence *ev);
};

/* The registry (registry.c). */
#define UM_MAX_DETECTORS 64
extern const struct um_detector *const um_detectors[];
extern const size_t um_detector_total;

/* Helpers for detectors. */
void um_evidence_not_applicable(struct um_evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void um_evidence_add_finding(struct um_evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Put a finding first: findings[0] is the headline the verdict quotes as a reason, so it must
 * be what explains the score (a region found), not background facts. */
void um_evidence_add_headline(struct um_evidence *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Allocate a zeroed map of map_w x map_h cells of map_step pixels; returns ev->map or NULL. */
float *um_evidence_alloc_map(struct um_evidence *ev, int map_w, int map_h, int map_step);
void um_evidence_clear(struct um_evidence *ev);

/* A number for JSON: jansson refuses NaN and infinities (json_real returns NULL and the field
 * silently disappears), so NaN becomes null and an infinity the largest finite double. */
json_t *um_json_number(double v);

#endif
