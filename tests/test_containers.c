/* Container walkers (src/prov/containers.c) on crafted files: every format's metadata carriers,
 * C2PA store reassembly and exclusion ranges, extended XMP, compressed PNG text, and damaged
 * input (every truncation, lengths past the end, IFD loops). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "check.h"
#include "prov/containers.h"

/* A C2PA manifest store as c2pa-rs lays it out (provenance-markers.md 1.2): a jumb superbox
 * whose jumd has the "c2pa" UUID and label, then one content box of filler. */
static bytebuf make_store(size_t filler)
{
    bytebuf s = {0};
    size_t at = jumbf_open(&s, "c2pa", "c2pa", 0);
    size_t free_box = box_open(&s, "free");
    for (size_t i = 0; i < filler; i++)
        bb_u8(&s, (unsigned)(i * 7 + 3));
    box_close(&s, free_box);
    box_close(&s, at);
    return s;
}

/* A crafted file, the C2PA store inside it, and where its parts landed. */
typedef struct fixture {
    bytebuf file, store;
    size_t c2pa_at, c2pa_len;  /* the store's carrier: the expected exclusion */
    size_t com_at, sos_at, eoi_at, riff_end;
    char ext_full[300];        /* JPEG: the extended XMP */
} fixture;

/* Empties fx, makes its store (filler bytes of content) and returns the file to write into. */
static bytebuf *fixture_begin(fixture *fx, size_t filler)
{
    memset(fx, 0, sizeof *fx);
    fx->store = make_store(filler);
    return &fx->file;
}

static void fixture_free(fixture *fx)
{
    bb_free(&fx->file);
    bb_free(&fx->store);
}

/* The walker found the very store the fixture wrote and, with carrier, its carrier. */
static void check_store(const um_container *c, const fixture *fx, int carrier)
{
    CHECK(c->c2pa && c->c2pa_size == fx->store.n &&
          memcmp(c->c2pa, fx->store.p, fx->store.n) == 0);
    if (carrier)
        CHECK(c->c2pa_offset == fx->c2pa_at && c->c2pa_length == fx->c2pa_len);
}

static void walk(const bytebuf *f, um_format fmt, um_container *c)
{
    char err[200];
    um_error e = um_container_walk(f->p, f->n, fmt, c, err, sizeof err);
    CHECK(e == UM_OK);
}

/* Walks f and expects no notes (nothing damaged or odd). */
static void walk_quiet(const bytebuf *f, um_format fmt, um_container *c)
{
    walk(f, fmt, c);
    CHECK_MSG(c->nnotes == 0, "%s", c->nnotes ? c->notes[0] : "");
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

static void jpeg_marker(bytebuf *f, unsigned m, const void *payload, size_t n)
{
    bb_u8(f, 0xFF);
    bb_u8(f, m);
    bb_be16(f, (unsigned)n + 2);
    bb_put(f, payload, n);
}

static void jpeg_prefixed(bytebuf *f, unsigned m, const void *prefix, size_t pn, const void *body,
                          size_t bn)
{
    bytebuf p = {0};
    bb_put(&p, prefix, pn);
    bb_put(&p, body, bn);
    jpeg_marker(f, m, p.p, p.n);
    bb_free(&p);
}

/* One APP11 JPEG XT packet: CI "JP", En, Z, then (for continuations) the repeated 8-byte box
 * header, then the slice (1.1 table). */
static void app11_packet(bytebuf *f, unsigned en, uint32_t z, const bytebuf *store, size_t from, size_t to)
{
    bytebuf p = {0};
    bb_str(&p, "JP");
    bb_be16(&p, en);
    bb_be32(&p, z);
    if (from > 0)
        bb_put(&p, store->p, 8);
    bb_put(&p, store->p + from, to - from);
    jpeg_marker(f, 0xEB, p.p, p.n);
    bb_free(&p);
}

static const char XMP_MAIN[] = "<x:xmpmeta>main packet</x:xmpmeta>";
static const char GUID[] = "0123456789ABCDEF0123456789ABCDEF";

static void ext_chunk(bytebuf *f, const char *full, uint32_t off, uint32_t n)
{
    bytebuf p = {0};
    bb_put(&p, "http://ns.adobe.com/xmp/extension/", 35);
    bb_str(&p, GUID);
    bb_be32(&p, (uint32_t)strlen(full));
    bb_be32(&p, off);
    bb_put(&p, full + off, n);
    jpeg_marker(f, 0xE1, p.p, p.n);
    bb_free(&p);
}

/* Frame + tables + a scan whose entropy data holds stuffed FF 00 and an RST marker. */
static void jpeg_image_part(bytebuf *f, size_t *sos_at, size_t *eoi_at)
{
    static const uint8_t sof[] = {8, 0, 16, 0, 16, 1, 1, 0x11, 0};
    static const uint8_t dqt[65] = {0};
    static const uint8_t sos[] = {1, 1, 0, 0, 63, 0};
    static const uint8_t scan[] = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0x00, 0x78};
    jpeg_marker(f, 0xC0, sof, sizeof sof);
    jpeg_marker(f, 0xDB, dqt, sizeof dqt);
    *sos_at = f->n;
    jpeg_marker(f, 0xDA, sos, sizeof sos);
    bb_put(f, scan, sizeof scan);
    *eoi_at = f->n;
    bb_u8(f, 0xFF);
    bb_u8(f, 0xD9);
}

static void make_jpeg(fixture *fx, int skip_z)
{
    bytebuf *f = fixture_begin(fx, 250);
    for (size_t i = 0; i < sizeof fx->ext_full - 1; i++)
        fx->ext_full[i] = (char)('a' + i % 26);
    bb_be16(f, 0xFFD8);
    jpeg_prefixed(f, 0xE0, "JFIF\0\1\2\0\0\1\0\1\0\0", 14, "", 0);
    /* the store in three packets, Z = 1, 2, 3 (or 1, 2, 4) */
    fx->c2pa_at = f->n;
    app11_packet(f, 0x0211, 1, &fx->store, 0, 100);
    app11_packet(f, 0x0211, 2, &fx->store, 100, 200);
    app11_packet(f, 0x0211, skip_z ? 4 : 3, &fx->store, 200, fx->store.n);
    fx->c2pa_len = f->n - fx->c2pa_at;
    jpeg_prefixed(f, 0xE1, "Exif\0\0", 6, "MM\0*\0\0\0\x08", 8);
    jpeg_prefixed(f, 0xE1, "http://ns.adobe.com/xap/1.0/", 29, XMP_MAIN, strlen(XMP_MAIN));
    ext_chunk(f, fx->ext_full, 120, (uint32_t)strlen(fx->ext_full) - 120); /* second half first */
    ext_chunk(f, fx->ext_full, 0, 120);
    fx->com_at = f->n;
    jpeg_marker(f, 0xFE, "made by hand", 12);
    jpeg_image_part(f, &fx->sos_at, &fx->eoi_at);
    bb_str(f, "TRAILER");
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
    fixture fx;
    make_jpeg(&fx, 0);
    um_container c;
    walk(&fx.file, UM_FORMAT_JPEG, &c);
    CHECK(c.nnotes == 0);
    CHECK(c.format == UM_FORMAT_JPEG);
    /* C2PA: reassembled bytes, and the exclusion from the first FF EB to the end of the last */
    check_store(&c, &fx, 1);
    CHECK(c.c2pa_stores == 1 && c.c2pa_broken == 0);
    const um_box_span *span = find_span(&c, "C2PA");
    CHECK(span && span->offset == fx.c2pa_at && span->length == fx.c2pa_len);
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
    fixture_free(&fx);
}

static void test_jpeg_c2pa_missing_packet(void)
{
    fixture fx;
    make_jpeg(&fx, 1);
    um_container c;
    walk(&fx.file, UM_FORMAT_JPEG, &c);
    CHECK(c.c2pa && c.c2pa_broken == 1);
    CHECK(has_note(&c, "Z=4"));
    CHECK(c.c2pa_offset == fx.c2pa_at && c.c2pa_length == fx.c2pa_len);
    um_container_clear(&c);
    fixture_free(&fx);
}

/* Packets of one store separated by another segment, and a second store: broken, counted. */
static void test_jpeg_c2pa_not_contiguous_and_two_stores(void)
{
    bytebuf store = make_store(120), f = {0};
    bb_be16(&f, 0xFFD8);
    size_t first = f.n;
    app11_packet(&f, 0x0211, 1, &store, 0, 60);
    jpeg_marker(&f, 0xFE, "x", 1);
    app11_packet(&f, 0x0211, 2, &store, 60, store.n);
    size_t last_end = f.n;
    app11_packet(&f, 0x0001, 1, &store, 0, store.n); /* another store, another En */
    bb_be16(&f, 0xFFD9);
    um_container c;
    walk(&f, UM_FORMAT_JPEG, &c);
    CHECK(c.c2pa && c.c2pa_size == store.n && memcmp(c.c2pa, store.p, store.n) == 0);
    CHECK(c.c2pa_broken == 1 && c.c2pa_stores == 2);
    CHECK(c.c2pa_offset == first && c.c2pa_length == last_end - first);
    CHECK(has_note(&c, "not contiguous") && has_note(&c, "second C2PA"));
    um_container_clear(&c);
    bb_free(&store);
    bb_free(&f);
}

static void test_jpeg_length_past_end(void)
{
    bytebuf f = {0};
    bb_be16(&f, 0xFFD8);
    jpeg_marker(&f, 0xFE, "kept", 4);
    bb_be16(&f, 0xFFE1);
    bb_be16(&f, 5000); /* far past the end */
    bb_str(&f, "Exif\0\0MM");
    um_container c;
    walk(&f, UM_FORMAT_JPEG, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_COMMENT, &k), "kept", 4));
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_EXIF, &k) == NULL);
    CHECK(has_note(&c, "APP1 at offset 10") && has_note(&c, "past the end"));
    um_container_clear(&c);
    bb_free(&f);
}

/* ---- PNG ---- */

static void png_chunk(bytebuf *f, const char *type, const void *d, size_t n, int bad_crc)
{
    bb_be32(f, (uint32_t)n);
    size_t at = f->n;
    bb_str(f, type);
    bb_put(f, d, n);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), f->p + at, (uInt)(n + 4));
    bb_be32(f, (uint32_t)crc ^ (bad_crc ? 1u : 0u));
}

static bytebuf deflate_text(const char *text)
{
    bytebuf z = {0};
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

static void make_png(fixture *fx)
{
    bytebuf *f = fixture_begin(fx, 40);
    bb_put(f, "\x89PNG\r\n\x1A\n", 8);
    static const uint8_t ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
    png_chunk(f, "IHDR", ihdr, sizeof ihdr, 0);
    fx->c2pa_at = f->n;
    png_chunk(f, "caBX", fx->store.p, fx->store.n, 0);
    fx->c2pa_len = f->n - fx->c2pa_at;
    png_chunk(f, "tEXt", "Comment\0hello", 13, 0);
    bytebuf z = deflate_text(LONG_TEXT), t = {0};
    bb_put(&t, "parameters\0\0", 12);
    bb_put(&t, z.p, z.n);
    png_chunk(f, "zTXt", t.p, t.n, 0);
    t.n = 0;
    bb_put(&t, "Description\0\1\0en\0Beschreibung\0", 30);
    bb_put(&t, z.p, z.n);
    png_chunk(f, "iTXt", t.p, t.n, 0);
    t.n = 0;
    bb_put(&t, "XML:com.adobe.xmp\0\0\0\0\0", 22);
    bb_str(&t, XMP_MAIN);
    png_chunk(f, "iTXt", t.p, t.n, 0);
    png_chunk(f, "eXIf", "II*\0\x08\0\0\0", 8, 0);
    png_chunk(f, "tEXt", "Author\0bad crc", 14, 1);
    png_chunk(f, "IDAT", "\x78\x01", 2, 0);
    png_chunk(f, "IEND", "", 0, 0);
    bb_str(f, "after");
    bb_free(&z);
    bb_free(&t);
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
    fixture fx;
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
    check_store(&c, &fx, 1);
    CHECK(c.c2pa_stores == 1);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_TRAILING, &k), "after", 5));
    CHECK(c.nbox == 11 && strcmp(c.box[0].name, "PNGh") == 0 && c.box[0].length == 8);
    const um_box_span *cabx = find_span(&c, "caBX");
    CHECK(cabx && cabx->offset == fx.c2pa_at && cabx->length == fx.c2pa_len);
    CHECK(strcmp(c.box[c.nbox - 1].name, "IEND") == 0);
    um_container_clear(&c);
    fixture_free(&fx);
}

static void test_png_two_stores_and_bad_zlib(void)
{
    bytebuf f = {0}, store = make_store(10);
    bb_put(&f, "\x89PNG\r\n\x1A\n", 8);
    png_chunk(&f, "caBX", store.p, store.n, 0);
    png_chunk(&f, "caBX", store.p, store.n, 0);
    png_chunk(&f, "zTXt", "k\0\0\x78\x9c\x01\x02", 7, 0); /* a zlib stream that ends early */
    png_chunk(&f, "IEND", "", 0, 0);
    um_container c;
    walk(&f, UM_FORMAT_PNG, &c);
    CHECK(c.c2pa_stores == 2 && c.c2pa_offset == 8);
    CHECK(has_note(&c, "zTXt") && text_with_key(&c, "k") == NULL);
    um_container_clear(&c);
    bb_free(&f);
    bb_free(&store);
}

/* ---- WebP ---- */

static void riff_chunk(bytebuf *f, const char *id, const void *d, size_t n)
{
    bb_str(f, id);
    bb_le32(f, (uint32_t)n);
    bb_put(f, d, n);
    if (n & 1)
        bb_u8(f, 0);
}

static void make_webp(fixture *fx)
{
    bytebuf *f = fixture_begin(fx, 41); /* odd size: padded */
    bb_str(f, "RIFF");
    bb_le32(f, 0);
    bb_str(f, "WEBP");
    riff_chunk(f, "VP8X", "\x2C\0\0\0\0\0\0\0\0\0", 10);
    riff_chunk(f, "EXIF", "Exif\0\0II*\0\x08\0\0\0", 14);
    riff_chunk(f, "XMP ", XMP_MAIN, strlen(XMP_MAIN));
    fx->c2pa_at = f->n;
    riff_chunk(f, "C2PA", fx->store.p, fx->store.n);
    fx->c2pa_len = f->n - fx->c2pa_at;
    fx->riff_end = f->n;
    bb_set_le32(f, 4, (uint32_t)(f->n - 8));
    bb_str(f, "junk");
}

static void test_webp_chunks(void)
{
    fixture fx;
    make_webp(&fx);
    CHECK(fx.store.n % 2 == 1);
    um_container c;
    walk(&fx.file, UM_FORMAT_WEBP, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_EXIF, &k), "II*\0\x08\0\0\0", 8));
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    check_store(&c, &fx, 1);
    k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_TRAILING, &k);
    CHECK(data_is(s, "junk", 4) && s->offset == fx.riff_end);
    CHECK(c.nnotes == 0 && c.nbox == 0);
    um_container_clear(&c);
    fixture_free(&fx);
}

/* ---- ISO BMFF (HEIF) ---- */

static const uint8_t C2PA_UUID[16] = {0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c,
                                      0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81};

static const char TIFF_BYTES[] = "MM\0*\0\0\0\x08rest-of-exif";

/* ftyp, meta{hdlr, iinf{infe hvc1 #1, infe Exif #2, infe mime XMP #3}, iloc v1}, mdat, uuid.
 * The Exif item is split in two extents; iloc is patched once mdat's position is known. */
static void make_bmff(fixture *fx)
{
    bytebuf *f = fixture_begin(fx, 30);
    size_t b = box_open(f, "ftyp");
    bb_str(f, "heic");
    bb_be32(f, 0);
    bb_str(f, "mif1heic");
    box_close(f, b);
    size_t meta = box_open(f, "meta");
    bb_be32(f, 0);
    b = box_open(f, "hdlr");
    bb_be32(f, 0);
    bb_be32(f, 0);
    bb_str(f, "pict");
    bb_put(f, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13);
    box_close(f, b);
    size_t iinf = box_open(f, "iinf");
    bb_be32(f, 0);
    bb_be16(f, 3);
    const char *types[3] = {"hvc1", "Exif", "mime"};
    for (unsigned id = 1; id <= 3; id++) {
        size_t e = box_open(f, "infe");
        bb_be32(f, 0x02000000);
        bb_be16(f, id);
        bb_be16(f, 0);
        bb_str(f, types[id - 1]);
        bb_u8(f, 0); /* empty item_name */
        if (id == 3)
            bb_put(f, "application/rdf+xml", 20);
        box_close(f, e);
    }
    box_close(f, iinf);
    size_t iloc = box_open(f, "iloc");
    bb_be32(f, 0x01000000);
    bb_u8(f, 0x44); /* offset_size 4, length_size 4 */
    bb_u8(f, 0x00); /* base_offset_size 0, index_size 0 */
    bb_be16(f, 2);
    bb_be16(f, 2); /* item 2 (Exif): method 0, two extents */
    bb_be16(f, 0);
    bb_be16(f, 0);
    bb_be16(f, 2);
    size_t ext_patch = f->n;
    bb_be32(f, 0);
    bb_be32(f, 10);
    bb_be32(f, 0);
    bb_be32(f, 0);
    bb_be16(f, 3); /* item 3 (XMP): one extent */
    bb_be16(f, 0);
    bb_be16(f, 0);
    bb_be16(f, 1);
    bb_be32(f, 0);
    bb_be32(f, (uint32_t)strlen(XMP_MAIN));
    box_close(f, iloc);
    box_close(f, meta);
    size_t mdat = box_open(f, "mdat");
    size_t exif_at = f->n;
    bb_be32(f, 6); /* offset to the TIFF header inside the item */
    bb_put(f, "Exif\0\0", 6);
    bb_put(f, TIFF_BYTES, sizeof TIFF_BYTES - 1);
    size_t exif_len = f->n - exif_at;
    size_t xmp_at = f->n;
    bb_str(f, XMP_MAIN);
    box_close(f, mdat);
    bb_set_be32(f, ext_patch, (uint32_t)exif_at);
    bb_set_be32(f, ext_patch + 8, (uint32_t)(exif_at + 10));
    bb_set_be32(f, ext_patch + 12, (uint32_t)(exif_len - 10));
    bb_set_be32(f, ext_patch + 24, (uint32_t)xmp_at);
    fx->c2pa_at = box_open(f, "uuid");
    bb_put(f, C2PA_UUID, 16);
    bb_be32(f, 0);
    bb_put(f, "manifest", 9);
    bb_be32(f, 0);
    bb_be32(f, 0);
    bb_put(f, fx->store.p, fx->store.n);
    box_close(f, fx->c2pa_at);
    fx->c2pa_len = f->n - fx->c2pa_at;
}

static void test_bmff_items_and_uuid(void)
{
    fixture fx;
    make_bmff(&fx);
    um_container c;
    walk_quiet(&fx.file, UM_FORMAT_HEIF, &c);
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_EXIF, &k);
    CHECK(data_is(s, TIFF_BYTES, sizeof TIFF_BYTES - 1));
    CHECK(s && strcmp(s->where, "Exif item 2") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    check_store(&c, &fx, 1);
    um_container_clear(&c);
    fixture_free(&fx);
}

/* ---- TIFF ---- */

static void make_tiff(fixture *fx, int loop)
{
    memset(fx, 0, sizeof *fx);
    bytebuf *f = &fx->file;
    bb_put(f, "II*\0", 4);
    bb_le32(f, 8);
    bb_le16(f, 3);
    bb_le16(f, 256); /* ImageWidth SHORT 1, inline */
    bb_le16(f, 3);
    bb_le32(f, 1);
    bb_le32(f, 64);
    bb_le16(f, 700); /* XMP, BYTE, at an offset */
    bb_le16(f, 1);
    bb_le32(f, (uint32_t)strlen(XMP_MAIN));
    bb_le32(f, 8 + 2 + 3 * 12 + 4);
    bb_le16(f, 33723); /* IPTC, UNDEFINED 3 bytes: inline */
    bb_le16(f, 7);
    bb_le32(f, 3);
    bb_put(f, "\x1c\x02\0\0", 4);
    bb_le32(f, loop ? 8 : 0);
    bb_str(f, XMP_MAIN);
}

static void test_tiff_tags(void)
{
    fixture fx;
    make_tiff(&fx, 0);
    const bytebuf *f = &fx.file;
    um_container c;
    walk(f, UM_FORMAT_TIFF, &c);
    size_t k = 0;
    const um_segment *s = um_container_next(&c, UM_SEG_EXIF, &k);
    CHECK(s && s->data == f->p && s->size == f->n && s->offset == 0);
    k = 0;
    s = um_container_next(&c, UM_SEG_XMP, &k);
    CHECK(data_is(s, XMP_MAIN, strlen(XMP_MAIN)) && strcmp(s->where, "IFD0 tag 700") == 0);
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_IPTC, &k), "\x1c\x02\0", 3));
    CHECK(c.nnotes == 0);
    um_container_clear(&c);
    fixture_free(&fx);
    make_tiff(&fx, 1); /* IFD0's next-IFD pointer points at itself */
    walk(f, UM_FORMAT_TIFF, &c);
    CHECK(has_note(&c, "loops"));
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_XMP, &k) != NULL);
    um_container_clear(&c);
    fixture_free(&fx);
}

/* ---- GIF, JPEG XL, sidecar ---- */

static void make_gif(fixture *fx)
{
    bytebuf *f = fixture_begin(fx, 300), *store = &fx->store;
    bb_put(f, "GIF89a\1\0\1\0\x80\0\0", 13);
    bb_put(f, "\0\0\0\xff\xff\xff", 6); /* 2-colour global table */
    bb_put(f, "\x21\xff\x0bXMP DataXMP", 14);
    bb_str(f, XMP_MAIN);
    bb_u8(f, 0x01);
    for (int v = 0xFF; v >= 0; v--)
        bb_u8(f, (unsigned)v);
    bb_u8(f, 0);
    bb_put(f, "\x21\xff\x0b" "C2PA_GIF\x01\0\0", 14);
    for (size_t at = 0; at < store->n; at += 255) {
        size_t n = store->n - at < 255 ? store->n - at : 255;
        bb_u8(f, (unsigned)n);
        bb_put(f, store->p + at, n);
    }
    bb_u8(f, 0);
    bb_put(f, "\x2c\0\0\0\0\1\0\1\0\0\x02\x02\x44\x01\0", 15); /* image: 2 bytes LZW data */
    bb_u8(f, 0x3B);
}

static void test_gif_xmp_and_c2pa(void)
{
    fixture fx;
    make_gif(&fx);
    um_container c;
    walk_quiet(&fx.file, UM_FORMAT_GIF, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    check_store(&c, &fx, 0);
    k = 0;
    CHECK(um_container_next(&c, UM_SEG_TRAILING, &k) == NULL);
    um_container_clear(&c);
    fixture_free(&fx);
}

static void make_jxl(fixture *fx)
{
    bytebuf *f = fixture_begin(fx, 20);
    bb_put(f, "\0\0\0\x0cJXL \r\n\x87\n", 12);
    size_t b = box_open(f, "ftyp");
    bb_str(f, "jxl ");
    bb_be32(f, 0);
    bb_str(f, "jxl ");
    box_close(f, b);
    b = box_open(f, "Exif");
    bb_be32(f, 0);
    bb_put(f, TIFF_BYTES, sizeof TIFF_BYTES - 1);
    box_close(f, b);
    b = box_open(f, "xml ");
    bb_str(f, XMP_MAIN);
    box_close(f, b);
    bb_put(f, fx->store.p, fx->store.n);
    b = box_open(f, "jxlc");
    bb_put(f, "\xff\x0a", 2);
    box_close(f, b);
}

static void test_jxl_and_sidecar(void)
{
    fixture fx;
    make_jxl(&fx);
    const bytebuf *store = &fx.store;
    um_container c;
    walk(&fx.file, UM_FORMAT_JXL, &c);
    size_t k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_EXIF, &k), TIFF_BYTES, sizeof TIFF_BYTES - 1));
    k = 0;
    CHECK(data_is(um_container_next(&c, UM_SEG_XMP, &k), XMP_MAIN, strlen(XMP_MAIN)));
    check_store(&c, &fx, 0);
    um_container_clear(&c);
    walk(store, UM_FORMAT_UNKNOWN, &c); /* a bare .c2pa sidecar */
    CHECK(c.c2pa == store->p && c.c2pa_size == store->n && c.c2pa_offset == 0);
    um_container_clear(&c);
    bytebuf bare = {0};
    bb_put(&bare, "\xff\x0a\0\0\0\0\0\0\0\0\0\0", 12);
    walk(&bare, UM_FORMAT_JXL, &c);
    CHECK(c.nseg == 0 && c.nnotes == 0);
    um_container_clear(&c);
    bb_free(&bare);
    fixture_free(&fx);
}

/* ---- every truncation of every fixture ---- */

/* Walk each prefix; results must stay inside the bytes given. */
static void walk_prefixes(const bytebuf *f, um_format fmt)
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

static void make_jpeg_complete(fixture *fx) { make_jpeg(fx, 0); }
static void make_tiff_no_loop(fixture *fx) { make_tiff(fx, 0); }

static void test_truncation_everywhere(void)
{
    static const struct {
        void (*make)(fixture *);
        um_format format;
        int store_alone; /* walk the fixture's bare store (a .c2pa sidecar) instead */
    } rows[] = {
        {make_jpeg_complete, UM_FORMAT_JPEG, 0}, {make_png, UM_FORMAT_PNG, 0},
        {make_webp, UM_FORMAT_WEBP, 0},          {make_bmff, UM_FORMAT_HEIF, 0},
        {make_tiff_no_loop, UM_FORMAT_TIFF, 0},  {make_gif, UM_FORMAT_GIF, 0},
        {make_jxl, UM_FORMAT_JXL, 0},            {make_jxl, UM_FORMAT_UNKNOWN, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fixture fx;
        rows[i].make(&fx);
        walk_prefixes(rows[i].store_alone ? &fx.store : &fx.file, rows[i].format);
        fixture_free(&fx);
    }
}

/* A truncated JPEG keeps what came before the damage and says where it stopped. */
static void test_truncated_jpeg_keeps_earlier_segments(void)
{
    fixture fx;
    make_jpeg(&fx, 0);
    bytebuf cut = fx.file;
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
    fixture_free(&fx);
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
