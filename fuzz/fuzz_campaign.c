/* libFuzzer target for the campaign reader (CSV and JSON Lines, every preset) and the pipeline
 * behind it. The first byte picks the preset and the kinds; the rest is the file. Besides the
 * sanitizers, it checks the reader's contract: every share refers to interned ids, malformed
 * rows never exceed rows, a failure carries a message; and the network's: edges sorted, each
 * with its pairs, accounts on edges only, the coordinated counts match the flags, and exactly
 * the coordinated accounts are in groups. A broken contract aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"

static const char *const presets[] = {"coortweet", "qut", "twitter-v2", "german-wide"};

static void check_dataset(const struct cm_dataset *d)
{
    if (d->bad_rows > d->rows || d->nbad > CM_MAX_BAD_LINES)
        abort();
    for (int k = 0; k < CM_KIND_COUNT; k++)
        for (size_t i = 0; i < d->shares[k].n; i++) {
            const struct cm_share *s = &d->shares[k].v[i];
            if (s->account >= d->accounts.count || s->content >= d->contents.count ||
                s->object >= d->objects.count || cm_object_kind(d, s->object) != k)
                abort();
        }
}

/* Coordinated flags, counts and groups agree. */
static void check_coordinated(const struct cm_network *net)
{
    size_t edges = 0, accounts = 0, in_components = 0, in_communities = 0;
    for (size_t i = 0; i < net->nedges; i++)
        edges += (size_t)net->edges[i].coordinated;
    for (size_t i = 0; i < net->naccounts; i++) {
        const struct cm_account_stat *a = &net->accounts[i];
        accounts += (size_t)a->coordinated;
        if (a->coordinated != (a->component != 0) || a->coordinated != (a->community != 0) ||
            a->component > net->ncomponents || a->community > net->ncommunities)
            abort();
    }
    for (size_t g = 0; g < net->ncomponents; g++)
        in_components += net->components[g].size;
    for (size_t g = 0; g < net->ncommunities; g++)
        in_communities += net->communities[g].size;
    if (edges != net->ncoordinated_edges || accounts != net->ncoordinated_accounts ||
        in_components != accounts || in_communities != accounts)
        abort();
}

static void check_network(const struct cm_network *net)
{
    check_coordinated(net);
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        if (e->npairs == 0 || e->first_pair + e->npairs > net->pairs.n || e->weight == 0 ||
            !cm_find_account(net, e->a) || !cm_find_account(net, e->b))
            abort();
        if (i && (net->edges[i - 1].a > e->a ||
                  (net->edges[i - 1].a == e->a && net->edges[i - 1].b >= e->b)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct cm_ingest_params in;
    cm_ingest_params_init(&in);
    cm_ingest_preset(&in, presets[data[0] & 3]);
    in.format = (data[0] >> 2) & 3 ? CM_FORMAT_AUTO : CM_FORMAT_CSV;
    in.kinds = (data[0] & 3) == 1 ? (1u << CM_KIND_SHARE | 1u << CM_KIND_LINK | 1u << CM_KIND_TEXT)
               : (data[0] & 3) == 2 ? (1u << CM_KIND_SHARE | 1u << CM_KIND_LINK |
                                       1u << CM_KIND_HASHTAG | 1u << CM_KIND_NEAR_TEXT)
               : (data[0] & 3) == 3 ? (1u << CM_KIND_LINK | 1u << CM_KIND_HASHTAG |
                                       1u << CM_KIND_IMAGE | 1u << CM_KIND_DOMAIN)
                                    : 1u << CM_KIND_SHARE;
    in.image_distance = data[0] & 0x10 ? 2 : -1;
    in.strict = (data[0] & 0x20) != 0;
    in.max_record = 4096;
    in.neardup.threads = 1;
    struct cm_dataset d;
    memset(&d, 0, sizeof d);
    char err[256] = "";
    if (cm_ingest_buffer((const char *)data + 1, size - 1, &in, &d, err, sizeof err)) {
        if (!err[0])
            abort();
        cm_dataset_free(&d);
        return 0;
    }
    check_dataset(&d);
    struct cm_params p;
    cm_params_init(&p);
    p.kinds = in.kinds;
    p.window = 1 + (data[0] >> 6) * 30;
    p.min_participation = 1 + (data[0] >> 7);
    p.weight = (data[0] & 0x40) ? CM_WEIGHT_QUT : CM_WEIGHT_COORTWEET;
    p.percentile = (data[0] & 0x08) ? 0.5 : 0;
    p.unique = (data[0] & 0x10) != 0;
    p.max_pairs = 1u << 20;
    p.threads = 1;
    struct cm_pairs pairs = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    struct cm_network net;
    if (cm_find_pairs(&d, &p, &pairs, counts) == 0 &&
        cm_network_build(&d, &p, &pairs, &net, err, sizeof err) == 0) {
        check_network(&net);
        free(cm_summary_text(&d, &p, &net));
    }
    cm_network_free(&net);
    cm_pairs_free(&pairs);
    cm_dataset_free(&d);
    return 0;
}
