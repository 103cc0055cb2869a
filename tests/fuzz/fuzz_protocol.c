/* Fuzz target for the protocol's request parser (dc_request_parse, signaling/protocol.h).
 *
 * Arbitrary bytes are parsed as one client text frame (not NUL-terminated: the parser
 * must honour the length). Beyond "no crash, no leak", every result must be one the
 * meeting logic can use as is:
 *   - an error has a stable code name and a non-empty message, and the error reply the
 *     server would send (with the request's id) serializes to JSON that parses back;
 *   - an accepted request has the fields its type promises (PROTOCOL.md): a room and a
 *     trimmed, printable, valid UTF-8 name for join, an SDP of the length given for
 *     publish and subscribe_answer, a positive version, a resume token;
 *   - an id, when kept, is an integer or a string, and the ok reply echoes it.
 * Seeds: tests/fuzz/corpus/protocol, one valid message per request type and a few near misses. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define REQUIRE(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_protocol: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

/* The reply must survive the trip to text and back: what a client would receive. */
static void check_reply_round_trip(json_t *reply, const char *expected_type, const json_t *id)
{
    REQUIRE(reply);
    size_t len;
    char *text = dc_json_take_text(reply, &len);
    REQUIRE(text && len == strlen(text));
    json_error_t jerr;
    json_t *back = json_loadb(text, len, 0, &jerr);
    REQUIRE(back && json_is_object(back));
    REQUIRE(!strcmp(json_string_value(json_object_get(back, "type")), expected_type));
    REQUIRE(id ? json_equal(json_object_get(back, "id"), (json_t *)id) : !json_object_get(back, "id"));
    json_decref(back);
    free(text);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* A NUL-terminated field of a fixed-size array: non-empty, terminated inside it, valid UTF-8. */
static size_t checked_text_field(const char *field, size_t capacity)
{
    size_t len = strnlen(field, capacity);
    REQUIRE(len >= 1 && len < capacity);
    REQUIRE(g_utf8_validate(field, (gssize)len, NULL));
    return len;
}

static void check_sdp(const dc_request *req)
{
    REQUIRE(req->sdp && req->sdp_len >= 1 && req->sdp_len <= DC_MAX_MESSAGE_BYTES);
    REQUIRE(req->sdp[req->sdp_len] == '\0'); /* sdp_len bytes are readable, and end there */
}

static void check_accepted(const dc_request *req)
{
    REQUIRE(req->root && json_is_object(req->root));
    switch (req->type) {
    case DC_REQ_JOIN: {
        checked_text_field(req->room, sizeof req->room);
        if (req->name[0]) { /* optional: the token names */
            size_t name_len = checked_text_field(req->name, sizeof req->name);
            REQUIRE(!is_space(req->name[0]) && !is_space(req->name[name_len - 1]));
            for (size_t i = 0; i < name_len; i++) REQUIRE((unsigned char)req->name[i] >= 0x20 && req->name[i] != 0x7f);
        }
        REQUIRE(!req->token || strlen(req->token) <= DC_JOIN_TOKEN_MAX_BYTES);
        REQUIRE(req->gallery >= 0 && req->gallery <= DC_GALLERY_MAX);
        break;
    }
    case DC_REQ_SET_GALLERY: REQUIRE(req->gallery >= 0 && req->gallery <= DC_GALLERY_MAX); break;
    case DC_REQ_LOWER_HAND:
        REQUIRE(strnlen(req->participant_id, sizeof req->participant_id) < sizeof req->participant_id);
        break;
    case DC_REQ_GRANT_FLOOR:
    case DC_REQ_REMOVE_PARTICIPANT:
    case DC_REQ_MUTE_PARTICIPANT:
        checked_text_field(req->participant_id, sizeof req->participant_id);
        REQUIRE(req->seconds >= 0 && req->seconds <= DC_FLOOR_MAX_SECONDS);
        REQUIRE(req->kind == SFU_KIND_AUDIO || req->kind == SFU_KIND_VIDEO);
        break;
    case DC_REQ_NEXT_FLOOR: REQUIRE(req->seconds >= 0 && req->seconds <= DC_FLOOR_MAX_SECONDS); break;
    case DC_REQ_CHAT:
        REQUIRE(req->text && req->text_len >= 1 && req->text_len <= DC_CHAT_MAX_BYTES);
        REQUIRE(req->text[req->text_len] == '\0');
        break;
    case DC_REQ_RAISE_HAND:
    case DC_REQ_REVOKE_FLOOR:
    case DC_REQ_MUTE_DELEGATES:
    case DC_REQ_LOCK_ROOM:
    case DC_REQ_END_MEETING:
    case DC_REQ_SET_ROOM_OPTIONS: break;
    case DC_REQ_SUBSCRIBE_ANSWER:
        REQUIRE(req->version >= 1);
        check_sdp(req);
        break;
    case DC_REQ_PUBLISH:
        check_sdp(req);
        REQUIRE(!req->screen_mid || (strlen(req->screen_mid) >= 1 && strlen(req->screen_mid) <= 31));
        break;
    case DC_REQ_CANDIDATE: REQUIRE(req->pc == DC_PC_PUBLISH || req->pc == DC_PC_SUBSCRIBE); break;
    case DC_REQ_MUTE: REQUIRE(req->kind == SFU_KIND_AUDIO || req->kind == SFU_KIND_VIDEO); break;
    case DC_REQ_RESUME:
        REQUIRE(req->resume_token && strlen(req->resume_token) >= 1 &&
                strlen(req->resume_token) <= DC_RESUME_TOKEN_MAX_BYTES);
        break;
    case DC_REQ_LEAVE:
    case DC_REQ_PING: break;
    default: REQUIRE(!"accepted request of no known type");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dc_request req;
    char msg[256];
    memset(msg, 'x', sizeof msg); /* a message left unterminated would show */
    dc_error_code code = dc_request_parse((const char *)data, size, &req, msg, sizeof msg);
    REQUIRE(strnlen(msg, sizeof msg) < sizeof msg);
    REQUIRE(dc_error_code_name(code) != NULL);
    REQUIRE(!req.id || json_is_integer(req.id) || json_is_string(req.id));
    if (code == DC_OK) {
        check_accepted(&req);
        check_reply_round_trip(dc_reply_ok(req.id), "ok", req.id);
    } else {
        REQUIRE(msg[0] != '\0');
        check_reply_round_trip(dc_reply_error(req.id, code, msg), "error", req.id);
    }
    dc_request_clear(&req);
    REQUIRE(!req.id && !req.root);
    return 0;
}
