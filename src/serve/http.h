/* What server.c (daemon, routing, auth, uploads) and api.c (the JSON and image handlers)
 * share. Internal to src/serve. */
#ifndef UM_SERVE_HTTP_H
#define UM_SERVE_HTTP_H

#include <jansson.h>
#include <microhttpd.h>

#include "serve/server.h"

struct um_server {
    struct um_serve_config config;
    char *token;
    char *params_json;        /* canonical parameters of new analyses */
    um_store *store;
    um_cache *cache;
    um_workers *workers;
    struct MHD_Daemon *daemon;
    unsigned port;
};

/* Every response goes through here: it adds the security headers (CSP, nosniff, no referrer).
 * data is taken (freed by MHD) when owned is 1, else must be static. */
enum MHD_Result um_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
                         void *data, size_t len, int owned, const char *disposition);
/* o is taken. */
enum MHD_Result um_reply_json(struct MHD_Connection *c, unsigned status, json_t *o);
/* {"error": {"code": code, "message": message}} */
enum MHD_Result um_reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                               const char *message);

enum MHD_Result um_api_health(um_server *s, struct MHD_Connection *c);
enum MHD_Result um_api_list(um_server *s, struct MHD_Connection *c);
enum MHD_Result um_api_get(um_server *s, struct MHD_Connection *c, int64_t id);
enum MHD_Result um_api_image(um_server *s, struct MHD_Connection *c, int64_t id);
enum MHD_Result um_api_map(um_server *s, struct MHD_Connection *c, int64_t id, const char *name);
enum MHD_Result um_api_report(um_server *s, struct MHD_Connection *c, int64_t id, int zip);
enum MHD_Result um_api_add_note(um_server *s, struct MHD_Connection *c, int64_t id,
                                const char *body, size_t len);

#endif
