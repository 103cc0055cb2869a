/* A histogram with fixed bucket bounds, in the shape Prometheus exposes (metrics.c): a
 * count per bucket, the number of observations and their sum. Plain memory, no
 * allocation: the signaling thread observes, the /metrics writer reads. */
#ifndef DC_HISTOGRAM_H
#define DC_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define DC_HISTOGRAM_MAX_BOUNDS 16

typedef struct {
    const double *bounds; /* upper bounds, increasing; static */
    size_t n_bounds;      /* ≤ DC_HISTOGRAM_MAX_BOUNDS */
    /* counts[i]: observations ≤ bounds[i] and > bounds[i − 1] (not cumulative);
     * counts[n_bounds]: above the last bound */
    uint64_t counts[DC_HISTOGRAM_MAX_BOUNDS + 1];
    uint64_t count;
    double sum;
} dc_histogram;

/* Empty, with these bounds (n is clamped to DC_HISTOGRAM_MAX_BOUNDS). */
void dc_histogram_init(dc_histogram *h, const double *bounds, size_t n);
void dc_histogram_observe(dc_histogram *h, double value);

#endif
