/* RED kept or stripped per slot (see red_forward.h). */
#include "red_forward.h"

#include <string.h>

#include "rtp/red.h"

#define RTP_PADDING_BIT 0x20u

bool sfu_red_forward_parse(const sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h, sfu_red_info *red)
{
    return sfu_red_parse(buf + h->payload_off, h->payload_len, red) && red->primary_pt == st->desc.pt;
}

uint8_t sfu_red_forward_adapt(const sfu_slot *slot, const sfu_rx_pending *p, uint8_t *pkt, uint8_t *payload,
                              size_t *len)
{
    if (slot->out_red_pt) {
        /* the blocks name the publisher's Opus payload type; the subscriber knows its own */
        if (p->red.primary_pt != slot->out_pt) sfu_red_set_block_pts(payload, p->h.payload_len, slot->out_pt);
        return slot->out_red_pt;
    }
    memmove(payload, payload + p->red.primary_off, p->red.primary_len);
    *len = (size_t)(payload - pkt) + p->red.primary_len;
    pkt[0] &= (uint8_t)~RTP_PADDING_BIT; /* the padding was left behind */
    return slot->out_pt;
}
