/* check: a tiny TAP-style harness; ends with the "N passed, N failed" line CI reads. */
#ifndef PGRT_CHECK_H
#define PGRT_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, name)                                                                                \
    do {                                                                                                 \
        if (cond) {                                                                                      \
            check_passed++;                                                                              \
            printf("ok %d - %s\n", check_passed + check_failed, name);                                   \
        } else {                                                                                         \
            check_failed++;                                                                              \
            printf("not ok %d - %s (%s:%d: %s)\n", check_passed + check_failed, name, __FILE__, __LINE__, \
                   #cond);                                                                               \
        }                                                                                                \
    } while (0)

#define CHECK_STR(actual, expected, name) CHECK((actual) && strcmp((actual), (expected)) == 0, name)

static inline int check_done(void)
{
    printf("1..%d\n%d passed, %d failed\n", check_passed + check_failed, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
