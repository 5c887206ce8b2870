/* copymove-dense: Zernike features, PatchMatch and dense linear fitting (Cozzolino, Poggi &
 * Verdoliva 2015) on clones the test makes itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/copymove.h"
#include "detect/detector.h"
#include "synth.h"
#include "synth_clone.h"

extern const struct um_detector um_detector_copymove_dense;

enum { W = 512, H = 384, SX = 40, SY = 40, SW = 96, SH = 96 };
static const double CX = 360, CY = 250; /* target centre */

static void report(const char *what, const struct um_evidence *ev)
{
    fprintf(stderr, "  %s: applicable %d, score %.3f, log10 NFA %.1f\n", what, ev->applicable,
            ev->score, ev->has_nfa ? ev->log10_nfa : 0.0);
    for (int i = 0; i < ev->nfindings; i++)
        fprintf(stderr, "    %s\n", ev->findings[i]);
}

static size_t clone_count(const struct um_evidence *ev)
{
    json_t *list = ev->details ? json_object_get(ev->details, "clones") : NULL;
    return list ? json_array_size(list) : 0;
}

static double transform_field(const struct um_evidence *ev, const char *field)
{
    json_t *c = json_array_get(json_object_get(ev->details, "clones"), 0);
    return json_number_value(json_object_get(json_object_get(c, "transform"), field));
}

/* The first pair's source box centre (either side of the pair may be called the source). */
static void source_centre(const struct um_evidence *ev, double *x, double *y)
{
    json_t *s = json_object_get(json_array_get(json_object_get(ev->details, "clones"), 0),
                                "source");
    *x = json_integer_value(json_object_get(s, "x")) + json_integer_value(json_object_get(s, "w")) / 2.0;
    *y = json_integer_value(json_object_get(s, "y")) + json_integer_value(json_object_get(s, "h")) / 2.0;
}

/* Map mean inside a box, for a box given by its centre and half sizes. */
static double map_mean(const struct um_evidence *ev, double cx, double cy, int half)
{
    return synth_evidence_mean(ev, W, H, (int)cx - half, (int)cy - half, 2 * half, 2 * half, 1);
}

struct clone_case {
    const char *name;
    double rot, scale;
    int quality; /* 0: lossless */
};

/* Clone the box (SX, SY, SW, SH) of a synthetic photo onto (CX, CY) rotated and scaled, save it
 * losslessly or as JPEG, and check the pair: one clone, both regions in the map, nothing far
 * from them, and the transform in either direction (A to B or B to A). */
static void check_clone_found(const struct clone_case *c)
{
    um_image *img = synth_textured_photo(W, H, 11);
    struct synth_box t = synth_clone(img, SX, SY, SW, SH, CX, CY, c->rot, c->scale);
    CHECK(t.w > 0);
    if (c->quality) {
        um_image *j = synth_jpeg_pixels(img, c->quality);
        um_image_free(img);
        img = j;
    }
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_dense, &d, &ev, NULL) == UM_OK);
    report(c->name, &ev);
    CHECK(ev.applicable);
    CHECK_MSG(clone_count(&ev) >= 1, "%s: no clone", c->name);
    if (clone_count(&ev) >= 1) {
        double scx = SX + SW / 2.0, scy = SY + SH / 2.0, x, y;
        source_centre(&ev, &x, &y);
        int forward = hypot(x - scx, y - scy) < hypot(x - CX, y - CY);
        double rot = transform_field(&ev, "rotation_deg"), scale = transform_field(&ev, "scale");
        double want_rot = forward ? c->rot : -c->rot, want_scale = forward ? c->scale : 1 / c->scale;
        double drot = fmod(fabs(rot - want_rot) + 180.0, 360.0) - 180.0;
        CHECK_MSG(fabs(drot) < 4.0, "%s: rotation %.1f, want %.1f", c->name, rot, want_rot);
        CHECK_MSG(fabs(scale / want_scale - 1) < 0.05, "%s: scale %.3f, want %.3f", c->name,
                  scale, want_scale);
        CHECK(ev.score > 0.9);
        CHECK(ev.has_nfa && ev.log10_nfa < -5);
    }
    /* Both the source and the target are marked; far corners are not. */
    double in_src = map_mean(&ev, SX + SW / 2.0, SY + SH / 2.0, 30);
    double in_dst = map_mean(&ev, CX, CY, (int)(30 * c->scale));
    double far = synth_evidence_mean(&ev, W, H, W - 100, 0, 100, 100, 1);
    CHECK_MSG(in_src > 0.7 && in_dst > 0.7 && far < 0.05, "%s: source %.2f target %.2f far %.2f",
              c->name, in_src, in_dst, far);
    /* The translation is right for a plain shift. */
    if (c->rot == 0 && c->scale == 1 && clone_count(&ev) >= 1) {
        double dx = fabs(transform_field(&ev, "dx")), dy = fabs(transform_field(&ev, "dy"));
        CHECK_MSG(fabs(dx - (CX - SX - (SW - 1) / 2.0)) < 2 && fabs(dy - (CY - SY - (SH - 1) / 2.0)) < 2,
                  "%s: shift %.1f, %.1f", c->name, dx, dy);
    }
    um_evidence_clear(&ev);
    um_image_free(img);
}

static void shift_found(void) { check_clone_found(&(struct clone_case){"shift", 0, 1, 0}); }
static void rotation30_found(void) { check_clone_found(&(struct clone_case){"rot30", 30, 1, 0}); }
static void rotation90_found(void) { check_clone_found(&(struct clone_case){"rot90", 90, 1, 0}); }
static void scale08_found(void) { check_clone_found(&(struct clone_case){"scale0.8", 0, 0.8, 0}); }
static void scale12_found(void) { check_clone_found(&(struct clone_case){"scale1.2", 0, 1.2, 0}); }
static void jpeg70_found(void) { check_clone_found(&(struct clone_case){"jpeg70", 0, 1, 70}); }
static void jpeg95_rot30_found(void)
{
    check_clone_found(&(struct clone_case){"jpeg95+rot30", 30, 1, 95});
}

/* No clone, no map, score 0. */
static void check_quiet(const char *what, um_image *img)
{
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_dense, &d, &ev, NULL) == UM_OK);
    report(what, &ev);
    CHECK_MSG(ev.applicable, "%s: %s", what, ev.reason);
    CHECK_MSG(clone_count(&ev) == 0, "%s: %zu clones", what, clone_count(&ev));
    CHECK(ev.score == 0);
    CHECK(synth_evidence_mean(&ev, img->width, img->height, 0, 0, img->width, img->height, 1) ==
          0);
    um_evidence_clear(&ev);
    um_image_free(img);
}

static void clean_photo_quiet(void)
{
    check_quiet("clean photo", synth_photo(W, H, 11));
    check_quiet("clean textured photo", synth_textured_photo(W, H, 11));
    check_quiet("clean photo jpeg75", synth_photo_jpeg_pixels(W, H, 5, 75));
}

static void tiles_quiet(void)
{
    um_image *img = um_image_new(W, H, 3);
    synth_tiles(img, 48, 40, 3);
    check_quiet("tiles 48x40", img);
    img = um_image_new(W, H, 3);
    synth_tiles(img, 100, 90, 4);
    check_quiet("tiles 100x90", img);
}

static void text_quiet(void)
{
    um_image *img = um_image_new(W, H, 3);
    synth_text_page(img, 14, 5);
    check_quiet("text 14px", img);
    img = um_image_new(W, H, 3);
    synth_text_page(img, 28, 6);
    check_quiet("text 28px", img);
}

/* A copy with a flat band across it: an 84 x 44 box whose middle 24 columns are flat (a pole,
 * a shadow) is copied whole. The band has no texture of its own; the copy is still found as
 * one pair, and the map covers the textured pieces on both sides of the band at both ends. */
static void flat_band_clone_found(void)
{
    um_image *img = synth_textured_photo(W, H, 12);
    enum { PW = 30, PH = 44, BAND = 24, DX = 230, DY = 170 };
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = SY; y < SY + PH; y++)
            for (int x = SX + PW; x < SX + PW + BAND; x++)
                p[(size_t)y * W + x] = 120.0f;
    }
    int bw = 2 * PW + BAND;
    synth_clone(img, SX, SY, bw, PH, SX + DX + (bw - 1) / 2.0, SY + DY + (PH - 1) / 2.0, 0, 1);
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_dense, &d, &ev, NULL) == UM_OK);
    report("two pieces", &ev);
    CHECK_MSG(clone_count(&ev) >= 1, "two pieces: no clone");
    for (int piece = 0; piece < 2; piece++) {
        int x = SX + piece * (PW + BAND);
        double src = synth_evidence_mean(&ev, W, H, x + 6, SY + 6, PW - 12, PH - 12, 1);
        double dst = synth_evidence_mean(&ev, W, H, x + DX + 6, SY + DY + 6, PW - 12, PH - 12, 1);
        CHECK_MSG(src > 0.7 && dst > 0.7, "piece %d: source %.2f target %.2f", piece, src, dst);
    }
    CHECK(synth_evidence_mean(&ev, W, H, W - 100, H - 100, 100, 100, 1) < 0.05);
    um_evidence_clear(&ev);
    um_image_free(img);
}

/* Three instances of one object in a row at a fixed step (windows along a facade): instances
 * 1-2 and 2-3 match at the step d, instances 1-3 at 2 d. A period, not a clone: set aside. */
static void periodic_row_set_aside(void)
{
    um_image *img = synth_textured_photo(W, H, 13);
    enum { OW = 64, OH = 80, STEP = 140, OX = 60, OY = 150 };
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int i = 1; i < 3; i++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++)
                    p[(size_t)(OY + y) * W + OX + i * STEP + x] = p[(size_t)(OY + y) * W + OX + x];
    }
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_dense, &d, &ev, NULL) == UM_OK);
    report("periodic row", &ev);
    CHECK(ev.applicable && clone_count(&ev) == 0 && ev.score == 0);
    CHECK(json_integer_value(json_object_get(ev.details, "rejected_repeated")) >= 1);
    um_evidence_clear(&ev);
    um_image_free(img);
}

/* A mirrored copy is what bilateral symmetry looks like (a facade, a face): set aside, and
 * counted as repeated structure in details. */
static void mirror_set_aside(void)
{
    um_image *img = synth_textured_photo(W, H, 11);
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < SH; y++)
            for (int x = 0; x < SW; x++)
                p[(size_t)(200 + y) * W + 300 + x] = p[(size_t)(SY + y) * W + SX + SW - 1 - x];
    }
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_dense, &d, &ev, NULL) == UM_OK);
    report("mirror", &ev);
    CHECK(ev.applicable && clone_count(&ev) == 0 && ev.score == 0);
    CHECK(json_integer_value(json_object_get(ev.details, "rejected_repeated")) >= 1);
    um_evidence_clear(&ev);
    um_image_free(img);
}

static void small_not_applicable(void)
{
    synth_check_small_not_applicable(&um_detector_copymove_dense, 60, 200);
}

static void flat_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_copymove_dense);
}

static const struct um_test_case cases[] = {
    {"shift_found", shift_found},
    {"rotation30_found", rotation30_found},
    {"rotation90_found", rotation90_found},
    {"scale08_found", scale08_found},
    {"scale12_found", scale12_found},
    {"jpeg70_found", jpeg70_found},
    {"jpeg95_rot30_found", jpeg95_rot30_found},
    {"clean_photo_quiet", clean_photo_quiet},
    {"tiles_quiet", tiles_quiet},
    {"text_quiet", text_quiet},
    {"flat_band_clone_found", flat_band_clone_found},
    {"periodic_row_set_aside", periodic_row_set_aside},
    {"mirror_set_aside", mirror_set_aside},
    {"small_not_applicable", small_not_applicable},
    {"flat_not_applicable", flat_not_applicable},
};

UM_TEST_MAIN(cases)
