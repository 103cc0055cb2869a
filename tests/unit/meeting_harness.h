/* A room of test clients around the meeting logic (signaling/meeting.c), without sockets
 * or sleeps: requests go in through dc_meeting_handle_text, replies and events come out
 * through the dc_meeting_io callbacks into each client's inbox, and the media engine is
 * the fake of fake_sfu.c (linked instead of libsfu). Time is a fake clock: meeting.c reads
 * it through g_get_monotonic_time, which meeting_harness.c defines in glib's place.
 * The clients write their SDP the way a browser would, from PROTOCOL.md alone.
 * Used by tests/unit/test_meeting.c and tests/fuzz/fuzz_meeting.c. */
#ifndef MEETING_HARNESS_H
#define MEETING_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_sfu.h"
#include "meeting.h"
#include "sdp.h"

/* An expectation of the harness itself (a reply that never came, an offer that does not
 * parse): reported through mh_on_failure if set (a test counts it), else abort(). */
#define MH_EXPECT(cond) ((cond) ? (void)0 : mh_failed(__FILE__, __LINE__, #cond))
extern void (*mh_on_failure)(const char *file, int line, const char *expr);
void mh_failed(const char *file, int line, const char *expr);

#define MAX_INBOX 256
#define CLIENT_FINGERPRINT \
    "sha-256 44:2B:BC:5C:33:02:7C:CF:EB:4C:29:95:5A:10:6B:D7:BA:EE:34:1A:F4:A1:1B:BC:4E:2E:C7:01:0E:68:E9:2C"

typedef struct {
    dc_conn conn;
    const char *name;
    const char *role;         /* the role its join token names; NULL = "official" */
    const char *site;         /* the site its join token names; NULL = none */
    json_t *slots;            /* mid → the slot as the offers and slot_updates received so far say */
    json_t *inbox[MAX_INBOX]; /* unread messages, oldest first */
    size_t n_inbox;
    bool closed; /* the meeting asked the server to close the WebSocket */
    int next_id;
    char pid[16];
    char resume_token[DC_RESUME_TOKEN_MAX_BYTES + 1];
    uint32_t pub_transport; /* engine ids learnt from the fake's call log */
    uint32_t sub_transport;
    dc_sdp *offer; /* the last subscribe offer answered */
    json_t *offer_msg;
} client;

extern dc_config cfg;
extern sfu *engine;
extern dc_meeting *meeting;

/* ---- the meeting and its clock ---- */
void advance_seconds(int seconds);
void advance_ms(int ms);
/* A meeting with the default configuration, room size limited to max_room_size if not 0. */
void meeting_start_sized(int max_room_size);
void meeting_start(void);
/* Ends the meeting; the fake engine must not have seen a call the real one would mishandle. */
void meeting_end(client *clients[], size_t n);

/* ---- clients and their inboxes ---- */
void client_open(client *c, const char *name); /* a new WebSocket */
void client_open_as(client *c, const char *name, const char *role);
void client_drop_inbox(client *c);
void client_free(client *c);
const char *type_of(const json_t *msg);
/* The oldest unread message of that type, removed from the inbox; NULL if none. */
json_t *take(client *c, const char *type);
size_t count_unread(const client *c, const char *type);
/* Index in the inbox of the first unread message of that type, or MAX_INBOX. */
size_t position(const client *c, const char *type);
void send_json(client *c, json_t *msg); /* consumes msg */
/* Sends req with a fresh id and returns its reply (ok or error), taken from the inbox. */
json_t *request(client *c, json_t *req);
bool is_ok(const json_t *reply);
bool is_error(const json_t *reply, const char *code);
void request_ok(client *c, json_t *req);

/* ---- SDP as a browser writes it ---- */
/* sendonly Opus (mid 0) and VP8 (mid 1), SSRCs given, the mid extension offered; g_free() it. */
char *publish_offer(const char *ufrag, const char *setup, uint32_t audio_ssrc, uint32_t video_ssrc);
char *publish_offer_with_screen(const char *ufrag, const char *setup, uint32_t audio_ssrc, uint32_t video_ssrc,
                                uint32_t screen_ssrc);
/* Accepts every m-line of a subscribe offer with all its codecs; g_free() it. */
char *subscribe_answer_sdp(const dc_sdp *offer, const char *ufrag);
dc_sdp *parse_sdp(const char *text); /* free() it */
const dc_sdp_media *media_by_mid(const dc_sdp *sdp, const char *mid);

/* ---- the engine's view, from the fake's call log ---- */
uint32_t transport_with_ufrag(size_t from, const char *server_ufrag);
uint32_t stream_of(const client *c, sfu_kind kind);
uint32_t slot_of(const client *c, const char *mid);

/* ---- what a client does ---- */
/* A join token for the client (its name as sub and name, its role) from the meeting's secret. */
char *token_for(const client *c, const char *room, int64_t ttl_seconds); /* free() it */
json_t *join(client *c, const char *room);
void join_ok(client *c, const char *room);
dc_sdp *publish(client *c, const char *ufrag); /* the server's parsed answer; free() it */
void publish_ok(client *c);
/* Publishes camera and (with_screen) a screen m-line named by screen_mid "2"; the reply. */
json_t *publish_screen(client *c, bool with_screen);
/* Answers the one subscribe offer waiting in the inbox; the offer is kept in c->offer. */
json_t *answer_offer_with(client *c, const char *ufrag);
void answer_offer(client *c);
const json_t *offered_slot(const client *c, const char *mid);
const char *mid_showing(const client *c, const client *source, const char *kind);
/* The participant id a slot shows now ("" = nothing), from the offers and slot_updates. */
const char *slot_shows(const client *c, const char *mid);
/* How many of c's slots of that kind show someone now. */
size_t slots_showing(const client *c, const char *kind);
/* True if viewer's engine slot for source's track of that kind forwards source's stream. */
bool sees(const client *viewer, const client *source, sfu_kind kind);
bool sees_both(const client *viewer, const client *source);
/* c joins, answers its offer and publishes. */
void enter_and_publish(client *c, const char *room, client *others[], size_t n_others);
void room_of_two(client *a, client *b);
void room_of_three(client *a, client *b, client *c);

#endif
