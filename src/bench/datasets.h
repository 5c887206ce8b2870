/* Benchmark datasets: which images, which are tampered, which have a ground-truth mask.
 * The layout of a dataset directory is recognised from the files it holds (see
 * um_dataset_open); masks are read here with libpng, nowhere else in the benchmark. */
#ifndef UM_BENCH_DATASETS_H
#define UM_BENCH_DATASETS_H

#include <stddef.h>
#include <stdint.h>

typedef enum um_dataset_layout {
    UM_LAYOUT_CASIA1,  /* pairs.csv (image,mask) + tampered/ + authentic/ */
    UM_LAYOUT_COMOFOD, /* forged/NNN.png + mask/NNN.png (+ orig/NNN.png authentic) */
    UM_LAYOUT_GENERIC  /* images/ + masks/ (+ authentic/) */
} um_dataset_layout;

#define UM_MAX_SUBSETS 4

typedef struct um_dataset_item {
    char *path;      /* image, absolute or relative to the working directory */
    char *mask_path; /* ground truth, NULL when there is none */
    char *name;      /* as reported: the path relative to the dataset directory */
    int tampered;    /* 1 tampered, 0 authentic (image-level label) */
    int subset;      /* index into um_dataset.subsets, -1 for none (authentic images) */
} um_dataset_item;

typedef struct um_dataset {
    um_dataset_layout layout;
    char *dir;
    char *name;                              /* last path component of dir */
    um_dataset_item *items;
    size_t count;
    const char *subsets[UM_MAX_SUBSETS];     /* e.g. "Sp_D", "Sp_S" for CASIA v1 */
    int subset_count;
    size_t missing_masks;                    /* listed in pairs.csv but not on disk */
} um_dataset;

const char *um_dataset_layout_name(um_dataset_layout layout);

/* Recognise the layout of dir and list its items, tampered first then authentic, each sorted
 * by name. Returns 0, or -1 with a sentence in err (no layout matches, unreadable, no memory). */
int um_dataset_open(const char *dir, um_dataset *ds, char *err, size_t errlen);

/* Keep at most limit tampered and limit authentic items, evenly spaced over each sorted list
 * (so that every subset stays represented). limit <= 0 keeps everything. */
void um_dataset_limit(um_dataset *ds, long limit);

/* The fixed split used to fit constants and report on unseen images: parity 0 keeps the
 * items of even rank within each label (the "fit" half), 1 the odd ones ("holdout"). */
void um_dataset_half(um_dataset *ds, int parity);

void um_dataset_free(um_dataset *ds);

/* Read a mask PNG of any colour type and depth as binary: a pixel is 1 ("manipulated") when
 * the mean of its colour channels, after compositing any alpha on black, is >= 128.
 * Returns a malloc'ed width*height array, or NULL with a sentence in err. */
uint8_t *um_mask_read_png(const char *path, int *width, int *height, char *err, size_t errlen);

#endif
