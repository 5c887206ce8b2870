/* C2PA manifest-store validation (C2PA 2.2 sections 11 and 15; notes: provenance-markers.md
 * 1.2 - 1.8). The order follows the spec's validation order (1.7): store structure -> claim
 * CBOR -> claim signature (cose.c) -> every hashed URI -> the hard binding over the asset's
 * bytes -> ingredients, recursively. Actions are read from every manifest for the AI
 * declaration. The report mirrors c2patool's JSON (section 2).
 * This file holds the store, the manifests, the claim, the hashed URIs, the assertions and
 * ingredients in the report; the hashing and the hard-binding checks over the asset's bytes are
 * in c2pa_bindings.c (the types the two share: c2pa_internal.h); CBOR to JSON is cbor_safe.c's
 * um_cbor_to_json. */
#include "prov/c2pa.h"

#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/c2pa_internal.h"
#include "prov/cbor_safe.h"
#include "prov/jumbf.h"
#include "prov/text.h"

#define C2PA_MAX_MANIFESTS 1024     /* manifest superboxes considered in one store */
#define C2PA_MAX_INGREDIENT_DEPTH 16
#define C2PA_MAX_REFS 4096          /* hashed URIs read from one claim */
#define CBOR_MAX_DEPTH 48           /* nesting accepted before libcbor decodes (decref recurses) */
#define CBOR_MAX_ITEMS UM_CBOR_MAX_ITEMS
#define CBOR_MAX_BYTES (16u << 20)

/* ---------------------------------------------------------------------------------------- */
/* CBOR: loaded through cbor_safe.h (a walk first, so that cbor_load never allocates for counts
 * the bytes cannot hold and cbor_decref, recursive, never meets deep nesting), read through its
 * type-checked accessors, and turned into JSON for the report by um_cbor_to_json. */

/* Claims and assertions: the item is read, whatever follows it in the box is not. */
static const um_cbor_caps c2pa_cbor_caps = {CBOR_MAX_BYTES, CBOR_MAX_DEPTH, CBOR_MAX_ITEMS,
                                            UM_CBOR_IGNORE_REST};

/* ---------------------------------------------------------------------------------------- */
/* Box URIs and labels (the validation context, vctx and manifest, is in c2pa_internal.h) */

/* "self#jumbf=/c2pa/<manifest>/c2pa.assertions/<label>" for a box (spec 11.4.2). */
void um_c2pa_box_url(const um_jumbf_tree *t, int idx, char *buf, size_t cap)
{
    int chain[UM_JUMBF_MAX_DEPTH + 1], n = 0;
    for (int i = idx; i >= 0 && n <= UM_JUMBF_MAX_DEPTH; i = t->box[i].parent)
        chain[n++] = i;
    size_t used = (size_t)snprintf(buf, cap, "self#jumbf=");
    for (int k = n - 1; k >= 0 && used < cap; k--)
        used += (size_t)snprintf(buf + used, cap - used, "/%s", t->box[chain[k]].label);
}

/* Resolve a JUMBF URI (absolute "self#jumbf=/c2pa/..." or relative to the manifest) to a box
 * index, -1 if it names nothing in this store. */
static int resolve_path(const vctx *v, int manifest_box, const char *uri, int from_top);

static int resolve_uri(const vctx *v, int manifest_box, const char *uri)
{
    int idx = resolve_path(v, manifest_box, uri, 0);
    /* pre-1.0 writers used "self#jumbf=c2pa/<manifest>/...": absolute without the slash */
    if (idx < 0 && strncmp(uri, "self#jumbf=c2pa/", 16) == 0)
        idx = resolve_path(v, manifest_box, uri, 1);
    return idx;
}

static int resolve_path(const vctx *v, int manifest_box, const char *uri, int from_top)
{
    static const char prefix[] = "self#jumbf=";
    if (strncmp(uri, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *p = uri + sizeof prefix - 1;
    int cur = manifest_box, at_top = from_top;
    if (*p == '/') {
        at_top = 1;
        p++;
    }
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= UM_JUMBF_MAX_LABEL)
            return -1;
        if (len > 0) {
            char comp[UM_JUMBF_MAX_LABEL];
            memcpy(comp, p, len);
            comp[len] = '\0';
            cur = um_jumbf_child_by_label(&v->t, at_top ? -1 : cur, comp, 0);
            if (cur < 0)
                return -1;
            at_top = 0;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return at_top ? -1 : cur;
}

/* The label without its instance suffix ("c2pa.ingredient.v3__2" -> "c2pa.ingredient.v3"). */
void um_c2pa_base_label(const char *label, char *out, size_t cap)
{
    snprintf(out, cap, "%s", label);
    char *sep = strstr(out, "__");
    if (sep)
        *sep = '\0';
}

/* Is base (no instance suffix) the label `name` or a version of it (`name`.vN)? */
int um_c2pa_label_is(const char *base, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(base, name, n) != 0)
        return 0;
    return base[n] == '\0' || (base[n] == '.' && base[n + 1] == 'v');
}

static int is_hard_binding(const char *base)
{
    return um_c2pa_label_is(base, "c2pa.hash.data") ||
           um_c2pa_label_is(base, "c2pa.hash.boxes") ||
           um_c2pa_label_is(base, "c2pa.hash.bmff") ||
           um_c2pa_label_is(base, "c2pa.hash.collection.data");
}

static byte_range payload_range(const um_jumbf_tree *t, int idx)
{
    byte_range r = {t->box[idx].payload_offset, t->box[idx].payload_length};
    return r;
}

/* Hash check of a hashed URI's target: 1 match, 0 mismatch, -1 algorithm unsupported. The
 * target is the superbox payload: everything after its 8-byte jumb header (1.3). */
static int box_hash_matches(const vctx *v, int idx, const char *alg, const uint8_t *hash,
                            size_t hash_len)
{
    const EVP_MD *md = um_c2pa_md_for(alg);
    if (!md)
        return -1;
    byte_range r = payload_range(&v->t, idx);
    return um_c2pa_digest_equals(md, v->t.data, &r, 1, hash, hash_len);
}

/* Pre-1.0 (Adobe prerelease) stores hashed the assertion's content box data rather than the
 * superbox payload (c2pa-rs Store::is_old_assertion). */
static int is_prerelease_hash(const vctx *v, int idx, const char *alg, const uint8_t *hash,
                              size_t hash_len)
{
    const EVP_MD *md = um_c2pa_md_for(alg);
    int jumd = v->t.box[idx].first_child;
    int content = jumd >= 0 ? v->t.box[jumd].next_sibling : -1;
    if (!md || content < 0)
        return 0;
    byte_range r = payload_range(&v->t, content);
    return um_c2pa_digest_equals(md, v->t.data, &r, 1, hash, hash_len);
}

void um_c2pa_hashed_uri_alg(const manifest *m, const cbor_item_t *ref, char *alg, size_t cap)
{
    if (!um_cbor_get_text(ref, "alg", alg, cap) || !alg[0])
        snprintf(alg, cap, "%s", m->alg);
}

/* Check one hashed URI of the claim ({url, alg?, hash}); returns the target box or -1. */
static int check_hashed_uri(vctx *v, manifest *m, const cbor_item_t *ref)
{
    char url[1024], alg[16], abs[1024];
    size_t hash_len;
    const uint8_t *hash = um_cbor_bytes(um_cbor_map_get(ref, "hash"), &hash_len);
    if (!um_cbor_get_text(ref, "url", url, sizeof url) || !hash) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.malformed", NULL,
                           "A hashed URI in the claim lacks its url or hash.");
        return -1;
    }
    int idx = resolve_uri(v, m->box, url);
    if (idx < 0 || !v->t.box[idx].is_super) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.missing", url,
                           "The claim references an assertion that is not in the store.");
        return -1;
    }
    um_c2pa_box_url(&v->t, idx, abs, sizeof abs);
    um_c2pa_hashed_uri_alg(m, ref, alg, sizeof alg);
    int r = box_hash_matches(v, idx, alg, hash, hash_len);
    if (r < 0) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "algorithm.unsupported", abs,
                           "No supported hash algorithm for %s (alg \"%s\").", url, alg);
    } else if (r == 1) {
        um_c2pa_status_add(&m->st, UM_C2PA_SUCCESS, "assertion.hashedURI.match", abs,
                           "hashed uri matched: %s", url);
    } else if (is_prerelease_hash(v, idx, alg, hash, hash_len)) {
        if (!m->prerelease)
            um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "com.adobe.prerelease", abs,
                               "Pre-1.0 (prerelease) C2PA data: assertions hashed the old way.");
        m->prerelease = 1;
    } else {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.hashedURI.mismatch", abs,
                           "hash does not match assertion data: %s", url);
    }
    return idx;
}

/* The first cbor (or json) content box of a superbox. */
cbor_item_t *um_c2pa_load_box_cbor(const vctx *v, int super)
{
    int c = um_jumbf_content(&v->t, super, "cbor");
    if (c < 0)
        return NULL;
    size_t len;
    const uint8_t *p = um_jumbf_payload(&v->t, c, &len);
    return um_cbor_load(p, len, &c2pa_cbor_caps);
}

/* ---------------------------------------------------------------------------------------- */
/* Actions and the AI declaration (note 1.5; IPTC digital source types, note 3) */

static um_c2pa_ai classify_source_type(const char *uri)
{
    const char *slash = strrchr(uri, '/');
    const char *term = slash ? slash + 1 : uri;
    if (strcmp(term, "trainedAlgorithmicMedia") == 0 ||
        strcmp(term, "trainedAlgorithmicData") == 0)
        return UM_C2PA_AI_GENERATED;
    if (strcmp(term, "compositeWithTrainedAlgorithmicMedia") == 0 ||
        strcmp(term, "compositeSynthetic") == 0)
        return UM_C2PA_AI_EDITED;
    return UM_C2PA_AI_NONE;
}

/* softwareAgent: v1 text, v2 map {name, version}. */
static void software_agent(const cbor_item_t *a, char *buf, size_t cap)
{
    const cbor_item_t *sa = um_cbor_map_get(a, "softwareAgent");
    buf[0] = '\0';
    if (um_cbor_text(sa, buf, cap))
        return;
    char name[128] = "", version[64] = "";
    um_cbor_get_text(sa, "name", name, sizeof name);
    um_cbor_get_text(sa, "version", version, sizeof version);
    snprintf(buf, cap, "%s%s%s", name, version[0] ? " " : "", version);
}

static json_t *describe_action(manifest *m, const char *assertion, const cbor_item_t *a)
{
    char action[128] = "", agent[200], dst[200] = "", when[64] = "", desc[512] = "";
    const cbor_item_t *params = um_cbor_map_get(a, "parameters");
    um_cbor_get_text(a, "action", action, sizeof action);
    software_agent(a, agent, sizeof agent);
    if (!um_cbor_get_text(a, "digitalSourceType", dst, sizeof dst) || !dst[0])
        um_cbor_get_text(params, "com.adobe.digitalSourceType", dst, sizeof dst);
    um_cbor_get_text(a, "when", when, sizeof when);
    if (!um_cbor_get_text(a, "description", desc, sizeof desc) || !desc[0])
        um_cbor_get_text(params, "description", desc, sizeof desc);
    um_c2pa_ai ai = dst[0] ? classify_source_type(dst) : UM_C2PA_AI_NONE;
    if (ai > m->ai) {
        m->ai = ai;
        snprintf(m->ai_source_type, sizeof m->ai_source_type, "%s", dst);
        snprintf(m->ai_citation, sizeof m->ai_citation,
                 "manifest %.100s, assertion %.40s, action %.40s%s%.60s%s", m->label, assertion,
                 action, agent[0] ? " (softwareAgent " : "", agent, agent[0] ? ")" : "");
    }
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "action", um_json_cstr(action));
    if (when[0])
        json_object_set_new(j, "when", um_json_cstr(when));
    if (agent[0])
        json_object_set_new(j, "softwareAgent", um_json_cstr(agent));
    if (dst[0])
        json_object_set_new(j, "digitalSourceType", um_json_cstr(dst));
    if (desc[0])
        json_object_set_new(j, "description", um_json_cstr(desc));
    if (ai != UM_C2PA_AI_NONE)
        json_object_set_new(j, "ai", json_string(ai == UM_C2PA_AI_GENERATED ? "generated"
                                                                           : "edited"));
    return j;
}

static void read_actions(manifest *m, const char *label, const cbor_item_t *body, json_t *list)
{
    size_t n;
    cbor_item_t **acts = um_cbor_array(um_cbor_map_get(body, "actions"), &n);
    for (size_t i = 0; acts && i < n && i < 1000; i++) {
        json_t *a = describe_action(m, label, acts[i]);
        if (a)
            json_array_append_new(list, a);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Assertions in the report */

static json_t *embedded_file_info(const vctx *v, int box)
{
    int desc = um_jumbf_content(&v->t, box, "bfdb");
    int data = um_jumbf_content(&v->t, box, "bidb");
    char format[128] = "";
    if (desc >= 0) {
        size_t len;
        const uint8_t *p = um_jumbf_payload(&v->t, desc, &len);
        if (len > 1) { /* toggles u8, then NUL-terminated media type */
            size_t k = 0;
            while (1 + k < len && p[1 + k] && k < sizeof format - 1) {
                format[k] = (char)(p[1 + k] >= 0x20 && p[1 + k] < 0x7f ? p[1 + k] : '?');
                k++;
            }
            format[k] = '\0';
        }
    }
    return json_pack("{sssI}", "format", format, "size",
                     (json_int_t)(data >= 0 ? v->t.box[data].payload_length : 0));
}

static json_t *assertion_data(const vctx *v, int box)
{
    int c = um_jumbf_content(&v->t, box, "cbor");
    size_t len;
    if (c >= 0) {
        const uint8_t *p = um_jumbf_payload(&v->t, c, &len); /* sets len: call it first */
        cbor_item_t *it = um_cbor_load(p, len, &c2pa_cbor_caps);
        json_t *j = it ? um_cbor_to_json(it) : json_pack("{ss}", "error", "CBOR not decodable");
        if (it)
            cbor_decref(&it);
        return j;
    }
    c = um_jumbf_content(&v->t, box, "json");
    if (c >= 0) {
        const uint8_t *p = um_jumbf_payload(&v->t, c, &len);
        json_t *j = len <= CBOR_MAX_BYTES ? json_loadb((const char *)p, len, 0, NULL) : NULL;
        return j ? j : json_pack("{ss}", "error", "JSON not decodable");
    }
    if (um_jumbf_content(&v->t, box, "bidb") >= 0)
        return embedded_file_info(v, box);
    return json_pack("{ss}", "error", "no cbor or json content");
}

/* ---------------------------------------------------------------------------------------- */
/* One manifest: claim, signature, hashed URIs, bindings, description */

static json_t *statuses_json(const um_c2pa_statuses *st)
{
    json_t *groups[3] = {json_array(), json_array(), json_array()};
    for (size_t i = 0; i < st->n; i++) {
        const um_c2pa_status *s = &st->items[i];
        json_t *j = json_pack("{ssssss}", "code", s->code, "url", s->url, "explanation",
                              s->explanation);
        if (j && groups[s->kind])
            json_array_append_new(groups[s->kind], j);
        else
            json_decref(j);
    }
    return json_pack("{sososo}", "success", groups[0] ? groups[0] : json_array(), "informational",
                     groups[1] ? groups[1] : json_array(), "failure",
                     groups[2] ? groups[2] : json_array());
}

static int assertion_store_of(const vctx *v, const manifest *m)
{
    for (int i = v->t.box[m->box].first_child; i >= 0; i = v->t.box[i].next_sibling)
        if (um_jumbf_is_type(&v->t.box[i], "c2as"))
            return i;
    return -1;
}

static void verify_signature(vctx *v, manifest *m, const uint8_t *claim, size_t claim_len)
{
    char uri[512] = "self#jumbf=c2pa.signature", url[1024];
    um_cbor_get_text(m->claim, "signature", uri, sizeof uri);
    int sig = resolve_uri(v, m->box, uri);
    if (sig < 0)
        sig = um_jumbf_child_by_label(&v->t, m->box, "c2pa.signature", 0);
    if (sig >= 0)
        um_c2pa_box_url(&v->t, sig, url, sizeof url);
    else
        snprintf(url, sizeof url, "self#jumbf=/c2pa/%s/c2pa.signature", m->label);
    int content = sig >= 0 && um_jumbf_is_type(&v->t.box[sig], "c2cs")
                      ? um_jumbf_content(&v->t, sig, "cbor")
                      : -1;
    if (content < 0) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claimSignature.missing", url,
                           "The claim signature box is missing.");
        return;
    }
    size_t len;
    const uint8_t *cose = um_jumbf_payload(&v->t, content, &len);
    um_cose_verify_claim(cose, len, claim, claim_len, v->trust, v->now, url, &m->st, &m->signer);
}

static int owning_manifest(const vctx *v, int box);

/* An update manifest (c2um) carries no hard binding of its own: the asset must still match the
 * binding of its parentOf ingredient's manifest (spec 10.2.2), or nothing binds it at all. */
static void check_update_parent_binding(vctx *v, manifest *m)
{
    int as = assertion_store_of(v, m);
    for (int i = as >= 0 ? v->t.box[as].first_child : -1; i >= 0; i = v->t.box[i].next_sibling) {
        char base[UM_JUMBF_MAX_LABEL], rel[32] = "", url[1024];
        um_c2pa_base_label(v->t.box[i].label, base, sizeof base);
        if (!v->t.box[i].is_super || !um_c2pa_label_is(base, "c2pa.ingredient"))
            continue;
        cbor_item_t *ing = um_c2pa_load_box_cbor(v, i);
        const cbor_item_t *ref = um_cbor_map_get(ing, "activeManifest");
        if (!ref)
            ref = um_cbor_map_get(ing, "c2pa_manifest");
        um_cbor_get_text(ing, "relationship", rel, sizeof rel);
        int target = -1;
        if (strcmp(rel, "parentOf") == 0 && um_cbor_get_text(ref, "url", url, sizeof url))
            target = resolve_uri(v, m->box, url);
        um_cbor_release(&ing);
        int ti = target >= 0 ? owning_manifest(v, target) : -1;
        if (ti >= 0 && &v->mf[ti] != m && v->mf[ti].kind != MF_UPDATE) {
            um_c2pa_check_hard_bindings(v, m, v->mf[ti].bindings, v->mf[ti].nbind);
            return;
        }
    }
    um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.hardBindings.missing", NULL,
                       "Update manifest without a parent manifest whose hard binding applies.");
}

/* Every hashed URI of the claim (1.3), then the hard binding of the active manifest. */
static void check_claim_assertions(vctx *v, manifest *m, int is_active)
{
    static const char *const lists[] = {"assertions", "created_assertions",
                                        "gathered_assertions"};
    int bindings[8], nbind = 0;
    size_t total = 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t n;
        cbor_item_t **refs = um_cbor_array(um_cbor_map_get(m->claim, lists[l]), &n);
        for (size_t i = 0; refs && i < n && total < C2PA_MAX_REFS; i++, total++) {
            int idx = check_hashed_uri(v, m, refs[i]);
            if (idx < 0)
                continue;
            v->referenced[idx] = 1;
            char base[UM_JUMBF_MAX_LABEL];
            um_c2pa_base_label(v->t.box[idx].label, base, sizeof base);
            if (is_hard_binding(base) && l != 2) {
                if (nbind < 8)
                    bindings[nbind] = idx;
                nbind++;
            }
        }
    }
    if (total == 0)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.malformed", NULL,
                           "The claim lists no assertions.");
    m->nbind = nbind < 8 ? nbind : 8;
    memcpy(m->bindings, bindings, sizeof bindings[0] * (size_t)m->nbind);
    if (is_active && m->kind == MF_UPDATE)
        check_update_parent_binding(v, m);
    else if (is_active)
        um_c2pa_check_hard_bindings(v, m, bindings, m->nbind);
    if (nbind > 8 && is_active)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.multipleHardBindings", NULL,
                           "The claim has %d hard bindings.", nbind);
}

/* Assertions in the store that the claim does not reference (spec 15.10: undeclared). */
static void check_undeclared(vctx *v, manifest *m)
{
    int as = assertion_store_of(v, m);
    for (int i = as >= 0 ? v->t.box[as].first_child : -1; i >= 0; i = v->t.box[i].next_sibling) {
        if (!v->t.box[i].is_super || v->referenced[i])
            continue;
        char url[1024];
        um_c2pa_box_url(&v->t, i, url, sizeof url);
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.undeclared", url,
                           "Assertion %s is in the store but not referenced by the claim.",
                           v->t.box[i].label);
    }
}

static void describe_claim(manifest *m, json_t *j)
{
    char buf[1024];
    json_object_set_new(j, "claim_version", json_integer(m->claim_version));
    if (um_cbor_get_text(m->claim, "claim_generator", buf, sizeof buf))
        json_object_set_new(j, "claim_generator", um_json_cstr(buf));
    const cbor_item_t *info = um_cbor_map_get(m->claim, "claim_generator_info");
    if (info) {
        json_t *ji = um_cbor_to_json(info);
        if (ji && !json_is_array(ji)) { /* v2: one map; c2patool shows a list */
            json_t *arr = json_array();
            json_array_append_new(arr, ji);
            ji = arr;
        }
        json_object_set_new(j, "claim_generator_info", ji);
    }
    if (um_cbor_get_text(m->claim, "dc:title", buf, sizeof buf))
        json_object_set_new(j, "title", um_json_cstr(buf));
    if (um_cbor_get_text(m->claim, "dc:format", buf, sizeof buf))
        json_object_set_new(j, "format", um_json_cstr(buf));
    if (um_cbor_get_text(m->claim, "instanceID", buf, sizeof buf))
        json_object_set_new(j, "instance_id", um_json_cstr(buf));
    if (m->alg[0])
        json_object_set_new(j, "alg", um_json_cstr(m->alg));
    const cbor_item_t *red = um_cbor_map_get(m->claim, "redacted_assertions");
    if (red)
        json_object_set_new(j, "redacted_assertions", um_cbor_to_json(red));
}

static void claim_generator_name(const manifest *m, char *buf, size_t cap)
{
    if (um_cbor_get_text(m->claim, "claim_generator", buf, cap) && buf[0])
        return;
    const cbor_item_t *info = um_cbor_map_get(m->claim, "claim_generator_info");
    size_t n;
    cbor_item_t **arr = um_cbor_array(info, &n);
    if (arr && n > 0)
        info = arr[0];
    char name[160] = "", version[64] = "";
    um_cbor_get_text(info, "name", name, sizeof name);
    um_cbor_get_text(info, "version", version, sizeof version);
    snprintf(buf, cap, "%s%s%s", name, version[0] ? " " : "", version);
}

static json_t *signature_info(const um_signer_info *s)
{
    json_t *j = json_object();
    const char *keys[] = {"alg", "issuer", "common_name", "organization", "cert_serial_number",
                          "time", "timestamp_authority", "ocsp"};
    const char *vals[] = {s->alg,    s->issuer, s->common_name,         s->organization,
                          s->serial, s->time,   s->timestamp_authority, s->ocsp};
    for (size_t i = 0; j && i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i][0])
            json_object_set_new(j, keys[i], um_json_cstr(vals[i]));
    return j;
}

static json_t *describe_ingredient(vctx *v, manifest *m, int box, const cbor_item_t *ing)
{
    json_t *j = json_object();
    char buf[512];
    if (!j)
        return NULL;
    static const char *const fields[][2] = {{"dc:title", "title"},
                                            {"dc:format", "format"},
                                            {"relationship", "relationship"},
                                            {"instanceID", "instance_id"},
                                            {"documentID", "document_id"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (um_cbor_get_text(ing, fields[i][0], buf, sizeof buf))
            json_object_set_new(j, fields[i][1], um_json_cstr(buf));
    json_object_set_new(j, "label", um_json_cstr(v->t.box[box].label));
    const cbor_item_t *rec = um_cbor_map_get(ing, "validationResults");
    if (rec)
        json_object_set_new(j, "validation_results", um_cbor_to_json(rec));
    rec = um_cbor_map_get(ing, "validationStatus");
    if (rec)
        json_object_set_new(j, "validation_status", um_cbor_to_json(rec));
    if (!um_cbor_map_get(ing, "activeManifest") && !um_cbor_map_get(ing, "c2pa_manifest")) {
        char url[1024];
        um_c2pa_box_url(&v->t, box, url, sizeof url);
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL, "ingredient.unknownProvenance", url,
                           "%s: ingredient does not have provenance",
                           um_cbor_get_text(ing, "dc:title", buf, sizeof buf) ? buf : "ingredient");
    }
    return j;
}

/* The assertions of the store as the report lists them: actions and other data assertions
 * with their content, thumbnails by format and size, ingredients in their own list. Hash
 * assertions are omitted (their content is bytes). */
static void describe_assertions(vctx *v, manifest *m, json_t *j)
{
    json_t *assertions = json_array(), *actions = json_array();
    int as = assertion_store_of(v, m), count = 0;
    for (int i = as >= 0 ? v->t.box[as].first_child : -1; i >= 0 && count < 2000;
         i = v->t.box[i].next_sibling) {
        if (!v->t.box[i].is_super)
            continue;
        count++;
        const char *label = v->t.box[i].label;
        char base[UM_JUMBF_MAX_LABEL];
        um_c2pa_base_label(label, base, sizeof base);
        if (is_hard_binding(base))
            continue;
        if (um_c2pa_label_is(base, "c2pa.ingredient")) {
            cbor_item_t *ing = um_c2pa_load_box_cbor(v, i);
            json_t *ij = ing ? describe_ingredient(v, m, i, ing)
                             : json_pack("{ssss}", "label", label, "error", "not decodable");
            if (ij)
                json_array_append_new(m->ingredients, ij);
            if (ing)
                cbor_decref(&ing);
            continue;
        }
        if (um_c2pa_label_is(base, "c2pa.actions")) {
            cbor_item_t *body = um_c2pa_load_box_cbor(v, i);
            if (body) {
                read_actions(m, label, body, actions);
                cbor_decref(&body);
            }
        }
        json_t *a = json_pack("{ssso}", "label", label, "data", assertion_data(v, i));
        if (a && assertions)
            json_array_append_new(assertions, a);
        else
            json_decref(a);
    }
    json_object_set_new(j, "assertions", assertions ? assertions : json_array());
    json_object_set_new(j, "actions", actions ? actions : json_array());
}

/* C2PA requires every superbox to be requestable and labelled (toggles & 0x03, spec 11.1.2);
 * bits above the private-box flag are undefined. */
static int toggles_ok(const um_jumbf_box *b)
{
    return (b->toggles & 0x03) == 0x03 && (b->toggles & 0xE0) == 0 && !b->label_truncated;
}

/* The structural boxes of a manifest sit outside every hash: their type, label and toggles must
 * agree with each other (spec 11.1.3), so that an edit there cannot pass unnoticed. */
static void check_structure(vctx *v, manifest *m)
{
    static const struct {
        const char *label, *type;
    } parts[] = {{"c2pa.assertions", "c2as"},
                 {"c2pa.claim", "c2cl"},
                 {"c2pa.claim.v2", "c2cl"},
                 {"c2pa.signature", "c2cs"},
                 {"c2pa.credentials", "c2vc"},
                 {"c2pa.databoxes", "c2db"}};
    const um_jumbf_box *mb = &v->t.box[m->box];
    int bad = !toggles_ok(mb);
    for (int i = mb->first_child; i >= 0; i = v->t.box[i].next_sibling) {
        const um_jumbf_box *b = &v->t.box[i];
        if (!b->is_super)
            continue;
        int known = 0;
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            int label_match = b->has_label && strcmp(b->label, parts[k].label) == 0;
            int type_match = um_jumbf_is_type(b, parts[k].type);
            if (label_match && !type_match)
                bad = 1;
            if (type_match)
                known |= label_match ? 1 : 2;
        }
        if (known == 2 || !toggles_ok(b))
            bad = 1;
    }
    if (bad)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.malformed", NULL,
                           "Manifest %s: a structural box's type, label or toggles are not those "
                           "C2PA defines.", m->label);
}

static int find_claim_box(vctx *v, manifest *m)
{
    int claim = -1, n = 0;
    for (int i = v->t.box[m->box].first_child; i >= 0; i = v->t.box[i].next_sibling)
        if (um_jumbf_is_type(&v->t.box[i], "c2cl") && n++ == 0)
            claim = i;
    if (n == 0)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.missing", NULL,
                           "Manifest %s has no claim.", m->label);
    else if (n > 1)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.multiple", NULL,
                           "Manifest %s has %d claims.", m->label, n);
    return claim;
}

/* Read the claim and validate everything in this manifest except its ingredients. */
static void validate_manifest(vctx *v, manifest *m, int is_active)
{
    json_object_set_new(m->json, "label", um_json_cstr(m->label));
    if (m->kind == MF_COMPRESSED) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "manifest.compressed.invalid", NULL,
                           "Compressed (Brotli) manifests are not supported by unmask.");
        return;
    }
    check_structure(v, m);
    int claim = find_claim_box(v, m);
    if (claim < 0)
        return;
    int content = um_jumbf_content(&v->t, claim, "cbor");
    if (content < 0) {
        int is_json = um_jumbf_content(&v->t, claim, "json") >= 0;
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE,
                           is_json ? "com.adobe.prerelease" : "claim.malformed", NULL,
                           is_json ? "Pre-1.0 (prerelease) JSON claim."
                                   : "The claim box has no CBOR content.");
        m->prerelease = is_json;
        return;
    }
    size_t claim_len;
    const uint8_t *claim_bytes = um_jumbf_payload(&v->t, content, &claim_len);
    m->claim = um_cbor_load(claim_bytes, claim_len, &c2pa_cbor_caps);
    if (!m->claim || !cbor_isa_map(um_cbor_untag(m->claim))) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.cbor.invalid", NULL,
                           "The claim is not a decodable CBOR map.");
        if (m->claim)
            cbor_decref(&m->claim);
        return;
    }
    um_cbor_get_text(m->claim, "alg", m->alg, sizeof m->alg);
    m->claim_version = um_cbor_map_get(m->claim, "created_assertions") ? 2 : 1;
    if (strcmp(v->t.box[claim].label, m->claim_version == 2 ? "c2pa.claim.v2" : "c2pa.claim"))
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.malformed", NULL,
                           "A version %d claim in a box labelled \"%s\".", m->claim_version,
                           v->t.box[claim].label);
    describe_claim(m, m->json);
    verify_signature(v, m, claim_bytes, claim_len);
    check_claim_assertions(v, m, is_active);
    check_undeclared(v, m);
    describe_assertions(v, m, m->json);
    json_object_set_new(m->json, "signature_info", signature_info(&m->signer));
}

/* ---------------------------------------------------------------------------------------- */
/* Ingredients, recursively (spec 15.11; the report's ingredientDeltas) */

static int manifest_index(const vctx *v, int box)
{
    for (size_t i = 0; i < v->nmf; i++)
        if (v->mf[i].box == box)
            return (int)i;
    return -1;
}

/* Did the signer record this failure in the ingredient assertion (validationResults v3,
 * validationStatus v1/v2)? Such failures were known at signing time: c2pa-rs reports only
 * deltas against them. */
static int recorded_failure(const cbor_item_t *ing, const char *code, const char *url)
{
    const cbor_item_t *lists[2] = {
        um_cbor_map_get(um_cbor_map_get(um_cbor_map_get(ing, "validationResults"), "activeManifest"), "failure"),
        um_cbor_map_get(ing, "validationStatus")};
    for (int l = 0; l < 2; l++) {
        size_t n;
        cbor_item_t **el = um_cbor_array(lists[l], &n);
        for (size_t i = 0; el && i < n; i++) {
            char c[64], u[1024] = "";
            if (!um_cbor_get_text(el[i], "code", c, sizeof c) || strcmp(c, code) != 0)
                continue;
            um_cbor_get_text(el[i], "url", u, sizeof u);
            if (!u[0] || !url[0] || strcmp(u, url) == 0)
                return 1;
        }
    }
    return 0;
}

static int tolerated_failure(const char *code)
{
    return strcmp(code, "signingCredential.untrusted") == 0 || strncmp(code, "cawg.x509.", 10) == 0;
}

/* The claim superbox of the manifest containing box `idx` (or being it), -1 if none. */
static int find_claim_quiet(const vctx *v, int idx)
{
    if (um_jumbf_is_type(&v->t.box[idx], "c2cl"))
        return idx;
    for (int i = v->t.box[idx].first_child; i >= 0; i = v->t.box[i].next_sibling)
        if (um_jumbf_is_type(&v->t.box[i], "c2cl"))
            return i;
    return -1;
}

/* The manifest a URI target belongs to: v3 activeManifest names the claim box, v1/v2
 * c2pa_manifest the manifest superbox. */
static int owning_manifest(const vctx *v, int box)
{
    for (int i = box; i >= 0; i = v->t.box[i].parent) {
        int mi = manifest_index(v, i);
        if (mi >= 0)
            return mi;
    }
    return -1;
}

/* Check the ingredient's reference to its manifest (and v3 claim signature) by hash; 1.3. */
static void check_ingredient_refs(vctx *v, manifest *m, const cbor_item_t *ing, int target,
                                  um_c2pa_statuses *d, const char *murl)
{
    const cbor_item_t *ref = um_cbor_map_get(ing, "activeManifest");
    if (!ref)
        ref = um_cbor_map_get(ing, "c2pa_manifest");
    char alg[16];
    size_t hash_len;
    const uint8_t *hash = um_cbor_bytes(um_cbor_map_get(ref, "hash"), &hash_len);
    um_c2pa_hashed_uri_alg(m, ref, alg, sizeof alg);
    int r = hash ? box_hash_matches(v, target, alg, hash, hash_len) : 0;
    if (r == 0 && hash && um_c2pa_md_for(alg)) { /* 1.0-style: over the claim's CBOR bytes */
        int claim = find_claim_quiet(v, target);
        int content = claim >= 0 ? um_jumbf_content(&v->t, claim, "cbor") : -1;
        if (content >= 0) {
            byte_range cr = payload_range(&v->t, content);
            r = um_c2pa_digest_equals(um_c2pa_md_for(alg), v->t.data, &cr, 1, hash, hash_len);
        }
    }
    if (r < 0)
        um_c2pa_status_add(d, UM_C2PA_FAILURE, "algorithm.unsupported", murl,
                           "Ingredient hash algorithm \"%s\" not supported.", alg);
    else
        um_c2pa_status_add(d, r ? UM_C2PA_SUCCESS : UM_C2PA_FAILURE,
                           r ? "ingredient.manifest.validated" : "ingredient.manifest.mismatch",
                           murl, r ? "ingredient hash matched"
                                   : "The ingredient's manifest does not match its hash.");
    const cbor_item_t *sref = um_cbor_map_get(ing, "claimSignature");
    char surl[1024];
    if (sref && um_cbor_get_text(sref, "url", surl, sizeof surl)) {
        int sig = resolve_uri(v, m->box, surl);
        hash = um_cbor_bytes(um_cbor_map_get(sref, "hash"), &hash_len);
        um_c2pa_hashed_uri_alg(m, sref, alg, sizeof alg);
        int ok = sig >= 0 && hash && box_hash_matches(v, sig, alg, hash, hash_len) == 1;
        um_c2pa_status_add(d, ok ? UM_C2PA_SUCCESS : UM_C2PA_FAILURE,
                           ok ? "ingredient.claimSignature.validated"
                              : "ingredient.claimSignature.mismatch",
                           surl, ok ? "ingredient claim signature hash matched"
                                    : "The ingredient's claim signature does not match its hash.");
    }
}

static void walk_ingredients(vctx *v, size_t mi, int depth);

static void validate_ingredient(vctx *v, size_t mi, int box, size_t k, int depth)
{
    manifest *m = &v->mf[mi];
    cbor_item_t *ing = um_c2pa_load_box_cbor(v, box);
    const cbor_item_t *ref = ing ? um_cbor_map_get(ing, "activeManifest") : NULL;
    if (ing && !ref)
        ref = um_cbor_map_get(ing, "c2pa_manifest");
    char url[1024], iurl[1024], murl[1024];
    if (!ref || !um_cbor_get_text(ref, "url", url, sizeof url)) {
        if (ing)
            cbor_decref(&ing);
        return;
    }
    um_c2pa_box_url(&v->t, box, iurl, sizeof iurl);
    um_c2pa_statuses d = {0};
    int target = resolve_uri(v, m->box, url);
    int ti = target >= 0 ? owning_manifest(v, target) : -1;
    json_t *ij = json_array_get(m->ingredients, k);
    if (ti < 0) {
        um_c2pa_status_add(&d, UM_C2PA_FAILURE, "ingredient.manifest.missing", url,
                           "The ingredient's manifest is not in the store.");
    } else {
        manifest *t = &v->mf[ti];
        um_c2pa_box_url(&v->t, t->box, murl, sizeof murl);
        check_ingredient_refs(v, m, ing, target, &d, murl);
        if (ij)
            json_object_set_new(ij, "active_manifest", um_json_cstr(t->label));
        if (t->claim && !t->signer.signature_valid &&
            !um_c2pa_status_has(&d, "ingredient.claimSignature.mismatch"))
            um_c2pa_status_add(&d, UM_C2PA_FAILURE, "ingredient.claimSignature.mismatch", murl,
                               "The ingredient manifest's claim signature does not verify.");
        for (size_t i = 0; i < t->st.n; i++)
            if (t->st.items[i].kind != UM_C2PA_SUCCESS)
                um_c2pa_status_add(&d, t->st.items[i].kind, t->st.items[i].code,
                                   t->st.items[i].url, "%s", t->st.items[i].explanation);
    }
    for (size_t i = 0; i < d.n; i++) {
        if (d.items[i].kind != UM_C2PA_FAILURE)
            continue;
        v->delta_failures |= 2; /* some failure: never "trusted" */
        const char *code = d.items[i].code;
        int known = tolerated_failure(code) || recorded_failure(ing, code, d.items[i].url);
        if (!known && strcmp(code, "ingredient.claimSignature.mismatch") == 0)
            known = recorded_failure(ing, "claimSignature.mismatch", "");
        if (!known)
            v->delta_failures |= 1;
    }
    v->oom |= d.oom;
    json_t *delta = json_pack("{ssso}", "ingredientAssertionURI", iurl, "validationDeltas",
                              statuses_json(&d));
    if (delta)
        json_array_append_new(v->deltas, delta);
    um_c2pa_statuses_clear(&d);
    um_cbor_release(&ing);
    if (ti >= 0 && !v->mf[ti].visiting)
        walk_ingredients(v, (size_t)ti, depth + 1);
}

static void walk_ingredients(vctx *v, size_t mi, int depth)
{
    manifest *m = &v->mf[mi];
    if (depth >= C2PA_MAX_INGREDIENT_DEPTH || !m->claim)
        return;
    m->visiting = 1;
    int as = assertion_store_of(v, m);
    size_t k = 0;
    int count = 0;
    /* same order and filter as describe_assertions, so k indexes m->ingredients */
    for (int i = as >= 0 ? v->t.box[as].first_child : -1; i >= 0 && count < 2000;
         i = v->t.box[i].next_sibling) {
        if (!v->t.box[i].is_super)
            continue;
        count++;
        char base[UM_JUMBF_MAX_LABEL];
        um_c2pa_base_label(v->t.box[i].label, base, sizeof base);
        if (um_c2pa_label_is(base, "c2pa.ingredient"))
            validate_ingredient(v, mi, i, k++, depth);
    }
    m->visiting = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The store and the report */

static mf_kind manifest_kind(const um_jumbf_box *b, int *is_manifest)
{
    *is_manifest = 1;
    if (um_jumbf_is_type(b, "c2ma") || um_jumbf_is_type(b, "c2md"))
        return MF_STANDARD;
    if (um_jumbf_is_type(b, "c2um"))
        return MF_UPDATE;
    if (um_jumbf_is_type(b, "c2cm"))
        return MF_COMPRESSED;
    *is_manifest = 0;
    return MF_STANDARD;
}

static um_error collect_manifests(vctx *v)
{
    size_t n = 0;
    for (int i = v->t.box[v->root].first_child; i >= 0; i = v->t.box[i].next_sibling) {
        int is_manifest;
        manifest_kind(&v->t.box[i], &is_manifest);
        n += is_manifest;
    }
    if (n > C2PA_MAX_MANIFESTS)
        n = C2PA_MAX_MANIFESTS;
    v->mf = calloc(n ? n : 1, sizeof *v->mf);
    if (!v->mf)
        return UM_ERR_NOMEM;
    for (int i = v->t.box[v->root].first_child; i >= 0 && v->nmf < n;
         i = v->t.box[i].next_sibling) {
        int is_manifest;
        mf_kind kind = manifest_kind(&v->t.box[i], &is_manifest);
        if (!is_manifest)
            continue;
        manifest *m = &v->mf[v->nmf++];
        m->box = i;
        m->label = v->t.box[i].label;
        m->kind = kind;
        m->json = json_object();
        m->ingredients = json_array();
        if (!m->json || !m->ingredients)
            return UM_ERR_NOMEM;
        json_object_set(m->json, "ingredients", m->ingredients);
    }
    return UM_OK;
}

static um_c2pa_state compute_state(const vctx *v, const manifest *a)
{
    if (!a || !a->claim || a->prerelease)
        return UM_C2PA_STATE_INVALID;
    if (!um_c2pa_status_has(&a->st, "claimSignature.validated") ||
        !um_c2pa_status_has(&a->st, "claimSignature.insideValidity"))
        return UM_C2PA_STATE_INVALID;
    int failures = 0;
    for (size_t i = 0; i < a->st.n; i++) {
        if (a->st.items[i].kind != UM_C2PA_FAILURE)
            continue;
        failures++;
        if (!tolerated_failure(a->st.items[i].code))
            return UM_C2PA_STATE_INVALID;
    }
    if (v->delta_failures & 1)
        return UM_C2PA_STATE_INVALID;
    if (um_c2pa_status_has(&a->st, "signingCredential.trusted") && failures == 0 &&
        v->delta_failures == 0)
        return UM_C2PA_STATE_TRUSTED;
    return UM_C2PA_STATE_VALID;
}

const char *um_c2pa_state_name(um_c2pa_state s)
{
    switch (s) {
    case UM_C2PA_STATE_VALID:
        return "valid";
    case UM_C2PA_STATE_TRUSTED:
        return "trusted";
    default:
        return "invalid";
    }
}

/* Store-level problems (container and JUMBF structure), reported with the active manifest. */
static void store_statuses(const vctx *v, um_c2pa_statuses *st)
{
    if (v->c->c2pa_stores > 1)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claim.multiple", NULL,
                           "The file carries %d separate manifest stores; one is allowed.",
                           v->c->c2pa_stores);
    if (v->c->c2pa_broken)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claim.malformed", NULL,
                           "The manifest store's segments are out of order, missing or not "
                           "contiguous.");
    if (v->t.malformed)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claim.malformed", NULL, "JUMBF: %s", v->t.why);
    if (v->root < 0)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claim.missing", NULL,
                           "No C2PA manifest store superbox.");
    else if (v->nmf == 0)
        um_c2pa_status_add(st, UM_C2PA_FAILURE, "claim.missing", NULL,
                           "The manifest store holds no manifest.");
}

static void fill_facts(vctx *v, manifest *a, um_c2pa_report *out)
{
    out->manifests = (int)v->nmf;
    for (size_t i = v->nmf; i-- > 0;) { /* strongest declaration; the active one wins ties */
        const manifest *m = &v->mf[i];
        if (m->ai > out->ai) {
            out->ai = m->ai;
            snprintf(out->ai_source_type, sizeof out->ai_source_type, "%s", m->ai_source_type);
            snprintf(out->ai_citation, sizeof out->ai_citation, "%s", m->ai_citation);
        }
    }
    if (!a)
        return;
    snprintf(out->active_label, sizeof out->active_label, "%s", a->label);
    if (a->claim)
        claim_generator_name(a, out->claim_generator, sizeof out->claim_generator);
    out->signer = a->signer;
    a->signer.chain_pem = NULL; /* ownership moves to the report */
    out->data_hash_mismatch = um_c2pa_status_has(&a->st, "assertion.dataHash.mismatch");
    out->signature_mismatch = um_c2pa_status_has(&a->st, "claimSignature.mismatch");
    if (a->prerelease) /* everything else follows from the old format */
        snprintf(out->first_failure, sizeof out->first_failure, "com.adobe.prerelease");
    for (size_t i = 0; i < a->st.n && !out->first_failure[0]; i++) /* tolerated ones do not decide */
        if (a->st.items[i].kind == UM_C2PA_FAILURE && !tolerated_failure(a->st.items[i].code)) {
            snprintf(out->first_failure, sizeof out->first_failure, "%s", a->st.items[i].code);
            break;
        }
}

static um_error build_report(vctx *v, um_c2pa_statuses *active_st, manifest *a,
                             um_c2pa_report *out)
{
    json_t *manifests = json_object(), *results = NULL;
    out->json = json_object();
    if (!manifests || !out->json) {
        json_decref(manifests);
        return UM_ERR_NOMEM;
    }
    for (size_t i = 0; i < v->nmf; i++)
        json_object_set(manifests, v->mf[i].label, v->mf[i].json);
    results = json_pack("{soso}", "activeManifest", statuses_json(active_st), "ingredientDeltas",
                        json_incref(v->deltas));
    json_object_set_new(out->json, "active_manifest", a ? um_json_cstr(a->label) : json_null());
    json_object_set_new(out->json, "manifests", manifests);
    json_object_set_new(out->json, "validation_results", results ? results : json_object());
    json_object_set_new(out->json, "validation_state",
                        json_string(um_c2pa_state_name(out->state)));
    return results && !v->oom ? UM_OK : UM_ERR_NOMEM;
}

static void vctx_clear(vctx *v)
{
    for (size_t i = 0; i < v->nmf; i++) {
        manifest *m = &v->mf[i];
        um_c2pa_statuses_clear(&m->st);
        json_decref(m->json);
        json_decref(m->ingredients);
        if (m->claim)
            cbor_decref(&m->claim);
        free(m->signer.chain_pem);
    }
    free(v->mf);
    free(v->referenced);
    json_decref(v->deltas);
    um_jumbf_clear(&v->t);
}

um_error um_c2pa_validate(const um_container *c, const uint8_t *file, size_t file_size,
                          const um_trust *trust, time_t now, um_c2pa_report *out)
{
    memset(out, 0, sizeof *out);
    vctx v;
    memset(&v, 0, sizeof v);
    v.c = c;
    v.file = file;
    v.file_size = file ? file_size : 0;
    v.trust = trust;
    v.now = now;
    v.root = -1;
    um_c2pa_statuses active_st = {0};
    um_error e = um_jumbf_parse(c->c2pa, c->c2pa ? c->c2pa_size : 0, &v.t);
    if (e == UM_ERR_NOMEM)
        goto done;
    v.deltas = json_array();
    v.referenced = calloc(v.t.n ? v.t.n : 1, 1);
    if (!v.deltas || !v.referenced) {
        e = UM_ERR_NOMEM;
        goto done;
    }
    if (v.t.n > 0 && um_jumbf_is_type(&v.t.box[0], "c2pa"))
        v.root = 0;
    if (v.root == 0 && !v.t.malformed &&
        (!toggles_ok(&v.t.box[0]) || strcmp(v.t.box[0].label, "c2pa") != 0)) {
        v.t.malformed = 1;
        snprintf(v.t.why, sizeof v.t.why, "the store superbox is not labelled \"c2pa\"");
    }
    if (v.root >= 0 && (e = collect_manifests(&v)) != UM_OK)
        goto done;
    /* Phase 1: every manifest on its own (bindings only for the active one, the last). */
    for (size_t i = 0; i < v.nmf; i++)
        validate_manifest(&v, &v.mf[i], i + 1 == v.nmf);
    /* Phase 2: the active manifest's ingredients, recursively. */
    manifest *a = v.nmf ? &v.mf[v.nmf - 1] : NULL;
    if (a)
        walk_ingredients(&v, v.nmf - 1, 0);
    store_statuses(&v, &active_st);
    for (size_t i = 0; a && i < a->st.n; i++)
        um_c2pa_status_add(&active_st, a->st.items[i].kind, a->st.items[i].code,
                           a->st.items[i].url, "%s", a->st.items[i].explanation);
    out->state = active_st.n == (a ? a->st.n : 0) ? compute_state(&v, a) : UM_C2PA_STATE_INVALID;
    for (size_t i = 0; i < v.nmf; i++)
        v.oom |= v.mf[i].st.oom;
    v.oom |= active_st.oom;
    fill_facts(&v, a, out);
    if (active_st.n > (a ? a->st.n : 0)) /* store-level failures come first */
        snprintf(out->first_failure, sizeof out->first_failure, "%s", active_st.items[0].code);
    e = build_report(&v, &active_st, a, out);
done:
    um_c2pa_statuses_clear(&active_st);
    vctx_clear(&v);
    if (e != UM_OK)
        um_c2pa_report_clear(out);
    return e;
}

void um_c2pa_report_clear(um_c2pa_report *r)
{
    if (!r)
        return;
    json_decref(r->json);
    free(r->signer.chain_pem);
    memset(r, 0, sizeof *r);
}
