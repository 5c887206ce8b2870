/* The case store of `unmask serve`: uploaded bytes as content-addressed files and the analyses,
 * their results and notes in SQLite.
 *
 * Layout of DIR:
 *   DIR/cases.sqlite          WAL journal, synchronous=FULL: a commit is on disk when it returns
 *   DIR/objects/ab/abcd...    the uploaded bytes, named by their SHA-256 (hex), never modified
 *   DIR/tmp/                  uploads being received; emptied at every start
 *   DIR/lock                  flock()ed by the one server using the store
 *
 * Guarantees: an object is written to DIR/tmp, fsync'ed, renamed into objects/ and its directory
 * fsync'ed BEFORE its row is committed, and the row is committed before the upload is
 * acknowledged; so everything acknowledged survives a crash or kill -9. At open, analyses left
 * 'running' are re-queued, DIR/tmp is emptied and object files without a row (a crash between
 * rename and commit: never acknowledged) are removed.
 *
 * The same bytes analysed with the same tool version and parameters are ONE object and ONE
 * analysis: a second upload returns the existing analysis (its result is deterministic), so a
 * client that retries an upload never causes a second analysis.
 *
 * The DB is the work queue: rows in 'queued' are claimed by workers in id order.
 * All functions are thread-safe (one connection behind a mutex). */
#ifndef UM_SERVE_STORE_H
#define UM_SERVE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct um_store um_store;

enum um_store_status { UM_STORE_OK = 0, UM_STORE_NOT_FOUND, UM_STORE_FULL, UM_STORE_ERROR };

/* Opens (creating if needed) the store in dir and recovers it as described above. */
int um_store_open(const char *dir, um_store **out, char *err, size_t errlen);
void um_store_close(um_store *s);
const char *um_store_dir(const um_store *s);

/* An upload being received into DIR/tmp: bytes are hashed as they arrive. */
typedef struct um_stage {
    int fd;                   /* -1 when closed */
    char path[4096];          /* temp file; "" once renamed or removed */
    void *md;                 /* EVP_MD_CTX */
    uint64_t size;
    unsigned char head[64];   /* first bytes, to sniff the type */
    size_t head_len;
} um_stage;

int um_stage_open(um_store *s, um_stage *st, char *err, size_t errlen);
int um_stage_write(um_stage *st, const void *data, size_t len);
/* Closes and removes the temp file (safe on a stage already committed or never opened). */
void um_stage_discard(um_stage *st);

/* What an acknowledged upload became. */
struct um_ack {
    int64_t id;
    char sha256[65];
    uint64_t size;
    char status[8];
    int existing;             /* 1: these bytes had already been analysed or queued */
};

/* Makes n staged uploads durable and queues their analyses (params: the canonical JSON of the
 * analysis parameters). UM_STORE_FULL, before anything is written, when more than max_queued
 * analyses would be waiting. On UM_STORE_OK every stage is consumed and acks[i] filled; on any
 * other status the caller discards the stages (nothing was committed). */
int um_store_commit_uploads(um_store *s, um_stage *stages, const char *const *names, size_t n,
                            const char *params, int64_t max_queued, struct um_ack *acks,
                            char *err, size_t errlen);

/* The next queued analysis, marked running (attempts + 1): 1 with its id, sha256 and parameters
 * (params malloc'ed), 0 when none is queued, -1 on a database error. */
int um_store_claim(um_store *s, int64_t *id, char sha256[65], char **params);
/* Records a finished analysis: status "done" or "failed", its result JSON, label, score
 * (has_score 0: NULL) and error message (NULL: none). */
int um_store_finish(um_store *s, int64_t id, const char *status, const char *result_json,
                    const char *label, double score, int has_score, const char *error);

/* DIR/objects/ab/abcd... of a hash. */
void um_store_object_path(const um_store *s, const char *sha256, char *out, size_t outlen);

/* The API's objects (the JSON documented in README "Web app"). *out is a new reference. */
int um_store_get(um_store *s, int64_t id, json_t **out);

struct um_list_query {
    const char *q;            /* file name substring (case-insensitive ASCII) or sha256 prefix */
    const char *label;
    const char *from, *to;    /* ISO 8601 prefixes, inclusive: "2026-11-27" is the whole day */
    int64_t limit, offset;
};
int um_store_list(um_store *s, const struct um_list_query *q, json_t **out);

/* Adds a note (text: valid UTF-8) to an analysis; *out the note {id, text, created}. */
int um_store_add_note(um_store *s, int64_t id, const char *text, json_t **out);

int um_store_counts(um_store *s, int64_t *queued, int64_t *running);

/* "2026-11-27T10:20:00Z" for now. */
void um_store_now(char out[21]);

#endif
