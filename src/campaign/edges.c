/* Edges from co-share pairs: CooRTweet's generate_coordinated_network aggregation (step 5: an
 * undirected edge per account pair, weight = number of pairs, edge-symmetry score) or, as an
 * option, the QUT coordination-network-toolkit's directed weight (distinct messages of u1 that
 * some message of u2 matched). Then the coordinated subgraph, as CooRTweet's
 * generate_coordinated_network(edge_weight = q) marks it: every edge is kept, and those with
 * weight strictly above the type-7 q quantile of all weights are flagged coordinated. Last,
 * per-account statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"

static int by_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Distinct values among n (sorted in place). */
static uint32_t count_distinct(uint32_t *v, size_t n)
{
    qsort(v, n, sizeof *v, by_u32);
    uint32_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    return d;
}

/* The statistics of pairs[first .. first + n) (one account pair, sorted by object). */
static void edge_from_group(const struct cm_pair *pairs, size_t first, size_t n,
                            uint32_t *tmp, struct cm_edge *e)
{
    const struct cm_pair *g = pairs + first;
    double dt = 0;
    e->a = g[0].a;
    e->b = g[0].b;
    e->first_pair = first;
    e->npairs = n;
    e->weight = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    e->nobjects = 0;
    for (size_t i = 0; i < n; i++) {
        e->nobjects += i == 0 || g[i].object != g[i - 1].object;
        dt += g[i].dt;
    }
    e->mean_dt = dt / (double)n;
    for (size_t i = 0; i < n; i++)
        tmp[i] = g[i].ca;
    e->ncontent_a = count_distinct(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = g[i].cb;
    e->ncontent_b = count_distinct(tmp, n);
    uint32_t lo = e->ncontent_a < e->ncontent_b ? e->ncontent_a : e->ncontent_b;
    uint32_t hi = e->ncontent_a < e->ncontent_b ? e->ncontent_b : e->ncontent_a;
    e->symmetry = hi ? (double)lo / hi : 0;
}

/* Step 5: one edge per run of equal (a, b) in the canonical pair order. */
static int undirected_edges(const struct cm_pairs *pairs, struct cm_edge **out, size_t *nout)
{
    size_t cap = 0, n = 0, longest = 0;
    for (size_t i = 0, j; i < pairs->n; i = j) {
        for (j = i + 1; j < pairs->n && pairs->v[j].a == pairs->v[i].a &&
                        pairs->v[j].b == pairs->v[i].b; j++) {
        }
        cap++;
        if (j - i > longest)
            longest = j - i;
    }
    struct cm_edge *e = malloc((cap + 1) * sizeof *e);
    uint32_t *tmp = malloc((longest + 1) * sizeof *tmp);
    if (!e || !tmp) {
        free(e);
        free(tmp);
        return -1;
    }
    for (size_t i = 0, j; i < pairs->n; i = j) {
        for (j = i + 1; j < pairs->n && pairs->v[j].a == pairs->v[i].a &&
                        pairs->v[j].b == pairs->v[i].b; j++) {
        }
        edge_from_group(pairs->v, i, j - i, tmp, &e[n++]);
    }
    free(tmp);
    *out = e;
    *nout = n;
    return 0;
}

/* QUT: weight(u1 -> u2) = distinct messages of u1 matched by a message of u2 (both directions
 * of every pair; a same-account pair gives a self loop). Keeps weight >= m; self loops only
 * with qut_loops. Objects, mean dt and symmetry come from the undirected pair group. */
struct directed {
    uint32_t from, to, content;
};

static int by_directed(const void *x, const void *y)
{
    const struct directed *a = x, *b = y;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    if (a->to != b->to)
        return a->to < b->to ? -1 : 1;
    return (a->content > b->content) - (a->content < b->content);
}

static const struct cm_edge *find_group(const struct cm_edge *und, size_t n, uint32_t a,
                                        uint32_t b)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (und[mid].a < a || (und[mid].a == a && und[mid].b < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return und + lo; /* the group always exists: every directed record came from a pair */
}

static int qut_edges(const struct cm_pairs *pairs, const struct cm_params *p,
                     struct cm_edge **out, size_t *nout)
{
    struct cm_edge *und;
    size_t nund;
    if (pairs->n > SIZE_MAX / 2 / sizeof(struct directed) || undirected_edges(pairs, &und, &nund))
        return -1;
    struct directed *r = malloc((2 * pairs->n + 1) * sizeof *r);
    struct cm_edge *e = malloc((2 * nund + 1) * sizeof *e);
    if (!r || !e) {
        free(und);
        free(r);
        free(e);
        return -1;
    }
    for (size_t i = 0; i < pairs->n; i++) {
        const struct cm_pair *q = &pairs->v[i];
        r[2 * i] = (struct directed){q->a, q->b, q->ca};
        r[2 * i + 1] = (struct directed){q->b, q->a, q->cb};
    }
    qsort(r, 2 * pairs->n, sizeof *r, by_directed);
    size_t n = 0;
    for (size_t i = 0, j; i < 2 * pairs->n; i = j) {
        uint32_t w = 1;
        for (j = i + 1; j < 2 * pairs->n && r[j].from == r[i].from && r[j].to == r[i].to; j++)
            w += r[j].content != r[j - 1].content;
        if (w < p->min_participation || (r[i].from == r[i].to && !p->qut_loops))
            continue;
        uint32_t lo = r[i].from < r[i].to ? r[i].from : r[i].to;
        uint32_t hi = r[i].from < r[i].to ? r[i].to : r[i].from;
        e[n] = *find_group(und, nund, lo, hi);
        e[n].a = r[i].from;
        e[n].b = r[i].to;
        e[n++].weight = w;
    }
    free(r);
    free(und);
    *out = e;
    *nout = n;
    return 0;
}

static int by_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* R's default quantile (type 7): h = (n - 1) q, linear between the order statistics. */
static double quantile_type7(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, by_double);
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

double cm_weight_quantile(const struct cm_network *net, double q)
{
    if (net->nedges == 0)
        return 0;
    double *w = malloc(net->nedges * sizeof *w);
    if (!w)
        return NAN;
    for (size_t i = 0; i < net->nedges; i++)
        w[i] = net->edges[i].weight;
    double v = quantile_type7(w, net->nedges, q);
    free(w);
    return v;
}

/* q <= 0 flags every edge (threshold -1): the quantile 0 is the smallest weight, and "above
 * it" would drop the lightest edges, which is not what "no filter" means. */
static int flag_coordinated(struct cm_network *net, double q)
{
    net->threshold = -1;
    if (q > 0 && net->nedges > 0) {
        net->threshold = cm_weight_quantile(net, q);
        if (isnan(net->threshold))
            return -1;
    }
    net->ncoordinated_edges = 0;
    for (size_t i = 0; i < net->nedges; i++) {
        net->edges[i].coordinated = net->edges[i].weight > net->threshold;
        net->ncoordinated_edges += (size_t)net->edges[i].coordinated;
    }
    return 0;
}

static int by_account(const void *x, const void *y)
{
    uint32_t a = ((const struct cm_account_stat *)x)->account;
    uint32_t b = ((const struct cm_account_stat *)y)->account;
    return (a > b) - (a < b);
}

struct cm_account_stat *cm_find_account(const struct cm_network *net, uint32_t account)
{
    struct cm_account_stat key = {.account = account};
    return bsearch(&key, net->accounts, net->naccounts, sizeof key, by_account);
}

/* Accounts on any edge: degree, strength (full network), coordinated, and activity (rows of the
 * selected kinds). */
static int account_stats(const struct cm_dataset *d, const struct cm_params *p,
                         struct cm_network *net)
{
    uint32_t *ids = malloc((2 * net->nedges + 1) * sizeof *ids);
    if (!ids)
        return -1;
    for (size_t i = 0; i < net->nedges; i++) {
        ids[2 * i] = net->edges[i].a;
        ids[2 * i + 1] = net->edges[i].b;
    }
    qsort(ids, 2 * net->nedges, sizeof *ids, by_u32);
    net->accounts = calloc(2 * net->nedges + 1, sizeof *net->accounts);
    if (!net->accounts) {
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < 2 * net->nedges; i++)
        if (i == 0 || ids[i] != ids[i - 1])
            net->accounts[net->naccounts++].account = ids[i];
    free(ids);
    for (size_t i = 0; i < net->naccounts; i++)
        net->accounts[i].first = INT64_MAX, net->accounts[i].last = INT64_MIN;
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        struct cm_account_stat *a = cm_find_account(net, e->a), *b = cm_find_account(net, e->b);
        a->coordinated |= e->coordinated;
        b->coordinated |= e->coordinated;
        a->degree++;
        a->strength += e->weight;
        if (b != a) {
            b->degree++;
            b->strength += e->weight;
        }
    }
    /* activity: one pass over every share, with a dense account -> statistics index */
    uint32_t *index = malloc(((size_t)d->accounts.count + 1) * sizeof *index);
    if (!index)
        return -1;
    memset(index, 0xff, ((size_t)d->accounts.count + 1) * sizeof *index);
    for (size_t i = 0; i < net->naccounts; i++)
        index[net->accounts[i].account] = (uint32_t)i;
    for (int k = 0; k < CM_KIND_COUNT; k++) {
        if (!(p->kinds & (1u << k)))
            continue;
        const struct cm_table *t = &d->shares[k];
        for (size_t i = 0; i < t->n; i++) {
            uint32_t at = index[t->v[i].account];
            struct cm_account_stat *a = at == UINT32_MAX ? NULL : &net->accounts[at];
            if (a) {
                a->shares++;
                if (t->v[i].time < a->first)
                    a->first = t->v[i].time;
                if (t->v[i].time > a->last)
                    a->last = t->v[i].time;
            }
        }
    }
    free(index);
    net->ncoordinated_accounts = 0;
    for (size_t i = 0; i < net->naccounts; i++)
        net->ncoordinated_accounts += (size_t)net->accounts[i].coordinated;
    return 0;
}

int cm_network_build(const struct cm_dataset *d, const struct cm_params *p,
                     struct cm_pairs *pairs, struct cm_network *net, char *err, size_t errlen)
{
    memset(net, 0, sizeof *net);
    net->pairs = *pairs;
    memset(pairs, 0, sizeof *pairs);
    net->directed = p->weight == CM_WEIGHT_QUT;
    int rc = net->directed ? qut_edges(&net->pairs, p, &net->edges, &net->nedges)
                           : undirected_edges(&net->pairs, &net->edges, &net->nedges);
    if (rc || flag_coordinated(net, p->percentile) || account_stats(d, p, net)) {
        snprintf(err, errlen, "out of memory while building the network");
        return -1;
    }
    return cm_groups_build(d, net, err, errlen);
}

void cm_network_free(struct cm_network *net)
{
    cm_pairs_free(&net->pairs);
    free(net->edges);
    free(net->accounts);
    free(net->components);
    free(net->communities);
    memset(net, 0, sizeof *net);
}
