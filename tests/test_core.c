/* Core: the DCT against its definition, the NFA against exact binomial sums, statistics. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/dct.h"
#include "core/image.h"
#include "core/nfa.h"
#include "core/parallel.h"
#include "core/stats.h"

static double naive_dct(const float *block, int v, int u)
{
    double au = u ? 0.5 : sqrt(0.125), av = v ? 0.5 : sqrt(0.125), s = 0;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            s += block[y * 8 + x] * cos((2 * x + 1) * u * M_PI / 16) * cos((2 * y + 1) * v * M_PI / 16);
    return au * av * s;
}

static void dct_matches_definition(void)
{
    float block[64], out[64], back[64];
    unsigned s = 12345;
    for (int i = 0; i < 64; i++) {
        s = s * 1103515245u + 12345u;
        block[i] = (float)((s >> 16) % 256) - 128;
    }
    um_dct8x8(block, 8, out);
    double worst = 0;
    for (int v = 0; v < 8; v++)
        for (int u = 0; u < 8; u++)
            worst = fmax(worst, fabs(out[v * 8 + u] - naive_dct(block, v, u)));
    CHECK_MSG(worst < 1e-3, "max error %g", worst);
    um_idct8x8(out, back);
    worst = 0;
    for (int i = 0; i < 64; i++)
        worst = fmax(worst, fabs(back[i] - block[i]));
    CHECK_MSG(worst < 1e-3, "inverse max error %g", worst);
}

static void dct_lanes_slide_along_a_row(void)
{
    float row[40];
    for (int i = 0; i < 40; i++)
        row[i] = (float)((i * 37) % 23);
    float bufs[8][33];
    const float *in[8];
    float *out[8];
    for (int i = 0; i < 8; i++) {
        in[i] = row + i;
        out[i] = bufs[i];
    }
    um_dct8_lanes(in, out, 33);
    /* Window at x = 17, frequency 3, by the definition. */
    double s = 0;
    for (int i = 0; i < 8; i++)
        s += row[17 + i] * 0.5 * cos((2 * i + 1) * 3 * M_PI / 16);
    CHECK(fabs(bufs[3][17] - s) < 1e-4);
}

static void zigzag_is_a_permutation(void)
{
    int seen[64] = {0};
    for (int k = 0; k < 64; k++)
        seen[um_zigzag[k]]++;
    for (int i = 0; i < 64; i++)
        CHECK(seen[i] == 1);
    CHECK(um_zigzag[2] == 8 && um_zigzag[63] == 63);
}

static double exact_tail(long n, long k, double p)
{
    double s = 0;
    for (long i = k; i <= n; i++)
        s += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) + i * log(p) +
                 (n - i) * log1p(-p));
    return log10(s);
}

static void binomial_tail_matches_exact_sum(void)
{
    CHECK(fabs(um_log10_binomial_tail(100, 30, 0.1) - exact_tail(100, 30, 0.1)) < 1e-6);
    CHECK(fabs(um_log10_binomial_tail(1000, 200, 1.0 / 64) - exact_tail(1000, 200, 1.0 / 64)) < 1e-6);
    CHECK(um_log10_binomial_tail(100, 0, 0.3) == 0);
    CHECK(um_log10_binomial_tail(100, 5, 0.3) == 0); /* below the mean: bound 1 */
    CHECK(isinf(um_log10_binomial_tail(10, 11, 0.3)));
    /* Deep tails stay finite and monotone. */
    double a = um_log10_binomial_tail(12000000, 400000, 1.0 / 64);
    double b = um_log10_binomial_tail(12000000, 500000, 1.0 / 64);
    CHECK(isfinite(a) && isfinite(b) && b < a && a < -1000);
    CHECK(fabs(um_log10_nfa(64, 100, 30, 0.1) - (log10(64) + exact_tail(100, 30, 0.1))) < 1e-6);
}

static void quantiles_and_auc(void)
{
    float v[] = {5, 1, 4, 2, 3};
    CHECK(um_median(v, 5) == 3);
    CHECK(um_quantile(v, 5, 0) == 1 && um_quantile(v, 5, 1) == 5);
    CHECK(v[0] == 5); /* input untouched */
    float scores[] = {0.9f, 0.8f, 0.3f, 0.1f, 0.5f, 0.5f};
    unsigned char labels[] = {1, 1, 0, 0, 1, 0};
    /* positives 0.9 0.8 0.5; negatives 0.3 0.1 0.5: 8 wins + 1 tie of 9 pairs */
    CHECK(fabs(um_auc(scores, labels, 6) - 8.5 / 9) < 1e-9);
    unsigned char all[] = {1, 1, 1, 1, 1, 1};
    CHECK(um_auc(scores, all, 6) == -1);
}

static void box_filter_keeps_constants_and_averages(void)
{
    float in[5 * 4], out[5 * 4];
    for (int i = 0; i < 20; i++)
        in[i] = 7;
    um_box_filter(in, 5, 4, 1, out);
    for (int i = 0; i < 20; i++)
        CHECK(fabsf(out[i] - 7) < 1e-5f);
    for (int i = 0; i < 20; i++)
        in[i] = (float)(i % 5); /* columns 0..4 */
    um_box_filter(in, 5, 4, 1, out);
    CHECK(fabsf(out[2] - 2) < 1e-5f);               /* (1+2+3)/3 */
    CHECK(fabsf(out[0] - (0 + 0 + 1) / 3.0f) < 1e-5f); /* clamped edge */
}

static void map_resampling(void)
{
    /* 2x2 cells of 8 px -> 4x4 cells of 4 px (nearest) -> back to 8 px (mean). */
    float map[4] = {0, 1, 0.5f, 0.25f}, fine[16], coarse[4], full[16 * 16];
    um_map_to_grid(map, 2, 2, 8, fine, 4, 4, 4);
    CHECK(fine[0] == 0 && fine[3] == 1 && fine[12] == 0.5f && fine[15] == 0.25f);
    um_map_to_grid(fine, 4, 4, 4, coarse, 2, 2, 8);
    for (int i = 0; i < 4; i++)
        CHECK(coarse[i] == map[i]);
    um_map_upsample(map, 2, 2, 8, 16, 16, full);
    CHECK(full[0] == 0 && full[15] == 1 && full[15 * 16] == 0.5f && full[255] == 0.25f);
    /* Past the last cell: the last cell. */
    um_map_upsample(map, 2, 2, 8, 13, 13, full);
    CHECK(full[12] == 1);
}

static void add_square(void *ctx, int i)
{
    long *out = ctx;
    out[i] = (long)i * i;
}

static void parallel_for_covers_every_index_once(void)
{
    long out[1000];
    for (int i = 0; i < 1000; i++)
        out[i] = -1;
    CHECK(um_parallel_for(1000, add_square, out, 0) == 0);
    for (int i = 0; i < 1000; i++)
        CHECK(out[i] == (long)i * i);
    CHECK(um_cpu_count() >= 1);
}

static void luminance_uses_jfif_weights(void)
{
    um_image *rgb = um_image_new(2, 1, 3);
    um_image_plane(rgb, 0)[0] = 255;
    um_image_plane(rgb, 1)[1] = 255;
    um_image *y = um_image_luminance(rgb);
    CHECK(fabsf(y->data[0] - 0.299f * 255) < 1e-3f && fabsf(y->data[1] - 0.587f * 255) < 1e-3f);
    um_image_free(y);
    um_image_free(rgb);
    CHECK(um_image_new(0, 5, 3) == NULL);
}

static const struct um_test_case cases[] = {
    {"dct matches definition", dct_matches_definition},
    {"dct lanes slide along a row", dct_lanes_slide_along_a_row},
    {"zigzag is a permutation", zigzag_is_a_permutation},
    {"binomial tail matches exact sum", binomial_tail_matches_exact_sum},
    {"quantiles and auc", quantiles_and_auc},
    {"box filter", box_filter_keeps_constants_and_averages},
    {"map resampling", map_resampling},
    {"parallel_for covers every index once", parallel_for_covers_every_index_once},
    {"luminance uses JFIF weights", luminance_uses_jfif_weights},
};
UM_TEST_MAIN(cases)
