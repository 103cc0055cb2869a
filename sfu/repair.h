/* Loss repair and reception reports, beside the router (which calls these hooks):
 *
 * - downstream: a subscriber's generic NACK names sequence numbers of a slot; those of the
 *   slot's current source epoch map back to the source's, are taken from the stream's
 *   retransmission cache (rtx_cache.h) and resent, as RFC 4588 RTX when the slot has an
 *   RTX SSRC, else as they were; one resend per packet per subscriber per round trip;
 * - upstream: every published stream's sequence numbers are tracked (rtp/recv_stats.h);
 *   a gap is NACKed to the publisher at once and retried from the tick; the publisher's
 *   RTX packets are unwrapped into the original stream;
 * - reports: a receiver report per publisher each second (loss, jitter, LSR/DLSR), and the
 *   round trip of each subscriber from its reports on the sender reports relayed to it.
 *
 * Per transport the figures are kept in sfu_transport.link. Internal to sfu/. */
#ifndef SFU_REPAIR_H
#define SFU_REPAIR_H

#include "types.h"

/* Memory for a new stream (the cache, video only); false when out of memory. */
bool sfu_repair_stream_init(sfu_stream *st);
void sfu_repair_stream_free(sfu_stream *st);

/* A publisher's packet that is none of its streams' own: if it is one's RTX, it is turned
 * back into the original in place (buf, *len, *h) and that stream returned; *is_rtx says
 * it was RTX (an empty one, padding for probing, returns NULL). */
sfu_stream *sfu_repair_unwrap(sfu_transport *t, uint8_t *buf, size_t *len, sfu_rtp_header *h, bool *is_rtx);
/* Every authenticated packet of a stream, gated or not: counted, cached, and a new gap
 * NACKed. false: not worth forwarding (a repaired packet nobody was waiting for). */
bool sfu_repair_on_rtp(sfu_stream *st, const uint8_t *buf, size_t len, const sfu_rtp_header *h, bool repaired);

/* The slot's offsets were re-based: out sequence numbers from first_out_seq on are the
 * new epoch. Re-pointed (sfu_slot_set_source): no epoch until the next re-base. */
void sfu_repair_rebased(sfu_slot *slot, uint16_t first_out_seq);
void sfu_repair_repointed(sfu_slot *slot);

/* The transport's slot sending with `ssrc`, or NULL. */
sfu_slot *sfu_slot_by_out_ssrc(sfu_transport *t, uint32_t ssrc);

/* RTCP from a peer: a NACK for one of its slots, its SR/RR report blocks, a publisher's SR. */
void sfu_repair_on_nack(sfu_slot *slot, const sfu_rtcp_packet *p);
void sfu_repair_on_reports(sfu_transport *t, const sfu_rtcp_packet *p);
void sfu_repair_on_publisher_sr(sfu_stream *st, uint64_t ntp);
/* An SR with NTP time `ntp` was relayed to the slot's subscriber now. */
void sfu_repair_sr_relayed(sfu_slot *slot, uint64_t ntp);

/* Timers: receiver reports each second, NACK retries. */
void sfu_repair_tick(sfu_core *c, int64_t now_us);

#endif
