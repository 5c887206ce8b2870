/* TIFF through libtiff, read straight from memory (TIFFClientOpenExt over our buffer): the first
 * image (IFD 0), strips or tiles, any photometric libtiff's RGBA interface understands (gray,
 * palette, RGB, YCbCr, CMYK, 1..16 bits). 16-bit samples come through libtiff's RGBA path
 * rounded to 8 bits (1/255 of the range), which keeps every detector's scale; bit_depth still
 * reports 16. libtiff's messages go to per-file handlers, never to stderr; an allocation cap
 * derived from our pixel limit stops libtiff from committing memory to hostile strip sizes. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "io/decoders.h"

struct tiff_memory {
    const uint8_t *data;
    toff_t size, pos;
    char message[256]; /* libtiff's first error */
};

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    struct tiff_memory *m = (struct tiff_memory *)h;
    if (n <= 0 || m->pos >= m->size)
        return 0;
    toff_t avail = m->size - m->pos;
    toff_t take = (toff_t)n < avail ? (toff_t)n : avail;
    memcpy(buf, m->data + m->pos, (size_t)take);
    m->pos += take;
    return (tmsize_t)take;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h, (void)buf, (void)n;
    return -1; /* read-only */
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    struct tiff_memory *m = (struct tiff_memory *)h;
    toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->size : 0;
    if (off > UINT64_MAX / 2 || base > UINT64_MAX / 2)
        return (toff_t)-1;
    m->pos = base + off; /* past the end is allowed; reads there return nothing */
    return m->pos;
}

static int mem_close(thandle_t h) { (void)h; return 0; }
static toff_t mem_size(thandle_t h) { return ((struct tiff_memory *)h)->size; }

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    struct tiff_memory *m = (struct tiff_memory *)h;
    *base = (void *)m->data; /* libtiff only reads through a read-only open's mapping */
    *size = m->size;
    return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }

static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)module;
    struct tiff_memory *m = user;
    if (m && m->message[0] == '\0')
        vsnprintf(m->message, sizeof m->message, fmt, ap);
    return 1; /* handled: do not pass on to the global handler */
}

static int on_tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

/* Messages libtiff emits before a handle exists go to the process-wide handlers: silence them
 * once (the library never prints). */
static void silence_global_handlers(void)
{
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

static um_error read_rgba(TIFF *tif, struct tiff_memory *m, um_decoded *out, char *err,
                          size_t errlen)
{
    char why[1024] = "";
    if (!TIFFRGBAImageOK(tif, why))
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED, "TIFF layout unmask cannot read: %s",
                       why);
    size_t w = (size_t)out->width, h = (size_t)out->height;
    uint32_t *raster = malloc(w * h * sizeof(uint32_t));
    out->rgb = um_alloc_rgb(out->width, out->height, err, errlen);
    if (!raster || !out->rgb) {
        free(raster);
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the TIFF");
    }
    um_error e = UM_OK;
    if (!TIFFReadRGBAImageOriented(tif, (uint32_t)w, (uint32_t)h, raster, ORIENTATION_TOPLEFT, 1)) {
        e = um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt TIFF: %s",
                    m->message[0] ? m->message : "the image data does not decode");
    } else {
        size_t plane = w * h;
        for (size_t i = 0; i < plane; i++) {
            out->rgb->data[i] = (float)TIFFGetR(raster[i]);
            out->rgb->data[plane + i] = (float)TIFFGetG(raster[i]);
            out->rgb->data[2 * plane + i] = (float)TIFFGetB(raster[i]);
        }
    }
    free(raster);
    return e;
}

static um_error read_image(TIFF *tif, struct tiff_memory *m, const um_limits *limits,
                           um_decoded *out, char *err, size_t errlen)
{
    uint32_t w = 0, h = 0;
    uint16_t bits = 1, spp = 1, extra = 0, photometric = PHOTOMETRIC_MINISBLACK;
    uint16_t *extra_types = NULL;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra, &extra_types);
    um_error e = um_check_size(w, h, limits, "TIFF", err, errlen);
    if (e != UM_OK)
        return e;
    /* A tile may overhang the image (its sides are multiples of 16), but a 1x1 image with
     * 60000x60000 tiles would make libtiff allocate and inflate gigabytes for one pixel. */
    uint32_t tw = 0, th = 0;
    if (TIFFIsTiled(tif) && TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) &&
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th) &&
        (uint64_t)tw * th > 4 * (uint64_t)w * h + (1u << 20))
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "corrupt TIFF: %ux%u tiles for a %ux%u image", tw, th, w, h);
    out->width = (int)w;
    out->height = (int)h;
    out->bit_depth = bits > 8 ? 16 : 8;
    out->source_channels = spp;
    out->has_alpha = extra > 0 && photometric != PHOTOMETRIC_SEPARATED;
    return read_rgba(tif, m, out, err, errlen);
}

um_error um_decode_tiff(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, silence_global_handlers);
    struct tiff_memory m = {data, size, 0, ""};
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the TIFF");
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, &m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_warning, &m);
    /* One strip or tile never needs more than the largest allowed image at 16 bits x 4 samples
     * (uncompressed), plus slack for small images. */
    uint64_t cap = limits->max_pixels * 8 + (16u << 20);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)(cap < ((uint64_t)1 << 40) ? cap : ((uint64_t)1 << 40)));
    TIFF *tif = TIFFClientOpenExt("input", "r", (thandle_t)&m, mem_read, mem_write, mem_seek,
                                  mem_close, mem_size, mem_map, mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!tif)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt TIFF: %s",
                       m.message[0] ? m.message : "the header cannot be read");
    um_error e = read_image(tif, &m, limits, out, err, errlen);
    TIFFClose(tif);
    return e;
}
