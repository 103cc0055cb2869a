/* RFC 4588 RTX wrapping and unwrapping (rtx.h). */
#include "rtp/rtx.h"

#include <string.h>

#define RTP_PADDING_BIT 0x20

size_t sfu_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, const sfu_rtp_header *h, uint16_t osn,
                    uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq)
{
    size_t len = h->payload_off + SFU_RTX_OSN_LEN + h->payload_len;
    if (!out || len > cap) return 0;
    memcpy(out, pkt, h->payload_off);
    out[0] &= (uint8_t)~RTP_PADDING_BIT;
    sfu_wr16(out + h->payload_off, osn);
    memcpy(out + h->payload_off + SFU_RTX_OSN_LEN, pkt + h->payload_off, h->payload_len);
    sfu_rtp_set_ssrc(out, rtx_ssrc);
    sfu_rtp_set_pt(out, rtx_pt);
    sfu_rtp_set_seq(out, rtx_seq);
    return len;
}

bool sfu_rtx_unwrap(uint8_t *buf, size_t *len, const sfu_rtp_header *h, uint32_t ssrc, uint8_t pt)
{
    if (h->payload_len < SFU_RTX_OSN_LEN) return false;
    uint16_t osn = sfu_rd16(buf + h->payload_off);
    memmove(buf + h->payload_off, buf + h->payload_off + SFU_RTX_OSN_LEN, h->payload_len - SFU_RTX_OSN_LEN);
    *len = h->payload_off + h->payload_len - SFU_RTX_OSN_LEN;
    buf[0] &= (uint8_t)~RTP_PADDING_BIT;
    sfu_rtp_set_seq(buf, osn);
    sfu_rtp_set_ssrc(buf, ssrc);
    sfu_rtp_set_pt(buf, pt);
    return true;
}
