/* See stats.h. */
#include "stats.h"

#include <stdlib.h>

void bench_hist_init(bench_hist *h)
{
    *h = (bench_hist){0};
    h->bucket = calloc(BENCH_HIST_BUCKETS + 1, sizeof *h->bucket);
}

void bench_hist_free(bench_hist *h)
{
    free(h->bucket);
    h->bucket = NULL;
}

double bench_hist_quantile_us(const bench_hist *h, double q)
{
    if (h->count == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)h->count);
    if (want >= h->count) want = h->count - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i <= BENCH_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen <= want) continue;
        double upper = i < BENCH_HIST_FINE_US ? (double)i + 1
                                              : BENCH_HIST_FINE_US + (double)(i - BENCH_HIST_FINE_US + 1) * 100;
        double max_us = (double)h->max_ns / 1000.0;
        return i < BENCH_HIST_BUCKETS && upper < max_us ? upper : max_us;
    }
    return (double)h->max_ns / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_quantile(double *v, size_t n, double q)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}
