#include "report/png_write.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where the encoder's bytes go: a FILE, or a growing buffer in memory. */
struct png_sink {
    FILE *file;
    unsigned char *data;
    size_t len, cap;
    int failed;
};

static void sink_write(png_structp png, png_bytep bytes, png_size_t n)
{
    struct png_sink *s = png_get_io_ptr(png);
    if (s->file) {
        if (fwrite(bytes, 1, n, s->file) != n)
            png_error(png, "write failed");
        return;
    }
    if (n > SIZE_MAX - s->len)
        png_error(png, "PNG too large");
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        unsigned char *grown = realloc(s->data, cap);
        if (!grown) {
            s->failed = 1;
            png_error(png, "out of memory");
        }
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
}

static void sink_flush(png_structp png)
{
    struct png_sink *s = png_get_io_ptr(png);
    if (s->file)
        fflush(s->file);
}

static int encode(struct png_sink *sink, const uint8_t *pixels, int width, int height,
                  int channels)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png)
        return -1;
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        return -1;
    }
    png_set_write_fn(png, sink, sink_write, sink_flush);
    png_set_compression_level(png, 6);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

unsigned char *um_png_encode(const uint8_t *pixels, int width, int height, int channels,
                             size_t *len)
{
    struct png_sink sink = {0};
    if (width <= 0 || height <= 0 || encode(&sink, pixels, width, height, channels) != 0) {
        free(sink.data);
        return NULL;
    }
    *len = sink.len;
    return sink.data;
}

int um_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    struct png_sink sink = {.file = f};
    errno = 0;
    int rc = encode(&sink, pixels, width, height, channels);
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, errno ? strerror(errno) : "libpng error");
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
