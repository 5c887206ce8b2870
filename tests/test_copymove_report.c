/* The shared copy-move pieces (src/detect/copymove.c): the clone-pair writer (JSON, sentences,
 * one pair per copy) and the per-pixel exactness that grades both detectors' maps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/copymove.h"

static struct um_clone shifted(int sx, int sy, int tx, int ty)
{
    struct um_clone c = {.source = {sx, sy, 60, 40}, .target = {tx, ty, 60, 40},
                         .a11 = 1, .a22 = 1, .tx = tx - sx, .ty = ty - sy, .support = 900,
                         .support_unit = "pixels", .has_nfa = 1, .log10_nfa = -40};
    return c;
}

static void reversed_pair_reported_once(void)
{
    struct um_clone c[3] = {shifted(10, 20, 200, 120), shifted(201, 121, 11, 19),
                            shifted(300, 10, 20, 200)};
    struct um_evidence ev = {0};
    CHECK(um_clones_report(&ev, c, 3) == UM_OK);
    json_t *list = json_object_get(ev.details, "clones");
    CHECK(json_array_size(list) == 2); /* the second is the first seen from its other end */
    CHECK(ev.nfindings == 2);
    CHECK(strstr(ev.findings[0], "appears copied to B (x 200, y 120, 60x40 px)") != NULL);
    json_t *third = json_array_get(list, 1);
    CHECK(json_integer_value(json_object_get(json_object_get(third, "source"), "x")) == 300);
    um_evidence_clear(&ev);
}

static void transform_in_words(void)
{
    /* A 30-degree turn as seen on screen (rows grow downwards) and a 1.2x scale. */
    double a = -30.0 * M_PI / 180.0, k = 1.2;
    struct um_clone c = shifted(10, 10, 200, 200);
    c.a11 = k * cos(a), c.a12 = -k * sin(a), c.a21 = k * sin(a), c.a22 = k * cos(a);
    CHECK(fabs(um_clone_rotation_deg(&c) - 30.0) < 1e-9);
    CHECK(fabs(um_clone_scale(&c) - 1.2) < 1e-9);
    struct um_evidence ev = {0};
    CHECK(um_clones_report(&ev, &c, 1) == UM_OK);
    CHECK(strstr(ev.findings[0], "rotated 30\xc2\xb0, scaled 1.20x") != NULL);
    um_evidence_clear(&ev);
}

/* A pseudo-random detail image with a 20x20 block copied 50 px to the right: exactness is 1
 * inside the copy, low on the unrelated texture around it, 0 where the map leaves the image. */
static void exactness_of_a_shift(void)
{
    enum { W = 100, H = 40 };
    float *detail = malloc(W * H * sizeof *detail), *q = malloc(W * H * sizeof *q);
    CHECK(detail && q);
    if (!detail || !q) {
        free(detail), free(q);
        return;
    }
    unsigned s = 12345;
    for (int i = 0; i < W * H; i++) {
        s = s * 1664525u + 1013904223u;
        detail[i] = (float)(s >> 24) / 8.0f - 16.0f; /* -16..16 grey levels */
    }
    for (int y = 10; y < 30; y++)
        for (int x = 10; x < 30; x++)
            detail[y * W + x + 50] = detail[y * W + x];
    const double shift[6] = {1, 0, 50, 0, 1, 0};
    CHECK(um_copy_exactness(detail, W, H, shift, 0, 0, W, H, q) == UM_OK);
    CHECK_MSG(q[20 * W + 20] > 0.99f, "inside the copy: %.3f", q[20 * W + 20]);
    CHECK_MSG(q[20 * W + 5] < 0.7f, "next to it: %.3f", q[20 * W + 5]);
    double mean = 0;
    for (int y = 0; y < H; y++)
        for (int x = 35; x < 45; x++) /* x + 50 stays inside, unrelated content */
            mean += q[y * W + x] / (H * 10.0);
    CHECK_MSG(mean < 0.6, "unrelated texture: mean %.3f", mean);
    CHECK(q[20 * W + 60] == 0.0f); /* 60 + 50 leaves the image */
    free(detail), free(q);
}

static const struct um_test_case cases[] = {
    {"reversed pair reported once", reversed_pair_reported_once},
    {"transform in words", transform_in_words},
    {"exactness of a shift", exactness_of_a_shift},
};
UM_TEST_MAIN(cases)
