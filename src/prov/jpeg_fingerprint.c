/* JPEG quantization-table fingerprint: which encoder family wrote the file, at what quality,
 * with which coding options. Shared by the jpeg-structure detector (facts beside the other JPEG
 * evidence) and the provenance report (encoder traces), which must say the same thing.
 *
 * libjpeg and the many programs built on it (PIL, OpenCV, GIMP's default, web services) scale
 * the JPEG Annex K tables by the IJG formula, so an exact match to a scaled table means "an
 * IJG-family encoder at quality q"; cameras and Adobe products use their own tables. */
#include "prov/jpeg_fingerprint.h"

#include <stdio.h>
#include <string.h>

#include "core/jpeg_tables.h"

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

const char *um_jpeg_subsampling_name(const um_jpeg_info *j)
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
            json_object_set_new(entry, "fit_error", json_real(fit_error));
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

json_t *um_jpeg_fingerprint(const um_jpeg_info *j, struct um_jpeg_fingerprint *fp)
{
    json_t *details = json_object(), *tables = json_array();
    if (!details || !tables) {
        json_decref(details);
        json_decref(tables);
        return NULL;
    }
    int all_ijg = describe_tables(j, tables, &fp->luma_quality);
    const struct encoder_family *family = encoder_family(j, all_ijg);
    fp->family_id = family->id;
    fp->family_words = family->words;
    fp->subsampling = um_jpeg_subsampling_name(j);
    json_object_set_new(details, "quantization_tables", tables);
    json_object_set_new(details, "encoder_family", json_string(family->id));
    json_object_set_new(details, "quality_estimate", json_integer(fp->luma_quality));
    json_object_set_new(details, "subsampling", json_string(fp->subsampling));
    json_object_set_new(details, "progressive", json_boolean(j->progressive));
    json_object_set_new(details, "arithmetic_coding", json_boolean(j->arithmetic));
    json_object_set_new(details, "restart_interval", json_integer(j->restart_interval));
    json_object_set_new(details, "jfif", json_boolean(j->jfif));
    json_object_set_new(details, "adobe_app14", json_boolean(j->adobe));
    json_object_set_new(details, "exif", json_boolean(j->exif_present));
    json_object_set_new(details, "exif_thumbnail", json_boolean(j->exif_thumbnail));
    json_object_set_new(details, "trailing_bytes", json_integer((json_int_t)j->trailing_bytes));
    return details;
}
