/* Generator traces: the metadata AI image tools write about themselves (provenance-markers.md
 * 4.1) - AUTOMATIC1111 (and Forge, Fooocus's A1111 scheme) `parameters`, ComfyUI `prompt` /
 * `workflow`, InvokeAI `invokeai_metadata`, NovelAI (Software/Comment/Source and the stealth
 * alpha-LSB payload), SwarmUI `sui_image_params`, Midjourney's `Description` with a Job ID,
 * Fooocus's own JSON scheme.
 *
 * Input: the text entries the container walker and the EXIF reader found, each with a citation,
 * plus (optionally) the decoded alpha plane. Nothing here reads files or decodes pixels.
 * Output: found / not found, the tool, where it was found, and the parsed facts as JSON. Every
 * text is untrusted: lengths are capped (UM_GEN_MAX_*), JSON is parsed by jansson with a size
 * cap and then only read through type-checked accessors. "Not found" never means "not AI":
 * most tools, and every re-save through a platform, drop this metadata. */
#ifndef UM_PROV_GENERATORS_H
#define UM_PROV_GENERATORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "unmask.h"

#define UM_GEN_MAX_TEXT (4u << 20)      /* longest text examined (longer ones are cut here) */
#define UM_GEN_MAX_TEXTS 4096           /* entries examined */
#define UM_GEN_MAX_STEALTH (4u << 20)   /* stealth payload bytes kept (compressed) */
#define UM_GEN_MAX_INFLATED (8u << 20)  /* its gzip may inflate to this */
#define UM_GEN_MAX_FIELD 4000           /* characters of one prompt/value in the report */
#define UM_GEN_MAX_LIST 64              /* items of one list in the report (nodes, settings) */

/* One text entry. `where` says what carried it ("tEXt", "iTXt", "zTXt", "EXIF", "COM", ...),
 * `key` its name: the PNG keyword, or for EXIF the tag name ("UserComment", "Make", "Model",
 * "Software", "ImageDescription", "DocumentName", "Artist"), "" for a JPEG comment. value need not
 * be NUL-terminated; len is its byte length. An EXIF UserComment may be given raw, with its
 * 8-byte character-code prefix ("ASCII\0\0\0", "UNICODE\0" + UTF-16 of either byte order,
 * "\0\0\0\0\0\0\0\0"): it is decoded here (um_gen_decode_user_comment). */
struct um_gen_text {
    const char *where;
    const char *key;
    const char *value;
    size_t len;
};

typedef struct um_gen_result {
    int found;                /* 1 when at least one tool's trace was recognised */
    char tool[32];            /* the first (strongest) trace: "AUTOMATIC1111", "ComfyUI", ... */
    char where[48], key[80];  /* its citation */
    json_t *json;             /* {"found": bool, "tool", "citation", "traces": [{"tool", "where",
                                 "key", "facts": {...}}, ...]} (owned); never NULL after UM_OK */
} um_gen_result;

/* Look for generator traces in texts[0..n) and, when alpha is not NULL, in the LSBs of the
 * width x height alpha plane (row-major, as um_decoded.alpha). Returns UM_OK (found or not),
 * UM_ERR_ARGUMENT for inconsistent arguments, UM_ERR_NOMEM. */
um_error um_generators_detect(const struct um_gen_text *texts, size_t n, const uint8_t *alpha,
                              int width, int height, um_gen_result *out);
void um_gen_result_clear(um_gen_result *r);

/* Decode an EXIF UserComment (raw bytes with the 8-byte character-code prefix of EXIF 2.3
 * 4.6.5) to UTF-8 with um_exif_user_comment: UNICODE as UTF-16 of the byte order its BOM or zero
 * bytes suggest (big-endian when they do not: piexif writes big-endian), other codes as UTF-8
 * with a Latin-1 fallback up to the first NUL; trailing blanks are dropped. Returns a malloc'ed
 * NUL-terminated string (its length in *out_len) or NULL when out of memory; a value without a
 * known prefix is read whole as text. */
char *um_gen_decode_user_comment(const uint8_t *raw, size_t len, size_t *out_len);

/* The stealth payload of an alpha plane (NovelAI nai_meta.py; sd-webui-stealth-pnginfo): LSB
 * of each alpha sample read column by column (x outer, y inner), 8 bits per byte MSB-first;
 * magic "stealth_pngcomp" (gzip data) or "stealth_pnginfo" (plain), a 32-bit big-endian bit
 * count, then the data. Returns 1 and a malloc'ed NUL-terminated text (length *len,
 * *compressed set) when a payload decodes, 0 when there is none or it is damaged (a reason is
 * written to why), -1 when out of memory. */
int um_gen_stealth_alpha(const uint8_t *alpha, int width, int height, char **text, size_t *len,
                         int *compressed, char *why, size_t whylen);

#endif
