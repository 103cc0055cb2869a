/* Bandwidth allocation as signaling sees it (meeting_internal.h): site (or tier) budget shares to the
 * engine, slot priorities from what each slot shows, and the allocator's verdicts to the
 * subscriber's page (slot_quality, PROTOCOL.md) and to technicians (transports.json). */
#include <string.h>

#include "meeting_internal.h"
#include "slots.h"

uint8_t dc_mt_slot_priority(const dc_meeting *m, dc_slot_use use)
{
    switch (use) {
    case DC_USE_SCREEN: return m->priority_rank[DC_PRIO_SCREEN];
    case DC_USE_FLOOR_VIDEO: return m->priority_rank[DC_PRIO_FLOOR];
    case DC_USE_CHAIR_VIDEO: return m->priority_rank[DC_PRIO_CHAIR];
    case DC_USE_GALLERY: return m->priority_rank[DC_PRIO_GALLERY];
    case DC_USE_CHAIR_AUDIO:
    case DC_USE_FLOOR_AUDIO:
    case DC_USE_AUDIO: break;
    }
    return 0; /* audio: the allocator serves it first anyway */
}

typedef struct {
    dc_meeting *m;
    GHashTable *counts; /* site → subscribers (the key borrowed from a participant) */
    bool count_only;
} budget_walk;

static bool subscribes(const dc_participant *p) { return p->sub_transport_added && p->site[0]; }

static void budget_room(dc_room *room, void *user)
{
    budget_walk *w = user;
    for (dc_participant *p = room->participants; p; p = p->next) {
        if (!subscribes(p)) continue;
        gpointer n = g_hash_table_lookup(w->counts, p->site);
        if (w->count_only) {
            g_hash_table_replace(w->counts, p->site, GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
            continue;
        }
        uint32_t kbps = dc_mt_budget_kbps(w->m, p);
        uint32_t bps = kbps ? dc_site_budget_share_bps(kbps, GPOINTER_TO_UINT(n)) : 0;
        if (bps == p->sub_budget_bps) continue;
        p->sub_budget_bps = bps;
        sfu_transport_set_budget(w->m->engine, p->sub_transport, room->room_id, bps);
    }
}

void dc_mt_apply_budgets(dc_meeting *m)
{
    budget_walk w = {m, g_hash_table_new(g_str_hash, g_str_equal), true};
    dc_registry_foreach_room(m->reg, budget_room, &w);
    w.count_only = false;
    dc_registry_foreach_room(m->reg, budget_room, &w);
    g_hash_table_destroy(w.counts);
}

uint32_t dc_mt_budget_kbps(const dc_meeting *m, const dc_participant *p)
{
    return dc_site_budgets_for(m->budgets, p->site, dc_mt_room_tier(m, p->room->name));
}

bool dc_meeting_set_site_budget(dc_meeting *m, const char *site, uint32_t kbps)
{
    if (!dc_site_budgets_set(m->budgets, site, kbps)) return false;
    dc_mt_apply_budgets(m);
    return true;
}

uint32_t dc_meeting_site_budget(dc_meeting *m, const char *site) { return dc_site_budgets_own(m->budgets, site); }

bool dc_meeting_set_tier_budget(dc_meeting *m, int tier, uint32_t kbps)
{
    if (!dc_site_budgets_set_tier(m->budgets, tier, kbps)) return false;
    dc_mt_apply_budgets(m);
    return true;
}

uint32_t dc_meeting_tier_budget(dc_meeting *m, int tier) { return dc_site_budgets_tier(m->budgets, tier); }

static const char *quality_name(sfu_quality q)
{
    switch (q) {
    case SFU_QUALITY_OFF: return "off";
    case SFU_QUALITY_LOW: return "low";
    case SFU_QUALITY_MEDIUM: return "medium";
    case SFU_QUALITY_HIGH: break;
    }
    return "high";
}

/* A layer by the name the page knows: of three, low/medium/high; of two, low/high; the
 * one encoding of a single-layer stream is "high". */
static const char *layer_name(int layer, unsigned n_layers)
{
    if (layer < 0) return "off";
    if (n_layers <= 1 || layer >= (int)n_layers - 1) return "high";
    return layer == 0 ? "low" : "medium";
}

static const char *limit_name(uint8_t limit)
{
    return limit == SFU_LIMIT_BANDWIDTH ? "bandwidth" : limit == SFU_LIMIT_BUDGET ? "budget" : NULL;
}

/* "reduced" when the slot gets fewer of its source's temporal layers (frames per second)
 * than it has, "full" otherwise. */
static const char *frame_rate_name(const dc_slot *s)
{
    bool reduced = s->alloc_frame_levels >= 2 && s->alloc_layer >= 0 && s->alloc_layer < s->alloc_frame_levels - 1;
    return reduced ? "reduced" : "full";
}

static json_t *reason_json(const dc_slot *s)
{
    const char *why = limit_name(s->alloc_limit);
    return why ? json_string(why) : json_null();
}

static void send_slot_quality(dc_meeting *m, const dc_participant *p, const dc_slot *s)
{
    dc_mt_send(m, p->conn,
               json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "type", "slot_quality", "mid", s->mid, "layer",
                         layer_name(s->alloc_layer, s->alloc_layers), "requested", quality_name(s->quality), "reason",
                         reason_json(s), "frame_rate", frame_rate_name(s)));
}

void dc_mt_on_slot_quality(dc_meeting *m, const sfu_event *ev)
{
    dc_pc pc;
    dc_participant *p = dc_registry_by_transport(m->reg, ev->id, &pc);
    if (!p || pc != DC_PC_SUBSCRIBE) return;
    dc_slot *s = NULL;
    for (size_t i = 0; i < p->n_slots && !s; i++)
        if (p->slots[i].slot_id == ev->slot_id) s = &p->slots[i];
    if (!s) return;
    /* the rates alone moved: only the technicians' figures change */
    bool told = s->alloc_known && s->alloc_layer == ev->slot_layer && s->alloc_layers == ev->slot_layers &&
                s->alloc_limit == ev->slot_limit && s->alloc_frame_levels == ev->slot_frame_levels;
    s->alloc_known = true;
    s->alloc_layer = ev->slot_layer;
    s->alloc_layers = ev->slot_layers;
    s->alloc_limit = ev->slot_limit;
    s->alloc_frame_levels = ev->slot_frame_levels;
    memcpy(s->alloc_kbps, ev->slot_kbps, sizeof s->alloc_kbps);
    if (told) return;
    send_slot_quality(m, p, s);
}

void dc_mt_resend_slot_qualities(dc_meeting *m, const dc_participant *p)
{
    for (size_t i = 0; i < p->n_slots; i++)
        if (p->slots[i].in_engine && p->slots[i].alloc_known) send_slot_quality(m, p, &p->slots[i]);
}

/* The rates of the layers (temporal levels) the allocator chooses among, lowest first. */
static json_t *rates_json(const dc_slot *s)
{
    json_t *list = json_array();
    for (size_t l = 0; l < sizeof s->alloc_kbps / sizeof s->alloc_kbps[0]; l++)
        if (s->alloc_kbps[l]) json_array_append_new(list, json_integer(s->alloc_kbps[l]));
    return list;
}

json_t *dc_mt_slots_figures(const dc_participant *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < p->n_slots; i++) {
        const dc_slot *s = &p->slots[i];
        if (!s->in_engine || s->kind != SFU_KIND_VIDEO) continue;
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "mid", s->mid, "use", dc_slot_use_name(s->use),
                      "participant_id", s->source_stream ? json_string(s->source_pid) : json_null(), "requested",
                      quality_name(s->quality), "layer",
                      s->alloc_known ? json_string(layer_name(s->alloc_layer, s->alloc_layers)) : json_null(), "reason",
                      reason_json(s), "frame_rate", s->alloc_known ? json_string(frame_rate_name(s)) : json_null(),
                      "rates_kbps", s->alloc_known ? rates_json(s) : json_null()));
    }
    return list;
}
