/* The one assertion macro of the C tests: reports the failed condition, a message and the
 * library's last error, counts the failure and goes on (so one run lists every failure).
 * A test's main returns check_summary(). */
#ifndef CMFSEG_TEST_CHECK_H
#define CMFSEG_TEST_CHECK_H

#include <cmfseg.h>
#include <stdio.h>

static int check_failures = 0;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, " (last error: %s)\n", cmf_last_error_message());             \
            check_failures++;                                                             \
        }                                                                                 \
    } while (0)

/* 0 when every CHECK held, else 1 after printing how many failed. */
static inline int check_summary(const char *what) {
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf("%s passed\n", what);
    return 0;
}

#endif
