/* What both copy-move detectors (copymove_dense.c, copymove_keypoint.c) report: clone pairs,
 * a source region that appears copied, possibly rotated and scaled, onto a target region of the
 * same image. Each detector finds and verifies its pairs its own way; this is the one place that
 * turns them into JSON ("details": {"clones": [...]}) and into the sentences a person reads. */
#ifndef UM_DETECT_COPYMOVE_H
#define UM_DETECT_COPYMOVE_H

#include "detect/detector.h"

/* A box in input pixel coordinates (x, y = top-left corner). */
struct um_box {
    int x, y, w, h;
};

struct um_clone {
    struct um_box source, target;
    /* The estimated map from source to target pixels: target = A * source + t, with
     * A = [a11 a12; a21 a22] and t = (tx, ty), input pixel coordinates. */
    double a11, a12, a21, a22, tx, ty;
    long support;     /* what backs the pair: matched keypoints or verified pixels */
    const char *support_unit; /* "keypoints" or "pixels" (a string literal) */
    int has_nfa;      /* 1 when log10_nfa was computed (a-contrario test of the pair) */
    double log10_nfa; /* < 0: fewer false alarms than one expected per image under H0 */
};

/* The rotation (degrees, counter-clockwise as seen on screen, in (-180, 180]) and the scale
 * (geometric mean of the two axis scales) of a clone's affine map. */
double um_clone_rotation_deg(const struct um_clone *c);
double um_clone_scale(const struct um_clone *c);

/* The w x h plane img at (x, y), bilinear; 0 <= x <= w - 1, 0 <= y <= h - 1, w, h >= 2. */
float um_bilinear(const float *img, int w, int h, double x, double y);

/* How exactly each pixel of a rectangle is copied under the affine map x -> A x + t (working
 * pixels; a = {a11, a12, tx, a21, a22, ty}): out[(y - y0) * rw + x - x0] = 1 - e, e the 3x3
 * mean of (D(x) - D(A x + t))^2 over that of D(x)^2 + D(A x + t)^2 (plus a small constant
 * for flat areas), D a detail image (the luma minus its local mean; D(A x + t) bilinear).
 * 1 where the copy is exact, about 0 where the two sides are unrelated, clamped to [0, 1]; 0
 * where A x + t leaves the image. The copy-move detectors grade their maps with it: their
 * verification windows still agree a few pixels past a copy's edge, this finer measure does
 * not. Returns UM_OK or UM_ERR_NOMEM. */
um_error um_copy_exactness(const float *detail, int w, int h, const double a[6], int x0, int y0,
                           int rw, int rh, float *out);

/* Adds details.clones (an array, one object per pair: source and target boxes, transform with
 * translation/rotation/scale and the affine matrix, support, log10_nfa or null) to ev->details
 * (created if NULL), and one finding per pair in the order given (pass the strongest first), worded as
 * "region A (x 120, y 40, 64x80 px) appears copied to B (x 300, y 52, 70x84 px), rotated 30°,
 * scaled 1.10x; 412 matching keypoints". A pair that is an earlier pair seen from its other end
 * (source and target boxes swapped) is reported once. Returns UM_OK or UM_ERR_NOMEM. */
um_error um_clones_report(struct um_evidence *ev, const struct um_clone *clones, int nclones);

#endif
