/* Container walkers: find the metadata a file carries, without decoding pixels.
 *
 * One walk per format (JPEG segments, PNG chunks, RIFF/WebP chunks, ISO-BMFF boxes for
 * HEIF/AVIF, TIFF IFDs) lists every metadata payload as a um_segment with its byte range in
 * the file, so that every fact reported later can cite where it came from. Multi-part payloads
 * are reassembled here: a JPEG's APP11 JUMBF packets into one C2PA store, extended XMP chunks
 * into one packet, compressed PNG text is inflated. Every length and offset is checked against
 * the bytes actually present; counts, depths and sizes are capped (UM_PROV_MAX_* below).
 * Nothing here prints, exits or interprets the payloads. */
#ifndef UM_PROV_CONTAINERS_H
#define UM_PROV_CONTAINERS_H

#include <stddef.h>
#include <stdint.h>

#include "io/decode.h"
#include "unmask.h"

#define UM_PROV_MAX_SEGMENTS 4096        /* metadata payloads kept per file */
#define UM_PROV_MAX_BOXES 65536          /* structural spans (markers, chunks, boxes) kept */
#define UM_PROV_MAX_DEPTH 32             /* nesting of BMFF boxes / TIFF IFDs */
#define UM_PROV_MAX_INFLATED (64u << 20) /* a compressed text chunk may inflate to this */
#define UM_PROV_MAX_NOTES 16

typedef enum um_seg_kind {
    UM_SEG_EXIF,          /* TIFF-structured EXIF ("II*\0"/"MM\0*" first), header stripped */
    UM_SEG_XMP,           /* one XMP packet (main), UTF-8 XML */
    UM_SEG_XMP_EXTENDED,  /* JPEG extended XMP, reassembled by GUID in offset order */
    UM_SEG_IRB,           /* Photoshop image resource blocks ("8BIM" ...), APP13 prefix stripped */
    UM_SEG_IPTC,          /* bare IPTC-IIM records (TIFF tag 33723) */
    UM_SEG_COMMENT,       /* JPEG COM */
    UM_SEG_TEXT,          /* a key/value text: PNG tEXt/zTXt/iTXt (key = keyword) */
    UM_SEG_ICC,           /* ICC profile (first chunk only; reported, not parsed) */
    UM_SEG_DUCKY,         /* JPEG APP12 "Ducky" (Photoshop Save for Web) */
    UM_SEG_C2PA,          /* a C2PA manifest store (JUMBF superbox bytes); see um_container.c2pa */
    UM_SEG_TRAILING       /* bytes after the end of the image (JPEG after EOI, PNG after IEND) */
} um_seg_kind;

typedef struct um_segment {
    um_seg_kind kind;
    uint64_t offset, length; /* the whole carrier in the file (marker/chunk/box incl. headers) */
    const uint8_t *data;     /* payload: into the file, or into a buffer the container owns */
    size_t size;
    char key[80];            /* PNG text keyword; otherwise "" */
    char where[48];          /* citation for a person: "APP1", "iTXt", "uuid box", "IFD0 tag 700" */
} um_segment;

/* A structural span for c2pa.hash.boxes: JPEG markers by symbol ("SOI", "APP0".."APP15", "DQT",
 * "SOF0", "DHT", "SOS" - which includes the entropy-coded data up to the next marker that is
 * not RSTn -, "EOI", "C2PA" for the run of C2PA APP11 segments), PNG chunk types with "PNGh"
 * for the 8-byte signature. Only JPEG and PNG fill this list. */
typedef struct um_box_span {
    char name[8];
    uint64_t offset, length;
} um_box_span;

typedef struct um_container {
    um_format format;
    size_t nseg;
    um_segment *seg;
    size_t nbox;
    um_box_span *box;

    /* The C2PA manifest store, when the file embeds one: reassembled bytes (starting at the
     * JUMBF superbox's LBox) and the range of the file its carrier occupies, which is what a
     * c2pa.hash.data exclusion must cover: JPEG - from the FF EB of the first C2PA APP11 segment
     * through the end of the last one; PNG - the whole caBX chunk (length, type, data, CRC);
     * RIFF - the whole C2PA chunk (header, data, pad); BMFF - the whole C2PA uuid box. */
    const uint8_t *c2pa;
    size_t c2pa_size;
    uint64_t c2pa_offset, c2pa_length;
    int c2pa_stores;         /* separate stores seen (> 1 is an error: claim.multiple) */
    int c2pa_broken;         /* APP11 packets out of order, missing, or not contiguous */

    /* Notes for a person about irregularities met while walking (truncated chunk, bad CRC,
     * over a cap, ...): shown in the report's warnings. */
    int nnotes;
    char notes[UM_PROV_MAX_NOTES][160];

    size_t nowned;           /* buffers this container allocated (reassembly, inflation) */
    uint8_t **owned;
} um_container;

/* Walk data (the whole file; format from um_sniff_format). Returns UM_OK even when the walk had
 * to stop early on damaged structure (a note says where); UM_ERR_NOMEM, or UM_ERR_LIMIT when a
 * cap was hit in a way that leaves nothing trustworthy. out is valid until um_container_clear,
 * and points into data: keep data alive as long. */
um_error um_container_walk(const uint8_t *data, size_t size, um_format format,
                           um_container *out, char *err, size_t errlen);
void um_container_clear(um_container *c);

/* First segment of a kind at or after index *from (pass 0 first), NULL if none; *from is
 * advanced past it so a loop visits all of them. */
const um_segment *um_container_next(const um_container *c, um_seg_kind kind, size_t *from);

#endif
