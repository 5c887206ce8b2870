/* After reading: the near-duplicate text clusters (neardup.h) and the image hashes within a
 * Hamming distance (imagehash.h) become one object each, by pointing every share of a cluster
 * at its representative object. */
#include <stdlib.h>
#include <string.h>

#include "campaign/imagehash.h"
#include "campaign/ingest_internal.h"
#include "core/hex.h"

/* The objects of one kind (ids ascending) and, per object id, the index in that list. */
static uint32_t *objects_of_kind(const struct cm_dataset *d, int kind, size_t *n)
{
    uint32_t *ids = malloc(((size_t)d->objects.count + 1) * sizeof *ids);
    if (!ids)
        return NULL;
    *n = 0;
    for (uint32_t o = 0; o < d->objects.count; o++)
        if (cm_object_kind(d, o) == kind)
            ids[(*n)++] = o;
    return ids;
}

/* Every share of the kind points to its cluster's representative (the smallest index). */
static int remap_to_clusters(struct cm_dataset *d, int kind, const uint32_t *ids,
                             const uint32_t *cluster, size_t n)
{
    uint32_t *rep = malloc(((size_t)d->objects.count + 1) * sizeof *rep);
    if (!rep)
        return -1;
    for (uint32_t o = 0; o < d->objects.count; o++) /* objects outside the clustering stay */
        rep[o] = o;
    for (size_t i = 0; i < n; i++)
        rep[ids[i]] = ids[cluster[i]];
    struct cm_table *t = &d->shares[kind];
    for (size_t i = 0; i < t->n; i++)
        t->v[i].object = rep[t->v[i].object];
    free(rep);
    return 0;
}

static int cluster_near_text(struct cm_dataset *d, const struct cm_neardup_params *p)
{
    size_t n;
    uint32_t *ids = objects_of_kind(d, CM_KIND_NEAR_TEXT, &n);
    const char **texts = malloc((n + 1) * sizeof *texts);
    size_t *lens = malloc((n + 1) * sizeof *lens);
    uint32_t *cluster = malloc((n + 1) * sizeof *cluster);
    int rc = -1;
    if (ids && texts && lens && cluster) {
        for (size_t i = 0; i < n; i++) {
            texts[i] = cm_object_value(d, ids[i]);
            lens[i] = strlen(texts[i]);
        }
        rc = (n == 0 || cm_neardup_cluster(texts, lens, n, p, cluster) == 0)
                 ? remap_to_clusters(d, CM_KIND_NEAR_TEXT, ids, cluster, n)
                 : -1;
    }
    free(ids);
    free(texts);
    free(lens);
    free(cluster);
    return rc;
}

/* Image objects that are hex strings as long as the first image object join by Hamming distance;
 * others (ids, other lengths) stay as they are. */
static int cluster_images(struct cm_dataset *d, int max_distance)
{
    size_t n, nhex = 0, hexlen = 0;
    uint32_t *ids = objects_of_kind(d, CM_KIND_IMAGE, &n);
    if (!ids)
        return -1;
    if (n)
        hexlen = strlen(cm_object_value(d, ids[0]));
    size_t nbytes = hexlen / 2;
    uint8_t *hashes = nbytes ? malloc(n * nbytes) : NULL;
    uint32_t *hex_ids = malloc((n + 1) * sizeof *hex_ids);
    uint32_t *cluster = malloc((n + 1) * sizeof *cluster);
    int rc = -1;
    if ((hashes || !nbytes) && hex_ids && cluster) {
        for (size_t i = 0; i < n && nbytes; i++) {
            const char *h = cm_object_value(d, ids[i]);
            size_t k = 0;
            while (k < hexlen && um_hex_digit((unsigned char)h[k]) >= 0)
                k++;
            if (k != hexlen || h[k] != '\0' || (hexlen & 1))
                continue;
            for (size_t b = 0; b < nbytes; b++)
                hashes[nhex * nbytes + b] =
                    (uint8_t)(um_hex_digit((unsigned char)h[2 * b]) << 4 |
                              um_hex_digit((unsigned char)h[2 * b + 1]));
            hex_ids[nhex++] = ids[i];
        }
        rc = (nhex == 0 || cm_hamming_cluster(hashes, nbytes, nhex, max_distance, cluster) == 0)
                 ? remap_to_clusters(d, CM_KIND_IMAGE, hex_ids, cluster, nhex)
                 : -1;
    }
    free(ids);
    free(hashes);
    free(hex_ids);
    free(cluster);
    return rc;
}

int cm_dataset_cluster(struct cm_dataset *d, const struct cm_ingest_params *p, char *err,
                       size_t errlen)
{
    if ((p->kinds & (1u << CM_KIND_NEAR_TEXT)) && cluster_near_text(d, &p->neardup)) {
        snprintf(err, errlen, "out of memory in near-duplicate text clustering");
        return -1;
    }
    if ((p->kinds & (1u << CM_KIND_IMAGE)) && p->image_distance >= 0 &&
        cluster_images(d, p->image_distance)) {
        snprintf(err, errlen, "out of memory in image-hash clustering");
        return -1;
    }
    return 0;
}
