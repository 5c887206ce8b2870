/* EXIF reader (provenance-markers.md 5.1): a bounded walk over the TIFF structure (TIFF 6.0
 * section 2: header, IFDs of 12-byte entries, values inline when they fit in 4 bytes), visiting
 * IFD0, its chained IFD1 (thumbnail), the EXIF sub-IFD (0x8769) and the GPS sub-IFD (0x8825).
 *
 * Hostile input: every value range is checked as 64-bit arithmetic against the payload; an IFD
 * offset already visited is a loop and is not followed again; at most UM_EXIF_MAX_IFDS IFDs and
 * UM_EXIF_MAX_ENTRIES entries each are read; nothing is allocated beyond the payload's size. */
#include "prov/exif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/text.h"

/* ---------------------------------------------------------------------------------------------
 * Text helpers */

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
}

/* ---------------------------------------------------------------------------------------------
 * TIFF structure */

enum ifd_kind { IFD_0, IFD_1, IFD_EXIF, IFD_GPS };
static const char *const ifd_names[] = {"IFD0", "IFD1", "ExifIFD", "GPS"};

struct tiff {
    const uint8_t *p;
    size_t n;
    int be;
};

/* One directory entry, resolved: where its value lies (checked to be inside the payload). */
struct entry {
    uint16_t tag, type;
    uint32_t count;
    size_t value_off, value_size;
};

struct walk {
    struct tiff t;
    um_exif *out;
    json_t *offsets;             /* field name -> payload offset of its value */
    json_t *notes;
    uint32_t visited[UM_EXIF_MAX_IFDS];
    int nvisited;
    uint32_t pending_off[UM_EXIF_MAX_IFDS];
    int pending_kind[UM_EXIF_MAX_IFDS];
    int npending;
    uint32_t thumb_off, thumb_len;
    int has_thumb_off, has_thumb_len;
    int oom;
};

static uint16_t rd16(const struct tiff *t, size_t off)
{
    const uint8_t *q = t->p + off;
    return t->be ? (uint16_t)(q[0] << 8 | q[1]) : (uint16_t)(q[1] << 8 | q[0]);
}

static uint32_t rd32(const struct tiff *t, size_t off)
{
    const uint8_t *q = t->p + off;
    return t->be ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
                 : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

/* Bytes per value of each TIFF / EXIF field type (TIFF 6.0 section 2; 13 = IFD). */
static size_t type_size(uint16_t type)
{
    static const uint8_t sizes[] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < sizeof sizes ? sizes[type] : 0;
}

static void note(struct walk *w, const char *msg)
{
    w->out->nnotes++;
    if (w->out->nnotes <= 16 && json_array_append_new(w->notes, json_string(msg)) != 0)
        w->oom = 1;
}

static void cite(struct walk *w, const char *field, size_t off)
{
    if (json_object_set_new(w->offsets, field, json_integer((json_int_t)off)) != 0)
        w->oom = 1;
}

/* Resolve entry i of the IFD at ifd_off; 0 when its value is not inside the payload. */
static int read_entry(const struct tiff *t, size_t entry_off, struct entry *e)
{
    e->tag = rd16(t, entry_off);
    e->type = rd16(t, entry_off + 2);
    e->count = rd32(t, entry_off + 4);
    size_t ts = type_size(e->type);
    if (ts == 0)
        return 0;
    uint64_t size = (uint64_t)e->count * ts;
    uint64_t off = size <= 4 ? entry_off + 8 : rd32(t, entry_off + 8);
    if (off > t->n || size > t->n - off)
        return 0;
    e->value_off = (size_t)off;
    e->value_size = (size_t)size;
    return 1;
}

/* The first value of an integer-typed entry (BYTE, SHORT, LONG, IFD), or 0 with *ok = 0. */
static uint32_t entry_uint(const struct tiff *t, const struct entry *e, int *ok)
{
    *ok = e->count >= 1;
    if (!*ok)
        return 0;
    switch (e->type) {
    case 1:
    case 7:
        return t->p[e->value_off];
    case 3:
        return rd16(t, e->value_off);
    case 4:
    case 13:
        return rd32(t, e->value_off);
    default:
        *ok = 0;
        return 0;
    }
}

/* Value k of a RATIONAL entry; *ok = 0 on a zero denominator or a short entry. */
static double entry_rational(const struct tiff *t, const struct entry *e, uint32_t k, int *ok)
{
    *ok = 0;
    if (e->type != 5 || k >= e->count)
        return 0.0;
    uint32_t num = rd32(t, e->value_off + 8 * (size_t)k);
    uint32_t den = rd32(t, e->value_off + 8 * (size_t)k + 4);
    if (den == 0)
        return 0.0;
    *ok = 1;
    return (double)num / (double)den;
}

/* An ASCII (or UNDEFINED / BYTE used as text) entry as a malloc'ed, trimmed UTF-8 string. */
static char *entry_text(struct walk *w, const struct entry *e)
{
    if (e->type != 2 && e->type != 7 && e->type != 1)
        return NULL;
    char *s = um_text_dup(w->t.p + e->value_off, e->value_size, 1);
    if (!s) {
        w->oom = 1;
        return NULL;
    }
    trim_right(s);
    return s;
}

static void set_string(struct walk *w, const struct entry *e, char **dst, const char *field)
{
    char *s = entry_text(w, e);
    if (!s)
        return;
    free(*dst);
    *dst = s;
    cite(w, field, e->value_off);
}

static void set_field(struct walk *w, const struct entry *e, char *dst, size_t cap,
                      const char *field)
{
    char *s = entry_text(w, e);
    if (!s)
        return;
    um_text_copy(dst, cap, s);
    free(s);
    cite(w, field, e->value_off);
}

static void queue_ifd(struct walk *w, uint32_t off, int kind)
{
    for (int i = 0; i < w->nvisited; i++)
        if (w->visited[i] == off) {
            note(w, "an IFD offset points back at an IFD already read (loop); not followed");
            return;
        }
    for (int i = 0; i < w->npending; i++)
        if (w->pending_off[i] == off)
            return;
    if (w->nvisited + w->npending >= UM_EXIF_MAX_IFDS) {
        note(w, "too many IFDs; the rest were not read");
        return;
    }
    w->pending_off[w->npending] = off;
    w->pending_kind[w->npending] = kind;
    w->npending++;
}

/* ---------------------------------------------------------------------------------------------
 * UserComment (EXIF 2.32 4.6.5, tag 0x9286): an 8-byte character-code prefix, then the text. */

/* The 8-byte character codes and what they mean here. JIS X 0208 is not converted: its bytes
 * are kept as Latin-1 text, like the undefined code (all zeros), which writers fill with UTF-8
 * or their local code page. */
static const struct {
    char code[8];
    const char *charset;
} user_comment_codes[] = {
    {"ASCII\0\0\0", "ascii"},
    {"UNICODE\0", "utf-16"},
    {"JIS\0\0\0\0\0", "jis"},
    {"\0\0\0\0\0\0\0\0", "undefined"},
};

char *um_exif_user_comment(const uint8_t *p, size_t n, int tiff_be, const char **charset)
{
    const char *found = "none";
    size_t skip = 0;
    for (size_t i = 0; n >= 8 && i < sizeof user_comment_codes / sizeof user_comment_codes[0];
         i++)
        if (memcmp(p, user_comment_codes[i].code, 8) == 0) {
            found = user_comment_codes[i].charset;
            skip = 8;
            break;
        }
    char *text;
    if (strcmp(found, "utf-16") == 0) {
        /* Piexif writes big-endian whatever the TIFF order (4.1), others the TIFF order. */
        int be = um_text_utf16_is_big_endian(p + 8, n - 8, tiff_be);
        found = be ? "utf-16be" : "utf-16le";
        text = um_text_dup_utf16(p + 8, n - 8, be);
    } else {
        text = um_text_dup(p + skip, n - skip, 1);
    }
    if (text)
        trim_right(text);
    if (charset)
        *charset = found;
    return text;
}

static void read_user_comment(struct walk *w, const struct entry *e)
{
    um_exif *x = w->out;
    const char *charset;
    char *text = um_exif_user_comment(w->t.p + e->value_off, e->value_size, w->t.be, &charset);
    if (!text) {
        w->oom = 1;
        return;
    }
    um_text_copy(x->user_comment_charset, sizeof x->user_comment_charset, charset);
    free(x->user_comment);
    x->user_comment = NULL;
    if (text[0]) {
        x->user_comment = text;
        cite(w, "user_comment", e->value_off);
    } else {
        free(text);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Per-IFD tag handling */

static void read_ifd0_tag(struct walk *w, const struct entry *e)
{
    um_exif *x = w->out;
    int ok;
    switch (e->tag) {
    case 0x000B: set_field(w, e, x->processing_software, sizeof x->processing_software,
                           "processing_software"); break;
    case 0x010D: set_field(w, e, x->document_name, sizeof x->document_name, "document_name");
        break;
    case 0x010E: set_field(w, e, x->image_description, sizeof x->image_description,
                           "image_description"); break;
    case 0x010F: set_string(w, e, &x->make, "make"); break;
    case 0x0110: set_string(w, e, &x->model, "model"); break;
    case 0x0131: set_string(w, e, &x->software, "software"); break;
    case 0x0132: set_field(w, e, x->datetime, sizeof x->datetime, "datetime"); break;
    case 0x013B: set_field(w, e, x->artist, sizeof x->artist, "artist"); break;
    case 0x013C: set_field(w, e, x->host_computer, sizeof x->host_computer, "host_computer");
        break;
    case 0x8298: set_field(w, e, x->copyright, sizeof x->copyright, "copyright"); break;
    case 0x0112: {
        uint32_t v = entry_uint(&w->t, e, &ok);
        if (ok && v >= 1 && v <= 8) {
            x->orientation = (int)v;
            cite(w, "orientation", e->value_off);
        }
        break;
    }
    case 0x8769:
    case 0x8825: {
        uint32_t v = entry_uint(&w->t, e, &ok);
        if (ok)
            queue_ifd(w, v, e->tag == 0x8769 ? IFD_EXIF : IFD_GPS);
        break;
    }
    default:
        break;
    }
}

static void read_exif_tag(struct walk *w, const struct entry *e)
{
    um_exif *x = w->out;
    int ok;
    switch (e->tag) {
    case 0x9003: set_field(w, e, x->datetime_original, sizeof x->datetime_original,
                           "datetime_original"); break;
    case 0x9004: set_field(w, e, x->datetime_digitized, sizeof x->datetime_digitized,
                           "datetime_digitized"); break;
    case 0x9286: read_user_comment(w, e); break;
    case 0x927C:
        x->has_makernote = 1;
        x->makernote_size = (uint32_t)e->value_size;
        cite(w, "maker_note", e->value_off);
        break;
    case 0xA002:
    case 0xA003: {
        uint32_t v = entry_uint(&w->t, e, &ok);
        if (!ok)
            break;
        if (e->tag == 0xA002)
            x->pixel_width = v;
        else
            x->pixel_height = v;
        break;
    }
    default:
        break;
    }
}

/* Degrees, minutes, seconds (three RATIONALs) to decimal degrees. */
static int gps_degrees(const struct tiff *t, const struct entry *e, double *deg)
{
    int ok0, ok1, ok2;
    double d = entry_rational(t, e, 0, &ok0), m = entry_rational(t, e, 1, &ok1),
           s = entry_rational(t, e, 2, &ok2);
    if (!ok0)
        return 0;
    *deg = d + (ok1 ? m / 60.0 : 0.0) + (ok2 ? s / 3600.0 : 0.0);
    return 1;
}

struct gps_parts {
    char lat_ref, lon_ref;
    int has_lat, has_lon, has_alt;
    double lat, lon, alt;
    int below_sea;
};

static void read_gps_tag(struct walk *w, const struct entry *e, struct gps_parts *g)
{
    const struct tiff *t = &w->t;
    int ok;
    switch (e->tag) {
    case 0x0001:
        if (e->value_size >= 1)
            g->lat_ref = (char)t->p[e->value_off];
        break;
    case 0x0002: g->has_lat = gps_degrees(t, e, &g->lat); break;
    case 0x0003:
        if (e->value_size >= 1)
            g->lon_ref = (char)t->p[e->value_off];
        break;
    case 0x0004: g->has_lon = gps_degrees(t, e, &g->lon); break;
    case 0x0005:
        g->below_sea = entry_uint(t, e, &ok) == 1 && ok;
        break;
    case 0x0006: g->alt = entry_rational(t, e, 0, &g->has_alt); break;
    default:
        break;
    }
}

static void finish_gps(struct walk *w, const struct gps_parts *g)
{
    um_exif_gps *gps = &w->out->gps;
    gps->present = 1;
    if (g->has_lat && g->has_lon) {
        double lat = g->lat_ref == 'S' ? -g->lat : g->lat;
        double lon = g->lon_ref == 'W' ? -g->lon : g->lon;
        if (lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0) {
            gps->has_position = 1;
            gps->latitude = lat;
            gps->longitude = lon;
        } else {
            note(w, "GPS position out of range; ignored");
        }
    }
    if (g->has_alt) {
        gps->has_altitude = 1;
        gps->altitude = g->below_sea ? -g->alt : g->alt;
    }
}

static void read_ifd1_tag(struct walk *w, const struct entry *e)
{
    int ok;
    uint32_t v = entry_uint(&w->t, e, &ok);
    if (!ok)
        return;
    if (e->tag == 0x0201) {
        w->thumb_off = v;
        w->has_thumb_off = 1;
    } else if (e->tag == 0x0202) {
        w->thumb_len = v;
        w->has_thumb_len = 1;
    }
}

/* Read one IFD; returns the offset of the next IFD in its chain (0 when none). */
static uint32_t read_ifd(struct walk *w, uint32_t off, int kind)
{
    const struct tiff *t = &w->t;
    w->visited[w->nvisited++] = off;
    if ((uint64_t)off + 2 > t->n) {
        note(w, "an IFD offset lies past the end of the EXIF data");
        return 0;
    }
    size_t count = rd16(t, off);
    size_t avail = (t->n - off - 2) / 12;
    if (count > avail) {
        note(w, "an IFD is truncated: entries past the end of the EXIF data were not read");
        count = avail;
    }
    if (count > UM_EXIF_MAX_ENTRIES) {
        note(w, "an IFD has too many entries; the rest were not read");
        count = UM_EXIF_MAX_ENTRIES;
    }
    struct gps_parts gps = {0};
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        struct entry e;
        if (!read_entry(t, off + 2 + 12 * i, &e)) {
            bad++;
            continue;
        }
        if (kind == IFD_0)
            read_ifd0_tag(w, &e);
        else if (kind == IFD_EXIF)
            read_exif_tag(w, &e);
        else if (kind == IFD_GPS)
            read_gps_tag(w, &e, &gps);
        else
            read_ifd1_tag(w, &e);
    }
    if (bad) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: %d entries with a bad type or a value out of range",
                 ifd_names[kind], bad);
        note(w, msg);
    }
    if (kind == IFD_GPS)
        finish_gps(w, &gps);
    size_t next_at = off + 2 + 12 * count;
    if (count == rd16(t, off) && next_at + 4 <= t->n)
        return rd32(t, next_at);
    return 0;
}

static void resolve_thumbnail(struct walk *w)
{
    um_exif *x = w->out;
    if (!w->has_thumb_off || !w->has_thumb_len || w->thumb_len == 0)
        return;
    if (w->thumb_off > w->t.n || w->thumb_len > w->t.n - w->thumb_off) {
        note(w, "IFD1 thumbnail range lies outside the EXIF data");
        return;
    }
    x->thumbnail = w->t.p + w->thumb_off;
    x->thumbnail_size = w->thumb_len;
    x->thumbnail_offset = w->thumb_off;
    x->thumbnail_is_jpeg = w->thumb_len >= 2 && x->thumbnail[0] == 0xFF && x->thumbnail[1] == 0xD8;
}

static void walk_tiff(struct walk *w)
{
    const struct tiff *t = &w->t;
    queue_ifd(w, rd32(t, 4), IFD_0);
    while (w->npending > 0 && !w->oom) {
        uint32_t off = w->pending_off[0];
        int kind = w->pending_kind[0];
        w->npending--;
        memmove(w->pending_off, w->pending_off + 1, sizeof w->pending_off[0] * (size_t)w->npending);
        memmove(w->pending_kind, w->pending_kind + 1,
                sizeof w->pending_kind[0] * (size_t)w->npending);
        uint32_t next = read_ifd(w, off, kind);
        if (kind == IFD_0)
            w->out->valid = 1;
        if (next != 0 && kind == IFD_0)
            queue_ifd(w, next, IFD_1);
        else if (next != 0 && kind == IFD_1)
            note(w, "IFDs chained after IFD1 were not read");
    }
    resolve_thumbnail(w);
}

/* ---------------------------------------------------------------------------------------------
 * JSON */

static int put_text(json_t *o, const char *key, const char *s)
{
    if (!s || !s[0])
        return 0;
    return json_object_set_new(o, key, um_json_text(s, strlen(s), UM_EXIF_JSON_TEXT_MAX));
}

static int build_json(um_exif *x, json_t *j)
{
    int r = 0;
    r |= json_object_set_new(j, "byte_order", json_string(x->big_endian ? "MM" : "II"));
    r |= put_text(j, "make", x->make);
    r |= put_text(j, "model", x->model);
    r |= put_text(j, "software", x->software);
    r |= put_text(j, "processing_software", x->processing_software);
    r |= put_text(j, "host_computer", x->host_computer);
    r |= put_text(j, "datetime", x->datetime);
    r |= put_text(j, "datetime_original", x->datetime_original);
    r |= put_text(j, "datetime_digitized", x->datetime_digitized);
    r |= put_text(j, "image_description", x->image_description);
    r |= put_text(j, "document_name", x->document_name);
    r |= put_text(j, "artist", x->artist);
    r |= put_text(j, "copyright", x->copyright);
    if (x->orientation)
        r |= json_object_set_new(j, "orientation", json_integer(x->orientation));
    if (x->pixel_width)
        r |= json_object_set_new(j, "pixel_width", json_integer(x->pixel_width));
    if (x->pixel_height)
        r |= json_object_set_new(j, "pixel_height", json_integer(x->pixel_height));
    if (x->user_comment_charset[0]) {
        json_t *uc = json_object();
        r |= uc == NULL;
        r |= json_object_set_new(j, "user_comment", uc);
        if (uc) {
            r |= json_object_set_new(uc, "charset", json_string(x->user_comment_charset));
            r |= put_text(uc, "text", x->user_comment);
        }
    }
    if (x->gps.present) {
        json_t *g = json_object();
        r |= g == NULL;
        r |= json_object_set_new(j, "gps", g);
        if (g && x->gps.has_position) {
            r |= json_object_set_new(g, "latitude", json_real(x->gps.latitude));
            r |= json_object_set_new(g, "longitude", json_real(x->gps.longitude));
        }
        if (g && x->gps.has_altitude)
            r |= json_object_set_new(g, "altitude", json_real(x->gps.altitude));
    }
    r |= json_object_set_new(j, "maker_note", json_boolean(x->has_makernote));
    if (x->thumbnail) {
        json_t *t = json_pack("{s:I,s:I,s:b}", "bytes", (json_int_t)x->thumbnail_size, "offset",
                              (json_int_t)x->thumbnail_offset, "jpeg", x->thumbnail_is_jpeg);
        r |= t == NULL;
        r |= json_object_set_new(j, "thumbnail", t);
    }
    return r;
}

um_error um_exif_read(const uint8_t *payload, size_t size, um_exif *out)
{
    memset(out, 0, sizeof *out);
    struct walk w;
    memset(&w, 0, sizeof w);
    w.out = out;
    out->json = json_object();
    w.offsets = json_object();
    w.notes = json_array();
    if (!out->json || !w.offsets || !w.notes) {
        json_decref(w.offsets);
        json_decref(w.notes);
        um_exif_clear(out);
        return UM_ERR_NOMEM;
    }
    if (size >= 6 && memcmp(payload, "Exif\0\0", 6) == 0) {
        payload += 6;
        size -= 6;
    }
    w.t.p = payload;
    w.t.n = size;
    if (size >= 8 && memcmp(payload, "MM\0*", 4) == 0)
        w.t.be = 1;
    else if (!(size >= 8 && memcmp(payload, "II*\0", 4) == 0))
        note(&w, "no TIFF header (\"II*\\0\" or \"MM\\0*\") at the start of the EXIF data");
    if (out->nnotes == 0) {
        out->big_endian = w.t.be;
        walk_tiff(&w);
    }
    int r = w.oom;
    r |= build_json(out, out->json);
    r |= json_object_set_new(out->json, "valid", json_boolean(out->valid));
    r |= json_object_set_new(out->json, "offsets", w.offsets);
    if (json_array_size(w.notes) > 0)
        r |= json_object_set_new(out->json, "notes", w.notes);
    else
        json_decref(w.notes);
    if (r) {
        um_exif_clear(out);
        return UM_ERR_NOMEM;
    }
    return UM_OK;
}

void um_exif_clear(um_exif *e)
{
    if (!e)
        return;
    free(e->make);
    free(e->model);
    free(e->software);
    free(e->user_comment);
    json_decref(e->json);
    memset(e, 0, sizeof *e);
}
