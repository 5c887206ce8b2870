/* Hamming-distance clustering of perceptual hashes by multi-index hashing.
 *
 * Norouzi, Punjani & Fleet (CVPR 2012), section 3: cut each B-bit code into m disjoint
 * substrings; if ||h - g||_H <= d and m = d + 1, some substring of h equals the same substring
 * of g exactly (pigeonhole: d differing bits cannot touch all d + 1 substrings). So:
 *  1. for each substring c = 0..m-1 (bits [c B / m, (c + 1) B / m), most significant bit of
 *     byte 0 first), key every hash by that substring (the bits themselves when there are at
 *     most 64, else a 64-bit hash of them: a collision only adds a candidate) and sort;
 *  2. every pair inside a run of equal keys is a candidate, verified by the full popcount of
 *     h XOR g, and verified pairs are joined with union-find (pairs already in one component
 *     are not verified again).
 * Long runs: the members of a run of equal keys agree exactly on that substring, so their
 * distances live in the remaining bits, and the same pigeonhole argument applies again to those
 * bits: a run longer than HD_EXACT_RUN is split recursively by d + 1 substrings of its remaining
 * bits, and when d or fewer bits remain all of its members are within d of each other. This
 * keeps degenerate inputs (thousands of hashes sharing half their bits, e.g. near-blank
 * images) exact and far from quadratic. Only past HD_MAX_DEPTH levels (very long hashes with a
 * large d) is a run compared against at most HD_RUN_REPS representatives of the components
 * met in it, which may leave a hash close only to non-representative members apart.
 * The candidates of one substring table of b bits are about n^2 / 2^b pairs of unrelated
 * hashes, so the method suits distances small against the code length (64-bit pHash, d <= 10).
 * With max_distance >= B every pair qualifies and all hashes form one cluster. */
#include "campaign/imagehash.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/util.h"

enum {
    HD_MAX_BYTES = 4096,
    HD_EXACT_RUN = 512,
    HD_MAX_DEPTH = 64,
    HD_RUN_REPS = 64,
};

struct keyed {
    uint64_t key;
    uint32_t idx;
};

static int bit_at(const uint8_t *h, size_t bit)
{
    return (h[bit >> 3] >> (7 - (bit & 7))) & 1;
}

/* Step 1: the key of one hash's bits at the positions pos[0..npos). */
static uint64_t substring_key(const uint8_t *h, const uint32_t *pos, size_t npos)
{
    uint64_t key = 0, acc = 0;
    size_t filled = 0;
    for (size_t b = 0; b < npos; b++) {
        acc = acc << 1 | (uint64_t)bit_at(h, pos[b]);
        if (++filled == 64 && npos > 64) { /* longer than a word: fold 64 bits at a time */
            key = cm_mix64(key ^ acc) + 1;
            acc = 0;
            filled = 0;
        }
    }
    if (npos <= 64)
        return acc;
    return filled ? cm_mix64(key ^ acc) : key;
}

static int hamming_within(const uint8_t *a, const uint8_t *b, size_t nbytes, int d)
{
    int dist = 0;
    size_t i = 0;
    for (; i + 8 <= nbytes; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        dist += __builtin_popcountll(x ^ y);
        if (dist > d)
            return 0;
    }
    for (; i < nbytes; i++)
        dist += __builtin_popcount((unsigned)(a[i] ^ b[i]));
    return dist <= d;
}

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

struct hd_ctx {
    const uint8_t *hashes;
    size_t nbytes;
    int d;
    uint32_t *parent;
};

static const uint8_t *hash_at(const struct hd_ctx *c, uint32_t i)
{
    return c->hashes + (size_t)i * c->nbytes;
}

static void join_if_close(struct hd_ctx *c, uint32_t a, uint32_t b)
{
    if (cm_uf_find(c->parent, a) != cm_uf_find(c->parent, b) &&
        hamming_within(hash_at(c, a), hash_at(c, b), c->nbytes, c->d))
        cm_uf_unite(c->parent, a, b);
}

/* Step 2 on a short run: every pair. */
static void run_all_pairs(struct hd_ctx *c, const uint32_t *run, size_t k)
{
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            join_if_close(c, run[i], run[j]);
}

/* Past the depth limit: each member against the representatives of the components met. */
static void run_representatives(struct hd_ctx *c, const uint32_t *run, size_t k)
{
    uint32_t rep[HD_RUN_REPS];
    int nrep = 0;
    for (size_t m = 0; m < k; m++) {
        for (int r = 0; r < nrep; r++)
            join_if_close(c, run[m], rep[r]);
        int joined = 0;
        for (int r = 0; r < nrep && !joined; r++)
            joined = cm_uf_find(c->parent, run[m]) == cm_uf_find(c->parent, rep[r]);
        if (!joined && nrep < HD_RUN_REPS)
            rep[nrep++] = run[m];
    }
}

static int cluster_run(struct hd_ctx *c, const uint32_t *members, size_t k, const uint32_t *pos,
                       size_t npos, int depth);

/* One substring table over the members: sort by the key of positions [lo, hi) of pos, and
 * recurse into every run of equal keys with the other positions. */
static int substring_table(struct hd_ctx *c, const uint32_t *members, size_t k,
                           const uint32_t *pos, size_t npos, size_t lo, size_t hi, int depth)
{
    struct keyed *tab = malloc(k * sizeof *tab);
    uint32_t *run = malloc(k * sizeof *run), *rest = malloc((npos - (hi - lo)) * sizeof *rest);
    int rc = tab && run && (rest || npos == hi - lo) ? 0 : -1;
    if (rc == 0) {
        memcpy(rest, pos, lo * sizeof *rest);
        memcpy(rest + lo, pos + hi, (npos - hi) * sizeof *rest);
        for (size_t i = 0; i < k; i++)
            tab[i] = (struct keyed){substring_key(hash_at(c, members[i]), pos + lo, hi - lo),
                                    members[i]};
        qsort(tab, k, sizeof *tab, cmp_keyed);
    }
    for (size_t i = 0; i < k && rc == 0;) {
        size_t j = i + 1;
        while (j < k && tab[j].key == tab[i].key)
            j++;
        for (size_t m = i; m < j; m++)
            run[m - i] = tab[m].idx;
        rc = cluster_run(c, run, j - i, rest, npos - (hi - lo), depth + 1);
        i = j;
    }
    free(tab);
    free(run);
    free(rest);
    return rc;
}

/* Joins the members within distance d, given that they agree on every bit outside pos. */
static int cluster_run(struct hd_ctx *c, const uint32_t *members, size_t k, const uint32_t *pos,
                       size_t npos, int depth)
{
    if (k < 2)
        return 0;
    if (npos <= (size_t)c->d) { /* at most d bits can differ: all within d */
        for (size_t i = 1; i < k; i++)
            join_if_close(c, members[0], members[i]);
        return 0;
    }
    if (k <= HD_EXACT_RUN && depth > 0) {
        run_all_pairs(c, members, k);
        return 0;
    }
    if (depth >= HD_MAX_DEPTH) {
        run_representatives(c, members, k);
        return 0;
    }
    size_t m = (size_t)c->d + 1;
    for (size_t s = 0; s < m; s++)
        if (substring_table(c, members, k, pos, npos, s * npos / m, (s + 1) * npos / m,
                            depth) != 0)
            return -1;
    return 0;
}

int cm_hamming_cluster(const uint8_t *hashes, size_t nbytes, size_t n, int max_distance,
                       uint32_t *cluster)
{
    if (nbytes < 1 || nbytes > HD_MAX_BYTES || n >= UINT32_MAX || max_distance < 0 ||
        (n > 0 && (!hashes || !cluster)))
        return -1;
    if (n > SIZE_MAX / nbytes)
        return -1;
    size_t nbits = nbytes * 8;
    if ((size_t)max_distance >= nbits) {
        for (size_t i = 0; i < n; i++)
            cluster[i] = 0;
        return 0;
    }
    if (n == 0)
        return 0;
    uint32_t *members = malloc(n * sizeof *members), *pos = malloc(nbits * sizeof *pos);
    int rc = members && pos ? 0 : -1;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            cluster[i] = members[i] = (uint32_t)i;
        for (size_t b = 0; b < nbits; b++)
            pos[b] = (uint32_t)b;
        struct hd_ctx c = {hashes, nbytes, max_distance, cluster};
        rc = cluster_run(&c, members, n, pos, nbits, 0);
        for (size_t i = 0; i < n; i++)
            cluster[i] = cm_uf_find(cluster, (uint32_t)i);
    }
    free(members);
    free(pos);
    return rc;
}
