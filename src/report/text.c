/* The readable summary for a person (the CLI's default output). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/result.h"
#include "core/strbuf.h"

static const char *label_words(const char *label)
{
    if (strcmp(label, UM_LABEL_MANIPULATED) == 0)
        return "MANIPULATED: strong evidence of editing";
    if (strcmp(label, UM_LABEL_LIKELY_MANIPULATED) == 0)
        return "LIKELY MANIPULATED: evidence of editing, check the marked regions";
    if (strcmp(label, UM_LABEL_AI_GENERATED) == 0)
        return "AI-GENERATED";
    if (strcmp(label, UM_LABEL_NO_EVIDENCE) == 0)
        return "NO EVIDENCE FOUND (not a proof of authenticity)";
    return "INCONCLUSIVE: the image cannot be judged by these methods";
}

/* A JSON string member, or "" (the provenance report is JSON; the text view reads it). */
static const char *member_text(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The provenance summary: one plain sentence per fact, most important first. */
static void put_provenance(struct um_strbuf *b, const um_result *r)
{
    if (!r->prov_examined)
        return;
    const json_t *statements = json_object_get(json_object_get(r->prov.json, "summary"),
                                               "statements");
    um_strbuf_printf(b, "  Provenance:\n");
    size_t i;
    const json_t *line;
    json_array_foreach(statements, i, line)
        um_strbuf_printf(b, "    - %s\n", json_string_value(line));
}

/* What `unmask provenance` adds: the C2PA status codes and the warnings met while reading. */
static void put_provenance_details(struct um_strbuf *b, const um_result *r)
{
    if (!r->prov_examined)
        return;
    const json_t *c2pa = json_object_get(r->prov.json, "c2pa");
    const json_t *active = json_object_get(json_object_get(c2pa, "validation_results"),
                                           "activeManifest");
    static const char *const groups[] = {"success", "informational", "failure"};
    if (active) {
        um_strbuf_printf(b, "  C2PA validation (%s), active manifest %s:\n",
                         member_text(c2pa, "validation_state"),
                         member_text(c2pa, "active_manifest"));
        for (int g = 0; g < 3; g++) {
            size_t i;
            const json_t *st;
            json_array_foreach(json_object_get(active, groups[g]), i, st)
                um_strbuf_printf(b, "    %-13s %s  %s\n", groups[g], member_text(st, "code"),
                                 member_text(st, "explanation"));
        }
    }
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(r->prov.json, "warnings"), i, w)
        um_strbuf_printf(b, "  warning: %s\n", json_string_value(w));
}

char *um_result_text(const um_result *r)
{
    struct um_strbuf b = {0};
    if (r->error != UM_OK) {
        um_strbuf_printf(&b, "%s: error (%s): %s\n", r->file, um_error_name(r->error), r->message);
        put_provenance(&b, r);
        return um_strbuf_finish(&b);
    }
    um_strbuf_printf(&b, "%s: %s %dx%d, sha256 %.16s...\n", r->file,
                     um_format_name(r->decoded.format), r->decoded.width, r->decoded.height,
                     r->sha256);
    um_strbuf_printf(&b, "  Verdict: %s (score %.2f)\n", label_words(r->verdict.label),
                     r->verdict.score);
    for (int i = 0; i < r->verdict.nreasons; i++)
        um_strbuf_printf(&b, "    - %s\n", r->verdict.reasons[i]);
    um_strbuf_printf(&b, "  Detectors:\n");
    for (size_t i = 0; i < r->nruns; i++) {
        const struct um_detector_run *run = &r->runs[i];
        if (!run->ran)
            continue;
        const struct um_evidence *ev = &run->ev;
        if (!ev->applicable) {
            um_strbuf_printf(&b, "    %-15s not applicable: %s\n", run->detector->name, ev->reason);
            continue;
        }
        if (ev->no_score)
            um_strbuf_printf(&b, "    %-15s facts", run->detector->name);
        else
            um_strbuf_printf(&b, "    %-15s score %.2f", run->detector->name, ev->score);
        if (ev->has_nfa)
            um_strbuf_printf(&b, "  (log10 NFA %.1f)", ev->log10_nfa);
        um_strbuf_printf(&b, "\n");
        for (int k = 0; k < ev->nfindings; k++)
            um_strbuf_printf(&b, "      %s\n", ev->findings[k]);
    }
    put_provenance(&b, r);
    for (size_t i = 0; i < r->nmaps; i++)
        um_strbuf_printf(&b, "  map %-15s %s\n", r->maps[i].name, r->maps[i].path);
    return um_strbuf_finish(&b);
}

char *um_result_provenance_text(const um_result *r)
{
    struct um_strbuf b = {0};
    if (r->error != UM_OK)
        um_strbuf_printf(&b, "%s: error (%s): %s\n", r->file, um_error_name(r->error), r->message);
    else
        um_strbuf_printf(&b, "%s: %s, %llu bytes, sha256 %s\n", r->file,
                         um_format_name(r->decoded.format), (unsigned long long)r->size_bytes,
                         r->sha256);
    put_provenance(&b, r);
    put_provenance_details(&b, r);
    return um_strbuf_finish(&b);
}
