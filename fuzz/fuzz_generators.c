/* libFuzzer target for the generator-trace recognisers (prov/generators.c).
 * Input layout: byte 0 = alpha plane width (0 = no plane), byte 1 = its height; the plane is
 * the last width*height bytes (when the input is long enough); the bytes between are text
 * entries separated by 0xFF, each "key\0value" (no NUL: the key is "parameters"). Besides the
 * sanitizers it checks the contract: UM_OK, a JSON report that serialises (every string valid
 * UTF-8), and found == 1 exactly when a trace is listed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prov/generators.h"

#define MAX_ENTRIES 16

static size_t split_entries(const uint8_t *p, size_t n, struct um_gen_text *t)
{
    size_t nt = 0, start = 0;
    for (size_t i = 0; i <= n && nt < MAX_ENTRIES; i++) {
        if (i < n && p[i] != 0xFF)
            continue;
        const char *entry = (const char *)p + start;
        size_t len = i - start;
        const char *nul = len ? memchr(entry, '\0', len) : NULL;
        t[nt].where = "tEXt";
        t[nt].key = nul ? entry : "parameters"; /* NUL-terminated at nul */
        t[nt].value = nul ? nul + 1 : entry;
        t[nt].len = nul ? len - (size_t)(nul + 1 - entry) : len;
        nt++;
        start = i + 1;
    }
    return nt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int aw = data[0], ah = data[1];
    size_t plane = (size_t)aw * (size_t)ah;
    const uint8_t *alpha = NULL;
    size_t text_len = size - 2;
    if (plane > 0 && plane <= text_len) {
        alpha = data + size - plane;
        text_len -= plane;
    }
    struct um_gen_text t[MAX_ENTRIES];
    size_t nt = split_entries(data + 2, text_len, t);
    um_gen_result r;
    if (um_generators_detect(t, nt, alpha, alpha ? aw : 0, alpha ? ah : 0, &r) != UM_OK ||
        !r.json)
        abort();
    char *dump = json_dumps(r.json, 0);
    if (!dump)
        abort();
    free(dump);
    size_t traces = json_array_size(json_object_get(r.json, "traces"));
    if ((traces > 0) != (r.found == 1))
        abort();
    um_gen_result_clear(&r);
    return 0;
}
