/* The benchmark's localization metrics (src/bench/metrics.c) on tiny maps whose F1, MCC and AUC
 * are computed by hand in the comments, plus cross-checks against brute force and core um_auc.
 * The bench sources are part of the CLI, not of libunmask, so the file is compiled in here. */
#include <math.h>
#include <stdlib.h>

#include "bench/metrics.c"
#include "check.h"
#include "core/stats.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void hand_computed_four_pixels(void)
{
    /* map 0.9 0.6 0.4 0.1 / mask 1 0 1 0.
     * At 0.5: predicted 1 1 0 0 -> TP 1, FP 1, FN 1, TN 1: F1 = 2/4, MCC = (1-1)/4 = 0.
     * Thresholds: 0.9 -> 2/3; 0.6 -> 2/4; 0.4 -> TP 2, FP 1: 4/5; 0.1 -> 4/6. Best 0.8.
     * AUC: positive 0.9 beats both negatives, 0.4 beats only 0.1: 3/4. */
    const float map[] = {0.9f, 0.6f, 0.4f, 0.1f};
    const uint8_t mask[] = {1, 0, 1, 0};
    um_pixel_metrics m;
    CHECK(um_pixel_metrics_compute(map, mask, 4, &m) == 0);
    CHECK(NEAR(m.f1_05, 0.5));
    CHECK(NEAR(m.mcc_05, 0.0));
    CHECK_MSG(NEAR(m.f1_best, 0.8), "best %g", m.f1_best);
    CHECK_MSG(NEAR(m.auc, 0.75), "auc %g", m.auc);
}

static void hand_computed_ties(void)
{
    /* map 0.5 0.5 0.5 0.2 0.8 / mask 1 0 0 1 1: P = 3, N = 2.
     * At 0.5 (>=): predicted 1 1 1 0 1 -> TP 2, FP 2, FN 1, TN 0:
     *   F1 = 4/7; MCC = (0 - 2) / sqrt(4*3*2*1) = -2/sqrt(24).
     * Thresholds: 0.8 -> TP 1: 2/4; 0.5 -> 4/7; 0.2 -> TP 3, FP 2: 6/8. Best 0.75.
     * AUC: 0.5 vs two tied negatives = 2 * 1/2, 0.2 loses twice, 0.8 wins twice: 3/6. */
    const float map[] = {0.5f, 0.5f, 0.5f, 0.2f, 0.8f};
    const uint8_t mask[] = {1, 0, 0, 1, 1};
    um_pixel_metrics m;
    CHECK(um_pixel_metrics_compute(map, mask, 5, &m) == 0);
    CHECK(NEAR(m.f1_05, 4.0 / 7.0));
    CHECK_MSG(NEAR(m.mcc_05, -2.0 / sqrt(24.0)), "mcc %g", m.mcc_05);
    CHECK(NEAR(m.f1_best, 0.75));
    CHECK_MSG(NEAR(m.auc, 0.5), "auc %g", m.auc);
    /* The same ties through the core implementation. */
    const uint8_t labels[] = {1, 0, 0, 1, 1};
    CHECK(NEAR(um_auc(map, labels, 5), 0.5));
}

static void perfect_and_inverted_maps(void)
{
    /* A perfect map: F1 1, MCC 1, AUC 1. Its inverse: MCC -1, AUC 0, no F1 at 0.5, and the
     * best F1 is only that of the all-on prediction (the map is never flipped for the
     * detector): P = 3 of n = 8 -> 2*3 / (3 + 8) = 6/11. */
    const uint8_t mask[] = {1, 1, 1, 0, 0, 0, 0, 0};
    float map[8], inverse[8];
    for (int i = 0; i < 8; i++) {
        map[i] = mask[i] ? 1.0f : 0.0f;
        inverse[i] = 1.0f - map[i];
    }
    um_pixel_metrics m;
    CHECK(um_pixel_metrics_compute(map, mask, 8, &m) == 0);
    CHECK(NEAR(m.f1_05, 1.0) && NEAR(m.f1_best, 1.0) && NEAR(m.mcc_05, 1.0) && NEAR(m.auc, 1.0));
    CHECK(um_pixel_metrics_compute(inverse, mask, 8, &m) == 0);
    CHECK(NEAR(m.f1_05, 0.0));
    CHECK(NEAR(m.mcc_05, -1.0));
    CHECK(NEAR(m.auc, 0.0));
    CHECK_MSG(NEAR(m.f1_best, 6.0 / 11.0), "best %g", m.f1_best);
}

static void constant_map_rule(void)
{
    /* P = 2 of n = 8: a constant map can only be all on (or all off): best F1 = 2*2/(2+8). */
    const uint8_t mask[] = {0, 1, 0, 0, 1, 0, 0, 0};
    float low[8], high[8], zero[8];
    for (int i = 0; i < 8; i++) {
        low[i] = 0.3f;
        high[i] = 0.7f;
        zero[i] = 0.0f;
    }
    um_pixel_metrics m, absent, zeros;
    CHECK(um_pixel_metrics_compute(low, mask, 8, &m) == 0);
    CHECK(NEAR(m.f1_05, 0.0) && NEAR(m.mcc_05, 0.0) && NEAR(m.auc, 0.5));
    CHECK(NEAR(m.f1_best, 0.4));
    CHECK(um_pixel_metrics_compute(high, mask, 8, &m) == 0);
    CHECK(NEAR(m.f1_05, 0.4) && NEAR(m.f1_best, 0.4) && NEAR(m.mcc_05, 0.0));
    CHECK(NEAR(um_all_white_f1(mask, 8), 0.4));
    /* A missing map is an all-zero map: same numbers, no gain from abstaining. */
    CHECK(um_pixel_metrics_compute(NULL, mask, 8, &absent) == 0);
    CHECK(um_pixel_metrics_compute(zero, mask, 8, &zeros) == 0);
    CHECK(NEAR(absent.f1_05, 0.0) && NEAR(absent.f1_best, 0.4) && NEAR(absent.auc, 0.5));
    CHECK(NEAR(absent.f1_05, zeros.f1_05) && NEAR(absent.f1_best, zeros.f1_best) &&
          NEAR(absent.mcc_05, zeros.mcc_05) && NEAR(absent.auc, zeros.auc));
}

static void undefined_cases_and_clamping(void)
{
    const float map[] = {0.2f, 0.9f, 0.4f};
    const uint8_t empty[] = {0, 0, 0}, full[] = {1, 1, 1};
    um_pixel_metrics m;
    CHECK(um_pixel_metrics_compute(map, empty, 3, &m) == 0);
    CHECK(isnan(m.f1_05) && isnan(m.f1_best) && isnan(m.mcc_05) && isnan(m.auc));
    /* An all-manipulated mask: F1 defined (TP 1 of 3 at 0.5 -> 2/4), AUC not. */
    CHECK(um_pixel_metrics_compute(map, full, 3, &m) == 0);
    CHECK(NEAR(m.f1_05, 0.5) && NEAR(m.f1_best, 1.0) && isnan(m.auc));
    /* NaN counts as 0, values beyond [0,1] are clamped: same metrics as the clean map. */
    const float dirty[] = {NAN, 2.0f, -1.0f, 0.5f}, clean[] = {0.0f, 1.0f, 0.0f, 0.5f};
    const uint8_t mask[] = {1, 1, 0, 0};
    um_pixel_metrics a, b;
    CHECK(um_pixel_metrics_compute(dirty, mask, 4, &a) == 0);
    CHECK(um_pixel_metrics_compute(clean, mask, 4, &b) == 0);
    CHECK(NEAR(a.f1_05, b.f1_05) && NEAR(a.f1_best, b.f1_best) && NEAR(a.mcc_05, b.mcc_05) &&
          NEAR(a.auc, b.auc));
    /* clean: positives 0 and 1, negatives 0 and 0.5 -> AUC (0.5 + 0 + 1 + 1)/4 = 0.625. */
    CHECK(NEAR(b.auc, 0.625));
}

/* Best F1 by brute force: every distinct value as a threshold, O(n^2). */
static double brute_best_f1(const float *map, const uint8_t *mask, size_t n)
{
    double best = 0;
    for (size_t t = 0; t < n; t++) {
        double f1 = um_f1(um_confusion_at(map, mask, n, map[t]));
        if (f1 > best)
            best = f1;
    }
    return best;
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* Random maps: continuous (multi-valued histogram bins, tiny values) and quantised (single-
 * valued bins). The sweep must agree with brute force and with core um_auc, and best F1 can
 * never fall below F1 at 0.5 (0.5's prediction is one of the swept thresholds). */
static void sweep_matches_brute_force(void)
{
    enum { N = 257 };
    float map[N];
    uint8_t mask[N];
    uint32_t state = 12345;
    for (int trial = 0; trial < 60; trial++) {
        int quantised = trial % 3 == 0;
        for (int i = 0; i < N; i++) {
            mask[i] = (lcg(&state) % 5) < (unsigned)(1 + trial % 3);
            float u = (float)(lcg(&state) % 100000) / 100000.0f;
            if (quantised)
                u = (float)(lcg(&state) % 8) / 7.0f;
            else if (trial % 3 == 1)
                u = u * u * u * 1e-3f; /* values crowded near 0 */
            /* an informative map: positives drawn a little higher */
            map[i] = mask[i] && u < 0.9f ? u + 0.1f * (trial % 2) : u;
        }
        um_pixel_metrics m;
        CHECK(um_pixel_metrics_compute(map, mask, N, &m) == 0);
        double brute = brute_best_f1(map, mask, N);
        CHECK_MSG(NEAR(m.f1_best, brute), "trial %d sweep %.12f brute %.12f", trial, m.f1_best,
                  brute);
        CHECK_MSG(m.f1_best >= m.f1_05 - 1e-12, "trial %d best %g < f1@0.5 %g", trial,
                  m.f1_best, m.f1_05);
        CHECK(m.f1_best >= um_all_white_f1(mask, N) - 1e-12);
        double core = um_auc(map, mask, N);
        CHECK_MSG(NEAR(m.auc, core), "trial %d auc %.12f core %.12f", trial, m.auc, core);
    }
}

static void large_continuous_map(void)
{
    /* 512 x 512 with a tampered square and a noisy ramp: the sweep agrees with um_auc. */
    enum { W = 512, H = 512 };
    float *map = malloc((size_t)W * H * sizeof *map);
    uint8_t *mask = malloc((size_t)W * H);
    CHECK(map && mask);
    if (!map || !mask) {
        free(map);
        free(mask);
        return;
    }
    uint32_t state = 7;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            mask[i] = x >= 100 && x < 228 && y >= 200 && y < 328;
            float noise = (float)(lcg(&state) % 65536) / 65536.0f;
            map[i] = 0.6f * noise + (mask[i] ? 0.4f : 0.1f);
        }
    um_pixel_metrics m;
    CHECK(um_pixel_metrics_compute(map, mask, (size_t)W * H, &m) == 0);
    CHECK(NEAR(m.auc, um_auc(map, mask, (size_t)W * H)));
    CHECK(m.auc > 0.8 && m.auc < 1.0);
    CHECK(m.f1_best >= m.f1_05 && m.f1_best > 0.3);
    free(map);
    free(mask);
}

static const struct um_test_case cases[] = {
    {"hand_computed_four_pixels", hand_computed_four_pixels},
    {"hand_computed_ties", hand_computed_ties},
    {"perfect_and_inverted_maps", perfect_and_inverted_maps},
    {"constant_map_rule", constant_map_rule},
    {"undefined_cases_and_clamping", undefined_cases_and_clamping},
    {"sweep_matches_brute_force", sweep_matches_brute_force},
    {"large_continuous_map", large_continuous_map},
};
UM_TEST_MAIN(cases)
