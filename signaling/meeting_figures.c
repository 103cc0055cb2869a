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

static json_int_t per_second(uint64_t now, uint64_t before, int64_t ms)
{
    return ms > 0 && now >= before ? (json_int_t)((now - before) * 1000 / (uint64_t)ms) : 0;
}

/* A transport's link (SFU_EV_LINK), or null before its first report. The rates are over
 * the last two reports (SFU_LINK_INTERVAL_MS apart); loss_percent is what the last
 * receiver report said (ours of the publisher, the subscriber's of us). */
static json_t *link_json(uint32_t transport, const dc_link *l, int64_t now_ms)
{
    if (!transport || !l->at_ms) return json_null();
    const sfu_link_stats *s = &l->last, *b = &l->before;
    int64_t ms = l->before_ms ? l->at_ms - l->before_ms : 0;
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "transport", (json_int_t)transport, "in_bps",
                          per_second(s->octets_in * 8, b->octets_in * 8, ms), "out_bps",
                          per_second(s->octets_out * 8, b->octets_out * 8, ms), "packets_in", (json_int_t)s->packets_in,
                          "packets_out", (json_int_t)s->packets_out, "loss_percent",
                          (json_int_t)((s->fraction_lost * 100 + 128) / 256), "age_ms",
                          (json_int_t)(now_ms - l->at_ms));
    json_object_set_new(o, "rtt_ms", s->rtt_us ? json_integer(s->rtt_us / 1000) : json_null());
    json_object_set_new(o, "jitter_ms", json_real((double)s->jitter_us / 1000.0));
    json_object_set_new(o, "lost", json_integer((json_int_t)s->lost));
    json_object_set_new(o, "nacks_sent", json_integer((json_int_t)s->nacks_sent));
    json_object_set_new(o, "rtx_received", json_integer((json_int_t)s->rtx_received));
    json_object_set_new(o, "nacks_received", json_integer((json_int_t)s->nacks_received));
    json_object_set_new(o, "rtx_sent", json_integer((json_int_t)s->rtx_sent));
    json_object_set_new(o, "rtx_missed", json_integer((json_int_t)s->rtx_missed));
    return o;
}

json_t *dc_meeting_room_figures(dc_meeting *m, const char *room_name)
{
    dc_room *room = dc_registry_room(m->reg, room_name, false);
    if (!room) return NULL;
    int64_t now = dc_mt_now_ms();
    json_t *people = json_array();
    for (const dc_participant *p = room->participants; p; p = p->next)
        json_array_append_new(people, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", p->id, "name",
                                                p->name, "site", p->site, "role", dc_role_name(p->role), "subscribe",
                                                bandwidth_json(p, now), "publish_link",
                                                link_json(p->pub_transport, &p->pub_link, now), "subscribe_link",
                                                link_json(p->sub_transport, &p->sub_link, now), "site_budget_kbps",
                                                p->sub_budget_bps ? json_integer(dc_mt_budget_kbps(m, p)) : json_null(),
                                                "slots", dc_mt_slots_figures(p)));
    return json_pack("{s:s, s:o}", "room", room->name, "participants", people);
}
