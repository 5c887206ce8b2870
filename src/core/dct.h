/* The 8-point DCT-II in JPEG's (orthonormal) scaling, one primitive for every use.
 *
 * The 2-D transform of an 8x8 block f is F(v,u) = sum_y sum_x c(v,y) c(u,x) f(y,x) with
 * c(u,x) = a(u) cos((2x+1) u pi / 16), a(0) = sqrt(1/8), a(u>0) = 1/2: exactly the coefficients
 * a JPEG encoder divides by its quantization table (after the -128 level shift, which only moves
 * the DC term by 1024). Orthonormal, so squared errors are equal in pixel and DCT domains. */
#ifndef UM_CORE_DCT_H
#define UM_CORE_DCT_H

#include <stddef.h>

/* n independent 1-D DCTs at once: for every lane k < n, out[u][k] = sum_i c(u,i) in[i][k].
 * Lanes are contiguous, so the loop vectorises. Pass in[i] = row + i to get the DCT of every
 * 8-pixel window along a row (a sliding transform), or in[i] = block row i for a block.
 * No out lane may overlap any in or out lane (they are treated as restrict). */
void um_dct8_lanes(const float *const in[8], float *const out[8], size_t n);

/* 2-D DCT of the 8x8 block whose top-left pixel is src (row stride in floats).
 * out[v*8+u]: v = vertical frequency, u = horizontal (JPEG's natural order). */
void um_dct8x8(const float *src, size_t stride, float out[64]);

/* 2-D inverse DCT: block[y*8+x] from coefficients in natural order. */
void um_idct8x8(const float coef[64], float block[64]);

/* The orthonormal n-point DCT-II basis for small blocks of other sizes than JPEG's (n = 2..16):
 * c[u*n + x] = a(u) cos((2x+1) u pi / (2n)), a(0) = sqrt(1/n), a(u>0) = sqrt(2/n), so that
 * F = C f C^T is the 2-D DCT of an n x n block with the same scaling as the 8-point transform
 * above (n = 8 gives its matrix). Returns 0, or -1 (c untouched) when n is out of range. */
int um_dct_matrix(int n, float *c);

/* Zig-zag order: natural index of the k-th coefficient in JPEG's zig-zag scan. */
extern const int um_zigzag[64];

#endif
