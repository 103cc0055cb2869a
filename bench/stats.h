/* Latency histogram (1 µs buckets up to BENCH_HIST_US, exact maximum) and percentiles. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_HIST_US 100000 /* 100 ms; slower samples land in the last bucket */

typedef struct {
    uint32_t *bucket; /* BENCH_HIST_US + 1 */
    uint64_t count;
    int64_t max_ns, min_ns;
    double sum_ns;
} bench_hist;

void bench_hist_init(bench_hist *h);
void bench_hist_free(bench_hist *h);
static inline void bench_hist_add(bench_hist *h, int64_t ns)
{
    if (ns < 0) ns = 0;
    int64_t us = ns / 1000;
    h->bucket[us < BENCH_HIST_US ? us : BENCH_HIST_US]++;
    if (h->count == 0 || ns > h->max_ns) h->max_ns = ns;
    if (h->count == 0 || ns < h->min_ns) h->min_ns = ns;
    h->count++;
    h->sum_ns += (double)ns;
}
/* q in [0,1]; microseconds (bucket upper bound), 0 if empty */
double bench_hist_quantile_us(const bench_hist *h, double q);

/* Quantile of a small array of doubles (sorted in place). */
double bench_quantile(double *v, size_t n, double q);

#endif
