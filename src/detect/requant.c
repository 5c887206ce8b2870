#include "detect/requant.h"

#include <math.h>

#include "core/dct.h"
#include "core/jpeg_tables.h"

void um_requant_table_init(struct um_requant_table *t, const uint16_t qtable[64])
{
    for (int k = 0; k < 64; k++) {
        float s = qtable[k] ? (float)qtable[k] : 1.0f;
        t->step[k] = s;
        t->inv_step[k] = 1.0f / s;
    }
}

void um_requant_table_ijg(struct um_requant_table *t, int quality, int chroma)
{
    uint16_t q[64];
    um_jpeg_scaled_table(quality, chroma, q);
    um_requant_table_init(t, q);
}

float um_requant_error(const struct um_requant_table *t, const float *value,
                       const uint8_t *position, int n)
{
    float sum = 0;
    for (int i = 0; i < n; i++) {
        int k = position[i] & 63;
        float d = value[i];
        float e = d - t->step[k] * um_requant_round(d * t->inv_step[k]);
        sum += e * e;
    }
    return sum;
}

void um_block_dct_from_plane(const float *plane, int width, int height, int bx, int by,
                             int round_samples, float out[64])
{
    float block[64];
    if (bx * 8 + 8 <= width && by * 8 + 8 <= height) {
        /* Interior block: no edge replication (the common case, kept branch-free). */
        const float *src = plane + (size_t)by * 8 * (size_t)width + (size_t)bx * 8;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) {
                float v = src[(size_t)y * (size_t)width + x];
                if (round_samples)
                    v = um_requant_round(v < 0 ? 0 : (v > 255 ? 255 : v));
                block[y * 8 + x] = v - 128.0f;
            }
        um_dct8x8(block, 8, out);
        return;
    }
    for (int y = 0; y < 8; y++) {
        int sy = by * 8 + y;
        if (sy >= height)
            sy = height - 1;
        const float *row = plane + (size_t)sy * (size_t)width;
        for (int x = 0; x < 8; x++) {
            int sx = bx * 8 + x;
            if (sx >= width)
                sx = width - 1;
            float v = row[sx];
            if (round_samples)
                v = v < 0 ? 0 : (v > 255 ? 255 : um_requant_round(v));
            block[y * 8 + x] = v - 128.0f;
        }
    }
    um_dct8x8(block, 8, out);
}

int um_block_dequantized(const um_jpeg_component *comp, const uint16_t qtable[64], int bx, int by,
                         float value[64], uint8_t position[64])
{
    const int16_t *c = comp->coef + ((size_t)by * (size_t)comp->blocks_w + (size_t)bx) * 64;
    int n = 0;
    for (int k = 0; k < 64; k++)
        if (c[k]) {
            value[n] = (float)c[k] * (float)qtable[k];
            position[n++] = (uint8_t)k;
        }
    return n;
}

long um_textured_blocks(const um_image *luma)
{
    int bw = luma->width / 8, bh = luma->height / 8;
    long count = 0;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            double s = 0, s2 = 0;
            int clipped = 0;
            for (int y = 0; y < 8; y++) {
                const float *row = luma->data + (size_t)(8 * by + y) * luma->width + 8 * bx;
                for (int x = 0; x < 8; x++) {
                    s += row[x];
                    s2 += (double)row[x] * row[x];
                    clipped += row[x] <= 0.5f || row[x] >= 254.5f;
                }
            }
            double var = s2 / 64 - (s / 64) * (s / 64);
            count += var >= 1.0 && clipped <= 32;
        }
    return count;
}

const um_jpeg_component *um_jpeg_luma(const um_decoded *d, int map_w, int map_h,
                                      const uint16_t **qtable, const char **why)
{
    const um_jpeg_info *j = d->jpeg;
    if (!j || j->num_components < 1) {
        *why = "the file carries no JPEG coefficients";
        return NULL;
    }
    const um_jpeg_component *c = &j->comp[0];
    if (c->quant_index < 0 || c->quant_index > 3 || !j->qtable_present[c->quant_index]) {
        *why = "the luminance quantization table is missing";
        return NULL;
    }
    for (int k = 0; k < 64; k++)
        if (j->qtable[c->quant_index][k] == 0) {
            *why = "the luminance quantization table holds a zero step";
            return NULL;
        }
    if (!c->coef || c->blocks_w < map_w || c->blocks_h < map_h) {
        *why = "the luminance is stored at reduced resolution (unusual sampling factors)";
        return NULL;
    }
    *qtable = j->qtable[c->quant_index];
    return c;
}
