/* Benchmark datasets: layout recognition, item lists and ground-truth masks (datasets.h). */
#include "bench/datasets.h"

#include <ctype.h>
#include <dirent.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Largest mask the benchmark reads: the library's default pixel limit (io/limits.h). */
#define MAX_MASK_PIXELS 250000000ull

/* ---- small helpers ---- */

static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_subdir(const char *dir, const char *sub)
{
    char *p = format("%s/%s", dir, sub);
    int ok = p && is_dir(p);
    free(p);
    return ok;
}

static int has_file(const char *dir, const char *file)
{
    char *p = format("%s/%s", dir, file);
    int ok = p && is_file(p);
    free(p);
    return ok;
}

/* Image files are picked by extension when listing a folder (the library itself sniffs the
 * format from the bytes); this only keeps READMEs and thumbnails databases out of the lists. */
static int looks_like_image(const char *name)
{
    static const char *const ext[] = {"jpg", "jpeg", "png", "tif", "tiff", "webp",
                                      "heic", "heif", "avif", "bmp", "gif", "jxl"};
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.')
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot + 1, ext[i]) == 0)
            return 1;
    return 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* File names (not paths) of the images in dir, sorted; NULL with *count 0 on failure. */
static char **list_images(const char *dir, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!looks_like_image(e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 256;
            char **grown = realloc(names, ncap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, compare_strings);
    *count = n;
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- the item list ---- */

struct builder {
    um_dataset *ds;
    size_t cap;
    int failed;
};

/* Append an item; rel_image and rel_mask (may be NULL) are relative to the dataset dir. */
static void add_item(struct builder *b, const char *rel_image, const char *rel_mask,
                     int tampered, int subset)
{
    um_dataset *ds = b->ds;
    if (b->failed)
        return;
    if (ds->count == b->cap) {
        size_t ncap = b->cap ? 2 * b->cap : 512;
        um_dataset_item *grown = realloc(ds->items, ncap * sizeof *grown);
        if (!grown) {
            b->failed = 1;
            return;
        }
        ds->items = grown;
        b->cap = ncap;
    }
    um_dataset_item *it = &ds->items[ds->count];
    memset(it, 0, sizeof *it);
    it->tampered = tampered;
    it->subset = subset;
    it->name = strdup(rel_image);
    it->path = format("%s/%s", ds->dir, rel_image);
    int ok = it->name && it->path;
    if (ok && rel_mask) {
        char *mask = format("%s/%s", ds->dir, rel_mask);
        ok = mask != NULL;
        if (mask && is_file(mask))
            it->mask_path = mask;
        else if (mask) {
            free(mask);
            ds->missing_masks++;
        }
    }
    if (!ok) {
        free(it->name);
        free(it->path);
        b->failed = 1;
        return;
    }
    ds->count++;
}

static void add_authentic_dir(struct builder *b, const char *sub)
{
    char *dir = format("%s/%s", b->ds->dir, sub);
    size_t n = 0;
    char **names = dir ? list_images(dir, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        char *rel = format("%s/%s", sub, names[i]);
        if (rel)
            add_item(b, rel, NULL, 0, -1);
        else
            b->failed = 1;
        free(rel);
    }
    free_names(names, n);
    free(dir);
}

/* The mask of image `name` in folder masks_sub: <stem>.png, <stem>_gt.png or <stem>_mask.png
 * (relative path, malloc'ed), or NULL when none exists. */
static char *find_mask(const char *dir, const char *masks_sub, const char *name)
{
    static const char *const suffix[] = {"", "_gt", "_mask"};
    const char *dot = strrchr(name, '.');
    int stem_len = (int)(dot ? (size_t)(dot - name) : strlen(name));
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char *rel = format("%s/%.*s%s.png", masks_sub, stem_len, name, suffix[i]);
        if (rel && has_file(dir, rel))
            return rel;
        free(rel);
    }
    return NULL;
}

/* Tampered images in images_sub, each with its mask from masks_sub when one exists. */
static void add_tampered_dir(struct builder *b, const char *images_sub, const char *masks_sub)
{
    char *dir = format("%s/%s", b->ds->dir, images_sub);
    size_t n = 0;
    char **names = dir ? list_images(dir, &n) : NULL;
    for (size_t i = 0; i < n && !b->failed; i++) {
        char *rel = format("%s/%s", images_sub, names[i]);
        char *mask = find_mask(b->ds->dir, masks_sub, names[i]);
        if (rel)
            add_item(b, rel, mask, 1, -1);
        else
            b->failed = 1;
        free(rel);
        free(mask);
    }
    free_names(names, n);
    free(dir);
}

/* ---- CASIA v1 ---- */

struct pair {
    char *image, *mask;
};

static int compare_pairs(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->image, ((const struct pair *)b)->image);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* pairs.csv: a header line "image,mask", then one "image,mask" line per masked image. */
static struct pair *read_pairs(const char *dir, size_t *count, char *err, size_t errlen)
{
    *count = 0;
    char *path = format("%s/pairs.csv", dir);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot read %s/pairs.csv", dir);
        free(path);
        return NULL;
    }
    free(path);
    struct pair *pairs = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line_no++;
        trim(line);
        char *comma = strchr(line, ',');
        if (!comma || line_no == 1) /* the header, blank or malformed lines */
            continue;
        *comma = '\0';
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            struct pair *grown = realloc(pairs, ncap * sizeof *grown);
            if (!grown)
                break;
            pairs = grown;
            cap = ncap;
        }
        pairs[n].image = strdup(line);
        pairs[n].mask = strdup(comma + 1);
        if (!pairs[n].image || !pairs[n].mask) {
            free(pairs[n].image);
            free(pairs[n].mask);
            break;
        }
        n++;
    }
    fclose(f);
    if (n)
        qsort(pairs, n, sizeof *pairs, compare_pairs);
    *count = n;
    return pairs;
}

/* CASIA v1 names say the manipulation: Sp_D_* splices, Sp_S_* copy-moves (same image). */
static int casia_subset(const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (strncmp(base, "Sp_D", 4) == 0)
        return 0;
    if (strncmp(base, "Sp_S", 4) == 0)
        return 1;
    return -1;
}

static int open_casia(struct builder *b, char *err, size_t errlen)
{
    um_dataset *ds = b->ds;
    ds->subsets[0] = "Sp_D";
    ds->subsets[1] = "Sp_S";
    ds->subset_count = 2;
    size_t npairs = 0;
    struct pair *pairs = read_pairs(ds->dir, &npairs, err, errlen);
    if (!pairs && npairs == 0 && err[0])
        return -1;
    /* Every tampered/ image counts at image level; the pairs.csv ones also carry a mask. */
    char *tdir = format("%s/tampered", ds->dir);
    size_t n = 0;
    char **names = tdir ? list_images(tdir, &n) : NULL;
    for (size_t i = 0; i < n && !b->failed; i++) {
        char *rel = format("tampered/%s", names[i]);
        if (!rel) {
            b->failed = 1;
            break;
        }
        struct pair key = {.image = rel};
        struct pair *p = npairs ? bsearch(&key, pairs, npairs, sizeof *pairs, compare_pairs)
                                : NULL;
        add_item(b, rel, p ? p->mask : NULL, 1, casia_subset(rel));
        free(rel);
    }
    free_names(names, n);
    free(tdir);
    for (size_t i = 0; i < npairs; i++) {
        free(pairs[i].image);
        free(pairs[i].mask);
    }
    free(pairs);
    add_authentic_dir(b, "authentic");
    return 0;
}

/* ---- opening ---- */

const char *um_dataset_layout_name(um_dataset_layout layout)
{
    switch (layout) {
    case UM_LAYOUT_CASIA1:
        return "casia1";
    case UM_LAYOUT_COMOFOD:
        return "comofod";
    case UM_LAYOUT_GENERIC:
        return "generic";
    }
    return "unknown";
}

static char *last_component(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    char *name = n > start ? format("%.*s", (int)(n - start), dir + start) : strdup("dataset");
    return name;
}

int um_dataset_open(const char *dir, um_dataset *ds, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    err[0] = '\0';
    if (!is_dir(dir)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        return -1;
    }
    ds->dir = strdup(dir);
    ds->name = last_component(dir);
    if (!ds->dir || !ds->name) {
        snprintf(err, errlen, "out of memory");
        um_dataset_free(ds);
        return -1;
    }
    struct builder b = {.ds = ds};
    int rc = 0;
    if (has_file(dir, "pairs.csv") && has_subdir(dir, "tampered")) {
        ds->layout = UM_LAYOUT_CASIA1;
        rc = open_casia(&b, err, errlen);
    } else if (has_subdir(dir, "forged") && has_subdir(dir, "mask")) {
        ds->layout = UM_LAYOUT_COMOFOD;
        add_tampered_dir(&b, "forged", "mask");
        add_authentic_dir(&b, "orig");
    } else if (has_subdir(dir, "images") && has_subdir(dir, "masks")) {
        ds->layout = UM_LAYOUT_GENERIC;
        add_tampered_dir(&b, "images", "masks");
        add_authentic_dir(&b, "authentic");
    } else {
        snprintf(err, errlen,
                 "%s matches no known dataset layout: expected pairs.csv + tampered/ + "
                 "authentic/ (CASIA v1), forged/ + mask/ + orig/ (CoMoFoD), or images/ + "
                 "masks/ [+ authentic/] (generic)",
                 dir);
        rc = -1;
    }
    if (rc == 0 && b.failed) {
        snprintf(err, errlen, "out of memory while listing %s", dir);
        rc = -1;
    }
    if (rc == 0 && ds->count == 0) {
        snprintf(err, errlen, "%s (%s layout) holds no images", dir,
                 um_dataset_layout_name(ds->layout));
        rc = -1;
    }
    if (rc != 0)
        um_dataset_free(ds);
    return rc;
}

static void free_item(um_dataset_item *it)
{
    free(it->path);
    free(it->mask_path);
    free(it->name);
}

/* Keep, among the items with the given label, those for which keep(k, total, arg) says so,
 * k being the item's rank within its label (in the dataset's sorted order); in place. */
typedef int (*keep_fn)(size_t k, size_t kept, size_t total, long arg);

static void filter_label(um_dataset *ds, int tampered, keep_fn keep_item, long arg)
{
    size_t total = 0;
    for (size_t i = 0; i < ds->count; i++)
        total += ds->items[i].tampered == tampered;
    size_t seen = 0, kept = 0, out = 0;
    for (size_t i = 0; i < ds->count; i++) {
        um_dataset_item *it = &ds->items[i];
        int keep = 1;
        if (it->tampered == tampered) {
            keep = keep_item(seen++, kept, total, arg);
            kept += keep;
        }
        if (keep)
            ds->items[out++] = *it;
        else
            free_item(it);
    }
    ds->count = out;
}

/* Evenly spaced: the j-th pick is item floor(j * total / limit). */
static int keep_evenly(size_t k, size_t kept, size_t total, long limit)
{
    if (total <= (size_t)limit)
        return 1;
    return kept < (size_t)limit && k == kept * total / (size_t)limit;
}

static int keep_parity(size_t k, size_t kept, size_t total, long parity)
{
    (void)kept;
    (void)total;
    return (long)(k % 2) == parity;
}

void um_dataset_limit(um_dataset *ds, long limit)
{
    if (limit <= 0)
        return;
    filter_label(ds, 1, keep_evenly, limit);
    filter_label(ds, 0, keep_evenly, limit);
}

void um_dataset_half(um_dataset *ds, int parity)
{
    filter_label(ds, 1, keep_parity, parity);
    filter_label(ds, 0, keep_parity, parity);
}

void um_dataset_free(um_dataset *ds)
{
    for (size_t i = 0; i < ds->count; i++)
        free_item(&ds->items[i]);
    free(ds->items);
    free(ds->dir);
    free(ds->name);
    memset(ds, 0, sizeof *ds);
}

/* ---- masks ---- */

uint8_t *um_mask_read_png(const char *path, int *width, int *height, char *err, size_t errlen)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        snprintf(err, errlen, "mask %s: %s", path, img.message);
        return NULL;
    }
    if (img.width == 0 || img.height == 0 ||
        (unsigned long long)img.width * img.height > MAX_MASK_PIXELS) {
        snprintf(err, errlen, "mask %s: size %ux%u out of range", path, img.width, img.height);
        png_image_free(&img);
        return NULL;
    }
    img.format = PNG_FORMAT_RGB;
    size_t n = (size_t)img.width * img.height;
    uint8_t *rgb = malloc(3 * n);
    uint8_t *mask = malloc(n);
    const png_color black = {0, 0, 0};
    if (!rgb || !mask) {
        snprintf(err, errlen, "mask %s: out of memory", path);
        png_image_free(&img);
        free(rgb);
        free(mask);
        return NULL;
    }
    if (!png_image_finish_read(&img, &black, rgb, 0, NULL)) {
        snprintf(err, errlen, "mask %s: %s", path, img.message);
        png_image_free(&img);
        free(rgb);
        free(mask);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned sum = (unsigned)rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2];
        mask[i] = sum >= 3 * 128;
    }
    free(rgb);
    *width = (int)img.width;
    *height = (int)img.height;
    return mask;
}
