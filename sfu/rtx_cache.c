/* Retransmission cache (rtx_cache.h). Positions in the ring are counted in absolute
 * octets since creation (64 bits never wrap): a packet at position pos of length len is
 * still whole while the write head is at most the ring's size past pos + len. A packet
 * that does not fit before the ring's end starts at the next turn, so every packet is
 * contiguous and a get is one comparison and a pointer. Ring and index sizes are powers
 * of two: positions and slots are masked, not divided. */
#include "rtx_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
    sfu_rtx_cache *c = malloc(size);
    /* Every page written now, on the control path: the packet path never takes a page
     * fault for the ring, and what a stream costs shows in the RSS from its start (calloc
     * would map untouched zero pages that fill in later, as the ring turns).
     * explicit_bzero: a plain memset after malloc may be turned back into calloc. */
    if (!c) return NULL;
    explicit_bzero(c, size);
    c->ring_bytes = ring;
    c->index_mask = (uint32_t)entries - 1;
    c->ring = (uint8_t *)&c->index[entries];
    return c;
}

void sfu_rtx_cache_free(sfu_rtx_cache *c) { free(c); }

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
