/* Generator traces (provenance-markers.md 4.1): recognise what AI image tools write into text
 * metadata and into the alpha plane, and report the facts they state, capped and sanitised.
 *
 * Order of work: each text entry is normalised (an EXIF UserComment is decoded, a ComfyUI
 * "prompt:"/"workflow:" EXIF prefix is stripped), then offered to the recognisers in turn; the
 * NovelAI fields spread over several entries are gathered in one trace; the alpha plane is read
 * last. Every recogniser reads untrusted bytes: texts are cut at UM_GEN_MAX_TEXT, JSON goes
 * through jansson with that size cap and is then read only through type checks, every string put
 * into the report is valid UTF-8 and at most UM_GEN_MAX_FIELD bytes. */
#include "prov/generators.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "prov/exif.h"
#include "prov/text.h"

/* ---- text helpers ---- */

/* Every string put into the report: valid UTF-8, at most UM_GEN_MAX_FIELD bytes of s. */
static json_t *field_json(const char *s, size_t n)
{
    return um_json_text_ascii(s, n, UM_GEN_MAX_FIELD);
}

static void set_str(json_t *obj, const char *key, const char *s, size_t n)
{
    json_object_set_new(obj, key, field_json(s, n));
}

static void set_cstr(json_t *obj, const char *key, const char *s)
{
    set_str(obj, key, s, strlen(s));
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (is_space(**s) || **s == '\0'))
        (*s)++, (*n)--;
    while (*n > 0 && (is_space((*s)[*n - 1]) || (*s)[*n - 1] == '\0'))
        (*n)--;
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* memmem for a NUL-free needle, bounded by n. */
static const char *find(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (s[i] == needle[0] && memcmp(s + i, needle, k) == 0)
            return s + i;
    return NULL;
}

/* ---- EXIF UserComment (EXIF 2.3 4.6.5: 8-byte character code, then the text) ---- */

char *um_gen_decode_user_comment(const uint8_t *raw, size_t len, size_t *out_len)
{
    size_t dummy;
    if (!out_len)
        out_len = &dummy;
    *out_len = 0;
    if (!raw)
        len = 0;
    if (len > UM_GEN_MAX_TEXT)
        len = UM_GEN_MAX_TEXT;
    /* No TIFF byte order is known here: UTF-16 without BOM or telling zero bytes is taken as
     * big-endian, as piexif (the usual writer of generator parameters) writes it. */
    char *out = um_exif_user_comment(raw ? raw : (const uint8_t *)"", len, 1, NULL);
    if (out)
        *out_len = strlen(out);
    return out;
}

/* ---- JSON ---- */

/* Parse s as a JSON object (leading/trailing blanks and NULs allowed), or NULL. */
static json_t *load_object(const char *s, size_t n)
{
    trim(&s, &n);
    if (n < 2 || s[0] != '{' || n > UM_GEN_MAX_TEXT)
        return NULL;
    json_error_t e;
    json_t *j = json_loadb(s, n, JSON_DISABLE_EOF_CHECK, &e);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Copy the scalar members of src named in keys (all scalars, up to UM_GEN_MAX_LIST, when keys
 * is NULL) into dst under the same names: strings sanitised and capped, numbers and booleans as
 * they are. */
static void copy_scalars(json_t *dst, const json_t *src, const char *const *keys)
{
    if (!json_is_object(src))
        return;
    size_t copied = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        if (copied >= UM_GEN_MAX_LIST)
            break;
        int wanted = keys == NULL;
        for (size_t i = 0; keys && keys[i] && !wanted; i++)
            wanted = strcmp(keys[i], k) == 0;
        if (!wanted)
            continue;
        if (json_is_string(v))
            json_object_set_new(dst, k, field_json(json_string_value(v), json_string_length(v)));
        else if (json_is_number(v) || json_is_boolean(v))
            json_object_set(dst, k, v);
        else
            continue;
        copied++;
    }
}

/* ---- the report being built ---- */

struct gen_ctx {
    json_t *traces;   /* array of {tool, where, key, facts} */
    json_t *notes;    /* array of strings */
    json_t *novelai;  /* facts of the NovelAI trace, gathered over several entries (borrowed) */
    um_gen_result *out;
};

static json_t *add_trace(struct gen_ctx *c, const char *tool, const char *where, const char *key)
{
    json_t *facts = json_object();
    json_t *t = json_object();
    set_cstr(t, "tool", tool);
    set_cstr(t, "where", where ? where : "");
    set_cstr(t, "key", key ? key : "");
    json_object_set_new(t, "facts", facts);
    json_array_append_new(c->traces, t);
    if (!c->out->found) {
        c->out->found = 1;
        snprintf(c->out->tool, sizeof c->out->tool, "%s", tool);
        snprintf(c->out->where, sizeof c->out->where, "%s", where ? where : "");
        snprintf(c->out->key, sizeof c->out->key, "%s", key ? key : "");
    }
    return facts;
}

/* ---- AUTOMATIC1111 "parameters" (and the same text in UserComment / stealth payloads) ---- */

static int key_char(unsigned char ch)
{
    return isalnum(ch) || ch == '_' || ch == ' ' || ch == '-' || ch == '/' || ch >= 0x80;
}

/* Settings line "Key: value, Key: \"quoted, value\", ..." (A1111's own pattern: a key of word
 * characters, spaces, '-' and '/', a value either quoted with backslash escapes or running to
 * the next comma). Writes the pairs into settings (up to UM_GEN_MAX_LIST) and returns how many
 * pairs the line holds; stops at the first thing that is not a pair. */
static int parse_settings(const char *s, size_t n, json_t *settings)
{
    size_t i = 0;
    int pairs = 0;
    char *val = malloc(n + 1);
    if (!val)
        return 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t k0 = i;
        if (i >= n || !(isalnum((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80))
            break;
        while (i < n && key_char((unsigned char)s[i]))
            i++;
        if (i >= n || s[i] != ':')
            break;
        size_t k1 = i++;
        while (i < n && s[i] == ' ')
            i++;
        size_t vl = 0;
        if (i < n && s[i] == '"') {
            i++;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n) {
                    i++;
                    val[vl++] = s[i] == 'n' ? '\n' : s[i];
                } else {
                    val[vl++] = s[i];
                }
                i++;
            }
            if (i >= n)
                break; /* unterminated quote: not a pair */
            i++;
            while (i < n && s[i] == ' ')
                i++;
        } else {
            while (i < n && s[i] != ',')
                val[vl++] = s[i++];
            while (vl > 0 && val[vl - 1] == ' ')
                vl--;
        }
        if (i < n && s[i] != ',')
            break;
        i++;
        while (k1 > k0 && s[k1 - 1] == ' ')
            k1--;
        char key[64];
        size_t kl = k1 - k0 < sizeof key - 1 ? k1 - k0 : sizeof key - 1;
        memcpy(key, s + k0, kl);
        key[kl] = '\0';
        if (settings && json_object_size(settings) < UM_GEN_MAX_LIST)
            json_object_set_new(settings, key, field_json(val, vl));
        pairs++;
    }
    free(val);
    return pairs;
}

/* Typed copies of the settings a fact-checker asks about first. */
static void a1111_typed(json_t *facts, const json_t *settings)
{
    static const struct { const char *from, *to; int integer; } map[] = {
        {"Steps", "steps", 1},      {"Sampler", "sampler", 0},       {"CFG scale", "cfg_scale", 2},
        {"Seed", "seed", 1},        {"Size", "size", 0},             {"Model hash", "model_hash", 0},
        {"Model", "model", 0},      {"Version", "version", 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = json_string_value(json_object_get(settings, map[i].from));
        if (!v)
            continue;
        char *end = NULL;
        errno = 0;
        if (map[i].integer == 1) {
            long long x = strtoll(v, &end, 10);
            if (end != v && *end == '\0' && errno == 0) {
                json_object_set_new(facts, map[i].to, json_integer(x));
                continue;
            }
        } else if (map[i].integer == 2) {
            double x = strtod(v, &end);
            if (end != v && *end == '\0') {
                json_object_set_new(facts, map[i].to, json_real(x));
                continue;
            }
        }
        set_cstr(facts, map[i].to, v);
    }
}

/* Split A1111 text: prompt lines, then "Negative prompt:" lines, then the settings line (the
 * last line, when it holds at least three pairs including Steps). Returns 1 when the settings
 * line is there (the text is A1111's), filling facts; 0 otherwise (facts untouched). */
static int parse_a1111(const char *s, size_t n, json_t *facts, const char **version)
{
    trim(&s, &n);
    size_t last = n;
    while (last > 0 && s[last - 1] != '\n')
        last--;
    json_t *settings = json_object();
    int pairs = parse_settings(s + last, n - last, settings);
    if (pairs < 3 || !json_object_get(settings, "Steps")) {
        json_decref(settings);
        return 0;
    }
    size_t body = last > 0 ? last - 1 : 0;
    const char *neg = NULL;
    for (size_t i = 0; i < body; i++)
        if ((i == 0 || s[i - 1] == '\n') && starts_with(s + i, body - i, "Negative prompt:")) {
            neg = s + i;
            break;
        }
    size_t prompt_len = neg ? (size_t)(neg - s) : body;
    const char *p = s;
    trim(&p, &prompt_len);
    set_str(facts, "prompt", p, prompt_len);
    if (neg) {
        const char *q = neg + strlen("Negative prompt:");
        size_t ql = (size_t)(s + body - q);
        trim(&q, &ql);
        set_str(facts, "negative_prompt", q, ql);
    }
    a1111_typed(facts, settings);
    json_object_set_new(facts, "settings", settings);
    if (version)
        *version = json_string_value(json_object_get(facts, "version"));
    return 1;
}

/* An A1111-format text: "Fooocus" when its Version says so (Fooocus's A1111 scheme), else
 * AUTOMATIC1111 (Forge and other forks keep the format and name themselves in Version). */
static int try_a1111(struct gen_ctx *c, const char *where, const char *key, const char *s,
                     size_t n)
{
    json_t *facts = json_object();
    const char *version = NULL;
    if (!parse_a1111(s, n, facts, &version)) {
        json_decref(facts);
        return 0;
    }
    const char *tool = version && strncmp(version, "Fooocus", 7) == 0 ? "Fooocus" : "AUTOMATIC1111";
    json_t *slot = add_trace(c, tool, where, key);
    json_object_update(slot, facts);
    json_decref(facts);
    return 1;
}

/* ---- ComfyUI ---- */

static void append_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    if (json_array_size(arr) >= UM_GEN_MAX_LIST)
        return;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return;
    json_array_append_new(arr, field_json(s, strlen(s)));
}

/* The sampler-like node: one with steps and a seed (KSampler, KSamplerAdvanced, custom
 * samplers). Only scalar inputs are kept; linked inputs are [node, slot] arrays. */
static json_t *comfy_sampler(const char *id, const char *class_type, const json_t *inputs)
{
    static const char *const keys[] = {"seed", "noise_seed", "steps", "cfg", "sampler_name",
                                       "scheduler", "denoise", NULL};
    json_t *s = json_object();
    set_cstr(s, "node", id);
    set_cstr(s, "class_type", class_type);
    copy_scalars(s, inputs, keys);
    return s;
}

/* API graph: {"<id>": {"class_type": ..., "inputs": {...}}, ...}. Returns 1 when at least one
 * node has a class_type. */
static int parse_comfy_prompt(const json_t *graph, json_t *facts)
{
    json_t *classes = json_array(), *ckpts = json_array(), *loras = json_array();
    json_t *samplers = json_array(), *texts = json_array();
    size_t nodes = 0;
    const char *id;
    json_t *node;
    json_object_foreach((json_t *)graph, id, node) {
        const char *ct = json_string_value(json_object_get(node, "class_type"));
        if (!ct)
            continue;
        nodes++;
        append_unique(classes, ct);
        json_t *in = json_object_get(node, "inputs");
        if (!json_is_object(in))
            continue;
        static const char *const model_keys[] = {"ckpt_name", "unet_name", "model_name"};
        for (size_t i = 0; i < 3; i++) {
            const char *m = json_string_value(json_object_get(in, model_keys[i]));
            if (m)
                append_unique(ckpts, m);
        }
        const char *lora = json_string_value(json_object_get(in, "lora_name"));
        if (lora)
            append_unique(loras, lora);
        if (json_object_get(in, "steps") &&
            (json_object_get(in, "seed") || json_object_get(in, "noise_seed")) &&
            json_array_size(samplers) < UM_GEN_MAX_LIST)
            json_array_append_new(samplers, comfy_sampler(id, ct, in));
        if (strstr(ct, "TextEncode")) {
            static const char *const text_keys[] = {"text", "text_g", "text_l", "prompt"};
            for (size_t i = 0; i < 4; i++) {
                json_t *t = json_object_get(in, text_keys[i]);
                if (json_is_string(t) && json_array_size(texts) < UM_GEN_MAX_LIST)
                    json_array_append_new(texts, field_json(json_string_value(t), json_string_length(t)));
            }
        }
    }
    json_object_set_new(facts, "node_count", json_integer((json_int_t)nodes));
    json_object_set_new(facts, "class_types", classes);
    json_object_set_new(facts, "models", ckpts);
    json_object_set_new(facts, "loras", loras);
    json_object_set_new(facts, "samplers", samplers);
    json_object_set_new(facts, "prompts", texts);
    return nodes > 0;
}

/* UI workflow: {"nodes": [{"type": ...}, ...], "links": [...], "version": ...}. */
static int parse_comfy_workflow(const json_t *wf, json_t *facts)
{
    json_t *nodes = json_object_get(wf, "nodes");
    if (!json_is_array(nodes))
        return 0;
    json_t *types = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        const char *t = json_string_value(json_object_get(n, "type"));
        if (t)
            append_unique(types, t);
    }
    json_object_set_new(facts, "node_count", json_integer((json_int_t)json_array_size(nodes)));
    json_t *links = json_object_get(wf, "links");
    if (json_is_array(links))
        json_object_set_new(facts, "link_count", json_integer((json_int_t)json_array_size(links)));
    json_t *ver = json_object_get(wf, "version");
    if (json_is_number(ver) || json_is_string(ver))
        json_object_set(facts, "version", ver);
    json_object_set_new(facts, "node_types", types);
    return 1;
}

/* ---- InvokeAI, SwarmUI, Fooocus, NovelAI JSON ---- */

static void invokeai_facts(const json_t *j, json_t *facts)
{
    static const char *const keys[] = {"app_version", "generation_mode", "positive_prompt",
                                       "negative_prompt", "seed", "steps", "cfg_scale", "width",
                                       "height", "scheduler", "model_weights", "app_id", NULL};
    copy_scalars(facts, j, keys);
    json_t *model = json_object_get(j, "model");
    if (json_is_string(model))
        set_str(facts, "model", json_string_value(model), json_string_length(model));
    else if (json_is_object(model)) {
        static const char *const mkeys[] = {"name", "model_name", "base", "base_model", "hash", NULL};
        json_t *m = json_object();
        copy_scalars(m, model, mkeys);
        json_object_set_new(facts, "model", m);
    }
    json_t *image = json_object_get(j, "image"); /* old "sd-metadata": image.prompt */
    if (json_is_object(image)) {
        json_t *p = json_object_get(image, "prompt");
        if (json_is_array(p))
            p = json_object_get(json_array_get(p, 0), "prompt");
        if (json_is_string(p))
            set_str(facts, "prompt", json_string_value(p), json_string_length(p));
        static const char *const ikeys[] = {"seed", "steps", "cfg_scale", "sampler", NULL};
        copy_scalars(facts, image, ikeys);
    }
}

static const char *const novelai_comment_keys[] = {
    "prompt", "uc", "steps", "scale", "seed", "sampler", "noise_schedule", "strength", "noise",
    "width", "height", "request_type", "version", "cfg_rescale", NULL};

/* NovelAI's Comment: a JSON object (text in PNG, or already parsed inside a stealth payload). */
static void novelai_comment(json_t *facts, const json_t *comment)
{
    json_t *c = json_object();
    copy_scalars(c, comment, novelai_comment_keys);
    json_object_set_new(c, "signed_hash_present",
                        json_boolean(json_object_get(comment, "signed_hash") != NULL));
    json_object_set_new(facts, "comment", c);
}

static json_t *novelai_facts(struct gen_ctx *c, const char *where, const char *key)
{
    if (!c->novelai)
        c->novelai = add_trace(c, "NovelAI", where, key);
    return c->novelai;
}

/* A JSON object that is the whole NovelAI metadata dict (stealth payload, WebP UserComment):
 * {"Software": "NovelAI", "Source": ..., "Comment": "<json>" or {...}, ...}. */
static int try_novelai_dict(struct gen_ctx *c, const char *where, const char *key, const json_t *j)
{
    const char *sw = json_string_value(json_object_get(j, "Software"));
    json_t *comment = json_object_get(j, "Comment");
    int looks = (sw && strncmp(sw, "NovelAI", 7) == 0) ||
                (json_is_object(comment) && json_object_get(comment, "signed_hash")) ||
                (json_is_object(j) && json_object_get(j, "uc") && json_object_get(j, "sampler"));
    if (!looks)
        return 0;
    json_t *facts = novelai_facts(c, where, key);
    static const char *const keys[] = {"Software", "Source", "Title", "Description",
                                       "Generation time", NULL};
    copy_scalars(facts, j, keys);
    json_t *parsed = json_is_string(comment)
                         ? load_object(json_string_value(comment), json_string_length(comment))
                         : NULL;
    if (parsed || json_is_object(comment))
        novelai_comment(facts, parsed ? parsed : comment);
    else if (json_object_get(j, "uc")) /* the Comment dict itself */
        novelai_comment(facts, j);
    json_decref(parsed);
    return 1;
}

/* A JSON text in any entry: SwarmUI, Fooocus's own scheme, InvokeAI, ComfyUI graphs, NovelAI.
 * `role` is the name that says what the text is (the PNG keyword, or "prompt"/"workflow" from a
 * ComfyUI EXIF prefix); `key` is what the citation names. */
static int try_json(struct gen_ctx *c, const char *where, const char *key, const char *role,
                    const json_t *j)
{
    json_t *sui = json_object_get(j, "sui_image_params");
    if (json_is_object(sui)) {
        json_t *facts = add_trace(c, "SwarmUI", where, key);
        copy_scalars(facts, sui, NULL);
        return 1;
    }
    const char *ver = json_string_value(json_object_get(j, "version"));
    if ((ver && strncmp(ver, "Fooocus", 7) == 0) || strcmp(role, "fooocus_scheme") == 0) {
        json_t *facts = add_trace(c, "Fooocus", where, key);
        copy_scalars(facts, j, NULL);
        return 1;
    }
    if (strncmp(role, "invokeai", 8) == 0 || strcmp(role, "sd-metadata") == 0) {
        json_t *facts = add_trace(c, "InvokeAI", where, key);
        if (strcmp(role, "invokeai_graph") == 0 || strcmp(role, "invokeai_workflow") == 0) {
            json_t *nodes = json_object_get(j, "nodes");
            size_t count = json_is_object(nodes) || json_is_array(nodes)
                               ? (json_is_object(nodes) ? json_object_size(nodes) : json_array_size(nodes))
                               : 0;
            json_object_set_new(facts, "node_count", json_integer((json_int_t)count));
        } else {
            invokeai_facts(j, facts);
        }
        return 1;
    }
    if (try_novelai_dict(c, where, key, j))
        return 1;
    json_t *facts = json_object();
    if (parse_comfy_prompt(j, facts)) {
        json_object_update(add_trace(c, "ComfyUI", where, key), facts);
        json_decref(facts);
        return 1;
    }
    json_object_clear(facts);
    if (strcmp(role, "workflow") == 0 && parse_comfy_workflow(j, facts)) {
        json_object_set_new(facts, "graph", json_string("workflow (UI graph)"));
        json_object_update(add_trace(c, "ComfyUI", where, key), facts);
        json_decref(facts);
        return 1;
    }
    json_decref(facts);
    return 0;
}

/* ---- Midjourney, NovelAI PNG fields, InvokeAI "Dream" ---- */

static int try_midjourney(struct gen_ctx *c, const char *where, const char *key, const char *s,
                          size_t n)
{
    const char *job = find(s, n, "Job ID:");
    if (!job)
        return 0;
    json_t *facts = add_trace(c, "Midjourney", where, key);
    size_t pl = (size_t)(job - s);
    const char *p = s;
    trim(&p, &pl);
    set_str(facts, "prompt", p, pl);
    const char *id = job + 7;
    size_t rest = (size_t)(s + n - id), il = 0;
    while (rest > 0 && *id == ' ')
        id++, rest--;
    while (il < rest && il < 64 && (isxdigit((unsigned char)id[il]) || id[il] == '-'))
        il++;
    set_str(facts, "job_id", id, il);
    return 1;
}

/* ---- dispatcher for one entry ---- */

static int key_is(const char *key, const char *name) { return strcmp(key, name) == 0; }

static void examine_text(struct gen_ctx *c, const char *where, const char *key, const char *s,
                         size_t n, int novelai_software)
{
    trim(&s, &n);
    if (n == 0)
        return;
    /* ComfyUI WebP/animated: EXIF Model "prompt:<json>", Make "workflow:<json>". */
    const char *k = key;
    if (starts_with(s, n, "prompt:{") || starts_with(s, n, "workflow:{")) {
        k = s[0] == 'p' ? "prompt" : "workflow";
        size_t skip = s[0] == 'p' ? 7 : 9;
        s += skip, n -= skip;
    }
    json_t *j = load_object(s, n);
    if (j) {
        int hit = try_json(c, where, key, k, j);
        if (!hit && novelai_software && key_is(key, "Comment"))
            novelai_comment(novelai_facts(c, where, key), j);
        json_decref(j);
        if (hit || (novelai_software && key_is(key, "Comment")))
            return;
    }
    if (key_is(key, "Software") && starts_with(s, n, "NovelAI")) {
        set_str(novelai_facts(c, where, key), "software", s, n);
        return;
    }
    if (novelai_software && (key_is(key, "Source") || key_is(key, "Description") ||
                             key_is(key, "Title") || key_is(key, "Generation time"))) {
        static const char *const names[][2] = {{"Source", "source"}, {"Description", "description"},
                                               {"Title", "title"}, {"Generation time", "generation_time"}};
        for (size_t i = 0; i < 4; i++)
            if (key_is(key, names[i][0]))
                set_str(novelai_facts(c, where, key), names[i][1], s, n);
        return;
    }
    if (try_a1111(c, where, key, s, n))
        return;
    if ((key_is(key, "Description") || key_is(key, "ImageDescription")) &&
        try_midjourney(c, where, key, s, n))
        return;
    if (key_is(key, "Dream") || key_is(key, "sd-metadata")) { /* old InvokeAI text */
        json_t *facts = add_trace(c, "InvokeAI", where, key);
        set_str(facts, "dream", s, n);
        return;
    }
    if (key_is(key, "parameters") || key_is(key, "prompt") || key_is(key, "workflow") ||
        key_is(key, "invokeai_metadata") || key_is(key, "sui_image_params")) {
        char note[160];
        snprintf(note, sizeof note, "%s \"%.60s\": a generator's key, but its text does not parse",
                 where, key);
        json_array_append_new(c->notes, json_string(note));
    }
}

/* ---- stealth alpha ---- */

struct lsb_reader {
    const uint8_t *alpha;
    size_t w, h, total, pos;
};

/* Column-major (numpy alpha.T): bit i is the LSB of pixel x = i / h, y = i % h. */
static int read_bits(struct lsb_reader *r, size_t nbits, uint32_t *value)
{
    if (nbits > 32 || r->total - r->pos < nbits)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < nbits; i++, r->pos++) {
        size_t x = r->pos / r->h, y = r->pos % r->h;
        v = v << 1 | (r->alpha[y * r->w + x] & 1u);
    }
    *value = v;
    return 1;
}

static int gunzip_capped(const uint8_t *in, size_t n, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    int rc = Z_OK;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    while (buf && rc == Z_OK) {
        if (len == cap) {
            if (cap >= UM_GEN_MAX_INFLATED)
                break;
            size_t ncap = cap * 2 > UM_GEN_MAX_INFLATED ? UM_GEN_MAX_INFLATED : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_out > 0)
            break; /* truncated input */
        if (rc == Z_BUF_ERROR)
            rc = Z_OK;
    }
    inflateEnd(&z);
    if (!buf)
        return -1;
    if (rc != Z_STREAM_END) {
        free(buf);
        return 0;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 1;
}

int um_gen_stealth_alpha(const uint8_t *alpha, int width, int height, char **text, size_t *len,
                         int *compressed, char *why, size_t whylen)
{
    *text = NULL;
    *len = 0;
    *compressed = 0;
    if (why && whylen)
        why[0] = '\0';
    if (!alpha || width < 1 || height < 1)
        return 0;
    struct lsb_reader r = {alpha, (size_t)width, (size_t)height, (size_t)width * (size_t)height, 0};
    char magic[16];
    for (int i = 0; i < 15; i++) {
        uint32_t b;
        if (!read_bits(&r, 8, &b))
            return 0;
        magic[i] = (char)b;
        if (i == 0 && b != 's') /* fast exit: almost every image */
            return 0;
    }
    magic[15] = '\0';
    if (strcmp(magic, "stealth_pngcomp") == 0)
        *compressed = 1;
    else if (strcmp(magic, "stealth_pnginfo") != 0)
        return 0;
    uint32_t bits = 0; /* printed below even when the read fails */
    if (!read_bits(&r, 32, &bits) || bits / 8 == 0 || bits > r.total - r.pos ||
        bits / 8 > UM_GEN_MAX_STEALTH) {
        snprintf(why, whylen, "alpha LSB: %s magic, but a payload length of %lu bits that the "
                 "image cannot hold", magic, (unsigned long)bits);
        return 0;
    }
    size_t nbytes = bits / 8;
    uint8_t *data = malloc(nbytes + 1); /* + 1: a plain payload is handed over as a C string */
    if (!data)
        return -1;
    for (size_t i = 0; i < nbytes; i++) {
        uint32_t b;
        read_bits(&r, 8, &b); /* in range: checked above */
        data[i] = (uint8_t)b;
    }
    int rc;
    if (*compressed) {
        rc = gunzip_capped(data, nbytes, text, len);
        if (rc == 0)
            snprintf(why, whylen, "alpha LSB: stealth_pngcomp magic, but the gzip data is damaged "
                     "or inflates past %u bytes", (unsigned)UM_GEN_MAX_INFLATED);
    } else {
        data[nbytes] = '\0';
        *text = (char *)data;
        *len = nbytes;
        return 1;
    }
    free(data);
    return rc;
}

static um_error examine_alpha(struct gen_ctx *c, const uint8_t *alpha, int w, int h)
{
    char *text = NULL, why[200];
    size_t len = 0;
    int compressed = 0;
    int rc = um_gen_stealth_alpha(alpha, w, h, &text, &len, &compressed, why, sizeof why);
    if (rc < 0)
        return UM_ERR_NOMEM;
    if (rc == 0) {
        if (why[0])
            json_array_append_new(c->notes, json_string(why));
        return UM_OK;
    }
    const char *where = "alpha LSB";
    const char *key = compressed ? "stealth_pngcomp" : "stealth_pnginfo";
    json_t *j = load_object(text, len);
    size_t before = json_array_size(c->traces);
    if (j) {
        if (!try_novelai_dict(c, where, key, j))
            try_json(c, where, key, key, j);
    } else {
        try_a1111(c, where, key, text, len);
    }
    if (json_array_size(c->traces) == before) {
        /* The stealth-pnginfo writers exist only for generator UIs: report the payload. */
        json_t *facts = add_trace(c, "stealth-pnginfo", where, key);
        set_str(facts, "payload", text, len);
    }
    json_decref(j);
    free(text);
    return UM_OK;
}

/* ---- entry point ---- */

/* The normalised text of one entry, capped: a decoded UserComment, else the bytes as they are
 * (NUL-terminated; bad bytes are marked when they reach the report, see field_json). */
static char *entry_text(const struct um_gen_text *t, size_t *n)
{
    size_t len = t->len > UM_GEN_MAX_TEXT ? UM_GEN_MAX_TEXT : t->len;
    if (t->key && strcmp(t->key, "UserComment") == 0)
        return um_gen_decode_user_comment((const uint8_t *)t->value, len, n);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    if (len > 0)
        memcpy(out, t->value, len);
    out[len] = '\0';
    *n = len;
    return out;
}

um_error um_generators_detect(const struct um_gen_text *texts, size_t n, const uint8_t *alpha,
                              int width, int height, um_gen_result *out)
{
    if (!out)
        return UM_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    if ((n > 0 && !texts) || (alpha && (width < 1 || height < 1)))
        return UM_ERR_ARGUMENT;
    if (n > UM_GEN_MAX_TEXTS)
        n = UM_GEN_MAX_TEXTS;
    struct gen_ctx c = {json_array(), json_array(), NULL, out};
    um_error e = UM_OK;
    int novelai = 0; /* a Software entry names NovelAI: its other fields are its facts */
    for (size_t i = 0; i < n; i++)
        if (texts[i].key && texts[i].value && strcmp(texts[i].key, "Software") == 0)
            novelai |= starts_with(texts[i].value, texts[i].len, "NovelAI");
    for (size_t i = 0; i < n && e == UM_OK; i++) {
        if (!texts[i].value && texts[i].len > 0)
            continue;
        size_t len = 0;
        char *s = entry_text(&texts[i], &len);
        if (!s) {
            e = UM_ERR_NOMEM;
            break;
        }
        examine_text(&c, texts[i].where ? texts[i].where : "", texts[i].key ? texts[i].key : "",
                     s, len, novelai);
        free(s);
    }
    if (e == UM_OK && alpha)
        e = examine_alpha(&c, alpha, width, height);
    if (e == UM_OK) {
        char citation[160];
        snprintf(citation, sizeof citation, "%s \"%s\"", out->where, out->key);
        out->json = json_pack("{s:b, s:o, s:o}", "found", out->found, "traces", c.traces, "notes",
                              c.notes);
        c.traces = c.notes = NULL;
        if (out->json && out->found) {
            set_cstr(out->json, "tool", out->tool);
            set_cstr(out->json, "citation", citation);
        }
        if (!out->json)
            e = UM_ERR_NOMEM;
    }
    json_decref(c.traces);
    json_decref(c.notes);
    if (e != UM_OK) {
        json_decref(out->json);
        memset(out, 0, sizeof *out);
    }
    return e;
}

void um_gen_result_clear(um_gen_result *r)
{
    if (!r)
        return;
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
