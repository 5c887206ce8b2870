/* Text from the file, made safe for C strings and JSON: the one place the provenance readers
 * check UTF-8, read legacy bytes, decode UTF-16 and cut long values.
 *
 * One rule for bytes that are not valid UTF-8, chosen by what the bytes are:
 *   - metadata text (EXIF and IPTC strings, PNG keywords and text chunks, generator parameters)
 *     is read as Latin-1, the usual legacy encoding of those fields: nothing is lost and the
 *     result is valid UTF-8 (um_text_dup);
 *   - bytes that are not known to be text when they reach JSON (CBOR text strings, values of
 *     unknown origin) get U+FFFD per bad byte (um_json_text).
 * Metadata strings must never be handed to jansson unchecked: json_string refuses invalid UTF-8
 * and a refused value silently disappears from the report. */
#ifndef UM_PROV_TEXT_H
#define UM_PROV_TEXT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (1..4; a NUL is a one-byte sequence), 0 when the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
 * avail >= 1 bytes may be read. */
size_t um_utf8_sequence(const uint8_t *p, size_t avail);

/* The length to keep of s[0..len) so that it is at most max bytes and, for UTF-8 text, does not
 * end inside a multi-byte sequence. */
size_t um_utf8_cut(const char *s, size_t len, size_t max);

/* Make the NUL-terminated s valid UTF-8 in place: every byte that is not part of a valid
 * sequence becomes '?'. For short identifiers read from a file (JUMBF labels, CBOR text) that
 * must stay comparable and fit their buffer. */
void um_utf8_sanitize(char *s);

/* Copy the UTF-8 string src into dst[cap] (cap >= 1), cut on a character boundary. */
void um_text_copy(char *dst, size_t cap, const char *src);

/* Bytes of unknown encoding as a malloc'ed, NUL-terminated, valid UTF-8 string: valid UTF-8
 * sequences are kept, every other byte is read as Latin-1. Stops at the first NUL when
 * stop_at_nul, otherwise drops NULs (a C string cannot carry them). NULL only when out of
 * memory. */
char *um_text_dup(const uint8_t *p, size_t n, int stop_at_nul);

/* UTF-16 (big- or little-endian) to a malloc'ed UTF-8 string; unpaired surrogates become
 * U+FFFD, a leading BOM is dropped, decoding stops at a NUL code unit. NULL only on OOM. */
char *um_text_dup_utf16(const uint8_t *p, size_t n, int big_endian);

/* The byte order of UTF-16 text without a declared one: its BOM when there is one, else the side
 * where the zero bytes of Latin text fall (the high byte of U+0000..U+00FF), else fallback_be. */
int um_text_utf16_is_big_endian(const uint8_t *p, size_t n, int fallback_be);

/* A JSON string of at most max_bytes of text (0 = no cap beyond len), cut on a character
 * boundary and then ending with "…": invalid UTF-8 bytes and NULs become U+FFFD. Returns NULL
 * only when out of memory. */
json_t *um_json_text(const char *text, size_t len, size_t max_bytes);

/* As um_json_text, with ASCII marks: '?' for each bad byte or NUL, "..." after a cut. The
 * generator report keeps this older convention (prompts are shown to people who paste them
 * into other tools; tests/test_generators.c pins it). */
json_t *um_json_text_ascii(const char *text, size_t len, size_t max_bytes);

/* um_json_text of a whole NUL-terminated string, no cap. */
json_t *um_json_cstr(const char *text);

#endif
