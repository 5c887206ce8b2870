/* cfa: demosaicing-trace consistency (Ferrara et al. 2012). The test makes camera-like images
 * itself: a synth_photo sampled through a Bayer (RGGB) mosaic and bilinearly demosaiced. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_cfa;

enum { W = 512, H = 384, PX = 192, PY = 128, PW = 128, PH = 112 };

static int mirror(int i, int n)
{
    return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i);
}

/* 1 where the RGGB mosaic samples channel c at (x, y). */
static int sampled(int c, int x, int y)
{
    if (c == 1)
        return (x + y) & 1;
    return c == 0 ? !(x & 1) && !(y & 1) : (x & 1) && (y & 1);
}

/* Malvar, He & Cutler's gradient correction of the green estimate at a red or blue sample:
 * (4 C - sum of the four C samples two pixels away) / 8, C the channel sampled there. A
 * camera-like interpolator that no longer matches the detector's bilinear predictor. */
static float gradient_correction(const um_image *rgb, int x, int y)
{
    int w = rgb->width, h = rgb->height;
    const float *c = um_image_plane(rgb, (x & 1) ? 2 : 0);
    float centre = c[(size_t)y * w + x];
    float ring = c[(size_t)y * w + mirror(x - 2, w)] + c[(size_t)y * w + mirror(x + 2, w)] +
                 c[(size_t)mirror(y - 2, h) * w + x] + c[(size_t)mirror(y + 2, h) * w + x];
    return (4 * centre - ring) / 8;
}

/* The photo as a camera with an RGGB Bayer filter and bilinear demosaicing would record it:
 * each channel is kept where the mosaic samples it and interpolated from the sampled
 * neighbours elsewhere (kernel [1 2 1; 2 4 2; 1 2 1] / 4 for red and blue, [0 1 0; 1 4 1;
 * 0 1 0] / 4 for green, applied to the zero-filled mosaic), then rounded to 8 bits. */
static um_image *bayer_demosaic(const um_image *rgb, int gradient_corrected)
{
    int w = rgb->width, h = rgb->height;
    um_image *out = um_image_new(w, h, 3);
    if (!out)
        abort();
    static const float rb[3][3] = {{1, 2, 1}, {2, 4, 2}, {1, 2, 1}};
    static const float gk[3][3] = {{0, 1, 0}, {1, 4, 1}, {0, 1, 0}};
    for (int c = 0; c < 3; c++) {
        const float *in = um_image_plane(rgb, c);
        float *o = um_image_plane(out, c);
        const float(*k)[3] = c == 1 ? gk : rb;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int j = -1; j <= 1; j++)
                    for (int i = -1; i <= 1; i++) {
                        int xx = mirror(x + i, w), yy = mirror(y + j, h);
                        if (sampled(c, xx, yy))
                            s += k[j + 1][i + 1] * in[(size_t)yy * w + xx];
                    }
                s *= 0.25f;
                if (c == 1 && gradient_corrected && !sampled(1, x, y))
                    s += gradient_correction(rgb, x, y);
                o[(size_t)y * w + x] = roundf(s < 0 ? 0 : (s > 255 ? 255 : s));
            }
    }
    return out;
}

static um_image *camera_photo_with(int w, int h, unsigned seed, int gradient_corrected)
{
    um_image *p = synth_photo(w, h, seed);
    um_image *d = bayer_demosaic(p, gradient_corrected);
    um_image_free(p);
    return d;
}

static um_image *camera_photo(int w, int h, unsigned seed)
{
    return camera_photo_with(w, h, seed, 0);
}
/* Bilinear resampling by `factor` (what an editor's resize does to the lattice). */
static um_image *resize(const um_image *rgb, double factor)
{
    int w = (int)(rgb->width * factor), h = (int)(rgb->height * factor);
    um_image *out = um_image_new(w, h, 3);
    if (!out)
        abort();
    for (int c = 0; c < 3; c++) {
        const float *in = um_image_plane(rgb, c);
        float *o = um_image_plane(out, c);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double sx = (x + 0.5) / factor - 0.5, sy = (y + 0.5) / factor - 0.5;
                int x0 = (int)floor(sx), y0 = (int)floor(sy);
                double fx = sx - x0, fy = sy - y0;
                int xa = mirror(x0, rgb->width), xb = mirror(x0 + 1, rgb->width);
                int ya = mirror(y0, rgb->height), yb = mirror(y0 + 1, rgb->height);
                double v = (1 - fy) * ((1 - fx) * in[(size_t)ya * rgb->width + xa] +
                                       fx * in[(size_t)ya * rgb->width + xb]) +
                           fy * ((1 - fx) * in[(size_t)yb * rgb->width + xa] +
                                 fx * in[(size_t)yb * rgb->width + xb]);
                o[(size_t)y * w + x] = (float)round(v);
            }
    }
    return out;
}

static double contrast_of(const struct um_evidence *ev)
{
    json_t *c = ev->details ? json_object_get(ev->details, "cfa_contrast") : NULL;
    return c ? json_number_value(c) : -1;
}

/* Run on pixels presented losslessly; returns applicability and prints the global contrast. */
static int judge(const char *label, um_image *img, struct um_evidence *ev, float **full)
{
    um_decoded d = synth_as_lossless(img);
    CHECK(synth_run_detector(&um_detector_cfa, &d, ev, full) == UM_OK);
    fprintf(stderr, "  cfa %-28s applicable %d contrast %.3f score %.3f %s\n", label,
            ev->applicable, contrast_of(ev), ev->score, ev->applicable ? "" : ev->reason);

    return ev->applicable;
}

static int judge_and_clear(const char *label, um_image *img)
{
    struct um_evidence ev;
    int a = judge(label, img, &ev, NULL);
    um_evidence_clear(&ev);
    um_image_free(img);
    return a;
}

/* A camera-like image carries the trace; the same after a resize, a JPEG at quality 75, or
 * never demosaiced, does not: the detector must say it cannot judge those. After a JPEG at
 * quality 95 a weak trace remains, too weak to localise with: also not applicable. The printed
 * contrasts are the figures behind CFA_TRACE_CONTRAST and CFA_MIN_CONTRAST. */
static void trace_present_only_when_demosaiced(void)
{
    for (unsigned seed = 1; seed <= 2; seed++) {
        um_image *cam = camera_photo(W, H, seed);
        CHECK_MSG(judge_and_clear("demosaiced", synth_crop(cam, 0, 0, W, H)), "seed %u", seed);
        CHECK_MSG(judge_and_clear("demosaiced, cropped by 1", synth_crop(cam, 1, 0, W - 1, H)),
                  "seed %u", seed);
        CHECK_MSG(!judge_and_clear("demosaiced, JPEG q95", synth_jpeg_pixels(cam, 95)),
                  "seed %u", seed);
        CHECK_MSG(!judge_and_clear("demosaiced, JPEG q75", synth_jpeg_pixels(cam, 75)),
                  "seed %u", seed);
        CHECK_MSG(!judge_and_clear("demosaiced, resized x0.9", resize(cam, 0.9)), "seed %u",
                  seed);
        CHECK_MSG(!judge_and_clear("demosaiced, resized x1.25", resize(cam, 1.25)), "seed %u",
                  seed);
        CHECK_MSG(!judge_and_clear("demosaiced, resized x0.5", resize(cam, 0.5)), "seed %u",
                  seed);
        CHECK_MSG(!judge_and_clear("never demosaiced", synth_photo(W, H, seed)), "seed %u",
                  seed);
        um_image_free(cam);
        cam = camera_photo_with(W, H, seed, 1);
        CHECK_MSG(judge_and_clear("gradient-corrected", synth_crop(cam, 0, 0, W, H)), "seed %u",
                  seed);
        CHECK_MSG(!judge_and_clear("gradient-corrected, JPEG q95", synth_jpeg_pixels(cam, 95)),
                  "seed %u", seed);
        um_image_free(cam);
    }
}

/* A camera-like image with a piece of another, never demosaiced photo pasted in. */
static void check_splice_found(int gradient_corrected, unsigned seed)
{
    um_image *host = camera_photo_with(W, H, seed, gradient_corrected);
    um_image *donor = synth_photo(W, H, seed + 1);
    synth_paste(host, donor, 48, 64, PW, PH, PX, PY);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(judge(gradient_corrected ? "splice, gradient-corrected" : "splice", host, &ev, &full));
    CHECK(full != NULL);
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  cfa splice: in %.3f out %.3f\n", in, out);
        for (int i = 0; i < ev.nfindings; i++)
            fprintf(stderr, "    %s\n", ev.findings[i]);
        CHECK_MSG(in > 0.7 && out < 0.1, "in %.3f out %.3f", in, out);
    }
    CHECK(ev.score > 0.5);
    free(full);
    um_evidence_clear(&ev);
    um_image_free(host);
    um_image_free(donor);
}

static void pasted_region_without_trace_is_found(void)
{
    check_splice_found(0, 11);
    check_splice_found(1, 13);
}

/* A piece of another camera image pasted one pixel off the lattice: its trace is there but on
 * the wrong diagonal, which the image's lattice must see as missing. */
static void pasted_region_off_lattice_is_found(void)
{
    um_image *host = camera_photo(W, H, 21), *donor = camera_photo(W, H, 22);
    synth_paste(host, donor, 49, 64, PW, PH, PX, PY);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(judge("off-lattice splice", host, &ev, &full));
    if (full) {
        double in = synth_mean_in_rect(full, W, PX, PY, PW, PH);
        double out = synth_mean_outside_rect(full, W, H, PX, PY, PW, PH);
        fprintf(stderr, "  cfa off-lattice splice: in %.3f out %.3f\n", in, out);
        CHECK_MSG(in > 0.7 && out < 0.1, "in %.3f out %.3f", in, out);
    }
    CHECK(ev.score > 0.5);
    free(full);
    um_evidence_clear(&ev);
    um_image_free(host);
    um_image_free(donor);
}

/* A whole camera-like image: the map stays low, the score 0. */
static void clean_demosaiced_image_is_quiet(void)
{
    for (unsigned seed = 31; seed <= 32; seed++) {
        um_image *cam = camera_photo_with(W, H, seed, seed == 32); /* bilinear, corrected */
        struct um_evidence ev;
        float *full = NULL;
        CHECK(judge("clean", cam, &ev, &full));
        if (full) {
            double m = synth_mean_in_rect(full, W, 0, 0, W, H);
            fprintf(stderr, "  cfa clean: mean %.3f\n", m);
            CHECK_MSG(m < 0.05, "mean %.3f", m);
        }
        CHECK_MSG(ev.score == 0, "score %.3f", ev.score);
        free(full);
        um_evidence_clear(&ev);
        um_image_free(cam);
    }
}

static void grey_image_is_not_applicable(void)
{
    um_image *cam = camera_photo(128, 96, 5);
    um_decoded d = synth_as_lossless(cam);
    d.source_channels = 1;
    struct um_evidence ev;
    CHECK(synth_run_detector(&um_detector_cfa, &d, &ev, NULL) == UM_OK);
    CHECK_MSG(!ev.applicable && strstr(ev.reason, "grey"), "%s", ev.reason);
    um_evidence_clear(&ev);
    um_image_free(cam);
}

static void tiny_image_is_not_applicable(void)
{
    um_image *cam = camera_photo(20, 300, 6);
    struct um_evidence ev;
    CHECK(!judge("tiny", cam, &ev, NULL));
    CHECK(strstr(ev.reason, "too small") != NULL);
    um_evidence_clear(&ev);
    um_image_free(cam);
}

/* Odd and narrow sizes: partial cells, partial bands and the mirrored borders stay in bounds
 * (the ASan build checks), and the map covers the image. */
static void odd_sizes_are_handled(void)
{
    static const int sizes[][2] = {{32, 32}, {33, 47}, {301, 65}, {40, 1001}, {1001, 33}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        um_image *cam = camera_photo(sizes[i][0], sizes[i][1], 50 + (unsigned)i);
        struct um_evidence ev;
        judge("odd size", cam, &ev, NULL);
        if (sizes[i][0] * sizes[i][1] < 64 * 64)
            CHECK_MSG(!ev.applicable && strstr(ev.reason, "too small"), "%s", ev.reason);
        else if (ev.applicable)
            CHECK(ev.map && ev.map_step == 8 && ev.map_w == (sizes[i][0] + 7) / 8 &&
                  ev.map_h == (sizes[i][1] + 7) / 8);
        else
            CHECK(ev.reason[0] != 0);
        um_evidence_clear(&ev);
        um_image_free(cam);
    }
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_cfa);
}

static const struct um_test_case cases[] = {
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"grey_image_is_not_applicable", grey_image_is_not_applicable},
    {"tiny_image_is_not_applicable", tiny_image_is_not_applicable},
    {"odd_sizes_are_handled", odd_sizes_are_handled},
    {"trace_present_only_when_demosaiced", trace_present_only_when_demosaiced},
    {"pasted_region_without_trace_is_found", pasted_region_without_trace_is_found},
    {"pasted_region_off_lattice_is_found", pasted_region_off_lattice_is_found},
    {"clean_demosaiced_image_is_quiet", clean_demosaiced_image_is_quiet},
};
UM_TEST_MAIN(cases)
