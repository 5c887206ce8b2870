/* dq: aligned double-quantization map (Bianchi & Piva 2012, Lin et al. 2009). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_dq;

/* Run dq on a decoded image; map upsampled to full size into *full (caller frees). */
static um_error run_dq(const um_decoded *d, struct um_evidence *ev, float **full)
{
    return synth_run_detector(&um_detector_dq, d, ev, full);
}

/* A q=60 photo with a never-compressed 160x128 patch from another photo, saved again at q=90:
 * everything but the patch is double-quantized. */
static void splice_finds_patch(void)
{
    enum { W = 512, H = 384, PX = 200, PY = 136, PW = 160, PH = 128 };
    um_image *base = synth_photo(W, H, 11), *other = synth_photo(W, H, 23);
    um_decoded first = {0}, final = {0};
    CHECK(synth_jpeg_roundtrip(base, 60, NULL, NULL, &first) == UM_OK);
    synth_paste(first.rgb, other, 40, 60, PW, PH, PX, PY);
    CHECK(synth_jpeg_roundtrip(first.rgb, 90, NULL, NULL, &final) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_dq(&final, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  dq splice: in %.3f out %.3f score %.3f\n", in, out, ev.score);
        for (int i = 0; i < ev.nfindings; i++)
            fprintf(stderr, "    %s\n", ev.findings[i]);
        CHECK_MSG(in - out > 0.5, "in %.3f out %.3f", in, out);
        CHECK(out < 0.15);
        CHECK(ev.score > 0.5);
    }
    CHECK(ev.details && json_object_get(ev.details, "primary_step"));
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&first);
    um_decoded_clear(&final);
    um_image_free(base);
    um_image_free(other);
}

/* A photo compressed once: no double-quantization trace anywhere, so not applicable or a
 * flat, low map and a low score. */
static void check_single_compression_quiet(int quality, unsigned seed)
{
    um_image *photo = synth_photo(512, 384, seed);
    um_decoded d = {0};
    CHECK(synth_jpeg_roundtrip(photo, quality, NULL, NULL, &d) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_dq(&d, &ev, &full) == UM_OK);
    fprintf(stderr, "  dq single q%d: applicable %d (%s) score %.3f\n", quality, ev.applicable,
            ev.reason, ev.score);
    CHECK(!ev.applicable || full != NULL);
    if (ev.applicable && full) {
        double m = synth_mean_in_rect(full, 512, 0, 0, 512, 384);
        CHECK_MSG(m < 0.1, "mean %.3f", m);
        CHECK(ev.score < 0.3);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&d);
    um_image_free(photo);
}

static void single_compression_quiet(void)
{
    check_single_compression_quiet(90, 5);
}

/* At q=70, the quality the coarser-second test below saves at last. */
static void single_q70_quiet(void)
{
    check_single_compression_quiet(70, 9);
}

/* The coarser-second case (the usual one in CASIA v1): a q=80 photo, a patch cut from another
 * q=80 JPEG on a grid shifted by (3,5), saved again at q=70. No comb appears (q1 < q2), but the
 * double-quantized background still has bins holding one or two lattice points alternately;
 * the patch follows the single-quantization law. */
static void coarser_second_finds_patch(void)
{
    enum { W = 512, H = 384, PX = 192, PY = 128, PW = 160, PH = 128 };
    um_image *base = synth_photo(W, H, 31), *other = synth_photo(W, H, 47);
    um_decoded first = {0}, donor = {0}, final = {0};
    CHECK(synth_jpeg_roundtrip(base, 80, NULL, NULL, &first) == UM_OK);
    CHECK(synth_jpeg_roundtrip(other, 80, NULL, NULL, &donor) == UM_OK);
    um_image *shifted = synth_crop(donor.rgb, 3, 5, W - 8, H - 8);
    synth_paste(first.rgb, shifted, 40, 60, PW, PH, PX, PY);
    CHECK(synth_jpeg_roundtrip(first.rgb, 70, NULL, NULL, &final) == UM_OK);
    struct um_evidence ev;
    float *full;
    CHECK(run_dq(&final, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL); /* an applicable run must draw a map */
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  dq coarser second: in %.3f out %.3f score %.3f\n", in, out, ev.score);
        for (int i = 0; i < ev.nfindings; i++)
            fprintf(stderr, "    %s\n", ev.findings[i]);
        /* Weak evidence per block (ratios 2:1 between bins at best): observed in 0.19,
         * out 0.11. The map ranks the patch above the background; it does not mark it above
         * 0.5. (q90 -> q70, steps ratio ~3.3, is not detected at all at this size.) */
        CHECK_MSG(in > 1.5 * out, "in %.3f out %.3f", in, out);
        CHECK(out < 0.2);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&first);
    um_decoded_clear(&donor);
    um_decoded_clear(&final);
    um_image_free(shifted);
    um_image_free(base);
    um_image_free(other);
}

static const struct um_test_case cases[] = {
    {"splice_finds_patch", splice_finds_patch},
    {"single_compression_quiet", single_compression_quiet},
    {"coarser_second_finds_patch", coarser_second_finds_patch},
    {"single_q70_quiet", single_q70_quiet},
};
UM_TEST_MAIN(cases)
