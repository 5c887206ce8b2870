#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector.h"

void um_evidence_not_applicable(struct um_evidence *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->reason, sizeof ev->reason, fmt, ap);
    va_end(ap);
    ev->applicable = 0;
    ev->score = 0;
}

void um_evidence_add_finding(struct um_evidence *ev, const char *fmt, ...)
{
    if (ev->nfindings >= UM_MAX_FINDINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->findings[ev->nfindings++], UM_FINDING_LEN, fmt, ap);
    va_end(ap);
}

void um_evidence_add_headline(struct um_evidence *ev, const char *fmt, ...)
{
    int n = ev->nfindings < UM_MAX_FINDINGS ? ev->nfindings : UM_MAX_FINDINGS - 1;
    memmove(ev->findings[1], ev->findings[0], (size_t)n * UM_FINDING_LEN);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->findings[0], UM_FINDING_LEN, fmt, ap);
    va_end(ap);
    ev->nfindings = n + 1;
}

float *um_evidence_alloc_map(struct um_evidence *ev, int map_w, int map_h, int map_step)
{
    free(ev->map);
    ev->map = NULL;
    if (map_w <= 0 || map_h <= 0 || map_step <= 0)
        return NULL;
    ev->map = calloc((size_t)map_w * (size_t)map_h, sizeof(float));
    if (ev->map) {
        ev->map_w = map_w;
        ev->map_h = map_h;
        ev->map_step = map_step;
    }
    return ev->map;
}

json_t *um_json_number(double v)
{
    if (isnan(v))
        return json_null();
    if (isinf(v))
        v = v > 0 ? 1e308 : -1e308;
    return json_real(v);
}

void um_evidence_clear(struct um_evidence *ev)
{
    free(ev->map);
    if (ev->details)
        json_decref(ev->details);
    memset(ev, 0, sizeof *ev);
}
