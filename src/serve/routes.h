/* The request router of `unmask serve`: a URL path (already percent-decoded by libmicrohttpd)
 * to one of the few things that exist. Nothing else is reachable: no path is ever joined to a
 * directory, so "/../", "%2e%2e", NUL or overlong paths simply match no route. */
#ifndef UM_SERVE_ROUTES_H
#define UM_SERVE_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "report/assets.h"

enum um_route_kind {
    UM_ROUTE_ASSET,           /* GET / or /<asset name> */
    UM_ROUTE_HEALTH,          /* GET /api/health */
    UM_ROUTE_ANALYSES,        /* GET (list) or POST (upload) /api/analyses */
    UM_ROUTE_ANALYSIS,        /* GET /api/analyses/{id} */
    UM_ROUTE_IMAGE,           /* GET /api/analyses/{id}/image.png */
    UM_ROUTE_MAP,             /* GET /api/analyses/{id}/maps/{name}.png */
    UM_ROUTE_REPORT,          /* GET /api/analyses/{id}/report.html */
    UM_ROUTE_EXPORT,          /* GET /api/analyses/{id}/export */
    UM_ROUTE_NOTES            /* POST /api/analyses/{id}/notes */
};

#define UM_ROUTE_MAX_PATH 1024

struct um_route {
    enum um_route_kind kind;
    int64_t id;               /* 1 .. 2^53 */
    char name[64];            /* the map name: a registered detector or "fused" */
    const struct um_asset *asset;
};

/* Percent-decoding in place for libmicrohttpd (paths and query values), as RFC 3986 2.1, except
 * that "%00" is left encoded: a NUL would cut a C string short ("/index.html%00.png" would
 * become "/index.html"). Returns the new length. */
size_t um_route_unescape(char *s);

/* 0 and *r filled, or -1: nothing there (404). */
int um_route_parse(const char *path, struct um_route *r);

/* 1 if name[0..len) is a registered detector's name. */
int um_route_is_detector(const char *name, size_t len);

/* 1 if method is allowed on that route ("HEAD" counts as "GET"). */
int um_route_allows(enum um_route_kind kind, const char *method);

#endif
