/* JSON helpers shared by the provenance readers. Metadata strings come from the file and may be
 * anything: never hand them to jansson unchecked (json_string refuses invalid UTF-8, and a
 * refused value silently disappears from the report). */
#ifndef UM_PROV_PROV_JSON_H
#define UM_PROV_PROV_JSON_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string of at most max_bytes of text (0 = no cap beyond len): invalid UTF-8 bytes and
 * NULs become U+FFFD, a cut text ends with "…". Returns NULL only when out of memory. */
json_t *um_json_text(const char *text, size_t len, size_t max_bytes);

#endif
