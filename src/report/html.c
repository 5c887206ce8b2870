/* The self-contained HTML report (`unmask report`, the web app's report.html) and the in-memory
 * PNGs of the image and its maps that it embeds and the server sends.
 *
 * The report is one file a journalist can mail or archive: the image and every map are PNG data
 * URIs, the viewer's script and style (web/viewer.js, web/viewer.css, the same files the web app
 * serves) are inlined, and a Content-Security-Policy meta tag forbids any network access. The
 * verdict, the file's identity and the notes are plain HTML (they print and read without
 * script); the layers, the detector table and the provenance panel are drawn by viewer.js from
 * the result's JSON, embedded in a <script type="application/json"> block, exactly as the web
 * app draws them from GET /api/analyses/{id}. Every text that comes from the file or the caller
 * is escaped. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/result.h"
#include "core/strbuf.h"
#include "prov/text.h"
#include "report/assets.h"
#include "report/png_write.h"

#define UM_REPORT_DEFAULT_SIDE 2048

/* ---- scaled images and maps ------------------------------------------------------------- */

/* The output size: the longer side at most max_side (0 = unchanged), never below 1 pixel. */
static void scaled_size(int w, int h, int max_side, int *ow, int *oh)
{
    *ow = w, *oh = h;
    if (max_side <= 0 || (w <= max_side && h <= max_side))
        return;
    if (w >= h) {
        *ow = max_side;
        *oh = (int)(((int64_t)h * max_side + w / 2) / w);
    } else {
        *oh = max_side;
        *ow = (int)(((int64_t)w * max_side + h / 2) / h);
    }
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

/* The input pixel under the centre of output pixel o of n, on an axis of size full. */
static int source_pixel(int o, int n, int full)
{
    return (int)(((2 * (int64_t)o + 1) * full) / (2 * (int64_t)n));
}

/* A map of cells is already coarse: nearest-cell sampling keeps its edges sharp. */
static unsigned char *map_png(const float *map, int mw, int mh, int step, int w, int h,
                              int max_side, size_t *len)
{
    int ow, oh;
    scaled_size(w, h, max_side, &ow, &oh);
    uint8_t *gray = malloc((size_t)ow * (size_t)oh);
    if (!gray)
        return NULL;
    for (int y = 0; y < oh; y++) {
        int cy = source_pixel(y, oh, h) / step;
        const float *row = map + (size_t)(cy < mh ? cy : mh - 1) * mw;
        for (int x = 0; x < ow; x++) {
            int cx = source_pixel(x, ow, w) / step;
            gray[(size_t)y * ow + x] = um_unit_to_byte(row[cx < mw ? cx : mw - 1]);
        }
    }
    unsigned char *png = um_png_encode(gray, ow, oh, 1, len);
    free(gray);
    return png;
}

unsigned char *um_result_map_png(const um_result *r, const char *detector, int max_side,
                                 size_t *len)
{
    int w = r->decoded.width, h = r->decoded.height;
    if (r->error != UM_OK || w <= 0 || h <= 0 || !detector)
        return NULL;
    if (strcmp(detector, "fused") == 0)
        return r->fused ? map_png(r->fused, r->fused_w, r->fused_h, r->fused_step, w, h,
                                  max_side, len)
                        : NULL;
    const struct um_detector_run *run = um_result_find_run(r, detector);
    if (!run || !run->ran || !run->ev.applicable || !run->ev.map || run->ev.map_step <= 0)
        return NULL;
    return map_png(run->ev.map, run->ev.map_w, run->ev.map_h, run->ev.map_step, w, h, max_side,
                   len);
}

/* Box filter: each output pixel is the mean of the input pixels it covers, so a reduced photo
 * does not alias (fine textures would otherwise turn into moiré that looks like an artefact). */
static void box_row(const um_image *rgb, int ow, int y0, int y1, uint8_t *out)
{
    int w = rgb->width;
    for (int x = 0; x < ow; x++) {
        int x0 = (int)((int64_t)x * w / ow), x1 = (int)((int64_t)(x + 1) * w / ow);
        if (x1 <= x0)
            x1 = x0 + 1;
        double n = (double)(x1 - x0) * (y1 - y0);
        for (int c = 0; c < 3; c++) {
            const float *plane = um_image_plane(rgb, c);
            double sum = 0;
            for (int y = y0; y < y1; y++)
                for (int xi = x0; xi < x1; xi++)
                    sum += plane[(size_t)y * w + xi];
            out[3 * x + c] = um_unit_to_byte((float)(sum / n / 255.0));
        }
    }
}

unsigned char *um_result_image_png(const um_result *r, int max_side, size_t *len)
{
    const um_image *rgb = r->decoded.rgb;
    if (!rgb || rgb->channels < 3 || rgb->width <= 0 || rgb->height <= 0)
        return NULL;
    int ow, oh;
    scaled_size(rgb->width, rgb->height, max_side, &ow, &oh);
    uint8_t *pixels = malloc((size_t)ow * (size_t)oh * 3);
    if (!pixels)
        return NULL;
    for (int y = 0; y < oh; y++) {
        int y0 = (int)((int64_t)y * rgb->height / oh), y1 = (int)((int64_t)(y + 1) * rgb->height / oh);
        box_row(rgb, ow, y0, y1 > y0 ? y1 : y0 + 1, pixels + (size_t)y * ow * 3);
    }
    unsigned char *png = um_png_encode(pixels, ow, oh, 3, len);
    free(pixels);
    return png;
}

/* ---- writing HTML into a um_strbuf -------------------------------------------------- */

static void lit(struct um_strbuf *b, const char *s)
{
    um_strbuf_append(b, s, strlen(s));
}

/* Markup with numbers goes through um_strbuf_printf; never text from the file (that goes
 * through text()). */

/* Text from outside as HTML: the five markup characters escaped (safe in element content and
 * in quoted attributes), bytes that are not UTF-8 shown as U+FFFD. */
static void text(struct um_strbuf *b, const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n) {
        size_t k = um_utf8_sequence((const uint8_t *)s + i, n - i);
        if (k == 0) {
            lit(b, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        switch (s[i]) {
        case '&': lit(b, "&amp;"); break;
        case '<': lit(b, "&lt;"); break;
        case '>': lit(b, "&gt;"); break;
        case '"': lit(b, "&quot;"); break;
        case '\'': lit(b, "&#39;"); break;
        default: um_strbuf_append(b, s + i, k);
        }
        i += k;
    }
}

/* JSON inside <script type="application/json">: "<" (and ">", "&") as \u escapes, so no
 * string in it can close the element or open a comment (HTML spec, "script data" state). */
static void json_in_script(struct um_strbuf *b, const char *json)
{
    for (const char *p = json; *p;) {
        size_t plain = strcspn(p, "<>&"); /* copy runs (the base64 of the images) at once */
        um_strbuf_append(b, p, plain);
        p += plain;
        if (*p) {
            lit(b, *p == '<' ? "\\u003c" : *p == '>' ? "\\u003e" : "\\u0026");
            p++;
        }
    }
}

/* An asset inlined into a <script> or <style> element. Our own files never contain "</", which
 * the test of the report checks; refuse rather than emit a broken page if one ever does. */
static void inline_asset(struct um_strbuf *b, const char *name)
{
    for (const struct um_asset *a = um_assets; a->name; a++)
        if (strcmp(a->name, name) == 0) {
            if (strstr((const char *)a->data, "</"))
                b->failed = 1;
            um_strbuf_append(b, (const char *)a->data, a->size);
            return;
        }
    b->failed = 1;
}

/* ---- data URIs -------------------------------------------------------------------------- */

/* A PNG as a JSON string "data:image/png;base64,..." (base64: OpenSSL's EVP_EncodeBlock), or
 * NULL. Takes the PNG's bytes (NULL when there is no such map) and frees them. */
static json_t *png_data_uri(unsigned char *png, size_t len)
{
    if (!png)
        return NULL;
    static const char prefix[] = "data:image/png;base64,";
    json_t *j = NULL;
    size_t encoded = 4 * ((len + 2) / 3);
    char *uri = len < (size_t)INT32_MAX / 2 ? malloc(sizeof prefix + encoded) : NULL;
    if (uri) {
        memcpy(uri, prefix, sizeof prefix - 1);
        EVP_EncodeBlock((unsigned char *)uri + sizeof prefix - 1, png, (int)len);
        j = json_string(uri);
    }
    free(uri);
    free(png);
    return j;
}

/* A detector's map (or "fused") as a data URI, NULL when it has none. */
static json_t *map_uri(const um_result *r, const char *name, int max_side)
{
    size_t len = 0;
    unsigned char *png = um_result_map_png(r, name, max_side, &len);
    return png_data_uri(png, len);
}

/* The data viewer.js draws: {"result": <um_result_json>, "image": uri, "maps": {name: uri}}. */
static char *viewer_data(const um_result *r, int max_side)
{
    char *result = um_result_json(r);
    json_t *root = result ? json_loads(result, 0, NULL) : NULL;
    free(result);
    if (!root)
        return NULL;
    json_t *data = json_pack("{s:o}", "result", root);
    if (!data)
        return NULL;
    size_t len = 0;
    unsigned char *png = um_result_image_png(r, max_side, &len);
    json_t *image = png_data_uri(png, len);
    if (image)
        json_object_set_new(data, "image", image);
    json_t *maps = json_object();
    json_t *fused = map_uri(r, "fused", max_side);
    if (fused)
        json_object_set_new(maps, "fused", fused);
    for (size_t i = 0; i < r->nruns; i++) {
        json_t *m = map_uri(r, r->runs[i].detector->name, max_side);
        if (m)
            json_object_set_new(maps, r->runs[i].detector->name, m);
    }
    json_object_set_new(data, "maps", maps);
    char *s = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(data);
    return s;
}

/* ---- the page --------------------------------------------------------------------------- */

static const char *label_headline(const char *label)
{
    if (strcmp(label, UM_LABEL_MANIPULATED) == 0)
        return "Manipulated";
    if (strcmp(label, UM_LABEL_LIKELY_MANIPULATED) == 0)
        return "Likely manipulated";
    if (strcmp(label, UM_LABEL_AI_GENERATED) == 0)
        return "AI-generated";
    if (strcmp(label, UM_LABEL_NO_EVIDENCE) == 0)
        return "No evidence of manipulation found";
    return "Inconclusive";
}

static const char *label_explanation(const char *label)
{
    if (strcmp(label, UM_LABEL_MANIPULATED) == 0)
        return "The methods found strong evidence that the image was edited. The marked regions "
               "show where.";
    if (strcmp(label, UM_LABEL_LIKELY_MANIPULATED) == 0)
        return "The methods found evidence of editing. Check the marked regions and the reasons "
               "below before relying on the image.";
    if (strcmp(label, UM_LABEL_AI_GENERATED) == 0)
        return "The file carries signs that an AI model made the image. Read the provenance "
               "panel: unsigned declarations can be added by anyone.";
    if (strcmp(label, UM_LABEL_NO_EVIDENCE) == 0)
        return "None of the methods found traces of editing. This is not proof that the image "
               "is authentic: many edits leave no trace these methods can see.";
    return "These methods cannot judge this image (too small, too compressed, or of a kind "
           "they do not apply to).";
}

static void section_verdict(struct um_strbuf *b, const um_result *r)
{
    const struct um_verdict *v = &r->verdict;
    if (r->provenance_only) { /* no detector ran: there is no verdict to state */
        lit(b, "<section class=\"um-verdict\"><h2>Verdict</h2><p class=\"um-headline\">"
               "Provenance only</p><p>The pixels were not examined; only what the file says "
               "about its origin is shown.</p></section>\n");
        return;
    }
    lit(b, "<section class=\"um-verdict um-label-");
    text(b, v->label);
    lit(b, "\" aria-labelledby=\"um-verdict-h\">\n<h2 id=\"um-verdict-h\">Verdict</h2>\n"
           "<p class=\"um-headline\">");
    text(b, label_headline(v->label));
    um_strbuf_printf(
        b,
        "</p>\n<p>%s</p>\n<p class=\"um-score\">Score %.2f on a scale from 0 (no evidence) "
        "to 1 (strongest evidence).",
        label_explanation(v->label), v->score);
    if (v->calibrated)
        um_strbuf_printf(b,
                         " About %.1f%% of authentic images in the calibration set score this high "
                         "(the false-alarm rate).",
                         100.0 * v->false_alarm_rate);
    lit(b, "</p>\n");
    if (v->nreasons) {
        lit(b, "<h3>Why</h3>\n<ul class=\"um-reasons\">\n");
        for (int i = 0; i < v->nreasons; i++) {
            lit(b, "<li>");
            text(b, v->reasons[i]);
            lit(b, "</li>\n");
        }
        lit(b, "</ul>\n");
    }
    lit(b, "</section>\n");
}

static void fact(struct um_strbuf *b, const char *term, const char *value)
{
    lit(b, "<dt>");
    lit(b, term);
    lit(b, "</dt><dd>");
    text(b, value);
    lit(b, "</dd>\n");
}

static void section_identity(struct um_strbuf *b, const um_result *r, const char *analysed_at)
{
    char buf[128];
    lit(b, "<section class=\"um-identity\" aria-labelledby=\"um-id-h\">\n"
           "<h2 id=\"um-id-h\">The file examined</h2>\n<dl class=\"um-facts\">\n");
    fact(b, "File", r->file ? r->file : "");
    lit(b, "<dt>SHA-256 of the analysed bytes</dt><dd><code class=\"um-hash\">");
    text(b, r->sha256[0] ? r->sha256 : "(the bytes could not be read)");
    lit(b, "</code></dd>\n");
    snprintf(buf, sizeof buf, "%llu bytes", (unsigned long long)r->size_bytes);
    fact(b, "Size", buf);
    if (r->decoded.format != UM_FORMAT_UNKNOWN)
        fact(b, "Format", um_format_name(r->decoded.format));
    if (r->error == UM_OK) {
        snprintf(buf, sizeof buf, "%d \xC3\x97 %d pixels", r->decoded.width, r->decoded.height);
        fact(b, "Dimensions", buf);
    }
    fact(b, "Analysed at", analysed_at);
    snprintf(buf, sizeof buf, "unmask %s (JSON schema %d)", UM_VERSION, UM_SCHEMA_VERSION);
    fact(b, "Tool", buf);
    snprintf(buf, sizeof buf, "%.0f ms", r->total_ms);
    fact(b, "Analysis time", buf);
    lit(b, "</dl>\n</section>\n");
}

static void section_notes(struct um_strbuf *b, const um_report_options *o)
{
    if (!o->notes || o->nnotes == 0)
        return;
    lit(b, "<section class=\"um-notes\" aria-labelledby=\"um-notes-h\">\n"
           "<h2 id=\"um-notes-h\">Notes</h2>\n<ol>\n");
    for (size_t i = 0; i < o->nnotes; i++) {
        lit(b, "<li>");
        text(b, o->notes[i] ? o->notes[i] : "");
        lit(b, "</li>\n");
    }
    lit(b, "</ol>\n</section>\n");
}

static void section_error(struct um_strbuf *b, const um_result *r)
{
    lit(b, "<section class=\"um-verdict um-error\"><h2>Not analysed</h2><p>");
    text(b, um_error_name(r->error));
    lit(b, ": ");
    text(b, r->message);
    lit(b, "</p></section>\n");
}

/* The page's own policy: nothing may be fetched, only the inlined script and style run. */
static const char report_csp[] =
    "default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

static void page_head(struct um_strbuf *b, const um_result *r)
{
    lit(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    lit(b, report_csp);
    lit(b, "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"generator\" content=\"unmask " UM_VERSION "\">\n<title>unmask report: ");
    text(b, r->file ? r->file : "");
    lit(b, "</title>\n<style>\n");
    inline_asset(b, "viewer.css");
    lit(b, "</style>\n</head>\n<body class=\"um-report\">\n<header class=\"um-report-head\">"
           "<h1>Image verification report</h1><p class=\"um-file\">");
    text(b, r->file ? r->file : "");
    lit(b, "</p></header>\n<main>\n");
}

static void now_iso(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void um_report_options_init(um_report_options *o)
{
    memset(o, 0, sizeof *o);
}

char *um_result_report_html(const um_result *r, const um_report_options *o, size_t *len)
{
    um_report_options defaults;
    if (!o) {
        um_report_options_init(&defaults);
        o = &defaults;
    }
    char now[32];
    now_iso(now, sizeof now);
    int max_side = o->max_side > 0 ? o->max_side : UM_REPORT_DEFAULT_SIDE;
    struct um_strbuf b = {0};
    page_head(&b, r);
    if (r->error == UM_OK)
        section_verdict(&b, r);
    else
        section_error(&b, r);
    /* viewer.js fills these from the JSON below (the web app fills the same elements). */
    lit(&b, "<section class=\"um-layers\" aria-labelledby=\"um-layers-h\">"
            "<h2 id=\"um-layers-h\">Evidence layers</h2>"
            "<div class=\"um-viewer\" data-um-viewer=\"um-data\"></div>"
            "<noscript><p>Turn on JavaScript to see the image and its evidence layers.</p>"
            "</noscript></section>\n"
            "<section class=\"um-provenance\" data-um-provenance=\"um-data\" "
            "aria-labelledby=\"um-prov-h\"><h2 id=\"um-prov-h\">Provenance</h2></section>\n"
            "<section class=\"um-detectors\" data-um-detectors=\"um-data\" "
            "aria-labelledby=\"um-det-h\"><h2 id=\"um-det-h\">What each method saw</h2></section>\n");
    section_identity(&b, r, o->analysed_at ? o->analysed_at : now);
    section_notes(&b, o);
    char *data = viewer_data(r, max_side);
    if (!data)
        b.failed = 1;
    lit(&b, "</main>\n<script type=\"application/json\" id=\"um-data\">");
    if (data)
        json_in_script(&b, data);
    free(data);
    lit(&b, "</script>\n<script>\n");
    inline_asset(&b, "viewer.js");
    lit(&b, "</script>\n</body>\n</html>\n");
    size_t n = b.len;
    char *page = um_strbuf_finish(&b);
    if (page && len)
        *len = n;
    return page;
}
