/* Near-duplicate text clustering: MinHash + LSH banding + exact Jaccard verification.
 *
 * Steps (Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets", 3rd ed., ch. 3):
 *  1. Shingling (3.2): a text is the set of its k-word shingles; words are maximal runs of
 *     non-whitespace bytes (the caller has normalised case and punctuation). Each shingle is
 *     hashed to 64 bits; a text with fewer than k words is one shingle of all its words, a text
 *     without words has no shingles and is never similar to anything.
 *  2. MinHash (3.3): num_hashes functions h_i(x) = a_i x + b_i mod 2^64 (a_i odd; the
 *     multiply-add family of Dietzfelbinger et al.) applied to the shingle hashes;
 *     sig_i = min over the text's shingles. P(sig_i(A) = sig_i(B)) ~ J(A, B).
 *  3. LSH banding (3.4.1): the signature is cut into b bands of r rows; two texts are a
 *     candidate pair when some band is equal (compared through a 32-bit hash of the band: a
 *     collision only adds a candidate, which step 4 rejects). P(candidate | J = s) =
 *     1 - (1 - s^r)^b; the defaults b = 20, r = 3 put the S-curve threshold (1/b)^(1/r) = 0.37
 *     under the default Jaccard threshold 0.6, so a true pair at s = 0.6 is missed with
 *     probability (1 - 0.216)^20 = 0.0077 and at s = 0.7 with (1 - 0.343)^20 = 0.0002; inside a
 *     cluster of near-duplicates a miss rarely splits the component because other pairs bridge it.
 *  4. Verification: every candidate is checked with the exact Jaccard similarity of the two
 *     sorted shingle-hash sets (exact up to 64-bit hash collisions), and verified pairs are
 *     joined with union-find.
 * Buckets: a band bucket is processed member by member (in index order) against at most
 * ND_BUCKET_REPS representatives, one per component already met in that bucket, and members
 * already in a representative's component are skipped. A bucket of k texts therefore costs at
 * most k * ND_BUCKET_REPS verifications instead of k^2/2, even when thousands of texts share a
 * band; the price is that a text similar only to a non-representative member of a bucket (and
 * to no representative, in any band) is not joined.
 * Bands are processed one after the other; inside a band the buckets are verified in parallel
 * against a read-only union-find and the verified edges are joined afterwards in bucket order,
 * so the result does not depend on the number of threads. */
#include "campaign/neardup.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/util.h"
#include "core/parallel.h"

enum {
    ND_MAX_SHINGLE_WORDS = 64,
    ND_MAX_HASHES = 1024,
    ND_MAX_SHINGLES = 65536, /* per text: the first 65,536 shingles (about 256 KB of text) */
    ND_BUCKET_REPS = 32,
    ND_TEXTS_PER_TASK = 4096,
    ND_MAX_TASKS = 256,
};

void cm_neardup_params_init(struct cm_neardup_params *p)
{
    p->shingle_words = 3;
    p->num_hashes = 60;
    p->bands = 20;
    p->jaccard = 0.6;
    p->seed = 0x6e656172647570ULL; /* "neardup" */
    p->threads = 0;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* FNV-1a over the word's bytes, then mixed so that the shingle combination sees full entropy. */
static uint64_t word_hash(const unsigned char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return cm_mix64(h);
}

struct u64vec {
    uint64_t *v;
    size_t n, cap;
};

static int u64vec_push(struct u64vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        uint64_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* Order-dependent combination of the k word hashes ending at ring position `end`. */
static uint64_t shingle_hash(const uint64_t *ring, int k, int count, int end)
{
    uint64_t h = (uint64_t)count;
    for (int j = 0; j < count; j++)
        h = cm_mix64(h ^ ring[(end + k - count + 1 + j) % k]);
    return h;
}

/* Step 1: the (unsorted, possibly repeated) shingle hashes of a text into out. 0 or -1. */
static int text_shingles(const char *text, size_t len, int k, struct u64vec *out)
{
    const unsigned char *s = (const unsigned char *)text;
    uint64_t ring[ND_MAX_SHINGLE_WORDS];
    size_t words = 0, i = 0;
    out->n = 0;
    while (i < len && out->n < ND_MAX_SHINGLES) {
        while (i < len && is_space(s[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(s[i]))
            i++;
        if (i == start)
            break;
        int pos = (int)(words % (size_t)k);
        ring[pos] = word_hash(s + start, i - start);
        words++;
        if (words >= (size_t)k && u64vec_push(out, shingle_hash(ring, k, k, pos)) != 0)
            return -1;
    }
    if (words > 0 && words < (size_t)k)
        return u64vec_push(out, shingle_hash(ring, k, (int)words, (int)words - 1));
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void sort_unique(struct u64vec *a)
{
    if (a->n < 2)
        return;
    qsort(a->v, a->n, sizeof *a->v, cmp_u64);
    size_t w = 1;
    for (size_t i = 1; i < a->n; i++)
        if (a->v[i] != a->v[w - 1])
            a->v[w++] = a->v[i];
    a->n = w;
}

/* Exact Jaccard |A n B| / |A u B| >= t for two sorted sets without repeats. */
static int jaccard_at_least(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, double t)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            inter++;
            i++;
            j++;
        }
    }
    size_t uni = na + nb - inter;
    return uni > 0 && (double)inter >= t * (double)uni;
}

struct nd_ctx {
    const char *const *texts;
    const size_t *lens;
    size_t n;
    const struct cm_neardup_params *p;
    int rows;
    uint64_t *mh_a, *mh_b; /* MinHash functions */
    uint32_t *keys;        /* band-major: keys[band * n + i] */
    uint8_t *has_shingles;
    uint32_t *parent; /* union-find; the root of a component is its smallest index */
    atomic_int failed;
    /* per band */
    const uint64_t *sorted; /* (key << 32 | index), sorted by key, index ascending in a key */
    const size_t *bucket_start, *bucket_len;
    size_t nbuckets;
    int ntasks;
    struct u64vec *task_edges; /* (a << 32 | b) verified pairs, per task */
};

/* Steps 2-3 for one text: band keys from the MinHash signature. */
static void text_band_keys(struct nd_ctx *c, size_t i, struct u64vec *sh, uint64_t *sig)
{
    int K = c->p->num_hashes, b = c->p->bands;
    if (text_shingles(c->texts[i], c->lens[i], c->p->shingle_words, sh) != 0) {
        atomic_store(&c->failed, 1);
        return;
    }
    c->has_shingles[i] = sh->n > 0;
    for (int h = 0; h < K; h++)
        sig[h] = UINT64_MAX;
    for (size_t j = 0; j < sh->n; j++) {
        uint64_t x = sh->v[j];
        for (int h = 0; h < K; h++) {
            uint64_t v = c->mh_a[h] * x + c->mh_b[h];
            sig[h] = v < sig[h] ? v : sig[h];
        }
    }
    for (int band = 0; band < b; band++) {
        uint64_t key = (uint64_t)band;
        for (int r = 0; r < c->rows; r++)
            key = cm_mix64(key ^ sig[band * c->rows + r]);
        c->keys[(size_t)band * c->n + i] = (uint32_t)(key >> 32);
    }
}

static void signature_task(void *ctx, int task)
{
    struct nd_ctx *c = ctx;
    size_t lo = (size_t)task * ND_TEXTS_PER_TASK;
    size_t hi = lo + ND_TEXTS_PER_TASK < c->n ? lo + ND_TEXTS_PER_TASK : c->n;
    struct u64vec sh = {0};
    uint64_t sig[ND_MAX_HASHES];
    for (size_t i = lo; i < hi && !atomic_load(&c->failed); i++)
        text_band_keys(c, i, &sh, sig);
    free(sh.v);
}

/* Read-only find: used while other threads read the forest too. */
static uint32_t root_of(const uint32_t *parent, uint32_t i)
{
    while (parent[i] != i)
        i = parent[i];
    return i;
}

struct bucket_reps {
    uint32_t idx[ND_BUCKET_REPS], root[ND_BUCKET_REPS];
    size_t off[ND_BUCKET_REPS], len[ND_BUCKET_REPS];
    int n;
    struct u64vec arena; /* the representatives' sorted shingle sets */
};

static int rep_has_root(const struct bucket_reps *r, uint32_t root)
{
    for (int j = 0; j < r->n; j++)
        if (r->root[j] == root)
            return 1;
    return 0;
}

static int rep_add(struct bucket_reps *r, uint32_t idx, uint32_t root, const struct u64vec *sh)
{
    r->idx[r->n] = idx;
    r->root[r->n] = root;
    r->off[r->n] = r->arena.n;
    r->len[r->n] = sh->n;
    for (size_t j = 0; j < sh->n; j++)
        if (u64vec_push(&r->arena, sh->v[j]) != 0)
            return -1;
    r->n++;
    return 0;
}

/* Step 4 for one bucket: verified edges (member, representative) into out. 0 or -1. */
static int verify_bucket(struct nd_ctx *c, const uint64_t *members, size_t k,
                         struct bucket_reps *reps, struct u64vec *sh, struct u64vec *out)
{
    reps->n = 0;
    reps->arena.n = 0;
    for (size_t m = 0; m < k; m++) {
        uint32_t idx = (uint32_t)members[m];
        uint32_t root = root_of(c->parent, idx);
        if (rep_has_root(reps, root))
            continue;
        if (text_shingles(c->texts[idx], c->lens[idx], c->p->shingle_words, sh) != 0)
            return -1;
        sort_unique(sh);
        int matched = 0;
        for (int j = 0; j < reps->n; j++) {
            if (jaccard_at_least(sh->v, sh->n, reps->arena.v + reps->off[j], reps->len[j],
                                 c->p->jaccard)) {
                if (u64vec_push(out, (uint64_t)idx << 32 | reps->idx[j]) != 0)
                    return -1;
                matched = 1;
            }
        }
        if (!matched && reps->n < ND_BUCKET_REPS && rep_add(reps, idx, root, sh) != 0)
            return -1;
    }
    return 0;
}

static void bucket_task(void *ctx, int task)
{
    struct nd_ctx *c = ctx;
    size_t lo = c->nbuckets * (size_t)task / (size_t)c->ntasks;
    size_t hi = c->nbuckets * (size_t)(task + 1) / (size_t)c->ntasks;
    struct bucket_reps *reps = calloc(1, sizeof *reps);
    struct u64vec sh = {0};
    int rc = reps ? 0 : -1;
    for (size_t bk = lo; bk < hi && rc == 0 && !atomic_load(&c->failed); bk++)
        rc = verify_bucket(c, c->sorted + c->bucket_start[bk], c->bucket_len[bk], reps, &sh,
                           &c->task_edges[task]);
    if (rc != 0)
        atomic_store(&c->failed, 1);
    if (reps)
        free(reps->arena.v);
    free(reps);
    free(sh.v);
}

/* LSD radix sort of (key << 32 | index) by the key's 32 bits; stable, so indices stay ascending
 * within a key. */
static void radix_sort_keys(uint64_t *a, uint64_t *tmp, size_t m)
{
    for (int shift = 32; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < m; i++)
            count[((a[i] >> shift) & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < m; i++)
            tmp[count[(a[i] >> shift) & 0xff]++] = a[i];
        memcpy(a, tmp, m * sizeof *a);
    }
}

/* One band: sort, cut into buckets of >= 2 texts, verify in parallel, join in order. */
static int process_band(struct nd_ctx *c, int band, uint64_t *pairs, uint64_t *tmp,
                        size_t *bstart, size_t *blen)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->has_shingles[i])
            pairs[m++] = (uint64_t)c->keys[(size_t)band * c->n + i] << 32 | i;
    radix_sort_keys(pairs, tmp, m);
    size_t nb = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && pairs[j] >> 32 == pairs[i] >> 32)
            j++;
        if (j - i >= 2) {
            bstart[nb] = i;
            blen[nb++] = j - i;
        }
        i = j;
    }
    if (nb == 0)
        return 0;
    c->sorted = pairs;
    c->bucket_start = bstart;
    c->bucket_len = blen;
    c->nbuckets = nb;
    c->ntasks = nb < ND_MAX_TASKS ? (int)nb : ND_MAX_TASKS;
    for (int t = 0; t < c->ntasks; t++)
        c->task_edges[t].n = 0;
    um_parallel_for(c->ntasks, bucket_task, c, c->p->threads);
    if (atomic_load(&c->failed))
        return -1;
    for (int t = 0; t < c->ntasks; t++)
        for (size_t e = 0; e < c->task_edges[t].n; e++)
            cm_uf_unite(c->parent, (uint32_t)(c->task_edges[t].v[e] >> 32),
                  (uint32_t)c->task_edges[t].v[e]);
    return 0;
}

static int params_valid(const struct cm_neardup_params *p)
{
    return p->shingle_words >= 1 && p->shingle_words <= ND_MAX_SHINGLE_WORDS &&
           p->num_hashes >= 1 && p->num_hashes <= ND_MAX_HASHES && p->bands >= 1 &&
           p->num_hashes % p->bands == 0 && p->jaccard > 0.0 && p->jaccard <= 1.0;
}

static void init_minhash(struct nd_ctx *c)
{
    uint64_t s = c->p->seed;
    for (int h = 0; h < c->p->num_hashes; h++) {
        c->mh_a[h] = cm_mix64(s += 0x9e3779b97f4a7c15ULL) | 1;
        c->mh_b[h] = cm_mix64(s += 0x9e3779b97f4a7c15ULL);
    }
}

static int cluster_all(struct nd_ctx *c)
{
    int ntasks = (int)((c->n + ND_TEXTS_PER_TASK - 1) / ND_TEXTS_PER_TASK);
    um_parallel_for(ntasks, signature_task, c, c->p->threads);
    if (atomic_load(&c->failed))
        return -1;
    uint64_t *pairs = malloc(c->n * sizeof *pairs), *tmp = malloc(c->n * sizeof *tmp);
    size_t *bstart = malloc((c->n / 2 + 1) * sizeof *bstart);
    size_t *blen = malloc((c->n / 2 + 1) * sizeof *blen);
    c->task_edges = calloc(ND_MAX_TASKS, sizeof *c->task_edges);
    int rc = pairs && tmp && bstart && blen && c->task_edges ? 0 : -1;
    for (int band = 0; band < c->p->bands && rc == 0; band++)
        rc = process_band(c, band, pairs, tmp, bstart, blen);
    if (c->task_edges)
        for (int t = 0; t < ND_MAX_TASKS; t++)
            free(c->task_edges[t].v);
    free(c->task_edges);
    free(pairs);
    free(tmp);
    free(bstart);
    free(blen);
    return rc;
}

int cm_neardup_cluster(const char *const *texts, const size_t *lens, size_t n,
                       const struct cm_neardup_params *p, uint32_t *cluster)
{
    if (!p || !params_valid(p) || n >= UINT32_MAX || (n > 0 && (!texts || !lens || !cluster)))
        return -1;
    if (n == 0)
        return 0;
    if ((size_t)p->bands > SIZE_MAX / sizeof(uint32_t) / n || n > SIZE_MAX / 16)
        return -1; /* band keys, or the (key, index) sort buffers, would not fit size_t */
    struct nd_ctx c = {.texts = texts, .lens = lens, .n = n, .p = p,
                       .rows = p->num_hashes / p->bands, .parent = cluster};
    atomic_init(&c.failed, 0);
    c.mh_a = malloc((size_t)p->num_hashes * sizeof *c.mh_a);
    c.mh_b = malloc((size_t)p->num_hashes * sizeof *c.mh_b);
    c.keys = malloc((size_t)p->bands * n * sizeof *c.keys);
    c.has_shingles = malloc(n);
    int rc = -1;
    if (c.mh_a && c.mh_b && c.keys && c.has_shingles) {
        init_minhash(&c);
        for (size_t i = 0; i < n; i++)
            cluster[i] = (uint32_t)i;
        rc = cluster_all(&c);
        for (size_t i = 0; rc == 0 && i < n; i++)
            cluster[i] = cm_uf_find(cluster, (uint32_t)i);
    }
    free(c.mh_a);
    free(c.mh_b);
    free(c.keys);
    free(c.has_shingles);
    return rc;
}
