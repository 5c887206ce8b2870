/* EXIF reader and thumbnail comparison: TIFF structures built here byte by byte (both byte
 * orders, UserComment in each encoding, GPS, an IFD1 thumbnail, truncated and looping IFDs), and
 * thumbnails made from synthetic photos, then edited (paste, crop) to be caught. Also the
 * reduced-size decode (um_decode_preview) the comparison relies on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/decode.h"
#include "io/limits.h"
#include "prov/exif.h"
#include "prov/thumbnail.h"
#include "synth.h"

/* ---------------------------------------------------------------------------------------------
 * A small TIFF builder */

struct tb {
    uint8_t buf[1 << 16];
    size_t n;
    int be;
};

struct te {
    uint16_t tag, type;
    uint32_t count;
    const void *bytes;    /* ASCII / UNDEFINED / BYTE */
    uint32_t v[6];        /* SHORT / LONG value, or RATIONAL num/den pairs */
    size_t value_at;      /* filled in: where the value (or its offset) was written */
};

static void put16(struct tb *t, size_t at, uint32_t v)
{
    t->buf[at + (t->be ? 0 : 1)] = (uint8_t)(v >> 8);
    t->buf[at + (t->be ? 1 : 0)] = (uint8_t)v;
}

static void put32(struct tb *t, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        t->buf[at + (t->be ? (size_t)i : (size_t)(3 - i))] = (uint8_t)(v >> (24 - 8 * i));
}

static void tb_header(struct tb *t, int be)
{
    memset(t, 0, sizeof *t);
    t->be = be;
    memcpy(t->buf, be ? "MM\0*" : "II*\0", 4);
    put32(t, 4, 8);
    t->n = 8;
}

static size_t type_bytes(uint16_t type) { return type == 3 ? 2 : type == 4 ? 4 : type == 5 ? 8 : 1; }

/* Append an IFD of n entries with their out-of-line data; returns its offset. */
static size_t tb_ifd(struct tb *t, struct te *e, int n, uint32_t next)
{
    size_t ifd = t->n;
    size_t data = ifd + 2 + 12 * (size_t)n + 4;
    put16(t, ifd, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        size_t at = ifd + 2 + 12 * (size_t)i;
        put16(t, at, e[i].tag);
        put16(t, at + 2, e[i].type);
        put32(t, at + 4, e[i].count);
        size_t size = e[i].count * type_bytes(e[i].type);
        size_t where = at + 8;
        if (size > 4) {
            data += data & 1;
            put32(t, at + 8, (uint32_t)data);
            where = data;
            data += size;
        }
        e[i].value_at = size > 4 ? where : at + 8;
        if (e[i].type == 3)
            put16(t, where, e[i].v[0]);
        else if (e[i].type == 4)
            put32(t, where, e[i].v[0]);
        else if (e[i].type == 5)
            for (uint32_t k = 0; k < e[i].count; k++) {
                put32(t, where + 8 * k, e[i].v[2 * k]);
                put32(t, where + 8 * k + 4, e[i].v[2 * k + 1]);
            }
        else
            memcpy(t->buf + where, e[i].bytes, size);
    }
    put32(t, ifd + 2 + 12 * (size_t)n, next);
    t->n = data;
    return ifd;
}

static void tb_append(struct tb *t, const void *p, size_t n, size_t *at)
{
    *at = t->n;
    memcpy(t->buf + t->n, p, n);
    t->n += n;
}

#define ASCII(tag_, s) {tag_, 2, (uint32_t)sizeof(s), s, {0}, 0}
#define SHORT(tag_, x) {tag_, 3, 1, NULL, {x}, 0}
#define LONG(tag_, x) {tag_, 4, 1, NULL, {x}, 0}

/* ---------------------------------------------------------------------------------------------
 * A full camera-like EXIF */

static uint8_t *small_jpeg(const um_image *img, int q, size_t *n)
{
    uint8_t *buf = NULL;
    CHECK(um_encode_jpeg(img, q, 0, &buf, n) == UM_OK);
    return buf;
}

/* IFD0 -> ExifIFD + GPS, IFD1 with a thumbnail of thumb_size bytes. */
static void build_camera_exif(struct tb *t, int be, const uint8_t *thumb, size_t thumb_size,
                              const void *comment, uint32_t comment_size)
{
    tb_header(t, be);
    struct te ifd0[] = {
        ASCII(0x010F, "Canon"), ASCII(0x0110, "Canon EOS 5D Mark IV"), SHORT(0x0112, 6),
        ASCII(0x0131, "Adobe Photoshop 25.0 (Windows)"), ASCII(0x0132, "2024:05:01 10:00:00"),
        ASCII(0x013B, "Jane Doe"), ASCII(0x8298, "(c) Jane"), LONG(0x8769, 0), LONG(0x8825, 0),
    };
    tb_ifd(t, ifd0, 9, 0);
    size_t ifd0_next = 8 + 2 + 12 * 9; /* where IFD0's next pointer lies */
    static const uint8_t maker[40] = {'C', 'a', 'n', 'o', 'n'};
    struct te exif[] = {
        ASCII(0x9003, "2024:04:30 09:00:00"), ASCII(0x9004, "2024:04:30 09:00:01"),
        {0x9286, 7, comment_size, comment, {0}, 0}, {0x927C, 7, 40, maker, {0}, 0},
        LONG(0xA002, 6720), SHORT(0xA003, 4480),
    };
    put32(t, ifd0[7].value_at, (uint32_t)tb_ifd(t, exif, 6, 0));
    struct te gps[] = {
        {0x0001, 2, 2, "S", {0}, 0},
        {0x0002, 5, 3, NULL, {33, 1, 52, 1, 3036, 100}, 0}, /* 33 52' 30.36" */
        {0x0003, 2, 2, "W", {0}, 0},
        {0x0004, 5, 3, NULL, {70, 1, 30, 1, 0, 1}, 0},
        {0x0005, 1, 1, "\1", {0}, 0},
        {0x0006, 5, 1, NULL, {125, 2}, 0},
    };
    put32(t, ifd0[8].value_at, (uint32_t)tb_ifd(t, gps, 6, 0));
    struct te ifd1[] = {SHORT(0x0103, 6), LONG(0x0201, 0), LONG(0x0202, (uint32_t)thumb_size)};
    put32(t, ifd0_next, (uint32_t)tb_ifd(t, ifd1, 3, 0));
    size_t at;
    tb_append(t, thumb, thumb_size, &at);
    put32(t, ifd1[1].value_at, (uint32_t)at);
}

static void test_camera_little_endian(void)
{
    static const char comment[] = "ASCII\0\0\0Steps: 20, Sampler: Euler a, Seed: 1  ";
    um_image *img = synth_photo(160, 120, 1);
    size_t tn;
    uint8_t *thumb = small_jpeg(img, 75, &tn);
    struct tb *t = malloc(sizeof *t);
    build_camera_exif(t, 0, thumb, tn, comment, sizeof comment - 1);
    um_exif x;
    CHECK(um_exif_read(t->buf, t->n, &x) == UM_OK);
    CHECK(x.valid && !x.big_endian);
    CHECK(x.make && strcmp(x.make, "Canon") == 0);
    CHECK(x.model && strcmp(x.model, "Canon EOS 5D Mark IV") == 0);
    CHECK(x.software && strcmp(x.software, "Adobe Photoshop 25.0 (Windows)") == 0);
    CHECK(strcmp(x.datetime, "2024:05:01 10:00:00") == 0);
    CHECK(strcmp(x.datetime_original, "2024:04:30 09:00:00") == 0);
    CHECK(strcmp(x.datetime_digitized, "2024:04:30 09:00:01") == 0);
    CHECK(strcmp(x.artist, "Jane Doe") == 0 && strcmp(x.copyright, "(c) Jane") == 0);
    CHECK(x.orientation == 6);
    CHECK(x.pixel_width == 6720 && x.pixel_height == 4480);
    CHECK(x.has_makernote && x.makernote_size == 40);
    CHECK(strcmp(x.user_comment_charset, "ascii") == 0);
    CHECK(x.user_comment && strcmp(x.user_comment, "Steps: 20, Sampler: Euler a, Seed: 1") == 0);
    CHECK(x.gps.present && x.gps.has_position && x.gps.has_altitude);
    CHECK(fabs(x.gps.latitude - -(33 + 52 / 60.0 + 30.36 / 3600)) < 1e-9);
    CHECK(fabs(x.gps.longitude - -70.5) < 1e-9);
    CHECK(fabs(x.gps.altitude - -62.5) < 1e-9);
    CHECK(x.thumbnail && x.thumbnail_size == tn && x.thumbnail_is_jpeg);
    CHECK(x.thumbnail && memcmp(x.thumbnail, thumb, tn) == 0);
    CHECK(x.thumbnail >= t->buf && x.thumbnail + x.thumbnail_size <= t->buf + t->n);
    /* the JSON fragment */
    json_t *j = x.json;
    CHECK(json_is_true(json_object_get(j, "maker_note")));
    CHECK(strcmp(json_string_value(json_object_get(j, "make")), "Canon") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(j, "thumbnail"), "bytes")) ==
          (json_int_t)tn);
    CHECK(json_real_value(json_object_get(json_object_get(j, "gps"), "longitude")) < -70.4);
    CHECK(json_object_get(json_object_get(j, "offsets"), "user_comment") != NULL);
    CHECK(json_object_get(j, "notes") == NULL);
    um_exif_clear(&x);
    CHECK(x.json == NULL && x.make == NULL);
    /* with the APP1 "Exif\0\0" header left on */
    uint8_t *with_header = malloc(t->n + 6);
    memcpy(with_header, "Exif\0\0", 6);
    memcpy(with_header + 6, t->buf, t->n);
    CHECK(um_exif_read(with_header, t->n + 6, &x) == UM_OK);
    CHECK(x.valid && x.orientation == 6 && x.thumbnail_size == tn);
    um_exif_clear(&x);
    free(with_header);
    free(t);
    free(thumb);
    um_image_free(img);
}

/* ComfyUI-style full strings in Make/Model (WebP EXIF), big-endian, UNICODE UserComment BE as
 * piexif writes it (A1111). */
static void test_big_endian_full_strings(void)
{
    char model[3000];
    strcpy(model, "prompt:{\"3\":{\"class_type\":\"KSampler\",\"inputs\":{\"seed\":42,\"text\":\"");
    size_t len = strlen(model);
    memset(model + len, 'a', 2500);
    strcpy(model + len + 2500, "\"}}}");
    static const uint8_t uc[] = {'U', 'N', 'I', 'C', 'O', 'D', 'E', 0, 0, 'a', 0, ' ', 0x00,
                                 0xE9, 0x26, 0x3A, 0xD8, 0x3D, 0xDE, 0x00}; /* "a é☺😀" */
    struct tb *t = malloc(sizeof *t);
    tb_header(t, 1);
    struct te ifd0[] = {{0x010F, 2, 17, "workflow:{\"a\":1}", {0}, 0},
                        {0x0110, 2, (uint32_t)strlen(model) + 1, model, {0}, 0},
                        LONG(0x8769, 0)};
    tb_ifd(t, ifd0, 3, 0);
    struct te exif[] = {{0x9286, 7, sizeof uc, uc, {0}, 0}};
    put32(t, ifd0[2].value_at, (uint32_t)tb_ifd(t, exif, 1, 0));
    um_exif x;
    CHECK(um_exif_read(t->buf, t->n, &x) == UM_OK);
    CHECK(x.valid && x.big_endian);
    CHECK(x.make && strcmp(x.make, "workflow:{\"a\":1}") == 0);
    CHECK(x.model && strlen(x.model) == strlen(model) && strncmp(x.model, "prompt:{", 8) == 0);
    CHECK(strcmp(x.user_comment_charset, "utf-16be") == 0);
    CHECK(x.user_comment && strcmp(x.user_comment, "a \xC3\xA9\xE2\x98\xBA\xF0\x9F\x98\x80") == 0);
    CHECK(json_string_length(json_object_get(x.json, "model")) == strlen(model));
    um_exif_clear(&x);
    free(t);
}

static char *comment_of(int be, const uint8_t *uc, uint32_t n, char *charset, size_t cap)
{
    struct tb *t = malloc(sizeof *t);
    tb_header(t, be);
    struct te ifd0[] = {LONG(0x8769, 0)};
    tb_ifd(t, ifd0, 1, 0);
    struct te exif[] = {{0x9286, 7, n, uc, {0}, 0}};
    put32(t, ifd0[0].value_at, (uint32_t)tb_ifd(t, exif, 1, 0));
    um_exif x;
    CHECK(um_exif_read(t->buf, t->n, &x) == UM_OK);
    char *s = x.user_comment ? strdup(x.user_comment) : NULL;
    snprintf(charset, cap, "%s", x.user_comment_charset);
    um_exif_clear(&x);
    free(t);
    return s;
}

/* UTF-16LE in an "MM" file (byte pattern decides), with a BOM, JIS, undefined, no prefix. */
static void test_user_comment_encodings(void)
{
#define UC(s) (const uint8_t *)(s), sizeof(s) - 1
    static const struct {
        int be;                 /* the TIFF byte order */
        const uint8_t *bytes;   /* the UserComment value */
        uint32_t n;
        const char *text;       /* NULL: no text read */
        const char *charset;    /* NULL: not checked */
    } cases[] = {
        {1, UC("UNICODE\0H\0i\0 \0t\0h\0e\0r\0e\0"), "Hi there", "utf-16le"},
        {0, UC("UNICODE\0\0O\0K"), "OK", "utf-16be"},
        /* あい, LE with BOM */
        {1, UC("UNICODE\0\xFF\xFE\x41\x30\x42\x30"), "\xE3\x81\x81\xE3\x81\x82", "utf-16le"},
        {0, UC("JIS\0\0\0\0\0abc"), "abc", "jis"},
        {0, UC("\0\0\0\0\0\0\0\0   \0\0"), NULL, "undefined"}, /* camera padding: no text */
        {0, UC("ASCII\0\0\0caf\xE9"), "caf\xC3\xA9", NULL}, /* invalid UTF-8 read as Latin-1 */
        {0, UC("hello"), "hello", "none"},
    };
#undef UC
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cs[16];
        char *s = comment_of(cases[i].be, cases[i].bytes, cases[i].n, cs, sizeof cs);
        if (cases[i].text)
            CHECK_MSG(s && strcmp(s, cases[i].text) == 0, "case %zu: %s", i, s ? s : "(none)");
        else
            CHECK_MSG(s == NULL, "case %zu: %s", i, s);
        if (cases[i].charset)
            CHECK_MSG(strcmp(cs, cases[i].charset) == 0, "case %zu: charset %s", i, cs);
        free(s);
    }
}

/* Every prefix of a valid EXIF reads without harm; loops are refused; bad headers noted. */
static void test_truncated_and_hostile(void)
{
    static const char comment[] = "ASCII\0\0\0x";
    uint8_t thumb[64] = {0xFF, 0xD8, 0xFF, 0xD9};
    struct tb *t = malloc(sizeof *t);
    build_camera_exif(t, 1, thumb, sizeof thumb, comment, sizeof comment - 1);
    for (size_t n = 0; n <= t->n; n += (n < 200 ? 1 : 7)) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, t->buf, n);
        um_exif x;
        CHECK(um_exif_read(copy, n, &x) == UM_OK);
        CHECK(x.json != NULL);
        if (x.thumbnail)
            CHECK(x.thumbnail + x.thumbnail_size <= copy + n);
        um_exif_clear(&x);
        free(copy);
    }
    /* IFD0's next pointer pointing at IFD0 itself, and the EXIF IFD pointing at IFD0 */
    tb_header(t, 0);
    struct te ifd0[] = {ASCII(0x010F, "Loop"), LONG(0x8769, 8)};
    tb_ifd(t, ifd0, 2, 8);
    um_exif x;
    CHECK(um_exif_read(t->buf, t->n, &x) == UM_OK);
    CHECK(x.valid && x.make && strcmp(x.make, "Loop") == 0);
    CHECK(x.nnotes >= 1 && json_array_size(json_object_get(x.json, "notes")) >= 1);
    um_exif_clear(&x);
    /* an entry with a count that overflows 32 bits once multiplied, and a thumbnail past the end */
    tb_header(t, 0);
    struct te bad[] = {ASCII(0x010F, "X")};
    tb_ifd(t, bad, 1, 0);
    put16(t, 8 + 2 + 2, 5);            /* RATIONAL: 8 * count wraps around in 32 bits */
    put32(t, 8 + 2 + 4, 0x20000001u);
    size_t next_at = 8 + 2 + 12;
    struct te ifd1[] = {LONG(0x0201, 0xFFFFFFF0u), LONG(0x0202, 0x100)};
    put32(t, next_at, (uint32_t)tb_ifd(t, ifd1, 2, 0));
    CHECK(um_exif_read(t->buf, t->n, &x) == UM_OK);
    CHECK(x.valid && x.make == NULL && x.thumbnail == NULL && x.nnotes >= 2);
    um_exif_clear(&x);
    /* not TIFF at all */
    CHECK(um_exif_read((const uint8_t *)"JFIF\0\0\0\0\0\0", 10, &x) == UM_OK);
    CHECK(!x.valid && json_is_false(json_object_get(x.json, "valid")));
    um_exif_clear(&x);
    free(t);
}

/* ---------------------------------------------------------------------------------------------
 * um_decode_preview */

static void test_preview_jpeg_scaled(void)
{
    um_image *img = synth_photo(1600, 1200, 3);
    size_t n;
    uint8_t *jpg = small_jpeg(img, 90, &n);
    um_limits lim = {UM_DEFAULT_MAX_BYTES, UM_DEFAULT_MAX_PIXELS, UM_DEFAULT_MAX_DIMENSION};
    um_image *p = NULL;
    char err[200];
    CHECK(um_decode_preview(jpg, n, &lim, 256, &p, err, sizeof err) == UM_OK);
    CHECK(p && p->width == 256 && p->height == 192 && p->channels == 3);
    /* same content as a full decode reduced the same way */
    um_image *ref = um_resample_area(img, 256, 192);
    double diff = 0;
    for (size_t i = 0; p && ref && i < (size_t)256 * 192 * 3; i++)
        diff += fabs(p->data[i] - ref->data[i]);
    CHECK(diff / (256.0 * 192 * 3) < 4.0);
    um_image_free(ref);
    um_image_free(p);
    /* never upscaled; limits and truncation refused like um_decode */
    CHECK(um_decode_preview(jpg, n, &lim, 4000, &p, err, sizeof err) == UM_OK);
    CHECK(p && p->width == 1600 && p->height == 1200);
    um_image_free(p);
    um_limits tiny = {UM_DEFAULT_MAX_BYTES, 1000000, UM_DEFAULT_MAX_DIMENSION};
    CHECK(um_decode_preview(jpg, n, &tiny, 256, &p, err, sizeof err) == UM_ERR_LIMIT && !p);
    CHECK(um_decode_preview(jpg, n / 2, &lim, 256, &p, err, sizeof err) == UM_ERR_CORRUPT && !p);
    CHECK(um_decode_preview((const uint8_t *)"not an image at all", 19, &lim, 256, &p, err,
                            sizeof err) != UM_OK && !p);
    free(jpg);
    um_image_free(img);
}

static void test_resample_area_mean(void)
{
    um_image *img = um_image_new(7, 5, 1);
    double sum = 0;
    for (int i = 0; i < 35; i++) {
        img->data[i] = (float)(i * 3 % 17);
        sum += img->data[i];
    }
    um_image *r = um_resample_area(img, 3, 2);
    double rs = 0;
    for (int i = 0; i < 6; i++)
        rs += r->data[i];
    CHECK(fabs(rs / 6 - sum / 35) < 1e-4); /* area averaging keeps the mean */
    um_image_free(r);
    um_image_free(img);
}

/* ---------------------------------------------------------------------------------------------
 * Thumbnail against image */

struct thumb_case {
    um_image *main_img;
    uint8_t *main_jpg;
    size_t main_n;
    uint8_t *thumb;
    size_t thumb_n;
};

static um_image *preview_of(const uint8_t *jpg, size_t n)
{
    um_limits lim = {UM_DEFAULT_MAX_BYTES, UM_DEFAULT_MAX_PIXELS, UM_DEFAULT_MAX_DIMENSION};
    um_image *p = NULL;
    char err[200];
    CHECK(um_decode_preview(jpg, n, &lim, 512, &p, err, sizeof err) == UM_OK);
    return p;
}

static void compare_jpegs(const uint8_t *thumb, size_t tn, const uint8_t *main_jpg, size_t mn,
                          int orientation, um_thumb_result *r)
{
    um_image *p = preview_of(main_jpg, mn);
    CHECK(p && um_thumbnail_compare(thumb, tn, p, orientation, r) == UM_OK);
    um_image_free(p);
}

/* A camera-like pair: a 960x720 photo and its 160x120 thumbnail at a low quality. */
static void make_pair(struct thumb_case *c, unsigned seed)
{
    c->main_img = synth_photo(960, 720, seed);
    c->main_jpg = small_jpeg(c->main_img, 92, &c->main_n);
    um_image *small = um_resample_area(c->main_img, 160, 120);
    c->thumb = small_jpeg(small, 60, &c->thumb_n);
    um_image_free(small);
}

static void free_pair(struct thumb_case *c)
{
    um_image_free(c->main_img);
    free(c->main_jpg);
    free(c->thumb);
}

static void test_thumbnail_matches_original(void)
{
    for (unsigned seed = 11; seed < 13; seed++) {
        struct thumb_case c;
        make_pair(&c, seed);
        um_thumb_result r;
        compare_jpegs(c.thumb, c.thumb_n, c.main_jpg, c.main_n, 1, &r);
        CHECK_MSG(r.decoded && r.aspect_matches && r.matches, "seed %u corr %.3f cell %.1f", seed,
                  r.correlation, r.max_cell_diff);
        CHECK(json_is_true(json_object_get(r.json, "matches")));
        um_thumb_result_clear(&r);
        free_pair(&c);
    }
}

/* A donor block of 1/16 of the area pasted into the image after the thumbnail was made. */
static void test_thumbnail_catches_paste(void)
{
    struct thumb_case c;
    make_pair(&c, 21);
    um_image *donor = synth_photo(960, 720, 99);
    synth_paste(c.main_img, donor, 100, 100, 240, 180, 520, 380);
    free(c.main_jpg);
    c.main_jpg = small_jpeg(c.main_img, 92, &c.main_n);
    um_thumb_result r;
    compare_jpegs(c.thumb, c.thumb_n, c.main_jpg, c.main_n, 1, &r);
    CHECK_MSG(r.decoded && r.aspect_matches && !r.matches, "corr %.3f cell %.1f", r.correlation,
              r.max_cell_diff);
    um_thumb_result_clear(&r);
    um_image_free(donor);
    free_pair(&c);
}

/* The image cropped to 80 % (same aspect ratio) after the thumbnail was made; and to 3:2. */
static void test_thumbnail_catches_crop(void)
{
    struct thumb_case c;
    make_pair(&c, 31);
    um_image *crop = synth_crop(c.main_img, 96, 72, 768, 576);
    size_t n;
    uint8_t *jpg = small_jpeg(crop, 92, &n);
    um_thumb_result r;
    compare_jpegs(c.thumb, c.thumb_n, jpg, n, 1, &r);
    CHECK_MSG(r.aspect_matches && !r.matches, "corr %.3f cell %.1f", r.correlation,
              r.max_cell_diff);
    um_thumb_result_clear(&r);
    free(jpg);
    um_image_free(crop);
    crop = synth_crop(c.main_img, 0, 0, 960, 640);
    jpg = small_jpeg(crop, 92, &n);
    compare_jpegs(c.thumb, c.thumb_n, jpg, n, 1, &r);
    CHECK(!r.aspect_matches && !r.matches);
    um_thumb_result_clear(&r);
    free(jpg);
    um_image_free(crop);
    free_pair(&c);
}

/* A thumbnail of the displayed image (Orientation 6 = rotate 90 degrees clockwise), and a 3:2
 * image in a letterboxed 160x120 thumbnail, as some cameras write. */
static void test_thumbnail_orientation_and_bars(void)
{
    struct thumb_case c;
    make_pair(&c, 41);
    um_image *small = um_resample_area(c.main_img, 160, 120);
    um_image *rot = um_image_new(120, 160, 3);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 160; y++)
            for (int x = 0; x < 120; x++) /* displayed(x, y) = stored(y, H - 1 - x) */
                um_image_plane(rot, ch)[y * 120 + x] = um_image_plane(small, ch)[(119 - x) * 160 + y];
    size_t n;
    uint8_t *tj = small_jpeg(rot, 70, &n);
    um_thumb_result r;
    compare_jpegs(tj, n, c.main_jpg, c.main_n, 6, &r);
    CHECK_MSG(r.matches && r.oriented, "corr %.3f", r.correlation);
    um_thumb_result_clear(&r);
    compare_jpegs(tj, n, c.main_jpg, c.main_n, 1, &r); /* without the orientation: no match */
    CHECK(!r.matches && !r.aspect_matches);
    um_thumb_result_clear(&r);
    free(tj);
    um_image_free(rot);
    um_image_free(small);
    /* letterbox: 3:2 main, thumbnail 160x120 with 13-pixel black bars */
    um_image *wide = synth_crop(c.main_img, 0, 0, 945, 630);
    size_t wn;
    uint8_t *wj = small_jpeg(wide, 92, &wn);
    um_image *inner = um_resample_area(wide, 160, 107);
    um_image *boxed = um_image_new(160, 120, 3);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 107; y++)
            memcpy(um_image_plane(boxed, ch) + (size_t)(y + 6) * 160,
                   um_image_plane(inner, ch) + (size_t)y * 160, 160 * sizeof(float));
    tj = small_jpeg(boxed, 75, &n);
    compare_jpegs(tj, n, wj, wn, 1, &r);
    CHECK_MSG(r.matches && r.bars_removed, "corr %.3f aspect %.3f/%.3f", r.correlation,
              r.thumb_aspect, r.image_aspect);
    um_thumb_result_clear(&r);
    free(tj);
    free(wj);
    um_image_free(boxed);
    um_image_free(inner);
    um_image_free(wide);
    free_pair(&c);
}

static void test_thumbnail_undecodable(void)
{
    um_image *p = synth_photo(64, 48, 5);
    um_thumb_result r;
    static const uint8_t junk[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 2, 0xFF};
    CHECK(um_thumbnail_compare(junk, sizeof junk, p, 1, &r) == UM_OK);
    CHECK(!r.decoded && !r.matches && json_is_false(json_object_get(r.json, "decoded")));
    um_thumb_result_clear(&r);
    CHECK(um_thumbnail_compare(junk, sizeof junk, NULL, 1, &r) == UM_ERR_ARGUMENT);
    um_image_free(p);
}

static const struct um_test_case cases[] = {
    {"camera_little_endian", test_camera_little_endian},
    {"big_endian_full_strings", test_big_endian_full_strings},
    {"user_comment_encodings", test_user_comment_encodings},
    {"truncated_and_hostile", test_truncated_and_hostile},
    {"preview_jpeg_scaled", test_preview_jpeg_scaled},
    {"resample_area_mean", test_resample_area_mean},
    {"thumbnail_matches_original", test_thumbnail_matches_original},
    {"thumbnail_catches_paste", test_thumbnail_catches_paste},
    {"thumbnail_catches_crop", test_thumbnail_catches_crop},
    {"thumbnail_orientation_and_bars", test_thumbnail_orientation_and_bars},
    {"thumbnail_undecodable", test_thumbnail_undecodable},
};
UM_TEST_MAIN(cases)
