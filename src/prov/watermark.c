/* invisible-watermark dwtDct decoder (provenance-markers.md 4.2; steps numbered as there).
 *
 * One pass over the image computes, for every 8x8 pixel block (= one 4x4 block of the Haar LL
 * band of the U plane), the bit vote of all four read variants at once; the votes are then
 * averaged per bit index for each known message. The uint8 variants stay in integers: U is an
 * integer 0..255, so LL = S/2 with S the sum of a 2x2 quad, and fmod(S/2, 36) > 18 is exactly
 * S mod 72 > 36 (S >= 0). */
#include "prov/watermark.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nfa.h"

#define WM_SCALE 36 /* scales [0, 36, 36]: only U (channel 1) is used, step 3 */

/* ---- names and payloads ---- */

const char *um_wm_variant_name(um_wm_variant v)
{
    switch (v) {
    case UM_WM_BGR_UINT8: return "bgr-uint8";
    case UM_WM_RGB_UINT8: return "rgb-uint8";
    case UM_WM_BGR_FLOAT: return "bgr-float";
    case UM_WM_RGB_FLOAT: return "rgb-float";
    }
    return "unknown";
}

const char *um_wm_class_name(um_wm_class c)
{
    switch (c) {
    case UM_WM_CLASS_NO: return "no";
    case UM_WM_CLASS_PARTIAL: return "partial";
    case UM_WM_CLASS_LIKELY: return "likely";
    case UM_WM_CLASS_VERY_LIKELY: return "very likely";
    }
    return "no";
}

struct wm_message {
    const char *name;
    const unsigned char *bytes;
    int nbytes;
};

/* SD 1.x: CompVis scripts/txt2img.py; SD 2.x: Stability-AI/stablediffusion scripts; SDXL:
 * generative-models sgm/inference/helpers.py and diffusers (0xB3EC907BB19E). */
static const unsigned char sd1_bytes[] = "StableDiffusionV1";
static const unsigned char sd2_bytes[] = "SDV2";
static const unsigned char sdxl_bytes[] = {0xB3, 0xEC, 0x90, 0x7B, 0xB1, 0x9E};
static const struct wm_message wm_messages[UM_WM_MESSAGES] = {
    {"SD 1.x", sd1_bytes, 17},
    {"SD 2.x", sd2_bytes, 4},
    {"SDXL", sdxl_bytes, 6},
};

int um_wm_message_bits(int m, unsigned char *bits, int cap)
{
    if (m < 0 || m >= UM_WM_MESSAGES)
        return 0;
    const struct wm_message *msg = &wm_messages[m];
    int n = msg->nbytes * 8;
    for (int i = 0; i < n && i < cap; i++) /* np.unpackbits: MSB first */
        bits[i] = (unsigned char)((msg->bytes[i / 8] >> (7 - i % 8)) & 1);
    return n;
}

/* ---- step 2: U of OpenCV's BGR->YUV ---- */

/* uint8 path, fixed point with shift 14 (VERIFIED bit-exact in the note). `b` is whatever sits
 * in the blue slot: for the RGB variant the caller passes R there. Always in 0..255: the
 * rounding offset 128 << 14 exceeds |(b - y) * 8061|, so no clamp and no negative shift. */
static inline int u_fixed(int b, int g, int r)
{
    int y = (b * 1868 + g * 9617 + r * 4899 + 8192) >> 14;
    return ((b - y) * 8061 + (128 << 14) + 8192) >> 14;
}

/* float path: OpenCV's float conversion uses delta 0.5, not 128. */
static inline float u_float(float b, float g, float r)
{
    float y = b * 0.114f + g * 0.587f + r * 0.299f;
    return (b - y) * 0.492f + 0.5f;
}

static inline int to_u8(float v)
{
    if (!(v > 0.0f)) /* also NaN */
        return 0;
    if (v >= 255.0f)
        return 255;
    return (int)(v + 0.5f);
}

/* ---- steps 4-7: LL of one block and its vote ---- */

/* The 16 LL sums (2 x LL) of the 4x4 LL block at block row bi, column bj, for the four variants. */
struct block_ll {
    int32_t s8[2][16]; /* uint8 BGR, uint8 RGB: 2*LL, exact */
    float sf[2][16];   /* float BGR, float RGB: 2*LL */
};

static void block_sums(const um_image *rgb, int bi, int bj, struct block_ll *b)
{
    size_t w = (size_t)rgb->width;
    const float *R = um_image_plane(rgb, 0), *G = um_image_plane(rgb, 1),
                *B = um_image_plane(rgb, 2);
    for (int cy = 0; cy < 4; cy++)
        for (int cx = 0; cx < 4; cx++) {
            int32_t a0 = 0, a1 = 0;
            float f0 = 0.0f, f1 = 0.0f;
            for (int dy = 0; dy < 2; dy++) {
                size_t row = (size_t)(bi * 8 + cy * 2 + dy) * w + (size_t)(bj * 8 + cx * 2);
                for (int dx = 0; dx < 2; dx++) {
                    float r = R[row + dx], g = G[row + dx], bl = B[row + dx];
                    int ri = to_u8(r), gi = to_u8(g), bi8 = to_u8(bl);
                    a0 += u_fixed(bi8, gi, ri);
                    a1 += u_fixed(ri, gi, bi8);
                    f0 += u_float(bl, g, r);
                    f1 += u_float(r, g, bl);
                }
            }
            b->s8[0][cy * 4 + cx] = a0;
            b->s8[1][cy * 4 + cx] = a1;
            b->sf[0][cy * 4 + cx] = f0;
            b->sf[1][cy * 4 + cx] = f1;
        }
}

/* Step 6-7, uint8: k = 1 + argmax over v[1..15] (first maximum wins); S >= 0 here. */
static int vote_fixed(const int32_t *s)
{
    int k = 1;
    for (int i = 2; i < 16; i++)
        if (s[i] > s[k])
            k = i;
    return s[k] % (2 * WM_SCALE) > WM_SCALE;
}

/* Step 6-7, float: same on |LL| = |S| / 2. */
static int vote_float(const float *s)
{
    int k = 1;
    float best = fabsf(s[1]);
    for (int i = 2; i < 16; i++)
        if (fabsf(s[i]) > best) {
            best = fabsf(s[i]);
            k = i;
        }
    return fmodf(fabsf(s[k]) * 0.5f, (float)WM_SCALE) > 0.5f * WM_SCALE;
}

/* Votes of every block for the four variants: votes[v * nblocks + num], num = i * nbc + j
 * (step 5: row-major block order). */
static void all_votes(const um_image *rgb, int nbr, int nbc, uint8_t *votes)
{
    size_t nblocks = (size_t)nbr * (size_t)nbc;
    struct block_ll b;
    for (int i = 0; i < nbr; i++)
        for (int j = 0; j < nbc; j++) {
            size_t num = (size_t)i * (size_t)nbc + (size_t)j;
            block_sums(rgb, i, j, &b);
            votes[0 * nblocks + num] = (uint8_t)vote_fixed(b.s8[0]);
            votes[1 * nblocks + num] = (uint8_t)vote_fixed(b.s8[1]);
            votes[2 * nblocks + num] = (uint8_t)vote_float(b.sf[0]);
            votes[3 * nblocks + num] = (uint8_t)vote_float(b.sf[1]);
        }
}

/* ---- step 8 and the comparison with a known payload ---- */

/* Average the votes of each bit index (num % nbits) and count the bits equal to the payload.
 * A bit is 1 when avg * 255 > 127 (the library's rule); a bit with no block reads 0. */
static int matched_bits(const uint8_t *votes, size_t nblocks, const unsigned char *bits,
                        int nbits)
{
    uint32_t ones[136] = {0}, count[136] = {0};
    for (size_t num = 0; num < nblocks; num++) {
        int bit = (int)(num % (size_t)nbits);
        ones[bit] += votes[num];
        count[bit]++;
    }
    int matched = 0;
    for (int i = 0; i < nbits; i++) {
        int read = count[i] > 0 && (uint64_t)ones[i] * 255 > (uint64_t)count[i] * 127;
        matched += read == bits[i];
    }
    return matched;
}

/* Thresholds for nbits: SDXL's own for 48 bits (Stability-AI generative-models
 * scripts/demo/detect.py); for other lengths the smallest count whose binomial tail
 * P[Bin(n, 1/2) >= k] does not exceed the tail of the SDXL threshold, i.e. the same false-alarm
 * probability for one read of an unmarked image (28 -> 20/32 and 75/136, 34 -> 25 and 85,
 * 36 -> 26 and 89). */
static void thresholds_for(int nbits, int t[3])
{
    static const int sdxl[3] = {28, 34, 36};
    for (int c = 0; c < 3; c++) {
        if (nbits == 48) {
            t[c] = sdxl[c];
            continue;
        }
        double target = um_log10_binomial_tail(48, sdxl[c], 0.5) + 1e-9;
        int k = nbits / 2 + 1;
        while (k <= nbits && um_log10_binomial_tail(nbits, k, 0.5) > target)
            k++;
        t[c] = k;
    }
}

static um_wm_class class_of(int matched, const int t[3])
{
    if (matched >= t[2])
        return UM_WM_CLASS_VERY_LIKELY;
    if (matched >= t[1])
        return UM_WM_CLASS_LIKELY;
    if (matched >= t[0])
        return UM_WM_CLASS_PARTIAL;
    return UM_WM_CLASS_NO;
}

static void match_message(int m, const uint8_t *votes, size_t nblocks, um_wm_message_match *mm)
{
    unsigned char bits[136];
    int nbits = um_wm_message_bits(m, bits, (int)sizeof bits);
    memset(mm, 0, sizeof *mm);
    mm->name = wm_messages[m].name;
    mm->bits = nbits;
    mm->matched = -1;
    for (int v = 0; v < UM_WM_VARIANTS; v++) {
        int k = matched_bits(votes + (size_t)v * nblocks, nblocks, bits, nbits);
        mm->matched_by_variant[v] = k;
        if (k > mm->matched) {
            mm->matched = k;
            mm->variant = (um_wm_variant)v;
        }
    }
    thresholds_for(nbits, mm->threshold);
    mm->cls = class_of(mm->matched, mm->threshold);
    mm->log10_p = um_log10_binomial_tail(nbits, mm->matched, 0.5);
}

/* ---- report ---- */

static json_t *message_json(const um_wm_message_match *mm)
{
    json_t *by = json_object();
    for (int v = 0; v < UM_WM_VARIANTS; v++)
        json_object_set_new(by, um_wm_variant_name((um_wm_variant)v),
                            json_integer(mm->matched_by_variant[v]));
    json_t *th = json_pack("{s:i, s:i, s:i}", "partial", mm->threshold[0], "likely",
                           mm->threshold[1], "very_likely", mm->threshold[2]);
    return json_pack("{s:s, s:i, s:i, s:s, s:s, s:f, s:o, s:o}", "message", mm->name, "bits",
                     mm->bits, "matched", mm->matched, "variant",
                     um_wm_variant_name(mm->variant), "class", um_wm_class_name(mm->cls),
                     "log10_p", mm->log10_p, "matched_by_variant", by, "thresholds", th);
}

static json_t *report_json(const um_watermark_result *r)
{
    static const char *const detected_names[] = {"not detected", "likely", "very likely"};
    json_t *msgs = json_array();
    for (int m = 0; m < UM_WM_MESSAGES; m++) {
        json_t *mj = message_json(&r->msg[m]);
        /* The payloads share structure (two are ASCII text), so a strong mark of one lifts the
         * count of another above chance: say which reading explains it. */
        if (mj && r->msg[m].name != r->name && r->msg[m].cls >= UM_WM_CLASS_PARTIAL && r->detected)
            json_object_set_new(mj, "shadowed_by", json_string(r->name));
        json_array_append_new(msgs, mj);
    }
    /* 3 messages x 4 variants are tried: the chance of a false alarm anywhere is at most 12
     * times one read's. */
    double log10_nfa = log10((double)(UM_WM_MESSAGES * UM_WM_VARIANTS));
    for (int m = 0; m < UM_WM_MESSAGES; m++)
        if (r->msg[m].name == r->name)
            log10_nfa += r->msg[m].log10_p;
    return json_pack(
        "{s:b, s:s, s:s, s:s, s:i, s:i, s:s, s:f, s:o, s:s}", "applicable", 1, "method",
        "invisible-watermark dwtDct (U plane, Haar LL, 4x4 blocks, scale 36)", "detected",
        detected_names[r->detected], "message", r->name, "matched", r->matched, "bits",
        r->total, "variant", um_wm_variant_name(r->variant), "log10_nfa", log10_nfa, "messages",
        msgs, "note",
        "a found mark means a Stable Diffusion pipeline wrote these pixels; not detected "
        "proves nothing (resizing, cropping or recompression erase it, and most generators "
        "never add it)");
}

static um_error not_applicable(um_watermark_result *out, const char *fmt, int w, int h)
{
    out->applicable = 0;
    snprintf(out->reason, sizeof out->reason, fmt, w, h);
    out->json = json_pack("{s:b, s:s}", "applicable", 0, "reason", out->reason);
    return out->json ? UM_OK : UM_ERR_NOMEM;
}

/* ---- entry point ---- */

um_error um_watermark_detect(const um_image *rgb, um_watermark_result *out)
{
    if (!out)
        return UM_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->name = wm_messages[2].name;
    if (!rgb || rgb->channels != 3 || !rgb->data || rgb->width < 1 || rgb->height < 1)
        return UM_ERR_ARGUMENT;
    int w = rgb->width, h = rgb->height;
    /* Step 1: the library refuses H*W < 256*256; SD never writes more than ~2048 a side. */
    if ((long long)w * h < UM_WM_MIN_PIXELS)
        return not_applicable(out,
                              "the image is %dx%d pixels; the watermark library refuses images "
                              "under 256x256 pixels in area, so no Stable Diffusion mark can be "
                              "there",
                              w, h);
    if (w > UM_WM_MAX_SIDE || h > UM_WM_MAX_SIDE)
        return not_applicable(out,
                              "the image is %dx%d pixels, larger than Stable Diffusion outputs "
                              "(at most about 2048 a side); a resized image has lost any mark",
                              w, h);
    /* Steps 4-5: crop to multiples of 4, LL is half that, blocks of 4 LL = 8 pixels. */
    int nbr = (h / 4 * 4 / 2) / 4, nbc = (w / 4 * 4 / 2) / 4;
    size_t nblocks = (size_t)nbr * (size_t)nbc;
    uint8_t *votes = malloc(nblocks * UM_WM_VARIANTS + 1);
    if (!votes)
        return UM_ERR_NOMEM;
    all_votes(rgb, nbr, nbc, votes);
    for (int m = 0; m < UM_WM_MESSAGES; m++)
        match_message(m, votes, nblocks, &out->msg[m]);
    free(votes);

    /* The strongest class wins; among equals the least probable count by chance. */
    const um_wm_message_match *best = &out->msg[2];
    for (int m = 0; m < UM_WM_MESSAGES; m++) {
        const um_wm_message_match *mm = &out->msg[m];
        if (mm->cls > best->cls || (mm->cls == best->cls && mm->log10_p < best->log10_p))
            best = mm;
    }
    out->applicable = 1;
    out->name = best->name;
    out->matched = best->matched;
    out->total = best->bits;
    out->variant = best->variant;
    out->detected = best->cls == UM_WM_CLASS_VERY_LIKELY ? 2 : best->cls == UM_WM_CLASS_LIKELY;
    out->json = report_json(out);
    return out->json ? UM_OK : UM_ERR_NOMEM;
}

void um_watermark_result_clear(um_watermark_result *r)
{
    if (!r)
        return;
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
