#include "check.h"

int um_test_failures;

int um_test_run(const struct um_test_case *cases, int n, const char *suite)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        um_test_failures = 0;
        cases[i].fn();
        if (um_test_failures) {
            failed++;
            fprintf(stderr, "FAIL %s: %s\n", suite, cases[i].name);
        } else {
            passed++;
            printf("ok   %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
