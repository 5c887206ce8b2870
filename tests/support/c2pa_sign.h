/* A test-side C2PA writer: builds a real manifest store (C2PA 2.x, or a 1.x claim on request)
 * signed with the test's own keys, and embeds it into JPEG, PNG, WebP or HEIF/AVIF bytes, so the
 * validator can be checked end to end on files the suite makes itself.
 *
 * What is written (docs: provenance-markers.md 1.1 - 1.6):
 *   jumb "c2pa" (manifest store)
 *     jumb "urn:c2pa:<uuid>" (c2ma; v1: "unmask:urn:uuid:<uuid>")
 *       jumb "c2pa.assertions" (c2as)
 *         jumb "c2pa.actions.v2" (v1: "c2pa.actions")   cbor {actions: [c2pa.created ...]}
 *         jumb "c2pa.hash.data"                        cbor {exclusions, name, alg, hash, pad}
 *       jumb "c2pa.claim.v2" (v1: "c2pa.claim")  (c2cl)  cbor claim
 *       jumb "c2pa.signature" (c2cs)                    cbor COSE_Sign1_Tagged (test_pki.h):
 *                                                       x5chain protected, detached payload,
 *                                                       no time-stamp, empty unprotected map
 * Every hashed URI is absolute (self#jumbf=/c2pa/<label>/...), so the manifest label is bound
 * by the signed claim too.
 *
 * Test code: plain OpenSSL, aborts nothing, returns um_error. */
#ifndef UM_TEST_C2PA_SIGN_H
#define UM_TEST_C2PA_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "io/decode.h"
#include "test_pki.h"
#include "unmask.h"

typedef enum c2pa_sign_alg {
    C2PA_SIGN_ES256 = 0, /* P-256, raw r||s (64 bytes) */
    C2PA_SIGN_PS256,     /* RSA-2048 PSS, salt 32 (256 bytes) */
    C2PA_SIGN_ED25519    /* EdDSA (64 bytes) */
} c2pa_sign_alg;

/* A signer: the shared test PKI (test_pki.h) - a self-signed P-256 CA and a leaf "unmask test
 * signer" for the chosen algorithm with EKU emailProtection, valid from one day ago for a year.
 * The COSE x5chain carries {leaf, CA}. */
typedef struct c2pa_signer {
    c2pa_sign_alg alg;
    um_tp_pki pki;
} c2pa_signer;

um_error c2pa_signer_create(c2pa_sign_alg alg, c2pa_signer **out);
void c2pa_signer_free(c2pa_signer *s);
/* Write the CA certificate as PEM (a trust-anchor file for um_trust_load). 0 on success. */
int c2pa_signer_write_ca_pem(const c2pa_signer *s, const char *path);

#define C2PA_SIGN_DEFAULT_PACKET 64000u /* store bytes per JPEG APP11 segment, as c2pa-rs */

struct c2pa_sign_opts {
    const c2pa_signer *signer;       /* required */
    int claim_version;               /* 2 (default when 0) or 1 */
    const char *digital_source_type; /* on the c2pa.created action; NULL: none */
    int source_type_in_parameters;   /* put it in parameters["com.adobe.digitalSourceType"]
                                        instead (Adobe's older manifests) */
    const char *software_agent;      /* NULL: "unmask test generator" */
    const char *title;               /* v1 dc:title; NULL: none */
    size_t jpeg_packet;              /* store bytes per APP11 segment; 0: 64000 */
    uint64_t exclusion_extra;        /* TAMPER: the exclusion covers this many bytes beyond the
                                        store's carrier (hash and signature still match) */
    int omit_alg;                    /* TAMPER: claim without "alg" (algorithm.unsupported) */
    size_t filler_bytes;             /* a c2pa.hash.data "pad" this long (to grow the store,
                                        e.g. to span several JPEG packets); 0: 16 */
};

/* Where the parts of the store ended up. Offsets are into the store (c2pa_layout_file_offset
 * maps them to the output file, also across JPEG packets). */
typedef struct c2pa_sign_layout {
    um_format format;
    uint64_t excl_start, excl_length;  /* the c2pa.hash.data exclusion as written */
    uint64_t carrier_start, carrier_length; /* the store's carrier (= exclusion unless tampered) */
    uint64_t store_file_offset;        /* first store byte in the file */
    size_t packet;                     /* JPEG: store bytes per packet */
    size_t packets;                    /* JPEG: APP11 segments written */
    /* [offset, length) in the store of each part's content (CBOR bytes inside its cbor box) */
    size_t claim_off, claim_len;
    size_t actions_off, actions_len;
    size_t hash_off, hash_len;
    size_t sig_off, sig_len;
    char manifest_label[80];
    uint8_t *store;                    /* a copy of the store bytes (owned) */
    size_t store_size;
} c2pa_sign_layout;

/* Sign asset (a whole file of format fmt: JPEG, PNG, WEBP, HEIF or AVIF) and return a new file
 * with the store embedded (malloc'ed *out). layout may be NULL. */
um_error c2pa_sign_asset(const uint8_t *asset, size_t n, um_format fmt,
                         const struct c2pa_sign_opts *opts, uint8_t **out, size_t *out_n,
                         c2pa_sign_layout *layout);
void c2pa_sign_layout_clear(c2pa_sign_layout *l);
uint64_t c2pa_layout_file_offset(const c2pa_sign_layout *l, size_t store_off);

/* One assertion superbox (jumd type "cbor" with label; salted: with a c2sh salt box) holding
 * n bytes of CBOR, appended to b. hash gets what a hashed URI to it carries (note 1.3: SHA-256
 * of the superbox payload, all after its 8-byte header). Returns where the CBOR starts in b.
 * The writer below uses it, and so do the tests that build odd stores by hand. */
size_t c2pa_cbor_assertion(bytebuf *b, const char *label, const void *cbor, size_t n,
                           int salted, uint8_t hash[32]);

#define C2PA_DST_TRAINED "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#define C2PA_DST_COMPOSITE_TRAINED \
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
#define C2PA_DST_DIGITAL_CAPTURE "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"

#endif
