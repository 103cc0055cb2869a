/* The live figures of a room's participants for technicians (dc_meeting_room_figures in
 * meeting.h): what the engine last reported about each one's connections. Read-only. */
#include <jansson.h>

#include "meeting_internal.h"

static json_t *bandwidth_json(const dc_participant *p, int64_t now_ms)
{
    const dc_bandwidth *b = &p->sub_bandwidth;
    if (!p->sub_transport || !b->at_ms) return json_null();
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "transport", (json_int_t)p->sub_transport, "estimate_bps",
                     (json_int_t)b->estimate_bps, "acked_bps", (json_int_t)b->acked_bps, "loss_percent",
                     (json_int_t)b->loss_percent, "age_ms", (json_int_t)(now_ms - b->at_ms));
}

json_t *dc_meeting_room_figures(dc_meeting *m, const char *room_name)
{
    dc_room *room = dc_registry_room(m->reg, room_name, false);
    if (!room) return NULL;
    int64_t now = dc_mt_now_ms();
    json_t *people = json_array();
    for (const dc_participant *p = room->participants; p; p = p->next)
        json_array_append_new(
            people, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", p->id, "name", p->name, "site", p->site,
                              "role", dc_role_name(p->role), "subscribe", bandwidth_json(p, now), "site_budget_kbps",
                              p->sub_budget_bps ? json_integer(dc_site_budgets_for(m->budgets, p->site)) : json_null(),
                              "slots", dc_mt_slots_figures(p)));
    return json_pack("{s:s, s:o}", "room", room->name, "participants", people);
}
