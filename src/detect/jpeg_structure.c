/* jpeg-structure: what the file's own structure says about how it was made.
 *
 * Quantization tables identify the encoder family and its quality setting
 * (prov/jpeg_fingerprint.c, shared with the provenance report). Subsampling, progressive coding,
 * restart markers, data after the end-of-image marker and an embedded EXIF thumbnail complete
 * the picture. These are facts, not a judgement: the detector has no map and does not score
 * (its JSON score is null); other detectors and the provenance report build on them. */
#include "detect/detector.h"
#include "prov/jpeg_fingerprint.h"

static um_error run(const struct um_input *in, struct um_evidence *ev)
{
    const um_jpeg_info *j = in->decoded->jpeg;
    struct um_jpeg_fingerprint fp;
    ev->details = um_jpeg_fingerprint(j, &fp);
    if (!ev->details)
        return UM_ERR_NOMEM;
    ev->applicable = 1;
    ev->no_score = 1;
    int luma_quality = fp.luma_quality;

    if (luma_quality > 0)
        um_evidence_add_finding(ev, "Last saved at about quality %d by %s.", luma_quality,
                                fp.family_words);
    else
        um_evidence_add_finding(ev, "The luminance quantization table is invalid or missing.");
    um_evidence_add_finding(ev, "%s, chroma subsampling %s%s.",
                            j->progressive ? "Progressive" : "Baseline", fp.subsampling,
                            j->restart_interval ? ", with restart markers" : "");
    if (!j->exif_present)
        um_evidence_add_finding(ev, "No EXIF metadata: cameras write it, so the file was probably "
                                    "re-saved by software or a platform that strips metadata.");
    else if (j->exif_thumbnail)
        um_evidence_add_finding(ev, "EXIF metadata with an embedded thumbnail.");
    if (j->trailing_bytes)
        um_evidence_add_finding(ev, "%llu bytes follow the end-of-image marker (hidden data, an "
                                    "appended file, or a careless tool).",
                                (unsigned long long)j->trailing_bytes);
    return UM_OK;
}

const struct um_detector um_detector_jpeg_structure = {
    .name = "jpeg-structure",
    .family = "jpeg",
    .summary = "Encoder family and quality from the quantization tables, subsampling, "
               "progressive/restart coding, EXIF thumbnail, data after the end of the image.",
    .limits = "Reports facts about how the file was saved; it cannot tell where an image was "
              "edited, and a re-save by common software erases the earlier history it reads.",
    .needs = UM_NEEDS_JPEG,
    .run = run,
};
