/* Coordinated groups: connected components and Louvain communities (igraph's
 * community_multilevel: Blondel, Guillaume, Lambiotte & Lefebvre 2008, "Fast unfolding of
 * communities in large networks") of the coordinated subgraph (its edges, weighted, undirected,
 * and the accounts on them; the other edges are context, not groups). Groups are numbered
 * by size (largest first, ties by their first account id) and carry their most paired objects
 * and the time span of their paired posts. */
#include <igraph/igraph.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"

#define CM_LOUVAIN_SEED 20230917u /* fixed: the same input gives the same communities */

struct uedge {
    uint32_t u, v; /* vertices (coordinated accounts, see vertex_map), u < v */
    double w;
};

static int by_uedge(const void *x, const void *y)
{
    const struct uedge *a = x, *b = y;
    if (a->u != b->u)
        return a->u < b->u ? -1 : 1;
    return (a->v > b->v) - (a->v < b->v);
}

static int by_u64_key(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* vertex[i] = the graph vertex of net->accounts[i]: coordinated accounts numbered 0, 1, ...
 * in account order; UINT32_MAX for the others. */
static uint32_t *vertex_map(const struct cm_network *net)
{
    uint32_t *vertex = malloc((net->naccounts + 1) * sizeof *vertex), nv = 0;
    if (!vertex)
        return NULL;
    for (size_t i = 0; i < net->naccounts; i++)
        vertex[i] = net->accounts[i].coordinated ? nv++ : UINT32_MAX;
    return vertex;
}

static uint32_t vertex_of(const struct cm_network *net, const uint32_t *vertex, uint32_t account)
{
    return vertex[cm_find_account(net, account) - net->accounts];
}

/* Coordinated edges without self loops, both directions of a directed pair merged (weights
 * add). */
static struct uedge *undirected(const struct cm_network *net, const uint32_t *vertex, size_t *n)
{
    struct uedge *e = malloc((net->ncoordinated_edges + 1) * sizeof *e);
    if (!e)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < net->nedges; i++) {
        if (!net->edges[i].coordinated)
            continue;
        uint32_t u = vertex_of(net, vertex, net->edges[i].a);
        uint32_t v = vertex_of(net, vertex, net->edges[i].b);
        if (u != v)
            e[m++] = (struct uedge){u < v ? u : v, u < v ? v : u, net->edges[i].weight};
    }
    qsort(e, m, sizeof *e, by_uedge);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && e[k - 1].u == e[i].u && e[k - 1].v == e[i].v)
            e[k - 1].w += e[i].w;
        else
            e[k++] = e[i];
    }
    *n = k;
    return e;
}

/* Renumber a membership (values < nv) so group 0 is the largest; ties by first member. */
static uint32_t renumber(igraph_vector_int_t *m, size_t nv, uint32_t *out)
{
    size_t ng = 0;
    for (size_t i = 0; i < nv; i++)
        if ((size_t)VECTOR(*m)[i] + 1 > ng)
            ng = (size_t)VECTOR(*m)[i] + 1;
    uint64_t *key = calloc(ng + 1, sizeof *key); /* (size desc, first member asc) sortable */
    uint32_t *size = calloc(ng + 1, sizeof *size), *first = malloc((ng + 1) * sizeof *first);
    uint32_t *rank = malloc((ng + 1) * sizeof *rank);
    if (!key || !size || !first || !rank) {
        free(key), free(size), free(first), free(rank);
        return UINT32_MAX;
    }
    for (size_t g = 0; g < ng; g++)
        first[g] = UINT32_MAX;
    for (size_t i = 0; i < nv; i++) {
        size_t g = (size_t)VECTOR(*m)[i];
        size[g]++;
        if (first[g] == UINT32_MAX)
            first[g] = (uint32_t)i;
    }
    size_t used = 0;
    for (size_t g = 0; g < ng; g++)
        if (size[g])
            key[used++] = ((uint64_t)(UINT32_MAX - size[g]) << 32) | first[g];
    qsort(key, used, sizeof *key, by_u64_key);
    for (size_t r = 0; r < used; r++)
        rank[VECTOR(*m)[(uint32_t)key[r]]] = (uint32_t)r;
    for (size_t i = 0; i < nv; i++)
        out[i] = rank[VECTOR(*m)[i]];
    free(key), free(size), free(first), free(rank);
    return (uint32_t)used;
}

/* Time of each post (content id), for the groups' time spans. */
static int64_t *content_times(const struct cm_dataset *d)
{
    int64_t *t = malloc(((size_t)d->contents.count + 1) * sizeof *t);
    if (!t)
        return NULL;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        for (size_t i = 0; i < d->shares[k].n; i++)
            t[d->shares[k].v[i].content] = d->shares[k].v[i].time;
    return t;
}

struct group_object {
    uint32_t group, object;
};

static int by_group_object(const void *x, const void *y)
{
    const struct group_object *a = x, *b = y;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return (a->object > b->object) - (a->object < b->object);
}

/* Directed (QUT) edges u->v and v->u share one pair range: count it once (with u->v unless
 * only v->u is coordinated). */
static int counts_pairs(const struct cm_network *net, const struct cm_edge *e)
{
    if (!net->directed || e->a <= e->b)
        return 1;
    size_t lo = 0, hi = net->nedges; /* directed edges are sorted by (a, b) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct cm_edge *m = &net->edges[mid];
        if (m->a < e->b || (m->a == e->b && m->b < e->a))
            lo = mid + 1;
        else
            hi = mid;
    }
    return !(lo < net->nedges && net->edges[lo].a == e->b && net->edges[lo].b == e->a &&
             net->edges[lo].coordinated);
}

/* The best objects of group g from its sorted (group, object) records [i, j). */
static void top_objects(const struct group_object *r, size_t i, size_t j, struct cm_group *g)
{
    g->ntop = 0;
    for (size_t a = i, b; a < j; a = b) {
        for (b = a + 1; b < j && r[b].object == r[a].object; b++) {
        }
        uint32_t count = (uint32_t)(b - a);
        int pos = (int)g->ntop;
        while (pos > 0 && g->top_counts[pos - 1] < count)
            pos--;
        if (pos >= 5)
            continue;
        int last = g->ntop < 5 ? (int)g->ntop : 4;
        for (int k = last; k > pos; k--) {
            g->top_counts[k] = g->top_counts[k - 1];
            g->top_objects[k] = g->top_objects[k - 1];
        }
        g->top_counts[pos] = count;
        g->top_objects[pos] = r[a].object;
        if (g->ntop < 5)
            g->ntop++;
    }
}

/* Size, edges, weight, time span and top objects of each group of a membership (member[v] of
 * the nv vertices). */
static int group_stats(const struct cm_network *net, const uint32_t *vertex, size_t nv,
                       const int64_t *when, const uint32_t *member, uint32_t ngroups,
                       struct cm_group *groups)
{
    for (uint32_t g = 0; g < ngroups; g++)
        groups[g] = (struct cm_group){.id = g + 1, .first = INT64_MAX, .last = INT64_MIN};
    for (size_t v = 0; v < nv; v++)
        groups[member[v]].size++;
    size_t npairs = 0;
    for (size_t i = 0; i < net->nedges; i++)
        npairs += net->edges[i].coordinated ? net->edges[i].npairs : 0;
    struct group_object *r = malloc((npairs + 1) * sizeof *r);
    if (!r)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        if (!e->coordinated)
            continue;
        uint32_t ga = member[vertex_of(net, vertex, e->a)];
        uint32_t gb = member[vertex_of(net, vertex, e->b)];
        if (ga != gb || !counts_pairs(net, e))
            continue; /* a community edge between two communities belongs to neither */
        struct cm_group *g = &groups[ga];
        g->nedges++;
        g->weight += e->weight;
        for (size_t p = e->first_pair; p < e->first_pair + e->npairs; p++) {
            const struct cm_pair *q = &net->pairs.v[p];
            int64_t t0 = when[q->ca] < when[q->cb] ? when[q->ca] : when[q->cb];
            int64_t t1 = when[q->ca] < when[q->cb] ? when[q->cb] : when[q->ca];
            if (t0 < g->first)
                g->first = t0;
            if (t1 > g->last)
                g->last = t1;
            r[n++] = (struct group_object){ga, q->object};
        }
    }
    qsort(r, n, sizeof *r, by_group_object);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && r[j].group == r[i].group; j++) {
        }
        top_objects(r, i, j, &groups[r[i].group]);
    }
    free(r);
    return 0;
}

/* igraph's components and Louvain memberships of the graph of nv vertices and edges e. */
static int memberships(size_t nv, const struct uedge *e, size_t ne,
                       igraph_vector_int_t *comp, igraph_vector_int_t *comm, double *modularity)
{
    igraph_t g;
    igraph_vector_int_t ev;
    igraph_vector_t w, q;
    if (igraph_vector_int_init(&ev, (igraph_integer_t)(2 * ne)))
        return -1;
    if (igraph_vector_init(&w, (igraph_integer_t)ne)) {
        igraph_vector_int_destroy(&ev);
        return -1;
    }
    for (size_t i = 0; i < ne; i++) {
        VECTOR(ev)[2 * i] = e[i].u;
        VECTOR(ev)[2 * i + 1] = e[i].v;
        VECTOR(w)[i] = e[i].w;
    }
    int rc = -1;
    if (!igraph_create(&g, &ev, (igraph_integer_t)nv, IGRAPH_UNDIRECTED)) {
        igraph_rng_seed(igraph_rng_default(), CM_LOUVAIN_SEED);
        if (!igraph_vector_init(&q, 0)) {
            if (!igraph_connected_components(&g, comp, NULL, NULL, IGRAPH_WEAK) &&
                !igraph_community_multilevel(&g, &w, 1.0, comm, NULL, &q)) {
                *modularity = igraph_vector_size(&q) ? VECTOR(q)[igraph_vector_size(&q) - 1] : 0;
                rc = 0;
            }
            igraph_vector_destroy(&q);
        }
        igraph_destroy(&g);
    }
    igraph_vector_int_destroy(&ev);
    igraph_vector_destroy(&w);
    return rc;
}

static int build_groups(const struct cm_dataset *d, struct cm_network *net)
{
    size_t ne = 0, nv = net->ncoordinated_accounts;
    uint32_t *vertex = vertex_map(net);
    struct uedge *e = vertex ? undirected(net, vertex, &ne) : NULL;
    uint32_t *comp_of = malloc((nv + 1) * sizeof *comp_of);
    uint32_t *comm_of = malloc((nv + 1) * sizeof *comm_of);
    int64_t *when = content_times(d);
    igraph_vector_int_t comp, comm;
    int rc = -1;
    if (!e || !comp_of || !comm_of || !when || igraph_vector_int_init(&comp, 0))
        goto out;
    if (igraph_vector_int_init(&comm, 0)) {
        igraph_vector_int_destroy(&comp);
        goto out;
    }
    if (!memberships(nv, e, ne, &comp, &comm, &net->modularity)) {
        uint32_t ncomp = renumber(&comp, nv, comp_of);
        uint32_t ncomm = renumber(&comm, nv, comm_of);
        net->components = calloc((size_t)ncomp + 1, sizeof *net->components);
        net->communities = calloc((size_t)ncomm + 1, sizeof *net->communities);
        if (ncomp != UINT32_MAX && ncomm != UINT32_MAX && net->components && net->communities &&
            !group_stats(net, vertex, nv, when, comp_of, ncomp, net->components) &&
            !group_stats(net, vertex, nv, when, comm_of, ncomm, net->communities)) {
            net->ncomponents = ncomp;
            net->ncommunities = ncomm;
            for (size_t i = 0; i < net->naccounts; i++)
                if (vertex[i] != UINT32_MAX) {
                    net->accounts[i].component = comp_of[vertex[i]] + 1;
                    net->accounts[i].community = comm_of[vertex[i]] + 1;
                }
            rc = 0;
        }
    }
    igraph_vector_int_destroy(&comp);
    igraph_vector_int_destroy(&comm);
out:
    free(vertex);
    free(e);
    free(comp_of);
    free(comm_of);
    free(when);
    return rc;
}

int cm_groups_build(const struct cm_dataset *d, struct cm_network *net, char *err,
                    size_t errlen)
{
    if (net->ncoordinated_accounts == 0) {
        net->modularity = NAN; /* undefined without edges */
        return 0;
    }
    /* igraph aborts and prints by default; a library must do neither */
    igraph_error_handler_t *old_error = igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_warning_handler_t *old_warning = igraph_set_warning_handler(igraph_warning_handler_ignore);
    int rc = build_groups(d, net);
    igraph_set_error_handler(old_error);
    igraph_set_warning_handler(old_warning);
    if (rc)
        snprintf(err, errlen, "out of memory while finding groups");
    return rc;
}
