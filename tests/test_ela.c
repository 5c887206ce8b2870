/* ela: error level analysis (Krawetz 2007). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/jpeg_tables.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_ela;

static um_error run_ela(const um_decoded *d, struct um_evidence *ev, float **full)
{
    return synth_run_detector(&um_detector_ela, d, ev, full);
}

enum { W = 512, H = 384, PX = 208, PY = 128, PW = 160, PH = 128 };

static int details_quality(const struct um_evidence *ev)
{
    json_t *q = ev->details ? json_object_get(ev->details, "quality") : NULL;
    return q ? (int)json_integer_value(q) : -1;
}

/* A q=75 JPEG photo with a never-compressed patch pasted in, exported losslessly: ELA finds the
 * earlier quality in the pixels and the patch, off its lattice, stands out. */
static void pasted_region_in_lossless_export(void)
{
    um_image *host = synth_photo(W, H, 31), *donor = synth_photo(W, H, 32);
    um_decoded first = {0};
    CHECK(synth_jpeg_roundtrip(host, 75, NULL, NULL, &first) == UM_OK);
    synth_paste(first.rgb, donor, 64, 96, PW, PH, PX, PY);
    um_decoded png = synth_as_lossless(first.rgb);
    struct um_evidence ev;
    float *full;
    CHECK(run_ela(&png, &ev, &full) == UM_OK);
    CHECK(ev.applicable);
    CHECK_MSG(details_quality(&ev) == 75, "quality %d", details_quality(&ev));
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  ela lossless splice: in %.3f out %.3f score %.3f\n", in, out, ev.score);
        CHECK_MSG(in - out > 0.5, "in %.3f out %.3f", in, out);
        CHECK(out < 0.15);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&first);
    um_image_free(host);
    um_image_free(donor);
}

/* The same export without a paste: every block sits on the q=75 lattice, the map stays low. */
static void lossless_export_untouched_flat(void)
{
    um_image *host = synth_photo(W, H, 31);
    um_decoded first = {0};
    CHECK(synth_jpeg_roundtrip(host, 75, NULL, NULL, &first) == UM_OK);
    um_decoded png = synth_as_lossless(first.rgb);
    struct um_evidence ev;
    float *full;
    CHECK(run_ela(&png, &ev, &full) == UM_OK);
    CHECK(details_quality(&ev) == 75);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double m = synth_mean_in_rect(full, W, 0, 0, W, H);
        fprintf(stderr, "  ela lossless untouched: mean %.3f score %.3f\n", m, ev.score);
        CHECK_MSG(m < 0.15, "mean %.3f", m);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&first);
    um_image_free(host);
}

/* A JPEG compressed once: resaved at its own quality it changes evenly. */
static void single_compression_flat(void)
{
    um_image *photo = synth_photo(W, H, 33);
    um_decoded d = {0};
    CHECK(synth_jpeg_roundtrip(photo, 75, NULL, NULL, &d) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_ela(&d, &ev, &full) == UM_OK);
    CHECK(details_quality(&ev) == 75);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double m = synth_mean_in_rect(full, W, 0, 0, W, H);
        fprintf(stderr, "  ela single: mean %.3f score %.3f\n", m, ev.score);
        CHECK_MSG(m < 0.15, "mean %.3f", m);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&d);
    um_image_free(photo);
}

/* The shared quality estimate ELA (and ghost, jpeg-structure) rely on. */
static void quality_estimate_inverts_ijg_scaling(void)
{
    uint16_t t[64], back[64];
    um_jpeg_scaled_table(50, 0, t);
    CHECK(memcmp(t, um_jpeg_std_luminance, sizeof t) == 0); /* quality 50 = Annex K itself */
    um_jpeg_scaled_table(75, 1, t);
    CHECK(t[0] == 9 && t[63] == 50); /* (17*50+50)/100, (99*50+50)/100 */
    for (int q = 1; q <= 100; q++) {
        double fit = -1;
        um_jpeg_scaled_table(q, 0, t);
        int e = um_jpeg_estimate_quality(t, &fit);
        um_jpeg_scaled_table(e, 0, back);
        /* Several top qualities share a table; the estimate must give the same table. */
        CHECK_MSG(memcmp(t, back, sizeof t) == 0 && fit == 0, "q %d -> %d fit %g", q, e, fit);
    }
    um_jpeg_scaled_table(80, 0, t);
    t[5] += 7; /* a custom table near quality 80 */
    double fit = 0;
    CHECK(um_jpeg_estimate_quality(t, &fit) == 80 && fit > 0);
    t[9] = 0;
    CHECK(um_jpeg_estimate_quality(t, &fit) == -1);
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_ela);
}

static const struct um_test_case cases[] = {
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"quality_estimate_inverts_ijg_scaling", quality_estimate_inverts_ijg_scaling},
    {"pasted_region_in_lossless_export", pasted_region_in_lossless_export},
    {"lossless_export_untouched_flat", lossless_export_untouched_flat},
    {"single_compression_flat", single_compression_flat},
};
UM_TEST_MAIN(cases)
