/* JSON Lines input for campaign detection (jansson): one object per line with keys or dotted
 * paths for the columns, or Twitter API v2 tweets (also {"data": [...]} pages). */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "campaign/ingest_internal.h"

/* One line (JSON Lines). Returns 0 at the end of input, 1 with a line in r->text (NUL-ended). */
static int read_line(struct source *s, struct record *r)
{
    int c = cm_record_start(s, r);
    if (c == EOF)
        return 0;
    for (; c != EOF && c != '\n'; c = cm_next_byte(s))
        cm_put_byte(r, c);
    cm_put_byte(r, '\0');
    if (!r->error)
        r->len--;
    return 1;
}


/* Dotted path lookup ("entities.urls"). */
static json_t *json_path(json_t *obj, const char *path)
{
    char key[128];
    while (obj && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        obj = json_is_object(obj) ? json_object_get(obj, key) : NULL;
        path += len + (path[len] == '.');
    }
    return obj;
}

/* A scalar as text: strings as they are, integers printed (ids are often numbers). */
static const char *json_text(json_t *v, char *buf, size_t cap, size_t *len)
{
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v)) {
        *len = (size_t)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        *len = (size_t)snprintf(buf, cap, "%.0f", json_real_value(v));
        return buf;
    }
    return NULL;
}

/* Every value at path: a scalar, or each scalar (or each object's field) of an array. */
static void json_values(struct post *post, int kind, json_t *v, const char *field)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_values(post, kind, field ? json_object_get(e, field) : e, NULL);
        return;
    }
    if (json_is_string(v)) /* objects must be strings: a number would need its own buffer */
        cm_post_add_value(post, kind, json_string_value(v), json_string_length(v));
}

struct json_numbers {
    char account[32], time[32], content[32];
};

static void json_scalar(json_t *obj, const char *path, char *buf, const char **out,
                        size_t *len)
{
    *out = path ? json_text(json_path(obj, path), buf, 32, len) : NULL;
}

/* Twitter API v2 tweet: retweeted post -> share; entities.urls[].expanded_url -> link;
 * entities.hashtags[].tag -> hashtag; text -> text kinds. */
static void twitter_values(json_t *tw, struct post *post)
{
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(tw, "referenced_tweets"), i, ref) {
        const char *type = json_string_value(json_object_get(ref, "type"));
        json_t *id = json_object_get(ref, "id");
        if (type && !strcmp(type, "retweeted") && json_is_string(id))
            cm_post_add_value(post, CM_KIND_SHARE, json_string_value(id), json_string_length(id));
    }
    json_t *urls = json_path(tw, "entities.urls");
    json_t *u;
    json_array_foreach(urls, i, u) {
        json_t *x = json_object_get(u, "expanded_url");
        if (!json_is_string(x))
            x = json_object_get(u, "url");
        json_values(post, CM_KIND_LINK, x, NULL);
    }
    json_values(post, CM_KIND_HASHTAG, json_path(tw, "entities.hashtags"), "tag");
    json_values(post, CM_KIND_TEXT, json_object_get(tw, "text"), NULL);
    json_values(post, CM_KIND_NEAR_TEXT, json_object_get(tw, "text"), NULL);
    json_values(post, CM_KIND_IMAGE, json_path(tw, "attachments.media_keys"), NULL);
}

static int json_post(struct ingest *in, json_t *obj, uint64_t line)
{
    static _Thread_local struct post post;
    struct json_numbers nums;
    cm_post_reset(&post);
    const struct cm_columns *c = &in->p->col;
    json_scalar(obj, c->account, nums.account, &post.account, &post.account_len);
    json_scalar(obj, c->time, nums.time, &post.time, &post.time_len);
    json_scalar(obj, c->content, nums.content, &post.content, &post.content_len);
    if (in->p->twitter_v2) {
        twitter_values(obj, &post);
    } else {
        for (int k = 0; k < CM_KIND_COUNT; k++) {
            const char *col = cm_kind_column(c, k);
            if (col)
                json_values(&post, k, json_path(obj, col), NULL);
        }
    }
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if (!(in->p->kinds & (1u << k)))
            post.nvalues[k] = 0;
    return cm_ingest_add_post(in, &post, line);
}

static int json_line(struct ingest *in, const struct record *r)
{
    if (r->error)
        return cm_ingest_bad_row(in, r->line, r->error);
    json_error_t jerr;
    json_t *root = json_loadb(r->text, r->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return cm_ingest_bad_row(in, r->line, root ? "not a JSON object" : "invalid JSON");
    }
    int rc = 0;
    json_t *data = json_object_get(root, "data"); /* an API page: {"data": [tweet, ...]} */
    if (in->p->twitter_v2 && json_is_array(data)) {
        size_t i, n = json_array_size(data);
        json_t *tw;
        in->d->rows += n > 1 ? n - 1 : 0; /* each tweet of a page is a row (the line counted 1) */
        json_array_foreach(data, i, tw) {
            if (rc)
                break;
            rc = json_is_object(tw) ? json_post(in, tw, r->line) : cm_ingest_bad_row(in, r->line, "not a tweet");
        }
    } else {
        rc = json_post(in, root, r->line);
    }
    json_decref(root);
    return rc;
}

int cm_ingest_jsonl(struct ingest *in, struct source *src, struct record *r)
{
    const struct cm_columns *c = &in->p->col;
    if (!c->account || !c->time)
        return cm_ingest_fail(in, "no account or time field given");
    while (!in->fatal && read_line(src, r)) {
        size_t i = 0;
        while (i < r->len && isspace((unsigned char)r->text[i]))
            i++;
        if (i == r->len && !r->error)
            continue; /* blank line */
        in->d->rows++;
        if (json_line(in, r))
            return -1;
    }
    return in->fatal ? -1 : 0;
}
