/* blk: inconsistencies of the JPEG block artifact grid (BAG).
 *
 * W. Li, Y. Yuan & N. Yu, "Passive detection of doctored JPEG image via block artifact grid
 * extraction", Signal Processing 89(9) (2009) 1821-1829.
 *
 * JPEG blocking leaves weak straight lines along the 8x8 block edges. The paper extracts them
 * (the BAG) and then measures, block by block, whether the lines run along the block's edges
 * (consistent) or through its middle (a piece whose grid is shifted, e.g. pasted). Steps, for
 * horizontal lines (vertical lines are the same with x and y swapped):
 *   1. the absolute second-order difference across the line direction,
 *      d(x,y) = |2Y(x,y) - Y(x,y-1) - Y(x,y+1)|, set to 0 above T = 50 so that strong edges and
 *      texture, never blocking, do not dominate (weak-texture emphasis);
 *   2. accumulation along the line over 33 pixels: s(x,y) = sum_{|i|<=16} d(x+i,y);
 *   3. removal of the local background: e = s - median of s over 33 lines;
 *   4. periodic enhancement: BAG_h(x,y) = median{e(x,y+8k), k = -2..2}, which keeps
 *      lines repeating every 8 pixels and drops isolated ones;
 *   BAG = BAG_h + BAG_v;
 *   5. for each 8x8 block of the image grid, b = max over the inner columns (1..6) of the BAG
 *      summed over the inner rows - min of the same sum over the edge columns (0, 7), plus the
 *      same with rows and columns swapped: high when a grid line crosses the
 *      block's middle while its edges are clean, i.e. the block does not sit on the image grid.
 * T = 50 and the 33-pixel windows are the values of the widely used MATLAB reference (the
 * Zampoglou et al. splicing toolbox). Additions of this file, not the paper's: the blocks are
 * placed on a grid phase estimated from the BAG itself (the paper assumes (0,0)), so a cropped
 * image is not flagged as a whole; block values become z-scores against the image's own blocks
 * (median, MAD) averaged over 3x3 blocks, so the map reads "how abnormal for this image"; and
 * the image-level score is the size of the largest compact cluster of abnormal blocks (the
 * paper leaves the map to be read by eye). There is no false-alarm rate.
 *
 * Speed: bands of rows are independent tasks (parallel when called alone, serial inside
 * um_analyze_*, where detectors share the cores); the 33-tap running median of step 3 is evaluated on
 * every 8th position along the lines and held for the next 7 (s is a 33-pixel sum along the
 * line, so it changes slowly in that direction), which makes the step ~8x cheaper. Borders are
 * handled by repeating the edge pixel. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/regions.h"
#include "core/stats.h"
#include "detect/detector.h"

enum {
    HALF = 16,            /* accumulation and background windows are 2*HALF+1 = 33 long */
    WIN = 2 * HALF + 1,
    MEDIAN_STRIDE = 8,    /* the background median is evaluated every 8th position */
    BAND_ROWS = 256,      /* a multiple of MEDIAN_STRIDE and of 8; fixed so results do not
                             depend on the number of threads */
    HALO = 2 * HALF + 1,  /* rows above/below a band that its horizontal lines depend on */
    BLOCK = 8
};
static const float TEXTURE_THRESHOLD = 50.0f; /* T of step 1 */
/* Below this contrast of the BAG at the grid's edges vs inside blocks (in units of the mean
 * |BAG|), no grid is visible: never-compressed photos measure ~0.6-0.7, q80 JPEGs ~2.5-3. */
static const double MIN_GRID_CONTRAST = 1.2;

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* A sorted window of WIN floats, updated by replacing one value: O(WIN) per step. */
static void window_init(float *w, const float *values)
{
    for (int i = 0; i < WIN; i++) {
        float v = values[i];
        int j = i;
        while (j > 0 && w[j - 1] > v) {
            w[j] = w[j - 1];
            j--;
        }
        w[j] = v;
    }
}

static void window_replace(float *w, float old, float new_value)
{
    int lo = 0, hi = WIN - 1; /* first position holding old (it was inserted earlier) */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (w[mid] < old)
            lo = mid + 1;
        else
            hi = mid;
    }
    int i = lo;
    while (i > 0 && w[i - 1] > new_value) {
        w[i] = w[i - 1];
        i--;
    }
    while (i < WIN - 1 && w[i + 1] < new_value) {
        w[i] = w[i + 1];
        i++;
    }
    w[i] = new_value;
}

/* out[k] += median of a..e at k for k < n, with a 9-exchange sorting network (Knuth, TAOCP
 * 5.3.4) made of min/max only, so that with n = MEDIAN_LANES the loop vectorizes. */
#define CE(p, q)                                                                              \
    do {                                                                                      \
        float lo_ = p < q ? p : q, hi_ = p < q ? q : p;                                       \
        p = lo_;                                                                              \
        q = hi_;                                                                              \
    } while (0)
#define MEDIAN5_LOOP(n)                                                                       \
    for (int k = 0; k < (n); k++) {                                                           \
        float v0 = a[k], v1 = b[k], v2 = c[k], v3 = d[k], v4 = e[k];                          \
        CE(v0, v1);                                                                           \
        CE(v3, v4);                                                                           \
        CE(v2, v4);                                                                           \
        CE(v2, v3);                                                                           \
        CE(v1, v4);                                                                           \
        CE(v0, v3);                                                                           \
        CE(v0, v2);                                                                           \
        CE(v1, v3);                                                                           \
        CE(v1, v2);                                                                           \
        out[k] += v2;                                                                         \
    }
enum { MEDIAN_LANES = 64 };

static void add_median5_lanes(const float *restrict a, const float *restrict b,
                              const float *restrict c, const float *restrict d,
                              const float *restrict e, float *restrict out)
{
    MEDIAN5_LOOP(MEDIAN_LANES) /* a fixed count: GCC -O2 vectorizes only such loops */
}

static void add_median5_tail(const float *a, const float *b, const float *c, const float *d,
                             const float *e, float *out, int n)
{
    MEDIAN5_LOOP(n)
}
#undef MEDIAN5_LOOP
#undef CE

/* out[x] += median{a[x], .., e[x]} for x < n; out must not overlap the inputs. */
static void add_median5(const float *a, const float *b, const float *c, const float *d,
                        const float *e, float *out, int n)
{
    int x = 0;
    for (; x + MEDIAN_LANES <= n; x += MEDIAN_LANES)
        add_median5_lanes(a + x, b + x, c + x, d + x, e + x, out + x);
    add_median5_tail(a + x, b + x, c + x, d + x, e + x, out + x, n - x);
}

struct blk_job {
    const um_image *luma;
    float *bag;              /* width x height */
    int nbands;
    double (*profile)[2][BLOCK]; /* per band: BAG summed by x mod 8 and by y mod 8 */
    atomic_int failed;       /* set when a band ran out of memory */
};

/* Luminance with edge repetition. */
static float luma_at(const um_image *l, int x, int y)
{
    x = clampi(x, 0, l->width - 1);
    y = clampi(y, 0, l->height - 1);
    return l->data[(size_t)y * l->width + x];
}

/* Step 1 for one row: clipped |second difference| across (vertical = 1) or along the row. */
static void second_difference_row(const um_image *l, int y, int vertical, float *out)
{
    int w = l->width;
    const float *row = l->data + (size_t)y * w;
    const float *up = l->data + (size_t)clampi(y - 1, 0, l->height - 1) * w;
    const float *down = l->data + (size_t)clampi(y + 1, 0, l->height - 1) * w;
    for (int x = 0; x < w; x++) {
        float d = vertical ? 2 * row[x] - up[x] - down[x]
                           : 2 * row[x] - luma_at(l, x - 1, y) - luma_at(l, x + 1, y);
        d = fabsf(d);
        out[x] = d > TEXTURE_THRESHOLD ? 0.0f : d;
    }
}

/* Step 2 along a row: out[x] = sum of in[x-16 .. x+16], edges repeated. */
static void running_sum_row(const float *in, int w, float *out)
{
    double s = 0;
    for (int i = -HALF; i <= HALF; i++)
        s += in[clampi(i, 0, w - 1)];
    for (int x = 0; x < w; x++) {
        out[x] = (float)s;
        s += in[clampi(x + HALF + 1, 0, w - 1)] - in[clampi(x - HALF, 0, w - 1)];
    }
}

/* Horizontal lines of rows [y0, y1): steps 1-4 with lines along x, added into bag. The buffers
 * hold rows [ra, rb) of s and e, indexed by absolute row minus ra. */
static int horizontal_lines(const um_image *l, int y0, int y1, float *bag)
{
    int w = l->width, h = l->height;
    int ra = y0 - HALO > 0 ? y0 - HALO : 0, rb = y1 + HALO < h ? y1 + HALO : h;
    int rows = rb - ra, nsamp = (w + MEDIAN_STRIDE - 1) / MEDIAN_STRIDE;
    float *s = malloc(sizeof(float) * (size_t)rows * w);
    float *e = malloc(sizeof(float) * (size_t)rows * w);
    float *d = malloc(sizeof(float) * (size_t)w);
    float *win = malloc(sizeof(float) * (size_t)nsamp * WIN);
    float *init = malloc(sizeof(float) * WIN);
    if (!s || !e || !d || !win || !init) {
        free(s), free(e), free(d), free(win), free(init);
        return -1;
    }
    for (int r = ra; r < rb; r++) {
        second_difference_row(l, r, 1, d);
        running_sum_row(d, w, s + (size_t)(r - ra) * w);
    }
#define S_AT(r, x) s[(size_t)(clampi(r, 0, h - 1) - ra) * w + (x)]
    /* Step 3 on rows [ea, eb): the background median across lines, sampled columns. */
    int ea = y0 - 2 * BLOCK > 0 ? y0 - 2 * BLOCK : 0;
    int eb = y1 + 2 * BLOCK < h ? y1 + 2 * BLOCK : h;
    for (int k = 0; k < nsamp; k++) {
        for (int j = 0; j < WIN; j++)
            init[j] = S_AT(ea - HALF + j, k * MEDIAN_STRIDE);
        window_init(win + (size_t)k * WIN, init);
    }
    for (int r = ea; r < eb; r++) {
        if (r > ea)
            for (int k = 0; k < nsamp; k++) {
                int x = k * MEDIAN_STRIDE;
                window_replace(win + (size_t)k * WIN, S_AT(r - 1 - HALF, x), S_AT(r + HALF, x));
            }
        float *er = e + (size_t)(r - ra) * w;
        const float *sr = s + (size_t)(r - ra) * w;
        for (int x = 0; x < w; x++)
            er[x] = sr[x] - win[(size_t)(x / MEDIAN_STRIDE) * WIN + HALF];
    }
#undef S_AT
    /* Step 4: periodic median across lines 8 apart. */
    for (int y = y0; y < y1; y++) {
        const float *e_rows[5];
        for (int k = -2; k <= 2; k++)
            e_rows[k + 2] = e + (size_t)(clampi(y + 8 * k, 0, h - 1) - ra) * w;
        add_median5(e_rows[0], e_rows[1], e_rows[2], e_rows[3], e_rows[4],
                    bag + (size_t)y * w, w);
    }
    free(s), free(e), free(d), free(win), free(init);
    return 0;
}

/* Vertical lines of rows [y0, y1): steps 1-4 with lines along y, added into bag. The sum over
 * 33 rows is kept running down the band; the background median along x is evaluated on rows
 * y = 0 mod 8 (and the band's first row) and reused for the next 7. */
static int vertical_lines(const um_image *l, int y0, int y1, float *bag)
{
    int w = l->width, h = l->height;
    int ra = y0 - HALF > 0 ? y0 - HALF : 0, rb = y1 + HALF < h ? y1 + HALF : h;
    float *d = malloc(sizeof(float) * (size_t)(rb - ra) * w);
    float *s = calloc((size_t)w, sizeof(float));
    float *background = malloc(sizeof(float) * (size_t)w);
    float *e = malloc(sizeof(float) * (size_t)(w + 4 * BLOCK)); /* 16 repeated on each side */
    float win[WIN], init[WIN];
    if (!d || !s || !background || !e) {
        free(d), free(s), free(background), free(e);
        return -1;
    }
    for (int r = ra; r < rb; r++)
        second_difference_row(l, r, 0, d + (size_t)(r - ra) * w);
#define D_ROW(r) (d + (size_t)(clampi(r, 0, h - 1) - ra) * w)
    for (int j = -HALF; j <= HALF; j++) { /* Step 2: the sum over 33 rows, edges repeated */
        const float *dr = D_ROW(y0 + j);
        for (int x = 0; x < w; x++)
            s[x] += dr[x];
    }
    for (int y = y0; y < y1; y++) {
        if (y > y0) {
            const float *add = D_ROW(y + HALF), *sub = D_ROW(y - 1 - HALF);
            for (int x = 0; x < w; x++)
                s[x] += add[x] - sub[x];
        }
        /* Step 3: running median of s along x, on sampled rows. */
        if (y % MEDIAN_STRIDE == 0 || y == y0) {
            for (int j = 0; j < WIN; j++)
                init[j] = s[clampi(j - HALF - 1, 0, w - 1)]; /* the window at x = -1 */
            window_init(win, init);
            for (int x = 0; x < w; x++) {
                window_replace(win, s[clampi(x - 1 - HALF, 0, w - 1)],
                               s[clampi(x + HALF, 0, w - 1)]);
                background[x] = win[HALF];
            }
        }
        float *ec = e + 2 * BLOCK;
        for (int x = 0; x < w; x++)
            ec[x] = s[x] - background[x];
        for (int k = 1; k <= 2 * BLOCK; k++) {
            ec[-k] = ec[0];
            ec[w - 1 + k] = ec[w - 1];
        }
        /* Step 4: periodic median along the row. */
        add_median5(ec - 16, ec - 8, ec, ec + 8, ec + 16, bag + (size_t)y * w, w);
    }
#undef D_ROW
    free(d), free(s), free(background), free(e);
    return 0;
}

static void bag_band(void *ctx, int band)
{
    struct blk_job *job = ctx;
    const um_image *l = job->luma;
    int y0 = band * BAND_ROWS, y1 = y0 + BAND_ROWS < l->height ? y0 + BAND_ROWS : l->height;
    memset(job->bag + (size_t)y0 * l->width, 0, sizeof(float) * (size_t)(y1 - y0) * l->width);
    if (horizontal_lines(l, y0, y1, job->bag) != 0 || vertical_lines(l, y0, y1, job->bag) != 0) {
        atomic_store(&job->failed, 1);
        return;
    }
    double(*p)[BLOCK] = job->profile[band];
    memset(p, 0, sizeof(double) * 2 * BLOCK);
    for (int y = y0; y < y1; y++) {
        const float *row = job->bag + (size_t)y * l->width;
        double sum = 0;
        for (int x = 0; x < l->width; x++) {
            p[0][x % BLOCK] += row[x];
            sum += row[x];
        }
        p[1][y % BLOCK] += sum;
    }
}

/* Grid phase: block edges (columns o-1 and o, mod 8) carry the strongest BAG. Also returns the
 * contrast of that phase against the other positions, > 1 when a grid is visible. */
static int grid_phase(const double profile[BLOCK], double *contrast)
{
    int best = 0;
    double best_edge = -INFINITY, total = 0;
    for (int o = 0; o < BLOCK; o++) {
        double edge = profile[o] + profile[(o + BLOCK - 1) % BLOCK];
        total += profile[o];
        if (edge > best_edge) {
            best_edge = edge;
            best = o;
        }
    }
    double inner = (total - best_edge) / (BLOCK - 2);
    double spread = 0;
    for (int o = 0; o < BLOCK; o++)
        spread += fabs(profile[o]);
    spread /= BLOCK;
    /* Contrast in units of the typical magnitude: the BAG is centred (background removed). */
    *contrast = spread > 0 ? (best_edge / 2 - inner) / spread : 0;
    return best;
}

/* Step 5 for the block whose top-left pixel is (bx, by). */
static float block_measure(const float *bag, int w, int bx, int by)
{
    float col[BLOCK] = {0}, row[BLOCK] = {0};
    for (int j = 0; j < BLOCK; j++)
        for (int i = 0; i < BLOCK; i++) {
            float v = bag[(size_t)(by + j) * w + bx + i];
            if (j >= 1 && j <= 6)
                col[i] += v; /* column sums over the inner rows */
            if (i >= 1 && i <= 6)
                row[j] += v; /* row sums over the inner columns */
        }
    float max_col = col[1], max_row = row[1];
    for (int k = 2; k <= 6; k++) {
        max_col = col[k] > max_col ? col[k] : max_col;
        max_row = row[k] > max_row ? row[k] : max_row;
    }
    float min_col = col[0] < col[7] ? col[0] : col[7];
    float min_row = row[0] < row[7] ? row[0] : row[7];
    return (max_col - min_col) + (max_row - min_row);
}

/* Step 5 on the blocks of the estimated grid (block (i, j) goes to map cell (i, j)), as
 * z-scores against the image's own blocks (median, MAD): "how abnormal for this image". */
static void block_scores(const float *bag, int w, int h, int ox, int oy, int cw, int ch,
                         float *z, float *scratch)
{
    int nbx = (w - ox) / BLOCK, nby = (h - oy) / BLOCK;
    size_t n = 0;
    for (int j = 0; j < ch; j++)
        for (int i = 0; i < cw; i++) {
            int inside = i < nbx && j < nby;
            float b = inside ? block_measure(bag, w, ox + BLOCK * i, oy + BLOCK * j) : 0.0f;
            z[(size_t)j * cw + i] = b;
            if (inside)
                scratch[n++] = b;
        }
    double med = um_median(scratch, n);
    for (size_t k = 0; k < n; k++)
        scratch[k] = fabsf(scratch[k] - (float)med);
    double spread = 1.4826 * um_median(scratch, n) + 1e-6;
    for (int j = 0; j < ch; j++)
        for (int i = 0; i < cw; i++) {
            float *v = &z[(size_t)j * cw + i];
            *v = i < nbx && j < nby ? (float)((*v - med) / spread) : 0.0f;
        }
}

/* The largest 8-connected set of cells with a smoothed z-score above `level`: its size in cells
 * and bounding box. A pasted piece makes one compact cluster; on a clean image abnormal blocks
 * are scattered (texture, edges). */
enum { CLUSTER_MIN_CELLS = 24, CLUSTER_FULL_CELLS = 96, BORDER_CELLS = 2 };
/* Blocks within BORDER_CELLS of the image edge see repeated edge pixels in the 33-pixel
 * windows; they are mapped but kept out of the clusters. */

static const float CLUSTER_LEVEL = 2.5f; /* smoothed z; map value 0.5 */

static um_error run(const struct um_input *in, struct um_evidence *ev)
{
    const um_image *l = in->luma;
    int w = l->width, h = l->height;
    if (w < 4 * BLOCK || h < 4 * BLOCK) {
        um_evidence_not_applicable(ev, "The image is too small (%dx%d) for block artifacts.", w,
                                   h);
        return UM_OK;
    }
    struct blk_job job = {.luma = l};
    job.nbands = (h + BAND_ROWS - 1) / BAND_ROWS;
    job.bag = malloc(sizeof(float) * (size_t)w * h);
    job.profile = calloc((size_t)job.nbands, sizeof *job.profile);
    int cw = (w + BLOCK - 1) / BLOCK, ch = (h + BLOCK - 1) / BLOCK;
    float *z = calloc((size_t)cw * ch, sizeof(float));
    float *smooth = calloc((size_t)cw * ch, sizeof(float));
    um_error err = UM_ERR_NOMEM;
    if (!job.bag || !job.profile || !z || !smooth)
        goto done;
    um_parallel_for(job.nbands, bag_band, &job, 0);
    if (atomic_load(&job.failed))
        goto done;

    double px[BLOCK] = {0}, py[BLOCK] = {0};
    for (int k = 0; k < job.nbands; k++)
        for (int i = 0; i < BLOCK; i++) {
            px[i] += job.profile[k][0][i];
            py[i] += job.profile[k][1][i];
        }
    double cx, cy;
    int ox = grid_phase(px, &cx), oy = grid_phase(py, &cy);
    double contrast = cx < cy ? cx : cy;
    if (contrast < MIN_GRID_CONTRAST) {
        um_evidence_not_applicable(ev,
                                   "No JPEG blocking is visible (grid contrast %.2f): the image "
                                   "was probably never JPEG-compressed at a visible quality, or "
                                   "was resized since.",
                                   contrast);
        err = UM_OK;
        goto done;
    }
    block_scores(job.bag, w, h, ox, oy, cw, ch, z, smooth);
    /* A pasted piece spans several blocks: average the z-scores over 3x3 blocks. */
    um_box_filter(z, cw, ch, 1, smooth);
    float *map = um_evidence_alloc_map(ev, cw, ch, BLOCK);
    struct um_region c;
    if (!map || um_largest_region(smooth, cw, ch, CLUSTER_LEVEL, BORDER_CELLS, &c) != 0)
        goto done;
    /* Blocks start at (ox, oy); map cells at (0, 0). Each cell takes the block holding its
     * centre pixel, so the map stays aligned with the image. */
    for (int j = 0; j < ch; j++) {
        int bj = (BLOCK * j + BLOCK / 2 - oy) / BLOCK;
        bj = bj < 0 ? 0 : (bj >= ch ? ch - 1 : bj);
        for (int i = 0; i < cw; i++) {
            int bi = (BLOCK * i + BLOCK / 2 - ox) / BLOCK;
            bi = bi < 0 ? 0 : (bi >= cw ? cw - 1 : bi);
            float v = (smooth[(size_t)bj * cw + bi] - 1.0f) / 3.0f; /* 1 ordinary, 4 strong */
            map[(size_t)j * cw + i] = !(v > 0) ? 0 : (v > 1 ? 1 : v);
        }
    }
    ev->applicable = 1;
    /* Image-level score: the size of the largest compact cluster of abnormal blocks, 0 below
     * CLUSTER_MIN_CELLS (scattered texture blocks), 1 from CLUSTER_FULL_CELLS (an ~80x80 piece). */
    double score = (double)(c.cells - CLUSTER_MIN_CELLS) / (CLUSTER_FULL_CELLS - CLUSTER_MIN_CELLS);
    ev->score = score < 0 ? 0 : (score > 1 ? 1 : score);

    json_t *d = json_object();
    json_object_set_new(d, "grid_x", json_integer(ox));
    json_object_set_new(d, "grid_y", json_integer(oy));
    json_object_set_new(d, "grid_contrast", um_json_number(contrast));
    json_t *jc = json_object();
    json_object_set_new(jc, "x", json_integer(c.cells ? c.x0 * BLOCK : 0));
    json_object_set_new(jc, "y", json_integer(c.cells ? c.y0 * BLOCK : 0));
    json_object_set_new(jc, "w", json_integer(c.cells ? (c.x1 - c.x0 + 1) * BLOCK : 0));
    json_object_set_new(jc, "h", json_integer(c.cells ? (c.y1 - c.y0 + 1) * BLOCK : 0));
    json_object_set_new(jc, "blocks", json_integer(c.cells));
    json_object_set_new(jc, "mean_z", um_json_number(c.mean));
    json_object_set_new(d, "largest_cluster", jc);
    ev->details = d;
    um_evidence_add_finding(ev, "JPEG blocking is visible on a grid at (%d,%d).", ox, oy);
    if (c.cells >= CLUSTER_MIN_CELLS)
        um_evidence_add_headline(ev,
                                "A %dx%d area at (%d,%d) (%ld blocks) has block lines that do "
                                "not follow the image's grid: typical of a piece pasted from "
                                "another JPEG, or of a locally edited area.",
                                (c.x1 - c.x0 + 1) * BLOCK, (c.y1 - c.y0 + 1) * BLOCK,
                                c.x0 * BLOCK, c.y0 * BLOCK, c.cells);
    else
        um_evidence_add_finding(ev, "The block artifacts follow one grid across the image.");
    err = UM_OK;
done:
    free(job.bag);
    free(job.profile);
    free(z);
    free(smooth);
    return err;
}

const struct um_detector um_detector_blk = {
    .name = "blk",
    .family = "jpeg",
    .summary = "JPEG block artifact grid (Li, Yuan & Yu 2009): 8x8 blocks whose blocking lines "
               "do not follow the image's grid.",
    .limits = "Needs visible JPEG blocking (weak above quality ~90, absent in never-compressed "
              "images); strong texture and edges also disturb the block lines; it shows where, "
              "not a false-alarm rate.",
    .needs = 0,
    .run = run,
};
