/* JUMBF (ISO/IEC 19566-5) box tree of a C2PA manifest store.
 *
 * The store bytes are parsed once into a flat array of boxes linked as a tree (parent, first
 * child, next sibling, by index). A superbox ("jumb") carries the fields of its description box
 * ("jumd"): type UUID, toggles, label, ID, signature flag and private box (C2PA's salt "c2sh").
 * Content boxes ("cbor", "json", "bfdb", "bidb", "uuid", ...) and unknown boxes are leaves: the
 * caller decides what to read, unknown types are simply never asked for (spec 11.1.2: skip).
 * Every box records its offset and length in the store so a report can cite it.
 * Limits: nesting UM_JUMBF_MAX_DEPTH, UM_JUMBF_MAX_BOXES boxes. Nothing here allocates more than
 * the box array, prints or interprets CBOR. */
#ifndef UM_PROV_JUMBF_H
#define UM_PROV_JUMBF_H

#include <stddef.h>
#include <stdint.h>

#include "unmask.h"

#define UM_JUMBF_MAX_DEPTH 32      /* c2pa-rs MAX_JUMB_DEPTH */
#define UM_JUMBF_MAX_BOXES 65536
#define UM_JUMBF_MAX_LABEL 256     /* longer labels are kept truncated, flagged */

/* jumd toggles (ISO 19566-5 B.3) */
#define UM_JUMD_REQUESTABLE 0x01
#define UM_JUMD_LABEL 0x02
#define UM_JUMD_ID 0x04
#define UM_JUMD_SIGNATURE 0x08
#define UM_JUMD_PRIVATE 0x10

typedef struct um_jumbf_box {
    char type[5];              /* TBox as text, NUL-terminated ("jumb", "cbor", ...) */
    uint64_t offset;           /* of the box header in the store */
    uint64_t length;           /* whole box, header included */
    uint64_t payload_offset;   /* after the 8- or 16-byte header */
    uint64_t payload_length;
    int parent, first_child, next_sibling; /* indices, -1 when none */
    int depth;                 /* 0 for top-level boxes */

    /* Superbox ("jumb") fields, from its jumd box; zero otherwise. */
    int is_super;
    int has_jumd;              /* 0: first child was not a description box (malformed) */
    uint8_t uuid[16];
    uint8_t toggles;
    int has_label, label_truncated;
    char label[UM_JUMBF_MAX_LABEL];
    int has_id;
    uint32_t id;
    int has_signature;
    int has_private;
    char private_type[5];      /* "c2sh" for a C2PA salt */
    uint64_t private_offset, private_length; /* the private box's payload */
} um_jumbf_box;

typedef struct um_jumbf_tree {
    const uint8_t *data;       /* the store (not owned) */
    size_t size;
    size_t n, cap;
    um_jumbf_box *box;
    int malformed;             /* a length or structure error stopped part of the walk */
    char why[160];             /* first problem, for a person */
} um_jumbf_tree;

/* Parse data[0..size) (a sequence of top-level boxes; a C2PA store is one "jumb"). Returns UM_OK
 * even when the structure is damaged (tree->malformed, tree->why say so and the boxes parsed up
 * to there are kept), UM_ERR_NOMEM, or UM_ERR_LIMIT when more than UM_JUMBF_MAX_BOXES boxes. */
um_error um_jumbf_parse(const uint8_t *data, size_t size, um_jumbf_tree *out);
void um_jumbf_clear(um_jumbf_tree *t);

/* Does the superbox's type UUID equal the C2PA 4-character type `fourcc` ("c2pa", "c2ma",
 * "cbor", ...) followed by the common tail 0011-0010-8000-00AA00389B71? */
int um_jumbf_is_type(const um_jumbf_box *b, const char *fourcc);

/* The child superbox of `parent` (-1: top level) whose label is `label`; -1 if none. With
 * `nth` > 0, the nth such child (for duplicate detection). */
int um_jumbf_child_by_label(const um_jumbf_tree *t, int parent, const char *label, int nth);

/* First child (content box, not superbox) of `parent` whose TBox is `type`; -1 if none. */
int um_jumbf_content(const um_jumbf_tree *t, int parent, const char *type);

/* Pointer to a box's payload bytes in the store. */
const uint8_t *um_jumbf_payload(const um_jumbf_tree *t, int idx, size_t *len);

#endif
