/* Who is where: rooms, their participants, each participant's published tracks and the
 * slots of its subscribe connection. Pure bookkeeping: nothing here talks to the media
 * engine or the network (meeting.c does), so the rules stay easy to follow. */
#ifndef DC_ROOM_H
#define DC_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "sdp.h"
#include "sfu.h"

#define DC_MAX_TRACKS 4               /* accepted m-lines per publish offer; more are rejected */
#define DC_MAX_SLOTS DC_SDP_MAX_MEDIA /* m-lines per subscribe connection (what sdp.c can parse back) */
#define DC_UFRAG_LEN 16
#define DC_PWD_LEN 24
#define DC_RESUME_TOKEN_LEN 32

typedef struct dc_room dc_room;
typedef struct dc_conn dc_conn; /* the server's per-WebSocket data; opaque here */

typedef struct {
    uint32_t stream_id; /* engine id */
    sfu_kind kind;
    sfu_codec codec;
    uint8_t pt;
    uint32_t ssrc; /* 0 = learnt by the engine from the mid extension */
    uint8_t mid_ext_id;
    char mid[32];   /* the publisher's m-line mid */
    char label[48]; /* "<participant id>-<mid>": the msid track id subscribers see */
} dc_track;

typedef struct {
    char mid[8]; /* "0", "1", … in creation order */
    sfu_kind kind;
    uint32_t slot_id;  /* engine id */
    uint32_t out_ssrc; /* fixed while the slot shows one source; new for the next */
    /* what the slot shows; source_stream 0 = inactive */
    uint32_t source_stream;
    sfu_codec source_codec;
    char source_pid[16];
    char source_label[48];
    uint32_t offered_stream; /* source_stream when the last subscribe offer was sent */
    /* what the engine has been told */
    bool in_engine;          /* sfu_slot_add done */
    uint32_t engine_ssrc;    /* the out_ssrc the engine slot was added with */
    uint32_t pointed_stream; /* last sfu_slot_point target, 0 = none */
} dc_slot;

typedef struct dc_participant {
    char id[16];
    char name[DC_NAME_MAX_BYTES + 1];
    char resume_token[DC_RESUME_TOKEN_LEN + 1];
    dc_room *room;
    dc_conn *conn;             /* NULL while the WebSocket is gone (resume grace) */
    int64_t grace_deadline_ms; /* meaningful while conn == NULL */
    bool muted[2];             /* by sfu_kind */
    uint64_t sdp_session_id;

    /* publish connection */
    uint32_t pub_transport; /* 0 until the first publish */
    char pub_ufrag[DC_UFRAG_LEN + 1], pub_pwd[DC_PWD_LEN + 1];
    char pub_peer_ufrag[64], pub_peer_fingerprint[160];
    uint32_t pub_answer_version;
    dc_track tracks[DC_MAX_TRACKS];
    size_t n_tracks;

    /* subscribe connection */
    uint32_t sub_transport;   /* id chosen with the first offer */
    bool sub_transport_added; /* sfu_transport_add done (first offer); the peer is set at the answer */
    char sub_ufrag[DC_UFRAG_LEN + 1], sub_pwd[DC_PWD_LEN + 1];
    char sub_peer_ufrag[64], sub_peer_fingerprint[160];
    int64_t sub_version; /* last offer sent, 0 = none */
    int64_t sub_answered_version;
    bool sub_offer_wanted; /* changed while an offer was unanswered: offer again after */
    dc_slot slots[DC_MAX_SLOTS];
    size_t n_slots;

    struct dc_participant *next; /* in room */
} dc_participant;

struct dc_room {
    char name[DC_ROOM_MAX_BYTES + 1];
    uint32_t room_id; /* engine id */
    dc_participant *participants;
    size_t n_participants;
};

typedef struct dc_registry dc_registry;

dc_registry *dc_registry_new(void);
/* Frees every room and participant. Engine objects are the caller's business. */
void dc_registry_free(dc_registry *reg);

/* A fresh engine id (transports, streams, slots, rooms share one counter; never 0). */
uint32_t dc_registry_next_id(dc_registry *reg);

dc_room *dc_registry_room(dc_registry *reg, const char *name, bool create);
/* Frees the room if nobody is in it. */
void dc_registry_drop_room_if_empty(dc_registry *reg, dc_room *room);

/* Adds a participant with a new id, resume token and ICE credentials for both connections. */
dc_participant *dc_participant_add(dc_registry *reg, dc_room *room, const char *name);
/* Takes it out of its room and every index (the room may now be empty); then free() it. */
void dc_participant_unlink(dc_registry *reg, dc_participant *p);

dc_participant *dc_registry_by_resume_token(dc_registry *reg, const char *token);
/* Transport id → participant; *pc says which of its connections. */
void dc_registry_index_transport(dc_registry *reg, uint32_t transport_id, dc_participant *p);
void dc_registry_unindex_transport(dc_registry *reg, uint32_t transport_id);
dc_participant *dc_registry_by_transport(dc_registry *reg, uint32_t transport_id, dc_pc *pc);

/* Sweeps collect first and act after, so that acting may unlink participants safely. */
typedef bool (*dc_participant_pred)(const dc_participant *p, void *user);
/* Fills a malloc'd array with the participants matching pred; *n gets the count. */
dc_participant **dc_registry_collect(dc_registry *reg, dc_participant_pred pred, void *user, size_t *n);

const dc_track *dc_room_find_stream(const dc_room *room, uint32_t stream_id, const dc_participant **owner);

/* Brings subscriber's slots in line with the room: a slot whose source track is gone
 * becomes inactive, and every track of the others that no slot shows gets one (an
 * inactive slot of its kind, else a new slot while there are fewer than DC_MAX_SLOTS).
 * Returns true if any slot changed (a new subscribe offer is due). */
bool dc_slots_reconcile(dc_registry *reg, dc_participant *subscriber);

#endif
