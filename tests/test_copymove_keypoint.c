/* copymove-keypoint: SIFT g2NN matching, clusters, RANSAC affine, dense verification
 * (Amerini et al. 2011). Clones made by synth_clone must be found with their transform; clean
 * photos, tiles and text must raise none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"
#include "synth_clone.h"

extern const struct um_detector um_detector_copymove_keypoint;

enum { W = 640, H = 480, BOX = 112, SX = 70, SY = 90 };
#define CX 440.0
#define CY 300.0

/* A cluttered scene: the synthetic photo (smooth, few keypoints, like a blurred background)
 * with many small objects on it, as a street or a crowd gives a keypoint detector: ellipses of
 * random size, elongation and orientation, each shaded by its own gradient and stripes, so
 * their corners and blobs differ from one another as real objects do. */
static um_image *scene(unsigned seed)
{
    um_image *img = synth_photo(W, H, seed);
    if (!img)
        abort();
    unsigned s = seed * 2654435761u + 12345u;
    for (int k = 0; k < 300; k++) {
        double v[10];
        for (int i = 0; i < 10; i++) {
            s = s * 1664525u + 1013904223u;
            v[i] = (s >> 8) / 16777216.0;
        }
        double cx = v[0] * W, cy = v[1] * H, ra = 4 + 22 * v[2], rb = ra * (0.3 + 0.7 * v[3]);
        double th = M_PI * v[4], gx = cos(2 * M_PI * v[5]), gy = sin(2 * M_PI * v[5]);
        double freq = 0.2 + 0.8 * v[6], base = 160 * v[7] - 80, tint = 60 * v[8] - 30;
        int r = (int)ra + 1;
        for (int y = (int)cy - r; y <= (int)cy + r; y++)
            for (int x = (int)cx - r; x <= (int)cx + r; x++) {
                double u = (x - cx) * cos(th) + (y - cy) * sin(th);
                double w = -(x - cx) * sin(th) + (y - cy) * cos(th);
                if (x < 0 || y < 0 || x >= W || y >= H ||
                    (u * u) / (ra * ra) + (w * w) / (rb * rb) > 1)
                    continue;
                double shade = base + 40 * (gx * (x - cx) + gy * (y - cy)) / ra +
                               25 * sin(freq * u * (1 + v[9]));
                for (int c = 0; c < 3; c++) {
                    float *p = um_image_plane(img, c) + (size_t)y * W + x;
                    double t = *p + shade + (c == 1 ? tint : 0);
                    *p = (float)(t < 0 ? 0 : (t > 255 ? 255 : t));
                }
            }
    }
    return img;
}

static void report(const char *what, const struct um_evidence *ev)
{
    fprintf(stderr, "  %s: applicable %d score %.3f\n", what, ev->applicable, ev->score);
    for (int i = 0; i < ev->nfindings; i++)
        fprintf(stderr, "    %s\n", ev->findings[i]);
}

static double transform_value(json_t *clone, const char *key)
{
    return json_number_value(json_object_get(json_object_get(clone, "transform"), key));
}

/* A clone pair of the JSON that maps the source box's centre onto (CX, CY) with the given
 * rotation and scale, or the same pair the other way round (target -> source). */
static int has_clone(const struct um_evidence *ev, double rot, double scale)
{
    json_t *list = ev->details ? json_object_get(ev->details, "clones") : NULL;
    double scx = SX + (BOX - 1) / 2.0, scy = SY + (BOX - 1) / 2.0;
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        json_t *a = json_object_get(json_object_get(c, "transform"), "affine");
        double m[6];
        for (int k = 0; k < 6; k++)
            m[k] = json_number_value(json_array_get(a, (size_t)k));
        double r = transform_value(c, "rotation_deg"), s = transform_value(c, "scale");
        for (int dir = 0; dir < 2; dir++) {
            double fx = dir ? CX : scx, fy = dir ? CY : scy, tx = dir ? scx : CX,
                   ty = dir ? scy : CY;
            double px = m[0] * fx + m[1] * fy + m[2], py = m[3] * fx + m[4] * fy + m[5];
            double want_r = dir ? -rot : rot, want_s = dir ? 1 / scale : scale;
            double dr = fabs(fmod(r - want_r + 540.0, 360.0) - 180.0);
            if (hypot(px - tx, py - ty) < 5 && dr < 4 && fabs(s - want_s) < 0.05)
                return 1;
        }
    }
    return 0;
}

/* Clone a box of a textured photo (then optionally JPEG) and check the pair, the map over both
 * regions and quiet elsewhere. */
static void check_clone_found(double rot, double scale, int quality)
{
    um_image *img = scene(11);
    struct synth_box t = synth_clone(img, SX, SY, BOX, BOX, CX, CY, rot, scale);
    if (quality > 0) {
        um_image *j = synth_jpeg_pixels(img, quality);
        um_image_free(img);
        img = j;
    }
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(synth_run_detector(&um_detector_copymove_keypoint, &d, &ev, &full) == UM_OK);
    char what[80];
    snprintf(what, sizeof what, "rotation %.0f, scale %.2f, JPEG %d", rot, scale, quality);
    report(what, &ev);
    CHECK_MSG(ev.applicable && ev.score > 0.5, "%s: score %.3f", what, ev.score);
    CHECK_MSG(has_clone(&ev, rot, scale), "%s: no clone pair with the right transform", what);
    CHECK(full != NULL);
    if (full) {
        /* The centre halves of both regions (the target's box is the rotated square's hull). */
        double in_src = synth_mean_in_rect(full, W, SX + BOX / 4, SY + BOX / 4, BOX / 2, BOX / 2);
        int q = (int)(BOX * scale / 4);
        double in_dst = synth_mean_in_rect(full, W, (int)CX - q, (int)CY - q, 2 * q, 2 * q);
        double out = synth_mean_in_rect(full, W, 300, 20, 200, 120); /* neither region */
        /* After JPEG the smooth parts of the region no longer correlate (the copied noise
         * is gone); the textured parts and what they enclose still do. */
        double need = quality > 0 ? 0.5 : 0.7;
        CHECK_MSG(in_src > need && in_dst > need && out < 0.05,
                  "%s: map source %.2f target %.2f elsewhere %.2f (target box %d,%d %dx%d)", what,
                  in_src, in_dst, out, t.x, t.y, t.w, t.h);
    }
    free(full);
    um_evidence_clear(&ev);
    um_image_free(img);
}

static void test_shift(void) { check_clone_found(0, 1.0, 0); }
static void test_rotation_30(void) { check_clone_found(30, 1.0, 0); }
static void test_rotation_90(void) { check_clone_found(90, 1.0, 0); }
static void test_scale_080(void) { check_clone_found(0, 0.8, 0); }
static void test_scale_120(void) { check_clone_found(15, 1.2, 0); }
/* Beyond the +-20 % of the issue: a copy enlarged 1.8x, verified from its larger side (the
 * enlarged copy, its detail brought to the original's band). (A copy shrunk to 0.6x of this
 * synthetic scene's fine texture keeps too few SIFT keypoints to be matched at all.) */
static void test_scale_180(void) { check_clone_found(0, 1.8, 0); }
static void test_jpeg_95(void) { check_clone_found(0, 1.0, 95); }
static void test_jpeg_70(void) { check_clone_found(30, 1.0, 70); }

/* Shading is not a clone: a textured box on a smooth ramp, copied by a shift. The ramp around
 * the source equals the ramp around the target up to a constant, so raw luma windows there
 * would correlate perfectly; the verification compares detail only, so the map must stay on
 * the copied box (plus its edge) and leave the ramp around it unmarked. */
static void test_shading_not_verified(void)
{
    um_image *img = scene(11);
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                if (x < SX || y < SY || x >= SX + BOX || y >= SY + BOX)
                    p[(size_t)y * W + x] = (float)(40 + 0.25 * x + 0.1 * y);
    }
    synth_clone(img, SX, SY, BOX, BOX, CX, CY, 0, 1.0);
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(synth_run_detector(&um_detector_copymove_keypoint, &d, &ev, &full) == UM_OK);
    report("textured box on a ramp, shifted", &ev);
    CHECK(ev.applicable && ev.score > 0.5 && has_clone(&ev, 0, 1.0) && full != NULL);
    if (full) {
        double in_src = synth_mean_in_rect(full, W, SX + BOX / 4, SY + BOX / 4, BOX / 2, BOX / 2);
        /* Bands of ramp 8..40 pixels beyond the box, right of and below the source. */
        double right = synth_mean_in_rect(full, W, SX + BOX + 8, SY, 32, BOX);
        double below = synth_mean_in_rect(full, W, SX, SY + BOX + 8, BOX, 32);
        CHECK_MSG(in_src > 0.7 && right < 0.05 && below < 0.05,
                  "map inside %.2f, ramp right %.2f, ramp below %.2f", in_src, right, below);
    }
    free(full);
    um_evidence_clear(&ev);
    um_image_free(img);
}

/* No clone: score 0, an all-zero map, an empty clones list. */
static void check_quiet(um_image *img, const char *what)
{
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_keypoint, &d, &ev, NULL) == UM_OK);
    report(what, &ev);
    CHECK_MSG(ev.applicable && ev.score == 0, "%s: score %.3f", what, ev.score);
    json_t *list = ev.details ? json_object_get(ev.details, "clones") : NULL;
    CHECK(list && json_array_size(list) == 0);
    double peak = 0;
    for (int i = 0; ev.map && i < ev.map_w * ev.map_h; i++)
        peak = fmax(peak, ev.map[i]);
    CHECK_MSG(ev.map && peak == 0, "%s: map peak %.2f", what, peak);
    um_evidence_clear(&ev);
}

static void test_clean_photo(void)
{
    um_image *img = scene(3);
    check_quiet(img, "clean scene");
    um_image *j = synth_jpeg_pixels(img, 80);
    check_quiet(j, "clean scene, JPEG 80");
    um_image_free(j);
    um_image_free(img);
}

static void test_tiles(void)
{
    const int periods[][2] = {{48, 48}, {100, 90}};
    for (int k = 0; k < 2; k++) {
        um_image *img = um_image_new(W, H, 3);
        CHECK(img != NULL);
        synth_tiles(img, periods[k][0], periods[k][1], 5 + (unsigned)k);
        check_quiet(img, "tiles");
        um_image_free(img);
    }
}

static void test_text_page(void)
{
    const int glyph_h[] = {14, 28};
    for (int k = 0; k < 2; k++) {
        um_image *img = um_image_new(W, H, 3);
        CHECK(img != NULL);
        synth_text_page(img, glyph_h[k], 7 + (unsigned)k);
        check_quiet(img, "text page");
        um_image_free(img);
    }
}

/* The lattice rule alone: a clone whose content also repeats at twice the offset (a real
 * periodic structure) is set aside even though the pair itself verifies. */
static void test_lattice_rule(void)
{
    um_image *img = scene(21);
    /* Three copies in a row at a constant step: a lattice of period 150, not a single clone. */
    synth_clone(img, 40, 180, 110, 110, 40 + 55 + 150, 180 + 55, 0, 1.0);
    synth_clone(img, 40, 180, 110, 110, 40 + 55 + 300, 180 + 55, 0, 1.0);
    synth_clone(img, 40, 180, 110, 110, 40 + 55 + 450, 180 + 55, 0, 1.0);
    um_decoded d = synth_as_lossless(img);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_copymove_keypoint, &d, &ev, NULL) == UM_OK);
    report("lattice of four copies", &ev);
    json_t *rej = ev.details ? json_object_get(ev.details, "repeated_structure_rejected") : NULL;
    CHECK(ev.applicable && ev.score == 0 && json_integer_value(rej) > 0);
    um_evidence_clear(&ev);
    um_image_free(img);
}

static void test_not_applicable(void)
{
    synth_check_small_not_applicable(&um_detector_copymove_keypoint, 60, 200);
    synth_check_flat_not_applicable(&um_detector_copymove_keypoint);
}

static const struct um_test_case cases[] = {
    {"shift", test_shift},
    {"rotation_30", test_rotation_30},
    {"rotation_90", test_rotation_90},
    {"scale_080", test_scale_080},
    {"scale_120", test_scale_120},
    {"scale_180", test_scale_180},
    {"jpeg_95", test_jpeg_95},
    {"jpeg_70", test_jpeg_70},
    {"clean_photo", test_clean_photo},
    {"tiles", test_tiles},
    {"text_page", test_text_page},
    {"lattice_rule", test_lattice_rule},
    {"shading_not_verified", test_shading_not_verified},
    {"not_applicable", test_not_applicable},
};
UM_TEST_MAIN(cases)
