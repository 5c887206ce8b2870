/* Container walkers: list the metadata payloads a file carries, with their byte ranges, without
 * decoding pixels. One walker per format; the byte layouts are those of provenance-markers.md
 * section 1.1 (where a C2PA store lives), section 3 "Where XMP sits" and section 5.1 (EXIF, IRB,
 * Ducky). Every read is bounds-checked against data/size; a damaged structure ends that
 * format's walk with a note (what, at which offset), keeping what was found before it. */
#include "prov/containers.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EXT_XMP_MAX (16u << 20)   /* one reassembled extended-XMP packet */
#define EXT_XMP_MAX_CHUNKS 1024   /* 16 MiB / 65000-byte chunks is ~260 */
#define BMFF_MAX_ITEMS 64         /* Exif/XMP items remembered from iinf */
#define BMFF_MAX_EXTENTS 256      /* extents concatenated for one item */
#define PURPOSE_MAX 64            /* C2PA uuid box purpose string */

/* ---- bytes ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* [off, off + len) lies inside [0, size), without overflowing. */
static int fits(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static int starts(const uint8_t *p, size_t n, const char *prefix, size_t plen)
{
    return n >= plen && memcmp(p, prefix, plen) == 0;
}

/* ---- the walker: the container being filled, and its growth ---- */

typedef struct walker {
    const uint8_t *data;
    size_t size;
    um_container *c;
    size_t seg_cap, box_cap, owned_cap;
    size_t copied; /* bytes produced by inflation or extent concatenation (shared budget): the
                      payloads that are not bounded by the file size */
    int nomem;
    int seg_full, box_full; /* cap reached (noted once) */
} walker;

static void note(walker *w, const char *fmt, ...)
{
    um_container *c = w->c;
    if (c->nnotes >= UM_PROV_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->notes[c->nnotes], sizeof c->notes[0], fmt, ap);
    va_end(ap);
    c->nnotes++;
}

/* Make room for element n of an array of capacity *cap (doubling). */
static void *grow(walker *w, void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, ncap * elem);
    if (!p) {
        w->nomem = 1;
        return NULL;
    }
    *cap = ncap;
    return p;
}

/* Hand buf to the container (freed by um_container_clear); NULL (buf freed) on failure. */
static uint8_t *own(walker *w, uint8_t *buf)
{
    um_container *c = w->c;
    uint8_t **arr = grow(w, c->owned, &w->owned_cap, c->nowned, sizeof *arr);
    if (!arr) {
        free(buf);
        return NULL;
    }
    c->owned = arr;
    c->owned[c->nowned++] = buf;
    return buf;
}

static um_segment *add_seg(walker *w, um_seg_kind kind, uint64_t off, uint64_t len,
                           const uint8_t *p, size_t n, const char *where)
{
    um_container *c = w->c;
    if (w->nomem)
        return NULL;
    if (c->nseg >= UM_PROV_MAX_SEGMENTS) {
        if (!w->seg_full)
            note(w, "more than %d metadata segments: the rest are not listed",
                 UM_PROV_MAX_SEGMENTS);
        w->seg_full = 1;
        return NULL;
    }
    um_segment *arr = grow(w, c->seg, &w->seg_cap, c->nseg, sizeof *arr);
    if (!arr)
        return NULL;
    c->seg = arr;
    um_segment *s = &c->seg[c->nseg++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->offset = off;
    s->length = len;
    s->data = p;
    s->size = n;
    snprintf(s->where, sizeof s->where, "%s", where);
    return s;
}

/* Text copied from the file into keys and notes stays printable ASCII (the JSON needs UTF-8). */
static char printable(uint8_t b) { return (b >= 0x20 && b < 0x7F) ? (char)b : '?'; }

static void fourcc(char out[5], const uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        out[i] = printable(p[i]);
    out[4] = '\0';
}

/* Keywords are Latin-1 in PNG; keep printable bytes, replace the rest, so key is a C string. */
static void set_key(um_segment *s, const uint8_t *p, size_t n)
{
    if (!s)
        return;
    if (n > sizeof s->key - 1)
        n = sizeof s->key - 1;
    for (size_t i = 0; i < n; i++)
        s->key[i] = printable(p[i]);
    s->key[n] = '\0';
}

static void add_span(walker *w, const char *name, uint64_t off, uint64_t len)
{
    um_container *c = w->c;
    if (w->nomem)
        return;
    if (c->nbox >= UM_PROV_MAX_BOXES) {
        if (!w->box_full)
            note(w, "more than %d structural boxes: the box list is incomplete",
                 UM_PROV_MAX_BOXES);
        w->box_full = 1;
        return;
    }
    um_box_span *arr = grow(w, c->box, &w->box_cap, c->nbox, sizeof *arr);
    if (!arr)
        return;
    c->box = arr;
    um_box_span *b = &c->box[c->nbox++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->offset = off;
    b->length = len;
}

/* A C2PA manifest store was found. Only one is allowed per asset (1.1): the first is the one
 * validated, later ones are counted (claim.multiple) and listed as segments. */
static void add_store(walker *w, const uint8_t *p, size_t n, uint64_t off, uint64_t len,
                      const char *where)
{
    um_container *c = w->c;
    c->c2pa_stores++;
    if (c->c2pa_stores == 1) {
        c->c2pa = p;
        c->c2pa_size = n;
        c->c2pa_offset = off;
        c->c2pa_length = len;
    } else {
        note(w, "another C2PA manifest store (%s at offset %llu): only one is allowed", where,
             (unsigned long long)off);
    }
    add_seg(w, UM_SEG_C2PA, off, len, p, n, where);
}

/* Inflate a zlib stream into a buffer the container owns. The budget is shared by all chunks
 * of the file so that many small bombs cannot add up (UM_PROV_MAX_INFLATED). NULL with a note
 * when the stream is damaged or too large. */
static const uint8_t *inflate_owned(walker *w, const uint8_t *p, size_t n, size_t *out_n,
                                    const char *what, uint64_t off)
{
    size_t budget = UM_PROV_MAX_INFLATED - w->copied;
    if (budget == 0 || n > UINT_MAX) {
        note(w, "%s at offset %llu: over the inflation limit, not read", what,
             (unsigned long long)off);
        return NULL;
    }
    size_t cap = n < budget / 4 ? n * 4 + 256 : budget;
    if (cap > budget)
        cap = budget;
    uint8_t *buf = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (!buf || inflateInit(&zs) != Z_OK) {
        free(buf);
        w->nomem = 1;
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    const char *problem = NULL;
    for (;;) {
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_MEM_ERROR) {
            w->nomem = 1;
            problem = "out of memory";
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            problem = "damaged compressed data";
            break;
        }
        if (zs.avail_out > 0) { /* room left and no progress: the input ended early */
            problem = "compressed data ends early";
            break;
        }
        if (cap == budget) {
            problem = "inflates beyond the limit";
            break;
        }
        size_t ncap = cap * 2 < budget ? cap * 2 : budget;
        uint8_t *nb = realloc(buf, ncap);
        if (!nb) {
            w->nomem = 1;
            problem = "out of memory";
            break;
        }
        buf = nb;
        cap = ncap;
    }
    size_t got = zs.total_out;
    inflateEnd(&zs);
    if (problem) {
        free(buf);
        if (!w->nomem)
            note(w, "%s at offset %llu: %s, not read", what, (unsigned long long)off, problem);
        return NULL;
    }
    w->copied += got;
    *out_n = got;
    return own(w, buf);
}

/* ==== JPEG (marker segments; APP payloads per 1.1, 3 and 5.1) ==== */

#define XMP_SIG "http://ns.adobe.com/xap/1.0/"      /* + NUL: 29 bytes */
#define EXT_XMP_SIG "http://ns.adobe.com/xmp/extension/" /* + NUL: 35 bytes */

typedef struct ext_chunk {
    char guid[33];
    uint32_t full, off;
    const uint8_t *p;
    size_t n;
    uint64_t seg_off, seg_end;
} ext_chunk;

typedef struct jpeg_state {
    walker *w;
    /* APP11 C2PA reassembly (1.1 "Reassembly") */
    int c2pa_active;
    uint16_t en;
    uint32_t next_z;
    uint64_t declared; /* LBox, or XLBox when LBox == 1 */
    size_t skip;       /* payload bytes before the slice in a continuation: 16, or 24 with XLBox */
    uint8_t *buf;
    size_t len, cap;
    uint64_t first, end; /* file range of the run */
    /* extended XMP chunks, reassembled at the end */
    ext_chunk *ext;
    size_t next, ext_cap;
    int icc_seen;
} jpeg_state;

static void marker_name(uint8_t m, char name[8])
{
    static const struct {
        uint8_t m;
        const char *name;
    } fixed[] = {{0xD8, "SOI"}, {0xD9, "EOI"}, {0xDA, "SOS"}, {0xDB, "DQT"}, {0xC4, "DHT"},
                 {0xDD, "DRI"}, {0xFE, "COM"}, {0xCC, "DAC"}, {0xC8, "JPG"}, {0xDC, "DNL"},
                 {0xDE, "DHP"}, {0xDF, "EXP"}, {0x01, "TEM"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (fixed[i].m == m) {
            snprintf(name, 8, "%s", fixed[i].name);
            return;
        }
    }
    if (m >= 0xE0 && m <= 0xEF)
        snprintf(name, 8, "APP%d", m - 0xE0);
    else if (m >= 0xD0 && m <= 0xD7)
        snprintf(name, 8, "RST%d", m - 0xD0);
    else if (m >= 0xC0 && m <= 0xCF)
        snprintf(name, 8, "SOF%d", m - 0xC0);
    else
        snprintf(name, 8, "FF%02X", m);
}

static int c2pa_append(jpeg_state *st, const uint8_t *p, size_t n)
{
    if (n > st->cap - st->len) {
        size_t ncap = st->cap ? st->cap : 65536;
        while (ncap - st->len < n)
            ncap *= 2; /* bounded: the total never exceeds the file size */
        uint8_t *nb = realloc(st->buf, ncap);
        if (!nb) {
            st->w->nomem = 1;
            return 0;
        }
        st->buf = nb;
        st->cap = ncap;
    }
    memcpy(st->buf + st->len, p, n);
    st->len += n;
    return 1;
}

/* A continuation packet of the store being collected: CI, En, Z and the box header repeat
 * (16 bytes, 24 with an XLBox), then the next slice (1.1 step 2). Packets must come with
 * Z = previous + 1 and directly after the previous one (C2PA A.3.1). */
static void c2pa_continue(jpeg_state *st, uint64_t seg_off, uint64_t seg_end, const uint8_t *pl,
                          size_t n)
{
    walker *w = st->w;
    uint32_t z = be32(pl + 4);
    if (n < st->skip) {
        note(w, "APP11 at offset %llu: C2PA continuation packet too short",
             (unsigned long long)seg_off);
        w->c->c2pa_broken = 1;
        return;
    }
    if (z != st->next_z) {
        note(w, "APP11 at offset %llu: C2PA packet Z=%u where %u was expected",
             (unsigned long long)seg_off, z, st->next_z);
        w->c->c2pa_broken = 1;
    }
    if (seg_off != st->end) {
        note(w, "APP11 at offset %llu: C2PA packets are not contiguous",
             (unsigned long long)seg_off);
        w->c->c2pa_broken = 1;
    }
    st->next_z = z + 1;
    st->end = seg_end;
    c2pa_append(st, pl + st->skip, n - st->skip);
}

/* APP11: JPEG XT / JUMBF packets (1.1 table). Returns 1 when the segment belongs to a C2PA
 * store, so that its span is named "C2PA". */
static int jpeg_app11(jpeg_state *st, uint64_t seg_off, uint64_t seg_end, const uint8_t *pl,
                      size_t n)
{
    walker *w = st->w;
    if (n < 16 || pl[0] != 'J' || pl[1] != 'P')
        return 0;
    uint16_t en = be16(pl + 2);
    if (st->c2pa_active && en == st->en) {
        c2pa_continue(st, seg_off, seg_end, pl, n);
        return 1;
    }
    uint32_t lbox = be32(pl + 8);
    size_t hdr = lbox == 1 ? 24 : 16; /* CI En Z LBox TBox [XLBox] */
    /* a C2PA store starts with jumb, then a jumd whose UUID begins "c2pa" (1.1 identification) */
    if (n < hdr + 12 || memcmp(pl + 12, "jumb", 4) != 0 ||
        memcmp(pl + hdr + 4, "jumd", 4) != 0 || memcmp(pl + hdr + 8, "c2pa", 4) != 0)
        return 0;
    if (st->c2pa_active || st->len > 0 || w->c->c2pa_stores > 0) {
        w->c->c2pa_stores++;
        note(w, "APP11 at offset %llu: a second C2PA manifest store (only one is allowed)",
             (unsigned long long)seg_off);
        return 1;
    }
    uint32_t z = be32(pl + 4);
    if (z > 1) {
        note(w, "APP11 at offset %llu: the C2PA store starts at packet Z=%u",
             (unsigned long long)seg_off, z);
        w->c->c2pa_broken = 1;
    }
    st->c2pa_active = 1;
    st->en = en;
    st->next_z = z + 1;
    st->declared = lbox == 1 ? be64(pl + 16) : lbox;
    st->skip = hdr;
    st->first = seg_off;
    st->end = seg_end;
    c2pa_append(st, pl + 8, n - 8);
    return 1;
}

static void c2pa_finish(jpeg_state *st)
{
    walker *w = st->w;
    if (!st->c2pa_active) {
        free(st->buf);
        return;
    }
    if (st->declared != 0 && st->declared != st->len) {
        note(w, "C2PA store from APP11 is %zu bytes but its box header says %llu", st->len,
             (unsigned long long)st->declared);
        w->c->c2pa_broken = 1;
    }
    uint8_t *buf = st->buf;
    st->buf = NULL;
    if (w->nomem) {
        free(buf);
        return;
    }
    if (!buf || !own(w, buf))
        return;
    int stores = w->c->c2pa_stores; /* extra stores counted while walking come after this one */
    w->c->c2pa_stores = 0;
    add_store(w, buf, st->len, st->first, st->end - st->first, "APP11");
    w->c->c2pa_stores += stores;
}

static void jpeg_ext_xmp(jpeg_state *st, uint64_t seg_off, uint64_t seg_end, const uint8_t *pl,
                         size_t n)
{
    walker *w = st->w;
    size_t sig = sizeof EXT_XMP_SIG; /* includes the NUL */
    if (n < sig + 40) {
        note(w, "APP1 at offset %llu: extended XMP header too short", (unsigned long long)seg_off);
        return;
    }
    uint32_t full = be32(pl + sig + 32), off = be32(pl + sig + 36);
    size_t chunk = n - sig - 40;
    if (full == 0 || full > EXT_XMP_MAX || off > full || chunk > full - off) {
        note(w, "APP1 at offset %llu: extended XMP chunk %u+%zu of %u bytes is out of range",
             (unsigned long long)seg_off, off, chunk, full);
        return;
    }
    if (st->next >= EXT_XMP_MAX_CHUNKS) {
        note(w, "more than %d extended XMP chunks: the rest are ignored", EXT_XMP_MAX_CHUNKS);
        return;
    }
    ext_chunk *arr = grow(w, st->ext, &st->ext_cap, st->next, sizeof *arr);
    if (!arr)
        return;
    st->ext = arr;
    ext_chunk *e = &st->ext[st->next++];
    for (int i = 0; i < 32; i++)
        e->guid[i] = printable(pl[sig + i]);
    e->guid[32] = '\0';
    e->full = full;
    e->off = off;
    e->p = pl + sig + 40;
    e->n = chunk;
    e->seg_off = seg_off;
    e->seg_end = seg_end;
}

static int ext_cmp(const void *a, const void *b)
{
    const ext_chunk *x = a, *y = b;
    int g = strcmp(x->guid, y->guid);
    if (g)
        return g;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->seg_off < y->seg_off ? -1 : (x->seg_off > y->seg_off);
}

/* Chunks [i, j) share a GUID and are sorted by offset: copy them into one packet when they
 * cover [0, full) exactly (3 "Where XMP sits": reassembled by GUID in offset order). */
static void ext_assemble(walker *w, const ext_chunk *ch, size_t i, size_t j)
{
    uint32_t full = ch[i].full;
    uint64_t covered = 0, lo = ch[i].seg_off, hi = ch[i].seg_end;
    for (size_t k = i; k < j; k++) {
        if (ch[k].full != full || ch[k].off > covered) {
            note(w, "extended XMP %s: chunks are missing or disagree on the length", ch[i].guid);
            return;
        }
        if (ch[k].off + (uint64_t)ch[k].n > covered)
            covered = ch[k].off + (uint64_t)ch[k].n;
        lo = ch[k].seg_off < lo ? ch[k].seg_off : lo;
        hi = ch[k].seg_end > hi ? ch[k].seg_end : hi;
    }
    if (covered != full) {
        note(w, "extended XMP %s: %llu of %u bytes present", ch[i].guid,
             (unsigned long long)covered, full);
        return;
    }
    uint8_t *buf = malloc(full);
    if (!buf) {
        w->nomem = 1;
        return;
    }
    for (size_t k = i; k < j; k++)
        memcpy(buf + ch[k].off, ch[k].p, ch[k].n);
    if (!own(w, buf))
        return;
    um_segment *s = add_seg(w, UM_SEG_XMP_EXTENDED, lo, hi - lo, buf, full, "APP1 (extended XMP)");
    if (s)
        snprintf(s->key, sizeof s->key, "%s", ch[i].guid);
}

static void ext_finish(jpeg_state *st)
{
    if (st->next > 0 && !st->w->nomem) {
        qsort(st->ext, st->next, sizeof *st->ext, ext_cmp);
        for (size_t i = 0; i < st->next && !st->w->nomem;) {
            size_t j = i + 1;
            while (j < st->next && strcmp(st->ext[j].guid, st->ext[i].guid) == 0)
                j++;
            ext_assemble(st->w, st->ext, i, j);
            i = j;
        }
    }
    free(st->ext);
    st->ext = NULL;
}

/* One marker segment with a length: pick out the payloads of 1.1, 3 and 5.1. */
static int jpeg_segment(jpeg_state *st, uint8_t m, uint64_t off, uint64_t end, const uint8_t *pl,
                        size_t n)
{
    walker *w = st->w;
    uint64_t len = end - off;
    switch (m) {
    case 0xE1:
        if (n >= 6 && memcmp(pl, "Exif\0", 5) == 0)
            add_seg(w, UM_SEG_EXIF, off, len, pl + 6, n - 6, "APP1");
        else if (starts(pl, n, XMP_SIG, sizeof XMP_SIG))
            add_seg(w, UM_SEG_XMP, off, len, pl + sizeof XMP_SIG, n - sizeof XMP_SIG, "APP1");
        else if (starts(pl, n, EXT_XMP_SIG, sizeof EXT_XMP_SIG))
            jpeg_ext_xmp(st, off, end, pl, n);
        return 0;
    case 0xE2: /* "ICC_PROFILE\0", chunk number, chunk count */
        if (!st->icc_seen && n >= 14 && memcmp(pl, "ICC_PROFILE", 12) == 0) {
            st->icc_seen = 1;
            add_seg(w, UM_SEG_ICC, off, len, pl + 14, n - 14, "APP2");
        }
        return 0;
    case 0xEB:
        return jpeg_app11(st, off, end, pl, n);
    case 0xEC:
        if (starts(pl, n, "Ducky", 5))
            add_seg(w, UM_SEG_DUCKY, off, len, pl + 5, n - 5, "APP12");
        return 0;
    case 0xED:
        if (starts(pl, n, "Photoshop 3.0", 14))
            add_seg(w, UM_SEG_IRB, off, len, pl + 14, n - 14, "APP13");
        return 0;
    case 0xFE:
        add_seg(w, UM_SEG_COMMENT, off, len, pl, n, "COM");
        return 0;
    default:
        return 0;
    }
}

/* End of the entropy-coded data that follows an SOS header at p: the first FF that starts a
 * real marker. FF 00 is a stuffed data byte and RSTn markers belong to the scan (B.1.1.5);
 * a run of FF is fill before a marker. size when no marker follows. */
static size_t jpeg_scan_end(const uint8_t *d, size_t size, size_t p)
{
    while (p + 1 < size) {
        const uint8_t *ff = memchr(d + p, 0xFF, size - 1 - p);
        if (!ff)
            return size;
        size_t q = (size_t)(ff - d);
        uint8_t b = d[q + 1];
        if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) {
            p = q + 2;
            continue;
        }
        return q;
    }
    return size;
}

/* The APP11 packets of one store are one span "C2PA" (c2pa.hash.boxes). */
static void jpeg_span(walker *w, const char *name, uint64_t off, uint64_t len)
{
    um_container *c = w->c;
    if (strcmp(name, "C2PA") == 0 && c->nbox > 0) {
        um_box_span *last = &c->box[c->nbox - 1];
        if (strcmp(last->name, "C2PA") == 0 && last->offset + last->length == off) {
            last->length += len;
            return;
        }
    }
    add_span(w, name, off, len);
}

static void walk_jpeg(walker *w)
{
    const uint8_t *d = w->data;
    size_t size = w->size;
    if (size < 2 || d[0] != 0xFF || d[1] != 0xD8) {
        note(w, "JPEG: no SOI marker at offset 0");
        return;
    }
    jpeg_state st;
    memset(&st, 0, sizeof st);
    st.w = w;
    add_span(w, "SOI", 0, 2);
    size_t pos = 2;
    while (!w->nomem) {
        if (pos >= size) {
            note(w, "JPEG: the file ends at offset %zu without EOI", pos);
            break;
        }
        if (d[pos] != 0xFF) {
            note(w, "JPEG: expected a marker at offset %zu, found 0x%02X", pos, d[pos]);
            break;
        }
        size_t start = pos;
        while (pos < size && d[pos] == 0xFF) /* fill bytes (B.1.1.2) */
            pos++;
        if (pos >= size) {
            note(w, "JPEG: the file ends in a marker at offset %zu", start);
            break;
        }
        uint8_t m = d[pos++];
        size_t moff = pos - 2; /* the FF of this marker */
        char name[8];
        marker_name(m, name);
        if (m == 0xD9) {
            add_span(w, "EOI", start, pos - start);
            if (pos < size)
                add_seg(w, UM_SEG_TRAILING, pos, size - pos, d + pos, size - pos, "after EOI");
            break;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { /* no length field */
            add_span(w, name, start, pos - start);
            continue;
        }
        if (m == 0x00) {
            note(w, "JPEG: invalid marker FF 00 at offset %zu", moff);
            break;
        }
        if (size - pos < 2) {
            note(w, "JPEG: %s at offset %zu has no length", name, moff);
            break;
        }
        size_t lp = be16(d + pos);
        if (lp < 2 || lp > size - pos) {
            note(w, "JPEG: %s at offset %zu: length %zu runs past the end of the file", name,
                 moff, lp);
            break;
        }
        size_t end = pos + lp;
        if (m == 0xDA) {
            end = jpeg_scan_end(d, size, end);
            add_span(w, "SOS", start, end - start);
            pos = end;
            continue; /* the loop notes a missing EOI when the scan runs to the end */
        }
        int in_c2pa = jpeg_segment(&st, m, moff, end, d + pos + 2, lp - 2);
        jpeg_span(w, in_c2pa ? "C2PA" : name, start, end - start);
        pos = end;
    }
    c2pa_finish(&st);
    ext_finish(&st);
}

/* ==== PNG (chunks; text per PNG 1.2 11.3.4, caBX per 1.1) ==== */

#define XMP_KEY "XML:com.adobe.xmp"

/* Keyword and NUL at the start of a text chunk: 1..79 bytes. Returns the keyword length or -1. */
static int png_keyword(const uint8_t *p, size_t n)
{
    size_t lim = n < 80 ? n : 80;
    const uint8_t *z = memchr(p, 0, lim);
    if (!z || z == p)
        return -1;
    return (int)(z - p);
}

static void png_text_seg(walker *w, uint64_t off, uint64_t len, const uint8_t *key, int klen,
                         const uint8_t *text, size_t tn, const char *where)
{
    int is_xmp = (size_t)klen == strlen(XMP_KEY) && memcmp(key, XMP_KEY, (size_t)klen) == 0;
    um_segment *s = add_seg(w, is_xmp ? UM_SEG_XMP : UM_SEG_TEXT, off, len, text, tn, where);
    set_key(s, key, (size_t)klen);
}

static void png_text(walker *w, const char *type, uint64_t off, const uint8_t *p, size_t n)
{
    uint64_t len = 12 + (uint64_t)n;
    int klen = png_keyword(p, n);
    if (klen < 0) {
        note(w, "PNG: %s at offset %llu has no keyword", type, (unsigned long long)off);
        return;
    }
    size_t q = (size_t)klen + 1;
    if (strcmp(type, "tEXt") == 0) {
        png_text_seg(w, off, len, p, klen, p + q, n - q, type);
        return;
    }
    if (strcmp(type, "zTXt") == 0) { /* keyword NUL method(0) zlib-stream */
        size_t tn = 0;
        const uint8_t *t = NULL;
        if (q < n && p[q] == 0)
            t = inflate_owned(w, p + q + 1, n - q - 1, &tn, "PNG zTXt", off);
        else
            note(w, "PNG: zTXt at offset %llu: unknown compression", (unsigned long long)off);
        if (t)
            png_text_seg(w, off, len, p, klen, t, tn, type);
        return;
    }
    /* iTXt: keyword NUL flag method language NUL translated-keyword NUL text */
    if (n - q < 2) {
        note(w, "PNG: iTXt at offset %llu is truncated", (unsigned long long)off);
        return;
    }
    uint8_t flag = p[q], method = p[q + 1];
    size_t r = q + 2;
    for (int field = 0; field < 2; field++) { /* language tag, translated keyword */
        const uint8_t *z = r < n ? memchr(p + r, 0, n - r) : NULL;
        if (!z) {
            note(w, "PNG: iTXt at offset %llu is truncated", (unsigned long long)off);
            return;
        }
        r = (size_t)(z - p) + 1;
    }
    if (flag == 0) {
        png_text_seg(w, off, len, p, klen, p + r, n - r, type);
        return;
    }
    if (method != 0) {
        note(w, "PNG: iTXt at offset %llu: unknown compression", (unsigned long long)off);
        return;
    }
    size_t tn = 0;
    const uint8_t *t = inflate_owned(w, p + r, n - r, &tn, "PNG iTXt", off);
    if (t)
        png_text_seg(w, off, len, p, klen, t, tn, type);
}

static void png_chunk(walker *w, const char *type, uint64_t off, const uint8_t *p, size_t n)
{
    uint64_t len = 12 + (uint64_t)n;
    if (!strcmp(type, "tEXt") || !strcmp(type, "zTXt") || !strcmp(type, "iTXt")) {
        png_text(w, type, off, p, n);
    } else if (!strcmp(type, "eXIf")) {
        size_t skip = starts(p, n, "Exif\0\0", 6) ? 6 : 0; /* a few writers keep the APP1 prefix */
        add_seg(w, UM_SEG_EXIF, off, len, p + skip, n - skip, "eXIf");
    } else if (!strcmp(type, "caBX")) {
        add_store(w, p, n, off, len, "caBX chunk");
    } else if (!strcmp(type, "iCCP")) { /* name NUL method zlib-profile; first profile only */
        int klen = png_keyword(p, n);
        if (klen < 0 || (size_t)klen + 2 > n || um_container_next(w->c, UM_SEG_ICC, &(size_t){0}))
            return;
        size_t tn = 0;
        const uint8_t *t =
            inflate_owned(w, p + klen + 2, n - (size_t)klen - 2, &tn, "PNG iCCP", off);
        if (t)
            add_seg(w, UM_SEG_ICC, off, len, t, tn, "iCCP");
    }
}

static void walk_png(walker *w)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const uint8_t *d = w->data;
    size_t size = w->size;
    if (size < 8 || memcmp(d, sig, 8) != 0) {
        note(w, "PNG: no signature");
        return;
    }
    add_span(w, "PNGh", 0, 8);
    size_t pos = 8;
    int bad_crc = 0;
    while (!w->nomem) {
        if (pos == size) {
            note(w, "PNG: the file ends at offset %zu without IEND", pos);
            break;
        }
        if (size - pos < 12) {
            note(w, "PNG: truncated chunk at offset %zu", pos);
            break;
        }
        uint32_t n = be32(d + pos);
        const uint8_t *type = d + pos + 4;
        char name[8];
        fourcc(name, type);
        if (n > 0x7FFFFFFFu || n > size - pos - 12) {
            note(w, "PNG: chunk %s at offset %zu: length %u runs past the end of the file", name,
                 pos, n);
            break;
        }
        add_span(w, name, pos, 12 + (uint64_t)n);
        uLong crc = crc32(crc32(0L, Z_NULL, 0), type, (uInt)n + 4);
        if (crc != be32(d + pos + 8 + n) && bad_crc++ < 4)
            note(w, "PNG: chunk %s at offset %zu: CRC mismatch", name, pos);
        png_chunk(w, name, pos, d + pos + 8, n);
        pos += 12 + (size_t)n;
        if (memcmp(type, "IEND", 4) == 0) {
            if (pos < size)
                add_seg(w, UM_SEG_TRAILING, pos, size - pos, d + pos, size - pos, "after IEND");
            break;
        }
    }
}

/* ==== RIFF / WebP (little-endian chunks padded to even; 1.1 and 3) ==== */

static void riff_chunk(walker *w, const uint8_t *id, uint64_t off, uint64_t len, const uint8_t *p,
                       size_t n)
{
    if (memcmp(id, "EXIF", 4) == 0) {
        size_t skip = starts(p, n, "Exif\0\0", 6) ? 6 : 0;
        add_seg(w, UM_SEG_EXIF, off, len, p + skip, n - skip, "RIFF EXIF chunk");
    } else if (memcmp(id, "XMP ", 4) == 0) {
        add_seg(w, UM_SEG_XMP, off, len, p, n, "RIFF XMP chunk");
    } else if (memcmp(id, "C2PA", 4) == 0) {
        add_store(w, p, n, off, len, "RIFF C2PA chunk");
    } else if (memcmp(id, "ICCP", 4) == 0) {
        add_seg(w, UM_SEG_ICC, off, len, p, n, "RIFF ICCP chunk");
    }
}

static void walk_riff(walker *w)
{
    const uint8_t *d = w->data;
    size_t size = w->size;
    if (size < 12 || memcmp(d, "RIFF", 4) != 0) {
        note(w, "RIFF: no RIFF header");
        return;
    }
    uint64_t riff_end = 8 + (uint64_t)le32(d + 4);
    if (riff_end > size) {
        note(w, "RIFF: the header says %llu bytes, the file has %zu",
             (unsigned long long)riff_end, size);
        riff_end = size;
    }
    size_t pos = 12, count = 0;
    while (pos < riff_end && !w->nomem) {
        if (riff_end - pos < 8) {
            note(w, "RIFF: truncated chunk header at offset %zu", pos);
            break;
        }
        uint32_t n = le32(d + pos + 4);
        if (n > riff_end - pos - 8) {
            char id[5];
            fourcc(id, d + pos);
            note(w, "RIFF: chunk %s at offset %zu: size %u runs past the end", id, pos, n);
            break;
        }
        uint64_t total = 8 + (uint64_t)n + (n & 1u);
        if (total > riff_end - pos) /* a missing final pad byte is tolerated */
            total = riff_end - pos;
        riff_chunk(w, d + pos, pos, total, d + pos + 8, n);
        pos += (size_t)total;
        if (++count >= UM_PROV_MAX_BOXES) {
            note(w, "RIFF: more than %d chunks: the rest are not read", UM_PROV_MAX_BOXES);
            break;
        }
    }
    if (riff_end < size)
        add_seg(w, UM_SEG_TRAILING, riff_end, size - riff_end, d + riff_end,
                size - (size_t)riff_end, "after RIFF");
}

/* ==== ISO BMFF (HEIF/HEIC/AVIF) and the JPEG XL container ==== */

typedef struct bmff_box {
    uint64_t off, size, hdr; /* hdr: 8, or 16 with a largesize */
    char type[5];
} bmff_box;

/* The box at pos inside [.., end): size 0 = to the end, size 1 = u64 largesize (ISO 14496-12
 * 4.2). 0 with a note when the header does not fit. */
static int box_at(walker *w, uint64_t pos, uint64_t end, bmff_box *b, const char *ctx)
{
    const uint8_t *d = w->data;
    if (end - pos < 8) {
        note(w, "%s: truncated box header at offset %llu", ctx, (unsigned long long)pos);
        return 0;
    }
    uint64_t sz = be32(d + pos);
    b->hdr = 8;
    fourcc(b->type, d + pos + 4);
    if (sz == 1) {
        if (end - pos < 16) {
            note(w, "%s: truncated box header at offset %llu", ctx, (unsigned long long)pos);
            return 0;
        }
        sz = be64(d + pos + 8);
        b->hdr = 16;
    } else if (sz == 0) {
        sz = end - pos;
    }
    if (sz < b->hdr || sz > end - pos) {
        note(w, "%s: box '%s' at offset %llu: size %llu runs past its container", ctx, b->type,
             (unsigned long long)pos, (unsigned long long)sz);
        return 0;
    }
    b->off = pos;
    b->size = sz;
    return 1;
}

typedef struct bmff_item {
    uint32_t id;
    um_seg_kind kind; /* UM_SEG_EXIF or UM_SEG_XMP */
    int done;         /* already extracted: iloc may list an item twice */
} bmff_item;

/* NUL-terminated string at *p inside [.., end); advances past the NUL. */
static const char *cstr(walker *w, uint64_t *p, uint64_t end)
{
    if (*p >= end)
        return NULL;
    const uint8_t *z = memchr(w->data + *p, 0, (size_t)(end - *p));
    if (!z)
        return NULL;
    const char *s = (const char *)(w->data + *p);
    *p = (uint64_t)(z - w->data) + 1;
    return s;
}

/* infe version 2/3: item_ID, protection index, item_type; "mime" adds the content type
 * (ISO 23008-12 / 14496-12 8.11.6). */
static int bmff_infe(walker *w, uint64_t p, uint64_t end, bmff_item *item)
{
    const uint8_t *d = w->data;
    if (end - p < 4)
        return 0;
    uint8_t version = d[p];
    p += 4;
    if (version < 2 || version > 3)
        return 0;
    size_t idlen = version == 2 ? 2 : 4;
    if (end - p < idlen + 6)
        return 0;
    item->id = version == 2 ? be16(d + p) : be32(d + p);
    p += idlen + 2;
    const uint8_t *type = d + p;
    p += 4;
    if (memcmp(type, "Exif", 4) == 0) {
        item->kind = UM_SEG_EXIF;
        return 1;
    }
    if (memcmp(type, "mime", 4) != 0 || !cstr(w, &p, end)) /* item_name */
        return 0;
    const char *ct = cstr(w, &p, end);
    if (ct && strcmp(ct, "application/rdf+xml") == 0) {
        item->kind = UM_SEG_XMP;
        return 1;
    }
    return 0;
}

static size_t bmff_iinf(walker *w, uint64_t p, uint64_t end, bmff_item *items)
{
    const uint8_t *d = w->data;
    if (end - p < 6) {
        note(w, "BMFF: iinf box too short at offset %llu", (unsigned long long)p);
        return 0;
    }
    uint8_t version = d[p];
    p += 4;
    uint32_t count = version == 0 ? be16(d + p) : (end - p >= 4 ? be32(d + p) : 0);
    p += version == 0 ? 2 : 4;
    size_t n = 0;
    bmff_box b;
    for (uint32_t i = 0; i < count && p < end && n < BMFF_MAX_ITEMS; i++) {
        if (!box_at(w, p, end, &b, "BMFF iinf"))
            break;
        if (strcmp(b.type, "infe") == 0 && bmff_infe(w, b.off + b.hdr, b.off + b.size, &items[n]))
            n++;
        p = b.off + b.size;
    }
    return n;
}

/* Read an nbytes (0, 4 or 8; 2 for counts) big-endian unsigned at *p; 0 when it does not fit. */
static int rd_uint(walker *w, uint64_t *p, uint64_t end, unsigned nbytes, uint64_t *v)
{
    if (end - *p < nbytes)
        return 0;
    const uint8_t *q = w->data + *p;
    *v = nbytes == 8 ? be64(q) : nbytes == 4 ? be32(q) : nbytes == 2 ? be16(q) : 0;
    *p += nbytes;
    return 1;
}

typedef struct extent {
    uint64_t off, len;
} extent;

/* The bytes of one item: a single extent points into the file; several are concatenated into
 * an owned buffer. Then Exif items skip their u32 offset to the TIFF header (HEIF A.2.1). */
static void bmff_emit(walker *w, const bmff_item *it, const extent *ex, size_t nex)
{
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < nex; i++) {
        total += ex[i].len;
        lo = ex[i].off < lo ? ex[i].off : lo;
        hi = ex[i].off + ex[i].len > hi ? ex[i].off + ex[i].len : hi;
    }
    if (nex == 0 || (nex > 1 && total > UM_PROV_MAX_INFLATED - w->copied)) {
        note(w, "BMFF: item %u has no usable extents or is too large", it->id);
        return;
    }
    const uint8_t *p = w->data + ex[0].off;
    if (nex > 1) {
        uint8_t *buf = malloc(total ? (size_t)total : 1);
        if (!buf) {
            w->nomem = 1;
            return;
        }
        size_t at = 0;
        for (size_t i = 0; i < nex; i++) {
            memcpy(buf + at, w->data + ex[i].off, (size_t)ex[i].len);
            at += (size_t)ex[i].len;
        }
        if (!(p = own(w, buf)))
            return;
        w->copied += (size_t)total;
    }
    size_t n = (size_t)total;
    char where[48];
    if (it->kind == UM_SEG_EXIF) {
        uint32_t skip = n >= 4 ? be32(p) : UINT32_MAX;
        if (n < 4 || skip > n - 4) {
            note(w, "BMFF: Exif item %u: bad offset to the TIFF header", it->id);
            return;
        }
        snprintf(where, sizeof where, "Exif item %u", it->id);
        add_seg(w, UM_SEG_EXIF, lo, hi - lo, p + 4 + skip, n - 4 - skip, where);
    } else {
        snprintf(where, sizeof where, "XMP item %u", it->id);
        add_seg(w, UM_SEG_XMP, lo, hi - lo, p, n, where);
    }
}

static bmff_item *find_item(bmff_item *items, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].id == id && !items[i].done)
            return &items[i];
    return NULL;
}

/* iloc versions 0-2 (ISO 14496-12 8.11.3): locate the wanted items, construction method 0
 * (offsets in this file) only. */
static void bmff_iloc(walker *w, uint64_t p, uint64_t end, bmff_item *items, size_t nitems)
{
    const uint8_t *d = w->data;
    if (end - p < 6 || d[p] > 2) {
        note(w, "BMFF: iloc at offset %llu is too short or of an unknown version",
             (unsigned long long)p);
        return;
    }
    unsigned version = d[p];
    p += 4;
    unsigned off_sz = d[p] >> 4, len_sz = d[p] & 15, base_sz = d[p + 1] >> 4;
    unsigned idx_sz = version >= 1 ? (d[p + 1] & 15u) : 0;
    p += 2;
    unsigned sizes[4] = {off_sz, len_sz, base_sz, idx_sz};
    for (int i = 0; i < 4; i++) {
        if (sizes[i] != 0 && sizes[i] != 4 && sizes[i] != 8) {
            note(w, "BMFF: iloc field size %u is not allowed", sizes[i]);
            return;
        }
    }
    uint64_t count;
    if (!rd_uint(w, &p, end, version < 2 ? 2 : 4, &count))
        goto truncated;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id, method = 0, dref, base, next;
        if (!rd_uint(w, &p, end, version < 2 ? 2 : 4, &id))
            goto truncated;
        if (version >= 1 && !rd_uint(w, &p, end, 2, &method))
            goto truncated;
        if (!rd_uint(w, &p, end, 2, &dref) || !rd_uint(w, &p, end, base_sz, &base) ||
            !rd_uint(w, &p, end, 2, &next))
            goto truncated;
        bmff_item *it = find_item(items, nitems, id);
        extent ex[BMFF_MAX_EXTENTS];
        size_t nex = 0;
        int usable = it && (method & 15) == 0 && dref == 0;
        /* with all field sizes 0 an extent occupies no bytes: do not spin on 65535 of them */
        int empty = idx_sz + off_sz + len_sz == 0;
        for (uint64_t k = 0; k < next && !(empty && k >= BMFF_MAX_EXTENTS); k++) {
            uint64_t idx, eo, el;
            if (!rd_uint(w, &p, end, idx_sz, &idx) || !rd_uint(w, &p, end, off_sz, &eo) ||
                !rd_uint(w, &p, end, len_sz, &el))
                goto truncated;
            if (!usable)
                continue;
            if (eo > UINT64_MAX - base || nex >= BMFF_MAX_EXTENTS) {
                usable = 0;
                continue;
            }
            eo += base;
            if (el == 0 && eo <= w->size) /* length 0: the rest of the file */
                el = w->size - eo;
            if (!fits(eo, el, w->size)) {
                note(w, "BMFF: item %llu extent %llu+%llu lies outside the file",
                     (unsigned long long)id, (unsigned long long)eo, (unsigned long long)el);
                usable = 0;
                continue;
            }
            ex[nex].off = eo;
            ex[nex].len = el;
            nex++;
        }
        if (it && !usable && (method & 15) != 0)
            note(w, "BMFF: item %llu uses construction method %llu: not read",
                 (unsigned long long)id, (unsigned long long)(method & 15));
        else if (usable) {
            it->done = 1;
            bmff_emit(w, it, ex, nex);
        }
        if (w->nomem)
            return;
    }
    return;
truncated:
    note(w, "BMFF: iloc box is truncated");
}

/* meta (FullBox): find iinf and iloc, then resolve the Exif and XMP items. */
static void bmff_meta(walker *w, const bmff_box *meta)
{
    uint64_t p = meta->off + meta->hdr, end = meta->off + meta->size;
    if (end - p < 4) {
        note(w, "BMFF: meta box at offset %llu is too short", (unsigned long long)meta->off);
        return;
    }
    p += 4;
    bmff_box b, iinf = {0}, iloc = {0};
    size_t count = 0;
    while (p < end && count++ < UM_PROV_MAX_BOXES) {
        if (!box_at(w, p, end, &b, "BMFF meta"))
            break;
        if (strcmp(b.type, "iinf") == 0 && iinf.size == 0)
            iinf = b;
        else if (strcmp(b.type, "iloc") == 0 && iloc.size == 0)
            iloc = b;
        p = b.off + b.size;
    }
    if (iinf.size == 0 || iloc.size == 0)
        return;
    bmff_item items[BMFF_MAX_ITEMS];
    memset(items, 0, sizeof items);
    size_t n = bmff_iinf(w, iinf.off + iinf.hdr, iinf.off + iinf.size, items);
    if (n > 0)
        bmff_iloc(w, iloc.off + iloc.hdr, iloc.off + iloc.size, items, n);
}

static const uint8_t C2PA_UUID[16] = {0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c,
                                      0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81};
static const uint8_t XMP_UUID[16] = {0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8,
                                     0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac};

/* uuid box: C2PA (version/flags, purpose, for "manifest" a u64 merkle offset, then the store;
 * 1.1 "ISO BMFF") or XMP. */
static void bmff_uuid(walker *w, const bmff_box *b)
{
    const uint8_t *d = w->data;
    uint64_t p = b->off + b->hdr, end = b->off + b->size;
    if (end - p < 16)
        return;
    const uint8_t *uuid = d + p;
    p += 16;
    if (memcmp(uuid, XMP_UUID, 16) == 0) {
        add_seg(w, UM_SEG_XMP, b->off, b->size, d + p, (size_t)(end - p), "uuid box");
        return;
    }
    if (memcmp(uuid, C2PA_UUID, 16) != 0)
        return;
    if (end - p < 5) {
        note(w, "BMFF: C2PA uuid box at offset %llu is truncated", (unsigned long long)b->off);
        return;
    }
    p += 4;
    uint64_t lim = end - p > PURPOSE_MAX ? p + PURPOSE_MAX : end;
    const char *purpose = cstr(w, &p, lim);
    if (!purpose) {
        note(w, "BMFF: C2PA uuid box at offset %llu has no purpose", (unsigned long long)b->off);
        return;
    }
    if (strcmp(purpose, "manifest") != 0) {
        char shown[PURPOSE_MAX + 1];
        size_t k = 0;
        for (; purpose[k] && k < PURPOSE_MAX; k++)
            shown[k] = printable((uint8_t)purpose[k]);
        shown[k] = '\0';
        note(w, "BMFF: C2PA uuid box at offset %llu with purpose \"%s\" is not read",
             (unsigned long long)b->off, shown);
        return;
    }
    if (end - p < 8) {
        note(w, "BMFF: C2PA uuid box at offset %llu is truncated", (unsigned long long)b->off);
        return;
    }
    p += 8; /* merkle offset */
    add_store(w, d + p, (size_t)(end - p), b->off, b->size, "uuid box");
}

static void walk_bmff(walker *w)
{
    uint64_t p = 0, end = w->size;
    size_t count = 0;
    bmff_box b;
    while (p < end && !w->nomem) {
        if (count++ >= UM_PROV_MAX_BOXES) {
            note(w, "BMFF: more than %d top-level boxes: the rest are not read",
                 UM_PROV_MAX_BOXES);
            break;
        }
        if (!box_at(w, p, end, &b, "BMFF"))
            break;
        if (strcmp(b.type, "meta") == 0)
            bmff_meta(w, &b);
        else if (strcmp(b.type, "uuid") == 0)
            bmff_uuid(w, &b);
        p = b.off + b.size;
    }
}

/* JPEG XL container (ISO 18181-2): top-level jumb whose jumd label is "c2pa" is the store
 * (1.1 "JPEG XL"); Exif (u32 offset, then TIFF) and "xml " boxes. */
static int jumb_is_c2pa(walker *w, const bmff_box *b)
{
    bmff_box jd;
    uint64_t p = b->off + b->hdr, end = b->off + b->size;
    if (end - p < 8 || !box_at(w, p, end, &jd, "JXL jumb") || strcmp(jd.type, "jumd") != 0)
        return 0;
    uint64_t q = jd.off + jd.hdr, qend = jd.off + jd.size;
    if (qend - q < 17)
        return 0;
    uint8_t toggles = w->data[q + 16];
    q += 17;
    const char *label = (toggles & 0x02) ? cstr(w, &q, qend) : NULL;
    return label && strcmp(label, "c2pa") == 0;
}

static void walk_jxl(walker *w)
{
    const uint8_t *d = w->data;
    if (w->size >= 2 && d[0] == 0xFF && d[1] == 0x0A)
        return; /* bare codestream: no boxes, no metadata */
    uint64_t p = 0, end = w->size;
    size_t count = 0;
    bmff_box b;
    while (p < end && !w->nomem && count++ < UM_PROV_MAX_BOXES) {
        if (!box_at(w, p, end, &b, "JXL"))
            break;
        uint64_t q = b.off + b.hdr;
        size_t n = (size_t)(b.off + b.size - q);
        if (strcmp(b.type, "jumb") == 0 && jumb_is_c2pa(w, &b)) {
            add_store(w, d + b.off, (size_t)b.size, b.off, b.size, "jumb box");
        } else if (strcmp(b.type, "Exif") == 0) {
            uint32_t skip = n >= 4 ? be32(d + q) : UINT32_MAX;
            if (n < 4 || skip > n - 4)
                note(w, "JXL: Exif box at offset %llu: bad offset to the TIFF header",
                     (unsigned long long)b.off);
            else
                add_seg(w, UM_SEG_EXIF, b.off, b.size, d + q + 4 + skip, n - 4 - skip,
                        "Exif box");
        } else if (strcmp(b.type, "xml ") == 0) {
            add_seg(w, UM_SEG_XMP, b.off, b.size, d + q, n, "xml box");
        } else if (strcmp(b.type, "brob") == 0 && n >= 4) {
            char inner[5];
            fourcc(inner, d + q);
            note(w, "JXL: Brotli-compressed '%s' box at offset %llu is not read", inner,
                 (unsigned long long)b.off);
        }
        p = b.off + b.size;
    }
}

/* ==== TIFF (IFD chain; tags of 1.1 "TIFF", 3 and 5.1) ==== */

typedef struct tiff {
    const uint8_t *d;
    size_t size;
    int le;
} tiff;

static uint16_t t16(const tiff *t, size_t at) { return t->le ? le16(t->d + at) : be16(t->d + at); }
static uint32_t t32(const tiff *t, size_t at) { return t->le ? le32(t->d + at) : be32(t->d + at); }

static unsigned tiff_type_size(unsigned type)
{
    static const unsigned sz[14] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < 14 ? sz[type] : 0;
}

static void tiff_entry(walker *w, const tiff *t, int ifd, size_t e)
{
    unsigned tag = t16(t, e), type = t16(t, e + 2);
    uint32_t count = t32(t, e + 4);
    um_seg_kind kind;
    if (tag == 700)
        kind = UM_SEG_XMP;
    else if (tag == 33723)
        kind = UM_SEG_IPTC;
    else if (tag == 34377)
        kind = UM_SEG_IRB;
    else if (tag == 0xCD41 && type == 7)
        kind = UM_SEG_C2PA;
    else
        return;
    uint64_t n = (uint64_t)count * tiff_type_size(type);
    uint64_t off = n <= 4 ? e + 8 : t32(t, e + 8);
    if (n == 0 || !fits(off, n, t->size)) {
        note(w, "TIFF: IFD%d tag %u: value %llu+%llu lies outside the file", ifd, tag,
             (unsigned long long)off, (unsigned long long)n);
        return;
    }
    char where[48];
    snprintf(where, sizeof where, "IFD%d tag %u", ifd, tag);
    if (kind == UM_SEG_C2PA)
        add_store(w, t->d + off, (size_t)n, off, n, where);
    else
        add_seg(w, kind, off, n, t->d + off, (size_t)n, where);
}

static void walk_tiff(walker *w)
{
    tiff t = {w->data, w->size, 0};
    if (t.size < 8 || !(memcmp(t.d, "II*\0", 4) == 0 || memcmp(t.d, "MM\0*", 4) == 0)) {
        note(w, "TIFF: not a classic TIFF header (BigTIFF is not read)");
        return;
    }
    t.le = t.d[0] == 'I';
    add_seg(w, UM_SEG_EXIF, 0, t.size, t.d, t.size, "TIFF file");
    uint32_t seen[UM_PROV_MAX_DEPTH];
    uint32_t ifd = t32(&t, 4);
    for (int k = 0; ifd != 0 && !w->nomem; k++) {
        if (k >= UM_PROV_MAX_DEPTH) {
            note(w, "TIFF: more than %d IFDs: the rest are not read", UM_PROV_MAX_DEPTH);
            return;
        }
        for (int j = 0; j < k; j++) {
            if (seen[j] == ifd) {
                note(w, "TIFF: IFD%d at offset %u loops back to IFD%d", k, ifd, j);
                return;
            }
        }
        seen[k] = ifd;
        if (!fits(ifd, 2, t.size)) {
            note(w, "TIFF: IFD%d offset %u lies outside the file", k, ifd);
            return;
        }
        unsigned n = t16(&t, ifd);
        if (!fits((uint64_t)ifd + 2, 12ull * n + 4, t.size)) {
            note(w, "TIFF: IFD%d at offset %u is truncated", k, ifd);
            return;
        }
        for (unsigned i = 0; i < n; i++)
            tiff_entry(w, &t, k, (size_t)ifd + 2 + 12 * (size_t)i);
        ifd = t32(&t, (size_t)ifd + 2 + 12 * (size_t)n);
    }
}

/* ==== GIF (blocks and sub-blocks, GIF89a; XMP and C2PA application extensions) ==== */

/* Walk the sub-blocks starting at p: *term = offset of the 00 terminator. 0 if truncated. */
static int gif_subblocks(const uint8_t *d, size_t size, size_t p, size_t *term)
{
    while (p < size) {
        if (d[p] == 0) {
            *term = p;
            return 1;
        }
        p += 1 + (size_t)d[p];
    }
    return 0;
}

/* XMP in GIF is written raw (its bytes double as sub-block lengths) and followed by a 258-byte
 * "magic trailer" 01 FF FE .. 01 00 00 that steers a sub-block walk onto the terminator (XMP
 * part 3). The packet is the raw bytes before that trailer. */
static void gif_xmp(walker *w, size_t ext_off, size_t start, size_t term)
{
    const uint8_t *d = w->data;
    size_t n = term - start;
    for (size_t tail = 257; tail >= 256; tail--) { /* trailer without the final terminator */
        if (n < tail || d[start + n - tail] != 0x01)
            continue;
        int ok = 1;
        for (size_t i = 1; i < tail && ok; i++)
            ok = d[start + n - tail + i] == (uint8_t)(256 - i);
        if (ok) {
            n -= tail;
            break;
        }
    }
    add_seg(w, UM_SEG_XMP, ext_off, term + 1 - ext_off, d + start, n, "GIF XMP extension");
}

static void gif_c2pa(walker *w, size_t ext_off, size_t start, size_t term)
{
    const uint8_t *d = w->data;
    size_t total = 0;
    for (size_t p = start; p < term; p += 1 + (size_t)d[p])
        total += d[p];
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) {
        w->nomem = 1;
        return;
    }
    size_t at = 0;
    for (size_t p = start; p < term; p += 1 + (size_t)d[p]) {
        memcpy(buf + at, d + p + 1, d[p]);
        at += d[p];
    }
    if (own(w, buf))
        add_store(w, buf, total, ext_off, term + 1 - ext_off, "GIF C2PA_GIF extension");
}

static size_t gif_color_table(uint8_t flags) { return (flags & 0x80) ? 3u << ((flags & 7) + 1) : 0; }

static void walk_gif(walker *w)
{
    const uint8_t *d = w->data;
    size_t size = w->size;
    if (size < 13 || memcmp(d, "GIF8", 4) != 0) {
        note(w, "GIF: no header");
        return;
    }
    size_t pos = 13 + gif_color_table(d[10]);
    size_t count = 0, term;
    while (!w->nomem && count++ < UM_PROV_MAX_BOXES) {
        if (pos >= size) {
            note(w, "GIF: the file ends at offset %zu without a trailer", pos);
            return;
        }
        uint8_t b = d[pos];
        if (b == 0x3B) {
            if (pos + 1 < size)
                add_seg(w, UM_SEG_TRAILING, pos + 1, size - pos - 1, d + pos + 1,
                        size - pos - 1, "after GIF trailer");
            return;
        }
        if (b == 0x00) { /* stray terminator, e.g. after an XMP trailer: tolerated */
            pos++;
            continue;
        }
        if ((b == 0x21 && size - pos < 3) || (b == 0x2C && size - pos < 11))
            break;
        if (b == 0x21) {
            int app = d[pos + 1] == 0xFF && d[pos + 2] == 11 && size - pos >= 14;
            if (!gif_subblocks(d, size, pos + 2, &term))
                break;
            if (app && memcmp(d + pos + 3, "XMP DataXMP", 11) == 0 && term >= pos + 14)
                gif_xmp(w, pos, pos + 14, term);
            else if (app && memcmp(d + pos + 3, "C2PA_GIF\x01\0\0", 11) == 0 && term >= pos + 14)
                gif_c2pa(w, pos, pos + 14, term);
            pos = term + 1;
            continue;
        }
        if (b == 0x2C) {
            size_t p = pos + 10 + gif_color_table(d[pos + 9]) + 1; /* + LZW minimum code size */
            if (p > size || !gif_subblocks(d, size, p, &term))
                break;
            pos = term + 1;
            continue;
        }
        note(w, "GIF: unexpected block 0x%02X at offset %zu", b, pos);
        return;
    }
    if (w->nomem)
        return;
    if (count >= UM_PROV_MAX_BOXES)
        note(w, "GIF: more than %d blocks: the rest are not read", UM_PROV_MAX_BOXES);
    else
        note(w, "GIF: block at offset %zu runs past the end of the file", pos);
}

/* ==== dispatch ==== */

um_error um_container_walk(const uint8_t *data, size_t size, um_format format,
                           um_container *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return UM_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->format = format;
    if (!data)
        size = 0;
    walker w;
    memset(&w, 0, sizeof w);
    w.data = data ? data : (const uint8_t *)"";
    w.size = size;
    w.c = out;
    switch (format) {
    case UM_FORMAT_JPEG: walk_jpeg(&w); break;
    case UM_FORMAT_PNG: walk_png(&w); break;
    case UM_FORMAT_WEBP: walk_riff(&w); break;
    case UM_FORMAT_HEIF:
    case UM_FORMAT_AVIF: walk_bmff(&w); break;
    case UM_FORMAT_TIFF: walk_tiff(&w); break;
    case UM_FORMAT_GIF: walk_gif(&w); break;
    case UM_FORMAT_JXL: walk_jxl(&w); break;
    default: /* a bare .c2pa sidecar is the store itself (1.1 "Sidecar") */
        if (size >= 8 && memcmp(data + 4, "jumb", 4) == 0)
            add_store(&w, data, size, 0, size, "sidecar store");
        break;
    }
    if (w.nomem) {
        um_container_clear(out);
        out->format = format;
        if (err && errlen)
            snprintf(err, errlen, "out of memory while reading the file's metadata containers");
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

void um_container_clear(um_container *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->seg);
    free(c->box);
    memset(c, 0, sizeof *c);
}

const um_segment *um_container_next(const um_container *c, um_seg_kind kind, size_t *from)
{
    for (size_t i = *from; i < c->nseg; i++) {
        if (c->seg[i].kind == kind) {
            *from = i + 1;
            return &c->seg[i];
        }
    }
    *from = c->nseg;
    return NULL;
}
