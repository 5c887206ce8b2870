/* Photoshop IRB, IPTC-IIM and APP12 Ducky readers (provenance-markers.md 5.1; Adobe Photoshop
 * File Formats Specification, "Image resource blocks"; IPTC-NAA IIM 4.2 section 1.5). */
#include "prov/irb.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/text.h"

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int add_note(json_t *obj, int *count, const char *msg)
{
    (*count)++;
    json_t *notes = json_object_get(obj, "notes");
    if (!notes) {
        notes = json_array();
        if (json_object_set_new(obj, "notes", notes) != 0)
            return 1;
    }
    return json_array_size(notes) < 16 ? json_array_append_new(notes, json_string(msg)) : 0;
}

/* ---------------------------------------------------------------------------------------------
 * IPTC-IIM */

struct iim_field {
    int dataset;
    const char *key;
    size_t offset;  /* of the char array in um_iptc */
    size_t cap;
};

#define IIM_FIELD(ds, key, member)                                                            \
    { ds, key, offsetof(um_iptc, member), sizeof(((um_iptc *)0)->member) }

/* Record 2 (application record) datasets kept as facts. */
static const struct iim_field iim_fields[] = {
    IIM_FIELD(5, "object_name", object_name),
    IIM_FIELD(55, "date_created", date_created),
    IIM_FIELD(65, "originating_program", originating_program),
    IIM_FIELD(70, "program_version", program_version),
    IIM_FIELD(80, "by_line", by_line),
    IIM_FIELD(105, "headline", headline),
    IIM_FIELD(116, "copyright", copyright),
    IIM_FIELD(120, "caption", caption),
};

/* Store dataset 2:ds; by-line is repeatable and becomes a JSON array. */
static int store_iim_text(um_iptc *t, int ds, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < sizeof iim_fields / sizeof iim_fields[0]; i++) {
        const struct iim_field *f = &iim_fields[i];
        if (f->dataset != ds)
            continue;
        char *s = um_text_dup(d, n, 1);
        if (!s)
            return 1;
        char *field = (char *)t + f->offset;
        int r = 0;
        if (ds == 80) {
            json_t *a = json_object_get(t->json, f->key);
            if (!a) {
                a = json_array();
                r |= json_object_set_new(t->json, f->key, a);
            }
            if (!field[0])
                um_text_copy(field, f->cap, s);
            if (a && json_array_size(a) < 32)
                r |= json_array_append_new(a, um_json_cstr(s));
        } else {
            um_text_copy(field, f->cap, s);
            r |= json_object_set_new(t->json, f->key, um_json_cstr(field));
        }
        free(s);
        return r;
    }
    return 0;
}

/* Length of the dataset whose 5-byte header is at d[pos]: standard (15 bits) or extended (the
 * 15 bits give how many following bytes hold the length, IIM 1.5.2). 0 when malformed. */
static int iim_length(const uint8_t *d, size_t size, size_t pos, size_t *data_at, size_t *len)
{
    uint32_t l = be16(d + pos + 3);
    size_t at = pos + 5;
    if (l & 0x8000) {
        uint32_t nbytes = l & 0x7FFF;
        if (nbytes == 0 || nbytes > 4 || nbytes > size - at)
            return 0;
        uint64_t v = 0;
        for (uint32_t i = 0; i < nbytes; i++)
            v = v << 8 | d[at + i];
        at += nbytes;
        l = (uint32_t)v;
        if (v > UINT32_MAX)
            return 0;
    }
    if (l > size - at)
        return 0;
    *data_at = at;
    *len = l;
    return 1;
}

static int only_zeros(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i])
            return 0;
    return 1;
}

um_error um_iptc_read(const uint8_t *iim, size_t size, um_iptc *out)
{
    memset(out, 0, sizeof *out);
    out->json = json_object();
    if (!out->json)
        return UM_ERR_NOMEM;
    int r = 0, nnotes = 0;
    size_t pos = 0;
    while (pos < size && !r) {
        if (iim[pos] != 0x1C) {
            if (!only_zeros(iim + pos, size - pos))
                r |= add_note(out->json, &nnotes, "IPTC data has bytes that are not a dataset; "
                                                  "the rest was not read");
            break;
        }
        size_t at, len;
        if (size - pos < 5 || !iim_length(iim, size, pos, &at, &len)) {
            r |= add_note(out->json, &nnotes, "IPTC dataset truncated or with a bad length");
            break;
        }
        if (out->datasets >= UM_IIM_MAX_DATASETS) {
            r |= add_note(out->json, &nnotes, "too many IPTC datasets; the rest were not read");
            break;
        }
        int record = iim[pos + 1], dataset = iim[pos + 2];
        out->datasets++;
        /* 1:90 coded character set: ESC % G announces UTF-8 (ISO 2022). */
        if (record == 1 && dataset == 90 && len >= 3 && memcmp(iim + at, "\x1b%G", 3) == 0)
            out->utf8 = 1;
        if (record == 2)
            r |= store_iim_text(out, dataset, iim + at, len);
        pos = at + len;
    }
    out->valid = out->datasets > 0;
    r |= json_object_set_new(out->json, "datasets", json_integer(out->datasets));
    if (out->utf8)
        r |= json_object_set_new(out->json, "charset", json_string("utf-8"));
    if (r) {
        um_iptc_clear(out);
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

void um_iptc_clear(um_iptc *iptc)
{
    if (!iptc)
        return;
    json_decref(iptc->json);
    memset(iptc, 0, sizeof *iptc);
}

/* ---------------------------------------------------------------------------------------------
 * Image resource blocks */

struct block {
    uint16_t id;
    size_t offset;  /* of the "8BIM" signature in the payload */
    const uint8_t *data;
    size_t size;
};

/* 0x0406: int16 q (-4..8; Save As quality = q + 4), u16 format, u16 progressive scans. */
static int read_quality(um_irb *irb, const struct block *b)
{
    if (b->size < 6)
        return add_note(irb->json, &irb->nnotes, "JPEG quality block (0x0406) too short");
    int q = (int16_t)be16(b->data);
    irb->has_quality = 1;
    irb->photoshop_quality = q + 4;
    irb->quality_format = (int)be16(b->data + 2);
    irb->quality_scans = (int)be16(b->data + 4);
    const char *format = irb->quality_format == 0        ? "standard"
                         : irb->quality_format == 1      ? "optimized"
                         : irb->quality_format == 0x0101 ? "progressive"
                                                         : "unknown";
    json_t *o = json_pack("{s:i,s:s}", "photoshop_quality", irb->photoshop_quality, "format",
                          format);
    if (o && irb->quality_format == 0x0101 && irb->quality_scans >= 1 && irb->quality_scans <= 3)
        json_object_set_new(o, "scans", json_integer(irb->quality_scans + 2));
    if (o && (q < -4 || q > 8))
        json_object_set_new(o, "out_of_range", json_true());
    return json_object_set_new(irb->json, "jpeg_quality", o);
}

/* A Photoshop "Unicode string": u32 count of UTF-16BE code units, then the units. */
static size_t read_unicode(const uint8_t *d, size_t n, char *dst, size_t cap, int *ok)
{
    *ok = 0;
    if (n < 4)
        return 0;
    uint64_t units = be32(d);
    if (units > (n - 4) / 2)
        return 0;
    char *s = um_text_dup_utf16(d + 4, (size_t)units * 2, 1);
    if (!s)
        return 0;
    um_text_copy(dst, cap, s);
    free(s);
    *ok = 1;
    return 4 + (size_t)units * 2;
}

/* 0x0421: u32 version, u8 has real merged data, writer name, reader name, u32 file version. */
static int read_version_info(um_irb *irb, const struct block *b)
{
    int ok1 = 0, ok2 = 0;
    if (b->size >= 5) {
        size_t used = read_unicode(b->data + 5, b->size - 5, irb->writer_name,
                                   sizeof irb->writer_name, &ok1);
        if (ok1)
            read_unicode(b->data + 5 + used, b->size - 5 - used, irb->reader_name,
                         sizeof irb->reader_name, &ok2);
    }
    if (!ok1)
        return add_note(irb->json, &irb->nnotes, "version info block (0x0421) malformed");
    irb->has_version_info = 1;
    json_t *o = json_pack("{s:s,s:s}", "writer", irb->writer_name, "reader", irb->reader_name);
    return json_object_set_new(irb->json, "version_info", o);
}

static int read_thumbnail(um_irb *irb, const struct block *b)
{
    irb->has_thumbnail = 1;
    if (b->size > 28) {
        irb->thumbnail = b->data + 28;
        irb->thumbnail_size = b->size - 28;
    }
    json_t *o = json_pack("{s:I,s:b}", "bytes", (json_int_t)irb->thumbnail_size, "bgr",
                          b->id == 0x0409);
    return json_object_set_new(irb->json, "thumbnail", o);
}

static int read_iim_block(um_irb *irb, const struct block *b)
{
    if (irb->iim) /* only the first one counts (Photoshop writes one) */
        return add_note(irb->json, &irb->nnotes, "more than one IPTC block (0x0404)");
    irb->iim = b->data;
    irb->iim_size = b->size;
    if (um_iptc_read(b->data, b->size, &irb->iptc) != UM_OK)
        return 1;
    return json_object_set(irb->json, "iptc", irb->iptc.json);
}

static int md5(const uint8_t *d, size_t n, uint8_t out[16])
{
    unsigned int len = 0;
    return EVP_Digest(d, n, out, &len, EVP_md5(), NULL) == 1 && len == 16;
}

/* 0x0425 against the MD5 of the IIM block: Photoshop stores the digest on save; other tools
 * that change the IPTC leave it behind (exiftool: "IPTCDigest is not current"). */
static int check_digest(um_irb *irb, const struct block *digest)
{
    const char *state;
    if (digest->size < 16) {
        return add_note(irb->json, &irb->nnotes, "IPTC digest block (0x0425) too short");
    } else if (!irb->iim) {
        irb->digest = UM_IPTC_DIGEST_NO_IPTC;
        state = "no_iptc";
    } else {
        uint8_t h[16];
        if (!md5(irb->iim, irb->iim_size, h))
            return add_note(irb->json, &irb->nnotes, "MD5 unavailable; IPTC digest not checked");
        irb->digest = memcmp(h, digest->data, 16) == 0 ? UM_IPTC_DIGEST_CURRENT
                                                        : UM_IPTC_DIGEST_STALE;
        state = irb->digest == UM_IPTC_DIGEST_CURRENT ? "current" : "stale";
    }
    return json_object_set_new(irb->json, "iptc_digest", json_string(state));
}

/* Parse the block at pos; 0 when the rest is not a block (*b untouched). */
static int next_block(const uint8_t *d, size_t size, size_t pos, struct block *b, size_t *next)
{
    if (size - pos < 12)
        return 0;
    const uint8_t *p = d + pos;
    if (memcmp(p, "8BIM", 4) != 0 && memcmp(p, "MeSa", 4) != 0 && memcmp(p, "PHUT", 4) != 0 &&
        memcmp(p, "AgHg", 4) != 0 && memcmp(p, "DCSR", 4) != 0)
        return 0;
    size_t name_len = p[6];
    size_t name_total = (1 + name_len + 1) & ~(size_t)1; /* padded to even */
    size_t at = pos + 6 + name_total;
    if (at > size || size - at < 4)
        return 0;
    uint64_t len = be32(d + at);
    at += 4;
    if (len > size - at)
        return 0;
    b->id = (uint16_t)be16(p + 4);
    b->offset = pos;
    b->data = d + at;
    b->size = (size_t)len;
    uint64_t end = at + len + (len & 1);
    *next = end > size ? size : (size_t)end;
    return memcmp(p, "8BIM", 4) == 0 ? 1 : 2;
}

static int read_blocks(um_irb *irb, const uint8_t *d, size_t size, json_t *ids)
{
    struct block digest = {0};
    int has_digest = 0, r = 0;
    size_t pos = 0;
    while (pos < size && !r) {
        struct block b;
        size_t next;
        int kind = next_block(d, size, pos, &b, &next);
        if (!kind) {
            if (!only_zeros(d + pos, size - pos))
                r |= add_note(irb->json, &irb->nnotes,
                              "image resource data ends in bytes that are not a block");
            break;
        }
        if (irb->blocks >= UM_IRB_MAX_BLOCKS) {
            r |= add_note(irb->json, &irb->nnotes, "too many resource blocks; rest not read");
            break;
        }
        irb->blocks++;
        pos = next;
        if (kind != 1)
            continue;
        char hex[8];
        snprintf(hex, sizeof hex, "0x%04X", b.id);
        if (json_array_size(ids) < 256)
            r |= json_array_append_new(ids, json_string(hex));
        switch (b.id) {
        case 0x0404: r |= read_iim_block(irb, &b); break;
        case 0x0406: r |= read_quality(irb, &b); break;
        case 0x0409:
        case 0x040C: r |= read_thumbnail(irb, &b); break;
        case 0x0421: r |= read_version_info(irb, &b); break;
        case 0x0422:
        case 0x0423: irb->has_exif = 1; break;
        case 0x0424: irb->has_xmp = 1; break;
        case 0x0425:
            digest = b;
            has_digest = 1;
            break;
        default: break;
        }
    }
    if (has_digest && !r)
        r |= check_digest(irb, &digest); /* after the walk: the digest may precede 0x0404 */
    return r;
}

um_error um_irb_read(const uint8_t *payload, size_t size, um_irb *out)
{
    memset(out, 0, sizeof *out);
    out->json = json_object();
    json_t *ids = json_array();
    if (!out->json || !ids) {
        json_decref(ids);
        um_irb_clear(out);
        return UM_ERR_NOMEM;
    }
    if (size >= 14 && memcmp(payload, "Photoshop 3.0\0", 14) == 0) {
        payload += 14;
        size -= 14;
    }
    int r = json_object_set_new(out->json, "block_ids", ids);
    r |= read_blocks(out, payload, size, ids);
    out->valid = out->blocks > 0;
    r |= json_object_set_new(out->json, "blocks", json_integer(out->blocks));
    if (out->has_xmp)
        r |= json_object_set_new(out->json, "xmp_block", json_true());
    if (out->has_exif)
        r |= json_object_set_new(out->json, "exif_block", json_true());
    if (r) {
        um_irb_clear(out);
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

void um_irb_clear(um_irb *irb)
{
    if (!irb)
        return;
    um_iptc_clear(&irb->iptc);
    json_decref(irb->json);
    memset(irb, 0, sizeof *irb);
}

/* ---------------------------------------------------------------------------------------------
 * APP12 Ducky */

um_error um_ducky_read(const uint8_t *payload, size_t size, um_ducky *out)
{
    memset(out, 0, sizeof *out);
    out->json = json_object();
    if (!out->json)
        return UM_ERR_NOMEM;
    if (size >= 5 && memcmp(payload, "Ducky", 5) == 0) {
        payload += 5;
        size -= 5;
    }
    int r = 0;
    size_t pos = 0;
    for (int records = 0; pos + 2 <= size && records < 64; records++) {
        uint32_t tag = be16(payload + pos);
        if (tag == 0 || size - pos < 4)
            break;
        uint32_t len = be16(payload + pos + 2);
        const uint8_t *d = payload + pos + 4;
        if (len > size - pos - 4)
            break;
        if (tag == 1 && len >= 4) {
            out->has_quality = 1;
            out->quality = (int)(be32(d) > 100 ? 100 : be32(d));
            r |= json_object_set_new(out->json, "quality", json_integer(out->quality));
        } else if ((tag == 2 || tag == 3) && len >= 4) {
            /* comment / copyright: u32 count, then UTF-16BE */
            size_t units = be32(d);
            if (units > (len - 4) / 2)
                units = (len - 4) / 2;
            char *s = um_text_dup_utf16(d + 4, units * 2, 1);
            r |= s == NULL;
            if (s)
                r |= json_object_set_new(out->json, tag == 2 ? "comment" : "copyright",
                                         um_json_cstr(s));
            free(s);
        }
        pos += 4 + len;
    }
    if (r) {
        um_ducky_clear(out);
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

void um_ducky_clear(um_ducky *d)
{
    if (!d)
        return;
    json_decref(d->json);
    memset(d, 0, sizeof *d);
}
