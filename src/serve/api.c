/* The JSON API's handlers of `unmask serve` (README "Web app"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/http.h"
#include "serve/zip.h"

enum { MAX_SIDE = 2048, MAX_NOTE_BYTES = 10000, MAX_LIST = 500 };

enum MHD_Result um_api_health(um_server *s, struct MHD_Connection *c)
{
    int64_t queued, running;
    if (um_store_counts(s->store, &queued, &running) != 0)
        return um_reply_error(c, 500, "store", "The case store could not be read.");
    return um_reply_json(c, 200,
                         json_pack("{s:s,s:s,s:{s:I,s:I}}", "status", "ok", "version",
                                   UM_VERSION, "queue", "queued", (json_int_t)queued, "running",
                                   (json_int_t)running));
}

/* A query value that must look like an ISO 8601 date or time prefix. */
static int is_date_prefix(const char *v)
{
    size_t n = strlen(v);
    if (n < 4 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789-:TZ", v[i]))
            return 0;
    return 1;
}

static int parse_bound(const char *v, int64_t max, int64_t *out)
{
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v)
        return 0;
    if (end == v || *end || x < 0 || x > max)
        return -1;
    *out = x;
    return 0;
}

enum MHD_Result um_api_list(um_server *s, struct MHD_Connection *c)
{
    struct um_list_query q = {
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q"),
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "label"),
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from"),
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to"), 50, 0};
    if ((q.from && q.from[0] && !is_date_prefix(q.from)) ||
        (q.to && q.to[0] && !is_date_prefix(q.to)))
        return um_reply_error(c, 400, "bad-date",
                              "from and to take an ISO 8601 date such as 2026-11-27.");
    if (parse_bound(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"), MAX_LIST,
                    &q.limit) != 0 ||
        parse_bound(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset"),
                    (int64_t)1 << 53, &q.offset) != 0)
        return um_reply_error(c, 400, "bad-range",
                              "limit takes 0 to 500 and offset a whole number from 0.");
    if ((q.q && strlen(q.q) > 512) || (q.label && strlen(q.label) > 64))
        return um_reply_error(c, 400, "bad-query", "The search text is too long.");
    json_t *out;
    if (um_store_list(s->store, &q, &out) != UM_STORE_OK)
        return um_reply_error(c, 500, "store", "The case store could not be read.");
    return um_reply_json(c, 200, out);
}

static enum MHD_Result not_found(struct MHD_Connection *c)
{
    return um_reply_error(c, 404, "not-found", "There is no analysis with that id.");
}

enum MHD_Result um_api_get(um_server *s, struct MHD_Connection *c, int64_t id)
{
    json_t *o;
    int rc = um_store_get(s->store, id, &o);
    if (rc == UM_STORE_NOT_FOUND)
        return not_found(c);
    if (rc != UM_STORE_OK)
        return um_reply_error(c, 500, "store", "The case store could not be read.");
    return um_reply_json(c, 200, o);
}

/* The finished result of id, or a reply saying why there is none (*reply set). */
static const um_result *result_or_reply(um_server *s, struct MHD_Connection *c, int64_t id,
                                        enum MHD_Result *reply)
{
    int missing;
    const um_result *r = um_cache_get(s->cache, s->store, id, &missing);
    if (r)
        return r;
    if (missing == UM_CACHE_NO_ANALYSIS)
        *reply = not_found(c);
    else if (missing == UM_CACHE_NOT_FINISHED)
        *reply = um_reply_error(c, 409, "not-finished", "The analysis has not finished yet.");
    else
        *reply = um_reply_error(c, 500, "analysis", "The analysis could not be run again.");
    return NULL;
}

static enum MHD_Result reply_png(um_server *s, struct MHD_Connection *c, const um_result *r,
                                 unsigned char *png, size_t len, const char *what)
{
    um_cache_release(s->cache, r);
    if (!png)
        return um_reply_error(c, 404, "no-map", what);
    return um_reply(c, 200, "image/png", png, len, 1, NULL);
}

enum MHD_Result um_api_image(um_server *s, struct MHD_Connection *c, int64_t id)
{
    enum MHD_Result reply;
    const um_result *r = result_or_reply(s, c, id, &reply);
    if (!r)
        return reply;
    size_t len = 0;
    unsigned char *png = um_result_image_png(r, MAX_SIDE, &len);
    return reply_png(s, c, r, png, len, "The image could not be decoded.");
}

enum MHD_Result um_api_map(um_server *s, struct MHD_Connection *c, int64_t id, const char *name)
{
    enum MHD_Result reply;
    const um_result *r = result_or_reply(s, c, id, &reply);
    if (!r)
        return reply;
    size_t len = 0;
    unsigned char *png = um_result_map_png(r, name, MAX_SIDE, &len);
    return reply_png(s, c, r, png, len, "That detector drew no map for this image.");
}

/* The texts of the case's notes, pointing into the analysis object. */
static const char **note_texts(json_t *analysis, size_t *n)
{
    json_t *notes = json_object_get(analysis, "notes");
    *n = json_array_size(notes);
    const char **texts = calloc(*n ? *n : 1, sizeof *texts);
    for (size_t i = 0; texts && i < *n; i++)
        texts[i] = json_string_value(json_object_get(json_array_get(notes, i), "text"));
    return texts;
}

static char *report_html(const um_result *r, json_t *analysis, size_t *len)
{
    um_report_options o;
    um_report_options_init(&o);
    o.analysed_at = json_string_value(json_object_get(analysis, "finished"));
    o.notes = note_texts(analysis, &o.nnotes);
    o.max_side = MAX_SIDE;
    char *html = o.notes ? um_result_report_html(r, &o, len) : NULL;
    free((void *)o.notes);
    return html;
}

/* The export: report.html and analysis.json (the GET /api/analyses/{id} object). */
static enum MHD_Result reply_zip(struct MHD_Connection *c, json_t *analysis, char *html,
                                 size_t html_len, const char *disposition)
{
    char *json = json_dumps(analysis, JSON_INDENT(2));
    size_t len = 0;
    unsigned char *zip = NULL;
    if (json) {
        struct um_zip_entry entries[] = {{"report.html", html, html_len},
                                         {"analysis.json", json, strlen(json)}};
        zip = um_zip_stored(entries, 2, time(NULL), &len);
    }
    free(json);
    free(html);
    if (!zip)
        return um_reply_error(c, 500, "export", "The export could not be made.");
    return um_reply(c, 200, "application/zip", zip, len, 1, disposition);
}

enum MHD_Result um_api_report(um_server *s, struct MHD_Connection *c, int64_t id, int zip)
{
    json_t *analysis;
    int rc = um_store_get(s->store, id, &analysis);
    if (rc != UM_STORE_OK)
        return rc == UM_STORE_NOT_FOUND
                   ? not_found(c)
                   : um_reply_error(c, 500, "store", "The case store could not be read.");
    enum MHD_Result reply;
    const um_result *r = result_or_reply(s, c, id, &reply);
    if (!r) {
        json_decref(analysis);
        return reply;
    }
    size_t len = 0;
    char *html = report_html(r, analysis, &len);
    um_cache_release(s->cache, r);
    char disposition[96];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"unmask-%.12s.%s\"",
             json_string_value(json_object_get(analysis, "sha256")), zip ? "zip" : "html");
    if (!html) {
        json_decref(analysis);
        return um_reply_error(c, 500, "report", "The report could not be made.");
    }
    reply = zip ? reply_zip(c, analysis, html, len, disposition)
                : um_reply(c, 200, "text/html; charset=utf-8", html, len, 1, disposition);
    json_decref(analysis);
    return reply;
}

enum MHD_Result um_api_add_note(um_server *s, struct MHD_Connection *c, int64_t id,
                                const char *body, size_t len)
{
    json_error_t jerr;
    json_t *in = json_loadb(body, len, 0, &jerr);
    json_t *text = json_object_get(in, "text");
    size_t n = json_string_length(text);
    const char *value = json_string_value(text);
    if (!value || n == 0 || strlen(value) != n || n > MAX_NOTE_BYTES) {
        json_decref(in);
        return um_reply_error(c, 400, "bad-note",
                              "Send {\"text\": \"...\"}: 1 to 10000 bytes of UTF-8 text.");
    }
    json_t *note;
    int rc = um_store_add_note(s->store, id, value, &note);
    json_decref(in);
    if (rc == UM_STORE_NOT_FOUND)
        return not_found(c);
    if (rc != UM_STORE_OK)
        return um_reply_error(c, 500, "store", "The note could not be saved.");
    return um_reply_json(c, 201, note);
}
