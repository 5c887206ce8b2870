/* Small helpers shared by the campaign code (neardup.c, imagehash.c, simulate.c): a 64-bit
 * mixer and union-find. Inline: they sit in hot loops. */
#ifndef UM_CAMPAIGN_UTIL_H
#define UM_CAMPAIGN_UTIL_H

#include <stdint.h>

/* splitmix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer. */
static inline uint64_t cm_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Union-find over indices whose root is always the smallest index of its component, so the
 * final roots are the "smallest index" cluster labels directly. */
static inline uint32_t cm_uf_find(uint32_t *parent, uint32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]]; /* path halving */
        i = parent[i];
    }
    return i;
}

static inline void cm_uf_unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    uint32_t ra = cm_uf_find(parent, a), rb = cm_uf_find(parent, b);
    if (ra < rb)
        parent[rb] = ra;
    else if (rb < ra)
        parent[ra] = rb;
}

#endif
