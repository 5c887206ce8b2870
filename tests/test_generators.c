/* Generator traces: texts as AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI, SwarmUI, Fooocus and
 * Midjourney write them, EXIF UserComment encodings, NovelAI's stealth alpha payload (built
 * here with zlib, also through a real PNG and WebP decode), and garbage that must give nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <webp/encode.h>
#include <zlib.h>

#include "check.h"
#include "io/decode.h"
#include "prov/generators.h"

#define TEXT(where, key, s) {where, key, s, sizeof(s) - 1}

static const char a1111_text[] =
    "masterpiece, a cat on a red chair, (detailed:1.2)\n"
    "second prompt line\n"
    "Negative prompt: blurry, lowres\n"
    "extra negative line\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 3141592653, Size: 512x768, "
    "Model hash: 6ce0161689, Model: \"v1-5, pruned \\\"emaonly\\\"\", "
    "Lora hashes: \"a: 1234, b: 5678\", Version: v1.6.0";

static json_t *first_facts(const um_gen_result *r)
{
    return json_object_get(json_array_get(json_object_get(r->json, "traces"), 0), "facts");
}

static const char *fact_str(const um_gen_result *r, const char *key)
{
    return json_string_value(json_object_get(first_facts(r), key));
}

static void check_a1111_facts(const um_gen_result *r)
{
    CHECK(r->found == 1 && strcmp(r->tool, "AUTOMATIC1111") == 0);
    const char *prompt = fact_str(r, "prompt");
    CHECK(prompt && strcmp(prompt, "masterpiece, a cat on a red chair, (detailed:1.2)\n"
                                   "second prompt line") == 0);
    const char *neg = fact_str(r, "negative_prompt");
    CHECK(neg && strcmp(neg, "blurry, lowres\nextra negative line") == 0);
    json_t *facts = first_facts(r);
    CHECK(json_integer_value(json_object_get(facts, "seed")) == 3141592653LL);
    CHECK(json_integer_value(json_object_get(facts, "steps")) == 20);
    CHECK(json_real_value(json_object_get(facts, "cfg_scale")) == 7.5);
    CHECK(fact_str(r, "model") && strcmp(fact_str(r, "model"), "v1-5, pruned \"emaonly\"") == 0);
    CHECK(fact_str(r, "sampler") && strcmp(fact_str(r, "sampler"), "Euler a") == 0);
    CHECK(fact_str(r, "size") && strcmp(fact_str(r, "size"), "512x768") == 0);
    CHECK(fact_str(r, "version") && strcmp(fact_str(r, "version"), "v1.6.0") == 0);
    json_t *settings = json_object_get(facts, "settings");
    CHECK(json_string_value(json_object_get(settings, "Lora hashes")) &&
          strcmp(json_string_value(json_object_get(settings, "Lora hashes")), "a: 1234, b: 5678") == 0);
    CHECK(json_object_size(settings) == 9);
}

static void a1111_parameters_are_parsed(void)
{
    struct um_gen_text t[] = {TEXT("tEXt", "parameters", a1111_text)};
    um_gen_result r;
    CHECK(um_generators_detect(t, 1, NULL, 0, 0, &r) == UM_OK);
    check_a1111_facts(&r);
    CHECK(strcmp(r.where, "tEXt") == 0 && strcmp(r.key, "parameters") == 0);
    CHECK(json_is_true(json_object_get(r.json, "found")));
    CHECK(strcmp(json_string_value(json_object_get(r.json, "citation")), "tEXt \"parameters\"") == 0);
    um_gen_result_clear(&r);
}

static void a1111_without_negative_or_prompt(void)
{
    static const char only[] = "Steps: 30, Sampler: DPM++ 2M, Seed: 1, Version: Fooocus v2.1";
    struct um_gen_text t[] = {TEXT("tEXt", "parameters", only)};
    um_gen_result r;
    CHECK(um_generators_detect(t, 1, NULL, 0, 0, &r) == UM_OK);
    CHECK(r.found && strcmp(r.tool, "Fooocus") == 0);
    CHECK(fact_str(&r, "prompt") && fact_str(&r, "prompt")[0] == '\0');
    CHECK(json_object_get(first_facts(&r), "negative_prompt") == NULL);
    um_gen_result_clear(&r);
}

/* piexif's UNICODE: "UNICODE\0" + UTF-16BE; other writers use little-endian or ASCII. */
static size_t user_comment(uint8_t *out, const char *text, int mode)
{
    size_t n = strlen(text), o = 8;
    memcpy(out, mode == 0 ? "ASCII\0\0\0" : "UNICODE\0", 8);
    for (size_t i = 0; i < n; i++) {
        if (mode == 0) {
            out[o++] = (uint8_t)text[i];
        } else if (mode == 1) {
            out[o++] = 0;
            out[o++] = (uint8_t)text[i];
        } else {
            out[o++] = (uint8_t)text[i];
            out[o++] = 0;
        }
    }
    return o;
}

static void user_comment_encodings_are_decoded(void)
{
    static uint8_t buf[2 * sizeof a1111_text + 16];
    for (int mode = 0; mode < 3; mode++) {
        size_t n = user_comment(buf, a1111_text, mode);
        struct um_gen_text t[] = {{"EXIF", "UserComment", (const char *)buf, n}};
        um_gen_result r;
        CHECK(um_generators_detect(t, 1, NULL, 0, 0, &r) == UM_OK);
        CHECK_MSG(r.found, "mode %d", mode);
        check_a1111_facts(&r);
        um_gen_result_clear(&r);
    }
    /* Non-ASCII through UTF-16 (a surrogate pair) comes out as UTF-8. */
    static const uint8_t be[] = {'U', 'N', 'I', 'C', 'O', 'D', 'E', 0, 0x00, 'a', 0x00, 0xE9,
                                 0xD8, 0x3D, 0xDE, 0x00, 0, 0};
    size_t len = 0;
    char *s = um_gen_decode_user_comment(be, sizeof be, &len);
    CHECK(s && len == 7 && strcmp(s, "a\xC3\xA9\xF0\x9F\x98\x80") == 0);
    free(s);
}

static const char comfy_prompt[] =
    "{\"3\": {\"class_type\": \"KSampler\", \"inputs\": {\"seed\": 156680208700286, \"steps\": 20,"
    " \"cfg\": 8.0, \"sampler_name\": \"euler\", \"scheduler\": \"normal\", \"denoise\": 1.0,"
    " \"model\": [\"4\", 0], \"positive\": [\"6\", 0], \"negative\": [\"7\", 0]}},"
    " \"4\": {\"class_type\": \"CheckpointLoaderSimple\", \"inputs\": {\"ckpt_name\":"
    " \"sd_xl_base_1.0.safetensors\"}},"
    " \"6\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": {\"text\": \"a lighthouse at dusk\","
    " \"clip\": [\"4\", 1]}},"
    " \"7\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": {\"text\": \"text, watermark\","
    " \"clip\": [\"4\", 1]}},"
    " \"9\": {\"class_type\": \"SaveImage\", \"inputs\": {\"filename_prefix\": \"ComfyUI\"}}}";

static const char comfy_workflow[] =
    "{\"last_node_id\": 9, \"nodes\": [{\"id\": 3, \"type\": \"KSampler\"}, {\"id\": 4, \"type\":"
    " \"CheckpointLoaderSimple\"}, {\"id\": 9, \"type\": \"SaveImage\"}], \"links\": [[1, 4, 0, 3,"
    " 0, \"MODEL\"]], \"version\": 0.4}";

static void comfyui_prompt_and_workflow(void)
{
    struct um_gen_text t[] = {TEXT("tEXt", "prompt", comfy_prompt),
                              TEXT("tEXt", "workflow", comfy_workflow)};
    um_gen_result r;
    CHECK(um_generators_detect(t, 2, NULL, 0, 0, &r) == UM_OK);
    CHECK(r.found && strcmp(r.tool, "ComfyUI") == 0 && strcmp(r.key, "prompt") == 0);
    json_t *f = first_facts(&r);
    CHECK(json_integer_value(json_object_get(f, "node_count")) == 5);
    CHECK(json_array_size(json_object_get(f, "class_types")) == 4);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(f, "models"), 0)),
                 "sd_xl_base_1.0.safetensors") == 0);
    json_t *ks = json_array_get(json_object_get(f, "samplers"), 0);
    CHECK(json_integer_value(json_object_get(ks, "seed")) == 156680208700286LL);
    CHECK(json_integer_value(json_object_get(ks, "steps")) == 20);
    CHECK(json_real_value(json_object_get(ks, "cfg")) == 8.0);
    CHECK(json_object_get(ks, "model") == NULL); /* a link, not a value */
    json_t *prompts = json_object_get(f, "prompts");
    CHECK(json_array_size(prompts) == 2);
    CHECK(strcmp(json_string_value(json_array_get(prompts, 0)), "a lighthouse at dusk") == 0);
    json_t *traces = json_object_get(r.json, "traces");
    CHECK(json_array_size(traces) == 2);
    json_t *wf = json_object_get(json_array_get(traces, 1), "facts");
    CHECK(json_integer_value(json_object_get(wf, "node_count")) == 3);
    CHECK(json_integer_value(json_object_get(wf, "link_count")) == 1);
    um_gen_result_clear(&r);
}

static void comfyui_exif_prefixes(void)
{
    char model[sizeof comfy_prompt + 8];
    snprintf(model, sizeof model, "prompt:%s", comfy_prompt);
    struct um_gen_text t[] = {{"EXIF", "Model", model, strlen(model)}};
    um_gen_result r;
    CHECK(um_generators_detect(t, 1, NULL, 0, 0, &r) == UM_OK);
    CHECK(r.found && strcmp(r.tool, "ComfyUI") == 0 && strcmp(r.key, "Model") == 0);
    um_gen_result_clear(&r);
}

static void invokeai_swarmui_fooocus_midjourney(void)
{
    static const char invoke[] =
        "{\"app_version\": \"3.4.0\", \"generation_mode\": \"txt2img\", \"positive_prompt\":"
        " \"an owl\", \"seed\": 7, \"model\": {\"model_name\": \"stable-diffusion-v1-5\","
        " \"base_model\": \"sd-1\"}}";
    static const char swarm[] = "{\"sui_image_params\": {\"prompt\": \"a fox\", \"model\":"
                                " \"OfficialStableDiffusion/sd_xl_base_1.0\", \"seed\": 99,"
                                " \"steps\": 30, \"swarm_version\": \"0.6.1\"},"
                                " \"sui_extra_data\": {}}";
    static const char fooocus[] = "{\"prompt\": \"a boat\", \"base_model\": \"juggernautXL\","
                                  " \"seed\": \"123\", \"version\": \"Fooocus v2.1.865\"}";
    static const char mj[] = "a watercolor map of a city --ar 16:9 --v 6.0 Job ID: "
                             "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
    struct um_gen_text cases[][1] = {{TEXT("tEXt", "invokeai_metadata", invoke)},
                                     {TEXT("tEXt", "parameters", swarm)},
                                     {TEXT("tEXt", "parameters", fooocus)},
                                     {TEXT("iTXt", "Description", mj)}};
    static const char *const tools[] = {"InvokeAI", "SwarmUI", "Fooocus", "Midjourney"};
    for (int i = 0; i < 4; i++) {
        um_gen_result r;
        CHECK(um_generators_detect(cases[i], 1, NULL, 0, 0, &r) == UM_OK);
        CHECK_MSG(r.found && strcmp(r.tool, tools[i]) == 0, "%s: got %s", tools[i], r.tool);
        json_t *f = first_facts(&r);
        if (i == 0) {
            CHECK(strcmp(fact_str(&r, "positive_prompt"), "an owl") == 0);
            CHECK(strcmp(json_string_value(json_object_get(json_object_get(f, "model"), "model_name")),
                         "stable-diffusion-v1-5") == 0);
        } else if (i == 1) {
            CHECK(json_integer_value(json_object_get(f, "seed")) == 99);
            CHECK(strcmp(fact_str(&r, "swarm_version"), "0.6.1") == 0);
        } else if (i == 2) {
            CHECK(strcmp(fact_str(&r, "base_model"), "juggernautXL") == 0);
        } else {
            CHECK(strcmp(fact_str(&r, "job_id"), "0a1b2c3d-4e5f-6789-abcd-ef0123456789") == 0);
            CHECK(strcmp(fact_str(&r, "prompt"), "a watercolor map of a city --ar 16:9 --v 6.0") == 0);
        }
        um_gen_result_clear(&r);
    }
}

static const char nai_comment[] =
    "{\"prompt\": \"1girl, umbrella, rain\", \"steps\": 28, \"height\": 1216, \"width\": 832,"
    " \"scale\": 5.0, \"uc\": \"lowres, bad anatomy\", \"seed\": 2718281828, \"sampler\":"
    " \"k_euler_ancestral\", \"signed_hash\": \"c2lnbmF0dXJl\"}";

static void novelai_text_fields(void)
{
    struct um_gen_text t[] = {TEXT("tEXt", "Title", "NovelAI generated image"),
                              TEXT("tEXt", "Description", "1girl, umbrella, rain"),
                              TEXT("tEXt", "Software", "NovelAI"),
                              TEXT("tEXt", "Source", "NovelAI Diffusion V4.5 4BDE2A90"),
                              TEXT("tEXt", "Comment", nai_comment)};
    um_gen_result r;
    CHECK(um_generators_detect(t, 5, NULL, 0, 0, &r) == UM_OK);
    CHECK(r.found && strcmp(r.tool, "NovelAI") == 0);
    CHECK(json_array_size(json_object_get(r.json, "traces")) == 1); /* gathered in one */
    json_t *f = first_facts(&r);
    CHECK(strcmp(fact_str(&r, "source"), "NovelAI Diffusion V4.5 4BDE2A90") == 0);
    json_t *c = json_object_get(f, "comment");
    CHECK(json_integer_value(json_object_get(c, "seed")) == 2718281828LL);
    CHECK(strcmp(json_string_value(json_object_get(c, "uc")), "lowres, bad anatomy") == 0);
    CHECK(json_is_true(json_object_get(c, "signed_hash_present")));
    um_gen_result_clear(&r);
}

/* ---- stealth alpha ---- */

static size_t gzip_bytes(const char *text, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

/* Write magic, 32-bit BE bit count and data into the alpha LSBs, column-major (nai_meta.py). */
static void put_stealth(uint8_t *alpha, int w, int h, const char *magic, const uint8_t *data,
                        size_t n, uint32_t bits_field)
{
    size_t pos = 0;
    uint8_t header[19];
    memcpy(header, magic, 15);
    for (int i = 0; i < 4; i++)
        header[15 + i] = (uint8_t)(bits_field >> (24 - 8 * i));
    for (size_t i = 0; i < 19 + n; i++) {
        uint8_t byte = i < 19 ? header[i] : data[i - 19];
        for (int b = 7; b >= 0; b--, pos++) {
            size_t x = pos / (size_t)h, y = pos % (size_t)h;
            uint8_t *a = &alpha[y * (size_t)w + x];
            *a = (uint8_t)((*a & 0xFE) | ((byte >> b) & 1));
        }
    }
    (void)w;
}

static uint8_t *stealth_alpha(int w, int h, const char *json_text, int compressed)
{
    uint8_t *alpha = malloc((size_t)w * h);
    memset(alpha, 255, (size_t)w * h);
    static uint8_t payload[8192];
    size_t n = compressed ? gzip_bytes(json_text, payload, sizeof payload) : strlen(json_text);
    if (!compressed)
        memcpy(payload, json_text, n);
    put_stealth(alpha, w, h, compressed ? "stealth_pngcomp" : "stealth_pnginfo", payload, n,
                (uint32_t)(n * 8));
    return alpha;
}

static char *nai_dict(void)
{
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "Software", "NovelAI", "Source",
                          "NovelAI Diffusion V3 C1E1DE52", "Description", "1girl, umbrella",
                          "Comment", nai_comment);
    char *s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return s;
}

static void novelai_stealth_alpha_is_decoded(void)
{
    char *dict = nai_dict();
    int w = 97, h = 61; /* odd sizes: column-major order matters */
    uint8_t *alpha = stealth_alpha(w, h, dict, 1);
    um_gen_result r;
    CHECK(um_generators_detect(NULL, 0, alpha, w, h, &r) == UM_OK);
    CHECK(r.found && strcmp(r.tool, "NovelAI") == 0);
    CHECK(strcmp(r.where, "alpha LSB") == 0 && strcmp(r.key, "stealth_pngcomp") == 0);
    json_t *f = first_facts(&r);
    CHECK(strcmp(json_string_value(json_object_get(f, "Source")), "NovelAI Diffusion V3 C1E1DE52") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(f, "comment"), "steps")) == 28);
    um_gen_result_clear(&r);

    /* The order matters: the transposed plane, read column by column, is the original read
     * row by row, which holds nothing. */
    uint8_t *t = malloc((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            t[(size_t)x * h + y] = alpha[(size_t)y * w + x];
    CHECK(um_generators_detect(NULL, 0, t, h, w, &r) == UM_OK && !r.found);
    um_gen_result_clear(&r);
    free(t);
    free(alpha);
    free(dict);
}

static void stealth_pnginfo_carries_a1111_text(void)
{
    uint8_t *alpha = stealth_alpha(80, 80, a1111_text, 0);
    um_gen_result r;
    CHECK(um_generators_detect(NULL, 0, alpha, 80, 80, &r) == UM_OK);
    check_a1111_facts(&r);
    CHECK(strcmp(r.key, "stealth_pnginfo") == 0);
    um_gen_result_clear(&r);
    free(alpha);
}

static void damaged_stealth_payloads_are_notes(void)
{
    int w = 40, h = 40;
    uint8_t *alpha = malloc((size_t)w * h);
    memset(alpha, 254, (size_t)w * h);
    static const uint8_t junk[16] = {0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const uint32_t fields[3] = {16 * 8, 0xFFFFFFFFu, 0};
    for (int i = 0; i < 3; i++) {
        put_stealth(alpha, w, h, "stealth_pngcomp", junk, sizeof junk, fields[i]);
        um_gen_result r;
        CHECK(um_generators_detect(NULL, 0, alpha, w, h, &r) == UM_OK);
        CHECK(!r.found);
        CHECK(json_array_size(json_object_get(r.json, "notes")) == 1);
        um_gen_result_clear(&r);
    }
    free(alpha);
}

/* ---- through the decoders: alpha kept by PNG and WebP ---- */

struct membuf {
    uint8_t *data;
    size_t size;
};

static void write_mem(png_structp png, png_bytep p, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    m->data = realloc(m->data, m->size + n);
    memcpy(m->data + m->size, p, n);
    m->size += n;
}

static void flush_mem(png_structp png) { (void)png; }

static struct membuf rgba_png(const uint8_t *rgba, int w, int h)
{
    struct membuf m = {NULL, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        abort();
    png_set_write_fn(png, &m, write_mem, flush_mem);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_bytep)rgba + (size_t)y * w * 4);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m;
}

static void decoded_png_and_webp_keep_alpha(void)
{
    char *dict = nai_dict();
    int w = 64, h = 48;
    uint8_t *alpha = stealth_alpha(w, h, dict, 1);
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        rgba[4 * i] = (uint8_t)(i * 7), rgba[4 * i + 1] = (uint8_t)(i >> 3);
        rgba[4 * i + 2] = 100, rgba[4 * i + 3] = alpha[i];
    }
    struct membuf png = rgba_png(rgba, w, h);
    uint8_t *webp = NULL;
    size_t webp_size = WebPEncodeLosslessRGBA(rgba, w, h, w * 4, &webp);
    CHECK(webp_size > 0);
    const uint8_t *files[2] = {png.data, webp};
    size_t sizes[2] = {png.size, webp_size};
    for (int f = 0; f < 2; f++) {
        um_decoded d;
        char err[200];
        CHECK(um_decode(files[f], sizes[f], NULL, &d, err, sizeof err) == UM_OK);
        CHECK(d.has_alpha && d.alpha != NULL);
        CHECK(d.alpha && memcmp(d.alpha, alpha, (size_t)w * h) == 0);
        CHECK(d.rgb->data[1] == 7.0f); /* pixels unchanged by keeping alpha */
        um_gen_result r;
        CHECK(um_generators_detect(NULL, 0, d.alpha, d.width, d.height, &r) == UM_OK);
        CHECK_MSG(r.found && strcmp(r.tool, "NovelAI") == 0, "format %d", f);
        um_gen_result_clear(&r);
        um_decoded_clear(&d);
    }
    /* An opaque image has no alpha plane. */
    um_decoded d;
    static const uint8_t rgb[3 * 16 * 16] = {0};
    uint8_t *opaque = NULL;
    size_t on = WebPEncodeLosslessRGB(rgb, 16, 16, 48, &opaque);
    CHECK(um_decode(opaque, on, NULL, &d, NULL, 0) == UM_OK && d.alpha == NULL);
    um_decoded_clear(&d);
    WebPFree(opaque);
    WebPFree(webp);
    free(png.data);
    free(rgba);
    free(alpha);
    free(dict);
}

/* ---- garbage ---- */

static void garbage_finds_nothing(void)
{
    unsigned s = 12345;
    static char buf[4096];
    static const char *const keys[] = {"parameters", "prompt", "workflow", "Comment", "Software",
                                       "UserComment", "Description", "invokeai_metadata", ""};
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 13) % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            buf[i] = (char)(s & 0xFF);
        }
        if (round % 3 == 1 && n > 2)
            buf[0] = '{';
        struct um_gen_text t[] = {{"tEXt", keys[round % 9], buf, n}};
        uint8_t alpha[32 * 32];
        memcpy(alpha, buf, n < sizeof alpha ? n : sizeof alpha);
        um_gen_result r;
        CHECK(um_generators_detect(t, 1, n >= sizeof alpha ? alpha : NULL, 32, 32, &r) == UM_OK);
        CHECK_MSG(!r.found, "round %d found %s", round, r.tool);
        char *dump = json_dumps(r.json, 0); /* every string valid UTF-8 */
        CHECK(dump != NULL);
        free(dump);
        um_gen_result_clear(&r);
    }
    struct um_gen_text plain[] = {TEXT("tEXt", "Software", "GIMP 2.10"),
                                  TEXT("COM", "", "Steps: one, two"),
                                  TEXT("tEXt", "parameters", "hello world"),
                                  TEXT("tEXt", "Description", "Job ID is missing"),
                                  {"tEXt", NULL, NULL, 0}};
    um_gen_result r;
    CHECK(um_generators_detect(plain, 5, NULL, 0, 0, &r) == UM_OK);
    CHECK(!r.found && json_is_false(json_object_get(r.json, "found")));
    CHECK(json_array_size(json_object_get(r.json, "notes")) == 1); /* "parameters" unparsed */
    um_gen_result_clear(&r);
    CHECK(um_generators_detect(NULL, 1, NULL, 0, 0, &r) == UM_ERR_ARGUMENT);
    uint8_t a = 0;
    CHECK(um_generators_detect(NULL, 0, &a, 0, 5, &r) == UM_ERR_ARGUMENT);
}

static void long_and_invalid_text_is_capped_and_cleaned(void)
{
    size_t n = 100000;
    char *text = malloc(n + 200);
    memset(text, 'a', n);
    text[10] = (char)0xFF; /* invalid UTF-8 */
    text[11] = '\0';       /* an embedded NUL */
    const char *tail = "\nSteps: 20, Sampler: Euler, Seed: 5";
    memcpy(text + n, tail, strlen(tail));
    struct um_gen_text t[] = {{"tEXt", "parameters", text, n + strlen(tail)}};
    um_gen_result r;
    CHECK(um_generators_detect(t, 1, NULL, 0, 0, &r) == UM_OK && r.found);
    const char *prompt = fact_str(&r, "prompt");
    CHECK(prompt && strlen(prompt) <= UM_GEN_MAX_FIELD + 3);
    CHECK(prompt && prompt[10] == '?' && prompt[11] == '?');
    um_gen_result_clear(&r);
    free(text);
}

static const struct um_test_case cases[] = {
    {"a1111_parameters_are_parsed", a1111_parameters_are_parsed},
    {"a1111_without_negative_or_prompt", a1111_without_negative_or_prompt},
    {"user_comment_encodings_are_decoded", user_comment_encodings_are_decoded},
    {"comfyui_prompt_and_workflow", comfyui_prompt_and_workflow},
    {"comfyui_exif_prefixes", comfyui_exif_prefixes},
    {"invokeai_swarmui_fooocus_midjourney", invokeai_swarmui_fooocus_midjourney},
    {"novelai_text_fields", novelai_text_fields},
    {"novelai_stealth_alpha_is_decoded", novelai_stealth_alpha_is_decoded},
    {"stealth_pnginfo_carries_a1111_text", stealth_pnginfo_carries_a1111_text},
    {"damaged_stealth_payloads_are_notes", damaged_stealth_payloads_are_notes},
    {"decoded_png_and_webp_keep_alpha", decoded_png_and_webp_keep_alpha},
    {"garbage_finds_nothing", garbage_finds_nothing},
    {"long_and_invalid_text_is_capped_and_cleaned", long_and_invalid_text_is_capped_and_cleaned},
};
UM_TEST_MAIN(cases)
