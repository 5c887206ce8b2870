/* Campaign pipeline: hand-made posts with hand-counted pairs and edges (CooRTweet steps 1-5,
 * the QUT directed weight), the reader (CSV quoting, malformed rows, presets, timestamps), URL
 * and text normalisation, a hot object, the partitioned (MPI-shaped) run and the outputs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "check.h"

/* Reads posts (CSV or JSON Lines text) with a preset (NULL: coortweet) and the kinds. */
static int load(const char *text, const char *preset, unsigned kinds, int strict,
                struct cm_dataset *d)
{
    struct cm_ingest_params in;
    char err[256];
    cm_ingest_params_init(&in);
    if (preset)
        CHECK(cm_ingest_preset(&in, preset) == 0);
    in.kinds = kinds;
    in.strict = strict;
    memset(d, 0, sizeof *d);
    return cm_ingest_buffer(text, strlen(text), &in, d, err, sizeof err);
}

/* The whole pipeline on coortweet-shaped CSV; returns pairs found, fills net. */
static uint64_t analyse(const char *csv, int64_t window, uint32_t m, double percentile,
                        struct cm_dataset *d, struct cm_network *net)
{
    struct cm_params p;
    cm_params_init(&p);
    p.window = window;
    p.min_participation = m;
    p.percentile = percentile;
    CHECK(load(csv, NULL, p.kinds, 0, d) == 0);
    struct cm_pairs pairs = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    char err[256];
    CHECK(cm_find_pairs(d, &p, &pairs, counts) == 0);
    CHECK(cm_network_build(d, &p, &pairs, net, err, sizeof err) == 0);
    return counts[CM_KIND_SHARE];
}

static const struct cm_edge *edge_between(const struct cm_dataset *d,
                                          const struct cm_network *net, const char *x,
                                          const char *y)
{
    uint32_t a = cm_intern_find(&d->accounts, x, strlen(x));
    uint32_t b = cm_intern_find(&d->accounts, y, strlen(y));
    for (size_t i = 0; i < net->nedges; i++)
        if ((net->edges[i].a == a && net->edges[i].b == b) ||
            (!net->directed && net->edges[i].a == b && net->edges[i].b == a))
            return &net->edges[i];
    return NULL;
}

#define HDR "object_id,account_id,content_id,timestamp\n"

static void test_window_inclusive(void)
{
    /* A-B 60 s apart (inside), B-C 1 s apart, A-C 61 s apart (outside). */
    struct cm_dataset d;
    struct cm_network net;
    uint64_t n = analyse(HDR "o1,A,c1,1000\no1,B,c2,1060\no1,C,c3,1061\n", 60, 1, 0, &d, &net);
    CHECK(n == 2);
    CHECK(net.nedges == 2);
    CHECK(edge_between(&d, &net, "A", "B") != NULL);
    CHECK(edge_between(&d, &net, "B", "C") != NULL);
    CHECK(edge_between(&d, &net, "A", "C") == NULL);
    const struct cm_edge *ab = edge_between(&d, &net, "A", "B");
    CHECK(ab && ab->mean_dt == 60.0 && ab->weight == 1 && ab->nobjects == 1);
    cm_network_free(&net);
    cm_dataset_free(&d);
    n = analyse(HDR "o1,A,c1,1000\no1,B,c2,1060\no1,C,c3,1061\n", 59, 1, 0, &d, &net);
    CHECK(n == 1); /* only B-C */
    cm_network_free(&net);
    cm_dataset_free(&d);
}

static void test_loops_removed(void)
{
    /* same account twice; same content id by two accounts; object id = a content id */
    struct cm_dataset d;
    struct cm_network net;
    uint64_t n = analyse(HDR "o1,A,c1,0\no1,A,c2,5\n"
                             "o2,B,c9,0\no2,C,c9,5\n"
                             "c7,D,c7,0\no3,D,c8,3\nc7,E,c6,4\n",
                         60, 1, 0, &d, &net);
    CHECK(n == 0);
    CHECK(net.nedges == 0 && net.naccounts == 0);
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* control: the same shapes without the loop give pairs */
    n = analyse(HDR "o1,A,c1,0\no1,F,c2,5\no2,B,c9,0\no2,C,c10,5\n", 60, 1, 0, &d, &net);
    CHECK(n == 2);
    cm_network_free(&net);
    cm_dataset_free(&d);
}

static void test_participation_steps(void)
{
    struct cm_dataset d;
    struct cm_network net;
    /* step 1: C has one row, so at m = 2 it never pairs */
    uint64_t n = analyse(HDR "o1,A,a1,0\no1,C,c1,5\no9,A,a2,900\n", 60, 2, 0, &d, &net);
    CHECK(n == 0);
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* step 4: A and B pair once; each has only one row in the pairs, so at m = 2 it goes */
    n = analyse(HDR "o1,A,a1,0\no1,B,b1,10\no2,A,a2,1000\no3,B,b2,5000\n", 60, 2, 0, &d, &net);
    CHECK(n == 0);
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* ... and stays when they pair twice: weight 2 on two objects */
    n = analyse(HDR "o1,A,a1,0\no1,B,b1,10\no2,A,a2,1000\no2,B,b2,1010\n", 60, 2, 0, &d, &net);
    CHECK(n == 2);
    const struct cm_edge *e = edge_between(&d, &net, "A", "B");
    CHECK(e && e->weight == 2 && e->nobjects == 2 && e->symmetry == 1.0);
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* step 4 keeps a pair when ONE side qualifies: A pairs with B twice, with C once; C has two
     * rows but only one in pairs, and the A-C pair stays because A's content qualifies */
    n = analyse(HDR "o1,A,a1,0\no1,B,b1,10\no2,A,a2,1000\no2,B,b2,1010\n"
                    "o3,A,a3,3000\no3,C,c1,3001\no4,C,c2,9000\n",
                60, 2, 0, &d, &net);
    CHECK(n == 3);
    CHECK(edge_between(&d, &net, "A", "C") != NULL);
    cm_network_free(&net);
    cm_dataset_free(&d);
}

/* --unique: a repeated (object, account, content, time) row counts once, also for step 1 */
static void test_unique_rows(void)
{
    const char *csv = HDR "o1,A,a1,0\no1,A,a1,0\no1,B,b1,5\no2,B,b2,100\n";
    struct cm_dataset d;
    struct cm_params p;
    cm_params_init(&p);
    CHECK(load(csv, NULL, p.kinds, 0, &d) == 0);
    for (int unique = 0; unique < 2; unique++) {
        p.unique = unique;
        struct cm_pairs pairs = {0};
        uint64_t counts[CM_KIND_COUNT] = {0};
        CHECK(cm_find_pairs(&d, &p, &pairs, counts) == 0);
        /* raw: A has two rows (passes m = 2) and pairs twice with B; unique: A has one row */
        CHECK_MSG(counts[CM_KIND_SHARE] == (unique ? 0u : 2u), "unique %d: %llu pairs", unique,
                  (unsigned long long)counts[CM_KIND_SHARE]);
        cm_pairs_free(&pairs);
    }
    cm_dataset_free(&d);
}

/* CooRTweet's edge_weight: every edge stays, those above the type-7 quantile are coordinated,
 * and groups come from the coordinated subgraph only. */
static void test_percentile_filter(void)
{
    /* weights A-B 3, A-C 1, B-C 1, D-E 1 ... type-7 median of {1, 1, 1, 3} = 1: > 1 is A-B */
    const char *csv = HDR "o1,A,a1,0\no1,B,b1,1\no2,A,a2,100\no2,B,b2,101\no3,A,a3,200\n"
                          "o3,B,b3,201\no4,A,a4,300\no4,C,c1,301\no5,B,b4,400\no5,C,c2,401\n"
                          "o6,D,d1,500\no6,E,e1,501\n";
    struct cm_dataset d;
    struct cm_network net;
    analyse(csv, 60, 1, 0.5, &d, &net);
    CHECK(net.nedges == 4 && net.naccounts == 5);
    CHECK(net.threshold == 1.0);
    CHECK(net.ncoordinated_edges == 1 && net.ncoordinated_accounts == 2);
    const struct cm_edge *ab = edge_between(&d, &net, "A", "B");
    const struct cm_edge *ac = edge_between(&d, &net, "A", "C");
    CHECK(ab && ab->coordinated && ab->weight == 3);
    CHECK(ac && !ac->coordinated);
    /* one group {A, B}; C, D and E are on edges but in no group */
    CHECK(net.ncomponents == 1 && net.components[0].size == 2 && net.components[0].nedges == 1);
    CHECK(net.ncommunities == 1 && net.communities[0].weight == 3);
    const char *names[] = {"A", "B", "C", "D", "E"};
    for (int i = 0; i < 5; i++) {
        uint32_t id = cm_intern_find(&d.accounts, names[i], 1);
        const struct cm_account_stat *a = cm_find_account(&net, id);
        CHECK_MSG(a && a->coordinated == (i < 2) && (a->component != 0) == (i < 2),
                  "account %s", names[i]);
    }
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* q = 0.75 of {1, 1, 1, 3}: h = 2.25 -> 1 + 0.25 * 2 = 1.5 (linear, not nearest rank) */
    analyse(csv, 60, 1, 0.75, &d, &net);
    CHECK(net.threshold == 1.5);
    CHECK(net.ncoordinated_edges == 1);
    cm_network_free(&net);
    cm_dataset_free(&d);
    /* q = 0: every edge is coordinated (not "above the smallest weight") */
    analyse(csv, 60, 1, 0, &d, &net);
    CHECK(net.threshold == -1 && net.ncoordinated_edges == 4 && net.ncoordinated_accounts == 5);
    CHECK(net.ncomponents == 2 && net.components[0].size == 3);
    cm_network_free(&net);
    cm_dataset_free(&d);
}

/* 100,000 shares of one object, one second apart, window 2: 2n - 3 pairs, not n^2 / 2. */
static void test_hot_object_linear(void)
{
    const size_t n = 100000;
    char *csv = malloc(n * 48 + 64), *p = csv;
    p += sprintf(p, HDR);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "hot,acc%zu,c%zu,%zu\n", i, i, 1000 + i);
    struct cm_dataset d;
    struct cm_params prm;
    cm_params_init(&prm);
    prm.window = 2;
    prm.min_participation = 1;
    CHECK(load(csv, NULL, prm.kinds, 0, &d) == 0);
    struct cm_pairs pairs = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    CHECK(cm_find_pairs(&d, &prm, &pairs, counts) == 0);
    CHECK(counts[CM_KIND_SHARE] == 2 * n - 3);
    CHECK(pairs.n == 2 * n - 3);
    cm_pairs_free(&pairs);
    /* a wide window would make n^2 / 2 pairs: the cap stops it early */
    prm.window = 1000000;
    prm.max_pairs = 1000000;
    CHECK(cm_find_pairs(&d, &prm, &pairs, counts) == CM_TOO_MANY_PAIRS);
    cm_pairs_free(&pairs);
    cm_dataset_free(&d);
    free(csv);
}

static void test_qut_directed_weight(void)
{
    /* u0 reposts r0 at 0 and 1, u1 at 59: u0->u1 = 2 distinct posts, u1->u0 = 1; u0's two
     * posts are a self loop of weight 2. u2/u3 are 61 s apart. */
    const char *csv = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
                      "m1,u0,n0,r0,,\"hello, world\",0,\n"
                      "m2,u1,n1,r0,,\"hello\",59,\n"
                      "m3,u0,n0,r0,,x,1,\n"
                      "m4,u2,n2,r1,,x,0,\n"
                      "m5,u3,n3,r1,,x,61,\n";
    struct cm_dataset d;
    struct cm_params p;
    cm_params_init(&p);
    p.weight = CM_WEIGHT_QUT;
    p.min_participation = 1;
    CHECK(load(csv, "qut", p.kinds, 0, &d) == 0);
    CHECK(d.rows == 5 && d.bad_rows == 0);
    for (int loops = 0; loops < 2; loops++) {
        p.qut_loops = loops;
        struct cm_pairs pairs = {0};
        uint64_t counts[CM_KIND_COUNT] = {0};
        struct cm_network net;
        char err[128];
        CHECK(cm_find_pairs(&d, &p, &pairs, counts) == 0);
        CHECK(counts[CM_KIND_SHARE] == 3); /* m1-m2, m1-m3, m2-m3 */
        CHECK(cm_network_build(&d, &p, &pairs, &net, err, sizeof err) == 0);
        const struct cm_edge *e01 = edge_between(&d, &net, "u0", "u1");
        const struct cm_edge *e10 = edge_between(&d, &net, "u1", "u0");
        const struct cm_edge *e00 = edge_between(&d, &net, "u0", "u0");
        CHECK(e01 && e01->weight == 2);
        CHECK(e10 && e10->weight == 1);
        CHECK(loops ? (e00 && e00->weight == 2) : e00 == NULL);
        CHECK(net.naccounts == 2 && net.nedges == (size_t)(2 + loops));
        cm_network_free(&net);
    }
    p.min_participation = 2; /* u1 has one row: users with < 2 rows are out */
    p.qut_loops = 0;
    struct cm_pairs pairs = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    CHECK(cm_find_pairs(&d, &p, &pairs, counts) == 0);
    CHECK(counts[CM_KIND_SHARE] == 1); /* m1-m3 only */
    cm_pairs_free(&pairs);
    cm_dataset_free(&d);
}

static void test_malformed_rows(void)
{
    const char *csv = HDR "o1,A,c1,0\n"
                          "o1,B,c2,yesterday\n"      /* line 3: timestamp */
                          "o1,C\n"                  /* line 4: too few columns */
                          "o1,,c4,5\n"              /* line 5: empty account */
                          "\"o1\",\"D\",\"c5\",\"7\"\n" /* fine, quoted */
                          "o1,E,\"c6\"x,8\n"         /* line 7: text after quote */
                          "o1,F,\"c7,9\n";           /* line 8: unclosed quote at the end */
    struct cm_dataset d;
    CHECK(load(csv, NULL, 1u << CM_KIND_SHARE, 0, &d) == 0);
    CHECK(d.rows == 7);
    CHECK(d.bad_rows == 5);
    CHECK(d.nbad == 5);
    const uint64_t lines[] = {3, 4, 5, 7, 8};
    for (size_t i = 0; i < 5 && i < d.nbad; i++)
        CHECK_MSG(d.bad[i].line == lines[i], "bad row %zu at line %llu", i,
                  (unsigned long long)d.bad[i].line);
    CHECK(d.shares[CM_KIND_SHARE].n == 2);
    cm_dataset_free(&d);
    CHECK(load(csv, NULL, 1u << CM_KIND_SHARE, 1, &d) == -1); /* --strict */
    CHECK(d.bad_rows == 1 && d.bad[0].line == 3);
    cm_dataset_free(&d);
    /* missing column, empty input */
    CHECK(load("account_id,timestamp\nA,1\n", NULL, 1u << CM_KIND_SHARE, 0, &d) == -1);
    cm_dataset_free(&d);
    CHECK(load("", NULL, 1u << CM_KIND_SHARE, 0, &d) == -1);
    cm_dataset_free(&d);
}

static void test_quoted_fields(void)
{
    /* RFC 4180: commas, doubled quotes and a line break inside quotes; CRLF records */
    const char *csv = HDR "\"o,1\",A,c1,0\r\n\"o,1\",B,\"c\"\"2\",3\r\n\"o,1\",C,\"c\n3\",4\r\n";
    struct cm_dataset d;
    CHECK(load(csv, NULL, 1u << CM_KIND_SHARE, 0, &d) == 0);
    CHECK(d.rows == 3 && d.bad_rows == 0);
    CHECK(d.objects.count == 1 && !strcmp(cm_object_value(&d, 0), "o,1"));
    CHECK(cm_intern_find(&d.contents, "c\"2", 3) != CM_INTERN_FAIL);
    CHECK(cm_intern_find(&d.contents, "c\n3", 3) != CM_INTERN_FAIL);
    cm_dataset_free(&d);
}

static void test_twitter_v2(void)
{
    const char *jsonl =
        "{\"id\":\"1\",\"author_id\":\"a\",\"created_at\":\"2021-01-17T07:56:33.000Z\","
        "\"text\":\"RT @x: Vote NOW\",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":\"99\"}],"
        "\"entities\":{\"hashtags\":[{\"tag\":\"Wahl\"}],\"urls\":[{\"expanded_url\":"
        "\"https://Example.com/a/?utm_source=tw&id=3\"}]}}\n"
        "{\"data\":[{\"id\":\"2\",\"author_id\":\"b\",\"created_at\":\"2021-01-17T07:57:00Z\","
        "\"text\":\"vote now https://t.co/z\",\"referenced_tweets\":[{\"type\":\"retweeted\","
        "\"id\":\"99\"}],\"entities\":{\"hashtags\":[{\"tag\":\"WAHL\"}],\"urls\":[{"
        "\"expanded_url\":\"https://example.com/a?id=3#top\"}]}}]}\n"
        "not json\n";
    struct cm_dataset d;
    unsigned kinds = 1u << CM_KIND_SHARE | 1u << CM_KIND_LINK | 1u << CM_KIND_HASHTAG |
                     1u << CM_KIND_TEXT;
    CHECK(load(jsonl, "twitter-v2", kinds, 0, &d) == 0);
    CHECK(d.rows == 3 && d.bad_rows == 1 && d.bad[0].line == 3);
    for (int k = CM_KIND_SHARE; k <= CM_KIND_TEXT; k++) {
        const struct cm_table *t = &d.shares[k];
        CHECK_MSG(t->n == 2 && t->v[0].object == t->v[1].object, "kind %s", cm_kind_name(k));
    }
    CHECK(d.shares[CM_KIND_SHARE].v[0].time == 1610870193);
    CHECK(d.shares[CM_KIND_SHARE].v[1].time == 1610870220);
    CHECK(!strcmp(cm_object_value(&d, d.shares[CM_KIND_LINK].v[0].object),
                  "https://example.com/a?id=3"));
    CHECK(!strcmp(cm_object_value(&d, d.shares[CM_KIND_TEXT].v[0].object), "vote now"));
    cm_dataset_free(&d);
    /* each tweet of a page is a row: non-tweets in a page never outnumber the rows (fuzz) */
    CHECK(load("{\"data\":[0,\"x\",{\"id\":\"1\"}]}\n{\"data\":[]}\n", "twitter-v2", kinds, 0,
               &d) == 0);
    CHECK_MSG(d.rows == 4 && d.bad_rows == 3, "%llu rows, %llu malformed",
              (unsigned long long)d.rows, (unsigned long long)d.bad_rows);
    cm_dataset_free(&d);
}

static void test_german_wide(void)
{
    const char *csv = "account_id,content_id,url_id,hashtag_id,domain_id,phash_id,timestamp\n"
                      "fb_1,10,5,,7,,100\n"
                      "tw_2,11,5,3,7,,110\n"
                      "tw_3,12,,,,,120\n";
    struct cm_dataset d;
    unsigned kinds = 1u << CM_KIND_LINK | 1u << CM_KIND_HASHTAG | 1u << CM_KIND_DOMAIN |
                     1u << CM_KIND_IMAGE;
    CHECK(load(csv, "german-wide", kinds, 0, &d) == 0);
    CHECK(d.rows == 3 && d.bad_rows == 0);
    CHECK(d.shares[CM_KIND_LINK].n == 2 && d.shares[CM_KIND_HASHTAG].n == 1);
    CHECK(d.shares[CM_KIND_DOMAIN].n == 2 && d.shares[CM_KIND_IMAGE].n == 0);
    CHECK(d.accounts.count == 3); /* a row without objects still names its account */
    cm_dataset_free(&d);
}

/* Hex image hashes within --image-distance join; an id that is not hex stays on its own. */
static void test_image_distance(void)
{
    const char *csv = "account_id,content_id,url_id,hashtag_id,domain_id,phash_id,timestamp\n"
                      "a,1,,,,ffee0011,100\n"
                      "b,2,,,,FFEE0013,110\n"   /* distance 1 from the first */
                      "c,3,,,,00ee0011,120\n"   /* distance 8 */
                      "d,4,,,,zzee0011,130\n";  /* not hex */
    struct cm_ingest_params in;
    char err[128];
    cm_ingest_params_init(&in);
    CHECK(cm_ingest_preset(&in, "german-wide") == 0);
    in.kinds = 1u << CM_KIND_IMAGE;
    for (int dist = -1; dist <= 1; dist += 2) {
        struct cm_dataset d;
        memset(&d, 0, sizeof d);
        in.image_distance = dist;
        CHECK(cm_ingest_buffer(csv, strlen(csv), &in, &d, err, sizeof err) == 0);
        const struct cm_table *t = &d.shares[CM_KIND_IMAGE];
        CHECK(t->n == 4);
        CHECK(t->n == 4 && (t->v[0].object == t->v[1].object) == (dist == 1));
        CHECK(t->n == 4 && t->v[0].object != t->v[2].object && t->v[3].object != t->v[0].object);
        CHECK(t->n == 4 && !strcmp(cm_object_value(&d, t->v[3].object), "zzee0011"));
        cm_dataset_free(&d);
    }
}

/* Near-duplicate texts (one word changed in a long text) become one object; others do not. */
static void test_near_text(void)
{
    const char *csv =
        "account_id,timestamp,text\n"
        "a,0,the minister lied about the budget and the money went to his friends in the north\n"
        "b,5,The minister LIED about the budget and the money went to his friends in the south\n"
        "c,9,a completely different sentence about the weather and football results today\n";
    struct cm_ingest_params in;
    char err[128];
    cm_ingest_params_init(&in);
    in.col = (struct cm_columns){.account = "account_id", .time = "timestamp", .text = "text"};
    in.kinds = 1u << CM_KIND_NEAR_TEXT | 1u << CM_KIND_TEXT;
    struct cm_dataset d;
    memset(&d, 0, sizeof d);
    CHECK(cm_ingest_buffer(csv, strlen(csv), &in, &d, err, sizeof err) == 0);
    const struct cm_table *nt = &d.shares[CM_KIND_NEAR_TEXT], *tx = &d.shares[CM_KIND_TEXT];
    CHECK(nt->n == 3 && tx->n == 3);
    CHECK(nt->n == 3 && nt->v[0].object == nt->v[1].object && nt->v[0].object != nt->v[2].object);
    CHECK(tx->n == 3 && tx->v[0].object != tx->v[1].object); /* exact text differs */
    cm_dataset_free(&d);
}

static void test_url_normalisation(void)
{
    static const char *const table[][2] = {
        {"HTTPS://Example.COM/Path/", "https://example.com/Path"},
        {"http://example.com:80/a", "http://example.com/a"},
        {"https://example.com:443/", "https://example.com"},
        {"https://example.com:8443/", "https://example.com:8443"},
        {"https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"},
        {"https://example.com/a?id=1&fbclid=Z&gclid=Q&b=2", "https://example.com/a?id=1&b=2"},
        {"https://example.com/a#frag", "https://example.com/a"},
        {"  https://example.com/a?utm_campaign=1#x  ", "https://example.com/a"},
        {"example.COM/News/", "example.com/News"},
        {"23678", "23678"},
        {"https://example.com/a?x=utm_source", "https://example.com/a?x=utm_source"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t n = cm_normalize_url(table[i][0], strlen(table[i][0]), out);
        CHECK_MSG(n == strlen(out) && !strcmp(out, table[i][1]), "'%s' -> '%s'", table[i][0],
                  out);
    }
}

static void test_text_and_hashtag_normalisation(void)
{
    char out[256];
    const char *t = "RT @user:  Hello\tWORLD  https://t.co/xyz www.x.org Ünïcode ПРИВЕТ";
    cm_normalize_text(t, strlen(t), out);
    CHECK_MSG(!strcmp(out, "hello world ünïcode привет"), "got '%s'", out);
    cm_normalize_hashtag("#ElectionDay", 12, out);
    CHECK(!strcmp(out, "electionday"));
    CHECK(cm_normalize_text("  @only  ", 9, out) == 0 && out[0] == '\0');
    CHECK(cm_normalize_text("RT is short for retweet", 23, out) == 23); /* no mention: kept */
    CHECK(!strcmp(out, "rt is short for retweet"));
}

static void test_timestamps(void)
{
    int64_t t;
    CHECK(cm_parse_time("1610870193", 10, &t) == 0 && t == 1610870193);
    CHECK(cm_parse_time("1610870193.75", 13, &t) == 0 && t == 1610870193);
    CHECK(cm_parse_time("2021-01-17T07:56:33Z", 20, &t) == 0 && t == 1610870193);
    CHECK(cm_parse_time("2021-01-17 07:56:33", 19, &t) == 0 && t == 1610870193);
    CHECK(cm_parse_time("2021-01-17T09:56:33+02:00", 25, &t) == 0 && t == 1610870193);
    CHECK(cm_parse_time("2021-01-17T07:56:33.123-0100", 28, &t) == 0 && t == 1610873793);
    CHECK(cm_parse_time("1970-01-01T00:00", 16, &t) == 0 && t == 0);
    CHECK(cm_parse_time("2021-13-01T00:00:00Z", 20, &t) == -1);
    CHECK(cm_parse_time("2021-01-17T07:56:33Zjunk", 24, &t) == -1);
    CHECK(cm_parse_time("12x", 3, &t) == -1);
    CHECK(cm_parse_time("", 0, &t) == -1);
    CHECK(cm_parse_time("99999999999999999999", 20, &t) == -1);
}

/* The MPI shape: marks OR-reduced over 4 parts, pairs of each part concatenated and sorted,
 * give the single-process pairs byte for byte. */
static void test_partitioned_equals_single(void)
{
    char *csv = malloc(1 << 20), *p = csv;
    p += sprintf(p, HDR);
    unsigned s = 12345;
    for (int i = 0; i < 3000; i++) {
        s = s * 1103515245u + 12345u;
        p += sprintf(p, "o%u,acc%u,c%d,%u\n", (s >> 8) % 150, (s >> 16) % 120, i,
                     (s >> 4) % 20000);
    }
    struct cm_dataset d;
    struct cm_params prm;
    cm_params_init(&prm);
    prm.window = 120;
    CHECK(load(csv, NULL, prm.kinds, 0, &d) == 0);
    struct cm_pairs single = {0}, merged = {0};
    uint64_t counts[CM_KIND_COUNT] = {0};
    CHECK(cm_find_pairs(&d, &prm, &single, counts) == 0);
    CHECK(single.n > 50);
    struct cm_prepared pr;
    CHECK(cm_prepare(&d, &prm, &pr) == 0);
    uint8_t *marks = calloc(pr.ncontents, 1), *part = malloc(pr.ncontents);
    uint8_t *keep = malloc(pr.ncontents);
    for (int r = 0; r < 4; r++) {
        memset(part, 0, pr.ncontents);
        CHECK(cm_mark_contents(&pr, &prm, CM_KIND_SHARE, r, 4, part) == 0);
        for (uint32_t c = 0; c < pr.ncontents; c++)
            marks[c] |= part[c];
    }
    CHECK(cm_keep_contents(&pr, &prm, CM_KIND_SHARE, marks, keep) == 0);
    for (int r = 0; r < 4; r++)
        CHECK(cm_collect_pairs(&pr, &prm, CM_KIND_SHARE, keep, r, 4, &merged) == 0);
    cm_pairs_sort(&merged);
    CHECK(merged.n == single.n);
    CHECK(merged.n == single.n && !memcmp(merged.v, single.v, single.n * sizeof *single.v));
    cm_prepared_free(&pr);
    cm_pairs_free(&single);
    cm_pairs_free(&merged);
    free(marks);
    free(part);
    free(keep);
    cm_dataset_free(&d);
    free(csv);
}

static char *slurp(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void test_outputs(void)
{
    /* two groups: {A, B, C} pushing o1/o2, {D, E} pushing o9 */
    struct cm_dataset d;
    struct cm_network net;
    struct cm_params prm;
    cm_params_init(&prm);
    prm.percentile = 0; /* as analyse() below: every edge coordinated */
    analyse(HDR "o1,A,a1,0\no1,B,b1,5\no1,C,c1,9\no2,A,a2,100\no2,B,b2,101\no2,C,c2,150\n"
                "o9,D,d1,5000\no9,E,e1,5001\no8,D,d2,7000\no8,E,e2,7030\n",
            60, 2, 0, &d, &net);
    CHECK(net.nedges == 4 && net.naccounts == 5);
    CHECK(net.ncomponents == 2 && net.components[0].size == 3 && net.components[1].size == 2);
    CHECK(net.components[0].nedges == 3 && net.components[0].weight == 6);
    CHECK(net.components[0].first == 0 && net.components[0].last == 150);
    CHECK(net.components[1].ntop == 2 && net.components[1].top_counts[0] == 1);
    char dir[] = "/tmp/um_campaign_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    CHECK(cm_write_outputs(&d, &prm, &net, dir, err, sizeof err) == 0);
    char *edges = slurp(dir, "edges.csv"), *graphml = slurp(dir, "network.graphml");
    char *gexf = slurp(dir, "network.gexf"), *groups = slurp(dir, "groups.csv");
    CHECK(edges && !strncmp(edges, "account1,account2,weight,objects,mean_dt", 40));
    CHECK(edges && strstr(edges, "\nA,B,2,2,3.000,2,2,1.0000,1,share:o1;share:o2\n"));
    CHECK(graphml && strstr(graphml, "<node id=\"E\">") && strstr(graphml, "edgedefault=\"undirected\""));
    CHECK(gexf && strstr(gexf, "source=\"D\" target=\"E\" weight=\"2\""));
    CHECK(groups && strstr(groups, "component,1,3,3,6,1970-01-01T00:00:00Z,1970-01-01T00:02:30Z,"));
    json_error_t jerr;
    char path[512];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_t *sum = json_load_file(path, 0, &jerr);
    CHECK(sum && json_integer_value(json_object_get(json_object_get(sum, "edges"), "count")) == 4);
    json_t *coordinated = json_object_get(sum, "coordinated");
    CHECK(json_integer_value(json_object_get(coordinated, "edges")) == 4);
    CHECK(json_integer_value(json_object_get(coordinated, "accounts")) == 5);
    CHECK(json_is_null(json_object_get(coordinated, "threshold")));
    CHECK(json_integer_value(json_object_get(coordinated, "components")) == 2);
    CHECK(sum && json_integer_value(json_object_get(json_object_get(json_object_get(sum, "edges"),
                                                                    "weight_histogram"), "2")) == 4);
    json_decref(sum);
    char *text = cm_summary_text(&d, &prm, &net);
    CHECK(text && strstr(text, "5 accounts by 4 edges"));
    free(text);
    free(edges), free(graphml), free(gexf), free(groups);
    const char *names[] = {"edges.csv", "accounts.csv", "groups.csv", "network.graphml",
                           "network.gexf", "summary.json"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK(unlink(path) == 0);
    }
    rmdir(dir);
    cm_network_free(&net);
    cm_dataset_free(&d);
}

static void test_kinds_parse(void)
{
    unsigned m;
    char err[128];
    CHECK(cm_kinds_parse("share,near-text", &m, err, sizeof err) == 0);
    CHECK(m == (1u << CM_KIND_SHARE | 1u << CM_KIND_NEAR_TEXT));
    CHECK(cm_kinds_parse("share,nope", &m, err, sizeof err) == -1 && strstr(err, "nope"));
    CHECK(cm_kinds_parse("", &m, err, sizeof err) == -1);
}

static const struct um_test_case cases[] = {
    {"window edges inclusive", test_window_inclusive},
    {"loops removed", test_loops_removed},
    {"participation steps 1 and 4", test_participation_steps},
    {"edge-weight percentile (type 7)", test_percentile_filter},
    {"unique rows", test_unique_rows},
    {"hot object stays linear", test_hot_object_linear},
    {"QUT directed weight", test_qut_directed_weight},
    {"malformed rows", test_malformed_rows},
    {"RFC 4180 quoting", test_quoted_fields},
    {"twitter-v2 preset", test_twitter_v2},
    {"german-wide preset", test_german_wide},
    {"image hashes by Hamming distance", test_image_distance},
    {"near-duplicate texts", test_near_text},
    {"URL normalisation", test_url_normalisation},
    {"text and hashtag normalisation", test_text_and_hashtag_normalisation},
    {"timestamps", test_timestamps},
    {"partitioned run equals single", test_partitioned_equals_single},
    {"outputs", test_outputs},
    {"kinds list", test_kinds_parse},
};
UM_TEST_MAIN(cases)
