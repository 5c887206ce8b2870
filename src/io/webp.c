/* WebP through libwebp: lossy (VP8) and lossless (VP8L), with or without alpha; for an animated
 * file, the first frame composited on its canvas (WebPAnimDecoder); alpha, when the file has it,
 * goes to out->alpha. The size from the header (WebPGetFeatures, or the animation canvas) is
 * checked before anything is decoded. */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "io/decoders.h"

static void store_interleaved(const uint8_t *px, int channels, size_t stride, um_image *img)
{
    struct um_row_layout layout = {channels, 0, 0, 8};
    for (int y = 0; y < img->height; y++)
        um_store_row(img, y, px + (size_t)y * stride, &layout);
}

/* out->alpha from the fourth byte of RGBA pixels (decode.h: kept for metadata hidden in it). */
static um_error store_alpha(const uint8_t *rgba, size_t stride, um_decoded *out, char *err,
                            size_t errlen)
{
    size_t w = (size_t)out->width, h = (size_t)out->height;
    out->alpha = malloc(w * h);
    if (!out->alpha)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the WebP alpha");
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            out->alpha[y * w + x] = rgba[y * stride + 4 * x + 3];
    return UM_OK;
}
static um_error decode_still(const uint8_t *data, size_t size, um_decoded *out, char *err,
                             size_t errlen)
{
    int w = 0, h = 0;
    int channels = out->has_alpha ? 4 : 3;
    uint8_t *px = channels == 4 ? WebPDecodeRGBA(data, size, &w, &h)
                                : WebPDecodeRGB(data, size, &w, &h);
    if (!px)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "corrupt WebP: the image data does not decode (damaged or truncated)");
    um_error e = UM_OK;
    if (w != out->width || h != out->height)
        e = um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt WebP: decoded size differs from the header");
    else if ((out->rgb = um_alloc_rgb(w, h, err, errlen)) == NULL)
        e = UM_ERR_NOMEM;
    else {
        store_interleaved(px, channels, (size_t)w * (size_t)channels, out->rgb);
        if (channels == 4)
            e = store_alpha(px, (size_t)w * 4, out, err, errlen);
    }
    WebPFree(px);
    return e;
}

static um_error decode_first_frame(const uint8_t *data, size_t size, const um_limits *limits,
                                   um_decoded *out, char *err, size_t errlen)
{
    WebPAnimDecoderOptions opt;
    if (!WebPAnimDecoderOptionsInit(&opt))
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED, "animated WebP: libwebp version mismatch");
    opt.color_mode = MODE_RGBA;
    opt.use_threads = 0;
    WebPData wd = {data, size};
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &opt);
    if (!dec)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt WebP: the animation cannot be read");
    WebPAnimInfo info;
    um_error e = UM_OK;
    uint8_t *px = NULL;
    int ts = 0;
    if (!WebPAnimDecoderGetInfo(dec, &info))
        e = um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt WebP: the animation header is unreadable");
    else if ((e = um_check_size(info.canvas_width, info.canvas_height, limits, "WebP", err,
                                errlen)) != UM_OK)
        ;
    else if (!WebPAnimDecoderGetNext(dec, &px, &ts))
        e = um_fail(err, errlen, UM_ERR_CORRUPT,
                    "corrupt WebP: the first animation frame does not decode");
    else if ((out->rgb = um_alloc_rgb((int)info.canvas_width, (int)info.canvas_height, err,
                                      errlen)) == NULL)
        e = UM_ERR_NOMEM;
    else {
        out->width = (int)info.canvas_width;
        out->height = (int)info.canvas_height;
        store_interleaved(px, 4, (size_t)info.canvas_width * 4, out->rgb);
        if (out->has_alpha)
            e = store_alpha(px, (size_t)info.canvas_width * 4, out, err, errlen);
    }
    WebPAnimDecoderDelete(dec);
    return e;
}

um_error um_decode_webp(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen)
{
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(data, size, &f);
    if (st == VP8_STATUS_NOT_ENOUGH_DATA)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "truncated WebP: the file ends before the image header is complete");
    if (st != VP8_STATUS_OK)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt WebP: the header is not valid");
    um_error e = um_check_size((uint64_t)(f.width > 0 ? f.width : 0),
                               (uint64_t)(f.height > 0 ? f.height : 0), limits, "WebP", err,
                               errlen);
    if (e != UM_OK)
        return e;
    out->width = f.width;
    out->height = f.height;
    out->bit_depth = 8;
    out->has_alpha = f.has_alpha != 0;
    out->source_channels = f.has_alpha ? 4 : 3;
    if (f.has_animation)
        return decode_first_frame(data, size, limits, out, err, errlen);
    return decode_still(data, size, out, err, errlen);
}
