/* Latency histogram and percentiles: 1 µs buckets below BENCH_HIST_FINE_US, 100 µs buckets
 * from there to BENCH_HIST_FINE_US + 100 × BENCH_HIST_COARSE (5.05 s), exact maximum. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_HIST_FINE_US 50000
#define BENCH_HIST_COARSE 50000
#define BENCH_HIST_BUCKETS (BENCH_HIST_FINE_US + BENCH_HIST_COARSE) /* the last one: beyond */

typedef struct {
    uint32_t *bucket; /* BENCH_HIST_BUCKETS + 1 */
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
    int64_t b = us < BENCH_HIST_FINE_US ? us : BENCH_HIST_FINE_US + (us - BENCH_HIST_FINE_US) / 100;
    h->bucket[b < BENCH_HIST_BUCKETS ? b : BENCH_HIST_BUCKETS]++;
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
