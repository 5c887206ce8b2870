/* ghost: JPEG ghosts (Farid 2009). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_ghost;

static um_error run_ghost(const um_decoded *d, struct um_evidence *ev, float **full)
{
    return synth_run_detector(&um_detector_ghost, d, ev, full);
}

enum { W = 512, H = 384, PX = 208, PY = 128, PW = 160, PH = 128 };

/* A grid-aligned patch from a q=60 JPEG pasted into a never-compressed photo, saved at q=90. */
static void pasted_q60_region_shows_ghost(void)
{
    um_image *host = synth_photo(W, H, 7), *donor = synth_photo(W, H, 8);
    um_decoded donor_jpeg = {0}, final = {0};
    CHECK(synth_jpeg_roundtrip(donor, 60, NULL, NULL, &donor_jpeg) == UM_OK);
    synth_paste(host, donor_jpeg.rgb, 64, 96, PW, PH, PX, PY);
    CHECK(synth_jpeg_roundtrip(host, 90, NULL, NULL, &final) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_ghost(&final, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  ghost splice: in %.3f out %.3f score %.3f\n", in, out, ev.score);
        for (int i = 0; i < ev.nfindings; i++)
            fprintf(stderr, "    %s\n", ev.findings[i]);
        CHECK_MSG(in - out > 0.3, "in %.3f out %.3f", in, out);
    }
    json_t *rq = ev.details ? json_object_get(ev.details, "region_quality") : NULL;
    CHECK(rq && json_integer_value(rq) == 60);
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&donor_jpeg);
    um_decoded_clear(&final);
    um_image_free(host);
    um_image_free(donor);
}

/* The same kind of composite exported losslessly (no tables): the ghost is found from the
 * pixels' own DCT. */
static void lossless_composite_shows_ghost(void)
{
    um_image *host = synth_photo(W, H, 17), *donor = synth_photo(W, H, 18);
    um_decoded donor_jpeg = {0};
    CHECK(synth_jpeg_roundtrip(donor, 60, NULL, NULL, &donor_jpeg) == UM_OK);
    synth_paste(host, donor_jpeg.rgb, 64, 96, PW, PH, PX, PY);
    um_decoded png = {0};
    png.format = UM_FORMAT_PNG;
    png.width = W;
    png.height = H;
    png.bit_depth = 8;
    png.source_channels = 3;
    png.rgb = host;
    struct um_evidence ev;
    float *full;
    CHECK(run_ghost(&png, &ev, &full) == UM_OK);
    CHECK(ev.applicable);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  ghost lossless: in %.3f out %.3f score %.3f\n", in, out, ev.score);
        CHECK_MSG(in - out > 0.3, "in %.3f out %.3f", in, out);
    }
    json_t *rq = ev.details ? json_object_get(ev.details, "region_quality") : NULL;
    CHECK(rq && json_integer_value(rq) == 60);
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&donor_jpeg);
    um_image_free(host);
    um_image_free(donor);
}

/* One compression only: the map stays low and flat. */
static void single_compression_quiet(void)
{
    um_image *photo = synth_photo(W, H, 9);
    um_decoded d = {0};
    CHECK(synth_jpeg_roundtrip(photo, 90, NULL, NULL, &d) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_ghost(&d, &ev, &full) == UM_OK);
    CHECK(ev.applicable); /* ghost judges any image: quiet must mean a low map, not silence */
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double m = synth_mean_in_rect(full, W, 0, 0, W, H);
        fprintf(stderr, "  ghost single: mean %.3f score %.3f\n", m, ev.score);
        for (int i = 0; i < ev.nfindings; i++)
            fprintf(stderr, "    %s\n", ev.findings[i]);
        CHECK_MSG(m < 0.1, "mean %.3f", m);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&d);
    um_image_free(photo);
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_ghost);
}

static const struct um_test_case cases[] = {
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"pasted_q60_region_shows_ghost", pasted_q60_region_shows_ghost},
    {"lossless_composite_shows_ghost", lossless_composite_shows_ghost},
    {"single_compression_quiet", single_compression_quiet},
};
UM_TEST_MAIN(cases)
