/* Photoshop image resource blocks (JPEG APP13 "Photoshop 3.0", TIFF tag 34377), the IPTC-IIM
 * records they carry (also found bare in TIFF tag 33723), and the APP12 "Ducky" segment of
 * Photoshop's "Save for Web" (provenance-markers.md 5.1).
 *
 * What these say for provenance: the Photoshop Save As quality (0x0406) and the version info
 * (0x0421) name Photoshop as the last writer; the IPTC digest (0x0425) tells whether the IPTC
 * text was changed by another tool after Photoshop last saved; the IIM fields (by-line, caption,
 * originating program) are what agencies write.
 *
 * Hostile input: every block and dataset length is checked against the bytes present; at most
 * UM_IRB_MAX_BLOCKS blocks and UM_IIM_MAX_DATASETS datasets are read. */
#ifndef UM_PROV_IRB_H
#define UM_PROV_IRB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "unmask.h"

#define UM_IRB_MAX_BLOCKS 4096
#define UM_IIM_MAX_DATASETS 8192

/* IPTC-IIM (IPTC-NAA IIM 4.2): the record 2 fields that matter for provenance. */
typedef struct um_iptc {
    int valid;                   /* at least one dataset was read */
    int datasets;                /* datasets read */
    int utf8;                    /* 1:90 declares UTF-8 (ESC % G) */
    char object_name[256];       /* 2:05 */
    char date_created[16];       /* 2:55, CCYYMMDD */
    char originating_program[128]; /* 2:65 */
    char program_version[64];    /* 2:70 */
    char by_line[256];           /* 2:80, first of possibly several */
    char headline[256];          /* 2:105 */
    char copyright[256];         /* 2:116 */
    char caption[2048];          /* 2:120 */
    json_t *json;                /* the "iptc" fragment; owned */
} um_iptc;

typedef enum um_iptc_digest {
    UM_IPTC_DIGEST_ABSENT = 0,   /* no 0x0425 block */
    UM_IPTC_DIGEST_CURRENT,      /* MD5 of the IIM block equals the stored digest */
    UM_IPTC_DIGEST_STALE,        /* it differs: IPTC edited by a non-Adobe tool since */
    UM_IPTC_DIGEST_NO_IPTC       /* a digest but no IIM block to check it against */
} um_iptc_digest;

typedef struct um_irb {
    int valid;                   /* at least one 8BIM block was read */
    int blocks;

    /* 0x0404 IPTC-IIM: a pointer into the payload (keep it alive) and what it says. */
    const uint8_t *iim;
    size_t iim_size;
    um_iptc iptc;

    /* 0x0406 JPEG quality: Photoshop "Save As" quality 0..12 (stored value + 4). */
    int has_quality;
    int photoshop_quality;
    int quality_format;          /* 0 standard (baseline), 1 optimized, 0x0101 progressive */
    int quality_scans;           /* progressive scans: stored 1..3 means 3..5 scans */

    /* 0x040C (or the old BGR 0x0409) thumbnail: JFIF after a 28-byte header, when present. */
    int has_thumbnail;
    const uint8_t *thumbnail;
    size_t thumbnail_size;

    /* 0x0421 version info. */
    int has_version_info;
    char writer_name[128];       /* "Adobe Photoshop" */
    char reader_name[128];       /* "Adobe Photoshop CS6" */

    um_iptc_digest digest;       /* 0x0425 against the 0x0404 block */
    int has_xmp;                 /* 0x0424 */
    int has_exif;                /* 0x0422 / 0x0423 */

    int nnotes;
    json_t *json;                /* the "irb" fragment; owned, freed by um_irb_clear */
} um_irb;

/* Read Photoshop image resource blocks ("8BIM" + u16 id + even-padded Pascal name + u32 size +
 * even-padded data). A leading "Photoshop 3.0\0" is skipped. *out is zeroed first; the JSON is
 * always built. Returns UM_OK or UM_ERR_NOMEM (out cleared). */
um_error um_irb_read(const uint8_t *payload, size_t size, um_irb *out);
void um_irb_clear(um_irb *irb);

/* Read IPTC-IIM datasets (0x1C, record, dataset, u16 length - or extended length when its top
 * bit is set), as found in IRB 0x0404 or bare in TIFF tag 33723. Text is kept as UTF-8 (Latin-1
 * when not valid UTF-8). *out is zeroed first. Returns UM_OK or UM_ERR_NOMEM (out cleared). */
um_error um_iptc_read(const uint8_t *iim, size_t size, um_iptc *out);
void um_iptc_clear(um_iptc *iptc);

/* APP12 "Ducky" (Photoshop Save for Web): tag 1 holds the quality as a u32 percent. */
typedef struct um_ducky {
    int has_quality;
    int quality;                 /* 0..100 */
    json_t *json;                /* {"quality": n}; owned */
} um_ducky;

/* Read a Ducky payload (with or without the leading "Ducky" string): records of u16 tag,
 * u16 length, data, until tag 0. Returns UM_OK or UM_ERR_NOMEM. */
um_error um_ducky_read(const uint8_t *payload, size_t size, um_ducky *out);
void um_ducky_clear(um_ducky *d);

#endif
