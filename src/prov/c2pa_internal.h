/* Internal to c2pa.c and c2pa_bindings.c: the validation context the two share, and the few
 * functions one calls in the other. c2pa.c validates the manifest store (structure, claim,
 * signature, hashed URIs, ingredients, report); c2pa_bindings.c holds the hashing and the hard
 * bindings to the asset's bytes (spec 18.5 / 15.12; note 1.5). Nothing else includes this. */
#ifndef UM_PROV_C2PA_INTERNAL_H
#define UM_PROV_C2PA_INTERNAL_H

#include <cbor.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "prov/c2pa.h"
#include "prov/jumbf.h"

typedef struct byte_range {
    uint64_t start, length;
} byte_range;

typedef enum mf_kind { MF_STANDARD, MF_UPDATE, MF_COMPRESSED } mf_kind;

typedef struct manifest {
    int box;                    /* manifest superbox index in the JUMBF tree */
    const char *label;
    mf_kind kind;
    int visiting;               /* ingredient recursion guard */
    um_c2pa_statuses st;        /* statuses of this manifest's own validation */
    json_t *json;               /* its entry under "manifests" */
    json_t *ingredients;        /* borrowed from json */
    cbor_item_t *claim;
    char alg[16];               /* claim's default hash algorithm, "" if none */
    int claim_version;
    um_signer_info signer;
    int prerelease;
    int bindings[8];            /* hard-binding assertion boxes its claim references */
    int nbind;
    um_c2pa_ai ai;
    char ai_source_type[200];
    char ai_citation[300];
} manifest;

typedef struct vctx {
    const um_container *c;
    const uint8_t *file;
    size_t file_size;
    const um_trust *trust;
    time_t now;
    um_jumbf_tree t;
    int root;
    size_t nmf;
    manifest *mf;
    uint8_t *referenced;        /* per box: a claim points at it */
    json_t *deltas;             /* ingredientDeltas */
    int delta_failures;         /* failures in deltas the signers did not record */
    int oom;
} vctx;

/* ---- In c2pa.c ---- */

/* "self#jumbf=/c2pa/<manifest>/c2pa.assertions/<label>" for box idx (spec 11.4.2). */
void um_c2pa_box_url(const um_jumbf_tree *t, int idx, char *buf, size_t cap);

/* The label without its instance suffix ("c2pa.ingredient.v3__2" -> "c2pa.ingredient.v3"). */
void um_c2pa_base_label(const char *label, char *out, size_t cap);

/* Is base (no instance suffix) the label `name` or a version of it (`name`.vN)? */
int um_c2pa_label_is(const char *base, const char *name);

/* The "alg" of a hashed URI or hash assertion, else the claim's default (m->alg). */
void um_c2pa_hashed_uri_alg(const manifest *m, const cbor_item_t *ref, char *alg, size_t cap);

/* The first cbor content box of a superbox, loaded with the claim caps; NULL if none. */
cbor_item_t *um_c2pa_load_box_cbor(const vctx *v, int super);

/* ---- In c2pa_bindings.c ---- */

/* The digest for a C2PA alg name (sha256, sha384, sha512); NULL when not supported. */
const EVP_MD *um_c2pa_md_for(const char *alg);

/* Does the md digest of base[ranges r[0..n)] concatenated equal want[0..want_len)? */
int um_c2pa_digest_equals(const EVP_MD *md, const uint8_t *base, const byte_range *r, size_t n,
                          const uint8_t *want, size_t want_len);

/* Exactly one hard binding per standard manifest (spec 15.10.1), checked over the asset; the
 * statuses go to m->st. bindings are the hard-binding assertion boxes (nbind of them). */
void um_c2pa_check_hard_bindings(vctx *v, manifest *m, const int *bindings, int nbind);

#endif
