/* Reduced-size decoding for comparisons (provenance-markers.md 5.1, thumbnail vs image): the
 * EXIF thumbnail is 160 pixels wide, so the main image is only ever needed at a few hundred
 * pixels. For JPEG, libjpeg's DCT scaling (scale_num / scale_denom, ITU-T T.81 decoded from the
 * low-frequency coefficients only) gives 1/8 of the size without ever building the full image;
 * other formats are decoded fully and reduced. Both end with an exact area average.
 *
 * Hostile input: the scaled JPEG decode is io/jpeg.c's (um_decode_jpeg_scaled), on the same
 * reader as the full decoder: errors longjmp back, truncated or damaged data is an error rather
 * than invented grey, the size is checked against the limits before allocation, progressive
 * scans are capped. */
#include <math.h>
#include <stdlib.h>

#include "io/decoders.h"
#include "io/limits.h"

/* ---------------------------------------------------------------------------------------------
 * Area resampling */

/* One axis: output cell i covers input [i*n/m, (i+1)*n/m); each input sample j contributes its
 * overlap with that interval, divided by the interval's length. */
static void resample_line(const float *in, size_t in_stride, int n, float *out,
                          size_t out_stride, int m)
{
    double step = (double)n / (double)m;
    for (int i = 0; i < m; i++) {
        double a = i * step, b = (i + 1) * step;
        int j0 = (int)floor(a), j1 = (int)ceil(b);
        if (j1 > n)
            j1 = n;
        if (j0 >= j1)
            j0 = j1 - 1;
        double sum = 0.0, wsum = 0.0;
        for (int j = j0; j < j1; j++) {
            double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
            double w = hi - lo;
            if (w <= 0.0)
                continue;
            sum += w * in[(size_t)j * in_stride];
            wsum += w;
        }
        out[(size_t)i * out_stride] =
            wsum > 0.0 ? (float)(sum / wsum) : in[(size_t)(j0 < 0 ? 0 : j0) * in_stride];
    }
}

um_image *um_resample_area(const um_image *src, int width, int height)
{
    if (!src || width < 1 || height < 1)
        return NULL;
    um_image *dst = um_image_new(width, height, src->channels);
    float *tmp = malloc(sizeof(float) * (size_t)width * (size_t)src->height);
    if (!dst || !tmp) {
        um_image_free(dst);
        free(tmp);
        return NULL;
    }
    for (int c = 0; c < src->channels; c++) {
        const float *s = um_image_plane(src, c);
        float *d = um_image_plane(dst, c);
        for (int y = 0; y < src->height; y++) /* rows: src->width -> width */
            resample_line(s + (size_t)y * src->width, 1, src->width,
                          tmp + (size_t)y * width, 1, width);
        for (int x = 0; x < width; x++) /* columns: src->height -> height */
            resample_line(tmp + x, (size_t)width, src->height, d + x, (size_t)width, height);
    }
    free(tmp);
    return dst;
}

/* The size that fits max_side on the longest side, keeping the aspect ratio (never larger). */
static void fit_size(int w, int h, int max_side, int *ow, int *oh)
{
    int longest = w > h ? w : h;
    if (max_side < 1 || longest <= max_side) {
        *ow = w;
        *oh = h;
        return;
    }
    double s = (double)max_side / (double)longest;
    *ow = (int)lround(w * s);
    *oh = (int)lround(h * s);
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

/* Replace *img by its area-averaged reduction to fit max_side. */
static um_error shrink_to_fit(um_image **img, int max_side, char *err, size_t errlen)
{
    int w, h;
    fit_size((*img)->width, (*img)->height, max_side, &w, &h);
    if (w == (*img)->width && h == (*img)->height)
        return UM_OK;
    um_image *small = um_resample_area(*img, w, h);
    if (!small)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory reducing the image");
    um_image_free(*img);
    *img = small;
    return UM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Entry point */

um_error um_decode_preview(const uint8_t *data, size_t size, const um_limits *limits,
                           int max_side, um_image **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!data || !limits || !out)
        return um_fail(err, errlen, UM_ERR_ARGUMENT, "no data to decode");
    if (size > limits->max_bytes)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "the file is larger than the byte limit (--max-bytes)");
    um_error e;
    if (um_sniff_format(data, size) == UM_FORMAT_JPEG) {
        e = um_decode_jpeg_scaled(data, size, limits, max_side, out, err, errlen);
    } else {
        um_decoded d;
        e = um_decode(data, size, limits, &d, err, errlen);
        if (e != UM_OK)
            return e;
        *out = d.rgb;
        d.rgb = NULL;
        um_decoded_clear(&d);
    }
    if (e != UM_OK)
        return e;
    e = shrink_to_fit(out, max_side, err, errlen);
    if (e != UM_OK) {
        um_image_free(*out);
        *out = NULL;
    }
    return e;
}
