/* Reduced-size decoding for comparisons (provenance-markers.md 5.1, thumbnail vs image): the
 * EXIF thumbnail is 160 pixels wide, so the main image is only ever needed at a few hundred
 * pixels. For JPEG, libjpeg's DCT scaling (scale_num / scale_denom, ITU-T T.81 decoded from the
 * low-frequency coefficients only) gives 1/8 of the size without ever building the full image;
 * other formats are decoded fully and reduced. Both end with an exact area average.
 *
 * Hostile input: the same rules as the full JPEG decoder (io/jpeg.c): errors longjmp back,
 * truncated or damaged data is an error rather than invented grey, the size is checked against
 * the limits before allocation, progressive scans are capped. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
/* after jpeglib.h: its configuration decides which messages jerror.h declares */
#include <jerror.h>

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
 * JPEG through DCT scaling */

struct preview_failure {
    struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
    jmp_buf jump;
    int truncated, too_many_scans;
    char message[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo)
{
    struct preview_failure *f = (struct preview_failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->message);
    longjmp(f->jump, 1);
}

/* As io/jpeg.c: running out of data or damaged entropy data ends decoding (no invented pixels). */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    if (level >= 0)
        return;
    struct preview_failure *f = (struct preview_failure *)cinfo->err;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
        code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC) {
        f->truncated = code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER;
        (*cinfo->err->format_message)(cinfo, f->message);
        longjmp(f->jump, 1);
    }
    cinfo->err->num_warnings++;
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void on_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor && d->input_scan_number > UM_MAX_JPEG_SCANS) {
        struct preview_failure *f = (struct preview_failure *)cinfo->err;
        f->too_many_scans = 1;
        longjmp(f->jump, 1);
    }
}

struct preview_reader {
    struct jpeg_decompress_struct cinfo;
    struct preview_failure fail;
    struct jpeg_progress_mgr progress;
    JSAMPLE *row;
    um_image *img;
};

/* The smallest libjpeg scale 1/1, 1/2, 1/4, 1/8 that still keeps the longest side >= max_side,
 * so the final area average works from at least as many pixels as it outputs. */
static int choose_denominator(unsigned w, unsigned h, int max_side)
{
    unsigned longest = w > h ? w : h;
    int denom = 1;
    while (denom < 8 && max_side > 0 && (longest + 2u * denom - 1) / (2u * denom) >= (unsigned)max_side)
        denom *= 2;
    return denom;
}

static void store_preview_row(const JSAMPLE *row, int ncomp, int adobe, um_image *img, int y)
{
    size_t w = (size_t)img->width, base = (size_t)y * w;
    float *r = um_image_plane(img, 0) + base, *g = um_image_plane(img, 1) + base,
          *b = um_image_plane(img, 2) + base;
    for (size_t x = 0; x < w; x++) {
        const JSAMPLE *p = row + x * (size_t)ncomp;
        if (ncomp == 1) {
            r[x] = g[x] = b[x] = p[0];
        } else if (ncomp == 3) {
            r[x] = p[0];
            g[x] = p[1];
            b[x] = p[2];
        } else { /* CMYK, Adobe's inverted inks or plain (as io/jpeg.c) */
            float c = p[0], m = p[1], yy = p[2], k = p[3];
            if (!adobe) {
                c = 255.0f - c;
                m = 255.0f - m;
                yy = 255.0f - yy;
                k = 255.0f - k;
            }
            r[x] = c * k / 255.0f;
            g[x] = m * k / 255.0f;
            b[x] = yy * k / 255.0f;
        }
    }
}

static um_error jpeg_failure(const struct preview_failure *f, char *err, size_t errlen)
{
    if (f->truncated)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "truncated JPEG: the file ends before the image data is complete");
    if (f->too_many_scans)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "progressive JPEG has more than %d scans; refusing to decode it",
                       UM_MAX_JPEG_SCANS);
    if (f->pub.msg_code == JERR_OUT_OF_MEMORY)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt JPEG: %s", f->message);
}

/* Header checks and the scaled decompression; r->img holds the result. */
static um_error read_scaled(struct preview_reader *r, const uint8_t *data, size_t size,
                            const um_limits *limits, int max_side, char *err, size_t errlen)
{
    j_decompress_ptr cinfo = &r->cinfo;
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);
    um_error e = um_check_size(cinfo->image_width, cinfo->image_height, limits, "JPEG", err,
                               errlen);
    if (e != UM_OK)
        return e;
    int n = cinfo->num_components;
    J_COLOR_SPACE cs = cinfo->jpeg_color_space;
    if (!((n == 1 && cs == JCS_GRAYSCALE) || (n == 3 && (cs == JCS_YCbCr || cs == JCS_RGB)) ||
          (n == 4 && (cs == JCS_CMYK || cs == JCS_YCCK))))
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED,
                       "JPEG with %d colour components in a colour space unmask cannot convert "
                       "to RGB", n);
    cinfo->out_color_space = cs == JCS_GRAYSCALE ? JCS_GRAYSCALE
                             : (cs == JCS_CMYK || cs == JCS_YCCK) ? JCS_CMYK : JCS_RGB;
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned)choose_denominator(cinfo->image_width, cinfo->image_height,
                                                      max_side);
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(cinfo);
    int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    int ncomp = cinfo->output_components;
    r->row = malloc((size_t)w * (size_t)ncomp);
    r->img = um_image_new(w, h, 3);
    if (!r->row || !r->img)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    while (cinfo->output_scanline < cinfo->output_height) {
        int y = (int)cinfo->output_scanline;
        JSAMPROW rows[1] = {r->row};
        if (jpeg_read_scanlines(cinfo, rows, 1) != 1)
            return um_fail(err, errlen, UM_ERR_CORRUPT,
                           "truncated JPEG: the file ends before the image data is complete");
        store_preview_row(r->row, ncomp, cinfo->saw_Adobe_marker, r->img, y);
    }
    jpeg_finish_decompress(cinfo);
    return UM_OK;
}

static um_error preview_jpeg(const uint8_t *data, size_t size, const um_limits *limits,
                             int max_side, um_image **out, char *err, size_t errlen)
{
    struct preview_reader *r = calloc(1, sizeof *r);
    if (!r)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    jpeg_std_error(&r->fail.pub);
    r->fail.pub.error_exit = on_error_exit;
    r->fail.pub.emit_message = on_emit_message;
    r->fail.pub.output_message = on_output_message;
    r->cinfo.err = &r->fail.pub;
    volatile um_error e = UM_OK; /* set again after longjmp */
    if (setjmp(r->fail.jump)) {
        e = jpeg_failure(&r->fail, err, errlen);
    } else {
        jpeg_create_decompress(&r->cinfo);
        r->progress.progress_monitor = on_progress;
        r->cinfo.progress = &r->progress;
        e = read_scaled(r, data, size, limits, max_side, err, errlen);
    }
    if (r->cinfo.mem)
        jpeg_destroy_decompress(&r->cinfo);
    free(r->row);
    if (e == UM_OK)
        *out = r->img;
    else
        um_image_free(r->img);
    free(r);
    return e;
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
        e = preview_jpeg(data, size, limits, max_side, out, err, errlen);
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
