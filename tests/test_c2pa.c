/* C2PA manifest-store validation on stores the test builds itself (libcbor + a small JUMBF
 * writer; claim signatures from tests/support/test_pki.h): the JUMBF tree, hashed URIs, the
 * c2pa.hash.data rules (carrier coincidence, extra exclusions, tampering), box hashes,
 * missing/undeclared assertions, algorithm.unsupported, actions and the AI declaration,
 * ingredients (recursion, cycles), sidecar stores and hostile structure. */
#include <cbor.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prov/c2pa.h"
#include "prov/jumbf.h"
#include "test_pki.h"

/* ---- bytes and JUMBF boxes ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_be32(buf *b, uint32_t v)
{
    uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, q, 4);
}

static size_t box_begin(buf *b, const char *type)
{
    size_t at = b->n;
    put_be32(b, 0);
    put(b, type, 4);
    return at;
}

static void box_end(buf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->n - at);
    uint8_t q[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
    memcpy(b->p + at, q, 4);
}

static const uint8_t uuid_tail[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00,
                                      0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

/* jumb + jumd(type, label[, salt]) ; returns the jumb offset for box_end */
static size_t super_begin(buf *b, const char *fourcc, const char *label, int salt)
{
    size_t at = box_begin(b, "jumb"), d = box_begin(b, "jumd");
    put(b, fourcc, 4);
    put(b, uuid_tail, 12);
    uint8_t toggles = salt ? 0x13 : 0x03;
    put(b, &toggles, 1);
    put(b, label, strlen(label) + 1);
    if (salt) {
        size_t s = box_begin(b, "c2sh");
        put(b, "0123456789abcdef", 16);
        box_end(b, s);
    }
    box_end(b, d);
    return at;
}

static void content_box(buf *b, const char *type, const uint8_t *d, size_t n)
{
    size_t at = box_begin(b, type);
    put(b, d, n);
    box_end(b, at);
}

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

static cbor_item_t *hashed_uri(const char *url, const uint8_t *payload, size_t n)
{
    uint8_t h[32];
    sha256(payload, n, h);
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
static void write_manifest(buf *out, mspec *m)
{
    buf as = {0};
    size_t as_at = super_begin(&as, "c2as", "c2pa.assertions", 0);
    size_t starts[MAX_AS], ends[MAX_AS];
    for (int i = 0; i < m->nas; i++) {
        starts[i] = as.n;
        if (!m->as[i].missing) {
            size_t a = super_begin(&as, "cbor", m->as[i].label, 1);
            content_box(&as, "cbor", m->as[i].cbor, m->as[i].n);
            box_end(&as, a);
        }
        ends[i] = as.n;
    }
    box_end(&as, as_at);

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
        size_t off = starts[i] + 8, len = ends[i] - starts[i] - 8;
        if (m->as[i].missing) { /* hash of nothing in particular */
            off = 0;
            len = 4;
        }
        cbor_array_push(list, cbor_move(hashed_uri(url, as.p + off, len)));
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

    size_t m_at = super_begin(out, m->fourcc ? m->fourcc : "c2ma", m->label, 0);
    put(out, as.p, as.n);
    size_t c_at = super_begin(out, "c2cl", "c2pa.claim.v2", 0);
    content_box(out, "cbor", claim_bytes, claim_n);
    box_end(out, c_at);
    size_t s_at = super_begin(out, "c2cs", "c2pa.signature", 0);
    content_box(out, "cbor", sig ? sig : (const uint8_t *)"", sig_n);
    box_end(out, s_at);
    box_end(out, m_at);
    free(sig);
    free(claim_bytes);
    free(as.p);
}

static void free_spec(mspec *m)
{
    for (int i = 0; i < m->nas; i++)
        free(m->as[i].cbor);
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

static size_t build_store(buf *store, const asset_opts *o, uint64_t store_size,
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
    store->n = 0;
    size_t at = super_begin(store, "c2pa", "c2pa", 0);
    write_manifest(store, &m);
    box_end(store, at);
    free_spec(&m);
    return store->n;
}

static void make_asset(asset *a, const asset_opts *o)
{
    memset(a, 0, sizeof *a);
    CHECK(um_tp_pki_make(&a->pki, UM_TP_KEY_EC_P256, UM_TP_EKU_EMAIL, -86400, 365 * 86400L) == 0);
    buf store = {0};
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
    free(store.p);
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

/* ---- JUMBF ---- */

static void test_jumbf_tree(void)
{
    buf b = {0};
    size_t s = super_begin(&b, "c2pa", "c2pa", 0);
    size_t m = super_begin(&b, "c2ma", "urn:c2pa:x", 1);
    content_box(&b, "cbor", (const uint8_t *)"\xa0", 1);
    content_box(&b, "zzzz", (const uint8_t *)"skip me", 7); /* unknown: kept, never read */
    box_end(&b, m);
    /* a content box with LBox = 1 (64-bit XLBox) */
    uint8_t xl[20] = {0, 0, 0, 1, 'j', 's', 'o', 'n', 0, 0, 0, 0, 0, 0, 0, 20, '{', '}', ' ', ' '};
    put(&b, xl, sizeof xl);
    box_end(&b, s);
    /* a trailing top-level box with LBox = 0: to the end */
    uint8_t z[10] = {0, 0, 0, 0, 'f', 'r', 'e', 'e', 1, 2};
    put(&b, z, sizeof z);

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
    free(b.p);
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
    buf b = {0};
    size_t at = box_begin(&b, "jumb"), d = box_begin(&b, "jumd");
    put(&b, "c2pa", 4);
    put(&b, uuid_tail, 12);
    put(&b, "\x03no-nul", 7);
    box_end(&b, d);
    box_end(&b, at);
    CHECK(um_jumbf_parse(b.p, b.n, &t) == UM_OK && t.malformed && !t.box[0].has_label);
    um_jumbf_clear(&t);
    /* superboxes nested 40 deep: capped at 32, no crash */
    b.n = 0;
    size_t open[40];
    for (int i = 0; i < 40; i++)
        open[i] = super_begin(&b, "c2pa", "x", 0);
    for (int i = 39; i >= 0; i--)
        box_end(&b, open[i]);
    CHECK(um_jumbf_parse(b.p, b.n, &t) == UM_OK && t.malformed);
    for (size_t i = 0; i < t.n; i++)
        CHECK(t.box[i].depth < UM_JUMBF_MAX_DEPTH);
    um_jumbf_clear(&t);
    free(b.p);
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

/* An exclusion that covers more than the store never passes (spec 15.12). */
static void test_exclusion_beyond_carrier(void)
{
    long deltas[] = {5, -5};
    for (int k = 0; k < 2; k++) {
        asset a;
        asset_opts o = {.ex_delta = deltas[k]};
        make_asset(&a, &o);
        um_c2pa_report r;
        validate(&a, &r);
        CHECK(!has_code(&r, "success", "assertion.dataHash.match"));
        CHECK(has_code(&r, "failure", "assertion.dataHash.mismatch"));
        CHECK(r.state == UM_C2PA_STATE_INVALID);
        um_c2pa_report_clear(&r);
        free_asset(&a);
    }
    asset a; /* beyond the end of the file: malformed */
    asset_opts o = {.ex_delta = 1000};
    make_asset(&a, &o);
    um_c2pa_report r;
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "assertion.dataHash.malformed"));
    um_c2pa_report_clear(&r);
    free_asset(&a);
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
    asset a;
    asset_opts o = {.flip_assertion = 1};
    make_asset(&a, &o);
    um_c2pa_report r;
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "assertion.hashedURI.mismatch"));
    CHECK(r.state == UM_C2PA_STATE_INVALID);
    um_c2pa_report_clear(&r);
    free_asset(&a);

    asset_opts o2 = {.undeclared = 1, .missing = 1};
    make_asset(&a, &o2);
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "assertion.undeclared"));
    CHECK(has_code(&r, "failure", "assertion.missing"));
    um_c2pa_report_clear(&r);
    free_asset(&a);

    asset_opts o3 = {.no_binding = 1};
    make_asset(&a, &o3);
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "claim.hardBindings.missing"));
    um_c2pa_report_clear(&r);
    free_asset(&a);

    asset_opts o4 = {.two_bindings = 1};
    make_asset(&a, &o4);
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "assertion.multipleHardBindings"));
    um_c2pa_report_clear(&r);
    free_asset(&a);
}

static void test_no_alg_and_bad_signature(void)
{
    asset a;
    asset_opts o = {.omit_alg = 1};
    make_asset(&a, &o);
    um_c2pa_report r;
    validate(&a, &r);
    CHECK(has_code(&r, "failure", "algorithm.unsupported"));
    CHECK(!has_code(&r, "success", "assertion.hashedURI.match"));
    CHECK(r.state == UM_C2PA_STATE_INVALID);
    um_c2pa_report_clear(&r);
    free_asset(&a);

    asset_opts o2 = {.junk_signature = 1};
    make_asset(&a, &o2);
    validate(&a, &r);
    CHECK(!has_code(&r, "success", "claimSignature.validated"));
    CHECK(r.state == UM_C2PA_STATE_INVALID);
    um_c2pa_report_clear(&r);
    free_asset(&a);
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
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
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
    c.c2pa = junk;
    c.c2pa_size = sizeof junk;
    CHECK(um_c2pa_validate(&c, junk, sizeof junk, NULL, time(NULL), &r) == UM_OK);
    CHECK(r.state == UM_C2PA_STATE_INVALID && r.manifests == 0);
    CHECK(strcmp(r.first_failure, "claim.malformed") == 0 ||
          strcmp(r.first_failure, "claim.missing") == 0);
    um_c2pa_report_clear(&r);
}

/* Two manifests: the active one's ingredient points at the first (v3 activeManifest to its
 * claim box); the first one's ingredient points back (a cycle) and must not loop. */
static void test_ingredients(void)
{
    buf store = {0};
    size_t at = super_begin(&store, "c2pa", "c2pa", 0);
    /* first manifest: no signature worth checking, an ingredient pointing at the second */
    mspec m1 = {.label = "urn:c2pa:first"};
    cbor_item_t *ing1 = map_new();
    map_put(ing1, "dc:title", cbor_build_string("loop.jpg"));
    map_put(ing1, "relationship", cbor_build_string("parentOf"));
    map_put(ing1, "activeManifest",
            hashed_uri("self#jumbf=/c2pa/urn:c2pa:second/c2pa.claim.v2",
                       (const uint8_t *)"x", 1));
    add_assertion(&m1, "c2pa.ingredient.v3", ing1);
    size_t m1_start = store.n;
    write_manifest(&store, &m1);
    size_t m1_end = store.n;
    free_spec(&m1);
    /* the claim box of the first manifest, for the second's hashed URI */
    um_jumbf_tree t;
    CHECK(um_jumbf_parse(store.p + m1_start, m1_end - m1_start, &t) == UM_OK);
    int claim = um_jumbf_child_by_label(&t, 0, "c2pa.claim.v2", 0);
    CHECK(claim > 0);
    cbor_item_t *ing2 = map_new();
    map_put(ing2, "dc:title", cbor_build_string("parent.jpg"));
    map_put(ing2, "relationship", cbor_build_string("parentOf"));
    map_put(ing2, "activeManifest",
            hashed_uri("self#jumbf=/c2pa/urn:c2pa:first/c2pa.claim.v2",
                       store.p + m1_start + t.box[claim].payload_offset,
                       (size_t)t.box[claim].payload_length));
    um_jumbf_clear(&t);
    mspec m2 = {.label = "urn:c2pa:second"};
    add_assertion(&m2, "c2pa.ingredient.v3", ing2);
    add_assertion(&m2, "c2pa.actions.v2",
                  actions("c2pa.opened", "http://cv.iptc.org/newscodes/digitalsourcetype/"
                                         "trainedAlgorithmicMedia", 0));
    write_manifest(&store, &m2);
    free_spec(&m2);
    box_end(&store, at);

    um_container c = {0};
    c.c2pa = store.p;
    c.c2pa_size = store.n;
    um_c2pa_report r;
    CHECK(um_c2pa_validate(&c, NULL, 0, NULL, time(NULL), &r) == UM_OK);
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
    free(store.p);
}

/* c2pa.hash.boxes over container spans. */
static void test_boxes_hash(void)
{
    /* file: SOI(2) APP0(10) C2PA(store) SOS(20) EOI(2) */
    buf store = {0};
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
        store.n = 0;
        size_t at = super_begin(&store, "c2pa", "c2pa", 0);
        write_manifest(&store, &m);
        box_end(&store, at);
        free_spec(&m);

        um_box_span spans[5] = {{"SOI", 0, 2}, {"APP0", 2, 10}, {"C2PA", 12, 0},
                                {"SOS", 12, 20}, {"EOI", 32, 2}};
        um_container c = {0};
        c.format = UM_FORMAT_JPEG;
        c.c2pa = store.p;
        c.c2pa_size = store.n;
        c.box = spans;
        c.nbox = 5;
        if (round == 1)
            file[20] ^= 1; /* inside SOS */
        um_c2pa_report r;
        CHECK(um_c2pa_validate(&c, file, sizeof file, NULL, time(NULL), &r) == UM_OK);
        CHECK(has_code(&r, round == 0 ? "success" : "failure",
                       round == 0 ? "assertion.boxesHash.match" : "assertion.boxesHash.mismatch"));
        um_c2pa_report_clear(&r);
    }
    free(store.p);
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
        buf store = {0};
        size_t at = super_begin(&store, "c2pa", "c2pa", 0);
        size_t m = super_begin(&store, "c2ma", "urn:c2pa:hostile", 0);
        size_t cl = super_begin(&store, "c2cl", "c2pa.claim.v2", 0);
        content_box(&store, "cbor", bodies[k], lens[k]);
        box_end(&store, cl);
        box_end(&store, m);
        box_end(&store, at);
        um_container c = {0};
        c.c2pa = store.p;
        c.c2pa_size = store.n;
        um_c2pa_report r;
        CHECK(um_c2pa_validate(&c, NULL, 0, NULL, time(NULL), &r) == UM_OK);
        CHECK(has_code(&r, "failure", "claim.cbor.invalid"));
        um_c2pa_report_clear(&r);
        free(store.p);
    }
}

/* An update manifest binds nothing itself: without a parent manifest it must not pass. */
static void test_update_manifest_without_parent(void)
{
    buf store = {0};
    size_t at = super_begin(&store, "c2pa", "c2pa", 0);
    mspec m = {.label = "urn:c2pa:update", .fourcc = "c2um"};
    add_assertion(&m, "c2pa.actions.v2", actions("c2pa.edited.metadata", NULL, 0));
    write_manifest(&store, &m);
    free_spec(&m);
    box_end(&store, at);
    um_container c = {0};
    c.c2pa = store.p;
    c.c2pa_size = store.n;
    static const uint8_t file[64];
    um_c2pa_report r;
    CHECK(um_c2pa_validate(&c, file, sizeof file, NULL, time(NULL), &r) == UM_OK);
    CHECK(has_code(&r, "failure", "claim.hardBindings.missing"));
    CHECK(r.state == UM_C2PA_STATE_INVALID);
    um_c2pa_report_clear(&r);
    free(store.p);
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
