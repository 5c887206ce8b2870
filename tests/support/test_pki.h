/* A throw-away PKI for provenance tests: keys, X.509 certificates, RFC 3161 time-stamps, OCSP
 * responses and COSE_Sign1 claim signatures, all made with OpenSSL (and libcbor) while the test
 * runs, so no key material or signed file is stored in the repository.
 *
 * Typical use (a C2PA test signer):
 *
 *     um_tp_pki pki;
 *     um_tp_pki_make(&pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, 0, 365 * 86400L);
 *     um_tp_cose_spec spec = um_tp_cose_spec_for(&pki, -7);       // ES256, x5chain = leaf, CA
 *     size_t cose_len;
 *     uint8_t *cose = um_tp_cose_sign1(&spec, claim, claim_len, &cose_len);
 *     ... put cose into a c2pa.signature box (a cbor content box) ...
 *     free(cose);
 *     um_tp_pki_free(&pki);
 *
 * Every function returns NULL / -1 on failure (OpenSSL error queue left as is); the tests then
 * fail their CHECKs rather than crash. All times are relative to time(NULL). */
#ifndef UM_TEST_PKI_H
#define UM_TEST_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* EKU OIDs a C2PA claim signer may carry (C2PA 2.2 14.5.1), and one it may not. */
#define UM_TP_EKU_EMAIL "1.3.6.1.5.5.7.3.4"       /* id-kp-emailProtection */
#define UM_TP_EKU_DOCSIGN "1.3.6.1.5.5.7.3.36"    /* id-kp-documentSigning */
#define UM_TP_EKU_SERVER "1.3.6.1.5.5.7.3.1"      /* id-kp-serverAuth: not allowed */
#define UM_TP_EKU_TIMESTAMP "1.3.6.1.5.5.7.3.8"   /* id-kp-timeStamping (TSA certificates) */

typedef enum um_tp_key_type {
    UM_TP_KEY_EC_P256,    /* for ES256 (-7) */
    UM_TP_KEY_EC_P384,    /* for ES384 (-35) */
    UM_TP_KEY_EC_P521,    /* for ES512 (-36) */
    UM_TP_KEY_RSA2048,    /* for PS256/384/512 (-37/-38/-39) */
    UM_TP_KEY_ED25519     /* for EdDSA (-8) */
} um_tp_key_type;

EVP_PKEY *um_tp_key_new(um_tp_key_type type);

typedef struct um_tp_cert_spec {
    const char *common_name;     /* subject CN (required) */
    const char *organization;    /* subject O, or NULL */
    int is_ca;                   /* basicConstraints CA:TRUE + keyCertSign, else CA:FALSE */
    const char *eku_oid;         /* one extendedKeyUsage OID (dotted), or NULL for none */
    int eku_critical;            /* mark the EKU critical (a TSA certificate needs it) */
    long not_before;             /* seconds relative to now (e.g. -86400) */
    long not_after;              /* seconds relative to now */
    long serial;
} um_tp_cert_spec;

/* A certificate for key, signed by issuer_key (issuer's subject as issuer name); self-signed
 * when issuer is NULL (then issuer_key is ignored and key signs). Ed25519 issuers sign with
 * no digest, others with SHA-256. */
X509 *um_tp_cert_new(EVP_PKEY *key, const um_tp_cert_spec *spec, X509 *issuer,
                     EVP_PKEY *issuer_key);

/* A self-signed P-256 CA ("unmask test CA") and a leaf signed by it: leaf key of leaf_type,
 * subject CN "unmask test signer", O "unmask tests", the given EKU (NULL: none), valid
 * [now + not_before, now + not_after]. */
typedef struct um_tp_pki {
    EVP_PKEY *ca_key;
    X509 *ca;
    EVP_PKEY *leaf_key;
    X509 *leaf;
    X509 *chain[2];           /* {leaf, ca}: the x5chain um_tp_cose_spec_for uses */
} um_tp_pki;

int um_tp_pki_make(um_tp_pki *p, um_tp_key_type leaf_type, const char *leaf_eku,
                   long not_before, long not_after);
void um_tp_pki_free(um_tp_pki *p);

/* Writes certs as a PEM bundle (a trust-anchor file for um_trust_load). 0 or -1. */
int um_tp_write_pem(const char *path, X509 *const *certs, int n);

/* A time-stamp authority: a P-256 key and a certificate with the critical timeStamping EKU,
 * issued by the given CA (so a trust file with that CA also trusts the TSA). */
typedef struct um_tp_tsa {
    EVP_PKEY *key;
    X509 *cert;
} um_tp_tsa;

int um_tp_tsa_make(um_tp_tsa *t, X509 *ca, EVP_PKEY *ca_key);
void um_tp_tsa_free(um_tp_tsa *t);

/* DER RFC 3161 TimeStampResp (v2 = 0) or bare TimeStampToken (v2 = 1) whose message imprint is
 * SHA-256(data). malloc'ed. */
uint8_t *um_tp_timestamp(const um_tp_tsa *t, const uint8_t *data, size_t len, int v2,
                         size_t *out_len);

/* DER OCSPResponse (successful, signed by issuer_key) saying cert is good / revoked / unknown
 * (V_OCSP_CERTSTATUS_*). malloc'ed. */
uint8_t *um_tp_ocsp_response(X509 *cert, X509 *issuer, EVP_PKEY *issuer_key, int status,
                             size_t *out_len);

/* Where the COSE x5chain goes (C2PA 2.x: protected label 33; 1.x writers: unprotected text
 * label "x5chain"; both: an invalid file; none: no certificate at all). */
typedef enum um_tp_x5_place {
    UM_TP_X5_PROTECTED,
    UM_TP_X5_LEGACY_UNPROTECTED,
    UM_TP_X5_BOTH,
    UM_TP_X5_NONE
} um_tp_x5_place;

typedef struct um_tp_cose_spec {
    int64_t alg;              /* COSE alg: -7 ES256, -35 ES384, -36 ES512, -37 PS256, -38 PS384,
                                 -39 PS512, -8 EdDSA; any other value is written as is and the
                                 message is then signed as PS256/ES256/EdDSA by key type */
    EVP_PKEY *key;            /* signing key */
    X509 *const *chain;       /* x5chain, leaf first */
    int chain_len;            /* 1: written as one bstr; more: array of bstr */
    um_tp_x5_place x5_place;
    const um_tp_tsa *tsa;     /* add a time-stamp when non-NULL */
    int tst_v2;               /* 1: sigTst2 (TimeStampToken over the signature), 0: sigTst */
    int tst_wrong_data;       /* stamp other bytes (a timeStamp.mismatch case) */
    const uint8_t *ocsp;      /* a DER OCSPResponse to staple in rVals.ocspVals, or NULL */
    size_t ocsp_len;
    size_t pad_len;           /* zero bytes of "pad" in the unprotected header */
    int ecdsa_der;            /* leave an ECDSA signature DER-encoded (not COSE: a bad file) */
} um_tp_cose_spec;

/* Spec for the pair in p: alg, key = leaf key, chain = {leaf, ca}, x5chain protected. The
 * returned struct points into p (keep p alive). */
um_tp_cose_spec um_tp_cose_spec_for(const um_tp_pki *p, int64_t alg);

/* COSE_Sign1_Tagged (tag 18) with detached payload over claim: ToBeSigned =
 * ["Signature1", protected, h'', claim] (RFC 9052 4.4), built with libcbor, signed with
 * OpenSSL (ECDSA as raw r||s, PSS with salt = hash length). malloc'ed. */
uint8_t *um_tp_cose_sign1(const um_tp_cose_spec *spec, const uint8_t *claim, size_t claim_len,
                          size_t *out_len);

#endif
