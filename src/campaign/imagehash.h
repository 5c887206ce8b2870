/* Co-image clustering of perceptual hashes by Hamming distance (issue 7, item 2).
 *
 * Multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index
 * Hashing", CVPR 2012): split each hash into m = max_distance + 1 disjoint chunks; by the
 * pigeonhole principle two hashes within distance max_distance agree exactly on at least one
 * chunk, so candidates come from exact chunk-table lookups and are verified by full popcount. */
#ifndef UM_CAMPAIGN_IMAGEHASH_H
#define UM_CAMPAIGN_IMAGEHASH_H

#include <stddef.h>
#include <stdint.h>

/* hashes: n distinct hashes of nbytes bytes each (hex-decoded by the caller); cluster[i] =
 * smallest index of i's component in the graph "Hamming distance <= max_distance".
 * Multi-index hashing (pigeonhole on max_distance+1 chunks), no all-pairs scan. 0 or -1. */
int cm_hamming_cluster(const uint8_t *hashes, size_t nbytes, size_t n, int max_distance,
                       uint32_t *cluster);

#endif
