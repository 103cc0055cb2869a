/* RFC 2198 redundant audio (RED) as WebRTC uses it for Opus: a payload of block headers,
 * then the blocks' data, the primary (newest) block last. A redundant block's header is
 * four octets (F=1, block PT, 14-bit timestamp offset, 10-bit length); the primary's is
 * one (F=0, block PT) and its length is what remains. Pure functions over caller buffers,
 * bounds checked (fuzzed: tests/fuzz/fuzz_red.c). */
#ifndef SFU_RED_H
#define SFU_RED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a RED payload holds: where its primary block's data sits, relative to the payload
 * start, and the block's payload type. */
typedef struct {
    uint16_t primary_off, primary_len;
    uint8_t primary_pt;
    uint8_t n_redundant; /* blocks before the primary */
} sfu_red_info;

/* false if the headers run past the payload or the blocks they announce do not fit. */
bool sfu_red_parse(const uint8_t *payload, size_t len, sfu_red_info *out);

/* Sets every block's payload type (a subscriber's number for the codec inside) in a payload
 * that sfu_red_parse accepted. */
void sfu_red_set_block_pts(uint8_t *payload, size_t len, uint8_t pt);

#endif
