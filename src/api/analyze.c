/* The analysis pipeline: bytes -> decoded image -> provenance, then the detectors (run
 * concurrently) -> fusion. Reading a finished result is result.c's job. */
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/result.h"
#include "core/parallel.h"
#include "fuse/fuse.h"
#include "io/limits.h"

const char *um_version(void)
{
    return UM_VERSION;
}

const char *um_error_name(um_error code)
{
    switch (code) {
    case UM_OK: return "ok";
    case UM_ERR_IO: return "io";
    case UM_ERR_UNSUPPORTED: return "unsupported-format";
    case UM_ERR_CORRUPT: return "corrupt";
    case UM_ERR_LIMIT: return "limit";
    case UM_ERR_NOMEM: return "out-of-memory";
    case UM_ERR_ARGUMENT: return "argument";
    }
    return "unknown";
}

void um_options_init(um_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->max_bytes = UM_DEFAULT_MAX_BYTES;
    opt->max_pixels = UM_DEFAULT_MAX_PIXELS;
    opt->max_dimension = UM_DEFAULT_MAX_DIMENSION;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sha256_hex(const void *data, size_t size, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = 0;
    if (!EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) || len != 32)
        return;
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Is name in the comma-separated list? NULL list selects everything. */
static int selected(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static um_result *result_new(const char *name)
{
    um_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->file = strdup(name ? name : "");
    r->nruns = um_detector_total;
    r->runs = calloc(r->nruns, sizeof *r->runs);
    if (!r->file || !r->runs) {
        free(r->file);
        free(r->runs);
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < r->nruns; i++)
        r->runs[i].detector = um_detectors[i];
    r->verdict.label = UM_LABEL_INCONCLUSIVE;
    return r;
}

static void fail(um_result *r, um_error code, const char *message)
{
    r->error = code;
    snprintf(r->message, sizeof r->message, "%s", message);
}

struct detector_job {
    um_result *r;
    const struct um_input *in;
    const char *only;
    _Atomic um_error error; /* UM_ERR_NOMEM once any detector ran out of memory */
};

static void run_one(void *ctx, int i)
{
    struct detector_job *job = ctx;
    struct um_detector_run *run = &job->r->runs[i];
    const struct um_detector *d = run->detector;
    if (!selected(job->only, d->name))
        return;
    run->ran = 1;
    double t0 = now_ms();
    if ((d->needs & UM_NEEDS_JPEG) && !job->in->decoded->jpeg) {
        um_evidence_not_applicable(&run->ev, "the file is %s, not JPEG: no JPEG coefficients "
                                   "to examine", um_format_name(job->in->decoded->format));
    } else {
        if (d->run(job->in, &run->ev) != UM_OK) {
            um_evidence_clear(&run->ev);
            um_evidence_not_applicable(&run->ev, "ran out of memory");
            atomic_store(&job->error, UM_ERR_NOMEM);
        }
    }
    run->ms = now_ms() - t0;
}

/* Provenance is examined whatever happened to the pixels (a GIF, a corrupt JPEG or a sidecar
 * .c2pa still has metadata to report), and before the detectors: fusion reads its facts. */
um_error um_trust_anchors_check(const char *path, char *err, size_t errlen)
{
    um_trust *trust = NULL;
    um_error e = um_trust_load(path, &trust, err, errlen);
    um_trust_free(trust);
    return e;
}

static um_error examine_provenance(um_result *r, const uint8_t *data, size_t size,
                                   um_format format, const um_options *opt)
{
    double t0 = now_ms();
    um_trust *trust = NULL;
    char err[400];
    if (opt->trust_anchors) {
        um_error e = um_trust_load(opt->trust_anchors, &trust, err, sizeof err);
        if (e != UM_OK) {
            fail(r, e == UM_ERR_NOMEM ? e : UM_ERR_ARGUMENT, err);
            return e;
        }
    }
    um_prov_options po = {.trust = trust, .watermark = 1};
    int have_pixels = !r->provenance_only && r->error == UM_OK;
    um_error e = um_provenance_examine(data, size, format, have_pixels ? &r->decoded : NULL, &po,
                                       &r->prov);
    um_trust_free(trust);
    r->prov_examined = e == UM_OK;
    r->prov_ms = now_ms() - t0;
    if (e != UM_OK)
        fail(r, e, "out of memory while reading the provenance");
    return e;
}

static void run_detectors(um_result *r, const um_options *opt)
{
    um_image *luma = um_image_luminance(r->decoded.rgb);
    if (!luma) {
        fail(r, UM_ERR_NOMEM, "out of memory while preparing the image");
        return;
    }
    struct um_input in = {.decoded = &r->decoded, .luma = luma};
    struct detector_job job = {.r = r, .in = &in, .only = opt->detectors};
    atomic_init(&job.error, UM_OK);
    um_parallel_for((int)r->nruns, run_one, &job, opt->threads);
    um_image_free(luma);

    double tf = now_ms();
    um_error e = atomic_load(&job.error);
    if (e == UM_OK)
        e = um_fuse(r);
    r->fuse_ms = now_ms() - tf;
    if (e != UM_OK)
        fail(r, e, "out of memory during the analysis");
}

um_result *um_analyze_buffer(const void *data, size_t size, const char *name,
                             const um_options *opt)
{
    um_options defaults;
    if (!opt) {
        um_options_init(&defaults);
        opt = &defaults;
    }
    double t0 = now_ms();
    um_result *r = result_new(name);
    if (!r)
        return NULL;
    r->size_bytes = size;
    r->provenance_only = opt->provenance_only;
    sha256_hex(data, size, r->sha256);
    um_format format = um_sniff_format(data, size);

    if (!r->provenance_only) {
        um_limits limits = {opt->max_bytes, opt->max_pixels, opt->max_dimension};
        char err[400];
        um_error e = um_decode(data, size, &limits, &r->decoded, err, sizeof err);
        if (e != UM_OK)
            fail(r, e, err);
        r->decode_ms = now_ms() - t0;
    }
    /* Still say what the bytes looked like ("gif", a corrupt "jpeg"). */
    r->decoded.format = format;
    int decoded = !r->provenance_only && r->error == UM_OK;
    if (examine_provenance(r, data, size, format, opt) == UM_OK && r->provenance_only &&
        format == UM_FORMAT_UNKNOWN && !r->prov.facts.c2pa_present)
        fail(r, UM_ERR_UNSUPPORTED, "not an image format unmask reads, nor a C2PA manifest store");
    if (decoded && r->error == UM_OK)
        run_detectors(r, opt);
    r->total_ms = now_ms() - t0;
    return r;
}

um_result *um_analyze_file(const char *path, const um_options *opt)
{
    um_options defaults;
    if (!opt) {
        um_options_init(&defaults);
        opt = &defaults;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    char err[400];
    um_error e = um_read_file(path, opt->max_bytes, &data, &size, err, sizeof err);
    if (e != UM_OK) {
        um_result *r = result_new(path);
        if (r)
            fail(r, e, err);
        return r;
    }
    um_result *r = um_analyze_buffer(data, size, path, opt);
    free(data);
    return r;
}
