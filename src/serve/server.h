/* `unmask serve`: the verification desk's web app and JSON API over libmicrohttpd, the case
 * store (store.h) and the analysis workers (queue.h). The HTTP API is documented in README
 * "Web app"; the CLI shell is src/cli/cmd_serve.c. */
#ifndef UM_SERVE_SERVER_H
#define UM_SERVE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "serve/queue.h"

struct um_serve_config {
    const char *host;         /* numeric address or "localhost"; default 127.0.0.1 */
    unsigned port;            /* 0: any free port (um_serve_port tells which) */
    const char *store_dir;
    const char *token;        /* NULL: no token (then only a loopback address may be bound) */
    int workers;              /* analyses at once; default one per core */
    int64_t queue;            /* analyses waiting at most; default 64 */
    uint64_t max_upload;      /* bytes of one request's files together; default 100 MB */
    int max_files;            /* files in one request; default 32 */
    int max_connections;      /* default 512 */
    int timeout_s;            /* idle connection timeout; default 60 */
    struct um_params params;  /* analysis parameters recorded with every analysis */
};

void um_serve_config_init(struct um_serve_config *c);

/* 1 if host names a loopback address (127.0.0.0/8, ::1, "localhost"). */
int um_serve_is_loopback(const char *host);

typedef struct um_server um_server;
/* Opens the store, starts the workers and the HTTP daemon. Refuses a non-loopback host
 * without a token. */
int um_serve_start(const struct um_serve_config *c, um_server **out, char *err, size_t errlen);
unsigned um_serve_port(const um_server *s);
/* Graceful stop: no new connections, running analyses finish (queued ones stay in the store
 * for the next start), the store is closed. */
void um_serve_stop(um_server *s);

#endif
