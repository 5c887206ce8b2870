/* Internals shared by the ingest files: ingest.c (parameters, one post -> shares, the
 * driver), ingest_csv.c, ingest_jsonl.c and cluster.c. Not part of the API (campaign.h). */
#ifndef UM_CAMPAIGN_INGEST_INTERNAL_H
#define UM_CAMPAIGN_INGEST_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>

#include "campaign/campaign.h"

#define CM_MAX_FIELDS 4096        /* columns per CSV record */
#define CM_MAX_VALUES_PER_FIELD 256 /* URLs / hashtags / images in one field */
#define CM_DEFAULT_MAX_RECORD (16u << 20) /* an API page of 100 tweets fits */

/* ---- the byte source: a FILE read in large blocks ---- */
struct source {
    FILE *f;
    unsigned char buf[1 << 16];
    size_t pos, len;
    uint64_t line; /* 1-based line of the next byte */
};

static inline int cm_next_byte(struct source *s)
{
    if (s->pos == s->len) {
        s->len = fread(s->buf, 1, sizeof s->buf, s->f);
        s->pos = 0;
        if (s->len == 0)
            return EOF;
    }
    int c = s->buf[s->pos++];
    if (c == '\n')
        s->line++;
    return c;
}

/* One record's fields, as (offset, length) into text. */
struct record {
    char *text;
    size_t len, cap, max;
    size_t off[CM_MAX_FIELDS], flen[CM_MAX_FIELDS];
    int nfields;
    uint64_t line;     /* where the record starts */
    const char *error; /* why it is malformed, or NULL */
};

/* Empties r for the record that starts at the source's next byte; returns that byte (EOF at
 * the end of the input). */
static inline int cm_record_start(struct source *s, struct record *r)
{
    r->len = 0;
    r->nfields = 0;
    r->error = NULL;
    r->line = s->line;
    return cm_next_byte(s);
}

static inline void cm_put_byte(struct record *r, int c)
{
    if (r->error)
        return;
    if (r->len + 1 >= r->max) {
        r->error = "record longer than the byte limit";
        return;
    }
    if (r->len + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        if (cap > r->max)
            cap = r->max;
        char *t = realloc(r->text, cap);
        if (!t) {
            r->error = "out of memory";
            return;
        }
        r->text = t;
        r->cap = cap;
    }
    r->text[r->len++] = (char)c;
}

/* ---- one post -> shares (ingest.c) ---- */
struct post {
    const char *account, *time, *content;
    size_t account_len, time_len, content_len;
    const char *value[CM_KIND_COUNT][CM_MAX_VALUES_PER_FIELD];
    size_t value_len[CM_KIND_COUNT][CM_MAX_VALUES_PER_FIELD];
    int nvalues[CM_KIND_COUNT];
};

struct ingest {
    const struct cm_ingest_params *p;
    struct cm_dataset *d;
    char *scratch; /* normalisation output and kind-prefixed keys */
    size_t scratch_cap;
    char *err;
    size_t errlen;
    int fatal;
};


/* A fatal problem: the message in in->err; returns -1. */
int cm_ingest_fail(struct ingest *in, const char *fmt, ...);
/* A malformed record: counted, remembered (the first CM_MAX_BAD_LINES), fatal if strict. 0 or
 * -1 (strict). */
int cm_ingest_bad_row(struct ingest *in, uint64_t line, const char *why);
/* Clears a post without touching its (large) value arrays. */
void cm_post_reset(struct post *post);
/* One value of a kind (empty values and values beyond CM_MAX_VALUES_PER_FIELD are dropped). */
int cm_post_add_value(struct post *post, int kind, const char *v, size_t len);
/* Values separated by blanks or commas (the QUT CSV's URL lists). */
void cm_post_add_split_values(struct post *post, int kind, const char *v, size_t len);
/* The post's shares into the dataset (one per value of each kind). 0, or -1 when fatal. */
int cm_ingest_add_post(struct ingest *in, const struct post *post, uint64_t line);

/* The readers: every record of the source into in->d. 0 or -1 (fatal; in->err). */
int cm_ingest_csv(struct ingest *in, struct source *src, struct record *r);   /* ingest_csv.c */
int cm_ingest_jsonl(struct ingest *in, struct source *src, struct record *r); /* ingest_jsonl.c */

/* After reading (cluster.c): near-duplicate texts and hex image hashes within the Hamming
 * distance become one object each. 0, or -1 with err (out of memory). */
int cm_dataset_cluster(struct cm_dataset *d, const struct cm_ingest_params *p, char *err,
                       size_t errlen);

#endif
