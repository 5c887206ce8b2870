/* `unmask bench DIR`: run every detector and the fusion over a dataset, compare each map with
 * the ground-truth mask (metrics.h) and each score with the image's label, and print/write the
 * tables. Only the public API is used for analysis; core/parallel.h spreads images over the
 * cores. The one exception is `--make-large`, which needs an encoder the public API does not
 * have and includes io/decode.h for um_read_file / um_decode / um_encode_jpeg only. */
#include "bench/bench.h"
#include "core/csv.h"
#include "cli/files.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "bench/datasets.h"
#include "bench/metrics.h"
#include "bench/verdicts.h"
#include "core/parallel.h"
#include "core/stats.h"
#include "fuse/calibrate.h"
#include "io/decode.h"
#include "unmask.h"

#define PROTOCOL_TEXT                                                                          \
    "Pixel metrics per image on the map at full size vs the binary mask (white >= 128), then "  \
    "the mean over masked tampered images. A pixel is predicted manipulated when map >= t. "    \
    "F1@0.5 and MCC@0.5 at t = 0.5. F1best: the best F1 over every distinct map value as t, "   \
    "per image (oracle threshold; map never inverted; no ignore band at mask borders); a "      \
    "constant map can only be all-on, F1 = 2|M|/(|M|+N). A detector that is not applicable "    \
    "or has no map counts as an all-zero map. pixAUC: Mann-Whitney, ties 1/2, images whose "    \
    "mask is all on excluded. imgAUC: image score (detector score, 0 when not applicable; "    \
    "verdict score for fused), all tampered vs all authentic images. ms/MP: detector "         \
    "wall-clock ms summed over images / megapixels summed. floor: an all-white map."

#define CASIA_NOTE                                                                             \
    "image-level AUC on CASIA v1 is inflated by a compression bias between its authentic and " \
    "tampered sets (a naive ELA mean reaches ~0.87)"

/* ---- options ---- */

struct bench_options {
    const char *dir;
    const char *out_dir;   /* NULL: bench-out/<dataset name> */
    const char *detectors; /* NULL: all */
    long limit;
    int half;              /* -1 all images, 0 the fit half, 1 the holdout half */
    int threads;
    int json;
    const char *refit;     /* write the fused verdict's calibration here (--refit FILE) */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: unmask bench DIR [--out DIR] [--limit N] [--half fit|holdout] [--threads N]\n"
            "                        [--detectors a,b] [--json] [--refit FILE]\n"
            "       unmask bench --make-large PHOTO|synthetic OUT.jpg\n"
            "\n"
            "DIR is a dataset: CASIA v1 (pairs.csv, tampered/, authentic/), CoMoFoD (forged/,\n"
            "mask/, orig/) or generic (images/, masks/ with <stem>.png, <stem>_gt.png or\n"
            "<stem>_mask.png, optional authentic/).\n"
            "  --out DIR        where results.csv, results.json, per_image.csv go\n"
            "                   (default bench-out/<dataset name>/)\n"
            "  --limit N        at most N tampered and N authentic images, evenly spaced\n"
            "  --half fit|holdout  the fixed split: items of even (fit) or odd (holdout) rank\n"
            "                   within tampered and within authentic; constants are fitted on\n"
            "                   'fit' and reported on 'holdout'\n"
            "  --threads N      images analysed in parallel (default: one per core)\n"
            "  --detectors a,b  only these detectors (the fused verdict is always reported)\n"
            "  --json           print results.json to stdout instead of the table\n"
            "  --refit FILE     with --half fit: fit the fused verdict's calibration (authentic\n"
            "                   score distributions, logistic model, map weights, thresholds)\n"
            "                   and write it as C source (src/fuse/calibration.c); rebuild\n"
            "  --make-large     write a 4000x3000 JPEG (bilinear resize + Gaussian noise,\n"
            "                   sigma 2) from PHOTO or a synthetic scene, for bench/speed.sh\n"
            "\n"
            "example: unmask bench /data/casia1 --limit 200\n");
}

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return -1;
    *out = v;
    return 0;
}

/* Returns -1 on a usage error (message printed), 1 for --help, 0 otherwise. */
static int parse_options(int argc, char **argv, struct bench_options *o)
{
    memset(o, 0, sizeof *o);
    o->half = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--out") == 0 && has_value) {
            o->out_dir = argv[++i];
        } else if (strcmp(a, "--detectors") == 0 && has_value) {
            o->detectors = argv[++i];
        } else if (strcmp(a, "--refit") == 0 && has_value) {
            o->refit = argv[++i];
        } else if (strcmp(a, "--limit") == 0 && has_value) {
            if (parse_long(argv[++i], 1, &v) != 0) {
                fprintf(stderr, "unmask bench: --limit wants a positive number\n");
                return -1;
            }
            o->limit = v;
        } else if (strcmp(a, "--half") == 0 && has_value) {
            const char *h = argv[++i];
            o->half = strcmp(h, "fit") == 0 ? 0 : strcmp(h, "holdout") == 0 ? 1 : -2;
            if (o->half == -2) {
                fprintf(stderr, "unmask bench: --half is 'fit' or 'holdout'\n");
                return -1;
            }
        } else if (strcmp(a, "--threads") == 0 && has_value) {
            if (parse_long(argv[++i], 1, &v) != 0 || v > 256) {
                fprintf(stderr, "unmask bench: --threads wants a number from 1 to 256\n");
                return -1;
            }
            o->threads = (int)v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "unmask bench: unknown option or missing value: %s\n", a);
            return -1;
        } else if (!o->dir) {
            o->dir = a;
        } else {
            fprintf(stderr, "unmask bench: one dataset directory at a time (%s?)\n", a);
            return -1;
        }
    }
    if (!o->dir) {
        fprintf(stderr, "unmask bench: which dataset? (unmask bench --help)\n");
        return -1;
    }
    if (o->refit && (o->half != 0 || o->detectors || o->limit)) {
        fprintf(stderr, "unmask bench: --refit fits on the whole fit half with every detector: "
                        "use it with --half fit and without --detectors or --limit\n");
        return -1;
    }
    return 0;
}

/* ---- the methods compared: the selected detectors, then "fused" ---- */

struct methods {
    const char **names;
    int count; /* detectors + 1; names[count - 1] = "fused" */
};

static int name_in_list(const char *name, const char *list)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return 1;
        p += n + (end ? 1 : 0);
    }
    return 0;
}


static int methods_init(struct methods *m, const char *list)
{
    size_t total = um_detector_count();
    m->names = calloc(total + 1, sizeof *m->names);
    m->count = 0;
    if (!m->names)
        return -1;
    for (size_t d = 0; d < total; d++) {
        const char *name = um_detector_at(d)->name;
        if (!list || name_in_list(name, list))
            m->names[m->count++] = name;
    }
    m->names[m->count++] = "fused";
    return 0;
}

/* ---- one image ---- */

enum mask_state { MASK_NONE, MASK_OK, MASK_UNREADABLE, MASK_SIZE_MISMATCH, MASK_EMPTY };

struct method_record {
    um_pixel_metrics px; /* NAN when the image has no usable mask */
    double score;        /* image-level score, 0 when not applicable */
    int applicable;      /* the detector could judge the image (fused: always) */
    int scored;          /* it gave a score (facts-only detectors never do) */
    double ms;
};

struct image_record {
    int analysed;           /* 0: the library could not read it */
    char *error;            /* why not (analysis or mask), malloc'ed */
    enum mask_state mask;
    double megapixels;
    double total_ms;
    double floor_f1;        /* F1 of an all-white map, NAN without a usable mask */
    const char *label;      /* the verdict's label (a static UM_LABEL_* string) */
    struct method_record *m; /* [methods.count] */
};

struct run {
    const um_dataset *ds;
    const struct methods *methods;
    struct image_record *records;
    um_options opt;
    atomic_int done;
    int threads;            /* images analysed at once */
    int progress;           /* print progress to stderr */
};

static char *dup_message(const char *prefix, const char *message)
{
    size_t n = strlen(prefix) + strlen(message) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s: %s", prefix, message);
    return s;
}

/* The ground truth of one image, or NULL with rec->mask saying why there is none. */
static uint8_t *load_mask(const um_dataset_item *it, int width, int height,
                          struct image_record *rec)
{
    if (!it->mask_path) {
        rec->mask = MASK_NONE;
        return NULL;
    }
    char err[512];
    int mw = 0, mh = 0;
    uint8_t *mask = um_mask_read_png(it->mask_path, &mw, &mh, err, sizeof err);
    if (!mask) {
        rec->mask = MASK_UNREADABLE;
        rec->error = dup_message("mask unreadable", err);
        return NULL;
    }
    if (mw != width || mh != height) {
        snprintf(err, sizeof err, "mask is %dx%d, image %dx%d; pixel metrics skipped", mw, mh,
                 width, height);
        rec->mask = MASK_SIZE_MISMATCH;
        rec->error = dup_message("size mismatch", err);
        free(mask);
        return NULL;
    }
    rec->mask = MASK_OK;
    return mask;
}

static void measure_method(struct run *run, const um_result *r, int k, const uint8_t *mask,
                           struct method_record *mr)
{
    const char *name = run->methods->names[k];
    int w = um_result_width(r), h = um_result_height(r);
    size_t n = (size_t)w * (size_t)h;
    int fused = strcmp(name, "fused") == 0;
    double score = 0;
    int scored = 1;
    if (fused)
        score = um_result_score(r);
    else
        scored = um_result_detector_score(r, name, &score);
    float *map = um_result_map(r, name);
    mr->score = scored ? score : 0.0;
    mr->scored = scored;
    mr->applicable = fused || um_result_detector_applicable(r, name);
    mr->ms = fused ? um_result_timing_ms(r, "fuse") : um_result_timing_ms(r, name);
    mr->px.f1_05 = mr->px.f1_best = mr->px.mcc_05 = mr->px.auc = NAN;
    if (mask && um_pixel_metrics_compute(map, mask, n, &mr->px) != 0)
        mr->px.f1_05 = mr->px.f1_best = mr->px.mcc_05 = mr->px.auc = NAN;
    free(map); /* maps are large: one at a time */
}

static void analyse_one(void *ctx, int index)
{
    struct run *run = ctx;
    const um_dataset_item *it = &run->ds->items[index];
    struct image_record *rec = &run->records[index];
    rec->floor_f1 = NAN;
    um_result *r = um_analyze_file(it->path, &run->opt);
    const char *message = NULL;
    if (!r || um_result_error(r, &message) != UM_OK) {
        rec->error = dup_message(r ? um_error_name(um_result_error(r, NULL)) : "out-of-memory",
                                 message ? message : "no result");
        for (int k = 0; k < run->methods->count; k++)
            rec->m[k].px.f1_05 = rec->m[k].px.f1_best = rec->m[k].px.mcc_05 =
                rec->m[k].px.auc = NAN;
    } else {
        int w = um_result_width(r), h = um_result_height(r);
        size_t n = (size_t)w * (size_t)h;
        rec->analysed = 1;
        rec->megapixels = (double)n / 1e6;
        rec->total_ms = um_result_timing_ms(r, "total");
        uint8_t *mask = it->tampered ? load_mask(it, w, h, rec) : NULL;
        if (mask) {
            rec->floor_f1 = um_all_white_f1(mask, n);
            if (isnan(rec->floor_f1)) {
                rec->mask = MASK_EMPTY; /* nothing to localise in this image */
                free(mask);
                mask = NULL;
            }
        }
        rec->label = um_result_label(r);
        for (int k = 0; k < run->methods->count; k++)
            measure_method(run, r, k, mask, &rec->m[k]);
        free(mask);
    }
    um_result_free(r);
    int done = atomic_fetch_add(&run->done, 1) + 1;
    int total = (int)run->ds->count, step = total >= 20 ? total / 10 : total;
    if (run->progress && (done % step == 0 || done == total))
        fprintf(stderr, "unmask bench: %d/%d images\n", done, total);
}

/* ---- aggregation ---- */

/* Mean of the defined (non-NaN) values; NAN when none. */
struct mean {
    double sum;
    long n;
};

static void mean_add(struct mean *m, double v)
{
    if (!isnan(v)) {
        m->sum += v;
        m->n++;
    }
}

static double mean_value(struct mean m)
{
    return m.n ? m.sum / (double)m.n : NAN;
}

struct row {
    const char *subset;   /* "all", or a subset name */
    const char *method;   /* detector, "fused" or "floor" */
    double applicable_pct;
    long pixel_images;    /* masked images the pixel metrics average over */
    double f1_05, f1_best, mcc_05, pixel_auc, image_auc, ms_per_mp;
};

/* Does image i belong to the selection? subset < 0: every image; else the subset's tampered
 * images and all authentic images. */
static int selected(const um_dataset_item *it, int subset)
{
    return subset < 0 || !it->tampered || it->subset == subset;
}

static double image_auc(const struct run *run, int subset, int k)
{
    size_t n = run->ds->count, used = 0;
    float *scores = malloc(n * sizeof *scores);
    unsigned char *labels = malloc(n);
    double auc = NAN;
    if (scores && labels) {
        for (size_t i = 0; i < n; i++) {
            const um_dataset_item *it = &run->ds->items[i];
            if (!selected(it, subset) || !run->records[i].analysed)
                continue;
            scores[used] = (float)run->records[i].m[k].score;
            labels[used++] = (unsigned char)it->tampered;
        }
        auc = um_auc(scores, labels, used);
        if (auc < 0)
            auc = NAN; /* one class empty */
    }
    free(scores);
    free(labels);
    return auc;
}

static struct row method_row(const struct run *run, int subset, int k)
{
    struct mean appl = {0}, f1 = {0}, best = {0}, mcc = {0}, auc = {0};
    double ms = 0, mp = 0;
    for (size_t i = 0; i < run->ds->count; i++) {
        const struct image_record *rec = &run->records[i];
        if (!selected(&run->ds->items[i], subset) || !rec->analysed)
            continue;
        const struct method_record *mr = &rec->m[k];
        mean_add(&appl, mr->applicable ? 100.0 : 0.0);
        mean_add(&f1, mr->px.f1_05);
        mean_add(&best, mr->px.f1_best);
        mean_add(&mcc, mr->px.mcc_05);
        mean_add(&auc, mr->px.auc);
        ms += mr->ms;
        mp += rec->megapixels;
    }
    struct row r = {
        .subset = subset < 0 ? "all" : run->ds->subsets[subset],
        .method = run->methods->names[k],
        .applicable_pct = mean_value(appl),
        .pixel_images = f1.n,
        .f1_05 = mean_value(f1),
        .f1_best = mean_value(best),
        .mcc_05 = mean_value(mcc),
        .pixel_auc = mean_value(auc),
        .image_auc = image_auc(run, subset, k),
        .ms_per_mp = mp > 0 ? ms / mp : NAN,
    };
    return r;
}

/* The all-white map: F1 = 2|M|/(|M|+N) at every threshold, MCC 0, AUC 1/2. */
static struct row floor_row(const struct run *run, int subset)
{
    struct mean f1 = {0};
    for (size_t i = 0; i < run->ds->count; i++)
        if (selected(&run->ds->items[i], subset) && run->records[i].analysed)
            mean_add(&f1, run->records[i].floor_f1);
    struct row r = {
        .subset = subset < 0 ? "all" : run->ds->subsets[subset],
        .method = "floor",
        .applicable_pct = 100.0,
        .pixel_images = f1.n,
        .f1_05 = mean_value(f1),
        .f1_best = mean_value(f1),
        .mcc_05 = f1.n ? 0.0 : NAN,
        .pixel_auc = f1.n ? 0.5 : NAN,
        .image_auc = NAN,
        .ms_per_mp = NAN,
    };
    return r;
}

struct table {
    struct row *rows;
    int count;
};

/* Rows for "all", then for each subset: one per method, then the floor. */
static int build_table(const struct run *run, struct table *t)
{
    int groups = 1 + run->ds->subset_count;
    int per_group = run->methods->count + 1;
    t->rows = calloc((size_t)groups * per_group, sizeof *t->rows);
    t->count = 0;
    if (!t->rows)
        return -1;
    for (int g = 0; g < groups; g++) {
        int subset = g - 1;
        for (int k = 0; k < run->methods->count; k++)
            t->rows[t->count++] = method_row(run, subset, k);
        t->rows[t->count++] = floor_row(run, subset);
    }
    return 0;
}

/* ---- counts ---- */

struct counts {
    long images, analysed, tampered, authentic, masked, pixel_images;
    long unreadable, mask_unreadable, size_mismatch, empty_mask, no_mask;
    double megapixels, total_ms;
};

static struct counts count_records(const struct run *run)
{
    struct counts c = {0};
    for (size_t i = 0; i < run->ds->count; i++) {
        const um_dataset_item *it = &run->ds->items[i];
        const struct image_record *rec = &run->records[i];
        c.images++;
        c.tampered += it->tampered;
        c.authentic += !it->tampered;
        c.masked += it->mask_path != NULL;
        c.no_mask += it->tampered && !it->mask_path;
        if (!rec->analysed) {
            c.unreadable++;
            continue;
        }
        c.analysed++;
        c.megapixels += rec->megapixels;
        c.total_ms += rec->total_ms;
        c.pixel_images += rec->mask == MASK_OK;
        c.mask_unreadable += rec->mask == MASK_UNREADABLE;
        c.size_mismatch += rec->mask == MASK_SIZE_MISMATCH;
        c.empty_mask += rec->mask == MASK_EMPTY;
    }
    return c;
}

/* ---- printing ---- */

static void print_cell(FILE *f, double v, int width, int decimals)
{
    if (isnan(v))
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.*f", width, decimals, v);
}

static void print_rows(FILE *f, const struct table *t, const char *subset)
{
    fprintf(f, "%-18s %6s %7s %7s %7s %7s %7s %8s\n", "detector", "appl%", "F1@0.5", "F1best",
            "MCC@0.5", "pixAUC", "imgAUC", "ms/MP");
    for (int i = 0; i < t->count; i++) {
        const struct row *r = &t->rows[i];
        if (strcmp(r->subset, subset) != 0)
            continue;
        fprintf(f, "%-18s", strcmp(r->method, "floor") == 0 ? "(all-white floor)" : r->method);
        print_cell(f, r->applicable_pct, 6, 1);
        print_cell(f, r->f1_05, 7, 3);
        print_cell(f, r->f1_best, 7, 3);
        print_cell(f, r->mcc_05, 7, 3);
        print_cell(f, r->pixel_auc, 7, 3);
        print_cell(f, r->image_auc, 7, 3);
        print_cell(f, r->ms_per_mp, 8, 1);
        fputc('\n', f);
    }
}

static void print_problems(FILE *f, const struct run *run, const struct counts *c)
{
    if (!c->unreadable && !c->mask_unreadable && !c->size_mismatch)
        return;
    int shown = 0;
    fprintf(f, "\nproblems (%ld unreadable images, %ld unreadable masks, %ld size mismatches):\n",
            c->unreadable, c->mask_unreadable, c->size_mismatch);
    for (size_t i = 0; i < run->ds->count && shown < 20; i++)
        if (run->records[i].error) {
            fprintf(f, "  %s: %s\n", run->ds->items[i].name, run->records[i].error);
            shown++;
        }
    if (shown == 20)
        fprintf(f, "  ... (all of them in results.json)\n");
}

static void print_report(FILE *f, const struct run *run, const struct table *t,
                         const struct counts *c, const char *out_dir, double wall_s)
{
    const um_dataset *ds = run->ds;
    fprintf(f, "unmask %s bench: %s (%s layout), %s\n", um_version(), ds->dir,
            um_dataset_layout_name(ds->layout), ds->name);
    fprintf(f,
            "images: %ld tampered (%ld with a mask, %ld pixel-scored), %ld authentic; "
            "%ld unreadable, %ld unreadable masks, %ld size mismatches, %ld empty masks; "
            "%.1f s wall\n\n",
            c->tampered, c->masked, c->pixel_images, c->authentic, c->unreadable,
            c->mask_unreadable, c->size_mismatch, c->empty_mask, wall_s);
    print_rows(f, t, "all");
    fprintf(f, "%-18s %6s %7s %7s %7s %7s %7s", "(whole analysis)", "", "", "", "", "", "");
    print_cell(f, c->megapixels > 0 ? c->total_ms / c->megapixels : NAN, 8, 1);
    fputc('\n', f);
    for (int s = 0; s < ds->subset_count; s++) {
        fprintf(f, "\nsubset %s (its tampered images vs all authentic):\n", ds->subsets[s]);
        print_rows(f, t, ds->subsets[s]);
    }
    print_problems(f, run, c);
    fprintf(f, "\nprotocol: %s\n", PROTOCOL_TEXT);
    if (ds->layout == UM_LAYOUT_CASIA1)
        fprintf(f, "note: %s.\n", CASIA_NOTE);
    if (run->opt.threads == 1)
        fprintf(f, "note: images ran in parallel, each analysis single-threaded (ms/MP per "
                   "core).\n");
    if (out_dir)
        fprintf(f, "files: %s/results.csv, results.json, per_image.csv\n", out_dir);
}

/* ---- files ---- */

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "unmask bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static void csv_number(FILE *f, double v)
{
    if (isnan(v))
        fputc(',', f);
    else
        fprintf(f, ",%.6f", v);
}


static int write_results_csv(const char *dir, const struct table *t)
{
    FILE *f = open_out(dir, "results.csv");
    if (!f)
        return -1;
    fprintf(f, "subset,detector,applicable_pct,pixel_images,f1_05,f1_best,mcc_05,pixel_auc,"
               "image_auc,ms_per_mp\n");
    for (int i = 0; i < t->count; i++) {
        const struct row *r = &t->rows[i];
        fprintf(f, "%s,%s", r->subset, r->method);
        csv_number(f, r->applicable_pct);
        fprintf(f, ",%ld", r->pixel_images);
        csv_number(f, r->f1_05);
        csv_number(f, r->f1_best);
        csv_number(f, r->mcc_05);
        csv_number(f, r->pixel_auc);
        csv_number(f, r->image_auc);
        csv_number(f, r->ms_per_mp);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int write_per_image_csv(const char *dir, const struct run *run)
{
    FILE *f = open_out(dir, "per_image.csv");
    if (!f)
        return -1;
    fprintf(f, "image,detector,f1_05,f1_best,mcc,auc,score,tampered,applicable,ms\n");
    for (size_t i = 0; i < run->ds->count; i++) {
        const struct image_record *rec = &run->records[i];
        if (!rec->analysed)
            continue;
        for (int k = 0; k < run->methods->count; k++) {
            const struct method_record *mr = &rec->m[k];
            um_csv_field(f, run->ds->items[i].name);
            fprintf(f, ",%s", run->methods->names[k]);
            csv_number(f, mr->px.f1_05);
            csv_number(f, mr->px.f1_best);
            csv_number(f, mr->px.mcc_05);
            csv_number(f, mr->px.auc);
            csv_number(f, mr->score);
            fprintf(f, ",%d,%d,%.3f\n", run->ds->items[i].tampered, mr->applicable, mr->ms);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

static json_t *json_number(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static char *cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    char *model = NULL;
    while (f && !model && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon++;
            while (*colon == ' ')
                colon++;
            colon[strcspn(colon, "\n")] = '\0';
            model = strdup(colon);
        }
    }
    if (f)
        fclose(f);
    return model;
}

static json_t *machine_json(void)
{
    struct utsname u;
    char uname_text[1024] = "unknown";
    if (uname(&u) == 0)
        snprintf(uname_text, sizeof uname_text, "%s %s %s %s", u.sysname, u.release, u.version,
                 u.machine);
    char *cpu = cpu_model();
    json_t *m = json_pack("{s:s, s:i, s:s}", "uname", uname_text, "nproc", um_cpu_count(),
                          "cpu", cpu ? cpu : "unknown");
    free(cpu);
    return m;
}

static json_t *rows_json(const struct table *t)
{
    json_t *a = json_array();
    for (int i = 0; i < t->count; i++) {
        const struct row *r = &t->rows[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "subset",
                         r->subset, "detector", r->method, "applicable_pct",
                         json_number(r->applicable_pct), "pixel_images",
                         (json_int_t)r->pixel_images, "f1_05", json_number(r->f1_05), "f1_best",
                         json_number(r->f1_best), "mcc_05", json_number(r->mcc_05), "pixel_auc",
                         json_number(r->pixel_auc), "image_auc", json_number(r->image_auc),
                         "ms_per_mp", json_number(r->ms_per_mp)));
    }
    return a;
}

static json_t *problems_json(const struct run *run)
{
    json_t *a = json_array();
    for (size_t i = 0; i < run->ds->count; i++)
        if (run->records[i].error)
            json_array_append_new(a, json_pack("{s:s, s:s}", "image", run->ds->items[i].name,
                                               "problem", run->records[i].error));
    return a;
}

static json_t *results_json(const struct run *run, const struct table *t,
                            const struct counts *c, const struct bench_options *o,
                            double wall_s)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *counts = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "images",
        (json_int_t)c->images, "analysed", (json_int_t)c->analysed, "tampered",
        (json_int_t)c->tampered, "authentic", (json_int_t)c->authentic, "with_mask",
        (json_int_t)c->masked, "pixel_scored", (json_int_t)c->pixel_images, "unreadable",
        (json_int_t)c->unreadable, "mask_unreadable", (json_int_t)c->mask_unreadable,
        "size_mismatch", (json_int_t)c->size_mismatch, "empty_mask", (json_int_t)c->empty_mask,
        "tampered_without_mask", (json_int_t)c->no_mask, "megapixels", c->megapixels);
    json_t *notes = json_array();
    if (run->ds->layout == UM_LAYOUT_CASIA1)
        json_array_append_new(notes, json_string(CASIA_NOTE));
    json_t *root = json_pack(
        "{s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:{s:I, s:s, s:i, s:o, s:b}, s:o, s:o, "
        "s:o, s:f, s:o}",
        "schema", "unmask-bench/1", "date", date, "machine", machine_json(), "unmask_version",
        um_version(), "dataset", "path", run->ds->dir, "name", run->ds->name, "layout",
        um_dataset_layout_name(run->ds->layout), "counts", counts, "protocol", PROTOCOL_TEXT,
        "options", "limit", (json_int_t)o->limit, "half",
        o->half < 0 ? "all" : (o->half == 0 ? "fit" : "holdout"), "threads", run->threads, "detectors",
        o->detectors ? json_string(o->detectors) : json_null(), "single_threaded_analysis",
        run->opt.threads == 1, "results", rows_json(t), "problems", problems_json(run),
        "whole_analysis_ms_per_mp",
        json_number(c->megapixels > 0 ? c->total_ms / c->megapixels : NAN), "wall_seconds",
        wall_s, "notes", notes);
    return root;
}

/* ---- the run ---- */

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void free_records(struct image_record *records, size_t n)
{
    for (size_t i = 0; records && i < n; i++) {
        free(records[i].error);
        free(records[i].m);
    }
    free(records);
}

static int alloc_records(struct run *run)
{
    run->records = calloc(run->ds->count, sizeof *run->records);
    if (!run->records)
        return -1;
    for (size_t i = 0; i < run->ds->count; i++)
        if (!(run->records[i].m = calloc((size_t)run->methods->count, sizeof *run->records[i].m)))
            return -1;
    return 0;
}

static int write_outputs(const char *out_dir, const struct run *run, const struct table *t,
                         json_t *root)
{
    if (um_make_dirs(out_dir) != 0) {
        fprintf(stderr, "unmask bench: cannot create %s: %s\n", out_dir, strerror(errno));
        return -1;
    }
    int rc = write_results_csv(out_dir, t) | write_per_image_csv(out_dir, run);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/results.json", out_dir) >= (int)sizeof path ||
        json_dump_file(root, path, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0) {
        fprintf(stderr, "unmask bench: cannot write %s/results.json\n", out_dir);
        rc = -1;
    }
    return rc;
}

/* ---- the verdict: labels, reliability, --refit ---- */

static void print_verdicts(FILE *f, const struct run *run)
{
    size_t n = run->ds->count;
    struct um_bench_verdict *v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    int fused = run->methods->count - 1;
    for (size_t i = 0; i < n; i++)
        v[i] = (struct um_bench_verdict){run->ds->items[i].tampered,
                                         run->records[i].m[fused].score, run->records[i].label};
    um_bench_verdicts_print(f, v, n);
    free(v);
}

/* A map must rank manipulated pixels this much better than chance to enter the fused map:
 * on the CASIA v1 fit half, admitting every map above chance (splicebuster 0.56, noise-wavelet
 * 0.56) lowered the fused F1 at 0.5 / best F1 from 0.482 / 0.649 to 0.471 / 0.636. */
#define MIN_MAP_AUC 0.6

/* A detector's share in the fused map: how much better than chance its map ranks manipulated
 * pixels on the fit half, 2 (pixel AUC - 0.5), 0 below MIN_MAP_AUC. */
static double map_weight_of(const struct table *t, const char *method)
{
    for (int i = 0; i < t->count; i++)
        if (!strcmp(t->rows[i].subset, "all") && !strcmp(t->rows[i].method, method))
            return isnan(t->rows[i].pixel_auc) || t->rows[i].pixel_auc < MIN_MAP_AUC
                       ? 0.0
                       : 2 * (t->rows[i].pixel_auc - 0.5);
    return 0.0;
}

/* --refit: the detectors that give scores and their scores per image, handed to the
 * calibration fit (fuse/calibrate.h). */
static int refit(const struct run *run, const struct table *t, const char *path)
{
    size_t ni = run->ds->count, nd = 0;
    int nm = run->methods->count - 1;
    const char **names = calloc((size_t)nm + 1, sizeof *names);
    int *column = calloc((size_t)nm + 1, sizeof *column), *tampered = calloc(ni + 1, sizeof *tampered);
    double *weights = calloc((size_t)nm + 1, sizeof *weights);
    double *score = calloc(ni * (size_t)nm + 1, sizeof *score);
    unsigned char *applicable = calloc(ni * (size_t)nm + 1, 1);
    int rc = -1;
    char err[300] = "out of memory";
    if (!names || !column || !tampered || !weights || !score || !applicable)
        goto done;
    for (int k = 0; k < nm; k++) {
        int scored = 0;
        for (size_t i = 0; i < ni && !scored; i++)
            scored = run->records[i].analysed && run->records[i].m[k].scored;
        if (!scored)
            continue; /* facts-only detectors (jpeg-structure) have no score to calibrate */
        column[nd] = k;
        names[nd] = run->methods->names[k];
        weights[nd] = map_weight_of(t, names[nd]);
        nd++;
    }
    size_t used = 0, n_tampered = 0;
    for (size_t i = 0; i < ni; i++) {
        const struct image_record *rec = &run->records[i];
        if (!rec->analysed)
            continue;
        tampered[used] = run->ds->items[i].tampered;
        n_tampered += tampered[used];
        for (size_t d = 0; d < nd; d++) {
            score[used * nd + d] = rec->m[column[d]].score;
            applicable[used * nd + d] = (unsigned char)rec->m[column[d]].scored;
        }
        used++;
    }
    char dataset[300];
    snprintf(dataset, sizeof dataset, "%s, fit half (%zu tampered, %zu authentic images)",
             run->ds->name, n_tampered, used - n_tampered);
    struct um_calib_fit_input in = {dataset, nd, names, weights, used, tampered, score,
                                    applicable};
    rc = um_calib_write(&in, path, err, sizeof err);
done:
    if (rc != 0)
        fprintf(stderr, "unmask bench: --refit: %s\n", err);
    else
        fprintf(stderr, "unmask bench: calibration written to %s: rebuild to use it\n", path);
    free(names);
    free(column);
    free(tampered);
    free(weights);
    free(score);
    free(applicable);
    return rc;
}

static int bench_dataset(const struct bench_options *o)
{
    char err[1024];
    um_dataset ds;
    if (o->detectors && um_cli_check_detectors("bench", o->detectors) != 0)
        return 2;
    if (um_dataset_open(o->dir, &ds, err, sizeof err) != 0) {
        fprintf(stderr, "unmask bench: %s\n", err);
        return 2;
    }
    if (o->half >= 0)
        um_dataset_half(&ds, o->half);
    um_dataset_limit(&ds, o->limit);
    struct methods methods = {0};
    struct run run = {.ds = &ds, .methods = &methods, .progress = 1};
    struct table table = {0};
    int status = 1;
    if (methods_init(&methods, o->detectors) != 0 || alloc_records(&run) != 0) {
        fprintf(stderr, "unmask bench: out of memory\n");
        goto done;
    }
    int threads = o->threads > 0 ? o->threads : um_cpu_count();
    run.threads = threads;
    um_options_init(&run.opt);
    run.opt.detectors = o->detectors;
    /* Images in parallel: each analysis single-threaded, so cores are not oversubscribed. */
    run.opt.threads = threads > 1 ? 1 : 0;
    atomic_init(&run.done, 0);
    fprintf(stderr, "unmask bench: %zu images from %s (%s), %d threads\n", ds.count, ds.dir,
            um_dataset_layout_name(ds.layout), threads);

    double start = seconds_now();
    um_parallel_for((int)ds.count, analyse_one, &run, threads);
    double wall_s = seconds_now() - start;

    struct counts counts = count_records(&run);
    if (build_table(&run, &table) != 0) {
        fprintf(stderr, "unmask bench: out of memory\n");
        goto done;
    }
    char default_out[4096];
    const char *out_dir = o->out_dir;
    if (!out_dir) {
        snprintf(default_out, sizeof default_out, "bench-out/%s", ds.name);
        out_dir = default_out;
    }
    json_t *root = results_json(&run, &table, &counts, o, wall_s);
    int written = root && write_outputs(out_dir, &run, &table, root) == 0;
    if (o->json && root) {
        char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (text)
            printf("%s\n", text);
        free(text);
    } else if (!o->json) {
        print_report(stdout, &run, &table, &counts, written ? out_dir : NULL, wall_s);
        print_verdicts(stdout, &run);
    }
    json_decref(root);
    status = written && counts.unreadable == 0 ? 0 : 1;
    if (o->refit && refit(&run, &table, o->refit) != 0)
        status = 1;
done:
    free(table.rows);
    free_records(run.records, ds.count);
    free(methods.names);
    um_dataset_free(&ds);
    return status;
}

/* ---- --make-large: a big JPEG for bench/speed.sh ---- */

#define LARGE_W 4000
#define LARGE_H 3000
#define LARGE_QUALITY 90
#define LARGE_NOISE_SIGMA 2.0

/* xorshift64* and Box-Muller: a deterministic Gaussian for the added noise. */
static double gaussian(uint64_t *state)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        u[i] = ((double)((*state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* Bilinear resampling of every channel of src to dst's size (pixel centres aligned). */
static void resize_bilinear(const um_image *src, um_image *dst)
{
    double sx = (double)src->width / dst->width, sy = (double)src->height / dst->height;
    for (int c = 0; c < dst->channels; c++) {
        const float *in = um_image_plane(src, c < src->channels ? c : 0);
        float *out = um_image_plane(dst, c);
        for (int y = 0; y < dst->height; y++) {
            double fy = (y + 0.5) * sy - 0.5;
            fy = fy < 0 ? 0 : fy;
            int y0 = (int)fy, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
            double wy = fy - y0;
            for (int x = 0; x < dst->width; x++) {
                double fx = (x + 0.5) * sx - 0.5;
                fx = fx < 0 ? 0 : fx;
                int x0 = (int)fx, x1 = x0 + 1 < src->width ? x0 + 1 : x0;
                double wx = fx - x0;
                const float *r0 = in + (size_t)y0 * src->width, *r1 = in + (size_t)y1 * src->width;
                double top = r0[x0] + wx * (r0[x1] - r0[x0]);
                double bottom = r1[x0] + wx * (r1[x1] - r1[x0]);
                out[(size_t)y * dst->width + x] = (float)(top + wy * (bottom - top));
            }
        }
    }
}

/* A photo-like scene when no photo is given: smooth illumination, discs, stripes. */
static um_image *synthetic_scene(void)
{
    um_image *img = um_image_new(800, 600, 3);
    if (!img)
        return NULL;
    for (int c = 0; c < 3; c++) {
        float *p = um_image_plane(img, c);
        for (int y = 0; y < 600; y++)
            for (int x = 0; x < 800; x++) {
                double v = 60 + 120.0 * x / 800 + 40 * sin(y * 0.02 + c);
                double dx = x - 250 - 150 * c, dy = y - 300;
                if (dx * dx + dy * dy < 120 * 120)
                    v = 200 - 60 * c;
                if (y > 450 && (x / 12) % 2)
                    v *= 0.6;
                p[(size_t)y * 800 + x] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    }
    return img;
}

static um_image *load_photo(const char *path)
{
    um_options def;
    um_options_init(&def);
    um_limits limits = {def.max_bytes, def.max_pixels, def.max_dimension};
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[512];
    um_decoded d;
    if (um_read_file(path, limits.max_bytes, &bytes, &size, err, sizeof err) != UM_OK ||
        um_decode(bytes, size, &limits, &d, err, sizeof err) != UM_OK) {
        fprintf(stderr, "unmask bench: %s: %s\n", path, err);
        free(bytes);
        return NULL;
    }
    free(bytes);
    um_image *rgb = d.rgb;
    d.rgb = NULL; /* keep the pixels, drop the rest */
    um_decoded_clear(&d);
    return rgb;
}

static int make_large(const char *photo, const char *out_path)
{
    um_image *src = strcmp(photo, "synthetic") == 0 ? synthetic_scene() : load_photo(photo);
    um_image *big = src ? um_image_new(LARGE_W, LARGE_H, 3) : NULL;
    uint8_t *jpeg = NULL;
    size_t size = 0;
    int status = 1;
    if (!big)
        goto done;
    resize_bilinear(src, big);
    uint64_t state = 0x9E3779B97F4A7C15ull;
    size_t n = (size_t)3 * LARGE_W * LARGE_H;
    for (size_t i = 0; i < n; i++) {
        double v = big->data[i] + LARGE_NOISE_SIGMA * gaussian(&state);
        big->data[i] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    if (um_encode_jpeg(big, LARGE_QUALITY, 0, &jpeg, &size) != UM_OK) {
        fprintf(stderr, "unmask bench: JPEG encoding failed\n");
        goto done;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(jpeg, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "unmask bench: cannot write %s\n", out_path);
        goto done;
    }
    fprintf(stderr, "unmask bench: wrote %s (%dx%d, quality %d, %zu bytes)\n", out_path, LARGE_W,
            LARGE_H, LARGE_QUALITY, size);
    status = 0;
done:
    free(jpeg);
    um_image_free(big);
    um_image_free(src);
    return status;
}

int um_bench_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--make-large") == 0) {
        if (argc != 4) {
            fprintf(stderr, "usage: unmask bench --make-large PHOTO|synthetic OUT.jpg\n");
            return 2;
        }
        return make_large(argv[2], argv[3]);
    }
    struct bench_options o;
    int parsed = parse_options(argc, argv, &o);
    if (parsed == 1) {
        usage(stdout);
        return 0;
    }
    if (parsed != 0)
        return 2;
    return bench_dataset(&o);
}
