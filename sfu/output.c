/* The core's outputs (output.h). */
#include "output.h"

#include <string.h>

#include "bwe/bwe.h"
#include "rtp/twcc.h"

/* (the slow half of sfu_out_buf: the batch is full) */
uint8_t *sfu_out_buf_after_full(sfu_core *c)
{
    if (c->tx_full) c->tx_full(c->tx_full_user, c->tx);
    uint8_t *buf = sfu_tx_batch_buf(c->tx);
    if (!buf) sfu_count_drop(c, SFU_DROP_TX_FULL);
    return buf;
}

void sfu_out_reserve(sfu_core *c, unsigned n)
{
    if (c->tx->count + n > SFU_TX_BATCH && c->tx_full) c->tx_full(c->tx_full_user, c->tx);
}

/* The packet is in the batch's next free buffer (sfu_out_buf), not committed: the
 * connection copies it into its framed output, and the buffer serves the next packet. */
void sfu_out_tcp(sfu_core *c, const struct sockaddr_storage *to, size_t len)
{
    const sfu_tcp_addr *a = (const sfu_tcp_addr *)to;
    const uint8_t *buf = c->tx->bufs[c->tx->count];
    if (!c->tcp_send || !c->tcp_send(c->tcp_send_user, a->conn_id, buf, len)) sfu_count_drop(c, SFU_DROP_TCP_FULL);
}

void sfu_out_copy(sfu_core *c, const struct sockaddr_storage *to, socklen_t to_len, const uint8_t *data, size_t len)
{
    if (len > SFU_TX_BUF) return;
    uint8_t *buf = sfu_out_buf(c);
    if (!buf) return;
    memcpy(buf, data, len);
    sfu_out_commit(c, to, to_len, len);
}

void sfu_out_rtcp(sfu_transport *t, unsigned srtp_group, uint8_t *buf, size_t len)
{
    if (!t->srtp || !t->has_addr || len == 0) return;
    if (sfu_srtp_protect_rtcp_group(t->srtp, srtp_group, buf, &len, SFU_TX_BUF) != 0) {
        sfu_count_drop(t->core, SFU_DROP_SRTP);
        return;
    }
    sfu_out_commit(t->core, &t->addr, t->addr_len, len);
}

void sfu_out_event(sfu_core *c, sfu_event_type type, uint32_t id, const char *detail)
{
    sfu_event_push(&c->events, type, id, detail);
}

void sfu_out_event_full(sfu_core *c, const sfu_event *ev) { sfu_event_push_full(&c->events, ev); }

void sfu_out_readings(sfu_core *c, const sfu_event *evs, size_t n) { sfu_event_push_readings(&c->events, evs, n); }

size_t sfu_out_copy_numbered(uint8_t *dst, sfu_transport *out, const uint8_t *src, size_t len, const sfu_rtp_header *h,
                             int *twcc_seq)
{
    *twcc_seq = -1;
    if (out->bwe) {
        uint16_t seq = sfu_bwe_take_seq(out->bwe);
        size_t n = sfu_twcc_copy_stamped(dst, SFU_PKT_MAX, src, len, h, out->twcc_ext_id, 0, seq);
        if (n) {
            *twcc_seq = seq;
            return n;
        }
        sfu_bwe_unsent(out->bwe, seq); /* a malformed extension block: sent unnumbered */
    }
    memcpy(dst, src, len);
    return len;
}

void sfu_out_numbered_sent(sfu_transport *out, int twcc_seq, size_t len, bool sent)
{
    if (twcc_seq < 0) return;
    if (sent) sfu_bwe_sent_packet(out->bwe, (uint16_t)twcc_seq, len, out->core->now_us);
    else sfu_bwe_unsent(out->bwe, (uint16_t)twcc_seq);
}
