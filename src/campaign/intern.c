/* String interning for the campaign pipeline: ids in first-seen order, so every process that
 * reads the same file assigns the same ids (the MPI mode relies on it). Open addressing with
 * linear probing; the table doubles at 1/2 load. */
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"

/* FNV-1a, then a final avalanche (murmur3 fmix32) so linear probing sees well-spread slots. */
static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static int equal_at(const struct cm_intern *t, uint32_t id, const char *s, size_t len)
{
    const char *v = t->bytes + t->offset[id];
    return memcmp(v, s, len) == 0 && v[len] == '\0';
}

static size_t probe(const struct cm_intern *t, const char *s, size_t len, uint32_t h)
{
    size_t mask = t->nslots - 1, i = h & mask;
    while (t->slots[i].id1 && !(t->slots[i].hash == h && equal_at(t, t->slots[i].id1 - 1, s, len)))
        i = (i + 1) & mask;
    return i;
}

static int grow_slots(struct cm_intern *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    struct cm_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->slots[i].id1)
            continue;
        size_t j = t->slots[i].hash & (n - 1);
        while (slots[j].id1)
            j = (j + 1) & (n - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

static int store_string(struct cm_intern *t, const char *s, size_t len)
{
    if (len > SIZE_MAX / 2 - t->bytes_len - 1)
        return -1;
    if (t->bytes_len + len + 1 > t->bytes_cap) {
        size_t cap = t->bytes_cap ? t->bytes_cap : 4096;
        while (cap < t->bytes_len + len + 1)
            cap *= 2;
        char *b = realloc(t->bytes, cap);
        if (!b)
            return -1;
        t->bytes = b;
        t->bytes_cap = cap;
    }
    if (t->count == t->offset_cap) {
        uint32_t cap = t->offset_cap ? t->offset_cap * 2 : 256;
        uint64_t *o = realloc(t->offset, (size_t)cap * sizeof *o);
        if (!o)
            return -1;
        t->offset = o;
        t->offset_cap = cap;
    }
    t->offset[t->count] = t->bytes_len;
    memcpy(t->bytes + t->bytes_len, s, len);
    t->bytes[t->bytes_len + len] = '\0';
    t->bytes_len += len + 1;
    return 0;
}

uint32_t cm_intern_find(const struct cm_intern *t, const char *s, size_t len)
{
    if (!t->nslots)
        return CM_INTERN_FAIL;
    size_t i = probe(t, s, len, hash_bytes(s, len));
    return t->slots[i].id1 ? t->slots[i].id1 - 1 : CM_INTERN_FAIL;
}

uint32_t cm_intern_add(struct cm_intern *t, const char *s, size_t len)
{
    if ((size_t)t->count * 2 + 2 > t->nslots && grow_slots(t))
        return CM_INTERN_FAIL;
    uint32_t h = hash_bytes(s, len);
    size_t i = probe(t, s, len, h);
    if (t->slots[i].id1)
        return t->slots[i].id1 - 1;
    if (t->count >= CM_INTERN_MAX || store_string(t, s, len))
        return CM_INTERN_FAIL;
    t->slots[i] = (struct cm_slot){t->count + 1, h};
    return t->count++;
}

const char *cm_intern_str(const struct cm_intern *t, uint32_t id)
{
    return id < t->count ? t->bytes + t->offset[id] : "";
}

void cm_intern_free(struct cm_intern *t)
{
    free(t->bytes);
    free(t->offset);
    free(t->slots);
    memset(t, 0, sizeof *t);
}
