/* C2PA manifest-store validation on stores the test builds itself (CBOR by libcbor, with
 * indefinite lengths unlike the support writer's; boxes and salted assertions by the shared
 * JUMBF writer, tests/support/bytes.h and c2pa_sign.h; claim signatures from test_pki.h): the
 * JUMBF tree, hashed URIs, the c2pa.hash.data rules (carrier coincidence, extra exclusions,
 * tampering), box hashes, missing/undeclared assertions, algorithm.unsupported, actions and the
 * AI declaration, ingredients (recursion, cycles), sidecar stores and hostile structure. */
#include <cbor.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "c2pa_sign.h"
#include "check.h"
#include "prov/c2pa.h"
#include "prov/jumbf.h"
#include "test_pki.h"

/* ---- CBOR ---- */

static cbor_item_t *map_new(void)
{
    return cbor_new_indefinite_map();
}

static void map_put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
    cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_string(k)), cbor_move(v)});
}

static uint8_t *ser(cbor_item_t *it, size_t *n)
{
    uint8_t *out = NULL;
    size_t cap = 0;
    *n = cbor_serialize_alloc(it, &out, &cap);
    cbor_decref(&it);
    return out;
}

static void sha256(const uint8_t *d, size_t n, uint8_t out[32])
{
    unsigned len;
    EVP_Digest(d, n, out, &len, EVP_sha256(), NULL);
}

static cbor_item_t *hashed_uri(const char *url, const uint8_t h[32])
{
    cbor_item_t *m = map_new();
    map_put(m, "url", cbor_build_string(url));
    map_put(m, "hash", cbor_build_bytestring(h, 32));
    return m;
}

/* ---- a manifest ---- */

#define MAX_AS 8

typedef struct assertion {
    const char *label;
    uint8_t *cbor;
    size_t n;
    int undeclared; /* in the store, not in the claim */
    int missing;    /* in the claim, not in the store */
} assertion;

typedef struct mspec {
    const char *label;
    const char *fourcc; /* manifest type; NULL: "c2ma" */
    assertion as[MAX_AS];
    int nas;
    int omit_alg;
    int flip_assertion; /* corrupt assertion #k-1 after hashing */
    const um_tp_pki *pki; /* NULL: a junk signature */
} mspec;

static void add_assertion(mspec *m, const char *label, cbor_item_t *body)
{
    assertion *a = &m->as[m->nas++];
    a->label = label;
    a->cbor = ser(body, &a->n);
}

/* One manifest superbox into out. */
static void write_manifest(bytebuf *out, mspec *m)
{
    bytebuf as = {0};
    size_t as_at = jumbf_open(&as, "c2as", "c2pa.assertions", 0);
    size_t ends[MAX_AS];
    uint8_t hash[MAX_AS][32];
    for (int i = 0; i < m->nas; i++) {
        if (!m->as[i].missing) /* salted, as C2PA 2.x writers do */
            c2pa_cbor_assertion(&as, m->as[i].label, m->as[i].cbor, m->as[i].n, 1, hash[i]);
        ends[i] = as.n;
    }
    box_close(&as, as_at);
    for (int i = 0; i < m->nas; i++)
        if (m->as[i].missing) /* the hash of nothing in particular */
            sha256(as.p, 4, hash[i]);

    cbor_item_t *claim = map_new(), *list = cbor_new_indefinite_array();
    char url[300];
    map_put(claim, "instanceID", cbor_build_string("xmp:iid:test"));
    cbor_item_t *info = map_new();
    map_put(info, "name", cbor_build_string("unmask test"));
    map_put(info, "version", cbor_build_string("1.0"));
    map_put(claim, "claim_generator_info", info);
    snprintf(url, sizeof url, "self#jumbf=/c2pa/%s/c2pa.signature", m->label);
    map_put(claim, "signature", cbor_build_string(url));
    for (int i = 0; i < m->nas; i++) {
        if (m->as[i].undeclared)
            continue;
        snprintf(url, sizeof url, "self#jumbf=c2pa.assertions/%s", m->as[i].label);
        cbor_array_push(list, cbor_move(hashed_uri(url, hash[i])));
    }
    map_put(claim, "created_assertions", list);
    if (!m->omit_alg)
        map_put(claim, "alg", cbor_build_string("sha256"));
    size_t claim_n;
    uint8_t *claim_bytes = ser(claim, &claim_n);
    if (m->flip_assertion) { /* after hashing: the claim no longer matches */
        size_t k = (size_t)m->flip_assertion - 1;
        as.p[ends[k] - 1] ^= 0x01;
    }

    size_t sig_n = 0;
    uint8_t *sig = NULL;
    if (m->pki) {
        um_tp_cose_spec spec = um_tp_cose_spec_for(m->pki, -7);
        sig = um_tp_cose_sign1(&spec, claim_bytes, claim_n, &sig_n);
    } else {
        static const uint8_t junk[] = {0xD2, 0x84, 0x40, 0xA0, 0xF6, 0x41, 0x00};
        sig = malloc(sizeof junk);
        memcpy(sig, junk, sizeof junk);
        sig_n = sizeof junk;
    }

    size_t m_at = jumbf_open(out, m->fourcc ? m->fourcc : "c2ma", m->label, 0);
    bb_put(out, as.p, as.n);
    size_t c_at = jumbf_open(out, "c2cl", "c2pa.claim.v2", 0);
    box_content(out, "cbor", claim_bytes, claim_n);
    box_close(out, c_at);
    size_t s_at = jumbf_open(out, "c2cs", "c2pa.signature", 0);
    box_content(out, "cbor", sig ? sig : (const uint8_t *)"", sig_n);
    box_close(out, s_at);
    box_close(out, m_at);
    free(sig);
    free(claim_bytes);
    bb_free(&as);
}

static void free_spec(mspec *m)
{
    for (int i = 0; i < m->nas; i++)
        free(m->as[i].cbor);
}

/* A store of one manifest (written from m, which is then freed) into store, from scratch. */
static void single_manifest_store(bytebuf *store, mspec *m)
{
    store->n = 0;
    size_t at = jumbf_open(store, "c2pa", "c2pa", 0);
    write_manifest(store, m);
    box_close(store, at);
    free_spec(m);
}

/* c2pa.hash.data over head | store | tail with the store excluded (plus extra exclusions). */
static cbor_item_t *data_hash(const uint8_t *head, size_t nh, const uint8_t *tail, size_t nt,
                              uint64_t ex_start, uint64_t ex_len, int extra_tail_exclusion)
{
    cbor_item_t *dh = map_new(), *ex = cbor_new_indefinite_array(), *e = map_new();
    map_put(e, "start", cbor_build_uint32((uint32_t)ex_start));
    map_put(e, "length", cbor_build_uint32((uint32_t)ex_len));
    cbor_array_push(ex, cbor_move(e));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t h[32];
    unsigned hl;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, head, nh);
    if (extra_tail_exclusion) { /* the last 4 tail bytes are excluded too */
        cbor_item_t *e2 = map_new();
        map_put(e2, "start", cbor_build_uint32((uint32_t)(ex_start + ex_len + nt - 4)));
        map_put(e2, "length", cbor_build_uint32(4));
        cbor_array_push(ex, cbor_move(e2));
        EVP_DigestUpdate(ctx, tail, nt - 4);
    } else {
        EVP_DigestUpdate(ctx, tail, nt);
    }
    EVP_DigestFinal_ex(ctx, h, &hl);
    EVP_MD_CTX_free(ctx);
    map_put(dh, "exclusions", ex);
    map_put(dh, "alg", cbor_build_string("sha256"));
    map_put(dh, "hash", cbor_build_bytestring(h, 32));
    uint8_t pad[8] = {0};
    map_put(dh, "pad", cbor_build_bytestring(pad, sizeof pad));
    return dh;
}

static cbor_item_t *actions(const char *action, const char *dst, int dst_in_params)
{
    cbor_item_t *body = map_new(), *list = cbor_new_indefinite_array(), *a = map_new();
    map_put(a, "action", cbor_build_string(action));
    map_put(a, "softwareAgent", cbor_build_string("Test Generator 2"));
    if (dst && !dst_in_params)
        map_put(a, "digitalSourceType", cbor_build_string(dst));
    if (dst && dst_in_params) {
        cbor_item_t *p = map_new();
        map_put(p, "com.adobe.digitalSourceType", cbor_build_string(dst));
        map_put(a, "parameters", p);
    }
    cbor_array_push(list, cbor_move(a));
    map_put(body, "actions", list);
    return body;
}

/* ---- an asset: head | store | tail ---- */

static const uint8_t HEAD[20] = "ASSET-HEAD-20-BYTES";
static const uint8_t TAIL[30] = "the rest of the asset, 30 b.";

typedef struct asset_opts {
    const char *dst;        /* digitalSourceType on c2pa.created */
    int dst_in_params;
    long ex_delta;          /* exclusion length = store size + ex_delta */
    int extra_exclusion;
    int omit_alg;
    int flip_assertion;
    int undeclared;         /* add an unreferenced assertion */
    int missing;            /* reference a missing assertion */
    int no_binding;
    int two_bindings;
    int junk_signature;
} asset_opts;

typedef struct asset {
    uint8_t *file;
    size_t size;
    um_container c;
    um_tp_pki pki;
} asset;

static size_t build_store(bytebuf *store, const asset_opts *o, uint64_t store_size,
                          const um_tp_pki *pki)
{
    mspec m = {.label = "urn:c2pa:11111111-2222-3333-4444-555555555555", .pki = pki,
               .omit_alg = o->omit_alg, .flip_assertion = o->flip_assertion};
    add_assertion(&m, "c2pa.actions.v2", actions("c2pa.created", o->dst, o->dst_in_params));
    if (!o->no_binding)
        add_assertion(&m, "c2pa.hash.data",
                      data_hash(HEAD, sizeof HEAD, TAIL, sizeof TAIL, sizeof HEAD,
                                (uint64_t)((long)store_size + o->ex_delta), o->extra_exclusion));
    if (o->two_bindings)
        add_assertion(&m, "c2pa.hash.data__1",
                      data_hash(HEAD, sizeof HEAD, TAIL, sizeof TAIL, sizeof HEAD, store_size, 0));
    if (o->undeclared) {
        add_assertion(&m, "org.example.extra", map_new());
        m.as[m.nas - 1].undeclared = 1;
    }
    if (o->missing) {
        add_assertion(&m, "org.example.gone", map_new());
        m.as[m.nas - 1].missing = 1;
    }
    single_manifest_store(store, &m);
    return store->n;
}

static void make_asset(asset *a, const asset_opts *o)
{
    memset(a, 0, sizeof *a);
    CHECK(um_tp_pki_make(&a->pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400, 365 * 86400L) == 0);
    bytebuf store = {0};
    const um_tp_pki *pki = o->junk_signature ? NULL : &a->pki;
    /* two passes: the exclusion length is the store's own size (fixed-width CBOR uint32);
     * the signature's size may vary by a byte (DER-free raw ES256 does not), so loop. */
    size_t size = build_store(&store, o, 0, pki);
    for (int i = 0; i < 4; i++) {
        size_t again = build_store(&store, o, size, pki);
        if (again == size)
            break;
        size = again;
    }
    a->size = sizeof HEAD + store.n + sizeof TAIL;
    a->file = malloc(a->size);
    memcpy(a->file, HEAD, sizeof HEAD);
    memcpy(a->file + sizeof HEAD, store.p, store.n);
    memcpy(a->file + sizeof HEAD + store.n, TAIL, sizeof TAIL);
    bb_free(&store);
    a->c.format = UM_FORMAT_JPEG;
    a->c.c2pa = a->file + sizeof HEAD;
    a->c.c2pa_size = a->size - sizeof HEAD - sizeof TAIL;
    a->c.c2pa_offset = sizeof HEAD;
    a->c.c2pa_length = a->c.c2pa_size;
    a->c.c2pa_stores = 1;
}

static void free_asset(asset *a)
{
    free(a->file);
    um_tp_pki_free(&a->pki);
}

static int has_code(const um_c2pa_report *r, const char *group, const char *code)
{
    json_t *g = json_object_get(
        json_object_get(json_object_get(r->json, "validation_results"), "activeManifest"), group);
    size_t i;
    json_t *s;
    json_array_foreach(g, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "code")), code) == 0)
            return 1;
    }
    return 0;
}

static void validate(asset *a, um_c2pa_report *r)
{
    CHECK(um_c2pa_validate(&a->c, a->file, a->size, NULL, time(NULL), r) == UM_OK);
    CHECK(r->json != NULL);
}

/* Validates n store bytes against file (NULL: a sidecar) with the rest of the container c. */
static void validate_store(um_container *c, const uint8_t *store, size_t n, const uint8_t *file,
                           size_t file_n, um_c2pa_report *r)
{
    c->c2pa = store;
    c->c2pa_size = n;
    CHECK(um_c2pa_validate(c, file, file_n, NULL, time(NULL), r) == UM_OK);
}

/* ---- JUMBF ---- */

static void test_jumbf_tree(void)
{
    bytebuf b = {0};
    size_t s = jumbf_open(&b, "c2pa", "c2pa", 0);
    size_t m = jumbf_open(&b, "c2ma", "urn:c2pa:x", 1);
    box_content(&b, "cbor", (const uint8_t *)"\xa0", 1);
    box_content(&b, "zzzz", (const uint8_t *)"skip me", 7); /* unknown: kept, never read */
    box_close(&b, m);
    /* a content box with LBox = 1 (64-bit XLBox) */
    uint8_t xl[20] = {0, 0, 0, 1, 'j', 's', 'o', 'n', 0, 0, 0, 0, 0, 0, 0, 20, '{', '}', ' ', ' '};
    bb_put(&b, xl, sizeof xl);
    box_close(&b, s);
    /* a trailing top-level box with LBox = 0: to the end */
    uint8_t z[10] = {0, 0, 0, 0, 'f', 'r', 'e', 'e', 1, 2};
    bb_put(&b, z, sizeof z);

    um_jumbf_tree t;
    CHECK(um_jumbf_parse(b.p, b.n, &t) == UM_OK);
    CHECK(!t.malformed);
    CHECK(um_jumbf_is_type(&t.box[0], "c2pa"));
    CHECK(strcmp(t.box[0].label, "c2pa") == 0);
    int man = um_jumbf_child_by_label(&t, 0, "urn:c2pa:x", 0);
    CHECK(man > 0 && um_jumbf_is_type(&t.box[man], "c2ma"));
    CHECK(man > 0 && t.box[man].has_private && strcmp(t.box[man].private_type, "c2sh") == 0);
    CHECK(man > 0 && t.box[man].private_length == 16);
    CHECK(man > 0 && t.box[man].offset == 38 && t.box[man].depth == 1);
    CHECK(man > 0 && um_jumbf_content(&t, man, "cbor") > 0);
    int js = um_jumbf_content(&t, 0, "json");
    CHECK(js > 0 && t.box[js].length == 20 && t.box[js].payload_length == 4);
    int last = (int)t.n - 1;
    CHECK(strcmp(t.box[last].type, "free") == 0 && t.box[last].length == 10);
    CHECK(t.box[last].parent == -1);
    um_jumbf_clear(&t);
    bb_free(&b);
}

static void test_jumbf_malformed(void)
{
    um_jumbf_tree t;
    /* LBox smaller than a header */
    static const uint8_t small[] = {0, 0, 0, 3, 'j', 'u', 'm', 'b'};
    CHECK(um_jumbf_parse(small, sizeof small, &t) == UM_OK && t.malformed);
    um_jumbf_clear(&t);
    /* LBox beyond the data */
    static const uint8_t big[] = {0, 0, 1, 0, 'j', 'u', 'm', 'b', 0, 0};
    CHECK(um_jumbf_parse(big, sizeof big, &t) == UM_OK && t.malformed);
    um_jumbf_clear(&t);
    /* XLBox smaller than 16 */
    static const uint8_t xl[] = {0, 0, 0, 1, 'j', 'u', 'm', 'b', 0, 0, 0, 0, 0, 0, 0, 8};
    CHECK(um_jumbf_parse(xl, sizeof xl, &t) == UM_OK && t.malformed);
    um_jumbf_clear(&t);
    /* a label without its NUL */
    bytebuf b = {0};
    size_t at = box_open(&b, "jumb"), d = box_open(&b, "jumd");
    bb_put(&b, "c2pa", 4);
    bb_put(&b, jumbf_uuid_tail, 12);
    bb_put(&b, "\x03no-nul", 7);
    box_close(&b, d);
    box_close(&b, at);
    CHECK(um_jumbf_parse(b.p, b.n, &t) == UM_OK && t.malformed && !t.box[0].has_label);
    um_jumbf_clear(&t);
    /* superboxes nested 40 deep: capped at 32, no crash */
    b.n = 0;
    size_t open[40];
    for (int i = 0; i < 40; i++)
        open[i] = jumbf_open(&b, "c2pa", "x", 0);
    for (int i = 39; i >= 0; i--)
        box_close(&b, open[i]);
    CHECK(um_jumbf_parse(b.p, b.n, &t) == UM_OK && t.malformed);
    for (size_t i = 0; i < t.n; i++)
        CHECK(t.box[i].depth < UM_JUMBF_MAX_DEPTH);
    um_jumbf_clear(&t);
    bb_free(&b);
}

/* ---- validation ---- */

static void test_valid_store(void)
{
    asset a;
    asset_opts o = {0};
    make_asset(&a, &o);
    um_c2pa_report r;
    validate(&a, &r);
    CHECK(has_code(&r, "success", "assertion.hashedURI.match"));
    CHECK(has_code(&r, "success", "assertion.dataHash.match"));
    CHECK(has_code(&r, "success", "claimSignature.validated"));
    CHECK_MSG(r.state == UM_C2PA_STATE_VALID, "state %s first %s", um_c2pa_state_name(r.state),
              r.first_failure);
    CHECK(r.manifests == 1 && r.first_failure[0] == '\0');
    CHECK(strcmp(r.active_label, "urn:c2pa:11111111-2222-3333-4444-555555555555") == 0);
    CHECK(strcmp(r.claim_generator, "unmask test 1.0") == 0);
    CHECK(strcmp(r.signer.common_name, "unmask test signer") == 0);
    CHECK(r.ai == UM_C2PA_AI_NONE && !r.data_hash_mismatch && !r.signature_mismatch);
    json_t *m = json_object_get(json_object_get(r.json, "manifests"), r.active_label);
    CHECK(json_integer_value(json_object_get(m, "claim_version")) == 2);
    CHECK(strcmp(json_string_value(json_object_get(r.json, "validation_state")), "valid") == 0);
    CHECK(json_array_size(json_object_get(m, "actions")) == 1);
    CHECK(json_is_object(json_object_get(m, "signature_info")));
    um_c2pa_report_clear(&r);
    free_asset(&a);
}

/* Every byte outside the exclusion is covered: flipping one gives a mismatch. */
static void test_data_hash_tamper(void)
{
    asset a;
    asset_opts o = {0};
    make_asset(&a, &o);
    size_t where[] = {0, sizeof HEAD - 1, a.size - sizeof TAIL, a.size - 1};
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        a.file[where[k]] ^= 0x40;
        um_c2pa_report r;
        validate(&a, &r);
        CHECK(has_code(&r, "failure", "assertion.dataHash.mismatch"));
        CHECK(r.state == UM_C2PA_STATE_INVALID && r.data_hash_mismatch);
        CHECK(strcmp(r.first_failure, "assertion.dataHash.mismatch") == 0);
        um_c2pa_report_clear(&r);
        a.file[where[k]] ^= 0x40;
    }
    free_asset(&a);
}

/* ---- cases that differ only in the store's defects and the codes they must (not) give ---- */

typedef struct code_want {
    const char *group, *code; /* NULL code: unused slot */
    int present;
} code_want;

typedef struct store_case {
    const char *what;
    asset_opts o;
    code_want want[3];
    int invalid; /* the state must be "invalid" */
} store_case;

static void run_store_cases(const store_case *cases, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const store_case *sc = &cases[k];
        asset a;
        make_asset(&a, &sc->o);
        um_c2pa_report r;
        validate(&a, &r);
        for (int i = 0; i < 3 && sc->want[i].code; i++)
            CHECK_MSG(has_code(&r, sc->want[i].group, sc->want[i].code) == sc->want[i].present,
                      "%s: %s %s", sc->what, sc->want[i].present ? "no" : "unexpected",
                      sc->want[i].code);
        if (sc->invalid)
            CHECK_MSG(r.state == UM_C2PA_STATE_INVALID, "%s: state %s", sc->what,
                      um_c2pa_state_name(r.state));
        um_c2pa_report_clear(&r);
        free_asset(&a);
    }
}

#define NCASES(t) (sizeof(t) / sizeof(t)[0])

/* An exclusion that covers more than the store never passes (spec 15.12). */
static void test_exclusion_beyond_carrier(void)
{
    static const store_case cases[] = {
        {"5 bytes more", {.ex_delta = 5},
         {{"success", "assertion.dataHash.match", 0}, {"failure", "assertion.dataHash.mismatch", 1}},
         1},
        {"5 bytes less", {.ex_delta = -5},
         {{"success", "assertion.dataHash.match", 0}, {"failure", "assertion.dataHash.mismatch", 1}},
         1},
        {"beyond the end of the file: malformed", {.ex_delta = 1000},
         {{"failure", "assertion.dataHash.malformed", 1}}, 0},
    };
    run_store_cases(cases, NCASES(cases));
}

static void test_additional_exclusion(void)
{
    asset a;
    asset_opts o = {.extra_exclusion = 1};
    make_asset(&a, &o);
    um_c2pa_report r;
    validate(&a, &r);
    CHECK(has_code(&r, "informational", "assertion.dataHash.additionalExclusionsPresent"));
    CHECK(has_code(&r, "success", "assertion.dataHash.match"));
    um_c2pa_report_clear(&r);
    a.file[a.size - 1] ^= 1; /* inside the extra exclusion: still matches, but reported */
    validate(&a, &r);
    CHECK(has_code(&r, "success", "assertion.dataHash.match"));
    um_c2pa_report_clear(&r);
    free_asset(&a);
}

static void test_assertion_tamper_and_structure(void)
{
    static const store_case cases[] = {
        {"assertion changed after hashing", {.flip_assertion = 1},
         {{"failure", "assertion.hashedURI.mismatch", 1}}, 1},
        {"undeclared and missing assertions", {.undeclared = 1, .missing = 1},
         {{"failure", "assertion.undeclared", 1}, {"failure", "assertion.missing", 1}}, 0},
        {"no hard binding", {.no_binding = 1}, {{"failure", "claim.hardBindings.missing", 1}}, 0},
        {"two hard bindings", {.two_bindings = 1},
         {{"failure", "assertion.multipleHardBindings", 1}}, 0},
    };
    run_store_cases(cases, NCASES(cases));
}

static void test_no_alg_and_bad_signature(void)
{
    static const store_case cases[] = {
        {"claim without alg", {.omit_alg = 1},
         {{"failure", "algorithm.unsupported", 1}, {"success", "assertion.hashedURI.match", 0}},
         1},
        {"junk signature", {.junk_signature = 1}, {{"success", "claimSignature.validated", 0}}, 1},
    };
    run_store_cases(cases, NCASES(cases));
}

static void test_ai_declarations(void)
{
    struct {
        const char *dst;
        int in_params;
        um_c2pa_ai want;
    } cases[] = {
        {"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", 0,
         UM_C2PA_AI_GENERATED},
        {"https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
         1, UM_C2PA_AI_EDITED},
        {"http://c2pa.org/digitalsourcetype/trainedAlgorithmicData", 0, UM_C2PA_AI_GENERATED},
        {"http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic", 0,
         UM_C2PA_AI_EDITED},
        {"http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture", 0, UM_C2PA_AI_NONE},
    };
    for (size_t k = 0; k < NCASES(cases); k++) {
        asset a;
        asset_opts o = {.dst = cases[k].dst, .dst_in_params = cases[k].in_params};
        make_asset(&a, &o);
        um_c2pa_report r;
        validate(&a, &r);
        CHECK_MSG(r.ai == cases[k].want, "case %zu: ai %d", k, (int)r.ai);
        if (cases[k].want != UM_C2PA_AI_NONE) {
            CHECK(strcmp(r.ai_source_type, cases[k].dst) == 0);
            CHECK(strstr(r.ai_citation, "c2pa.created") != NULL);
            CHECK(strstr(r.ai_citation, "Test Generator 2") != NULL);
        }
        um_c2pa_report_clear(&r);
        free_asset(&a);
    }
}

static void test_sidecar_and_garbage(void)
{
    asset a;
    asset_opts o = {0};
    make_asset(&a, &o);
    um_c2pa_report r;
    CHECK(um_c2pa_validate(&a.c, NULL, 0, NULL, time(NULL), &r) == UM_OK);
    CHECK(has_code(&r, "informational", "assertion.hardBinding.notChecked"));
    CHECK(has_code(&r, "success", "claimSignature.validated"));
    um_c2pa_report_clear(&r);
    free_asset(&a);

    static const uint8_t junk[] = "this is not a manifest store at all";
    um_container c = {0};
    validate_store(&c, junk, sizeof junk, junk, sizeof junk, &r);
    CHECK(r.state == UM_C2PA_STATE_INVALID && r.manifests == 0);
    CHECK(strcmp(r.first_failure, "claim.malformed") == 0 ||
          strcmp(r.first_failure, "claim.missing") == 0);
    um_c2pa_report_clear(&r);
}

/* A c2pa.ingredient.v3 "parentOf" whose activeManifest is a hashed URI to n bytes at target. */
static cbor_item_t *ingredient(const char *title, const char *url, const uint8_t *target,
                               size_t n)
{
    uint8_t h[32];
    sha256(target, n, h);
    cbor_item_t *ing = map_new();
    map_put(ing, "dc:title", cbor_build_string(title));
    map_put(ing, "relationship", cbor_build_string("parentOf"));
    map_put(ing, "activeManifest", hashed_uri(url, h));
    return ing;
}

/* Two manifests: the active one's ingredient points at the first (v3 activeManifest to its
 * claim box); the first one's ingredient points back (a cycle) and must not loop. */
static void test_ingredients(void)
{
    bytebuf store = {0};
    size_t at = jumbf_open(&store, "c2pa", "c2pa", 0);
    /* first manifest: no signature worth checking, an ingredient pointing at the second */
    mspec m1 = {.label = "urn:c2pa:first"};
    add_assertion(&m1, "c2pa.ingredient.v3",
                  ingredient("loop.jpg", "self#jumbf=/c2pa/urn:c2pa:second/c2pa.claim.v2",
                             (const uint8_t *)"x", 1));
    size_t m1_start = store.n;
    write_manifest(&store, &m1);
    size_t m1_end = store.n;
    free_spec(&m1);
    /* the claim box of the first manifest, for the second's hashed URI */
    um_jumbf_tree t;
    CHECK(um_jumbf_parse(store.p + m1_start, m1_end - m1_start, &t) == UM_OK);
    int claim = um_jumbf_child_by_label(&t, 0, "c2pa.claim.v2", 0);
    CHECK(claim > 0);
    mspec m2 = {.label = "urn:c2pa:second"};
    add_assertion(&m2, "c2pa.ingredient.v3",
                  ingredient("parent.jpg", "self#jumbf=/c2pa/urn:c2pa:first/c2pa.claim.v2",
                             store.p + m1_start + t.box[claim].payload_offset,
                             (size_t)t.box[claim].payload_length));
    um_jumbf_clear(&t);
    add_assertion(&m2, "c2pa.actions.v2",
                  actions("c2pa.opened", "http://cv.iptc.org/newscodes/digitalsourcetype/"
                                         "trainedAlgorithmicMedia", 0));
    write_manifest(&store, &m2);
    free_spec(&m2);
    box_close(&store, at);

    um_container c = {0};
    um_c2pa_report r;
    validate_store(&c, store.p, store.n, NULL, 0, &r);
    CHECK(r.manifests == 2 && strcmp(r.active_label, "urn:c2pa:second") == 0);
    CHECK(r.ai == UM_C2PA_AI_GENERATED && strstr(r.ai_citation, "urn:c2pa:second"));
    json_t *deltas = json_object_get(json_object_get(r.json, "validation_results"),
                                     "ingredientDeltas");
    CHECK(json_array_size(deltas) == 2); /* second -> first, first -> second (then stop) */
    json_t *d0 = json_object_get(json_array_get(deltas, 0), "validationDeltas");
    json_t *ok = json_array_get(json_object_get(d0, "success"), 0);
    CHECK(ok && strcmp(json_string_value(json_object_get(ok, "code")),
                       "ingredient.manifest.validated") == 0);
    json_t *d1 = json_object_get(json_array_get(deltas, 1), "validationDeltas");
    json_t *bad = json_array_get(json_object_get(d1, "failure"), 0);
    CHECK(bad && strcmp(json_string_value(json_object_get(bad, "code")),
                        "ingredient.manifest.mismatch") == 0);
    json_t *ings = json_object_get(
        json_object_get(json_object_get(r.json, "manifests"), "urn:c2pa:second"), "ingredients");
    CHECK(json_array_size(ings) == 1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(ings, 0), "active_manifest")),
                 "urn:c2pa:first") == 0);
    um_c2pa_report_clear(&r);
    bb_free(&store);
}

/* c2pa.hash.boxes over container spans. */
static void test_boxes_hash(void)
{
    /* file: SOI(2) APP0(10) C2PA(store) SOS(20) EOI(2) */
    bytebuf store = {0};
    uint8_t file[2 + 10 + 20 + 2];
    for (size_t i = 0; i < sizeof file; i++)
        file[i] = (uint8_t)(i * 7 + 1);
    for (int round = 0; round < 2; round++) {
        uint8_t h1[32], h2[32];
        sha256(file, 12, h1);                      /* SOI + APP0 */
        sha256(file + 12, sizeof file - 12, h2);   /* SOS + EOI */
        cbor_item_t *bh = map_new(), *boxes = cbor_new_indefinite_array();
        const char *n1[] = {"SOI", "APP0"}, *n3[] = {"SOS", "EOI"};
        const char **names[3] = {n1, NULL, n3};
        int counts[3] = {2, 1, 2};
        for (int e = 0; e < 3; e++) {
            cbor_item_t *entry = map_new(), *nl = cbor_new_indefinite_array();
            for (int k = 0; k < counts[e]; k++)
                cbor_array_push(nl, cbor_move(cbor_build_string(names[e] ? names[e][k] : "C2PA")));
            map_put(entry, "names", nl);
            const uint8_t *h = e == 0 ? h1 : e == 2 ? h2 : (const uint8_t *)"\0";
            map_put(entry, "hash", cbor_build_bytestring(h, e == 1 ? 1 : 32));
            cbor_array_push(boxes, cbor_move(entry));
        }
        map_put(bh, "boxes", boxes);
        map_put(bh, "alg", cbor_build_string("sha256"));
        mspec m = {.label = "urn:c2pa:boxes"};
        add_assertion(&m, "c2pa.hash.boxes", bh);
        single_manifest_store(&store, &m);

        um_box_span spans[5] = {{"SOI", 0, 2}, {"APP0", 2, 10}, {"C2PA", 12, 0},
                                {"SOS", 12, 20}, {"EOI", 32, 2}};
        um_container c = {0};
        c.format = UM_FORMAT_JPEG;
        c.box = spans;
        c.nbox = 5;
        if (round == 1)
            file[20] ^= 1; /* inside SOS */
        um_c2pa_report r;
        validate_store(&c, store.p, store.n, file, sizeof file, &r);
        CHECK(has_code(&r, round == 0 ? "success" : "failure",
                       round == 0 ? "assertion.boxesHash.match" : "assertion.boxesHash.mismatch"));
        um_c2pa_report_clear(&r);
    }
    bb_free(&store);
}

/* Deep CBOR and huge declared counts in an assertion: refused before decoding, no crash. */
static void test_hostile_cbor(void)
{
    uint8_t deep[5000];
    memset(deep, 0x81, sizeof deep - 1); /* [[[[...]]]] */
    deep[sizeof deep - 1] = 0x00;
    static const uint8_t huge[] = {0x9B, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
    const uint8_t *bodies[] = {deep, huge};
    size_t lens[] = {sizeof deep, sizeof huge};
    for (int k = 0; k < 2; k++) {
        bytebuf store = {0};
        size_t at = jumbf_open(&store, "c2pa", "c2pa", 0);
        size_t m = jumbf_open(&store, "c2ma", "urn:c2pa:hostile", 0);
        size_t cl = jumbf_open(&store, "c2cl", "c2pa.claim.v2", 0);
        box_content(&store, "cbor", bodies[k], lens[k]);
        box_close(&store, cl);
        box_close(&store, m);
        box_close(&store, at);
        um_container c = {0};
        um_c2pa_report r;
        validate_store(&c, store.p, store.n, NULL, 0, &r);
        CHECK(has_code(&r, "failure", "claim.cbor.invalid"));
        um_c2pa_report_clear(&r);
        bb_free(&store);
    }
}

/* An update manifest binds nothing itself: without a parent manifest it must not pass. */
static void test_update_manifest_without_parent(void)
{
    bytebuf store = {0};
    mspec m = {.label = "urn:c2pa:update", .fourcc = "c2um"};
    add_assertion(&m, "c2pa.actions.v2", actions("c2pa.edited.metadata", NULL, 0));
    single_manifest_store(&store, &m);
    um_container c = {0};
    static const uint8_t file[64];
    um_c2pa_report r;
    validate_store(&c, store.p, store.n, file, sizeof file, &r);
    CHECK(has_code(&r, "failure", "claim.hardBindings.missing"));
    CHECK(r.state == UM_C2PA_STATE_INVALID);
    um_c2pa_report_clear(&r);
    bb_free(&store);
}

static const struct um_test_case cases[] = {
    {"update_manifest_without_parent", test_update_manifest_without_parent},
    {"jumbf_tree", test_jumbf_tree},
    {"jumbf_malformed", test_jumbf_malformed},
    {"valid_store", test_valid_store},
    {"data_hash_tamper", test_data_hash_tamper},
    {"exclusion_beyond_carrier", test_exclusion_beyond_carrier},
    {"additional_exclusion", test_additional_exclusion},
    {"assertion_tamper_and_structure", test_assertion_tamper_and_structure},
    {"no_alg_and_bad_signature", test_no_alg_and_bad_signature},
    {"ai_declarations", test_ai_declarations},
    {"sidecar_and_garbage", test_sidecar_and_garbage},
    {"ingredients", test_ingredients},
    {"boxes_hash", test_boxes_hash},
    {"hostile_cbor", test_hostile_cbor},
};
UM_TEST_MAIN(cases)
