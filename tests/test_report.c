/* The in-memory PNGs (um_result_map_png, um_result_image_png) and the self-contained HTML
 * report (um_result_report_html), on a tampered image the test makes itself. */
#include <jansson.h>
#include <openssl/evp.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/image.h"
#include "prov/text.h"
#include "report/png_write.h"
#include "synth.h"
#include "unmask.h"

enum { W = 320, H = 240 };

/* Interleaved 8-bit RGB of a planar image. */
static uint8_t *interleave(const um_image *img)
{
    uint8_t *px = malloc((size_t)img->width * img->height * 3);
    size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; px && i < n; i++)
        for (int c = 0; c < 3; c++)
            px[3 * i + c] = um_unit_to_byte(um_image_plane(img, c)[i] / 255.0f);
    return px;
}

/* A PNG of a JPEG-compressed photo with a piece pasted from another JPEG whose grid is shifted
 * (what tests/make_samples.c calls grid-paste): pixels in *rgb (the caller frees). */
static uint8_t *tampered_png(size_t *len, uint8_t **rgb)
{
    um_image *host = synth_photo_jpeg_pixels(W, H, 7, 75);
    um_image *donor_photo = synth_photo(W + 8, H + 8, 11);
    um_image *donor_shifted = synth_crop(donor_photo, 3, 5, W, H);
    um_image *donor = synth_jpeg_pixels(donor_shifted, 60);
    synth_paste(host, donor, 40, 40, 120, 96, 96, 64);
    *rgb = interleave(host);
    uint8_t *png = um_png_encode(*rgb, W, H, 3, len);
    um_image_free(host);
    um_image_free(donor_photo);
    um_image_free(donor_shifted);
    um_image_free(donor);
    return png;
}

static um_result *analyse_tampered(const char *name, uint8_t **rgb)
{
    size_t len = 0;
    uint8_t *png = tampered_png(&len, rgb);
    CHECK(png != NULL);
    um_options opt;
    um_options_init(&opt);
    opt.threads = 2;
    um_result *r = um_analyze_buffer(png, len, name, &opt);
    free(png);
    CHECK(r && um_result_error(r, NULL) == UM_OK);
    return r;
}

/* One analysis of the tampered image shared by the cases that only read it (an analysis is the
 * slow part of this program); freed at exit. */
static um_result *shared_result;
static uint8_t *shared_rgb;

static void free_shared(void)
{
    um_result_free(shared_result);
    free(shared_rgb);
}

static const um_result *tampered(const uint8_t **rgb)
{
    if (!shared_result) {
        shared_result = analyse_tampered("paste.png", &shared_rgb);
        atexit(free_shared);
    }
    *rgb = shared_rgb;
    return shared_result;
}

/* Decode a PNG with libpng's simplified API into 8-bit pixels of the given format. */
static uint8_t *decode_png(const unsigned char *data, size_t len, png_uint_32 format, int *w,
                           int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
        return NULL;
    img.format = format;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&img);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

static void map_png_full_size_matches_the_map(void)
{
    const uint8_t *rgb;
    const um_result *r = tampered(&rgb);
    size_t len = 0;
    unsigned char *png = um_result_map_png(r, "fused", 0, &len);
    float *map = um_result_map(r, "fused");
    CHECK(png && map);
    int w = 0, h = 0;
    uint8_t *gray = png ? decode_png(png, len, PNG_FORMAT_GRAY, &w, &h) : NULL;
    CHECK(gray && w == W && h == H);
    size_t differ = 0;
    for (size_t i = 0; gray && map && i < (size_t)W * H; i++)
        differ += gray[i] != um_unit_to_byte(map[i]);
    CHECK_MSG(differ == 0, "%zu pixels differ from the fused map", differ);
    /* The pasted piece (96,64)-(216,160) is where the evidence is. */
    double in = synth_mean_in_rect(map, W, 112, 80, 88, 64);
    double out = synth_mean_in_rect(map, W, 230, 170, 80, 60);
    CHECK_MSG(in > out + 0.2, "fused map inside %.2f, outside %.2f", in, out);
    free(gray);
    free(map);
    free(png);
}

static void map_png_scaled_keeps_aspect_and_place(void)
{
    const uint8_t *rgb;
    const um_result *r = tampered(&rgb);
    float *map = um_result_map(r, "fused");
    size_t len = 0;
    unsigned char *png = um_result_map_png(r, "fused", 100, &len);
    int w = 0, h = 0;
    uint8_t *gray = png ? decode_png(png, len, PNG_FORMAT_GRAY, &w, &h) : NULL;
    CHECK(gray && w == 100 && h == 75);
    /* Output pixel (x, y) shows the map at the input pixel under its centre. */
    size_t differ = 0;
    for (int y = 0; gray && map && y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = (2 * x + 1) * W / (2 * w), sy = (2 * y + 1) * H / (2 * h);
            differ += gray[y * w + x] != um_unit_to_byte(map[(size_t)sy * W + sx]);
        }
    CHECK_MSG(differ == 0, "%zu scaled pixels differ", differ);
    free(gray);
    free(png);
    free(map);
}

static void map_png_refuses_what_does_not_exist(void)
{
    const uint8_t *rgb;
    const um_result *r = tampered(&rgb);
    size_t len = 12345;
    CHECK(um_result_map_png(r, "no-such-detector", 0, &len) == NULL);
    CHECK(um_result_map_png(r, "dq", 0, &len) == NULL); /* JPEG-only: not applicable on PNG */
    CHECK(um_result_map_png(r, "../fused", 0, &len) == NULL);
    CHECK(len == 12345);
    unsigned char *grid = um_result_map_png(r, "grid", 0, &len);
    CHECK(grid != NULL && um_result_detector_applicable(r, "grid"));
    free(grid);

    um_options opt;
    um_options_init(&opt);
    um_result *bad = um_analyze_buffer("not an image", 12, "x.txt", &opt);
    CHECK(um_result_map_png(bad, "fused", 0, &len) == NULL);
    CHECK(um_result_image_png(bad, 0, &len) == NULL);
    um_result_free(bad);
}

static void image_png_is_the_pixels_and_box_filtered_when_scaled(void)
{
    const uint8_t *rgb;
    const um_result *r = tampered(&rgb);
    size_t len = 0;
    int w = 0, h = 0;
    unsigned char *png = um_result_image_png(r, 0, &len);
    uint8_t *px = png ? decode_png(png, len, PNG_FORMAT_RGB, &w, &h) : NULL;
    CHECK(px && w == W && h == H && memcmp(px, rgb, (size_t)W * H * 3) == 0);
    free(px);
    free(png);

    png = um_result_image_png(r, 160, &len);
    px = png ? decode_png(png, len, PNG_FORMAT_RGB, &w, &h) : NULL;
    CHECK(px && w == 160 && h == 120);
    int worst = 0;
    for (int y = 0; px && y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        sum += rgb[((size_t)(2 * y + dy) * W + 2 * x + dx) * 3 + c];
                int d = abs(px[((size_t)y * w + x) * 3 + c] - (sum + 2) / 4);
                worst = d > worst ? d : worst;
            }
    CHECK_MSG(worst <= 1, "a reduced pixel is %d off the mean of its 2x2 block", worst);
    free(px);
    free(png);
}

/* The text between the data block's opening tag and the next "</". */
static json_t *embedded_data(const char *html)
{
    static const char open[] = "<script type=\"application/json\" id=\"um-data\">";
    const char *start = strstr(html, open);
    if (!start)
        return NULL;
    start += sizeof open - 1;
    const char *end = strstr(start, "</");
    if (!end || strncmp(end, "</script>", 9) != 0)
        return NULL;
    return json_loadb(start, (size_t)(end - start), 0, NULL);
}

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = um_utf8_sequence((const uint8_t *)s + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static const char hostile_name[] = "<script>alert(1)</script>\"'&\xff.png";

static void report_is_self_contained_and_escaped(void)
{
    uint8_t *rgb;
    um_result *r = analyse_tampered(hostile_name, &rgb);
    const char *notes[] = {"Called the agency </script><img src=x onerror=alert(2)>", "second"};
    um_report_options o;
    um_report_options_init(&o);
    o.notes = notes;
    o.nnotes = 2;
    o.analysed_at = "2026-11-27T10:20:00Z";
    size_t len = 0;
    char *html = um_result_report_html(r, &o, &len);
    CHECK(html && len == strlen(html));
    if (!html) {
        um_result_free(r);
        free(rgb);
        return;
    }
    CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    CHECK(strstr(html, "src=\"/") == NULL && strstr(html, "href=") == NULL);
    CHECK(strstr(html, "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"));
    CHECK(strstr(html, "<script>alert") == NULL && strstr(html, "<img src=x") == NULL);
    CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\xEF\xBF\xBD.png"));
    CHECK(strstr(html, "Called the agency &lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"));
    CHECK(strstr(html, "2026-11-27T10:20:00Z"));
    CHECK(valid_utf8(html));
    /* the hash, the tool version and the verdict in words */
    char *json = um_result_json(r);
    json_t *res = json_loads(json, 0, NULL);
    const char *sha = json_string_value(json_object_get(res, "sha256"));
    CHECK(sha && strlen(sha) == 64 && strstr(html, sha));
    CHECK(strstr(html, "unmask " UM_VERSION));
    char label_class[64];
    snprintf(label_class, sizeof label_class, "um-label-%s", um_result_label(r));
    CHECK(strstr(html, label_class));
    /* The data block: only one "</" closes it; it parses; the image and the maps are in it. */
    json_t *data = embedded_data(html);
    CHECK(data != NULL);
    CHECK(json_equal(json_object_get(data, "result"), res));
    const char *image = json_string_value(json_object_get(data, "image"));
    CHECK(image && strncmp(image, "data:image/png;base64,", 22) == 0);
    json_t *maps = json_object_get(data, "maps");
    CHECK(json_is_string(json_object_get(maps, "fused")));
    CHECK(json_is_string(json_object_get(maps, "grid")));
    CHECK(json_object_get(maps, "dq") == NULL);
    json_decref(data);
    json_decref(res);
    free(json);
    free(html);
    free(rgb);
    um_result_free(r);
}

/* Decode a data URI's PNG and read its size. */
static int data_uri_png_size(const char *uri, int *w, int *h)
{
    const char *b64 = uri + strlen("data:image/png;base64,");
    size_t n = strlen(b64);
    unsigned char *bytes = malloc(n);
    int len = bytes ? EVP_DecodeBlock(bytes, (const unsigned char *)b64, (int)n) : -1;
    int ok = 0;
    if (len > 24) {
        *w = (int)((bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
        *h = (int)((bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        ok = memcmp(bytes, "\x89PNG", 4) == 0;
    }
    free(bytes);
    return ok;
}

static void report_max_side_shrinks_the_embedded_images(void)
{
    const uint8_t *rgb;
    const um_result *r = tampered(&rgb);
    um_report_options o;
    um_report_options_init(&o);
    o.max_side = 64;
    size_t small_len = 0, full_len = 0;
    char *small = um_result_report_html(r, &o, &small_len);
    char *full = um_result_report_html(r, NULL, &full_len);
    CHECK(small && full && small_len < full_len);
    json_t *data = small ? embedded_data(small) : NULL;
    int w = 0, h = 0;
    CHECK(data && data_uri_png_size(json_string_value(json_object_get(data, "image")), &w, &h));
    CHECK(w == 64 && h == 48);
    const char *fused = json_string_value(json_object_get(json_object_get(data, "maps"), "fused"));
    CHECK(fused && data_uri_png_size(fused, &w, &h) && w == 64 && h == 48);
    json_decref(data);
    free(small);
    free(full);
}

static void report_of_a_failed_input_says_why(void)
{
    um_options opt;
    um_options_init(&opt);
    um_result *r = um_analyze_buffer("GIF89a but not really", 21, "broken.gif", &opt);
    CHECK(um_result_error(r, NULL) != UM_OK);
    char *html = um_result_report_html(r, NULL, NULL);
    CHECK(html != NULL);
    if (html) {
        CHECK(strstr(html, "Not analysed"));
        CHECK(strstr(html, um_error_name(um_result_error(r, NULL))));
        CHECK(strstr(html, "data:image/png") == NULL);
        CHECK(strstr(html, "class=\"um-verdict um-label-") == NULL);
    }
    free(html);
    um_result_free(r);
}

static void report_of_provenance_only_states_no_verdict(void)
{
    size_t len = 0;
    uint8_t *rgb;
    uint8_t *png = tampered_png(&len, &rgb);
    um_options opt;
    um_options_init(&opt);
    opt.provenance_only = 1;
    um_result *r = um_analyze_buffer(png, len, "p.png", &opt);
    char *html = um_result_report_html(r, NULL, NULL);
    CHECK(html && strstr(html, "Provenance only"));
    CHECK(html && strstr(html, "class=\"um-verdict um-label-") == NULL);
    free(html);
    um_result_free(r);
    free(png);
    free(rgb);
}

static void png_encode_refuses_empty_images(void)
{
    uint8_t px[3] = {1, 2, 3};
    size_t len = 0;
    CHECK(um_png_encode(px, 0, 1, 3, &len) == NULL);
    CHECK(um_png_encode(px, 1, -1, 1, &len) == NULL);
    unsigned char *one = um_png_encode(px, 1, 1, 3, &len);
    int w = 0, h = 0;
    uint8_t *back = one ? decode_png(one, len, PNG_FORMAT_RGB, &w, &h) : NULL;
    CHECK(back && w == 1 && h == 1 && memcmp(back, px, 3) == 0);
    free(back);
    free(one);
}

static const struct um_test_case cases[] = {
    {"map PNG at full size is the fused map", map_png_full_size_matches_the_map},
    {"map PNG scaled keeps aspect and place", map_png_scaled_keeps_aspect_and_place},
    {"map PNG refuses what does not exist", map_png_refuses_what_does_not_exist},
    {"image PNG: exact pixels, box-filtered when scaled",
     image_png_is_the_pixels_and_box_filtered_when_scaled},
    {"report is self-contained and escaped", report_is_self_contained_and_escaped},
    {"report max_side shrinks the embedded images", report_max_side_shrinks_the_embedded_images},
    {"report of a failed input says why", report_of_a_failed_input_says_why},
    {"report of provenance only states no verdict", report_of_provenance_only_states_no_verdict},
    {"PNG encoder refuses empty images", png_encode_refuses_empty_images},
};

UM_TEST_MAIN(cases)
