/* Text from the file (see text.h): UTF-8 checks, Latin-1 and UTF-16 reading, JSON strings. */
#include "prov/text.h"

#include <stdlib.h>
#include <string.h>

size_t um_utf8_sequence(const uint8_t *p, size_t avail)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || len > avail)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (c == 0xE0 && p[1] < 0xA0)
        return 0; /* overlong */
    if (c == 0xED && p[1] >= 0xA0)
        return 0; /* surrogate */
    if (c == 0xF0 && p[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xF4 && p[1] >= 0x90)
        return 0; /* above U+10FFFF */
    return len;
}

size_t um_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    /* A sequence is at most 4 bytes: backing over more than 3 continuation bytes would only
     * walk through bytes that are not UTF-8 anyway. */
    size_t n = max;
    while (n > 0 && n + 3 > max && ((uint8_t)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

void um_utf8_sanitize(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = um_utf8_sequence((const uint8_t *)s + i, len - i);
        if (n) {
            i += n;
        } else {
            s[i++] = '?';
        }
    }
}

void um_text_copy(char *dst, size_t cap, const char *src)
{
    size_t n = um_utf8_cut(src, strlen(src), cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Code point cp as UTF-8 at o; returns the bytes written (1..4). */
static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *um_text_dup(const uint8_t *p, size_t n, int stop_at_nul)
{
    if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    char *out = malloc(2 * n + 1); /* a Latin-1 byte grows to at most 2 bytes */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0) {
            if (stop_at_nul)
                break;
            i++;
            continue;
        }
        size_t len = um_utf8_sequence(p + i, n - i);
        if (len) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            o += put_utf8(out + o, p[i]); /* Latin-1: the byte is the code point */
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static uint32_t utf16_unit(const uint8_t *q, int big_endian)
{
    return big_endian ? (uint32_t)q[0] << 8 | q[1] : (uint32_t)q[1] << 8 | q[0];
}

char *um_text_dup_utf16(const uint8_t *p, size_t n, int big_endian)
{
    size_t units = n / 2;
    if (units > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(3 * units + 1); /* a unit gives at most 3 bytes, a pair 4 */
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    if (units > 0 && utf16_unit(p, big_endian) == 0xFEFF)
        i = 1;
    for (; i < units; i++) {
        uint32_t u = utf16_unit(p + 2 * i, big_endian);
        if (u == 0)
            break;
        if (u >= 0xD800 && u < 0xDC00 && i + 1 < units) {
            uint32_t lo = utf16_unit(p + 2 * i + 2, big_endian);
            if (lo >= 0xDC00 && lo < 0xE000) {
                o += put_utf8(out + o, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i++;
                continue;
            }
        }
        if (u >= 0xD800 && u < 0xE000)
            u = 0xFFFD;
        o += put_utf8(out + o, u);
    }
    out[o] = '\0';
    return out;
}

int um_text_utf16_is_big_endian(const uint8_t *p, size_t n, int fallback_be)
{
    if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF)
        return 1;
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE)
        return 0;
    /* Latin text in big-endian has its zero high bytes at even positions. A sample of the
     * start is enough to tell. */
    size_t zero_even = 0, zero_odd = 0;
    for (size_t i = 0; i + 1 < n && i < 8192; i += 2) {
        zero_even += p[i] == 0 && p[i + 1] != 0;
        zero_odd += p[i + 1] == 0 && p[i] != 0;
    }
    if (zero_even != zero_odd)
        return zero_even > zero_odd;
    return fallback_be;
}

/* The one cleaning loop behind um_json_text and um_json_text_ascii: bad holds the bytes written
 * for each byte that is not UTF-8 (or a NUL), more the mark that ends a cut text. */
static json_t *json_text_marked(const char *text, size_t len, size_t max_bytes, const char *bad,
                                const char *more)
{
    size_t bad_len = strlen(bad), more_len = strlen(more);
    size_t kept = max_bytes ? um_utf8_cut(text, len, max_bytes) : len;
    int cut = kept < len;
    size_t grow = bad_len > 1 ? bad_len : 1; /* output bytes per input byte, at most */
    if (kept > (SIZE_MAX - more_len) / grow)
        return NULL;
    char *out = malloc(kept * grow + more_len + 1);
    if (!out)
        return NULL;
    const uint8_t *p = (const uint8_t *)text;
    size_t o = 0;
    for (size_t i = 0; i < kept;) {
        size_t n = p[i] ? um_utf8_sequence(p + i, kept - i) : 0;
        if (n) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, bad, bad_len);
            o += bad_len;
            i++;
        }
    }
    if (cut) {
        memcpy(out + o, more, more_len);
        o += more_len;
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

json_t *um_json_text(const char *text, size_t len, size_t max_bytes)
{
    return json_text_marked(text, len, max_bytes, "\xEF\xBF\xBD", "\xE2\x80\xA6"); /* U+FFFD, … */
}

json_t *um_json_text_ascii(const char *text, size_t len, size_t max_bytes)
{
    return json_text_marked(text, len, max_bytes, "?", "...");
}

json_t *um_json_cstr(const char *text) { return um_json_text(text, strlen(text), 0); }
