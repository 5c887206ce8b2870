/* A growing text buffer for the writers that build one string (the readable summary, the HTML
 * report, the campaign summary). Out of memory is remembered, not reported at each call: the
 * writer appends freely and asks once, at the end, whether it all fit. */
#ifndef UM_CORE_STRBUF_H
#define UM_CORE_STRBUF_H

#include <stddef.h>

struct um_strbuf {
    char *s;     /* NUL-terminated once anything was appended */
    size_t len, cap;
    int failed;  /* an append ran out of memory: the contents are incomplete */
};

void um_strbuf_append(struct um_strbuf *b, const char *s, size_t n);
void um_strbuf_printf(struct um_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The string (the caller frees it), or NULL when an append failed (then everything is freed).
 * An empty buffer gives "". */
char *um_strbuf_finish(struct um_strbuf *b);

#endif
