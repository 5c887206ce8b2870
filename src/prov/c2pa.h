/* C2PA manifest-store validation (C2PA 2.x and 1.x): JUMBF tree, manifests, claim v1/v2 (CBOR
 * via libcbor), hashed-URI checks of every assertion, hard bindings (c2pa.hash.data with the
 * exclusion rules, c2pa.hash.boxes), the claim signature (cose.h), actions and their
 * digitalSourceType, ingredients recursively. The result is a c2patool-like JSON report and the
 * few facts the verdict needs. */
#ifndef UM_PROV_C2PA_H
#define UM_PROV_C2PA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "prov/containers.h"
#include "prov/cose.h"
#include "unmask.h"

typedef enum um_c2pa_state {
    UM_C2PA_STATE_INVALID,  /* "invalid" */
    UM_C2PA_STATE_VALID,    /* "valid": signature and bindings hold; signer not on a trust list */
    UM_C2PA_STATE_TRUSTED   /* "trusted": valid and the signer chains to a trust anchor */
} um_c2pa_state;

const char *um_c2pa_state_name(um_c2pa_state s); /* "invalid", "valid", "trusted" */

/* AI involvement declared by a manifest's actions (digitalSourceType, in the standard field
 * or parameters["com.adobe.digitalSourceType"]). */
typedef enum um_c2pa_ai {
    UM_C2PA_AI_NONE = 0,
    UM_C2PA_AI_EDITED,      /* compositeWithTrainedAlgorithmicMedia, compositeSynthetic */
    UM_C2PA_AI_GENERATED    /* trainedAlgorithmicMedia, c2pa trainedAlgorithmicData */
} um_c2pa_ai;

typedef struct um_c2pa_report {
    um_c2pa_state state;
    json_t *json;                 /* full report: active_manifest, manifests{label: {...}},
                                     validation_results, validation_state (owned) */
    int manifests;                /* manifests in the store */
    char active_label[256];
    char claim_generator[256];    /* of the active manifest (v1 claim_generator, v2 info name
                                     and version) */
    um_signer_info signer;        /* of the active manifest */
    um_c2pa_ai ai;                /* strongest AI declaration in any manifest of the store */
    char ai_source_type[200];     /* the digitalSourceType URI that set it */
    char ai_citation[300];        /* "manifest <label>, assertion c2pa.actions, action
                                     c2pa.created (softwareAgent Adobe Firefly)" */
    int data_hash_mismatch;       /* the asset's bytes changed after signing */
    int signature_mismatch;       /* the claim signature does not verify */
    char first_failure[64];       /* first failure code of the active manifest, "" if none */
} um_c2pa_report;

/* Validate the store the container found (c->c2pa must be non-NULL) against the asset bytes
 * `file` (the hard binding is checked over them; pass file = NULL for a sidecar store with no
 * asset, then bindings are reported as not checked). trust may be NULL; now = validation time.
 * Returns UM_OK (validation failures are statuses, not errors) or UM_ERR_NOMEM. */
um_error um_c2pa_validate(const um_container *c, const uint8_t *file, size_t file_size,
                          const um_trust *trust, time_t now, um_c2pa_report *out);
void um_c2pa_report_clear(um_c2pa_report *r);

#endif
