/* The shared clone-pair writer (src/detect/copymove.c): JSON, sentences, one pair per copy. */
#include <math.h>
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

static const struct um_test_case cases[] = {
    {"reversed pair reported once", reversed_pair_reported_once},
    {"transform in words", transform_in_words},
};
UM_TEST_MAIN(cases)
