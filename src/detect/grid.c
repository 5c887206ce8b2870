/* grid: local JPEG grid origins from the number of DCT zeros (ZERO).
 *
 * Nikoukhah, Anger, Ehret, Colom, Morel & Grompone von Gioi, "ZERO: a Local JPEG Grid Origin
 * Detector Based on the Number of DCT Zeros and its Applications in Image Forensics", Image
 * Processing On Line 11 (2021) 396-433 (article 390).
 *
 * A JPEG encoder quantizes the DCT of the 8x8 blocks of ITS grid, so after decoding, the DCT of
 * a window aligned with that grid has many coefficients that round to zero, and a misaligned
 * window has far fewer. The paper's steps, in the order of this file:
 *   1. the luminance, rounded to integers (as the reference implementation does);
 *   2. for every pixel position, the DCT of the 8x8 window whose top-left corner it is, and the
 *      number of its 63 AC coefficients with |c| < 0.5, the midpoint between the finest
 *      quantization's 0 and 1;
 *   3. every pixel votes for the grid origin (x mod 8, y mod 8) of the window with the most
 *      zeros among the 64 windows covering it; ties, and windows constant along a row or column
 *      (trivially full of zeros), give no vote;
 *   4. the main grid is the most voted origin, validated a contrario: votes are counted in
 *      units of 64 pixels (one block's worth, as neighbouring votes are not independent) and
 *      NFA = N_T * P[Bin(XY/64, 1/64) >= votes/64] with N_T = 64^2 X^2 Y^2;
 *   5. pixels voting for another grid are grown into regions (a pixel joins a region when it
 *      votes for the same grid and lies within W = 9 pixels of one of its pixels), each
 *      validated with NFA = N_T * P[Bin(bbox area/64, 1/64) >= votes/64].
 * The counts (N_T, units of 64, W, the minimal region size) are those of the authors' IPOL
 * reference implementation, so log10 NFA values are comparable with its output.
 * The paper's second forgery test, regions where the main grid is missing (found by a
 * quality-99 recompression), is not implemented here.
 *
 * Speed (the reference code needs ~30 s and ~1 GB for 12 MP): the 64 coefficients of every
 * window are never stored. Each image row gets the 1-D DCT of all its horizontal 8-windows
 * (um_dct8_lanes with in[i] = row + i); a ring of the last 8 such rows then gets the vertical
 * 1-D DCT across the ring, and zeros are counted while the values are in cache. The vote (a max
 * over 8x8 windows that must detect ties) is separable: a max over 8 windows along the row,
 * remembering ties and the arg-max, then a max over 8 such rows. Horizontal bands with a 7-row
 * overlap are independent tasks (um_parallel_for: parallel when the detector is called alone,
 * serial inside um_analyze_*, where the detectors themselves share the cores); only the votes
 * (one int8 per pixel) are kept for the whole image.
 * The region growing is a single raster scan with union-find that yields exactly the
 * components of the paper's region growing (see scan_pixel). */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dct.h"
#include "core/nfa.h"
#include "core/parallel.h"
#include "detect/detector.h"

enum {
    GRIDS = 64,           /* possible grid origins (gx, gy), index gx + 8 gy */
    REGION_DISTANCE = 9,  /* W: votes of a meaningful region are ~8 px apart at worst */
    CHUNK = 256,          /* lanes per vertical-DCT pass: 8 rows of it stay in L1 */
    MIN_BAND_ROWS = 96,   /* bands shorter than this waste too much on their 7-row overlap */
    MAX_BANDS = 64,
    MAX_REPORTED_REGIONS = 32,
    MAP_STEP = 8
};

/* Loops below run over whole CHUNKs of lanes (buffers are padded), so that GCC's -O2
 * vectorizer, which refuses loops needing a scalar epilogue, turns them into SIMD code. */
static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* ---- Steps 1-3: the vote map ------------------------------------------------------------ */

struct vote_job {
    const um_image *luma;
    int8_t *votes;           /* width * height, -1 = no vote */
    int band_rows, nbands;
    long (*band_counts)[GRIDS];
    atomic_int failed;       /* set when a band ran out of memory */
};

/* Scratch of one band. Lane t is the window (or, for the best-of-8 arrays, the pixel t+7)
 * starting at column t; lanes = width-7 padded to whole CHUNKs, plus 8 for look-ahead. */
struct band_scratch {
    size_t lanes;
    float *row;              /* the current image row, rounded, padded with zeros */
    float *prev_row;
    float *hdct;             /* ring of 8 image rows x 8 frequencies x lanes: horizontal DCTs */
    uint8_t *row_const;      /* ring of 8 image rows x lanes: the 8-pixel window is constant */
    uint8_t *col_run;        /* per column: equal vertical neighbours ending at this row */
    uint8_t *zeros;          /* current window row: AC zeros of each window */
    uint8_t *is_const;       /* current window row: window constant along x or y */
    /* Ring of 8 window rows, per pixel t+7: best of the 8 windows starting at t..t+7 along
     * the row, how many windows reach it, x mod 8 of the best one (valid when unique), and
     * whether that one is constant. */
    uint8_t *h_best, *h_count, *h_index, *h_const;
};

static void band_scratch_free(struct band_scratch *s)
{
    free(s->row);
    free(s->prev_row);
    free(s->hdct);
    free(s->row_const);
    free(s->col_run);
    free(s->zeros);
    free(s->is_const);
    free(s->h_best);
    free(s->h_count);
    free(s->h_index);
    free(s->h_const);
}

static int band_scratch_alloc(struct band_scratch *s, int width)
{
    memset(s, 0, sizeof *s);
    s->lanes = round_up((size_t)width - 7, CHUNK) + 8;
    size_t row_len = s->lanes + 8, ring = 8 * s->lanes;
    s->row = calloc(row_len, sizeof(float));
    s->prev_row = calloc(row_len, sizeof(float));
    s->hdct = calloc(8 * ring, sizeof(float));
    s->row_const = calloc(ring, 1);
    s->col_run = calloc(row_len, 1);
    s->zeros = calloc(s->lanes, 1);
    s->is_const = calloc(s->lanes, 1);
    s->h_best = calloc(ring, 1);
    s->h_count = calloc(ring, 1);
    s->h_index = calloc(ring, 1);
    s->h_const = calloc(ring, 1);
    if (!s->row || !s->prev_row || !s->hdct || !s->row_const || !s->col_run || !s->zeros ||
        !s->is_const || !s->h_best || !s->h_count || !s->h_index || !s->h_const) {
        band_scratch_free(s);
        return -1;
    }
    return 0;
}

/* Step 1: the paper works on the luminance rounded to integers (values are 0..255). */
static void load_row(struct band_scratch *s, const um_image *luma, int y)
{
    const float *src = luma->data + (size_t)y * luma->width;
    for (int x = 0; x < luma->width; x++)
        s->row[x] = (float)(int)(src[x] + 0.5f);
}

/* Horizontal pass of step 2 for image row r: ring[r%8][u][t] = 1-D DCT of row[t .. t+7]. Also
 * notes which horizontal windows are constant and extends the vertical runs of equal pixels. */
static void transform_row(struct band_scratch *s, int width, int r, int first_row)
{
    size_t n = (size_t)width - 7;
    float *ring = s->hdct + (size_t)(r % 8) * 8 * s->lanes;
    const float *in[8];
    float *out[8];
    for (int i = 0; i < 8; i++) {
        in[i] = s->row + i;
        out[i] = ring + (size_t)i * s->lanes;
    }
    um_dct8_lanes(in, out, n);

    uint8_t *rc = s->row_const + (size_t)(r % 8) * s->lanes;
    int run = 0; /* equal right-neighbours starting at x */
    for (int x = width - 2; x >= 0; x--) {
        run = s->row[x] == s->row[x + 1] ? run + 1 : 0;
        if ((size_t)x < n)
            rc[x] = run >= 7;
    }
    for (int x = 0; x < width; x++) {
        int same = !first_row && s->row[x] == s->prev_row[x];
        s->col_run[x] = same ? (uint8_t)(s->col_run[x] < 8 ? s->col_run[x] + 1 : 8) : 1;
    }
    memcpy(s->prev_row, s->row, (size_t)width * sizeof(float));
}

/* Vertical pass of step 2 for window row wy (image rows wy..wy+7 in the ring): the 2-D DCT of
 * every window, reduced at once to its number of AC zeros (|c| < 0.5), CHUNK windows at
 * a time so that the 8 outputs are counted while still in L1. */
static void count_window_zeros(struct band_scratch *s, int width, int wy)
{
    size_t n = (size_t)width - 7;
    float out_rows[8][CHUNK], count[CHUNK];
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        for (int k = 0; k < CHUNK; k++)
            count[k] = 0;
        for (int u = 0; u < 8; u++) {
            const float *in[8];
            float *out[8];
            for (int j = 0; j < 8; j++) {
                in[j] = s->hdct + ((size_t)((wy + j) % 8) * 8 + (size_t)u) * s->lanes + c0;
                out[j] = out_rows[j];
            }
            um_dct8_lanes(in, out, CHUNK);
            for (int v = u == 0 ? 1 : 0; v < 8; v++) /* the DC term is never counted */
                for (int k = 0; k < CHUNK; k++)
                    count[k] += fabsf(out_rows[v][k]) < 0.5f ? 1.0f : 0.0f;
        }
        for (int k = 0; k < CHUNK; k++)
            s->zeros[c0 + k] = (uint8_t)count[k];
    }
}

/* A window constant along x (every row constant) or along y (every column constant) has all its
 * zeros for free and says nothing about a grid. */
static void mark_constant_windows(struct band_scratch *s, int width, int wy)
{
    size_t n = (size_t)width - 7;
    int run = 0; /* columns constant over the window's 8 rows, starting at x */
    for (int x = width - 1; x >= 0; x--) {
        run = s->col_run[x] >= 8 ? run + 1 : 0;
        if ((size_t)x >= n)
            continue;
        int along_x = 1;
        for (int j = 0; j < 8 && along_x; j++)
            along_x = s->row_const[(size_t)((wy + j) % 8) * s->lanes + (size_t)x];
        s->is_const[x] = along_x || run >= 8;
    }
}

/* Step 3, first half: for pixel t+7, the best of the 8 windows starting at t..t+7 of this
 * window row. Near the right edge the comparison runs into the padding lanes past the
 * width - 7 real windows; that only touches the last 7 columns, which the caller then marks as
 * not voting. */
static void horizontal_best(struct band_scratch *s, int width, int wy)
{
    size_t n = (size_t)width - 7, off = (size_t)(wy % 8) * s->lanes;
    /* Local arrays: the compiler knows they alias nothing, so the loops vectorize. */
    uint8_t b[CHUNK], c[CHUNK], ix[CHUNK], cs[CHUNK];
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        const uint8_t *zz = s->zeros + c0, *zk = s->is_const + c0;
        for (int k = 0; k < CHUNK; k++)
            b[k] = c[k] = ix[k] = cs[k] = 0;
        for (int i = 0; i < 8; i++)
            for (int k = 0; k < CHUNK; k++)
                b[k] = zz[k + i] > b[k] ? zz[k + i] : b[k];
        for (int i = 0; i < 8; i++) {
            uint8_t phase = (uint8_t)((c0 + (size_t)i) % 8); /* (t + i) mod 8, c0 % 8 == 0 */
            for (int k = 0; k < CHUNK; k++) {
                uint8_t eq = zz[k + i] == b[k];
                c[k] += eq;
                /* the sum of the phases of the windows at the best is that phase if unique */
                ix[k] += eq * (uint8_t)((phase + k) % 8);
                cs[k] |= eq & zk[k + i];
            }
        }
        memcpy(s->h_best + off + c0, b, CHUNK);
        memcpy(s->h_count + off + c0, c, CHUNK);
        memcpy(s->h_index + off + c0, ix, CHUNK);
        memcpy(s->h_const + off + c0, cs, CHUNK);
    }
}

/* Step 3, second half: pixel row y votes from the 8 window rows y-7..y in the ring. The best
 * window is unique when exactly one window over the 8 rows reaches the maximum. */
static void vote_row(const struct band_scratch *s, int width, int y, int8_t *votes, long *counts)
{
    size_t n = (size_t)width - 7;
    uint8_t best[CHUNK], total[CHUNK], grid[CHUNK], cst[CHUNK];
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        for (int k = 0; k < CHUNK; k++)
            best[k] = total[k] = grid[k] = cst[k] = 0;
        for (int wy = y - 7; wy <= y; wy++) {
            const uint8_t *hb = s->h_best + (size_t)(wy % 8) * s->lanes + c0;
            for (int k = 0; k < CHUNK; k++)
                best[k] = hb[k] > best[k] ? hb[k] : best[k];
        }
        for (int wy = y - 7; wy <= y; wy++) {
            size_t off = (size_t)(wy % 8) * s->lanes + c0;
            const uint8_t *hb = s->h_best + off, *hc = s->h_count + off;
            const uint8_t *hi = s->h_index + off, *hk = s->h_const + off;
            uint8_t row_phase = (uint8_t)(8 * (wy % 8));
            for (int k = 0; k < CHUNK; k++) {
                uint8_t eq = hb[k] == best[k];
                total[k] += eq * hc[k];
                grid[k] += eq * (uint8_t)(hi[k] + row_phase);
                cst[k] |= eq & hk[k];
            }
        }
        size_t m = n - c0 < CHUNK ? n - c0 : CHUNK;
        for (size_t k = 0; k < m; k++) {
            int ok = best[k] > 0 && total[k] == 1 && !cst[k];
            int8_t vote = ok ? (int8_t)grid[k] : (int8_t)-1;
            votes[c0 + k + 7] = vote;
            if (ok)
                counts[grid[k]]++;
        }
    }
}

/* One band of pixel rows [y0, y1): window rows from y0-7, image rows up to y1+6. Only pixels
 * covered by all 64 of their windows vote (7 <= x, y <= size-8), as in the paper. */
static void vote_band(void *ctx, int band)
{
    struct vote_job *job = ctx;
    const int width = job->luma->width, height = job->luma->height;
    const int y0 = band * job->band_rows;
    const int y1 = y0 + job->band_rows < height ? y0 + job->band_rows : height;
    long *counts = job->band_counts[band];
    memset(counts, 0, sizeof(long) * GRIDS);
    memset(job->votes + (size_t)y0 * width, -1, (size_t)(y1 - y0) * width);
    const int wy_first = y0 - 7 > 0 ? y0 - 7 : 0;
    const int wy_last = y1 - 1 < height - 8 ? y1 - 1 : height - 8;
    if (wy_last < wy_first)
        return;
    struct band_scratch s;
    if (band_scratch_alloc(&s, width) != 0) {
        atomic_store(&job->failed, 1);
        return;
    }
    for (int r = wy_first; r <= wy_last + 7; r++) {
        load_row(&s, job->luma, r);
        transform_row(&s, width, r, r == wy_first);
        int wy = r - 7;
        if (wy < wy_first)
            continue;
        count_window_zeros(&s, width, wy);
        mark_constant_windows(&s, width, wy);
        horizontal_best(&s, width, wy);
        if (wy >= y0 && wy - 7 >= wy_first) {
            int8_t *row = job->votes + (size_t)wy * width;
            vote_row(&s, width, wy, row, counts);
            for (int x = width - 7; x < width; x++) /* the last 7 columns never vote */
                row[x] = -1;
        }
    }
    band_scratch_free(&s);
}

/* The vote map of a luminance plane (run() requires at least 16x16) and the votes per grid. 0, or -1 when out
 * of memory. */
static int compute_votes(const um_image *luma, int8_t *votes, long grid_votes[GRIDS])
{
    int height = luma->height;
    int nbands = um_cpu_count() * 4;
    if (nbands > height / MIN_BAND_ROWS)
        nbands = height / MIN_BAND_ROWS;
    if (nbands < 1)
        nbands = 1;
    if (nbands > MAX_BANDS)
        nbands = MAX_BANDS;
    long counts[MAX_BANDS][GRIDS];
    struct vote_job job = {.luma = luma, .votes = votes, .band_counts = counts};
    job.band_rows = (height + nbands - 1) / nbands;
    job.nbands = (height + job.band_rows - 1) / job.band_rows;
    um_parallel_for(job.nbands, vote_band, &job, 0);
    if (atomic_load(&job.failed))
        return -1;
    for (int g = 0; g < GRIDS; g++) {
        grid_votes[g] = 0;
        for (int b = 0; b < job.nbands; b++)
            grid_votes[g] += counts[b][g];
    }
    return 0;
}

/* ---- Step 4: the main grid -------------------------------------------------------------- */

/* log10 N_T = log10(64^2 X^2 Y^2): 64 candidate grids, tested on any of the ~(XY)^2 regions
 * (rectangles) of the image, times the 64 grids one region could vote for. */
static double log10_tests(int width, int height)
{
    return 2.0 * log10(64.0) + 2.0 * log10((double)width) + 2.0 * log10((double)height);
}

/* NFA of k votes out of n pixels, both counted in blocks of 64 (steps 4 and 5). */
static double votes_log10_nfa(double log_nt, long pixels, long votes)
{
    return um_log10_nfa(pow(10.0, log_nt), pixels / 64, votes / 64, 1.0 / 64.0);
}

struct global_grid {
    int main;                /* 0..63, or -1 when no grid is meaningful */
    double log10_nfa[GRIDS];
    long votes[GRIDS];
};

static void detect_global_grid(int width, int height, struct global_grid *g)
{
    double log_nt = log10_tests(width, height);
    int most = -1;
    for (int i = 0; i < GRIDS; i++) {
        g->log10_nfa[i] = votes_log10_nfa(log_nt, (long)width * height, g->votes[i]);
        if (g->votes[i] > 0 && (most < 0 || g->votes[i] > g->votes[most]))
            most = i;
    }
    g->main = most >= 0 && g->log10_nfa[most] < 0 ? most : -1;
}

/* ---- Step 5: regions voting for another grid -------------------------------------------- */

/* Union-find over provisional region labels, each carrying its vote count and bounding box. */
struct region_set {
    int32_t *parent;
    int32_t *count;
    uint16_t (*box)[4];      /* x0, y0, x1, y1 */
    int8_t *grid;            /* the grid its votes are for */
    size_t n, cap;
};

static void region_set_free(struct region_set *rs)
{
    free(rs->parent);
    free(rs->count);
    free(rs->box);
    free(rs->grid);
    memset(rs, 0, sizeof *rs);
}

static int32_t region_new(struct region_set *rs, int x, int y, int g)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 4096;
        if (cap > INT32_MAX)
            return -1;
        int32_t *p = realloc(rs->parent, cap * sizeof *p);
        if (p)
            rs->parent = p;
        int32_t *c = realloc(rs->count, cap * sizeof *c);
        if (c)
            rs->count = c;
        uint16_t(*b)[4] = realloc(rs->box, cap * sizeof *b);
        if (b)
            rs->box = b;
        int8_t *gr = realloc(rs->grid, cap * sizeof *gr);
        if (gr)
            rs->grid = gr;
        if (!p || !c || !b || !gr)
            return -1;
        rs->cap = cap;
    }
    int32_t id = (int32_t)rs->n++;
    rs->parent[id] = id;
    rs->count[id] = 0;
    rs->grid[id] = (int8_t)g;
    rs->box[id][0] = rs->box[id][2] = (uint16_t)x;
    rs->box[id][1] = rs->box[id][3] = (uint16_t)y;
    return id;
}

static int32_t region_find(struct region_set *rs, int32_t a)
{
    while (rs->parent[a] != a) {
        rs->parent[a] = rs->parent[rs->parent[a]]; /* path halving */
        a = rs->parent[a];
    }
    return a;
}

static void box_extend(uint16_t box[4], const uint16_t other[4])
{
    for (int i = 0; i < 2; i++) {
        if (other[i] < box[i])
            box[i] = other[i];
        if (other[i + 2] > box[i + 2])
            box[i + 2] = other[i + 2];
    }
}

static int32_t region_union(struct region_set *rs, int32_t a, int32_t b)
{
    a = region_find(rs, a);
    b = region_find(rs, b);
    if (a == b)
        return a;
    if (rs->count[a] < rs->count[b]) {
        int32_t t = a;
        a = b;
        b = t;
    }
    rs->parent[b] = a;
    rs->count[a] += rs->count[b];
    box_extend(rs->box[a], rs->box[b]);
    return a;
}

/* Raster scan state: for each grid and column, the last row that voted for that grid there and
 * the label it got. */
struct scan_state {
    int32_t *last_row;
    int32_t *last_label;
};

/* Label of the pixel (x, y) voting for grid g, given the pixels already scanned: the label of
 * the first same-grid pixel within REGION_DISTANCE, united with all the others when unite is
 * set, or a new label. Only the LAST same-grid pixel of each nearby column is checked: earlier
 * ones in that column within the distance are within the distance of it too (same column), so
 * they already share its region. Hence the regions are exactly the connected components of
 * "same grid and at most W apart (Chebyshev)", the paper's region growing. */
static int32_t scan_pixel(struct region_set *rs, struct scan_state *st, int width, int x, int y,
                          int g, int unite, int32_t *next_new)
{
    int32_t label = -1;
    int xa = x - REGION_DISTANCE > 0 ? x - REGION_DISTANCE : 0;
    int xb = x + REGION_DISTANCE < width - 1 ? x + REGION_DISTANCE : width - 1;
    const int32_t *rows = st->last_row + (size_t)g * width;
    const int32_t *labels = st->last_label + (size_t)g * width;
    for (int cx = xa; cx <= xb; cx++) {
        if (rows[cx] < y - REGION_DISTANCE)
            continue;
        if (label < 0)
            label = labels[cx];
        else if (unite)
            region_union(rs, label, labels[cx]);
        else
            break;
    }
    if (label < 0) {
        label = unite ? region_new(rs, x, y, g) : (*next_new)++;
        if (label < 0)
            return -1;
    }
    st->last_row[(size_t)g * width + x] = y;
    st->last_label[(size_t)g * width + x] = label;
    return label;
}

static void scan_reset(struct scan_state *st, int width)
{
    for (size_t i = 0; i < (size_t)GRIDS * width; i++)
        st->last_row[i] = INT32_MIN / 2;
}

struct forged_region {
    int x0, y0, x1, y1, grid;
    long votes;
    double log10_nfa;
    int32_t root;
};

static int compare_regions(const void *a, const void *b)
{
    double da = ((const struct forged_region *)a)->log10_nfa;
    double db = ((const struct forged_region *)b)->log10_nfa;
    return da < db ? -1 : (da > db ? 1 : 0);
}

struct region_result {
    struct forged_region *regions;
    int n;
    uint8_t *root_is_forged; /* per label: the label's final region was validated */
};

/* Pass 1: label and unite; then validate each region (step 5). */
static int grow_and_validate(const int8_t *votes, int width, int height, int main_grid,
                             struct region_set *rs, struct scan_state *st,
                             struct region_result *out)
{
    scan_reset(st, width);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int g = votes[(size_t)y * width + x];
            if (g < 0 || g == main_grid)
                continue;
            int32_t label = scan_pixel(rs, st, width, x, y, g, 1, NULL);
            if (label < 0)
                return -1;
            int32_t root = region_find(rs, label);
            rs->count[root]++;
            uint16_t here[4] = {(uint16_t)x, (uint16_t)y, (uint16_t)x, (uint16_t)y};
            box_extend(rs->box[root], here);
        }

    double log_nt = log10_tests(width, height);
    /* Fewer votes than this cannot reach NFA < 1 even in the tightest box. */
    long min_votes = (long)ceil(64.0 * log_nt / log10(64.0));
    out->root_is_forged = calloc(rs->n ? rs->n : 1, 1);
    if (!out->root_is_forged)
        return -1;
    int cap = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->parent[i] != (int32_t)i || rs->count[i] < min_votes)
            continue;
        const uint16_t *b = rs->box[i];
        long area = (long)(b[2] - b[0] + 1) * (long)(b[3] - b[1] + 1);
        double lnfa = votes_log10_nfa(log_nt, area, rs->count[i]);
        if (!(lnfa < 0))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct forged_region *r = realloc(out->regions, (size_t)cap * sizeof *r);
            if (!r)
                return -1;
            out->regions = r;
        }
        out->root_is_forged[i] = 1;
        out->regions[out->n++] = (struct forged_region){
            .x0 = b[0], .y0 = b[1], .x1 = b[2], .y1 = b[3], .grid = rs->grid[i],
            .votes = rs->count[i], .log10_nfa = lnfa, .root = (int32_t)i};
    }
    return 0;
}

/* ---- Output: the map --------------------------------------------------------------------- */

/* Map value of a region: 0.5 at NFA = 1, 1 at NFA <= 1e-5 (graded by significance). */
static float region_strength(double log10_nfa)
{
    double v = 0.5 + 0.1 * -log10_nfa;
    return (float)(v > 1 ? 1 : (v < 0.5 ? 0.5 : v));
}

/* Pass 2 replays the scan to find each vote's final region (labels are handed out in the same
 * order), and paints MAP_STEP cells holding votes of validated regions with that region's
 * strength. Then the paper's closing with a W-sized square is applied on the cell grid (3x3
 * cells), filling the gaps between the sparse votes of a region. */
static int paint_regions(const int8_t *votes, int width, int height, int main_grid,
                         struct region_set *rs, struct scan_state *st,
                         const struct region_result *res, struct um_evidence *ev)
{
    int mw = (width + MAP_STEP - 1) / MAP_STEP, mh = (height + MAP_STEP - 1) / MAP_STEP;
    float *map = um_evidence_alloc_map(ev, mw, mh, MAP_STEP);
    float *strength = calloc(rs->n ? rs->n : 1, sizeof(float));
    float *dilated = calloc((size_t)mw * mh, sizeof(float));
    if (!map || !strength || !dilated) {
        free(strength);
        free(dilated);
        return -1;
    }
    for (int i = 0; i < res->n; i++)
        strength[res->regions[i].root] = region_strength(res->regions[i].log10_nfa);
    scan_reset(st, width);
    int32_t next_new = 0;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int g = votes[(size_t)y * width + x];
            if (g < 0 || g == main_grid)
                continue;
            int32_t label = scan_pixel(rs, st, width, x, y, g, 0, &next_new);
            int32_t root = region_find(rs, label);
            float v = res->root_is_forged[root] ? strength[root] : 0.0f;
            float *cell = map + (size_t)(y / MAP_STEP) * mw + (size_t)(x / MAP_STEP);
            if (v > *cell)
                *cell = v;
        }
    /* Closing = dilation then erosion, 3x3 cells. */
    for (int cy = 0; cy < mh; cy++)
        for (int cx = 0; cx < mw; cx++) {
            float m = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = cy + dy, xx = cx + dx;
                    if (yy >= 0 && yy < mh && xx >= 0 && xx < mw && map[(size_t)yy * mw + xx] > m)
                        m = map[(size_t)yy * mw + xx];
                }
            dilated[(size_t)cy * mw + cx] = m;
        }
    for (int cy = 0; cy < mh; cy++)
        for (int cx = 0; cx < mw; cx++) {
            float m = dilated[(size_t)cy * mw + cx];
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = cy + dy, xx = cx + dx;
                    if (yy >= 0 && yy < mh && xx >= 0 && xx < mw &&
                        dilated[(size_t)yy * mw + xx] < m)
                        m = dilated[(size_t)yy * mw + xx];
                }
            map[(size_t)cy * mw + cx] = m;
        }
    free(strength);
    free(dilated);
    return 0;
}

/* ---- Output: findings and details -------------------------------------------------------- */

static void report(const struct global_grid *g, const struct region_result *res, int width,
                   int height, struct um_evidence *ev)
{
    int gx = g->main % 8, gy = g->main / 8;
    json_t *d = json_object();
    json_t *main = json_object();
    json_object_set_new(main, "x", json_integer(gx));
    json_object_set_new(main, "y", json_integer(gy));
    json_object_set_new(main, "log10_nfa", um_json_number(g->log10_nfa[g->main]));
    json_object_set_new(main, "votes", json_integer(g->votes[g->main]));
    json_object_set_new(d, "main_grid", main);
    json_t *others = json_array();
    int nothers = 0;
    for (int i = 0; i < GRIDS; i++)
        if (i != g->main && g->log10_nfa[i] < 0) {
            json_t *o = json_object();
            json_object_set_new(o, "x", json_integer(i % 8));
            json_object_set_new(o, "y", json_integer(i / 8));
            json_object_set_new(o, "log10_nfa", um_json_number(g->log10_nfa[i]));
            json_array_append_new(others, o);
            nothers++;
        }
    json_object_set_new(d, "other_meaningful_grids", others);
    json_t *regions = json_array();
    for (int i = 0; i < res->n && i < MAX_REPORTED_REGIONS; i++) {
        const struct forged_region *r = &res->regions[i];
        json_t *o = json_object();
        json_object_set_new(o, "x", json_integer(r->x0));
        json_object_set_new(o, "y", json_integer(r->y0));
        json_object_set_new(o, "w", json_integer(r->x1 - r->x0 + 1));
        json_object_set_new(o, "h", json_integer(r->y1 - r->y0 + 1));
        json_object_set_new(o, "grid_x", json_integer(r->grid % 8));
        json_object_set_new(o, "grid_y", json_integer(r->grid / 8));
        json_object_set_new(o, "votes", json_integer(r->votes));
        json_object_set_new(o, "log10_nfa", um_json_number(r->log10_nfa));
        json_array_append_new(regions, o);
    }
    json_object_set_new(d, "regions", regions);
    json_object_set_new(d, "regions_total", json_integer(res->n));
    json_object_set_new(d, "missing_grid_test", json_string("not implemented"));
    ev->details = d;

    if (g->main == 0)
        um_evidence_add_finding(ev,
                                "The image has a JPEG grid at origin (0,0) (log10 NFA %.0f): it "
                                "was JPEG-compressed and not cropped since.",
                                g->log10_nfa[g->main]);
    else
        um_evidence_add_finding(ev,
                                "The image has a JPEG grid at origin (%d,%d) (log10 NFA %.0f), "
                                "not (0,0): it was JPEG-compressed, then cropped by (%d,%d) "
                                "pixels (or by that plus multiples of 8).",
                                gx, gy, g->log10_nfa[g->main], (8 - gx) % 8, (8 - gy) % 8);
    for (int i = 0; i < res->n && ev->nfindings < UM_MAX_FINDINGS - 1; i++) {
        const struct forged_region *r = &res->regions[i];
        (i == 0 ? um_evidence_add_headline : um_evidence_add_finding)(ev,
                                "A %dx%d region at (%d,%d) has its own JPEG grid at (%d,%d) "
                                "(log10 NFA %.1f): typical of a piece pasted from another JPEG "
                                "image, or of a locally resampled or retouched area.",
                                r->x1 - r->x0 + 1, r->y1 - r->y0 + 1, r->x0, r->y0, r->grid % 8,
                                r->grid / 8, r->log10_nfa);
    }
    if (nothers > 0 && res->n == 0)
        um_evidence_add_finding(ev,
                                "%d other grid origin(s) are also meaningful over the whole "
                                "image, which is unusual for a single compression.",
                                nothers);
    if (res->n == 0)
        um_evidence_add_finding(ev, "No region with a different JPEG grid was found (%dx%d "
                                    "pixels checked).",
                                width, height);
}

/* Image-level score: a validated foreign-grid region is strong evidence (0.5 at NFA = 1, 1 at
 * NFA <= 1e-5); a shifted main grid alone only says "cropped" (0.15). */
static double grid_score(const struct global_grid *g, const struct region_result *res)
{
    double s = g->main != 0 ? 0.15 : 0.0;
    if (res->n > 0 && region_strength(res->regions[0].log10_nfa) > s)
        s = region_strength(res->regions[0].log10_nfa);
    return s;
}

/* ---- The detector ----------------------------------------------------------------------- */

static um_error run(const struct um_input *in, struct um_evidence *ev)
{
    const um_image *luma = in->luma;
    int width = luma->width, height = luma->height;
    if (width < 16 || height < 16) {
        um_evidence_not_applicable(ev, "The image is too small (%dx%d) to find a JPEG grid.",
                                   width, height);
        return UM_OK;
    }
    if (width > UINT16_MAX || height > UINT16_MAX) {
        um_evidence_not_applicable(ev, "The image is wider or taller than %d pixels.",
                                   UINT16_MAX);
        return UM_OK;
    }
    um_error err = UM_ERR_NOMEM;
    struct global_grid g = {0};
    struct region_set rs = {0};
    struct region_result res = {0};
    struct scan_state st = {0};
    int8_t *votes = malloc((size_t)width * height);
    if (!votes || compute_votes(luma, votes, g.votes) != 0)
        goto done;
    detect_global_grid(width, height, &g);
    if (g.main < 0) {
        um_evidence_not_applicable(ev,
                                   "No JPEG grid is visible: the image was probably never "
                                   "JPEG-compressed, or was resized or heavily processed "
                                   "since.");
        err = UM_OK;
        goto done;
    }
    st.last_row = malloc((size_t)GRIDS * width * sizeof(int32_t));
    st.last_label = malloc((size_t)GRIDS * width * sizeof(int32_t));
    if (!st.last_row || !st.last_label ||
        grow_and_validate(votes, width, height, g.main, &rs, &st, &res) != 0)
        goto done;
    if (paint_regions(votes, width, height, g.main, &rs, &st, &res, ev) != 0)
        goto done;
    if (res.n > 1)
        qsort(res.regions, (size_t)res.n, sizeof *res.regions, compare_regions);
    ev->applicable = 1;
    ev->score = grid_score(&g, &res);
    /* The detector's NFA measures manipulation: the strongest foreign-grid region's. The main
     * grid's NFA only says "this was a JPEG" and stays in the details. */
    ev->has_nfa = res.n > 0;
    ev->log10_nfa = res.n > 0 ? res.regions[0].log10_nfa : 0.0;
    report(&g, &res, width, height, ev);
    err = UM_OK;
done:
    free(votes);
    free(st.last_row);
    free(st.last_label);
    free(res.root_is_forged);
    free(res.regions);
    region_set_free(&rs);
    return err;
}

const struct um_detector um_detector_grid = {
    .name = "grid",
    .family = "jpeg",
    .summary = "Local JPEG grid origins from the number of DCT zeros (ZERO): regions whose 8x8 "
               "grid differs from the image's, and cropping after compression.",
    .limits = "Needs a visible JPEG grid: silent on never-compressed, resized or heavily "
              "filtered images, and on pieces pasted with the same grid alignment; does not "
              "test for regions where the grid is missing.",
    .needs = 0,
    .run = run,
};
