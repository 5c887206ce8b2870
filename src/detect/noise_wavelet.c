/* noise-wavelet: regions whose noise level differs from the rest of the image.
 *
 * B. Mahdian & S. Saic, "Using noise inconsistencies for blind image forensics", Image and
 * Vision Computing 27(10) (2009) 1497-1503.
 *
 * A photo straight from one camera carries one noise level (for a given brightness); a piece
 * pasted from another photo, or retouched, smoothed or re-noised, often does not. The paper:
 *   1. one level of a 2-D wavelet transform of the image; the finest diagonal sub-band HH1
 *      holds mostly noise (Sec. 3.1);
 *   2. HH1 is tiled into non-overlapping blocks and each block's noise standard deviation is
 *      estimated with Donoho's robust median estimator, sigma = median(|HH1|) / 0.6745
 *      (Sec. 3.2, eq. 5);
 *   3. blocks are merged into regions of homogeneous noise level and the regions are shown
 *      (Sec. 3.3).
 * Here, step 1 uses the orthonormal Haar wavelet (Daubechies-1: the paper allows any
 * Daubechies filter; Haar is exact on the 2x2 pixel grid and removes any linear or bilinear
 * shading). Step 3 becomes a map of how far each block's level is from the image's dominant
 * level, and a region-level test:
 *   a. a block is judged only when it carries noise at all (sigma at least half the 8-bit
 *      rounding noise, fewer than 10% of its pixels clipped at 0 or 255: a flat or saturated
 *      area has no noise to measure). The median is read as grouped data, since 8-bit pixels
 *      put HH1 on a lattice of 0.5, and levels are compared as log sqrt(sigma^2 + 1/12);
 *   b. texture also lands in HH1 and inflates sigma. A block's structure is the gradient
 *      energy of the low-pass band LL1 left after removing what the block's own noise puts
 *      there (the homogeneity condition). Homogeneous blocks define the dominant level;
 *      a textured block is compared only with textured blocks of similar structure (quantile
 *      classes), so texture is not mistaken for noise and a smooth retouched area is still
 *      compared with the smooth rest of the image. With too few textured blocks to form a
 *      class, a textured block's *higher* level is down-weighted (texture explains it) and a
 *      *lower* one kept (texture cannot lower the noise);
 *   c. z = (level - reference level) / spread, with the spread 1.4826 MAD of the levels
 *      around the reference (never below the sampling error of one block's estimate);
 *      map = a fixed logistic of |z| (0.5 at |z| = 3), so maps compare across images;
 *   d. the largest 8-connected region of anomalous blocks (|z| > 3, one sign) is tested a
 *      contrario: in its bounding box, k of n judged blocks are anomalous; under the null
 *      (no manipulation) each block is anomalous with the rate p seen outside the box (at
 *      least 10%: noise levels of real photos vary in patches with brightness, focus and JPEG
 *      quantization, not block by block; fitted on the CASIA v1 fit half, where lower floors
 *      flagged 11% of the authentic images), and NFA = tests x P[Binomial(n, p) >= k]
 *      (core/nfa.h), tests = 2 signs x blocks^2 boxes.
 * The image score follows the NFA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nfa.h"
#include "core/parallel.h"
#include "core/regions.h"
#include "core/stats.h"
#include "detect/detector.h"

enum {
    BLOCK = 32,          /* pixels per block side (16 HH1 coefficients): chosen on the fit half */
    HALF = BLOCK / 2,    /* HH1 coefficients per block side */
    MIN_BLOCKS_SIDE = 2, /* narrower images: no neighbourhood to compare with */
    MIN_JUDGED = 12      /* blocks with noise needed to judge the image */
};
static const float MAD_TO_SIGMA = 0.6745f;  /* median |N(0,1)| (paper eq. 5) */
static const float CLIPPED_MAX = 0.10f;     /* a. clipped fraction above which a block is saturated */
/* a. Below half the rounding noise of 8-bit samples (sqrt(1/12) = 0.29) a block's noise was
 * erased (JPEG quantization, smoothing) or never there (flat): nothing is left to compare.
 * Fitted on the CASIA v1 fit half and the 12 MP synthetic speed image, where JPEG-flattened
 * smooth blocks at 0.05-0.15 otherwise dominate the map. */
static const float NO_NOISE = 0.15f;
static const float TEXTURE_RATIO = 3.0f;    /* b. structure rms / image noise of a textured block */
static const double Z_ANOMALOUS = 3.0;      /* c, d. |z| of an anomalous block (map 0.5) */
static const double LOGISTIC_GAIN = 2.0;    /* c. map = 1 / (1 + exp(-gain (|z| - 3))) */
static const double MIN_RATE = 0.10;        /* d. floor of the null anomaly rate p */
static const double SCORE_SCALE = 3.0;      /* score = 1 - 10^(log10 NFA / 3) for NFA < 1 */
/* Median of chi-square with 2 degrees of freedom over its mean: ln 2. The LL1 gradient of
 * white noise of level sigma has dx, dy ~ N(0, 2 sigma^2), so median(dx^2 + dy^2) =
 * 4 ln2 sigma^2. */
static const float NOISE_GRADIENT = 2.7725887f;

enum block_state { JUDGED, SATURATED, NOISELESS, OUTSIDE };

struct block {
    float sigma;     /* robust noise level, grey levels */
    float structure; /* rms LL1 gradient not explained by the block's noise */
    float z;         /* deviation from the block's reference level, in spreads */
    unsigned char state;
    unsigned char textured;
};

struct noise_job {
    const um_image *luma;
    int bw, bh;            /* blocks across and down */
    struct block *blocks;
};

/* The median of n values >= 0 that may sit on a lattice (8-bit pixels put HH1 on multiples of
 * 0.5, JPEG rounding piles them on a few values): read as grouped data, each tied value
 * standing for an interval as wide as the gap to its nearest distinct neighbour (the value 0
 * for [0, gap/2], as |HH1| folds the interval around 0), and the median interpolated inside
 * the median's interval. Without this, sigma takes only a few values and a block one lattice
 * step away from the rest looks like a huge deviation. Values without ties are unchanged. */
static float grouped_median(const float *v, size_t n)
{
    const float TIE = 1e-3f; /* float luma of grey pixels is an integer only up to rounding */
    float m = (float)um_median(v, n);
    size_t below = 0, equal = 0;
    float gap = INFINITY;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(v[i] - m);
        below += v[i] < m - TIE;
        equal += d <= TIE;
        if (d > TIE && d < gap)
            gap = d;
    }
    if (equal <= 1 || !isfinite(gap))
        return m; /* no ties, or all values equal */
    float low = m > 0 ? m - gap / 2 : 0, width = m > 0 ? gap : gap / 2;
    return low + width * (0.5f * (float)n - (float)below) / (float)equal;
}

/* Steps 1-2 and a. for the block (bx, by): HH1 and LL1 of its 2x2 pixel cells, the median
 * estimator of sigma and the median structure energy. hh and grad hold HALF^2 floats. */
static void measure_block(const um_image *l, int bx, int by, float *hh, float *grad,
                          struct block *b)
{
    int w = l->width;
    int cx0 = bx * HALF, cy0 = by * HALF;
    int cx1 = cx0 + HALF < w / 2 ? cx0 + HALF : w / 2;
    int cy1 = cy0 + HALF < l->height / 2 ? cy0 + HALF : l->height / 2;
    b->state = OUTSIDE;
    if (cx1 - cx0 < HALF / 2 || cy1 - cy0 < HALF / 2)
        return; /* an edge strip with under a quarter of a block: not judged */
    size_t n = 0, ng = 0, clipped = 0;
    float ll_rows[2][HALF]; /* LL1 of the current and the previous coefficient row */
    for (int cy = cy0; cy < cy1; cy++) {
        const float *r0 = l->data + (size_t)(2 * cy) * w, *r1 = r0 + w;
        float *ll = ll_rows[(cy - cy0) & 1], *above = ll_rows[(cy - cy0 + 1) & 1];
        for (int cx = cx0; cx < cx1; cx++) {
            float a = r0[2 * cx], c = r0[2 * cx + 1], d = r1[2 * cx], e = r1[2 * cx + 1];
            clipped += (size_t)((a <= 0.5f) + (a >= 254.5f) + (c <= 0.5f) + (c >= 254.5f) +
                                (d <= 0.5f) + (d >= 254.5f) + (e <= 0.5f) + (e >= 254.5f));
            hh[n++] = fabsf(a - c - d + e) * 0.5f; /* orthonormal Haar diagonal detail */
            int i = cx - cx0;
            ll[i] = (a + c + d + e) * 0.5f;        /* orthonormal Haar approximation */
            if (i > 0 && cy > cy0) {
                float dx = ll[i] - ll[i - 1], dy = ll[i] - above[i];
                grad[ng++] = dx * dx + dy * dy;
            }
        }
    }
    if ((float)clipped > CLIPPED_MAX * 4.0f * (float)n) {
        b->state = SATURATED;
        return;
    }
    b->sigma = grouped_median(hh, n) / MAD_TO_SIGMA;
    if (!(b->sigma >= NO_NOISE)) {
        b->state = NOISELESS;
        return;
    }
    float energy = ng ? (float)um_median(grad, ng) : 0.0f;
    float structure = energy - NOISE_GRADIENT * b->sigma * b->sigma;
    b->structure = structure > 0 ? sqrtf(structure) : 0.0f;
    b->state = JUDGED;
}

static void measure_row(void *ctx, int by)
{
    struct noise_job *job = ctx;
    float hh[HALF * HALF], grad[HALF * HALF];
    for (int bx = 0; bx < job->bw; bx++)
        measure_block(job->luma, bx, by, hh, grad, &job->blocks[(size_t)by * job->bw + bx]);
}

/* The level blocks are compared on: log sqrt(sigma^2 + 1/12). 8-bit samples carry rounding
 * noise of variance 1/12 whatever the scene, and after JPEG compression smooth blocks keep
 * a sigma of a few hundredths: on a plain log scale 0.03 and 0.3 would differ as much as 3
 * and 30. Adding the rounding variance makes differences below what 8 bits can show count
 * for little, and leaves noise levels of a grey level and more almost unchanged. */
static const float ROUNDING_VARIANCE = 1.0f / 12.0f;

static float noise_level(float sigma)
{
    return 0.5f * logf(sigma * sigma + ROUNDING_VARIANCE);
}

static double sigma_of_level(double level)
{
    double v = exp(2 * level) - ROUNDING_VARIANCE;
    return v > 0 ? sqrt(v) : 0;
}

/* Median and robust spread (1.4826 MAD) of n values; v is reordered. The spread is never
 * below the sampling error of one block's log sigma: the standard error of
 * log(median |HH| / 0.6745) from m Gaussian samples is 1 / (2 sqrt(m) f(0.6745) 0.6745)
 * ~= 1.17 / sqrt(m), with m = HALF^2 coefficients; differences below it are chance. */
static void median_spread(float *v, size_t n, double *median, double *spread)
{
    *median = um_median(v, n);
    for (size_t i = 0; i < n; i++)
        v[i] = fabsf(v[i] - (float)*median);
    *spread = 1.4826 * um_median(v, n);
    double sampling = 1.17 / HALF;
    if (*spread < sampling)
        *spread = sampling;
}

/* The reference levels a block is compared with. Homogeneous blocks define the image's
 * dominant level. Textured blocks are compared with textured blocks of similar structure
 * (quantile classes of the structure, at least MIN_CLASS_BLOCKS blocks each), never with
 * smooth ones: their HH1 also holds texture, and after JPEG compression the surviving noise
 * grows with the texture too, so finer classes on large images. */
enum { TEXTURE_CLASSES = 8, MIN_CLASS_BLOCKS = 16 };
struct reference {
    double log_sigma;    /* dominant level: median noise_level of the homogeneous blocks */
    double spread;       /* robust standard deviation of log sigma around it */
    float structure_max; /* b. structure above which a block counts as textured */
    int classes;         /* texture classes in use (0: too few textured blocks) */
    float class_top[TEXTURE_CLASSES];   /* upper structure bound of each class */
    double class_level[TEXTURE_CLASSES];/* median log sigma of each class */
    double texture_spread;              /* spread of log sigma around the class levels */
    long judged, textured, saturated, noiseless;
};

static int texture_class(const struct reference *ref, float structure)
{
    int c = 0;
    while (c + 1 < ref->classes && structure > ref->class_top[c])
        c++;
    return c;
}

/* b. Flag textured blocks: structure TEXTURE_RATIO times the image's median noise level (the
 * threshold is relative to the noise itself, so it holds at any noise level). */
static void flag_texture(struct block *blocks, size_t nb, float *v, struct reference *ref)
{
    size_t n = 0;
    for (size_t i = 0; i < nb; i++)
        if (blocks[i].state == JUDGED)
            v[n++] = blocks[i].sigma;
    ref->structure_max = TEXTURE_RATIO * (float)um_median(v, n);
    for (size_t i = 0; i < nb; i++) {
        struct block *b = &blocks[i];
        ref->saturated += b->state == SATURATED;
        ref->noiseless += b->state == NOISELESS;
        if (b->state != JUDGED)
            continue;
        ref->judged++;
        b->textured = b->structure > ref->structure_max;
        ref->textured += b->textured;
    }
}

/* The texture classes' levels and their common spread. */
static void texture_levels(const struct block *blocks, size_t nb, float *v,
                           struct reference *ref)
{
    size_t n = 0;
    for (size_t i = 0; i < nb; i++)
        if (blocks[i].state == JUDGED && blocks[i].textured)
            v[n++] = blocks[i].structure;
    ref->classes = (int)(n / MIN_CLASS_BLOCKS) < TEXTURE_CLASSES ? (int)(n / MIN_CLASS_BLOCKS)
                                                                 : TEXTURE_CLASSES;
    if (ref->classes == 0)
        return;
    for (int c = 0; c < ref->classes; c++)
        ref->class_top[c] = (float)um_quantile(v, n, (double)(c + 1) / ref->classes);
    for (int c = 0; c < ref->classes; c++) {
        size_t m = 0;
        for (size_t i = 0; i < nb; i++)
            if (blocks[i].state == JUDGED && blocks[i].textured &&
                texture_class(ref, blocks[i].structure) == c)
                v[m++] = noise_level(blocks[i].sigma);
        ref->class_level[c] = um_median(v, m);
    }
    n = 0;
    for (size_t i = 0; i < nb; i++)
        if (blocks[i].state == JUDGED && blocks[i].textured)
            v[n++] = noise_level(blocks[i].sigma) -
                     (float)ref->class_level[texture_class(ref, blocks[i].structure)];
    double centre;
    median_spread(v, n, &centre, &ref->texture_spread);
}

static int reference_levels(struct block *blocks, size_t nb, struct reference *ref)
{
    float *v = malloc(nb * sizeof *v);
    if (!v)
        return -1;
    flag_texture(blocks, nb, v, ref);
    size_t n = 0;
    for (size_t i = 0; i < nb; i++)
        if (blocks[i].state == JUDGED && !blocks[i].textured)
            v[n++] = noise_level(blocks[i].sigma);
    if (n < MIN_JUDGED) { /* a textured image: the dominant level from all judged blocks */
        n = 0;
        for (size_t i = 0; i < nb; i++)
            if (blocks[i].state == JUDGED)
                v[n++] = noise_level(blocks[i].sigma);
    }
    median_spread(v, n, &ref->log_sigma, &ref->spread);
    texture_levels(blocks, nb, v, ref);
    free(v);
    return 0;
}

/* c. Each judged block's deviation from its reference and its map value. */
static void deviation_map(struct block *blocks, size_t nb, const struct reference *ref,
                          float *map)
{
    for (size_t i = 0; i < nb; i++) {
        struct block *b = &blocks[i];
        map[i] = 0;
        b->z = 0;
        if (b->state != JUDGED)
            continue;
        double z = (noise_level(b->sigma) - ref->log_sigma) / ref->spread;
        if (b->textured && ref->classes > 0) {
            int c = texture_class(ref, b->structure);
            z = (noise_level(b->sigma) - ref->class_level[c]) / ref->texture_spread;
        } else if (b->textured && z > 0) {
            /* Too few textured blocks to compare with: texture explains a higher level, so
             * weight it down; a lower one stands (texture cannot lower the noise). */
            double r = ref->structure_max / b->structure;
            z *= r * r;
        }
        b->z = (float)z;
        map[i] = (float)(1.0 / (1.0 + exp(-LOGISTIC_GAIN * (fabs(z) - Z_ANOMALOUS))));
    }
}

/* d. The most significant region of one sign. */
struct region_test {
    struct um_region region; /* in blocks */
    int sign;                /* +1 noisier, -1 cleaner than the dominant level */
    long n, k;               /* judged and anomalous blocks in its bounding box */
    double rate;             /* null anomaly rate */
    double log10_nfa;
};

static int anomalous(const struct block *b, int sign)
{
    return b->state == JUDGED && sign * b->z > Z_ANOMALOUS;
}

static int test_sign(const struct block *blocks, int bw, int bh, int sign, float *signed_z,
                     struct region_test *t)
{
    size_t nb = (size_t)bw * bh;
    long judged = 0;
    for (size_t i = 0; i < nb; i++) {
        signed_z[i] = blocks[i].state == JUDGED ? sign * blocks[i].z : 0.0f;
        judged += blocks[i].state == JUDGED;
    }
    memset(t, 0, sizeof *t);
    t->sign = sign;
    t->log10_nfa = INFINITY;
    if (um_largest_region(signed_z, bw, bh, (float)Z_ANOMALOUS, 0, &t->region) != 0)
        return -1;
    if (t->region.cells == 0)
        return 0;
    long k_out = 0, n_out = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            const struct block *b = &blocks[(size_t)y * bw + x];
            int in_box = x >= t->region.x0 && x <= t->region.x1 && y >= t->region.y0 &&
                         y <= t->region.y1;
            long *n = in_box ? &t->n : &n_out, *k = in_box ? &t->k : &k_out;
            *n += b->state == JUDGED;
            *k += anomalous(b, sign);
        }
    t->rate = n_out > 0 ? (double)k_out / (double)n_out : 1.0;
    if (t->rate < MIN_RATE)
        t->rate = MIN_RATE;
    double tests = 2.0 * (double)judged * (double)judged;
    t->log10_nfa = um_log10_nfa(tests, t->n, t->k, t->rate);
    return 0;
}

static void describe(struct um_evidence *ev, const struct reference *ref,
                     const struct region_test *t, double area_fraction)
{
    um_evidence_add_finding(ev, "The image's dominant noise level is about %.1f grey levels.",
                            sigma_of_level(ref->log_sigma));
    if (ref->textured > ref->judged / 2)
        um_evidence_add_finding(ev, "Much of the image is textured, which hides its noise: "
                                    "the noise map is less reliable here.");
    if (t && t->log10_nfa < 0)
        um_evidence_add_headline(ev,
                                 "The noise level in a %dx%d area at (%d,%d), %.1f%% of the "
                                 "image, is %s than elsewhere: it may come from another "
                                 "photo%s.",
                                 (t->region.x1 - t->region.x0 + 1) * BLOCK,
                                 (t->region.y1 - t->region.y0 + 1) * BLOCK, t->region.x0 * BLOCK,
                                 t->region.y0 * BLOCK, 100.0 * area_fraction,
                                 t->sign > 0 ? "higher" : "lower",
                                 t->sign > 0 ? " or have had noise added"
                                             : " or have been smoothed or retouched");
    else
        um_evidence_add_finding(ev, "No region's noise level stands out from the rest of the "
                                    "image.");
}

static void add_details(struct um_evidence *ev, const struct reference *ref,
                        const struct region_test *t)
{
    json_t *d = json_object();
    if (!d)
        return;
    json_object_set_new(d, "block", json_integer(BLOCK));
    json_object_set_new(d, "sigma", um_json_number(sigma_of_level(ref->log_sigma)));
    json_object_set_new(d, "log_sigma_spread", um_json_number(ref->spread));
    json_object_set_new(d, "blocks_judged", json_integer(ref->judged));
    json_object_set_new(d, "blocks_textured", json_integer(ref->textured));
    json_object_set_new(d, "blocks_saturated", json_integer(ref->saturated));
    json_object_set_new(d, "blocks_noiseless", json_integer(ref->noiseless));
    json_object_set_new(d, "texture_classes", json_integer(ref->classes));
    if (ref->classes > 0)
        json_object_set_new(d, "texture_spread", um_json_number(ref->texture_spread));
    if (t && t->region.cells > 0) {
        json_t *r = json_object();
        if (r) {
            json_object_set_new(r, "x", json_integer(t->region.x0 * BLOCK));
            json_object_set_new(r, "y", json_integer(t->region.y0 * BLOCK));
            json_object_set_new(r, "w", json_integer((t->region.x1 - t->region.x0 + 1) * BLOCK));
            json_object_set_new(r, "h", json_integer((t->region.y1 - t->region.y0 + 1) * BLOCK));
            json_object_set_new(r, "blocks", json_integer(t->region.cells));
            json_object_set_new(r, "noise", json_string(t->sign > 0 ? "higher" : "lower"));
            json_object_set_new(r, "anomalous_in_box", json_integer(t->k));
            json_object_set_new(r, "judged_in_box", json_integer(t->n));
            json_object_set_new(r, "null_rate", um_json_number(t->rate));
            json_object_set_new(d, "region", r);
        }
    }
    ev->details = d;
}

static um_error run(const struct um_input *in, struct um_evidence *ev)
{
    const um_image *l = in->luma;
    int bw = (l->width + BLOCK - 1) / BLOCK, bh = (l->height + BLOCK - 1) / BLOCK;
    if (l->width < MIN_BLOCKS_SIDE * BLOCK || l->height < MIN_BLOCKS_SIDE * BLOCK ||
        bw * bh < MIN_JUDGED) {
        um_evidence_not_applicable(ev, "The image is too small (%dx%d) to compare noise levels "
                                       "between %dx%d blocks.",
                                   l->width, l->height, BLOCK, BLOCK);
        return UM_OK;
    }
    struct noise_job job = {l, bw, bh, NULL};
    size_t nb = (size_t)job.bw * job.bh;
    job.blocks = calloc(nb, sizeof *job.blocks);
    float *signed_z = malloc(nb * sizeof *signed_z);
    um_error err = UM_ERR_NOMEM;
    if (!job.blocks || !signed_z)
        goto done;
    um_parallel_for(job.bh, measure_row, &job, 0);
    struct reference ref = {0};
    if (reference_levels(job.blocks, nb, &ref) != 0)
        goto done;
    err = UM_OK;
    if (ref.judged < MIN_JUDGED) {
        um_evidence_not_applicable(ev, "The image is flat or saturated: only %ld of %zu blocks "
                                       "carry noise to measure.",
                                   ref.judged, nb);
        goto done;
    }
    float *map = um_evidence_alloc_map(ev, job.bw, job.bh, BLOCK);
    err = UM_ERR_NOMEM;
    if (!map)
        goto done;
    deviation_map(job.blocks, nb, &ref, map);
    struct region_test up, down;
    if (test_sign(job.blocks, job.bw, job.bh, +1, signed_z, &up) != 0 ||
        test_sign(job.blocks, job.bw, job.bh, -1, signed_z, &down) != 0)
        goto done;
    err = UM_OK;
    const struct region_test *best = up.log10_nfa <= down.log10_nfa ? &up : &down;
    if (best->region.cells == 0)
        best = NULL;
    ev->applicable = 1;
    if (best && isfinite(best->log10_nfa)) {
        ev->has_nfa = 1;
        ev->log10_nfa = best->log10_nfa;
        ev->score = best->log10_nfa < 0 ? 1.0 - pow(10.0, best->log10_nfa / SCORE_SCALE) : 0.0;
    }
    double area = best ? (double)best->region.cells / (double)nb : 0.0;
    describe(ev, &ref, best, area);
    add_details(ev, &ref, best);
done:
    free(job.blocks);
    free(signed_z);
    return err;
}

const struct um_detector um_detector_noise_wavelet = {
    .name = "noise-wavelet",
    .family = "noise",
    .summary = "Local noise level from the finest diagonal wavelet band (Mahdian & Saic 2009): "
               "regions whose noise is higher or lower than the image's dominant level.",
    .limits = "Strong JPEG compression, resizing or denoising erase the noise it measures; "
              "texture hides noise (textured areas count less); noise also changes with "
              "brightness, so very dark or bright areas may differ without any edit.",
    .needs = 0,
    .run = run,
};
