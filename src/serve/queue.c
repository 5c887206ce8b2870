/* Worker pool and result cache of `unmask serve` (see queue.h). */
#include "serve/queue.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/decode.h"

/* ---- parameters ---- */

char *um_params_json(const struct um_params *p)
{
    json_t *o = json_pack("{s:s?,s:I,s:I,s:I}", "detectors", p->detectors, "max_bytes",
                          (json_int_t)p->max_bytes, "max_pixels", (json_int_t)p->max_pixels,
                          "max_dimension", (json_int_t)p->max_dimension);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return text;
}

int um_params_options(const char *json, um_options *opt, char **hold)
{
    um_options_init(opt);
    *hold = NULL;
    json_t *o = json_loads(json, 0, NULL);
    json_int_t bytes = 0, pixels = 0, dim = 0;
    const char *detectors = NULL;
    int rc = -1;
    if (o && json_unpack(o, "{s?s,s:I,s:I,s:I}", "detectors", &detectors, "max_bytes", &bytes,
                         "max_pixels", &pixels, "max_dimension", &dim) == 0 &&
        bytes > 0 && pixels > 0 && dim > 0 && dim <= UINT32_MAX) {
        opt->max_bytes = (uint64_t)bytes;
        opt->max_pixels = (uint64_t)pixels;
        opt->max_dimension = (uint32_t)dim;
        rc = 0;
        if (detectors) {
            *hold = strdup(detectors);
            opt->detectors = *hold;
            rc = *hold ? 0 : -1;
        }
    }
    json_decref(o);
    return rc;
}

/* Analyse a stored object with stored parameters. NULL only when memory runs out. */
static um_result *analyse_object(um_store *s, const char *sha256, const char *params,
                                 int threads)
{
    um_options opt;
    char *hold, path[4200];
    if (um_params_options(params, &opt, &hold) != 0)
        um_options_init(&opt); /* never reached for rows this server wrote */
    opt.threads = threads;
    um_store_object_path(s, sha256, path, sizeof path);
    um_result *r = um_analyze_file(path, &opt);
    free(hold);
    return r;
}

/* ---- the result cache: a small LRU with reference counts ---- */

struct cache_entry {
    int64_t id;
    um_result *result;
    int refs;
    int evicted;             /* out of the table; freed when the last user releases it */
    uint64_t used;
    uint64_t pixels;         /* the analysed image's: what the result's size scales with */
    struct cache_entry *next_evicted;
};

struct um_cache {
    pthread_mutex_t lock;
    int capacity;
    uint64_t max_pixels, pixels;
    struct cache_entry **slots;
    struct cache_entry *evicted; /* still referenced */
    uint64_t clock;
};

um_cache *um_cache_new(int capacity, uint64_t max_pixels)
{
    um_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->capacity = capacity < 1 ? 1 : capacity;
    c->max_pixels = max_pixels;
    c->slots = calloc((size_t)c->capacity, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(struct cache_entry *e)
{
    um_result_free(e->result);
    free(e);
}

void um_cache_free(um_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->capacity; i++)
        if (c->slots[i])
            entry_free(c->slots[i]);
    while (c->evicted) { /* every user has released by now: the server is stopped */
        struct cache_entry *next = c->evicted->next_evicted;
        entry_free(c->evicted);
        c->evicted = next;
    }
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

static struct cache_entry *find_locked(um_cache *c, int64_t id)
{
    for (int i = 0; i < c->capacity; i++)
        if (c->slots[i] && c->slots[i]->id == id) {
            c->slots[i]->used = ++c->clock;
            return c->slots[i];
        }
    return NULL;
}

/* Drops slot i from the table; a result still in use is freed by its last user. */
static void evict_slot(um_cache *c, int i)
{
    struct cache_entry *old = c->slots[i];
    c->slots[i] = NULL;
    c->pixels -= old->pixels;
    if (old->refs == 0) {
        entry_free(old);
        return;
    }
    old->evicted = 1;
    old->next_evicted = c->evicted;
    c->evicted = old;
}

/* The least recently used occupied slot, or -1 when the table is empty. */
static int lru_slot(const um_cache *c)
{
    int victim = -1;
    for (int i = 0; i < c->capacity; i++)
        if (c->slots[i] && (victim < 0 || c->slots[i]->used < c->slots[victim]->used))
            victim = i;
    return victim;
}

static int free_slot(const um_cache *c)
{
    for (int i = 0; i < c->capacity; i++)
        if (!c->slots[i])
            return i;
    return -1;
}

/* Puts r in the cache (which takes it) and returns the entry now cached for id: r's, or the one
 * another thread cached first (r is then freed). Older entries make room: a slot, and the pixel
 * budget (one result alone may exceed it; it is still kept). */
static struct cache_entry *put_locked(um_cache *c, int64_t id, um_result *r)
{
    struct cache_entry *have = find_locked(c, id);
    if (have) {
        um_result_free(r);
        return have;
    }
    struct cache_entry *e = calloc(1, sizeof *e);
    if (!e) {
        um_result_free(r);
        return NULL;
    }
    e->id = id;
    e->result = r;
    e->used = ++c->clock;
    e->pixels = (uint64_t)um_result_width(r) * (uint64_t)um_result_height(r);
    while (free_slot(c) < 0 || c->pixels + e->pixels > c->max_pixels) {
        int victim = lru_slot(c);
        if (victim < 0)
            break;
        evict_slot(c, victim);
    }
    c->slots[free_slot(c)] = e;
    c->pixels += e->pixels;
    return e;
}

static void cache_put(um_cache *c, int64_t id, um_result *r)
{
    pthread_mutex_lock(&c->lock);
    put_locked(c, id, r);
    pthread_mutex_unlock(&c->lock);
}

const um_result *um_cache_get(um_cache *c, um_store *s, int64_t id, int *missing)
{
    *missing = 0;
    pthread_mutex_lock(&c->lock);
    struct cache_entry *e = find_locked(c, id);
    if (e)
        e->refs++;
    pthread_mutex_unlock(&c->lock);
    if (e)
        return e->result;
    json_t *row = NULL;
    int found = um_store_get(s, id, &row);
    if (found != UM_STORE_OK) {
        *missing = found == UM_STORE_NOT_FOUND ? UM_CACHE_NO_ANALYSIS : 0;
        return NULL;
    }
    const char *status = json_string_value(json_object_get(row, "status"));
    char *params = json_dumps(json_object_get(row, "parameters"), JSON_COMPACT | JSON_SORT_KEYS);
    um_result *r = NULL;
    if (status && (strcmp(status, "done") == 0 || strcmp(status, "failed") == 0) && params)
        r = analyse_object(s, json_string_value(json_object_get(row, "sha256")), params, 0);
    else
        *missing = params ? UM_CACHE_NOT_FINISHED : 0;
    free(params);
    json_decref(row);
    if (!r)
        return NULL;
    pthread_mutex_lock(&c->lock);
    e = put_locked(c, id, r);
    if (e)
        e->refs++;
    pthread_mutex_unlock(&c->lock);
    return e ? e->result : NULL;
}

void um_cache_release(um_cache *c, const um_result *r)
{
    pthread_mutex_lock(&c->lock);
    struct cache_entry **link = &c->evicted;
    for (int i = 0; i < c->capacity; i++)
        if (c->slots[i] && c->slots[i]->result == r)
            c->slots[i]->refs--;
    while (*link && (*link)->result != r)
        link = &(*link)->next_evicted;
    if (*link && --(*link)->refs == 0) {
        struct cache_entry *dead = *link;
        *link = dead->next_evicted;
        entry_free(dead);
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- workers ---- */

struct um_workers {
    um_store *store;
    um_cache *cache;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    unsigned pending_wakeups;
    int n;
    pthread_t *threads;
};

static void record_result(um_store *s, int64_t id, const um_result *r)
{
    const char *message = NULL;
    int failed = um_result_error(r, &message) != UM_OK;
    char *json = um_result_json(r);
    um_store_finish(s, id, failed ? "failed" : "done", json, failed ? NULL : um_result_label(r),
                    um_result_score(r), !failed, failed ? message : NULL);
    free(json);
}

static void run_one(struct um_workers *w, int64_t id, const char *sha256, const char *params)
{
    /* Workers already run in parallel: one thread per analysis keeps the machine's cores
     * shared instead of oversubscribed. */
    um_result *r = analyse_object(w->store, sha256, params, 1);
    if (!r) {
        um_store_finish(w->store, id, "failed", NULL, NULL, 0, 0, "out of memory");
        return;
    }
    record_result(w->store, id, r);
    cache_put(w->cache, id, r);
}

/* Sleep until notified, or until stopping; a wake-up that came while busy is not lost. */
static int wait_for_work(struct um_workers *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->stopping && w->pending_wakeups == 0)
        pthread_cond_wait(&w->wake, &w->lock);
    if (w->pending_wakeups > 0)
        w->pending_wakeups--;
    int go_on = !w->stopping;
    pthread_mutex_unlock(&w->lock);
    return go_on;
}

static void *worker_main(void *arg)
{
    struct um_workers *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int stopping = w->stopping;
        pthread_mutex_unlock(&w->lock);
        if (stopping)
            break;
        int64_t id;
        char sha256[65], *params;
        int claimed = um_store_claim(w->store, &id, sha256, &params);
        if (claimed == 1)
            run_one(w, id, sha256, params);
        free(params);
        if (claimed != 1 && !wait_for_work(w))
            break;
    }
    return NULL;
}

um_workers *um_workers_start(um_store *s, um_cache *c, int n)
{
    struct um_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = s;
    w->cache = c;
    w->threads = calloc((size_t)n, sizeof *w->threads);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    for (int i = 0; w->threads && i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->n++;
    }
    if (w->n == 0) {
        um_workers_stop(w);
        return NULL;
    }
    return w;
}

void um_workers_notify(um_workers *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->pending_wakeups < (unsigned)w->n)
        w->pending_wakeups++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void um_workers_stop(um_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
}
