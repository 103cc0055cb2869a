/* The retransmission cache of one published video stream: its latest packets as they
 * arrived (decrypted, original SSRC, sequence number and payload type), found by sequence
 * number, for answering a subscriber's NACK (RFC 4585) with the packet it lost.
 *
 * All memory is taken when the stream is created: a byte ring of SFU_RTX_CACHE_BYTES
 * that packets are appended to, and an index of SFU_RTX_CACHE_ENTRIES by sequence number
 * modulo its size. A packet whose bytes the ring has since overwritten, or whose index
 * entry a later packet took, is a miss. 256 KiB hold 1 s of a 2 Mbit/s stream (1.05 s),
 * 4 s of a 500 kbit/s one; with the index, 272 KiB per video stream. Pure memory, no
 * clock, no allocation after _new. */
#ifndef SFU_RTX_CACHE_H
#define SFU_RTX_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define SFU_RTX_CACHE_BYTES (256u * 1024u)
#define SFU_RTX_CACHE_ENTRIES 1024u /* a power of two; 1 s of 2 Mbit/s in 250-octet packets */
#define SFU_RTX_CACHE_PKT_MAX 1500u /* larger packets are not kept */

typedef struct sfu_rtx_cache sfu_rtx_cache;

sfu_rtx_cache *sfu_rtx_cache_new(void); /* NULL when out of memory */
void sfu_rtx_cache_free(sfu_rtx_cache *c);
size_t sfu_rtx_cache_memory(void); /* bytes one cache holds (the report's figure) */

/* Keeps a copy of the packet, `seq` its RTP sequence number. */
void sfu_rtx_cache_put(sfu_rtx_cache *c, uint16_t seq, const uint8_t *pkt, size_t len);
/* The kept packet with sequence number `seq` (valid until the next put), or NULL. */
const uint8_t *sfu_rtx_cache_get(const sfu_rtx_cache *c, uint16_t seq, size_t *len);

#endif
