/* Provenance in the verdict. Explicit statements a file makes about itself outrank pixel
 * statistics when they are self-incriminating or cryptographically checked:
 * - AI declared (a C2PA action's digitalSourceType, XMP/IPTC DigitalSourceType, a generator's
 *   own metadata, the Stable Diffusion watermark): label ai-generated, because the file says so
 *   itself. Unsigned declarations and the watermark can be added by anyone, also to a real photo
 *   to discredit it, so the first reason always says which it was and whether it was signed:
 *   a desk must weigh an unsigned claim as a claim.
 * - C2PA hard binding broken (bytes changed after signing): manipulated.
 * - C2PA claim signature broken: at least likely-manipulated (the credentials were altered;
 *   the pixels may or may not have been).
 * Facts that are not evidence of manipulation (valid credentials, stripped credentials, a
 * remote manifest, editing software named in the metadata) become reasons without moving the
 * label: valid credentials do not prove that what they describe is true. An EXIF thumbnail that
 * shows other content is a reason too, not a label: the comparison cannot tell a crop or a
 * tone edit after capture (ordinary newsroom work) from a changed scene. */
#include <stdio.h>
#include <string.h>

#include "fuse/calibrate.h"
#include "fuse/fuse.h"
#include "prov/c2pa.h"
#include "prov/text.h"

/* Scores the provenance rules guarantee (the verdict score is the larger of these and the
 * detectors' score). */
#define SCORE_AI_DECLARED 0.95
#define SCORE_EDITED_AFTER_SIGNING 0.95

/* Provenance reasons go first: they cite the file's own statements. */
static void prepend_reason(struct um_verdict *v, const char *text)
{
    int keep = v->nreasons < UM_MAX_REASONS ? v->nreasons : UM_MAX_REASONS - 1;
    memmove(v->reasons[1], v->reasons[0], (size_t)keep * UM_REASON_LEN);
    um_text_copy(v->reasons[0], UM_REASON_LEN, text); /* cut between characters */
    v->nreasons = keep + 1;
}

/* The file's own statement decides: the score is no longer the calibrated model's, so it has
 * no false-alarm rate to report. */
static void raise_to(struct um_verdict *v, const char *label, double score)
{
    v->label = label;
    if (v->score < score)
        v->score = score;
    v->calibrated = 0;
}

static int label_is(const struct um_verdict *v, const char *label)
{
    return strcmp(v->label, label) == 0;
}

/* Context first (added first, so it ends up after the decisive reasons). */
static void add_context(struct um_verdict *v, const um_provenance_facts *f)
{
    char text[1200]; /* longer than a reason: prepend_reason cuts it */
    if (f->edit_software) {
        snprintf(text, sizeof text, "metadata names editing software: %s",
                 f->edit_software_name);
        prepend_reason(v, text);
    }
    if (f->remote_manifest[0]) {
        snprintf(text, sizeof text, "XMP points to remote Content Credentials at %s (not "
                 "fetched: check it yourself)", f->remote_manifest);
        prepend_reason(v, text);
    }
    if (f->credentials_stripped)
        prepend_reason(v, "the metadata says this file had embedded Content Credentials (C2PA) "
                          "that are no longer in it: they were removed");
    if (f->c2pa_present && f->c2pa_state != UM_C2PA_STATE_INVALID) {
        snprintf(text, sizeof text, "Content Credentials are intact (%s), signed by %s%s%s",
                 um_c2pa_state_name((um_c2pa_state)f->c2pa_state),
                 f->c2pa_signer[0] ? f->c2pa_signer : "an unnamed signer",
                 f->c2pa_generator[0] ? ", made with " : "", f->c2pa_generator);
        prepend_reason(v, text);
    }
}

void um_fuse_provenance(um_result *r)
{
    if (!r->prov_examined)
        return;
    const um_provenance_facts *f = &r->prov.facts;
    struct um_verdict *v = &r->verdict;
    char text[1200]; /* longer than a reason: prepend_reason cuts it */
    add_context(v, f);
    if (f->thumbnail_mismatch)
        prepend_reason(v, "the EXIF thumbnail differs from the image (other framing or content): "
                          "the picture was changed after the camera made it, by a crop, an "
                          "edit or more");
    if (f->signature_invalid) {
        if (!label_is(v, UM_LABEL_MANIPULATED))
            raise_to(v, UM_LABEL_LIKELY_MANIPULATED, um_calibration.likely);
        prepend_reason(v, "the Content Credentials' signature does not verify "
                          "(claimSignature.mismatch): the credentials were altered");
    }
    if (f->edited_after_signing) {
        raise_to(v, UM_LABEL_MANIPULATED, SCORE_EDITED_AFTER_SIGNING);
        snprintf(text, sizeof text, "the image was changed after it was signed: its bytes no "
                 "longer match the Content Credentials signed by %s "
                 "(assertion.dataHash.mismatch)", f->c2pa_signer[0] ? f->c2pa_signer : "its signer");
        prepend_reason(v, text);
    }
    if (f->ai) {
        raise_to(v, UM_LABEL_AI_GENERATED, SCORE_AI_DECLARED);
        snprintf(text, sizeof text, "%s: %s",
                 f->ai == 2 ? "declared AI-generated" : "declared edited with generative AI",
                 f->ai_citation);
        prepend_reason(v, text);
    }
}
