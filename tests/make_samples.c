/* um_make_samples DIR: writes the small test and demo images the project makes itself
 * (no outside data): a clean JPEG, spliced JPEGs with known ground truth, a PNG that hides a JPEG
 * history, and broken files. Each tampered image gets DIR/<name>.mask.png (255 = tampered). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/png_write.h"
#include "synth.h"

static int save(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        fprintf(stderr, "um_make_samples: cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

static int save_jpeg(const char *dir, const char *name, const um_image *img, int quality)
{
    uint8_t *buf;
    size_t n;
    if (um_encode_jpeg(img, quality, 0, &buf, &n) != UM_OK)
        return -1;
    int rc = save(dir, name, buf, n);
    free(buf);
    return rc;
}

static int save_png(const char *dir, const char *name, const um_image *img)
{
    char path[4096], err[256];
    size_t n = (size_t)img->width * img->height;
    uint8_t *px = malloc(n * 3);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            float v = um_image_plane(img, c)[i] + 0.5f;
            px[3 * i + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = um_png_write(path, px, img->width, img->height, 3, err, sizeof err);
    free(px);
    return rc;
}

static int save_mask(const char *dir, const char *name, int w, int h, int x0, int y0, int rw,
                     int rh)
{
    char path[4096], err[256];
    uint8_t *m = calloc((size_t)w * h, 1);
    for (int y = y0; y < y0 + rh; y++)
        memset(m + (size_t)y * w + x0, 255, (size_t)rw);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = um_png_write(path, m, w, h, 1, err, sizeof err);
    free(m);
    return rc;
}

/* A photo saved at q_first, a region pasted in from a never-compressed photo, saved at
 * q_second: the classic splice with aligned double-compression traces outside the region. */
static um_image *splice(int w, int h, int q_first, unsigned seed, int px, int py, int pw, int ph,
                        int grid_dx, int grid_dy)
{
    um_image *host = synth_photo(w, h, seed);
    um_decoded d = {0};
    synth_jpeg_roundtrip(host, q_first, NULL, NULL, &d);
    um_image *donor_full = synth_photo(w + 16, h + 16, seed + 1000);
    um_image *donor = synth_crop(donor_full, grid_dx, grid_dy, w, h);
    synth_paste(d.rgb, donor, px, py, pw, ph, px, py);
    um_image *out = synth_crop(d.rgb, 0, 0, w, h);
    um_image_free(host);
    um_image_free(donor_full);
    um_image_free(donor);
    um_decoded_clear(&d);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: um_make_samples DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    um_image *clean = synth_photo(640, 480, 7);
    rc |= save_jpeg(dir, "clean.jpg", clean, 85);

    um_image *s = splice(640, 480, 65, 11, 224, 160, 192, 160, 0, 0);
    rc |= save_jpeg(dir, "splice.jpg", s, 92);
    rc |= save_mask(dir, "splice.jpg.mask.png", 640, 480, 224, 160, 192, 160);

    /* Saved once, then a piece from another JPEG whose grid is shifted by (3,5), kept as PNG:
     * the JPEG grids disagree. */
    um_image *host = synth_photo(640, 480, 21);
    um_decoded hd = {0}, dd = {0};
    synth_jpeg_roundtrip(host, 80, NULL, NULL, &hd);
    um_image *donor = synth_photo(660, 500, 22);
    synth_jpeg_roundtrip(donor, 80, NULL, NULL, &dd);
    um_image *shifted = synth_crop(dd.rgb, 3, 5, 640, 480);
    synth_paste(hd.rgb, shifted, 96, 96, 160, 128, 96, 96);
    rc |= save_png(dir, "grid-paste.png", hd.rgb);
    rc |= save_mask(dir, "grid-paste.png.mask.png", 640, 480, 96, 96, 160, 128);

    /* Broken inputs: truncated JPEG, text with a .jpg name, empty file. */
    uint8_t *buf;
    size_t n;
    um_encode_jpeg(clean, 85, 0, &buf, &n);
    rc |= save(dir, "truncated.jpg", buf, n / 2);
    free(buf);
    const char *text = "This is not an image.\n";
    rc |= save(dir, "not-an-image.jpg", (const uint8_t *)text, strlen(text));
    rc |= save(dir, "empty.png", (const uint8_t *)"", 0);

    um_image_free(clean);
    um_image_free(s);
    um_image_free(host);
    um_image_free(donor);
    um_image_free(shifted);
    um_decoded_clear(&hd);
    um_decoded_clear(&dd);
    return rc ? 1 : 0;
}
