/* Real-to-complex 2-D FFTs (FFTW, single precision) with plans made once per size and shared.
 *
 * FFTW's planner is not thread-safe but executing a plan on new arrays is: plans are created
 * under a lock on first use (FFTW_ESTIMATE: no timing runs, deterministic) and cached for the
 * life of the process, and any thread may then transform its own buffers. Buffers must come
 * from um_fft_alloc so that their alignment matches the plan's (FFTW's SIMD code needs it). */
#ifndef UM_CORE_FFT_H
#define UM_CORE_FFT_H

#include <stddef.h>

/* One complex value, layout-compatible with fftwf_complex. */
typedef struct um_complexf {
    float re, im;
} um_complexf;

/* SIMD-aligned memory for FFT buffers (NULL when out of memory); free with um_fft_free. */
void *um_fft_alloc(size_t bytes);
void um_fft_free(void *p);

/* The DFT of the rows x cols real array in (row-major), unnormalised:
 * out[v * (cols / 2 + 1) + u] = sum_y sum_x in[y * cols + x] exp(-2 pi i (v y / rows + u x / cols))
 * for v < rows, u <= cols / 2 (the other half is the conjugate mirror). in is left intact.
 * Returns 0, or -1 when no plan could be made (out of memory, sizes not positive). */
int um_fft2_r2c(int rows, int cols, const float *in, um_complexf *out);

#endif
