/* Near-duplicate text clustering for coordinated-campaign detection (issue 7, item 2).
 *
 * MinHash signatures over word shingles (Broder 1997, "On the resemblance and containment of
 * documents"), locality-sensitive hashing by banding (Leskovec, Rajaraman & Ullman, "Mining of
 * Massive Datasets", ch. 3.4), every candidate pair verified by the exact Jaccard similarity of
 * the two shingle sets, connected components by union-find. */
#ifndef UM_CAMPAIGN_NEARDUP_H
#define UM_CAMPAIGN_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

struct cm_neardup_params {
    int shingle_words; /* words per shingle (k); texts shorter than k words give one shingle */
    int num_hashes;    /* MinHash signature length = bands * rows */
    int bands;         /* LSH bands b; rows per band r = num_hashes / bands */
    double jaccard;    /* verified pairs need exact Jaccard >= this, in (0, 1] */
    uint64_t seed;     /* seeds the MinHash permutations (results are deterministic per seed) */
    int threads;       /* worker threads; <= 0 means all online CPUs */
};

/* Defaults: shingle_words 3, num_hashes 60, bands 20 (r = 3), jaccard 0.6, seed fixed, threads 0.
 * With b = 20, r = 3 the LSH S-curve P(candidate | s) = 1 - (1 - s^r)^b has its threshold
 * (1/b)^(1/r) = 0.37 below the Jaccard threshold, so a pair at exactly s = 0.6 is missed with
 * probability (1 - 0.6^3)^20 = 0.0077, a pair at s = 0.7 with 0.0002 (see neardup.c). */
void cm_neardup_params_init(struct cm_neardup_params *p);

/* texts: n DISTINCT normalised texts (UTF-8, lens[i] bytes). cluster[i] = the smallest index
 * of the connected component of i in the graph of verified pairs (MinHash over word
 * shingles, LSH banding for candidates, exact Jaccard >= p->jaccard to verify); singletons
 * get their own index. Returns 0, or -1 when memory runs out (or parameters are invalid). */
int cm_neardup_cluster(const char *const *texts, const size_t *lens, size_t n,
                       const struct cm_neardup_params *p, uint32_t *cluster);

#endif
