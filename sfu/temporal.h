/* Temporal levels of a single-layer VP8 stream (a screen share sent with scalabilityMode
 * L1T3): "T0 only", "T0+T1", "all" become levels the bandwidth allocator chooses among,
 * lowest first, as it does among simulcast layers. Each stream's rate is measured per
 * temporal layer id (the payload descriptor's TID, parsed for every VP8 packet that has
 * subscribers); a slot's level becomes its temporal cap, and simulcast.c drops the frames
 * above it keeping the slot's sequence numbers and picture ids continuous (drop_temporal).
 * No allocation, no sending. Internal to sfu/. */
#ifndef SFU_TEMPORAL_H
#define SFU_TEMPORAL_H

#include "types.h"

#define SFU_TEMPORAL_NONE 0xff /* no cap */
/* A temporal layer that sent nothing for this long no longer counts as a level. */
#define SFU_TEMPORAL_QUIET_US 2000000

/* Every VP8 packet of a single-layer stream with subscribers, its descriptor parsed. */
static inline void sfu_temporal_on_rx(sfu_stream *st, const sfu_vp8_descriptor *d, size_t len, int64_t now)
{
    if (!d->has_tid) return;
    unsigned tid = d->tid < SFU_TEMPORAL_LEVELS ? d->tid : SFU_TEMPORAL_LEVELS - 1;
    st->temporal.octets[tid] += (uint32_t)len;
    st->temporal.last_rx_us[tid] = now;
}

/* Once a second (the router's tick calls it often): each temporal layer's smoothed rate. */
void sfu_temporal_measure(sfu_stream *st, int64_t now);

/* The levels the stream offers now (T0 … the highest TID that arrives; 0 or 1: none to
 * choose among), and level i's rate (TID 0 … i together) into bps[0 … levels − 1]. */
unsigned sfu_temporal_levels(const sfu_stream *st, int64_t now, uint32_t *bps);

/* The allocator's TID cap for the slot (level i of sfu_temporal_levels: TID ≤ i;
 * SFU_TEMPORAL_NONE: none), and with it the subscriber's own max_tid (set_quality), as
 * the slot's temporal cap from its next frame start on. Called again with the slot's
 * tid_alloc when max_tid changes. Starting a cap takes up the count of the sequence
 * numbers where forwarding is. */
void sfu_temporal_cap(sfu_slot *slot, uint8_t alloc_cap);
/* The allocator's level as a TID cap: the top level is none. */
uint8_t sfu_temporal_level_cap(int level, unsigned levels);

/* Whether the router must ask simulcast.c about the slot's packets (a cap, or one still
 * in effect until its next frame start). */
static inline bool sfu_temporal_capped(const sfu_slot *slot)
{
    return slot->layers.tid_cap != SFU_TEMPORAL_NONE || slot->layers.tid_now != SFU_TEMPORAL_NONE;
}

#endif
