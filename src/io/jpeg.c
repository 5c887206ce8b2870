/* JPEG through libjpeg(-turbo): the quantized DCT coefficients and quantization tables exactly as
 * stored (jpeg_read_coefficients), the pixels (a second, ordinary decompression of the same
 * bytes), and what the marker segments say (EXIF, an embedded thumbnail, bytes after EOI).
 *
 * Hostile input: libjpeg reports errors through error_exit, which here longjmps back with its
 * message (never exit()); the "data ran out" warnings end decoding as corrupt rather than
 * producing pixels from the grey padding libjpeg would invent; the size is checked against the
 * limits after the header and before any image-sized allocation; progressive files are cut off
 * after UM_MAX_JPEG_SCANS scans by a progress monitor; our own marker walk is bounded by the
 * buffer and by UM_MAX_JPEG_SEGMENTS. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "io/decoders.h"
#include "io/limits.h"

/* ---------------------------------------------------------------------------------------------
 * Error handling shared by decoding and encoding */

struct jpeg_failure {
    struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
    jmp_buf jump;
    int truncated;  /* libjpeg ran out of data */
    int damaged;    /* libjpeg met undecodable entropy-coded data */
    int too_many_scans;
    char message[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo)
{
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->message);
    longjmp(f->jump, 1);
}

/* libjpeg warns and carries on (filling with zeros) when the data ends early or is damaged.
 * For forensics such pixels are invented, so these warnings end decoding. Harmless warnings
 * (extraneous bytes between markers, odd progression, Adobe transform) are only counted. */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    if (level >= 0)
        return; /* trace messages */
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)
        f->truncated = 1;
    else if (code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC)
        f->damaged = 1;
    if (f->truncated || f->damaged) {
        (*cinfo->err->format_message)(cinfo, f->message);
        longjmp(f->jump, 1);
    }
    cinfo->err->num_warnings++;
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; /* the library never prints */ }

static void install_failure(struct jpeg_failure *f)
{
    jpeg_std_error(&f->pub);
    f->pub.error_exit = on_error_exit;
    f->pub.emit_message = on_emit_message;
    f->pub.output_message = on_output_message;
}

/* libjpeg-turbo does not cap the number of progressive scans by default; a hostile file can
 * repeat tiny scans over a large image for a very long time. */
static void on_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor)
        return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > UM_MAX_JPEG_SCANS) {
        struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
        f->too_many_scans = 1;
        longjmp(f->jump, 1);
    }
}

static um_error failure_to_error(const struct jpeg_failure *f, char *err, size_t errlen)
{
    if (f->truncated)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "truncated JPEG: the file ends before the image data is complete");
    if (f->too_many_scans)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "progressive JPEG has more than %d scans; refusing to decode it",
                       UM_MAX_JPEG_SCANS);
    if (f->pub.msg_code == JERR_OUT_OF_MEMORY)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt JPEG: %s", f->message);
}

/* ---------------------------------------------------------------------------------------------
 * Our own walk over the marker segments (ITU-T T.81 B.1): what libjpeg does not tell us. */

struct marker_walk {
    uint8_t scanned[256]; /* component ids named by some SOS header */
    int segment_count;
    int too_many_segments;
    int exif_present;
    int exif_thumbnail;
    uint64_t trailing_bytes;
};

static size_t be16_at(const uint8_t *p) { return (size_t)p[0] << 8 | p[1]; }

/* APP1 "Exif\0": a thumbnail is a complete JPEG stored inside it (EXIF 2.3 4.5.4), whose SOI and
 * first marker appear as FF D8 FF in the payload. */
static void inspect_app1(const uint8_t *payload, size_t len, struct marker_walk *w)
{
    if (len < 6 || memcmp(payload, "Exif\0", 5) != 0)
        return;
    w->exif_present = 1;
    for (size_t i = 6; i + 3 <= len; i++) {
        if (payload[i] == 0xFF && payload[i + 1] == 0xD8 && payload[i + 2] == 0xFF) {
            w->exif_thumbnail = 1;
            return;
        }
    }
}

/* SOS header (T.81 B.2.3): Ns, then Ns pairs (Cs, Td/Ta). */
static void note_scan_components(const uint8_t *p, size_t len, struct marker_walk *w)
{
    if (len < 1)
        return;
    for (size_t i = 0; i < p[0] && 1 + 2 * i < len; i++)
        w->scanned[p[1 + 2 * i]] = 1;
}

/* Entropy-coded data (T.81 B.1.1.5): FF 00 is a stuffed FF and FF D0..D7 a restart marker,
 * both part of the data; fill bytes FF may precede a marker. Returns the offset of the FF that
 * introduces the next real marker, or size when the data runs to the end. */
static size_t skip_entropy_data(const uint8_t *d, size_t size, size_t pos)
{
    while (pos < size) {
        const uint8_t *ff = memchr(d + pos, 0xFF, size - pos);
        if (!ff)
            return size;
        size_t i = (size_t)(ff - d), j = i + 1;
        while (j < size && d[j] == 0xFF)
            j++;
        if (j >= size)
            return size;
        if (d[j] == 0x00 || (d[j] >= 0xD0 && d[j] <= 0xD7)) {
            pos = j + 1;
            continue;
        }
        return j - 1;
    }
    return size;
}

/* Walks from after SOI to the EOI that ends the image. Marker segments are counted up to the
 * first SOS; after it, scans and the tables between them are skipped until EOI, and whatever
 * follows EOI is trailing data (appended files, a second image, hidden payloads). Every length
 * is checked against the buffer; a walk that runs off the end simply stops (libjpeg reports
 * the truncation). */
static void walk_markers(const uint8_t *d, size_t size, struct marker_walk *w)
{
    memset(w, 0, sizeof *w);
    int seen_sos = 0;
    size_t pos = 2;
    while (pos + 1 < size) {
        if (d[pos] != 0xFF) { /* stray bytes between segments: skip to the next FF */
            const uint8_t *ff = memchr(d + pos, 0xFF, size - pos);
            if (!ff)
                return;
            pos = (size_t)(ff - d);
            continue;
        }
        while (pos + 1 < size && d[pos + 1] == 0xFF)
            pos++; /* fill bytes */
        if (pos + 1 >= size)
            return;
        uint8_t m = d[pos + 1];
        pos += 2;
        if (m == 0xD9) {
            w->trailing_bytes = size - pos;
            return;
        }
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8))
            continue; /* no length field */
        if (pos + 2 > size)
            return;
        size_t len = be16_at(d + pos);
        if (len < 2 || len > size - pos)
            return;
        if (!seen_sos && ++w->segment_count > UM_MAX_JPEG_SEGMENTS) {
            w->too_many_segments = 1;
            return;
        }
        if (m == 0xE1)
            inspect_app1(d + pos + 2, len - 2, w);
        if (m == 0xDA)
            note_scan_components(d + pos + 2, len - 2, w);
        pos += len;
        if (m == 0xDA) {
            seen_sos = 1;
            pos = skip_entropy_data(d, size, pos);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * The reader every pass uses: header, limits, then coefficients and tables (pass 1), pixels
 * (pass 2) or a reduced decode. */

struct jpeg_reader {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure fail;
    struct jpeg_progress_mgr progress;
    JSAMPLE *row;
};

static struct jpeg_reader *reader_open(void)
{
    struct jpeg_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    install_failure(&r->fail);
    r->cinfo.err = &r->fail.pub;
    return r;
}

/* Only call after jpeg_create_decompress succeeded (r->cinfo.mem set). */
static void reader_close(struct jpeg_reader *r)
{
    if (!r)
        return;
    if (r->cinfo.mem)
        jpeg_destroy_decompress(&r->cinfo);
    free(r->row);
    free(r);
}

static void reader_start(struct jpeg_reader *r, const uint8_t *data, size_t size)
{
    jpeg_create_decompress(&r->cinfo);
    r->progress.progress_monitor = on_progress;
    r->cinfo.progress = &r->progress;
    jpeg_mem_src(&r->cinfo, data, (unsigned long)size);
}

static um_error check_header(struct jpeg_decompress_struct *cinfo, const um_limits *limits,
                             char *err, size_t errlen)
{
    um_error e = um_check_size(cinfo->image_width, cinfo->image_height, limits, "JPEG", err,
                               errlen);
    if (e != UM_OK)
        return e;
    int n = cinfo->num_components;
    J_COLOR_SPACE cs = cinfo->jpeg_color_space;
    int known = (n == 1 && cs == JCS_GRAYSCALE) || (n == 3 && (cs == JCS_YCbCr || cs == JCS_RGB)) ||
                (n == 4 && (cs == JCS_CMYK || cs == JCS_YCCK));
    if (!known)
        return um_fail(err, errlen, UM_ERR_UNSUPPORTED,
                       "JPEG with %d colour components in a colour space unmask cannot convert "
                       "to RGB",
                       n);
    return UM_OK;
}

/* The head every pass shares, called right after its setjmp: the source, the header (an image,
 * not only tables) and the checks before any image-sized allocation. */
static um_error read_checked_header(struct jpeg_reader *r, const uint8_t *data, size_t size,
                                    const um_limits *limits, char *err, size_t errlen)
{
    reader_start(r, data, size);
    if (jpeg_read_header(&r->cinfo, TRUE) != JPEG_HEADER_OK)
        return um_fail(err, errlen, UM_ERR_CORRUPT, "corrupt JPEG: it holds tables but no image");
    return check_header(&r->cinfo, limits, err, errlen);
}

/* One pass over the file: what it does after the checked header. Whatever it stores for its
 * caller goes through ctx (memory outside this frame, so a longjmp back leaves it intact). */
typedef um_error (*jpeg_pass)(struct jpeg_reader *r, void *ctx, char *err, size_t errlen);

/* Every pass runs here: the one setjmp that libjpeg's errors come back to (the frame must stay
 * alive while libjpeg runs, so it cannot live in a helper that returns), the checked header,
 * the pass, the clean-up. */
static um_error run_pass(const uint8_t *data, size_t size, const um_limits *limits,
                         jpeg_pass pass, void *ctx, char *err, size_t errlen)
{
    struct jpeg_reader *r = reader_open();
    if (!r)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    um_error e;
    if (setjmp(r->fail.jump)) {
        e = failure_to_error(&r->fail, err, errlen);
    } else {
        e = read_checked_header(r, data, size, limits, err, errlen);
        if (e == UM_OK)
            e = pass(r, ctx, err, errlen);
    }
    reader_close(r);
    return e;
}

/* libjpeg accepts a component that no scan ever codes (its blocks are then zeros in a
 * progressive file, uninitialised in a sequential one) and checks a component's table only when
 * a scan uses it. Both make coefficients that are not the file's: refuse them. */
static um_error check_components(j_decompress_ptr cinfo, const struct marker_walk *walk,
                                 char *err, size_t errlen)
{
    for (int ci = 0; ci < cinfo->num_components; ci++) {
        const jpeg_component_info *comp = cinfo->comp_info + ci;
        int t = comp->quant_tbl_no;
        if (t < 0 || t >= 4 || (!comp->quant_table && !cinfo->quant_tbl_ptrs[t]))
            return um_fail(err, errlen, UM_ERR_CORRUPT,
                           "corrupt JPEG: component %d uses quantization table %d, which the "
                           "file never defines",
                           comp->component_id, t);
        if (comp->component_id < 0 || comp->component_id > 255 ||
            !walk->scanned[comp->component_id])
            return um_fail(err, errlen, UM_ERR_CORRUPT,
                           "corrupt JPEG: component %d is declared but never coded in any scan",
                           comp->component_id);
    }
    return UM_OK;
}

static um_error copy_component(j_decompress_ptr cinfo, jvirt_barray_ptr array, int ci,
                               um_jpeg_component *dst, char *err, size_t errlen)
{
    const jpeg_component_info *comp = cinfo->comp_info + ci;
    dst->id = comp->component_id;
    dst->h_samp = comp->h_samp_factor;
    dst->v_samp = comp->v_samp_factor;
    dst->quant_index = comp->quant_tbl_no;
    /* The blocks that cover the component; libjpeg's MCU padding blocks are left out (they are
     * not always decoded, and no pixel of the image comes from them). */
    dst->blocks_w = (int)comp->width_in_blocks;
    dst->blocks_h = (int)comp->height_in_blocks;
    size_t count = (size_t)dst->blocks_w * (size_t)dst->blocks_h * 64;
    dst->coef = malloc(count * sizeof(int16_t) + 1);
    if (!dst->coef)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory for the JPEG coefficients");
    for (int by = 0; by < dst->blocks_h; by++) {
        JBLOCKARRAY rows = (*cinfo->mem->access_virt_barray)((j_common_ptr)cinfo, array,
                                                             (JDIMENSION)by, 1, FALSE);
        int16_t *out = dst->coef + (size_t)by * dst->blocks_w * 64;
        for (int bx = 0; bx < dst->blocks_w; bx++)
            for (int k = 0; k < 64; k++) /* JBLOCK is natural order already */
                out[(size_t)bx * 64 + k] = (int16_t)rows[0][bx][k];
    }
    return UM_OK;
}

static void copy_tables_and_flags(j_decompress_ptr cinfo, um_jpeg_info *info)
{
    for (int t = 0; t < 4; t++) {
        const JQUANT_TBL *q = cinfo->quant_tbl_ptrs[t];
        info->qtable_present[t] = q != NULL;
        if (q)
            for (int k = 0; k < 64; k++) /* quantval is natural order */
                info->qtable[t][k] = q->quantval[k];
    }
    /* A table redefined between scans: the coefficients were quantized with the copy libjpeg
     * latched when the component's first scan began, so that is the one to report. */
    for (int ci = 0; ci < cinfo->num_components; ci++) {
        const jpeg_component_info *comp = cinfo->comp_info + ci;
        if (comp->quant_table && comp->quant_tbl_no >= 0 && comp->quant_tbl_no < 4) {
            info->qtable_present[comp->quant_tbl_no] = 1;
            for (int k = 0; k < 64; k++)
                info->qtable[comp->quant_tbl_no][k] = comp->quant_table->quantval[k];
        }
    }
    info->num_components = cinfo->num_components;
    info->progressive = cinfo->progressive_mode != 0;
    info->arithmetic = cinfo->arith_code != 0;
    info->restart_interval = (int)cinfo->restart_interval;
    info->jfif = cinfo->saw_JFIF_marker != 0;
    info->adobe = cinfo->saw_Adobe_marker != 0;
    info->adobe_transform = cinfo->saw_Adobe_marker ? cinfo->Adobe_transform : -1;
    info->color_space = (int)cinfo->jpeg_color_space;
}

struct coefficients_pass {
    const struct marker_walk *walk;
    um_decoded *out;
};

static um_error read_coefficients(struct jpeg_reader *r, void *ctx, char *err, size_t errlen)
{
    struct coefficients_pass *c = ctx;
    um_decoded *out = c->out;
    out->width = (int)r->cinfo.image_width;
    out->height = (int)r->cinfo.image_height;
    out->bit_depth = 8;
    out->source_channels = r->cinfo.num_components;
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(&r->cinfo);
    um_error e = check_components(&r->cinfo, c->walk, err, errlen);
    for (int ci = 0; ci < r->cinfo.num_components && e == UM_OK; ci++)
        e = copy_component(&r->cinfo, arrays[ci], ci, &out->jpeg->comp[ci], err, errlen);
    if (e != UM_OK)
        return e;
    copy_tables_and_flags(&r->cinfo, out->jpeg);
    jpeg_finish_decompress(&r->cinfo);
    return UM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Pass 2: pixels, as any viewer would show them (ISLOW IDCT, fancy upsampling). */

static void store_row(const JSAMPLE *row, int ncomp, int adobe, um_image *img, int y)
{
    size_t w = (size_t)img->width, base = (size_t)y * w;
    float *r = um_image_plane(img, 0) + base, *g = um_image_plane(img, 1) + base,
          *b = um_image_plane(img, 2) + base;
    for (size_t x = 0; x < w; x++) {
        const JSAMPLE *p = row + x * (size_t)ncomp;
        if (ncomp == 1) {
            r[x] = g[x] = b[x] = p[0];
        } else if (ncomp == 3) {
            r[x] = p[0];
            g[x] = p[1];
            b[x] = p[2];
        } else {
            /* CMYK: Adobe writes the inks inverted (255 = no ink), others plain. */
            float c = p[0], m = p[1], yy = p[2], k = p[3];
            if (!adobe) {
                c = 255.0f - c;
                m = 255.0f - m;
                yy = 255.0f - yy;
                k = 255.0f - k;
            }
            r[x] = c * k / 255.0f;
            g[x] = m * k / 255.0f;
            b[x] = yy * k / 255.0f;
        }
    }
}

/* Decompression to RGB (or gray) samples with the ISLOW IDCT; libjpeg converts YCbCr and YCCK,
 * store_row the CMYK inks. */
static void start_output(j_decompress_ptr cinfo)
{
    J_COLOR_SPACE cs = cinfo->jpeg_color_space;
    cinfo->out_color_space = cs == JCS_GRAYSCALE                 ? JCS_GRAYSCALE
                             : (cs == JCS_CMYK || cs == JCS_YCCK) ? JCS_CMYK
                                                                  : JCS_RGB;
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(cinfo);
}

/* Every output row into img (output_width x output_height, 3 channels), then the end of the
 * decompression. */
static um_error read_rows(struct jpeg_reader *r, um_image *img, char *err, size_t errlen)
{
    int ncomp = r->cinfo.output_components;
    r->row = malloc((size_t)img->width * (size_t)ncomp);
    if (!r->row)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    while (r->cinfo.output_scanline < r->cinfo.output_height) {
        int y = (int)r->cinfo.output_scanline;
        JSAMPROW rows[1] = {r->row};
        if (jpeg_read_scanlines(&r->cinfo, rows, 1) != 1)
            return um_fail(err, errlen, UM_ERR_CORRUPT,
                           "truncated JPEG: the file ends before the image data is complete");
        store_row(r->row, ncomp, r->cinfo.saw_Adobe_marker, img, y);
    }
    jpeg_finish_decompress(&r->cinfo);
    return UM_OK;
}

static um_error read_pixels(struct jpeg_reader *r, void *ctx, char *err, size_t errlen)
{
    um_decoded *out = ctx;
    start_output(&r->cinfo);
    if ((int)r->cinfo.output_width != out->width || (int)r->cinfo.output_height != out->height)
        return um_fail(err, errlen, UM_ERR_CORRUPT,
                       "corrupt JPEG: decoded size differs from the header");
    out->rgb = um_alloc_rgb(out->width, out->height, err, errlen);
    if (!out->rgb)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    return read_rows(r, out->rgb, err, errlen);
}

/* ---------------------------------------------------------------------------------------------
 * Reduced decode through libjpeg's DCT scaling (scale_num / scale_denom: the IDCT of the
 * low-frequency coefficients only), for comparisons at a few hundred pixels (io/preview.c). */

/* The smallest scale 1/1, 1/2, 1/4, 1/8 that still keeps the longest side >= max_side, so an
 * area average after it works from at least as many pixels as it outputs. */
static unsigned choose_denominator(unsigned w, unsigned h, int max_side)
{
    unsigned longest = w > h ? w : h;
    unsigned denom = 1;
    while (denom < 8 && max_side > 0 && (longest + 2u * denom - 1) / (2u * denom) >= (unsigned)max_side)
        denom *= 2;
    return denom;
}

struct scaled_pass {
    int max_side;
    um_image *img;
};

static um_error read_scaled(struct jpeg_reader *r, void *ctx, char *err, size_t errlen)
{
    struct scaled_pass *c = ctx;
    r->cinfo.scale_num = 1;
    r->cinfo.scale_denom = choose_denominator(r->cinfo.image_width, r->cinfo.image_height,
                                              c->max_side);
    start_output(&r->cinfo);
    c->img = um_image_new((int)r->cinfo.output_width, (int)r->cinfo.output_height, 3);
    if (!c->img)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    return read_rows(r, c->img, err, errlen);
}

um_error um_decode_jpeg_scaled(const uint8_t *data, size_t size, const um_limits *limits,
                               int max_side, um_image **out, char *err, size_t errlen)
{
    struct scaled_pass c = {max_side, NULL};
    um_error e = run_pass(data, size, limits, read_scaled, &c, err, errlen);
    if (e != UM_OK) {
        um_image_free(c.img);
        c.img = NULL;
    }
    *out = c.img;
    return e;
}

/* Our marker walk, refused past UM_MAX_JPEG_SEGMENTS segments before the image data. */
static um_error walk_markers_checked(const uint8_t *data, size_t size, struct marker_walk *walk,
                                     char *err, size_t errlen)
{
    walk_markers(data, size, walk);
    if (walk->too_many_segments)
        return um_fail(err, errlen, UM_ERR_LIMIT,
                       "JPEG has more than %d marker segments before its image data; refusing "
                       "to read it",
                       UM_MAX_JPEG_SEGMENTS);
    return UM_OK;
}

static void copy_walk_facts(const struct marker_walk *walk, um_jpeg_info *info)
{
    info->exif_present = walk->exif_present;
    info->exif_thumbnail = walk->exif_thumbnail;
    info->segment_count = walk->segment_count;
    info->trailing_bytes = walk->trailing_bytes;
}

struct header_pass {
    um_jpeg_info *info;
    int *width, *height;
};

static um_error read_header_facts(struct jpeg_reader *r, void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct header_pass *c = ctx;
    *c->width = (int)r->cinfo.image_width;
    *c->height = (int)r->cinfo.image_height;
    for (int ci = 0; ci < r->cinfo.num_components && ci < 4; ci++) {
        const jpeg_component_info *comp = r->cinfo.comp_info + ci;
        c->info->comp[ci].id = comp->component_id;
        c->info->comp[ci].h_samp = comp->h_samp_factor;
        c->info->comp[ci].v_samp = comp->v_samp_factor;
        c->info->comp[ci].quant_index = comp->quant_tbl_no;
    }
    copy_tables_and_flags(&r->cinfo, c->info);
    return UM_OK;
}

um_error um_jpeg_read_header(const uint8_t *data, size_t size, const um_limits *limits,
                             um_jpeg_info *info, int *width, int *height, char *err,
                             size_t errlen)
{
    memset(info, 0, sizeof *info);
    struct marker_walk walk;
    um_error e = walk_markers_checked(data, size, &walk, err, errlen);
    if (e != UM_OK)
        return e;
    struct header_pass c = {info, width, height};
    e = run_pass(data, size, limits, read_header_facts, &c, err, errlen);
    if (e == UM_OK)
        copy_walk_facts(&walk, info);
    return e;
}

um_error um_decode_jpeg(const uint8_t *data, size_t size, const um_limits *limits,
                        um_decoded *out, char *err, size_t errlen)
{
    struct marker_walk walk;
    um_error e = walk_markers_checked(data, size, &walk, err, errlen);
    if (e != UM_OK)
        return e;
    out->jpeg = calloc(1, sizeof *out->jpeg);
    if (!out->jpeg)
        return um_fail(err, errlen, UM_ERR_NOMEM, "out of memory decoding the JPEG");
    struct coefficients_pass coefficients = {&walk, out};
    e = run_pass(data, size, limits, read_coefficients, &coefficients, err, errlen);
    if (e != UM_OK)
        return e;
    e = run_pass(data, size, limits, read_pixels, out, err, errlen);
    if (e != UM_OK)
        return e;
    copy_walk_facts(&walk, out->jpeg);
    out->has_alpha = 0;
    return UM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Encoding: baseline, standard Huffman tables, IJG quality scaling (jpeg_set_quality with
 * force_baseline), ISLOW DCT, into a growable memory buffer of our own (libjpeg's jpeg_mem_dest
 * cannot be cleaned up after an error). */

struct memory_sink {
    struct jpeg_destination_mgr pub;
    uint8_t *buf;
    size_t cap;
};

static void sink_init(j_compress_ptr cinfo)
{
    struct memory_sink *s = (struct memory_sink *)cinfo->dest;
    s->pub.next_output_byte = s->buf;
    s->pub.free_in_buffer = s->cap;
}

static boolean sink_grow(j_compress_ptr cinfo)
{
    struct memory_sink *s = (struct memory_sink *)cinfo->dest;
    size_t used = s->cap; /* libjpeg calls this only when the buffer is full */
    uint8_t *nb = realloc(s->buf, s->cap * 2);
    if (!nb) {
        cinfo->err->msg_code = JERR_OUT_OF_MEMORY;
        (*cinfo->err->error_exit)((j_common_ptr)cinfo);
    }
    s->buf = nb;
    s->cap *= 2;
    s->pub.next_output_byte = s->buf + used;
    s->pub.free_in_buffer = s->cap - used;
    return TRUE;
}

static void sink_term(j_compress_ptr cinfo) { (void)cinfo; }

struct jpeg_writer {
    struct jpeg_compress_struct cinfo;
    struct jpeg_failure fail;
    struct memory_sink sink;
    JSAMPLE *row;
};

static JSAMPLE to_sample(float v)
{
    if (!(v > 0.0f)) /* also NaN */
        return 0;
    if (v >= 255.0f)
        return 255;
    return (JSAMPLE)(v + 0.5f);
}

static void load_row(const um_image *img, int y, JSAMPLE *row)
{
    size_t w = (size_t)img->width, base = (size_t)y * w;
    int n = img->channels;
    for (int c = 0; c < n; c++) {
        const float *p = um_image_plane(img, c) + base;
        for (size_t x = 0; x < w; x++)
            row[x * (size_t)n + (size_t)c] = to_sample(p[x]);
    }
}

um_error um_encode_jpeg(const um_image *rgb, int quality, int chroma_full, uint8_t **data,
                        size_t *size)
{
    if (!data || !size)
        return UM_ERR_ARGUMENT;
    *data = NULL;
    *size = 0;
    if (!rgb || !rgb->data || rgb->width < 1 || rgb->height < 1 || rgb->width > 65500 ||
        rgb->height > 65500 || (rgb->channels != 3 && rgb->channels != 1) || quality < 1 ||
        quality > 100)
        return UM_ERR_ARGUMENT;
    struct jpeg_writer *w = calloc(1, sizeof *w);
    if (!w)
        return UM_ERR_NOMEM;
    w->sink.cap = 65536;
    w->sink.buf = malloc(w->sink.cap);
    w->row = malloc((size_t)rgb->width * (size_t)rgb->channels);
    volatile um_error e = UM_OK; /* set again after longjmp */
    install_failure(&w->fail);
    w->cinfo.err = &w->fail.pub;
    if (!w->sink.buf || !w->row) {
        e = UM_ERR_NOMEM;
        goto done;
    }
    if (setjmp(w->fail.jump)) {
        e = w->fail.pub.msg_code == JERR_OUT_OF_MEMORY ? UM_ERR_NOMEM : UM_ERR_ARGUMENT;
        goto done;
    }
    jpeg_create_compress(&w->cinfo);
    w->sink.pub.init_destination = sink_init;
    w->sink.pub.empty_output_buffer = sink_grow;
    w->sink.pub.term_destination = sink_term;
    w->cinfo.dest = &w->sink.pub;
    w->cinfo.image_width = (JDIMENSION)rgb->width;
    w->cinfo.image_height = (JDIMENSION)rgb->height;
    w->cinfo.input_components = rgb->channels;
    w->cinfo.in_color_space = rgb->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&w->cinfo); /* YCbCr 2x2,1x1,1x1 = 4:2:0 for colour */
    jpeg_set_quality(&w->cinfo, quality, TRUE);
    w->cinfo.dct_method = JDCT_ISLOW;
    if (chroma_full && rgb->channels == 3)
        w->cinfo.comp_info[0].h_samp_factor = w->cinfo.comp_info[0].v_samp_factor = 1;
    jpeg_start_compress(&w->cinfo, TRUE);
    while (w->cinfo.next_scanline < w->cinfo.image_height) {
        JSAMPROW rows[1] = {w->row};
        load_row(rgb, (int)w->cinfo.next_scanline, w->row);
        jpeg_write_scanlines(&w->cinfo, rows, 1);
    }
    jpeg_finish_compress(&w->cinfo);
    *data = w->sink.buf;
    *size = w->sink.cap - w->sink.pub.free_in_buffer;
    w->sink.buf = NULL;
done:
    if (w->cinfo.mem)
        jpeg_destroy_compress(&w->cinfo);
    free(w->sink.buf);
    free(w->row);
    free(w);
    return e;
}
