#include "core/dct.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

const int um_zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

/* c(u,i) for u = 0..7, i = 0..3 (the other half follows by symmetry: c(u,7-i) = (-1)^u c(u,i)). */
static float basis[8][4];
static pthread_once_t basis_once = PTHREAD_ONCE_INIT;

static void basis_fill(void)
{
    for (int u = 0; u < 8; u++) {
        double a = u == 0 ? sqrt(1.0 / 8.0) : 0.5;
        for (int i = 0; i < 4; i++)
            basis[u][i] = (float)(a * cos((2 * i + 1) * u * M_PI / 16.0));
    }
}

static void basis_init(void)
{
    pthread_once(&basis_once, basis_fill);
}

/* Even/odd split: even outputs need s_i = x_i + x_{7-i}, odd ones d_i = x_i - x_{7-i};
 * 32 multiply-adds for 8 outputs instead of 64. The lanes are restrict parameters so that the
 * compiler knows they never alias and vectorises the loop. */
static void dct8_kernel(size_t n, const float b[8][4], const float *restrict i0,
                        const float *restrict i1, const float *restrict i2,
                        const float *restrict i3, const float *restrict i4,
                        const float *restrict i5, const float *restrict i6,
                        const float *restrict i7, float *restrict o0, float *restrict o1,
                        float *restrict o2, float *restrict o3, float *restrict o4,
                        float *restrict o5, float *restrict o6, float *restrict o7)
{
    for (size_t k = 0; k < n; k++) {
        float s0 = i0[k] + i7[k], s1 = i1[k] + i6[k], s2 = i2[k] + i5[k], s3 = i3[k] + i4[k];
        float d0 = i0[k] - i7[k], d1 = i1[k] - i6[k], d2 = i2[k] - i5[k], d3 = i3[k] - i4[k];
        o0[k] = b[0][0] * s0 + b[0][1] * s1 + b[0][2] * s2 + b[0][3] * s3;
        o2[k] = b[2][0] * s0 + b[2][1] * s1 + b[2][2] * s2 + b[2][3] * s3;
        o4[k] = b[4][0] * s0 + b[4][1] * s1 + b[4][2] * s2 + b[4][3] * s3;
        o6[k] = b[6][0] * s0 + b[6][1] * s1 + b[6][2] * s2 + b[6][3] * s3;
        o1[k] = b[1][0] * d0 + b[1][1] * d1 + b[1][2] * d2 + b[1][3] * d3;
        o3[k] = b[3][0] * d0 + b[3][1] * d1 + b[3][2] * d2 + b[3][3] * d3;
        o5[k] = b[5][0] * d0 + b[5][1] * d1 + b[5][2] * d2 + b[5][3] * d3;
        o7[k] = b[7][0] * d0 + b[7][1] * d1 + b[7][2] * d2 + b[7][3] * d3;
    }
}

void um_dct8_lanes(const float *const in[8], float *const out[8], size_t n)
{
    basis_init();
    float b[8][4]; /* a local copy: stores through the outputs cannot touch it */
    memcpy(b, basis, sizeof b);
    dct8_kernel(n, (const float(*)[4])b, in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7],
                out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7]);
}

void um_dct8x8(const float *src, size_t stride, float out[64])
{
    float tmp[64], tr[64];
    const float *in[8];
    float *o[8];
    /* Vertical pass: lanes are the 8 columns. */
    for (int i = 0; i < 8; i++) {
        in[i] = src + (size_t)i * stride;
        o[i] = tmp + 8 * i;
    }
    um_dct8_lanes(in, o, 8);
    /* Transpose, horizontal pass, transpose back. */
    for (int v = 0; v < 8; v++)
        for (int x = 0; x < 8; x++)
            tr[x * 8 + v] = tmp[v * 8 + x];
    for (int i = 0; i < 8; i++) {
        in[i] = tr + 8 * i;
        o[i] = tmp + 8 * i;
    }
    um_dct8_lanes(in, o, 8);
    for (int u = 0; u < 8; u++)
        for (int v = 0; v < 8; v++)
            out[v * 8 + u] = tmp[u * 8 + v];
}

void um_idct8x8(const float coef[64], float block[64])
{
    basis_init();
    float full[8][8]; /* full[u][x] = c(u,x) */
    for (int u = 0; u < 8; u++)
        for (int i = 0; i < 4; i++) {
            full[u][i] = basis[u][i];
            full[u][7 - i] = (u & 1) ? -basis[u][i] : basis[u][i];
        }
    float tmp[64];
    for (int v = 0; v < 8; v++)
        for (int x = 0; x < 8; x++) {
            float acc = 0;
            for (int u = 0; u < 8; u++)
                acc += full[u][x] * coef[v * 8 + u];
            tmp[v * 8 + x] = acc;
        }
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) {
            float acc = 0;
            for (int v = 0; v < 8; v++)
                acc += full[v][y] * tmp[v * 8 + x];
            block[y * 8 + x] = acc;
        }
}

int um_dct_matrix(int n, float *c)
{
    if (n < 2 || n > 16)
        return -1;
    for (int u = 0; u < n; u++) {
        double a = u == 0 ? sqrt(1.0 / n) : sqrt(2.0 / n);
        for (int x = 0; x < n; x++)
            c[u * n + x] = (float)(a * cos((2 * x + 1) * u * M_PI / (2.0 * n)));
    }
    return 0;
}
