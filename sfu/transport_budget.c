/* The allocator applied to subscriber transports (transport_budget.h). */
#include "transport_budget.h"

#include <string.h>

#include "bwe/bwe.h"
#include "output.h"
#include "simulcast.h"
#include "temporal.h"

_Static_assert((int)SFU_LIMIT_BANDWIDTH == (int)SFU_ALLOC_WHY_BANDWIDTH &&
                   (int)SFU_LIMIT_BUDGET == (int)SFU_ALLOC_WHY_BUDGET,
               "the public limit names the allocator's reasons");
_Static_assert(SFU_MAX_LAYERS <= SFU_ALLOC_MAX_LAYERS, "the allocator takes every layer");
_Static_assert(sizeof((sfu_event){0}.slot_kbps) / sizeof(uint16_t) == SFU_ALLOC_MAX_LAYERS, "a rate per layer");

/* Until a layer has been measured (its first second), what such a layer usually takes:
 * 150 k / 500 k / 1.5 Mbit/s for three layers (the top one for a single encoding), and an
 * Opus voice's ~40 kbit/s. */
static uint32_t guessed_bps(const sfu_stream *st, unsigned layer)
{
    static const uint32_t video[SFU_MAX_LAYERS] = {150000, 500000, 1500000};
    if (st->desc.kind == SFU_KIND_AUDIO) return 40000;
    unsigned n = st->desc.n_layers ? st->desc.n_layers : 1;
    return video[SFU_MAX_LAYERS - n + layer];
}

static uint32_t layer_bps(const sfu_stream *st, unsigned layer)
{
    return st->layers[layer].bps ? st->layers[layer].bps : guessed_bps(st, layer);
}

/* A single-layer VP8 source's temporal levels as the slot's layers: up to its max_tid. */
static unsigned temporal_input(const sfu_slot *slot, int64_t now, sfu_alloc_slot_in *in)
{
    uint32_t bps[SFU_TEMPORAL_LEVELS];
    unsigned levels = sfu_temporal_levels(slot->source, now, bps);
    if (!levels) return 0;
    unsigned want = levels - 1 < slot->layers.max_tid ? levels - 1 : slot->layers.max_tid;
    in->want = (int8_t)want;
    in->usable = (uint8_t)((2u << want) - 1);
    for (unsigned i = 0; i < levels; i++) in->bps[i] = bps[i];
    return levels;
}

/* The slot as the allocator sees it: what it asks for among what arrives (*levels: the
 * temporal levels it is given as layers, 0: none). */
static sfu_alloc_slot_in slot_input(const sfu_slot *slot, int64_t now, unsigned *levels)
{
    const sfu_stream *st = slot->source;
    sfu_alloc_slot_in in = {.audio = slot->kind == SFU_KIND_AUDIO, .priority = slot->priority, .want = -1};
    *levels = 0;
    if (!st || st->desc.blocked || slot->layers.quality == SFU_QUALITY_OFF) return in;
    if (!st->desc.n_layers) {
        in.single_layer = !in.audio;
        in.want = 0;
        in.usable = 1;
        in.bps[0] = layer_bps(st, 0);
        if (!in.audio) *levels = temporal_input(slot, now, &in);
        return in;
    }
    unsigned active = 0;
    for (unsigned i = 0; i < st->desc.n_layers; i++) {
        const sfu_stream_layer *ly = &st->layers[i];
        if (ly->last_rx_us && now - ly->last_rx_us < SFU_LAYER_QUIET_US) active |= 1u << i;
        in.bps[i] = layer_bps(st, i);
    }
    in.want = (int8_t)sfu_simulcast_choose_layer(slot->layers.quality, st->desc.n_layers, active, UINT32_MAX, NULL);
    if (in.want < 0) return in;
    in.usable = (uint8_t)((active ? active : 1u << in.want) & ((2u << in.want) - 1));
    return in;
}

/* Less has got through than was sent for this long: the path carries what gets through. */
#define SHORTFALL_US 500000
#define SHORTFALL_SHARE_PERCENT 90

static sfu_alloc_limits limits_of(const sfu_transport *t, int64_t now)
{
    sfu_alloc_limits lim = {.site_bps = t->site_budget_bps};
    if (!t->bwe) return lim;
    sfu_bwe_figures f;
    sfu_bwe_get_figures(t->bwe, &f);
    if (!f.feedbacks) return lim; /* no feedback yet: the estimate is a guess */
    lim.estimate_bps = f.estimate_bps;
    /* The estimator waits for a delay or loss verdict before it cuts (seconds behind a
     * rate limit with a short queue); its shortfall watch (acknowledged well below sent)
     * says sooner that the path is full, and what gets through is then what it carries. */
    bool short_for_a_while = t->bwe->short_since_us && now - t->bwe->short_since_us >= SHORTFALL_US;
    uint32_t carried = (uint32_t)((uint64_t)f.acked_bps * SHORTFALL_SHARE_PERCENT / 100);
    if (short_for_a_while && carried && carried < lim.estimate_bps) lim.estimate_bps = carried;
    lim.may_trial = !short_for_a_while && f.usage != SFU_BWE_OVERUSE && f.loss_percent <= 2;
    return lim;
}

/* What the allocation means for the slot's forwarding. */
static void apply(sfu_slot *slot, int64_t now)
{
    bool paused = slot->kind == SFU_KIND_VIDEO && slot->alloc.started && slot->alloc.level < 0;
    if (slot->layers.paused && !paused) slot->resync = true; /* resumes at a keyframe */
    slot->layers.paused = paused;
    sfu_simulcast_retarget_slot(slot, now);
}

/* The rates the allocator counts the slot's layers at, kbit/s; whether one moved by a
 * fifth (or came or went) since last reported. (Reported on their own only for a source
 * with temporal levels, whose rates the technicians cannot guess from a layer's name;
 * simulcast layers' come with each change of level.) */
static bool rates_moved(const sfu_alloc_slot_in *in, const sfu_slot *slot, uint16_t *kbps)
{
    bool moved = false;
    for (int l = 0; l < SFU_ALLOC_MAX_LAYERS; l++) {
        uint32_t k = l <= in->want && (in->usable & 1u << l) ? (in->bps[l] + 500) / 1000 : 0;
        kbps[l] = (uint16_t)(k < UINT16_MAX ? k : UINT16_MAX);
        uint32_t was = slot->reported_kbps[l];
        moved |= (kbps[l] == 0) != (was == 0) || kbps[l] * 5u > was * 6u || kbps[l] * 5u < was * 4u;
    }
    return moved;
}

static sfu_event slot_event(const sfu_slot *slot, unsigned levels)
{
    return (sfu_event){.type = SFU_EV_SLOT_QUALITY,
                       .id = slot->transport->id,
                       .slot_id = slot->id,
                       .slot_layer = slot->alloc.started ? slot->alloc.level : -1,
                       .slot_layers = slot->source ? slot->source->desc.n_layers : 0,
                       .slot_limit = slot->alloc.why,
                       .slot_frame_levels = (uint8_t)levels,
                       .slot_kbps = {slot->reported_kbps[0], slot->reported_kbps[1], slot->reported_kbps[2]}};
}

void sfu_budget_transport(sfu_transport *t, int64_t now)
{
    size_t n = t->slots->len < SFU_ALLOC_MAX_SLOTS ? t->slots->len : SFU_ALLOC_MAX_SLOTS;
    if (!n) return;
    sfu_alloc_slot_in in[SFU_ALLOC_MAX_SLOTS];
    sfu_alloc_slot st[SFU_ALLOC_MAX_SLOTS];
    unsigned levels[SFU_ALLOC_MAX_SLOTS];
    for (size_t i = 0; i < n; i++) {
        sfu_slot *slot = g_ptr_array_index(t->slots, i);
        in[i] = slot_input(slot, now, &levels[i]);
        st[i] = slot->alloc;
        /* levels appearing (or gone) are other layers: placed afresh, not held at the old one */
        if (levels[i] != slot->layers.frame_levels) st[i] = (sfu_alloc_slot){0};
        slot->layers.frame_levels = (uint8_t)levels[i];
    }
    sfu_alloc_limits lim = limits_of(t, now);
    for (size_t i = 0; i < n && !lim.switching; i++) {
        const sfu_slot *slot = g_ptr_array_index(t->slots, i);
        lim.switching = slot->source && slot->source->desc.n_layers && slot->layers.target >= 0 &&
                        slot->layers.current != slot->layers.target;
    }
    bool any = sfu_allocate(&lim, &t->alloc, in, st, n, now);
    sfu_event evs[SFU_ALLOC_MAX_SLOTS];
    size_t n_evs = 0;
    for (size_t i = 0; i < n; i++) {
        sfu_slot *slot = g_ptr_array_index(t->slots, i);
        bool changed = st[i].level != slot->alloc.level || st[i].why != slot->alloc.why ||
                       st[i].started != slot->alloc.started;
        slot->alloc = st[i]; /* (the hold's clock too, changed or not) */
        /* every round: the source's levels come and go without the level changing */
        uint8_t cap = slot->alloc.started ? sfu_temporal_level_cap(slot->alloc.level, levels[i]) : SFU_TEMPORAL_NONE;
        if (slot->layers.tid_alloc != cap) sfu_temporal_cap(slot, cap);
        if (any && changed) apply(slot, now);
        if (slot->kind != SFU_KIND_VIDEO || !slot->alloc.started) continue;
        uint16_t kbps[SFU_ALLOC_MAX_LAYERS];
        bool moved = rates_moved(&in[i], slot, kbps) && levels[i];
        if (!(any && changed) && !moved) continue;
        memcpy(slot->reported_kbps, kbps, sizeof kbps);
        evs[n_evs++] = slot_event(slot, levels[i]);
    }
    if (n_evs) sfu_out_readings(t->core, evs, n_evs);
}

void sfu_budget_tick(sfu_core *c, int64_t now)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_transport *t = value;
        if (t->slots->len) sfu_budget_transport(t, now);
    }
}
