/* See heap_log.h. mallinfo2 walks every arena's free lists under their locks: cheap at
 * the intervals a soak uses, and never called when the log is off. */
#include "heap_log.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

void dc_heap_log_init(dc_heap_log *h, int64_t now_us)
{
    const char *env = getenv("DIEMCAU_HEAP_LOG");
    double seconds = env ? atof(env) : 0;
    h->interval_us = seconds > 0 ? (int64_t)(seconds * 1e6) : 0;
    h->start_us = now_us;
    h->next_us = now_us;
}

bool dc_heap_log_maybe(dc_heap_log *h, int64_t now_us)
{
    if (!h->interval_us || now_us < h->next_us) return false;
    h->next_us = now_us + h->interval_us;
    struct mallinfo2 mi = mallinfo2();
    /* uordblks: bytes in live allocations from the arenas; fordblks: free bytes the arenas
     * hold; hblkhd: large allocations served by their own mmap; keepcost: the free top of
     * the main arena that malloc_trim could return */
    fprintf(stderr, "heap: t_s=%.1f in_use_kib=%zu free_kib=%zu mmap_kib=%zu releasable_kib=%zu\n",
            (double)(now_us - h->start_us) / 1e6, mi.uordblks / 1024, mi.fordblks / 1024, mi.hblkhd / 1024,
            mi.keepcost / 1024);
    fflush(stderr);
    return true;
}
