/* The analysis workers of `unmask serve` and the cache of recent results.
 *
 * The queue itself is the case store (rows in 'queued'); this is a fixed pool of worker threads
 * that claim those rows, analyse the stored bytes with the stored parameters and record the
 * result. Maps, the image and the report need the whole um_result, which is large (the decoded
 * pixels, every map): the most recent results stay in a small LRU cache (bounded in count and in
 * pixels), and a miss re-runs the
 * analysis from the stored object with the stored parameters (deterministic), so nothing but the
 * JSON result has to be kept on disk. */
#ifndef UM_SERVE_QUEUE_H
#define UM_SERVE_QUEUE_H

#include <stdint.h>

#include "serve/store.h"
#include "unmask.h"

/* Analysis parameters, as stored with each analysis (canonical JSON) and applied to it. */
struct um_params {
    const char *detectors;    /* NULL: all */
    uint64_t max_bytes, max_pixels;
    uint32_t max_dimension;
};

/* The canonical JSON of p (malloc'ed), and options from such JSON (detectors points into a
 * buffer the caller frees: *hold). 0 or -1. */
char *um_params_json(const struct um_params *p);
int um_params_options(const char *json, um_options *opt, char **hold);

typedef struct um_cache um_cache;
/* At most capacity results, and at most max_pixels analysed pixels together (a result takes
 * some tens of bytes per pixel: the decoded image and every map). */
um_cache *um_cache_new(int capacity, uint64_t max_pixels);
void um_cache_free(um_cache *c);
/* The result of analysis id: from the cache, or analysed again from the store. NULL when the
 * analysis does not exist or is not finished (*missing says which) or on an internal error
 * (*missing 0). Give it back with um_cache_release. */
enum { UM_CACHE_NO_ANALYSIS = 1, UM_CACHE_NOT_FINISHED = 2 };
const um_result *um_cache_get(um_cache *c, um_store *s, int64_t id, int *missing);
void um_cache_release(um_cache *c, const um_result *r);

typedef struct um_workers um_workers;
/* Starts n workers on the store's queue. */
um_workers *um_workers_start(um_store *s, um_cache *c, int n);
/* New rows were queued: wake a worker. */
void um_workers_notify(um_workers *w);
/* Lets running analyses finish, leaves queued ones in the store, joins the threads. */
void um_workers_stop(um_workers *w);

#endif
