/* libFuzzer target for the HTML report: a file name, a note and image bytes from the input
 * (split at the first two newlines), analysed with small limits and one cheap detector, then
 * made into a report. Checks the report's contract: it exists, it is valid UTF-8, exactly the
 * two script elements it opens are closed (nothing from the file closed or opened one), and the
 * embedded JSON parses. A broken contract aborts, which libFuzzer reports. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prov/text.h"
#include "unmask.h"

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A NUL-terminated copy of the next line (at most 300 bytes), advancing *data. */
static char *next_line(const uint8_t **data, size_t *size)
{
    size_t n = 0;
    while (n < *size && n < 300 && (*data)[n] != '\n')
        n++;
    char *line = malloc(n + 1);
    if (!line)
        abort();
    memcpy(line, *data, n);
    line[n] = 0;
    size_t used = n < *size ? n + 1 : n;
    *data += used;
    *size -= used;
    return line;
}

static void check_report(const char *html, size_t len)
{
    if (strlen(html) != len)
        abort();
    for (size_t i = 0; i < len;) {
        size_t k = um_utf8_sequence((const uint8_t *)html + i, len - i);
        if (k == 0)
            abort();
        i += k;
    }
    if (count(html, "<script") != 2 || count(html, "</script") != 2)
        abort();
    static const char open[] = "<script type=\"application/json\" id=\"um-data\">";
    const char *start = strstr(html, open);
    if (!start)
        abort();
    start += sizeof open - 1;
    json_t *data = json_loadb(start, (size_t)(strstr(start, "</script>") - start), 0, NULL);
    if (!data)
        abort();
    json_decref(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = next_line(&data, &size);
    char *note = next_line(&data, &size);
    um_options opt;
    um_options_init(&opt);
    opt.max_bytes = 4u << 20;
    opt.max_pixels = 1000000;
    opt.threads = 1;
    opt.detectors = "jpeg-structure";
    um_result *r = um_analyze_buffer(data, size, name, &opt);
    if (r) {
        const char *notes[] = {note};
        um_report_options o;
        um_report_options_init(&o);
        o.notes = notes;
        o.nnotes = 1;
        o.max_side = 64;
        size_t len = 0;
        char *html = um_result_report_html(r, &o, &len);
        if (!html)
            abort();
        check_report(html, len);
        free(html);
        um_result_free(r);
    }
    free(name);
    free(note);
    return 0;
}
