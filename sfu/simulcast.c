/* Simulcast layer choice, switching and VP8 renumbering (simulcast.h). */
#include "simulcast.h"

#include <string.h>

#define RATE_INTERVAL_US 1000000

static int quality_layer(sfu_quality q, unsigned n_layers)
{
    switch (q) {
    case SFU_QUALITY_OFF: return -1;
    case SFU_QUALITY_LOW: return 0;
    case SFU_QUALITY_MEDIUM: return (int)(n_layers / 2);
    case SFU_QUALITY_HIGH: break;
    }
    return (int)n_layers - 1;
}

int sfu_simulcast_choose_layer(sfu_quality requested, unsigned n_layers, unsigned active_mask, uint32_t budget_bps,
                               const uint32_t *layer_bps)
{
    if (n_layers == 0) return -1;
    int want = quality_layer(requested, n_layers);
    if (want < 0) return -1;
    active_mask &= (1u << n_layers) - 1;
    if (!active_mask) return want; /* nothing arrives yet: wait for what was asked */
    int layer = want;
    while (layer >= 0 && !(active_mask & 1u << layer)) layer--;
    if (layer < 0) /* only higher layers arrive: the lowest of them */
        for (layer = want + 1; !(active_mask & 1u << layer); layer++) {
        }
    /* the budget steps down through the active layers below */
    while (layer_bps && layer > 0 && layer_bps[layer] > budget_bps) {
        int lower = layer - 1;
        while (lower >= 0 && !(active_mask & 1u << lower)) lower--;
        if (lower < 0) break;
        layer = lower;
    }
    return layer;
}

void sfu_simulcast_slot_init(sfu_slot_layers *l)
{
    *l = (sfu_slot_layers){.quality = SFU_QUALITY_HIGH, .max_tid = 0xff, .current = -1, .target = -1, .wanted = -1};
}

int sfu_simulcast_layer_of(const sfu_stream *st, uint32_t ssrc)
{
    for (unsigned i = 0; i < st->desc.n_layers; i++)
        if (st->desc.layer_ssrcs[i] == ssrc) return (int)i;
    return -1;
}

static bool ext_equals(const uint8_t *buf, const sfu_rtp_header *h, uint8_t id, const char *want)
{
    const uint8_t *val;
    size_t len;
    return sfu_rtp_find_ext(buf, h, id, &val, &len) && len == strlen(want) && memcmp(val, want, len) == 0;
}

int sfu_simulcast_learn(sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h)
{
    const sfu_stream_desc *d = &st->desc;
    if (!d->n_layers || !d->rid_ext_id) return -1;
    const uint8_t *val;
    size_t len;
    /* with mid negotiated, a rid is only this stream's under this stream's mid */
    if (d->mid_ext_id && sfu_rtp_find_ext(buf, h, d->mid_ext_id, &val, &len) &&
        !ext_equals(buf, h, d->mid_ext_id, d->mid))
        return -1;
    for (unsigned i = 0; i < d->n_layers; i++) {
        if (!ext_equals(buf, h, d->rid_ext_id, d->rids[i])) continue;
        st->desc.layer_ssrcs[i] = h->ssrc; /* also a new SSRC for a known rid (a restart) */
        return (int)i;
    }
    return -1;
}

void sfu_simulcast_retarget_slot(sfu_slot *slot, int64_t now)
{
    const sfu_stream *st = slot->source;
    if (!st || !st->desc.n_layers) return;
    unsigned active = 0;
    uint32_t bps[SFU_MAX_LAYERS];
    for (unsigned i = 0; i < st->desc.n_layers; i++) {
        const sfu_stream_layer *ly = &st->layers[i];
        if (ly->last_rx_us && now - ly->last_rx_us < SFU_LAYER_QUIET_US) active |= 1u << i;
        bps[i] = ly->bps;
    }
    int layer = sfu_simulcast_choose_layer(slot->layers.quality, st->desc.n_layers, active, UINT32_MAX, bps);
    /* what the slot would take were every layer arriving: a paused layer it asks for is resumed */
    int wanted = sfu_simulcast_choose_layer(slot->layers.quality, st->desc.n_layers, (1u << st->desc.n_layers) - 1,
                                            UINT32_MAX, NULL);
    /* the bandwidth allocator's cap (transport_budget.c): its level or the active layer below.
     * It does not lower `wanted`: the allocator only chooses among arriving layers, so a
     * layer paused for its cap could never be tried again (a paused layer keeps its rate
     * from before its pause for the allocator: sfu_simulcast_retarget) */
    const sfu_alloc_slot *a = &slot->alloc;
    if (a->started && layer > a->level) {
        int capped = a->level;
        while (capped >= 0 && active && !(active & 1u << capped)) capped--;
        layer = capped;
    }
    slot->layers.target = (int8_t)layer;
    slot->layers.wanted = (int8_t)wanted;
}

bool sfu_simulcast_update_pause(sfu_stream *st, int64_t now)
{
    if (!st->desc.n_layers || st->desc.kind != SFU_KIND_VIDEO) return false;
    unsigned wanted = 0;
    for (guint i = 0; i < st->slots->len; i++) {
        const sfu_slot_layers *l = &((const sfu_slot *)g_ptr_array_index(st->slots, i))->layers;
        if (l->quality == SFU_QUALITY_OFF) continue;
        if (l->target >= 0) wanted |= 1u << l->target;
        if (l->wanted >= 0) wanted |= 1u << l->wanted;
    }
    return sfu_layer_pause_update(&st->pause, st->desc.n_layers, wanted, now);
}

void sfu_simulcast_retarget(sfu_stream *st, int64_t now)
{
    int64_t elapsed = now - st->layers_rate_since_us;
    if (elapsed >= RATE_INTERVAL_US) { /* one encoding: its rate in layers[0] */
        for (unsigned i = 0; i < (st->desc.n_layers ? st->desc.n_layers : 1u); i++) {
            /* a layer paused at the publisher keeps the rate it had: the allocator must not
             * take a silent layer for a free one */
            bool paused = st->desc.n_layers && !(st->pause.active & 1u << i);
            sfu_stream_layer *ly = &st->layers[i];
            if (!(paused && ly->octets == 0)) {
                /* smoothed over a few seconds: one second of a low-rate camera swings by a
                 * half with each keyframe, and the allocator stepped a slot down and up
                 * with it (a floor holder's picture stuttering under a site budget) */
                uint64_t measured = (uint64_t)ly->octets * 8 * 1000000 / (uint64_t)elapsed;
                ly->bps = (uint32_t)(ly->bps ? (2 * (uint64_t)ly->bps + measured) / 3 : measured);
            }
            ly->octets = 0;
        }
        st->layers_rate_since_us = now;
    }
    if (!st->desc.n_layers) return;
    for (guint i = 0; i < st->slots->len; i++) sfu_simulcast_retarget_slot(g_ptr_array_index(st->slots, i), now);
}

static uint16_t pid_mask(const sfu_vp8_descriptor *d) { return d->picture_id_15bit ? SFU_VP8_PICTURE_ID_MASK : 0x7f; }

static bool starts_frame(const sfu_vp8_descriptor *d) { return d->start && d->partition_id == 0; }

/* A packet the temporal cap leaves out: when it is the next in order, the packets after it
 * move down one sequence number (and its frame's picture id is given to the next frame),
 * so the subscriber sees no loss. Out of order, it stays a gap. */
static void drop_temporal(sfu_slot *slot, const sfu_rx_pending *p)
{
    sfu_slot_layers *l = &slot->layers;
    if (p->h.seq == l->next_in_seq) {
        slot->seq_offset--;
        l->next_in_seq++;
    }
    const sfu_vp8_descriptor *d = &p->vp8;
    if (starts_frame(d) && d->has_picture_id && d->picture_id == l->next_in_pid) {
        l->pid_offset--;
        l->next_in_pid = (uint16_t)((d->picture_id + 1) & pid_mask(d));
    }
}

sfu_sc_verdict sfu_simulcast_admit(sfu_slot *slot, const sfu_rx_pending *p)
{
    sfu_slot_layers *l = &slot->layers;
    if (l->quality == SFU_QUALITY_OFF || l->paused) return SFU_SC_DROP;
    if (!slot->source->desc.n_layers) return SFU_SC_FORWARD;
    if (l->target < 0) return SFU_SC_DROP;
    if (p->layer == l->target && (l->current != l->target || slot->resync)) {
        if (!p->keyframe) return SFU_SC_WANT_KEYFRAME;
        l->current = l->target;
        l->next_in_seq = (uint16_t)(p->h.seq + 1);
        return SFU_SC_SWITCH;
    }
    if (slot->resync || p->layer != l->current) return SFU_SC_DROP;
    /* lowered by the bandwidth allocator: the path cannot carry this layer, and what it
     * keeps sending would crowd out the lower layer's keyframe; the picture holds until it */
    if (l->target < l->current && slot->alloc.started && slot->alloc.level < l->current) return SFU_SC_DROP;
    if (p->vp8.has_tid && p->vp8.tid > l->max_tid) {
        drop_temporal(slot, p);
        return SFU_SC_DROP;
    }
    if ((int16_t)(p->h.seq - l->next_in_seq) >= 0) l->next_in_seq = (uint16_t)(p->h.seq + 1);
    return SFU_SC_FORWARD;
}

void sfu_simulcast_rewrite_vp8(sfu_slot_layers *l, uint8_t *payload, const sfu_rx_pending *p, bool rebase)
{
    const sfu_vp8_descriptor *d = &p->vp8;
    if (!d->has_picture_id) return;
    uint16_t mask = pid_mask(d);
    if (rebase) {
        l->pid_offset = l->vp8_sent ? (uint16_t)(l->last_pid + 1 - d->picture_id) : 0;
        l->tl0_offset = l->vp8_sent && d->has_tl0picidx ? (uint8_t)(l->last_tl0 + 1 - d->tl0picidx) : 0;
    }
    uint16_t pid = (uint16_t)((d->picture_id + l->pid_offset) & mask);
    sfu_vp8_set_picture_id(payload, p->h.payload_len, d, pid);
    uint8_t tl0 = (uint8_t)(d->tl0picidx + l->tl0_offset);
    bool has_tl0 = sfu_vp8_set_tl0picidx(payload, p->h.payload_len, d, tl0);
    if (!l->vp8_sent || sfu_vp8_picture_id_diff(l->last_pid, pid, d->picture_id_15bit) > 0) {
        l->last_pid = pid;
        if (has_tl0) l->last_tl0 = tl0;
    }
    l->vp8_sent = true;
    if (starts_frame(d)) l->next_in_pid = (uint16_t)((d->picture_id + 1) & mask);
}
