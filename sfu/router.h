/* The router: published streams, subscriber slots, and the forwarding of RTP and RTCP
 * between them, as a function of the packets it is given, the commands applied to its
 * tables and the core's clock (core->now_us), into the core's send batch, which it never
 * sends itself. Internal to sfu/. */
#ifndef SFU_ROUTER_H
#define SFU_ROUTER_H

#include "types.h"

/* NULL, with *why set, if the transport is unknown, has its streams' limit, or memory
 * ran out. */
sfu_stream *sfu_stream_create(sfu_core *c, const sfu_stream_desc *desc, const char **why);
void sfu_stream_destroy(sfu_stream *st);
/* Opens (forward) or closes the stream's gate: while closed its RTP is counted as
 * not_allowed and reaches no slot. Opening a video stream's gate asks for a keyframe. */
void sfu_stream_set_gate(sfu_stream *st, bool forward);
sfu_slot *sfu_slot_create(sfu_core *c, uint32_t id, uint32_t room_id, uint32_t transport_id, sfu_kind kind,
                          uint32_t out_ssrc, const char **why);
void sfu_slot_destroy(sfu_slot *slot);
/* Points the slot at a stream of its kind and room (or at none: source NULL); false,
 * and the slot points at none, if the stream is of another kind or room. */
bool sfu_slot_set_source(sfu_slot *slot, sfu_stream *source, uint8_t out_pt);
/* What the slot asks for (sfu_slot_set_quality in sfu.h); its target layer follows. */
void sfu_slot_apply_quality(sfu_slot *slot, sfu_quality quality, uint8_t max_temporal_layer);

/* SRTP from a transport's bound address: unprotected, parsed and queued for the fan-out. */
void sfu_router_on_rtp(sfu_transport *t, uint8_t *buf, size_t len);
/* Forwards what the batch queued: end of each receive batch, before its buffers are reused. */
void sfu_router_fan_out(sfu_core *c);
void sfu_router_on_rtcp(sfu_transport *t, uint8_t *buf, size_t len);
/* Timers: REMB to publishers, audio levels (SFU_EV_AUDIO_LEVEL) to signaling. */
/* Turns transport-wide congestion control on (ext_id 1–14, the one-byte header form) or off
 * (0) for what t sends; the estimate starts over. false if out of memory or ext_id > 14. */
bool sfu_router_set_twcc(sfu_transport *t, uint8_t ext_id);
void sfu_router_tick(sfu_core *c, int64_t now_us);

#endif
