/* Retransmission cache (rtx_cache.h). Positions in the ring are counted in absolute
 * octets since creation (64 bits never wrap): a packet at position pos of length len is
 * still whole while the write head is at most SFU_RTX_CACHE_BYTES past pos + len. A
 * packet that does not fit before the ring's end starts at the next turn, so every packet
 * is contiguous and a get is one comparison and a pointer. */
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
    uint64_t head; /* absolute position of the next octet written */
    entry index[SFU_RTX_CACHE_ENTRIES];
    uint8_t ring[SFU_RTX_CACHE_BYTES];
};

sfu_rtx_cache *sfu_rtx_cache_new(void)
{
    sfu_rtx_cache *c = malloc(sizeof *c);
    /* Every page written now, on the control path: the packet path never takes a page
     * fault for the ring, and what a stream costs shows in the RSS from its start (calloc
     * would map untouched zero pages that fill in later, as the ring turns).
     * explicit_bzero: a plain memset after malloc may be turned back into calloc. */
    if (c) explicit_bzero(c, sizeof *c);
    return c;
}

void sfu_rtx_cache_free(sfu_rtx_cache *c) { free(c); }

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
