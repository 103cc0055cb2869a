/* Slot layout and source choice (see slots.h). */
#include "slots.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const char *const use_names[] = {
    [DC_USE_CHAIR_AUDIO] = "chair_audio", [DC_USE_CHAIR_VIDEO] = "chair_video", [DC_USE_FLOOR_AUDIO] = "floor_audio",
    [DC_USE_FLOOR_VIDEO] = "floor_video", [DC_USE_SCREEN] = "screen",           [DC_USE_AUDIO] = "audio",
    [DC_USE_GALLERY] = "gallery",
};

const char *dc_slot_use_name(dc_slot_use use) { return use_names[use]; }

/* A non-zero SSRC not yet used by another slot of this subscriber. */
static uint32_t fresh_ssrc(const dc_participant *p)
{
    for (;;) {
        uint32_t ssrc = g_random_int();
        bool used = ssrc == 0;
        for (size_t i = 0; i < p->n_slots && !used; i++) used = p->slots[i].out_ssrc == ssrc;
        if (!used) return ssrc;
    }
}

static void add_slot(dc_registry *reg, dc_participant *p, dc_slot_use use)
{
    dc_slot *slot = &p->slots[p->n_slots];
    memset(slot, 0, sizeof *slot);
    snprintf(slot->mid, sizeof slot->mid, "%zu", p->n_slots);
    slot->use = use;
    slot->kind = use == DC_USE_CHAIR_AUDIO || use == DC_USE_FLOOR_AUDIO || use == DC_USE_AUDIO ? SFU_KIND_AUDIO
                                                                                               : SFU_KIND_VIDEO;
    slot->slot_id = dc_registry_next_id(reg);
    slot->out_ssrc = fresh_ssrc(p);
    slot->quality = SFU_QUALITY_HIGH;
    slot->max_tid = 0xff;
    p->n_slots++;
}

static size_t gallery_slots(const dc_participant *p)
{
    return p->n_slots > DC_FIXED_SLOTS ? p->n_slots - DC_FIXED_SLOTS : 0;
}

bool dc_slots_layout(dc_registry *reg, dc_participant *p)
{
    size_t before = p->n_slots;
    if (p->n_slots == 0) {
        static const dc_slot_use program[DC_PROGRAM_SLOTS] = {DC_USE_CHAIR_AUDIO, DC_USE_CHAIR_VIDEO,
                                                              DC_USE_FLOOR_AUDIO, DC_USE_FLOOR_VIDEO, DC_USE_SCREEN};
        for (size_t i = 0; i < DC_PROGRAM_SLOTS; i++) add_slot(reg, p, program[i]);
        for (size_t i = 0; i < DC_LOUDEST_AUDIO_SLOTS; i++) add_slot(reg, p, DC_USE_AUDIO);
    }
    while (gallery_slots(p) < (size_t)p->gallery && p->n_slots < DC_MAX_SLOTS) add_slot(reg, p, DC_USE_GALLERY);
    return p->n_slots != before;
}

/* ---- choosing sources ---------------------------------------------------------------- */

static bool show(dc_slot *slot, const dc_participant *owner, const dc_track *track)
{
    uint32_t stream = owner && track ? track->stream_id : 0;
    if (slot->source_stream == stream) return false;
    slot->source_stream = stream;
    slot->source_codec = stream ? track->codec : 0;
    snprintf(slot->source_pid, sizeof slot->source_pid, "%s", stream ? owner->id : "");
    slot->changed = true;
    return true;
}

static const dc_participant *unless_self(const dc_participant *who, const dc_participant *self)
{
    return who == self ? NULL : who;
}

static const dc_track *camera(const dc_participant *p, sfu_kind kind)
{
    return p ? dc_participant_track(p, kind, false) : NULL;
}

/* Who may take a rotating slot (loudest audio, gallery): not the subscriber, not the chair
 * or the floor holder (they have their program slots), with a track the engine forwards. */
static const dc_track *rotating_track(const dc_slot_context *ctx, const dc_participant *self, const dc_participant *o,
                                      sfu_kind kind)
{
    if (o == self || o == ctx->chair || o == ctx->floor_holder) return NULL;
    const dc_track *t = camera(o, kind);
    return t && t->gate_open ? t : NULL;
}

/* Fills the subscriber's slots of one rotating use with the first `want` qualifying
 * participants in ranked order; a slot keeps its participant while it stays among them. */
static bool assign_rotating(const dc_slot_context *ctx, dc_participant *s, dc_slot_use use, size_t want)
{
    sfu_kind kind = use == DC_USE_AUDIO ? SFU_KIND_AUDIO : SFU_KIND_VIDEO;
    const dc_participant *chosen[DC_MAX_SLOTS];
    const dc_track *tracks[DC_MAX_SLOTS];
    bool placed[DC_MAX_SLOTS] = {false};
    size_t n = 0;
    for (size_t i = 0; i < ctx->n_ranked && n < want; i++) {
        const dc_track *t = rotating_track(ctx, s, ctx->ranked[i], kind);
        if (t) chosen[n] = ctx->ranked[i], tracks[n++] = t;
    }
    bool changed = false;
    dc_slot *free_slots[DC_MAX_SLOTS];
    size_t n_free = 0, seen = 0;
    for (size_t i = 0; i < s->n_slots; i++) {
        dc_slot *slot = &s->slots[i];
        if (slot->use != use) continue;
        if (seen++ >= want) { /* beyond the size asked for */
            changed |= show(slot, NULL, NULL);
            continue;
        }
        bool keep = false;
        for (size_t c = 0; c < n && !keep; c++) {
            if (!placed[c] && slot->source_stream == tracks[c]->stream_id) keep = placed[c] = true;
        }
        if (!keep) free_slots[n_free++] = slot;
    }
    size_t next = 0;
    for (size_t f = 0; f < n_free; f++) {
        while (next < n && placed[next]) next++;
        if (next < n) {
            changed |= show(free_slots[f], chosen[next], tracks[next]);
            placed[next++] = true;
        } else {
            changed |= show(free_slots[f], NULL, NULL);
        }
    }
    return changed;
}

bool dc_slots_assign(const dc_slot_context *ctx, dc_participant *s)
{
    const dc_participant *chair = unless_self(ctx->chair, s);
    const dc_participant *holder = ctx->floor_holder == ctx->chair ? NULL : unless_self(ctx->floor_holder, s);
    const dc_participant *sharer = unless_self(ctx->screen_sharer, s);
    bool changed = false;
    for (size_t i = 0; i < s->n_slots; i++) {
        dc_slot *slot = &s->slots[i];
        switch (slot->use) {
        case DC_USE_CHAIR_AUDIO: changed |= show(slot, chair, camera(chair, SFU_KIND_AUDIO)); break;
        case DC_USE_CHAIR_VIDEO: changed |= show(slot, chair, camera(chair, SFU_KIND_VIDEO)); break;
        case DC_USE_FLOOR_AUDIO: changed |= show(slot, holder, camera(holder, SFU_KIND_AUDIO)); break;
        case DC_USE_FLOOR_VIDEO: changed |= show(slot, holder, camera(holder, SFU_KIND_VIDEO)); break;
        case DC_USE_SCREEN:
            changed |= show(slot, sharer, sharer ? dc_participant_track(sharer, SFU_KIND_VIDEO, true) : NULL);
            break;
        case DC_USE_AUDIO:
        case DC_USE_GALLERY: break;
        }
    }
    changed |= assign_rotating(ctx, s, DC_USE_AUDIO, DC_LOUDEST_AUDIO_SLOTS);
    changed |= assign_rotating(ctx, s, DC_USE_GALLERY, (size_t)s->gallery);
    return changed;
}
