/* um_make_samples DIR: writes the small test and demo images the project makes itself
 * (no outside data): a clean JPEG, spliced JPEGs with known ground truth, a PNG that hides a JPEG
 * history, JPEGs with Content Credentials signed by a throw-away test key (one declaring AI
 * generation, one edited after signing), and broken files. Each tampered image gets
 * DIR/<name>.mask.png (255 = tampered).
 *
 * um_make_samples --sign IN OUT [--ai] [--ca CA.pem]: embed test Content Credentials into the
 * image IN (JPEG, PNG, WebP, HEIF/AVIF; --ai declares it AI-generated; --ca writes the test CA
 * that signed it, to use as a trust anchor), for the speed benchmark and the CLI test.
 * um_make_samples --photo W H OUT.png: a synthetic photo of that size (speed benchmark); with
 * --clone, --text or --tiles instead of --photo: a textured photo with a 20-degree copy of a
 * tenth of its width, a page of text, or a tiled pattern (the copy-move speed cases). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2pa_sign.h"
#include "report/png_write.h"
#include "synth.h"
#include "synth_clone.h"

/* The speed benchmark's images (kind: photo, clone, text or tiles), or NULL. */
static um_image *speed_image(const char *kind, int w, int h)
{
    if (strcmp(kind, "photo") == 0)
        return synth_photo(w, h, 5);
    if (strcmp(kind, "clone") == 0) {
        um_image *img = synth_textured_photo(w, h, 5);
        int side = w / 10;
        if (img)
            synth_clone(img, w / 8, h / 6, side, side, w * 0.7, h * 0.65, 20.0, 1.0);
        return img;
    }
    int text = strcmp(kind, "text") == 0, tiles = strcmp(kind, "tiles") == 0;
    um_image *img = text || tiles ? um_image_new(w, h, 3) : NULL;
    if (img && text)
        synth_text_page(img, h / 75, 5); /* 40-px glyphs on a 4000 x 3000 page */
    else if (img)
        synth_tiles(img, w / 40, h / 30, 5);
    return img;
}

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

/* A ground-truth mask: white inside the given boxes. */
static int save_mask(const char *dir, const char *name, int w, int h, const struct synth_box *boxes,
                     int nboxes)
{
    char path[4096], err[256];
    uint8_t *m = calloc((size_t)w * h, 1);
    if (!m)
        return 1;
    for (int b = 0; b < nboxes; b++)
        for (int y = boxes[b].y; y < boxes[b].y + boxes[b].h; y++)
            if (y >= 0 && y < h && boxes[b].x >= 0 && boxes[b].x + boxes[b].w <= w)
                memset(m + (size_t)y * w + boxes[b].x, 255, (size_t)boxes[b].w);
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

/* Sign with a fresh test key (ES256; the certificate chains to a throw-away test CA, so the
 * credentials validate as "valid", never "trusted"). */
static um_error sign_bytes(const uint8_t *in, size_t n, const char *source_type, uint8_t **out,
                           size_t *out_n, const char *ca_pem)
{
    c2pa_signer *signer;
    um_error e = c2pa_signer_create(C2PA_SIGN_ES256, &signer);
    if (e != UM_OK)
        return e;
    if (ca_pem && c2pa_signer_write_ca_pem(signer, ca_pem) != 0) {
        c2pa_signer_free(signer);
        return UM_ERR_IO;
    }
    struct c2pa_sign_opts opts = {.signer = signer, .digital_source_type = source_type,
                                  .software_agent = "unmask sample generator"};
    e = c2pa_sign_asset(in, n, um_sniff_format(in, n), &opts, out, out_n, NULL);
    c2pa_signer_free(signer);
    return e;
}

static int save_signed(const char *dir, const char *name, const um_image *img,
                       const char *source_type, int flip_after_signing)
{
    uint8_t *jpeg, *signed_jpeg;
    size_t n, signed_n;
    if (um_encode_jpeg(img, 90, 0, &jpeg, &n) != UM_OK)
        return -1;
    um_error e = sign_bytes(jpeg, n, source_type, &signed_jpeg, &signed_n, NULL);
    free(jpeg);
    if (e != UM_OK)
        return -1;
    if (flip_after_signing) /* a byte of the entropy-coded data: the picture changes */
        signed_jpeg[signed_n - 200] ^= 0x10;
    int rc = save(dir, name, signed_jpeg, signed_n);
    free(signed_jpeg);
    return rc;
}

static int sign_file(const char *in_path, const char *out_path, int ai, const char *ca_pem)
{
    uint8_t *data, *out;
    size_t n, out_n;
    char err[300];
    if (um_read_file(in_path, 1ull << 30, &data, &n, err, sizeof err) != UM_OK) {
        fprintf(stderr, "um_make_samples: %s\n", err);
        return 1;
    }
    um_error e = sign_bytes(data, n, ai ? C2PA_DST_TRAINED : C2PA_DST_DIGITAL_CAPTURE, &out,
                            &out_n, ca_pem);
    free(data);
    if (e != UM_OK) {
        fprintf(stderr, "um_make_samples: cannot sign %s (%s)\n", in_path, um_error_name(e));
        return 1;
    }
    FILE *f = fopen(out_path, "wb");
    int rc = !f || fwrite(out, 1, out_n, f) != out_n;
    if (f)
        rc |= fclose(f) != 0;
    free(out);
    if (rc)
        fprintf(stderr, "um_make_samples: cannot write %s\n", out_path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--sign") == 0) {
        int ai = 0;
        const char *ca_pem = NULL;
        for (int i = 4; i < argc; i++) {
            if (strcmp(argv[i], "--ai") == 0)
                ai = 1;
            else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
                ca_pem = argv[++i];
            else
                return fprintf(stderr, "um_make_samples: unknown option %s\n", argv[i]), 2;
        }
        return sign_file(argv[2], argv[3], ai, ca_pem);
    }
    if (argc == 5 && argv[1][0] == '-' && argv[1][1] == '-') {
        int w = atoi(argv[2]), h = atoi(argv[3]);
        if (w < 64 || h < 64 || w > 20000 || h > 20000) {
            fprintf(stderr, "um_make_samples: %s W H OUT.png with 64 <= W, H <= 20000\n", argv[1]);
            return 2;
        }
        um_image *photo = speed_image(argv[1] + 2, w, h);
        if (!photo) {
            fprintf(stderr, "um_make_samples: unknown option %s (or out of memory)\n", argv[1]);
            return 2;
        }
        char *slash = strrchr(argv[4], '/');
        if (slash)
            *slash = 0;
        int rc = save_png(slash ? argv[4] : ".", slash ? slash + 1 : argv[4], photo);
        um_image_free(photo);
        return rc ? 1 : 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: um_make_samples DIR\n"
                        "       um_make_samples --sign IN OUT [--ai] [--ca CA.pem]\n"
                        "       um_make_samples --photo|--clone|--text|--tiles W H OUT.png\n");
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    um_image *clean = synth_photo(640, 480, 7);
    rc |= save_jpeg(dir, "clean.jpg", clean, 85);

    um_image *s = splice(640, 480, 65, 11, 224, 160, 192, 160, 0, 0);
    rc |= save_jpeg(dir, "splice.jpg", s, 92);
    rc |= save_mask(dir, "splice.jpg.mask.png", 640, 480, &(struct synth_box){224, 160, 192, 160}, 1);

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
    rc |= save_mask(dir, "grid-paste.png.mask.png", 640, 480, &(struct synth_box){96, 96, 160, 128}, 1);

    /* Copy-move: a textured patch copied elsewhere in the same photo, turned by 30 degrees, saved
     * as JPEG; the mask marks both the source and the copy. */
    um_image *scene = synth_textured_photo(640, 480, 51);
    struct synth_box clone_boxes[2] = {{90, 300, 96, 96}};
    clone_boxes[1] = synth_clone(scene, 90, 300, 96, 96, 460, 150, 30.0, 1.0);
    rc |= save_jpeg(dir, "clone.jpg", scene, 90);
    rc |= save_mask(dir, "clone.jpg.mask.png", 640, 480, clone_boxes, 2);
    um_image_free(scene);

    /* Content Credentials: an image its (test) signer declares AI-generated, and a signed
     * camera-style image whose bytes were changed after signing. */
    um_image *generated = synth_photo(512, 512, 31);
    rc |= save_signed(dir, "c2pa-ai-generated.jpg", generated, C2PA_DST_TRAINED, 0);
    um_image *captured = synth_photo(640, 480, 41);
    rc |= save_signed(dir, "c2pa-edited-after-signing.jpg", captured, C2PA_DST_DIGITAL_CAPTURE, 1);
    um_image_free(generated);
    um_image_free(captured);

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
