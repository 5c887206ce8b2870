/* The generator of `unmask campaign simulate` (campaign/simulate.h): determinism by seed, row
 * counts, time order, the planted structure (every event's copies by group members within the window, on
 * fresh objects nobody else shares; near-duplicate texts clustering per event), the hot
 * objects, parameter checks and write errors (the command itself: tests/campaign_cli.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/neardup.h"
#include "campaign/simulate.h"
#include "check.h"

enum { F_CONTENT, F_ACCOUNT, F_TIME, F_OBJECT, F_URL, F_HASHTAG, F_TEXT, F_IMAGE, F_COUNT };

static char tmp_dir[256];

static void remove_tmp_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
}

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    if (!tmp_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/um_sim_%ld", base ? base : "/tmp", (long)getpid());
        if (mkdir(tmp_dir, 0700) == 0)
            atexit(remove_tmp_dir);
    }
    next = (next + 1) % 4;
    snprintf(path[next], sizeof path[next], "%s/%s", tmp_dir, name);
    return path[next];
}

/* The default parameters with posts and seed set (the tests change the rest). */
static struct cm_sim_params params(uint64_t posts)
{
    struct cm_sim_params p;
    cm_sim_params_init(&p);
    p.posts = posts;
    return p;
}

/* cm_simulate into files (truth may be NULL); its return value. */
static int simulate(const struct cm_sim_params *p, const char *posts, const char *truth)
{
    FILE *f = fopen(posts, "w"), *t = truth ? fopen(truth, "w") : NULL;
    char err[200] = "";
    int rc = f && (t || !truth) ? cm_simulate(p, f, t, err, sizeof err) : -3;
    if (f)
        CHECK(fclose(f) == 0);
    if (t)
        CHECK(fclose(t) == 0);
    CHECK(rc == 0 || err[0]);
    return rc;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Rows of a simulated file: fields split in place. */
struct rows {
    char *data;
    char *(*f)[F_COUNT];
    size_t n;
};

static int parse_rows(const char *path, struct rows *r)
{
    size_t len;
    r->data = read_all(path, &len);
    if (!r->data)
        return -1;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += r->data[i] == '\n';
    r->f = calloc(lines + 1, sizeof *r->f);
    r->n = 0;
    char *save = NULL, *line = strtok_r(r->data, "\n", &save); /* header */
    if (!line || strcmp(line, "content_id,account_id,timestamp,object_id,url,hashtag,text,image"))
        return -1;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *p = line;
        for (int k = 0; k < F_COUNT; k++) {
            r->f[r->n][k] = p;
            char *comma = strchr(p, ',');
            if (k < F_COUNT - 1) {
                if (!comma)
                    return -1;
                *comma = '\0';
                p = comma + 1;
            } else if (comma) {
                return -1;
            }
        }
        r->n++;
    }
    return 0;
}

static void rows_free(struct rows *r)
{
    free(r->data);
    free(r->f);
}

/* truth.csv: account -> group (linear lookups; the tests plant a few dozen accounts). */
struct truth {
    char *data;
    char *account[256];
    int group[256];
    int n;
};

static int parse_truth(const char *path, struct truth *t)
{
    size_t len;
    t->data = read_all(path, &len);
    t->n = 0;
    if (!t->data)
        return -1;
    char *save = NULL, *line = strtok_r(t->data, "\n", &save);
    if (!line || strcmp(line, "account_id,group_id") != 0)
        return -1;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL && t->n < 256) {
        char *comma = strchr(line, ',');
        if (!comma)
            return -1;
        *comma = '\0';
        t->account[t->n] = line;
        t->group[t->n++] = atoi(comma + 1);
    }
    return 0;
}

static int truth_group(const struct truth *t, const char *account)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->account[i], account) == 0)
            return t->group[i];
    return 0;
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *x = read_all(a, &la), *y = read_all(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static void test_deterministic_by_seed(void)
{
    const char *p1 = tmp_path("d1.csv"), *t1 = tmp_path("d1.truth");
    struct cm_sim_params a = params(20000);
    a.seed = 7;
    CHECK(cm_sim_kinds_parse("share,link,hashtag,text,image", &a.kinds) == 0);
    CHECK(simulate(&a, p1, t1) == 0);
    const char *p2 = tmp_path("d2.csv"), *t2 = tmp_path("d2.truth");
    CHECK(simulate(&a, p2, t2) == 0);
    CHECK(files_equal(p1, p2));
    CHECK(files_equal(t1, t2));
    a.seed = 8;
    CHECK(simulate(&a, p2, t2) == 0);
    CHECK(!files_equal(p1, p2));
    CHECK(!files_equal(t1, t2));
}

static void test_counts_and_time_order(void)
{
    const char *p = tmp_path("c.csv"), *t = tmp_path("c.truth");
    struct cm_sim_params a = params(30000);
    a.groups = 5;
    a.group_size = 6;
    CHECK(simulate(&a, p, t) == 0);
    struct rows r;
    CHECK(parse_rows(p, &r) == 0);
    CHECK(r.n == 30000);
    long long prev = 0;
    int ordered = 1, empty_hashtags = 1;
    for (size_t i = 0; i < r.n; i++) {
        long long ts = atoll(r.f[i][F_TIME]);
        if (ordered && !(ts >= prev && ts >= 1704067200LL))
            fprintf(stderr, "  row %zu: %lld after %lld\n", i, ts, prev);
        ordered &= ts >= prev && ts >= 1704067200LL;
        prev = ts;
        empty_hashtags &= r.f[i][F_HASHTAG][0] == '\0' && r.f[i][F_IMAGE][0] == '\0';
    }
    CHECK(ordered);
    CHECK(empty_hashtags); /* default kinds: share, link, text */
    struct truth tr;
    CHECK(parse_truth(t, &tr) == 0);
    CHECK(tr.n == 30);
    int per_group[6] = {0};
    for (int i = 0; i < tr.n; i++)
        if (tr.group[i] >= 1 && tr.group[i] <= 5)
            per_group[tr.group[i]]++;
    for (int g = 1; g <= 5; g++)
        CHECK(per_group[g] == 6);
    free(tr.data);
    rows_free(&r);
}

/* Share-only events: every event of every group is one fresh object shared by >= 2 members
 * within the window and by nobody else (background objects shared by two members of a group
 * by chance also have other sharers, so exactly 10 objects per group qualify). */
static void test_planted_shares(void)
{
    const char *p = tmp_path("s.csv"), *t = tmp_path("s.truth");
    struct cm_sim_params a = params(40000);
    a.groups = 4;
    a.group_size = 8;
    a.events = 10;
    a.window = 30;
    a.kinds = 1u << CM_SIM_SHARE;
    CHECK(simulate(&a, p, t) == 0);
    struct rows r;
    struct truth tr;
    CHECK(parse_rows(p, &r) == 0 && parse_truth(t, &tr) == 0);
    /* Objects shared by a planted account: gather the rows of each such object. */
    int events_ok[5] = {0};
    for (size_t i = 0; i < r.n; i++) {
        int g = truth_group(&tr, r.f[i][F_ACCOUNT]);
        const char *obj = r.f[i][F_OBJECT];
        if (!g || !obj[0])
            continue;
        int members = 0, others = 0, first = 1;
        long long lo = 0, hi = 0, earliest = 1;
        for (size_t j = 0; j < r.n; j++) {
            if (strcmp(r.f[j][F_OBJECT], obj) != 0)
                continue;
            earliest &= j >= i;
            long long ts = atoll(r.f[j][F_TIME]);
            lo = first || ts < lo ? ts : lo;
            hi = first || ts > hi ? ts : hi;
            first = 0;
            if (truth_group(&tr, r.f[j][F_ACCOUNT]) == g)
                members++;
            else
                others++;
        }
        if (!earliest || members < 2)
            continue; /* a background share, or not the object's first row */
        if (others == 0 && hi - lo < 30)
            events_ok[g]++;
    }
    for (int g = 1; g <= 4; g++)
        CHECK_MSG(events_ok[g] == 10, "group %d: %d events of 10", g, events_ok[g]);
    free(tr.data);
    rows_free(&r);
}

/* Text-only events: the distinct texts of each group's posts fall into near-duplicate
 * clusters (one per event), while background texts stay apart. */
static void test_planted_texts_are_near_duplicates(void)
{
    const char *p = tmp_path("t.csv"), *t = tmp_path("t.truth");
    struct cm_sim_params a = params(20000);
    a.groups = 3;
    a.group_size = 6;
    a.events = 5;
    a.kinds = 1u << CM_SIM_TEXT;
    CHECK(simulate(&a, p, t) == 0);
    struct rows r;
    struct truth tr;
    CHECK(parse_rows(p, &r) == 0 && parse_truth(t, &tr) == 0);
    const char **texts = calloc(r.n, sizeof *texts);
    size_t *lens = calloc(r.n, sizeof *lens), n = 0, planted = 0;
    int *group = calloc(r.n, sizeof *group);
    for (size_t i = 0; i < r.n; i++) {
        if (!r.f[i][F_TEXT][0])
            continue;
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(texts[j], r.f[i][F_TEXT]) == 0;
        if (dup)
            continue;
        group[n] = truth_group(&tr, r.f[i][F_ACCOUNT]) != 0; /* planted accounts also post
                                                                background texts */
        texts[n] = r.f[i][F_TEXT];
        lens[n++] = strlen(r.f[i][F_TEXT]);
    }
    struct cm_neardup_params np;
    cm_neardup_params_init(&np);
    uint32_t *cl = malloc(n * sizeof *cl);
    CHECK(cm_neardup_cluster(texts, lens, n, &np, cl) == 0);
    size_t joined_background = 0, background = 0, planted_clusters = 0;
    for (size_t i = 0; i < n; i++) {
        int clustered = cl[i] != i;
        for (size_t j = i + 1; j < n && !clustered; j++)
            clustered = cl[j] == i;
        if (group[i] == 0 || !clustered) {
            background++;
            joined_background += clustered;
        } else {
            planted++;
            planted_clusters += cl[i] == i;
        }
    }
    /* 3 groups x 5 events: 15 clusters of 2-6 texts (the first member always posts). */
    CHECK_MSG(planted_clusters == 15, "%zu planted clusters", planted_clusters);
    CHECK(planted >= 30);
    CHECK(background > 5000 && joined_background == 0);
    free(cl);
    free(texts);
    free(lens);
    free(group);
    free(tr.data);
    rows_free(&r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_hot_objects(void)
{
    const char *p = tmp_path("h.csv");
    struct cm_sim_params a = params(100000);
    a.hot_objects = 1;
    a.hot_shares = 20000;
    a.accounts = 50000;
    a.groups = 0;
    a.kinds = 1u << CM_SIM_SHARE;
    CHECK(simulate(&a, p, NULL) == 0);
    struct rows r;
    CHECK(parse_rows(p, &r) == 0);
    /* The object of the first share that recurs most: count the most frequent object. */
    char **objs = calloc(r.n, sizeof *objs);
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++)
        if (r.f[i][F_OBJECT][0])
            objs[n++] = r.f[i][F_OBJECT];
    qsort(objs, n, sizeof *objs, cmp_str);
    size_t best = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(objs[i], objs[j]) == 0)
            j++;
        best = j - i > best ? j - i : best;
        i = j;
    }
    free(objs);
    CHECK_MSG(best > 19000 && best < 21000, "most shared object: %zu shares", best);
    rows_free(&r);
}

/* Bad parameters are refused with a reason (and nothing is written); the automatic values
 * follow --posts; a failing stream is an error, not a crash. */
static void test_parameters(void)
{
    char err[200];
    struct cm_sim_params a = params(0);
    CHECK(cm_sim_check(&a, err, sizeof err) == -1 && strstr(err, "posts"));
    unsigned kinds;
    CHECK(cm_sim_kinds_parse("share,video", &kinds) == -1);
    CHECK(cm_sim_kinds_parse("", &kinds) == -1);
    CHECK(cm_sim_kinds_parse("image,share", &kinds) == 0 &&
          kinds == (1u << CM_SIM_IMAGE | 1u << CM_SIM_SHARE));
    a = params(1000);
    a.accounts = 100; /* 10 groups of 8 > half of 100 accounts */
    CHECK(cm_sim_check(&a, err, sizeof err) == -1 && strstr(err, "group-size"));
    a = params(100); /* 10 x 12 x 8 planted rows > 50 */
    CHECK(cm_sim_check(&a, err, sizeof err) == -1 && strstr(err, "planted rows"));
    a = params(100);
    a.groups = 0;
    a.window = 0;
    CHECK(cm_sim_check(&a, err, sizeof err) == -1 && strstr(err, "window"));
    CHECK(simulate(&a, tmp_path("u.csv"), NULL) == CM_SIM_INVALID);
    a = params(2000000);
    CHECK(cm_sim_check(&a, err, sizeof err) == 0);
    CHECK(a.accounts == 100000 && a.hot_shares == 20000);
    a = params(20000);
    CHECK(cm_sim_check(&a, err, sizeof err) == 0);
    CHECK(a.accounts == 1000 && a.hot_shares == 200);
    FILE *full = fopen("/dev/full", "w");
    if (full) { /* every write fails: ENOSPC */
        CHECK(cm_simulate(&a, full, NULL, err, sizeof err) == -1 && strstr(err, "cannot write"));
        fclose(full);
    }
}

static const struct um_test_case cases[] = {
    {"deterministic_by_seed", test_deterministic_by_seed},
    {"counts_and_time_order", test_counts_and_time_order},
    {"planted_shares", test_planted_shares},
    {"planted_texts_are_near_duplicates", test_planted_texts_are_near_duplicates},
    {"hot_objects", test_hot_objects},
    {"parameters", test_parameters},
};
UM_TEST_MAIN(cases)
