/* `unmask serve`: the HTTP daemon (libmicrohttpd), authentication, the security headers, the
 * router and the streaming of uploads into the case store. */
#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/parallel.h"
#include "io/decode.h"
#include "serve/http.h"
#include "serve/routes.h"

enum {
    NOTE_BODY_MAX = 16384,    /* a note is <= 10000 bytes of text; JSON escapes add some */
    MULTIPART_SLACK = 65536,  /* part headers and boundaries on top of --max-upload */
    POST_BUFFER = 65536,
    HEADER_MEMORY = 65536,    /* request line + headers must fit (MHD answers 431/414 past it) */
    RETRY_AFTER_S = 5,
    CACHE_RESULTS = 8         /* recent analyses kept whole for maps, image and report */
};
/* ... and at most this many analysed pixels together: a result takes ~35 bytes a pixel (measured
 * on 2 MP photos, all detectors), so about 300 MB */
#define CACHE_PIXELS (8ull * 1000 * 1000)

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* ---- replies ---- */

static enum MHD_Result send_response(struct MHD_Connection *c, unsigned status,
                                     struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* no other site may embed our images or pages (no-cors loads) */
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result um_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
                         void *data, size_t len, int owned, const char *disposition)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, data, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (owned)
            free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    if (disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    return send_response(c, status, resp);
}

enum MHD_Result um_reply_json(struct MHD_Connection *c, unsigned status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return um_reply_error(c, 500, "out-of-memory", "The server ran out of memory.");
    return um_reply(c, status, "application/json", text, strlen(text), 1, NULL);
}

/* {"error": {"code": code, "message": message}} as a response, not yet queued. */
static struct MHD_Response *error_response(const char *code, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
             : NULL;
    if (!resp)
        free(text);
    else
        MHD_add_response_header(resp, "Content-Type", "application/json");
    return resp;
}

enum MHD_Result um_reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                               const char *message)
{
    struct MHD_Response *resp = error_response(code, message);
    char retry[16];
    snprintf(retry, sizeof retry, "%d", RETRY_AFTER_S);
    if (resp && (status == 503 || status == 429))
        MHD_add_response_header(resp, "Retry-After", retry);
    if (resp && status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"unmask\"");
    return send_response(c, status, resp);
}

/* 405 names the methods the route does take (RFC 9110 15.5.6). */
static enum MHD_Result reply_bad_method(struct MHD_Connection *c, enum um_route_kind kind)
{
    struct MHD_Response *resp =
        error_response("method", "That method is not allowed here.");
    if (resp)
        MHD_add_response_header(resp, "Allow",
                                um_route_allows(kind, "GET")
                                    ? (um_route_allows(kind, "POST") ? "GET, HEAD, POST"
                                                                     : "GET, HEAD")
                                    : "POST");
    return send_response(c, 405, resp);
}

static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".json", "application/json"},
                 {".ico", "image/x-icon"},
                 {".woff2", "font/woff2"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* ---- authentication ---- */

/* Constant-time comparison: both sides hashed first, so neither the content nor the length of
 * the token leaks through timing. */
static int token_matches(const char *expected, const char *given)
{
    unsigned char a[32], b[32];
    unsigned int la = 0, lb = 0;
    if (!given || !EVP_Digest(expected, strlen(expected), a, &la, EVP_sha256(), NULL) ||
        !EVP_Digest(given, strlen(given), b, &lb, EVP_sha256(), NULL))
        return 0;
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

static int authorised(const um_server *s, struct MHD_Connection *c)
{
    if (!s->token)
        return 1;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && token_matches(s->token, auth + 7))
        return 1;
    return token_matches(s->token,
                         MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "unmask_token"));
}

/* GET /?token=T: the cookie, then a redirect to the page, so the token leaves the address bar. */
static enum MHD_Result token_login(um_server *s, struct MHD_Connection *c, const char *given)
{
    if (!token_matches(s->token, given))
        return um_reply_error(c, 401, "unauthorized", "Wrong token.");
    char cookie[600];
    snprintf(cookie, sizeof cookie, "unmask_token=%s; HttpOnly; SameSite=Strict; Path=/",
             s->token);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    MHD_add_response_header(resp, "Location", "/");
    return send_response(c, 303, resp);
}

/* Without a token, a web page elsewhere could still reach a loopback server through DNS
 * rebinding (its own name resolving to 127.0.0.1): only loopback Host names are served then. */
static int host_allowed(const um_server *s, struct MHD_Connection *c)
{
    if (s->token)
        return 1;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host)
        return 0;
    char name[256];
    size_t n = strlen(host);
    if (n >= sizeof name)
        return 0;
    memcpy(name, host, n + 1);
    char *colon = name[0] == '[' ? strstr(name, "]:") : strrchr(name, ':');
    if (colon)
        *(name[0] == '[' ? colon + 1 : colon) = '\0';
    if (strcmp(name, "[::1]") == 0)
        return 1;
    return um_serve_is_loopback(name);
}

/* A browser names the page that made a POST: another site's page may not upload or annotate. */
static int same_origin(struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!origin)
        return 1;
    const char *sep = strstr(origin, "://");
    return host && sep && strcmp(sep + 3, host) == 0;
}

/* ---- per-request state ---- */

struct request {
    um_server *server;
    int upload;               /* POST /api/analyses */
    int64_t note_id;          /* POST /api/analyses/{id}/notes */
    unsigned refuse_status;   /* set: answer this once the body is read (or dropped) */
    const char *refuse_code, *refuse_message;
    int answered;             /* the refusal was queued while the body was still arriving */
    struct MHD_PostProcessor *pp;
    um_stage *stages;
    char **names;
    size_t nfiles, parts;
    uint64_t received;
    char *body;
    size_t body_len;
};

static void request_free(struct request *r)
{
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    for (size_t i = 0; i < r->nfiles; i++) {
        um_stage_discard(&r->stages[i]);
        free(r->names[i]);
    }
    free(r->stages);
    free(r->names);
    free(r->body);
    free(r);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    if (*con_cls)
        request_free(*con_cls);
    *con_cls = NULL;
}

/* Remember the first reason to refuse; the temp files of a refused upload go at once. */
static void refuse(struct request *r, unsigned status, const char *code, const char *message)
{
    if (r->refuse_status)
        return;
    r->refuse_status = status;
    r->refuse_code = code;
    r->refuse_message = message;
    for (size_t i = 0; i < r->nfiles; i++)
        um_stage_discard(&r->stages[i]);
}

/* ---- uploads ---- */

/* A file name is only a label: its last path component, control characters replaced, valid
 * UTF-8 (else "upload"), at most 200 bytes. */
static char *label_from_filename(const char *filename)
{
    const char *base = filename ? filename : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strnlen(base, 200);
    json_t *check = json_stringn(base, n); /* jansson validates UTF-8 */
    if (!check || n == 0)
        base = "upload", n = 6;
    json_decref(check);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)base[i] < 0x20 || base[i] == 0x7f ? '_' : base[i];
    out[n] = '\0';
    return out;
}

static int start_file(um_server *s, struct request *r, const char *filename)
{
    if ((int)r->nfiles >= s->config.max_files) {
        refuse(r, 413, "too-many-files",
               "Too many files in one request (--max-files-per-request).");
        return -1;
    }
    um_stage *stages = realloc(r->stages, (r->nfiles + 1) * sizeof *stages);
    if (stages)
        r->stages = stages;
    char **names = realloc(r->names, (r->nfiles + 1) * sizeof *names);
    if (names)
        r->names = names;
    char err[256];
    char *label = label_from_filename(filename);
    if (!stages || !names || !label) {
        free(label);
        refuse(r, 500, "out-of-memory", "The server ran out of memory.");
        return -1;
    }
    if (um_stage_open(s->store, &r->stages[r->nfiles], err, sizeof err) != 0) {
        free(label);
        refuse(r, 500, "store", "The upload could not be stored.");
        return -1;
    }
    r->names[r->nfiles++] = label;
    return 0;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct request *r = cls;
    um_server *s = r->server;
    if (r->refuse_status)
        return MHD_NO;
    if (off == 0 && ++r->parts > (size_t)s->config.max_files * 4 + 16) {
        refuse(r, 413, "too-many-parts", "Too many parts in one request.");
        return MHD_NO;
    }
    if (!key || strcmp(key, "file") != 0)
        return MHD_YES; /* other fields are ignored (their bytes still count) */
    if (off == 0 && start_file(s, r, filename) != 0)
        return MHD_NO;
    if (r->nfiles == 0) /* a continuation of a file part that was never started */
        return MHD_NO;
    if (size > 0 && um_stage_write(&r->stages[r->nfiles - 1], data, size) != 0) {
        refuse(r, 500, "store", "The upload could not be written to disk.");
        return MHD_NO;
    }
    return MHD_YES;
}

static int is_analysable_image(const um_stage *st)
{
    switch (um_sniff_format(st->head, st->head_len)) {
    case UM_FORMAT_JPEG: case UM_FORMAT_PNG: case UM_FORMAT_TIFF: case UM_FORMAT_WEBP:
    case UM_FORMAT_HEIF: case UM_FORMAT_AVIF: return 1;
    default: return 0;
    }
}

static json_t *acks_json(const struct um_ack *acks, char *const *names, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:I,s:s,s:b}", "id", (json_int_t)acks[i].id, "sha256",
                            acks[i].sha256, "name", names[i], "size", (json_int_t)acks[i].size,
                            "status", acks[i].status, "existing", acks[i].existing));
    return list ? json_pack("{s:o}", "analyses", list) : NULL;
}

/* The whole body is in: check every file, then make them durable and queue them. */
static enum MHD_Result finish_upload(um_server *s, struct MHD_Connection *c, struct request *r)
{
    if (r->nfiles == 0)
        return um_reply_error(c, 400, "no-file", "Send the images as multipart parts named file.");
    for (size_t i = 0; i < r->nfiles; i++)
        if (!is_analysable_image(&r->stages[i])) {
            refuse(r, 415, "not-an-image",
                   "A file is not a JPEG, PNG, TIFF, WebP, HEIF or AVIF image (read from its "
                   "bytes).");
            return um_reply_error(c, r->refuse_status, r->refuse_code, r->refuse_message);
        }
    struct um_ack *acks = calloc(r->nfiles, sizeof *acks);
    if (!acks)
        return um_reply_error(c, 500, "out-of-memory", "The server ran out of memory.");
    char err[512];
    int rc = um_store_commit_uploads(s->store, r->stages, (const char *const *)r->names,
                                     r->nfiles, s->params_json, s->config.queue, acks, err,
                                     sizeof err);
    enum MHD_Result reply;
    if (rc == UM_STORE_FULL)
        reply = um_reply_error(c, 503, "queue-full",
                               "Too many analyses are waiting; try again in a few seconds.");
    else if (rc != UM_STORE_OK)
        reply = um_reply_error(c, 500, "store", "The upload could not be stored.");
    else {
        for (size_t i = 0; i < r->nfiles; i++)
            um_workers_notify(s->workers);
        reply = um_reply_json(c, 202, acks_json(acks, r->names, r->nfiles));
    }
    free(acks);
    return reply;
}

/* ---- the first call of a request: everything decided from the headers ---- */

static int content_type_is(struct MHD_Connection *c, const char *type)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    return ct && strncasecmp(ct, type, strlen(type)) == 0;
}

static void check_upload_headers(um_server *s, struct MHD_Connection *c, struct request *r)
{
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    int64_t queued, running;
    if (!content_type_is(c, "multipart/form-data"))
        refuse(r, 415, "not-multipart", "Upload images as multipart/form-data parts named file.");
    else if (length && strtoull(length, NULL, 10) > s->config.max_upload + MULTIPART_SLACK)
        refuse(r, 413, "too-large", "The upload is larger than the server accepts (--max-upload).");
    else if (um_store_counts(s->store, &queued, &running) == 0 && queued >= s->config.queue)
        refuse(r, 503, "queue-full", "Too many analyses are waiting; try again in a few seconds.");
    else if (!(r->pp = MHD_create_post_processor(c, POST_BUFFER, on_part, r)))
        refuse(r, 400, "bad-multipart",
               "The multipart body has no usable boundary (2 to 70 characters).");
}

static struct request *request_new(um_server *s)
{
    struct request *r = calloc(1, sizeof *r);
    if (r)
        r->server = s;
    return r;
}

/* ---- request bodies ---- */

static void take_upload_bytes(um_server *s, struct request *r, const char *data, size_t size)
{
    r->received += size;
    if (r->received > s->config.max_upload + MULTIPART_SLACK)
        refuse(r, 413, "too-large",
               "The upload is larger than the server accepts (--max-upload).");
    if (!r->refuse_status && MHD_post_process(r->pp, data, size) != MHD_YES)
        refuse(r, 400, "bad-multipart", "The multipart body could not be read.");
}

static void take_note_bytes(struct request *r, const char *data, size_t size)
{
    if (r->refuse_status)
        return;
    if (size > NOTE_BODY_MAX - r->body_len) {
        refuse(r, 413, "too-large", "A note is at most 10000 bytes.");
        return;
    }
    char *grown = realloc(r->body, r->body_len + size + 1);
    if (!grown) {
        refuse(r, 500, "out-of-memory", "The server ran out of memory.");
        return;
    }
    memcpy(grown + r->body_len, data, size);
    r->body = grown;
    r->body_len += size;
}

/* A refused request is answered at once (on_request); body bytes that still arrive are dropped,
 * up to a bound, past which the connection is closed: a client that keeps sending after a
 * refusal gets no more of our time. */
static enum MHD_Result take_body(um_server *s, struct request *r, const char *data,
                                 size_t *size)
{
    if (r->refuse_status) {
        r->received += *size;
        *size = 0;
        return r->received > 2 * (s->config.max_upload + MULTIPART_SLACK) ? MHD_NO : MHD_YES;
    }
    if (r->upload)
        take_upload_bytes(s, r, data, *size);
    else
        take_note_bytes(r, data, *size);
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result finish_body(um_server *s, struct MHD_Connection *c, struct request *r)
{
    if (r->upload && !r->refuse_status) {
        enum MHD_Result complete = MHD_destroy_post_processor(r->pp);
        r->pp = NULL;
        if (complete != MHD_YES)
            refuse(r, 400, "bad-multipart", "The multipart body is truncated or malformed.");
    }
    if (r->refuse_status)
        return um_reply_error(c, r->refuse_status, r->refuse_code, r->refuse_message);
    if (r->upload)
        return finish_upload(s, c, r);
    return um_api_add_note(s, c, r->note_id, r->body ? r->body : "", r->body_len);
}

/* ---- routing ---- */

static enum MHD_Result serve_get(um_server *s, struct MHD_Connection *c,
                                 const struct um_route *rt)
{
    switch (rt->kind) {
    case UM_ROUTE_ASSET:
        return um_reply(c, 200, content_type_of(rt->asset->name), (void *)rt->asset->data,
                        rt->asset->size, 0, NULL);
    case UM_ROUTE_HEALTH: return um_api_health(s, c);
    case UM_ROUTE_ANALYSES: return um_api_list(s, c);
    case UM_ROUTE_ANALYSIS: return um_api_get(s, c, rt->id);
    case UM_ROUTE_IMAGE: return um_api_image(s, c, rt->id);
    case UM_ROUTE_MAP: return um_api_map(s, c, rt->id, rt->name);
    case UM_ROUTE_REPORT: return um_api_report(s, c, rt->id, 0);
    case UM_ROUTE_EXPORT: return um_api_report(s, c, rt->id, 1);
    default: return reply_bad_method(c, rt->kind);
    }
}

/* The first call of a request: authentication, route and method; a POST gets its state. */
static enum MHD_Result begin(um_server *s, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
    struct um_route rt;
    if (!host_allowed(s, c))
        return um_reply_error(c, 421, "bad-host", "This server answers to loopback names only.");
    const char *login = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (s->token && login && strcmp(url, "/") == 0 && strcmp(method, "GET") == 0)
        return token_login(s, c, login);
    if (!authorised(s, c))
        return um_reply_error(c, 401, "unauthorized",
                              "This server needs its token (Authorization: Bearer, or open "
                              "/?token=... once).");
    if (strlen(url) > UM_ROUTE_MAX_PATH)
        return um_reply_error(c, 414, "uri-too-long", "The path is too long.");
    if (um_route_parse(url, &rt) != 0)
        return um_reply_error(c, 404, "not-found", "Nothing is here.");
    if (!um_route_allows(rt.kind, method))
        return reply_bad_method(c, rt.kind);
    if (strcmp(method, "POST") != 0)
        return serve_get(s, c, &rt);
    struct request *r = request_new(s);
    if (!r)
        return MHD_NO;
    *con_cls = r;
    if (!same_origin(c))
        refuse(r, 403, "cross-origin", "Another site's page may not post to this server.");
    else if (rt.kind == UM_ROUTE_NOTES) {
        r->note_id = rt.id;
        if (!content_type_is(c, "application/json"))
            refuse(r, 415, "not-json", "Send the note as application/json.");
    } else {
        r->upload = 1;
        check_upload_headers(s, c, r);
    }
    /* Refused from the headers alone: answer now, before any of the body is read (libmicrohttpd
     * then closes the connection instead of reading a body nobody wants). */
    if (r->refuse_status)
        return um_reply_error(c, r->refuse_status, r->refuse_code, r->refuse_message);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    um_server *s = cls;
    struct request *r = *con_cls;
    if (!r)
        return begin(s, c, url, method, con_cls);
    if (*upload_data_size > 0) {
        enum MHD_Result rc = take_body(s, r, upload_data, upload_data_size);
        /* Refused on the way (too large, malformed): answer at once, the rest is not read. */
        if (rc == MHD_YES && r->refuse_status && !r->answered)
            r->answered = um_reply_error(c, r->refuse_status, r->refuse_code,
                                         r->refuse_message) == MHD_YES;
        return rc;
    }
    return r->answered ? MHD_YES : finish_body(s, c, r);
}

/* ---- start and stop ---- */

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return um_route_unescape(s);
}

void um_serve_config_init(struct um_serve_config *c)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8750;
    c->store_dir = "unmask-store";
    c->workers = 0;
    c->queue = 64;
    c->max_upload = 100ull << 20;
    c->max_files = 32;
    c->max_connections = 512;
    c->timeout_s = 60;
    c->params.max_bytes = c->max_upload;
    c->params.max_pixels = 250000000;
    c->params.max_dimension = 65500;
}

int um_serve_is_loopback(const char *host)
{
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return 1;
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int resolve(const struct um_serve_config *c, struct sockaddr_storage *addr, char *err,
                   size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    char port[8];
    snprintf(port, sizeof port, "%u", c->port);
    int rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", c->host, gai_strerror(rc));
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static int start_daemon(um_server *s, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    if (resolve(&s->config, &addr, err, errlen) != 0)
        return -1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)s->config.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->config.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->config.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, s, MHD_OPTION_UNESCAPE_CALLBACK,
        unescape, s, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s port %u (in use, or not an address of this "
                 "machine)", s->config.host, s->config.port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->config.port;
    return 0;
}

int um_serve_start(const struct um_serve_config *c, um_server **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!c->token && !um_serve_is_loopback(c->host)) {
        snprintf(err, errlen, "listening on %s (not loopback) needs --token or --token-file",
                 c->host);
        return -1;
    }
    um_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->config = *c;
    if (s->config.workers <= 0)
        s->config.workers = um_cpu_count();
    s->token = c->token ? strdup(c->token) : NULL;
    s->params_json = um_params_json(&c->params);
    s->cache = um_cache_new(CACHE_RESULTS, CACHE_PIXELS);
    if (!s->params_json || !s->cache || (c->token && !s->token)) {
        snprintf(err, errlen, "out of memory");
    } else if (um_store_open(c->store_dir, &s->store, err, errlen) == 0) {
        s->workers = um_workers_start(s->store, s->cache, s->config.workers);
        if (!s->workers)
            snprintf(err, errlen, "cannot start the analysis workers");
        else if (start_daemon(s, err, errlen) == 0) {
            *out = s;
            return 0;
        }
    }
    um_serve_stop(s);
    return -1;
}

unsigned um_serve_port(const um_server *s)
{
    return s->port;
}

void um_serve_stop(um_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon); /* closes the listening socket, ends the connections */
    um_workers_stop(s->workers);    /* running analyses finish and are recorded */
    um_store_close(s->store);
    um_cache_free(s->cache);
    free(s->params_json);
    free(s->token);
    free(s);
}
