/* Loss repair and reception reports, beside the router (which calls these hooks). A
 * stream's RTP sources are the stream itself, or each of its simulcast layers; each has
 * its own cache, receive statistics and RTX SSRC (sfu_source_repair):
 *
 * - downstream: a subscriber's generic NACK names sequence numbers of a slot; the slot's
 *   record of what it sent (sfu_slot_sent) says which source's packet each was and with
 *   which offsets; it is taken from that source's retransmission cache (rtx_cache.h) and
 *   resent, renumbered as it first went out, as RFC 4588 RTX when the slot has an RTX
 *   SSRC, else as it was; one resend per packet per subscriber per round trip; what the
 *   record does not hold (overwritten, or sent before a re-pointing) is not answered;
 * - upstream: every source's sequence numbers are tracked (rtp/recv_stats.h); a gap is
 *   NACKed to the publisher at once (on the source's SSRC) and retried from the tick;
 *   the publisher's RTX packets are unwrapped into the source they repair, known by
 *   announced SSRC or learnt from the mid (single stream) or repaired-rid (layer)
 *   extension;
 * - reports: a receiver report per publisher each second (a block per source: loss,
 *   jitter, LSR/DLSR), and the round trip of each subscriber from its reports on the
 *   sender reports relayed to it.
 *
 * Per transport the figures are kept in sfu_transport.link. Internal to sfu/. */
#ifndef SFU_REPAIR_H
#define SFU_REPAIR_H

#include "types.h"

/* Memory for a new stream (the caches, video only); false when out of memory. */
bool sfu_repair_stream_init(sfu_stream *st);
void sfu_repair_stream_free(sfu_stream *st);
/* Memory for a new slot (its record of what it sent, video only); false when out of memory. */
bool sfu_repair_slot_init(sfu_slot *slot);
void sfu_repair_slot_free(sfu_slot *slot);

/* A publisher's packet that is none of its streams' own: if it is one's RTX, it is turned
 * back into the original in place (buf, *len, *h) and that stream returned; *is_rtx says
 * it was RTX (an empty one, padding for probing, returns NULL). */
sfu_stream *sfu_repair_unwrap(sfu_transport *t, uint8_t *buf, size_t *len, sfu_rtp_header *h, bool *is_rtx);
/* Every authenticated packet of a stream's source (`layer`: 0 for a single stream), gated
 * or not: counted, cached, and a new gap NACKed. false: not worth forwarding (a repaired
 * packet nobody was waiting for). */
bool sfu_repair_on_rtp(sfu_stream *st, unsigned layer, const uint8_t *buf, size_t len, const sfu_rtp_header *h,
                       bool repaired);

/* The slot forwarded source packet in_seq of `layer` as out_seq, with its offsets as they
 * are now (after the VP8 renumbering): the record a NACK is answered from. */
static inline void sfu_repair_sent(sfu_slot *slot, uint16_t out_seq, uint16_t in_seq, uint8_t layer)
{
    if (!slot->repair.sent) return;
    slot->repair.sent[out_seq % SFU_SLOT_SENT] = (sfu_slot_sent){.out_seq = out_seq,
                                                                 .in_seq = in_seq,
                                                                 .ts_offset = slot->ts_offset,
                                                                 .pid_offset = slot->layers.pid_offset,
                                                                 .tl0_offset = slot->layers.tl0_offset,
                                                                 .layer = layer};
}
/* Re-pointed (sfu_slot_set_source): what it sent before is not answered any more. */
void sfu_repair_repointed(sfu_slot *slot);

/* The transport's slot sending with `ssrc`, or NULL. */
sfu_slot *sfu_slot_by_out_ssrc(sfu_transport *t, uint32_t ssrc);

/* RTCP from a peer: a NACK for one of its slots, its SR/RR report blocks, a publisher's SR
 * (on a source: `layer`, 0 for a single stream). */
void sfu_repair_on_nack(sfu_slot *slot, const sfu_rtcp_packet *p);
void sfu_repair_on_reports(sfu_transport *t, const sfu_rtcp_packet *p);
void sfu_repair_on_publisher_sr(sfu_stream *st, unsigned layer, uint64_t ntp);
/* An SR with NTP time `ntp` was relayed to the slot's subscriber now. */
void sfu_repair_sr_relayed(sfu_slot *slot, uint64_t ntp);

/* Timers: receiver reports each second, NACK retries. */
void sfu_repair_tick(sfu_core *c, int64_t now_us);

#endif
