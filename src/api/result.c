/* Reading a finished analysis: the accessors of the public API over struct um_result, and
 * the detector table as the public API shows it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/result.h"

void um_result_free(um_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nruns; i++)
        um_evidence_clear(&r->runs[i].ev);
    for (size_t i = 0; i < r->nmaps; i++) {
        free(r->maps[i].name);
        free(r->maps[i].path);
    }
    free(r->maps);
    free(r->runs);
    free(r->fused);
    um_decoded_clear(&r->decoded);
    um_provenance_clear(&r->prov);
    free(r->file);
    free(r);
}

const struct um_detector_run *um_result_find_run(const um_result *r, const char *name)
{
    for (size_t i = 0; i < r->nruns; i++)
        if (strcmp(r->runs[i].detector->name, name) == 0)
            return &r->runs[i];
    return NULL;
}

um_error um_result_error(const um_result *r, const char **message)
{
    if (message)
        *message = r->message;
    return r->error;
}

double um_result_score(const um_result *r)
{
    return r->verdict.score;
}

const char *um_result_label(const um_result *r)
{
    return r->verdict.label;
}

int um_result_width(const um_result *r)
{
    return r->decoded.width;
}

int um_result_height(const um_result *r)
{
    return r->decoded.height;
}

int um_result_detector_score(const um_result *r, const char *detector, double *score)
{
    const struct um_detector_run *run = um_result_find_run(r, detector);
    if (!run || !run->ran || !run->ev.applicable || run->ev.no_score)
        return 0;
    *score = run->ev.score;
    return 1;
}

int um_result_detector_applicable(const um_result *r, const char *detector)
{
    const struct um_detector_run *run = um_result_find_run(r, detector);
    return run && run->ran && run->ev.applicable;
}

double um_result_timing_ms(const um_result *r, const char *stage)
{
    if (strcmp(stage, "decode") == 0)
        return r->decode_ms;
    if (strcmp(stage, "provenance") == 0)
        return r->prov_ms;
    if (strcmp(stage, "fuse") == 0)
        return r->fuse_ms;
    if (strcmp(stage, "total") == 0)
        return r->total_ms;
    const struct um_detector_run *run = um_result_find_run(r, stage);
    return run && run->ran ? run->ms : 0.0;
}

float *um_result_map(const um_result *r, const char *detector)
{
    int w = r->decoded.width, h = r->decoded.height;
    const float *map;
    int mw, mh, step;
    if (r->error != UM_OK || w <= 0 || h <= 0)
        return NULL;
    if (strcmp(detector, "fused") == 0) {
        map = r->fused, mw = r->fused_w, mh = r->fused_h, step = r->fused_step;
    } else {
        const struct um_detector_run *run = um_result_find_run(r, detector);
        if (!run || !run->ran || !run->ev.applicable)
            return NULL;
        map = run->ev.map, mw = run->ev.map_w, mh = run->ev.map_h, step = run->ev.map_step;
    }
    if (!map)
        return NULL;
    float *out = malloc((size_t)w * (size_t)h * sizeof *out);
    if (out)
        um_map_upsample(map, mw, mh, step, w, h, out);
    return out;
}

size_t um_detector_count(void)
{
    return um_detector_total;
}

static um_detector_info detector_infos[UM_MAX_DETECTORS];
static pthread_once_t detector_infos_once = PTHREAD_ONCE_INIT;

static void detector_infos_fill(void)
{
    for (size_t i = 0; i < um_detector_total && i < UM_MAX_DETECTORS; i++) {
        const struct um_detector *d = um_detectors[i];
        detector_infos[i] = (um_detector_info){d->name, d->family, d->summary, d->limits,
                                               (d->needs & UM_NEEDS_JPEG) != 0};
    }
}

const um_detector_info *um_detector_at(size_t index)
{
    if (index >= um_detector_total || index >= UM_MAX_DETECTORS)
        return NULL;
    pthread_once(&detector_infos_once, detector_infos_fill);
    return &detector_infos[index];
}
