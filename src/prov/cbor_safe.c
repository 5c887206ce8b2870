/* CBOR from the file, made safe for libcbor 0.8 (see cbor_safe.h; RFC 8949): the
 * well-formedness walk, the checked loader, the typed accessors and the bounded conversion to
 * JSON. */
#include "prov/cbor_safe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/text.h"

#define UNTAG_MAX 48           /* nested tags looked through by the accessors */
#define JSON_MAX_DEPTH 24      /* um_cbor_to_json: deeper items become null */
#define JSON_MAX_NODES 20000   /* um_cbor_to_json: items after these become null */
#define JSON_MAX_STRING 8192   /* um_cbor_to_json: bytes kept of one text string */

int um_cbor_read_head(const uint8_t *b, size_t len, size_t *pos, unsigned *major, uint64_t *val)
{
    if (*pos >= len)
        return -1;
    uint8_t ib = b[(*pos)++];
    unsigned info = ib & 31u;
    *major = ib >> 5;
    *val = 0;
    if (info < 24) {
        *val = info;
        return 0;
    }
    if (info <= 27) {
        size_t n = (size_t)1 << (info - 24);
        if (len - *pos < n)
            return -1;
        for (size_t i = 0; i < n; i++)
            *val = (*val << 8) | b[(*pos)++];
        return 0;
    }
    if (info == 31 && *major >= 2 && *major <= 5)
        return 1;
    return -1; /* 28..30 reserved; 31 on an int, tag or simple value (a stray break) */
}

/* ---------------------------------------------------------------------------------------------
 * The well-formedness walk */

struct walk {
    const uint8_t *b;
    size_t len, pos, items;
    const um_cbor_caps *caps;
};

static int check_item(struct walk *w, int depth);

/* Counts one head against the item cap. */
static int count_item(struct walk *w) { return ++w->items <= w->caps->max_items ? 0 : -1; }

/* The break code 0xFF that ends an indefinite item, consumed when it is there. -1 when the
 * bytes ran out first. */
static int at_break(struct walk *w, int *is_break)
{
    if (w->pos >= w->len)
        return -1;
    *is_break = w->b[w->pos] == 0xFF;
    if (*is_break)
        w->pos++;
    return 0;
}

/* Items of an indefinite array/map up to the break; a map needs an even number of them. */
static int check_indefinite_items(struct walk *w, int depth, int is_map)
{
    size_t items = 0;
    for (;;) {
        int brk;
        if (at_break(w, &brk) != 0)
            return -1;
        if (brk)
            return (is_map && (items & 1)) ? -1 : 0;
        if (check_item(w, depth + 1) != 0)
            return -1;
        items++;
    }
}

/* Chunks of an indefinite byte/text string: definite strings of the same major type
 * (RFC 8949 3.2.3). */
static int check_chunks(struct walk *w, unsigned major)
{
    for (;;) {
        int brk;
        if (at_break(w, &brk) != 0)
            return -1;
        if (brk)
            return 0;
        unsigned m;
        uint64_t n;
        if (count_item(w) != 0 || um_cbor_read_head(w->b, w->len, &w->pos, &m, &n) != 0 ||
            m != major || n > w->len - w->pos)
            return -1;
        w->pos += (size_t)n;
    }
}

/* One data item at w->pos: well formed, every declared count and length fits in the bytes that
 * remain (each element takes at least one byte), within the depth and item caps. */
static int check_item(struct walk *w, int depth)
{
    if (depth > w->caps->max_depth || count_item(w) != 0)
        return -1;
    unsigned major;
    uint64_t val;
    int r = um_cbor_read_head(w->b, w->len, &w->pos, &major, &val);
    if (r < 0)
        return -1;
    switch (major) {
    case 2:
    case 3:
        if (r == 1)
            return check_chunks(w, major);
        if (val > w->len - w->pos)
            return -1;
        w->pos += (size_t)val;
        return 0;
    case 4:
    case 5: {
        if (r == 1)
            return check_indefinite_items(w, depth, major == 5);
        uint64_t per = major == 5 ? 2 : 1;
        if (val > (w->len - w->pos) / per)
            return -1;
        for (uint64_t i = 0; i < val * per; i++)
            if (check_item(w, depth + 1) != 0)
                return -1;
        return 0;
    }
    case 6:
        return check_item(w, depth + 1);
    default: /* 0, 1 integers; 7 simple values and floats: the head is the whole item */
        return 0;
    }
}

int um_cbor_check(const uint8_t *b, size_t len, const um_cbor_caps *caps, size_t *end)
{
    struct walk w = {b, len, 0, 0, caps};
    if (!b || check_item(&w, 0) != 0)
        return -1;
    *end = w.pos;
    return 0;
}

static int only_zeros(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

cbor_item_t *um_cbor_load(const uint8_t *buf, size_t len, const um_cbor_caps *caps)
{
    size_t end;
    if (!buf || len == 0 || len > caps->max_bytes || um_cbor_check(buf, len, caps, &end) != 0)
        return NULL;
    if ((caps->trailing == UM_CBOR_EXACT && end != len) ||
        (caps->trailing == UM_CBOR_ZERO_PADDING && !only_zeros(buf + end, len - end)))
        return NULL;
    struct cbor_load_result res;
    cbor_item_t *item = cbor_load(buf, end, &res);
    if (item && (res.error.code != CBOR_ERR_NONE || res.read != end))
        um_cbor_release(&item);
    return item;
}

void um_cbor_release(cbor_item_t **it)
{
    if (*it)
        cbor_decref(it);
    *it = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Typed accessors */

const cbor_item_t *um_cbor_untag(const cbor_item_t *it)
{
    for (int i = 0; it && cbor_isa_tag(it) && i < UNTAG_MAX; i++) {
        cbor_item_t *inner = cbor_tag_item(it); /* takes a reference; the tag keeps one */
        cbor_item_t *tmp = inner;
        cbor_decref(&tmp);
        it = inner;
    }
    return it;
}

int um_cbor_text(const cbor_item_t *it, char *buf, size_t cap)
{
    it = um_cbor_untag(it);
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (!it || !cbor_isa_string(it))
        return 0;
    size_t used = 0;
    if (cbor_string_is_definite(it)) {
        size_t len = cbor_string_length(it);
        used = len < cap - 1 ? len : cap - 1;
        if (used)
            memcpy(buf, cbor_string_handle(it), used);
    } else {
        cbor_item_t **chunk = cbor_string_chunks_handle(it);
        for (size_t i = 0; i < cbor_string_chunk_count(it) && used < cap - 1; i++) {
            if (!cbor_isa_string(chunk[i]) || !cbor_string_is_definite(chunk[i]))
                break;
            size_t len = cbor_string_length(chunk[i]), room = cap - 1 - used;
            size_t take = len < room ? len : room;
            if (take)
                memcpy(buf + used, cbor_string_handle(chunk[i]), take);
            used += take;
        }
    }
    buf[used] = '\0';
    um_utf8_sanitize(buf); /* CBOR text must be UTF-8 (RFC 8949 3.1); the file may not care */
    return 1;
}

static int key_is(const cbor_item_t *key, const char *name)
{
    if (!cbor_isa_string(key))
        return 0;
    size_t len = strlen(name);
    if (cbor_string_is_definite(key))
        return cbor_string_length(key) == len && memcmp(cbor_string_handle(key), name, len) == 0;
    char buf[128]; /* a chunked key: longer names than this are not looked up */
    return len < sizeof buf && um_cbor_text(key, buf, sizeof buf) && strcmp(buf, name) == 0;
}

const cbor_item_t *um_cbor_map_get(const cbor_item_t *map, const char *key)
{
    map = um_cbor_untag(map);
    if (!map || !cbor_isa_map(map))
        return NULL;
    struct cbor_pair *pairs = cbor_map_handle(map);
    size_t n = cbor_map_size(map);
    for (size_t i = 0; i < n; i++)
        if (key_is(pairs[i].key, key))
            return pairs[i].value;
    return NULL;
}

const cbor_item_t *um_cbor_map_get_label(const cbor_item_t *map, int64_t label)
{
    map = um_cbor_untag(map);
    if (!map || !cbor_isa_map(map))
        return NULL;
    struct cbor_pair *pairs = cbor_map_handle(map);
    size_t n = cbor_map_size(map);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (um_cbor_int(pairs[i].key, &v) && v == label)
            return pairs[i].value;
    }
    return NULL;
}

int um_cbor_get_text(const cbor_item_t *map, const char *key, char *buf, size_t cap)
{
    return um_cbor_text(um_cbor_map_get(map, key), buf, cap);
}

const uint8_t *um_cbor_bytes(const cbor_item_t *it, size_t *len)
{
    it = um_cbor_untag(it);
    *len = 0;
    if (!it || !cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
        return NULL;
    *len = cbor_bytestring_length(it);
    return cbor_bytestring_handle(it) ? cbor_bytestring_handle(it) : (const uint8_t *)"";
}

cbor_item_t **um_cbor_array(const cbor_item_t *it, size_t *n)
{
    it = um_cbor_untag(it);
    *n = 0;
    if (!it || !cbor_isa_array(it))
        return NULL;
    *n = cbor_array_size(it);
    return cbor_array_handle(it);
}

int um_cbor_uint(const cbor_item_t *it, uint64_t *v)
{
    it = um_cbor_untag(it);
    if (!it || !cbor_isa_uint(it))
        return 0;
    *v = cbor_get_int(it);
    return 1;
}

int um_cbor_int(const cbor_item_t *it, int64_t *v)
{
    it = um_cbor_untag(it);
    if (!it || (!cbor_isa_uint(it) && !cbor_isa_negint(it)))
        return 0;
    uint64_t u = cbor_get_int(it);
    if (u > INT64_MAX)
        return 0;
    *v = cbor_isa_uint(it) ? (int64_t)u : -1 - (int64_t)u;
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * To JSON, for the report: depth and node count capped, as the items come from the file */

typedef struct json_budget {
    int nodes;
} json_budget;

static json_t *cbor_to_json_rec(const cbor_item_t *it, int depth, json_budget *b);

static json_t *cbor_map_to_json(const cbor_item_t *it, int depth, json_budget *b)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    struct cbor_pair *pairs = cbor_map_handle(it);
    for (size_t i = 0; i < cbor_map_size(it); i++) {
        char key[256];
        const cbor_item_t *k = um_cbor_untag(pairs[i].key);
        if (cbor_isa_uint(k))
            snprintf(key, sizeof key, "%llu", (unsigned long long)cbor_get_int(k));
        else if (cbor_isa_negint(k))
            snprintf(key, sizeof key, "-%llu", (unsigned long long)cbor_get_int(k) + 1);
        else if (!um_cbor_text(k, key, sizeof key))
            continue;
        json_t *v = cbor_to_json_rec(pairs[i].value, depth + 1, b);
        if (!v || json_object_set_new(obj, key, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *cbor_scalar_to_json(const cbor_item_t *it)
{
    if (cbor_isa_uint(it)) {
        uint64_t v = cbor_get_int(it);
        return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
    }
    if (cbor_isa_negint(it)) {
        uint64_t v = cbor_get_int(it);
        return v < INT64_MAX ? json_integer(-(json_int_t)v - 1) : json_real(-(double)v - 1.0);
    }
    if (cbor_isa_bytestring(it)) {
        json_int_t len = 0;
        if (cbor_bytestring_is_definite(it))
            len = (json_int_t)cbor_bytestring_length(it);
        else
            len = -1;
        return json_pack("{sI}", "bytes", len);
    }
    if (cbor_isa_string(it)) {
        char *buf = malloc(JSON_MAX_STRING);
        if (!buf)
            return NULL;
        um_cbor_text(it, buf, JSON_MAX_STRING);
        json_t *s = um_json_cstr(buf);
        free(buf);
        return s;
    }
    if (cbor_is_float(it))
        return json_real(cbor_float_get_float(it));
    if (cbor_is_bool(it))
        return json_boolean(cbor_get_bool(it));
    return json_null();
}

static json_t *cbor_to_json_rec(const cbor_item_t *it, int depth, json_budget *b)
{
    it = um_cbor_untag(it);
    if (!it || depth > JSON_MAX_DEPTH || ++b->nodes > JSON_MAX_NODES)
        return json_null();
    if (cbor_isa_map(it))
        return cbor_map_to_json(it, depth, b);
    if (cbor_isa_array(it)) {
        json_t *arr = json_array();
        if (!arr)
            return NULL;
        cbor_item_t **el = cbor_array_handle(it);
        for (size_t i = 0; i < cbor_array_size(it); i++) {
            json_t *v = cbor_to_json_rec(el[i], depth + 1, b);
            if (!v || json_array_append_new(arr, v) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    return cbor_scalar_to_json(it);
}

json_t *um_cbor_to_json(const cbor_item_t *item)
{
    json_budget b = {0};
    return cbor_to_json_rec(item, 0, &b);
}
