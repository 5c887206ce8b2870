/* noise-wavelet (Mahdian & Saic 2009): a region with another noise level stands out; a photo
 * with one noise level stays quiet; flat, saturated and tiny images are not applicable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_noise_wavelet;

enum { W = 512, H = 384, RX = 200, RY = 120, RW = 160, RH = 136 };

static int in_rect(int x, int y)
{
    return x >= RX && x < RX + RW && y >= RY && y < RY + RH;
}

/* A synthetic photo with extra Gaussian noise of sigma_out outside the rectangle and
 * sigma_in inside it, clipped and rounded to 8 bits as a camera would. */
static um_image *photo_with_noise(unsigned seed, float sigma_out, float sigma_in)
{
    um_image *img = synth_photo(W, H, seed);
    unsigned s = seed * 747796405u + 1;
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float sigma = in_rect(x, y) ? sigma_in : sigma_out;
                float v = p[(size_t)y * W + x] + sigma * synth_gaussian(&s);
                p[(size_t)y * W + x] = roundf(v < 0 ? 0 : (v > 255 ? 255 : v));
            }
    }
    return img;
}

/* Denoise the rectangle with a 3x3 mean filter (what a retouching brush does). */
static void smooth_rect(um_image *img)
{
    float *tmp = malloc(sizeof(float) * RW * RH);
    CHECK(tmp != NULL);
    if (!tmp)
        return;
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < RH; y++)
            for (int x = 0; x < RW; x++) {
                float sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                        sum += p[(size_t)(RY + y + dy) * W + RX + x + dx];
                tmp[(size_t)y * RW + x] = roundf(sum / 9);
            }
        for (int y = 0; y < RH; y++)
            memcpy(p + (size_t)(RY + y) * W + RX, tmp + (size_t)y * RW, sizeof(float) * RW);
    }
    free(tmp);
}

static void run(const um_image *rgb, struct um_evidence *ev)
{
    um_decoded d = synth_as_lossless((um_image *)rgb);
    CHECK(synth_run_detector(&um_detector_noise_wavelet, &d, ev, NULL) == UM_OK);
}

static const char *region_noise(const struct um_evidence *ev)
{
    json_t *r = ev->details ? json_object_get(ev->details, "region") : NULL;
    json_t *n = r ? json_object_get(r, "noise") : NULL;
    return n ? json_string_value(n) : "";
}

static void check_region_found(const um_image *img, const char *noise, unsigned seed)
{
    struct um_evidence ev;
    run(img, &ev);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(ev.map != NULL);
    if (ev.map) {
        double in = synth_evidence_mean(&ev, W, H, RX, RY, RW, RH, 1);
        double out = synth_evidence_mean(&ev, W, H, RX, RY, RW, RH, 0);
        fprintf(stderr, "  %s seed %u: in %.3f out %.3f score %.3f log10 NFA %.1f\n", noise,
                seed, in, out, ev.score, ev.log10_nfa);
        /* Blocks straddling the region's edge count partly outside it. */
        CHECK_MSG(in > 0.6 && out < 0.1, "seed %u %s: in %.3f out %.3f", seed, noise, in, out);
    }
    CHECK_MSG(ev.score > 0.8, "seed %u %s: score %.3f", seed, noise, ev.score);
    CHECK_MSG(ev.has_nfa && ev.log10_nfa < -5, "seed %u %s: log10 NFA %.2f", seed, noise,
              ev.log10_nfa);
    CHECK_MSG(strcmp(region_noise(&ev), noise) == 0, "seed %u: region is '%s', expected '%s'",
              seed, region_noise(&ev), noise);
    CHECK(ev.nfindings > 0 && strstr(ev.findings[0], noise) != NULL);
    um_evidence_clear(&ev);
}

/* Noise sigma 1 added everywhere but sigma 5 in a pasted region: noisier region found. */
static void noisier_region_stands_out(void)
{
    for (unsigned seed = 1; seed <= 2; seed++) {
        um_image *img = photo_with_noise(seed, 1.0f, 5.0f);
        check_region_found(img, "higher", seed);
        um_image_free(img);
    }
}

/* The reverse: a region smoothed (denoised) in an otherwise noisy photo. */
static void denoised_region_stands_out(void)
{
    for (unsigned seed = 3; seed <= 4; seed++) {
        um_image *img = photo_with_noise(seed, 1.0f, 1.0f);
        smooth_rect(img);
        check_region_found(img, "lower", seed);
        um_image_free(img);
    }
}

/* One noise level everywhere, lossless or after a q90 JPEG save: low map, low score. */
static void uniform_noise_is_quiet(void)
{
    for (unsigned seed = 5; seed <= 7; seed++) {
        um_image *img = photo_with_noise(seed, 1.0f, 1.0f);
        um_image *jpeg = synth_jpeg_pixels(img, 90);
        const um_image *cases[2] = {img, jpeg};
        for (int k = 0; k < 2; k++) {
            struct um_evidence ev;
            run(cases[k], &ev);
            CHECK_MSG(ev.applicable, "%s", ev.reason);
            CHECK_MSG(ev.score < 0.2, "seed %u case %d: score %.3f", seed, k, ev.score);
            if (ev.map) {
                double mean = synth_evidence_mean(&ev, W, H, 0, 0, 0, 0, 0);
                fprintf(stderr, "  quiet seed %u case %d: map mean %.3f score %.3f\n", seed, k,
                        mean, ev.score);
                CHECK_MSG(mean < 0.08, "seed %u case %d: map mean %.3f", seed, k, mean);
            }
            um_evidence_clear(&ev);
        }
        um_image_free(img);
        um_image_free(jpeg);
    }
}

/* Flat, black, white and clipped images have no noise; a tiny one has too few blocks. */
static void flat_or_tiny_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_noise_wavelet);
    synth_check_small_not_applicable(&um_detector_noise_wavelet, 100, 60);
}

/* Odd sizes and partial edge blocks: the map covers the image and edge strips are skipped. */
static void odd_sizes_cover_the_image(void)
{
    const int sizes[4][2] = {{65, 200}, {131, 97}, {200, 64}, {333, 257}};
    for (int i = 0; i < 4; i++) {
        um_image *img = synth_photo(sizes[i][0], sizes[i][1], 20 + (unsigned)i);
        struct um_evidence ev;
        run(img, &ev);
        CHECK_MSG(ev.applicable, "%dx%d: %s", sizes[i][0], sizes[i][1], ev.reason);
        CHECK(ev.map && ev.map_w * ev.map_step >= sizes[i][0] &&
              ev.map_h * ev.map_step >= sizes[i][1]);
        CHECK_MSG(ev.score < 0.2, "%dx%d: score %.3f", sizes[i][0], sizes[i][1], ev.score);
        um_evidence_clear(&ev);
        um_image_free(img);
    }
}

static const struct um_test_case cases[] = {
    {"noisier region stands out", noisier_region_stands_out},
    {"denoised region stands out", denoised_region_stands_out},
    {"uniform noise is quiet", uniform_noise_is_quiet},
    {"flat or tiny is not applicable", flat_or_tiny_is_not_applicable},
    {"odd sizes cover the image", odd_sizes_cover_the_image},
};
UM_TEST_MAIN(cases)
