/* Container walkers (src/prov/containers.c) on crafted files: every format's metadata carriers,
 * C2PA store reassembly and exclusion ranges, extended XMP, compressed PNG text, and damaged
 * input (every truncation, lengths past the end, IFD loops). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "prov/containers.h"
#include "support/check.h"

/* ---- a growing byte buffer to build files ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put8(buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put16be(buf *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}
static void put32be(buf *b, uint32_t v)
{
    put16be(b, v >> 16);
    put16be(b, v & 0xFFFF);
}
static void put16le(buf *b, unsigned v)
{
    put8(b, v);
    put8(b, v >> 8);
}
static void put32le(buf *b, uint32_t v)
{
    put16le(b, v & 0xFFFF);
    put16le(b, v >> 16);
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void set32be(buf *b, size_t at, uint32_t v)
{
    b->p[at] = (uint8_t)(v >> 24);
    b->p[at + 1] = (uint8_t)(v >> 16);
    b->p[at + 2] = (uint8_t)(v >> 8);
    b->p[at + 3] = (uint8_t)v;
}

/* A C2PA manifest store as c2pa-rs lays it out (provenance-markers.md 1.2): a jumb superbox
 * whose jumd has the "c2pa" UUID and label, then one content box of filler. */
static buf make_store(size_t filler)
{
    static const uint8_t uuid[16] = {'c', '2', 'p', 'a', 0x00, 0x11, 0x00, 0x10,
                                     0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    buf s = {0};
    put32be(&s, 0);
    puts_(&s, "jumb");
    put32be(&s, 8 + 16 + 1 + 5);
    puts_(&s, "jumd");
    put(&s, uuid, 16);
    put8(&s, 0x03);
    put(&s, "c2pa", 5);
    put32be(&s, (uint32_t)(8 + filler));
    puts_(&s, "free");
    for (size_t i = 0; i < filler; i++)
        put8(&s, (unsigned)(i * 7 + 3));
    set32be(&s, 0, (uint32_t)s.n);
    return s;
}

static void walk(const buf *f, um_format fmt, um_container *c)
{
    char err[200];
    um_error e = um_container_walk(f->p, f->n, fmt, c, err, sizeof err);
    CHECK(e == UM_OK);
}

static int has_note(const um_container *c, const char *part)
{
    for (int i = 0; i < c->nnotes; i++)
        if (strstr(c->notes[i], part))
            return 1;
    return 0;
}

static int data_is(const um_segment *s, const void *want, size_t n)
{
    return s && s->size == n && memcmp(s->data, want, n) == 0;
}

/* ---- JPEG ---- */

static void jpeg_marker(buf *f, unsigned m, const void *payload, size_t n)
{
    put8(f, 0xFF);
    put8(f, m);
    put16be(f, (unsigned)n + 2);
    put(f, payload, n);
}

static void jpeg_prefixed(buf *f, unsigned m, const void *prefix, size_t pn, const void *body,
                          size_t bn)
{
    buf p = {0};
    put(&p, prefix, pn);
    put(&p, body, bn);
    jpeg_marker(f, m, p.p, p.n);
    free(p.p);
}

/* One APP11 JPEG XT packet: CI "JP", En, Z, then (for continuations) the repeated 8-byte box
 * header, then the slice (1.1 table). */
static void app11_packet(buf *f, unsigned en, uint32_t z, const buf *store, size_t from, size_t to)
{
    buf p = {0};
    puts_(&p, "JP");
    put16be(&p, en);
    put32be(&p, z);
    if (from > 0)
        put(&p, store->p, 8);
    put(&p, store->p + from, to - from);
    jpeg_marker(f, 0xEB, p.p, p.n);
    free(p.p);
}

static const char XMP_MAIN[] = "<x:xmpmeta>main packet</x:xmpmeta>";
static const char GUID[] = "0123456789ABCDEF0123456789ABCDEF";

static void ext_chunk(buf *f, const char *full, uint32_t off, uint32_t n)
{
    buf p = {0};
    put(&p, "http://ns.adobe.com/xmp/extension/", 35);
    puts_(&p, GUID);
    put32be(&p, (uint32_t)strlen(full));
    put32be(&p, off);
    put(&p, full + off, n);
    jpeg_marker(f, 0xE1, p.p, p.n);
    free(p.p);
}

/* Frame + tables + a scan whose entropy data holds stuffed FF 00 and an RST marker. */
static void jpeg_image_part(buf *f, size_t *sos_at, size_t *eoi_at)
{
    static const uint8_t sof[] = {8, 0, 16, 0, 16, 1, 1, 0x11, 0};
    static const uint8_t dqt[65] = {0};
    static const uint8_t sos[] = {1, 1, 0, 0, 63, 0};
    static const uint8_t scan[] = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0x00, 0x78};
    jpeg_marker(f, 0xC0, sof, sizeof sof);
    jpeg_marker(f, 0xDB, dqt, sizeof dqt);
    *sos_at = f->n;
    jpeg_marker(f, 0xDA, sos, sizeof sos);
    put(f, scan, sizeof scan);
    *eoi_at = f->n;
    put8(f, 0xFF);
    put8(f, 0xD9);
}

typedef struct jpeg_fixture {
    buf file, store;
    char ext_full[300];
    size_t c2pa_from, c2pa_to, com_at, sos_at, eoi_at;
} jpeg_fixture;

static void make_jpeg(jpeg_fixture *fx, int skip_z)
{
    memset(fx, 0, sizeof *fx);
    buf *f = &fx->file;
    fx->store = make_store(250);
    for (size_t i = 0; i < sizeof fx->ext_full - 1; i++)
        fx->ext_full[i] = (char)('a' + i % 26);
    put16be(f, 0xFFD8);
    jpeg_prefixed(f, 0xE0, "JFIF\0\1\2\0\0\1\0\1\0\0", 14, "", 0);
    /* the store in three packets, Z = 1, 2, 3 (or 1, 2, 4) */
    fx->c2pa_from = f->n;
    app11_packet(f, 0x0211, 1, &fx->store, 0, 100);
    app11_packet(f, 0x0211, 2, &fx->store, 100, 200);
    app11_packet(f, 0x0211, skip_z ? 4 : 3, &fx->store, 200, fx->store.n);
    fx->c2pa_to = f->n;
    jpeg_prefixed(f, 0xE1, "Exif\0\0", 6, "MM\0*\0\0\0\x08", 8);
    jpeg_prefixed(f, 0xE1, "http://ns.adobe.com/xap/1.0/", 29, XMP_MAIN, strlen(XMP_MAIN));
    ext_chunk(f, fx->ext_full, 120, (uint32_t)strlen(fx->ext_full) - 120); /* second half first */
    ext_chunk(f, fx->ext_full, 0, 120);
    fx->com_at = f->n;
    jpeg_marker(f, 0xFE, "made by hand", 12);
    jpeg_image_part(f, &fx->sos_at, &fx->eoi_at);
    puts_(f, "TRAILER");
}

static void free_jpeg(jpeg_fixture *fx)
{
    free(fx->file.p);
    free(fx->store.p);
}

static const um_box_span *find_span(const um_container *c, const char *name)
{
    for (size_t i = 0; i < c->nbox; i++)
        if (strcmp(c->box[i].name, name) == 0)
            return &c->box[i];
    return NULL;
}

static void test_jpeg_all_carriers(void)
{
    jpeg_fixture fx;
    make_jpeg(&fx, 0);
    um_container c;
    walk(&fx.file, UM_FORMAT_JPEG, &c);
    CHECK(c.nnotes == 0);
    CHECK(c.format == UM_FORMAT_JPEG);
    /* C2PA: reassembled bytes, and the exclusion from the first FF EB to the end of the last */
    CHECK(c.c2pa && c.c2pa_size == fx.store.n && memcmp(c.c2pa, fx.store.p, fx.store.n) == 0);
    CHECK(c.c2pa_offset == fx.c2pa_from && c.c2pa_length == fx.c2pa_to - fx.c2pa_from);
    CHECK(c.c2pa_stores == 1 && c.c2pa_broken == 0);
    const um_box_span *span = find_span(&c, "C2PA");
    CHECK(span && span->offset == fx.c2pa_from && span->length == fx.c2pa_to - fx.c2pa_from);
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_EXIF, &k);
    CHECK(data_is(s, "MM\0*\0\0\0\x08", 8));
    CHECK(s && strcmp(s->where, "APP1") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    k = 0;
    s = um_container_next(&c, UM_SEG_XMP_EXTENDED, &k);
    CHECK(data_is(s, fx.ext_full, strlen(fx.ext_full)));
    CHECK(s && strcmp(s->key, GUID) == 0);
    CHECK(um_container_next(&c, UM_SEG_XMP_EXTENDED, &k) == NULL);
    k = 0;
    s = um_container_next(&c, UM_SEG_COMMENT, &k);
    CHECK(data_is(s, "made by hand", 12));
    CHECK(s && s->offset == fx.com_at && s->length == 16);
    k = 0;
    s = um_container_next(&c, UM_SEG_TRAILING, &k);
    CHECK(data_is(s, "TRAILER", 7));
    CHECK(s && s->offset == fx.eoi_at + 2);
    k = 0;
    s = um_container_next(&c, UM_SEG_C2PA, &k);
    CHECK(s && s->data == c.c2pa && strcmp(s->where, "APP11") == 0);
    /* spans: SOS runs through the entropy data (FF 00, RST0) to EOI; spans tile the image */
    span = find_span(&c, "SOS");
    CHECK(span && span->offset == fx.sos_at && span->length == fx.eoi_at - fx.sos_at);
    span = find_span(&c, "EOI");
    CHECK(span && span->offset == fx.eoi_at && span->length == 2);
    CHECK(c.nbox > 0 && c.box[0].offset == 0 && strcmp(c.box[0].name, "SOI") == 0);
    for (size_t i = 1; i < c.nbox; i++)
        CHECK(c.box[i].offset == c.box[i - 1].offset + c.box[i - 1].length);
    CHECK(find_span(&c, "APP11") == NULL && find_span(&c, "APP0") && find_span(&c, "SOF0") &&
          find_span(&c, "DQT") && find_span(&c, "COM"));
    um_container_clear(&c);
    CHECK(c.nseg == 0 && c.seg == NULL && c.owned == NULL);
    free_jpeg(&fx);
}

static void test_jpeg_c2pa_missing_packet(void)
{
    jpeg_fixture fx;
    make_jpeg(&fx, 1);
    um_container c;
    walk(&fx.file, UM_FORMAT_JPEG, &c);
    CHECK(c.c2pa && c.c2pa_broken == 1);
    CHECK(has_note(&c, "Z=4"));
    CHECK(c.c2pa_offset == fx.c2pa_from && c.c2pa_length == fx.c2pa_to - fx.c2pa_from);
    um_container_clear(&c);
    free_jpeg(&fx);
}

/* Packets of one store separated by another segment, and a second store: broken, counted. */
static void test_jpeg_c2pa_not_contiguous_and_two_stores(void)
{
    buf store = make_store(120), f = {0};
    put16be(&f, 0xFFD8);
    size_t first = f.n;
    app11_packet(&f, 0x0211, 1, &store, 0, 60);
    jpeg_marker(&f, 0xFE, "x", 1);
    app11_packet(&f, 0x0211, 2, &store, 60, store.n);
    size_t last_end = f.n;
    app11_packet(&f, 0x0001, 1, &store, 0, store.n); /* another store, another En */
    put16be(&f, 0xFFD9);
    um_container c;
    walk(&f, UM_FORMAT_JPEG, &c);
    CHECK(c.c2pa && c.c2pa_size == store.n && memcmp(c.c2pa, store.p, store.n) == 0);
    CHECK(c.c2pa_broken == 1 && c.c2pa_stores == 2);
    CHECK(c.c2pa_offset == first && c.c2pa_length == last_end - first);
    CHECK(has_note(&c, "not contiguous") && has_note(&c, "second C2PA"));
    um_container_clear(&c);
    free(store.p);
    free(f.p);
}

static void test_jpeg_length_past_end(void)
{
    buf f = {0};
    put16be(&f, 0xFFD8);
    jpeg_marker(&f, 0xFE, "kept", 4);
    put16be(&f, 0xFFE1);
    put16be(&f, 5000); /* far past the end */
    puts_(&f, "Exif\0\0MM");
    um_container c;
    walk(&f, UM_FORMAT_JPEG, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_COMMENT, &k), "kept", 4));
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_EXIF, &k) == NULL);
    CHECK(has_note(&c, "APP1 at offset 10") && has_note(&c, "past the end"));
    um_container_clear(&c);
    free(f.p);
}

/* ---- PNG ---- */

static void png_chunk(buf *f, const char *type, const void *d, size_t n, int bad_crc)
{
    put32be(f, (uint32_t)n);
    size_t at = f->n;
    puts_(f, type);
    put(f, d, n);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), f->p + at, (uInt)(n + 4));
    put32be(f, (uint32_t)crc ^ (bad_crc ? 1u : 0u));
}

static buf deflate_text(const char *text)
{
    buf z = {0};
    uLongf n = compressBound(strlen(text));
    z.p = malloc(n);
    z.cap = n;
    if (compress2(z.p, &n, (const Bytef *)text, strlen(text), 9) != Z_OK)
        abort();
    z.n = n;
    return z;
}

static const char LONG_TEXT[] = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Model: sd "
                                "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Model: sd";

typedef struct png_fixture {
    buf file, store;
    size_t cabx_at, cabx_len;
} png_fixture;

static void make_png(png_fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    buf *f = &fx->file;
    put(f, "\x89PNG\r\n\x1A\n", 8);
    static const uint8_t ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
    png_chunk(f, "IHDR", ihdr, sizeof ihdr, 0);
    fx->store = make_store(40);
    fx->cabx_at = f->n;
    png_chunk(f, "caBX", fx->store.p, fx->store.n, 0);
    fx->cabx_len = f->n - fx->cabx_at;
    png_chunk(f, "tEXt", "Comment\0hello", 13, 0);
    buf z = deflate_text(LONG_TEXT), t = {0};
    put(&t, "parameters\0\0", 12);
    put(&t, z.p, z.n);
    png_chunk(f, "zTXt", t.p, t.n, 0);
    t.n = 0;
    put(&t, "Description\0\1\0en\0Beschreibung\0", 30);
    put(&t, z.p, z.n);
    png_chunk(f, "iTXt", t.p, t.n, 0);
    t.n = 0;
    put(&t, "XML:com.adobe.xmp\0\0\0\0\0", 22);
    puts_(&t, XMP_MAIN);
    png_chunk(f, "iTXt", t.p, t.n, 0);
    png_chunk(f, "eXIf", "II*\0\x08\0\0\0", 8, 0);
    png_chunk(f, "tEXt", "Author\0bad crc", 14, 1);
    png_chunk(f, "IDAT", "\x78\x01", 2, 0);
    png_chunk(f, "IEND", "", 0, 0);
    puts_(f, "after");
    free(z.p);
    free(t.p);
}

static const um_segment *text_with_key(const um_container *c, const char *key)
{
    size_t k = 0;
    const um_segment *s;
    while ((s = um_container_next(c, UM_SEG_TEXT, &k)))
        if (strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

static void test_png_chunks(void)
{
    png_fixture fx;
    make_png(&fx);
    um_container c;
    walk(&fx.file, UM_FORMAT_PNG, &c);
    CHECK(data_is(text_with_key(&c, "Comment"), "hello", 5));
    CHECK(data_is(text_with_key(&c, "parameters"), LONG_TEXT, strlen(LONG_TEXT)));
    CHECK(data_is(text_with_key(&c, "Description"), LONG_TEXT, strlen(LONG_TEXT)));
    CHECK(data_is(text_with_key(&c, "Author"), "bad crc", 7)); /* bad CRC: noted, still read */
    CHECK(has_note(&c, "tEXt") && has_note(&c, "CRC mismatch"));
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_XMP, &k);
    CHECK(data_is(s, XMP_MAIN, strlen(XMP_MAIN)) && strcmp(s->key, "XML:com.adobe.xmp") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_EXIF, &k), "II*\0\x08\0\0\0", 8));
    CHECK(c.c2pa && c.c2pa_size == fx.store.n && memcmp(c.c2pa, fx.store.p, fx.store.n) == 0);
    CHECK(c.c2pa_offset == fx.cabx_at && c.c2pa_length == fx.cabx_len && c.c2pa_stores == 1);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_TRAILING, &k), "after", 5));
    CHECK(c.nbox == 11 && strcmp(c.box[0].name, "PNGh") == 0 && c.box[0].length == 8);
    const um_box_span *cabx = find_span(&c, "caBX");
    CHECK(cabx && cabx->offset == fx.cabx_at && cabx->length == fx.cabx_len);
    CHECK(strcmp(c.box[c.nbox - 1].name, "IEND") == 0);
    um_container_clear(&c);
    free(fx.file.p);
    free(fx.store.p);
}

static void test_png_two_stores_and_bad_zlib(void)
{
    buf f = {0}, store = make_store(10);
    put(&f, "\x89PNG\r\n\x1A\n", 8);
    png_chunk(&f, "caBX", store.p, store.n, 0);
    png_chunk(&f, "caBX", store.p, store.n, 0);
    png_chunk(&f, "zTXt", "k\0\0\x78\x9c\x01\x02", 7, 0); /* a zlib stream that ends early */
    png_chunk(&f, "IEND", "", 0, 0);
    um_container c;
    walk(&f, UM_FORMAT_PNG, &c);
    CHECK(c.c2pa_stores == 2 && c.c2pa_offset == 8);
    CHECK(has_note(&c, "zTXt") && text_with_key(&c, "k") == NULL);
    um_container_clear(&c);
    free(f.p);
    free(store.p);
}

/* ---- WebP ---- */

typedef struct webp_fixture {
    buf file, store;
    size_t c2pa_at, c2pa_len, riff_end;
} webp_fixture;

static void riff_chunk(buf *f, const char *id, const void *d, size_t n)
{
    puts_(f, id);
    put32le(f, (uint32_t)n);
    put(f, d, n);
    if (n & 1)
        put8(f, 0);
}

static void make_webp(webp_fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    buf *f = &fx->file;
    puts_(f, "RIFF");
    put32le(f, 0);
    puts_(f, "WEBP");
    riff_chunk(f, "VP8X", "\x2C\0\0\0\0\0\0\0\0\0", 10);
    riff_chunk(f, "EXIF", "Exif\0\0II*\0\x08\0\0\0", 14);
    riff_chunk(f, "XMP ", XMP_MAIN, strlen(XMP_MAIN));
    fx->store = make_store(41); /* odd size: padded */
    fx->c2pa_at = f->n;
    riff_chunk(f, "C2PA", fx->store.p, fx->store.n);
    fx->c2pa_len = f->n - fx->c2pa_at;
    fx->riff_end = f->n;
    f->p[4] = (uint8_t)(f->n - 8);
    f->p[5] = (uint8_t)((f->n - 8) >> 8);
    puts_(f, "junk");
}

static void test_webp_chunks(void)
{
    webp_fixture fx;
    make_webp(&fx);
    CHECK(fx.store.n % 2 == 1);
    um_container c;
    walk(&fx.file, UM_FORMAT_WEBP, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_EXIF, &k), "II*\0\x08\0\0\0", 8));
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    CHECK(c.c2pa && c.c2pa_size == fx.store.n && memcmp(c.c2pa, fx.store.p, fx.store.n) == 0);
    CHECK(c.c2pa_offset == fx.c2pa_at && c.c2pa_length == fx.c2pa_len);
    k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_TRAILING, &k);
    CHECK(data_is(s, "junk", 4) && s->offset == fx.riff_end);
    CHECK(c.nnotes == 0 && c.nbox == 0);
    um_container_clear(&c);
    free(fx.file.p);
    free(fx.store.p);
}

/* ---- ISO BMFF (HEIF) ---- */

static const uint8_t C2PA_UUID[16] = {0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c,
                                      0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81};

static size_t box_open(buf *f, const char *type)
{
    size_t at = f->n;
    put32be(f, 0);
    puts_(f, type);
    return at;
}
static void box_close(buf *f, size_t at) { set32be(f, at, (uint32_t)(f->n - at)); }

static const char TIFF_BYTES[] = "MM\0*\0\0\0\x08rest-of-exif";

typedef struct bmff_fixture {
    buf file, store;
    size_t uuid_at, uuid_len;
} bmff_fixture;

/* ftyp, meta{hdlr, iinf{infe hvc1 #1, infe Exif #2, infe mime XMP #3}, iloc v1}, mdat, uuid.
 * The Exif item is split in two extents; iloc is patched once mdat's position is known. */
static void make_bmff(bmff_fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    buf *f = &fx->file;
    size_t b = box_open(f, "ftyp");
    puts_(f, "heic");
    put32be(f, 0);
    puts_(f, "mif1heic");
    box_close(f, b);
    size_t meta = box_open(f, "meta");
    put32be(f, 0);
    b = box_open(f, "hdlr");
    put32be(f, 0);
    put32be(f, 0);
    puts_(f, "pict");
    put(f, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13);
    box_close(f, b);
    size_t iinf = box_open(f, "iinf");
    put32be(f, 0);
    put16be(f, 3);
    const char *types[3] = {"hvc1", "Exif", "mime"};
    for (unsigned id = 1; id <= 3; id++) {
        size_t e = box_open(f, "infe");
        put32be(f, 0x02000000);
        put16be(f, id);
        put16be(f, 0);
        puts_(f, types[id - 1]);
        put8(f, 0); /* empty item_name */
        if (id == 3)
            put(f, "application/rdf+xml", 20);
        box_close(f, e);
    }
    box_close(f, iinf);
    size_t iloc = box_open(f, "iloc");
    put32be(f, 0x01000000);
    put8(f, 0x44); /* offset_size 4, length_size 4 */
    put8(f, 0x00); /* base_offset_size 0, index_size 0 */
    put16be(f, 2);
    put16be(f, 2); /* item 2 (Exif): method 0, two extents */
    put16be(f, 0);
    put16be(f, 0);
    put16be(f, 2);
    size_t ext_patch = f->n;
    put32be(f, 0);
    put32be(f, 10);
    put32be(f, 0);
    put32be(f, 0);
    put16be(f, 3); /* item 3 (XMP): one extent */
    put16be(f, 0);
    put16be(f, 0);
    put16be(f, 1);
    put32be(f, 0);
    put32be(f, (uint32_t)strlen(XMP_MAIN));
    box_close(f, iloc);
    box_close(f, meta);
    size_t mdat = box_open(f, "mdat");
    size_t exif_at = f->n;
    put32be(f, 6); /* offset to the TIFF header inside the item */
    put(f, "Exif\0\0", 6);
    put(f, TIFF_BYTES, sizeof TIFF_BYTES - 1);
    size_t exif_len = f->n - exif_at;
    size_t xmp_at = f->n;
    puts_(f, XMP_MAIN);
    box_close(f, mdat);
    set32be(f, ext_patch, (uint32_t)exif_at);
    set32be(f, ext_patch + 8, (uint32_t)(exif_at + 10));
    set32be(f, ext_patch + 12, (uint32_t)(exif_len - 10));
    set32be(f, ext_patch + 24, (uint32_t)xmp_at);
    fx->store = make_store(30);
    fx->uuid_at = box_open(f, "uuid");
    put(f, C2PA_UUID, 16);
    put32be(f, 0);
    put(f, "manifest", 9);
    put32be(f, 0);
    put32be(f, 0);
    put(f, fx->store.p, fx->store.n);
    box_close(f, fx->uuid_at);
    fx->uuid_len = f->n - fx->uuid_at;
}

static void test_bmff_items_and_uuid(void)
{
    bmff_fixture fx;
    make_bmff(&fx);
    um_container c;
    walk(&fx.file, UM_FORMAT_HEIF, &c);
    CHECK_MSG(c.nnotes == 0, "%s", c.nnotes ? c.notes[0] : "");
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_EXIF, &k);
    CHECK(data_is(s, TIFF_BYTES, sizeof TIFF_BYTES - 1));
    CHECK(s && strcmp(s->where, "Exif item 2") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    CHECK(c.c2pa && c.c2pa_size == fx.store.n && memcmp(c.c2pa, fx.store.p, fx.store.n) == 0);
    CHECK(c.c2pa_offset == fx.uuid_at && c.c2pa_length == fx.uuid_len);
    um_container_clear(&c);
    free(fx.file.p);
    free(fx.store.p);
}

/* ---- TIFF ---- */

static buf make_tiff(int loop)
{
    buf f = {0};
    put(&f, "II*\0", 4);
    put32le(&f, 8);
    put16le(&f, 3);
    put16le(&f, 256); /* ImageWidth SHORT 1, inline */
    put16le(&f, 3);
    put32le(&f, 1);
    put32le(&f, 64);
    put16le(&f, 700); /* XMP, BYTE, at an offset */
    put16le(&f, 1);
    put32le(&f, (uint32_t)strlen(XMP_MAIN));
    put32le(&f, 8 + 2 + 3 * 12 + 4);
    put16le(&f, 33723); /* IPTC, UNDEFINED 3 bytes: inline */
    put16le(&f, 7);
    put32le(&f, 3);
    put(&f, "\x1c\x02\0\0", 4);
    put32le(&f, loop ? 8 : 0);
    puts_(&f, XMP_MAIN);
    return f;
}

static void test_tiff_tags(void)
{
    buf f = make_tiff(0);
    um_container c;
    walk(&f, UM_FORMAT_TIFF, &c);
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_EXIF, &k);
    CHECK(s && s->data == f.p && s->size == f.n && s->offset == 0);
    k = 0;
    s = um_container_next(&c, UM_SEG_XMP, &k);
    CHECK(data_is(s, XMP_MAIN, strlen(XMP_MAIN)) && strcmp(s->where, "IFD0 tag 700") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_IPTC, &k), "\x1c\x02\0", 3));
    CHECK(c.nnotes == 0);
    um_container_clear(&c);
    free(f.p);
    f = make_tiff(1); /* IFD0's next-IFD pointer points at itself */
    walk(&f, UM_FORMAT_TIFF, &c);
    CHECK(has_note(&c, "loops"));
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_XMP, &k) != NULL);
    um_container_clear(&c);
    free(f.p);
}

/* ---- GIF, JPEG XL, sidecar ---- */

static buf make_gif(buf *store)
{
    buf f = {0};
    put(&f, "GIF89a\1\0\1\0\x80\0\0", 13);
    put(&f, "\0\0\0\xff\xff\xff", 6); /* 2-colour global table */
    put(&f, "\x21\xff\x0bXMP DataXMP", 14);
    puts_(&f, XMP_MAIN);
    put8(&f, 0x01);
    for (int v = 0xFF; v >= 0; v--)
        put8(&f, (unsigned)v);
    put8(&f, 0);
    *store = make_store(300);
    put(&f, "\x21\xff\x0b" "C2PA_GIF\x01\0\0", 14);
    for (size_t at = 0; at < store->n; at += 255) {
        size_t n = store->n - at < 255 ? store->n - at : 255;
        put8(&f, (unsigned)n);
        put(&f, store->p + at, n);
    }
    put8(&f, 0);
    put(&f, "\x2c\0\0\0\0\1\0\1\0\0\x02\x02\x44\x01\0", 15); /* image: 2 bytes LZW data */
    put8(&f, 0x3B);
    return f;
}

static void test_gif_xmp_and_c2pa(void)
{
    buf store, f = make_gif(&store);
    um_container c;
    walk(&f, UM_FORMAT_GIF, &c);
    CHECK_MSG(c.nnotes == 0, "%s", c.nnotes ? c.notes[0] : "");
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    CHECK(c.c2pa && c.c2pa_size == store.n && memcmp(c.c2pa, store.p, store.n) == 0);
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_TRAILING, &k) == NULL);
    um_container_clear(&c);
    free(f.p);
    free(store.p);
}

static buf make_jxl(buf *store)
{
    buf f = {0};
    put(&f, "\0\0\0\x0cJXL \r\n\x87\n", 12);
    size_t b = box_open(&f, "ftyp");
    puts_(&f, "jxl ");
    put32be(&f, 0);
    puts_(&f, "jxl ");
    box_close(&f, b);
    b = box_open(&f, "Exif");
    put32be(&f, 0);
    put(&f, TIFF_BYTES, sizeof TIFF_BYTES - 1);
    box_close(&f, b);
    b = box_open(&f, "xml ");
    puts_(&f, XMP_MAIN);
    box_close(&f, b);
    *store = make_store(20);
    put(&f, store->p, store->n);
    b = box_open(&f, "jxlc");
    put(&f, "\xff\x0a", 2);
    box_close(&f, b);
    return f;
}

static void test_jxl_and_sidecar(void)
{
    buf store, f = make_jxl(&store);
    um_container c;
    walk(&f, UM_FORMAT_JXL, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_EXIF, &k), TIFF_BYTES, sizeof TIFF_BYTES - 1));
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    CHECK(c.c2pa && c.c2pa_size == store.n && memcmp(c.c2pa, store.p, store.n) == 0);
    um_container_clear(&c);
    walk(&store, UM_FORMAT_UNKNOWN, &c); /* a bare .c2pa sidecar */
    CHECK(c.c2pa == store.p && c.c2pa_size == store.n && c.c2pa_offset == 0);
    um_container_clear(&c);
    buf bare = {0};
    put(&bare, "\xff\x0a\0\0\0\0\0\0\0\0\0\0", 12);
    walk(&bare, UM_FORMAT_JXL, &c);
    CHECK(c.nseg == 0 && c.nnotes == 0);
    um_container_clear(&c);
    free(bare.p);
    free(f.p);
    free(store.p);
}

/* ---- every truncation of every fixture ---- */

/* Walk each prefix; results must stay inside the bytes given. */
static void walk_prefixes(const buf *f, um_format fmt)
{
    for (size_t n = 0; n <= f->n; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, f->p, n);
        um_container c;
        char err[200];
        um_error e = um_container_walk(copy, n, fmt, &c, err, sizeof err);
        CHECK(e == UM_OK || e == UM_ERR_LIMIT);
        for (size_t i = 0; i < c.nseg; i++)
            CHECK(c.seg[i].offset + c.seg[i].length <= n);
        for (size_t i = 0; i < c.nbox; i++)
            CHECK(c.box[i].offset + c.box[i].length <= n);
        CHECK(!c.c2pa || c.c2pa_offset + c.c2pa_length <= n);
        um_container_clear(&c);
        free(copy);
    }
}

static void test_truncation_everywhere(void)
{
    jpeg_fixture jf;
    make_jpeg(&jf, 0);
    walk_prefixes(&jf.file, UM_FORMAT_JPEG);
    free_jpeg(&jf);
    png_fixture pf;
    make_png(&pf);
    walk_prefixes(&pf.file, UM_FORMAT_PNG);
    free(pf.file.p);
    free(pf.store.p);
    webp_fixture wf;
    make_webp(&wf);
    walk_prefixes(&wf.file, UM_FORMAT_WEBP);
    free(wf.file.p);
    free(wf.store.p);
    bmff_fixture bf;
    make_bmff(&bf);
    walk_prefixes(&bf.file, UM_FORMAT_HEIF);
    free(bf.file.p);
    free(bf.store.p);
    buf t = make_tiff(0);
    walk_prefixes(&t, UM_FORMAT_TIFF);
    free(t.p);
    buf store, g = make_gif(&store);
    walk_prefixes(&g, UM_FORMAT_GIF);
    free(g.p);
    free(store.p);
    buf x = make_jxl(&store);
    walk_prefixes(&x, UM_FORMAT_JXL);
    walk_prefixes(&store, UM_FORMAT_UNKNOWN);
    free(x.p);
    free(store.p);
}

/* A truncated JPEG keeps what came before the damage and says where it stopped. */
static void test_truncated_jpeg_keeps_earlier_segments(void)
{
    jpeg_fixture fx;
    make_jpeg(&fx, 0);
    buf cut = fx.file;
    cut.n = fx.com_at + 6; /* inside the COM segment */
    um_container c;
    walk(&cut, UM_FORMAT_JPEG, &c);
    size_t k = 0;
    CHECK(c.c2pa && c.c2pa_size == fx.store.n);
    CHECK(um_container_next(&c, UM_SEG_XMP_EXTENDED, &k) != NULL);
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_COMMENT, &k) == NULL);
    CHECK(has_note(&c, "COM at offset"));
    um_container_clear(&c);
    free_jpeg(&fx);
}

static const struct um_test_case cases[] = {
    {"jpeg: exif, xmp, extended xmp, 3-packet c2pa, com, trailing", test_jpeg_all_carriers},
    {"jpeg: c2pa packet sequence skips a number", test_jpeg_c2pa_missing_packet},
    {"jpeg: c2pa not contiguous, second store", test_jpeg_c2pa_not_contiguous_and_two_stores},
    {"jpeg: segment length past the end", test_jpeg_length_past_end},
    {"jpeg: truncated keeps earlier segments", test_truncated_jpeg_keeps_earlier_segments},
    {"png: text, ztxt, itxt, cabx, exif, bad crc", test_png_chunks},
    {"png: two stores, damaged zlib", test_png_two_stores_and_bad_zlib},
    {"webp: exif, xmp, c2pa, trailing", test_webp_chunks},
    {"bmff: exif item via iinf/iloc, c2pa uuid", test_bmff_items_and_uuid},
    {"tiff: tag 700, iptc, ifd loop", test_tiff_tags},
    {"gif: xmp and c2pa application extensions", test_gif_xmp_and_c2pa},
    {"jxl container and .c2pa sidecar", test_jxl_and_sidecar},
    {"every prefix of every fixture", test_truncation_everywhere},
};

UM_TEST_MAIN(cases)
