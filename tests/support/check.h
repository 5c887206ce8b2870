/* A tiny test harness: each tests/test_*.c lists its cases and calls UM_TEST_MAIN. A failed
 * CHECK reports file:line and the expression, and fails that case; the run ends with the plain
 * line "N passed, N failed" and exit status 1 if anything failed. */
#ifndef UM_TEST_CHECK_H
#define UM_TEST_CHECK_H

#include <stdio.h>

struct um_test_case {
    const char *name;
    void (*fn)(void);
};

extern int um_test_failures; /* failed CHECKs in the current case */

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
            um_test_failures++;                                                               \
        }                                                                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                  \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "  %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            um_test_failures++;                                                               \
        }                                                                                     \
    } while (0)

int um_test_run(const struct um_test_case *cases, int n, const char *suite);

#define UM_TEST_MAIN(cases)                                                                   \
    int main(void) { return um_test_run(cases, (int)(sizeof cases / sizeof cases[0]), __FILE__); }

#endif
