/* resampling: periodic interpolation traces (Kirchner 2008, Popescu & Farid 2005). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_resampling;

/* Bilinear resize of every channel by factor f (what an editor's "scale" does), rounded to
 * 8-bit levels as a saved file would be. */
static um_image *resize_bilinear(const um_image *in, double f)
{
    int w = (int)(in->width * f), h = (int)(in->height * f);
    um_image *out = um_image_new(w, h, in->channels);
    if (!out)
        abort();
    for (int c = 0; c < in->channels; c++) {
        const float *p = um_image_plane(in, c);
        float *q = um_image_plane(out, c);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double sx = fmin(x / f, in->width - 1.001), sy = fmin(y / f, in->height - 1.001);
                int x0 = (int)sx, y0 = (int)sy;
                double ax = sx - x0, ay = sy - y0;
                const float *r0 = p + (size_t)y0 * in->width, *r1 = r0 + in->width;
                double v = (1 - ay) * ((1 - ax) * r0[x0] + ax * r0[x0 + 1]) +
                           ay * ((1 - ax) * r1[x0] + ax * r1[x0 + 1]);
                q[(size_t)y * w + x] = (float)floor(v + 0.5);
            }
    }
    return out;
}

static void print_evidence(const char *what, const struct um_evidence *ev)
{
    fprintf(stderr, "  %s: score %.3f log10 NFA %.2f\n", what, ev->score, ev->log10_nfa);
    for (int i = 0; i < ev->nfindings; i++)
        fprintf(stderr, "    %s\n", ev->findings[i]);
}

static int is_global(const struct um_evidence *ev)
{
    json_t *g = ev->details ? json_object_get(ev->details, "global_resampling") : NULL;
    return g && json_is_true(g);
}

enum { W = 512, H = 384, RX = 128, RY = 128, RW = 256, RH = 192 };

/* A piece of another photo, enlarged by 1.3 and pasted: the region is found, the rest quiet. */
static void upscaled_region_is_found(void)
{
    um_image *host = synth_photo(W, H, 31), *donor = synth_photo(W, H, 32);
    um_image *big = resize_bilinear(donor, 1.3);
    synth_paste(host, big, 40, 30, RW, RH, RX, RY);
    um_decoded d = synth_as_lossless(host);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(synth_run_detector(&um_detector_resampling, &d, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL);
    print_evidence("upscaled region", &ev);
    if (full) {
        double in = synth_mean_in_rect(full, W, RX, RY, RW, RH);
        double out = synth_mean_outside_rect(full, W, H, RX, RY, RW, RH);
        fprintf(stderr, "  map in %.3f out %.3f\n", in, out);
        CHECK_MSG(in - out > 0.3, "in %.3f out %.3f", in, out);
        CHECK_MSG(out < 0.15, "out %.3f", out);
    }
    CHECK(ev.has_nfa && ev.log10_nfa < -1);
    CHECK_MSG(ev.score > 0.5, "score %.3f", ev.score);
    CHECK(!is_global(&ev));
    free(full);
    um_evidence_clear(&ev);
    um_image_free(big);
    um_image_free(host);
    um_image_free(donor);
}

/* The whole photo enlarged by 1.5: a global finding with the factor, and a low score. */
static void resized_image_is_global(void)
{
    um_image *photo = synth_photo(342, 256, 33);
    um_image *big = resize_bilinear(photo, 1.5);
    um_decoded d = synth_as_lossless(big);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_resampling, &d, &ev, NULL) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    print_evidence("resized x1.5", &ev);
    CHECK(is_global(&ev));
    json_t *f = ev.details ? json_object_get(ev.details, "estimated_factor") : NULL;
    CHECK_MSG(f && fabs(json_number_value(f) - 1.5) < 0.03, "factor %.3f",
              f ? json_number_value(f) : -1.0);
    CHECK_MSG(ev.score < 0.2, "score %.3f", ev.score);
    int said = 0;
    for (int i = 0; i < ev.nfindings; i++)
        said |= strstr(ev.findings[i], "whole image was resized") != NULL;
    CHECK(said);
    um_evidence_clear(&ev);
    um_image_free(big);
    um_image_free(photo);
}

/* Never resampled, lossless and after a JPEG round trip: low map, low score, no global
 * finding (the JPEG grid's own periodicity must not count). */
static void clean_image_is_quiet(void)
{
    for (int jpeg = 0; jpeg < 2; jpeg++) {
        um_image *photo = synth_photo(W, H, 34 + jpeg);
        um_decoded d = {0};
        if (jpeg)
            CHECK(synth_jpeg_roundtrip(photo, 85, NULL, NULL, &d) == UM_OK);
        else
            d = synth_as_lossless(photo);
        struct um_evidence ev;
        float *full = NULL;
        CHECK(synth_run_detector(&um_detector_resampling, &d, &ev, &full) == UM_OK);
        CHECK_MSG(ev.applicable, "%s", ev.reason);
        print_evidence(jpeg ? "clean jpeg" : "clean lossless", &ev);
        CHECK(full != NULL);
        if (full) {
            double m = synth_mean_in_rect(full, W, 0, 0, W, H);
            CHECK_MSG(m < 0.1, "mean %.3f", m);
        }
        CHECK_MSG(ev.score < 0.3, "score %.3f", ev.score);
        CHECK(!is_global(&ev));
        free(full);
        um_evidence_clear(&ev);
        if (jpeg)
            um_decoded_clear(&d);
        um_image_free(photo);
    }
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_resampling);
}

static void small_image_is_not_applicable(void)
{
    synth_check_small_not_applicable(&um_detector_resampling, 200, 100);
}

/* Odd sizes at the edges of the block grid: judged or refused, never out of bounds (ASan). */
static void odd_sizes_are_safe(void)
{
    static const int sizes[][2] = {{1, 1}, {2, 300}, {300, 2}, {127, 500}, {128, 128}, {129, 191},
                                   {1000, 130}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        um_image *photo = synth_photo(sizes[i][0], sizes[i][1], 37);
        um_decoded d = synth_as_lossless(photo);
        struct um_evidence ev;
        float *full = NULL;
        CHECK(synth_run_detector(&um_detector_resampling, &d, &ev, &full) == UM_OK);
        int big = sizes[i][0] >= 128 && sizes[i][1] >= 128;
        CHECK_MSG(ev.applicable == big, "%dx%d: %s", sizes[i][0], sizes[i][1], ev.reason);
        CHECK_MSG(big || strstr(ev.reason, "too small"), "%s", ev.reason);
        CHECK(ev.score >= 0 && ev.score <= 1);
        free(full);
        um_evidence_clear(&ev);
        um_image_free(photo);
    }
}

static const struct um_test_case cases[] = {
    {"odd_sizes_are_safe", odd_sizes_are_safe},
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"small_image_is_not_applicable", small_image_is_not_applicable},
    {"upscaled_region_is_found", upscaled_region_is_found},
    {"resized_image_is_global", resized_image_is_global},
    {"clean_image_is_quiet", clean_image_is_quiet},
};
UM_TEST_MAIN(cases)
