/* Who is where: rooms, their participants, each participant's published tracks and the
 * slots of its subscribe connection. Pure bookkeeping: nothing here talks to the media
 * engine or the network (meeting.c does), so the rules stay easy to follow. */
#ifndef DC_ROOM_H
#define DC_ROOM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "floor.h"
#include "protocol.h"
#include "roles.h"
#include "sdp.h"
#include "sfu.h"
#include "speaker.h"
#include "token.h"

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
    char label[48]; /* "<participant id>-<mid>" */
    uint8_t audio_level_ext_id;
    bool screen;    /* the publish request named this m-line screen_mid */
    bool gate_open; /* what the engine was told (sfu_stream_set_forwarding) */
    /* simulcast: n_layers rids, lowest first as the publisher lists them; their SSRCs
     * from a=ssrc-group:SIM or 0 (learnt from the rid extension) */
    uint8_t n_layers;
    char rids[SFU_MAX_LAYERS][SFU_RID_MAX];
    uint32_t layer_ssrcs[SFU_MAX_LAYERS];
    uint8_t rid_ext_id, repaired_rid_ext_id;

    uint8_t rtx_pt;    /* RFC 4588 repair stream the answer accepted (video), 0 = none */
    uint32_t rtx_ssrc; /* from a=ssrc-group:FID; 0 = learnt by the engine */
    uint8_t red_pt;    /* RFC 2198 RED around Opus the answer accepted (audio), 0 = none */
} dc_track;

/* What a subscriber's slot is for; the layout is fixed per subscriber (slots.h). */
typedef enum {
    DC_USE_CHAIR_AUDIO = 0,
    DC_USE_CHAIR_VIDEO,
    DC_USE_FLOOR_AUDIO,
    DC_USE_FLOOR_VIDEO,
    DC_USE_SCREEN,
    DC_USE_AUDIO,   /* one of the loudest allowed speakers */
    DC_USE_GALLERY, /* one of the gallery's video tiles */
} dc_slot_use;

typedef struct {
    char mid[8]; /* "0", "1", … in creation order */
    sfu_kind kind;
    dc_slot_use use;
    uint32_t slot_id;  /* engine id */
    uint32_t out_ssrc; /* fixed for the session: the slot is always sendonly */
    /* what the slot shows; source_stream 0 = nothing now */
    uint32_t source_stream;
    sfu_codec source_codec;
    char source_pid[16];
    bool changed; /* source changed since the client was last told (slot_update) */
    /* what the engine has been told */
    bool in_engine;          /* sfu_slot_add done (at the first answer that accepted it) */
    uint8_t accepted_codecs; /* bit per sfu_codec the last answer accepted for this m-line */
    uint32_t pointed_stream; /* last sfu_slot_point target, 0 = none */
    sfu_quality quality;     /* what the client asked for it (set_quality); HIGH until asked */
    uint8_t max_tid;         /* and the VP8 temporal layers (0xff: all) */
    /* what the engine's bandwidth allocator last said (SFU_EV_SLOT_QUALITY; meeting_budget.c) */
    bool alloc_known;
    int8_t alloc_layer;         /* −1 paused */
    uint8_t alloc_layers;       /* the source's layers, 0: one encoding */
    uint8_t alloc_limit;        /* sfu_limit */
    uint8_t alloc_frame_levels; /* a single-layer source's temporal levels (alloc_layer among them), 0: none */
    uint16_t alloc_kbps[3];     /* each layer's (level's) rate as the allocator counts it, 0: none */
} dc_slot;

/* What the engine last said it can send to a transport's peer (SFU_EV_BANDWIDTH). */
typedef struct {
    uint32_t estimate_bps, acked_bps;
    uint8_t loss_percent;
    int64_t at_ms; /* when it said so (monotonic); 0: never */
} dc_bandwidth;

/* The engine's last two link reports of a transport (SFU_EV_LINK): the figures, and the
 * rates between the two. */
typedef struct {
    sfu_link_stats last, before;
    int64_t at_ms, before_ms; /* monotonic; 0: no report */
} dc_link;

typedef struct dc_participant {
    char id[16];
    uint32_t key; /* floor and speaker key: non-zero, grows with joining order */
    char name[DC_NAME_MAX_BYTES + 1];
    /* from the join token */
    char user_id[DC_TOKEN_SUB_MAX_BYTES + 1];
    char site[DC_SITE_MAX_BYTES + 1];
    dc_role role;
    dc_grants grants;
    bool muted_by_chair[2]; /* by sfu_kind: the gate stays closed until the chair lifts it */
    int gallery;            /* gallery video slots asked for */
    int64_t attendance_id;  /* the meeting record's row */
    dc_chat_limiter chat;
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
    uint8_t pub_twcc_ext_id; /* transport-wide-cc as the publish answer accepted it, 0: not */
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
    size_t n_offered_slots; /* slots the last subscribe offer carried */
    dc_bandwidth sub_bandwidth;
    dc_link pub_link, sub_link;
    uint32_t sub_budget_bps; /* the site budget's share the engine was told (0: none) */

    struct dc_participant *next; /* in room */
} dc_participant;

struct dc_room {
    char name[DC_ROOM_MAX_BYTES + 1];
    uint32_t room_id; /* engine id */
    dc_participant *participants;
    size_t n_participants;

    /* the meeting held in it */
    int64_t meeting_id; /* the record's id */
    dc_floor floor;
    bool locked, floor_may_share;
    dc_participant *screen_sharer; /* NULL = nobody shares */
    dc_speaker_detector *speakers;
    uint32_t dominant;   /* key of the dominant speaker last announced, 0 = none */
    bool ranking_dirty;  /* speaking activity changed since the slots were last chosen */
    bool speech_sampled; /* audio levels arrived in this engine poll */
    int64_t ranking_applied_ms;
    GHashTable *removed_users; /* token sub → 1: removed by the chair, may not rejoin */
};

typedef struct dc_registry dc_registry;

dc_registry *dc_registry_new(void);
/* Frees every room and participant. Engine objects are the caller's business. */
void dc_registry_free(dc_registry *reg);

/* A fresh engine id (transports, streams, slots, rooms share one counter; never 0). */
uint32_t dc_registry_next_id(dc_registry *reg);

dc_room *dc_registry_room(dc_registry *reg, const char *name, bool create);
/* Calls fn for every room; fn must not add or drop rooms. */
void dc_registry_foreach_room(dc_registry *reg, void (*fn)(dc_room *room, void *user), void *user);
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
/* Published stream id → participant (audio level events come by stream). */
void dc_registry_index_stream(dc_registry *reg, uint32_t stream_id, dc_participant *p);
void dc_registry_unindex_stream(dc_registry *reg, uint32_t stream_id);
dc_participant *dc_registry_by_stream(dc_registry *reg, uint32_t stream_id);
dc_participant *dc_room_participant(const dc_room *room, const char *participant_id);
/* The presiding chair: the earliest-joined participant with the chair role, NULL if none. */
dc_participant *dc_room_chair(const dc_room *room);
/* The participant's camera (first video track that is not a screen share) / audio / screen track. */
const dc_track *dc_participant_track(const dc_participant *p, sfu_kind kind, bool screen);

/* Sweeps collect first and act after, so that acting may unlink participants safely. */
typedef bool (*dc_participant_pred)(const dc_participant *p, void *user);
/* Fills a malloc'd array with the participants matching pred; *n gets the count. */
dc_participant **dc_registry_collect(dc_registry *reg, dc_participant_pred pred, void *user, size_t *n);

const dc_track *dc_room_find_stream(const dc_room *room, uint32_t stream_id, const dc_participant **owner);


#endif
