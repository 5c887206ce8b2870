/* C2PA hard bindings (spec 18.5 / 15.12; note 1.5): the hashing helpers (sha256/384/512 via
 * EVP) and the check of the active manifest's hard binding over the asset's bytes - a data hash
 * with its exclusions, or a box hash over the JPEG / PNG boxes; BMFF and collection hashes are
 * reported as not checked. The manifest store itself is validated in c2pa.c; the types the two
 * share are in c2pa_internal.h. */
#include "prov/c2pa_internal.h"

#include <cbor.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/cbor_safe.h"

#define C2PA_MAX_EXCLUSIONS 1024    /* byte ranges one data hash may exclude */

/* ---------------------------------------------------------------------------------------- */
/* Hashing (sha256/384/512 via EVP) */

const EVP_MD *um_c2pa_md_for(const char *alg)
{
    if (strcmp(alg, "sha256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "sha384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "sha512") == 0)
        return EVP_sha512();
    return NULL;
}

/* Hash base[ranges...] into out; returns the digest length, 0 on failure. */
static unsigned hash_ranges(const EVP_MD *md, const uint8_t *base, const byte_range *r, size_t n,
                            uint8_t out[EVP_MAX_MD_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    if (!ctx)
        return 0;
    int ok = EVP_DigestInit_ex(ctx, md, NULL);
    for (size_t i = 0; ok && i < n; i++)
        if (r[i].length)
            ok = EVP_DigestUpdate(ctx, base + r[i].start, (size_t)r[i].length);
    if (ok)
        ok = EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    return ok ? len : 0;
}

int um_c2pa_digest_equals(const EVP_MD *md, const uint8_t *base, const byte_range *r, size_t n,
                          const uint8_t *want, size_t want_len)
{
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned len = hash_ranges(md, base, r, n, got);
    return len > 0 && len == want_len && memcmp(got, want, len) == 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Hard bindings (spec 18.5 / 15.12; note 1.5) */

/* Read the exclusions of a c2pa.hash.data assertion; 0 when they are not increasing,
 * overlapping or outside the file. */
static int read_exclusions(const cbor_item_t *dh, uint64_t file_size, byte_range *ex, size_t *n)
{
    size_t count;
    cbor_item_t **el = um_cbor_array(um_cbor_map_get(dh, "exclusions"), &count);
    *n = 0;
    if (!el)
        return um_cbor_map_get(dh, "exclusions") == NULL; /* absent is fine, wrong type is not */
    if (count > C2PA_MAX_EXCLUSIONS)
        return 0;
    uint64_t prev_end = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t start, length;
        if (!um_cbor_uint(um_cbor_map_get(el[i], "start"), &start) ||
            !um_cbor_uint(um_cbor_map_get(el[i], "length"), &length))
            return 0;
        if (start < prev_end || start > file_size || length > file_size - start)
            return 0;
        ex[i].start = start;
        ex[i].length = length;
        prev_end = start + length;
        (*n)++;
    }
    return 1;
}

/* The complement of the exclusions within [0, size). */
static size_t kept_ranges(const byte_range *ex, size_t nex, uint64_t size, byte_range *keep)
{
    size_t n = 0;
    uint64_t pos = 0;
    for (size_t i = 0; i < nex; i++) {
        keep[n].start = pos;
        keep[n++].length = ex[i].start - pos;
        pos = ex[i].start + ex[i].length;
    }
    keep[n].start = pos;
    keep[n++].length = size - pos;
    return n;
}

static void check_data_hash(vctx *v, manifest *m, int idx, const char *url)
{
    cbor_item_t *dh = um_c2pa_load_box_cbor(v, idx);
    byte_range *ex = malloc(sizeof *ex * (C2PA_MAX_EXCLUSIONS + 1) * 2);
    size_t nex = 0, hash_len = 0;
    const uint8_t *hash = dh ? um_cbor_bytes(um_cbor_map_get(dh, "hash"), &hash_len) : NULL;
    char alg[16];
    if (!ex) {
        v->oom = 1;
        um_cbor_release(&dh);
        return;
    }
    if (!hash || !read_exclusions(dh, v->file_size, ex, &nex)) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.dataHash.malformed", url,
                           "The data hash assertion is malformed (hash or exclusions: not "
                           "increasing, overlapping or beyond the file).");
        goto done;
    }
    um_c2pa_hashed_uri_alg(m, dh, alg, sizeof alg);
    const EVP_MD *md = um_c2pa_md_for(alg);
    if (!md) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "algorithm.unsupported", url,
                           "Data hash algorithm \"%s\" is not supported.", alg);
        goto done;
    }
    /* Security rule (15.12): the store's carrier must be excluded exactly; an exclusion that
     * covers more could hide rendered bytes, one that covers less cannot match anyway. */
    uint64_t cs = v->c->c2pa_offset, ce = cs + v->c->c2pa_length;
    int carrier_ok = v->c->c2pa_length == 0, extra = 0;
    for (size_t i = 0; i < nex; i++) {
        uint64_t s = ex[i].start, e = s + ex[i].length;
        if (s == cs && e == ce && v->c->c2pa_length)
            carrier_ok = 1;
        else if (s < ce && e > cs) {
            um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.dataHash.mismatch", url,
                               "Exclusion %llu+%llu does not coincide with the manifest store's "
                               "carrier %llu+%llu.",
                               (unsigned long long)s, (unsigned long long)ex[i].length,
                               (unsigned long long)cs, (unsigned long long)v->c->c2pa_length);
            goto done;
        } else if (ex[i].length)
            extra++;
    }
    if (!carrier_ok) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.dataHash.mismatch", url,
                           "No exclusion covers the manifest store at %llu+%llu.",
                           (unsigned long long)cs, (unsigned long long)v->c->c2pa_length);
        goto done;
    }
    if (extra)
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL,
                           "assertion.dataHash.additionalExclusionsPresent", url,
                           "%d byte range(s) besides the manifest store are excluded from the "
                           "hash.", extra);
    byte_range *keep = ex + C2PA_MAX_EXCLUSIONS + 1;
    size_t nkeep = kept_ranges(ex, nex, v->file_size, keep);
    if (um_c2pa_digest_equals(md, v->file, keep, nkeep, hash, hash_len))
        um_c2pa_status_add(&m->st, UM_C2PA_SUCCESS, "assertion.dataHash.match", url,
                           "data hash valid");
    else
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.dataHash.mismatch", url,
                           "The asset's bytes do not match the signed data hash: the file was "
                           "changed after signing.");
done:
    free(ex);
    um_cbor_release(&dh);
}

/* One c2pa.hash.boxes entry: its names must be the next spans of the file, in order; the hash
 * is over their bytes concatenated. The C2PA span (the store itself) is not hashed. */
static int check_box_entry(vctx *v, const cbor_item_t *entry, const char *alg_default,
                           size_t *pos, char *why, size_t cap)
{
    size_t nnames, hash_len;
    cbor_item_t **names = um_cbor_array(um_cbor_map_get(entry, "names"), &nnames);
    const uint8_t *hash = um_cbor_bytes(um_cbor_map_get(entry, "hash"), &hash_len);
    char alg[16];
    if (!names || nnames == 0 || !hash) {
        snprintf(why, cap, "entry without names or hash");
        return -1;
    }
    if (!um_cbor_get_text(entry, "alg", alg, sizeof alg) || !alg[0])
        snprintf(alg, sizeof alg, "%s", alg_default);
    const EVP_MD *md = um_c2pa_md_for(alg);
    if (!md) {
        snprintf(why, cap, "hash algorithm \"%s\" not supported", alg);
        return -2;
    }
    uint64_t start = 0, end = 0;
    int is_store = 0;
    for (size_t i = 0; i < nnames; i++) {
        char name[16];
        if (*pos >= v->c->nbox || !um_cbor_text(names[i], name, sizeof name) ||
            strcmp(name, v->c->box[*pos].name) != 0) {
            snprintf(why, cap, "box \"%s\" is not the next box of the file",
                     um_cbor_text(names[i], name, sizeof name) ? name : "?");
            return -3;
        }
        const um_box_span *s = &v->c->box[*pos];
        if (i == 0)
            start = s->offset;
        else if (s->offset != end) {
            snprintf(why, cap, "boxes of one entry are not contiguous");
            return -3;
        }
        if (s->offset > v->file_size || s->length > v->file_size - s->offset) {
            snprintf(why, cap, "box beyond the end of the file");
            return -3;
        }
        end = s->offset + s->length;
        is_store |= strcmp(name, "C2PA") == 0;
        (*pos)++;
    }
    if (is_store)
        return 1;
    byte_range r = {start, end - start};
    if (!um_c2pa_digest_equals(md, v->file, &r, 1, hash, hash_len)) {
        snprintf(why, cap, "hash of boxes at %llu+%llu does not match", (unsigned long long)start,
                 (unsigned long long)(end - start));
        return 0;
    }
    return 1;
}

static void check_boxes_hash(vctx *v, manifest *m, int idx, const char *url)
{
    if (v->c->nbox == 0) {
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL, "assertion.boxesHash.notChecked", url,
                           "Box hashes are checked for JPEG and PNG only: binding not checked.");
        return;
    }
    cbor_item_t *bh = um_c2pa_load_box_cbor(v, idx);
    size_t n;
    cbor_item_t **entries = bh ? um_cbor_array(um_cbor_map_get(bh, "boxes"), &n) : NULL;
    char alg[16], why[160] = "";
    size_t pos = 0;
    int result = entries && n > 0 ? 1 : -1;
    if (result < 0)
        snprintf(why, sizeof why, "no boxes list");
    um_c2pa_hashed_uri_alg(m, bh, alg, sizeof alg);
    for (size_t i = 0; entries && i < n && result == 1; i++)
        result = check_box_entry(v, entries[i], alg, &pos, why, sizeof why);
    if (result == 1 && pos != v->c->nbox) {
        result = -3;
        snprintf(why, sizeof why, "box \"%s\" of the file is not covered by the hash",
                 v->c->box[pos].name);
    }
    if (result == 1)
        um_c2pa_status_add(&m->st, UM_C2PA_SUCCESS, "assertion.boxesHash.match", url,
                           "box hash valid");
    else if (result == -2)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "algorithm.unsupported", url, "%s", why);
    else if (result == -3)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.boxesHash.unknownBox", url, "%s",
                           why);
    else
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE,
                           result == 0 ? "assertion.boxesHash.mismatch"
                                       : "assertion.boxesHash.malformed",
                           url, "%s", why);
    um_cbor_release(&bh);
}

/* Exactly one hard binding per standard manifest (spec 15.10.1), checked over the asset. */
void um_c2pa_check_hard_bindings(vctx *v, manifest *m, const int *bindings, int nbind)
{
    if (nbind == 0) {
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "claim.hardBindings.missing", NULL,
                           "The claim has no hard binding to the asset's bytes.");
        return;
    }
    if (nbind > 1)
        um_c2pa_status_add(&m->st, UM_C2PA_FAILURE, "assertion.multipleHardBindings", NULL,
                           "The claim has %d hard bindings; exactly one is allowed.", nbind);
    int idx = bindings[0];
    char url[1024], base[UM_JUMBF_MAX_LABEL];
    um_c2pa_box_url(&v->t, idx, url, sizeof url);
    um_c2pa_base_label(v->t.box[idx].label, base, sizeof base);
    if (!v->file) {
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL, "assertion.hardBinding.notChecked",
                           url, "Sidecar manifest store without its asset: binding not checked.");
    } else if (um_c2pa_label_is(base, "c2pa.hash.data")) {
        check_data_hash(v, m, idx, url);
    } else if (um_c2pa_label_is(base, "c2pa.hash.boxes")) {
        check_boxes_hash(v, m, idx, url);
    } else if (um_c2pa_label_is(base, "c2pa.hash.bmff")) {
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL, "assertion.bmffHash.notChecked", url,
                           "BMFF hashes are not verified by unmask: binding not checked.");
    } else {
        um_c2pa_status_add(&m->st, UM_C2PA_INFORMATIONAL, "assertion.collectionHash.notChecked",
                           url, "Collection hashes are not verified by unmask.");
    }
}
