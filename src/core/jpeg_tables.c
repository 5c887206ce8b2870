#include "core/jpeg_tables.h"

#include <math.h>

#include "core/dct.h"

/* ITU-T T.81 Annex K, Table K.1 (luminance), natural order. */
const uint16_t um_jpeg_std_luminance[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  /* */
    12, 12, 14, 19, 26,  58,  60,  55,  /* */
    14, 13, 16, 24, 40,  57,  69,  56,  /* */
    14, 17, 22, 29, 51,  87,  80,  62,  /* */
    18, 22, 37, 56, 68,  109, 103, 77,  /* */
    24, 35, 55, 64, 81,  104, 113, 92,  /* */
    49, 64, 78, 87, 103, 121, 120, 101, /* */
    72, 92, 95, 98, 112, 100, 103, 99};

/* ITU-T T.81 Annex K, Table K.2 (chrominance), natural order. */
const uint16_t um_jpeg_std_chrominance[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, /* */
    18, 21, 26, 66, 99, 99, 99, 99, /* */
    24, 26, 56, 99, 99, 99, 99, 99, /* */
    47, 66, 99, 99, 99, 99, 99, 99, /* */
    99, 99, 99, 99, 99, 99, 99, 99, /* */
    99, 99, 99, 99, 99, 99, 99, 99, /* */
    99, 99, 99, 99, 99, 99, 99, 99, /* */
    99, 99, 99, 99, 99, 99, 99, 99};

int um_jpeg_quality_scale(int quality)
{
    if (quality < 1)
        quality = 1;
    if (quality > 100)
        quality = 100;
    return quality < 50 ? 5000 / quality : 200 - 2 * quality;
}

void um_jpeg_scaled_table(int quality, int chroma, uint16_t out[64])
{
    const uint16_t *base = chroma ? um_jpeg_std_chrominance : um_jpeg_std_luminance;
    long scale = um_jpeg_quality_scale(quality);
    for (int k = 0; k < 64; k++) {
        long v = ((long)base[k] * scale + 50) / 100;
        out[k] = (uint16_t)(v < 1 ? 1 : (v > 255 ? 255 : v));
    }
}

/* The fit uses log ratios over the first UM_QUALITY_FIT_ZZ zig-zag positions. Editors (Adobe's
 * tables, for one) cap their high-frequency steps at a constant whatever the quality setting,
 * so those entries say little about it, and absolute differences would let the large high-
 * frequency steps decide: Photoshop's lowest setting would pass for quality 89. */
enum { UM_QUALITY_FIT_ZZ = 21 };

int um_jpeg_estimate_quality(const uint16_t qtable[64], double *fit_error)
{
    for (int k = 0; k < 64; k++)
        if (qtable[k] == 0)
            return -1;
    int best_q = -1;
    double best_log_err = INFINITY, best_abs_err = 0;
    /* From high to low quality, keeping the first of fully equal fits: several high qualities
     * give all-ones tables, and the highest matching one is the least surprising answer. */
    for (int q = 100; q >= 1; q--) {
        uint16_t t[64];
        um_jpeg_scaled_table(q, 0, t);
        double log_err = 0, abs_err = 0;
        for (int k = 0; k < 64; k++) {
            int pos = um_zigzag[k];
            if (k < UM_QUALITY_FIT_ZZ)
                log_err += fabs(log((double)qtable[pos] / (double)t[pos]));
            abs_err += fabs((double)qtable[pos] - (double)t[pos]);
        }
        /* Ties in the low frequencies (near-all-ones tables) are settled by the whole table. */
        if (log_err < best_log_err - 1e-9 ||
            (log_err < best_log_err + 1e-9 && abs_err / 64.0 < best_abs_err)) {
            best_log_err = log_err;
            best_abs_err = abs_err / 64.0;
            best_q = q;
        }
    }
    if (fit_error)
        *fit_error = best_abs_err;
    return best_q;
}
