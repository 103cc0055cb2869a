/* See histogram.h. */
#include "histogram.h"

#include <string.h>

void dc_histogram_init(dc_histogram *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n < DC_HISTOGRAM_MAX_BOUNDS ? n : DC_HISTOGRAM_MAX_BOUNDS;
}

void dc_histogram_observe(dc_histogram *h, double value)
{
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i]) i++;
    h->counts[i]++;
    h->count++;
    h->sum += value;
}
