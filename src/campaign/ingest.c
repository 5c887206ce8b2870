/* Streaming ingest of posts for campaign detection: CSV (RFC 4180, ingest_csv.c) or JSON Lines
 * (ingest_jsonl.c), one record at a time, so memory grows with the distinct accounts, contents
 * and objects, never with the file. Each record becomes one share per object it carries (per
 * selected kind; this file). Malformed records are counted with their line numbers and skipped
 * (fatal under strict). Then near-duplicate and image-hash clustering (cluster.c). This file:
 * kinds, presets, the dataset, one post -> shares, and the driver. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/ingest_internal.h"

static const char *const kind_names[CM_KIND_COUNT] = {"share", "link",  "hashtag", "text",
                                                      "near-text", "image", "domain"};

const char *cm_kind_name(int kind)
{
    return kind >= 0 && kind < CM_KIND_COUNT ? kind_names[kind] : "?";
}

int cm_kinds_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        int k = 0;
        while (k < CM_KIND_COUNT && !(strlen(kind_names[k]) == len && !strncmp(p, kind_names[k], len)))
            k++;
        if (k == CM_KIND_COUNT) {
            snprintf(err, errlen, "unknown kind '%.*s' (kinds: share, link, hashtag, text, "
                     "near-text, image, domain)", (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        *mask |= 1u << k;
        p += len + (p[len] == ',');
    }
    if (!*mask) {
        snprintf(err, errlen, "no kind selected");
        return -1;
    }
    return 0;
}

void cm_ingest_params_init(struct cm_ingest_params *p)
{
    memset(p, 0, sizeof *p);
    p->format = CM_FORMAT_AUTO;
    p->kinds = 1u << CM_KIND_SHARE;
    p->max_record = CM_DEFAULT_MAX_RECORD;
    p->image_distance = -1;
    cm_ingest_preset(p, "coortweet");
    cm_neardup_params_init(&p->neardup);
}

int cm_ingest_preset(struct cm_ingest_params *p, const char *name)
{
    struct cm_columns c = {0};
    p->twitter_v2 = 0;
    p->preset_kinds = 0;
    if (!strcmp(name, "coortweet")) {
        c = (struct cm_columns){.account = "account_id", .time = "timestamp",
                                .object = "object_id", .content = "content_id"};
    } else if (!strcmp(name, "qut")) {
        /* the QUT coordination-network-toolkit's CSV: message_id,user_id,username,repost_id,
         * reply_id,message,timestamp,urls (urls separated by spaces) */
        c = (struct cm_columns){.account = "user_id", .time = "timestamp", .object = "repost_id",
                                .content = "message_id", .text = "message", .url = "urls"};
    } else if (!strcmp(name, "twitter-v2")) {
        c = (struct cm_columns){.account = "author_id", .time = "created_at", .content = "id"};
        p->twitter_v2 = 1;
        p->format = CM_FORMAT_JSONL;
    } else if (!strcmp(name, "german-wide")) {
        c = (struct cm_columns){.account = "account_id", .time = "timestamp",
                                .content = "content_id", .url = "url_id",
                                .hashtag = "hashtag_id", .image = "phash_id",
                                .domain = "domain_id"};
    } else if (!strcmp(name, "simulate")) {
        /* `unmask campaign simulate`'s CSV; its texts are near-duplicates by design */
        c = (struct cm_columns){.account = "account_id", .time = "timestamp",
                                .object = "object_id", .content = "content_id", .url = "url",
                                .hashtag = "hashtag", .text = "text", .image = "image"};
        p->preset_kinds = 1u << CM_KIND_SHARE | 1u << CM_KIND_LINK | 1u << CM_KIND_NEAR_TEXT;
    } else {
        return -1;
    }
    p->col = c;
    return 0;
}

unsigned cm_default_kinds(const struct cm_ingest_params *p)
{
    if (p->twitter_v2)
        return 1u << CM_KIND_SHARE | 1u << CM_KIND_LINK | 1u << CM_KIND_HASHTAG;
    unsigned kinds = 0;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if (cm_kind_column(&p->col, k) &&
            (p->preset_kinds ? p->preset_kinds & (1u << k)
                             : k != CM_KIND_TEXT && k != CM_KIND_NEAR_TEXT))
            kinds |= 1u << k;
    return kinds;
}

void cm_dataset_free(struct cm_dataset *d)
{
    cm_intern_free(&d->accounts);
    cm_intern_free(&d->contents);
    cm_intern_free(&d->objects);
    for (int k = 0; k < CM_KIND_COUNT; k++)
        free(d->shares[k].v);
    memset(d, 0, sizeof *d);
}

const char *cm_object_value(const struct cm_dataset *d, uint32_t object)
{
    const char *s = cm_intern_str(&d->objects, object);
    return *s ? s + 1 : s;
}

int cm_object_kind(const struct cm_dataset *d, uint32_t object)
{
    return cm_intern_str(&d->objects, object)[0] - '0';
}

int cm_ingest_fail(struct ingest *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->err, in->errlen, fmt, ap);
    va_end(ap);
    in->fatal = 1;
    return -1;
}

int cm_ingest_bad_row(struct ingest *in, uint64_t line, const char *why)
{
    struct cm_dataset *d = in->d;
    d->bad_rows++;
    if (d->nbad < CM_MAX_BAD_LINES) {
        d->bad[d->nbad].line = line;
        snprintf(d->bad[d->nbad].why, sizeof d->bad[d->nbad].why, "%s", why);
        d->nbad++;
    }
    if (in->p->strict)
        return cm_ingest_fail(in, "line %llu: %s (--strict)", (unsigned long long)line, why);
    return 0;
}

void cm_post_reset(struct post *post)
{
    post->account = post->time = post->content = NULL;
    post->account_len = post->time_len = post->content_len = 0;
    memset(post->nvalues, 0, sizeof post->nvalues);
}

int cm_post_add_value(struct post *post, int kind, const char *v, size_t len)
{
    if (len == 0 || post->nvalues[kind] == CM_MAX_VALUES_PER_FIELD)
        return 0;
    post->value[kind][post->nvalues[kind]] = v;
    post->value_len[kind][post->nvalues[kind]++] = len;
    return 0;
}

/* Link, hashtag and image fields may list several values separated by blanks (the QUT CSV). */
void cm_post_add_split_values(struct post *post, int kind, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (isspace((unsigned char)v[i]) || v[i] == ','))
            i++;
        size_t j = i;
        while (j < len && !isspace((unsigned char)v[j]) && v[j] != ',')
            j++;
        cm_post_add_value(post, kind, v + i, j - i);
        i = j;
    }
}

static char *scratch(struct ingest *in, size_t need)
{
    if (need > in->scratch_cap) {
        char *s = realloc(in->scratch, need);
        if (!s)
            return NULL;
        in->scratch = s;
        in->scratch_cap = need;
    }
    return in->scratch;
}

/* The object key: the kind byte, then the value as normalised for that kind. */
static size_t object_key(int kind, const char *v, size_t len, char *out)
{
    out[0] = (char)('0' + kind);
    switch (kind) {
    case CM_KIND_LINK: return 1 + cm_normalize_url(v, len, out + 1);
    case CM_KIND_HASHTAG: return 1 + cm_normalize_hashtag(v, len, out + 1);
    case CM_KIND_TEXT:
    case CM_KIND_NEAR_TEXT: return 1 + cm_normalize_text(v, len, out + 1);
    case CM_KIND_IMAGE: return 1 + cm_normalize_hashtag(v, len, out + 1); /* hex: case-fold */
    default:
        memcpy(out + 1, v, len);
        out[1 + len] = '\0';
        return 1 + len;
    }
}

static int push_share(struct cm_table *t, const struct cm_share *s)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct cm_share *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = *s;
    return 0;
}

int cm_ingest_add_post(struct ingest *in, const struct post *post, uint64_t line)
{
    struct cm_dataset *d = in->d;
    if (!post->account || !post->account_len)
        return cm_ingest_bad_row(in, line, "empty account");
    int64_t t;
    if (!post->time || cm_parse_time(post->time, post->time_len, &t))
        return cm_ingest_bad_row(in, line, "unreadable timestamp");
    char line_id[32]; /* no content column: each row is its own post */
    const char *content = post->content;
    size_t content_len = post->content_len;
    if (!content) {
        content_len = (size_t)snprintf(line_id, sizeof line_id, "line%llu",
                                       (unsigned long long)line);
        content = line_id;
    }
    struct cm_share s = {.time = t};
    s.account = cm_intern_add(&d->accounts, post->account, post->account_len);
    s.content = cm_intern_add(&d->contents, content, content_len);
    if (s.account == CM_INTERN_FAIL || s.content == CM_INTERN_FAIL)
        return cm_ingest_fail(in, "out of memory (or more than 2^31 accounts or posts)");
    for (int k = 0; k < CM_KIND_COUNT; k++) {
        for (int i = 0; i < post->nvalues[k]; i++) {
            size_t len = post->value_len[k][i];
            char *key = scratch(in, len + 2);
            if (!key)
                return cm_ingest_fail(in, "out of memory");
            size_t klen = object_key(k, post->value[k][i], len, key);
            if (klen == 1)
                continue; /* nothing left after normalisation */
            s.object = cm_intern_add(&d->objects, key, klen);
            if (s.object == CM_INTERN_FAIL)
                return cm_ingest_fail(in, "out of memory (or more than 2^31 objects)");
            s.flags = (klen - 1 == content_len && !memcmp(key + 1, content, content_len))
                          ? CM_SHARE_SELF_REF : 0;
            if (push_share(&d->shares[k], &s))
                return cm_ingest_fail(in, "out of memory");
        }
    }
    return 0;
}

/* ---- the driver ---- */
static int is_jsonl(struct source *src)
{
    /* peek: fill the buffer and look at the first non-blank byte */
    if (src->pos == src->len) {
        src->len = fread(src->buf, 1, sizeof src->buf, src->f);
        src->pos = 0;
    }
    for (size_t i = src->pos; i < src->len; i++)
        if (!isspace(src->buf[i]))
            return src->buf[i] == '{';
    return 0;
}

int cm_ingest_stream(FILE *f, const struct cm_ingest_params *p, struct cm_dataset *d, char *err,
                     size_t errlen)
{
    struct source *src = calloc(1, sizeof *src);
    struct record *r = calloc(1, sizeof *r);
    struct ingest in = {.p = p, .d = d, .err = err, .errlen = errlen};
    int rc = -1;
    if (!src || !r) {
        snprintf(err, errlen, "out of memory");
    } else {
        src->f = f;
        src->line = 1;
        r->max = p->max_record ? p->max_record : CM_DEFAULT_MAX_RECORD;
        int jsonl = p->format == CM_FORMAT_JSONL || (p->format == CM_FORMAT_AUTO && is_jsonl(src));
        rc = jsonl ? cm_ingest_jsonl(&in, src, r) : cm_ingest_csv(&in, src, r);
        if (rc == 0 && ferror(f))
            rc = cm_ingest_fail(&in, "read error: %s", strerror(errno));
        if (rc == 0)
            rc = cm_dataset_cluster(d, p, err, errlen);
    }
    if (r)
        free(r->text);
    free(r);
    free(src);
    free(in.scratch);
    return rc;
}

int cm_ingest_buffer(const char *data, size_t len, const struct cm_ingest_params *p,
                     struct cm_dataset *d, char *err, size_t errlen)
{
    static const char empty[1] = {0};
    FILE *f = fmemopen((void *)(len ? data : empty), len ? len : 1, "r");
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!len)
        fgetc(f); /* fmemopen refuses size 0: open one byte and consume it */
    int rc = cm_ingest_stream(f, p, d, err, errlen);
    fclose(f);
    return rc;
}
