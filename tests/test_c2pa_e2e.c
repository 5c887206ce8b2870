/* C2PA end to end: files the suite signs itself (tests/support/c2pa_sign.h, own test PKI) in
 * JPEG, PNG, WebP, HEIF and AVIF, checked first by an independent reader written here (JUMBF
 * walk, libcbor, OpenSSL - so a writer bug is not mistaken for a validator bug), then by the
 * library: um_container_walk + um_c2pa_validate. Then tampering: pixels, claim, assertion, a
 * widened exclusion, and the property that no single-byte change passes as valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cbor.h>
#include <jansson.h>
#include <libheif/heif.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <png.h>
#include <webp/encode.h>
#include <zlib.h>

#include "bytes.h"
#include "c2pa_sign.h"
#include "check.h"
#include "io/decode.h"
#include "io/limits.h"
#include "prov/c2pa.h"
#include "prov/containers.h"
#include "synth.h"

/* The x265 encoder behind libheif keeps one allocation for the life of the process. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libx265.so\n"; }

/* ---- test assets ---- */

static void interleave(const um_image *img, uint8_t *rgb)
{
    size_t px = (size_t)img->width * (size_t)img->height;
    for (size_t i = 0; i < px; i++)
        for (int c = 0; c < 3; c++) {
            float v = img->data[(size_t)c * px + i];
            rgb[i * 3 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
        }
}

static uint8_t *make_jpeg(int w, int h, size_t *n)
{
    um_image *img = synth_photo(w, h, 7);
    uint8_t *buf = NULL;
    CHECK(img && um_encode_jpeg(img, 90, 0, &buf, n) == UM_OK);
    um_image_free(img);
    return buf;
}

/* The encoders' output, or NULL if it ran out of memory. */
static uint8_t *take_bytes(bytebuf *b, size_t *n)
{
    if (b->oom)
        bb_free(b);
    *n = b->n;
    return b->p;
}

static void png_write_cb(png_structp png, png_bytep d, png_size_t n)
{
    bb_put(png_get_io_ptr(png), d, n);
}
static void png_flush_cb(png_structp png) { (void)png; }

static uint8_t *make_png(int w, int h, size_t *n)
{
    um_image *img = synth_photo(w, h, 11);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    bytebuf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!img || !rgb || !png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rgb);
        um_image_free(img);
        bb_free(&b);
        *n = 0;
        return NULL;
    }
    interleave(img, rgb);
    png_set_write_fn(png, &b, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, rgb + (size_t)y * (size_t)w * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rgb);
    um_image_free(img);
    return take_bytes(&b, n);
}

static uint8_t *make_webp(int w, int h, size_t *n)
{
    um_image *img = synth_photo(w, h, 13);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3), *out = NULL, *copy = NULL;
    *n = 0;
    if (img && rgb) {
        interleave(img, rgb);
        size_t len = WebPEncodeRGB(rgb, w, h, w * 3, 80.0f, &out);
        if (len && (copy = malloc(len))) {
            memcpy(copy, out, len);
            *n = len;
        }
        WebPFree(out);
    }
    free(rgb);
    um_image_free(img);
    return copy;
}

static struct heif_error heif_write_cb(struct heif_context *ctx, const void *data, size_t n,
                                       void *user)
{
    (void)ctx;
    bb_put(user, data, n);
    struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, "ok"};
    return ok;
}

static uint8_t *make_heif(enum heif_compression_format cf, int w, int h, size_t *n)
{
    bytebuf b = {0};
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    um_image *src = synth_photo(w, h, 17);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (ctx && src && rgb && heif_context_get_encoder_for_format(ctx, cf, &enc).code == heif_error_Ok) {
        interleave(src, rgb);
        heif_encoder_set_lossy_quality(enc, 60);
        struct heif_image *img = NULL;
        heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
        heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
        int stride = 0;
        uint8_t *p = heif_image_get_plane(img, heif_channel_interleaved, &stride);
        for (int y = 0; y < h; y++)
            memcpy(p + (size_t)y * (size_t)stride, rgb + (size_t)y * (size_t)w * 3, (size_t)w * 3);
        if (heif_context_encode_image(ctx, img, enc, NULL, NULL).code == heif_error_Ok) {
            struct heif_writer wr = {1, heif_write_cb};
            heif_context_write(ctx, &wr, &b);
        }
        heif_image_release(img);
        heif_encoder_release(enc);
    }
    heif_context_free(ctx);
    free(rgb);
    um_image_free(src);
    return take_bytes(&b, n);
}

static uint8_t *make_asset(um_format f, size_t *n)
{
    switch (f) {
    case UM_FORMAT_JPEG: return make_jpeg(64, 48, n);
    case UM_FORMAT_PNG: return make_png(32, 24, n);
    case UM_FORMAT_WEBP: return make_webp(64, 48, n);
    case UM_FORMAT_HEIF: return make_heif(heif_compression_HEVC, 64, 64, n);
    case UM_FORMAT_AVIF: return make_heif(heif_compression_AV1, 64, 64, n);
    default: return NULL;
    }
}

/* One signer per algorithm for the whole run (RSA key generation is slow). */
static c2pa_signer *signer_for(c2pa_sign_alg alg)
{
    static c2pa_signer *signers[3];
    if (!signers[alg])
        CHECK(c2pa_signer_create(alg, &signers[alg]) == UM_OK);
    return signers[alg];
}

static struct c2pa_sign_opts default_opts(c2pa_sign_alg alg)
{
    struct c2pa_sign_opts o = {0};
    o.signer = signer_for(alg);
    o.claim_version = 2;
    o.digital_source_type = C2PA_DST_TRAINED;
    o.software_agent = "Unmask Diffusion 1.0";
    return o;
}

/* ---- an independent reader: JUMBF superboxes by label ---- */

struct sb {
    const uint8_t *box;  /* the superbox (from its LBox) */
    size_t size;
    char type4[5];       /* first four bytes of the jumd type UUID */
    char label[128];
    const uint8_t *body; /* children after the jumd box */
    size_t body_len;
};

static int sb_parse(const uint8_t *p, size_t n, struct sb *s)
{
    static const uint8_t tail[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00,
                                     0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    memset(s, 0, sizeof *s);
    if (n < 8 + 8 + 17 || memcmp(p + 4, "jumb", 4) != 0)
        return -1;
    size_t len = rd_be32(p);
    size_t dlen = rd_be32(p + 8);
    if (len < 16 || len > n || dlen < 8 + 17 || dlen > len - 8 || memcmp(p + 12, "jumd", 4) != 0)
        return -1;
    if (memcmp(p + 20, tail, 12) != 0 || (p[32] & 0x03) != 0x03)
        return -1;
    memcpy(s->type4, p + 16, 4);
    size_t ll = dlen - 8 - 17;
    if (ll == 0 || ll >= sizeof s->label || p[33 + ll - 1] != 0)
        return -1;
    memcpy(s->label, p + 33, ll);
    s->box = p;
    s->size = len;
    s->body = p + 8 + dlen;
    s->body_len = len - 8 - dlen;
    return 0;
}

static int sb_child(const struct sb *parent, const char *label, struct sb *out)
{
    size_t pos = 0;
    while (parent->body_len - pos >= 8) {
        size_t len = rd_be32(parent->body + pos);
        if (len < 8 || len > parent->body_len - pos)
            return -1;
        if (memcmp(parent->body + pos + 4, "jumb", 4) == 0 &&
            sb_parse(parent->body + pos, len, out) == 0 && strcmp(out->label, label) == 0)
            return 0;
        pos += len;
    }
    return -1;
}

/* The content of the superbox's first content box of type t. */
static const uint8_t *sb_content(const struct sb *s, const char *t, size_t *n)
{
    if (s->body_len < 8 || memcmp(s->body + 4, t, 4) != 0 || rd_be32(s->body) > s->body_len)
        return NULL;
    *n = rd_be32(s->body) - 8;
    return s->body + 8;
}

static cbor_item_t *map_get(cbor_item_t *map, const char *key)
{
    if (!map || !cbor_isa_map(map))
        return NULL;
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (cbor_isa_string(pairs[i].key) && cbor_string_length(pairs[i].key) == strlen(key) &&
            memcmp(cbor_string_handle(pairs[i].key), key, strlen(key)) == 0)
            return pairs[i].value;
    return NULL;
}

static cbor_item_t *map_get_int(cbor_item_t *map, int key)
{
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (cbor_isa_uint(pairs[i].key) && (int)cbor_get_int(pairs[i].key) == key)
            return pairs[i].value;
    return NULL;
}

static int bytes_eq(cbor_item_t *b, const uint8_t *d, size_t n)
{
    return b && cbor_isa_bytestring(b) && cbor_bytestring_is_definite(b) &&
           cbor_bytestring_length(b) == n && memcmp(cbor_bytestring_handle(b), d, n) == 0;
}

static void sha256_except(const uint8_t *f, size_t n, uint64_t start, uint64_t len,
                          uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned olen = 0;
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, f, (size_t)start);
    EVP_DigestUpdate(c, f + start + len, n - (size_t)(start + len));
    EVP_DigestFinal_ex(c, out, &olen);
    EVP_MD_CTX_free(c);
}

/* Verify the COSE_Sign1 over the claim with the x5chain certificate, ourselves. */
static int cose_verifies(const uint8_t *cose, size_t cn, const uint8_t *claim, size_t cl,
                         c2pa_sign_alg alg)
{
    /* tag 18 is the one-byte head 0xD2, which libcbor 0.8 refuses (it rejects heads 0xC6 -
     * 0xD4, tags unassigned in RFC 7049): read it here, let libcbor load the array */
    if (cn < 2 || cose[0] != 0xD2)
        return 0;
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(cose + 1, cn - 1, &res);
    int ok = 0;
    if (!root || res.error.code != CBOR_ERR_NONE || res.read != cn - 1 || !cbor_isa_array(root)) {
        if (root)
            cbor_decref(&root);
        return 0;
    }
    cbor_item_t *arr = root;
    cbor_item_t **it = cbor_array_handle(arr);
    if (cbor_array_size(arr) == 4 && cbor_isa_bytestring(it[0]) && cbor_isa_map(it[1]) &&
        cbor_is_null(it[2]) && cbor_isa_bytestring(it[3])) {
        struct cbor_load_result r2;
        const uint8_t *prot = cbor_bytestring_handle(it[0]);
        size_t plen = cbor_bytestring_length(it[0]);
        cbor_item_t *ph = cbor_load(prot, plen, &r2);
        cbor_item_t *x5 = ph && cbor_isa_map(ph) ? map_get_int(ph, 33) : NULL;
        X509 *cert = NULL;
        if (x5 && cbor_isa_array(x5) && cbor_array_size(x5) >= 1)
            x5 = cbor_array_handle(x5)[0]; /* leaf first */
        if (x5 && cbor_isa_bytestring(x5)) {
            const uint8_t *q = cbor_bytestring_handle(x5);
            cert = d2i_X509(NULL, &q, (long)cbor_bytestring_length(x5));
        }
        /* ToBeSigned = ["Signature1", protected, h'', claim] */
        cbor_item_t *tbs = cbor_new_definite_array(4);
        cbor_array_push(tbs, cbor_move(cbor_build_string("Signature1")));
        cbor_array_push(tbs, cbor_move(cbor_build_bytestring(prot, plen)));
        cbor_array_push(tbs, cbor_move(cbor_build_bytestring(NULL, 0)));
        cbor_array_push(tbs, cbor_move(cbor_build_bytestring(claim, cl)));
        unsigned char *tb = NULL;
        size_t tbcap = 0, tbn = cbor_serialize_alloc(tbs, &tb, &tbcap);
        const uint8_t *sig = cbor_bytestring_handle(it[3]);
        size_t slen = cbor_bytestring_length(it[3]);
        uint8_t der[80];
        size_t derlen = 0;
        if (alg == C2PA_SIGN_ES256 && slen == 64) {
            ECDSA_SIG *es = ECDSA_SIG_new();
            ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
            uint8_t *dp = der;
            derlen = (size_t)i2d_ECDSA_SIG(es, &dp);
            ECDSA_SIG_free(es);
            sig = der;
            slen = derlen;
        }
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL;
        if (pub && tbn &&
            EVP_DigestVerifyInit(ctx, &pctx, alg == C2PA_SIGN_ED25519 ? NULL : EVP_sha256(),
                                 NULL, pub) == 1) {
            if (alg == C2PA_SIGN_PS256) {
                EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
            }
            ok = EVP_DigestVerify(ctx, sig, slen, tb, tbn) == 1;
        }
        EVP_MD_CTX_free(ctx);
        free(tb);
        cbor_decref(&tbs);
        X509_free(cert);
        if (ph)
            cbor_decref(&ph);
    }
    cbor_decref(&root);
    return ok;
}

/* Every claim reference resolves and hashes right, the data hash is over the file with exactly
 * the carrier excluded, the signature verifies: the writer's own proof, independent of src/prov. */
static void self_check(const uint8_t *file, size_t n, const c2pa_sign_layout *lay,
                       c2pa_sign_alg alg, int v1)
{
    struct sb store, man, as, act, hd, cl, sg;
    CHECK(sb_parse(lay->store, lay->store_size, &store) == 0);
    CHECK(store.size == lay->store_size && strcmp(store.label, "c2pa") == 0 &&
          memcmp(store.type4, "c2pa", 4) == 0);
    CHECK(sb_child(&store, lay->manifest_label, &man) == 0 && memcmp(man.type4, "c2ma", 4) == 0);
    CHECK(sb_child(&man, "c2pa.assertions", &as) == 0 && memcmp(as.type4, "c2as", 4) == 0);
    CHECK(sb_child(&as, v1 ? "c2pa.actions" : "c2pa.actions.v2", &act) == 0);
    CHECK(sb_child(&as, "c2pa.hash.data", &hd) == 0 && memcmp(hd.type4, "cbor", 4) == 0);
    CHECK(sb_child(&man, v1 ? "c2pa.claim" : "c2pa.claim.v2", &cl) == 0 &&
          memcmp(cl.type4, "c2cl", 4) == 0);
    CHECK(sb_child(&man, "c2pa.signature", &sg) == 0 && memcmp(sg.type4, "c2cs", 4) == 0);
    if (um_test_failures)
        return;

    /* The store bytes are in the file where the layout says, packet by packet. */
    for (size_t i = 0; i < lay->store_size; i += 97)
        CHECK(file[c2pa_layout_file_offset(lay, i)] == lay->store[i]);
    CHECK(file[c2pa_layout_file_offset(lay, lay->store_size - 1)] ==
          lay->store[lay->store_size - 1]);

    size_t cn, an, hn, sn;
    const uint8_t *claim = sb_content(&cl, "cbor", &cn);
    const uint8_t *hdata = sb_content(&hd, "cbor", &hn);
    const uint8_t *cose = sb_content(&sg, "cbor", &sn);
    CHECK(sb_content(&act, "cbor", &an) != NULL);
    CHECK(claim && hdata && cose);
    if (!claim || !hdata || !cose)
        return;
    CHECK(claim == lay->store + lay->claim_off && cn == lay->claim_len);

    struct cbor_load_result res;
    cbor_item_t *c = cbor_load(claim, cn, &res);
    CHECK(c && cbor_isa_map(c));
    cbor_item_t *refs = map_get(c, v1 ? "assertions" : "created_assertions");
    CHECK(refs && cbor_isa_array(refs) && cbor_array_size(refs) == 2);
    CHECK((map_get(c, "claim_generator") != NULL) == v1);
    CHECK(map_get(c, "instanceID") && map_get(c, "signature") && map_get(c, "alg"));
    for (size_t i = 0; refs && i < cbor_array_size(refs); i++) {
        cbor_item_t *ref = cbor_array_handle(refs)[i];
        cbor_item_t *url = map_get(ref, "url");
        const struct sb *target = i == 0 ? &act : &hd;
        uint8_t h[32];
        SHA256(target->box + 8, target->size - 8, h);
        CHECK(bytes_eq(map_get(ref, "hash"), h, 32));
        char want[300];
        snprintf(want, sizeof want, "self#jumbf=/c2pa/%s/c2pa.assertions/%s",
                 lay->manifest_label, target->label);
        CHECK(url && cbor_isa_string(url) && cbor_string_length(url) == strlen(want) &&
              memcmp(cbor_string_handle(url), want, strlen(want)) == 0);
    }
    if (c)
        cbor_decref(&c);

    cbor_item_t *h = cbor_load(hdata, hn, &res);
    cbor_item_t *ex = map_get(h, "exclusions");
    CHECK(ex && cbor_isa_array(ex) && cbor_array_size(ex) == 1);
    if (ex && cbor_array_size(ex) == 1) {
        cbor_item_t *e0 = cbor_array_handle(ex)[0];
        CHECK(cbor_get_int(map_get(e0, "start")) == lay->excl_start);
        CHECK(cbor_get_int(map_get(e0, "length")) == lay->excl_length);
    }
    uint8_t dh[32];
    sha256_except(file, n, lay->excl_start, lay->excl_length, dh);
    CHECK(bytes_eq(map_get(h, "hash"), dh, 32));
    if (h)
        cbor_decref(&h);

    CHECK(cose_verifies(cose, sn, claim, cn, alg));
}

/* The carrier is well formed and is exactly the exclusion. */
static void check_carrier(const uint8_t *f, size_t n, const c2pa_sign_layout *lay)
{
    uint64_t s = lay->excl_start, l = lay->excl_length;
    CHECK(s + l <= n);
    if (s + l > n)
        return;
    switch (lay->format) {
    case UM_FORMAT_JPEG: {
        uint64_t pos = s;
        for (size_t k = 0; k < lay->packets; k++) {
            CHECK(f[pos] == 0xFF && f[pos + 1] == 0xEB && memcmp(f + pos + 4, "JP", 2) == 0);
            CHECK(rd_be32(f + pos + 8) == k + 1);
            pos += 2 + ((size_t)f[pos + 2] << 8 | f[pos + 3]);
        }
        CHECK(pos == s + l && f[pos] == 0xFF && f[pos + 1] != 0xEB);
        break;
    }
    case UM_FORMAT_PNG:
        CHECK(memcmp(f + s + 4, "caBX", 4) == 0 && rd_be32(f + s) + 12 == l);
        CHECK(crc32(crc32(0L, Z_NULL, 0), f + s + 4, (uInt)(l - 8)) == rd_be32(f + s + l - 4));
        break;
    case UM_FORMAT_WEBP: {
        CHECK(rd_le32(f + 4) + 8 == n && memcmp(f + s, "C2PA", 4) == 0 && s + l == n);
        break;
    }
    default:
        CHECK(rd_be32(f + s) == l && memcmp(f + s + 4, "uuid", 4) == 0 && s + l == n);
        break;
    }
}

static void check_decodes(const uint8_t *f, size_t n, um_format fmt)
{
    um_limits lim = {UM_DEFAULT_MAX_BYTES, UM_DEFAULT_MAX_PIXELS, UM_DEFAULT_MAX_DIMENSION};
    um_decoded d = {0};
    char err[256] = "";
    CHECK(um_sniff_format(f, n) == fmt);
    um_error e = um_decode(f, n, &lim, &d, err, sizeof err);
    CHECK_MSG(e == UM_OK, "%s: %s", um_format_name(fmt), err);
    um_decoded_clear(&d);
}

/* Sign one asset; the caller frees *out and the layout. */
static int sign(um_format fmt, const struct c2pa_sign_opts *o, uint8_t **out, size_t *n,
                c2pa_sign_layout *lay)
{
    size_t an = 0;
    uint8_t *a = make_asset(fmt, &an);
    CHECK(a && an > 0);
    if (!a)
        return -1;
    um_error e = c2pa_sign_asset(a, an, fmt, o, out, n, lay);
    free(a);
    CHECK_MSG(e == UM_OK, "%s: %s", um_format_name(fmt), um_error_name(e));
    return e == UM_OK ? 0 : -1;
}

static const um_format formats[] = {UM_FORMAT_JPEG, UM_FORMAT_PNG, UM_FORMAT_WEBP,
                                    UM_FORMAT_HEIF, UM_FORMAT_AVIF};
#define NFORMATS (sizeof formats / sizeof formats[0])

static void writer_self_check(um_format fmt, struct c2pa_sign_opts o)
{
    uint8_t *f = NULL;
    size_t n = 0;
    c2pa_sign_layout lay = {0};
    if (sign(fmt, &o, &f, &n, &lay) != 0)
        return;
    CHECK(lay.excl_length == lay.carrier_length);
    check_carrier(f, n, &lay);
    self_check(f, n, &lay, o.signer->alg, o.claim_version == 1);
    check_decodes(f, n, fmt);
    c2pa_sign_layout_clear(&lay);
    free(f);
}

static void test_writer_every_format(void)
{
    for (size_t i = 0; i < NFORMATS; i++)
        writer_self_check(formats[i], default_opts(C2PA_SIGN_ES256));
}

/* Beyond ES256 v2: the other algorithms, 1.x claims (with and without dc:title) and a JPEG
 * store split over several APP11 packets. The writer and the validator are checked on each. */
static const struct variant {
    um_format format;
    c2pa_sign_alg alg;
    int claim_version;
    const char *title;
    size_t jpeg_packet;
} variants[] = {
    {UM_FORMAT_JPEG, C2PA_SIGN_PS256, 2, NULL, 0},
    {UM_FORMAT_PNG, C2PA_SIGN_ED25519, 2, NULL, 0},
    {UM_FORMAT_JPEG, C2PA_SIGN_ES256, 1, "v1.jpg", 0},
    {UM_FORMAT_JPEG, C2PA_SIGN_ES256, 1, NULL, 0},
    {UM_FORMAT_JPEG, C2PA_SIGN_ES256, 2, NULL, 200},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

static struct c2pa_sign_opts variant_opts(const struct variant *v)
{
    struct c2pa_sign_opts o = default_opts(v->alg);
    o.claim_version = v->claim_version;
    o.title = v->title;
    o.jpeg_packet = v->jpeg_packet;
    return o;
}

static void test_writer_algorithms_and_v1(void)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        writer_self_check(variants[i].format, variant_opts(&variants[i]));
}

/* A store larger than a packet spans several APP11 segments; continuations repeat LBox/TBox. */
static void test_writer_jpeg_multi_packet(void)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    o.jpeg_packet = 200;
    uint8_t *f = NULL;
    size_t n = 0;
    c2pa_sign_layout lay = {0};
    if (sign(UM_FORMAT_JPEG, &o, &f, &n, &lay) != 0)
        return;
    CHECK(lay.packets >= 3);
    check_carrier(f, n, &lay);
    self_check(f, n, &lay, C2PA_SIGN_ES256, 0);
    check_decodes(f, n, UM_FORMAT_JPEG);
    /* a real-size store over 64000 bytes: two packets, as c2pa-rs writes them */
    struct c2pa_sign_opts big = default_opts(C2PA_SIGN_ES256);
    big.filler_bytes = 70000;
    uint8_t *g = NULL;
    size_t gn = 0;
    c2pa_sign_layout gl = {0};
    if (sign(UM_FORMAT_JPEG, &big, &g, &gn, &gl) == 0) {
        CHECK(gl.packets == 2 && gl.packet == 64000);
        CHECK(g[gl.excl_start + 2] == 0xFA && g[gl.excl_start + 3] == 0x0A); /* Lp 64010 */
        check_carrier(g, gn, &gl);
        self_check(g, gn, &gl, C2PA_SIGN_ES256, 0);
    }
    c2pa_sign_layout_clear(&gl);
    free(g);
    c2pa_sign_layout_clear(&lay);
    free(f);
}

/* ---- the library's view ---- */

struct validated {
    int found;
    um_c2pa_report r;
    um_container c;
};

static void validate(const uint8_t *f, size_t n, const um_trust *trust, struct validated *v)
{
    char err[200] = "";
    memset(v, 0, sizeof *v);
    um_format fmt = um_sniff_format(f, n);
    if (um_container_walk(f, n, fmt, &v->c, err, sizeof err) != UM_OK)
        return;
    if (!v->c.c2pa)
        return;
    v->found = 1;
    CHECK(um_c2pa_validate(&v->c, f, n, trust, time(NULL), &v->r) == UM_OK);
}

static void validated_clear(struct validated *v)
{
    if (v->found)
        um_c2pa_report_clear(&v->r);
    um_container_clear(&v->c);
}

/* Is code listed under bucket ("success", "informational", "failure"; NULL: any) of the active
 * manifest? */
static int has_code(const um_c2pa_report *r, const char *bucket, const char *code)
{
    json_t *am = json_object_get(json_object_get(r->json, "validation_results"),
                                 "activeManifest");
    static const char *const buckets[] = {"success", "informational", "failure"};
    for (int b = 0; b < 3; b++) {
        if (bucket && strcmp(bucket, buckets[b]) != 0)
            continue;
        json_t *arr = json_object_get(am, buckets[b]), *st;
        size_t i;
        json_array_foreach(arr, i, st)
        {
            const char *c = json_string_value(json_object_get(st, "code"));
            if (c && strcmp(c, code) == 0)
                return 1;
        }
    }
    return 0;
}

static void dump_codes(const um_c2pa_report *r)
{
    char *s = json_dumps(json_object_get(r->json, "validation_results"), JSON_COMPACT);
    fprintf(stderr, "    state %s, results %s\n", um_c2pa_state_name(r->state), s ? s : "?");
    free(s);
}

static int write_ca(const c2pa_signer *s, char *path, size_t len)
{
    snprintf(path, len, "/tmp/um_c2pa_ca_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return c2pa_signer_write_ca_pem(s, path);
}

static void check_valid_and_trusted(um_format fmt, struct c2pa_sign_opts o)
{
    uint8_t *f = NULL;
    size_t n = 0;
    c2pa_sign_layout lay = {0};
    if (sign(fmt, &o, &f, &n, &lay) != 0)
        return;
    struct validated v;
    validate(f, n, NULL, &v);
    CHECK_MSG(v.found, "%s: no store found", um_format_name(fmt));
    if (v.found) {
        CHECK(v.c.c2pa_offset == lay.carrier_start && v.c.c2pa_length == lay.carrier_length);
        CHECK(v.c.c2pa_size == lay.store_size &&
              memcmp(v.c.c2pa, lay.store, lay.store_size) == 0);
        CHECK_MSG(v.r.state == UM_C2PA_STATE_VALID, "%s alg %d v%d: %s",
                  um_format_name(fmt), o.signer->alg, o.claim_version,
                  um_c2pa_state_name(v.r.state));
        CHECK(has_code(&v.r, "success", "claimSignature.validated"));
        CHECK(has_code(&v.r, "success", "assertion.dataHash.match"));
        CHECK(has_code(&v.r, "success", "assertion.hashedURI.match"));
        CHECK(has_code(&v.r, NULL, "signingCredential.untrusted"));
        CHECK(!has_code(&v.r, NULL, "assertion.dataHash.mismatch"));
        CHECK(v.r.manifests == 1 && strcmp(v.r.active_label, lay.manifest_label) == 0);
        CHECK(strstr(v.r.signer.common_name, "unmask test signer") != NULL);
        CHECK(v.r.signer.signature_valid == 1);
        CHECK(v.r.ai == UM_C2PA_AI_GENERATED);
        CHECK(strcmp(v.r.ai_source_type, C2PA_DST_TRAINED) == 0);
        CHECK(strstr(v.r.ai_citation, lay.manifest_label) != NULL);
        CHECK(!v.r.data_hash_mismatch && !v.r.signature_mismatch);
        if (um_test_failures)
            dump_codes(&v.r);
    }
    validated_clear(&v);

    char pem[64];
    um_trust *trust = NULL;
    char err[200] = "";
    CHECK(write_ca(o.signer, pem, sizeof pem) == 0);
    CHECK_MSG(um_trust_load(pem, &trust, err, sizeof err) == UM_OK, "%s", err);
    unlink(pem);
    if (trust) {
        validate(f, n, trust, &v);
        CHECK(v.found);
        if (v.found) {
            CHECK_MSG(v.r.state == UM_C2PA_STATE_TRUSTED, "%s: %s", um_format_name(fmt),
                      um_c2pa_state_name(v.r.state));
            CHECK(has_code(&v.r, "success", "signingCredential.trusted"));
            if (v.r.state != UM_C2PA_STATE_TRUSTED)
                dump_codes(&v.r);
        }
        validated_clear(&v);
        um_trust_free(trust);
    }
    c2pa_sign_layout_clear(&lay);
    free(f);
}

static void test_valid_every_format(void)
{
    for (size_t i = 0; i < NFORMATS; i++)
        check_valid_and_trusted(formats[i], default_opts(C2PA_SIGN_ES256));
}

static void test_valid_ps256_ed25519_v1(void)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        check_valid_and_trusted(variants[i].format, variant_opts(&variants[i]));
}

/* A trust list that does not hold the signer's CA: still "valid" (untrusted), never "trusted",
 * never "invalid". */
static void test_other_ca_stays_untrusted(void)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    uint8_t *f = NULL;
    size_t n = 0;
    if (sign(UM_FORMAT_JPEG, &o, &f, &n, NULL) != 0)
        return;
    char pem[64], err[200] = "";
    um_trust *trust = NULL;
    CHECK(write_ca(signer_for(C2PA_SIGN_ED25519), pem, sizeof pem) == 0);
    CHECK_MSG(um_trust_load(pem, &trust, err, sizeof err) == UM_OK, "%s", err);
    unlink(pem);
    struct validated v;
    validate(f, n, trust, &v);
    CHECK(v.found && v.r.state == UM_C2PA_STATE_VALID);
    CHECK(v.found && has_code(&v.r, "failure", "signingCredential.untrusted"));
    validated_clear(&v);
    um_trust_free(trust);
    free(f);
}

/* Adobe's older manifests carry the source type in parameters; it counts the same. */
static void test_ai_in_parameters(void)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    o.source_type_in_parameters = 1;
    o.claim_version = 1;
    uint8_t *f = NULL;
    size_t n = 0;
    if (sign(UM_FORMAT_JPEG, &o, &f, &n, NULL) != 0)
        return;
    struct validated v;
    validate(f, n, NULL, &v);
    CHECK(v.found && v.r.state == UM_C2PA_STATE_VALID && v.r.ai == UM_C2PA_AI_GENERATED);
    validated_clear(&v);
    free(f);

    /* a camera capture is not AI */
    o = default_opts(C2PA_SIGN_ES256);
    o.digital_source_type = C2PA_DST_DIGITAL_CAPTURE;
    if (sign(UM_FORMAT_PNG, &o, &f, &n, NULL) != 0)
        return;
    validate(f, n, NULL, &v);
    CHECK(v.found && v.r.state == UM_C2PA_STATE_VALID && v.r.ai == UM_C2PA_AI_NONE);
    validated_clear(&v);
    free(f);
}

/* ---- tampering ---- */

static void expect_invalid(const uint8_t *f, size_t n, const char *code, const char *what)
{
    struct validated v;
    validate(f, n, NULL, &v);
    CHECK_MSG(v.found, "%s: store not found", what);
    if (v.found) {
        CHECK_MSG(v.r.state == UM_C2PA_STATE_INVALID, "%s: state %s", what,
                  um_c2pa_state_name(v.r.state));
        if (code)
            CHECK_MSG(has_code(&v.r, "failure", code), "%s: no %s", what, code);
        if (um_test_failures)
            dump_codes(&v.r);
    }
    validated_clear(&v);
}

static uint8_t *find_in(uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

static void tamper_cases(um_format fmt)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    uint8_t *f = NULL;
    size_t n = 0;
    c2pa_sign_layout lay = {0};
    if (sign(fmt, &o, &f, &n, &lay) != 0)
        return;
    char what[64];

    /* a pixel byte: the last byte before the carrier's end of file data (JPEG: entropy data
     * before EOI; PNG: IDAT; WebP/HEIF: the byte before the appended carrier) */
    size_t px = fmt == UM_FORMAT_JPEG ? n - 10 : fmt == UM_FORMAT_PNG ? n - 20
                                                                       : lay.excl_start - 4;
    f[px] ^= 0x01;
    snprintf(what, sizeof what, "%s pixel byte", um_format_name(fmt));
    expect_invalid(f, n, "assertion.dataHash.mismatch", what);
    struct validated v;
    validate(f, n, NULL, &v);
    CHECK(v.found && v.r.data_hash_mismatch);
    validated_clear(&v);
    f[px] ^= 0x01;

    /* a claim byte: one letter of claim_generator_info's name (still well-formed CBOR) */
    size_t cl_file = (size_t)c2pa_layout_file_offset(&lay, lay.claim_off);
    uint8_t *name = find_in(f + cl_file, lay.claim_len, "unmask-test-signer");
    CHECK(name != NULL);
    if (name) {
        name[0] = 'v';
        snprintf(what, sizeof what, "%s claim byte", um_format_name(fmt));
        expect_invalid(f, n, "claimSignature.mismatch", what);
        validate(f, n, NULL, &v);
        CHECK(v.found && v.r.signature_mismatch);
        validated_clear(&v);
        name[0] = 'u';
    }

    /* an assertion byte: the software agent's name in c2pa.actions.v2 */
    size_t act_file = (size_t)c2pa_layout_file_offset(&lay, lay.actions_off);
    uint8_t *agent = find_in(f + act_file, lay.actions_len, "Unmask Diffusion");
    CHECK(agent != NULL);
    if (agent) {
        agent[0] = 'V';
        snprintf(what, sizeof what, "%s assertion byte", um_format_name(fmt));
        expect_invalid(f, n, "assertion.hashedURI.mismatch", what);
        agent[0] = 'U';
    }
    /* untouched again: valid */
    validate(f, n, NULL, &v);
    CHECK(v.found && v.r.state == UM_C2PA_STATE_VALID);
    validated_clear(&v);
    c2pa_sign_layout_clear(&lay);
    free(f);
}

static void test_tamper_every_format(void)
{
    for (size_t i = 0; i < NFORMATS; i++)
        tamper_cases(formats[i]);
}

/* An exclusion that covers more than the store (here the next 10 bytes: JPEG - the DQT
 * marker's start; PNG - the next chunk's header), hash and signature made over that: the
 * attack of spec 15.12 (hide renderable data in the excluded range). Must not be valid. */
static void test_widened_exclusion(void)
{
    static const um_format f2[] = {UM_FORMAT_JPEG, UM_FORMAT_PNG};
    for (int i = 0; i < 2; i++) {
        struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
        o.exclusion_extra = 10;
        uint8_t *f = NULL;
        size_t n = 0;
        c2pa_sign_layout lay = {0};
        if (sign(f2[i], &o, &f, &n, &lay) != 0)
            continue;
        CHECK(lay.excl_length == lay.carrier_length + 10);
        self_check(f, n, &lay, C2PA_SIGN_ES256, 0); /* the hash does match the wide range */
        char what[64];
        snprintf(what, sizeof what, "%s widened exclusion", um_format_name(f2[i]));
        expect_invalid(f, n, NULL, what);
        c2pa_sign_layout_clear(&lay);
        free(f);
    }
}

static void test_claim_without_alg(void)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    o.omit_alg = 1;
    uint8_t *f = NULL;
    size_t n = 0;
    if (sign(UM_FORMAT_JPEG, &o, &f, &n, NULL) != 0)
        return;
    expect_invalid(f, n, "algorithm.unsupported", "claim without alg");
    free(f);
}

/* ---- the property: no single-byte change passes as valid ----
 *
 * Hashed range: every byte outside the exclusion, flipped (XOR 0xFF) one at a time, must never
 * give "valid"/"trusted"; when the store is still found, the report must carry
 * assertion.dataHash.mismatch (a flip that breaks the container so that no store is found is
 * also not "valid", and is counted).
 * Exclusion: a flip there must never pass silently. Rule (decided here): if the store the
 * walker reassembles is byte-identical to the one signed, the flip hit carrier bytes that carry
 * no manifest data - the JPEG APP11 box-instance number En, the packet number Z of a single
 * packet, the PNG chunk CRC (the walker notes it) - and the outcome may stay valid. Any flip
 * that changes the store's bytes must make it not valid (or make the store unrecognisable). In
 * this writer's stores no byte is unsigned padding: the COSE unprotected map is empty and the
 * hash.data pad is inside a hashed assertion. */
struct flip_stats {
    size_t flips, not_found, mismatch, store_unchanged_valid;
};

/* In the COSE box (certificates and signature: any change there breaks the signature or the
 * certificate) every 4th byte is enough; everywhere else in the carrier, every byte. */
static int worth_flipping(const c2pa_sign_layout *lay, uint64_t file_off)
{
    if (file_off < lay->store_file_offset)
        return 1;
    uint64_t so = file_off - lay->store_file_offset;
    if (so < lay->sig_off + 16 || so >= lay->sig_off + lay->sig_len - 16)
        return 1;
    return (so - lay->sig_off) % 4 == 0;
}

static void append_run(char *buf, size_t cap, long long a, long long b)
{
    size_t len = strlen(buf);
    if (a < 0 || len + 1 >= cap)
        return;
    if (a == b)
        snprintf(buf + len, cap - len, " %lld", a);
    else
        snprintf(buf + len, cap - len, " %lld-%lld", a, b);
}

/* The outcomes of the flips in the exclusion that changed the store yet left it passing. */
struct silent_flips {
    size_t count;
    char where[300];           /* store offsets, as runs */
    long long run_start, run_end; /* the current run of consecutive silent offsets */
};

/* A flipped byte of the hashed range: a store still found must report the mismatch. */
static void judge_hashed(const c2pa_sign_layout *lay, uint64_t i, const struct validated *v,
                         struct flip_stats *st, struct silent_flips *silent)
{
    (void)silent;
    int ok = v->r.state == UM_C2PA_STATE_INVALID &&
             has_code(&v->r, "failure", "assertion.dataHash.mismatch");
    CHECK_MSG(ok, "%s: hashed byte %zu flipped: state %s", um_format_name(lay->format),
              (size_t)i, um_c2pa_state_name(v->r.state));
    st->mismatch += (size_t)ok;
}

/* A flipped byte of the exclusion: may pass only if the store's bytes did not change. */
static void judge_excluded(const c2pa_sign_layout *lay, uint64_t i, const struct validated *v,
                           struct flip_stats *st, struct silent_flips *silent)
{
    int same = v->c.c2pa_size == lay->store_size &&
               memcmp(v->c.c2pa, lay->store, lay->store_size) == 0;
    int passes = v->r.state != UM_C2PA_STATE_INVALID;
    st->store_unchanged_valid += (size_t)(same && passes);
    if (passes && !same) {
        long long so = (long long)(i - lay->store_file_offset);
        silent->count++;
        if (so != silent->run_end + 1) {
            append_run(silent->where, sizeof silent->where, silent->run_start, silent->run_end);
            silent->run_start = so;
        }
        silent->run_end = so;
    }
}

/* Flips (XOR 0xFF) one byte at a time - every byte outside the exclusion, or with excluded the
 * exclusion's bytes worth flipping - validates each time and has judge weigh every outcome in
 * which a store was still found. */
static void flip_each(const uint8_t *orig, size_t n, const c2pa_sign_layout *lay, int excluded,
                      struct flip_stats *st)
{
    uint8_t *f = malloc(n);
    if (!f)
        return;
    memcpy(f, orig, n);
    struct silent_flips silent = {0, "", -2, -2};
    uint64_t from = excluded ? lay->excl_start : 0;
    uint64_t to = excluded ? lay->excl_start + lay->excl_length : n;
    for (uint64_t i = from; i < to; i++) {
        int in_exclusion = i >= lay->excl_start && i < lay->excl_start + lay->excl_length;
        if (excluded ? !worth_flipping(lay, i) : in_exclusion)
            continue;
        f[i] ^= 0xFF;
        struct validated v;
        validate(f, n, NULL, &v);
        st->flips++;
        if (!v.found)
            st->not_found++;
        else
            (excluded ? judge_excluded : judge_hashed)(lay, i, &v, st, &silent);
        validated_clear(&v);
        f[i] ^= 0xFF;
    }
    if (excluded) {
        append_run(silent.where, sizeof silent.where, silent.run_start, silent.run_end);
        CHECK_MSG(silent.count == 0,
                  "%s: %zu flips changed the store yet it stayed valid; store offsets:%s",
                  um_format_name(lay->format), silent.count, silent.where);
    }
    free(f);
}

static void property_for(um_format fmt)
{
    struct c2pa_sign_opts o = default_opts(C2PA_SIGN_ES256);
    uint8_t *f = NULL;
    size_t n = 0;
    c2pa_sign_layout lay = {0};
    /* small images: every byte of both ranges is flipped */
    size_t an = 0;
    uint8_t *a = fmt == UM_FORMAT_JPEG ? make_jpeg(16, 16, &an) : make_png(12, 12, &an);
    CHECK(a != NULL);
    if (!a || c2pa_sign_asset(a, an, fmt, &o, &f, &n, &lay) != UM_OK) {
        free(a);
        CHECK(0);
        return;
    }
    free(a);
    struct flip_stats h = {0}, x = {0};
    flip_each(f, n, &lay, 0, &h);
    flip_each(f, n, &lay, 1, &x);
    CHECK(h.flips > 300 && x.flips > lay.excl_length / 2);
    printf("     %s: hashed %zu flips (%zu mismatch, %zu store not found); excluded %zu flips "
           "(%zu store not found, %zu carrier-only kept valid)\n",
           um_format_name(fmt), h.flips, h.mismatch, h.not_found, x.flips, x.not_found,
           x.store_unchanged_valid);
    c2pa_sign_layout_clear(&lay);
    free(f);
}

static void test_property_jpeg(void) { property_for(UM_FORMAT_JPEG); }
static void test_property_png(void) { property_for(UM_FORMAT_PNG); }

static const struct um_test_case cases[] = {
    {"writer_every_format", test_writer_every_format},
    {"writer_algorithms_and_v1", test_writer_algorithms_and_v1},
    {"writer_jpeg_multi_packet", test_writer_jpeg_multi_packet},
    {"valid_every_format", test_valid_every_format},
    {"valid_ps256_ed25519_v1", test_valid_ps256_ed25519_v1},
    {"other_ca_stays_untrusted", test_other_ca_stays_untrusted},
    {"ai_in_parameters", test_ai_in_parameters},
    {"tamper_every_format", test_tamper_every_format},
    {"widened_exclusion", test_widened_exclusion},
    {"claim_without_alg", test_claim_without_alg},
    {"property_jpeg", test_property_jpeg},
    {"property_png", test_property_png},
};

UM_TEST_MAIN(cases)
