#include "core/fft.h"

#include <fftw3.h>
#include <pthread.h>

/* A handful of sizes is all a run uses (one block size per detector). */
enum { UM_FFT_MAX_PLANS = 16 };

struct cached_plan {
    int rows, cols;
    fftwf_plan plan;
};

static struct cached_plan plans[UM_FFT_MAX_PLANS];
static int nplans;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

void *um_fft_alloc(size_t bytes)
{
    return fftwf_malloc(bytes ? bytes : 1);
}

void um_fft_free(void *p)
{
    if (p)
        fftwf_free(p);
}

/* The plan for rows x cols, made on dummy aligned arrays the first time (FFTW_ESTIMATE does not
 * touch them); NULL when out of memory or the cache is full. */
static fftwf_plan plan_for(int rows, int cols)
{
    fftwf_plan found = NULL;
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < nplans && !found; i++)
        if (plans[i].rows == rows && plans[i].cols == cols)
            found = plans[i].plan;
    if (!found && nplans < UM_FFT_MAX_PLANS) {
        size_t n = (size_t)rows * (size_t)cols, nc = (size_t)rows * (size_t)(cols / 2 + 1);
        float *in = fftwf_malloc(n * sizeof *in);
        fftwf_complex *out = fftwf_malloc(nc * sizeof *out);
        if (in && out)
            found = fftwf_plan_dft_r2c_2d(rows, cols, in, out, FFTW_ESTIMATE);
        if (found)
            plans[nplans++] = (struct cached_plan){rows, cols, found};
        fftwf_free(in);
        fftwf_free(out);
    }
    pthread_mutex_unlock(&plan_lock);
    return found;
}

int um_fft2_r2c(int rows, int cols, const float *in, um_complexf *out)
{
    if (rows <= 0 || cols <= 0)
        return -1;
    fftwf_plan p = plan_for(rows, cols);
    if (!p)
        return -1;
    /* The new-array execute is thread-safe; r2c out of place leaves in untouched (FFTW's
     * default for r2c), so the const cast only satisfies the prototype. */
    fftwf_execute_dft_r2c(p, (float *)in, (fftwf_complex *)out);
    return 0;
}
