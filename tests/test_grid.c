/* grid (ZERO): main JPEG grid origin, cropping, and pasted pieces with their own grid. */
#include <stdlib.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_grid;

/* Run the detector on an RGB image given as pixels (no file). */
static void run_on_pixels(const um_image *rgb, struct um_evidence *ev)
{
    um_decoded d = synth_as_lossless((um_image *)rgb);
    CHECK(synth_run_detector(&um_detector_grid, &d, ev, NULL) == UM_OK);
}

static int main_grid(const struct um_evidence *ev, int *gx, int *gy)
{
    json_t *m = ev->details ? json_object_get(ev->details, "main_grid") : NULL;
    if (!m)
        return 0;
    *gx = (int)json_integer_value(json_object_get(m, "x"));
    *gy = (int)json_integer_value(json_object_get(m, "y"));
    return 1;
}

static size_t region_count(const struct um_evidence *ev)
{
    return ev->details ? json_array_size(json_object_get(ev->details, "regions")) : 0;
}

/* A 128x128 piece of another JPEG, cropped by (3,5) before pasting, keeps its shifted grid. */
static void pasted_piece_has_its_own_grid(void)
{
    um_image *host = synth_photo_jpeg_pixels(512, 384, 11, 80);
    um_image *donor_src = synth_photo(400, 300, 29);
    um_image *donor = synth_jpeg_pixels(donor_src, 80);
    um_image *shifted = synth_crop(donor, 3, 5, 300, 200);
    const int px = 200, py = 120, side = 128;
    synth_paste(host, shifted, 40, 30, side, side, px, py);

    struct um_evidence ev;
    run_on_pixels(host, &ev);
    CHECK(ev.applicable);
    int gx = -1, gy = -1;
    CHECK(main_grid(&ev, &gx, &gy) && gx == 0 && gy == 0);
    CHECK_MSG(region_count(&ev) >= 1, "regions %zu", region_count(&ev));
    CHECK(ev.has_nfa && ev.log10_nfa < 0);
    json_t *r = json_array_get(json_object_get(ev.details, "regions"), 0);
    if (r) {
        /* donor grid at 0; piece pixel (i,j) comes from donor (i+43, j+35): in the host, block
           edges fall where x - 200 + 43 = 0 mod 8, i.e. x = 5 mod 8, and y - 120 + 35 = 0 mod 8,
           i.e. y = 5 mod 8. */
        CHECK_MSG(json_integer_value(json_object_get(r, "grid_x")) == 5 &&
                      json_integer_value(json_object_get(r, "grid_y")) == 5,
                  "grid (%d,%d)", (int)json_integer_value(json_object_get(r, "grid_x")),
                  (int)json_integer_value(json_object_get(r, "grid_y")));
        int rx = (int)json_integer_value(json_object_get(r, "x"));
        int ry = (int)json_integer_value(json_object_get(r, "y"));
        int rw = (int)json_integer_value(json_object_get(r, "w"));
        int rh = (int)json_integer_value(json_object_get(r, "h"));
        CHECK_MSG(rx >= px - 8 && ry >= py - 8 && rx + rw <= px + side + 8 &&
                      ry + rh <= py + side + 8 && rw > side / 2 && rh > side / 2,
                  "region %d,%d %dx%d", rx, ry, rw, rh);
    }
    CHECK(ev.map != NULL && ev.map_step == 8);
    if (ev.map) {
        double in = synth_evidence_mean(&ev, host->width, host->height, px, py, side, side, 1);
        double out = synth_evidence_mean(&ev, host->width, host->height, px, py, side, side, 0);
        CHECK_MSG(in > 0.5 && out < 0.02, "map in %.3f out %.3f", in, out);
    }
    CHECK(ev.score >= 0.5);
    um_evidence_clear(&ev);
    um_image_free(host);
    um_image_free(donor_src);
    um_image_free(donor);
    um_image_free(shifted);
}

/* Cropping a JPEG by (2,6) moves its grid origin to (6,2): block edges were at multiples of 8. */
static void crop_moves_the_main_grid(void)
{
    um_image *src = synth_photo(520, 400, 5);
    um_image *jpeg = synth_jpeg_pixels(src, 80);
    um_image *cropped = synth_crop(jpeg, 2, 6, 500, 380);
    struct um_evidence ev;
    run_on_pixels(cropped, &ev);
    CHECK(ev.applicable);
    int gx = -1, gy = -1;
    CHECK_MSG(main_grid(&ev, &gx, &gy) && gx == 6 && gy == 2, "grid (%d,%d)", gx, gy);
    CHECK(region_count(&ev) == 0);
    CHECK(ev.score < 0.5);
    um_evidence_clear(&ev);
    um_image_free(src);
    um_image_free(jpeg);
    um_image_free(cropped);
}

/* A photo never JPEG-compressed has no grid: not applicable. */
static void never_compressed_is_not_applicable(void)
{
    um_image *src = synth_photo(512, 384, 7);
    struct um_evidence ev;
    run_on_pixels(src, &ev);
    CHECK(!ev.applicable);
    CHECK(ev.reason[0] != '\0');
    CHECK(region_count(&ev) == 0);
    um_evidence_clear(&ev);
    um_image_free(src);
}

/* One compression, no edit: grid (0,0), no forged region, so no detection NFA, empty map. */
static void single_compression_is_clean(void)
{
    um_image *src = synth_photo(512, 384, 3);
    um_image *jpeg = synth_jpeg_pixels(src, 80);
    struct um_evidence ev;
    run_on_pixels(jpeg, &ev);
    CHECK(ev.applicable);
    int gx = -1, gy = -1;
    CHECK(main_grid(&ev, &gx, &gy) && gx == 0 && gy == 0);
    CHECK(region_count(&ev) == 0);
    CHECK(!ev.has_nfa); /* the main grid's NFA is a fact in the details, not a detection */
    json_t *main = json_object_get(ev.details, "main_grid");
    CHECK(main && json_real_value(json_object_get(main, "log10_nfa")) < -100);
    CHECK(ev.score == 0);
    if (ev.map)
        CHECK(synth_evidence_mean(&ev, jpeg->width, jpeg->height, 0, 0, 0, 0, 0) == 0);
    um_evidence_clear(&ev);
    um_image_free(src);
    um_image_free(jpeg);
}

/* Tiny and flat images must be handled without a vote: no crash, not applicable. */
static void degenerate_inputs(void)
{
    um_image *tiny = um_image_new(9, 9, 3);
    struct um_evidence ev;
    run_on_pixels(tiny, &ev);
    CHECK(!ev.applicable);
    um_evidence_clear(&ev);
    um_image_free(tiny);
    um_image *flat = um_image_new(64, 48, 3); /* all zero: every window is constant */
    run_on_pixels(flat, &ev);
    CHECK(!ev.applicable);
    um_evidence_clear(&ev);
    um_image_free(flat);
    um_image *thin = synth_photo_jpeg_pixels(300, 17, 2, 80);
    run_on_pixels(thin, &ev); /* one band row of votes: must not crash; any verdict is fine */
    um_evidence_clear(&ev);
    um_image_free(thin);
}

static const struct um_test_case cases[] = {
    {"pasted piece has its own grid", pasted_piece_has_its_own_grid},
    {"crop moves the main grid", crop_moves_the_main_grid},
    {"never compressed is not applicable", never_compressed_is_not_applicable},
    {"single compression is clean", single_compression_is_clean},
    {"degenerate inputs", degenerate_inputs},
};
UM_TEST_MAIN(cases)
