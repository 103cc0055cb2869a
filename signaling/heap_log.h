/* Heap statistics on stderr for memory soaks (bench/soak.sh): they tell whether RSS that
 * grows is live allocations (a leak) or free memory that malloc keeps (fragmentation).
 * Off unless the environment has DIEMCAU_HEAP_LOG=<seconds between lines>. */
#ifndef DC_HEAP_LOG_H
#define DC_HEAP_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t interval_us; /* 0 = off */
    int64_t start_us, next_us;
} dc_heap_log;

void dc_heap_log_init(dc_heap_log *h, int64_t now_us);
/* Prints one line when the interval has passed, and returns whether it did:
 *   heap: t_s=12.0 in_use_kib=… free_kib=… mmap_kib=… releasable_kib=… */
bool dc_heap_log_maybe(dc_heap_log *h, int64_t now_us);

#endif
