/* URL path to route (see routes.h). */
#include "serve/routes.h"

#include <string.h>

#include "core/hex.h"
#include "unmask.h"

static const struct um_asset *find_asset(const char *name)
{
    for (const struct um_asset *a = um_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* A decimal id without sign or leading zero, at most 2^53 (a JSON number stays exact). Moves
 * *p past it. */
static int parse_id(const char **p, int64_t *id)
{
    const char *s = *p;
    int64_t v = 0;
    if (*s < '1' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > ((int64_t)1 << 53))
            return -1;
    }
    *id = v;
    *p = s;
    return 0;
}

int um_route_is_detector(const char *name, size_t len)
{
    for (size_t i = 0; i < um_detector_count(); i++) {
        const char *d = um_detector_at(i)->name;
        if (strlen(d) == len && memcmp(d, name, len) == 0)
            return 1;
    }
    return 0;
}

/* After "/api/analyses/{id}": "", "/image.png", "/maps/{name}.png", "/report.html", "/export",
 * "/notes". */
static int parse_analysis_tail(const char *tail, struct um_route *r)
{
    static const struct {
        const char *tail;
        enum um_route_kind kind;
    } fixed[] = {{"", UM_ROUTE_ANALYSIS},         {"/image.png", UM_ROUTE_IMAGE},
                 {"/report.html", UM_ROUTE_REPORT}, {"/export", UM_ROUTE_EXPORT},
                 {"/notes", UM_ROUTE_NOTES}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(tail, fixed[i].tail) == 0) {
            r->kind = fixed[i].kind;
            return 0;
        }
    static const char maps[] = "/maps/", png[] = ".png";
    size_t len = strlen(tail);
    if (len <= strlen(maps) + strlen(png) || strncmp(tail, maps, strlen(maps)) != 0 ||
        strcmp(tail + len - strlen(png), png) != 0)
        return -1;
    const char *name = tail + strlen(maps);
    size_t name_len = len - strlen(maps) - strlen(png);
    int fused = name_len == 5 && memcmp(name, "fused", 5) == 0;
    if (name_len >= sizeof r->name || !(fused || um_route_is_detector(name, name_len)))
        return -1;
    memcpy(r->name, name, name_len);
    r->name[name_len] = '\0';
    r->kind = UM_ROUTE_MAP;
    return 0;
}

size_t um_route_unescape(char *s)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        int hi = *in == '%' ? um_hex_digit((unsigned char)in[1]) : -1;
        int lo = hi >= 0 ? um_hex_digit((unsigned char)in[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *out++ = (char)(hi << 4 | lo);
            in += 2;
        } else {
            *out++ = *in; /* "%00" and stray '%' stay as they are: no route has them */
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

int um_route_parse(const char *path, struct um_route *r)
{
    static const char api[] = "/api/analyses";
    memset(r, 0, sizeof *r);
    if (!path || path[0] != '/' || strlen(path) > UM_ROUTE_MAX_PATH)
        return -1;
    if (strcmp(path, "/api/health") == 0) {
        r->kind = UM_ROUTE_HEALTH;
        return 0;
    }
    if (strncmp(path, api, strlen(api)) == 0) {
        const char *p = path + strlen(api);
        if (*p == '\0') {
            r->kind = UM_ROUTE_ANALYSES;
            return 0;
        }
        if (*p != '/')
            return -1;
        p++;
        if (parse_id(&p, &r->id) != 0)
            return -1;
        return parse_analysis_tail(p, r);
    }
    /* Assets: exact names from the compiled-in table, nothing else. */
    r->asset = find_asset(strcmp(path, "/") == 0 ? "index.html" : path + 1);
    r->kind = UM_ROUTE_ASSET;
    return r->asset ? 0 : -1;
}

int um_route_allows(enum um_route_kind kind, const char *method)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    switch (kind) {
    case UM_ROUTE_ANALYSES: return get || post;
    case UM_ROUTE_NOTES: return post;
    default: return get;
    }
}
