/* Minimal test helpers: CHECK records a failure and goes on; main returns CHECK_RESULT(). */
#ifndef DC_CHECK_H
#define DC_CHECK_H
#include <stdio.h>
static int check_failures, check_count;
#define CHECK(cond) \
    do { \
        check_count++; \
        if (!(cond)) { \
            check_failures++; \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)
#define CHECK_RESULT() (printf("%d checks, %d failed\n", check_count, check_failures), check_failures != 0)
#endif
