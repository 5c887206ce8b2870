/* Test-side C2PA writer (see c2pa_sign.h). Written from the C2PA 2.2 specification and the notes
 * in provenance-markers.md (section numbers below refer to that note). Keys, certificates and
 * the COSE signature come from the shared test PKI (test_pki.h).
 *
 * Fixed-size trick: the store's size does not depend on the data hash (always 32 bytes) nor on
 * the signature (ES256 and Ed25519 raw signatures are 64 bytes, PS256 with RSA-2048 256), only
 * on the exclusion's CBOR integers. So the store is built once with a zero hash (signed over
 * that provisional claim) to learn its size and hence the exclusion (iterated until the
 * exclusion's own encoding stops changing the size: lengths only grow, so this converges in two
 * or three rounds), the asset is laid out with it and hashed with the exclusion cut out, and the store is
 * rebuilt with the real hash and signed: same size, same layout, so the hashed bytes are the
 * bytes of the final file. */
#include "c2pa_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <zlib.h>

size_t c2pa_cbor_assertion(bytebuf *b, const char *label, const void *cbor, size_t n,
                           int salted, uint8_t hash[32])
{
    size_t at = jumbf_open(b, "cbor", label, salted);
    size_t content = box_content(b, "cbor", cbor, n);
    box_close(b, at);
    if (!b->oom)
        SHA256(b->p + at + 8, b->n - at - 8, hash);
    return content;
}

/* ---- the claim signature ---- */

static int64_t cose_alg(c2pa_sign_alg a)
{
    return a == C2PA_SIGN_PS256 ? -37 : a == C2PA_SIGN_ED25519 ? -8 : -7;
}

/* COSE_Sign1_Tagged over the claim (note 1.6), made by the shared test PKI (test_pki.h):
 * x5chain {leaf, CA} in the protected header, detached payload, no time-stamp. Its length does
 * not depend on the claim's bytes (raw ES256 / Ed25519 signatures are 64 bytes, PS256 with
 * RSA-2048 256), which is what the fixed-size layout relies on. */
static int cose_sign1(const c2pa_signer *s, const bytebuf *claim, bytebuf *out)
{
    um_tp_cose_spec spec = um_tp_cose_spec_for(&s->pki, cose_alg(s->alg));
    size_t n = 0;
    uint8_t *cose = um_tp_cose_sign1(&spec, claim->p, claim->n, &n);
    if (!cose)
        return -1;
    bb_put(out, cose, n);
    free(cose);
    return out->oom ? -1 : 0;
}

/* ---- the manifest store ---- */

struct store_in {
    const struct c2pa_sign_opts *o;
    const char *label;        /* manifest label */
    const char *instance_id;
    const char *mime;
    uint64_t excl_start, excl_length;
    uint8_t data_hash[32];
};

static void actions_cbor(const struct store_in *in, bytebuf *c)
{
    const struct c2pa_sign_opts *o = in->o;
    const char *agent = o->software_agent ? o->software_agent : "unmask test generator";
    int v1 = o->claim_version == 1;
    int dst = o->digital_source_type != NULL;
    int dst_std = dst && !o->source_type_in_parameters;
    int dst_param = dst && o->source_type_in_parameters;
    cb_map(c, 1);
    cb_text(c, "actions");
    cb_array(c, 1);
    cb_map(c, 2 + (size_t)dst_std + (size_t)dst_param);
    cb_text(c, "action");
    cb_text(c, "c2pa.created");
    if (dst_std) {
        cb_text(c, "digitalSourceType");
        cb_text(c, o->digital_source_type);
    }
    cb_text(c, "softwareAgent");
    if (v1) { /* v1 actions: softwareAgent is a string; v2: a generator-info map */
        cb_text(c, agent);
    } else {
        cb_map(c, 1);
        cb_text(c, "name");
        cb_text(c, agent);
    }
    if (dst_param) {
        cb_text(c, "parameters");
        cb_map(c, 1);
        cb_text(c, "com.adobe.digitalSourceType");
        cb_text(c, o->digital_source_type);
    }
}

/* c2pa.hash.data (note 1.5): {exclusions: [{start, length}], name, alg, hash, pad}. */
static void hash_data_cbor(const struct store_in *in, bytebuf *c)
{
    size_t padlen = in->o->filler_bytes ? in->o->filler_bytes : 8;
    uint8_t *pad = calloc(1, padlen);
    if (!pad) {
        c->oom = 1;
        return;
    }
    cb_map(c, 5);
    cb_text(c, "exclusions");
    cb_array(c, 1);
    cb_map(c, 2);
    cb_text(c, "start");
    cb_uint(c, in->excl_start);
    cb_text(c, "length");
    cb_uint(c, in->excl_length);
    cb_text(c, "name");
    cb_text(c, "jumbf manifest");
    cb_text(c, "alg");
    cb_text(c, "sha256");
    cb_text(c, "hash");
    cb_bytes(c, in->data_hash, 32);
    cb_text(c, "pad");
    cb_bytes(c, pad, padlen);
    free(pad);
}

static void hashed_uri(bytebuf *c, const char *url, const uint8_t hash[32])
{
    cb_map(c, 2);
    cb_text(c, "url");
    cb_text(c, url);
    cb_text(c, "hash");
    cb_bytes(c, hash, 32);
}

/* The claim (note 1.4), v2 keys or v1 keys. */
static void claim_cbor(const struct store_in *in, const char *actions_label,
                       const uint8_t actions_hash[32], const uint8_t hash_hash[32], bytebuf *c)
{
    const struct c2pa_sign_opts *o = in->o;
    int v1 = o->claim_version == 1;
    char url_actions[256], url_hash[256], url_sig[256];
    snprintf(url_actions, sizeof url_actions, "self#jumbf=/c2pa/%s/c2pa.assertions/%s",
             in->label, actions_label);
    snprintf(url_hash, sizeof url_hash, "self#jumbf=/c2pa/%s/c2pa.assertions/c2pa.hash.data",
             in->label);
    snprintf(url_sig, sizeof url_sig, "self#jumbf=/c2pa/%s/c2pa.signature", in->label);
    size_t keys = (v1 ? 6 : 4) + (o->omit_alg ? 0 : 1) + (v1 && o->title ? 1 : 0);
    cb_map(c, keys);
    if (v1) {
        cb_text(c, "claim_generator");
        cb_text(c, "unmask-test-signer/0.1");
        cb_text(c, "claim_generator_info");
        cb_array(c, 1);
    } else {
        cb_text(c, "instanceID");
        cb_text(c, in->instance_id);
        cb_text(c, "claim_generator_info");
    }
    cb_map(c, 2);
    cb_text(c, "name");
    cb_text(c, "unmask-test-signer");
    cb_text(c, "version");
    cb_text(c, "0.1");
    cb_text(c, "signature");
    cb_text(c, url_sig);
    cb_text(c, v1 ? "assertions" : "created_assertions");
    cb_array(c, 2);
    hashed_uri(c, url_actions, actions_hash);
    hashed_uri(c, url_hash, hash_hash);
    if (v1) {
        cb_text(c, "dc:format");
        cb_text(c, in->mime);
        cb_text(c, "instanceID");
        cb_text(c, in->instance_id);
        if (o->title) {
            cb_text(c, "dc:title");
            cb_text(c, o->title);
        }
    }
    if (!o->omit_alg) {
        cb_text(c, "alg");
        cb_text(c, "sha256");
    }
}

static int build_store(const struct store_in *in, bytebuf *b, c2pa_sign_layout *lay)
{
    int v1 = in->o->claim_version == 1;
    const char *actions_label = v1 ? "c2pa.actions" : "c2pa.actions.v2";
    bytebuf actions = {0}, hashdata = {0}, claim = {0}, cose = {0};
    uint8_t actions_hash[32] = {0}, hash_hash[32] = {0};
    int rc = -1;

    size_t store = jumbf_open(b, "c2pa", "c2pa", 0);
    size_t manifest = jumbf_open(b, "c2ma", in->label, 0);
    size_t astore = jumbf_open(b, "c2as", "c2pa.assertions", 0);
    actions_cbor(in, &actions);
    hash_data_cbor(in, &hashdata);
    if (actions.oom || hashdata.oom)
        goto done;
    lay->actions_off = c2pa_cbor_assertion(b, actions_label, actions.p, actions.n, 0,
                                           actions_hash);
    lay->actions_len = actions.n;
    lay->hash_off = c2pa_cbor_assertion(b, "c2pa.hash.data", hashdata.p, hashdata.n, 0,
                                        hash_hash);
    lay->hash_len = hashdata.n;
    box_close(b, astore);

    claim_cbor(in, actions_label, actions_hash, hash_hash, &claim);
    if (claim.oom)
        goto done;
    size_t cl = jumbf_open(b, "c2cl", v1 ? "c2pa.claim" : "c2pa.claim.v2", 0);
    lay->claim_off = box_content(b, "cbor", claim.p, claim.n);
    lay->claim_len = claim.n;
    box_close(b, cl);

    if (cose_sign1(in->o->signer, &claim, &cose) != 0)
        goto done;
    size_t sg = jumbf_open(b, "c2cs", "c2pa.signature", 0);
    lay->sig_off = box_content(b, "cbor", cose.p, cose.n);
    lay->sig_len = cose.n;
    box_close(b, sg);

    box_close(b, manifest);
    box_close(b, store);
    rc = b->oom ? -1 : 0;
done:
    free(actions.p);
    free(hashdata.p);
    free(claim.p);
    free(cose.p);
    return rc;
}

/* ---- carriers (note 1.1) ---- */

#define JPEG_MAX_PACKET 65517u /* 65535 - Lp(2) - CI/En/Z/LBox/TBox(16) */

/* Where the carrier goes: JPEG after SOI and any APP0 run (c2pa-rs puts it after the JFIF
 * APP0); PNG right after IHDR; RIFF and BMFF at the end (RIFF: the spec wants C2PA last; BMFF:
 * appending moves no iloc offset). */
static int insertion_point(const uint8_t *a, size_t n, um_format fmt, uint64_t *at)
{
    switch (fmt) {
    case UM_FORMAT_JPEG: {
        if (n < 4 || a[0] != 0xFF || a[1] != 0xD8)
            return -1;
        size_t pos = 2;
        while (pos + 4 <= n && a[pos] == 0xFF && a[pos + 1] == 0xE0)
            pos += 2 + ((size_t)a[pos + 2] << 8 | a[pos + 3]);
        if (pos > n)
            return -1;
        *at = pos;
        return 0;
    }
    case UM_FORMAT_PNG:
        if (n < 33 || memcmp(a + 12, "IHDR", 4) != 0 || rd_be32(a + 8) != 13)
            return -1;
        *at = 33;
        return 0;
    case UM_FORMAT_WEBP: {
        if (n < 12 || memcmp(a, "RIFF", 4) != 0)
            return -1;
        if ((uint64_t)rd_le32(a + 4) + 8 != n)
            return -1; /* trailing bytes after the RIFF: not handled here */
        *at = n;
        return 0;
    }
    case UM_FORMAT_HEIF:
    case UM_FORMAT_AVIF:
        *at = n;
        return 0;
    default:
        return -1;
    }
}

#define BMFF_C2PA_HEADER (8 + 16 + 4 + 9 + 8) /* size/type, uuid, version+flags, "manifest\0",
                                                merkle offset */

static const uint8_t c2pa_bmff_uuid[16] = {0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c,
                                           0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81};

static uint64_t carrier_length(um_format fmt, size_t store, size_t packet)
{
    switch (fmt) {
    case UM_FORMAT_JPEG: {
        size_t packets = (store + packet - 1) / packet;
        return 4 + 8 + (uint64_t)store + (packets - 1) * (4 + 16);
    }
    case UM_FORMAT_PNG: return 12 + (uint64_t)store;
    case UM_FORMAT_WEBP: return 8 + (uint64_t)store + (store & 1);
    default: return BMFF_C2PA_HEADER + (uint64_t)store;
    }
}

static void jpeg_segments(bytebuf *o, const uint8_t *store, size_t n, size_t packet)
{
    uint32_t z = 1;
    for (size_t off = 0; off < n; off += packet, z++) {
        size_t chunk = n - off < packet ? n - off : packet;
        int first = off == 0;
        bb_u8(o, 0xFF);
        bb_u8(o, 0xEB);
        bb_be16(o, (unsigned)(2 + (first ? 8 : 16) + chunk));
        bb_put(o, "JP", 2);
        bb_be16(o, 0x0001); /* En: the same box instance number in every packet */
        bb_be32(o, z);      /* Z: packet sequence from 1 */
        if (!first)         /* continuations repeat the superbox's LBox and TBox */
            bb_put(o, store, 8);
        bb_put(o, store + off, chunk);
    }
}

static int embed(const uint8_t *a, size_t n, um_format fmt, uint64_t at, const bytebuf *store,
                 size_t packet, bytebuf *o)
{
    o->n = 0;
    switch (fmt) {
    case UM_FORMAT_JPEG:
        bb_put(o, a, (size_t)at);
        jpeg_segments(o, store->p, store->n, packet);
        bb_put(o, a + at, n - (size_t)at);
        break;
    case UM_FORMAT_PNG: {
        bb_put(o, a, (size_t)at);
        bb_be32(o, (uint32_t)store->n);
        size_t type_at = o->n;
        bb_put(o, "caBX", 4);
        bb_put(o, store->p, store->n);
        if (o->oom)
            return -1;
        uLong crc = crc32(0L, o->p + type_at, (uInt)(4 + store->n));
        bb_be32(o, (uint32_t)crc);
        bb_put(o, a + at, n - (size_t)at);
        break;
    }
    case UM_FORMAT_WEBP:
        bb_put(o, a, n);
        bb_put(o, "C2PA", 4);
        bb_le32(o, (uint32_t)store->n);
        bb_put(o, store->p, store->n);
        if (store->n & 1)
            bb_u8(o, 0); /* RIFF chunks are padded to even length */
        bb_set_le32(o, 4, (uint32_t)(o->n - 8)); /* the RIFF size now covers the chunk */
        break;
    case UM_FORMAT_HEIF:
    case UM_FORMAT_AVIF:
        /* A top-level C2PA uuid box (note 1.1), appended so no iloc offset moves. Real BMFF
         * writers bind it with c2pa.hash.bmff (box-level exclusions); this test writer uses
         * c2pa.hash.data with the exclusion = this box, which the spec allows for any asset. */
        bb_put(o, a, n);
        bb_be32(o, (uint32_t)(BMFF_C2PA_HEADER + store->n));
        bb_put(o, "uuid", 4);
        bb_put(o, c2pa_bmff_uuid, 16);
        bb_be32(o, 0); /* FullBox version 0, flags 0 */
        bb_put(o, "manifest", 9);
        bb_be64(o, 0); /* merkle offset: none */
        bb_put(o, store->p, store->n);
        break;
    default:
        return -1;
    }
    return o->oom ? -1 : 0;
}

/* SHA-256 of the file with [start, start+len) cut out (clamped to the file). */
static void data_hash(const uint8_t *f, size_t n, uint64_t start, uint64_t len, uint8_t out[32])
{
    uint64_t end = start + len;
    if (start > n)
        start = n;
    if (end > n)
        end = n;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int olen = 0;
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, f, (size_t)start) != 1 ||
        EVP_DigestUpdate(c, f + end, n - (size_t)end) != 1 ||
        EVP_DigestFinal_ex(c, out, &olen) != 1)
        memset(out, 0, 32);
    EVP_MD_CTX_free(c);
}

static void random_uuid(char *s, size_t len)
{
    uint8_t u[16];
    if (RAND_bytes(u, 16) != 1)
        memset(u, 0x5A, 16);
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    snprintf(s, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

static const char *mime_of(um_format f)
{
    switch (f) {
    case UM_FORMAT_JPEG: return "image/jpeg";
    case UM_FORMAT_PNG: return "image/png";
    case UM_FORMAT_WEBP: return "image/webp";
    case UM_FORMAT_AVIF: return "image/avif";
    default: return "image/heif";
    }
}

uint64_t c2pa_layout_file_offset(const c2pa_sign_layout *l, size_t off)
{
    if (l->format != UM_FORMAT_JPEG)
        return l->store_file_offset + off;
    size_t k = off / l->packet;
    if (k == 0)
        return l->carrier_start + 4 + 8 + off;
    return l->carrier_start + (4 + 8 + l->packet) + (uint64_t)(k - 1) * (4 + 16 + l->packet) +
           4 + 16 + (off - k * l->packet);
}

void c2pa_sign_layout_clear(c2pa_sign_layout *l)
{
    if (!l)
        return;
    free(l->store);
    memset(l, 0, sizeof *l);
}

um_error c2pa_sign_asset(const uint8_t *asset, size_t n, um_format fmt,
                         const struct c2pa_sign_opts *opts, uint8_t **out, size_t *out_n,
                         c2pa_sign_layout *layout)
{
    *out = NULL;
    *out_n = 0;
    if (!asset || !opts || !opts->signer)
        return UM_ERR_ARGUMENT;
    size_t packet = opts->jpeg_packet ? opts->jpeg_packet : C2PA_SIGN_DEFAULT_PACKET;
    if (packet < 16 || packet > JPEG_MAX_PACKET)
        return UM_ERR_ARGUMENT;
    uint64_t at;
    if (insertion_point(asset, n, fmt, &at) != 0)
        return UM_ERR_ARGUMENT;

    char uuid[40], label[80], iid[64];
    random_uuid(uuid, sizeof uuid);
    if (opts->claim_version == 1)
        snprintf(label, sizeof label, "unmask:urn:uuid:%s", uuid);
    else
        snprintf(label, sizeof label, "urn:c2pa:%s", uuid);
    random_uuid(uuid, sizeof uuid);
    snprintf(iid, sizeof iid, "xmp:iid:%s", uuid);

    c2pa_sign_layout lay = {0};
    struct store_in in = {opts, label, iid, mime_of(fmt), at, 0, {0}};
    bytebuf store = {0}, file = {0};
    um_error e = UM_ERR_NOMEM;
    uint64_t carrier = 0;

    /* 1. Find the exclusion: its length encodes into the store whose size it depends on. */
    for (int round = 0;; round++) {
        store.n = 0;
        if (round > 8 || build_store(&in, &store, &lay) != 0)
            goto fail;
        carrier = carrier_length(fmt, store.n, packet);
        if (in.excl_length == carrier + opts->exclusion_extra)
            break;
        in.excl_length = carrier + opts->exclusion_extra;
    }
    size_t dry_size = store.n;
    /* 2. Lay the asset out with the dry store and hash it around the exclusion. */
    if (embed(asset, n, fmt, at, &store, packet, &file) != 0)
        goto fail;
    data_hash(file.p, file.n, in.excl_start, in.excl_length, in.data_hash);
    /* 3. The real store: same size, so the same layout and the same hashed bytes. */
    store.n = 0;
    if (build_store(&in, &store, &lay) != 0 || store.n != dry_size)
        goto fail;
    if (embed(asset, n, fmt, at, &store, packet, &file) != 0)
        goto fail;

    if (layout) {
        lay.format = fmt;
        lay.excl_start = in.excl_start;
        lay.excl_length = in.excl_length;
        lay.carrier_start = at;
        lay.carrier_length = carrier;
        lay.packet = packet;
        lay.packets = fmt == UM_FORMAT_JPEG ? (store.n + packet - 1) / packet : 1;
        lay.store_file_offset = fmt == UM_FORMAT_PNG ? at + 8
                                : fmt == UM_FORMAT_WEBP ? at + 8
                                : fmt == UM_FORMAT_JPEG ? at + 12
                                                        : at + BMFF_C2PA_HEADER;
        snprintf(lay.manifest_label, sizeof lay.manifest_label, "%s", label);
        lay.store = malloc(store.n);
        if (!lay.store)
            goto fail;
        memcpy(lay.store, store.p, store.n);
        lay.store_size = store.n;
        *layout = lay;
    }
    free(store.p);
    *out = file.p;
    *out_n = file.n;
    return UM_OK;
fail:
    if (!store.oom && !file.oom)
        e = UM_ERR_ARGUMENT; /* a signing step failed, not memory */
    free(store.p);
    free(file.p);
    return e;
}

/* ---- the signer: the shared test PKI ---- */

um_error c2pa_signer_create(c2pa_sign_alg alg, c2pa_signer **out)
{
    static const um_tp_key_type key_of[] = {UM_TP_KEY_EC_P256, UM_TP_KEY_RSA2048,
                                            UM_TP_KEY_ED25519};
    c2pa_signer *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return UM_ERR_NOMEM;
    s->alg = alg;
    if (um_tp_pki_make(&s->pki, key_of[alg], UM_TP_EKU_EMAIL, -86400L, 365L * 86400L) != 0) {
        free(s);
        return UM_ERR_NOMEM;
    }
    *out = s;
    return UM_OK;
}

void c2pa_signer_free(c2pa_signer *s)
{
    if (!s)
        return;
    um_tp_pki_free(&s->pki);
    free(s);
}

int c2pa_signer_write_ca_pem(const c2pa_signer *s, const char *path)
{
    return um_tp_write_pem(path, &s->pki.ca, 1);
}
