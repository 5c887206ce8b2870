#include "prov/c2pa_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void um_c2pa_status_add(um_c2pa_statuses *list, um_c2pa_status_kind kind, const char *code,
                        const char *url, const char *fmt, ...)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        um_c2pa_status *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown) {
            list->oom = 1;
            return;
        }
        list->items = grown;
        list->cap = cap;
    }
    um_c2pa_status *s = &list->items[list->n++];
    s->kind = kind;
    snprintf(s->code, sizeof s->code, "%s", code);
    snprintf(s->url, sizeof s->url, "%s", url ? url : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->explanation, sizeof s->explanation, fmt, ap);
    va_end(ap);
}

int um_c2pa_status_has(const um_c2pa_statuses *list, const char *code)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].code, code) == 0)
            return 1;
    return 0;
}

void um_c2pa_statuses_clear(um_c2pa_statuses *list)
{
    free(list->items);
    memset(list, 0, sizeof *list);
}
