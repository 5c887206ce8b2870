/* A tiny deterministic random generator shared by the detectors that sample (PatchMatch) and
 * by the test images: the same seed gives the same sequence on every machine. */
#ifndef UM_CORE_RANDOM_H
#define UM_CORE_RANDOM_H

/* xorshift32 (Marsaglia, J. Stat. Softw. 8(14), 2003): the next value of *state. A zero state
 * (the one value xorshift cannot leave) is replaced by a fixed non-zero one. */
static inline unsigned um_xorshift32(unsigned *state)
{
    unsigned x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x ? x : 0x6d2b79f5u;
}

#endif
