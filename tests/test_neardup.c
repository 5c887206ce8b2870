/* Near-duplicate text clustering (campaign/neardup.c): thresholds with known Jaccard values,
 * transitivity, labels, empty texts, a hot bucket, thread independence, and agreement with a
 * brute-force all-pairs Jaccard reference written independently here (string shingles). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/neardup.h"
#include "check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_u64(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A set of texts owned by the test. */
struct texts {
    char **s;
    size_t *len;
    size_t n;
};

static void texts_init(struct texts *t, size_t n)
{
    t->s = calloc(n, sizeof *t->s);
    t->len = calloc(n, sizeof *t->len);
    t->n = n;
}

static void texts_set(struct texts *t, size_t i, const char *s)
{
    free(t->s[i]);
    t->s[i] = strdup(s);
    t->len[i] = strlen(s);
}

static void texts_free(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
}

/* Words "w<id>" joined by spaces. */
static void words_text(char *buf, size_t cap, const unsigned *ids, size_t nwords)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nwords; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%sw%u", i ? " " : "", ids[i]);
}

static int cluster(const struct texts *t, const struct cm_neardup_params *p, uint32_t *out)
{
    return cm_neardup_cluster((const char *const *)t->s, t->len, t->n, p, out);
}

/* With 1-word shingles the Jaccard value is set by construction: 10 words vs 8 of them + 2
 * new = 8/12 = 0.667; vs 6 of them + 4 new = 6/14 = 0.43. */
static void test_threshold_on_known_jaccard(void)
{
    unsigned a[10], b[10], c[10];
    for (unsigned i = 0; i < 10; i++) {
        a[i] = i;
        b[i] = i < 8 ? i : 100 + i;
        c[i] = i < 6 ? i : 200 + i;
    }
    char buf[256];
    struct texts t;
    texts_init(&t, 3);
    words_text(buf, sizeof buf, a, 10);
    texts_set(&t, 0, buf);
    words_text(buf, sizeof buf, b, 10);
    texts_set(&t, 1, buf);
    words_text(buf, sizeof buf, c, 10);
    texts_set(&t, 2, buf);
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    p.shingle_words = 1;
    uint32_t cl[3];
    CHECK(cluster(&t, &p, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 0); /* 0.667 >= 0.6 */
    CHECK(cl[2] == 2);               /* 0.43 and 6/14 vs b: below */
    p.jaccard = 0.7;
    CHECK(cluster(&t, &p, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 1 && cl[2] == 2);
    p.jaccard = 0.4; /* r = 2 rows in 60 bands: P(candidate | 0.43) > 0.99999 */
    p.num_hashes = 120;
    p.bands = 60;
    CHECK(cluster(&t, &p, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 0 && cl[2] == 0);
    texts_free(&t);
}

/* a ~ b and b ~ c but a !~ c: one component labelled by its smallest index, whatever the
 * order the texts come in. */
static void test_transitive_components_smallest_index(void)
{
    unsigned a[10], b[10], c[10], u[10];
    for (unsigned i = 0; i < 10; i++) {
        a[i] = i;
        b[i] = i < 8 ? i : 100 + i;               /* J(a, b) = 8/12 */
        c[i] = i < 6 ? i : (i < 8 ? 100 + i + 2 : 300 + i); /* shares 6 with a, 8 with b */
        u[i] = 500 + i;
    }
    char buf[256];
    struct texts t;
    texts_init(&t, 5);
    words_text(buf, sizeof buf, u, 10);
    texts_set(&t, 0, buf);
    words_text(buf, sizeof buf, c, 10);
    texts_set(&t, 1, buf);
    texts_set(&t, 2, "");
    words_text(buf, sizeof buf, b, 10);
    texts_set(&t, 3, buf);
    words_text(buf, sizeof buf, a, 10);
    texts_set(&t, 4, buf);
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    p.shingle_words = 1;
    uint32_t cl[5];
    CHECK(cluster(&t, &p, cl) == 0);
    CHECK(cl[0] == 0 && cl[2] == 2);
    CHECK(cl[1] == 1 && cl[3] == 1 && cl[4] == 1);
    texts_free(&t);
}

static void test_empty_and_blank_texts_stay_alone(void)
{
    struct texts t;
    texts_init(&t, 4);
    texts_set(&t, 0, "");
    texts_set(&t, 1, "   ");
    texts_set(&t, 2, "\t\n");
    texts_set(&t, 3, "one");
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    uint32_t cl[4];
    CHECK(cluster(&t, &p, cl) == 0);
    for (uint32_t i = 0; i < 4; i++)
        CHECK(cl[i] == i);
    texts_free(&t);
}

/* Whitespace runs do not matter, word order does (3-word shingles). */
static void test_shingles_follow_words(void)
{
    struct texts t;
    texts_init(&t, 3);
    texts_set(&t, 0, "the quick brown fox jumps over the lazy dog again and again today");
    texts_set(&t, 1, "the  quick brown fox jumps over the lazy dog again and again\ttoday ");
    texts_set(&t, 2, "today again and again dog lazy the over jumps fox brown quick the");
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    uint32_t cl[3];
    CHECK(cluster(&t, &p, cl) == 0);
    CHECK(cl[1] == 0);
    CHECK(cl[2] == 2);
    texts_free(&t);
}

/* A 30-word template, variant v replaces word v % 30 with a word of its own. */
static void template_variant(char *buf, size_t cap, unsigned family, unsigned v)
{
    unsigned ids[30];
    for (unsigned i = 0; i < 30; i++)
        ids[i] = family * 1000 + i;
    ids[v % 30] = 1000000 + family * 100000 + v;
    words_text(buf, cap, ids, 30);
}

/* 3,000 variants of one template (each pair at Jaccard >= 22/34) in the same LSH buckets,
 * among 2,000 unrelated texts: one component, no quadratic blow-up, the others alone. */
static void test_hot_bucket(void)
{
    size_t nvar = 3000, nrand = 2000, n = nvar + nrand;
    struct texts t;
    texts_init(&t, n);
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        if (i % 5 < 3) {
            template_variant(buf, sizeof buf, 7, (unsigned)i);
        } else {
            unsigned ids[15];
            for (int w = 0; w < 15; w++)
                ids[w] = (unsigned)(next_u64() % 50000) + 2000000;
            words_text(buf, sizeof buf, ids, 15);
        }
        texts_set(&t, i, buf);
    }
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    uint32_t *cl = malloc(n * sizeof *cl);
    CHECK(cluster(&t, &p, cl) == 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += i % 5 < 3 ? cl[i] != 0 : cl[i] != i;
    CHECK_MSG(bad == 0, "%d texts misplaced", bad);
    free(cl);
    texts_free(&t);
}

/* Families of variants (pairwise Jaccard >= 0.65) and unrelated texts; the result must equal
 * the components of the exact all-pairs graph, and not depend on the thread count. */
static size_t make_mixed(struct texts *t, size_t n)
{
    char buf[512];
    texts_init(t, n);
    size_t family_members = 0;
    for (size_t i = 0; i < n; i++) {
        if (next_u64() % 2 == 0) {
            template_variant(buf, sizeof buf, (unsigned)(next_u64() % 40), (unsigned)i);
            family_members++;
        } else {
            unsigned ids[20];
            for (int w = 0; w < 20; w++)
                ids[w] = (unsigned)(next_u64() % 3000) + 3000000;
            words_text(buf, sizeof buf, ids, 20);
        }
        texts_set(t, i, buf);
    }
    return family_members;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct 3-word shingles of a text as sorted strings. */
static size_t string_shingles(const char *text, char ***out)
{
    char *copy = strdup(text), *save = NULL, *words[64];
    size_t nw = 0;
    for (char *w = strtok_r(copy, " ", &save); w && nw < 64; w = strtok_r(NULL, " ", &save))
        words[nw++] = w;
    size_t ns = nw >= 3 ? nw - 2 : 0;
    char **sh = calloc(ns + 1, sizeof *sh);
    for (size_t i = 0; i < ns; i++) {
        size_t len = strlen(words[i]) + strlen(words[i + 1]) + strlen(words[i + 2]) + 3;
        sh[i] = malloc(len);
        snprintf(sh[i], len, "%s %s %s", words[i], words[i + 1], words[i + 2]);
    }
    qsort(sh, ns, sizeof *sh, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < ns; i++) {
        if (u > 0 && strcmp(sh[i], sh[u - 1]) == 0)
            free(sh[i]);
        else
            sh[u++] = sh[i];
    }
    free(copy);
    *out = sh;
    return u;
}

static double string_jaccard(char **a, size_t na, char **b, size_t nb)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        int c = strcmp(a[i], b[j]);
        inter += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    return na + nb - inter ? (double)inter / (double)(na + nb - inter) : 0.0;
}

static uint32_t find(uint32_t *p, uint32_t i)
{
    while (p[i] != i)
        i = p[i];
    return i;
}

static void brute_force(const struct texts *t, double threshold, uint32_t *cl)
{
    char ***sh = calloc(t->n, sizeof *sh);
    size_t *ns = calloc(t->n, sizeof *ns);
    for (size_t i = 0; i < t->n; i++) {
        ns[i] = string_shingles(t->s[i], &sh[i]);
        cl[i] = (uint32_t)i;
    }
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = i + 1; j < t->n; j++)
            if (string_jaccard(sh[i], ns[i], sh[j], ns[j]) >= threshold) {
                uint32_t a = find(cl, (uint32_t)i), b = find(cl, (uint32_t)j);
                cl[a > b ? a : b] = a < b ? a : b;
            }
    for (size_t i = 0; i < t->n; i++) {
        cl[i] = find(cl, (uint32_t)i);
        for (size_t k = 0; k < ns[i]; k++)
            free(sh[i][k]);
        free(sh[i]);
    }
    free(sh);
    free(ns);
}

static void test_matches_brute_force_and_threads(void)
{
    size_t n = 1200;
    struct texts t;
    size_t members = make_mixed(&t, n);
    CHECK(members > 400);
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    uint32_t *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two);
    uint32_t *want = malloc(n * sizeof *want);
    p.threads = 1;
    CHECK(cluster(&t, &p, one) == 0);
    p.threads = 2;
    CHECK(cluster(&t, &p, two) == 0);
    brute_force(&t, p.jaccard, want);
    CHECK(memcmp(one, two, n * sizeof *one) == 0);
    size_t differ = 0, joined = 0;
    for (size_t i = 0; i < n; i++) {
        differ += one[i] != want[i];
        joined += want[i] != i;
    }
    CHECK_MSG(differ == 0, "%zu labels differ from the brute-force components", differ);
    CHECK(joined > 300);
    free(one);
    free(two);
    free(want);
    texts_free(&t);
}

static void test_invalid_parameters(void)
{
    const char *s[1] = {"a b c"};
    size_t len[1] = {5};
    uint32_t cl[1];
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    CHECK(cm_neardup_cluster(s, len, 1, &p, cl) == 0 && cl[0] == 0);
    CHECK(cm_neardup_cluster(NULL, NULL, 0, &p, NULL) == 0);
    p.bands = 7; /* 60 % 7 != 0 */
    CHECK(cm_neardup_cluster(s, len, 1, &p, cl) == -1);
    cm_neardup_params_init(&p);
    p.jaccard = 0.0;
    CHECK(cm_neardup_cluster(s, len, 1, &p, cl) == -1);
    cm_neardup_params_init(&p);
    p.shingle_words = 0;
    CHECK(cm_neardup_cluster(s, len, 1, &p, cl) == -1);
    CHECK(cm_neardup_cluster(s, len, 1, NULL, cl) == -1);
}

static const struct um_test_case cases[] = {
    {"threshold_on_known_jaccard", test_threshold_on_known_jaccard},
    {"transitive_components_smallest_index", test_transitive_components_smallest_index},
    {"empty_and_blank_texts_stay_alone", test_empty_and_blank_texts_stay_alone},
    {"shingles_follow_words", test_shingles_follow_words},
    {"hot_bucket", test_hot_bucket},
    {"matches_brute_force_and_threads", test_matches_brute_force_and_threads},
    {"invalid_parameters", test_invalid_parameters},
};
UM_TEST_MAIN(cases)
