/* jpeg-structure: what the file's own structure says about how it was made.
 *
 * Quantization tables identify the encoder family and its quality setting: libjpeg and the many
 * programs built on it (PIL, OpenCV, GIMP's default, web services) scale the JPEG Annex K tables
 * by the IJG formula, so an exact match to a scaled table means "an IJG-family encoder at
 * quality q"; cameras and Adobe products use their own tables. Subsampling, progressive coding,
 * restart markers, data after the end-of-image marker and an embedded EXIF thumbnail complete
 * the picture. These are facts, not a judgement: the detector has no map and does not score
 * (its JSON score is null); other detectors and the provenance report build on them. */
#include <stdio.h>
#include <string.h>

#include "core/jpeg_tables.h"
#include "detect/detector.h"

/* Quality 1..100 at which the IJG formula reproduces `table` exactly, or 0. */
static int ijg_exact_quality(const uint16_t table[64], int chroma)
{
    uint16_t scaled[64];
    for (int q = 1; q <= 100; q++) {
        um_jpeg_scaled_table(q, chroma, scaled);
        if (memcmp(scaled, table, sizeof scaled) == 0)
            return q;
    }
    return 0;
}

static const char *subsampling_name(const um_jpeg_info *j)
{
    if (j->num_components < 3)
        return "none (grayscale)";
    int h = j->comp[0].h_samp, v = j->comp[0].v_samp;
    if (j->comp[1].h_samp != 1 || j->comp[1].v_samp != 1 || j->comp[2].h_samp != 1 ||
        j->comp[2].v_samp != 1)
        return "unusual";
    if (h == 1 && v == 1)
        return "4:4:4";
    if (h == 2 && v == 1)
        return "4:2:2";
    if (h == 2 && v == 2)
        return "4:2:0";
    if (h == 1 && v == 2)
        return "4:4:0";
    if (h == 4 && v == 1)
        return "4:1:1";
    return "unusual";
}

/* Per table: the estimated quality, whether it is an exact IJG table; returns how many of
 * the tables in use are exact IJG tables. */
static int describe_tables(const um_jpeg_info *j, json_t *tables, int *luma_quality)
{
    int used[4] = {0}, exact_count = 0, used_count = 0;
    for (int c = 0; c < j->num_components && c < 4; c++)
        if (j->comp[c].quant_index >= 0 && j->comp[c].quant_index < 4)
            used[j->comp[c].quant_index] = 1;
    *luma_quality = 0;
    for (int t = 0; t < 4; t++) {
        if (!used[t] || !j->qtable_present[t])
            continue;
        used_count++;
        int chroma = t != j->comp[0].quant_index;
        int exact = ijg_exact_quality(j->qtable[t], chroma);
        exact_count += exact > 0;
        json_t *entry = json_pack("{s:i,s:s,s:b}", "index", t,
                                  "role", chroma ? "chrominance" : "luminance",
                                  "ijg_standard", exact > 0);
        if (exact)
            json_object_set_new(entry, "ijg_quality", json_integer(exact));
        if (!chroma) {
            /* The nearest IJG quality is defined against the luminance base table. */
            double fit_error = 0;
            *luma_quality = um_jpeg_estimate_quality(j->qtable[t], &fit_error);
            json_object_set_new(entry, "quality_estimate", json_integer(*luma_quality));
            json_object_set_new(entry, "fit_error", um_json_number(fit_error));
        }
        json_array_append_new(tables, entry);
    }
    return used_count > 0 && exact_count == used_count;
}

/* Encoder families recognisable from the file alone (provenance-markers.md 5.2): exact IJG
 * tables; Adobe's own tables, which come with Adobe's APP14 marker; other custom tables, which
 * camera firmware writes together with EXIF. A full table database (exiftool's JPEGDigest,
 * JPEGsnoop) would name cameras and Photoshop levels; that belongs to the provenance report. */
struct encoder_family {
    const char *id, *words;
};

static const struct encoder_family *encoder_family(const um_jpeg_info *j, int all_ijg)
{
    static const struct encoder_family ijg = {
        "ijg", "an IJG libjpeg family encoder (libjpeg, PIL, OpenCV, GIMP's default, many web "
               "services)"};
    static const struct encoder_family adobe = {
        "adobe", "Adobe software (Photoshop, Lightroom, Camera Raw): its own tables and Adobe's "
                 "APP14 marker"};
    static const struct encoder_family camera = {
        "custom-with-exif", "an encoder with its own tables, as camera firmware writes them (or "
                            "an editor that kept the camera's EXIF)"};
    static const struct encoder_family custom = {
        "custom", "an encoder with its own tables and no EXIF (an editor or a platform)"};
    if (all_ijg)
        return &ijg;
    if (j->adobe)
        return &adobe;
    return j->exif_present ? &camera : &custom;
}

static um_error run(const struct um_input *in, struct um_evidence *ev)
{
    const um_jpeg_info *j = in->decoded->jpeg;
    json_t *details = json_object(), *tables = json_array();
    if (!details || !tables) {
        json_decref(details);
        json_decref(tables);
        return UM_ERR_NOMEM;
    }
    ev->details = details;
    ev->applicable = 1;
    ev->no_score = 1;
    int luma_quality;
    int all_ijg = describe_tables(j, tables, &luma_quality);
    const struct encoder_family *family = encoder_family(j, all_ijg);
    json_object_set_new(details, "quantization_tables", tables);
    json_object_set_new(details, "encoder_family", json_string(family->id));
    json_object_set_new(details, "quality_estimate", json_integer(luma_quality));
    json_object_set_new(details, "subsampling", json_string(subsampling_name(j)));
    json_object_set_new(details, "progressive", json_boolean(j->progressive));
    json_object_set_new(details, "arithmetic_coding", json_boolean(j->arithmetic));
    json_object_set_new(details, "restart_interval", json_integer(j->restart_interval));
    json_object_set_new(details, "jfif", json_boolean(j->jfif));
    json_object_set_new(details, "adobe_app14", json_boolean(j->adobe));
    json_object_set_new(details, "exif", json_boolean(j->exif_present));
    json_object_set_new(details, "exif_thumbnail", json_boolean(j->exif_thumbnail));
    json_object_set_new(details, "trailing_bytes", json_integer((json_int_t)j->trailing_bytes));

    if (luma_quality > 0)
        um_evidence_add_finding(ev, "Last saved at about quality %d by %s.", luma_quality,
                                family->words);
    else
        um_evidence_add_finding(ev, "The luminance quantization table is invalid or missing.");
    um_evidence_add_finding(ev, "%s, chroma subsampling %s%s.",
                            j->progressive ? "Progressive" : "Baseline", subsampling_name(j),
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
