/* Co-share pairs (CooRTweet's detect_groups, steps 1-4 of the data README's definition):
 * per kind, shares of accounts with too few rows are dropped (step 1), the rest sorted by
 * (object, time); each object's run is scanned with two pointers, so only pairs inside the
 * window are ever visited (a hot object with 100,000 shares and a small window costs its
 * in-window pairs, never n^2). Runs are processed in parallel chunks (um_parallel_for). */
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "campaign/util.h"
#include "core/parallel.h"

#define CM_CHUNKS 256 /* work units per kind: enough to balance two cores on skewed objects */

void cm_params_init(struct cm_params *p)
{
    memset(p, 0, sizeof *p);
    p->window = 60;
    p->min_participation = 2;
    p->kinds = 1u << CM_KIND_SHARE;
    p->weight = CM_WEIGHT_COORTWEET;
    p->percentile = 0.5; /* CooRTweet's default edge_weight */
    p->max_pairs = CM_DEFAULT_MAX_PAIRS;
}

/* Ownership by a hash of the object id (splitmix64 finaliser), so that hot objects spread. */
int cm_object_owned(uint32_t object, int part, int nparts)
{
    if (nparts <= 1)
        return 1;
    return (int)(cm_mix64(object + 0x9E3779B97F4A7C15ull) % (uint64_t)nparts) == part;
}

static int by_time(const void *x, const void *y)
{
    const struct cm_share *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    if (a->content != b->content)
        return a->content < b->content ? -1 : 1;
    return (a->flags > b->flags) - (a->flags < b->flags);
}

static int same_post(const struct cm_share *x, const struct cm_share *y)
{
    return x->time == y->time && x->account == y->account && x->content == y->content;
}

/* Keeps the shares for which keep() holds, in order, dropping emptied runs; with unique, also a
 * share equal (time, account, content) to the one before it in its run. Returns the new count
 * of runs; runs[] is rewritten. */
static size_t compact_runs(struct cm_table *t, size_t *runs, size_t nruns, const uint32_t *rows,
                           uint32_t m, int unique)
{
    size_t w = 0, kept_runs = 0;
    for (size_t r = 0; r < nruns; r++) {
        size_t begin = w;
        for (size_t i = runs[r]; i < runs[r + 1]; i++) {
            const struct cm_share *s = &t->v[i];
            if ((rows && rows[s->account] < m) ||
                (unique && i > runs[r] && same_post(s, &t->v[i - 1])))
                continue;
            t->v[w++] = *s; /* w <= i: moving forward in place is safe */
        }
        if (w > begin)
            runs[kept_runs++] = begin;
    }
    runs[kept_runs] = w;
    t->n = w;
    return kept_runs;
}

/* One kind: shares grouped by object (counting sort), each run sorted by time; with unique,
 * repeated (object, account, content, time) rows dropped first (the unique() of CooRTweet's
 * vignette); then step 1 counts each account's rows of the kind and drops accounts below m. */
static int prepare_kind(const struct cm_dataset *d, const struct cm_params *p, int k,
                        struct cm_prepared *out)
{
    const struct cm_table *in = &d->shares[k];
    struct cm_table *t = &out->kind[k];
    size_t *fill = calloc((size_t)d->objects.count + 2, sizeof *fill);
    uint32_t *rows = calloc((size_t)d->accounts.count + 1, sizeof *rows);
    size_t *runs = malloc((in->n + 2) * sizeof *runs);
    t->v = malloc((in->n + 1) * sizeof *t->v);
    if (!fill || !rows || !runs || !t->v) {
        free(fill), free(rows), free(runs);
        return -1;
    }
    for (size_t i = 0; i < in->n; i++)
        fill[in->v[i].object + 1]++;
    for (uint32_t o = 0; o < d->objects.count; o++)
        fill[o + 1] += fill[o];
    for (size_t i = 0; i < in->n; i++) /* fill[o] advances to the end of run o */
        t->v[fill[in->v[i].object]++] = in->v[i];
    size_t nruns = 0, pos = 0;
    for (uint32_t o = 0; o < d->objects.count; o++)
        if (fill[o] > pos) {
            runs[nruns++] = pos;
            qsort(t->v + pos, fill[o] - pos, sizeof *t->v, by_time);
            pos = fill[o];
        }
    runs[nruns] = pos;
    t->n = pos;
    if (p->unique)
        nruns = compact_runs(t, runs, nruns, NULL, 0, 1);
    for (size_t i = 0; i < t->n; i++)
        if (rows[t->v[i].account] < UINT32_MAX)
            rows[t->v[i].account]++;
    out->nruns[k] = compact_runs(t, runs, nruns, rows, p->min_participation, 0);
    out->object_start[k] = runs;
    free(fill);
    free(rows);
    return 0;
}

int cm_prepare(const struct cm_dataset *d, const struct cm_params *p, struct cm_prepared *out)
{
    memset(out, 0, sizeof *out);
    out->ncontents = d->contents.count;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if ((p->kinds & (1u << k)) && prepare_kind(d, p, k, out)) {
            cm_prepared_free(out);
            return -1;
        }
    return 0;
}

void cm_prepared_free(struct cm_prepared *pr)
{
    for (int k = 0; k < CM_KIND_COUNT; k++) {
        free(pr->kind[k].v);
        free(pr->object_start[k]);
    }
    memset(pr, 0, sizeof *pr);
}

/* Step 3 (loops): never the same row or content; for CooRTweet also never the same account,
 * nor a share whose object id is its own content id. The QUT toolkit keeps same-account pairs
 * (self loops, dropped or not at export). */
static int pair_survives(const struct cm_share *x, const struct cm_share *y, int qut)
{
    if (x->content == y->content)
        return 0;
    return qut || (x->account != y->account && !((x->flags | y->flags) & CM_SHARE_SELF_REF));
}

/* A walk over the in-window pairs of chunk `chunk` of kind k, calling visit for survivors. */
struct walk {
    const struct cm_prepared *pr;
    const struct cm_params *p;
    int kind, part, nparts, nchunks;
    void (*visit)(struct walk *w, int chunk, const struct cm_share *x, const struct cm_share *y);
    uint8_t *in_pairs;        /* mark pass */
    const uint8_t *keep;      /* collect pass (NULL: no step 4) */
    struct cm_pairs *chunk_out; /* collect pass: one list per chunk */
    uint64_t visited;         /* candidate pairs so far (atomic) */
    int failed;               /* -1 out of memory, CM_TOO_MANY_PAIRS */
};

/* Adds a chunk's recent visits to the shared count; 0 while under max_pairs. */
static int over_limit(struct walk *w, uint64_t *local)
{
    uint64_t total = __atomic_add_fetch(&w->visited, *local, __ATOMIC_RELAXED);
    *local = 0;
    if (total <= w->p->max_pairs && !__atomic_load_n(&w->failed, __ATOMIC_RELAXED))
        return 0;
    if (total > w->p->max_pairs)
        __atomic_store_n(&w->failed, CM_TOO_MANY_PAIRS, __ATOMIC_RELAXED);
    return 1;
}

static void walk_chunk(void *ctx, int chunk)
{
    struct walk *w = ctx;
    const struct cm_table *t = &w->pr->kind[w->kind];
    const size_t *start = w->pr->object_start[w->kind];
    size_t nruns = w->pr->nruns[w->kind];
    size_t r0 = nruns * (size_t)chunk / (size_t)w->nchunks;
    size_t r1 = nruns * (size_t)(chunk + 1) / (size_t)w->nchunks;
    int qut = w->p->weight == CM_WEIGHT_QUT;
    uint64_t local = 0;
    for (size_t r = r0; r < r1; r++) {
        const struct cm_share *v = t->v + start[r];
        size_t n = start[r + 1] - start[r];
        if (n < 2 || !cm_object_owned(v[0].object, w->part, w->nparts))
            continue;
        for (size_t i = 0; i < n; i++) { /* two pointers: j runs only inside the window */
            for (size_t j = i + 1; j < n && v[j].time - v[i].time <= w->p->window; j++)
                if (pair_survives(&v[i], &v[j], qut)) {
                    w->visit(w, chunk, &v[i], &v[j]);
                    local++;
                }
            if (local >= 65536 && over_limit(w, &local))
                return;
        }
    }
    over_limit(w, &local);
}

static int run_walk(struct walk *w)
{
    w->nchunks = CM_CHUNKS;
    um_parallel_for(w->nchunks, walk_chunk, w, w->p->threads);
    return w->failed;
}

static void mark_visit(struct walk *w, int chunk, const struct cm_share *x,
                       const struct cm_share *y)
{
    /* relaxed atomic stores: several chunks may mark the same content */
    __atomic_store_n(&w->in_pairs[x->content], 1, __ATOMIC_RELAXED);
    __atomic_store_n(&w->in_pairs[y->content], 1, __ATOMIC_RELAXED);
}

int cm_mark_contents(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     int part, int nparts, uint8_t *in_pairs)
{
    struct walk w = {.pr = pr, .p = p, .kind = kind, .part = part, .nparts = nparts,
                     .visit = mark_visit, .in_pairs = in_pairs};
    return run_walk(&w);
}

int cm_keep_contents(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     const uint8_t *in_pairs, uint8_t *keep)
{
    const struct cm_table *t = &pr->kind[kind];
    uint32_t max_account = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].account > max_account)
            max_account = t->v[i].account;
    uint32_t *n_in = calloc((size_t)max_account + 1, sizeof *n_in);
    if (!n_in)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (in_pairs[t->v[i].content])
            n_in[t->v[i].account]++;
    memset(keep, 0, pr->ncontents);
    for (size_t i = 0; i < t->n; i++)
        if (n_in[t->v[i].account] >= p->min_participation)
            keep[t->v[i].content] = 1;
    free(n_in);
    return 0;
}

int cm_pairs_append(struct cm_pairs *dst, const struct cm_pair *v, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof *v / 2 - dst->n)
        return -1;
    if (dst->n + n > dst->cap) {
        size_t cap = dst->cap ? dst->cap : 256;
        while (cap < dst->n + n)
            cap *= 2;
        struct cm_pair *grown = realloc(dst->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        dst->v = grown;
        dst->cap = cap;
    }
    memcpy(dst->v + dst->n, v, n * sizeof *v);
    dst->n += n;
    return 0;
}

static void collect_visit(struct walk *w, int chunk, const struct cm_share *x,
                          const struct cm_share *y)
{
    if (w->keep && !w->keep[x->content] && !w->keep[y->content])
        return; /* step 4 */
    struct cm_pair pr = {x->account, y->account, x->object, x->content, y->content,
                         (uint32_t)(y->time - x->time)};
    if (pr.a > pr.b || (pr.a == pr.b && pr.ca > pr.cb)) {
        pr.a = y->account;
        pr.b = x->account;
        pr.ca = y->content;
        pr.cb = x->content;
    }
    if (cm_pairs_append(&w->chunk_out[chunk], &pr, 1))
        __atomic_store_n(&w->failed, -1, __ATOMIC_RELAXED);
}

int cm_collect_pairs(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     const uint8_t *keep, int part, int nparts, struct cm_pairs *out)
{
    struct walk w = {.pr = pr, .p = p, .kind = kind, .part = part, .nparts = nparts,
                     .visit = collect_visit, .keep = keep};
    w.chunk_out = calloc(CM_CHUNKS, sizeof *w.chunk_out);
    if (!w.chunk_out)
        return -1;
    int rc = run_walk(&w);
    for (int c = 0; c < CM_CHUNKS; c++) {
        if (!rc && cm_pairs_append(out, w.chunk_out[c].v, w.chunk_out[c].n) != 0)
            rc = -1;
        free(w.chunk_out[c].v);
    }
    free(w.chunk_out);
    return rc;
}

static int pair_order(const void *x, const void *y)
{
    const struct cm_pair *a = x, *b = y;
    const uint32_t ka[6] = {a->a, a->b, a->object, a->ca, a->cb, a->dt};
    const uint32_t kb[6] = {b->a, b->b, b->object, b->ca, b->cb, b->dt};
    for (int i = 0; i < 6; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

void cm_pairs_sort(struct cm_pairs *pairs)
{
    if (pairs->n > 1)
        qsort(pairs->v, pairs->n, sizeof *pairs->v, pair_order);
}

void cm_pairs_free(struct cm_pairs *pairs)
{
    free(pairs->v);
    memset(pairs, 0, sizeof *pairs);
}

/* Steps 1-4 of one kind in one process. */
static int kind_pairs(const struct cm_prepared *pr, const struct cm_params *p, int k,
                      struct cm_pairs *out)
{
    if (p->weight == CM_WEIGHT_QUT)
        return cm_collect_pairs(pr, p, k, NULL, 0, 1, out);
    uint8_t *in_pairs = calloc((size_t)pr->ncontents + 1, 1);
    uint8_t *keep = malloc((size_t)pr->ncontents + 1);
    int rc = in_pairs && keep ? cm_mark_contents(pr, p, k, 0, 1, in_pairs) : -1;
    if (!rc)
        rc = cm_keep_contents(pr, p, k, in_pairs, keep);
    if (!rc)
        rc = cm_collect_pairs(pr, p, k, keep, 0, 1, out);
    free(in_pairs);
    free(keep);
    return rc;
}

int cm_find_pairs(const struct cm_dataset *d, const struct cm_params *p, struct cm_pairs *out,
                  uint64_t pair_counts[CM_KIND_COUNT])
{
    struct cm_prepared pr;
    if (cm_prepare(d, p, &pr))
        return -1;
    int rc = 0;
    for (int k = 0; k < CM_KIND_COUNT && !rc; k++) {
        size_t before = out->n;
        if (p->kinds & (1u << k))
            rc = kind_pairs(&pr, p, k, out);
        pair_counts[k] = out->n - before;
    }
    cm_prepared_free(&pr);
    if (!rc)
        cm_pairs_sort(out);
    return rc;
}
