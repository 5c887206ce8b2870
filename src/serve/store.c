/* The case store (see store.h for the layout and its guarantees). */
#include "serve/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unmask.h"

struct um_store {
    char dir[3800];
    sqlite3 *db;
    pthread_mutex_t lock;
    int lock_fd;
    int64_t reserved; /* queue slots promised to uploads being made durable */
};

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS objects("
    " sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, first_seen TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS analyses("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " sha256 TEXT NOT NULL REFERENCES objects(sha256), name TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('queued','running','done','failed')),"
    " created TEXT NOT NULL, started TEXT, finished TEXT, tool_version TEXT NOT NULL,"
    " parameters TEXT NOT NULL, label TEXT, score REAL, result TEXT, error TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0, UNIQUE(sha256, tool_version, parameters));"
    "CREATE INDEX IF NOT EXISTS analyses_status ON analyses(status, id);"
    "CREATE TABLE IF NOT EXISTS notes("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " analysis_id INTEGER NOT NULL REFERENCES analyses(id), text TEXT NOT NULL,"
    " created TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS notes_analysis ON notes(analysis_id);";

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void um_store_now(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *um_store_dir(const um_store *s)
{
    return s->dir;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir that is fine when the directory exists; a new one is made durable in its parent. */
static int ensure_dir(const char *path, const char *parent)
{
    if (mkdir(path, 0700) == 0)
        return fsync_dir(parent);
    struct stat st;
    return errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static void sub_path(const um_store *s, const char *sub, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", s->dir, sub);
}

void um_store_object_path(const um_store *s, const char *sha256, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/objects/%.2s/%s", s->dir, sha256, sha256);
}

static int exec_sql(um_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Uploads that never reached a commit leave temp files: nobody was told they were stored. */
static void empty_tmp(const um_store *s)
{
    char path[4096];
    sub_path(s, "tmp", path, sizeof path);
    DIR *d = opendir(path);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char file[4400];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    closedir(d);
}

static int object_has_row(um_store *s, const char *sha256)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM objects WHERE sha256=?", -1, &st, NULL))
        return 1; /* when unsure, keep the file */
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc != SQLITE_DONE;
}

/* An object file without a row was renamed into place by an upload killed before its commit:
 * never acknowledged, so removing it keeps "files == rows". */
static void remove_orphan_objects(um_store *s)
{
    char objects[4096];
    sub_path(s, "objects", objects, sizeof objects);
    DIR *top = opendir(objects);
    if (!top)
        return;
    for (struct dirent *e; (e = readdir(top));) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
            continue;
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/%.2s", objects, e->d_name);
        DIR *d = opendir(sub);
        if (!d)
            continue;
        for (struct dirent *f; (f = readdir(d));) {
            if (f->d_name[0] == '.' || object_has_row(s, f->d_name))
                continue;
            char file[4500];
            snprintf(file, sizeof file, "%s/%s", sub, f->d_name);
            unlink(file);
        }
        closedir(d);
    }
    closedir(top);
}

static int open_layout(um_store *s, const char *dir, char *err, size_t errlen)
{
    if (strlen(dir) >= sizeof s->dir - 200)
        return fail(err, errlen, "the store path is too long");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fail(err, errlen, "cannot create the store %s: %s", dir, strerror(errno));
    const char *subs[] = {"objects", "tmp"};
    for (size_t i = 0; i < 2; i++) {
        sub_path(s, subs[i], path, sizeof path);
        if (ensure_dir(path, dir) != 0)
            return fail(err, errlen, "cannot create %s: %s", path, strerror(errno));
    }
    sub_path(s, "lock", path, sizeof path);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return fail(err, errlen, "the store %s is in use by another unmask serve", dir);
    return 0;
}

static int open_db(um_store *s, char *err, size_t errlen)
{
    char path[4096];
    sub_path(s, "cases.sqlite", path, sizeof path);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK)
        return fail(err, errlen, "cannot open %s: %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_busy_timeout(s->db, 5000);
    if (exec_sql(s, schema) != 0)
        return fail(err, errlen, "cannot set up %s: %s", path, sqlite3_errmsg(s->db));
    /* A crash or kill during an analysis: its row is still 'running'; run it again. */
    if (exec_sql(s, "UPDATE analyses SET status='queued', started=NULL WHERE status='running'"))
        return fail(err, errlen, "cannot re-queue analyses: %s", sqlite3_errmsg(s->db));
    return 0;
}

int um_store_open(const char *dir, um_store **out, char *err, size_t errlen)
{
    *out = NULL;
    um_store *s = calloc(1, sizeof *s);
    if (!s)
        return fail(err, errlen, "out of memory");
    s->lock_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (open_layout(s, dir, err, errlen) != 0 || open_db(s, err, errlen) != 0) {
        um_store_close(s);
        return -1;
    }
    empty_tmp(s);
    remove_orphan_objects(s);
    *out = s;
    return 0;
}

void um_store_close(um_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- staging uploads ---- */

int um_stage_open(um_store *s, um_stage *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    snprintf(st->path, sizeof st->path, "%s/tmp/upload-XXXXXX", s->dir);
    st->md = EVP_MD_CTX_new();
    if (!st->md || !EVP_DigestInit_ex(st->md, EVP_sha256(), NULL)) {
        um_stage_discard(st);
        return fail(err, errlen, "out of memory");
    }
    st->fd = mkstemp(st->path);
    if (st->fd >= 0)
        fcntl(st->fd, F_SETFD, FD_CLOEXEC);
    if (st->fd < 0) {
        st->path[0] = '\0';
        um_stage_discard(st);
        return fail(err, errlen, "cannot create a temporary file in the store: %s",
                    strerror(errno));
    }
    return 0;
}

int um_stage_write(um_stage *st, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (st->head_len < sizeof st->head) {
        size_t n = sizeof st->head - st->head_len < len ? sizeof st->head - st->head_len : len;
        memcpy(st->head + st->head_len, p, n);
        st->head_len += n;
    }
    if (!EVP_DigestUpdate(st->md, data, len))
        return -1;
    while (len > 0) {
        ssize_t w = write(st->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
        st->size += (uint64_t)w;
    }
    return 0;
}

void um_stage_discard(um_stage *st)
{
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    if (st->path[0])
        unlink(st->path);
    st->path[0] = '\0';
    EVP_MD_CTX_free(st->md);
    st->md = NULL;
}

static void hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

/* fsync the temp file, then rename it to its content address and fsync that directory: after
 * this the bytes survive a crash under their final name. Identical bytes already stored: the
 * temp file is simply removed. */
static int make_object_durable(um_store *s, um_stage *st, char sha256[65], char *err,
                               size_t errlen)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_DigestFinal_ex(st->md, md, &mdlen) || mdlen != 32)
        return fail(err, errlen, "cannot hash the upload");
    hex(md, 32, sha256);
    if (fsync(st->fd) != 0)
        return fail(err, errlen, "cannot sync the upload to disk: %s", strerror(errno));
    close(st->fd);
    st->fd = -1;
    char objects[4000], dir[4100], path[4200];
    sub_path(s, "objects", objects, sizeof objects);
    snprintf(dir, sizeof dir, "%s/%.2s", objects, sha256);
    if (ensure_dir(dir, objects) != 0)
        return fail(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    um_store_object_path(s, sha256, path, sizeof path);
    if (rename(st->path, path) != 0)
        return fail(err, errlen, "cannot store the upload: %s", strerror(errno));
    st->path[0] = '\0';
    if (fsync_dir(dir) != 0)
        return fail(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
    return 0;
}

static int64_t count_status(um_store *s, const char *status)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM analyses WHERE status=?", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The analysis of these bytes with these parameters, if there is one: 1 and ack filled. */
static int find_analysis(um_store *s, const char *params, struct um_ack *ack)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id,status FROM analyses WHERE sha256=? AND tool_version=? "
                           "AND parameters=?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, ack->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, UM_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, params, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ack->id = sqlite3_column_int64(st, 0);
        snprintf(ack->status, sizeof ack->status, "%s",
                 (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Inserts the object (if new) and, unless these bytes were analysed or queued with these
 * parameters already, a queued analysis; fills ack. Runs inside the caller's transaction;
 * looking first (rather than INSERT OR IGNORE) keeps the ids free of gaps. */
static int insert_upload(um_store *s, const char *name, const char *params, const char *now,
                         struct um_ack *ack)
{
    sqlite3_stmt *st;
    int ok = sqlite3_prepare_v2(s->db,
                                "INSERT OR IGNORE INTO objects(sha256,size,first_seen) "
                                "VALUES(?,?,?)", -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, ack->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)ack->size);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    int found = ok ? find_analysis(s, params, ack) : -1;
    ack->existing = found == 1;
    if (found != 0)
        return found < 0 ? -1 : 0;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO analyses(sha256,name,status,created,tool_version,"
                           "parameters) VALUES(?,?,'queued',?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, ack->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, UM_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, params, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    ack->id = sqlite3_last_insert_rowid(s->db);
    snprintf(ack->status, sizeof ack->status, "queued");
    return ok ? 0 : -1;
}

static int insert_uploads(um_store *s, const char *const *names, size_t n, const char *params,
                          struct um_ack *acks, char *err, size_t errlen)
{
    char now[21];
    um_store_now(now);
    if (exec_sql(s, "BEGIN IMMEDIATE") != 0)
        return fail(err, errlen, "database: %s", sqlite3_errmsg(s->db));
    for (size_t i = 0; i < n; i++)
        if (insert_upload(s, names[i], params, now, &acks[i]) != 0) {
            fail(err, errlen, "database: %s", sqlite3_errmsg(s->db));
            exec_sql(s, "ROLLBACK");
            return -1;
        }
    if (exec_sql(s, "COMMIT") != 0) {
        fail(err, errlen, "database: %s", sqlite3_errmsg(s->db));
        exec_sql(s, "ROLLBACK");
        return -1;
    }
    return 0;
}

int um_store_commit_uploads(um_store *s, um_stage *stages, const char *const *names, size_t n,
                            const char *params, int64_t max_queued, struct um_ack *acks,
                            char *err, size_t errlen)
{
    /* Reserve queue room first, so a full queue refuses the upload before any byte is kept. */
    pthread_mutex_lock(&s->lock);
    int64_t queued = count_status(s, "queued");
    int full = queued < 0 || queued + s->reserved + (int64_t)n > max_queued;
    if (!full)
        s->reserved += (int64_t)n;
    pthread_mutex_unlock(&s->lock);
    if (queued < 0) {
        fail(err, errlen, "database: cannot count the queue");
        return UM_STORE_ERROR;
    }
    if (full)
        return UM_STORE_FULL;
    /* The slow part (fsync, rename) runs outside the lock: objects are independent files. */
    int rc = UM_STORE_OK;
    for (size_t i = 0; i < n && rc == UM_STORE_OK; i++) {
        memset(&acks[i], 0, sizeof acks[i]);
        acks[i].size = stages[i].size;
        if (make_object_durable(s, &stages[i], acks[i].sha256, err, errlen) != 0)
            rc = UM_STORE_ERROR;
    }
    pthread_mutex_lock(&s->lock);
    if (rc == UM_STORE_OK && insert_uploads(s, names, n, params, acks, err, errlen) != 0)
        rc = UM_STORE_ERROR;
    s->reserved -= (int64_t)n;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n && rc == UM_STORE_OK; i++)
        um_stage_discard(&stages[i]);
    /* On an error, renamed objects without a row are removed at the next start. */
    return rc;
}

/* ---- the work queue ---- */

int um_store_claim(um_store *s, int64_t *id, char sha256[65], char **params)
{
    char now[21];
    um_store_now(now);
    sqlite3_stmt *st;
    int found = -1;
    *params = NULL;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE analyses SET status='running', started=?, "
                           "attempts=attempts+1 WHERE id=(SELECT id FROM analyses WHERE "
                           "status='queued' ORDER BY id LIMIT 1) RETURNING id,sha256,parameters",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            snprintf(sha256, 65, "%s", (const char *)sqlite3_column_text(st, 1));
            *params = strdup((const char *)sqlite3_column_text(st, 2));
            found = *params ? 1 : -1;
            rc = sqlite3_step(st);
        } else if (rc == SQLITE_DONE) {
            found = 0;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int um_store_finish(um_store *s, int64_t id, const char *status, const char *result_json,
                    const char *label, double score, int has_score, const char *error)
{
    char now[21];
    um_store_now(now);
    sqlite3_stmt *st;
    int ok = 0;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE analyses SET status=?, finished=?, result=?, label=?, "
                           "score=?, error=? WHERE id=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, result_json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, label, -1, SQLITE_STATIC);
        if (has_score)
            sqlite3_bind_double(st, 5, score);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, id);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return ok ? 0 : -1;
}

int um_store_counts(um_store *s, int64_t *queued, int64_t *running)
{
    pthread_mutex_lock(&s->lock);
    *queued = count_status(s, "queued");
    *running = count_status(s, "running");
    pthread_mutex_unlock(&s->lock);
    return *queued < 0 || *running < 0 ? -1 : 0;
}

/* ---- the API's objects ---- */

/* Column i as JSON: text, integer, real or null; JSON-text columns parsed. */
static json_t *column_json(sqlite3_stmt *st, int i, int parse)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        const char *text = (const char *)sqlite3_column_text(st, i);
        if (parse) {
            json_t *v = json_loads(text, 0, NULL);
            return v ? v : json_null();
        }
        return json_string(text);
    }
    default: return json_null();
    }
}

/* The row's named columns into a JSON object; names starting with '*' hold JSON text. */
static json_t *row_object(sqlite3_stmt *st, const char *const *names, int n)
{
    json_t *o = json_object();
    for (int i = 0; o && i < n; i++) {
        int parse = names[i][0] == '*';
        json_object_set_new(o, names[i] + parse, column_json(st, i, parse));
    }
    return o;
}

static json_t *notes_of(um_store *s, int64_t id)
{
    static const char *const names[] = {"id", "text", "created"};
    sqlite3_stmt *st;
    json_t *notes = json_array();
    if (!notes || sqlite3_prepare_v2(s->db,
                                     "SELECT id,text,created FROM notes WHERE analysis_id=? "
                                     "ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return notes;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(notes, row_object(st, names, 3));
    sqlite3_finalize(st);
    return notes;
}

int um_store_get(um_store *s, int64_t id, json_t **out)
{
    static const char *const names[] = {"id", "sha256", "name", "size", "status", "created",
                                        "started", "finished", "tool_version", "*parameters",
                                        "label", "score", "error", "attempts", "*result"};
    sqlite3_stmt *st;
    int rc = UM_STORE_ERROR;
    *out = NULL;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT a.id,a.sha256,a.name,o.size,a.status,a.created,a.started,"
                           "a.finished,a.tool_version,a.parameters,a.label,a.score,a.error,"
                           "a.attempts,a.result FROM analyses a JOIN objects o USING(sha256) "
                           "WHERE a.id=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *out = row_object(st, names, 15);
            if (*out)
                json_object_set_new(*out, "notes", notes_of(s, id));
            rc = *out ? UM_STORE_OK : UM_STORE_ERROR;
        } else if (step == SQLITE_DONE) {
            rc = UM_STORE_NOT_FOUND;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* The WHERE clause shared by the count and the page of the case list; every value is bound. */
static const char list_where[] =
    " WHERE (?1 IS NULL OR instr(lower(a.name), lower(?1)) > 0 OR "
    "        substr(a.sha256, 1, length(?1)) = lower(?1))"
    " AND (?2 IS NULL OR a.label = ?2)"
    " AND (?3 IS NULL OR a.created >= ?3)"
    " AND (?4 IS NULL OR substr(a.created, 1, length(?4)) <= ?4)";

static void bind_list(sqlite3_stmt *st, const struct um_list_query *q)
{
    const char *values[] = {q->q, q->label, q->from, q->to};
    for (int i = 0; i < 4; i++)
        if (values[i] && values[i][0])
            sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_STATIC);
}

static int list_total(um_store *s, const struct um_list_query *q, int64_t *total)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM analyses a%s", list_where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    bind_list(st, q);
    int ok = sqlite3_step(st) == SQLITE_ROW;
    *total = ok ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static int list_page(um_store *s, const struct um_list_query *q, json_t *items)
{
    static const char *const names[] = {"id", "sha256", "name", "size", "status", "label",
                                        "score", "created", "finished", "notes_count"};
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT a.id,a.sha256,a.name,o.size,a.status,a.label,a.score,a.created,"
             "a.finished,(SELECT count(*) FROM notes n WHERE n.analysis_id=a.id) "
             "FROM analyses a JOIN objects o USING(sha256)%s ORDER BY a.id DESC "
             "LIMIT ?5 OFFSET ?6", list_where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    bind_list(st, q);
    sqlite3_bind_int64(st, 5, q->limit);
    sqlite3_bind_int64(st, 6, q->offset);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(items, row_object(st, names, 10));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int um_store_list(um_store *s, const struct um_list_query *q, json_t **out)
{
    int64_t total = 0;
    json_t *items = json_array();
    pthread_mutex_lock(&s->lock);
    int ok = items && list_total(s, q, &total) == 0 && list_page(s, q, items) == 0;
    pthread_mutex_unlock(&s->lock);
    *out = ok ? json_pack("{s:I,s:o}", "total", (json_int_t)total, "analyses", items) : NULL;
    if (!ok)
        json_decref(items);
    return *out ? UM_STORE_OK : UM_STORE_ERROR;
}

int um_store_add_note(um_store *s, int64_t id, const char *text, json_t **out)
{
    char now[21];
    um_store_now(now);
    sqlite3_stmt *st;
    int rc = UM_STORE_ERROR;
    *out = NULL;
    pthread_mutex_lock(&s->lock);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO notes(analysis_id,text,created) SELECT id,?,? FROM "
                           "analyses WHERE id=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(s->db) == 1 ? UM_STORE_OK : UM_STORE_NOT_FOUND;
        sqlite3_finalize(st);
    }
    if (rc == UM_STORE_OK)
        *out = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)sqlite3_last_insert_rowid(s->db),
                         "text", text, "created", now);
    pthread_mutex_unlock(&s->lock);
    return rc == UM_STORE_OK && !*out ? UM_STORE_ERROR : rc;
}
