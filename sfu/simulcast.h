/* Simulcast: a publisher sends one source in up to three layers (rid encodings, each its
 * own SSRC); each slot pointed at such a stream forwards exactly one of them. This module
 * decides which (sfu_simulcast_choose_layer, the one place a bandwidth estimate will cap),
 * when the slot moves to it (only at a keyframe of the new layer, so the decoder never
 * waits on a frame it cannot decode), and renumbers the VP8 picture ids and TL0PICIDX so
 * that the subscriber sees one continuous VP8 stream. The router calls it per packet and
 * keeps the SSRC/sequence/timestamp continuity (its rebase) and the keyframe requests.
 * Pure logic on the engine's objects: no sending, no allocation. Internal to sfu/. */
#ifndef SFU_SIMULCAST_H
#define SFU_SIMULCAST_H

#include "rtp/vp8.h"
#include "types.h"

/* A layer that sent nothing for this long is not offered to slots. */
#define SFU_LAYER_QUIET_US 1000000

/* The layer for a slot: the one `requested` maps to among n_layers (lowest first), or
 * the highest active one below it, or (none active below) the lowest active one; never
 * one that is not active (bit i of active_mask) unless none is. Above the budget (bits
 * per second; UINT32_MAX: none) it steps down while a lower active layer exists.
 * layer_bps: each layer's measured rate (may be NULL when budget is UINT32_MAX).
 * −1 for SFU_QUALITY_OFF. */
int sfu_simulcast_choose_layer(sfu_quality requested, unsigned n_layers, unsigned active_mask, uint32_t budget_bps,
                               const uint32_t *layer_bps);

void sfu_simulcast_slot_init(sfu_slot_layers *l);

/* The layer whose SSRC this is, or −1. */
int sfu_simulcast_layer_of(const sfu_stream *st, uint32_t ssrc);
/* An SSRC no layer has yet: binds it to the layer its rid header extension names (and the
 * stream's mid, when the mid extension is negotiated); the layer, or −1. */
int sfu_simulcast_learn(sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h);
/* Every received packet of a layer (of a stream of one encoding: layer 0): activity and rate. */
static inline void sfu_simulcast_on_rx(sfu_stream *st, unsigned layer, size_t len, int64_t now)
{
    st->layers[layer].last_rx_us = now;
    st->layers[layer].octets += (uint32_t)len;
}

/* Re-chooses the target of every slot of the stream (after a quality request, a
 * re-pointing, or as layers come and go: the router's tick), capped by the bandwidth
 * allocator's level for the slot (slot->alloc); rates once a second (any stream). */
void sfu_simulcast_retarget(sfu_stream *st, int64_t now);
void sfu_simulcast_retarget_slot(sfu_slot *slot, int64_t now);

/* After a retarget: the layers the stream's slots want (each slot's target, and the layer
 * it would take were every layer arriving, so that asking for a paused layer resumes it)
 * move the stream's pause timers (layer_pause.h). true: st->pause.active changed, the
 * publisher is to be told. */
bool sfu_simulcast_update_pause(sfu_stream *st, int64_t now);

typedef enum {
    SFU_SC_DROP,          /* not for this slot */
    SFU_SC_WANT_KEYFRAME, /* the target layer's, not a keyframe: drop it, ask for one */
    SFU_SC_SWITCH,        /* the target layer's keyframe: forwarding moves to it here */
    SFU_SC_FORWARD,
} sfu_sc_verdict;

/* The per-packet decision for a slot pointed at a simulcast stream, or (any stream) at
 * quality OFF or paused by the allocator. A DROP of a packet the temporal cap leaves out shifts the slot's
 * sequence offset (and picture id offset at a frame start) so the output has no gap. */
sfu_sc_verdict sfu_simulcast_admit(sfu_slot *slot, const sfu_rx_pending *p);

/* For a forwarded VP8 packet of a simulcast slot (payload: where the payload of p sits in
 * the output copy, whose header may have grown): at a switch (rebase) the offsets are set
 * so the first picture continues the last one sent; then the descriptor is rewritten. */
void sfu_simulcast_rewrite_vp8(sfu_slot_layers *l, uint8_t *payload, const sfu_rx_pending *p, bool rebase);

#endif
