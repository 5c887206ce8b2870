/* COSE_Sign1 claim signatures and the X.509 side of C2PA (OpenSSL): signature verification
 * (ES256/384/512, PS256/384/512, Ed25519), the x5chain certificate (validity, EKU, chain to
 * optional trust anchors), RFC 3161 time-stamps (sigTst v1 / sigTst2 v2) and stapled OCSP.
 * Results are C2PA status codes (c2pa_status.h) plus a description of the signer. */
#ifndef UM_PROV_COSE_H
#define UM_PROV_COSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "prov/c2pa_status.h"
#include "unmask.h"

/* Trust anchors (PEM bundle of CA certificates) for signingCredential.trusted. Without them,
 * every signer is reported as untrusted (never as invalid). */
typedef struct um_trust um_trust;
um_error um_trust_load(const char *pem_path, um_trust **out, char *err, size_t errlen);
void um_trust_free(um_trust *t);

typedef struct um_signer_info {
    char alg[16];               /* "ES256", "PS256", "Ed25519", ...; "" when unknown */
    char common_name[256];      /* subject CN of the leaf */
    char organization[256];     /* subject O of the leaf */
    char issuer[256];           /* issuer CN (else O) */
    char serial[80];            /* hex */
    char not_before[32], not_after[32]; /* ISO 8601 UTC */
    char time[32];              /* signing time: the time-stamp's genTime when one verified,
                                   else "" */
    char timestamp_authority[256];
    char ocsp[16];              /* "good", "revoked", "unknown", or "" when none stapled */
    int signature_valid;        /* 1 when the COSE signature verified */
    char *chain_pem;            /* malloc'ed PEM of x5chain (leaf first), or NULL */
} um_signer_info;

/* Verify the COSE_Sign1_Tagged structure `cose` (the content of a c2pa.signature box) over the
 * detached payload `claim` (the claim's CBOR bytes exactly as stored). Appends statuses to st
 * (claimSignature.*, signingCredential.*, timeStamp.*, algorithm.unsupported,
 * signingCredential.ocsp.*), each with url = sig_url. `now` is the validation time used when no
 * time-stamp gives one (pass time(NULL)). trust may be NULL. The caller frees
 * signer->chain_pem. */
void um_cose_verify_claim(const uint8_t *cose, size_t cose_len, const uint8_t *claim,
                          size_t claim_len, const um_trust *trust, time_t now,
                          const char *sig_url, um_c2pa_statuses *st, um_signer_info *signer);

#endif
