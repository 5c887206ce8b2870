/* Photoshop IRB, IPTC-IIM and APP12 Ducky readers on blocks built here: Save As quality, version
 * info, an IIM block with its digest current and stale, extended-length datasets, Latin-1 text,
 * truncation at every length. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "prov/irb.h"

/* "8BIM" + id + Pascal name padded to even + u32 size + data padded to even. */
static void block(bytebuf *o, unsigned id, const char *name, const void *data, size_t n)
{
    bb_put(o, "8BIM", 4);
    bb_be16(o, id);
    size_t len = strlen(name);
    bb_u8(o, (unsigned)len);
    bb_put(o, name, len);
    if ((1 + len) & 1)
        bb_u8(o, 0);
    bb_be32(o, (uint32_t)n);
    bb_put(o, data, n);
    if (n & 1)
        bb_u8(o, 0);
}

static void dataset(bytebuf *o, unsigned record, unsigned ds, const char *text)
{
    size_t n = strlen(text);
    bb_u8(o, 0x1C);
    bb_u8(o, record);
    bb_u8(o, ds);
    if (n < 0x8000) {
        bb_be16(o, (unsigned)n);
    } else { /* extended: 4 bytes of length follow */
        bb_be16(o, 0x8004);
        bb_be32(o, (uint32_t)n);
    }
    bb_put(o, text, n);
}

static void unicode(bytebuf *o, const char *ascii)
{
    bb_be32(o, (uint32_t)strlen(ascii));
    for (const char *p = ascii; *p; p++)
        bb_be16(o, (unsigned char)*p);
}

static void make_iim(bytebuf *iim, int utf8)
{
    *iim = (bytebuf){0};
    if (utf8)
        dataset(iim, 1, 90, "\x1b%G");
    dataset(iim, 2, 0, "\x00\x04");
    dataset(iim, 2, 5, "Rally in the square");
    dataset(iim, 2, 55, "20240501");
    dataset(iim, 2, 65, "Photo Mechanic");
    dataset(iim, 2, 70, "6.0");
    dataset(iim, 2, 80, "Ann Author");
    dataset(iim, 2, 80, "Bob Second");
    dataset(iim, 2, 105, "Crowds gather");
    dataset(iim, 2, 116, utf8 ? "\xC2\xA9 Agency" : "\xA9 Agency"); /* (c) in UTF-8 / Latin-1 */
}

static void md5_of(const uint8_t *p, size_t n, uint8_t out[16])
{
    unsigned len = 0;
    EVP_Digest(p, n, out, &len, EVP_md5(), NULL);
}

/* Quality, version info, thumbnail, IIM + current digest, in Photoshop's order. */
static void make_irb(bytebuf *o, const bytebuf *iim, int stale)
{
    *o = (bytebuf){0};
    bb_put(o, "Photoshop 3.0\0", 14);
    block(o, 0x0404, "", iim->p, iim->n);
    uint8_t digest[16];
    md5_of(iim->p, iim->n, digest);
    if (stale)
        digest[0] ^= 1;
    block(o, 0x0425, "", digest, 16);
    bytebuf thumb = {0};
    bb_be32(&thumb, 1);
    for (int i = 0; i < 6; i++)
        bb_be32(&thumb, 160);
    bb_put(&thumb, "\xFF\xD8\xFF\xE0\x00\x10JFIF\0\xFF\xD9", 14);
    block(o, 0x040C, "thumb", thumb.p, thumb.n);
    bb_free(&thumb);
    bytebuf vi = {0};
    bb_be32(&vi, 1);
    bb_u8(&vi, 1);
    unicode(&vi, "Adobe Photoshop");
    unicode(&vi, "Adobe Photoshop 2020");
    bb_be32(&vi, 1);
    block(o, 0x0421, "", vi.p, vi.n);
    bb_free(&vi);
    static const uint8_t quality[] = {0xFF, 0xFE, 0x01, 0x01, 0x00, 0x03}; /* q -2, prog, 3 */
    block(o, 0x0406, "", quality, sizeof quality);
}

/* Reads a Photoshop IRB (built into irb) holding a UTF-8 IIM block (built into iim) with a
 * current or stale digest. r points into irb: free irb after clearing r. */
static void read_photoshop_irb(int stale, bytebuf *iim, bytebuf *irb, um_irb *r)
{
    make_iim(iim, 1);
    make_irb(irb, iim, stale);
    CHECK(um_irb_read(irb->p, irb->n, r) == UM_OK);
}

static void test_photoshop_blocks(void)
{
    bytebuf iim, irb;
    um_irb r;
    read_photoshop_irb(0, &iim, &irb, &r);
    CHECK(r.valid && r.blocks == 5 && r.nnotes == 0);
    CHECK(r.has_quality && r.photoshop_quality == 2 && r.quality_format == 0x0101 &&
          r.quality_scans == 3);
    json_t *q = json_object_get(r.json, "jpeg_quality");
    CHECK(json_integer_value(json_object_get(q, "photoshop_quality")) == 2);
    CHECK(strcmp(json_string_value(json_object_get(q, "format")), "progressive") == 0);
    CHECK(json_integer_value(json_object_get(q, "scans")) == 5);
    CHECK(r.has_version_info && strcmp(r.writer_name, "Adobe Photoshop") == 0 &&
          strcmp(r.reader_name, "Adobe Photoshop 2020") == 0);
    CHECK(r.has_thumbnail && r.thumbnail_size == 14 && r.thumbnail[0] == 0xFF);
    CHECK(r.digest == UM_IPTC_DIGEST_CURRENT);
    CHECK(strcmp(json_string_value(json_object_get(r.json, "iptc_digest")), "current") == 0);
    CHECK(r.iim && r.iim_size == iim.n);
    CHECK(r.iptc.valid && r.iptc.utf8 && r.iptc.datasets == 10);
    CHECK(strcmp(r.iptc.object_name, "Rally in the square") == 0);
    CHECK(strcmp(r.iptc.date_created, "20240501") == 0);
    CHECK(strcmp(r.iptc.originating_program, "Photo Mechanic") == 0);
    CHECK(strcmp(r.iptc.program_version, "6.0") == 0);
    CHECK(strcmp(r.iptc.by_line, "Ann Author") == 0);
    CHECK(strcmp(r.iptc.headline, "Crowds gather") == 0);
    CHECK(strcmp(r.iptc.copyright, "\xC2\xA9 Agency") == 0);
    json_t *by = json_object_get(json_object_get(r.json, "iptc"), "by_line");
    CHECK(json_array_size(by) == 2);
    um_irb_clear(&r);
    CHECK(r.json == NULL);
    bb_free(&iim);
    bb_free(&irb);
}

static void test_digest_stale_and_missing(void)
{
    bytebuf iim, irb;
    um_irb r;
    read_photoshop_irb(1, &iim, &irb, &r);
    CHECK(r.digest == UM_IPTC_DIGEST_STALE);
    CHECK(strcmp(json_string_value(json_object_get(r.json, "iptc_digest")), "stale") == 0);
    um_irb_clear(&r);
    bb_free(&iim);
    bb_free(&irb);
    bytebuf only = {0};
    uint8_t digest[16] = {1};
    block(&only, 0x0425, "", digest, 16);
    CHECK(um_irb_read(only.p, only.n, &r) == UM_OK);
    CHECK(r.digest == UM_IPTC_DIGEST_NO_IPTC && !r.has_quality);
    um_irb_clear(&r);
    bb_free(&only);
}

/* Bare IIM (TIFF tag 33723): Latin-1 text, an extended-length caption, trailing padding. */
static void test_bare_iim(void)
{
    bytebuf iim;
    make_iim(&iim, 0);
    char *caption = malloc(40001);
    memset(caption, 'c', 40000);
    caption[40000] = '\0';
    dataset(&iim, 2, 120, caption);
    bb_put(&iim, "\0\0\0", 3);
    um_iptc t;
    CHECK(um_iptc_read(iim.p, iim.n, &t) == UM_OK);
    CHECK(t.valid && !t.utf8);
    CHECK(strcmp(t.copyright, "\xC2\xA9 Agency") == 0); /* Latin-1 read as such */
    CHECK(strlen(t.caption) == sizeof t.caption - 1);   /* long caption cut in the facts */
    CHECK(json_object_get(t.json, "notes") == NULL);    /* zero padding is not damage */
    um_iptc_clear(&t);
    bb_free(&iim);
    free(caption);
    /* garbage after the datasets, and a dataset longer than the data */
    static const uint8_t bad[] = {0x1C, 2, 5, 0, 2, 'o', 'k', 0x55, 0x1C};
    CHECK(um_iptc_read(bad, sizeof bad, &t) == UM_OK);
    CHECK(t.datasets == 1 && strcmp(t.object_name, "ok") == 0);
    CHECK(json_array_size(json_object_get(t.json, "notes")) == 1);
    um_iptc_clear(&t);
    static const uint8_t longer[] = {0x1C, 2, 5, 0x80, 0x04, 0x7F, 0xFF, 0xFF, 0xFF, 'x'};
    CHECK(um_iptc_read(longer, sizeof longer, &t) == UM_OK && t.datasets == 0 && !t.valid);
    um_iptc_clear(&t);
}

/* Every prefix of a full IRB parses without harm. */
static void test_truncated_everywhere(void)
{
    bytebuf iim, irb;
    make_iim(&iim, 1);
    make_irb(&irb, &iim, 0);
    for (size_t n = 0; n <= irb.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, irb.p, n);
        um_irb r;
        CHECK(um_irb_read(copy, n, &r) == UM_OK && r.json);
        if (r.iim)
            CHECK(r.iim + r.iim_size <= copy + n);
        um_irb_clear(&r);
        um_iptc t;
        CHECK(um_iptc_read(copy, n < iim.n ? n : iim.n, &t) == UM_OK);
        um_iptc_clear(&t);
        free(copy);
    }
    bb_free(&iim);
    bb_free(&irb);
}

static void test_ducky(void)
{
    bytebuf d = {0};
    bb_put(&d, "Ducky", 5);
    bb_be16(&d, 1);
    bb_be16(&d, 4);
    bb_be32(&d, 62);
    bb_be16(&d, 2);
    bb_be16(&d, 4 + 2 * 2);
    bb_be32(&d, 2);
    bb_be16(&d, 'h');
    bb_be16(&d, 'i');
    bb_be16(&d, 0);
    um_ducky k;
    CHECK(um_ducky_read(d.p, d.n, &k) == UM_OK);
    CHECK(k.has_quality && k.quality == 62);
    CHECK(json_integer_value(json_object_get(k.json, "quality")) == 62);
    CHECK(strcmp(json_string_value(json_object_get(k.json, "comment")), "hi") == 0);
    um_ducky_clear(&k);
    CHECK(um_ducky_read(d.p + 5, 6, &k) == UM_OK && !k.has_quality); /* cut inside tag 1 */
    um_ducky_clear(&k);
    bb_free(&d);
}

static const struct um_test_case cases[] = {
    {"photoshop_blocks", test_photoshop_blocks},
    {"digest_stale_and_missing", test_digest_stale_and_missing},
    {"bare_iim", test_bare_iim},
    {"truncated_everywhere", test_truncated_everywhere},
    {"ducky", test_ducky},
};
UM_TEST_MAIN(cases)
