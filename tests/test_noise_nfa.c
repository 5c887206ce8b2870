/* noise-nfa: Noisesniffer (Gardella et al. 2021, IPOL 2024). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/stats.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_noise_nfa;

enum { W = 640, H = 480, PX = 300, PY = 200, PW = 160, PH = 120 };

static float gaussian(unsigned *s)
{
    double u1, u2;
    do {
        *s = *s * 1664525u + 1013904223u;
        u1 = (*s >> 8) / 16777216.0;
    } while (u1 <= 1e-12);
    *s = *s * 1664525u + 1013904223u;
    u2 = (*s >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* A photo-like image with noise of about sigma grey levels instead of synth_photo's 3: its
 * content smoothed (a 7x7 mean leaves 3/7 of the noise), then fresh noise of sigma, rounded. */
static um_image *quiet_photo(int w, int h, unsigned seed, float sigma)
{
    um_image *img = synth_photo(w, h, seed);
    float *tmp = malloc((size_t)w * h * sizeof *tmp);
    if (!img || !tmp)
        abort();
    unsigned s = seed * 747796405u + 1;
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        um_box_filter(p, w, h, 3, tmp);
        for (size_t i = 0; i < (size_t)w * h; i++) {
            float v = tmp[i] + sigma * gaussian(&s);
            p[i] = roundf(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
    }
    free(tmp);
    return img;
}

static void report(const char *what, const struct um_evidence *ev, const float *full)
{
    double in = full ? synth_mean_in_rect(full, W, PX, PY, PW, PH) : -1;
    double out = full ? synth_mean_outside_rect(full, W, H, PX, PY, PW, PH) : -1;
    fprintf(stderr, "  %s: log10 NFA %.2f score %.3f map in %.3f out %.3f\n", what,
            ev->log10_nfa, ev->score, in, out);
    for (int i = 0; i < ev->nfindings; i++)
        fprintf(stderr, "    %s\n", ev->findings[i]);
}

/* A region with noise sigma 0.5 pasted into a photo with noise sigma 3 (the method's case:
 * the forgery has LESS noise than the rest) is found, with NFA < 1, where it is. */
static void check_lower_noise_region_found(int grey)
{
    um_image *host = synth_photo(W, H, 31), *donor = quiet_photo(W, H, 32, 0.5f);
    synth_paste(host, donor, 100, 80, PW, PH, PX, PY);
    if (grey) /* a grey source: every channel the same */
        for (int c = 1; c < 3; c++)
            memcpy(um_image_plane(host, c), um_image_plane(host, 0), (size_t)W * H * 4);
    um_decoded d = synth_as_lossless(host);
    if (grey)
        d.source_channels = 1;
    struct um_evidence ev;
    float *full = NULL;
    CHECK(synth_run_detector(&um_detector_noise_nfa, &d, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(ev.has_nfa);
    CHECK(full != NULL);
    report(grey ? "grey splice" : "colour splice", &ev, full);
    CHECK_MSG(ev.log10_nfa < 0, "log10 NFA %.2f", ev.log10_nfa);
    CHECK(ev.score > 0.5);
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        CHECK_MSG(in > 0.5 && in - out > 0.4, "in %.3f out %.3f", in, out);
    }
    CHECK(ev.nfindings > 0 && strstr(ev.findings[0], "lower"));
    free(full);
    um_evidence_clear(&ev);
    um_image_free(host);
    um_image_free(donor);
}

/* The composite saved as a good JPEG: the quantization lowers the noise everywhere, the
 * region still has less of it. */
static void lower_noise_region_found_after_jpeg(void)
{
    um_image *host = synth_photo(W, H, 33), *donor = quiet_photo(W, H, 34, 0.5f);
    synth_paste(host, donor, 100, 80, PW, PH, PX, PY);
    um_decoded d = {0};
    CHECK(synth_jpeg_roundtrip(host, 95, NULL, NULL, &d) == UM_OK);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(synth_run_detector(&um_detector_noise_nfa, &d, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    report("splice q95", &ev, full);
    CHECK_MSG(ev.log10_nfa < 0, "log10 NFA %.2f", ev.log10_nfa);
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        CHECK_MSG(in > 0.5 && in - out > 0.4, "in %.3f out %.3f", in, out);
    }
    free(full);
    um_evidence_clear(&ev);
    um_decoded_clear(&d);
    um_image_free(host);
    um_image_free(donor);
}

static void lower_noise_region_found(void)
{
    check_lower_noise_region_found(0);
}

static void lower_noise_region_found_grey(void)
{
    check_lower_noise_region_found(1);
}

/* The same noise everywhere: no region is meaningful and the map stays low. */
static void uniform_noise_quiet(void)
{
    for (unsigned seed = 41; seed < 44; seed++) {
        um_image *photo = synth_photo(W, H, seed);
        um_decoded d = synth_as_lossless(photo);
        struct um_evidence ev;
        float *full = NULL;
        CHECK(synth_run_detector(&um_detector_noise_nfa, &d, &ev, &full) == UM_OK);
        CHECK_MSG(ev.applicable, "%s", ev.reason);
        CHECK(ev.has_nfa);
        report("uniform", &ev, full);
        CHECK_MSG(ev.log10_nfa >= 0, "seed %u: log10 NFA %.2f", seed, ev.log10_nfa);
        CHECK(ev.score < 0.5);
        if (full) {
            double m = synth_mean_in_rect(full, W, 0, 0, W, H);
            CHECK_MSG(m < 0.1, "seed %u: map mean %.3f", seed, m);
        }
        free(full);
        um_evidence_clear(&ev);
        um_image_free(photo);
    }
}

/* A clean photo saved as a good JPEG: compression lowers the noise evenly, nothing found. */
static void jpeg_photo_quiet(void)
{
    um_image *photo = synth_photo(W, H, 51);
    um_decoded d = {0};
    CHECK(synth_jpeg_roundtrip(photo, 90, NULL, NULL, &d) == UM_OK);
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_noise_nfa, &d, &ev, NULL) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    report("jpeg q90", &ev, NULL);
    CHECK_MSG(ev.log10_nfa >= 0, "log10 NFA %.2f", ev.log10_nfa);
    um_evidence_clear(&ev);
    um_decoded_clear(&d);
    um_image_free(photo);
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_noise_nfa);
}

static void tiny_is_not_applicable(void)
{
    synth_check_small_not_applicable(&um_detector_noise_nfa, 60, 40);
}

static const struct um_test_case cases[] = {
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"tiny_is_not_applicable", tiny_is_not_applicable},
    {"lower_noise_region_found", lower_noise_region_found},
    {"lower_noise_region_found_grey", lower_noise_region_found_grey},
    {"lower_noise_region_found_after_jpeg", lower_noise_region_found_after_jpeg},
    {"uniform_noise_quiet", uniform_noise_quiet},
    {"jpeg_photo_quiet", jpeg_photo_quiet},
};
UM_TEST_MAIN(cases)
