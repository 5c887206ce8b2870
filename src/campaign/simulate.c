/* `unmask campaign simulate`: synthetic posts with planted coordinated groups.
 *
 * Our own design, in the spirit of CooRTweet's simulate_data (a known coordinated set beside
 * uncoordinated activity), made for recovery tests and the 10 M benchmark. Output: CSV
 *     content_id,account_id,timestamp,object_id,url,hashtag,text,image
 * one row per post, an empty field meaning "no object of that kind", UNIX seconds, rows in time
 * order (the background is a Poisson process, the planted rows are merged into it).
 *
 * Background (N minus the planted rows): posts arrive at a constant rate over --days days from
 * 2024-01-01 00:00:00 UTC. The author is account floor(A u^1.5) (u uniform in [0, 1)), i.e.
 * P(rank < x) = (x / A)^(2/3): a power law in which the most active accounts post about A^(1/3)
 * times more than the median one. Each post carries each selected kind independently:
 *   share 0.5   retweet of object floor(O u^3), O = N / 5: a heavy tail of object popularity;
 *               besides, --hot-objects H objects get about --hot-shares M shares each
 *               (default 100,000, capped at N / 100), spread over the whole period, each
 *               account sharing a hot object at most once (as a repost is: an author who
 *               already did passes the share to a uniformly drawn account);
 *   link 0.25   one of N / 10 URLs, popularity u^3, written with random variants that URL
 *               normalisation must undo (upper-case scheme/host, utm_* / fbclid parameters,
 *               a trailing slash, a #fragment);
 *   hashtag 0.2 one of 5,000 hashtags, popularity u^3, random capitalisation;
 *   text 0.35   10-24 pseudo-words from a 5,000-word vocabulary (popularity u^2): almost all
 *               distinct and far from each other in Jaccard terms;
 *   image 0.05  one of N / 50 64-bit image hashes, popularity u^3, each copy with 0-1 bits
 *               flipped (re-encoding), as 16 hex digits.
 * Planted groups: G groups of S accounts drawn at random from all accounts (so they also post
 * background content). Each group runs E coordination events (--events, default 12) at random
 * times; the kind of event e of group g cycles through the selected kinds. At an event every
 * member takes part with probability 0.8 (the first member always), posting within [t0, t0 +
 * W) so every pair of participants is within the window: the same fresh object id, the same
 * fresh URL (each copy in its own variant), the same fresh hashtag, a fresh image hash with
 * 0-2 bits flipped per copy, or a near-duplicate of a fresh 22-28-word template (the first
 * member posts it as is; others append one word or replace one word, which keeps every copy at
 * 3-word-shingle Jaccard >= 0.76 from the template).
 * --truth lists account_id,group_id for every planted account. The same arguments and seed
 * always give the same bytes. */
#include "campaign/simulate.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/util.h"

enum {
    SIM_SHARE = CM_SIM_SHARE,
    SIM_LINK = CM_SIM_LINK,
    SIM_HASHTAG = CM_SIM_HASHTAG,
    SIM_TEXT = CM_SIM_TEXT,
    SIM_IMAGE = CM_SIM_IMAGE,
    SIM_NKINDS = CM_SIM_NKINDS
};
static const char *const sim_kind_names[SIM_NKINDS] = {"share", "link", "hashtag", "text",
                                                       "image"};
static const double sim_kind_prob[SIM_NKINDS] = {0.5, 0.25, 0.2, 0.35, 0.05};

enum {
    SIM_VOCAB = 5000,
    SIM_HASHTAGS = 5000,
    SIM_MAX_PLANTED = 10000000, /* planted rows are sorted in memory: 24 B each */
};
#define SIM_MAX_POSTS 10000000000ULL
#define SIM_MAX_ACCOUNTS 2147483647ULL /* account ids stay below CM_INTERN_MAX */
#define SIM_MAX_HOT_BITS (1ULL << 31) /* 256 MB; more accounts x hot objects: no dedup */
#define SIM_EPOCH 1704067200LL /* 2024-01-01T00:00:00Z */
#define SIM_PARTICIPATION 0.8

/* ---- random numbers: xoshiro256** (Blackman & Vigna 2018), seeded by splitmix64 ---- */
struct rng {
    uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = cm_mix64(seed += 0x9e3779b97f4a7c15ULL);
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_unit(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

static uint64_t rng_below(struct rng *r, uint64_t n) /* n >= 1; bias < n / 2^64 */
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Index in [0, n) with P(index < x) = (x / n)^(1 / power): a power-law popularity. */
static uint64_t rng_skewed(struct rng *r, uint64_t n, double power)
{
    uint64_t i = (uint64_t)((double)n * pow(rng_unit(r), power));
    return i < n ? i : n - 1;
}

/* ---- opaque ids: a bijection of [0, n) so that id order reveals nothing ---- */
struct perm {
    uint64_t n, mul, add;
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void perm_init(struct perm *p, uint64_t n, uint64_t salt)
{
    p->n = n;
    p->mul = cm_mix64(salt) % n | 1;
    while (gcd(p->mul, n) != 1)
        p->mul += 2;
    p->add = cm_mix64(salt ^ 0x5bd1e995ULL) % n;
}

static uint64_t perm_apply(const struct perm *p, uint64_t x)
{
    return (uint64_t)(((unsigned __int128)x * p->mul + p->add) % p->n);
}

/* ---- buffered output ---- */
struct out {
    FILE *f;
    char buf[1 << 16];
    size_t n;
    int failed;
};

static void out_flush(struct out *o)
{
    if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
        o->failed = 1;
    o->n = 0;
}

static void out_bytes(struct out *o, const char *s, size_t len)
{
    if (o->n + len > sizeof o->buf)
        out_flush(o);
    if (len > sizeof o->buf) {
        if (fwrite(s, 1, len, o->f) != len)
            o->failed = 1;
        return;
    }
    memcpy(o->buf + o->n, s, len);
    o->n += len;
}

static void out_str(struct out *o, const char *s) { out_bytes(o, s, strlen(s)); }

static void out_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_bytes(o, tmp + i, sizeof tmp - (size_t)i);
}

static void out_prefixed(struct out *o, const char *prefix, uint64_t v)
{
    out_str(o, prefix);
    out_u64(o, v);
}

/* ---- the model ---- */
struct sim {
    struct cm_sim_params o;
    struct rng rng;
    uint64_t nobj, nurl, nimg, background, period;
    struct perm acc_perm, obj_perm, url_perm, tag_perm;
    uint64_t *planted_accounts; /* groups * group_size account indices */
    unsigned char *planted_flag;
    unsigned char *hot_seen; /* bit account * H + h: the account shared hot object h */
    int kinds[SIM_NKINDS], nkinds; /* selected kinds, in order */
};

/* Pseudo-word for a vocabulary index: two consonant-vowel syllables (unique below 105^2)
 * and a third for every third index. */
static size_t vocab_word(uint64_t idx, char *w)
{
    static const char cons[] = "bcdfghjklmnpqrstvwxyz", vow[] = "aeiou";
    uint64_t s1 = idx % 105, s2 = idx / 105 % 105, s3 = idx * 7 % 105;
    size_t n = 0;
    w[n++] = cons[s1 / 5];
    w[n++] = vow[s1 % 5];
    w[n++] = cons[s2 / 5];
    w[n++] = vow[s2 % 5];
    if (idx % 3 == 0) {
        w[n++] = cons[s3 / 5];
        w[n++] = vow[s3 % 5];
    }
    return n;
}

static void out_word(struct out *o, uint64_t idx)
{
    char w[8];
    out_bytes(o, w, vocab_word(idx, w));
}

static void out_url(struct out *o, struct rng *r, const struct sim *s, uint64_t idx)
{
    uint64_t id = perm_apply(&s->url_perm, idx);
    double u = rng_unit(r);
    out_str(o, u < 0.1 ? "HTTPS://SITE" : "https://site");
    out_u64(o, id % 997);
    out_str(o, u < 0.1 ? ".EXAMPLE/story/" : ".example/story/");
    out_u64(o, id);
    if (rng_unit(r) < 0.15)
        out_str(o, "/");
    double v = rng_unit(r);
    if (v < 0.2)
        out_str(o, "?utm_source=twitter&utm_medium=social");
    else if (v < 0.3)
        out_str(o, "?fbclid=IwAR0x");
    if (rng_unit(r) < 0.05)
        out_str(o, "#top");
}

static void out_hashtag(struct out *o, struct rng *r, const struct sim *s, uint64_t idx)
{
    out_str(o, rng_unit(r) < 0.3 ? "#Topic" : "#topic");
    out_u64(o, perm_apply(&s->tag_perm, idx));
}

static void out_image(struct out *o, struct rng *r, uint64_t base, int max_flips)
{
    static const char hex[] = "0123456789abcdef";
    int flips = (int)rng_below(r, (uint64_t)max_flips + 1);
    for (int f = 0; f < flips; f++)
        base ^= 1ULL << rng_below(r, 64);
    char buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = hex[(base >> (60 - 4 * i)) & 15];
    out_bytes(o, buf, 16);
}

static uint64_t image_hash(const struct sim *s, uint64_t idx)
{
    return cm_mix64(s->o.seed * 0x2545f4914f6cdd1dULL ^ (idx + 0x1d0f));
}

static void out_background_text(struct out *o, struct rng *r)
{
    int words = 10 + (int)rng_below(r, 15);
    for (int i = 0; i < words; i++) {
        if (i)
            out_str(o, " ");
        out_word(o, rng_skewed(r, SIM_VOCAB, 2.0));
    }
}

/* ---- rows ---- */
struct row_fields {
    int has[SIM_NKINDS];
    uint64_t idx[SIM_NKINDS];
};

static void write_row(struct out *o, struct sim *s, uint64_t row, uint64_t account, int64_t t,
                      const struct row_fields *f, struct rng *r,
                      void (*text)(struct out *, struct rng *, const void *), const void *tctx,
                      int image_flips)
{
    out_prefixed(o, "c", row);
    out_prefixed(o, ",u", perm_apply(&s->acc_perm, account));
    out_str(o, ",");
    out_u64(o, (uint64_t)(SIM_EPOCH + t));
    out_str(o, ",");
    if (f->has[SIM_SHARE])
        out_prefixed(o, "o", perm_apply(&s->obj_perm, f->idx[SIM_SHARE]));
    out_str(o, ",");
    if (f->has[SIM_LINK])
        out_url(o, r, s, f->idx[SIM_LINK]);
    out_str(o, ",");
    if (f->has[SIM_HASHTAG])
        out_hashtag(o, r, s, f->idx[SIM_HASHTAG]);
    out_str(o, ",");
    if (f->has[SIM_TEXT])
        text(o, r, tctx);
    out_str(o, ",");
    if (f->has[SIM_IMAGE])
        out_image(o, r, image_hash(s, f->idx[SIM_IMAGE]), image_flips);
    out_str(o, "\n");
}

static void background_text(struct out *o, struct rng *r, const void *ctx)
{
    (void)ctx;
    out_background_text(o, r);
}

/* A hot share. A post is reposted at most once per account, so an author who already shared
 * the hot object hands the share to another account drawn uniformly (up to 8 tries); this keeps
 * both the object's share count and "no background account repeats a hot object". */
static int hot_share(struct sim *s, uint64_t *account, struct row_fields *f)
{
    uint64_t h = rng_below(&s->rng, s->o.hot_objects), a = *account;
    for (int tries = 0; s->hot_seen; tries++) {
        uint64_t bit = a * s->o.hot_objects + h;
        if (!(s->hot_seen[bit / 8] & (1u << (bit % 8)))) {
            s->hot_seen[bit / 8] |= (unsigned char)(1u << (bit % 8));
            break;
        }
        if (tries == 8)
            return 0;
        a = rng_below(&s->rng, s->o.accounts);
    }
    *account = a;
    f->has[SIM_SHARE] = 1;
    f->idx[SIM_SHARE] = s->o.posts / 5 + 1 + h;
    return 1;
}

static void background_fields(struct sim *s, uint64_t *account, struct row_fields *f)
{
    struct rng *r = &s->rng;
    memset(f, 0, sizeof *f);
    uint64_t base_obj = s->o.posts / 5 + 1;
    double p_hot = s->o.hot_objects ? (double)(s->o.hot_objects * s->o.hot_shares) /
                                          (double)s->background : 0.0;
    if ((s->o.kinds & 1u << SIM_SHARE) && rng_unit(r) < p_hot && hot_share(s, account, f))
        return;
    for (int k = 0; k < SIM_NKINDS; k++) {
        if (!(s->o.kinds & 1u << k) || rng_unit(r) >= sim_kind_prob[k])
            continue;
        f->has[k] = 1;
        if (k == SIM_SHARE)
            f->idx[k] = rng_skewed(r, base_obj, 3.0);
        else if (k == SIM_LINK)
            f->idx[k] = rng_skewed(r, s->o.posts / 10 + 1, 3.0);
        else if (k == SIM_HASHTAG)
            f->idx[k] = rng_skewed(r, SIM_HASHTAGS, 3.0);
        else if (k == SIM_IMAGE)
            f->idx[k] = rng_skewed(r, s->o.posts / 50 + 1, 3.0);
    }
}

/* ---- planted events ---- */
struct planted {
    int64_t t;
    uint32_t group, event, member;
};

static int cmp_planted(const void *a, const void *b)
{
    const struct planted *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    if (x->group != y->group)
        return (x->group > y->group) - (x->group < y->group);
    if (x->event != y->event)
        return (x->event > y->event) - (x->event < y->event);
    return (x->member > y->member) - (x->member < y->member);
}

/* Per-(group, event[, member]) generators, independent of the row order. */
static void event_rng(const struct sim *s, struct rng *r, uint64_t g, uint64_t e, uint64_t m)
{
    rng_seed(r, cm_mix64(s->o.seed ^ 0x706c616e74ULL) ^ cm_mix64((g << 40) ^ (e << 20) ^ m));
}

static int plant_events(struct sim *s, struct planted **out, size_t *nout)
{
    size_t cap = (size_t)(s->o.groups * s->o.events * s->o.group_size), n = 0;
    struct planted *v = malloc((cap ? cap : 1) * sizeof *v);
    if (!v)
        return -1;
    for (uint64_t g = 0; g < s->o.groups; g++)
        for (uint64_t e = 0; e < s->o.events; e++) {
            struct rng r;
            event_rng(s, &r, g, e, UINT32_MAX);
            int64_t t0 = (int64_t)rng_below(&r, s->period - s->o.window);
            for (uint64_t m = 0; m < s->o.group_size; m++) {
                if (m > 0 && rng_unit(&r) >= SIM_PARTICIPATION)
                    continue;
                v[n++] = (struct planted){t0 + (int64_t)rng_below(&r, s->o.window),
                                          (uint32_t)g, (uint32_t)e, (uint32_t)m};
            }
        }
    qsort(v, n, sizeof *v, cmp_planted);
    *out = v;
    *nout = n;
    return 0;
}

struct text_variant {
    const struct sim *s;
    uint64_t g, e, m;
};

/* The event's template (22-28 words) and member m's near-duplicate of it. */
static void planted_text(struct out *o, struct rng *r, const void *ctx)
{
    const struct text_variant *tv = ctx;
    struct rng tr;
    event_rng(tv->s, &tr, tv->g, tv->e, UINT32_MAX - 1);
    int words = 22 + (int)rng_below(&tr, 7);
    uint64_t w[28];
    for (int i = 0; i < words; i++)
        w[i] = rng_below(&tr, SIM_VOCAB);
    int append = tv->m > 0 && rng_unit(r) < 0.5;
    if (tv->m > 0 && !append)
        w[rng_below(r, (uint64_t)words)] = rng_below(r, SIM_VOCAB);
    for (int i = 0; i < words; i++) {
        if (i)
            out_str(o, " ");
        out_word(o, w[i]);
    }
    if (append) {
        out_str(o, " ");
        out_word(o, rng_below(r, SIM_VOCAB));
    }
}

static void write_planted(struct out *o, struct sim *s, uint64_t row, const struct planted *p)
{
    uint64_t ge = (uint64_t)p->group * s->o.events + p->event;
    struct row_fields f;
    memset(&f, 0, sizeof f);
    int kind = s->kinds[(p->group + p->event) % (uint32_t)s->nkinds];
    f.has[kind] = 1;
    uint64_t fresh[SIM_NKINDS] = {s->nobj - s->o.groups * s->o.events,
                                  s->nurl - s->o.groups * s->o.events, SIM_HASHTAGS,
                                  0, s->nimg - s->o.groups * s->o.events};
    f.idx[kind] = fresh[kind] + ge;
    struct rng r;
    event_rng(s, &r, p->group, p->event, p->member);
    struct text_variant tv = {s, p->group, p->event, p->member};
    uint64_t account = s->planted_accounts[(uint64_t)p->group * s->o.group_size + p->member];
    write_row(o, s, row, account, p->t, &f, &r, planted_text, &tv, 2);
}

/* ---- setup ---- */
static int choose_planted_accounts(struct sim *s)
{
    uint64_t n = s->o.groups * s->o.group_size;
    s->planted_accounts = malloc((n ? n : 1) * sizeof *s->planted_accounts);
    s->planted_flag = calloc(s->o.accounts / 8 + 1, 1);
    if (!s->planted_accounts || !s->planted_flag)
        return -1;
    struct rng r;
    rng_seed(&r, s->o.seed ^ 0x6163636f756e74ULL);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a;
        do
            a = rng_below(&r, s->o.accounts);
        while (s->planted_flag[a / 8] & (1u << (a % 8)));
        s->planted_flag[a / 8] |= (unsigned char)(1u << (a % 8));
        s->planted_accounts[i] = a;
    }
    return 0;
}

static int sim_setup(struct sim *s, size_t planted_rows)
{
    const struct cm_sim_params *o = &s->o;
    uint64_t ge = o->groups * o->events;
    s->background = o->posts - planted_rows;
    s->nobj = o->posts / 5 + 1 + o->hot_objects + ge;
    s->nurl = o->posts / 10 + 1 + ge;
    s->nimg = o->posts / 50 + 1 + ge;
    perm_init(&s->acc_perm, o->accounts, o->seed ^ 1);
    perm_init(&s->obj_perm, s->nobj, o->seed ^ 2);
    perm_init(&s->url_perm, s->nurl, o->seed ^ 3);
    perm_init(&s->tag_perm, SIM_HASHTAGS + ge, o->seed ^ 4);
    rng_seed(&s->rng, o->seed);
    if (o->accounts * o->hot_objects <= SIM_MAX_HOT_BITS) {
        s->hot_seen = calloc(o->accounts * o->hot_objects / 8 + 1, 1);
        if (!s->hot_seen)
            return -1;
    }
    s->nkinds = 0;
    for (int k = 0; k < SIM_NKINDS; k++)
        if (o->kinds & 1u << k)
            s->kinds[s->nkinds++] = k;
    return choose_planted_accounts(s);
}

/* Background rows (a Poisson process) merged with the time-sorted planted rows. */
static void write_posts(struct out *o, struct sim *s, const struct planted *pl, size_t npl)
{
    out_str(o, "content_id,account_id,timestamp,object_id,url,hashtag,text,image\n");
    double rate = (double)s->background / (double)s->period, t = 0.0;
    size_t next_pl = 0;
    uint64_t row = 0;
    for (uint64_t b = 0; b < s->background && !o->failed; b++) {
        t += -log(1.0 - rng_unit(&s->rng)) / rate;
        int64_t ts = (int64_t)t;
        while (next_pl < npl && pl[next_pl].t <= ts)
            write_planted(o, s, row++, &pl[next_pl++]);
        uint64_t account = rng_skewed(&s->rng, s->o.accounts, 1.5);
        struct row_fields f;
        background_fields(s, &account, &f);
        write_row(o, s, row++, account, ts, &f, &s->rng, background_text, NULL, 1);
    }
    while (next_pl < npl)
        write_planted(o, s, row++, &pl[next_pl++]);
    out_flush(o);
}

static int write_truth(struct sim *s, FILE *f)
{
    struct out *o = malloc(sizeof *o);
    if (!o)
        return -1;
    *o = (struct out){.f = f};
    out_str(o, "account_id,group_id\n");
    for (uint64_t g = 0; g < s->o.groups; g++)
        for (uint64_t m = 0; m < s->o.group_size; m++) {
            out_prefixed(o, "u",
                         perm_apply(&s->acc_perm, s->planted_accounts[g * s->o.group_size + m]));
            out_str(o, ",");
            out_u64(o, g + 1);
            out_str(o, "\n");
        }
    out_flush(o);
    int failed = o->failed;
    free(o);
    return failed ? -1 : 0;
}

/* ---- parameters ---- */
void cm_sim_params_init(struct cm_sim_params *p)
{
    *p = (struct cm_sim_params){.posts = 0, .accounts = CM_SIM_AUTO, .groups = 10,
                                .group_size = 8, .events = 12, .window = 60, .days = 30,
                                .hot_objects = 2, .hot_shares = CM_SIM_AUTO, .seed = 1,
                                .kinds = 1u << SIM_SHARE | 1u << SIM_LINK | 1u << SIM_TEXT};
}

int cm_sim_kinds_parse(const char *list, unsigned *mask)
{
    *mask = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (int k = 0; k < SIM_NKINDS; k++)
            if (strlen(sim_kind_names[k]) == len && strncmp(p, sim_kind_names[k], len) == 0) {
                *mask |= 1u << k;
                found = 1;
            }
        if (!found)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return *mask ? 0 : -1;
}

struct range {
    const char *name;
    uint64_t lo, hi;
    size_t offset;
};

/* Bounds that keep every product below 2^63 and the planted rows sortable in memory. */
static const struct range ranges[] = {
    {"posts", 1, SIM_MAX_POSTS, offsetof(struct cm_sim_params, posts)},
    {"accounts", 2, SIM_MAX_ACCOUNTS, offsetof(struct cm_sim_params, accounts)},
    {"groups", 0, 1000000, offsetof(struct cm_sim_params, groups)},
    {"group-size", 2, 100000, offsetof(struct cm_sim_params, group_size)},
    {"events", 1, 1000000, offsetof(struct cm_sim_params, events)},
    {"window", 1, 86400, offsetof(struct cm_sim_params, window)},
    {"days", 1, 3650, offsetof(struct cm_sim_params, days)},
    {"hot-objects", 0, 1000, offsetof(struct cm_sim_params, hot_objects)},
    {"hot-shares", 0, SIM_MAX_POSTS, offsetof(struct cm_sim_params, hot_shares)},
};

/* The first violated rule of a resolved parameter set, or NULL. */
static const char *inconsistency(const struct cm_sim_params *o)
{
    if (!o->kinds || o->kinds >> SIM_NKINDS)
        return "kinds must be a non-empty subset of share,link,hashtag,text,image";
    if (o->groups * o->group_size > o->accounts / 2)
        return "groups x group-size must be at most half of the accounts";
    if (o->groups * o->events * o->group_size > SIM_MAX_PLANTED)
        return "groups x events x group-size must be at most 10,000,000";
    if (o->groups * o->events * o->group_size > o->posts / 2)
        return "planted rows (groups x events x group-size) must be at most half of the posts";
    if (o->window >= o->days * 86400)
        return "the window must be shorter than the period (days)";
    if (o->hot_objects * o->hot_shares > o->posts / 2)
        return "hot-objects x hot-shares must be at most half of the posts";
    return NULL;
}

int cm_sim_check(struct cm_sim_params *p, char *err, size_t errlen)
{
    if (p->accounts == CM_SIM_AUTO)
        p->accounts = p->posts / 20 > 1000 ? p->posts / 20 : 1000;
    if (p->accounts > SIM_MAX_ACCOUNTS)
        p->accounts = SIM_MAX_ACCOUNTS;
    if (p->hot_shares == CM_SIM_AUTO)
        p->hot_shares = p->posts / 100 < 100000 ? p->posts / 100 : 100000;
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
        uint64_t v = *(const uint64_t *)(const void *)((const char *)p + ranges[k].offset);
        if (v < ranges[k].lo || v > ranges[k].hi) {
            snprintf(err, errlen, "%s must be an integer in %llu..%llu", ranges[k].name,
                     (unsigned long long)ranges[k].lo, (unsigned long long)ranges[k].hi);
            return -1;
        }
    }
    const char *why = inconsistency(p);
    if (why)
        snprintf(err, errlen, "%s", why);
    return why ? -1 : 0;
}

/* ---- the generator ---- */
static int generate(struct sim *s, FILE *posts, FILE *truth, char *err, size_t errlen)
{
    struct planted *pl = NULL;
    size_t npl = 0;
    s->period = s->o.days * 86400;
    struct out *o = malloc(sizeof *o);
    if (!o || plant_events(s, &pl, &npl) != 0 || sim_setup(s, npl) != 0) {
        free(o);
        free(pl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *o = (struct out){.f = posts};
    write_posts(o, s, pl, npl);
    int rc = 0;
    if (o->failed) {
        snprintf(err, errlen, "cannot write the posts");
        rc = -1;
    } else if (truth && write_truth(s, truth) != 0) {
        snprintf(err, errlen, "cannot write the truth table");
        rc = -1;
    }
    free(o);
    free(pl);
    return rc;
}

int cm_simulate(const struct cm_sim_params *p, FILE *posts, FILE *truth, char *err,
                size_t errlen)
{
    struct sim s;
    memset(&s, 0, sizeof s);
    s.o = *p;
    if (cm_sim_check(&s.o, err, errlen))
        return CM_SIM_INVALID;
    int rc = generate(&s, posts, truth, err, errlen);
    free(s.planted_accounts);
    free(s.planted_flag);
    free(s.hot_seen);
    return rc;
}
