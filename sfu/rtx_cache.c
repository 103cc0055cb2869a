/* Retransmission cache (rtx_cache.h). Positions in the ring are counted in absolute
 * octets since creation (64 bits never wrap): a packet at position pos of length len is
 * still whole while the write head is at most the ring's size past pos + len. A packet
 * that does not fit before the ring's end starts at the next turn, so every packet is
 * contiguous and a get is one comparison and a pointer. Ring and index sizes are powers
 * of two: positions and slots are masked, not divided. */
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
    uint64_t head;       /* absolute position of the next octet written */
    size_t ring_bytes;   /* a power of two */
    uint32_t index_mask; /* entries − 1, a power of two less one */
    uint8_t *ring;       /* after the index, in the same block */
    entry index[];
};

sfu_rtx_cache *sfu_rtx_cache_new(unsigned halvings)
{
    if (halvings > SFU_RTX_CACHE_HALVINGS_MAX) halvings = SFU_RTX_CACHE_HALVINGS_MAX;
    size_t entries = SFU_RTX_CACHE_ENTRIES >> halvings, ring = SFU_RTX_CACHE_BYTES >> halvings;
    size_t size = sizeof(sfu_rtx_cache) + entries * sizeof(entry) + ring;
    /* A mapping of its own, every page faulted in now (MAP_POPULATE), on the control path:
     * the packet path never takes a page fault for the ring, what a stream costs shows in
     * the RSS from its start, and munmap gives it all back when the stream ends. From
     * malloc, glibc's growing mmap threshold would put the second cache on in the heap,
     * where a freed one is kept: the RSS then grows with every publisher that comes and
     * goes. Anonymous pages are zero: every entry starts empty. */
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    sfu_rtx_cache *c = m;
    c->ring_bytes = ring;
    c->index_mask = (uint32_t)entries - 1;
    c->ring = (uint8_t *)&c->index[entries];
    return c;
}

void sfu_rtx_cache_free(sfu_rtx_cache *c)
{
    if (c) munmap(c, sfu_rtx_cache_memory(c));
}

size_t sfu_rtx_cache_memory(const sfu_rtx_cache *c)
{
    return sizeof *c + (c->index_mask + 1u) * sizeof(entry) + c->ring_bytes;
}

size_t sfu_rtx_cache_ring_bytes(const sfu_rtx_cache *c) { return c->ring_bytes; }

size_t sfu_rtx_cache_entries(const sfu_rtx_cache *c) { return c->index_mask + 1u; }

void sfu_rtx_cache_put(sfu_rtx_cache *c, uint16_t seq, const uint8_t *pkt, size_t len)
{
    if (len == 0 || len > SFU_RTX_CACHE_PKT_MAX) return;
    uint64_t mask = c->ring_bytes - 1, at = c->head & mask;
    if (at + len > c->ring_bytes) c->head += c->ring_bytes - at; /* next turn */
    memcpy(c->ring + (c->head & mask), pkt, len);
    c->index[seq & c->index_mask] = (entry){.pos = c->head, .len = (uint16_t)len, .seq = seq};
    c->head += len;
}

const uint8_t *sfu_rtx_cache_get(const sfu_rtx_cache *c, uint16_t seq, size_t *len)
{
    const entry *e = &c->index[seq & c->index_mask];
    bool whole = e->len && e->seq == seq && c->head - e->pos <= c->ring_bytes;
    if (!whole) return NULL;
    *len = e->len;
    return c->ring + (e->pos & (c->ring_bytes - 1));
}
