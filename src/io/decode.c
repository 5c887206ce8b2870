/* Sniffing and dispatch: the format comes from the first bytes, never from a file name. Each
 * format's decoder lives in its own file (jpeg.c, png.c, tiff.c, webp.c, heif.c). */
#include "io/decode.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/decoders.h"
#include "io/limits.h"

const char *um_format_name(um_format f)
{
    switch (f) {
    case UM_FORMAT_JPEG: return "jpeg";
    case UM_FORMAT_PNG: return "png";
    case UM_FORMAT_TIFF: return "tiff";
    case UM_FORMAT_WEBP: return "webp";
    case UM_FORMAT_HEIF: return "heif";
    case UM_FORMAT_AVIF: return "avif";
    case UM_FORMAT_GIF: return "gif";
    case UM_FORMAT_JXL: return "jxl";
    case UM_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

um_error um_fail(char *err, size_t errlen, um_error code, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

um_error um_check_size(uint64_t width, uint64_t height, const um_limits *limits,
                       const char *format_label, char *err, size_t errlen)
{
    if (width < UM_MIN_DIMENSION || height < UM_MIN_DIMENSION)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "corrupt %s: the header gives an empty image (%llux%llu pixels)",
                       format_label, (unsigned long long)width, (unsigned long long)height);
    if (width > limits->max_dimension || height > limits->max_dimension)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "image is %llux%llu pixels; the limit is %u pixels on a side "
                       "(use --max-dimension)",
                       (unsigned long long)width, (unsigned long long)height,
                       (unsigned)limits->max_dimension);
    /* Both sides are below 2^32 here, so the product cannot overflow 64 bits. */
    if (width > UINT32_MAX || height > UINT32_MAX || width * height > limits->max_pixels)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "image is %llux%llu pixels; the limit is %llu pixels (use --max-pixels)",
                       (unsigned long long)width, (unsigned long long)height,
                       (unsigned long long)limits->max_pixels);
    /* um_image counts in int; a caller may raise the limits past that. */
    if (width > INT_MAX / 4 || height > INT_MAX / 4)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "image is %llux%llu pixels; unmask cannot hold a side that long",
                       (unsigned long long)width, (unsigned long long)height);
    return UM_OK;
}

um_image *um_alloc_rgb(int width, int height, char *err, size_t errlen)
{
    um_image *img = um_image_new(width, height, 3);
    if (!img)
        um_fail(err, errlen, UM_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
    return img;
}

void um_store_row(um_image *img, int y, const uint8_t *row, const struct um_row_layout *layout)
{
    size_t w = (size_t)img->width, plane = w * (size_t)img->height;
    float scale = 255.0f / (float)((1 << layout->bits) - 1);
    float *out = img->data + (size_t)y * w;
    int gray = layout->channels < 3;
    for (size_t x = 0; x < w; x++)
        for (int c = 0; c < 3; c++) {
            size_t s = x * (size_t)layout->channels + (size_t)(gray ? 0 : c);
            float v;
            if (!layout->two_bytes)
                v = row[s];
            else if (layout->big_endian)
                v = (float)(row[2 * s] << 8 | row[2 * s + 1]);
            else
                v = (float)(row[2 * s] | row[2 * s + 1] << 8);
            out[(size_t)c * plane + x] = v * scale;
        }
}

/* ---- sniffing ---- */

static int starts_with(const uint8_t *data, size_t size, const void *magic, size_t n)
{
    return size >= n && memcmp(data, magic, n) == 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int brand_is(const uint8_t *b, const char *brand) { return memcmp(b, brand, 4) == 0; }

/* ISO-BMFF 'ftyp' box (ISO/IEC 14496-12 4.3): major brand, minor version, compatible brands.
 * AVIF when any brand is avif/avis (MIAF/AVIF spec), HEIF when any is a HEVC or generic HEIF
 * image brand (ISO/IEC 23008-12 Annex B). */
static um_format sniff_ftyp(const uint8_t *data, size_t size)
{
    if (size < 16 || memcmp(data + 4, "ftyp", 4) != 0)
        return UM_FORMAT_UNKNOWN;
    uint32_t box = be32(data);
    size_t end = box >= 16 && box <= size ? box : size;
    if (end > 1024) /* bounded: a real ftyp lists a handful of brands */
        end = 1024;
    static const char *const heif_brands[] = {"heic", "heix", "hevc", "hevx", "heim",
                                              "heis", "mif1", "msf1"};
    int heif = 0;
    for (size_t off = 8; off + 4 <= end; off += 4) {
        if (off == 12)
            continue; /* minor version, not a brand */
        if (brand_is(data + off, "avif") || brand_is(data + off, "avis"))
            return UM_FORMAT_AVIF;
        for (size_t i = 0; i < sizeof heif_brands / sizeof heif_brands[0]; i++)
            heif |= brand_is(data + off, heif_brands[i]);
    }
    return heif ? UM_FORMAT_HEIF : UM_FORMAT_UNKNOWN;
}

um_format um_sniff_format(const uint8_t *data, size_t size)
{
    if (!data || size < 12)
        return UM_FORMAT_UNKNOWN;
    if (starts_with(data, size, "\xFF\xD8\xFF", 3))
        return UM_FORMAT_JPEG;
    if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8))
        return UM_FORMAT_PNG;
    if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4) ||
        starts_with(data, size, "II+\0", 4) || starts_with(data, size, "MM\0+", 4))
        return UM_FORMAT_TIFF;
    if (starts_with(data, size, "RIFF", 4) && memcmp(data + 8, "WEBP", 4) == 0)
        return UM_FORMAT_WEBP;
    if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6))
        return UM_FORMAT_GIF;
    if (starts_with(data, size, "\xFF\x0A", 2) ||
        starts_with(data, size, "\0\0\0\x0CJXL \r\n\x87\n", 12))
        return UM_FORMAT_JXL;
    return sniff_ftyp(data, size);
}

/* ---- dispatch ---- */

void um_decoded_clear(um_decoded *d)
{
    if (!d)
        return;
    um_image_free(d->rgb);
    free(d->alpha);
    if (d->jpeg) {
        for (int c = 0; c < 4; c++)
            free(d->jpeg->comp[c].coef);
        free(d->jpeg);
    }
    memset(d, 0, sizeof *d);
}

static um_limits effective_limits(const um_limits *limits)
{
    um_limits l = {UM_DEFAULT_MAX_BYTES, UM_DEFAULT_MAX_PIXELS, UM_DEFAULT_MAX_DIMENSION};
    if (limits)
        l = *limits;
    return l;
}

um_error um_decode(const uint8_t *data, size_t size, const um_limits *limits, um_decoded *out,
                   char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return um_fail(err, errlen, UM_ERR_ARGUMENT, "no place to put the decoded image");
    memset(out, 0, sizeof *out);
    um_limits lim = effective_limits(limits);
    if (!data || size == 0)
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED, "empty file");
    if (size > lim.max_bytes)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "input is %zu bytes; the limit is %llu bytes (use --max-bytes)", size,
                       (unsigned long long)lim.max_bytes);
    um_format f = um_sniff_format(data, size);
    um_error e;
    switch (f) {
    case UM_FORMAT_JPEG: e = um_decode_jpeg(data, size, &lim, out, err, errlen); break;
    case UM_FORMAT_PNG: e = um_decode_png(data, size, &lim, out, err, errlen); break;
    case UM_FORMAT_TIFF: e = um_decode_tiff(data, size, &lim, out, err, errlen); break;
    case UM_FORMAT_WEBP: e = um_decode_webp(data, size, &lim, out, err, errlen); break;
    case UM_FORMAT_HEIF:
    case UM_FORMAT_AVIF: e = um_decode_heif(data, size, &lim, f, out, err, errlen); break;
    case UM_FORMAT_GIF:
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED,
                       "GIF is recognised but not analysed: its 256-colour palette destroys the "
                       "traces the detectors measure; analyse the original photo instead");
    case UM_FORMAT_JXL:
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED,
                       "JPEG XL is recognised but not analysed yet: no JPEG XL decoder is built "
                       "in; convert it to PNG losslessly and analyse that");
    default:
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED,
                       "not an image: the first bytes match no supported format "
                       "(JPEG, PNG, TIFF, WebP, HEIF, AVIF)");
    }
    if (e != UM_OK) {
        um_decoded_clear(out);
        return e;
    }
    out->format = f;
    return UM_OK;
}

/* ---- files ---- */

um_error um_read_file(const char *path, uint64_t max_bytes, uint8_t **data, size_t *size,
                      char *err, size_t errlen)
{
    *data = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return um_fail(err, errlen, UM_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int saved = errno;
        fclose(fp);
        return um_fail(err, errlen, UM_ERR_IO, "cannot read %s: %s", path, strerror(saved));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(fp);
        return um_fail(err, errlen, UM_ERR_IO, "cannot read %s: it is a directory", path);
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
        fclose(fp);
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "%s is %llu bytes; the limit is %llu bytes (use --max-bytes)", path,
                       (unsigned long long)st.st_size, (unsigned long long)max_bytes);
    }
    /* Read in growing chunks: also right for pipes and files that change size under us. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            size_t grow = cap * 2;
            uint8_t *nb = realloc(buf, grow);
            if (!nb) {
                free(buf);
                fclose(fp);
                return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = grow;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if ((uint64_t)n > max_bytes) {
            free(buf);
            fclose(fp);
            return um_fail(err, errlen, UM_ERR_LIMIT,
                           "%s is over the limit of %llu bytes (use --max-bytes)", path,
                           (unsigned long long)max_bytes);
        }
        if (got == 0)
            break;
    }
    int failed = ferror(fp);
    fclose(fp);
    if (failed) {
        free(buf);
        return um_fail(err, errlen, UM_ERR_IO, "error reading %s", path);
    }
    *data = buf;
    *size = n;
    return UM_OK;
}
