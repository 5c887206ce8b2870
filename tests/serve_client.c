/* serve_client: the load and fault client for `unmask serve` (used by tests/serve_load.sh).
 * Plain HTTP/1.1 over loopback sockets, one connection per request, every socket with a timeout,
 * so nothing here can hang.
 *
 *   serve_client load PORT CLIENTS IMAGES ACKS [--token T] [--seed S] [--tolerate-errors]
 *       IMAGES distinct synthetic images (64..256 px, JPEG and PNG) uploaded by CLIENTS threads;
 *       each acknowledgement (202) is appended to ACKS as "id sha256"; prints the count,
 *       requests/s and latency percentiles. Exit 0 when every upload got 202.
 *   serve_client file PORT FILE CLIENTS REQUESTS [--token T]
 *       the same FILE uploaded REQUESTS times (the server keeps one analysis): latency figures.
 *   serve_client wait PORT SECONDS [--token T]
 *       waits until the server's queue is empty (nothing queued or running).
 *   serve_client verify PORT ACKS [--token T] [--once]
 *       every acknowledged upload exists, has its sha256 and finished; --once: analysed once.
 *   serve_client hostile PORT N [--token T]
 *       N malformed or hostile requests (needs a server started with --token T and
 *       --max-upload 1000000): every answer must be a 4xx, none may time out.
 *   serve_client count PORT [--token T]     prints the number of analyses (the list's total).
 *   serve_client photo W H QUALITY OUT.jpg  writes a synthetic photo as JPEG (for the figures:
 *       a 2 MP upload is `photo 1600 1250 90 photo.jpg`; PORT is not used).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "io/decode.h"
#include "report/png_write.h"
#include "synth.h"

enum { IO_TIMEOUT_S = 60 };

static int port;
static const char *token;

/* ---- requests with this run's port and token ---- */

static struct http_response request(const char *method, const char *path,
                                    const char *extra_headers, const void *body, size_t len)
{
    return http_request(port, token, method, path, extra_headers, body, len);
}

static struct http_response exchange(const void *raw_request, size_t len)
{
    return http_exchange(port, raw_request, len, IO_TIMEOUT_S);
}

static struct http_response upload(const uint8_t *data, size_t size)
{
    return http_upload(port, token, data, size);
}

/* Pulls "key":value (number or string) out of a flat spot of JSON text. */
static int json_field(const char *json, const char *key, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p)
        return -1;
    p += strlen(pat);
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\",}");
    if (n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- images ---- */

struct blob {
    uint8_t *data;
    size_t size;
};

static int read_whole(const char *path, struct blob *b)
{
    char err[256];
    return um_read_file(path, 1u << 30, &b->data, &b->size, err, sizeof err) == UM_OK ? 0 : -1;
}

/* Image i: a distinct synthetic photo (its own seed and size), every third one a PNG. */
static int make_image(unsigned seed, int i, struct blob *b)
{
    int w = 64 + (i * 37) % 193, h = 64 + (i * 59) % 193;
    um_image *img = synth_photo(w, h, seed + (unsigned)i);
    int rc = -1;
    if (!img)
        return -1;
    if (i % 3 != 2) {
        rc = um_encode_jpeg(img, 70 + i % 25, 0, &b->data, &b->size) == UM_OK ? 0 : -1;
    } else {
        char path[] = "/tmp/serve_client-XXXXXX", err[256];
        int fd = mkstemp(path);
        uint8_t *px = malloc((size_t)w * h * 3);
        for (size_t k = 0; px && k < (size_t)w * h; k++)
            for (int c = 0; c < 3; c++) {
                float v = um_image_plane(img, c)[k] + 0.5f;
                px[3 * k + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        if (fd >= 0 && px && um_png_write(path, px, w, h, 3, err, sizeof err) == 0)
            rc = read_whole(path, b);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(px);
    }
    um_image_free(img);
    return rc;
}

/* ---- load ---- */

struct load {
    struct blob *images;
    int count, next;
    double *latency;
    int *status;
    int retry_after;          /* 503 answers that carried Retry-After */
    FILE *acks;
    pthread_mutex_t lock;
};

static void record_ack(struct load *L, const struct http_response *r)
{
    char id[32], sha[80];
    if (json_field(r->body, "id", id, sizeof id) == 0 &&
        json_field(r->body, "sha256", sha, sizeof sha) == 0) {
        fprintf(L->acks, "%s %s\n", id, sha);
        fflush(L->acks);
    }
}

static void *load_thread(void *arg)
{
    struct load *L = arg;
    for (;;) {
        pthread_mutex_lock(&L->lock);
        int i = L->next < L->count ? L->next++ : -1;
        pthread_mutex_unlock(&L->lock);
        if (i < 0)
            return NULL;
        double t0 = now_ms();
        struct http_response r = upload(L->images[i].data, L->images[i].size);
        L->latency[i] = now_ms() - t0;
        L->status[i] = r.status;
        pthread_mutex_lock(&L->lock);
        if (r.status == 202)
            record_ack(L, &r);
        char value[32];
        L->retry_after += r.status == 503 && http_header(&r, "Retry-After", value, sizeof value);
        pthread_mutex_unlock(&L->lock);
        http_response_free(&r);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs the uploads and prints the figures; returns how many got 202. */
static int run_load(struct load *L, int clients)
{
    pthread_t *t = calloc((size_t)clients, sizeof *t);
    double t0 = now_ms();
    int started = 0;
    for (int i = 0; t && i < clients; i++)
        started += pthread_create(&t[i], NULL, load_thread, L) == 0;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double seconds = (now_ms() - t0) / 1e3;
    free(t);
    int ok = 0, no_answer = 0, busy = 0;
    for (int i = 0; i < L->count; i++) {
        ok += L->status[i] == 202;
        no_answer += L->status[i] == 0;
        busy += L->status[i] == 503;
    }
    qsort(L->latency, (size_t)L->count, sizeof *L->latency, cmp_double);
    printf("uploads %d, 202: %d, 503: %d (with Retry-After: %d), no answer: %d, other: %d; "
           "%.2f s, %.1f requests/s; latency ms p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
           L->count, ok, busy, L->retry_after, no_answer, L->count - ok - busy - no_answer,
           seconds, L->count / seconds,
           L->latency[L->count / 2], L->latency[L->count * 9 / 10],
           L->latency[(L->count * 99) / 100], L->latency[L->count - 1]);
    return ok;
}

static int load_main(int clients, struct blob *images, int count, const char *acks_path)
{
    struct load L = {images, count, 0, calloc((size_t)count, sizeof(double)),
                     calloc((size_t)count, sizeof(int)), 0, fopen(acks_path, "a"),
                     PTHREAD_MUTEX_INITIALIZER};
    if (!L.latency || !L.status || !L.acks) {
        fprintf(stderr, "serve_client: out of memory or cannot open %s\n", acks_path);
        return -1;
    }
    int ok = run_load(&L, clients);
    fclose(L.acks);
    free(L.latency);
    free(L.status);
    return ok;
}

static int cmd_load(int clients, int count, const char *acks, unsigned seed, int tolerate)
{
    struct blob *images = calloc((size_t)count, sizeof *images);
    for (int i = 0; images && i < count; i++)
        if (make_image(seed, i, &images[i]) != 0) {
            fprintf(stderr, "serve_client: cannot make image %d\n", i);
            return 1;
        }
    int ok = load_main(clients, images, count, acks);
    for (int i = 0; images && i < count; i++)
        free(images[i].data);
    free(images);
    return ok == count || (tolerate && ok > 0) ? 0 : 1;
}

static int cmd_file(const char *path, int clients, int count)
{
    struct blob one;
    if (read_whole(path, &one) != 0) {
        fprintf(stderr, "serve_client: cannot read %s\n", path);
        return 1;
    }
    struct blob *images = calloc((size_t)count, sizeof *images);
    for (int i = 0; images && i < count; i++)
        images[i] = one;
    int ok = load_main(clients, images, count, "/dev/null");
    free(images);
    free(one.data);
    return ok == count ? 0 : 1;
}

/* ---- wait, verify, count ---- */

static int health_idle(void)
{
    struct http_response r = request("GET", "/api/health", NULL, "", 0);
    char queued[32] = "", running[32] = "";
    int idle = r.status == 200 && json_field(r.body, "queued", queued, sizeof queued) == 0 &&
               json_field(r.body, "running", running, sizeof running) == 0 &&
               strcmp(queued, "0") == 0 && strcmp(running, "0") == 0;
    http_response_free(&r);
    return idle;
}

static int cmd_wait(int seconds)
{
    double end = now_ms() + seconds * 1e3;
    while (now_ms() < end) {
        if (health_idle())
            return 0;
        usleep(200 * 1000);
    }
    fprintf(stderr, "serve_client: the queue did not empty within %d s\n", seconds);
    return 1;
}

static int verify_one(long id, const char *sha, int once, int *reanalysed)
{
    char path[64], got_sha[80], status[16], attempts[16];
    snprintf(path, sizeof path, "/api/analyses/%ld", id);
    struct http_response r = request("GET", path, NULL, "", 0);
    int ok = r.status == 200 && json_field(r.body, "sha256", got_sha, sizeof got_sha) == 0 &&
             strcmp(got_sha, sha) == 0 &&
             json_field(r.body, "status", status, sizeof status) == 0 &&
             (strcmp(status, "done") == 0 || strcmp(status, "failed") == 0) &&
             json_field(r.body, "attempts", attempts, sizeof attempts) == 0;
    if (ok && strcmp(attempts, "1") != 0)
        (*reanalysed)++;
    if (!ok || (once && strcmp(attempts, "1") != 0))
        fprintf(stderr, "serve_client: analysis %ld: HTTP %d, %s\n", id, r.status,
                r.body);
    http_response_free(&r);
    return ok && !(once && strcmp(attempts, "1") != 0);
}

static int cmd_verify(const char *acks_path, int once)
{
    FILE *f = fopen(acks_path, "r");
    if (!f) {
        fprintf(stderr, "serve_client: cannot read %s\n", acks_path);
        return 1;
    }
    long id;
    char sha[80];
    int n = 0, bad = 0, reanalysed = 0;
    while (fscanf(f, "%ld %79s", &id, sha) == 2) {
        n++;
        bad += !verify_one(id, sha, once, &reanalysed);
    }
    fclose(f);
    printf("acknowledged %d, present and finished %d, missing or wrong %d, analysed more than "
           "once (interrupted by the kill) %d\n", n, n - bad, bad, reanalysed);
    return bad ? 1 : 0;
}

static int cmd_count(void)
{
    struct http_response r = request("GET", "/api/analyses?limit=0", NULL, "", 0);
    char total[32];
    int ok = r.status == 200 && json_field(r.body, "total", total, sizeof total) == 0;
    if (ok)
        printf("%s\n", total);
    http_response_free(&r);
    return ok ? 0 : 1;
}

/* ---- hostile requests ---- */

struct hostile {
    const char *name;
    struct http_response (*send)(int i);
    int may_close;            /* not HTTP at all: closing without an answer is right too */
};

static struct http_response raw(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return exchange(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static const uint8_t jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1,
                                    1, 0, 0, 1, 0, 1, 0, 0};

static struct http_response h_truncated_multipart(int i)
{
    size_t len;
    const uint8_t *f = jpeg_head;
    size_t size = sizeof jpeg_head;
    char *body = http_multipart("trunc", &f, &size, 1, &len);
    /* cut before the closing boundary, at a point that varies */
    size_t cut = len - 9 - (size_t)(i % 8);
    struct http_response r = request("POST", "/api/analyses",
                                "Content-Type: multipart/form-data; boundary=trunc\r\n", body,
                                cut);
    free(body);
    return r;
}

static struct http_response h_missing_boundary(int i)
{
    return request("POST", "/api/analyses",
                   i % 2 ? "Content-Type: multipart/form-data\r\n"
                         : "Content-Type: multipart/form-data; charset=x\r\n",
                   "--x\r\n\r\n--x--\r\n", 14);
}

static struct http_response h_huge_header(int i)
{
    size_t n = 70000 + (size_t)(i % 5) * 10000;
    char *big = malloc(n + 64);
    int k = sprintf(big, "X-Filler: ");
    memset(big + k, 'a', n);
    strcpy(big + k + n, "\r\n");
    struct http_response r = request("GET", "/api/health", big, "", 0);
    free(big);
    return r;
}

static struct http_response h_many_parts(int i)
{
    enum { PARTS = 10000 };
    char *body = malloc(PARTS * 90 + 64), *p = body;
    for (int k = 0; k < PARTS; k++)
        p += sprintf(p, "--parts\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nx\r\n",
                     i % 2 ? "file" : "other");
    p += sprintf(p, "--parts--\r\n");
    struct http_response r = request("POST", "/api/analyses",
                                     "Content-Type: multipart/form-data; boundary=parts\r\n",
                                     body, (size_t)(p - body));
    /* refused for the count, not for anything else */
    if (r.status != 413)
        r.status = 500;
    free(body);
    return r;
}

static struct http_response h_path_trick(int i)
{
    static const char *const paths[] = {
        "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/index.html%00.png", "//etc/passwd",
        "/api/analyses/../../cases.sqlite", "/objects/ab/abc", "/%2fetc%2fpasswd",
        "/api/analyses/1/maps/..%2f..%2fcases.sqlite.png", "/api/analyses/1/maps/../x.png",
        "/cases.sqlite", "/tmp", "/index.html/", "/.%2e/.%2e/etc/passwd", "/\\..\\..\\win.ini"};
    if (i % 15 == 14) { /* an overlong path */
        char *p = malloc(6000);
        p[0] = '/';
        memset(p + 1, 'a', 5998);
        p[5999] = '\0';
        struct http_response r = request("GET", p, NULL, "", 0);
        free(p);
        return r;
    }
    return request("GET", paths[i % 14], NULL, "", 0);
}

static struct http_response h_bad_id(int i)
{
    static const char *const paths[] = {
        "/api/analyses/0", "/api/analyses/-1", "/api/analyses/abc", "/api/analyses/01",
        "/api/analyses/99999999999999999999", "/api/analyses/1x", "/api/analyses/987654321",
        "/api/analyses/9007199254740993", "/api/analyses/1/maps/nosuch.png",
        "/api/analyses/987654/report.html", "/api/analyses/987654/export",
        "/api/analyses/ 1", "/api/analyses/1.0"};
    return request("GET", paths[i % 13], NULL, "", 0);
}

static struct http_response h_token(int i)
{
    static const char *const auth[] = {"", "Authorization: Bearer wrong-token-0123456789\r\n",
                                       "Authorization: Basic dXNlcjpwYXNz\r\n",
                                       "Cookie: unmask_token=nope\r\n",
                                       "Authorization: Bearer \r\n"};
    static const char *const paths[] = {"/", "/api/analyses", "/api/health", "/index.html",
                                        "/?token=wrong"};
    return raw("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n",
               paths[i % 5], port, auth[(i / 5) % 5]);
}

static struct http_response h_bad_method(int i)
{
    static const char *const methods[] = {"PUT", "DELETE", "PATCH", "POST", "OPTIONS"};
    static const char *const paths[] = {"/api/analyses/1", "/", "/api/health",
                                        "/api/analyses/1/notes"};
    const char *m = methods[i % 5], *p = paths[(i / 5) % 4];
    if (strcmp(m, "POST") == 0 && strcmp(p, "/api/analyses/1/notes") == 0)
        p = "/index.html";
    return request(m, p, NULL, "", 0);
}

static struct http_response h_oversize(int i)
{
    if (i % 2) { /* declared: refused from the headers */
        return raw("POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer "
                   "%s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: "
                   "200000000\r\nConnection: close\r\n\r\n--b\r\n", port, token ? token : "");
    }
    size_t n = 1200000; /* sent: over a --max-upload of 1000000 while streaming */
    uint8_t *data = malloc(n);
    memcpy(data, jpeg_head, sizeof jpeg_head);
    memset(data + sizeof jpeg_head, 0x55, n - sizeof jpeg_head);
    struct http_response r = upload(data, n);
    free(data);
    return r;
}

static struct http_response h_not_image(int i)
{
    static const char *const bodies[] = {"just some text", "%PDF-1.7 not an image",
                                         "GIF89a........", "<svg xmlns='x'></svg>", ""};
    const char *b = bodies[i % 5];
    if (i % 7 == 6) /* and a JSON body where multipart belongs */
        return request("POST", "/api/analyses", "Content-Type: application/json\r\n", "{}", 2);
    return upload((const uint8_t *)b, strlen(b));
}

static struct http_response h_bad_note(int i)
{
    static const char *const notes[] = {"{", "{\"text\": 5}", "{\"text\": \"\"}", "[]",
                                        "{\"text\": \"a\\u0000b\"}", "\xff\xfe"};
    if (i % 8 == 6) { /* too long */
        char *big = malloc(20050);
        int k = sprintf(big, "{\"text\": \"");
        memset(big + k, 'n', 20000);
        strcpy(big + k + 20000, "\"}");
        struct http_response r = request("POST", "/api/analyses/1/notes",
                                    "Content-Type: application/json\r\n", big, strlen(big));
        free(big);
        return r;
    }
    if (i % 8 == 7) /* not JSON: a cross-site form could send this */
        return request("POST", "/api/analyses/1/notes", "Content-Type: text/plain\r\n",
                       "{\"text\": \"x\"}", 13);
    return request("POST", "/api/analyses/987654/notes", "Content-Type: application/json\r\n",
                   notes[i % 6], strlen(notes[i % 6]));
}

static struct http_response h_cross_origin(int i)
{
    return request("POST", i % 2 ? "/api/analyses" : "/api/analyses/1/notes",
                   "Origin: http://evil.example\r\nContent-Type: application/json\r\n",
                   "{\"text\":\"x\"}", 12);
}

static struct http_response h_garbage(int i)
{
    static const char *const lines[] = {
        "GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: \x01\x02\r\n\r\n", "GET\r\n\r\n",
        "POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\nzz\r\nxx\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nBad Header\r\n\r\n"};
    const char *l = lines[i % 5];
    return exchange(l, strlen(l));
}

static const struct hostile hostile_kinds[] = {
    {"truncated multipart", h_truncated_multipart, 0}, {"missing boundary", h_missing_boundary, 0},
    {"huge header", h_huge_header, 0},                 {"10,000 parts", h_many_parts, 0},
    {"path trick", h_path_trick, 0},                   {"bad id", h_bad_id, 0},
    {"wrong or missing token", h_token, 0},            {"bad method", h_bad_method, 0},
    {"oversize body", h_oversize, 0},                  {"not an image", h_not_image, 0},
    {"bad note", h_bad_note, 0},                       {"cross-origin post", h_cross_origin, 0},
    {"malformed HTTP", h_garbage, 1}};
enum { NKINDS = sizeof hostile_kinds / sizeof hostile_kinds[0] };

struct hostile_run {
    int n, next;
    int fourxx[NKINDS], closed[NKINDS], other[NKINDS];
    pthread_mutex_t lock;
};

static void *hostile_thread(void *arg)
{
    struct hostile_run *H = arg;
    for (;;) {
        pthread_mutex_lock(&H->lock);
        int i = H->next < H->n ? H->next++ : -1;
        pthread_mutex_unlock(&H->lock);
        if (i < 0)
            return NULL;
        int kind = i % NKINDS;
        struct http_response r = hostile_kinds[kind].send(i / NKINDS);
        pthread_mutex_lock(&H->lock);
        int closed_ok = r.status == 0 && hostile_kinds[kind].may_close;
        if (closed_ok) {
            H->closed[kind]++;
        } else if (r.status >= 400 && r.status < 500) {
            H->fourxx[kind]++;
        } else {
            H->other[kind]++;
            fprintf(stderr, "  %s #%d: HTTP %d %s\n", hostile_kinds[kind].name, i / NKINDS,
                    r.status, r.status ? r.body : "(no answer)");
        }
        pthread_mutex_unlock(&H->lock);
        http_response_free(&r);
    }
}

static int cmd_hostile(int n)
{
    struct hostile_run H = {.n = n, .lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, hostile_thread, &H);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    int bad = 0, closed = 0;
    for (int k = 0; k < NKINDS; k++) {
        printf("  %-24s %4d answered 4xx, %d closed without an answer, %d otherwise\n",
               hostile_kinds[k].name, H.fourxx[k], H.closed[k], H.other[k]);
        bad += H.other[k];
        closed += H.closed[k];
    }
    printf("hostile requests %d: %d answered 4xx, %d (not HTTP) closed without an answer, %d "
           "otherwise (5xx, 2xx, no answer, timeout)\n", n, n - bad - closed, closed, bad);
    return bad ? 1 : 0;
}

static int cmd_photo(int w, int h, int quality, const char *out)
{
    um_image *img = w > 0 && h > 0 ? synth_photo(w, h, 2026) : NULL;
    uint8_t *jpeg = NULL;
    size_t n = 0;
    FILE *f = NULL;
    int ok = img && um_encode_jpeg(img, quality, 0, &jpeg, &n) == UM_OK &&
             (f = fopen(out, "wb")) && fwrite(jpeg, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    um_image_free(img);
    free(jpeg);
    if (!ok)
        fprintf(stderr, "serve_client: cannot write %s\n", out);
    return ok ? 0 : 1;
}

/* ---- main ---- */

static void options(int argc, char **argv, int from, unsigned *seed, int *tolerate, int *once)
{
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            token = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            *seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--tolerate-errors") == 0)
            *tolerate = 1;
        else if (strcmp(argv[i], "--once") == 0)
            *once = 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of tests/serve_client.c\n");
        return 2;
    }
    port = atoi(argv[2]);
    unsigned seed = 1000;
    int tolerate = 0, once = 0;
    const char *cmd = argv[1];
    if (strcmp(cmd, "load") == 0 && argc >= 6) {
        options(argc, argv, 6, &seed, &tolerate, &once);
        return cmd_load(atoi(argv[3]), atoi(argv[4]), argv[5], seed, tolerate);
    }
    if (strcmp(cmd, "file") == 0 && argc >= 6) {
        options(argc, argv, 6, &seed, &tolerate, &once);
        return cmd_file(argv[3], atoi(argv[4]), atoi(argv[5]));
    }
    if (strcmp(cmd, "wait") == 0 && argc >= 4) {
        options(argc, argv, 4, &seed, &tolerate, &once);
        return cmd_wait(atoi(argv[3]));
    }
    if (strcmp(cmd, "verify") == 0 && argc >= 4) {
        options(argc, argv, 4, &seed, &tolerate, &once);
        return cmd_verify(argv[3], once);
    }
    if (strcmp(cmd, "hostile") == 0 && argc >= 4) {
        options(argc, argv, 4, &seed, &tolerate, &once);
        return cmd_hostile(atoi(argv[3]));
    }
    if (strcmp(cmd, "photo") == 0 && argc >= 7)
        return cmd_photo(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6]);
    if (strcmp(cmd, "count") == 0) {
        options(argc, argv, 3, &seed, &tolerate, &once);
        return cmd_count();
    }
    fprintf(stderr, "serve_client: unknown command or missing arguments\n");
    return 2;
}
