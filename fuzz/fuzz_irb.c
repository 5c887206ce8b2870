/* libFuzzer target for the Photoshop IRB, IPTC-IIM and Ducky readers (prov/irb.c): the same
 * bytes through all three. Checks: JSON always built; pointers reported into the input lie
 * inside it; the Photoshop quality is the stored int16 + 4. */
#include <stdint.h>
#include <stdlib.h>

#include "prov/irb.h"

static void inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    if (p && (p < data || n > size || p > data + size - n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_irb r;
    if (um_irb_read(data, size, &r) == UM_OK) {
        if (!r.json)
            abort();
        inside(r.iim, r.iim_size, data, size);
        inside(r.thumbnail, r.thumbnail_size, data, size);
        if (r.has_quality && (r.photoshop_quality < -32764 || r.photoshop_quality > 32771))
            abort();
        char *s = json_dumps(r.json, 0);
        free(s);
        um_irb_clear(&r);
    }
    um_iptc t;
    if (um_iptc_read(data, size, &t) == UM_OK) {
        if (!t.json)
            abort();
        um_iptc_clear(&t);
    }
    um_ducky d;
    if (um_ducky_read(data, size, &d) == UM_OK) {
        if (d.has_quality && (d.quality < 0 || d.quality > 100))
            abort();
        um_ducky_clear(&d);
    }
    return 0;
}
