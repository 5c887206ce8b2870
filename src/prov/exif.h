/* EXIF reader: the facts of a TIFF-structured EXIF payload that say where an image came from
 * (camera, software, dates, GPS, maker note, the IFD1 thumbnail, the UserComment that AI
 * generators fill with their parameters), with the payload offset of each value.
 *
 * The TIFF structure is walked here rather than through libexif, for two reasons: every fact
 * must cite the byte offset it was read at, and the walk must stay bounded on hostile input
 * (loops between IFDs, counts that overflow, offsets past the end). See provenance-markers.md
 * 5.1 for the fields and 4.1 for what generators write into them. */
#ifndef UM_PROV_EXIF_H
#define UM_PROV_EXIF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "unmask.h"

#define UM_EXIF_MAX_IFDS 16           /* IFD0, IFD1, EXIF, GPS, Interop, and a few chained */
#define UM_EXIF_MAX_ENTRIES 1024      /* entries read per IFD */
#define UM_EXIF_JSON_TEXT_MAX 65536   /* longer strings are cut in the JSON (facts keep all) */

typedef struct um_exif_gps {
    int present;                 /* a GPS IFD was found */
    int has_position;            /* latitude and longitude were both readable */
    double latitude, longitude;  /* decimal degrees, south / west negative */
    int has_altitude;
    double altitude;             /* metres, below sea level negative */
} um_exif_gps;

typedef struct um_exif {
    int valid;                   /* a TIFF header and IFD0 were read */
    int big_endian;              /* "MM" */

    /* Full strings, malloc'ed (NULL when absent): ComfyUI writes whole JSON graphs into Make
     * and Model of a WebP (provenance-markers.md 4.1). */
    char *make, *model, *software;
    char *user_comment;          /* decoded to UTF-8, trailing NULs and blanks removed */
    char user_comment_charset[16]; /* "ascii", "utf-16be", "utf-16le", "jis", "undefined",
                                      "none" (no 8-byte prefix); "" when absent */

    char processing_software[256];
    char host_computer[256];
    char datetime[32], datetime_original[32], datetime_digitized[32];
    char image_description[512];
    char artist[256];
    char copyright[512];
    char document_name[256];

    int orientation;             /* 1..8, 0 when absent */
    uint32_t pixel_width, pixel_height; /* 0xA002 / 0xA003, 0 when absent */
    um_exif_gps gps;
    int has_makernote;
    uint32_t makernote_size;

    /* The IFD1 thumbnail (0x0201 / 0x0202), when its range lies inside the payload: a pointer
     * into the payload given to um_exif_read (keep that alive as long). */
    const uint8_t *thumbnail;
    size_t thumbnail_size;
    uint32_t thumbnail_offset;   /* relative to the TIFF header */
    int thumbnail_is_jpeg;       /* starts with an SOI marker */

    int nnotes;                  /* irregularities met: loops, truncation, bad offsets */
    json_t *json;                /* the "exif" fragment; owned, freed by um_exif_clear */
} um_exif;

/* Read payload (TIFF bytes, "II*\0" or "MM\0*" first; a leading "Exif\0\0" is skipped too).
 * Fills *out (zeroed first) and always builds out->json, even for damaged input (then valid is
 * 0 and "notes" says why). The JSON's "offsets" object gives, per field, the offset of its value
 * from the TIFF header (add the segment's position for a file offset). Returns UM_OK, or
 * UM_ERR_NOMEM (out is then cleared). */
um_error um_exif_read(const uint8_t *payload, size_t size, um_exif *out);

/* Free the strings and the JSON; *e is zeroed. Safe on a zeroed struct. */
void um_exif_clear(um_exif *e);

/* The text of an EXIF UserComment (EXIF 2.32 4.6.5, tag 0x9286): an 8-byte character code
 * ("ASCII", "UNICODE" = UTF-16, "JIS", all zeros = undefined), then the text; without a known
 * code the whole value is taken as text. UTF-16 takes the byte order of its BOM or of its zero
 * bytes, else tiff_be. Other codes are read by um_text_dup (UTF-8, else Latin-1) up to the first
 * NUL. Trailing blanks are removed. *charset (when not NULL) gets "ascii", "utf-16be",
 * "utf-16le", "jis", "undefined" or "none". Returns a malloc'ed UTF-8 string, NULL on OOM. */
char *um_exif_user_comment(const uint8_t *p, size_t n, int tiff_be, const char **charset);

#endif
