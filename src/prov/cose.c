/* COSE_Sign1 claim signatures and the X.509 side of C2PA (see cose.h).
 *
 * Steps, in the order of provenance-markers.md 1.7 (C2PA 2.2 chapters 13-15):
 *   1. parse COSE_Sign1_Tagged (RFC 9052 4.2: tag 18, [protected bstr, unprotected map,
 *      payload nil, signature bstr]) and its headers (1.6);
 *   2. the RFC 3161 time-stamp in sigTst / sigTst2 (C2PA 10.3.2.5), which gives the signing time;
 *   3. the signature over ToBeSigned = ["Signature1", protected, h'', claim] (RFC 9052 4.4);
 *   4. the leaf certificate: validity at the signing time, EKU (C2PA 14.5.1), chain to the
 *      trust anchors;
 *   5. stapled OCSP responses in rVals (C2PA 14.6).
 * Hostile input: every CBOR buffer goes through um_cbor_load (cbor_safe.h), so no declared
 * count or length exceeds the bytes present and nesting is capped; DER goes through
 * OpenSSL's d2i_* which bound themselves by the buffer length. */
#include "prov/cose.h"
#include "prov/text.h"

#include "prov/cbor_safe.h"

#include <cbor.h>
#include <errno.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits (hostile input). */
#define COSE_MAX_BYTES (16u << 20)      /* a c2pa.signature box larger than this is refused */
#define COSE_MAX_DEPTH 16               /* CBOR nesting; COSE headers need 4 */
#define COSE_MAX_CHAIN 16               /* certificates in x5chain */
#define COSE_MAX_OCSP 8                 /* stapled OCSP responses looked at */
#define TRUST_MAX_BYTES (16u << 20)     /* trust-anchor PEM bundle */

/* COSE header labels (RFC 9052 3.1, RFC 9360 2). */
#define COSE_LABEL_ALG 1
#define COSE_LABEL_X5CHAIN 33
#define COSE_TAG_SIGN1 18

/* The COSE_Sign1 structure: zero bytes after it are tolerated, pre-1.0 writers padded the cbor
 * box (prerelease.jpg); they are outside what is signed either way. */
static const um_cbor_caps cose_cbor_caps = {COSE_MAX_BYTES, COSE_MAX_DEPTH, UM_CBOR_MAX_ITEMS,
                                            UM_CBOR_ZERO_PADDING};
/* The protected header, a bstr-wrapped map (RFC 9052 3): nothing may follow it. */
static const um_cbor_caps header_cbor_caps = {COSE_MAX_BYTES, COSE_MAX_DEPTH, UM_CBOR_MAX_ITEMS,
                                              UM_CBOR_EXACT};

struct um_trust {
    X509_STORE *store;
    int count;
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void format_tm(const struct tm *tm, char *out, size_t cap)
{
    if (strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", tm) == 0 && cap)
        out[0] = '\0';
}

static void format_time(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        if (cap)
            out[0] = '\0';
        return;
    }
    format_tm(&tm, out, cap);
}

static void format_asn1_time(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        if (cap)
            out[0] = '\0';
        return;
    }
    format_tm(&tm, out, cap);
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    *out = timegm(&tm);
    return 0;
}

/* Is `at` within [notBefore, notAfter] of cert? 1 yes, 0 no, -1 unreadable validity. */
static int cert_valid_at(X509 *cert, time_t at)
{
    int before = ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert), at);
    int after = ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), at);
    if (before == -2 || after == -2)
        return -1;
    return before <= 0 && after >= 0;
}

/* First value of attribute nid in name, as UTF-8. */
static void name_entry(const X509_NAME *name, int nid, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!name)
        return;
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    if (idx < 0)
        return;
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0)
        return;
    /* A certificate is input like any other: make the text valid UTF-8, cut it between
     * characters. */
    char *text = um_text_dup(utf8, (size_t)n, 1);
    OPENSSL_free(utf8);
    if (text)
        um_text_copy(out, cap, text);
    free(text);
}

/* CN of name, else its O. */
static void name_cn_or_o(const X509_NAME *name, char *out, size_t cap)
{
    name_entry(name, NID_commonName, out, cap);
    if (out[0] == '\0')
        name_entry(name, NID_organizationName, out, cap);
}

/* ------------------------------------------------------------------------------------------ */
/* CBOR: the encoder for the Sig_structure (decoding goes through cbor_safe.h)                */

/* Writes a CBOR head with the shortest argument encoding (RFC 8949 4.2.1, the deterministic
 * encoding RFC 9052 4.4 asks for). out has room for 9 bytes. */
static size_t cbor_put_head(uint8_t *out, unsigned major, uint64_t v)
{
    uint8_t m = (uint8_t)(major << 5);
    if (v < 24) {
        out[0] = (uint8_t)(m | v);
        return 1;
    }
    int n = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFu ? 4 : 8;
    out[0] = (uint8_t)(m | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
    for (int i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return 1 + (size_t)n;
}

/* CBOR [context, bstr protected, h'', bstr payload]: the Sig_structure of RFC 9052 4.4
 * (context "Signature1") and the four-element countersignature form C2PA time-stamps use
 * (context "CounterSignature", 1.6). malloc'ed; NULL on overflow or no memory. */
static uint8_t *sig_structure(const char *context, const uint8_t *prot, size_t prot_len,
                              const uint8_t *payload, size_t payload_len, size_t *out_len)
{
    size_t ctx_len = strlen(context);
    size_t fixed = 1 + 9 + ctx_len + 9 + 1 + 9;
    if (prot_len > SIZE_MAX - fixed || payload_len > SIZE_MAX - fixed - prot_len)
        return NULL;
    uint8_t *buf = malloc(fixed + prot_len + payload_len);
    if (!buf)
        return NULL;
    size_t n = cbor_put_head(buf, 4, 4);
    n += cbor_put_head(buf + n, 3, ctx_len);
    memcpy(buf + n, context, ctx_len);
    n += ctx_len;
    n += cbor_put_head(buf + n, 2, prot_len);
    if (prot_len)
        memcpy(buf + n, prot, prot_len);
    n += prot_len;
    n += cbor_put_head(buf + n, 2, 0); /* external_aad: empty */
    n += cbor_put_head(buf + n, 2, payload_len);
    if (payload_len)
        memcpy(buf + n, payload, payload_len);
    n += payload_len;
    *out_len = n;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* Algorithms (COSE registry ids, RFC 9053 2.1 / 2.2, RFC 8230 2)                              */

typedef enum cose_key_kind { KEY_EC, KEY_RSA_PSS, KEY_ED25519 } cose_key_kind;

typedef struct cose_alg {
    int64_t id;
    const char *name;
    cose_key_kind kind;
    const char *md;       /* digest name; NULL for EdDSA */
    size_t ec_coord;      /* ECDSA: bytes of r and of s */
} cose_alg;

static const cose_alg cose_algs[] = {
    {-7, "ES256", KEY_EC, "SHA256", 32},      {-35, "ES384", KEY_EC, "SHA384", 48},
    {-36, "ES512", KEY_EC, "SHA512", 66},     {-37, "PS256", KEY_RSA_PSS, "SHA256", 0},
    {-38, "PS384", KEY_RSA_PSS, "SHA384", 0}, {-39, "PS512", KEY_RSA_PSS, "SHA512", 0},
    {-8, "Ed25519", KEY_ED25519, NULL, 0},
};

static const cose_alg *cose_alg_find(int64_t id)
{
    for (size_t i = 0; i < sizeof cose_algs / sizeof cose_algs[0]; i++)
        if (cose_algs[i].id == id)
            return &cose_algs[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* COSE_Sign1 parsing                                                                          */

typedef struct cose_msg {
    cbor_item_t *root;          /* owned */
    cbor_item_t *prot_map;      /* owned decoded protected header; NULL when empty */
    const cbor_item_t *unprot;  /* inside root */
    const uint8_t *prot;        /* protected header bytes as stored (inside root) */
    size_t prot_len;
    const uint8_t *sig;
    size_t sig_len;
    int has_alg;
    int64_t alg;
    STACK_OF(X509) *chain;      /* owned; leaf first */
} cose_msg;

static void cose_msg_free(cose_msg *m)
{
    um_cbor_release(&m->root);
    um_cbor_release(&m->prot_map);
    sk_X509_pop_free(m->chain, X509_free);
    memset(m, 0, sizeof *m);
}

/* One DER certificate that must fill the whole bstr. */
static int chain_push_der(STACK_OF(X509) *chain, const cbor_item_t *it)
{
    size_t len;
    const uint8_t *der = um_cbor_bytes(it, &len);
    if (!der || len == 0 || len > LONG_MAX)
        return -1;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    if (!cert || p != der + len || !sk_X509_push(chain, cert)) {
        X509_free(cert);
        return -1;
    }
    return 0;
}

/* x5chain value: one bstr, or an array of bstr with the leaf first (RFC 9360 2). */
static int parse_x5chain(cose_msg *m, const cbor_item_t *v, char *why, size_t whylen)
{
    m->chain = sk_X509_new_null();
    if (!m->chain) {
        copy_str(why, whylen, "out of memory");
        return -1;
    }
    if (cbor_isa_bytestring(v)) {
        if (chain_push_der(m->chain, v) == 0)
            return 0;
    } else if (cbor_isa_array(v) && cbor_array_is_definite(v)) {
        size_t n = cbor_array_size(v);
        cbor_item_t **items = cbor_array_handle(v);
        if (n >= 1 && n <= COSE_MAX_CHAIN) {
            size_t i = 0;
            while (i < n && chain_push_der(m->chain, items[i]) == 0)
                i++;
            if (i == n)
                return 0;
        }
    }
    copy_str(why, whylen, "x5chain is not a list of DER certificates");
    return -1;
}

/* Where the certificate chain is: protected label 33 (C2PA 2.x), else the unprotected header
 * (label 33 or the legacy text label "x5chain" of C2PA 1.x writers). Both is an error. */
static int find_x5chain(cose_msg *m, char *why, size_t whylen)
{
    const cbor_item_t *prot = um_cbor_map_get_label(m->prot_map, COSE_LABEL_X5CHAIN);
    const cbor_item_t *unprot = um_cbor_map_get_label(m->unprot, COSE_LABEL_X5CHAIN);
    if (!unprot)
        unprot = um_cbor_map_get(m->unprot, "x5chain");
    if (prot && unprot) {
        copy_str(why, whylen, "x5chain is in both the protected and the unprotected header");
        return -1;
    }
    if (!prot && !unprot) {
        copy_str(why, whylen, "no x5chain certificate in the COSE headers");
        return -1;
    }
    return parse_x5chain(m, prot ? prot : unprot, why, whylen);
}

static void read_alg(cose_msg *m)
{
    /* Registered algorithm ids are small (RFC 9053 2); a huge one is simply unknown. */
    int64_t id;
    if (um_cbor_int(um_cbor_map_get_label(m->prot_map, COSE_LABEL_ALG), &id) && id >= -1000 &&
        id < 1000) {
        m->has_alg = 1;
        m->alg = id;
    }
}

/* The structure of RFC 9052 4.2; the payload must be detached (nil) or a bstr we ignore (C2PA
 * signs the claim as detached content). Returns 0, or -1 with a reason in why. */
static int cose_parse(const uint8_t *buf, size_t len, cose_msg *m, char *why, size_t whylen)
{
    memset(m, 0, sizeof *m);
    if (len > COSE_MAX_BYTES) {
        copy_str(why, whylen, "COSE_Sign1 larger than the 16 MiB limit");
        return -1;
    }
    /* The tag is read here, not by libcbor: libcbor 0.8 rejects the one-byte tag heads
     * 0xC6..0xD4 (tags 6..20, unassigned in RFC 7049), which includes COSE's 0xD2. */
    size_t pos = 0;
    if (len > 0 && (buf[0] >> 5) == 6) {
        unsigned major;
        uint64_t tag;
        if (um_cbor_read_head(buf, len, &pos, &major, &tag) != 0 || tag != COSE_TAG_SIGN1) {
            copy_str(why, whylen, "CBOR tag is not 18 (COSE_Sign1)");
            return -1;
        }
    }
    m->root = um_cbor_load(buf + pos, len - pos, &cose_cbor_caps);
    if (!m->root) {
        copy_str(why, whylen, "not well-formed CBOR");
        return -1;
    }
    const cbor_item_t *arr = m->root;
    if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) || cbor_array_size(arr) != 4) {
        copy_str(why, whylen, "COSE_Sign1 is not an array of 4");
        return -1;
    }
    cbor_item_t **f = cbor_array_handle(arr);
    /* libcbor's accessors assert on the wrong kind of item (cbor_is_null on a float aborts),
     * so every type is tested before a value is read. */
    int payload_ok = (cbor_isa_float_ctrl(f[2]) && cbor_float_ctrl_is_ctrl(f[2]) &&
                      cbor_is_null(f[2])) ||
                     cbor_isa_bytestring(f[2]);
    m->prot = um_cbor_bytes(f[0], &m->prot_len);
    m->sig = um_cbor_bytes(f[3], &m->sig_len);
    if (!m->prot || !cbor_isa_map(f[1]) || !payload_ok || !m->sig) {
        copy_str(why, whylen, "COSE_Sign1 fields have the wrong types");
        return -1;
    }
    m->unprot = f[1];
    if (m->prot_len > 0) {
        m->prot_map = um_cbor_load(m->prot, m->prot_len, &header_cbor_caps);
        if (!m->prot_map || !cbor_isa_map(m->prot_map)) {
            copy_str(why, whylen, "protected header is not a CBOR map");
            return -1;
        }
    }
    read_alg(m);
    return find_x5chain(m, why, whylen);
}

/* ------------------------------------------------------------------------------------------ */
/* Signature verification (OpenSSL EVP)                                                        */

/* COSE ECDSA signatures are r||s, fixed width (RFC 9053 2.1); OpenSSL wants DER. */
static unsigned char *ecdsa_raw_to_der(const uint8_t *sig, size_t sig_len, size_t coord,
                                       int *der_len)
{
    if (sig_len != 2 * coord)
        return NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
    BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
    unsigned char *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        *der_len = i2d_ECDSA_SIG(es, &der);
        if (*der_len <= 0)
            der = NULL;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

/* The key must be of the algorithm's family; ECDSA on the curve the algorithm names (P-256,
 * P-384, P-521: RFC 9053 2.1), RSA of at least 2048 bits (C2PA 14.5.1). */
static int key_fits_alg(EVP_PKEY *pk, const cose_alg *a)
{
    int id = EVP_PKEY_get_base_id(pk);
    int bits = EVP_PKEY_get_bits(pk);
    switch (a->kind) {
    case KEY_EC:
        return id == EVP_PKEY_EC && bits > 0 && (size_t)(bits + 7) / 8 == a->ec_coord;
    case KEY_RSA_PSS:
        return (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) && bits >= 2048;
    default:
        return id == EVP_PKEY_ED25519;
    }
}

/* A DER ECDSA-Sig-Value where COSE wants r||s (no_alg.jpg, a MIPAMS file): c2pa-rs refuses it
 * as signingCredential.invalid rather than trying it. */
static int is_der_ecdsa(const uint8_t *sig, size_t sig_len)
{
    if (sig_len < 8 || sig[0] != 0x30 || sig_len > LONG_MAX)
        return 0;
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
    int der = es && p == sig + sig_len;
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return der;
}

/* 1 verified, 0 does not verify, -1 the key cannot carry this algorithm, -2 an ECDSA signature
 * in DER form. */
static int verify_signature(const cose_alg *a, EVP_PKEY *pk, const uint8_t *tbs, size_t tbs_len,
                            const uint8_t *sig, size_t sig_len)
{
    if (!pk || !key_fits_alg(pk, a))
        return -1;
    const EVP_MD *md = a->md ? EVP_get_digestbyname(a->md) : NULL;
    if (a->md && !md)
        return -1;
    unsigned char *der = NULL;
    int der_len = 0;
    if (a->kind == KEY_EC && is_der_ecdsa(sig, sig_len))
        return -2;
    if (a->kind == KEY_EC) {
        der = ecdsa_raw_to_der(sig, sig_len, a->ec_coord, &der_len);
        if (!der)
            return 0;
        sig = der;
        sig_len = (size_t)der_len;
    }
    int ok = 0;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (mctx && EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pk) == 1) {
        int setup = 1;
        if (a->kind == KEY_RSA_PSS) /* PSS, MGF1 with the same hash, salt = hash length */
            setup = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md)) > 0;
        ok = setup && EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) == 1;
    }
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Trust                                                                                       */

/* Does cert chain to an anchor at time `at`? untrusted = intermediates offered by the signer.
 * PARTIAL_CHAIN: C2PA trust lists also hold intermediate CAs, which then act as anchors. */
static int chain_trusted(const um_trust *trust, X509 *cert, STACK_OF(X509) *untrusted, time_t at,
                         char *why, size_t whylen)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (ctx && X509_STORE_CTX_init(ctx, trust->store, cert, untrusted) == 1) {
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
        X509_STORE_CTX_set_time(ctx, 0, at);
        ok = X509_verify_cert(ctx) == 1;
        if (!ok)
            copy_str(why, whylen, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    } else {
        copy_str(why, whylen, "out of memory");
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

um_error um_trust_load(const char *pem_path, um_trust **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(pem_path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open trust anchors %s: %s", pem_path, strerror(errno));
        return UM_ERR_IO;
    }
    char *buf = malloc(TRUST_MAX_BYTES + 1u);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory reading trust anchors");
        return UM_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, TRUST_MAX_BYTES + 1u, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || n > TRUST_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, read_error ? "cannot read trust anchors %s"
                                         : "trust anchors %s are larger than 16 MiB",
                 pem_path);
        return read_error ? UM_ERR_IO : UM_ERR_LIMIT;
    }
    um_trust *t = calloc(1, sizeof *t);
    BIO *bio = BIO_new_mem_buf(buf, (int)n);
    if (t)
        t->store = X509_STORE_new();
    if (!t || !t->store || !bio) {
        BIO_free(bio);
        free(buf);
        um_trust_free(t);
        snprintf(err, errlen, "out of memory reading trust anchors");
        return UM_ERR_NOMEM;
    }
    X509 *cert;
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(t->store, cert) == 1)
            t->count++;
        X509_free(cert);
    }
    ERR_clear_error();
    BIO_free(bio);
    free(buf);
    if (t->count == 0) {
        um_trust_free(t);
        snprintf(err, errlen, "no PEM certificates in trust anchors %s", pem_path);
        return UM_ERR_CORRUPT;
    }
    *out = t;
    return UM_OK;
}

void um_trust_free(um_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* Time-stamps (RFC 3161; C2PA 10.3.2.5)                                                       */

typedef struct tst_parsed {
    PKCS7 *token;           /* CMS SignedData; owned */
    TS_TST_INFO *info;      /* owned */
} tst_parsed;

static void tst_parsed_free(tst_parsed *p)
{
    PKCS7_free(p->token);
    TS_TST_INFO_free(p->info);
    memset(p, 0, sizeof *p);
}

/* v1 stores a TimeStampResp (status + token), v2 the bare TimeStampToken. A writer that used
 * the other form is still read: the form is recognised from the bytes. */
static int tst_decode(const uint8_t *der, size_t len, tst_parsed *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > LONG_MAX)
        return -1;
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    if (resp) {
        long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
        PKCS7 *tok = TS_RESP_get_token(resp);
        if ((status == 0 || status == 1) && tok) { /* granted, grantedWithMods */
            out->token = PKCS7_dup(tok);
            out->info = out->token ? PKCS7_to_TS_TST_INFO(out->token) : NULL;
        }
        TS_RESP_free(resp);
    } else {
        p = der;
        out->token = d2i_PKCS7(NULL, &p, (long)len);
        out->info = out->token ? PKCS7_to_TS_TST_INFO(out->token) : NULL;
    }
    ERR_clear_error();
    if (!out->token || !out->info) {
        tst_parsed_free(out);
        return -1;
    }
    return 0;
}

/* The message imprint must be H(countersignature structure) (1.6): v1 over the claim bytes,
 * v2 over the CBOR encoding of the signature bstr. 1 match, 0 mismatch, -1 unknown hash. */
static int tst_imprint_matches(const tst_parsed *t, const cose_msg *m, int v2,
                               const uint8_t *claim, size_t claim_len)
{
    TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(t->info);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
    const EVP_MD *md = obj ? EVP_get_digestbyobj(obj) : NULL;
    const ASN1_OCTET_STRING *want = TS_MSG_IMPRINT_get_msg(mi);
    if (!md || !want)
        return -1;
    uint8_t *sig_bstr = NULL;
    const uint8_t *payload = claim;
    size_t payload_len = claim_len;
    if (v2) {
        sig_bstr = malloc(9 + m->sig_len);
        if (!sig_bstr)
            return -1;
        size_t h = cbor_put_head(sig_bstr, 2, m->sig_len);
        memcpy(sig_bstr + h, m->sig, m->sig_len);
        payload = sig_bstr;
        payload_len = h + m->sig_len;
    }
    size_t cs_len = 0;
    uint8_t *cs = sig_structure("CounterSignature", m->prot, m->prot_len, payload, payload_len,
                                &cs_len);
    free(sig_bstr);
    if (!cs)
        return -1;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int ok = EVP_Digest(cs, cs_len, digest, &dlen, md, NULL) == 1;
    free(cs);
    if (!ok)
        return -1;
    return ASN1_STRING_length(want) == (int)dlen &&
           memcmp(ASN1_STRING_get0_data(want), digest, dlen) == 0;
}

/* The TSA's CMS signature over the TSTInfo, with the signer certificate taken from the token
 * (no chain check here: that is the trust step). Returns the signer (borrowed) or NULL. */
static X509 *tst_verify_cms(PKCS7 *token)
{
    if (!PKCS7_type_is_signed(token))
        return NULL;
    BIO *sink = BIO_new(BIO_s_null());
    X509 *signer = NULL;
    if (sink && PKCS7_verify(token, NULL, NULL, NULL, sink, PKCS7_NOVERIFY) == 1) {
        STACK_OF(X509) *signers = PKCS7_get0_signers(token, NULL, 0);
        if (signers && sk_X509_num(signers) > 0)
            signer = sk_X509_value(signers, 0);
        sk_X509_free(signers);
    }
    BIO_free(sink);
    ERR_clear_error();
    return signer;
}

static void tsa_name(const TS_TST_INFO *info, X509 *signer, char *out, size_t cap)
{
    name_cn_or_o(X509_get_subject_name(signer), out, cap);
    if (out[0])
        return;
    const GENERAL_NAME *gn = TS_TST_INFO_get_tsa((TS_TST_INFO *)info);
    if (gn && gn->type == GEN_DIRNAME)
        name_cn_or_o(gn->d.directoryName, out, cap);
}

/* The sigTst2 / sigTst header -> its single token value. NULL (with why) when malformed. */
static const cbor_item_t *tst_token_value(const cbor_item_t *hdr, char *why, size_t whylen)
{
    const cbor_item_t *tokens = um_cbor_map_get(hdr, "tstTokens");
    if (!tokens || !cbor_isa_array(tokens) || !cbor_array_is_definite(tokens) ||
        cbor_array_size(tokens) != 1) {
        copy_str(why, whylen, "tstTokens must be an array of exactly one token");
        return NULL;
    }
    const cbor_item_t *val = um_cbor_map_get(cbor_array_handle(tokens)[0], "val");
    if (!val || !cbor_isa_bytestring(val) || !cbor_bytestring_is_definite(val)) {
        copy_str(why, whylen, "time-stamp token has no val byte string");
        return NULL;
    }
    return val;
}

/* Trust of the TSA: its certificate chains to the anchors at genTime. */
static void tst_report_trust(const um_trust *trust, PKCS7 *token, X509 *signer, time_t gen,
                             const char *url, um_c2pa_statuses *st)
{
    if (!trust) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.untrusted", url,
                           "The time-stamp authority was not checked: no trust anchors given.");
        return;
    }
    char why[160] = "";
    STACK_OF(X509) *certs = token->d.sign ? token->d.sign->cert : NULL;
    if (chain_trusted(trust, signer, certs, gen, why, sizeof why))
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "timeStamp.trusted", url,
                           "The time-stamp authority chains to a trust anchor.");
    else
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.untrusted", url,
                           "The time-stamp authority does not chain to a trust anchor (%s).",
                           why);
}

/* Checks the time-stamp, if any. Returns 1 and sets *gen when one verified (its genTime is
 * then the signing time); time-stamp problems are informational, as in c2pa-rs: they only
 * take the trusted time away. */
static int check_timestamp(const cose_msg *m, const uint8_t *claim, size_t claim_len,
                           const um_trust *trust, const char *url, um_c2pa_statuses *st,
                           um_signer_info *signer, time_t *gen)
{
    int v2 = 1;
    const cbor_item_t *hdr = um_cbor_map_get(m->unprot, "sigTst2");
    if (!hdr) {
        v2 = 0;
        hdr = um_cbor_map_get(m->unprot, "sigTst");
    }
    if (!hdr)
        return 0;
    const char *label = v2 ? "sigTst2" : "sigTst";
    char why[160] = "";
    const cbor_item_t *val = tst_token_value(hdr, why, sizeof why);
    tst_parsed t;
    if (!val || tst_decode(cbor_bytestring_handle(val), cbor_bytestring_length(val), &t) != 0) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.malformed", url,
                           "The %s time-stamp cannot be read%s%s.", label, why[0] ? ": " : "",
                           why);
        return 0;
    }
    /* Order as c2pa-rs: an unreadable genTime (CA_ct.jpg: minute 63) is malformed, an imprint
     * or CMS signature that does not verify is a mismatch. */
    int ok = 0;
    time_t when = 0;
    int imprint = -1;
    X509 *tsa = NULL;
    if (asn1_time_to_time_t(TS_TST_INFO_get_time(t.info), &when) != 0) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.malformed", url,
                           "The %s time-stamp has no readable time.", label);
    } else if ((imprint = tst_imprint_matches(&t, m, v2, claim, claim_len)) != 1) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.mismatch", url,
                           imprint == 0 ? "The %s time-stamp was issued for other data."
                                        : "The %s time-stamp uses an unknown hash.",
                           label);
    } else if (!(tsa = tst_verify_cms(t.token))) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.mismatch", url,
                           "The %s time-stamp's signature does not verify.", label);
    } else {
        ok = 1;
        *gen = when;
        format_time(when, signer->time, sizeof signer->time);
        tsa_name(t.info, tsa, signer->timestamp_authority, sizeof signer->timestamp_authority);
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "timeStamp.validated", url,
                           "The %s time-stamp from %s verifies: signed at %s.", label,
                           signer->timestamp_authority[0] ? signer->timestamp_authority
                                                          : "an unnamed authority",
                           signer->time);
        if (cert_valid_at(tsa, when) != 1)
            um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "timeStamp.outsideValidity", url,
                               "The time-stamp authority's certificate was not valid at %s.",
                               signer->time);
        tst_report_trust(trust, t.token, tsa, when, url, st);
    }
    tst_parsed_free(&t);
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* The signing certificate                                                                     */

/* C2PA 2.2 14.5.1 / c2pa-rs valid_eku_oids.cfg: a claim signer's EKU must include one of
 * these (OIDs written out in dotted form; they are standard identifiers, not a copied table). */
static const char *const allowed_eku[] = {
    "1.3.6.1.5.5.7.3.4",          /* id-kp-emailProtection */
    "1.3.6.1.5.5.7.3.36",         /* id-kp-documentSigning */
    "1.3.6.1.5.5.7.3.8",          /* id-kp-timeStamping */
    "1.3.6.1.5.5.7.3.9",          /* id-kp-OCSPSigning */
    "1.3.6.1.4.1.311.76.59.1.9",  /* Microsoft C2PA signing */
    "1.3.6.1.4.1.62558.2.1",      /* c2pa-kp-claimSigning (C2PA 2.x) */
};

static int eku_allowed(X509 *leaf)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
    int found = 0;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && !found; i++) {
        char oid[80];
        if (OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, i), 1) <= 0)
            continue;
        for (size_t k = 0; k < sizeof allowed_eku / sizeof allowed_eku[0]; k++)
            if (strcmp(oid, allowed_eku[k]) == 0)
                found = 1;
    }
    EXTENDED_KEY_USAGE_free(eku);
    ERR_clear_error();
    return found;
}

static void describe_leaf(X509 *leaf, um_signer_info *s)
{
    name_entry(X509_get_subject_name(leaf), NID_commonName, s->common_name,
               sizeof s->common_name);
    name_entry(X509_get_subject_name(leaf), NID_organizationName, s->organization,
               sizeof s->organization);
    name_cn_or_o(X509_get_issuer_name(leaf), s->issuer, sizeof s->issuer);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    copy_str(s->serial, sizeof s->serial, hex);
    OPENSSL_free(hex);
    BN_free(bn);
    format_asn1_time(X509_get0_notBefore(leaf), s->not_before, sizeof s->not_before);
    format_asn1_time(X509_get0_notAfter(leaf), s->not_after, sizeof s->not_after);
}

/* PEM of the chain, leaf first; malloc'ed NUL-terminated, NULL on failure. */
static char *chain_to_pem(STACK_OF(X509) *chain)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    int ok = 1;
    for (int i = 0; i < sk_X509_num(chain) && ok; i++)
        ok = PEM_write_bio_X509(bio, sk_X509_value(chain, i)) == 1;
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *out = NULL;
    if (ok && len > 0 && (out = malloc((size_t)len + 1)) != NULL) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
    return out;
}

/* Validity at the signing time, EKU, end-entity, then the chain to the anchors. */
static void check_credential(const cose_msg *m, const um_trust *trust, time_t at, int timestamped,
                             const char *url, um_c2pa_statuses *st)
{
    X509 *leaf = sk_X509_value(m->chain, 0);
    char when[32];
    format_time(at, when, sizeof when);
    int valid = cert_valid_at(leaf, at);
    if (valid == 1)
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "claimSignature.insideValidity", url,
                           "The signing certificate was valid at %s (%s).", when,
                           timestamped ? "time-stamp" : "validation time");
    else
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claimSignature.outsideValidity", url,
                           "The signing certificate was not valid at %s (%s).", when,
                           timestamped ? "time-stamp" : "validation time");
    if (!eku_allowed(leaf))
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.invalid", url,
                           "The signing certificate lacks an extended key usage C2PA allows.");
    if (X509_get_extension_flags(leaf) & EXFLAG_CA)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.invalid", url,
                           "The signing certificate is a CA certificate, not an end entity.");
    if (!trust) {
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.untrusted", url,
                           "The signer was not checked against a trust list (none given).");
        return;
    }
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    for (int i = 1; untrusted && i < sk_X509_num(m->chain); i++)
        sk_X509_push(untrusted, sk_X509_value(m->chain, i));
    char why[160] = "";
    if (chain_trusted(trust, leaf, untrusted, at, why, sizeof why))
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "signingCredential.trusted", url,
                           "The signing certificate chains to a trust anchor.");
    else
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.untrusted", url,
                           "The signing certificate does not chain to a trust anchor (%s).",
                           why);
    sk_X509_free(untrusted);
}

/* ------------------------------------------------------------------------------------------ */
/* Stapled OCSP (rVals, C2PA 14.6)                                                             */

/* Status of leaf in one DER OCSPResponse: V_OCSP_CERTSTATUS_*, or -1 (unusable, why set). */
static int ocsp_status_of(const uint8_t *der, size_t len, X509 *leaf, X509 *issuer,
                          STACK_OF(X509) *chain, char *why, size_t whylen)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = len <= LONG_MAX ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
    OCSP_BASICRESP *bs = NULL;
    int status = -1;
    if (!resp || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
        !(bs = OCSP_response_get1_basic(resp))) {
        copy_str(why, whylen, "not a successful OCSP response");
    } else if (OCSP_basic_verify(bs, chain, NULL, OCSP_NOVERIFY) != 1) {
        copy_str(why, whylen, "the OCSP response's signature does not verify");
    } else {
        const EVP_MD *mds[2] = {EVP_sha1(), EVP_sha256()}; /* CertID hash the responder chose */
        for (int i = 0; i < 2 && status < 0; i++) {
            OCSP_CERTID *id = OCSP_cert_to_id(mds[i], leaf, issuer);
            int st = 0, reason = 0;
            if (id && OCSP_resp_find_status(bs, id, &st, &reason, NULL, NULL, NULL) == 1)
                status = st;
            OCSP_CERTID_free(id);
        }
        if (status < 0)
            copy_str(why, whylen, "the OCSP response is not about the signing certificate");
    }
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
    return status;
}

static void check_ocsp(const cose_msg *m, const char *url, um_c2pa_statuses *st,
                       um_signer_info *signer)
{
    const cbor_item_t *vals = um_cbor_map_get(um_cbor_map_get(m->unprot, "rVals"), "ocspVals");
    if (!vals || !cbor_isa_array(vals) || !cbor_array_is_definite(vals))
        return;
    size_t n = cbor_array_size(vals);
    if (n == 0)
        return;
    if (sk_X509_num(m->chain) < 2) {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "signingCredential.ocsp.skipped", url,
                           "A stapled OCSP response cannot be matched: x5chain has no issuer.");
        return;
    }
    X509 *leaf = sk_X509_value(m->chain, 0), *issuer = sk_X509_value(m->chain, 1);
    char why[160] = "";
    int status = -1;
    cbor_item_t **items = cbor_array_handle(vals);
    for (size_t i = 0; i < n && i < COSE_MAX_OCSP && status < 0; i++) {
        size_t len;
        const uint8_t *der = um_cbor_bytes(items[i], &len);
        if (der)
            status = ocsp_status_of(der, len, leaf, issuer, m->chain, why, sizeof why);
    }
    if (status == V_OCSP_CERTSTATUS_GOOD) {
        copy_str(signer->ocsp, sizeof signer->ocsp, "good");
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "signingCredential.ocsp.notRevoked", url,
                           "The stapled OCSP response says the signing certificate is good.");
    } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
        copy_str(signer->ocsp, sizeof signer->ocsp, "revoked");
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.ocsp.revoked", url,
                           "The stapled OCSP response says the signing certificate is revoked.");
    } else if (status == V_OCSP_CERTSTATUS_UNKNOWN) {
        copy_str(signer->ocsp, sizeof signer->ocsp, "unknown");
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "signingCredential.ocsp.unknown", url,
                           "The stapled OCSP responder does not know the signing certificate.");
    } else {
        um_c2pa_status_add(st, UM_C2PA_INFORMATIONAL, "signingCredential.ocsp.skipped", url,
                           "The stapled OCSP response was not used: %s.", why);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Entry point                                                                                 */

/* The signature step: 1 validated, 0 not (status already added). */
static int check_signature(const cose_msg *m, const cose_alg *alg, const uint8_t *claim,
                           size_t claim_len, const char *url, um_c2pa_statuses *st)
{
    size_t tbs_len = 0;
    uint8_t *tbs = sig_structure("Signature1", m->prot, m->prot_len, claim, claim_len, &tbs_len);
    if (!tbs) {
        st->oom = 1;
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claimSignature.mismatch", url,
                           "The claim signature could not be checked (out of memory).");
        return 0;
    }
    X509 *leaf = sk_X509_value(m->chain, 0);
    int r = verify_signature(alg, X509_get0_pubkey(leaf), tbs, tbs_len, m->sig, m->sig_len);
    free(tbs);
    if (r == 1) {
        um_c2pa_status_add(st, UM_C2PA_SUCCESS, "claimSignature.validated", url,
                           "The claim signature (%s) verifies with the signing certificate.",
                           alg->name);
        return 1;
    }
    if (r == -2)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.invalid", url,
                           "The %s signature is DER-encoded; COSE requires raw r||s.",
                           alg->name);
    else if (r < 0)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "signingCredential.invalid", url,
                           "The signing certificate's key cannot make %s signatures (wrong "
                           "type, curve or size).",
                           alg->name);
    um_c2pa_status_add(st, UM_C2PA_FAILURE, "claimSignature.mismatch", url,
                       "The claim signature (%s) does not match the claim.", alg->name);
    return 0;
}

void um_cose_verify_claim(const uint8_t *cose, size_t cose_len, const uint8_t *claim,
                          size_t claim_len, const um_trust *trust, time_t now,
                          const char *sig_url, um_c2pa_statuses *st, um_signer_info *signer)
{
    memset(signer, 0, sizeof *signer);
    if (!cose || cose_len == 0) {
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claimSignature.missing", sig_url,
                           "The manifest has no claim signature.");
        return;
    }
    if (!claim)
        claim_len = 0;
    cose_msg m;
    char why[160] = "";
    if (cose_parse(cose, cose_len, &m, why, sizeof why) != 0) {
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claimSignature.mismatch", sig_url,
                           "The claim signature is malformed: %s.", why);
        cose_msg_free(&m);
        return;
    }
    X509 *leaf = sk_X509_value(m.chain, 0);
    describe_leaf(leaf, signer);
    signer->chain_pem = chain_to_pem(m.chain);
    const cose_alg *alg = m.has_alg ? cose_alg_find(m.alg) : NULL;
    if (!alg) {
        if (m.has_alg)
            um_c2pa_status_add(st, UM_C2PA_FAILURE, "algorithm.unsupported", sig_url,
                               "The claim is signed with COSE algorithm %lld, which C2PA does "
                               "not allow.",
                               (long long)m.alg);
        else
            um_c2pa_status_add(st, UM_C2PA_FAILURE, "algorithm.unsupported", sig_url,
                               "The claim signature names no algorithm.");
        cose_msg_free(&m);
        return;
    }
    copy_str(signer->alg, sizeof signer->alg, alg->name);
    time_t at = now;
    int timestamped = check_timestamp(&m, claim, claim_len, trust, sig_url, st, signer, &at);
    signer->signature_valid = check_signature(&m, alg, claim, claim_len, sig_url, st);
    check_credential(&m, trust, at, timestamped, sig_url, st);
    check_ocsp(&m, sig_url, st, signer);
    cose_msg_free(&m);
}
