/* Test PKI (see test_pki.h). Written for the tests from the OpenSSL and libcbor manuals and
 * RFC 9052 / RFC 3161 / RFC 6960; nothing here is meant to be secure. */
#include "test_pki.h"

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

EVP_PKEY *um_tp_key_new(um_tp_key_type type)
{
    switch (type) {
    case UM_TP_KEY_EC_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case UM_TP_KEY_EC_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case UM_TP_KEY_EC_P521:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    case UM_TP_KEY_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case UM_TP_KEY_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static int set_name(X509_NAME *name, const um_tp_cert_spec *spec)
{
    if (spec->organization &&
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)spec->organization, -1, -1, 0))
        return 0;
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                      (const unsigned char *)spec->common_name, -1, -1, 0);
}

X509 *um_tp_cert_new(EVP_PKEY *key, const um_tp_cert_spec *spec, X509 *issuer,
                     EVP_PKEY *issuer_key)
{
    X509 *cert = X509_new();
    if (!cert)
        return NULL;
    EVP_PKEY *signer = issuer ? issuer_key : key;
    char eku[128];
    snprintf(eku, sizeof eku, "%s%s", spec->eku_critical ? "critical," : "",
             spec->eku_oid ? spec->eku_oid : "");
    int ok = X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert),
                                                           spec->serial) &&
             X509_gmtime_adj(X509_getm_notBefore(cert), spec->not_before) &&
             X509_gmtime_adj(X509_getm_notAfter(cert), spec->not_after) &&
             set_name(X509_get_subject_name(cert), spec) &&
             X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer)
                                               : X509_get_subject_name(cert)) &&
             X509_set_pubkey(cert, key) &&
             add_ext(cert, issuer, NID_basic_constraints,
                     spec->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
             add_ext(cert, issuer, NID_key_usage,
                     spec->is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
             add_ext(cert, issuer, NID_subject_key_identifier, "hash") &&
             (!issuer || add_ext(cert, issuer, NID_authority_key_identifier, "keyid")) &&
             (!spec->eku_oid || add_ext(cert, issuer, NID_ext_key_usage, eku));
    int is_ed = EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519;
    if (!ok || X509_sign(cert, signer, is_ed ? NULL : EVP_sha256()) <= 0) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int um_tp_pki_make(um_tp_pki *p, um_tp_key_type leaf_type, const char *leaf_eku,
                   long not_before, long not_after)
{
    memset(p, 0, sizeof *p);
    um_tp_cert_spec ca_spec = {"unmask test CA", "unmask tests", 1, NULL, 0,
                               -86400L, 3650L * 86400L, 1};
    um_tp_cert_spec leaf_spec = {"unmask test signer", "unmask tests", 0, leaf_eku, 0,
                                 not_before, not_after, 2};
    p->ca_key = um_tp_key_new(UM_TP_KEY_EC_P256);
    p->leaf_key = um_tp_key_new(leaf_type);
    if (p->ca_key)
        p->ca = um_tp_cert_new(p->ca_key, &ca_spec, NULL, NULL);
    if (p->leaf_key && p->ca)
        p->leaf = um_tp_cert_new(p->leaf_key, &leaf_spec, p->ca, p->ca_key);
    p->chain[0] = p->leaf;
    p->chain[1] = p->ca;
    if (!p->leaf) {
        um_tp_pki_free(p);
        return -1;
    }
    return 0;
}

void um_tp_pki_free(um_tp_pki *p)
{
    X509_free(p->leaf);
    X509_free(p->ca);
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->ca_key);
    memset(p, 0, sizeof *p);
}

int um_tp_write_pem(const char *path, X509 *const *certs, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        ok = PEM_write_X509(f, certs[i]) == 1;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int um_tp_tsa_make(um_tp_tsa *t, X509 *ca, EVP_PKEY *ca_key)
{
    memset(t, 0, sizeof *t);
    um_tp_cert_spec spec = {"unmask test TSA", "unmask tests", 0, UM_TP_EKU_TIMESTAMP, 1,
                            -86400L, 3650L * 86400L, 3};
    t->key = um_tp_key_new(UM_TP_KEY_EC_P256);
    if (t->key)
        t->cert = um_tp_cert_new(t->key, &spec, ca, ca_key);
    if (!t->cert) {
        um_tp_tsa_free(t);
        return -1;
    }
    return 0;
}

void um_tp_tsa_free(um_tp_tsa *t)
{
    X509_free(t->cert);
    EVP_PKEY_free(t->key);
    memset(t, 0, sizeof *t);
}

static uint8_t *der_dup(const unsigned char *der, int len, size_t *out_len)
{
    if (len <= 0)
        return NULL;
    uint8_t *out = malloc((size_t)len);
    if (out) {
        memcpy(out, der, (size_t)len);
        *out_len = (size_t)len;
    }
    return out;
}

/* A DER TimeStampReq for SHA-256(data), in a memory BIO. */
static BIO *timestamp_request(const uint8_t *data, size_t len)
{
    unsigned char digest[32];
    BIO *bio = NULL;
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    if (req && mi && algo && EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL) &&
        X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
        TS_MSG_IMPRINT_set_algo(mi, algo) && TS_MSG_IMPRINT_set_msg(mi, digest, 32) &&
        TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, mi) &&
        TS_REQ_set_cert_req(req, 1) && (bio = BIO_new(BIO_s_mem())) != NULL) {
        if (i2d_TS_REQ_bio(bio, req) != 1) {
            BIO_free(bio);
            bio = NULL;
        }
    }
    X509_ALGOR_free(algo);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    return bio;
}

uint8_t *um_tp_timestamp(const um_tp_tsa *t, const uint8_t *data, size_t len, int v2,
                         size_t *out_len)
{
    BIO *req = timestamp_request(data, len);
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
    TS_RESP *resp = NULL;
    uint8_t *out = NULL;
    if (req && ctx && policy && TS_RESP_CTX_set_signer_cert(ctx, t->cert) &&
        TS_RESP_CTX_set_signer_key(ctx, t->key) && TS_RESP_CTX_set_def_policy(ctx, policy) &&
        TS_RESP_CTX_add_md(ctx, EVP_sha256()))
        resp = TS_RESP_create_response(ctx, req);
    if (resp) {
        unsigned char *der = NULL;
        int n = v2 ? i2d_PKCS7(TS_RESP_get_token(resp), &der) : i2d_TS_RESP(resp, &der);
        out = der_dup(der, n, out_len);
        OPENSSL_free(der);
    }
    TS_RESP_free(resp);
    ASN1_OBJECT_free(policy);
    TS_RESP_CTX_free(ctx);
    BIO_free(req);
    return out;
}

uint8_t *um_tp_ocsp_response(X509 *cert, X509 *issuer, EVP_PKEY *issuer_key, int status,
                             size_t *out_len)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
    ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
    ASN1_TIME *next = X509_gmtime_adj(NULL, 7 * 86400L);
    OCSP_RESPONSE *resp = NULL;
    uint8_t *out = NULL;
    int reason = status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0;
    if (bs && id && now && next &&
        OCSP_basic_add1_status(bs, id, status, reason,
                               status == V_OCSP_CERTSTATUS_REVOKED ? now : NULL, now, next) &&
        OCSP_basic_sign(bs, issuer, issuer_key, EVP_sha256(), NULL, 0) == 1)
        resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    if (resp) {
        unsigned char *der = NULL;
        int n = i2d_OCSP_RESPONSE(resp, &der);
        out = der_dup(der, n, out_len);
        OPENSSL_free(der);
    }
    OCSP_RESPONSE_free(resp);
    ASN1_TIME_free(next);
    ASN1_TIME_free(now);
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(bs);
    return out;
}

um_tp_cose_spec um_tp_cose_spec_for(const um_tp_pki *p, int64_t alg)
{
    um_tp_cose_spec s;
    memset(&s, 0, sizeof s);
    s.alg = alg;
    s.key = p->leaf_key;
    s.chain = p->chain;
    s.chain_len = 2;
    s.x5_place = UM_TP_X5_PROTECTED;
    return s;
}

/* ---- COSE ---------------------------------------------------------------------------------- */

static cbor_item_t *cbor_int(int64_t v)
{
    return v < 0 ? cbor_build_negint64((uint64_t)(-1 - v)) : cbor_build_uint64((uint64_t)v);
}

static int map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
    if (!key || !value) {
        if (key)
            cbor_decref(&key);
        if (value)
            cbor_decref(&value);
        return 0;
    }
    return cbor_map_add(map, (struct cbor_pair){.key = cbor_move(key), .value = cbor_move(value)});
}

static cbor_item_t *x5chain_item(const um_tp_cose_spec *s)
{
    cbor_item_t *arr = s->chain_len > 1 ? cbor_new_definite_array((size_t)s->chain_len) : NULL;
    for (int i = 0; i < s->chain_len; i++) {
        unsigned char *der = NULL;
        int n = i2d_X509(s->chain[i], &der);
        cbor_item_t *b = n > 0 ? cbor_build_bytestring(der, (size_t)n) : NULL;
        OPENSSL_free(der);
        if (!b)
            break;
        if (!arr)
            return b;
        cbor_array_push(arr, cbor_move(b));
    }
    return arr;
}

/* libcbor copies length bytes from the handle: never hand it NULL, even for length 0. */
static cbor_item_t *bstr(const uint8_t *data, size_t len)
{
    static const uint8_t none = 0;
    return cbor_build_bytestring(data ? data : &none, len);
}

static uint8_t *serialize(const cbor_item_t *item, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = item ? cbor_serialize_alloc(item, &buf, &cap) : 0;
    if (*len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* [context, bstr prot, h'', bstr payload], serialized by libcbor. */
static uint8_t *sig_structure(const char *context, const uint8_t *prot, size_t prot_len,
                              const uint8_t *payload, size_t payload_len, size_t *len)
{
    cbor_item_t *arr = cbor_new_definite_array(4);
    cbor_array_push(arr, cbor_move(cbor_build_string(context)));
    cbor_array_push(arr, cbor_move(bstr(prot, prot_len)));
    cbor_array_push(arr, cbor_move(bstr(NULL, 0)));
    cbor_array_push(arr, cbor_move(bstr(payload, payload_len)));
    uint8_t *out = serialize(arr, len);
    cbor_decref(&arr);
    return out;
}

static const EVP_MD *alg_md(int64_t alg)
{
    switch (alg) {
    case -35:
    case -38:
        return EVP_sha384();
    case -36:
    case -39:
        return EVP_sha512();
    default:
        return EVP_sha256();
    }
}

/* Signs msg with key the way COSE wants: ECDSA -> raw r||s of the curve's width, RSA -> PSS
 * (MGF1 same hash, salt = hash length), Ed25519 -> pure EdDSA. */
static uint8_t *cose_sign_raw(int64_t alg, EVP_PKEY *key, int keep_der, const uint8_t *msg,
                              size_t len, size_t *sig_len)
{
    int type = EVP_PKEY_get_base_id(key);
    const EVP_MD *md = type == EVP_PKEY_ED25519 ? NULL : alg_md(alg);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *sig = NULL;
    size_t n = 0;
    if (!mctx || EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1)
        goto done;
    if (type == EVP_PKEY_RSA &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md)) <= 0))
        goto done;
    if (EVP_DigestSign(mctx, NULL, &n, msg, len) != 1 || !(sig = malloc(n)) ||
        EVP_DigestSign(mctx, sig, &n, msg, len) != 1) {
        free(sig);
        sig = NULL;
        goto done;
    }
    if (type == EVP_PKEY_EC && !keep_der) { /* DER ECDSA-Sig-Value -> fixed-width r||s (RFC 9053 2.1) */
        size_t w = (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        uint8_t *raw = es ? malloc(2 * w) : NULL;
        if (raw && BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)w) == (int)w &&
            BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + w, (int)w) == (int)w) {
            free(sig);
            sig = raw;
            n = 2 * w;
        } else {
            free(raw);
            free(sig);
            sig = NULL;
        }
        ECDSA_SIG_free(es);
    }
done:
    EVP_MD_CTX_free(mctx);
    if (sig)
        *sig_len = n;
    return sig;
}

/* {"tstTokens": [{"val": token}]} */
static cbor_item_t *tst_header(const uint8_t *token, size_t len)
{
    cbor_item_t *tok = cbor_new_definite_map(1);
    map_put(tok, cbor_build_string("val"), cbor_build_bytestring(token, len));
    cbor_item_t *arr = cbor_new_definite_array(1);
    cbor_array_push(arr, cbor_move(tok));
    cbor_item_t *hdr = cbor_new_definite_map(1);
    map_put(hdr, cbor_build_string("tstTokens"), arr);
    return hdr;
}

/* The time-stamp over the countersignature structure (C2PA 10.3.2.5): v1 over the claim, v2
 * over the CBOR encoding of the signature bstr. */
static cbor_item_t *make_tst(const um_tp_cose_spec *s, const uint8_t *prot, size_t prot_len,
                             const uint8_t *claim, size_t claim_len, const uint8_t *sig,
                             size_t sig_len)
{
    uint8_t *payload = NULL;
    size_t payload_len = claim_len;
    if (s->tst_v2) {
        cbor_item_t *b = cbor_build_bytestring(sig, sig_len);
        payload = serialize(b, &payload_len);
        cbor_decref(&b);
    }
    size_t cs_len = 0;
    uint8_t *cs = sig_structure("CounterSignature", prot, prot_len,
                                s->tst_v2 ? payload : claim, payload_len, &cs_len);
    free(payload);
    if (cs && s->tst_wrong_data)
        cs[cs_len - 1] ^= 1;
    size_t tok_len = 0;
    uint8_t *tok = cs ? um_tp_timestamp(s->tsa, cs, cs_len, s->tst_v2, &tok_len) : NULL;
    free(cs);
    cbor_item_t *hdr = tok ? tst_header(tok, tok_len) : NULL;
    free(tok);
    return hdr;
}

static cbor_item_t *unprotected_header(const um_tp_cose_spec *s, const uint8_t *prot,
                                       size_t prot_len, const uint8_t *claim, size_t claim_len,
                                       const uint8_t *sig, size_t sig_len)
{
    cbor_item_t *map = cbor_new_definite_map(5);
    if (s->x5_place == UM_TP_X5_LEGACY_UNPROTECTED || s->x5_place == UM_TP_X5_BOTH)
        map_put(map, cbor_build_string("x5chain"), x5chain_item(s));
    if (s->tsa)
        map_put(map, cbor_build_string(s->tst_v2 ? "sigTst2" : "sigTst"),
                make_tst(s, prot, prot_len, claim, claim_len, sig, sig_len));
    if (s->ocsp) {
        cbor_item_t *vals = cbor_new_definite_array(1);
        cbor_array_push(vals, cbor_move(cbor_build_bytestring(s->ocsp, s->ocsp_len)));
        cbor_item_t *rvals = cbor_new_definite_map(1);
        map_put(rvals, cbor_build_string("ocspVals"), vals);
        map_put(map, cbor_build_string("rVals"), rvals);
    }
    if (s->pad_len) {
        uint8_t *zeros = calloc(1, s->pad_len);
        map_put(map, cbor_build_string("pad"), zeros ? cbor_build_bytestring(zeros, s->pad_len)
                                                     : NULL);
        free(zeros);
    }
    return map;
}

uint8_t *um_tp_cose_sign1(const um_tp_cose_spec *s, const uint8_t *claim, size_t claim_len,
                          size_t *out_len)
{
    cbor_item_t *pmap = cbor_new_definite_map(2);
    map_put(pmap, cbor_int(1), cbor_int(s->alg));
    if (s->x5_place == UM_TP_X5_PROTECTED || s->x5_place == UM_TP_X5_BOTH)
        map_put(pmap, cbor_int(33), x5chain_item(s));
    size_t prot_len = 0, tbs_len = 0, sig_len = 0;
    uint8_t *prot = serialize(pmap, &prot_len);
    cbor_decref(&pmap);
    uint8_t *tbs = prot ? sig_structure("Signature1", prot, prot_len, claim, claim_len, &tbs_len)
                        : NULL;
    uint8_t *sig = tbs ? cose_sign_raw(s->alg, s->key, s->ecdsa_der, tbs, tbs_len, &sig_len) : NULL;
    free(tbs);
    uint8_t *out = NULL;
    if (sig) {
        cbor_item_t *arr = cbor_new_definite_array(4);
        cbor_array_push(arr, cbor_move(cbor_build_bytestring(prot, prot_len)));
        cbor_array_push(arr, cbor_move(unprotected_header(s, prot, prot_len, claim, claim_len,
                                                          sig, sig_len)));
        cbor_array_push(arr, cbor_move(cbor_new_null()));
        cbor_array_push(arr, cbor_move(cbor_build_bytestring(sig, sig_len)));
        cbor_item_t *tagged = cbor_build_tag(18, cbor_move(arr));
        out = serialize(tagged, out_len);
        cbor_decref(&tagged);
    }
    free(sig);
    free(prot);
    return out;
}
