/* What leaves a worker's core: datagrams into the send batch, events into the event
 * queue, and counts. The core never sends itself: a full batch goes to the owner's
 * sfu_tx_full_fn (types.h). Internal to sfu/. */
#ifndef SFU_OUTPUT_H
#define SFU_OUTPUT_H

#include "types.h"

static inline void sfu_count(_Atomic uint64_t *counter, uint64_t n)
{
    /* one writer (the worker thread): a relaxed load and store, no locked add */
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void sfu_count_drop(sfu_core *c, sfu_drop_reason why) { sfu_count(&c->counters.drops[why], 1); }

uint8_t *sfu_out_buf_after_full(sfu_core *c);

/* A buffer (SFU_TX_BUF bytes) for the next datagram, handing a full batch to the owner
 * first; NULL (counted as tx_full) if the batch is still full. */
static inline uint8_t *sfu_out_buf(sfu_core *c)
{
    uint8_t *buf = sfu_tx_batch_buf(c->tx);
    return buf ? buf : sfu_out_buf_after_full(c);
}
/* Hands the batch to the owner unless n more datagrams fit: keeps a run for one
 * receiver in one send (n ≤ SFU_TX_BATCH). */
void sfu_out_reserve(sfu_core *c, unsigned n);
void sfu_out_tcp(sfu_core *c, const struct sockaddr_storage *to, size_t len);
/* Queues the buffer sfu_out_buf returned, `len` bytes, to `to` (an ICE-TCP connection's
 * address takes it out of the batch, to the connection). */
static inline void sfu_out_commit(sfu_core *c, const struct sockaddr_storage *to, socklen_t to_len, size_t len)
{
    if (__builtin_expect(to->ss_family == SFU_AF_TCP, 0)) sfu_out_tcp(c, to, len);
    else sfu_tx_batch_commit(c->tx, to, to_len, len);
}
/* Queues a copy of data (control traffic: STUN replies, DTLS flights), in order with media. */
/* The copy of an RTP packet into a send buffer (cap SFU_PKT_MAX) for transport out: with
 * transport-wide congestion control on, numbered with out's next sequence number in the
 * same copy (*twcc_seq, else -1; the publisher's number is not passed on). Returns the
 * length. Then sfu_out_numbered_sent says whether it left (the estimator counts it) or not. */
size_t sfu_out_copy_numbered(uint8_t *dst, sfu_transport *out, const uint8_t *src, size_t len, const sfu_rtp_header *h,
                             int *twcc_seq);
void sfu_out_numbered_sent(sfu_transport *out, int twcc_seq, size_t len, bool sent);
void sfu_out_copy(sfu_core *c, const struct sockaddr_storage *to, socklen_t to_len, const uint8_t *data, size_t len);
/* Protects and queues one RTCP packet (written in plain text into the buffer sfu_out_buf
 * returned) to the transport's peer; `srtp_group` is its sender SSRC's (0 for the
 * transport's own). Nothing if the peer is not connected. */
void sfu_out_rtcp(sfu_transport *t, unsigned srtp_group, uint8_t *buf, size_t len);
/* Reports an event to the signaling thread (never allocates). */
void sfu_out_event(sfu_core *c, sfu_event_type type, uint32_t id, const char *detail);
/* Reports an event with its figures (SFU_EV_LAYERS); never allocates. */
void sfu_out_event_full(sfu_core *c, const sfu_event *ev);
/* Reports measurements (audio levels), which give way to other events when the queue fills. */
void sfu_out_readings(sfu_core *c, const sfu_event *evs, size_t n);

#endif
