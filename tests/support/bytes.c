/* Byte-building helpers for tests (see bytes.h). */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

void bb_put(bytebuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *g = realloc(b->p, cap);
        if (!g) {
            b->oom = 1;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

void bb_str(bytebuf *b, const char *s) { bb_put(b, s, strlen(s)); }

void bb_u8(bytebuf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    bb_put(b, &c, 1);
}

void bb_be16(bytebuf *b, unsigned v)
{
    uint8_t c[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    bb_put(b, c, 2);
}

void bb_be32(bytebuf *b, uint32_t v)
{
    uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bb_put(b, c, 4);
}

void bb_be64(bytebuf *b, uint64_t v)
{
    bb_be32(b, (uint32_t)(v >> 32));
    bb_be32(b, (uint32_t)v);
}

void bb_le16(bytebuf *b, unsigned v)
{
    uint8_t c[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    bb_put(b, c, 2);
}

void bb_le32(bytebuf *b, uint32_t v)
{
    uint8_t c[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    bb_put(b, c, 4);
}

void bb_set_be32(bytebuf *b, size_t at, uint32_t v)
{
    if (b->oom || at > b->n || b->n - at < 4)
        return;
    b->p[at] = (uint8_t)(v >> 24);
    b->p[at + 1] = (uint8_t)(v >> 16);
    b->p[at + 2] = (uint8_t)(v >> 8);
    b->p[at + 3] = (uint8_t)v;
}

void bb_set_le32(bytebuf *b, size_t at, uint32_t v)
{
    if (b->oom || at > b->n || b->n - at < 4)
        return;
    b->p[at] = (uint8_t)v;
    b->p[at + 1] = (uint8_t)(v >> 8);
    b->p[at + 2] = (uint8_t)(v >> 16);
    b->p[at + 3] = (uint8_t)(v >> 24);
}

void bb_free(bytebuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- boxes ---- */

size_t box_open(bytebuf *b, const char *type)
{
    size_t at = b->n;
    bb_be32(b, 0); /* patched by box_close */
    bb_put(b, type, 4);
    return at;
}

void box_close(bytebuf *b, size_t at) { bb_set_be32(b, at, (uint32_t)(b->n - at)); }

size_t box_content(bytebuf *b, const char *type, const void *d, size_t n)
{
    bb_be32(b, (uint32_t)(8 + n));
    bb_put(b, type, 4);
    size_t at = b->n;
    bb_put(b, d, n);
    return at;
}

/* ---- JUMBF ---- */

const uint8_t jumbf_uuid_tail[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00,
                                     0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

const uint8_t jumbf_test_salt[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                     '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void jumbf_desc(bytebuf *b, const char *type4, const char *label, int salted)
{
    size_t d = box_open(b, "jumd");
    bb_put(b, type4, 4);
    bb_put(b, jumbf_uuid_tail, sizeof jumbf_uuid_tail);
    bb_u8(b, salted ? 0x13 : 0x03); /* 0x10: a private box follows the label */
    bb_put(b, label, strlen(label) + 1);
    if (salted)
        box_content(b, "c2sh", jumbf_test_salt, sizeof jumbf_test_salt);
    box_close(b, d);
}

size_t jumbf_open(bytebuf *b, const char *type4, const char *label, int salted)
{
    size_t at = box_open(b, "jumb");
    jumbf_desc(b, type4, label, salted);
    return at;
}

/* ---- CBOR ---- */

void cb_head(bytebuf *b, unsigned major, uint64_t v)
{
    uint8_t m = (uint8_t)(major << 5);
    if (v < 24) {
        bb_u8(b, m | (uint8_t)v);
    } else if (v <= 0xFF) {
        bb_u8(b, m | 24);
        bb_u8(b, (unsigned)v);
    } else if (v <= 0xFFFF) {
        bb_u8(b, m | 25);
        bb_be16(b, (unsigned)v);
    } else if (v <= 0xFFFFFFFFu) {
        bb_u8(b, m | 26);
        bb_be32(b, (uint32_t)v);
    } else {
        bb_u8(b, m | 27);
        bb_be64(b, v);
    }
}

void cb_uint(bytebuf *b, uint64_t v) { cb_head(b, 0, v); }

void cb_bytes(bytebuf *b, const void *d, size_t n)
{
    cb_head(b, 2, n);
    bb_put(b, d, n);
}

void cb_text(bytebuf *b, const char *s)
{
    cb_head(b, 3, strlen(s));
    bb_put(b, s, strlen(s));
}

void cb_array(bytebuf *b, size_t n) { cb_head(b, 4, n); }
void cb_map(bytebuf *b, size_t n) { cb_head(b, 5, n); }
