/* libFuzzer target for the campaign clustering code on hostile bytes:
 *  - cm_neardup_cluster on the input's lines (parameters from the first bytes);
 *  - cm_hamming_cluster on the input cut into hashes of 1..16 bytes, checked exactly against
 *    an all-pairs reference when the input is small.
 * Contract checked: labels are the smallest index of their component (label[i] <= i and
 * label[label[i]] == label[i]); a broken contract aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/imagehash.h"
#include "campaign/neardup.h"

enum { MAX_TEXTS = 4096 };

static void check_labels(const uint32_t *cl, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cl[i] > i || cl[cl[i]] != cl[i])
            abort();
}

static void fuzz_neardup(const uint8_t *data, size_t size, uint8_t knobs)
{
    const char *texts[MAX_TEXTS];
    size_t lens[MAX_TEXTS], n = 0, start = 0;
    for (size_t i = 0; i <= size && n < MAX_TEXTS; i++)
        if (i == size || data[i] == '\n') {
            texts[n] = (const char *)data + start;
            lens[n++] = i - start;
            start = i + 1;
        }
    struct cm_neardup_params p;
    cm_neardup_params_init(&p);
    p.shingle_words = 1 + knobs % 4;
    p.jaccard = 0.3 + 0.1 * (knobs / 4 % 7);
    p.threads = 1 + knobs / 128;
    uint32_t cl[MAX_TEXTS];
    if (cm_neardup_cluster(texts, lens, n, &p, cl) != 0)
        abort(); /* valid parameters: only memory exhaustion may fail */
    check_labels(cl, n);
}

static uint32_t find(uint32_t *p, uint32_t i)
{
    while (p[i] != i)
        i = p[i];
    return i;
}

static void fuzz_hamming(const uint8_t *data, size_t size, uint8_t knobs)
{
    size_t nbytes = 1 + knobs % 16, n = size / nbytes;
    int d = knobs / 16;
    uint32_t *cl = malloc((n ? n : 1) * sizeof *cl);
    if (!cl || cm_hamming_cluster(data, nbytes, n, d, cl) != 0)
        abort();
    check_labels(cl, n);
    if (n <= 256) { /* exact: equal to the all-pairs components */
        uint32_t ref[256];
        for (size_t i = 0; i < n; i++)
            ref[i] = (uint32_t)i;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                int dist = 0;
                for (size_t b = 0; b < nbytes; b++)
                    dist += __builtin_popcount(data[i * nbytes + b] ^ data[j * nbytes + b]);
                uint32_t a = find(ref, (uint32_t)i), c = find(ref, (uint32_t)j);
                if (dist <= d && a != c)
                    ref[a > c ? a : c] = a < c ? a : c;
            }
        for (size_t i = 0; i < n; i++)
            if (find(ref, (uint32_t)i) != cl[i])
                abort();
    }
    free(cl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_neardup(data + 2, size - 2, data[0]);
    fuzz_hamming(data + 2, size - 2, data[1]);
    return 0;
}
