/* Temporal levels of a single-layer VP8 stream (temporal.h). */
#include "temporal.h"

#define RATE_INTERVAL_US 1000000

void sfu_temporal_measure(sfu_stream *st, int64_t now)
{
    sfu_stream_temporal *t = &st->temporal;
    int64_t elapsed = now - t->since_us;
    if (elapsed < RATE_INTERVAL_US) return;
    if (t->since_us)
        for (unsigned i = 0; i < SFU_TEMPORAL_LEVELS; i++) {
            /* smoothed as simulcast layers are (simulcast.c): a keyframe swings one second */
            uint64_t measured = (uint64_t)t->octets[i] * 8 * 1000000 / (uint64_t)elapsed;
            t->bps[i] = (uint32_t)(t->bps[i] ? (2 * (uint64_t)t->bps[i] + measured) / 3 : measured);
        }
    for (unsigned i = 0; i < SFU_TEMPORAL_LEVELS; i++) t->octets[i] = 0;
    t->since_us = now;
}

unsigned sfu_temporal_levels(const sfu_stream *st, int64_t now, uint32_t *bps)
{
    const sfu_stream_temporal *t = &st->temporal;
    if (st->desc.n_layers || st->desc.codec != SFU_CODEC_VP8) return 0;
    unsigned levels = 0;
    for (unsigned i = 0; i < SFU_TEMPORAL_LEVELS; i++)
        if (t->last_rx_us[i] && now - t->last_rx_us[i] < SFU_TEMPORAL_QUIET_US) levels = i + 1;
    if (levels < 2 || !t->bps[0]) return 0; /* one layer, or not measured yet */
    uint32_t sum = 0;
    for (unsigned i = 0; i < levels; i++) bps[i] = sum += t->bps[i];
    return levels;
}

uint8_t sfu_temporal_level_cap(int level, unsigned levels)
{
    return level >= 0 && levels >= 2 && (unsigned)level < levels - 1 ? (uint8_t)level : SFU_TEMPORAL_NONE;
}

void sfu_temporal_cap(sfu_slot *slot, uint8_t alloc_cap)
{
    sfu_slot_layers *l = &slot->layers;
    l->tid_alloc = alloc_cap;
    uint8_t cap = l->max_tid < alloc_cap ? l->max_tid : alloc_cap;
    if (!slot->source || slot->source->desc.n_layers) cap = SFU_TEMPORAL_NONE; /* simulcast: max_tid itself */
    /* the temporal drops count from where forwarding is (simulcast.c tracks it while capped) */
    if (l->tid_cap == SFU_TEMPORAL_NONE && l->tid_now == SFU_TEMPORAL_NONE && cap != SFU_TEMPORAL_NONE)
        l->next_in_seq = (uint16_t)(slot->last_seq + 1 - slot->seq_offset);
    l->tid_cap = cap;
}
