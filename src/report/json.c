/* The JSON Lines record of one analysis (contract: README "JSON schema", schema_version). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/result.h"
#include "prov/text.h"

/* A string from outside (a file name) may not be UTF-8: keep it readable, replace bad bytes. */
static json_t *outside_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

static json_t *round3(double v)
{
    return um_json_number(round(v * 1000.0) / 1000.0);
}

static json_t *detector_json(const struct um_detector_run *run)
{
    const struct um_evidence *ev = &run->ev;
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(run->detector->name));
    json_object_set_new(d, "family", json_string(run->detector->family));
    json_object_set_new(d, "applicable", json_boolean(ev->applicable));
    if (!ev->applicable)
        json_object_set_new(d, "reason", json_string(ev->reason));
    json_object_set_new(d, "score", ev->applicable && !ev->no_score ? round3(ev->score)
                                                                    : json_null());
    if (ev->applicable && ev->has_nfa)
        json_object_set_new(d, "log10_nfa", round3(ev->log10_nfa));
    json_t *findings = json_array();
    for (int i = 0; i < ev->nfindings; i++)
        json_array_append_new(findings, json_string(ev->findings[i]));
    json_object_set_new(d, "findings", findings);
    if (ev->details)
        json_object_set(d, "details", ev->details);
    json_object_set_new(d, "time_ms", round3(run->ms));
    return d;
}

static json_t *verdict_json(const struct um_verdict *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "score", round3(v->score));
    json_object_set_new(o, "label", json_string(v->label));
    if (v->calibrated)
        json_object_set_new(o, "false_alarm_rate", um_json_number(v->false_alarm_rate));
    json_t *reasons = json_array();
    for (int i = 0; i < v->nreasons; i++)
        json_array_append_new(reasons, um_json_cstr(v->reasons[i]));
    json_object_set_new(o, "reasons", reasons);
    return o;
}

static json_t *timing_json(const um_result *r)
{
    json_t *t = json_object();
    json_object_set_new(t, "decode", round3(r->decode_ms));
    json_object_set_new(t, "provenance", round3(r->prov_ms));
    for (size_t i = 0; i < r->nruns; i++)
        if (r->runs[i].ran)
            json_object_set_new(t, r->runs[i].detector->name, round3(r->runs[i].ms));
    json_object_set_new(t, "fuse", round3(r->fuse_ms));
    json_object_set_new(t, "total", round3(r->total_ms));
    return t;
}

/* The provenance section as prov/provenance.c made it; when it could not be examined (out of
 * memory) say so rather than emit an empty object that could be read as "no credentials". */
static json_t *provenance_json(const um_result *r)
{
    if (r->prov_examined && r->prov.json)
        return json_incref(r->prov.json);
    return json_pack("{s:b}", "examined", 0);
}

static json_t *record_head(const um_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "schema_version", json_integer(UM_SCHEMA_VERSION));
    json_object_set_new(o, "file", outside_text(r->file));
    json_object_set_new(o, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)r->size_bytes));
    if (r->decoded.format != UM_FORMAT_UNKNOWN)
        json_object_set_new(o, "format", json_string(um_format_name(r->decoded.format)));
    if (r->error != UM_OK) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(um_error_name(r->error)));
        json_object_set_new(e, "message", outside_text(r->message));
        json_object_set_new(o, "error", e);
    }
    return o;
}

static char *record_dump(json_t *o)
{
    json_object_set_new(o, "tool", json_pack("{s:s,s:s}", "name", "unmask", "version", UM_VERSION));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    return s;
}

char *um_result_provenance_json(const um_result *r)
{
    json_t *o = record_head(r);
    if (!o)
        return NULL;
    json_object_set_new(o, "provenance", provenance_json(r));
    json_object_set_new(o, "timing_ms", json_pack("{s:o,s:o}", "provenance", round3(r->prov_ms),
                                                  "total", round3(r->total_ms)));
    return record_dump(o);
}

char *um_result_json(const um_result *r)
{
    json_t *o = record_head(r);
    if (!o)
        return NULL;
    if (r->error == UM_OK) {
        json_object_set_new(o, "width", json_integer(r->decoded.width));
        json_object_set_new(o, "height", json_integer(r->decoded.height));
        json_object_set_new(o, "verdict", verdict_json(&r->verdict));
        json_t *dets = json_array();
        for (size_t i = 0; i < r->nruns; i++)
            if (r->runs[i].ran)
                json_array_append_new(dets, detector_json(&r->runs[i]));
        json_object_set_new(o, "detectors", dets);
    }
    if (r->error == UM_OK || r->prov_examined)
        json_object_set_new(o, "provenance", provenance_json(r));
    if (r->nmaps) {
        json_t *maps = json_object();
        for (size_t i = 0; i < r->nmaps; i++)
            json_object_set_new(maps, r->maps[i].name, outside_text(r->maps[i].path));
        json_object_set_new(o, "maps", maps);
    }
    json_object_set_new(o, "timing_ms", timing_json(r));
    return record_dump(o);
}
