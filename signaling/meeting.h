/* The meeting logic: executes validated requests against the rooms (room.c), the media
 * engine (sfu.h) and the SDP writers (sdp.h), and sends replies and events through the
 * callbacks the server gives it. It never touches sockets, so the WebSocket layer
 * (server.c) stays a thin transport. Single-threaded: call everything from the lws thread. */
#ifndef DC_MEETING_H
#define DC_MEETING_H

#include <stddef.h>

#include "config.h"
#include "frame.h"
#include "link_tally.h"
#include "protocol.h"
#include "room.h"
#include "sfu.h"

/* One WebSocket as the meeting sees it; the server allocates it with its per-connection data. */
struct dc_conn {
    dc_participant *participant; /* NULL until join/resume */
    dc_rate_limiter rate;
    void *server_handle; /* the server's (struct lws *) */
};

typedef struct {
    /* Queues the frame on conn (taking its own reference if it keeps it). */
    void (*send)(void *user, dc_conn *conn, dc_frame *frame);
    /* Closes conn (normal closure) after its queued frames are written. */
    void (*close)(void *user, dc_conn *conn);
    void *user;
} dc_meeting_io;

typedef struct dc_meeting dc_meeting;

typedef struct dc_record dc_record;
/* record: the meeting record to write (record.h), NULL for none; the caller keeps it open
 * until after dc_meeting_free. */
dc_meeting *dc_meeting_new(const dc_config *cfg, sfu *engine, dc_record *record, const dc_meeting_io *io);
/* Frees the bookkeeping; engine objects go with sfu_free, which the caller does after. */
void dc_meeting_free(dc_meeting *m);

void dc_meeting_conn_opened(dc_meeting *m, dc_conn *conn);
/* One complete text message from conn (already checked against the size cap). */
void dc_meeting_handle_text(dc_meeting *m, dc_conn *conn, const char *text, size_t len);
/* Sends an error not tied to a request (e.g. a binary frame). */
void dc_meeting_send_error(dc_meeting *m, dc_conn *conn, dc_error_code code, const char *message);
/* The WebSocket is gone: its participant (if any) waits resume_grace_seconds. */
void dc_meeting_conn_closed(dc_meeting *m, dc_conn *conn);

/* Removes participants whose grace period ended; call a few times a second. */
void dc_meeting_sweep(dc_meeting *m);
/* Drains the engine's events; call when the engine's wake callback fired. */
void dc_meeting_poll_engine(dc_meeting *m);

/* The live transport figures of a room's participants, for technicians (admin_live.c):
 * {"room", "participants": [{"id", "name", "site", "role", "subscribe": {"transport",
 * "estimate_bps", "acked_bps", "loss_percent", "age_ms"} or null, "site_budget_kbps" (or
 * null), "slots": [{"mid", "use", "participant_id", "requested", "layer", "reason"}]}]};
 * NULL if there is no such room. meeting_figures.c. */
json_t *dc_meeting_room_figures(dc_meeting *m, const char *room);

/* For /metrics (metrics.c), from meeting_metrics.c: each room's name, how many are in it
 * and how many of them publish media (fn must not change the meeting); and every link
 * report of the meeting's life, summed (link_tally.h). */
typedef struct {
    const char *room;
    size_t participants, publishers;
} dc_room_count;
void dc_meeting_foreach_room_count(dc_meeting *m, void (*fn)(const dc_room_count *count, void *user), void *user);
const dc_link_tally *dc_meeting_link_tally(const dc_meeting *m);

/* A technician's budget for a site (kbit/s; 0 clears), applied at once to the site's
 * subscribers (meeting_budget.c). False for an empty or too long site name. */
bool dc_meeting_set_site_budget(dc_meeting *m, const char *site, uint32_t kbps);
uint32_t dc_meeting_site_budget(dc_meeting *m, const char *site); /* the site's own */
/* A technician's budget for every site of a tier (a dc_node_kind of room_tree.h: the
 * room joined is a node of that kind), kbit/s, 0 clears; a site's own budget wins. False
 * for an unknown tier. */
bool dc_meeting_set_tier_budget(dc_meeting *m, int tier, uint32_t kbps);
uint32_t dc_meeting_tier_budget(dc_meeting *m, int tier);

/* The room tree (room_tree.h) joins consult: a tree room's display name in the join
 * result, scoped tokens, tree_rooms_only. Borrowed: it must outlive m; NULL = none. */
typedef struct dc_room_tree dc_room_tree;
void dc_meeting_set_room_tree(dc_meeting *m, const dc_room_tree *tree);
/* The tree with each room's live participant count, for technicians (/admin/rooms.json):
 * {"root", "nodes": [{"id", "name", "kind", "parent", "chair", "depth", "participants"}]}
 * in the tree file's order; an empty list without a tree. meeting_tree.c. */
json_t *dc_meeting_tree_json(dc_meeting *m);

#endif
