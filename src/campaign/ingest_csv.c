/* CSV input for campaign detection (RFC 4180): a streaming record reader and the mapping of
 * header columns to accounts, times, contents and objects. */
#include <string.h>

#include "campaign/ingest_internal.h"

/* ---- records ---- */
static void end_field(struct record *r, size_t start)
{
    if (r->error)
        return;
    if (r->nfields == CM_MAX_FIELDS) {
        r->error = "too many columns";
        return;
    }
    r->off[r->nfields] = start;
    r->flen[r->nfields++] = r->len - start;
    cm_put_byte(r, '\0'); /* fields are NUL-terminated for the parsers */
}

/* RFC 4180: fields separated by ',', records by CRLF or LF; a quoted field may hold commas,
 * line breaks and doubled quotes. Returns 0 at the end of input, 1 with a record (possibly
 * marked malformed). A quote inside an unquoted field is taken literally (common in practice). */
static int read_csv_record(struct source *s, struct record *r)
{
    int c = cm_record_start(s, r);
    if (c == EOF)
        return 0;
    size_t start = 0;
    int quoted = 0, after_quote = 0;
    for (;; c = cm_next_byte(s)) {
        if (quoted) {
            if (c == EOF) {
                r->error = "quoted field not closed at the end of the input";
                end_field(r, start);
                return 1;
            }
            if (c == '"') {
                int d = cm_next_byte(s);
                if (d == '"') {
                    cm_put_byte(r, '"');
                    continue;
                }
                quoted = 0;
                after_quote = 1;
                c = d;
            } else {
                cm_put_byte(r, c);
                continue;
            }
        }
        if (c == EOF || c == '\n') {
            if (!after_quote && r->len > start && r->text && r->text[r->len - 1] == '\r')
                r->len--;
            end_field(r, start);
            return 1;
        }
        if (c == ',') {
            end_field(r, start);
            start = r->len;
            after_quote = 0;
        } else if (after_quote) {
            if (c != '\r' && !r->error)
                r->error = "text after a closing quote";
        } else if (c == '"' && r->len == start) {
            quoted = 1;
        } else {
            cm_put_byte(r, c);
        }
    }
}


/* ---- posts ---- */
struct csv_map {
    int account, time, content, kind[CM_KIND_COUNT]; /* field index, -1 = absent */
};

const char *cm_kind_column(const struct cm_columns *c, int kind)
{
    switch (kind) {
    case CM_KIND_SHARE: return c->object;
    case CM_KIND_LINK: return c->url;
    case CM_KIND_HASHTAG: return c->hashtag;
    case CM_KIND_TEXT:
    case CM_KIND_NEAR_TEXT: return c->text;
    case CM_KIND_IMAGE: return c->image;
    case CM_KIND_DOMAIN: return c->domain;
    default: return NULL;
    }
}

static int find_field(const struct record *r, const char *name)
{
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->text + r->off[i], name))
            return i;
    return -1;
}

static int map_column(struct ingest *in, const struct record *hdr, const char *name,
                      const char *what, int *out)
{
    *out = -1;
    if (!name)
        return 0;
    *out = find_field(hdr, name);
    if (*out < 0)
        return cm_ingest_fail(in, "the header has no column '%s' (%s)", name, what);
    return 0;
}

static int map_header(struct ingest *in, struct record *hdr, struct csv_map *m)
{
    if (hdr->error)
        return cm_ingest_fail(in, "line 1: unreadable header: %s", hdr->error);
    if (hdr->nfields > 0 && !strncmp(hdr->text, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM */
        hdr->off[0] += 3;
    }
    const struct cm_columns *c = &in->p->col;
    if (!c->account || !c->time)
        return cm_ingest_fail(in, "no account or time column given");
    if (map_column(in, hdr, c->account, "account", &m->account) ||
        map_column(in, hdr, c->time, "time", &m->time) ||
        map_column(in, hdr, c->content, "content", &m->content))
        return -1;
    int any = 0;
    for (int k = 0; k < CM_KIND_COUNT; k++) {
        m->kind[k] = -1;
        if (!(in->p->kinds & (1u << k)))
            continue;
        if (!cm_kind_column(c, k))
            return cm_ingest_fail(in, "kind '%s' needs a column (see --help)", cm_kind_name(k));
        if (map_column(in, hdr, cm_kind_column(c, k), cm_kind_name(k), &m->kind[k]))
            return -1;
        any = 1;
    }
    if (!any)
        return cm_ingest_fail(in, "no kind of object selected");
    return 0;
}

static int csv_post(struct ingest *in, const struct record *r, const struct csv_map *m)
{
    static _Thread_local struct post post;
    cm_post_reset(&post);
    int need = m->account > m->time ? m->account : m->time;
    if (m->content > need)
        need = m->content;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if (m->kind[k] > need)
            need = m->kind[k];
    if (r->error)
        return cm_ingest_bad_row(in, r->line, r->error);
    if (r->nfields <= need)
        return cm_ingest_bad_row(in, r->line, "too few columns");
    post.account = r->text + r->off[m->account];
    post.account_len = r->flen[m->account];
    post.time = r->text + r->off[m->time];
    post.time_len = r->flen[m->time];
    if (m->content >= 0) {
        post.content = r->text + r->off[m->content];
        post.content_len = r->flen[m->content];
    }
    for (int k = 0; k < CM_KIND_COUNT; k++) {
        if (m->kind[k] < 0)
            continue;
        const char *v = r->text + r->off[m->kind[k]];
        size_t len = r->flen[m->kind[k]];
        if (k == CM_KIND_LINK || k == CM_KIND_HASHTAG || k == CM_KIND_IMAGE)
            cm_post_add_split_values(&post, k, v, len);
        else
            cm_post_add_value(&post, k, v, len);
    }
    return cm_ingest_add_post(in, &post, r->line);
}

int cm_ingest_csv(struct ingest *in, struct source *src, struct record *r)
{
    struct csv_map m;
    if (!read_csv_record(src, r))
        return cm_ingest_fail(in, "empty input: no header");
    if (map_header(in, r, &m))
        return -1;
    while (!in->fatal && read_csv_record(src, r)) {
        if (r->nfields == 1 && r->flen[0] == 0 && !r->error)
            continue; /* blank line */
        in->d->rows++;
        if (csv_post(in, r, &m))
            return -1;
    }
    return in->fatal ? -1 : 0;
}
