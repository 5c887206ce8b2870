/* XMP reader: the properties of an XMP packet (RDF/XML) that tell where an image came from - the
 * tool that made it, its edit history, the IPTC digital source type (AI-generated or not), a
 * C2PA manifest it points at - read with expat in namespace mode so that properties are matched
 * by namespace URI, never by prefix (provenance-markers.md 3 and 5.1).
 *
 * Both RDF spellings are read: attribute form (<rdf:Description xmp:CreatorTool="..."/>) and
 * element form (<xmp:CreatorTool>...</xmp:CreatorTool>), including rdf:Seq / rdf:Bag / rdf:Alt
 * lists and structures (rdf:parseType="Resource" or a nested rdf:Description).
 *
 * Hostile input: a DOCTYPE (the only way to declare entities, hence "billion laughs" and external
 * entities) stops the parse at once and is reported; element depth, packet size, list lengths
 * and the history are capped (UM_XMP_MAX_*). */
#ifndef UM_PROV_XMP_H
#define UM_PROV_XMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "unmask.h"

#define UM_XMP_MAX_BYTES (32u << 20) /* larger packets are refused */
#define UM_XMP_MAX_DEPTH 64          /* element nesting */
#define UM_XMP_MAX_HISTORY 1000      /* xmpMM:History events kept in the JSON */
#define UM_XMP_MAX_AGENTS 16         /* distinct softwareAgent values kept in the facts */
#define UM_XMP_MAX_LIST 256          /* items kept per list (dc:creator, DocumentAncestors) */
#define UM_XMP_MAX_TEXT (1u << 20)   /* text kept per property value */

typedef struct um_xmp {
    int packets;                 /* packets read into this struct (main + extended) */
    int well_formed;             /* every packet parsed to its end */
    int refused;                 /* a packet declared a DOCTYPE / entities: parse stopped */

    char creator_tool[256];
    char create_date[64], modify_date[64], metadata_date[64];
    char document_id[128], original_document_id[128], instance_id[128];
    char digital_source_type[256]; /* full URI, from DigitalSourceType or, failing that, the
                                      deprecated DigitalSourcefileType */
    char provenance[512];        /* dcterms:provenance: a JUMBF URI ("self#jumbf=...") of an
                                    embedded manifest or the URL of a remote one */
    char has_extended[64];       /* xmpNote:HasExtendedXMP: GUID of the extended packet */
    char ai_system_used[256];    /* Iptc4xmpExt:AISystemUsed (IPTC 2025.1) */

    int history_events;          /* xmpMM:History events seen */
    int nagents;                 /* distinct stEvt:softwareAgent values, in order of appearance */
    char agents[UM_XMP_MAX_AGENTS][128];
    int document_ancestors;      /* photoshop:DocumentAncestors items: documents pasted/placed */

    json_t *json;                /* the "xmp" fragment; owned, freed by um_xmp_clear */
} um_xmp;

/* Parse one packet (UTF-8 or UTF-16 XML; trailing NULs and padding tolerated) into x. Start
 * from a zeroed struct (um_xmp x = {0}); call again with an extended-XMP packet (or any further
 * packet) to merge its properties into the same facts: a later value replaces an earlier one,
 * lists and the history are appended to. Damaged or refused XML is reported in the JSON
 * ("notes"), whatever was read before the damage is kept. Returns UM_OK, or UM_ERR_NOMEM (x
 * still valid; clear it). */
um_error um_xmp_read(um_xmp *x, const uint8_t *packet, size_t size);

/* Free everything; *x is zeroed. Safe on a zeroed struct. */
void um_xmp_clear(um_xmp *x);

/* The term of a digital source type URI (the part after the last '/', "" if none):
 * "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" ->
 * "trainedAlgorithmicMedia". */
const char *um_xmp_source_type_term(const char *uri);

#endif
