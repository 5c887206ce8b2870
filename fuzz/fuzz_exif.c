/* libFuzzer target for the EXIF reader (prov/exif.c): any bytes as a TIFF payload. Besides the
 * sanitizers it checks the reader's contract: JSON always built; the thumbnail, when reported,
 * lies inside the input; strings are valid for jansson (they were accepted into the JSON). A
 * reported JPEG thumbnail is also run through the thumbnail comparison against a tiny image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prov/exif.h"
#include "prov/thumbnail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    um_exif x;
    if (um_exif_read(data, size, &x) != UM_OK)
        return 0;
    if (!x.json)
        abort();
    if (x.thumbnail && (x.thumbnail < data || x.thumbnail_size > size ||
                        x.thumbnail > data + size - x.thumbnail_size))
        abort();
    if (x.make && x.json && !json_object_get(x.json, "make") && x.make[0])
        abort(); /* a string jansson refused (invalid UTF-8) would vanish from the report */
    if (x.user_comment && !json_object_get(json_object_get(x.json, "user_comment"), "text"))
        abort();
    char *s = json_dumps(x.json, 0);
    free(s);
    if (x.thumbnail && x.thumbnail_is_jpeg) {
        um_image *p = um_image_new(16, 12, 3);
        um_thumb_result r;
        if (p && um_thumbnail_compare(x.thumbnail, x.thumbnail_size, p, x.orientation, &r) ==
                     UM_OK)
            um_thumb_result_clear(&r);
        um_image_free(p);
    }
    um_exif_clear(&x);
    return 0;
}
