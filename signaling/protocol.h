/* The wire protocol of signaling/PROTOCOL.md without any I/O: a client's text frame
 * becomes a validated, typed request or a stable error code; replies are built here;
 * message size and per-connection rate limits are enforced with the helpers below. */
#ifndef DC_PROTOCOL_H
#define DC_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu.h"

#define DC_MAX_MESSAGE_BYTES (64 * 1024)
#define DC_ROOM_MAX_CHARS 64 /* Unicode code points, after trimming and NFC */
#define DC_ROOM_MAX_BYTES (DC_ROOM_MAX_CHARS * 4)
#define DC_NAME_MAX_CHARS 64 /* Unicode code points, after trimming */
#define DC_NAME_MAX_BYTES (DC_NAME_MAX_CHARS * 4)
#define DC_REQUEST_ID_MAX_CHARS 64 /* string ids */
#define DC_JOIN_TOKEN_MAX_BYTES 4096
#define DC_RESUME_TOKEN_MAX_BYTES 128
#define DC_CANDIDATE_MAX_BYTES 1024

typedef enum {
    DC_OK = 0,
    DC_ERR_BAD_JSON,
    DC_ERR_TOO_LARGE,
    DC_ERR_BAD_REQUEST,
    DC_ERR_UNKNOWN_TYPE,
    DC_ERR_NOT_JOINED,
    DC_ERR_ALREADY_JOINED,
    DC_ERR_BAD_SDP,
    DC_ERR_STALE_VERSION,
    DC_ERR_ROOM_FULL,
    DC_ERR_UNAUTHORIZED,
    DC_ERR_RESUME_FAILED,
    DC_ERR_RATE_LIMITED,
    DC_ERR_INTERNAL,
    DC_ERR_TOKEN_EXPIRED, /* the join token is expired or not yet valid */
    DC_ERR_WRONG_ROOM,    /* the join token admits to another room */
    DC_ERR_FORBIDDEN,     /* the role's grants do not allow it */
    DC_ERR_ROOM_LOCKED,
    DC_ERR_SHARE_BUSY, /* someone else shares a screen */
    DC_ERR_NOT_FOUND,  /* unknown participant_id */
    DC_ERR_MEETING_ENDED,
    DC_ERR_NO_SUCH_ROOM, /* not a room of the tree, and the config allows no other (tree_rooms_only) */
} dc_error_code;

/* The stable code string ("bad_json" …) sent in error replies. */
const char *dc_error_code_name(dc_error_code code);

typedef enum {
    DC_REQ_JOIN = 1,
    DC_REQ_PUBLISH,
    DC_REQ_SUBSCRIBE_ANSWER,
    DC_REQ_CANDIDATE,
    DC_REQ_MUTE,
    DC_REQ_LEAVE,
    DC_REQ_RESUME,
    DC_REQ_PING,
    /* the province meeting: floor, moderation, chat, layout */
    DC_REQ_RAISE_HAND,
    DC_REQ_LOWER_HAND,
    DC_REQ_GRANT_FLOOR,
    DC_REQ_REVOKE_FLOOR,
    DC_REQ_NEXT_FLOOR,
    DC_REQ_MUTE_PARTICIPANT,
    DC_REQ_MUTE_DELEGATES,
    DC_REQ_REMOVE_PARTICIPANT,
    DC_REQ_LOCK_ROOM,
    DC_REQ_END_MEETING,
    DC_REQ_SET_ROOM_OPTIONS,
    DC_REQ_CHAT,
    DC_REQ_SET_GALLERY,
    DC_REQ_SET_QUALITY,
} dc_request_type;

#define DC_PARTICIPANT_ID_MAX_BYTES 15
#define DC_GALLERY_DEFAULT 9
#define DC_GALLERY_MAX 25
#define DC_FLOOR_MAX_SECONDS (24 * 3600)
#define DC_CHAT_MAX_BYTES (1000 * 4)
#define DC_QUALITY_MAX_ENTRIES 40 /* set_quality: slots in one request (a full layout has 33) */

typedef enum { DC_PC_PUBLISH = 0, DC_PC_SUBSCRIBE = 1 } dc_pc;

typedef struct {
    dc_request_type type;
    json_t *id;   /* the request's id to echo, NULL if it had none (then no "ok" is sent) */
    json_t *root; /* the parsed message; owns the const char * fields below */

    /* join */
    char room[DC_ROOM_MAX_BYTES + 1]; /* trimmed, NFC */
    char name[DC_NAME_MAX_BYTES + 1]; /* trimmed; "" if absent (the token names) */
    const char *token;                /* NULL if absent */
    int gallery;                      /* join, set_gallery: video gallery slots, 0..DC_GALLERY_MAX */
    /* publish, subscribe_answer */
    const char *screen_mid; /* publish: the m-line that carries a screen share, NULL if none */
    const char *sdp;
    size_t sdp_len;
    int64_t version; /* subscribe_answer, >= 1 */
    /* candidate */
    dc_pc pc;
    /* mute */
    sfu_kind kind;
    bool muted;
    /* resume */
    const char *resume_token;
    /* lower_hand, grant_floor, mute_participant, remove_participant: the participant acted
     * on ("" = oneself, lower_hand only) */
    char participant_id[DC_PARTICIPANT_ID_MAX_BYTES + 1];
    int seconds; /* grant_floor, next_floor: time limit, 0 = none */
    bool flag;   /* lock_room: locked; set_room_options: floor_may_share */
    /* chat */
    const char *text;
    size_t text_len;
    bool to_chair;
    /* set_quality: slot mid → sfu_quality, validated (n_qualities entries) */
    struct {
        char mid[8];
        sfu_quality quality;
    } qualities[DC_QUALITY_MAX_ENTRIES];
    size_t n_qualities;
    uint8_t max_temporal_layer; /* set_quality: VP8 TIDs above are not forwarded; 0xff: all */
} dc_request;

/* Parses and validates one text message. On error, msg gets a human message naming the
 * problem and out->id is still set when the message had a usable id, so the error reply
 * can carry it. Always call dc_request_clear afterwards. */
dc_error_code dc_request_parse(const char *text, size_t len, dc_request *out, char *msg, size_t msg_len);
void dc_request_clear(dc_request *req);

/* join's "room" rules, also used for join tokens: trimmed, NFC, no control characters,
 * 1 to DC_ROOM_MAX_CHARS code points; out gets the normalised room. field names it in msg. */
dc_error_code dc_room_normalize(const char *field, const char *room, size_t len, char out[DC_ROOM_MAX_BYTES + 1],
                                char *msg, size_t msg_len);
/* join's "name" rules, also used for a token's name and site: trimmed, no control
 * characters, 1 to DC_NAME_MAX_CHARS code points; out gets the trimmed text. */
dc_error_code dc_label_normalize(const char *field, const char *text, size_t len, char out[DC_NAME_MAX_BYTES + 1],
                                 char *msg, size_t msg_len);

/* NULL when text is a candidate-attribute of RFC 8839 section 5.1 as RTCIceCandidate.candidate
 * carries it ("candidate:1 1 udp 2122252543 192.0.2.1 50000 typ host …"), else what is wrong. */
const char *dc_candidate_check(const char *text, size_t len);

/* Requests allowed before join/resume. */
bool dc_request_allowed_before_join(dc_request_type type);

/* {"type":"ok","id":id}; add result fields to it. id may be NULL (no "id" member). */
json_t *dc_reply_ok(json_t *id);
/* {"type":"error","id":id,"code":…,"message":…}; id may be NULL. */
json_t *dc_reply_error(json_t *id, dc_error_code code, const char *message);
/* {"type":type} for events. */
json_t *dc_event(const char *type);

/* Serializes compactly (UTF-8 kept as is); malloc'd, sets *len. Steals msg (decref'd). */
char *dc_json_take_text(json_t *msg, size_t *len);

/* Collects the fragments of one WebSocket message up to DC_MAX_MESSAGE_BYTES. */
typedef struct {
    char *data;
    size_t len, cap;
} dc_message_buffer;
/* DC_OK, or DC_ERR_TOO_LARGE when the message would exceed the cap (the buffer is then
 * left as it was; the connection should be closed with 1009). */
dc_error_code dc_message_buffer_append(dc_message_buffer *b, const void *data, size_t len);
void dc_message_buffer_free(dc_message_buffer *b); /* empty again, memory released */

/* A connection that sends this many messages in a row beyond its allowance (none accepted
 * between them) is flooding: the server closes it (PROTOCOL.md, close code 1008). */
#define DC_RATE_LIMIT_FLOOD_MESSAGES 20

/* Token bucket: `rate` messages per second, bursts up to `burst`. Every message takes a
 * token, valid or not. */
typedef struct {
    int64_t tokens_milli; /* thousandths of a message */
    int64_t last_ms;
    int rate, burst;
    int refused_in_row; /* messages refused since the last allowed one */
} dc_rate_limiter;
void dc_rate_limiter_init(dc_rate_limiter *rl, int rate, int burst, int64_t now_ms);
bool dc_rate_limiter_allow(dc_rate_limiter *rl, int64_t now_ms); /* takes a token if there is one */
/* True once DC_RATE_LIMIT_FLOOD_MESSAGES messages in a row were refused. */
bool dc_rate_limiter_flooding(const dc_rate_limiter *rl);

#endif
