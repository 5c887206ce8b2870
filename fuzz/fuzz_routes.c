/* libFuzzer target for the request router of `unmask serve` (src/serve/routes.c): any bytes as
 * a URL path through the percent-decoder and the router. Besides the sanitizers it checks the
 * router's contract: decoding never grows the string nor produces a NUL; a route found is one
 * that exists (an asset from the table, an id in 1..2^53, a map name of a registered detector
 * or "fused") and is reachable by some method. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/routes.h"

static void check_route(const struct um_route *r)
{
    if (r->kind == UM_ROUTE_ASSET && (!r->asset || !r->asset->name))
        abort();
    if (r->kind >= UM_ROUTE_ANALYSIS && (r->id < 1 || r->id > ((int64_t)1 << 53)))
        abort();
    if (r->kind == UM_ROUTE_MAP && strcmp(r->name, "fused") != 0 &&
        !um_route_is_detector(r->name, strlen(r->name)))
        abort();
    if (!um_route_allows(r->kind, "GET") && !um_route_allows(r->kind, "POST"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * UM_ROUTE_MAX_PATH)
        return 0;
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    size_t before = strlen(path);
    size_t after = um_route_unescape(path);
    if (after > before || after != strlen(path))
        abort();
    struct um_route r;
    if (um_route_parse(path, &r) == 0)
        check_route(&r);
    free(path);
    return 0;
}
