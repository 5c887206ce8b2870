/* Embedded thumbnail against the image (provenance-markers.md 5.1): a camera writes the EXIF
 * IFD1 thumbnail from the same exposure as the main image; many editors rewrite the main image
 * but carry the old EXIF block (and its thumbnail) over. A thumbnail showing other content, or
 * other framing (a crop), than the image is a classic edit trace.
 *
 * The comparison is made on luma at the thumbnail's size (at most UM_THUMB_COMPARE_SIDE on its
 * longest side), after removing letterbox bars some cameras add (a 3:2 photo in a 160x120
 * thumbnail) and, for EXIF Orientation 2-8, trying the main image as displayed as well as as
 * stored. Brightness and contrast are matched first (editors re-encode thumbnails with other
 * tone curves); what remains is compared globally (correlation) and locally (the worst 8x8
 * cell), so that a pasted object of a few percent of the area is not averaged away. */
#ifndef UM_PROV_THUMBNAIL_H
#define UM_PROV_THUMBNAIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/image.h"
#include "unmask.h"

#define UM_THUMB_COMPARE_SIDE 80      /* longest side of the comparison grid: coarse enough
                                         that JPEG ringing of a low-quality thumbnail and the
                                         writer's resampling filter do not count as content */
#define UM_THUMB_ASPECT_TOLERANCE 0.04 /* relative aspect difference still "the same" */
/* Thresholds for "matches", measured (figures in thumbnail.c): */
#define UM_THUMB_MIN_CORRELATION 0.95
#define UM_THUMB_MAX_MEAN_DIFF 4.0    /* mean |difference|, 0..255 luma: a crop or shift */
#define UM_THUMB_MAX_CELL_DIFF 14.0   /* the same over the worst 8x8 cell: a pasted object */

typedef struct um_thumb_result {
    int decoded;                 /* the thumbnail decoded */
    int thumb_width, thumb_height; /* as stored */
    int bars_removed;            /* letterbox / pillarbox bars were cropped before comparing */
    double thumb_aspect, image_aspect; /* width / height (image: as compared) */
    int aspect_matches;          /* within UM_THUMB_ASPECT_TOLERANCE */
    int oriented;                /* the match used the image as displayed (Orientation) */
    double mean_abs_diff;        /* luma, 0..255, after matching mean and contrast */
    double max_cell_diff;        /* the same, for the worst 8x8 cell of the grid */
    double correlation;          /* Pearson, -1..1 */
    int matches;                 /* aspect matches; correlation, mean and worst-cell differences
                                    within the thresholds above */
    json_t *json;                /* {"decoded", "aspect_matches", "mean_abs_diff", "correlation",
                                    "max_cell_diff", "matches", ...}; owned */
} um_thumb_result;

/* Compare the JPEG thumbnail thumb (n bytes) with preview_of_main (a reduced decode of the main
 * image as stored, e.g. um_decode_preview at 512; 3 channels or 1) given the file's EXIF
 * Orientation (0 or 1..8). A thumbnail that does not decode is a result (decoded = 0, the JSON
 * says why), not an error. Returns UM_OK, UM_ERR_ARGUMENT (no preview), or UM_ERR_NOMEM. */
um_error um_thumbnail_compare(const uint8_t *thumb, size_t n, const um_image *preview_of_main,
                              int orientation, um_thumb_result *out);
void um_thumb_result_clear(um_thumb_result *r);

#endif
