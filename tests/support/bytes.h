/* Byte-building helpers for the tests that craft files by hand: a growable byte buffer with
 * big/little-endian writers, ISO BMFF-style boxes (LBox + TBox, also what JUMBF and JPEG XL use),
 * JUMBF superboxes with C2PA description boxes (provenance-markers.md 1.2) and a CBOR encoder
 * with the preferred (shortest) head of RFC 8949 4.2.1.
 *
 * One writer for every test, so a fix in the framing lands everywhere. Memory: the first failed
 * allocation sets oom and every later write is skipped (the bytes are then incomplete; callers
 * that can report an error check oom, the others may ignore it - tests do not run out). */
#ifndef UM_TEST_BYTES_H
#define UM_TEST_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct bytebuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} bytebuf;

void bb_put(bytebuf *b, const void *d, size_t n);
void bb_str(bytebuf *b, const char *s); /* without its NUL */
void bb_u8(bytebuf *b, unsigned v);
void bb_be16(bytebuf *b, unsigned v);
void bb_be32(bytebuf *b, uint32_t v);
void bb_be64(bytebuf *b, uint64_t v);
void bb_le16(bytebuf *b, unsigned v);
void bb_le32(bytebuf *b, uint32_t v);
/* Overwrite 4 bytes already written at offset at (a length known only later). */
void bb_set_be32(bytebuf *b, size_t at, uint32_t v);
void bb_set_le32(bytebuf *b, size_t at, uint32_t v);
void bb_free(bytebuf *b); /* frees and empties */

uint32_t rd_be32(const uint8_t *p);
uint32_t rd_le32(const uint8_t *p);

/* ---- boxes: u32 LBox (whole box) + 4-character TBox ---- */

/* Opens a box of type (4 characters); returns its offset for box_close, which patches LBox. */
size_t box_open(bytebuf *b, const char *type);
void box_close(bytebuf *b, size_t at);
/* A whole box holding n bytes; returns where its content starts in b. */
size_t box_content(bytebuf *b, const char *type, const void *d, size_t n);

/* ---- JUMBF (ISO/IEC 19566-5) ---- */

/* The last 12 bytes of every C2PA JUMBF type UUID; the first four name the type ("c2pa"...). */
extern const uint8_t jumbf_uuid_tail[12];
/* The salt jumbf_desc writes when asked (a c2sh private box, C2PA 2.x 11.3). */
extern const uint8_t jumbf_test_salt[16];

/* Description box "jumd": type UUID (type4 + tail), toggles 0x03 (requestable, label - what
 * C2PA requires; 0x13 with the salt box), the NUL-terminated label, then with salted a c2sh box
 * of jumbf_test_salt. */
void jumbf_desc(bytebuf *b, const char *type4, const char *label, int salted);
/* Opens a superbox "jumb" and writes its description; close it with box_close. */
size_t jumbf_open(bytebuf *b, const char *type4, const char *label, int salted);

/* ---- CBOR, definite lengths, preferred heads ---- */

void cb_head(bytebuf *b, unsigned major, uint64_t v);
void cb_uint(bytebuf *b, uint64_t v);
void cb_bytes(bytebuf *b, const void *d, size_t n);
void cb_text(bytebuf *b, const char *s);
void cb_array(bytebuf *b, size_t n);
void cb_map(bytebuf *b, size_t n);

#endif
