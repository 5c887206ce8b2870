/* blk (block artifact grid): a piece with shifted 8x8 blocking stands out; clean JPEGs don't. */
#include <stdlib.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_blk;

static void run_on_pixels(const um_image *rgb, struct um_evidence *ev)
{
    um_decoded d = synth_as_lossless((um_image *)rgb);
    CHECK(synth_run_detector(&um_detector_blk, &d, ev, NULL) == UM_OK);
}

static int grid_of(const struct um_evidence *ev, const char *key)
{
    return (int)json_integer_value(json_object_get(ev->details, key));
}

/* A 128x128 piece of another q80 JPEG, shifted by (4,4) against the host's grid. */
static void shifted_piece_stands_out(void)
{
    for (unsigned seed = 1; seed <= 2; seed++) {
        um_image *host = synth_photo_jpeg_pixels(512, 384, 10 + seed, 80);
        um_image *donor = synth_photo_jpeg_pixels(400, 300, 20 + seed, 80);
        um_image *shifted = synth_crop(donor, 4, 4, 300, 200);
        const int px = 200, py = 120, side = 128;
        synth_paste(host, shifted, 40, 30, side, side, px, py);
        struct um_evidence ev;
        run_on_pixels(host, &ev);
        CHECK(ev.applicable);
        CHECK(ev.map != NULL && ev.map_step == 8);
        if (ev.map) {
            double in = synth_evidence_mean(&ev, host->width, host->height, px, py, side, side, 1);
            double out = synth_evidence_mean(&ev, host->width, host->height, px, py, side, side, 0);
            CHECK_MSG(in > 0.5 && out < 0.15 && in > 4 * out, "seed %u: in %.3f out %.3f",
                      seed, in, out);
        }
        CHECK_MSG(ev.score > 0.5, "seed %u: score %.3f", seed, ev.score);
        CHECK(ev.details && grid_of(&ev, "grid_x") == 0 && grid_of(&ev, "grid_y") == 0);
        json_t *c = ev.details ? json_object_get(ev.details, "largest_cluster") : NULL;
        if (c) { /* the cluster lies on the piece (smoothing widens it by one block) */
            int cx = (int)json_integer_value(json_object_get(c, "x"));
            int cy = (int)json_integer_value(json_object_get(c, "y"));
            CHECK_MSG(cx >= px - 16 && cx <= px + 16 && cy >= py - 16 && cy <= py + 16,
                      "cluster at (%d,%d)", cx, cy);
        }
        um_evidence_clear(&ev);
        um_image_free(host);
        um_image_free(donor);
        um_image_free(shifted);
    }
}

/* Single compression, also after a crop (the grid moves to (5,3)): low, flat map. */
static void single_compression_is_quiet(void)
{
    for (unsigned seed = 1; seed <= 3; seed++) {
        um_image *jpeg = synth_photo_jpeg_pixels(512, 384, 10 + seed, 80);
        um_image *cropped = synth_crop(jpeg, 3, 5, 480, 360);
        const um_image *cases[2] = {jpeg, cropped};
        for (int k = 0; k < 2; k++) {
            struct um_evidence ev;
            run_on_pixels(cases[k], &ev);
            CHECK(ev.applicable);
            CHECK_MSG(ev.score < 0.2, "seed %u case %d: score %.3f", seed, k, ev.score);
            if (ev.map) {
                double mean = synth_evidence_mean(&ev, cases[k]->width, cases[k]->height, 0, 0, 0, 0, 0);
                CHECK_MSG(mean < 0.1, "seed %u case %d: mean %.3f", seed, k, mean);
            }
            if (ev.details && k == 1)
                CHECK(grid_of(&ev, "grid_x") == 5 && grid_of(&ev, "grid_y") == 3);
            um_evidence_clear(&ev);
        }
        um_image_free(jpeg);
        um_image_free(cropped);
    }
}

/* Never compressed: no blocking, so not applicable rather than a noisy map. */
static void no_blocking_is_not_applicable(void)
{
    um_image *raw = synth_photo(512, 384, 4);
    struct um_evidence ev;
    run_on_pixels(raw, &ev);
    CHECK(!ev.applicable);
    CHECK(ev.reason[0] != '\0');
    um_evidence_clear(&ev);
    um_image_free(raw);
    um_image *tiny = um_image_new(20, 20, 3);
    run_on_pixels(tiny, &ev);
    CHECK(!ev.applicable);
    um_evidence_clear(&ev);
    um_image_free(tiny);
    um_image *flat = um_image_new(300, 40, 3); /* constant: no BAG at all, must not crash */
    run_on_pixels(flat, &ev);
    CHECK(!ev.applicable);
    um_evidence_clear(&ev);
    um_image_free(flat);
}

static const struct um_test_case cases[] = {
    {"shifted piece stands out", shifted_piece_stands_out},
    {"single compression is quiet", single_compression_is_quiet},
    {"no blocking is not applicable", no_blocking_is_not_applicable},
};
UM_TEST_MAIN(cases)
