/* libFuzzer target for the container walkers (src/prov/containers.c): any bytes, format as
 * sniffed, and also read as a bare .c2pa sidecar. Besides the sanitizers it checks the walker's
 * contract: UM_OK or UM_ERR_NOMEM; every cited range (segments, spans, the C2PA exclusion) lies
 * inside the file; every payload can be read in full (ASan checks the extent); notes are
 * capped; clearing leaves nothing behind. A broken contract aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/decode.h"
#include "prov/containers.h"

static volatile unsigned sink;

static void check_range(uint64_t off, uint64_t len, size_t size)
{
    if (off > size || len > size - off)
        abort();
}

static void check_container(const um_container *c, size_t size)
{
    if (c->nseg > UM_PROV_MAX_SEGMENTS || c->nbox > UM_PROV_MAX_BOXES ||
        c->nnotes < 0 || c->nnotes > UM_PROV_MAX_NOTES)
        abort();
    for (size_t i = 0; i < c->nseg; i++) {
        const um_segment *s = &c->seg[i];
        check_range(s->offset, s->length, size);
        if (s->size && !s->data)
            abort();
        for (size_t k = 0; k < s->size; k++)
            sink += s->data[k];
        if (!memchr(s->key, 0, sizeof s->key) || !memchr(s->where, 0, sizeof s->where))
            abort();
    }
    for (size_t i = 0; i < c->nbox; i++)
        check_range(c->box[i].offset, c->box[i].length, size);
    if (c->c2pa) {
        check_range(c->c2pa_offset, c->c2pa_length, size);
        if (c->c2pa_stores < 1)
            abort();
        for (size_t k = 0; k < c->c2pa_size; k++)
            sink += c->c2pa[k];
    }
}

static void run(const uint8_t *data, size_t size, um_format fmt)
{
    um_container c;
    char err[256];
    um_error e = um_container_walk(data, size, fmt, &c, err, sizeof err);
    if (e == UM_OK)
        check_container(&c, size);
    else if (e != UM_ERR_NOMEM || c.nseg != 0 || c.nowned != 0)
        abort();
    um_container_clear(&c);
    if (c.seg || c.box || c.owned || c.nseg)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_format fmt = um_sniff_format(data, size);
    run(data, size, fmt);
    if (fmt != UM_FORMAT_UNKNOWN)
        run(data, size, UM_FORMAT_UNKNOWN);
    return 0;
}
