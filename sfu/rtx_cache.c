/* Retransmission cache (rtx_cache.h). Positions in the ring are counted in absolute
 * octets since creation (64 bits never wrap): a packet at position pos of length len is
 * still whole while the write head is at most SFU_RTX_CACHE_BYTES past pos + len. A
 * packet that does not fit before the ring's end starts at the next turn, so every packet
 * is contiguous and a get is one comparison and a pointer. */
#include "rtx_cache.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
    uint64_t pos; /* absolute position of the first octet */
    uint16_t len; /* 0: empty */
    uint16_t seq;
} entry;

struct sfu_rtx_cache {
    uint64_t head; /* absolute position of the next octet written */
    entry index[SFU_RTX_CACHE_ENTRIES];
    uint8_t ring[SFU_RTX_CACHE_BYTES];
};

sfu_rtx_cache *sfu_rtx_cache_new(void)
{
    /* A mapping of its own, every page faulted in now (MAP_POPULATE), on the control path:
     * the packet path never takes a page fault for the ring, what a stream costs shows in
     * the RSS from its start, and munmap gives it all back when the stream ends. From
     * malloc, glibc's growing mmap threshold would put the second cache on in the heap,
     * where a freed one is kept: the RSS then grows with every publisher that comes and
     * goes. Anonymous pages are zero: every entry starts empty. */
    void *m = mmap(NULL, sizeof(sfu_rtx_cache), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
                   0);
    return m == MAP_FAILED ? NULL : m;
}

void sfu_rtx_cache_free(sfu_rtx_cache *c)
{
    if (c) munmap(c, sizeof *c);
}

size_t sfu_rtx_cache_memory(void) { return sizeof(sfu_rtx_cache); }

void sfu_rtx_cache_put(sfu_rtx_cache *c, uint16_t seq, const uint8_t *pkt, size_t len)
{
    if (len == 0 || len > SFU_RTX_CACHE_PKT_MAX) return;
    uint64_t at = c->head % SFU_RTX_CACHE_BYTES;
    if (at + len > SFU_RTX_CACHE_BYTES) c->head += SFU_RTX_CACHE_BYTES - at; /* next turn */
    memcpy(c->ring + c->head % SFU_RTX_CACHE_BYTES, pkt, len);
    c->index[seq % SFU_RTX_CACHE_ENTRIES] = (entry){.pos = c->head, .len = (uint16_t)len, .seq = seq};
    c->head += len;
}

const uint8_t *sfu_rtx_cache_get(const sfu_rtx_cache *c, uint16_t seq, size_t *len)
{
    const entry *e = &c->index[seq % SFU_RTX_CACHE_ENTRIES];
    bool whole = e->len && e->seq == seq && c->head - e->pos <= SFU_RTX_CACHE_BYTES;
    if (!whole) return NULL;
    *len = e->len;
    return c->ring + e->pos % SFU_RTX_CACHE_BYTES;
}
