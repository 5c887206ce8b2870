/* Coordinated-campaign detection (issue 7): the pipeline shared by the single-process run and
 * the MPI mode.
 *
 *   ingest (ingest.c)      stream CSV (ingest_csv.c) / JSON Lines (ingest_jsonl.c), intern
 *                          accounts, contents and objects in file order (every reader of the
 *                          same file gets the same ids); timestamps (timeparse.c); near-text
 *                          and image-hash clusters (cluster.c)
 *   prepare (pairs.c)      per kind: CooRTweet step 1 (participation), shares sorted by
 *                          (object, time)
 *   mark / keep (pairs.c)  CooRTweet step 4 in two passes: C = contents in surviving pairs
 *                          (a byte per content, OR-reducible across ranks), then K from C
 *   collect (pairs.c)      the surviving co-share pairs of a subset of objects (part of nparts)
 *   merge (pairs.c)        concatenate pair lists of disjoint object subsets, sort
 *   network (edges.c)      edges, weights, the coordinated flag (edge-weight percentile),
 *                          account statistics; groups of the coordinated subgraph (groups.c)
 *   outputs (output.c)     CSV, GraphML, GEXF, summary.json, the readable summary
 *
 * Definitions (CooRTweet-exact, see README "Coordinated campaigns"): a co-share pair is two
 * different rows of the same kind and object, by two different accounts, with |t1 - t2| <=
 * window (inclusive); loops (same account, same content id, object id = a content id) are
 * removed. Kinds are independent, as in CooRTweet's multimodal use: participation counts,
 * step 4 and pairs are per kind; edges sum the pairs of all kinds. */
#ifndef UM_CAMPAIGN_CAMPAIGN_H
#define UM_CAMPAIGN_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "campaign/neardup.h"

/* ---- kinds of shared object ---- */
enum cm_kind {
    CM_KIND_SHARE,     /* the same object id (retweet/repost of the same post) */
    CM_KIND_LINK,      /* the same URL after cm_normalize_url */
    CM_KIND_HASHTAG,   /* the same hashtag, case-folded */
    CM_KIND_TEXT,      /* the same text after cm_normalize_text */
    CM_KIND_NEAR_TEXT, /* texts in one near-duplicate cluster (MinHash/LSH, neardup.h) */
    CM_KIND_IMAGE,     /* the same image hash, or hex hashes within --image-distance */
    CM_KIND_DOMAIN,    /* the same web domain (german-wide preset's domain_id) */
    CM_KIND_COUNT
};
const char *cm_kind_name(int kind);
/* "share,link,..." -> bit mask (1u << kind). 0, or -1 naming the bad item in err. */
int cm_kinds_parse(const char *list, unsigned *mask, char *err, size_t errlen);

/* ---- string interning: ids 0, 1, 2, ... in first-seen order ---- */
struct cm_intern {
    char *bytes;          /* every string, NUL-terminated, back to back */
    size_t bytes_len, bytes_cap;
    uint64_t *offset;     /* offset[id] into bytes */
    uint32_t count, offset_cap;
    struct cm_slot { uint32_t id1, hash; } *slots; /* open addressing: id + 1, 0 = empty;
                                                     the hash beside it: one cache line */
    size_t nslots;
};
#define CM_INTERN_FAIL UINT32_MAX
#define CM_INTERN_MAX (1u << 31) /* ids stay below this */
uint32_t cm_intern_add(struct cm_intern *t, const char *s, size_t len); /* FAIL on OOM/cap */
uint32_t cm_intern_find(const struct cm_intern *t, const char *s, size_t len); /* or FAIL */
const char *cm_intern_str(const struct cm_intern *t, uint32_t id);
void cm_intern_free(struct cm_intern *t);

/* ---- the data set ---- */
struct cm_share {
    int64_t time;     /* UTC UNIX seconds */
    uint32_t object;  /* id in cm_dataset.objects (kind-qualified) */
    uint32_t account; /* id in cm_dataset.accounts */
    uint32_t content; /* id in cm_dataset.contents (the post's own id) */
    uint32_t flags;
};
#define CM_SHARE_SELF_REF 1u /* object id string equals the content id (CooRTweet loop rule) */

struct cm_table {
    struct cm_share *v;
    size_t n, cap;
};

#define CM_MAX_BAD_LINES 20 /* malformed rows remembered with their line numbers */
struct cm_bad_row {
    uint64_t line;
    char why[96];
};

struct cm_dataset {
    struct cm_intern accounts, contents;
    struct cm_intern objects; /* key = one kind byte ('0' + kind) followed by the value */
    struct cm_table shares[CM_KIND_COUNT];
    uint64_t rows;     /* data rows read (header excluded; each tweet of an API page) */
    uint64_t bad_rows; /* malformed rows (skipped unless strict) */
    struct cm_bad_row bad[CM_MAX_BAD_LINES];
    size_t nbad;
};
void cm_dataset_free(struct cm_dataset *d);
/* The object's value without its kind byte, and its kind. */
const char *cm_object_value(const struct cm_dataset *d, uint32_t object);
int cm_object_kind(const struct cm_dataset *d, uint32_t object);

/* ---- ingest ---- */
enum cm_format { CM_FORMAT_AUTO, CM_FORMAT_CSV, CM_FORMAT_JSONL };

/* Column names (CSV header names, or JSON keys / dotted paths); NULL = not present. */
struct cm_columns {
    const char *account, *time, *object, *content, *text, *url, *hashtag, *image, *domain;
};

struct cm_ingest_params {
    int format;            /* enum cm_format; AUTO: '{' as the first non-blank byte -> JSONL */
    int twitter_v2;        /* JSON Lines of Twitter API v2 tweets (or {"data": [...]} pages) */
    struct cm_columns col;
    unsigned kinds;        /* kinds to build (mask); kinds without a column are ignored */
    int strict;            /* the first malformed row is fatal */
    size_t max_record;     /* bytes per CSV record / JSON line (default 16 MiB) */
    int image_distance;    /* -1: image ids must be equal; >= 0: hex hashes within this Hamming
                              distance are one object (imagehash.h) */
    struct cm_neardup_params neardup;
    unsigned preset_kinds; /* kinds a preset compares by default (simulate: share, link,
                              near-text); 0: every mapped column's kind but the texts */
};
void cm_ingest_params_init(struct cm_ingest_params *p); /* coortweet columns, share kind */
/* Presets: coortweet, qut, twitter-v2, german-wide, simulate. 0, or -1 for an unknown name. */
int cm_ingest_preset(struct cm_ingest_params *p, const char *name);
/* The column a kind's objects come from (text and near-text: the text column), or NULL. */
const char *cm_kind_column(const struct cm_columns *c, int kind);
/* The kinds compared when none are chosen: the preset's kinds whose column is mapped, or every
 * mapped column's kind except texts (comparing texts is a choice); Twitter v2: share, link,
 * hashtag. */
unsigned cm_default_kinds(const struct cm_ingest_params *p);
/* Reads the whole stream into d (which the caller zeroes first). Returns 0; -1 with err set on a
 * fatal problem (no header, a mapped column missing, out of memory, a malformed row under
 * strict). Malformed rows are otherwise counted in d->bad_rows with their line numbers. Ends
 * with near-duplicate text and image-distance clustering (cm_dataset_cluster). */
int cm_ingest_stream(FILE *in, const struct cm_ingest_params *p, struct cm_dataset *d,
                     char *err, size_t errlen);
/* Same from memory (the fuzz target and the tests). */
int cm_ingest_buffer(const char *data, size_t len, const struct cm_ingest_params *p,
                     struct cm_dataset *d, char *err, size_t errlen);
/* Timestamps: UNIX seconds (optionally with a fraction, truncated) or ISO 8601
 * (YYYY-MM-DD[T ]hh:mm[:ss[.fff]][Z|+hh:mm|-hh:mm]; no zone = UTC). 0 or -1. */
int cm_parse_time(const char *s, size_t len, int64_t *out);

/* ---- normalisation (normalize.c; rules in README) ---- */
/* Each writes at most len + 1 bytes to out (never longer than the input) and returns the
 * length written. */
size_t cm_normalize_url(const char *in, size_t len, char *out);
size_t cm_normalize_hashtag(const char *in, size_t len, char *out);
size_t cm_normalize_text(const char *in, size_t len, char *out);

/* ---- detection parameters ---- */
enum cm_weight { CM_WEIGHT_COORTWEET, CM_WEIGHT_QUT };
struct cm_params {
    int64_t window;             /* seconds, |dt| <= window */
    uint32_t min_participation; /* m; for QUT weights also the minimum edge weight */
    unsigned kinds;             /* kinds to analyse (mask) */
    int weight;                 /* enum cm_weight */
    int qut_loops;              /* QUT: keep self loops (u -> u) in the output */
    double percentile;          /* CooRTweet's edge_weight: edges with weight > the type-7
                                   quantile of all weights are coordinated; <= 0: every edge */
    int threads;                /* <= 0: all cores */
    int unique;                 /* drop repeated (kind, object, account, content, time)
                                   rows first, as CooRTweet's vignette does with unique() */
    uint64_t max_pairs;         /* candidate pairs (after steps 1-3) allowed per kind and
                                   process: bounds time and memory on a hostile input */
};
#define CM_DEFAULT_MAX_PAIRS 100000000ull /* 2.4 GB of pairs */
#define CM_TOO_MANY_PAIRS (-2)            /* returned when max_pairs is exceeded */
/* window 60, m 2, share, CooRTweet, percentile 0.5, CM_DEFAULT_MAX_PAIRS */
void cm_params_init(struct cm_params *p);

/* ---- pairs (pairs.c) ---- */
struct cm_prepared {
    struct cm_table kind[CM_KIND_COUNT]; /* shares after step 1, sorted by (object, time) */
    size_t *object_start[CM_KIND_COUNT]; /* run starts of equal objects, n_runs + 1 entries */
    size_t nruns[CM_KIND_COUNT];
    uint32_t ncontents;
};
int cm_prepare(const struct cm_dataset *d, const struct cm_params *p, struct cm_prepared *out);
void cm_prepared_free(struct cm_prepared *pr);
/* Does this rank own the object? (hash partition; nparts 1 owns everything) */
int cm_object_owned(uint32_t object, int part, int nparts);

/* The pair functions return 0, -1 (out of memory) or CM_TOO_MANY_PAIRS. */
/* Step 4, first pass: in_pairs[c] = 1 for every content c of a kind-k pair surviving steps 1-3
 * among the objects this part owns (in_pairs: ncontents bytes, zeroed by the caller; OR the
 * arrays of all parts). */
int cm_mark_contents(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     int part, int nparts, uint8_t *in_pairs);
/* Step 4, second: keep[c] = 1 for contents of rows whose account has >= m rows of the kind with
 * a content in in_pairs (keep: ncontents bytes). Needs the whole kind table. */
int cm_keep_contents(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     const uint8_t *in_pairs, uint8_t *keep);

/* One surviving pair: accounts a <= b (ca, cb their contents), the object, |dt|. */
struct cm_pair {
    uint32_t a, b, object, ca, cb;
    uint32_t dt;
};
struct cm_pairs {
    struct cm_pair *v;
    size_t n, cap;
};
/* Appends the kind-k pairs of owned objects that survive steps 1-4 (keep == NULL: no step 4;
 * the QUT weight keeps same-account pairs and skips step 4). */
int cm_collect_pairs(const struct cm_prepared *pr, const struct cm_params *p, int kind,
                     const uint8_t *keep, int part, int nparts, struct cm_pairs *out);
/* Sorts into the canonical order (a, b, object, ca, cb, dt): after concatenating the lists of
 * disjoint parts, the result equals the single-process list byte for byte. */
void cm_pairs_sort(struct cm_pairs *pairs);
int cm_pairs_append(struct cm_pairs *dst, const struct cm_pair *v, size_t n);
void cm_pairs_free(struct cm_pairs *pairs);
/* All of the above in one process: steps 1-5 for every selected kind. */
int cm_find_pairs(const struct cm_dataset *d, const struct cm_params *p, struct cm_pairs *out,
                  uint64_t pair_counts[CM_KIND_COUNT]);

/* ---- network (edges.c, groups.c) ---- */
struct cm_edge {
    uint32_t a, b;           /* accounts (a < b; QUT: a -> b, a == b for a kept self loop) */
    uint32_t weight;         /* CooRTweet: pairs; QUT: distinct messages of a matched by b */
    uint32_t nobjects;       /* distinct objects behind the edge */
    uint32_t ncontent_a, ncontent_b; /* distinct contents of each side (symmetry score) */
    double mean_dt;          /* mean |dt| of its pairs, seconds */
    double symmetry;         /* min(ncontent_a, ncontent_b) / max(...) (CooRTweet) */
    size_t first_pair, npairs; /* its pairs in the sorted pair list */
    int coordinated;         /* weight above the percentile threshold */
};
struct cm_account_stat {
    uint32_t account;
    uint32_t degree;
    uint64_t strength;       /* sum of edge weights */
    uint64_t shares;         /* rows of the selected kinds in the input (activity) */
    int64_t first, last;     /* time span of its shares (selected kinds) */
    int coordinated;         /* on at least one coordinated edge */
    uint32_t component, community; /* groups of the coordinated subgraph (1-based; 0 = none) */
};
struct cm_group {
    uint32_t id;             /* 1-based, by size (largest first) */
    uint32_t size, nedges;
    uint64_t weight;
    int64_t first, last;     /* time span of the group's pairs */
    uint32_t top_objects[5]; /* most paired objects inside the group */
    uint32_t top_counts[5];
    uint32_t ntop;
};
/* The full network (every edge) with its coordinated subgraph flagged, as CooRTweet's
 * generate_coordinated_network returns it; groups are those of the coordinated subgraph. */
struct cm_network {
    struct cm_pairs pairs;   /* surviving pairs, canonical order */
    uint64_t pair_counts[CM_KIND_COUNT];
    struct cm_edge *edges;   /* every edge, sorted (a, b) */
    size_t nedges, ncoordinated_edges;
    double threshold;        /* weight an edge must exceed to be coordinated, or -1 (all are) */
    struct cm_account_stat *accounts; /* accounts on any edge, sorted by id */
    size_t naccounts, ncoordinated_accounts;
    struct cm_group *components, *communities; /* of the coordinated subgraph */
    size_t ncomponents, ncommunities;
    double modularity;
    int directed;
};
/* Builds edges (step 5 or the QUT weight), flags the coordinated ones (percentile), account
 * statistics and groups. Takes ownership of *pairs (left empty). 0, or -1 with err. */
int cm_network_build(const struct cm_dataset *d, const struct cm_params *p,
                     struct cm_pairs *pairs, struct cm_network *net, char *err, size_t errlen);
/* The q-quantile (R type 7) of all edges' weights; 0 without edges, NaN without memory. */
double cm_weight_quantile(const struct cm_network *net, double q);
/* The statistics of an account on an edge, or NULL. */
struct cm_account_stat *cm_find_account(const struct cm_network *net, uint32_t account);
/* Components and Louvain communities (igraph); called by cm_network_build. */
int cm_groups_build(const struct cm_dataset *d, struct cm_network *net, char *err,
                    size_t errlen);
void cm_network_free(struct cm_network *net);

/* ---- outputs (output.c) ---- */
/* Writes DIR/edges.csv, accounts.csv, groups.csv, network.graphml, network.gexf,
 * summary.json. 0 or -1 with err. */
int cm_write_outputs(const struct cm_dataset *d, const struct cm_params *p,
                     const struct cm_network *net, const char *dir, char *err, size_t errlen);
/* The readable summary in plain words (malloc'd). */
char *cm_summary_text(const struct cm_dataset *d, const struct cm_params *p,
                      const struct cm_network *net);

#endif
