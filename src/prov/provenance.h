/* The provenance report: everything a file says about where it came from, with citations.
 * Walks the container once, then validates C2PA, reads EXIF, XMP and IPTC/IRB, looks for
 * generator traces and the Stable Diffusion watermark, and summarises what the verdict needs.
 * Produces facts, never pixel maps. */
#ifndef UM_PROV_PROVENANCE_H
#define UM_PROV_PROVENANCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "io/decode.h"
#include "prov/cose.h"
#include "unmask.h"

/* What the verdict and the readable summary need, in a few fields. Citations say which
 * manifest / segment a fact came from. */
typedef struct um_provenance_facts {
    int c2pa_present;            /* an embedded manifest store was found */
    int c2pa_state;              /* um_c2pa_state when present */
    char c2pa_signer[256];       /* "Adobe Inc." / CN of the active manifest's signer */
    char c2pa_generator[256];
    int ai;                      /* strongest AI declaration anywhere: 0 none, 1 AI-edited,
                                    2 AI-generated (C2PA actions, XMP/IPTC DigitalSourceType,
                                    a generator trace, or the SD watermark) */
    char ai_citation[600];       /* where that came from, for a person */
    int edited_after_signing;    /* C2PA hard binding mismatch */
    int signature_invalid;       /* C2PA claim signature mismatch */
    int credentials_stripped;    /* XMP points at an embedded manifest that is not there */
    char remote_manifest[512];   /* XMP dcterms:provenance URL of a remote store, never fetched */
    int generator_trace;         /* AI tool metadata found (A1111, ComfyUI, NovelAI, ...) */
    char generator[64];
    int edit_software;           /* an editor named in EXIF Software / XMP history / IRB */
    char edit_software_name[128];
    int thumbnail_mismatch;      /* the EXIF thumbnail shows other content than the image */
} um_provenance_facts;

typedef struct um_prov_options {
    const um_trust *trust;       /* optional trust anchors */
    int watermark;               /* run the watermark decoder (needs pixels) */
} um_prov_options;

typedef struct um_provenance {
    json_t *json;                /* the JSON `provenance` section (owned) */
    um_provenance_facts facts;
} um_provenance;

/* Examine data (the whole file, format already sniffed). decoded may be NULL: pixels are then
 * decoded only where a step needs them (thumbnail comparison at reduced size, the watermark on
 * small images). Returns UM_OK or UM_ERR_NOMEM; damaged metadata is reported in the JSON. */
um_error um_provenance_examine(const uint8_t *data, size_t size, um_format format,
                               const um_decoded *decoded, const um_prov_options *opt,
                               um_provenance *out);
void um_provenance_clear(um_provenance *p);

#endif
