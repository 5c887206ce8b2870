/* JUMBF box tree (ISO/IEC 19566-5; C2PA 2.2 section 11.1). See jumbf.h. */
#include "prov/jumbf.h"
#include "prov/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tail shared by every C2PA JUMBF type UUID: <fourcc>-0011-0010-8000-00AA00389B71. */
static const uint8_t c2pa_uuid_tail[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00,
                                           0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

static void set_malformed(um_jumbf_tree *t, uint64_t at, const char *what)
{
    if (!t->malformed)
        snprintf(t->why, sizeof t->why, "%s at store offset %llu", what, (unsigned long long)at);
    t->malformed = 1;
}

/* Length of the box starting at pos (LBox rules: 0 = to the end of the enclosing range,
 * 1 = 64-bit XLBox follows TBox). Returns 0 on a malformed header; *hdr = header size. */
static uint64_t box_length(const uint8_t *d, uint64_t pos, uint64_t end, unsigned *hdr)
{
    uint64_t avail = end - pos;
    if (avail < 8)
        return 0;
    uint32_t lbox = be32(d + pos);
    *hdr = 8;
    if (lbox == 0)
        return avail;
    if (lbox == 1) {
        if (avail < 16)
            return 0;
        uint64_t xl = be64(d + pos + 8);
        *hdr = 16;
        return (xl >= 16 && xl <= avail) ? xl : 0;
    }
    if (lbox < 8 || lbox > avail)
        return 0;
    return lbox;
}

static int add_box(um_jumbf_tree *t)
{
    if (t->n >= UM_JUMBF_MAX_BOXES)
        return -2;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        um_jumbf_box *grown = realloc(t->box, cap * sizeof *grown);
        if (!grown)
            return -1;
        t->box = grown;
        t->cap = cap;
    }
    memset(&t->box[t->n], 0, sizeof t->box[t->n]);
    return (int)t->n++;
}

/* Read the description box's payload (ISO 19566-5 B.3) into the superbox's fields. */
static void read_jumd(um_jumbf_tree *t, um_jumbf_box *sb, const um_jumbf_box *jumd)
{
    const uint8_t *p = t->data + jumd->payload_offset;
    uint64_t n = jumd->payload_length, q = 17;
    if (n < 17) {
        set_malformed(t, jumd->offset, "description box shorter than 17 bytes");
        return;
    }
    sb->has_jumd = 1;
    memcpy(sb->uuid, p, 16);
    sb->toggles = p[16];
    if (sb->toggles & UM_JUMD_LABEL) {
        const uint8_t *nul = memchr(p + q, 0, (size_t)(n - q));
        if (!nul) {
            set_malformed(t, jumd->offset, "label not NUL-terminated");
            return;
        }
        size_t len = (size_t)(nul - (p + q));
        if (len >= UM_JUMBF_MAX_LABEL) {
            len = UM_JUMBF_MAX_LABEL - 1;
            sb->label_truncated = 1;
        }
        memcpy(sb->label, p + q, len);
        sb->label[len] = '\0';
        um_utf8_sanitize(sb->label); /* labels are UTF-8 (ISO 19566-5); reports need it so */
        sb->has_label = 1;
        q = (uint64_t)(nul - p) + 1;
    }
    if (sb->toggles & UM_JUMD_ID) {
        if (n - q < 4) {
            set_malformed(t, jumd->offset, "description box ID truncated");
            return;
        }
        sb->id = be32(p + q);
        sb->has_id = 1;
        q += 4;
    }
    if (sb->toggles & UM_JUMD_SIGNATURE) {
        if (n - q < 32) {
            set_malformed(t, jumd->offset, "description box signature truncated");
            return;
        }
        sb->has_signature = 1;
        q += 32;
    }
    if (sb->toggles & UM_JUMD_PRIVATE) {
        uint64_t at = jumd->payload_offset + q, end = jumd->payload_offset + n;
        unsigned hdr = 8;
        uint64_t len = box_length(t->data, at, end, &hdr);
        if (!len) {
            set_malformed(t, at, "private box header");
            return;
        }
        memcpy(sb->private_type, t->data + at + 4, 4);
        sb->private_type[4] = '\0';
        sb->private_offset = at + hdr;
        sb->private_length = len - hdr;
        sb->has_private = 1;
    }
}

static um_error parse_range(um_jumbf_tree *t, uint64_t start, uint64_t end, int parent,
                            int depth);

static um_error parse_superbox(um_jumbf_tree *t, int idx, int depth)
{
    if (depth + 1 >= UM_JUMBF_MAX_DEPTH) {
        set_malformed(t, t->box[idx].offset, "superboxes nested deeper than 32");
        return UM_OK;
    }
    t->box[idx].is_super = 1;
    um_error e = parse_range(t, t->box[idx].payload_offset,
                             t->box[idx].payload_offset + t->box[idx].payload_length, idx,
                             depth + 1);
    if (e != UM_OK)
        return e;
    int first = t->box[idx].first_child;
    if (first < 0 || strcmp(t->box[first].type, "jumd") != 0) {
        set_malformed(t, t->box[idx].offset, "superbox without a description box first");
        return UM_OK;
    }
    um_jumbf_box jumd = t->box[first];
    read_jumd(t, &t->box[idx], &jumd);
    return UM_OK;
}

/* The boxes of data[start..end), children of `parent`, in order. */
static um_error parse_range(um_jumbf_tree *t, uint64_t start, uint64_t end, int parent, int depth)
{
    uint64_t pos = start;
    int prev = -1;
    while (pos < end) {
        unsigned hdr = 8;
        uint64_t len = box_length(t->data, pos, end, &hdr);
        if (!len) {
            set_malformed(t, pos, "box length outside its container");
            return UM_OK;
        }
        int idx = add_box(t);
        if (idx == -1)
            return UM_ERR_NOMEM;
        if (idx == -2)
            return UM_ERR_LIMIT;
        um_jumbf_box *b = &t->box[idx];
        memcpy(b->type, t->data + pos + 4, 4);
        for (int i = 0; i < 4; i++) /* keep the type printable for reports */
            if (b->type[i] < 0x20 || b->type[i] > 0x7e)
                b->type[i] = '?';
        b->offset = pos;
        b->length = len;
        b->payload_offset = pos + hdr;
        b->payload_length = len - hdr;
        b->parent = parent;
        b->first_child = b->next_sibling = -1;
        b->depth = depth;
        if (prev >= 0)
            t->box[prev].next_sibling = idx;
        else if (parent >= 0)
            t->box[parent].first_child = idx;
        prev = idx;
        if (strcmp(b->type, "jumb") == 0) {
            um_error e = parse_superbox(t, idx, depth);
            if (e != UM_OK)
                return e;
        }
        pos += len;
    }
    return UM_OK;
}

um_error um_jumbf_parse(const uint8_t *data, size_t size, um_jumbf_tree *out)
{
    memset(out, 0, sizeof *out);
    out->data = data;
    out->size = size;
    um_error e = parse_range(out, 0, size, -1, 0);
    if (e == UM_ERR_LIMIT)
        set_malformed(out, 0, "more than 65536 boxes");
    return e;
}

void um_jumbf_clear(um_jumbf_tree *t)
{
    free(t->box);
    memset(t, 0, sizeof *t);
}

int um_jumbf_is_type(const um_jumbf_box *b, const char *fourcc)
{
    return b->is_super && b->has_jumd && memcmp(b->uuid, fourcc, 4) == 0 &&
           memcmp(b->uuid + 4, c2pa_uuid_tail, 12) == 0;
}

static int first_of(const um_jumbf_tree *t, int parent)
{
    if (parent >= 0)
        return t->box[parent].first_child;
    for (size_t i = 0; i < t->n; i++)
        if (t->box[i].parent < 0)
            return (int)i;
    return -1;
}

int um_jumbf_child_by_label(const um_jumbf_tree *t, int parent, const char *label, int nth)
{
    for (int i = first_of(t, parent); i >= 0; i = t->box[i].next_sibling) {
        const um_jumbf_box *b = &t->box[i];
        if (b->is_super && b->has_label && strcmp(b->label, label) == 0 && nth-- == 0)
            return i;
    }
    return -1;
}

int um_jumbf_content(const um_jumbf_tree *t, int parent, const char *type)
{
    for (int i = first_of(t, parent); i >= 0; i = t->box[i].next_sibling)
        if (!t->box[i].is_super && strcmp(t->box[i].type, type) == 0)
            return i;
    return -1;
}

const uint8_t *um_jumbf_payload(const um_jumbf_tree *t, int idx, size_t *len)
{
    *len = (size_t)t->box[idx].payload_length;
    return t->data + t->box[idx].payload_offset;
}
