/* COSE_Sign1 claim signatures (src/prov/cose.c): every supported algorithm verifies, a changed
 * claim does not, the certificate checks (validity, EKU, trust anchors), time-stamps v1/v2,
 * stapled OCSP, the x5chain placements, and hostile bytes. Keys, certificates, time-stamps and
 * OCSP responses are made here with tests/support/test_pki. */
#include <openssl/ocsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "prov/cose.h"
#include "test_pki.h"

static const uint8_t test_claim[] = {
    0xa2, 0x6f, 'c', 'l', 'a', 'i', 'm', '_', 'g', 'e', 'n', 'e', 'r', 'a', 't', 'o', 'r',
    0x6e, 'u', 'n', 'm', 'a', 's', 'k', '_', 't', 'e', 's', 't', 's', '/', '0', '.', '1',
    0x63, 'a', 'l', 'g', 0x66, 's', 'h', 'a', '2', '5', '6'};

#define YEAR (365L * 86400L)
#define SIG_URL "self#jumbf=c2pa.signature"

typedef struct verify_run {
    um_c2pa_statuses st;
    um_signer_info signer;
} verify_run;

static void run_verify_at(verify_run *r, const uint8_t *cose, size_t cose_len,
                          const uint8_t *claim, size_t claim_len, const um_trust *trust,
                          time_t now)
{
    memset(r, 0, sizeof *r);
    um_cose_verify_claim(cose, cose_len, claim, claim_len, trust, now, SIG_URL, &r->st,
                         &r->signer);
}

static void run_verify(verify_run *r, const uint8_t *cose, size_t cose_len, const uint8_t *claim,
                       size_t claim_len, const um_trust *trust)
{
    run_verify_at(r, cose, cose_len, claim, claim_len, trust, time(NULL));
}

static void run_free(verify_run *r)
{
    free(r->signer.chain_pem);
    um_c2pa_statuses_clear(&r->st);
}

static int has(const verify_run *r, const char *code)
{
    return um_c2pa_status_has(&r->st, code);
}

static void dump(const verify_run *r)
{
    for (size_t i = 0; i < r->st.n; i++)
        fprintf(stderr, "    %s: %s\n", r->st.items[i].code, r->st.items[i].explanation);
}

/* Signs test_claim with a fresh PKI and returns the COSE bytes. */
static uint8_t *sign_with(um_tp_pki *pki, um_tp_key_type type, int64_t alg, const char *eku,
                          long not_before, long not_after, size_t *len)
{
    if (um_tp_pki_make(pki, type, eku, not_before, not_after) != 0)
        return NULL;
    um_tp_cose_spec spec = um_tp_cose_spec_for(pki, alg);
    return um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, len);
}

static void expect_validated(um_tp_key_type type, int64_t alg, const char *name)
{
    um_tp_pki pki;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, type, alg, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    CHECK_MSG(cose != NULL, "%s: could not sign", name);
    verify_run r;
    run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
    CHECK_MSG(has(&r, "claimSignature.validated"), "%s", name);
    CHECK_MSG(has(&r, "claimSignature.insideValidity"), "%s", name);
    CHECK_MSG(has(&r, "signingCredential.untrusted"), "%s", name);
    CHECK_MSG(!has(&r, "signingCredential.invalid"), "%s", name);
    CHECK(r.signer.signature_valid == 1);
    CHECK(strcmp(r.signer.alg, name) == 0);
    if (!has(&r, "claimSignature.validated"))
        dump(&r);
    run_free(&r);
    free(cose);
    um_tp_pki_free(&pki);
}

static void test_es256(void) { expect_validated(UM_TP_KEY_EC_P256, -7, "ES256"); }
static void test_es384(void) { expect_validated(UM_TP_KEY_EC_P384, -35, "ES384"); }
static void test_es512(void) { expect_validated(UM_TP_KEY_EC_P521, -36, "ES512"); }
static void test_ps256(void) { expect_validated(UM_TP_KEY_RSA2048, -37, "PS256"); }
static void test_ps384(void) { expect_validated(UM_TP_KEY_RSA2048, -38, "PS384"); }
static void test_ps512(void) { expect_validated(UM_TP_KEY_RSA2048, -39, "PS512"); }
static void test_ed25519(void) { expect_validated(UM_TP_KEY_ED25519, -8, "Ed25519"); }

static void test_signer_description(void)
{
    um_tp_pki pki;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, UM_TP_KEY_EC_P256, -7, UM_TP_EKU_DOCSIGN, -86400L, YEAR, &len);
    verify_run r;
    run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
    CHECK(strcmp(r.signer.common_name, "unmask test signer") == 0);
    CHECK(strcmp(r.signer.organization, "unmask tests") == 0);
    CHECK(strcmp(r.signer.issuer, "unmask test CA") == 0);
    CHECK(strcmp(r.signer.serial, "02") == 0);
    CHECK(strlen(r.signer.not_before) == 20 && r.signer.not_before[19] == 'Z');
    CHECK(strlen(r.signer.not_after) == 20);
    CHECK(r.signer.time[0] == '\0'); /* no time-stamp */
    CHECK(r.signer.ocsp[0] == '\0');
    CHECK(r.signer.chain_pem != NULL);
    if (r.signer.chain_pem) {
        const char *second = strstr(r.signer.chain_pem, "BEGIN CERTIFICATE");
        CHECK(second && strstr(second + 1, "BEGIN CERTIFICATE")); /* leaf and CA */
    }
    for (size_t i = 0; i < r.st.n; i++)
        CHECK(strcmp(r.st.items[i].url, SIG_URL) == 0);
    run_free(&r);
    free(cose);
    um_tp_pki_free(&pki);
}

static void test_changed_claim_mismatch(void)
{
    um_tp_pki pki;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, UM_TP_KEY_RSA2048, -37, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    uint8_t claim[sizeof test_claim];
    memcpy(claim, test_claim, sizeof claim);
    claim[20] ^= 0x01;
    verify_run r;
    run_verify(&r, cose, len, claim, sizeof claim, NULL);
    CHECK(has(&r, "claimSignature.mismatch"));
    CHECK(!has(&r, "claimSignature.validated"));
    CHECK(r.signer.signature_valid == 0);
    CHECK(strcmp(r.signer.common_name, "unmask test signer") == 0); /* still described */
    run_free(&r);
    /* A flipped signature byte, for ECDSA as well. */
    free(cose);
    um_tp_pki_free(&pki);
    cose = sign_with(&pki, UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    CHECK(cose != NULL);
    if (cose) {
        cose[len - 5] ^= 0x40;
        run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
        CHECK(has(&r, "claimSignature.mismatch"));
        run_free(&r);
    }
    free(cose);
    um_tp_pki_free(&pki);
}

/* ---- cases that differ only in how the claim is signed and the codes expected ---- */

#define LAST_DAY_ON -86400L, YEAR /* validity: from a day ago for a year */

typedef struct sign_case {
    const char *what;
    um_tp_key_type key;
    int64_t alg; /* the COSE header's algorithm (the key may not fit it) */
    const char *eku;
    long not_before, not_after;
    int ecdsa_der;      /* ECDSA signature DER-encoded instead of raw r||s */
    size_t pad_len;     /* unprotected "pad" bytes */
    const char *must[2], *must_not[1];
    int alg_unnamed;    /* the signer description names no algorithm */
} sign_case;

static void run_sign_cases(const sign_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sign_case *c = &cases[i];
        um_tp_pki pki;
        CHECK_MSG(um_tp_pki_make(&pki, c->key, c->eku, c->not_before, c->not_after) == 0, "%s",
                  c->what);
        um_tp_cose_spec spec = um_tp_cose_spec_for(&pki, c->alg);
        spec.ecdsa_der = c->ecdsa_der;
        spec.pad_len = c->pad_len;
        size_t len = 0;
        uint8_t *cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
        verify_run r;
        run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
        for (int k = 0; k < 2 && c->must[k]; k++)
            CHECK_MSG(has(&r, c->must[k]), "%s: no %s", c->what, c->must[k]);
        if (c->must_not[0])
            CHECK_MSG(!has(&r, c->must_not[0]), "%s: %s", c->what, c->must_not[0]);
        if (c->alg_unnamed)
            CHECK_MSG(r.signer.alg[0] == '\0', "%s: alg %s", c->what, r.signer.alg);
        run_free(&r);
        free(cose);
        um_tp_pki_free(&pki);
    }
}

#define NCASES(t) (sizeof(t) / sizeof(t)[0])

static void test_unknown_algorithm(void)
{
    /* -47 is ES256K: registered in COSE, not allowed by C2PA. */
    static const sign_case c[] = {{"ES256K", UM_TP_KEY_EC_P256, -47, UM_TP_EKU_EMAIL, LAST_DAY_ON,
                                   0, 0, {"algorithm.unsupported"}, {"claimSignature.validated"},
                                   1}};
    run_sign_cases(c, NCASES(c));
}

static void test_key_does_not_fit_algorithm(void)
{
    static const sign_case c[] = {
        /* An EC key signing, the header claiming PS256: the RSA check cannot use an EC key. */
        {"EC key, PS256", UM_TP_KEY_EC_P256, -37, UM_TP_EKU_EMAIL, LAST_DAY_ON, 0, 0,
         {"claimSignature.mismatch", "signingCredential.invalid"}, {NULL}, 0},
        /* A P-256 key under an ES384 header: right family, wrong curve (RFC 9053 2.1). */
        {"P-256 key, ES384", UM_TP_KEY_EC_P256, -35, UM_TP_EKU_EMAIL, LAST_DAY_ON, 0, 0,
         {"claimSignature.mismatch", "signingCredential.invalid"}, {NULL}, 0},
    };
    run_sign_cases(c, NCASES(c));
}

static void test_der_ecdsa_signature(void)
{
    static const sign_case c[] = {{"DER ECDSA", UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL,
                                   LAST_DAY_ON, 1, 0,
                                   {"signingCredential.invalid", "claimSignature.mismatch"},
                                   {NULL}, 0}};
    run_sign_cases(c, NCASES(c));
}

/* Zero bytes after the COSE structure are box padding (pre-1.0 writers); anything else is not. */
static void test_trailing_bytes(void)
{
    um_tp_pki pki;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    uint8_t *padded = cose ? calloc(1, len + 64) : NULL;
    CHECK(padded != NULL);
    if (padded) {
        memcpy(padded, cose, len);
        verify_run r;
        run_verify(&r, padded, len + 64, test_claim, sizeof test_claim, NULL);
        CHECK(has(&r, "claimSignature.validated"));
        run_free(&r);
        padded[len + 10] = 1;
        run_verify(&r, padded, len + 64, test_claim, sizeof test_claim, NULL);
        CHECK(has(&r, "claimSignature.mismatch"));
        CHECK(!has(&r, "claimSignature.validated"));
        run_free(&r);
    }
    free(padded);
    free(cose);
    um_tp_pki_free(&pki);
}

static void test_expired_leaf(void)
{
    static const sign_case c[] = {{"expired", UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, -2 * YEAR,
                                   -YEAR, 0, 0,
                                   /* the signature itself is fine */
                                   {"claimSignature.validated", "claimSignature.outsideValidity"},
                                   {"claimSignature.insideValidity"}, 0}};
    run_sign_cases(c, NCASES(c));
}

static void test_not_yet_valid_leaf(void)
{
    static const sign_case c[] = {{"not yet valid", UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, YEAR,
                                   2 * YEAR, 0, 0, {"claimSignature.outsideValidity"}, {NULL},
                                   0}};
    run_sign_cases(c, NCASES(c));
}

static void test_wrong_or_missing_eku(void)
{
    static const sign_case c[] = {
        {"eku serverAuth", UM_TP_KEY_EC_P256, -7, UM_TP_EKU_SERVER, LAST_DAY_ON, 0, 0,
         {"signingCredential.invalid", "claimSignature.validated"}, {NULL}, 0},
        {"no eku", UM_TP_KEY_EC_P256, -7, NULL, LAST_DAY_ON, 0, 0,
         {"signingCredential.invalid", "claimSignature.validated"}, {NULL}, 0},
    };
    run_sign_cases(c, NCASES(c));
}

/* A temporary file name for a trust bundle (removed by the caller). */
static int temp_path(char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/um_test_cose_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static um_trust *trust_for(X509 *const *certs, int n)
{
    char path[512], err[256];
    if (temp_path(path, sizeof path) != 0 || um_tp_write_pem(path, certs, n) != 0)
        return NULL;
    um_trust *t = NULL;
    um_error e = um_trust_load(path, &t, err, sizeof err);
    remove(path);
    return e == UM_OK ? t : NULL;
}

static void test_trust_anchors(void)
{
    um_tp_pki pki, other;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    CHECK(um_tp_pki_make(&other, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400L, YEAR) == 0);
    um_trust *mine = trust_for(&pki.ca, 1);
    um_trust *theirs = trust_for(&other.ca, 1);
    CHECK(mine != NULL && theirs != NULL);
    verify_run r;
    run_verify(&r, cose, len, test_claim, sizeof test_claim, mine);
    CHECK(has(&r, "signingCredential.trusted"));
    CHECK(!has(&r, "signingCredential.untrusted"));
    run_free(&r);
    run_verify(&r, cose, len, test_claim, sizeof test_claim, theirs);
    CHECK(has(&r, "signingCredential.untrusted"));
    CHECK(!has(&r, "signingCredential.trusted"));
    run_free(&r);
    run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
    CHECK(has(&r, "signingCredential.untrusted"));
    run_free(&r);
    um_trust_free(mine);
    um_trust_free(theirs);
    free(cose);
    um_tp_pki_free(&other);
    um_tp_pki_free(&pki);
}

static void test_trust_load_errors(void)
{
    char err[256] = "";
    um_trust *t = (um_trust *)&err; /* must be reset to NULL */
    CHECK(um_trust_load("/nonexistent/unmask/anchors.pem", &t, err, sizeof err) == UM_ERR_IO);
    CHECK(t == NULL && strstr(err, "anchors.pem") != NULL);
    char path[512];
    CHECK(temp_path(path, sizeof path) == 0);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("not a certificate\n", f);
        fclose(f);
    }
    err[0] = '\0';
    CHECK(um_trust_load(path, &t, err, sizeof err) == UM_ERR_CORRUPT);
    CHECK(t == NULL && strstr(err, "no PEM certificates") != NULL);
    remove(path);
    um_trust_free(NULL);
}

static void test_x5chain_placements(void)
{
    um_tp_pki pki;
    CHECK(um_tp_pki_make(&pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400L, YEAR) == 0);
    struct {
        um_tp_x5_place place;
        int chain_len;
        int valid;
    } cases[] = {{UM_TP_X5_PROTECTED, 1, 1},
                 {UM_TP_X5_LEGACY_UNPROTECTED, 2, 1},
                 {UM_TP_X5_BOTH, 2, 0},
                 {UM_TP_X5_NONE, 2, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        um_tp_cose_spec spec = um_tp_cose_spec_for(&pki, -7);
        spec.x5_place = cases[i].place;
        spec.chain_len = cases[i].chain_len;
        size_t len = 0;
        uint8_t *cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
        verify_run r;
        run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
        CHECK_MSG(has(&r, "claimSignature.validated") == cases[i].valid, "case %zu", i);
        CHECK_MSG(cases[i].valid || has(&r, "claimSignature.mismatch"), "case %zu", i);
        run_free(&r);
        free(cose);
    }
    um_tp_pki_free(&pki);
}

static void check_timestamp_case(const um_tp_pki *pki, const um_tp_tsa *tsa, int v2, int wrong,
                                 const um_trust *trust)
{
    um_tp_cose_spec spec = um_tp_cose_spec_for(pki, -7);
    spec.tsa = tsa;
    spec.tst_v2 = v2;
    spec.tst_wrong_data = wrong;
    size_t len = 0;
    uint8_t *cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
    CHECK_MSG(cose != NULL, "v2=%d wrong=%d", v2, wrong);
    verify_run r;
    run_verify(&r, cose, len, test_claim, sizeof test_claim, trust);
    CHECK(has(&r, "claimSignature.validated"));
    if (wrong) {
        CHECK_MSG(has(&r, "timeStamp.mismatch"), "v2=%d", v2);
        CHECK(!has(&r, "timeStamp.validated"));
        CHECK(r.signer.time[0] == '\0');
    } else {
        CHECK_MSG(has(&r, "timeStamp.validated"), "v2=%d", v2);
        CHECK(strlen(r.signer.time) == 20);
        CHECK(strcmp(r.signer.timestamp_authority, "unmask test TSA") == 0);
        CHECK(has(&r, trust ? "timeStamp.trusted" : "timeStamp.untrusted"));
        CHECK(has(&r, "claimSignature.insideValidity"));
    }
    if (!has(&r, "claimSignature.validated"))
        dump(&r);
    run_free(&r);
    free(cose);
}

static void test_timestamps(void)
{
    um_tp_pki pki;
    um_tp_tsa tsa;
    CHECK(um_tp_pki_make(&pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400L, YEAR) == 0);
    CHECK(um_tp_tsa_make(&tsa, pki.ca, pki.ca_key) == 0);
    um_trust *trust = trust_for(&pki.ca, 1);
    for (int v2 = 0; v2 <= 1; v2++) {
        check_timestamp_case(&pki, &tsa, v2, 0, NULL);
        check_timestamp_case(&pki, &tsa, v2, 0, trust);
        check_timestamp_case(&pki, &tsa, v2, 1, NULL);
    }
    um_trust_free(trust);
    um_tp_tsa_free(&tsa);
    um_tp_pki_free(&pki);
}

/* A time-stamp makes an expired signer acceptable: validity is judged at the stamp's time. */
static void test_timestamp_sets_validity_time(void)
{
    um_tp_pki pki;
    um_tp_tsa tsa;
    /* Valid for the next minute only: at "now + 1 year" it has expired, at the stamp it is not. */
    CHECK(um_tp_pki_make(&pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -60L, 60L) == 0);
    CHECK(um_tp_tsa_make(&tsa, pki.ca, pki.ca_key) == 0);
    um_tp_cose_spec spec = um_tp_cose_spec_for(&pki, -7);
    spec.tsa = &tsa;
    spec.tst_v2 = 1;
    size_t len = 0;
    uint8_t *cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
    verify_run r;
    run_verify_at(&r, cose, len, test_claim, sizeof test_claim, NULL, time(NULL) + YEAR);
    CHECK(has(&r, "timeStamp.validated"));
    CHECK(has(&r, "claimSignature.insideValidity"));
    run_free(&r);
    spec.tsa = NULL;
    free(cose);
    cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
    run_verify_at(&r, cose, len, test_claim, sizeof test_claim, NULL, time(NULL) + YEAR);
    CHECK(has(&r, "claimSignature.outsideValidity"));
    run_free(&r);
    free(cose);
    um_tp_tsa_free(&tsa);
    um_tp_pki_free(&pki);
}

static void test_ocsp(void)
{
    um_tp_pki pki;
    CHECK(um_tp_pki_make(&pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400L, YEAR) == 0);
    struct {
        int status;
        const char *code, *word;
    } cases[] = {{V_OCSP_CERTSTATUS_GOOD, "signingCredential.ocsp.notRevoked", "good"},
                 {V_OCSP_CERTSTATUS_REVOKED, "signingCredential.ocsp.revoked", "revoked"},
                 {V_OCSP_CERTSTATUS_UNKNOWN, "signingCredential.ocsp.unknown", "unknown"}};
    for (size_t i = 0; i < 3; i++) {
        size_t ocsp_len = 0, len = 0;
        uint8_t *ocsp = um_tp_ocsp_response(pki.leaf, pki.ca, pki.ca_key, cases[i].status,
                                            &ocsp_len);
        CHECK(ocsp != NULL);
        um_tp_cose_spec spec = um_tp_cose_spec_for(&pki, -7);
        spec.ocsp = ocsp;
        spec.ocsp_len = ocsp_len;
        uint8_t *cose = um_tp_cose_sign1(&spec, test_claim, sizeof test_claim, &len);
        verify_run r;
        run_verify(&r, cose, len, test_claim, sizeof test_claim, NULL);
        CHECK_MSG(has(&r, cases[i].code), "%s", cases[i].code);
        CHECK(strcmp(r.signer.ocsp, cases[i].word) == 0);
        run_free(&r);
        free(cose);
        free(ocsp);
    }
    um_tp_pki_free(&pki);
}

static void test_padding_is_ignored(void)
{
    static const sign_case c[] = {{"300 bytes of pad", UM_TP_KEY_ED25519, -8, UM_TP_EKU_EMAIL,
                                   LAST_DAY_ON, 0, 300, {"claimSignature.validated"}, {NULL}, 0}};
    run_sign_cases(c, NCASES(c));
}

/* Every truncation and a sweep of single-byte corruptions: no crash, never "validated" for a
 * truncated structure, always at least one status. */
static void test_hostile_bytes(void)
{
    um_tp_pki pki;
    size_t len = 0;
    uint8_t *cose = sign_with(&pki, UM_TP_KEY_EC_P256, -7, UM_TP_EKU_EMAIL, -86400L, YEAR, &len);
    CHECK(cose != NULL);
    verify_run r;
    for (size_t cut = 0; cose && cut < len; cut += (cut < 64 ? 1 : 37)) {
        run_verify(&r, cose, cut, test_claim, sizeof test_claim, NULL);
        CHECK_MSG(!has(&r, "claimSignature.validated"), "cut %zu", cut);
        CHECK_MSG(r.st.n >= 1, "cut %zu", cut);
        run_free(&r);
    }
    uint8_t *copy = cose ? malloc(len) : NULL;
    for (size_t i = 0; copy && i < len; i += 11) {
        memcpy(copy, cose, len);
        copy[i] ^= 0xA5;
        run_verify(&r, copy, len, test_claim, sizeof test_claim, NULL);
        CHECK(r.st.n >= 1);
        run_free(&r);
    }
    free(copy);
    static const uint8_t garbage[][8] = {
        {0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40},                /* empty everything */
        {0xd2, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f},    /* indefinite, unterminated */
        {0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},    /* huge array count */
        {0xd2, 0x5b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00},    /* huge byte string */
        {0xd1, 0x84, 0x40, 0xa0, 0xf6, 0x40},                /* tag 17 (COSE_Mac0) */
        {0xff, 0xff},                                        /* stray breaks */
        {0xd2, 0x84, 0x40, 0xa0, 0xf9, 0x3c, 0x00, 0x40},    /* float payload (libcbor
                                                                asserted in cbor_is_null) */
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        run_verify(&r, garbage[i], 8, test_claim, sizeof test_claim, NULL);
        CHECK_MSG(has(&r, "claimSignature.mismatch"), "garbage %zu", i);
        run_free(&r);
    }
    run_verify(&r, NULL, 0, test_claim, sizeof test_claim, NULL);
    CHECK(has(&r, "claimSignature.missing"));
    run_free(&r);
    run_verify(&r, cose, len, NULL, 0, NULL); /* no claim bytes at all */
    CHECK(has(&r, "claimSignature.mismatch"));
    run_free(&r);
    free(cose);
    um_tp_pki_free(&pki);
}

static const struct um_test_case cases[] = {
    {"es256", test_es256},
    {"es384", test_es384},
    {"es512", test_es512},
    {"ps256", test_ps256},
    {"ps384", test_ps384},
    {"ps512", test_ps512},
    {"ed25519", test_ed25519},
    {"signer_description", test_signer_description},
    {"changed_claim_mismatch", test_changed_claim_mismatch},
    {"unknown_algorithm", test_unknown_algorithm},
    {"key_does_not_fit_algorithm", test_key_does_not_fit_algorithm},
    {"der_ecdsa_signature", test_der_ecdsa_signature},
    {"trailing_bytes", test_trailing_bytes},
    {"expired_leaf", test_expired_leaf},
    {"not_yet_valid_leaf", test_not_yet_valid_leaf},
    {"wrong_or_missing_eku", test_wrong_or_missing_eku},
    {"trust_anchors", test_trust_anchors},
    {"trust_load_errors", test_trust_load_errors},
    {"x5chain_placements", test_x5chain_placements},
    {"timestamps", test_timestamps},
    {"timestamp_sets_validity_time", test_timestamp_sets_validity_time},
    {"ocsp", test_ocsp},
    {"padding_is_ignored", test_padding_is_ignored},
    {"hostile_bytes", test_hostile_bytes},
};

UM_TEST_MAIN(cases)
