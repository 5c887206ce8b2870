/* The case store of `unmask serve` (src/serve/store.c), its work queue, result cache and
 * workers (queue.c): durability layout, deduplication, the full-queue refusal, crash recovery,
 * the case list's filters, notes. Each case works in a fresh directory under /tmp. */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "serve/queue.h"
#include "serve/store.h"
#include "synth.h"

static const char params_a[] = "{\"detectors\":null,\"max_bytes\":1000}";
static const char params_b[] = "{\"detectors\":\"dq\",\"max_bytes\":1000}";

static void fresh_dir(char dir[64])
{
    snprintf(dir, 64, "/tmp/um_test_store_XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void remove_tree(const char *path)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", path);
}

static int count_files(const char *dir)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static um_store *open_store(const char *dir)
{
    um_store *s = NULL;
    char err[300];
    int rc = um_store_open(dir, &s, err, sizeof err);
    CHECK_MSG(rc == 0 && s, "%s", err);
    return s;
}

/* Stage and commit one upload of bytes; returns the store status, ack filled. */
static int put(um_store *s, const void *bytes, size_t n, const char *name, const char *params,
               int64_t max_queued, struct um_ack *ack)
{
    um_stage st;
    char err[300];
    if (um_stage_open(s, &st, err, sizeof err) != 0 || um_stage_write(&st, bytes, n) != 0) {
        um_stage_discard(&st);
        return -1;
    }
    int rc = um_store_commit_uploads(s, &st, &name, 1, params, max_queued, ack, err, sizeof err);
    if (rc != UM_STORE_OK)
        um_stage_discard(&st);
    return rc;
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void test_commit_is_content_addressed(void)
{
    char dir[64], sub[128], path[4300], want[65];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    const char bytes[] = "pretend these are the bytes of an image";
    struct um_ack ack;
    CHECK(put(s, bytes, sizeof bytes, "a.jpg", params_a, 10, &ack) == UM_STORE_OK);
    sha256_hex(bytes, sizeof bytes, want);
    CHECK(strcmp(ack.sha256, want) == 0);
    CHECK(ack.id == 1 && ack.size == sizeof bytes && !ack.existing);
    CHECK(strcmp(ack.status, "queued") == 0);
    um_store_object_path(s, want, path, sizeof path);
    FILE *f = fopen(path, "rb");
    char back[64] = {0};
    CHECK(f && fread(back, 1, sizeof back, f) == sizeof bytes &&
          memcmp(back, bytes, sizeof bytes) == 0);
    if (f)
        fclose(f);
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    CHECK(count_files(sub) == 0);
    json_t *row;
    CHECK(um_store_get(s, 1, &row) == UM_STORE_OK);
    CHECK(strcmp(json_string_value(json_object_get(row, "name")), "a.jpg") == 0);
    CHECK(json_integer_value(json_object_get(row, "size")) == (json_int_t)sizeof bytes);
    CHECK(json_integer_value(json_object_get(json_object_get(row, "parameters"), "max_bytes")) ==
          1000);
    CHECK(json_is_null(json_object_get(row, "result")));
    CHECK(strcmp(json_string_value(json_object_get(row, "tool_version")), UM_VERSION) == 0);
    json_decref(row);
    CHECK(um_store_get(s, 2, &row) == UM_STORE_NOT_FOUND);
    um_store_close(s);
    remove_tree(dir);
}

static void test_same_bytes_one_object_one_analysis(void)
{
    char dir[64], objects[128];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    const char bytes[] = "identical bytes";
    struct um_ack a, b, c;
    CHECK(put(s, bytes, sizeof bytes, "first.jpg", params_a, 10, &a) == UM_STORE_OK);
    CHECK(put(s, bytes, sizeof bytes, "again.jpg", params_a, 10, &b) == UM_STORE_OK);
    CHECK(a.id == b.id && b.existing && strcmp(a.sha256, b.sha256) == 0);
    /* other parameters: another analysis, still one object */
    CHECK(put(s, bytes, sizeof bytes, "other.jpg", params_b, 10, &c) == UM_STORE_OK);
    CHECK(c.id == a.id + 1 && !c.existing); /* repeated uploads leave no gap in the ids */
    snprintf(objects, sizeof objects, "%s/objects", dir);
    CHECK(count_files(objects) == 1);
    struct um_list_query q = {NULL, NULL, NULL, NULL, 50, 0};
    json_t *list;
    CHECK(um_store_list(s, &q, &list) == UM_STORE_OK);
    CHECK(json_integer_value(json_object_get(list, "total")) == 2);
    json_decref(list);
    um_store_close(s);
    remove_tree(dir);
}

static void test_full_queue_keeps_nothing(void)
{
    char dir[64], sub[128];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    struct um_ack ack;
    CHECK(put(s, "one", 3, "1.jpg", params_a, 1, &ack) == UM_STORE_OK);
    CHECK(put(s, "two", 3, "2.jpg", params_a, 1, &ack) == UM_STORE_FULL);
    snprintf(sub, sizeof sub, "%s/objects", dir);
    CHECK(count_files(sub) == 1);
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    CHECK(count_files(sub) == 0);
    int64_t queued, running;
    CHECK(um_store_counts(s, &queued, &running) == 0 && queued == 1 && running == 0);
    /* a running analysis frees its queue slot */
    int64_t id;
    char sha[65], *params;
    CHECK(um_store_claim(s, &id, sha, &params) == 1);
    free(params);
    CHECK(put(s, "two", 3, "2.jpg", params_a, 1, &ack) == UM_STORE_OK);
    um_store_close(s);
    remove_tree(dir);
}

static void test_claim_and_finish(void)
{
    char dir[64];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    struct um_ack a, b;
    put(s, "first", 5, "1.jpg", params_a, 10, &a);
    put(s, "second", 6, "2.jpg", params_a, 10, &b);
    int64_t id;
    char sha[65], *params;
    CHECK(um_store_claim(s, &id, sha, &params) == 1);
    CHECK(id == a.id && strcmp(sha, a.sha256) == 0 && strcmp(params, params_a) == 0);
    free(params);
    CHECK(um_store_finish(s, id, "done", "{\"verdict\":{\"label\":\"manipulated\"}}",
                          "manipulated", 0.97, 1, NULL) == 0);
    CHECK(um_store_claim(s, &id, sha, &params) == 1 && id == b.id);
    free(params);
    CHECK(um_store_finish(s, id, "failed", "{\"error\":{}}", NULL, 0, 0, "corrupt") == 0);
    CHECK(um_store_claim(s, &id, sha, &params) == 0 && params == NULL);
    json_t *row;
    CHECK(um_store_get(s, a.id, &row) == UM_STORE_OK);
    CHECK(strcmp(json_string_value(json_object_get(row, "status")), "done") == 0);
    CHECK(json_real_value(json_object_get(row, "score")) == 0.97);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(
                     json_object_get(row, "result"), "verdict"), "label")), "manipulated") == 0);
    CHECK(json_integer_value(json_object_get(row, "attempts")) == 1);
    CHECK(json_is_string(json_object_get(row, "started")) &&
          json_is_string(json_object_get(row, "finished")));
    json_decref(row);
    CHECK(um_store_get(s, b.id, &row) == UM_STORE_OK);
    CHECK(strcmp(json_string_value(json_object_get(row, "error")), "corrupt") == 0);
    CHECK(json_is_null(json_object_get(row, "score")));
    json_decref(row);
    um_store_close(s);
    remove_tree(dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A kill -9 leaves a running row, a temp file and an object without a row: a restart re-queues
 * the first and removes the other two, and keeps what was acknowledged. */
static void test_recovery_after_crash(void)
{
    char dir[64], path[4300], sub[128];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    struct um_ack a;
    put(s, "acknowledged", 12, "1.jpg", params_a, 10, &a);
    int64_t id;
    char sha[65], *params;
    CHECK(um_store_claim(s, &id, sha, &params) == 1);
    free(params);
    /* a second server may not open the same store meanwhile */
    um_store *other = NULL;
    char err[300];
    CHECK(um_store_open(dir, &other, err, sizeof err) != 0 && other == NULL);
    CHECK(strstr(err, "in use") != NULL);
    um_store_close(s); /* the crash: nothing was finished */
    snprintf(path, sizeof path, "%s/tmp/upload-crashed", dir);
    write_file(path, "half an upload");
    snprintf(path, sizeof path, "%s/objects/ff", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/objects/ff/ff%062d", dir, 0);
    write_file(path, "renamed but never committed");
    s = open_store(dir);
    snprintf(sub, sizeof sub, "%s/tmp", dir);
    CHECK(count_files(sub) == 0);
    snprintf(sub, sizeof sub, "%s/objects", dir);
    CHECK(count_files(sub) == 1);
    um_store_object_path(s, a.sha256, path, sizeof path);
    CHECK(access(path, R_OK) == 0);
    CHECK(um_store_claim(s, &id, sha, &params) == 1 && id == a.id);
    free(params);
    json_t *row;
    CHECK(um_store_get(s, a.id, &row) == UM_STORE_OK);
    CHECK(json_integer_value(json_object_get(row, "attempts")) == 2);
    json_decref(row);
    um_store_close(s);
    remove_tree(dir);
}

static json_int_t list_total(um_store *s, const char *q, const char *label, const char *from,
                             const char *to)
{
    struct um_list_query query = {q, label, from, to, 50, 0};
    json_t *list;
    if (um_store_list(s, &query, &list) != UM_STORE_OK)
        return -1;
    json_int_t n = json_integer_value(json_object_get(list, "total"));
    json_decref(list);
    return n;
}

static void test_case_list_filters_and_notes(void)
{
    char dir[64], today[21];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    struct um_ack a, b, c;
    put(s, "rally", 5, "Rally-Photo.JPG", params_a, 10, &a);
    put(s, "crowd", 5, "crowd.png", params_a, 10, &b);
    put(s, "stage", 5, "stage.jpg", params_a, 10, &c);
    int64_t id;
    char sha[65], *params;
    um_store_claim(s, &id, sha, &params);
    free(params);
    um_store_finish(s, id, "done", "{}", "manipulated", 0.99, 1, NULL);
    CHECK(list_total(s, NULL, NULL, NULL, NULL) == 3);
    CHECK(list_total(s, "rally-photo", NULL, NULL, NULL) == 1); /* case-insensitive */
    CHECK(list_total(s, "photo.jpg", NULL, NULL, NULL) == 1);
    CHECK(list_total(s, "nothing-like-it", NULL, NULL, NULL) == 0);
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%.8s", b.sha256);
    CHECK(list_total(s, prefix, NULL, NULL, NULL) >= 1);
    CHECK(list_total(s, NULL, "manipulated", NULL, NULL) == 1);
    CHECK(list_total(s, NULL, "no-evidence-found", NULL, NULL) == 0);
    um_store_now(today);
    today[10] = '\0';
    CHECK(list_total(s, NULL, NULL, today, today) == 3); /* a whole day, inclusive */
    CHECK(list_total(s, NULL, NULL, "2999-01-01", NULL) == 0);
    CHECK(list_total(s, NULL, NULL, NULL, "2000-01-01") == 0);
    /* newest first, limit and offset */
    struct um_list_query page = {NULL, NULL, NULL, NULL, 1, 1};
    json_t *list;
    CHECK(um_store_list(s, &page, &list) == UM_STORE_OK);
    json_t *item = json_array_get(json_object_get(list, "analyses"), 0);
    CHECK(json_array_size(json_object_get(list, "analyses")) == 1);
    CHECK(json_integer_value(json_object_get(item, "id")) == b.id);
    json_decref(list);
    /* notes */
    json_t *note;
    CHECK(um_store_add_note(s, a.id, "Checked with the photographer.", &note) == UM_STORE_OK);
    CHECK(note && strcmp(json_string_value(json_object_get(note, "text")),
                         "Checked with the photographer.") == 0);
    json_decref(note);
    CHECK(um_store_add_note(s, 999, "lost", &note) == UM_STORE_NOT_FOUND && note == NULL);
    json_t *row;
    CHECK(um_store_get(s, a.id, &row) == UM_STORE_OK);
    CHECK(json_array_size(json_object_get(row, "notes")) == 1);
    json_decref(row);
    struct um_list_query all = {"rally", NULL, NULL, NULL, 50, 0};
    CHECK(um_store_list(s, &all, &list) == UM_STORE_OK);
    item = json_array_get(json_object_get(list, "analyses"), 0);
    CHECK(json_integer_value(json_object_get(item, "notes_count")) == 1);
    json_decref(list);
    um_store_close(s);
    remove_tree(dir);
}

static void test_params_round_trip(void)
{
    struct um_params p = {"dq,ela", 1000, 2000, 300};
    char *json = um_params_json(&p);
    CHECK(json && strcmp(json, "{\"detectors\":\"dq,ela\",\"max_bytes\":1000,\"max_dimension\":"
                               "300,\"max_pixels\":2000}") == 0);
    um_options opt;
    char *hold;
    CHECK(um_params_options(json, &opt, &hold) == 0);
    CHECK(strcmp(opt.detectors, "dq,ela") == 0 && opt.max_bytes == 1000 &&
          opt.max_pixels == 2000 && opt.max_dimension == 300);
    free(hold);
    free(json);
    CHECK(um_params_options("{\"max_bytes\":-1,\"max_pixels\":1,\"max_dimension\":1}", &opt,
                            &hold) != 0);
    CHECK(um_params_options("not json", &opt, &hold) != 0);
}

static uint8_t *synth_jpeg(int w, int h, unsigned seed, size_t *n)
{
    um_image *img = synth_photo(w, h, seed);
    uint8_t *jpeg = NULL;
    if (um_encode_jpeg(img, 85, 0, &jpeg, n) != UM_OK)
        abort();
    um_image_free(img);
    return jpeg;
}

static void wait_until_idle(um_store *s)
{
    int64_t queued = 1, running = 1;
    for (int i = 0; i < 400 && (queued || running); i++) {
        usleep(50 * 1000);
        um_store_counts(s, &queued, &running);
    }
    CHECK(queued == 0 && running == 0);
}

static const char *status_of(um_store *s, int64_t id, json_t **row)
{
    if (um_store_get(s, id, row) != UM_STORE_OK)
        return "";
    return json_string_value(json_object_get(*row, "status"));
}

/* Real JPEGs through the workers and the cache: analysed once by a worker, then served from the
 * cache, evicted by the pixel budget, and re-analysed from the stored object. */
static void test_workers_and_cache(void)
{
    char dir[64];
    fresh_dir(dir);
    um_store *s = open_store(dir);
    size_t na, nc;
    uint8_t *ja = synth_jpeg(160, 120, 42, &na), *jc = synth_jpeg(96, 64, 43, &nc);
    struct um_params p = {"dq,ela", 1 << 20, 1 << 24, 4096};
    char *params = um_params_json(&p);
    struct um_ack a, b, c;
    CHECK(put(s, ja, na, "photo.jpg", params, 10, &a) == UM_STORE_OK);
    CHECK(put(s, "not an image", 12, "bad.jpg", params, 10, &b) == UM_STORE_OK);
    CHECK(put(s, jc, nc, "small.jpg", params, 10, &c) == UM_STORE_OK);
    um_cache *cache = um_cache_new(3, 160 * 120); /* room for a, or for c, not both */
    int missing;
    CHECK(um_cache_get(cache, s, a.id, &missing) == NULL && missing == UM_CACHE_NOT_FINISHED);
    CHECK(um_cache_get(cache, s, 77, &missing) == NULL && missing == UM_CACHE_NO_ANALYSIS);
    um_workers *w = um_workers_start(s, cache, 1);
    um_workers_notify(w);
    wait_until_idle(s);
    um_workers_stop(w);
    json_t *row;
    CHECK(strcmp(status_of(s, a.id, &row), "done") == 0);
    CHECK(json_is_object(json_object_get(json_object_get(row, "result"), "verdict")));
    CHECK(json_is_string(json_object_get(row, "label")));
    json_decref(row);
    CHECK(strcmp(status_of(s, b.id, &row), "failed") == 0);
    CHECK(json_is_string(json_object_get(row, "error")));
    json_decref(row);
    /* the worker cached c last (it evicted a, over the pixel budget together) */
    const um_result *rc = um_cache_get(cache, s, c.id, &missing);
    const um_result *ra = um_cache_get(cache, s, a.id, &missing); /* re-analysed, evicts c */
    CHECK(ra && rc && um_result_width(rc) == 96 && um_result_error(ra, NULL) == UM_OK);
    CHECK(ra && um_result_width(ra) == 160 && um_result_detector_applicable(ra, "ela"));
    CHECK(ra && !um_result_detector_applicable(ra, "grid")); /* the stored parameters apply */
    CHECK(um_cache_get(cache, s, a.id, &missing) == ra);     /* a hit: the same result */
    const um_result *rc2 = um_cache_get(cache, s, c.id, &missing);
    CHECK(rc2 && rc2 != rc); /* c had been evicted: analysed again, the old one still held */
    const um_result *rb = um_cache_get(cache, s, b.id, &missing);
    CHECK(rb && um_result_error(rb, NULL) != UM_OK); /* a failed analysis has a result too */
    um_cache_release(cache, ra);
    um_cache_release(cache, ra);
    um_cache_release(cache, rc); /* freed here (evicted); ASan checks */
    um_cache_release(cache, rc2);
    um_cache_release(cache, rb);
    um_cache_free(cache);
    free(params);
    free(ja);
    free(jc);
    um_store_close(s);
    remove_tree(dir);
}

static const struct um_test_case cases[] = {
    {"commit is content-addressed and durable", test_commit_is_content_addressed},
    {"same bytes: one object, one analysis", test_same_bytes_one_object_one_analysis},
    {"a full queue keeps nothing", test_full_queue_keeps_nothing},
    {"claim and finish", test_claim_and_finish},
    {"recovery after a crash", test_recovery_after_crash},
    {"case list filters and notes", test_case_list_filters_and_notes},
    {"parameters round trip", test_params_round_trip},
    {"workers and result cache", test_workers_and_cache},
};

UM_TEST_MAIN(cases)
