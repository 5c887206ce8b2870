/*
 * unmask.h - the public API of libunmask, image forensics for verification desks.
 *
 * Most programs need three calls:
 *
 *     um_options opt;
 *     um_options_init(&opt);
 *     um_result *r = um_analyze_file("photo.jpg", &opt);   // never NULL except out of memory
 *     char *json = um_result_json(r);                       // one line of JSON Lines
 *     ...
 *     free(json);
 *     um_result_free(r);
 *
 * An input that cannot be analysed (unreadable, corrupt, over a limit) still gives a result: its
 * um_result_error() is non-zero and its JSON carries an "error" object. Nothing in the library
 * prints, exits or writes files except um_result_write_maps().
 *
 * Thread safety: distinct results may be produced and used from different threads at once.
 */
#ifndef UNMASK_H
#define UNMASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UM_VERSION "0.1.0"
/* Version of the JSON output contract (docs: README "JSON schema"). */
#define UM_SCHEMA_VERSION 1

/* Error codes. Each has a stable name in JSON (um_error_name). */
typedef enum um_error {
    UM_OK = 0,
    UM_ERR_IO,          /* "io": the file could not be opened or read */
    UM_ERR_UNSUPPORTED, /* "unsupported-format": not an image format unmask reads */
    UM_ERR_CORRUPT,     /* "corrupt": the bytes claim a format but do not decode */
    UM_ERR_LIMIT,       /* "limit": over a size limit (bytes, pixels, dimensions, segments) */
    UM_ERR_NOMEM,       /* "out-of-memory" */
    UM_ERR_ARGUMENT     /* "argument": a bad option or argument from the caller */
} um_error;

const char *um_error_name(um_error code);
const char *um_version(void);

/* Limits and choices for one analysis. Always start from um_options_init(). */
typedef struct um_options {
    uint64_t max_bytes;     /* largest input file, default 512 MiB */
    uint64_t max_pixels;    /* largest width*height, default 250 000 000 */
    uint32_t max_dimension; /* largest width or height, default 65 500 */
    int threads;            /* worker threads; 0 = one per online core */
    const char *detectors;  /* comma-separated detector names to run; NULL = all */
    const char *trust_anchors; /* PEM file of CA certificates trusted to sign Content
                                  Credentials (C2PA); NULL = none: signers are then reported
                                  as untrusted (never as invalid) */
    int provenance_only;    /* 1: read provenance only (C2PA, EXIF, XMP, IPTC, generator traces,
                               watermark) without running the detectors: what `unmask
                               provenance` does; pixels are decoded only where a step needs them */
} um_options;

void um_options_init(um_options *opt);

/* Load a trust-anchor file (PEM) as an analysis would, to report a problem once, before any
 * input: UM_OK, or why it cannot be used (unreadable, too large, no certificate in it) with a
 * sentence in err. */
um_error um_trust_anchors_check(const char *path, char *err, size_t errlen);

/* Verdict labels. */
#define UM_LABEL_MANIPULATED "manipulated"
#define UM_LABEL_LIKELY_MANIPULATED "likely-manipulated"
#define UM_LABEL_AI_GENERATED "ai-generated"
#define UM_LABEL_NO_EVIDENCE "no-evidence-found"
#define UM_LABEL_INCONCLUSIVE "inconclusive"

typedef struct um_result um_result;

/* Analyse a file, or bytes already in memory (name is only reported, never opened).
 * Returns NULL only when memory runs out before a result can be made. */
um_result *um_analyze_file(const char *path, const um_options *opt);
um_result *um_analyze_buffer(const void *data, size_t size, const char *name,
                             const um_options *opt);
void um_result_free(um_result *r);

/* UM_OK, or why the input could not be analysed (message: a sentence for a person). */
um_error um_result_error(const um_result *r, const char **message);

/* Verdict: score in [0,1] (higher = stronger evidence of manipulation) and a UM_LABEL_*. */
double um_result_score(const um_result *r);
const char *um_result_label(const um_result *r);
int um_result_width(const um_result *r);
int um_result_height(const um_result *r);

/* One line of JSON (no trailing newline) following the contract in README "JSON schema".
 * The caller frees it with free(). NULL when out of memory. */
char *um_result_json(const um_result *r);

/* A short readable summary for a person, several lines, ending in a newline. free() it. */
char *um_result_text(const um_result *r);

/* The provenance report alone (what `unmask provenance` prints): one line of JSON with file,
 * sha256, format and the full "provenance" object, or a readable summary. free() it. */
char *um_result_provenance_json(const um_result *r);
char *um_result_provenance_text(const um_result *r);

/* Write DIR/<stem>.<detector>.png for each applicable detector and DIR/<stem>.fused.png, 8-bit
 * grayscale at the input's exact size, 255 = strongest evidence. The paths written are recorded
 * in the result (the JSON "maps" object). Returns UM_OK or UM_ERR_IO with a message in err. */
um_error um_result_write_maps(um_result *r, const char *dir, const char *stem, char *err,
                              size_t errlen);

/* A detector's (or "fused") map at the input's full size, values in [0,1], row-major.
 * Returns a malloc'ed array of width*height floats, or NULL if that map does not exist. */
float *um_result_map(const um_result *r, const char *detector);

/* A detector's image-level score in [0,1]; returns 0 and leaves *score alone when the detector
 * did not run or was not applicable, 1 otherwise. */
int um_result_detector_score(const um_result *r, const char *detector, double *score);

/* 1 if the detector ran and could judge this input, 0 if it was not selected or reported
 * "not applicable" (see the JSON "reason"). */
int um_result_detector_applicable(const um_result *r, const char *detector);

/* Wall-clock milliseconds a stage took: "decode", "provenance", "fuse", a detector's name, or
 * "total". */
double um_result_timing_ms(const um_result *r, const char *stage);

/* The same maps in memory, for a server or a report: an 8-bit grayscale PNG (255 = strongest
 * evidence) of a detector's map or of "fused", at the input's size scaled so that its longer side
 * is at most max_side pixels (0 = full size). Returns malloc'ed bytes (*len set) or NULL when
 * that map does not exist or memory runs out. free() it. */
unsigned char *um_result_map_png(const um_result *r, const char *detector, int max_side,
                                 size_t *len);

/* The analysed image itself as an RGB PNG in memory, scaled as um_result_map_png. NULL when the
 * input could not be decoded. free() it. */
unsigned char *um_result_image_png(const um_result *r, int max_side, size_t *len);

/* Extra facts for the HTML report. Start from um_report_options_init(). */
typedef struct um_report_options {
    const char *analysed_at;  /* when the analysis ran, ISO 8601 UTC; NULL = now */
    const char *const *notes; /* a case's notes, shown in the report; may be NULL */
    size_t nnotes;
    int max_side;             /* longest side of the embedded image and maps; 0 = 2048 */
} um_report_options;

void um_report_options_init(um_report_options *o);

/* One self-contained HTML page (no network, no external file: the image and every map are
 * embedded as PNG data URIs) with the verdict in plain words, a layer per detector, the
 * provenance panel, the SHA-256 of the analysed bytes, the tool version and the time: what
 * `unmask report` writes. NUL-terminated; *len (if not NULL) gets its length. free() it. */
char *um_result_report_html(const um_result *r, const um_report_options *o, size_t *len);

/* The registered detectors, in the order they run and are reported. */
typedef struct um_detector_info {
    const char *name;        /* e.g. "dq" */
    const char *family;      /* e.g. "jpeg" */
    const char *summary;     /* one line: what it looks for */
    const char *limits;      /* what it cannot show, in plain words */
    int needs_jpeg;          /* 1 if it only judges JPEG files */
} um_detector_info;

size_t um_detector_count(void);
const um_detector_info *um_detector_at(size_t index);

#ifdef __cplusplus
}
#endif
#endif
