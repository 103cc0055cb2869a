/* What meeting.c (joining, media, subscriptions) and moderation.c (floor, moderation,
 * chat) share: the meeting's state and the ways to tell the room and the engine. Internal
 * to signaling/. */
#ifndef DC_MEETING_INTERNAL_H
#define DC_MEETING_INTERNAL_H

#include <jansson.h>

#include "bandwidth_policy.h"
#include "link_tally.h"
#include "meeting.h"
#include "record.h"
#include "sdp.h"

struct dc_meeting {
    dc_config cfg;
    sfu *engine;
    dc_meeting_io io;
    dc_record *record; /* NULL: no record kept */
    dc_registry *reg;
    dc_sdp *scratch;         /* parse target (~300 KiB), reused for every SDP */
    GHashTable *ended_rooms; /* room name → end time (ms): joins refused for a while */
    dc_site_budgets *budgets;
    uint8_t priority_rank[DC_PRIO_CLASSES]; /* cfg.slot_priority */
    dc_link_tally links;                    /* every link report, summed (/metrics) */
    const dc_room_tree *tree;               /* borrowed; NULL: no room tree */
};

int64_t dc_mt_now_ms(void);  /* monotonic */
int64_t dc_mt_wall_ms(void); /* wall clock, for the record */

/* Sending: each consumes msg. */
void dc_mt_send(dc_meeting *m, dc_conn *conn, json_t *msg);
void dc_mt_reply_ok(dc_meeting *m, dc_conn *conn, const dc_request *req, json_t *ok);
void dc_mt_reply_error(dc_meeting *m, dc_conn *conn, json_t *id, dc_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void dc_mt_broadcast(dc_meeting *m, dc_room *room, const dc_participant *except, json_t *msg);

json_t *dc_mt_participant_json(const dc_participant *p);
json_t *dc_mt_room_state_json(const dc_room *room);
void dc_mt_broadcast_room_state(dc_meeting *m, dc_room *room);
void dc_mt_broadcast_participant(dc_meeting *m, dc_participant *p);

/* Opens or closes the engine gates of p's streams to match its grants, the floor and the
 * chair's mutes. */
void dc_mt_apply_gates(dc_meeting *m, dc_participant *p);
/* Re-chooses every subscriber's slot sources (roles, floor, screen, speaking activity),
 * re-points the engine and sends slot_update where something changed. */
void dc_mt_refresh_slots(dc_meeting *m, dc_room *room);

/* Takes p out of its room (reason: "left", "timeout", "removed", "ended") and frees it;
 * the room goes too when empty. */
void dc_mt_remove_participant(dc_meeting *m, dc_participant *p, const char *reason);
void dc_mt_record_event(dc_meeting *m, const dc_room *room, const char *kind, const dc_participant *actor,
                        const dc_participant *target, json_t *detail /* consumed, may be NULL */);

/* meeting_budget.c: bandwidth allocation as signaling sees it. */
/* Tells the engine each subscriber's share of its site's (or tier's) budget where it changed (after a
 * join, a leave, a technician's change). */
void dc_mt_apply_budgets(dc_meeting *m);
/* The budget (kbit/s) p's site shares: the site's own, else the tier's of p's room; 0: none. */
uint32_t dc_mt_budget_kbps(const dc_meeting *m, const dc_participant *p);
/* The engine priority of a slot of this use (smaller first). */
uint8_t dc_mt_slot_priority(const dc_meeting *m, dc_slot_use use);
/* SFU_EV_SLOT_QUALITY: kept for the figures, and the subscriber's page is told. */
void dc_mt_on_slot_quality(dc_meeting *m, const sfu_event *ev);
/* Every slot's last slot_quality again, to a page that resumed (it may have missed some). */
void dc_mt_resend_slot_qualities(dc_meeting *m, const dc_participant *p);
/* Per video slot in the engine: what it shows, asks, gets and why (transports.json). */
json_t *dc_mt_slots_figures(const dc_participant *p);

/* meeting_tree.c: the room tree as joins see it. */
/* The join result's "node": {"id", "name", "kind", "parent"} of a tree room, null for an
 * ad-hoc room. */
json_t *dc_mt_node_json(const dc_meeting *m, const char *room);
/* The tier of a room: its node's kind (dc_node_kind), −1 for an ad-hoc room. */
int dc_mt_room_tier(const dc_meeting *m, const char *room);
/* False when config tree_rooms_only refuses room (not a node of the tree). */
bool dc_mt_room_allowed(const dc_meeting *m, const char *room);

/* moderation.c: the floor, moderation and chat requests. */
void dc_moderation_handle(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req);
/* A floor whose time ran out; call from the sweep. */
void dc_moderation_sweep(dc_meeting *m, dc_room *room, int64_t now_ms);
/* The participant is leaving: its hand, floor and screen share go. True if the room's
 * floor or share changed. */
bool dc_moderation_forget(dc_meeting *m, dc_participant *p);

#endif
