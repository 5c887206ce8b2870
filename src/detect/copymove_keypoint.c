/* copymove-keypoint: copy-move detection from matched SIFT keypoints, verified densely.
 *
 * Amerini, Ballan, Caldelli, Del Bimbo & Serra, "A SIFT-based forensic method for copy-move
 * attack detection and transformation recovery", IEEE TIFS 6(3), 2011. A region copied inside
 * one image, even rotated or scaled, keeps its SIFT descriptors (Lowe, IJCV 2004), so its
 * keypoints find their twins elsewhere in the same image. Steps, as in the paper (Sec. III):
 *   1. SIFT keypoints and descriptors (VLFeat) on the luma at a working resolution of at most
 *      CMK_WORK_PIXELS (an integer box reduction: 12 MP -> 1.3 MP), capped per cell and in total
 *      so that text, tiles and crowds cannot blow up the time or memory;
 *   2. g2NN matching (Sec. III-A): the sorted distances d1 <= d2 <= ... from a descriptor to the
 *      others; the first k with d_k / d_(k+1) > T (T = 0.5) ends the list and neighbours 1..k
 *      all match (several copies of one region each match). Neighbours come from a randomized
 *      kd-forest with a bounded number of comparisons; pairs closer than CMK_MIN_OFFSET pixels
 *      are not clones (a patch resembles its own neighbourhood);
 *   3. clustering of the matched pairs (Sec. III-B): the paper clusters keypoint positions;
 *      here two pairs are linked when both their ends are close (within CMK_LINK pixels), which
 *      groups the pairs of one source/target couple and orients them (which end is the source)
 *      consistently, even when source and target touch;
 *   4. an affine map per cluster by RANSAC (Sec. III-C; 3-point samples, CMK_RANSAC_EPS pixels),
 *      refitted by least squares on the inliers; its a-contrario NFA (Desolneux, Moisan & Morel)
 *      counts the inliers among all matches against chance (see clone_log10_nfa);
 *   5. dense verification (the paper stops at the transform; this follows Christlein et al.'s
 *      and Cozzolino et al.'s "dense linear fitting" idea): the zero-mean normalised correlation
 *      (ZNCC) of 7x7 windows of detail (the luma minus its 5x5 mean: shading alone must not
 *      agree) between each pixel x near the source keypoints and its image A x + t marks where
 *      the map holds; the connected area around the inliers, majority-filtered, with its holes
 *      filled (smooth insides do not correlate) and grown back by the pixel the windows lose
 *      at its edge, is the source region, its image the target. Both are drawn in the map,
 *      graded by how exactly each pixel is copied. The larger side is the source: a shrunken
 *      copy is compared with the source's detail in the band the shrinking kept;
 *      The score is 0.5 + 0.5 / (1 + NFA) of the strongest verified pair (a verified clone
 *      is strong evidence on its own), else 0.
 * Repeated structure (a tiled floor, a page of text, a brick wall) is not a clone. g2NN already
 * drops descriptors with many equally good twins; what survives is rejected by two rules:
 *   - uniqueness: the source region's content (and each of its halves and quarters),
 *     correlated at reduced size with the whole image, must not match at CMK_MAX_OTHERS or more
 *     places besides itself and its target. A forger pastes a region once or a few times; a
 *     tiled floor, a brick wall or the letters of a page repeat everywhere, and a lattice
 *     offset (one tile to the next but one) is betrayed by the tiles in between. This is the
 *     "second-best match at another offset is nearly as good" test, made on the region rather
 *     than on single descriptors;
 *   - extent: a "clone" covering more than CMK_MAX_SHARE of the image is the image's own
 *     structure (or two views of one scene), not a pasted region. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vl/kdtree.h>
#include <vl/random.h>
#include <vl/sift.h>

#include "core/parallel.h"
#include "core/nfa.h"
#include "core/stats.h"
#include "detect/copymove.h"
#include "detect/requant.h"

enum {
    CMK_MIN_SIDE = 64,          /* smaller images are not judged */
    CMK_WORK_PIXELS = 2000000,  /* working resolution cap (integer box reduction) */
    CMK_SMALL_WORK = 300000,    /* up to this, SIFT starts at the doubled image (Lowe Sec. 3.3) */
    CMK_MAX_DESC = 24000,       /* descriptors kept, at most */
    CMK_CELL_BUDGET = 8000,     /* keypoints the per-cell cap aims at (sets the cell size) */
    CMK_STRIPS = 2,             /* horizontal strips analysed in parallel ... */
    CMK_OVERLAP = 96,           /* ... with this many rows of context each side (octave 3's
                                   Gaussian, sigma ~ 13 px, reaches ~ 50 px) */
    CMK_PER_CELL = 5,           /* keypoints per cell and octave (strongest DoG peaks) */
    CMK_MIN_CELL = 16,          /* cell side at octave 0, working pixels (grown to fit the cap) */
    CMK_DIM = 128,
    CMK_KNN = 10,               /* neighbours examined per descriptor (g2NN list) */
    CMK_KD_TREES = 4,
    CMK_KD_CHECKS = 200,        /* comparisons per query: bounded matching cost */
    CMK_KD_SEED = 1,            /* the kd-forest's random splits (reproducible) */
    CMK_SEARCHERS = 16,         /* kd-forest searchers = parallel chunks */
    CMK_MAX_MATCHES = 60000,
    CMK_MIN_OFFSET = 16,        /* working pixels between the two ends of a clone pair */
    CMK_LINK = 40,              /* clustering radius, working pixels */
    CMK_MIN_CLUSTER = 4,
    CMK_MAX_CLUSTERS = 24,      /* largest clusters examined */
    CMK_RANSAC_ITERS = 300,
    CMK_MIN_INLIERS = 5,
    CMK_ZNCC_R = 3,             /* 7x7 correlation windows ... */
    CMK_DETAIL_R = 2,           /* ... of the luma minus its 5x5 mean */
    CMK_CLEAN_R = 2,            /* 5x5 majority filter of the agreement */
    CMK_EDGE_R = 1,             /* the region grown back by this at its edge */
    CMK_MIN_AREA = 300,         /* verified source pixels (working), at least ... */
    CMK_MAX_CLONES = 8,
    CMK_TEMPLATE = 24,          /* uniqueness rule: template side after reduction ... */
    CMK_MAX_OTHERS = 2,         /* ... other occurrences that make it repeated structure ... */
    CMK_SCAN = 100000           /* ... and positions scanned, at most */
};
#define CMK_PEAK_THRESH 0.004   /* DoG peak on a 0..1 luma; low, the caps keep the strongest */
#define CMK_G2NN_T 0.5          /* Amerini et al.'s ratio threshold */
#define CMK_SAME_POINT 1.5      /* neighbours this close are the keypoint itself (2nd angle) */
#define CMK_LINK_SCALE 1.3      /* target-side link radius factor: scale up to 1.2 */
#define CMK_RANSAC_EPS 3.0      /* inlier distance, working pixels */
#define CMK_MIN_SCALE 0.35      /* plausible affine maps: scale (either way) and anisotropy */
#define CMK_MAX_SCALE 2.9
#define CMK_MAX_ANISO 1.4
#define CMK_BAND_SCALE 0.8      /* below this scale the source is compared in the copy's band */
#define CMK_ZNCC 0.7            /* windows that agree (a random pair: ZNCC sd ~ 1/7) */
#define CMK_MIN_STD 0.5         /* grey levels: a flat window correlates with nothing */
#define CMK_DETAIL_STD 2.0      /* uniqueness rule: less detail than this cannot be judged */
#define CMK_MIN_AREA_SHARE 1e-4 /* ... and this share of the working image */
#define CMK_MAX_SHARE 0.25      /* extent rule */
#define CMK_UNIQUE_ZNCC 0.8     /* uniqueness rule: what counts as another occurrence */
#define CMK_DUPLICATE_SHARE 0.5 /* a region mostly inside an earlier clone is the same clone */

struct cmk_key {
    float x, y, sigma, peak;
};

struct cmk_features {
    int n, cap, limit; /* limit: descriptors allowed */
    struct cmk_key *key;
    float *desc; /* n x CMK_DIM */
};

struct cmk_match {
    int a, b; /* keypoint indices, a < b */
};

/* target = A source + t, working coordinates. */
struct cmk_affine {
    double a11, a12, a21, a22, tx, ty;
};

struct cmk_work {
    float *img;    /* working luma, 0..255 */
    float *detail; /* img minus its local mean (verification compares this) */
    int w, h, step;
};

/* ---- Step 1: working image and SIFT features --------------------------------------------- */

/* The luma reduced by an integer factor (mean of step x step boxes): the factor keeps the map's
 * cells whole input pixels. */
static int make_working(const um_image *luma, struct cmk_work *wk)
{
    double area = (double)luma->width * luma->height;
    int step = (int)ceil(sqrt(area / CMK_WORK_PIXELS));
    step = step < 1 ? 1 : step;
    wk->step = step;
    wk->w = luma->width / step;
    wk->h = luma->height / step;
    size_t npix = (size_t)wk->w * wk->h;
    wk->img = malloc(npix * sizeof *wk->img);
    wk->detail = malloc(npix * sizeof *wk->detail);
    if (!wk->img || !wk->detail)
        return -1;
    const float *src = luma->data;
    for (int y = 0; y < wk->h; y++)
        for (int x = 0; x < wk->w; x++) {
            float sum = 0;
            for (int j = 0; j < step; j++)
                for (int i = 0; i < step; i++)
                    sum += src[(size_t)(y * step + j) * luma->width + x * step + i];
            wk->img[(size_t)y * wk->w + x] = sum / (float)(step * step);
        }
    /* Shading (a gradient of sky, a wall lit from one side) correlates with itself under any
     * small shift: the dense verification compares detail only, the luma minus its
     * (2 CMK_DETAIL_R + 1)^2 mean, so that only texture can agree. */
    um_box_filter(wk->img, wk->w, wk->h, CMK_DETAIL_R, wk->detail);
    for (size_t i = 0; i < npix; i++)
        wk->detail[i] = wk->img[i] - wk->detail[i];
    return 0;
}

static int features_reserve(struct cmk_features *f, int extra)
{
    if (f->n + extra <= f->cap)
        return 0;
    int cap = f->cap ? f->cap : 1024;
    while (cap < f->n + extra)
        cap *= 2;
    cap = cap > f->limit ? f->limit : cap;
    struct cmk_key *key = realloc(f->key, (size_t)cap * sizeof *key);
    if (key)
        f->key = key;
    float *desc = realloc(f->desc, (size_t)cap * CMK_DIM * sizeof *desc);
    if (desc)
        f->desc = desc;
    if (!key || !desc)
        return -1;
    f->cap = cap;
    return 0;
}

/* |DoG| at the keypoint's sample: the contrast the caps rank by. VLFeat's DoG level s is the
 * difference of Gaussian levels s+1 and s of the current octave. */
static float key_peak(const VlSiftFilt *sf, const VlSiftKeypoint *k)
{
    int ow = vl_sift_get_octave_width(sf), oh = vl_sift_get_octave_height(sf);
    if (k->is < sf->s_min || k->is + 1 > sf->s_max || k->ix < 0 || k->iy < 0 || k->ix >= ow ||
        k->iy >= oh)
        return 0;
    size_t at = (size_t)k->iy * ow + k->ix;
    return fabsf(vl_sift_get_octave(sf, k->is + 1)[at] - vl_sift_get_octave(sf, k->is)[at]);
}

struct cmk_ranked {
    float peak;
    int index;
};

static int by_peak_desc(const void *pa, const void *pb)
{
    const struct cmk_ranked *a = pa, *b = pb;
    if (a->peak != b->peak)
        return a->peak < b->peak ? 1 : -1;
    return a->index - b->index;
}

/* A horizontal strip of the working image, analysed on its own core: rows own0..own1-1 are
 * its own, and CMK_OVERLAP rows more on each side give the scale space the context it needs
 * (keypoints found there belong to the neighbouring strip). */
struct cmk_strip {
    const float *unit; /* working luma on 0..1 */
    int width, height, top, own0, own1, cell0, o_min;
    struct cmk_features f;
    int err;
};

/* The current octave's keypoints: strongest first, at most CMK_PER_CELL per cell (cells grow
 * with the octave's sampling step), each with its orientations (Lowe Sec. 5) and descriptors.
 * Keypoint coordinates are those of the whole working image. */
/* Whether VLFeat wrote the descriptor (a written one is normalised, never all zero). */
static int described(const float *desc)
{
    for (int i = 0; i < CMK_DIM; i++)
        if (desc[i] != 0)
            return 1;
    return 0;
}

static int octave_features(VlSiftFilt *sf, struct cmk_strip *st)
{
    struct cmk_features *f = &st->f;
    int width = st->width, height = st->own1 - st->own0, cell0 = st->cell0;
    int nk = vl_sift_get_nkeypoints(sf);
    const VlSiftKeypoint *keys = vl_sift_get_keypoints(sf);
    if (nk <= 0)
        return 0;
    int o = vl_sift_get_octave_index(sf);
    int cell = o > 0 ? cell0 << (o < 8 ? o : 8) : cell0;
    int cx = (width + cell - 1) / cell, cy = (height + cell - 1) / cell;
    struct cmk_ranked *rank = malloc((size_t)nk * sizeof *rank);
    unsigned char *count = calloc((size_t)cx * cy, 1);
    int err = !rank || !count;
    for (int i = 0; !err && i < nk; i++)
        rank[i] = (struct cmk_ranked){key_peak(sf, &keys[i]), i};
    if (!err)
        qsort(rank, (size_t)nk, sizeof *rank, by_peak_desc);
    for (int r = 0; !err && r < nk && f->n < f->limit; r++) {
        const VlSiftKeypoint *k = &keys[rank[r].index];
        float y = k->y + (float)st->top;
        if (y < st->own0 || y >= st->own1)
            continue;
        int gx = (int)k->x / cell, gy = (int)(y - (float)st->own0) / cell;
        if (gx < 0 || gy < 0 || gx >= cx || gy >= cy || count[(size_t)gy * cx + gx] >= CMK_PER_CELL)
            continue;
        count[(size_t)gy * cx + gx]++;
        double angles[4];
        int na = vl_sift_calc_keypoint_orientations(sf, angles, k);
        na = na < f->limit - f->n ? na : f->limit - f->n;
        if (features_reserve(f, na)) {
            err = 1;
            break;
        }
        for (int a = 0; a < na; a++) {
            float *desc = f->desc + (size_t)f->n * CMK_DIM;
            /* VLFeat returns without writing when the keypoint lies too close to the border
             * of its scale space: such a keypoint is dropped, not described by stale memory. */
            memset(desc, 0, CMK_DIM * sizeof *desc);
            vl_sift_calc_keypoint_descriptor(sf, desc, k, angles[a]);
            if (described(desc))
                f->key[f->n++] = (struct cmk_key){k->x, y, k->sigma, rank[r].peak};
        }
    }
    free(rank);
    free(count);
    return err ? -1 : 0;
}

static void sift_strip(void *ctx, int index)
{
    struct cmk_strip *st = (struct cmk_strip *)ctx + index;
    st->err = 1;
    VlSiftFilt *sf = vl_sift_new(st->width, st->height, -1, 3, st->o_min);
    if (!sf)
        return;
    vl_sift_set_peak_thresh(sf, CMK_PEAK_THRESH);
    int err = 0;
    for (int r = vl_sift_process_first_octave(sf, st->unit + (size_t)st->top * st->width);
         r != VL_ERR_EOF && !err; r = vl_sift_process_next_octave(sf)) {
        vl_sift_detect(sf);
        err = octave_features(sf, st);
    }
    vl_sift_delete(sf);
    st->err = err;
}

/* Step 1 on CMK_STRIPS strips in parallel, merged into f. */
static int sift_features(const struct cmk_work *wk, struct cmk_features *f)
{
    size_t npix = (size_t)wk->w * wk->h;
    float *unit = malloc(npix * sizeof *unit);
    if (!unit)
        return -1;
    for (size_t i = 0; i < npix; i++)
        unit[i] = wk->img[i] * (1.0f / 255.0f);
    /* Cell side so that full cells at octave 0 (plus the coarser octaves, ~1/3 more) hold
     * about CMK_CELL_BUDGET keypoints: on text or tiles, where every cell is full, this bounds
     * the descriptor and matching cost; the cap spreads keypoints over the image. */
    double need = sqrt((double)npix * CMK_PER_CELL * 1.5 / CMK_CELL_BUDGET);
    int cell0 = need > CMK_MIN_CELL ? (int)ceil(need) : CMK_MIN_CELL;
    int nstrips = wk->h >= CMK_STRIPS * 4 * CMK_OVERLAP ? CMK_STRIPS : 1;
    struct cmk_strip strip[CMK_STRIPS];
    for (int k = 0; k < nstrips; k++) {
        int own0 = (int)((long)wk->h * k / nstrips), own1 = (int)((long)wk->h * (k + 1) / nstrips);
        int top = own0 - CMK_OVERLAP > 0 ? own0 - CMK_OVERLAP : 0;
        int bottom = own1 + CMK_OVERLAP < wk->h ? own1 + CMK_OVERLAP : wk->h;
        strip[k] = (struct cmk_strip){unit, wk->w, bottom - top, top, own0, own1, cell0,
                                      npix <= CMK_SMALL_WORK ? -1 : 0,
                                      {0, 0, CMK_MAX_DESC / nstrips, NULL, NULL}, 0};
    }
    um_parallel_for(nstrips, sift_strip, strip, 0);
    int err = 0, total = 0;
    for (int k = 0; k < nstrips; k++) {
        err |= strip[k].err;
        total += strip[k].f.n;
    }
    f->limit = CMK_MAX_DESC;
    if (!err && total > 0 && features_reserve(f, total) == 0) {
        for (int k = 0; k < nstrips; k++) {
            memcpy(f->key + f->n, strip[k].f.key, (size_t)strip[k].f.n * sizeof *f->key);
            memcpy(f->desc + (size_t)f->n * CMK_DIM, strip[k].f.desc,
                   (size_t)strip[k].f.n * CMK_DIM * sizeof *f->desc);
            f->n += strip[k].f.n;
        }
    } else if (total > 0) {
        err = 1;
    }
    for (int k = 0; k < nstrips; k++) {
        free(strip[k].f.key);
        free(strip[k].f.desc);
    }
    free(unit);
    return err ? -1 : 0;
}

/* ---- Step 2: g2NN matching ---------------------------------------------------------------- */

struct cmk_match_job {
    const struct cmk_features *f;
    VlKDForestSearcher *searcher[CMK_SEARCHERS];
    int *partner; /* n x CMK_KNN matched keypoints per query, -1 = none */
};

static double key_distance(const struct cmk_key *a, const struct cmk_key *b)
{
    return hypot(a->x - b->x, a->y - b->y);
}

/* One query: neighbours by descriptor, the keypoint itself (and its other orientations at the
 * same place) left out; g2NN keeps neighbours 1..k up to the first ratio above T. */
static void g2nn_query(const struct cmk_match_job *job, VlKDForestSearcher *searcher, int i)
{
    VlKDForestNeighbor nb[CMK_KNN + 4];
    const struct cmk_key *ki = &job->f->key[i];
    int *out = job->partner + (size_t)i * CMK_KNN;
    for (int k = 0; k < CMK_KNN; k++)
        out[k] = -1;
    /* (The return value is the number of comparisons made, not of neighbours.) */
    int want = job->f->n < CMK_KNN + 4 ? job->f->n : CMK_KNN + 4;
    vl_kdforestsearcher_query(searcher, nb, (vl_size)want, job->f->desc + (size_t)i * CMK_DIM);
    double dist[CMK_KNN + 4];
    int idx[CMK_KNN + 4], m = 0;
    for (int k = 0; k < want && m < CMK_KNN + 1; k++) {
        int j = (int)nb[k].index;
        if (j == i || key_distance(ki, &job->f->key[j]) < CMK_SAME_POINT)
            continue;
        dist[m] = sqrt(nb[k].distance); /* VLFeat returns squared L2 */
        idx[m++] = j;
    }
    int nout = 0;
    for (int k = 0; k + 1 < m; k++) {
        if (dist[k] > CMK_G2NN_T * dist[k + 1])
            break;
        if (key_distance(ki, &job->f->key[idx[k]]) >= CMK_MIN_OFFSET)
            out[nout++] = idx[k];
    }
}

static void match_chunk(void *ctx, int chunk)
{
    const struct cmk_match_job *job = ctx;
    int n = job->f->n;
    int lo = (int)((long)n * chunk / CMK_SEARCHERS);
    int hi = (int)((long)n * (chunk + 1) / CMK_SEARCHERS);
    for (int i = lo; i < hi; i++)
        g2nn_query(job, job->searcher[chunk], i);
}

static int by_pair(const void *pa, const void *pb)
{
    const struct cmk_match *a = pa, *b = pb;
    return a->a != b->a ? (a->a < b->a ? -1 : 1) : (a->b < b->b ? -1 : a->b > b->b);
}

/* Matched pairs, each once (a < b), at most CMK_MAX_MATCHES. */
static int g2nn_matches(const struct cmk_features *f, struct cmk_match **out, int *nout)
{
    *out = NULL;
    *nout = 0;
    if (f->n < 3)
        return 0;
    struct cmk_match_job job = {f, {0}, malloc((size_t)f->n * CMK_KNN * sizeof(int))};
    VlKDForest *forest = vl_kdforest_new(VL_TYPE_FLOAT, CMK_DIM, CMK_KD_TREES, VlDistanceL2);
    int err = !job.partner || !forest;
    /* The forest's random splits come from our own fixed-seed generator, not VLFeat's
     * per-thread one, whose state depends on what the thread built before: the same image
     * must give the same answer whatever ran earlier in the process. */
    VlRand rng;
    vl_rand_init(&rng);
    vl_rand_seed(&rng, CMK_KD_SEED);
    if (!err) {
        forest->rand = &rng;
        vl_kdforest_build(forest, (vl_size)f->n, f->desc);
        vl_kdforest_set_max_num_comparisons(forest, CMK_KD_CHECKS);
        for (int c = 0; c < CMK_SEARCHERS && !err; c++)
            err = !(job.searcher[c] = vl_kdforest_new_searcher(forest));
    }
    if (!err) {
        um_parallel_for(CMK_SEARCHERS, match_chunk, &job, 0);
        size_t total = (size_t)f->n * CMK_KNN;
        struct cmk_match *m = malloc((total < CMK_MAX_MATCHES ? total : CMK_MAX_MATCHES) *
                                     sizeof *m);
        err = !m;
        int count = 0;
        for (size_t k = 0; !err && k < total && count < CMK_MAX_MATCHES; k++) {
            int i = (int)(k / CMK_KNN), j = job.partner[k];
            if (j >= 0)
                m[count++] = (struct cmk_match){i < j ? i : j, i < j ? j : i};
        }
        if (!err) {
            qsort(m, (size_t)count, sizeof *m, by_pair);
            int u = 0;
            for (int k = 0; k < count; k++)
                if (u == 0 || by_pair(&m[k], &m[u - 1]) != 0)
                    m[u++] = m[k];
            *out = m;
            *nout = u;
        }
    }
    if (forest)
        vl_kdforest_delete(forest); /* deletes its searchers too */
    free(job.partner);
    return err ? -1 : 0;
}

/* ---- Step 3: clusters of pairs whose two ends are both close ------------------------------ */

struct cmk_graph {
    const struct cmk_features *f;
    const struct cmk_match *m;
    int nm, gw, gh;
    int *start; /* gw*gh+1 offsets into entry */
    int *entry; /* match << 1 | end, by cell */
};

static const struct cmk_key *match_end(const struct cmk_graph *g, int m, int end)
{
    return &g->f->key[end ? g->m[m].b : g->m[m].a];
}

static int cell_of(const struct cmk_graph *g, const struct cmk_key *k)
{
    int cx = (int)(k->x / CMK_LINK), cy = (int)(k->y / CMK_LINK);
    cx = cx < 0 ? 0 : (cx >= g->gw ? g->gw - 1 : cx);
    cy = cy < 0 ? 0 : (cy >= g->gh ? g->gh - 1 : cy);
    return cy * g->gw + cx;
}

static int graph_build(struct cmk_graph *g, int w, int h)
{
    g->gw = w / CMK_LINK + 1;
    g->gh = h / CMK_LINK + 1;
    size_t cells = (size_t)g->gw * g->gh;
    g->start = calloc(cells + 1, sizeof *g->start);
    g->entry = malloc((size_t)g->nm * 2 * sizeof *g->entry);
    int *fill = calloc(cells, sizeof *fill);
    if (!g->start || !g->entry || !fill) {
        free(fill);
        return -1;
    }
    for (int e = 0; e < 2 * g->nm; e++)
        g->start[cell_of(g, match_end(g, e >> 1, e & 1)) + 1]++;
    for (size_t c = 0; c < cells; c++)
        g->start[c + 1] += g->start[c];
    for (int e = 0; e < 2 * g->nm; e++) {
        int c = cell_of(g, match_end(g, e >> 1, e & 1));
        g->entry[g->start[c] + fill[c]++] = e;
    }
    free(fill);
    return 0;
}

/* How well pair m2, taken with end e2 as its source, continues pair (p -> q): the summed
 * distances of the two ends, or -1 when either is beyond the link radius. */
static double link_cost(const struct cmk_graph *g, const struct cmk_key *p,
                        const struct cmk_key *q, int m2, int e2)
{
    double dp = key_distance(p, match_end(g, m2, e2));
    double dq = key_distance(q, match_end(g, m2, !e2));
    return dp < CMK_LINK && dq < CMK_LINK * CMK_LINK_SCALE ? dp + dq : -1;
}

/* Breadth-first over the links: cluster[m] (from 0) and source_end[m] (0: key a is the source).
 * A pair reached by both orientations takes the cheaper one, which keeps the orientation
 * consistent along the cluster. Returns the number of clusters. */
static int cluster_pairs(const struct cmk_graph *g, int *cluster, unsigned char *source_end,
                         int *queue)
{
    int nclusters = 0;
    for (int i = 0; i < g->nm; i++)
        cluster[i] = -1;
    for (int seed = 0; seed < g->nm; seed++) {
        if (cluster[seed] >= 0)
            continue;
        int head = 0, tail = 0;
        cluster[seed] = nclusters;
        source_end[seed] = 0;
        queue[tail++] = seed;
        while (head < tail) {
            int m = queue[head++];
            const struct cmk_key *p = match_end(g, m, source_end[m]);
            const struct cmk_key *q = match_end(g, m, !source_end[m]);
            int c = cell_of(g, p), cx = c % g->gw, cy = c / g->gw;
            for (int y = cy - 1; y <= cy + 1; y++)
                for (int x = cx - 1; x <= cx + 1; x++) {
                    if (x < 0 || y < 0 || x >= g->gw || y >= g->gh)
                        continue;
                    int cc = y * g->gw + x;
                    for (int k = g->start[cc]; k < g->start[cc + 1]; k++) {
                        int m2 = g->entry[k] >> 1, e2 = g->entry[k] & 1;
                        if (cluster[m2] >= 0)
                            continue;
                        double here = link_cost(g, p, q, m2, e2);
                        double other = link_cost(g, p, q, m2, !e2);
                        if (here < 0 || (other >= 0 && other < here))
                            continue; /* the other entry of m2 links it better */
                        cluster[m2] = nclusters;
                        source_end[m2] = (unsigned char)e2;
                        queue[tail++] = m2;
                    }
                }
        }
        nclusters++;
    }
    return nclusters;
}

/* ---- Step 4: RANSAC affine per cluster ---------------------------------------------------- */

struct cmk_points {
    int n;
    double *sx, *sy, *dx, *dy; /* source and target ends */
};

/* Least-squares affine through the points listed in idx (3 = exact fit). With the sources
 * centred on their mean, the translation separates from the linear part, and each row of A
 * solves the 2x2 normal equations [Suu Suv; Suv Svv] (a_1 a_2) = (Su x', Sv x'). Returns -1
 * when the sources are (nearly) collinear or coincident. */
static int fit_affine(const struct cmk_points *pt, const int *idx, int n, struct cmk_affine *T)
{
    double mx = 0, my = 0, mdx = 0, mdy = 0;
    for (int k = 0; k < n; k++) {
        mx += pt->sx[idx[k]], my += pt->sy[idx[k]];
        mdx += pt->dx[idx[k]], mdy += pt->dy[idx[k]];
    }
    mx /= n, my /= n, mdx /= n, mdy /= n;
    double suu = 0, suv = 0, svv = 0, sux = 0, svx = 0, suy = 0, svy = 0;
    for (int k = 0; k < n; k++) {
        double u = pt->sx[idx[k]] - mx, v = pt->sy[idx[k]] - my;
        double x = pt->dx[idx[k]] - mdx, y = pt->dy[idx[k]] - mdy;
        suu += u * u, suv += u * v, svv += v * v;
        sux += u * x, svx += v * x, suy += u * y, svy += v * y;
    }
    double det = suu * svv - suv * suv;
    /* Collinear sources: the triangle's area is tiny against its spread (and under a pixel). */
    if (!(det > 1e-3 * (suu + svv) * (suu + svv)) || suu + svv < n)
        return -1;
    T->a11 = (svv * sux - suv * svx) / det;
    T->a12 = (suu * svx - suv * sux) / det;
    T->a21 = (svv * suy - suv * svy) / det;
    T->a22 = (suu * svy - suv * suy) / det;
    T->tx = mdx - T->a11 * mx - T->a12 * my;
    T->ty = mdy - T->a21 * mx - T->a22 * my;
    return 0;
}

/* Clone maps are similarities up to mild distortion: positive determinant (SIFT does not match
 * mirror images), a scale within CMK_MIN_SCALE..CMK_MAX_SCALE (a region pasted at 40 % or 250 %
 * of its size is still a clone), singular values close. */
static int plausible(const struct cmk_affine *T)
{
    double det = T->a11 * T->a22 - T->a12 * T->a21;
    if (!(det > 0))
        return 0;
    double f = T->a11 * T->a11 + T->a12 * T->a12 + T->a21 * T->a21 + T->a22 * T->a22;
    double root = sqrt(fmax(0, f * f - 4 * det * det));
    double s1 = sqrt((f + root) / 2), s2 = sqrt(fmax(1e-12, (f - root) / 2));
    double scale = sqrt(det);
    return scale >= CMK_MIN_SCALE && scale <= CMK_MAX_SCALE && s1 / s2 <= CMK_MAX_ANISO;
}

static void apply(const struct cmk_affine *T, double x, double y, double *ox, double *oy)
{
    *ox = T->a11 * x + T->a12 * y + T->tx;
    *oy = T->a21 * x + T->a22 * y + T->ty;
}

static int count_inliers(const struct cmk_points *pt, const struct cmk_affine *T, int *idx)
{
    int n = 0;
    for (int i = 0; i < pt->n; i++) {
        double x, y;
        apply(T, pt->sx[i], pt->sy[i], &x, &y);
        if (hypot(x - pt->dx[i], y - pt->dy[i]) <= CMK_RANSAC_EPS && idx)
            idx[n++] = i;
        else if (hypot(x - pt->dx[i], y - pt->dy[i]) <= CMK_RANSAC_EPS)
            n++;
    }
    return n;
}

/* RANSAC (Fischler & Bolles) with 3-point samples from a fixed-seed generator (the same input
 * gives the same answer), then a least-squares refit on the inliers. Returns the inlier count
 * (0 when no plausible map was found); idx receives the inliers. */
static int ransac_affine(const struct cmk_points *pt, struct cmk_affine *best, int *idx)
{
    uint32_t state = 0x9e3779b9u ^ (uint32_t)pt->n;
    int best_n = 0;
    for (int it = 0; it < CMK_RANSAC_ITERS; it++) {
        int s[3];
        for (int k = 0; k < 3; k++) {
            state = state * 1664525u + 1013904223u;
            s[k] = (int)((state >> 8) % (uint32_t)pt->n);
        }
        struct cmk_affine T;
        if (s[0] == s[1] || s[1] == s[2] || s[0] == s[2] || fit_affine(pt, s, 3, &T) ||
            !plausible(&T))
            continue;
        int n = count_inliers(pt, &T, NULL);
        if (n > best_n) {
            best_n = n;
            *best = T;
        }
    }
    if (best_n < 3)
        return 0;
    int n = count_inliers(pt, best, idx);
    struct cmk_affine refit;
    if (fit_affine(pt, idx, n, &refit) == 0 && plausible(&refit) &&
        count_inliers(pt, &refit, NULL) >= n) {
        *best = refit;
        n = count_inliers(pt, best, idx);
    }
    return n;
}

/* ---- Step 5: dense verification ----------------------------------------------------------- */

enum { CMK_NO = 0, CMK_YES = 1, CMK_OUT = 2 };

struct cmk_rect {
    int x0, y0, x1, y1; /* [x0, x1) x [y0, y1) */
};

/* The source rectangle's detail in the band its copy kept when the copy was shrunk by scale:
 * the luma's box mean over the size of one copy pixel minus its mean over the 5x5 copy pixels
 * the detail of the copy subtracts (radii 0.5 / scale and 2 / scale source pixels). A shrunken
 * copy lost the source's finest detail; compared with the unfiltered source, it would not
 * correlate at all. Returns an rw x rh array to free, or NULL when out of memory. */
static float *scaled_detail(const struct cmk_work *wk, struct cmk_rect r, double scale)
{
    int rw = r.x1 - r.x0, rh = r.y1 - r.y0;
    size_t n = (size_t)rw * rh;
    float *band = malloc(3 * n * sizeof *band);
    if (!band)
        return NULL;
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++)
            band[(size_t)y * rw + x] = wk->img[(size_t)(y + r.y0) * wk->w + x + r.x0];
    um_box_filter(band, rw, rh, (int)lround(0.5 / scale - 0.5), band + n);
    um_box_filter(band, rw, rh, (int)lround(2 / scale), band + 2 * n);
    for (size_t i = 0; i < n; i++)
        band[i] = band[n + i] - band[2 * n + i];
    return band;
}

/* agree[i] over the rectangle: CMK_YES where the 7x7 window at x and the image of that window
 * under T correlate (ZNCC >= CMK_ZNCC), CMK_OUT where T(x) leaves the image or lies within
 * the minimum offset of x, else CMK_NO. Window means come from box filters of I, W, I^2, W^2
 * and I W (I = the working detail, W = I o T sampled bilinearly). Returns -1 when out of
 * memory. */
static int agreement(const struct cmk_work *wk, const struct cmk_affine *T, struct cmk_rect r,
                     unsigned char *agree)
{
    int rw = r.x1 - r.x0, rh = r.y1 - r.y0;
    size_t n = (size_t)rw * rh;
    float *buf = malloc(n * 10 * sizeof *buf);
    if (!buf)
        return -1;
    float *in[5] = {buf, buf + n, buf + 2 * n, buf + 3 * n, buf + 4 * n};
    float *mean[5] = {buf + 5 * n, buf + 6 * n, buf + 7 * n, buf + 8 * n, buf + 9 * n};
    double scale = sqrt(T->a11 * T->a22 - T->a12 * T->a21); /* > 0: plausible() */
    float *band = scale < CMK_BAND_SCALE ? scaled_detail(wk, r, scale) : NULL;
    if (scale < CMK_BAND_SCALE && !band) {
        free(buf);
        return -1;
    }
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            size_t i = (size_t)y * rw + x;
            double tx, ty;
            apply(T, x + r.x0, y + r.y0, &tx, &ty);
            int inside = tx >= 0 && ty >= 0 && tx <= wk->w - 1 && ty <= wk->h - 1 &&
                         hypot(tx - x - r.x0, ty - y - r.y0) >= CMK_MIN_OFFSET;
            float a = band ? band[i] : wk->detail[(size_t)(y + r.y0) * wk->w + x + r.x0];
            float b = inside ? um_bilinear(wk->detail, wk->w, wk->h, tx, ty) : a;
            agree[i] = inside ? CMK_NO : CMK_OUT;
            in[0][i] = a;
            in[1][i] = b;
            in[2][i] = a * a;
            in[3][i] = b * b;
            in[4][i] = a * b;
        }
    for (int k = 0; k < 5; k++)
        um_box_filter(in[k], rw, rh, CMK_ZNCC_R, mean[k]);
    for (size_t i = 0; i < n; i++) {
        if (agree[i] == CMK_OUT)
            continue;
        double va = mean[2][i] - (double)mean[0][i] * mean[0][i];
        double vb = mean[3][i] - (double)mean[1][i] * mean[1][i];
        double cov = mean[4][i] - (double)mean[0][i] * mean[1][i];
        if (va > CMK_MIN_STD * CMK_MIN_STD && vb > CMK_MIN_STD * CMK_MIN_STD &&
            cov >= CMK_ZNCC * sqrt(va * vb))
            agree[i] = CMK_YES;
    }
    free(buf);
    free(band);
    return 0;
}

static int take(unsigned char *region, const float *smooth, int i)
{
    if (region[i] || smooth[i] < 0.5f)
        return 0;
    region[i] = 1;
    return 1;
}

/* A copied region is one solid piece: its smooth inside, where correlation says nothing,
 * belongs to it too. Pixels outside the region that cannot reach the rectangle's border
 * without crossing it are holes and are added (region: 1 inside, 2 = reached from outside
 * during the fill). Returns the pixels added; stack holds rw * rh ints. */
static long fill_holes(unsigned char *region, int rw, int rh, int *stack)
{
    int top = 0;
    for (int i = 0; i < rw * rh; i++) {
        int x = i % rw, y = i / rw;
        if ((x == 0 || y == 0 || x == rw - 1 || y == rh - 1) && !region[i]) {
            region[i] = 2;
            stack[top++] = i;
        }
    }
    while (top > 0) {
        int i = stack[--top], x = i % rw, y = i / rw;
        int next[4] = {x > 0 ? i - 1 : -1, x + 1 < rw ? i + 1 : -1, y > 0 ? i - rw : -1,
                       y + 1 < rh ? i + rw : -1};
        for (int k = 0; k < 4; k++)
            if (next[k] >= 0 && !region[next[k]]) {
                region[next[k]] = 2;
                stack[top++] = next[k];
            }
    }
    long added = 0;
    for (int i = 0; i < rw * rh; i++) {
        added += region[i] == 0;
        region[i] = region[i] != 2;
    }
    return added;
}

/* Majority filter (5x5) of the agreement, then the 4-connected areas holding an inlier source:
 * region[i] = 1 there. Returns the area, or -1 when out of memory. */
static long grow_region(const unsigned char *agree, struct cmk_rect r,
                        const struct cmk_points *pt, const int *inl, int ninl,
                        unsigned char *region)
{
    int rw = r.x1 - r.x0, rh = r.y1 - r.y0;
    size_t n = (size_t)rw * rh;
    float *vote = malloc(n * sizeof *vote), *smooth = malloc(n * sizeof *smooth);
    int *stack = malloc(n * sizeof *stack);
    if (!vote || !smooth || !stack) {
        free(vote), free(smooth), free(stack);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        vote[i] = agree[i] == CMK_YES;
    um_box_filter(vote, rw, rh, CMK_CLEAN_R, smooth);
    memset(region, 0, n);
    long area = 0;
    /* Pixels are marked when pushed, so each enters the stack at most once. */
    for (int k = 0; k < ninl; k++) {
        int x = (int)lround(pt->sx[inl[k]]) - r.x0, y = (int)lround(pt->sy[inl[k]]) - r.y0;
        int top = 0;
        if (x >= 0 && y >= 0 && x < rw && y < rh && take(region, smooth, y * rw + x))
            stack[top++] = y * rw + x;
        while (top > 0) {
            int i = stack[--top], ix = i % rw, iy = i / rw;
            area++;
            if (ix > 0 && take(region, smooth, i - 1))
                stack[top++] = i - 1;
            if (ix + 1 < rw && take(region, smooth, i + 1))
                stack[top++] = i + 1;
            if (iy > 0 && take(region, smooth, i - rw))
                stack[top++] = i - rw;
            if (iy + 1 < rh && take(region, smooth, i + rw))
                stack[top++] = i + rw;
        }
    }
    area += fill_holes(region, rw, rh, stack);
    free(stack);
    /* A window straddling the region's edge is partly foreign and fails the correlation, so
     * the agreement stops short of the true edge: grow the region back by CMK_EDGE_R (1 px
     * chosen on the fit half of CoMoFoD; 2 px also grows the false extensions). */
    for (size_t i = 0; i < n; i++)
        vote[i] = region[i];
    um_box_filter(vote, rw, rh, CMK_EDGE_R, smooth);
    for (size_t i = 0; i < n; i++)
        region[i] = smooth[i] > 0.5f / ((2 * CMK_EDGE_R + 1) * (2 * CMK_EDGE_R + 1));
    free(vote), free(smooth);
    return area;
}

static struct cmk_affine affine_inverse(const struct cmk_affine *T)
{
    double det = T->a11 * T->a22 - T->a12 * T->a21; /* > 0: plausible() */
    struct cmk_affine I = {T->a22 / det, -T->a12 / det, -T->a21 / det, T->a11 / det, 0, 0};
    I.tx = -(I.a11 * T->tx + I.a12 * T->ty);
    I.ty = -(I.a21 * T->tx + I.a22 * T->ty);
    return I;
}

/* The working image reduced by f (box means), detail only: minus a 5x5 mean, because smooth
 * shading correlates with any other shading and would make every gentle gradient look
 * repeated. */
struct cmk_reduced {
    float *img;
    int w, h, f;
};

static int reduce_detail(const struct cmk_work *wk, int f, struct cmk_reduced *rd)
{
    rd->f = f;
    rd->w = wk->w / f;
    rd->h = wk->h / f;
    size_t nr = (size_t)rd->w * rd->h;
    rd->img = malloc(2 * nr * sizeof *rd->img);
    if (!rd->img)
        return -1;
    float *low = rd->img + nr;
    for (int y = 0; y < rd->h; y++)
        for (int x = 0; x < rd->w; x++) {
            float sum = 0;
            for (int j = 0; j < f; j++)
                for (int i = 0; i < f; i++)
                    sum += wk->img[(size_t)(y * f + j) * wk->w + x * f + i];
            rd->img[(size_t)y * rd->w + x] = sum / (float)(f * f);
        }
    um_box_filter(rd->img, rd->w, rd->h, 2, low);
    for (size_t i = 0; i < nr; i++)
        rd->img[i] -= low[i];
    return 0;
}

/* Uniqueness rule. The source region's box, reduced by f so that it spans at most CMK_TEMPLATE
 * pixels, is correlated (ZNCC) with the whole image reduced alike; returns the number of
 * places, other than the source itself and its target T(s), where it matches (local maxima
 * with ZNCC >= CMK_UNIQUE_ZNCC), or -1 when out of memory. A clone has one twin (or a few when
 * pasted several times); tiles, bricks and letters of a text have many. */
static int other_occurrences(const struct cmk_work *wk, const struct cmk_affine *T,
                             struct cmk_rect s)
{
    /* The part spans at most CMK_TEMPLATE pixels once reduced, and the scan covers at most
     * CMK_SCAN positions (bounded cost on large images). */
    int sw = s.x1 - s.x0, sh = s.y1 - s.y0, side = sw > sh ? sw : sh;
    int f = (side + CMK_TEMPLATE - 1) / CMK_TEMPLATE;
    int f_scan = (int)ceil(sqrt((double)wk->w * wk->h / CMK_SCAN));
    f = f > f_scan ? f : f_scan;
    int rw = wk->w / f, rh = wk->h / f, tw = sw / f, th = sh / f;
    if (tw < 3 || th < 3 || rw <= tw || rh <= th)
        return 0;
    struct cmk_reduced rd;
    if (reduce_detail(wk, f, &rd))
        return -1;
    float *score = malloc((size_t)(rw - tw + 1) * (rh - th + 1) * sizeof *score);
    float *tpl = malloc((size_t)tw * th * sizeof *tpl);
    const float *red = rd.img;
    if (!score || !tpl) {
        free(rd.img), free(score), free(tpl);
        return -1;
    }
    int ox = s.x0 / f, oy = s.y0 / f, n = tw * th;
    double tmean = 0, tvar = 0;
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++)
            tmean += tpl[y * tw + x] = red[(size_t)(oy + y < rh ? oy + y : rh - 1) * rw +
                                           (ox + x < rw ? ox + x : rw - 1)];
    tmean /= n;
    for (int k = 0; k < n; k++) {
        tpl[k] -= (float)tmean;
        tvar += (double)tpl[k] * tpl[k];
    }
    int others = 0;
    if (tvar > n * CMK_DETAIL_STD * CMK_DETAIL_STD) {
        int pw = rw - tw + 1, ph = rh - th + 1;
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                double sum = 0, sum2 = 0, cross = 0;
                for (int j = 0; j < th; j++) {
                    const float *row = red + (size_t)(y + j) * rw + x;
                    for (int i = 0; i < tw; i++) {
                        sum += row[i], sum2 += (double)row[i] * row[i];
                        cross += (double)row[i] * tpl[j * tw + i];
                    }
                }
                double var = sum2 - sum * sum / n;
                score[(size_t)y * pw + x] = var > 1e-9 ? (float)(cross / sqrt(var * tvar)) : 0;
            }
        double tcx, tcy; /* the target's centre, reduced */
        apply(T, (s.x0 + s.x1) / 2.0, (s.y0 + s.y1) / 2.0, &tcx, &tcy);
        for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++) {
                float v = score[(size_t)y * pw + x];
                if (v < CMK_UNIQUE_ZNCC)
                    continue;
                int peak = 1;
                for (int j = -1; j <= 1 && peak; j++)
                    for (int i = -1; i <= 1; i++)
                        if ((i || j) && x + i >= 0 && y + j >= 0 && x + i < pw && y + j < ph &&
                            score[(size_t)(y + j) * pw + x + i] > v)
                            peak = 0;
                double cx = (x + tw / 2.0) * f, cy = (y + th / 2.0) * f;
                double near_self = hypot(cx - (s.x0 + s.x1) / 2.0, cy - (s.y0 + s.y1) / 2.0);
                double near_target = hypot(cx - tcx, cy - tcy);
                others += peak && near_self > side / 2.0 && near_target > side / 2.0;
            }
    }
    free(rd.img), free(score), free(tpl);
    return others;
}

/* The uniqueness rule on the region, its two halves (split across the longer side) and its
 * four quarters: a run of letters can repeat as a whole a couple of times on a page, but each
 * letter, and each stroke, repeats many more times; a photographed region stays unique at
 * quarter size. */
static int most_occurrences(const struct cmk_work *wk, const struct cmk_affine *T,
                            struct cmk_rect s)
{
    int mx = (s.x0 + s.x1) / 2, my = (s.y0 + s.y1) / 2;
    int wide = s.x1 - s.x0 >= s.y1 - s.y0;
    struct cmk_rect part[7] = {
        s,
        {s.x0, s.y0, wide ? mx : s.x1, wide ? s.y1 : my},
        {wide ? mx : s.x0, wide ? s.y0 : my, s.x1, s.y1},
        {s.x0, s.y0, mx, my}, {mx, s.y0, s.x1, my}, {s.x0, my, mx, s.y1}, {mx, my, s.x1, s.y1}};
    int most = 0;
    for (int k = 0; k < 7 && most >= 0; k++) {
        int n = other_occurrences(wk, T, part[k]);
        most = n < 0 ? -1 : (n > most ? n : most);
    }
    return most;
}

struct cmk_state {
    struct cmk_work wk;
    struct cmk_features f;
    struct cmk_match *m;
    int nm;
    unsigned char *mask; /* working size: the map level (0 = none) of verified sources, targets */
    struct um_clone clones[CMK_MAX_CLONES];
    int nclones;
    double tests;        /* affine hypotheses the NFA accounts for */
    int repeated;        /* candidates rejected as repeated structure */
};

#define MAX_LEVEL(a, b) ((a) > (b) ? (a) : (b))

/* Grades the verified region over the rectangle r: region[] holds 1 inside on entry and the
 * map level on return (0 outside; 128..255, i.e. 0.5..1 in the map, inside) from how exactly
 * each pixel is copied (um_copy_exactness): the 7x7 windows of the verification still agree a
 * few pixels past the copy's edge, the map grades that rim down (the region itself, at 0.5,
 * is unchanged). Returns -1 when out of memory. */
static int grade_region(const struct cmk_work *wk, const struct cmk_affine *T, struct cmk_rect r,
                        unsigned char *region)
{
    int rw = r.x1 - r.x0, rh = r.y1 - r.y0;
    size_t n = (size_t)rw * rh;
    double a[6] = {T->a11, T->a12, T->tx, T->a21, T->a22, T->ty};
    float *exact = malloc(n * sizeof *exact);
    if (!exact || um_copy_exactness(wk->detail, wk->w, wk->h, a, r.x0, r.y0, rw, rh, exact)) {
        free(exact);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        region[i] = region[i] ? (unsigned char)lround(127.5 + 127.5 * exact[i]) : 0;
    free(exact);
    return 0;
}

/* The region of the working rectangle r (source side, its map levels in level[]) and its
 * image under T, marked in the mask; the target's bounding box in *tb. */
static void mark_clone(struct cmk_state *st, const struct cmk_affine *T, struct cmk_rect r,
                       const unsigned char *level, struct cmk_rect s, struct cmk_rect *tb)
{
    int rw = r.x1 - r.x0, w = st->wk.w, h = st->wk.h;
    double cx[4] = {s.x0, s.x1, s.x0, s.x1}, cy[4] = {s.y0, s.y0, s.y1, s.y1};
    double lo_x = w, lo_y = h, hi_x = 0, hi_y = 0;
    for (int k = 0; k < 4; k++) {
        double x, y;
        apply(T, cx[k], cy[k], &x, &y);
        lo_x = fmin(lo_x, x), lo_y = fmin(lo_y, y), hi_x = fmax(hi_x, x), hi_y = fmax(hi_y, y);
    }
    struct cmk_affine inv = affine_inverse(T);
    *tb = (struct cmk_rect){w, h, 0, 0};
    for (int y = (int)fmax(0, lo_y - 1); y < (int)fmin(h, hi_y + 2); y++)
        for (int x = (int)fmax(0, lo_x - 1); x < (int)fmin(w, hi_x + 2); x++) {
            double ux, uy;
            apply(&inv, x, y, &ux, &uy);
            int sx = (int)lround(ux) - r.x0, sy = (int)lround(uy) - r.y0;
            if (sx < 0 || sy < 0 || sx >= rw || sy >= r.y1 - r.y0 ||
                !level[(size_t)sy * rw + sx])
                continue;
            unsigned char *m = &st->mask[(size_t)y * w + x];
            *m = MAX_LEVEL(*m, level[(size_t)sy * rw + sx]);
            tb->x0 = x < tb->x0 ? x : tb->x0, tb->y0 = y < tb->y0 ? y : tb->y0;
            tb->x1 = x + 1 > tb->x1 ? x + 1 : tb->x1, tb->y1 = y + 1 > tb->y1 ? y + 1 : tb->y1;
        }
    for (int y = r.y0; y < r.y1; y++)
        for (int x = r.x0; x < r.x1; x++)
            st->mask[(size_t)y * w + x] =
                MAX_LEVEL(st->mask[(size_t)y * w + x], level[(size_t)(y - r.y0) * rw + x - r.x0]);
}

/* Working coordinates to input pixels: working pixel x covers input pixels step x .. step x +
 * step - 1, centred on step x + c with c = (step - 1) / 2. */
static void to_input(const struct cmk_state *st, const struct cmk_affine *T, struct cmk_rect s,
                     struct cmk_rect t, struct um_clone *c)
{
    int k = st->wk.step;
    double off = (k - 1) / 2.0;
    c->source = (struct um_box){s.x0 * k, s.y0 * k, (s.x1 - s.x0) * k, (s.y1 - s.y0) * k};
    c->target = (struct um_box){t.x0 * k, t.y0 * k, (t.x1 - t.x0) * k, (t.y1 - t.y0) * k};
    c->a11 = T->a11, c->a12 = T->a12, c->a21 = T->a21, c->a22 = T->a22;
    c->tx = k * T->tx + off - (T->a11 + T->a12) * off;
    c->ty = k * T->ty + off - (T->a21 + T->a22) * off;
}

static struct cmk_rect region_box(const unsigned char *region, struct cmk_rect r)
{
    int rw = r.x1 - r.x0;
    struct cmk_rect b = {r.x1, r.y1, r.x0, r.y0};
    for (int y = r.y0; y < r.y1; y++)
        for (int x = r.x0; x < r.x1; x++)
            if (region[(size_t)(y - r.y0) * rw + x - r.x0]) {
                b.x0 = x < b.x0 ? x : b.x0, b.y0 = y < b.y0 ? y : b.y0;
                b.x1 = x + 1 > b.x1 ? x + 1 : b.x1, b.y1 = y + 1 > b.y1 ? y + 1 : b.y1;
            }
    return b;
}

/* Search rectangle for the source region: the inliers' box with a margin of its own size (the
 * keypoints need not reach the region's edges). */
static struct cmk_rect search_rect(const struct cmk_state *st, const struct cmk_points *pt,
                                   const int *inl, int ninl)
{
    double x0 = st->wk.w, y0 = st->wk.h, x1 = 0, y1 = 0;
    for (int k = 0; k < ninl; k++) {
        x0 = fmin(x0, pt->sx[inl[k]]), x1 = fmax(x1, pt->sx[inl[k]]);
        y0 = fmin(y0, pt->sy[inl[k]]), y1 = fmax(y1, pt->sy[inl[k]]);
    }
    double margin = fmax(24, fmax(x1 - x0, y1 - y0));
    return (struct cmk_rect){(int)fmax(0, x0 - margin), (int)fmax(0, y0 - margin),
                             (int)fmin(st->wk.w, x1 + margin + 1),
                             (int)fmin(st->wk.h, y1 + margin + 1)};
}

/* Step 5 for one hypothesis. Returns 1 when the clone is verified and recorded, 0 when not,
 * -1 when out of memory. */
static int verify_clone(struct cmk_state *st, const struct cmk_affine *T,
                        const struct cmk_points *pt, const int *inl, int ninl)
{
    struct cmk_rect r = search_rect(st, pt, inl, ninl);
    size_t n = (size_t)(r.x1 - r.x0) * (r.y1 - r.y0);
    unsigned char *agree = malloc(n), *region = malloc(n);
    int verdict = -1;
    long area = -1;
    if (agree && region && agreement(&st->wk, T, r, agree) == 0)
        area = grow_region(agree, r, pt, inl, ninl, region);
    if (area < 0)
        goto done;
    verdict = 0;
    double image = (double)st->wk.w * st->wk.h;
    if (area < CMK_MIN_AREA || area < CMK_MIN_AREA_SHARE * image)
        goto done;
    struct cmk_rect s = region_box(region, r), t;
    int others = area > CMK_MAX_SHARE * image ? 0 : most_occurrences(&st->wk, T, s);
    if (others < 0) {
        verdict = -1;
        goto done;
    }
    if (area > CMK_MAX_SHARE * image || others >= CMK_MAX_OTHERS) {
        st->repeated++;
        goto done;
    }
    long seen = 0;
    int rw = r.x1 - r.x0;
    for (size_t i = 0; i < n; i++)
        seen += region[i] && st->mask[(size_t)(r.y0 + (int)(i / rw)) * st->wk.w + r.x0 +
                                      (int)(i % rw)];
    if (seen > CMK_DUPLICATE_SHARE * area)
        goto done; /* an earlier, stronger cluster already found this clone */
    if (grade_region(&st->wk, T, r, region)) {
        verdict = -1;
        goto done;
    }
    mark_clone(st, T, r, region, s, &t);
    if (t.x1 <= t.x0)
        goto done; /* the image of the region left the picture */
    struct um_clone *c = &st->clones[st->nclones++];
    to_input(st, T, s, t, c);
    c->support = ninl;
    c->support_unit = "keypoints";
    verdict = 1;
done:
    free(agree);
    free(region);
    return verdict;
}

/* A-contrario test of a cluster's affine map (Desolneux, Moisan & Morel; the "matching
 * distribution" null of Amerini et al.'s inlier count): under H0 a g2NN pair is a chance match
 * whose second end falls anywhere in the image, so it lands within eps of the map's prediction
 * with probability p = pi eps^2 / (w h). Of the N pairs of the image, k inliers beyond the 3 of
 * the sample that fixed the map; the tests are every 3-pair sample of every examined cluster. */
static double clone_log10_nfa(const struct cmk_state *st, int inliers)
{
    double p = M_PI * CMK_RANSAC_EPS * CMK_RANSAC_EPS / ((double)st->wk.w * st->wk.h);
    return um_log10_nfa(st->tests, st->nm, inliers - 3, p < 1 ? p : 1);
}

static double choose3(long n)
{
    return n < 3 ? 0 : (double)n * (n - 1) * (n - 2) / 6.0;
}

static int by_size_desc(const void *pa, const void *pb)
{
    const int *a = pa, *b = pb; /* {size, cluster} */
    return a[0] != b[0] ? (a[0] < b[0] ? 1 : -1) : a[1] - b[1];
}

static int by_nfa(const void *pa, const void *pb)
{
    const struct um_clone *a = pa, *b = pb;
    return (a->log10_nfa > b->log10_nfa) - (a->log10_nfa < b->log10_nfa);
}

/* Steps 4-5 for one cluster: its pairs, oriented, then RANSAC, the NFA and the verification. */
static int examine_cluster(struct cmk_state *st, const int *cluster, const unsigned char *end,
                           int id, int size, struct cmk_points *pt, int *inl)
{
    pt->n = 0;
    for (int m = 0; m < st->nm && pt->n < size; m++) {
        if (cluster[m] != id)
            continue;
        const struct cmk_key *s = &st->f.key[end[m] ? st->m[m].b : st->m[m].a];
        const struct cmk_key *d = &st->f.key[end[m] ? st->m[m].a : st->m[m].b];
        pt->sx[pt->n] = s->x, pt->sy[pt->n] = s->y, pt->dx[pt->n] = d->x, pt->dy[pt->n] = d->y;
        pt->n++;
    }
    struct cmk_affine T;
    int ninl = ransac_affine(pt, &T, inl);
    if (ninl < CMK_MIN_INLIERS)
        return 0;
    /* Verify from the larger side: the detail of the smaller one can be compared with the
     * larger one's brought to the same band (scaled_detail), not the other way round. */
    if (T.a11 * T.a22 - T.a12 * T.a21 > 1) {
        for (int k = 0; k < pt->n; k++) {
            double x = pt->sx[k], y = pt->sy[k];
            pt->sx[k] = pt->dx[k], pt->sy[k] = pt->dy[k], pt->dx[k] = x, pt->dy[k] = y;
        }
        T = affine_inverse(&T);
    }
    int v = verify_clone(st, &T, pt, inl, ninl);
    if (v == 1) {
        struct um_clone *c = &st->clones[st->nclones - 1];
        c->has_nfa = 1;
        c->log10_nfa = clone_log10_nfa(st, ninl);
    }
    return v < 0 ? -1 : 0;
}

/* Steps 3-5 over the largest clusters. */
static int find_clones(struct cmk_state *st)
{
    struct cmk_graph g = {&st->f, st->m, st->nm, 0, 0, NULL, NULL};
    int *cluster = malloc((size_t)st->nm * sizeof *cluster);
    int *queue = malloc((size_t)st->nm * sizeof *queue);
    unsigned char *end = malloc((size_t)st->nm);
    int *order = NULL, *inl = NULL, err = -1;
    struct cmk_points pt = {0};
    if (!cluster || !queue || !end || graph_build(&g, st->wk.w, st->wk.h))
        goto done;
    int nc = cluster_pairs(&g, cluster, end, queue);
    order = calloc((size_t)nc * 2, sizeof *order);
    double *coords = malloc((size_t)st->nm * 4 * sizeof *coords);
    inl = malloc((size_t)st->nm * sizeof *inl);
    if (!order || !coords || !inl) {
        free(coords);
        goto done;
    }
    pt = (struct cmk_points){0, coords, coords + st->nm, coords + 2 * st->nm, coords + 3 * st->nm};
    for (int c = 0; c < nc; c++)
        order[2 * c + 1] = c;
    for (int m = 0; m < st->nm; m++)
        order[2 * cluster[m]]++;
    qsort(order, (size_t)nc, 2 * sizeof *order, by_size_desc);
    int examined = 0;
    while (examined < nc && examined < CMK_MAX_CLUSTERS && order[2 * examined] >= CMK_MIN_CLUSTER)
        examined++;
    st->tests = 0;
    for (int k = 0; k < examined; k++)
        st->tests += choose3(order[2 * k]);
    err = 0;
    for (int k = 0; k < examined && !err && st->nclones < CMK_MAX_CLONES; k++)
        err = examine_cluster(st, cluster, end, order[2 * k + 1], order[2 * k], &pt, inl);
done:
    free(pt.sx);
    free(cluster), free(queue), free(end), free(order), free(inl);
    free(g.start), free(g.entry);
    return err;
}

static um_error report_clones(struct cmk_state *st, struct um_evidence *ev)
{
    float *map = um_evidence_alloc_map(ev, st->wk.w, st->wk.h, st->wk.step);
    if (!map)
        return UM_ERR_NOMEM;
    for (size_t i = 0; i < (size_t)st->wk.w * st->wk.h; i++)
        map[i] = st->mask[i] / 255.0f;
    qsort(st->clones, (size_t)st->nclones, sizeof st->clones[0], by_nfa);
    ev->applicable = 1;
    if (st->nclones > 0) {
        /* A verified clone is evidence on its own (> 0.5); its NFA says how strong. */
        double nfa = pow(10, st->clones[0].log10_nfa);
        ev->score = 0.5 + 0.5 / (1 + nfa);
        ev->has_nfa = 1;
        ev->log10_nfa = st->clones[0].log10_nfa;
    }
    if (um_clones_report(ev, st->clones, st->nclones) != UM_OK)
        return UM_ERR_NOMEM;
    if (st->nclones == 0)
        um_evidence_add_finding(ev, "no copied region verified (%d keypoints, %d matched pairs%s)",
                                st->f.n, st->nm,
                                st->repeated ? "; repeated structure set aside" : "");
    json_t *d = ev->details;
    if (json_object_set_new(d, "keypoints", json_integer(st->f.n)) ||
        json_object_set_new(d, "matched_pairs", json_integer(st->nm)) ||
        json_object_set_new(d, "working_step", json_integer(st->wk.step)) ||
        json_object_set_new(d, "repeated_structure_rejected", json_integer(st->repeated)))
        return UM_ERR_NOMEM;
    return UM_OK;
}

static um_error keypoint_run(const struct um_input *in, struct um_evidence *ev)
{
    if (in->luma->width < CMK_MIN_SIDE || in->luma->height < CMK_MIN_SIDE) {
        um_evidence_not_applicable(ev, "the image is too small to search for copied regions: it "
                                       "needs at least %d x %d pixels",
                                   CMK_MIN_SIDE, CMK_MIN_SIDE);
        return UM_OK;
    }
    if (um_textured_blocks(in->luma) < 16) {
        um_evidence_not_applicable(ev, "the image is flat or saturated: no texture to match");
        return UM_OK;
    }
    struct cmk_state st = {0};
    um_error err = UM_ERR_NOMEM;
    if (make_working(in->luma, &st.wk) || sift_features(&st.wk, &st.f) ||
        g2nn_matches(&st.f, &st.m, &st.nm))
        goto done;
    st.mask = calloc((size_t)st.wk.w * st.wk.h, 1);
    if (!st.mask || (st.nm > 0 && find_clones(&st)))
        goto done;
    err = report_clones(&st, ev);
done:
    free(st.wk.img);
    free(st.wk.detail);
    free(st.f.key);
    free(st.f.desc);
    free(st.m);
    free(st.mask);
    return err;
}

const struct um_detector um_detector_copymove_keypoint = {
    .name = "copymove-keypoint",
    .family = "copy-move",
    .summary = "Copy-move: SIFT keypoints matched inside the image (g2NN), clustered, an affine "
               "map per cluster by RANSAC, verified densely by local correlation (Amerini et "
               "al. 2011)",
    .limits = "Works on the luma reduced to at most 2 MP (12 MP: 1/3 size), with at most 24000 "
              "descriptors: copies of flat or smooth areas (no keypoints), copies under about "
              "20x20 working pixels, mirrored copies and strong blur are missed; content that "
              "genuinely repeats (tiles, text, lattices) is set aside, so a clone of one tile "
              "of a repeating pattern is not reported.",
    .needs = 0,
    .run = keypoint_run,
};
