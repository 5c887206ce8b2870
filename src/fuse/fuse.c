/* Fusion v0: a confidence-weighted mean of the detectors' maps and a noisy-OR of their scores.
 * A detector weighs in the fused map in proportion to its calibration weight times its own
 * image score, so a detector that found nothing in this image does not dilute one that did;
 * the mean is then smoothed over neighbouring cells and reshaped by a gamma so that 0.5 is a
 * useful threshold. The weights, radius, gamma and thresholds live in calibration.h. */
#include "fuse/fuse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "fuse/calibration.h"

/* Cells of the fused map: the JPEG block size, the resolution of most detectors. */
#define FUSED_STEP 8

static const struct um_fusion_weight *weight_of(const char *name)
{
    static const struct um_fusion_weight none = {"", 0.0, 0.0};
    for (size_t i = 0; i < sizeof um_fusion_weights / sizeof um_fusion_weights[0]; i++)
        if (strcmp(um_fusion_weights[i].detector, name) == 0)
            return &um_fusion_weights[i];
    return &none;
}

static int usable(const struct um_detector_run *run)
{
    return run->ran && run->ev.applicable;
}

static um_error fuse_maps(um_result *r)
{
    int w = (r->decoded.width + FUSED_STEP - 1) / FUSED_STEP;
    int h = (r->decoded.height + FUSED_STEP - 1) / FUSED_STEP;
    size_t n = (size_t)w * (size_t)h;
    float *fused = calloc(n, sizeof *fused);
    float *cells = malloc(n * sizeof *cells);
    if (!fused || !cells) {
        free(fused);
        free(cells);
        return UM_ERR_NOMEM;
    }
    double total = 0;
    for (size_t i = 0; i < r->nruns; i++) {
        const struct um_detector_run *run = &r->runs[i];
        if (!usable(run) || !run->ev.map)
            continue;
        double wt = weight_of(run->detector->name)->map_weight * run->ev.score;
        if (wt <= 0)
            continue;
        um_map_to_grid(run->ev.map, run->ev.map_w, run->ev.map_h, run->ev.map_step, cells, w, h,
                       FUSED_STEP);
        for (size_t k = 0; k < n; k++)
            fused[k] += (float)wt * cells[k];
        total += wt;
    }
    if (total > 0)
        for (size_t k = 0; k < n; k++)
            fused[k] = (float)(fused[k] / total);
    um_box_filter(fused, w, h, UM_FUSED_SMOOTH_RADIUS, cells);
    for (size_t k = 0; k < n; k++) /* the running box sum can end a hair below 0 */
        fused[k] = cells[k] > 0 ? fminf(powf(cells[k], (float)UM_FUSED_GAMMA), 1.0f) : 0.0f;
    free(cells);
    r->fused = fused;
    r->fused_w = w;
    r->fused_h = h;
    r->fused_step = FUSED_STEP;
    return UM_OK;
}

static void add_reason(struct um_verdict *v, const char *fmt, const char *a, const char *b)
{
    if (v->nreasons < UM_MAX_REASONS)
        snprintf(v->reasons[v->nreasons++], UM_REASON_LEN, fmt, a, b);
}

/* Indices of usable runs, strongest weighted score first. */
static size_t rank_runs(const um_result *r, size_t *order, double *strength)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nruns && i < UM_MAX_DETECTORS; i++) {
        if (!usable(&r->runs[i]))
            continue;
        strength[i] = weight_of(r->runs[i].detector->name)->score_weight * r->runs[i].ev.score;
        size_t j = n++;
        while (j > 0 && strength[order[j - 1]] < strength[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return n;
}

static void decide(um_result *r)
{
    struct um_verdict *v = &r->verdict;
    size_t order[UM_MAX_DETECTORS], n;
    double strength[UM_MAX_DETECTORS] = {0};
    n = rank_runs(r, order, strength);
    double none = 1.0;
    size_t weighted = 0;
    for (size_t k = 0; k < n; k++) {
        none *= 1.0 - strength[order[k]];
        weighted += weight_of(r->runs[order[k]].detector->name)->score_weight > 0;
    }
    v->score = 1.0 - none;
    if (v->score >= UM_THRESHOLD_LIKELY) {
        v->label = v->score >= UM_THRESHOLD_MANIPULATED ? UM_LABEL_MANIPULATED
                                                        : UM_LABEL_LIKELY_MANIPULATED;
        for (size_t k = 0; k < n && strength[order[k]] >= 0.2; k++) {
            const struct um_evidence *ev = &r->runs[order[k]].ev;
            add_reason(v, "%s: %s", r->runs[order[k]].detector->name,
                       ev->nfindings ? ev->findings[0] : "its map marks a region");
        }
        return;
    }
    if (weighted == 0) {
        v->label = UM_LABEL_INCONCLUSIVE;
        add_reason(v, "%s%s", "none of the detectors that weigh in the verdict could judge this "
                   "image (for example: no JPEG history, or the image is too small)", "");
        return;
    }
    v->label = UM_LABEL_NO_EVIDENCE;
    add_reason(v, "%s%s", "the pixel detectors that could judge this image found no clear trace "
               "of manipulation; this is not proof that it is authentic", "");
}

um_error um_fuse(um_result *r)
{
    um_error e = fuse_maps(r);
    if (e != UM_OK)
        return e;
    decide(r);
    um_fuse_provenance(r);
    return UM_OK;
}
