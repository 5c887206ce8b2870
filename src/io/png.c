/* PNG through libpng: 1-16 bit gray, gray+alpha, palette, RGB, RGBA, interlaced or not.
 * Samples are taken as stored (no gamma or colour-profile conversion: the detectors want the
 * file's numbers), 16-bit scaled to 0..255, gray replicated, palette expanded; alpha (the alpha
 * channel, or tRNS expanded to one) goes to out->alpha, not into the pixels.
 * libpng's errors longjmp back here with their message; its warnings are swallowed. The
 * header's size is checked against the limits before the image is allocated. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "io/decoders.h"

struct png_source {
    const uint8_t *data;
    size_t size, pos;
};

struct png_reader {
    png_structp png;
    png_infop info;
    struct png_source src;
    uint8_t *pixels; /* the whole image, rows of rowbytes */
    png_bytep *rows;
    int truncated;
    char message[200];
};

static void on_png_error(png_structp png, png_const_charp msg)
{
    struct png_reader *r = png_get_error_ptr(png);
    snprintf(r->message, sizeof r->message, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void read_from_memory(png_structp png, png_bytep out, png_size_t n)
{
    struct png_reader *r = png_get_io_ptr(png);
    if (n > r->src.size - r->src.pos) {
        r->truncated = 1;
        png_error(png, "the file ends early");
    }
    memcpy(out, r->src.data + r->src.pos, n);
    r->src.pos += n;
}

/* Ask libpng for 8-bit-or-16-bit samples of gray, gray+alpha, RGB or RGBA, untouched otherwise. */
static void set_transforms(png_structp png, png_infop info, um_decoded *out)
{
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    int trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    out->bit_depth = depth == 16 ? 16 : 8;
    switch (color) {
    case PNG_COLOR_TYPE_GRAY: out->source_channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: out->source_channels = 2; break;
    case PNG_COLOR_TYPE_PALETTE: out->source_channels = trns ? 4 : 3; break;
    case PNG_COLOR_TYPE_RGB: out->source_channels = 3; break;
    default: out->source_channels = 4; break;
    }
    out->has_alpha = (color & PNG_COLOR_MASK_ALPHA) != 0 || trns;
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (trns)
        png_set_tRNS_to_alpha(png); /* one alpha sample per pixel, whatever carried it */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* The last sample of each pixel is alpha; 16-bit samples are big-endian, keep the high byte. */
static void store_alpha_row(uint8_t *out, const uint8_t *row, size_t w, int channels,
                            int depth16)
{
    size_t bytes = depth16 ? 2 : 1;
    for (size_t x = 0; x < w; x++)
        out[x] = row[(x * (size_t)channels + (size_t)channels - 1) * bytes];
}

/* IHDR is the first chunk at a fixed place (PNG spec 5.2, 11.2.2): read its size ourselves so
 * an oversized image gets the limit message before libpng's own (second) guard trips. */
static um_error check_ihdr(const uint8_t *data, size_t size, const um_limits *limits, char *err,
                           size_t errlen)
{
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt PNG: the IHDR header is missing");
    const uint8_t *p = data + 16;
    uint32_t w = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t h = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    return um_check_size(w, h, limits, "PNG", err, errlen);
}

static um_error run(struct png_reader *r, const um_limits *limits, um_decoded *out, char *err,
                    size_t errlen)
{
    png_set_read_fn(r->png, r, read_from_memory);
    png_set_user_limits(r->png, limits->max_dimension, limits->max_dimension);
    png_set_chunk_malloc_max(r->png, 16u << 20); /* text/ICC chunks: no decompression bombs */
    png_read_info(r->png, r->info);
    png_uint_32 w = png_get_image_width(r->png, r->info), h = png_get_image_height(r->png, r->info);
    um_error e = um_check_size(w, h, limits, "PNG", err, errlen);
    if (e != UM_OK)
        return e;
    out->width = (int)w;
    out->height = (int)h;
    set_transforms(r->png, r->info, out);
    int channels = png_get_channels(r->png, r->info);
    int depth16 = png_get_bit_depth(r->png, r->info) == 16;
    size_t rowbytes = png_get_rowbytes(r->png, r->info);
    if (channels < 1 || channels > 4)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt PNG: unexpected sample layout");
    if (rowbytes != (size_t)w * (size_t)channels * (depth16 ? 2 : 1))
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt PNG: unexpected row size");
    r->pixels = malloc(rowbytes * h);
    r->rows = malloc(sizeof *r->rows * h);
    out->rgb = um_alloc_rgb(out->width, out->height, err, errlen);
    int with_alpha = channels % 2 == 0; /* gray+alpha or RGBA after the transforms */
    if (with_alpha)
        out->alpha = malloc((size_t)w * h);
    if (!r->pixels || !r->rows || !out->rgb || (with_alpha && !out->alpha))
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the PNG");
    for (png_uint_32 y = 0; y < h; y++)
        r->rows[y] = r->pixels + (size_t)y * rowbytes;
    png_read_image(r->png, r->rows);
    struct um_row_layout layout = {channels, depth16, 1, depth16 ? 16 : 8};
    for (int y = 0; y < out->rgb->height; y++) {
        um_store_row(out->rgb, y, r->rows[y], &layout);
        if (out->alpha)
            store_alpha_row(out->alpha + (size_t)y * w, r->rows[y], w, channels, depth16);
    }
    return UM_OK;
}

um_error um_decode_png(const uint8_t *data, size_t size, const um_limits *limits,
                       um_decoded *out, char *err, size_t errlen)
{
    struct png_reader *r = calloc(1, sizeof *r);
    if (!r)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the PNG");
    r->src.data = data;
    r->src.size = size;
    um_error e = check_ihdr(data, size, limits, err, errlen);
    if (e != UM_OK) {
        free(r);
        return e;
    }
    e = UM_ERR_NOMEM;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, on_png_error, on_png_warning);
    r->info = r->png ? png_create_info_struct(r->png) : NULL;
    if (!r->info) {
        um_fail(err, errlen, e, "out of memory decoding the PNG");
    } else if (setjmp(png_jmpbuf(r->png))) {
        if (r->truncated)
            e = um_fail(err, errlen, UM_ERR_CORRUPT,
                        "truncated PNG: the file ends before the image data is complete");
        else
            e = um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt PNG: %s", r->message);
    } else {
        e = run(r, limits, out, err, errlen);
    }
    png_destroy_read_struct(&r->png, r->info ? &r->info : NULL, NULL);
    free(r->pixels);
    free(r->rows);
    free(r);
    return e;
}
