/* CBOR from the file, made safe for libcbor 0.8 (RFC 8949). The one loader the C2PA claim /
 * assertion reader (c2pa.c) and the COSE signature reader (cose.c) use, the typed accessors
 * both read decoded items with, and the conversion of a decoded item to JSON for the report.
 *
 * Why a walk before cbor_load: libcbor 0.8 trusts declared counts (an array head claiming 2^32
 * items makes it allocate for them before reading any), decodes and frees nesting recursively
 * (deep nesting exhausts the stack), and its accessors assert on the wrong kind of item
 * (cbor_is_null on a float aborts the process). So every buffer is first walked here: well
 * formed, every count and length fits in the bytes present, nesting and item count capped; and
 * decoded items are only read through accessors that test the type first.
 * libcbor also refuses the one-byte tag heads 0xC6..0xD4 (tags 6..20, unassigned in RFC 7049):
 * a caller that needs one (COSE_Sign1 is tag 18) reads it with um_cbor_read_head and loads what
 * follows. */
#ifndef UM_PROV_CBOR_SAFE_H
#define UM_PROV_CBOR_SAFE_H

#include <cbor.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define UM_CBOR_MAX_ITEMS 500000  /* data items (and string chunks) walked in one buffer */

/* What may follow the one data item in the buffer. */
typedef enum um_cbor_trailing {
    UM_CBOR_EXACT,          /* nothing: the item fills the buffer */
    UM_CBOR_ZERO_PADDING,   /* zero bytes only (pre-1.0 C2PA writers padded the signature box) */
    UM_CBOR_IGNORE_REST,    /* anything: only the first item is read */
} um_cbor_trailing;

typedef struct um_cbor_caps {
    size_t max_bytes;       /* a larger buffer is refused */
    int max_depth;          /* nesting: the first item is at depth 0, its elements at 1, ... */
    size_t max_items;       /* UM_CBOR_MAX_ITEMS unless a caller needs fewer */
    um_cbor_trailing trailing;
} um_cbor_caps;

/* Reads the head at b[*pos] (RFC 8949 3): major type and argument. Returns 0, 1 for an
 * indefinite length (additional information 31 on a string, array or map), -1 on malformed
 * input (reserved values 28..30, 31 elsewhere, bytes missing). */
int um_cbor_read_head(const uint8_t *b, size_t len, size_t *pos, unsigned *major, uint64_t *val);

/* Walks one data item at b[0..len) within caps (max_bytes and trailing are not looked at);
 * *end gets the offset just past it. Returns 0 when well formed, -1 otherwise. */
int um_cbor_check(const uint8_t *b, size_t len, const um_cbor_caps *caps, size_t *end);

/* The checked loader: um_cbor_check, the trailing rule, then cbor_load of exactly that item.
 * NULL when the buffer is empty, too large, malformed, or libcbor refuses it (or no memory).
 * Free with um_cbor_release. */
cbor_item_t *um_cbor_load(const uint8_t *buf, size_t len, const um_cbor_caps *caps);

/* cbor_decref that accepts NULL (and sets *it to NULL). */
void um_cbor_release(cbor_item_t **it);

/* ---- Typed accessors: NULL / 0 for a missing item or one of another type. Tags are looked
 * through (C2PA writers tag some values), up to a bounded number of them. ---- */

const cbor_item_t *um_cbor_untag(const cbor_item_t *it);

/* The value under a text key (definite or chunked) in a map. */
const cbor_item_t *um_cbor_map_get(const cbor_item_t *map, const char *key);

/* The value under an integer label (COSE header labels, RFC 9052 3.1) in a map. */
const cbor_item_t *um_cbor_map_get_label(const cbor_item_t *map, int64_t label);

/* A text string (definite or chunked) into buf[cap] (cap >= 1), cut to fit, NUL-terminated;
 * the bytes are as stored (not checked to be UTF-8: use um_json_text for JSON). 1 when it was
 * a text string. */
int um_cbor_text(const cbor_item_t *it, char *buf, size_t cap);

/* um_cbor_text of the value under key. */
int um_cbor_get_text(const cbor_item_t *map, const char *key, char *buf, size_t cap);

/* A definite byte string: its bytes (never NULL for an empty one) and length. */
const uint8_t *um_cbor_bytes(const cbor_item_t *it, size_t *len);

/* An array: its elements and count. */
cbor_item_t **um_cbor_array(const cbor_item_t *it, size_t *n);

/* An unsigned integer (major type 0). */
int um_cbor_uint(const cbor_item_t *it, uint64_t *v);

/* An integer (major type 0 or 1) that fits in int64_t. */
int um_cbor_int(const cbor_item_t *it, int64_t *v);

/* ---- To JSON (c2patool shows assertion and claim values as JSON) ---- */

/* A decoded item as a new JSON value, tags looked through. Maps become objects (integer keys
 * as decimal text, text keys cut to 255 bytes, keys of other types skipped), arrays arrays,
 * integers integers (reals beyond int64_t), byte strings {"bytes": length} (-1 when chunked),
 * text strings strings of at most 8 KiB (through um_json_cstr), floats reals, booleans
 * booleans, anything else null. Bounded for hostile input: nesting beyond 24 levels and items
 * beyond the 20000th become null. NULL when out of memory, or when an object refuses a key
 * (jansson rejects keys that are not UTF-8). */
json_t *um_cbor_to_json(const cbor_item_t *item);

#endif
