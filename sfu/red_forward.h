/* RFC 2198 RED beside the router: a publisher's RED audio packet is checked once as it
 * arrives, then each slot gets it as it is (a subscriber that took RED: the redundant
 * blocks cover its losses) or stripped to the primary block, plain Opus (one that did
 * not). Plain Opus from the same or another source passes to both unchanged, so a slot
 * may switch between RED and non-RED sources without renegotiation. */
#ifndef SFU_RED_FORWARD_H
#define SFU_RED_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"
#include "types.h"

/* At arrival, for a packet of the stream: *is_red says whether it is RED (its blocks in
 * *red). false if it is RED that does not parse or whose primary is not the stream's Opus
 * (to be dropped as malformed). Inline: a stream without RED pays one comparison. */
bool sfu_red_forward_parse(const sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h, sfu_red_info *red);
static inline bool sfu_red_forward_check(const sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h,
                                         bool *is_red, sfu_red_info *red)
{
    *is_red = st->desc.red_pt && h->pt == st->desc.red_pt;
    return !*is_red || sfu_red_forward_parse(st, buf, h, red);
}

/* Whether the slot gets this packet stripped to its primary block (a RED packet, a slot
 * without RED): its length is then its own (no GSO padding to the run's size). */
static inline bool sfu_red_forward_strips(const sfu_slot *slot, const sfu_rx_pending *p)
{
    return p->is_red && !slot->out_red_pt;
}

/* Whether the slot gets nothing of this RED packet: an empty primary for a slot that strips
 * RED (the redundancy of the next packet cannot reach it either). */
static inline bool sfu_red_forward_skip(const sfu_slot *slot, const sfu_rx_pending *p)
{
    return sfu_red_forward_strips(slot, p) && p->red.primary_len == 0;
}

/* Adapts the copy of a RED packet for the slot, in place: `payload` is where its payload
 * starts in the copy and *len the copy's length. A RED slot keeps it (block payload types
 * made the slot's Opus one); another gets the primary block alone (and no padding). Returns
 * the payload type to send it with. */
uint8_t sfu_red_forward_adapt(const sfu_slot *slot, const sfu_rx_pending *p, uint8_t *pkt, uint8_t *payload,
                              size_t *len);

#endif
