/* `unmask serve` in process, over real loopback HTTP (README "Web app"): the static assets, the
 * security headers, an upload through analysis, maps, report, export and notes, the token
 * login, the Host and Origin checks, the non-loopback refusal and a graceful stop. Each case
 * starts a server on a free port with a fresh store under /tmp. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "http_client.h"
#include "report/assets.h"
#include "serve/server.h"
#include "synth.h"

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
static const char token[] = "test-token-0123456789abcdef";

struct fixture {
    char dir[64];
    um_server *server;
    int port;
};

static int start(struct fixture *f, const char *with_token)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/um_test_serve_XXXXXX");
    if (!mkdtemp(f->dir))
        abort();
    struct um_serve_config c;
    um_serve_config_init(&c);
    c.port = 0;
    c.store_dir = f->dir;
    c.token = with_token;
    c.workers = 1;
    c.params.detectors = "dq,ela";
    char err[300];
    int rc = um_serve_start(&c, &f->server, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    f->port = rc == 0 ? (int)um_serve_port(f->server) : -1;
    return rc;
}

static void finish(struct fixture *f)
{
    um_serve_stop(f->server);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", f->dir);
}

static int header_is(const struct http_response *r, const char *name, const char *want)
{
    char value[512];
    return http_header(r, name, value, sizeof value) && strcmp(value, want) == 0;
}

static void check_security_headers(const struct http_response *r)
{
    CHECK(header_is(r, "Content-Security-Policy", csp));
    CHECK(header_is(r, "X-Content-Type-Options", "nosniff"));
    CHECK(header_is(r, "Referrer-Policy", "no-referrer"));
}

static json_t *json_of(const struct http_response *r)
{
    return json_loadb(r->body, r->len, 0, NULL);
}

static const char *error_code(json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "error"), "code"));
}

static void test_assets_and_headers(void)
{
    struct fixture f;
    if (start(&f, NULL) != 0)
        return;
    for (const struct um_asset *a = um_assets; a->name; a++) {
        char path[300];
        snprintf(path, sizeof path, "/%s", a->name);
        struct http_response r = http_request(f.port, NULL, "GET", path, NULL, "", 0);
        CHECK_MSG(r.status == 200 && r.len == a->size && memcmp(r.body, a->data, a->size) == 0,
                  "%s", a->name);
        check_security_headers(&r);
        http_response_free(&r);
    }
    struct http_response r = http_request(f.port, NULL, "GET", "/", NULL, "", 0);
    CHECK(r.status == 200 && header_is(&r, "Content-Type", "text/html; charset=utf-8"));
    http_response_free(&r);
    r = http_request(f.port, NULL, "GET", "/no-such-file.js", NULL, "", 0);
    json_t *o = json_of(&r);
    CHECK(r.status == 404 && o && strcmp(error_code(o), "not-found") == 0);
    CHECK(header_is(&r, "Content-Type", "application/json"));
    check_security_headers(&r);
    json_decref(o);
    http_response_free(&r);
    r = http_request(f.port, NULL, "GET", "/api/health", NULL, "", 0);
    o = json_of(&r);
    CHECK(r.status == 200 && o &&
          strcmp(json_string_value(json_object_get(o, "status")), "ok") == 0);
    CHECK(json_is_integer(json_object_get(json_object_get(o, "queue"), "queued")));
    json_decref(o);
    http_response_free(&r);
    finish(&f);
}

static int is_iso_utc(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!t || strlen(t) != strlen(shape))
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return 0;
    return 1;
}

/* Uploads a synthetic JPEG and waits for its analysis; returns its id (0 on failure). */
static json_int_t upload_and_wait(const struct fixture *f, const char *with_token)
{
    um_image *img = synth_photo(192, 144, 7);
    uint8_t *jpeg;
    size_t n;
    if (um_encode_jpeg(img, 85, 0, &jpeg, &n) != UM_OK)
        abort();
    um_image_free(img);
    struct http_response r = http_upload(f->port, with_token, jpeg, n);
    free(jpeg);
    json_t *o = json_of(&r);
    json_t *first = json_array_get(json_object_get(o, "analyses"), 0);
    json_int_t id = json_integer_value(json_object_get(first, "id"));
    CHECK(r.status == 202 && id > 0);
    CHECK(json_integer_value(json_object_get(first, "size")) == (json_int_t)n);
    CHECK(strlen(json_string_value(json_object_get(first, "sha256"))) == 64);
    json_decref(o);
    http_response_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/api/analyses/%lld", (long long)id);
    for (int i = 0; i < 400; i++) {
        r = http_request(f->port, with_token, "GET", path, NULL, "", 0);
        o = json_of(&r);
        const char *status = json_string_value(json_object_get(o, "status"));
        int done = status && strcmp(status, "done") == 0;
        json_decref(o);
        http_response_free(&r);
        if (done)
            return id;
        usleep(50 * 1000);
    }
    CHECK_MSG(0, "analysis %lld did not finish", (long long)id);
    return 0;
}

static void check_analysis(const struct fixture *f, json_int_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/api/analyses/%lld", (long long)id);
    struct http_response r = http_request(f->port, NULL, "GET", path, NULL, "", 0);
    json_t *o = json_of(&r);
    CHECK(r.status == 200 && o);
    CHECK(is_iso_utc(json_string_value(json_object_get(o, "created"))));
    CHECK(is_iso_utc(json_string_value(json_object_get(o, "started"))));
    CHECK(is_iso_utc(json_string_value(json_object_get(o, "finished"))));
    CHECK(strcmp(json_string_value(json_object_get(o, "tool_version")), UM_VERSION) == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(o, "parameters"),
                                                   "detectors")), "dq,ela") == 0);
    CHECK(json_is_object(json_object_get(json_object_get(o, "result"), "verdict")));
    CHECK(json_is_string(json_object_get(o, "label")) && json_is_real(json_object_get(o, "score")));
    json_decref(o);
    http_response_free(&r);
}

static int contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

static int png_color_type(const struct http_response *r)
{
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (r->len < 33 || memcmp(r->body, magic, 8) != 0)
        return -1;
    return (unsigned char)r->body[25];
}

static void check_images(const struct fixture *f, json_int_t id)
{
    static const struct {
        const char *tail;
        int status, color_type; /* PNG colour type: 0 gray, 2 RGB */
    } want[] = {{"image.png", 200, 2}, {"maps/fused.png", 200, 0}, {"maps/ela.png", 200, 0},
                {"maps/grid.png", 404, -1} /* not among this server's detectors */,
                {"maps/nosuch.png", 404, -1}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[96];
        snprintf(path, sizeof path, "/api/analyses/%lld/%s", (long long)id, want[i].tail);
        struct http_response r = http_request(f->port, NULL, "GET", path, NULL, "", 0);
        CHECK_MSG(r.status == want[i].status, "%s: %d", want[i].tail, r.status);
        if (want[i].color_type >= 0)
            CHECK_MSG(png_color_type(&r) == want[i].color_type, "%s", want[i].tail);
        http_response_free(&r);
    }
}

static void check_notes_report_export(const struct fixture *f, json_int_t id)
{
    char path[96], value[200], want[200];
    snprintf(path, sizeof path, "/api/analyses/%lld/notes", (long long)id);
    const char note[] = "{\"text\":\"Called the photographer: original file requested.\"}";
    struct http_response r = http_request(f->port, NULL, "POST", path,
                                          "Content-Type: application/json\r\n", note,
                                          strlen(note));
    json_t *o = json_of(&r);
    CHECK(r.status == 201 && json_integer_value(json_object_get(o, "id")) == 1);
    json_decref(o);
    http_response_free(&r);
    snprintf(path, sizeof path, "/api/analyses/%lld/report.html", (long long)id);
    r = http_request(f->port, NULL, "GET", path, NULL, "", 0);
    CHECK(r.status == 200 && strstr(r.body, "original file requested") != NULL);
    CHECK(http_header(&r, "Content-Disposition", value, sizeof value) &&
          strncmp(value, "attachment; filename=\"unmask-", 29) == 0);
    http_response_free(&r);
    snprintf(path, sizeof path, "/api/analyses/%lld/export", (long long)id);
    r = http_request(f->port, NULL, "GET", path, NULL, "", 0);
    CHECK(r.status == 200 && header_is(&r, "Content-Type", "application/zip"));
    CHECK(r.len > 4 && memcmp(r.body, "PK\x03\x04", 4) == 0);
    CHECK(contains(r.body, r.len, "report.html") && contains(r.body, r.len, "analysis.json"));
    snprintf(want, sizeof want, "\"id\": %lld", (long long)id);
    CHECK(contains(r.body, r.len, want));
    http_response_free(&r);
    r = http_request(f->port, NULL, "GET", "/api/analyses?q=img0&limit=10", NULL, "", 0);
    o = json_of(&r);
    json_t *first = json_array_get(json_object_get(o, "analyses"), 0);
    CHECK(r.status == 200 && json_integer_value(json_object_get(o, "total")) == 1);
    CHECK(json_integer_value(json_object_get(first, "notes_count")) == 1);
    json_decref(o);
    http_response_free(&r);
}

static void test_upload_to_export(void)
{
    struct fixture f;
    if (start(&f, NULL) != 0)
        return;
    json_int_t id = upload_and_wait(&f, NULL);
    if (id > 0) {
        check_analysis(&f, id);
        check_images(&f, id);
        check_notes_report_export(&f, id);
    }
    finish(&f);
}

static void test_token(void)
{
    struct fixture f;
    if (start(&f, token) != 0)
        return;
    struct http_response r = http_request(f.port, NULL, "GET", "/api/health", NULL, "", 0);
    CHECK(r.status == 401 && header_is(&r, "WWW-Authenticate", "Bearer realm=\"unmask\""));
    http_response_free(&r);
    r = http_request(f.port, "wrong-token-0123456789", "GET", "/", NULL, "", 0);
    CHECK(r.status == 401);
    http_response_free(&r);
    r = http_request(f.port, NULL, "GET", "/?token=wrong-token-0123456789", NULL, "", 0);
    CHECK(r.status == 401);
    http_response_free(&r);
    char path[100], cookie[200];
    snprintf(path, sizeof path, "/?token=%s", token);
    r = http_request(f.port, NULL, "GET", path, NULL, "", 0);
    CHECK(r.status == 303 && header_is(&r, "Location", "/"));
    snprintf(cookie, sizeof cookie, "unmask_token=%s; HttpOnly; SameSite=Strict; Path=/", token);
    CHECK(header_is(&r, "Set-Cookie", cookie));
    http_response_free(&r);
    snprintf(cookie, sizeof cookie, "Cookie: unmask_token=%s\r\n", token);
    r = http_request(f.port, NULL, "GET", "/api/health", cookie, "", 0);
    CHECK(r.status == 200);
    http_response_free(&r);
    r = http_request(f.port, token, "GET", "/api/analyses", NULL, "", 0);
    CHECK(r.status == 200);
    http_response_free(&r);
    CHECK(upload_and_wait(&f, token) > 0);
    finish(&f);
}

static void test_host_and_origin(void)
{
    struct fixture f;
    if (start(&f, NULL) != 0)
        return;
    char raw[300];
    int n = snprintf(raw, sizeof raw, "GET /api/health HTTP/1.1\r\nHost: attacker.example:%d\r\n"
                     "Connection: close\r\n\r\n", f.port);
    struct http_response r = http_exchange(f.port, raw, (size_t)n, 10);
    CHECK(r.status == 421); /* DNS rebinding: a foreign name pointing at 127.0.0.1 */
    http_response_free(&r);
    n = snprintf(raw, sizeof raw, "GET /api/health HTTP/1.1\r\nHost: localhost:%d\r\n"
                 "Connection: close\r\n\r\n", f.port);
    r = http_exchange(f.port, raw, (size_t)n, 10);
    CHECK(r.status == 200);
    http_response_free(&r);
    const char note[] = "{\"text\":\"x\"}";
    r = http_request(f.port, NULL, "POST", "/api/analyses/1/notes",
                     "Origin: http://attacker.example\r\nContent-Type: application/json\r\n", note,
                     strlen(note));
    json_t *o = json_of(&r);
    CHECK(r.status == 403 && o && strcmp(error_code(o), "cross-origin") == 0);
    json_decref(o);
    http_response_free(&r);
    char same[120];
    snprintf(same, sizeof same, "Origin: http://127.0.0.1:%d\r\nContent-Type: application/json"
             "\r\n", f.port);
    r = http_request(f.port, NULL, "POST", "/api/analyses/1/notes", same, note, strlen(note));
    CHECK(r.status == 404); /* allowed through; there is simply no analysis 1 */
    http_response_free(&r);
    finish(&f);
}

static void test_refuses_open_address_without_token(void)
{
    struct um_serve_config c;
    um_serve_config_init(&c);
    c.host = "0.0.0.0";
    c.port = 0;
    c.store_dir = "/nonexistent/never-created";
    um_server *s = NULL;
    char err[300] = "";
    CHECK(um_serve_start(&c, &s, err, sizeof err) != 0 && s == NULL);
    CHECK(strstr(err, "token") != NULL);
    CHECK(um_serve_is_loopback("127.0.0.1") && um_serve_is_loopback("127.8.9.10") &&
          um_serve_is_loopback("::1") && um_serve_is_loopback("localhost"));
    CHECK(!um_serve_is_loopback("0.0.0.0") && !um_serve_is_loopback("192.168.1.2") &&
          !um_serve_is_loopback("::") && !um_serve_is_loopback("128.0.0.1"));
}

static const struct um_test_case cases[] = {
    {"static assets and security headers", test_assets_and_headers},
    {"upload, analysis, maps, notes, report, export", test_upload_to_export},
    {"token: header, login cookie, refusals", test_token},
    {"Host and Origin checks", test_host_and_origin},
    {"an open address needs a token", test_refuses_open_address_without_token},
};

UM_TEST_MAIN(cases)
