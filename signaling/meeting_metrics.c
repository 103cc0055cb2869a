/* What /metrics (metrics.c) reads of the meeting: rooms with their head counts, and the
 * summed link reports (dc_meeting_foreach_room_count, dc_meeting_link_tally in meeting.h).
 * Read-only. */
#include "meeting_internal.h"

typedef struct {
    void (*fn)(const dc_room_count *count, void *user);
    void *user;
} room_visit;

static void count_room(dc_room *room, void *user)
{
    const room_visit *v = user;
    dc_room_count c = {.room = room->name, .participants = room->n_participants};
    for (const dc_participant *p = room->participants; p; p = p->next)
        if (p->pub_transport && p->n_tracks) c.publishers++;
    v->fn(&c, v->user);
}

void dc_meeting_foreach_room_count(dc_meeting *m, void (*fn)(const dc_room_count *count, void *user), void *user)
{
    room_visit v = {fn, user};
    dc_registry_foreach_room(m->reg, count_room, &v);
}

const dc_link_tally *dc_meeting_link_tally(const dc_meeting *m) { return &m->links; }
