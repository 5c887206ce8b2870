/* splicebuster: co-occurrences of the quantized noise residual, modelled per image by EM
 * (Cozzolino, Poggi & Verdoliva 2015). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/detector.h"
#include "synth.h"

extern const struct um_detector um_detector_splicebuster;

enum { W = 768, H = 512, PX = 384, PY = 160, PW = 256, PH = 256 };

/* Another camera's texture: a 3x3 box blur (softer optics or in-camera denoising) and a little
 * fresh noise of a different strength, rounded to 8 bits. */
static void other_camera(um_image *img, unsigned seed)
{
    int w = img->width, h = img->height;
    float *tmp = malloc((size_t)w * h * sizeof *tmp);
    if (!tmp)
        abort();
    unsigned s = seed * 747796405u + 1;
    for (int c = 0; c < img->channels; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy < 0 ? 0 : (y + dy >= h ? h - 1 : y + dy);
                        int xx = x + dx < 0 ? 0 : (x + dx >= w ? w - 1 : x + dx);
                        sum += p[(size_t)yy * w + xx];
                    }
                s = s * 1664525u + 1013904223u;
                float noise = ((float)(s >> 8) / 16777216.0f - 0.5f) * 2.0f; /* uniform +-1 */
                float v = sum / 9 + noise;
                tmp[(size_t)y * w + x] = v < 0 ? 0 : (v > 255 ? 255 : (float)(int)(v + 0.5f));
            }
        memcpy(p, tmp, (size_t)w * h * sizeof *tmp);
    }
    free(tmp);
}

static um_error run(const um_decoded *d, struct um_evidence *ev, float **full)
{
    return synth_run_detector(&um_detector_splicebuster, d, ev, full);
}

static void report(const char *what, const struct um_evidence *ev)
{
    fprintf(stderr, "  %s: score %.3f\n", what, ev->score);
    for (int i = 0; i < ev->nfindings; i++)
        fprintf(stderr, "    %s\n", ev->findings[i]);
    if (ev->details) {
        char *j = json_dumps(ev->details, JSON_COMPACT);
        fprintf(stderr, "    %s\n", j ? j : "");
        free(j);
    }
}

/* A piece of another photo with another camera's texture, pasted at (x, y) (size pw x ph,
 * taken from (dx, dy) of the donor) and saved losslessly or as JPEG: the map must be higher
 * inside than outside by min_gap, at least min_in inside, and the score at least min_score
 * (a negative bound is not checked). */
struct splice_case {
    const char *name;
    int w, h;
    unsigned host_seed, donor_seed, camera_seed;
    int dx, dy, x, y, pw, ph;
    int jpeg_quality; /* 0: lossless */
    double min_in, min_gap, min_score;
};

static void check_splice_found(const struct splice_case *c)
{
    um_image *host = synth_photo(c->w, c->h, c->host_seed);
    um_image *donor = synth_photo(c->w, c->h, c->donor_seed);
    other_camera(donor, c->camera_seed);
    synth_paste(host, donor, c->dx, c->dy, c->pw, c->ph, c->x, c->y);
    um_decoded d = {0};
    if (c->jpeg_quality)
        CHECK(synth_jpeg_roundtrip(host, c->jpeg_quality, NULL, NULL, &d) == UM_OK);
    else
        d = synth_as_lossless(host);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(run(&d, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL);
    if (full) {
        double in = synth_mean_in_rect(full, c->w, c->x, c->y, c->pw, c->ph);
        double out = synth_mean_outside_rect(full, c->w, c->h, c->x, c->y, c->pw, c->ph);
        fprintf(stderr, "  %s: in %.3f out %.3f\n", c->name, in, out);
        CHECK_MSG(in > c->min_in && in - out > c->min_gap, "%s: in %.3f out %.3f", c->name, in,
                  out);
    }
    report(c->name, &ev);
    if (c->min_score >= 0)
        CHECK_MSG(ev.score >= c->min_score, "%s: score %.3f", c->name, ev.score);
    free(full);
    um_evidence_clear(&ev);
    if (c->jpeg_quality)
        um_decoded_clear(&d);
    um_image_free(host);
    um_image_free(donor);
}

static void pasted_region_from_other_camera_is_found(void)
{
    static const struct splice_case c = {"splice", W, H, 31, 32, 5, 64, 64, PX, PY, PW, PH, 0,
                                         0.4, 0.3, 0.5};
    check_splice_found(&c);
}

/* The same kind of composite saved as a JPEG at quality 97: the textures still differ. (At
 * quality 90 this synthetic splice is no longer found: the quantization evens the two noise
 * textures out; see the detector's limits.) */
static void pasted_region_survives_high_quality_jpeg(void)
{
    static const struct splice_case c = {"splice q97", W, H, 41, 42, 6, 96, 32, 64, 96, PW, PH,
                                         97, -1.0, 0.4, -1.0};
    check_splice_found(&c);
}

/* One camera throughout, at size w x h: the map stays low and the score low. */
static void check_clean_is_quiet(const char *what, int w, int h, unsigned seed)
{
    um_image *photo = synth_photo(w, h, seed);
    um_decoded d = synth_as_lossless(photo);
    struct um_evidence ev;
    float *full = NULL;
    CHECK(run(&d, &ev, &full) == UM_OK);
    CHECK_MSG(ev.applicable, "%s", ev.reason);
    CHECK(full != NULL);
    if (full) {
        double m = synth_mean_in_rect(full, w, 0, 0, w, h);
        fprintf(stderr, "  %s %u: map mean %.3f\n", what, seed, m);
        CHECK_MSG(m < 0.1, "mean %.3f", m);
    }
    report(what, &ev);
    CHECK_MSG(ev.score < 0.3, "score %.3f", ev.score);
    free(full);
    um_evidence_clear(&ev);
    um_image_free(photo);
}

static void clean_photo_is_quiet(void)
{
    for (unsigned seed = 51; seed <= 52; seed++)
        check_clean_is_quiet("clean", W, H, seed);
}

/* A CASIA-sized image (384 x 256, 64-pixel windows) with a splice in its centre: every window
 * overlaps the centre, so an unweighted fit would make the centre the "typical" texture and
 * the edges the outliers; the coverage-weighted fit must still mark the centre. */
static void central_splice_in_small_image_is_found(void)
{
    static const struct splice_case c = {"central splice", 384, 256, 71, 72, 7, 32, 32, 144, 80,
                                         96, 96, 0, 0.3, 0.2, -1.0};
    check_splice_found(&c);
}

/* The same small size without a splice: quiet. */
static void clean_small_image_is_quiet(void)
{
    check_clean_is_quiet("clean small", 384, 256, 73);
}

static void too_small_is_not_applicable(void)
{
    synth_check_small_not_applicable(&um_detector_splicebuster, 120, 320); /* < two 64-px windows */
}

static void flat_or_saturated_is_not_applicable(void)
{
    synth_check_flat_not_applicable(&um_detector_splicebuster);
}

static const struct um_test_case cases[] = {
    {"flat_or_saturated_is_not_applicable", flat_or_saturated_is_not_applicable},
    {"too_small_is_not_applicable", too_small_is_not_applicable},
    {"pasted_region_from_other_camera_is_found", pasted_region_from_other_camera_is_found},
    {"pasted_region_survives_high_quality_jpeg", pasted_region_survives_high_quality_jpeg},
    {"central_splice_in_small_image_is_found", central_splice_in_small_image_is_found},
    {"clean_photo_is_quiet", clean_photo_is_quiet},
    {"clean_small_image_is_quiet", clean_small_image_is_quiet},
};
UM_TEST_MAIN(cases)
