/* Fusion: the detectors' evidence, made comparable by calibration (calibrate.h), becomes one
 * map and one verdict whose score is a probability.
 *
 * Map: each detector's cells (already 0..1 evidence in the detector's own terms) are weighted
 * by the detector's map weight times its image-level confidence 1 - p (how rarely an authentic
 * image scores as high: a detector that found nothing unusual in this image does not dilute one
 * that did), averaged, smoothed over neighbouring cells (an edited region is spatially
 * coherent, block noise is not) and reshaped by a gamma so that 0.5 is a useful threshold.
 * Measured on the CASIA v1 fit half: reading the cells through their authentic distribution as
 * well ("how unusual is this cell") lowered F1 at 0.5 from 0.482 to 0.447 and best F1 from 0.649
 * to 0.626 (gamma 0.6 and 1.0), so the cells are kept as the detectors give them.
 * Verdict: the logistic model on every detector's evidence gives P(manipulated); the labels
 * follow the calibrated thresholds; the false-alarm rate says how many authentic images of the
 * calibration set score as high. Then the provenance facts speak (provenance_verdict.c). */
#include "fuse/fuse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jpeg_tables.h"
#include "core/stats.h"
#include "fuse/calibrate.h"
#include "prov/text.h"

/* Cells of the fused map: the JPEG block size, the resolution of most detectors. */
#define FUSED_STEP 8
/* Fit-half choices (README "Fusion"): smoothing radius in cells and the map's gamma. */
#define FUSED_SMOOTH_RADIUS 2
#define FUSED_GAMMA 0.6
/* A detector "agrees" when its score is rarer than this share of authentic images. */
#define AGREE_P 0.05
/* Degraded inputs: below these, "nothing found" is "inconclusive" (README "Labels"). */
#define MIN_SIDE 128
#define MIN_JPEG_QUALITY 50

static int usable(const struct um_detector_run *run)
{
    return run->ran && run->ev.applicable && !run->ev.no_score;
}

/* Per calibrated detector: its run (or NULL) and its evidence z = -log10 p. */
struct evidence {
    const struct um_detector_run *run[UM_MAX_DETECTORS];
    double z[UM_MAX_DETECTORS];
};

static void gather_evidence(const um_result *r, struct evidence *e)
{
    memset(e, 0, sizeof *e);
    for (size_t c = 0; c < um_calibration.ndetectors && c < UM_MAX_DETECTORS; c++) {
        const struct um_detector_run *run = um_result_find_run(r, um_calibration.detectors[c].name);
        if (run && usable(run)) {
            e->run[c] = run;
            e->z[c] = um_calib_evidence(&um_calibration.detectors[c], run->ev.score);
        }
    }
}

static um_error fuse_maps(um_result *r, const struct evidence *e)
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
    for (size_t c = 0; c < um_calibration.ndetectors && c < UM_MAX_DETECTORS; c++) {
        const struct um_detector_run *run = e->run[c];
        const struct um_calib_detector *cal = &um_calibration.detectors[c];
        if (!run || !run->ev.map || cal->map_weight <= 0)
            continue;
        double wt = cal->map_weight * (1.0 - pow(10.0, -e->z[c]));
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
    um_box_filter(fused, w, h, FUSED_SMOOTH_RADIUS, cells);
    for (size_t k = 0; k < n; k++) /* the running box sum can end a hair below 0 */
        fused[k] = cells[k] > 0 ? fminf(powf(cells[k], (float)FUSED_GAMMA), 1.0f) : 0.0f;
    free(cells);
    r->fused = fused;
    r->fused_w = w;
    r->fused_h = h;
    r->fused_step = FUSED_STEP;
    return UM_OK;
}

static void add_reason(struct um_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_reason(struct um_verdict *v, const char *fmt, ...)
{
    if (v->nreasons >= UM_MAX_REASONS)
        return;
    char text[4 * UM_REASON_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    um_text_copy(v->reasons[v->nreasons++], UM_REASON_LEN, text); /* cut between characters */
}

/* The detectors whose evidence pushes towards "manipulated", strongest first. */
static size_t agreeing(const struct evidence *e, size_t *order)
{
    size_t n = 0;
    double min_z = -log10(AGREE_P);
    for (size_t c = 0; c < um_calibration.ndetectors && c < UM_MAX_DETECTORS; c++) {
        double push = um_calibration.detectors[c].coef * e->z[c];
        if (!e->run[c] || e->z[c] < min_z || push <= 0)
            continue;
        size_t j = n++;
        while (j > 0 && um_calibration.detectors[order[j - 1]].coef * e->z[order[j - 1]] < push) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = c;
    }
    return n;
}

/* No single detector is rare enough on its own, yet together they are: name the two that
 * push most. */
static void explain_accumulation(struct um_verdict *v, const struct evidence *e)
{
    int best[2] = {-1, -1};
    for (size_t c = 0; c < um_calibration.ndetectors && c < UM_MAX_DETECTORS; c++) {
        double push = um_calibration.detectors[c].coef * e->z[c];
        if (!e->run[c] || push <= 0)
            continue;
        if (best[0] < 0 || push > um_calibration.detectors[best[0]].coef * e->z[best[0]]) {
            best[1] = best[0];
            best[0] = (int)c;
        } else if (best[1] < 0 ||
                   push > um_calibration.detectors[best[1]].coef * e->z[best[1]]) {
            best[1] = (int)c;
        }
    }
    if (best[0] >= 0)
        add_reason(v, "weak signs from several detectors add up (strongest: %s%s%s); none is "
                      "conclusive on its own",
                   e->run[best[0]]->detector->name, best[1] >= 0 ? " and " : "",
                   best[1] >= 0 ? e->run[best[1]]->detector->name : "");
}

static void explain_agreement(struct um_verdict *v, const struct evidence *e)
{
    size_t order[UM_MAX_DETECTORS];
    size_t n = agreeing(e, order);
    if (n == 0)
        explain_accumulation(v, e);
    if (n >= 2) {
        char names[200] = "";
        for (size_t k = 0; k < n && k < 4; k++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     k ? (k + 1 == n || k == 3 ? " and " : ", ") : "",
                     e->run[order[k]]->detector->name);
        add_reason(v, "%zu detectors agree (%s%s)", n, names, n > 4 ? " and others" : "");
    }
    for (size_t k = 0; k < n; k++) {
        const struct um_evidence *ev = &e->run[order[k]]->ev;
        add_reason(v, "%s (fewer than %.0f%% of authentic images score this high): %s",
                   e->run[order[k]]->detector->name, 100 * pow(10.0, -e->z[order[k]]) + 0.5,
                   ev->nfindings ? ev->findings[0] : "its map marks a region");
    }
}

/* Why "nothing found" would say too much here, or NULL: too small, too compressed, resized. */
static const char *degraded(const um_result *r)
{
    if (r->decoded.width < MIN_SIDE || r->decoded.height < MIN_SIDE)
        return "the image is too small for the detectors to judge reliably";
    const um_jpeg_info *j = r->decoded.jpeg;
    if (j && j->qtable_present[j->comp[0].quant_index & 3]) {
        int q = um_jpeg_estimate_quality(j->qtable[j->comp[0].quant_index & 3], NULL);
        if (q > 0 && q < MIN_JPEG_QUALITY)
            return "the image was saved at a low JPEG quality, which erases most traces";
    }
    const struct um_detector_run *resampling = um_result_find_run(r, "resampling");
    if (resampling && resampling->ran && resampling->ev.applicable &&
        json_is_true(json_object_get(resampling->ev.details, "global_resampling")))
        return "the whole image was resized, which erases most traces";
    return NULL;
}

static void decide(um_result *r, const struct evidence *e)
{
    struct um_verdict *v = &r->verdict;
    v->score = um_calib_probability(e->z);
    v->false_alarm_rate = um_calib_upper_tail(um_calibration.verdict_q, v->score,
                                              um_calibration.min_p);
    v->calibrated = 1;
    if (v->score >= um_calibration.likely) {
        v->label = v->score >= um_calibration.manipulated ? UM_LABEL_MANIPULATED
                                                          : UM_LABEL_LIKELY_MANIPULATED;
        explain_agreement(v, e);
        return;
    }
    int judged = 0;
    for (size_t c = 0; c < um_calibration.ndetectors && c < UM_MAX_DETECTORS; c++)
        judged += e->run[c] && um_calibration.detectors[c].coef > 0;
    const char *why = degraded(r);
    if (!judged || why) {
        v->label = UM_LABEL_INCONCLUSIVE;
        add_reason(v, "%s", why ? why : "none of the detectors that weigh in the verdict could "
                                        "judge this image (for example: no JPEG history, or "
                                        "the image is too small)");
        return;
    }
    v->label = UM_LABEL_NO_EVIDENCE;
    add_reason(v, "the pixel detectors that could judge this image found no clear trace of "
                  "manipulation; this is not proof that it is authentic");
}

um_error um_fuse(um_result *r)
{
    struct evidence e;
    gather_evidence(r, &e);
    um_error err = fuse_maps(r, &e);
    if (err != UM_OK)
        return err;
    decide(r, &e);
    um_fuse_provenance(r);
    return UM_OK;
}
