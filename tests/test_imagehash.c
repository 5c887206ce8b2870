/* Hamming-distance clustering (campaign/imagehash.c) against a brute-force all-pairs
 * reference on data made here: random hashes with planted families of near copies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/imagehash.h"
#include "check.h"

static uint64_t rng_state = 0x1234567;

static uint64_t next_u64(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static int popcount_bytes(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
    int d = 0;
    for (size_t i = 0; i < nbytes; i++)
        d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
    return d;
}

static uint32_t find(uint32_t *p, uint32_t i)
{
    while (p[i] != i)
        i = p[i];
    return i;
}

/* Reference: all pairs, union by smallest index. */
static void brute_force(const uint8_t *h, size_t nbytes, size_t n, int d, uint32_t *cl)
{
    for (size_t i = 0; i < n; i++)
        cl[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (popcount_bytes(h + i * nbytes, h + j * nbytes, nbytes) <= d) {
                uint32_t a = find(cl, (uint32_t)i), b = find(cl, (uint32_t)j);
                if (a < b)
                    cl[b] = a;
                else if (b < a)
                    cl[a] = b;
            }
    for (size_t i = 0; i < n; i++)
        cl[i] = find(cl, (uint32_t)i);
}

static void flip_bits(uint8_t *h, size_t nbytes, int flips)
{
    for (int f = 0; f < flips; f++) {
        size_t bit = next_u64() % (nbytes * 8);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

/* n hashes: a third random, the rest in families of 4 copies of a random base with 1..flips
 * bits flipped each (possibly more than d from each other). */
static uint8_t *make_hashes(size_t nbytes, size_t n, int flips)
{
    uint8_t *h = malloc(n * nbytes);
    for (size_t i = 0; i < n * nbytes; i++)
        h[i] = (uint8_t)next_u64();
    for (size_t i = n / 3; i + 4 <= n; i += 4)
        for (size_t c = 1; c < 4; c++) {
            memcpy(h + (i + c) * nbytes, h + i * nbytes, nbytes);
            flip_bits(h + (i + c) * nbytes, nbytes, 1 + (int)(next_u64() % (uint64_t)flips));
        }
    return h;
}

static int count_joined(const uint32_t *cl, size_t n)
{
    int joined = 0;
    for (size_t i = 0; i < n; i++)
        joined += cl[i] != i;
    return joined;
}

static void compare_with_brute_force(size_t nbytes, size_t n, int d, int flips)
{
    uint8_t *h = make_hashes(nbytes, n, flips);
    uint32_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    CHECK(cm_hamming_cluster(h, nbytes, n, d, got) == 0);
    brute_force(h, nbytes, n, d, want);
    CHECK_MSG(memcmp(got, want, n * sizeof *got) == 0, "nbytes %zu d %d", nbytes, d);
    CHECK_MSG(count_joined(want, n) > 0, "the data must contain close pairs (d %d)", d);
    free(h);
    free(got);
    free(want);
}

static void test_matches_brute_force_64bit(void)
{
    for (int d = 0; d <= 8; d += 2)
        compare_with_brute_force(8, 1500, d, d + 3);
}

static void test_matches_brute_force_odd_sizes(void)
{
    compare_with_brute_force(3, 1200, 2, 4);  /* 24 bits: chunks of 8 */
    compare_with_brute_force(32, 800, 1, 3);  /* 256 bits, 2 chunks of 128: hashed keys */
    compare_with_brute_force(9, 1000, 5, 7);  /* chunk borders inside bytes */
}

static void test_chain_is_one_component(void)
{
    /* a -(3)- b -(3)- c: a and c are 6 apart, all one cluster at d = 3, none at d = 2. */
    uint8_t h[3 * 8] = {0};
    h[8] = 0x07;       /* b: bits 0-2 of byte 0 */
    h[16] = 0x07;      /* c: those and bits 0-2 of byte 1 */
    h[17] = 0x07;
    uint32_t cl[3];
    CHECK(cm_hamming_cluster(h, 8, 3, 3, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 0 && cl[2] == 0);
    CHECK(cm_hamming_cluster(h, 8, 3, 2, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 1 && cl[2] == 2);
}

/* 3,000 hashes equal in their first 4 bytes (one huge run in the first substring table),
 * random elsewhere, with close pairs planted whose other substring differs: only the long-run
 * recursion can find them. */
static void test_degenerate_run_stays_exact(void)
{
    size_t n = 3000, nbytes = 8;
    uint8_t *h = malloc(n * nbytes);
    for (size_t i = 0; i < n; i++) {
        memset(h + i * nbytes, 0, 4);
        for (size_t b = 4; b < 8; b++)
            h[i * nbytes + b] = (uint8_t)next_u64();
    }
    for (size_t i = 0; i + 1 < n; i += 100) {
        memcpy(h + (i + 1) * nbytes, h + i * nbytes, nbytes);
        h[(i + 1) * nbytes + 7] ^= 0x01;
    }
    uint32_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    CHECK(cm_hamming_cluster(h, nbytes, n, 1, got) == 0);
    brute_force(h, nbytes, n, 1, want);
    CHECK(memcmp(got, want, n * sizeof *got) == 0);
    CHECK(got[101] == 100 && got[2901] == 2900);
    free(h);
    free(got);
    free(want);
}

static void test_distance_at_least_bits_is_one_cluster(void)
{
    uint8_t h[4] = {0x00, 0xff, 0x0f, 0xf0};
    uint32_t cl[4];
    CHECK(cm_hamming_cluster(h, 1, 4, 8, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 0 && cl[2] == 0 && cl[3] == 0);
    CHECK(cm_hamming_cluster(h, 1, 4, 4, cl) == 0); /* every pair but 0x0f-0xf0 is 4 apart */
    CHECK(cl[0] == 0 && cl[1] == 0 && cl[2] == 0 && cl[3] == 0);
    CHECK(cm_hamming_cluster(h, 1, 4, 3, cl) == 0);
    CHECK(cl[0] == 0 && cl[1] == 1 && cl[2] == 2 && cl[3] == 3);
}

static void test_invalid_arguments(void)
{
    uint8_t h[8] = {0};
    uint32_t cl[1];
    CHECK(cm_hamming_cluster(h, 0, 1, 1, cl) == -1);
    CHECK(cm_hamming_cluster(h, 8, 1, -1, cl) == -1);
    CHECK(cm_hamming_cluster(NULL, 8, 1, 1, cl) == -1);
    CHECK(cm_hamming_cluster(h, 8, 0, 1, NULL) == 0);
    CHECK(cm_hamming_cluster(h, 8, 1, 3, cl) == 0 && cl[0] == 0);
}

static const struct um_test_case cases[] = {
    {"matches_brute_force_64bit", test_matches_brute_force_64bit},
    {"matches_brute_force_odd_sizes", test_matches_brute_force_odd_sizes},
    {"chain_is_one_component", test_chain_is_one_component},
    {"degenerate_run_stays_exact", test_degenerate_run_stays_exact},
    {"distance_at_least_bits_is_one_cluster", test_distance_at_least_bits_is_one_cluster},
    {"invalid_arguments", test_invalid_arguments},
};
UM_TEST_MAIN(cases)
