/* HEIF/HEIC (HEVC) and AVIF (AV1) through libheif: the primary image, with the container's
 * transformations applied as any viewer shows it, as interleaved RGB; 8-bit directly, 10/12-bit
 * through 16-bit samples scaled to 0..255. The primary image's size is checked against the
 * limits before it is decoded, and libheif's own size limit is set to ours as a second guard. */
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

#include "io/decoders.h"

static const char *label(um_format f) { return f == UM_FORMAT_AVIF ? "AVIF" : "HEIF"; }

static um_error heif_failure(struct heif_error he, um_format f, char *err, size_t errlen)
{
    if (he.subcode == heif_suberror_Security_limit_exceeded)
        return um_fail(err, errlen, UM_ERR_LIMIT, "%s image is over libheif's size limit: %s",
                       label(f), he.message ? he.message : "");
    if (he.code == heif_error_Unsupported_feature || he.code == heif_error_Unsupported_filetype ||
        he.code == heif_error_Plugin_loading_error)
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED, "%s image cannot be decoded here: %s",
                       label(f), he.message ? he.message : "unsupported feature");
    if (he.code == heif_error_Memory_allocation_error)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the %s image", label(f));
    return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt %s: %s", label(f),
                   he.message ? he.message : "the file does not decode");
}

/* ---- derivation graph check (ISO/IEC 14496-12 8.11.12 'iref', 23008-12 6.6 derived images) --
 * libheif 1.15 follows 'dimg' references recursively without looking for cycles: a grid that
 * names itself as a tile recurses until the stack (or, threaded, the process) dies. Before
 * libheif sees the file, read the top-level 'meta' box's 'iref' ourselves and refuse any cycle
 * or any derivation chain deeper than real files use. Every length is checked. */

#define HEIF_MAX_DERIVATION_DEPTH 8
#define HEIF_MAX_REFERENCES 65536

struct heif_edge {
    uint32_t from, to;
};

struct heif_graph {
    struct heif_edge *edges;
    size_t count, cap;
    uint8_t *state; /* per edge group (indexed by its first edge): 0 new, 1 open, 2 done */
    uint8_t *height; /* per edge group once done: the longest derivation chain below it */
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The child box of the given type inside [p, p+len): its payload, or 0 when absent/damaged. */
static int find_box(const uint8_t *p, size_t len, const char *type, const uint8_t **body,
                    size_t *body_len)
{
    size_t pos = 0;
    while (len - pos >= 8) {
        uint64_t size = rd32(p + pos);
        size_t header = 8;
        if (size == 1) {
            if (len - pos < 16)
                return 0;
            size = (uint64_t)rd32(p + pos + 8) << 32 | rd32(p + pos + 12);
            header = 16;
        } else if (size == 0) {
            size = len - pos;
        }
        if (size < header || size > len - pos)
            return 0;
        if (memcmp(p + pos + 4, type, 4) == 0) {
            *body = p + pos + header;
            *body_len = (size_t)size - header;
            return 1;
        }
        pos += (size_t)size;
    }
    return 0;
}

static int add_edge(struct heif_graph *g, uint32_t from, uint32_t to)
{
    if (g->count >= HEIF_MAX_REFERENCES)
        return 0;
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        struct heif_edge *e = realloc(g->edges, cap * sizeof *e);
        if (!e)
            return 0;
        g->edges = e;
        g->cap = cap;
    }
    g->edges[g->count].from = from;
    g->edges[g->count].to = to;
    g->count++;
    return 1;
}

enum { IREF_OK = 1, IREF_TOO_MANY = 0, IREF_DAMAGED = -1 };

/* 'iref' payload: FullBox header, then SingleItemTypeReferenceBox(es): from_item_ID,
 * reference_count, to_item_IDs (16-bit ids in version 0, 32-bit in version 1). A damaged
 * reference box is refused, not left to libheif: libheif 1.15 reads past a child box whose size
 * overruns its 'iref' and then follows the references it finds there without a cycle check
 * (found by fuzzing: a grid naming itself behind a corrupt size overflowed the stack). */
static int read_dimg_edges(const uint8_t *iref, size_t len, struct heif_graph *g)
{
    if (len < 4)
        return IREF_DAMAGED;
    size_t id = iref[0] == 0 ? 2 : 4;
    const uint8_t *p = iref + 4;
    size_t rest = len - 4, pos = 0;
    while (rest - pos >= 8) {
        uint32_t size = rd32(p + pos);
        if (size < 8 || size > rest - pos)
            return IREF_DAMAGED;
        const uint8_t *b = p + pos + 8;
        size_t blen = size - 8;
        /* dimg: a derived image is decoded from the items it names. auxl: an auxiliary image
         * (alpha, depth) names its master, which decodes it too, so the edge runs backwards. */
        int dimg = memcmp(p + pos + 4, "dimg", 4) == 0, auxl = memcmp(p + pos + 4, "auxl", 4) == 0;
        if ((dimg || auxl) && blen >= id + 2) {
            uint32_t from = id == 2 ? (uint32_t)(b[0] << 8 | b[1]) : rd32(b);
            size_t n = (size_t)(b[id] << 8 | b[id + 1]);
            for (size_t i = 0; i < n && id + 2 + (i + 1) * id <= blen; i++) {
                const uint8_t *q = b + id + 2 + i * id;
                uint32_t to = id == 2 ? (uint32_t)(q[0] << 8 | q[1]) : rd32(q);
                if (!(dimg ? add_edge(g, from, to) : add_edge(g, to, from)))
                    return IREF_TOO_MANY;
            }
        }
        pos += size;
    }
    return pos == rest ? IREF_OK : IREF_DAMAGED; /* trailing bytes too short for a box */
}

static int edge_order(const void *a, const void *b)
{
    const struct heif_edge *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from ? 1 : 0;
}

/* Index of the first edge leaving item, or g->count. */
static size_t first_edge(const struct heif_graph *g, uint32_t item)
{
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->edges[mid].from < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->count && g->edges[lo].from == item ? lo : g->count;
}

/* Depth-first walk: the length of the longest derivation chain from item (0 for an item
 * derived from nothing), or -1 on a cycle or a chain longer than the limit. Each item is
 * expanded once and its height remembered, so a chain reached from any side is measured whole
 * and the recursion never goes deeper than the limit. */
static int derivation_height(struct heif_graph *g, uint32_t item, int depth)
{
    size_t k = first_edge(g, item);
    if (k == g->count)
        return 0;
    if (g->state[k] == 2)
        return g->height[k];
    if (g->state[k] == 1 || depth >= HEIF_MAX_DERIVATION_DEPTH)
        return -1; /* back to an item still being expanded (a cycle), or too deep */
    g->state[k] = 1;
    int height = 0;
    for (size_t j = k; j < g->count && g->edges[j].from == item; j++) {
        int h = derivation_height(g, g->edges[j].to, depth + 1);
        if (h < 0 || h + 1 > HEIF_MAX_DERIVATION_DEPTH)
            return -1;
        height = h + 1 > height ? h + 1 : height;
    }
    g->state[k] = 2;
    g->height[k] = (uint8_t)height;
    return height;
}

static um_error check_derivations(const uint8_t *data, size_t size, um_format f, char *err,
                                  size_t errlen)
{
    const uint8_t *meta, *iref;
    size_t meta_len, iref_len;
    if (!find_box(data, size, "meta", &meta, &meta_len) || meta_len < 4 ||
        !find_box(meta + 4, meta_len - 4, "iref", &iref, &iref_len))
        return UM_OK; /* nothing derived (or damaged: libheif reports it) */
    struct heif_graph g = {0};
    um_error e = UM_OK;
    int edges = read_dimg_edges(iref, iref_len, &g);
    if (edges == IREF_DAMAGED) {
        e = um_fail(err, errlen, UM_ERR_CORRUPT,
                    "corrupt %s: its item reference box ('iref') is damaged", label(f));
    } else if (edges == IREF_TOO_MANY) {
        e = um_fail(err, errlen, UM_ERR_LIMIT,
                    "%s image has more than %d derived-image references; refusing to read it",
                    label(f), HEIF_MAX_REFERENCES);
    } else if (g.count > 0) {
        qsort(g.edges, g.count, sizeof *g.edges, edge_order);
        g.state = calloc(g.count, 1);
        g.height = calloc(g.count, 1);
        if (!g.state || !g.height)
            e = um_fail(err, errlen, UM_ERR_NOMEM, "out of memory reading the %s image",
                        label(f));
        for (size_t k = 0; e == UM_OK && k < g.count; k++)
            if (derivation_height(&g, g.edges[k].from, 0) < 0)
                e = um_fail(err, errlen, UM_ERR_CORRUPT,
                            "corrupt %s: an image is derived from itself or through more "
                            "than %d levels",
                            label(f), HEIF_MAX_DERIVATION_DEPTH);
    }
    free(g.edges);
    free(g.state);
    free(g.height);
    return e;
}

static int have_decoder(enum heif_compression_format format, const char *id)
{
    const struct heif_decoder_descriptor *list[16];
    int n = heif_get_decoder_descriptors(format, list, 16);
    for (int i = 0; i < n; i++) {
        const char *name = heif_decoder_descriptor_get_id_name(list[i]);
        if (name && strcmp(name, id) == 0)
            return 1;
    }
    return 0;
}

static um_error decode_primary(struct heif_image_handle *h, um_format f, um_decoded *out,
                               char *err, size_t errlen)
{
    int bits = heif_image_handle_get_luma_bits_per_pixel(h);
    enum heif_chroma chroma = bits > 8 ? heif_chroma_interleaved_RRGGBB_LE
                                       : heif_chroma_interleaved_RGB;
    struct heif_image *img = NULL;
    struct heif_decoding_options *opts = heif_decoding_options_alloc();
    if (!opts)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the %s image", label(f));
    /* dav1d, libheif's first choice for AV1, logs to stderr on bad streams and libheif 1.15
     * cannot silence it; libaom decodes the same streams quietly. libheif 1.15 cannot tell us
     * the codec before decoding (and the brands may lie), so ask for aom and fall back to the
     * default plugin when the image is not AV1 (libheif then reports no matching decoder). */
    int prefer_aom = opts->version >= 4 && have_decoder(heif_compression_AV1, "aom");
    if (prefer_aom)
        opts->decoder_id = "aom";
    struct heif_error he = heif_decode_image(h, &img, heif_colorspace_RGB, chroma, opts);
    if (prefer_aom && he.code == heif_error_Plugin_loading_error) {
        opts->decoder_id = NULL;
        he = heif_decode_image(h, &img, heif_colorspace_RGB, chroma, opts);
    }
    heif_decoding_options_free(opts);
    if (he.code != heif_error_Ok)
        return heif_failure(he, f, err, errlen);
    um_error e = UM_OK;
    int stride = 0;
    const uint8_t *px = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    int w = heif_image_get_width(img, heif_channel_interleaved);
    int hh = heif_image_get_height(img, heif_channel_interleaved);
    int range = bits > 8 ? heif_image_get_bits_per_pixel_range(img, heif_channel_interleaved) : 8;
    if (!px || stride <= 0 || w != out->width || hh != out->height || range < 8 || range > 16)
        e = um_fail(err, errlen, UM_ERR_CORRUPT,
                    "corrupt %s: the decoded image does not match its header", label(f));
    else if ((out->rgb = um_alloc_rgb(w, hh, err, errlen)) == NULL)
        e = UM_ERR_NOMEM;
    else {
        /* Interleaved RGB; two bytes (little-endian) per sample above 8 bits, of which
         * `range` are used. */
        struct um_row_layout layout = {3, bits > 8, 0, range};
        for (int y = 0; y < hh; y++)
            um_store_row(out->rgb, y, px + (size_t)y * (size_t)stride, &layout);
    }
    out->bit_depth = bits > 8 ? 16 : 8;
    heif_image_release(img);
    return e;
}

um_error um_decode_heif(const uint8_t *data, size_t size, const um_limits *limits,
                        um_format format, um_decoded *out, char *err, size_t errlen)
{
    um_error e = check_derivations(data, size, format, err, errlen);
    if (e != UM_OK)
        return e;
    struct heif_context *ctx = heif_context_alloc();
    if (!ctx)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the %s image",
                       label(format));
    /* libheif refuses any image with a side at or over this (a second guard; ours is below). */
    heif_context_set_maximum_image_size_limit(ctx, (int)(limits->max_dimension < 0x7FFFFFFE
                                                             ? limits->max_dimension + 1
                                                             : 0x7FFFFFFF));
    /* Grid images: libheif 1.15 starts threads per tile and aborts the process (an uncaught
     * std::system_error) when a hostile grid asks for more than the system gives. Decode tiles
     * in the calling thread; unmask parallelises across detectors instead. */
    heif_context_set_max_decoding_threads(ctx, 0);
    struct heif_image_handle *h = NULL;
    struct heif_error he = heif_context_read_from_memory_without_copy(ctx, data, size, NULL);
    if (he.code == heif_error_Ok)
        he = heif_context_get_primary_image_handle(ctx, &h);
    if (he.code != heif_error_Ok) {
        e = heif_failure(he, format, err, errlen);
    } else {
        int w = heif_image_handle_get_width(h), hh = heif_image_handle_get_height(h);
        e = um_check_size((uint64_t)(w > 0 ? w : 0), (uint64_t)(hh > 0 ? hh : 0), limits,
                          label(format), err, errlen);
        if (e == UM_OK) {
            out->width = w;
            out->height = hh;
            out->has_alpha = heif_image_handle_has_alpha_channel(h) != 0;
            out->source_channels = out->has_alpha ? 4 : 3;
            e = decode_primary(h, format, out, err, errlen);
        }
    }
    if (h)
        heif_image_handle_release(h);
    heif_context_free(ctx);
    return e;
}
