/* Fuzz target for the meeting logic (signaling/meeting.c) as a whole, with the fake engine
 * and the client harness of the meeting unit tests (tests/unit/meeting_harness.h).
 *
 * The input is a script: each byte is one action of one of four WebSockets in one room
 * of at most three (low 4 bits: the action, next 2 bits: the socket), some actions take
 * the following byte as their argument. Actions: join, publish (one of three ICE ufrags),
 * answer the waiting subscribe offer (two ufrags, or a stale version), mute, leave, close
 * the WebSocket, reopen it with a resume (anyone's token), let time pass and sweep, an
 * engine event on any transport made so far, a raw text frame from the input, ping,
 * candidate, one of the floor, moderation and chat requests (raise_hand … set_gallery,
 * with participant ids of the sockets or unknown ones, chat text from the input), and
 * reopening a socket under another role (its next join uses a token for that role; the
 * fourth socket is the first one's person on another device: same sub). After every action:
 *   - the fake engine has seen no call the real one would ignore or get wrong (an id
 *     added twice, a remove of something unknown, a slot pointed at a stream that is
 *     gone, a stream removed while a slot still shows it…);
 *   - every request got exactly one reply, every frame sent is a JSON object with a type
 *     (checked by the harness);
 *   - a join is granted the role its token names, and no request that needs the moderate
 *     (or publish) grant succeeds for a participant whose join or resume did not grant it.
 * At the end everybody leaves or times out, and nothing may be left in the engine.
 * Seeds: tests/fuzz/corpus/meeting, scripts of ordinary meetings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "chat.h"
#include "meeting_harness.h"

#define N_SOCKETS 4
#define MAX_ROOM 3

enum {
    ACT_JOIN,
    ACT_PUBLISH,
    ACT_ANSWER,
    ACT_MUTE,
    ACT_LEAVE,
    ACT_CLOSE,
    ACT_RESUME,
    ACT_TIME,
    ACT_ENGINE_EVENT,
    ACT_RAW_TEXT,
    ACT_PING,
    ACT_CANDIDATE,
    ACT_REQUEST, /* a floor, moderation or chat request */
    ACT_ROLE,    /* reopen the socket under another role */
};

/* The requests of ACT_REQUEST, in the order the next byte picks them. */
enum {
    REQ_RAISE_HAND,
    REQ_LOWER_HAND,
    REQ_GRANT_FLOOR,
    REQ_REVOKE_FLOOR,
    REQ_NEXT_FLOOR,
    REQ_MUTE_PARTICIPANT,
    REQ_MUTE_DELEGATES,
    REQ_REMOVE_PARTICIPANT,
    REQ_LOCK_ROOM,
    REQ_SET_ROOM_OPTIONS,
    REQ_END_MEETING,
    REQ_CHAT,
    REQ_SET_GALLERY,
    REQ_COUNT,
};

static const char *const ROLES[] = {"chair", "official", "delegate", "observer"};
static const char *const NAMES[] = {"A", "B", "C", "A"}; /* sockets 0 and 3: one person, two devices */

static client sockets[N_SOCKETS];
static bool open_socket[N_SOCKETS];
static char tokens[N_SOCKETS][DC_RESUME_TOKEN_MAX_BYTES + 1]; /* the last token each socket got */
static const char *roles[N_SOCKETS];                          /* the role of its next join; NULL = official */
static bool may_moderate[N_SOCKETS], may_publish[N_SOCKETS];  /* granted by its last join or resume */
static const uint8_t *script;
static size_t script_left;

static uint8_t next_byte(void)
{
    if (!script_left) return 0;
    script_left--;
    return *script++;
}

static void require_engine_sane(const char *after)
{
    if (fake_sfu_problem_count(engine) == 0) return;
    fprintf(stderr, "fuzz_meeting: the engine was misused (after %s)\n", after);
    abort();
}

static void reply_and_forget(client *c, json_t *req) { json_decref(request(c, req)); }

static bool has_grant(const json_t *reply, const char *grant)
{
    size_t k;
    json_t *g;
    json_array_foreach(json_object_get(reply, "grants"), k, g) if (!strcmp(json_string_value(g), grant)) return true;
    return false;
}

/* After a join or resume: its token, and what the participant it is now may do. */
static void remember_token(int i, const json_t *reply)
{
    const char *token = json_string_value(json_object_get(reply, "resume_token"));
    if (!is_ok(reply) || !token) return;
    snprintf(tokens[i], sizeof tokens[i], "%s", token);
    may_moderate[i] = has_grant(reply, "moderate");
    may_publish[i] = has_grant(reply, "publish");
}

static void open_socket_at(int i)
{
    client_free(&sockets[i]);
    client_open_as(&sockets[i], NAMES[i], roles[i]);
    open_socket[i] = true;
    may_moderate[i] = may_publish[i] = false;
}

static void close_socket(int i)
{
    dc_meeting_conn_closed(meeting, &sockets[i].conn);
    open_socket[i] = false;
}

static void answer_waiting_offer(client *c)
{
    if (!count_unread(c, "subscribe_offer")) return;
    uint8_t how = next_byte();
    if (how & 4) { /* a stale or repeated answer */
        json_t *offer = take(c, "subscribe_offer");
        json_int_t version = json_integer_value(json_object_get(offer, "version"));
        json_decref(offer);
        reply_and_forget(c, json_pack("{s:s, s:I, s:s}", "type", "subscribe_answer", "version", version - (how & 1),
                                      "sdp", "v=0\r\n"));
        return;
    }
    json_decref(answer_offer_with(c, how & 1 ? "subufrag" : "newufrag"));
}

static void engine_event(void)
{
    uint8_t type = next_byte(), pick = next_byte();
    size_t seen = 0;
    uint32_t id = 0;
    for (size_t i = 0; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_TRANSPORT_ADD && seen++ <= pick) id = call->id;
    }
    fake_sfu_push_event(engine, (sfu_event_type)(SFU_EV_TRANSPORT_CONNECTED + type % 4), id ? id : 12345);
    dc_meeting_poll_engine(meeting);
}

static void raw_text(client *c)
{
    size_t len = next_byte() % 64;
    if (len > script_left) len = script_left;
    dc_meeting_handle_text(meeting, &c->conn, (const char *)script, len);
    script += len;
    script_left -= len;
}

/* A participant id to act on: one of the sockets' (maybe gone, maybe never joined) or unknown. */
static const char *target_id(void)
{
    uint8_t b = next_byte() % (N_SOCKETS + 1);
    return b < N_SOCKETS ? sockets[b].pid : "p999";
}

/* Chat text from the input: printable ASCII and newlines, a control character now and
 * then; a length byte of 254 or 255 gives the longest allowed text or one over it. */
static char *chat_text(void)
{
    uint8_t len_byte = next_byte();
    size_t len = len_byte >= 254 ? DC_CHAT_MAX_CHARS + (len_byte - 254u) : len_byte % 48u;
    char *text = g_malloc(len + 1);
    for (size_t k = 0; k < len; k++) {
        uint8_t b = len_byte >= 254 ? 'x' : next_byte();
        text[k] = b == '\n' || b == 1 || (b >= 0x20 && b < 0x7f) ? (char)b : (char)('a' + b % 26);
    }
    text[len] = '\0';
    return text;
}

/* One request of ACT_REQUEST, built from the following bytes. */
static json_t *floor_or_moderation_request(int *which)
{
    *which = next_byte() % REQ_COUNT;
    bool flag = next_byte() & 1;
    static const json_int_t seconds[] = {0, 1, 30, 86401};
    switch (*which) {
    case REQ_RAISE_HAND: return json_pack("{s:s}", "type", "raise_hand");
    case REQ_LOWER_HAND:
        return flag ? json_pack("{s:s, s:s}", "type", "lower_hand", "participant_id", target_id())
                    : json_pack("{s:s}", "type", "lower_hand");
    case REQ_GRANT_FLOOR:
        return json_pack("{s:s, s:s, s:I}", "type", "grant_floor", "participant_id", target_id(), "seconds",
                         seconds[next_byte() % 4]);
    case REQ_REVOKE_FLOOR: return json_pack("{s:s}", "type", "revoke_floor");
    case REQ_NEXT_FLOOR: return json_pack("{s:s, s:I}", "type", "next_floor", "seconds", seconds[next_byte() % 4]);
    case REQ_MUTE_PARTICIPANT:
        return json_pack("{s:s, s:s, s:s, s:b}", "type", "mute_participant", "participant_id", target_id(), "kind",
                         next_byte() & 1 ? "video" : "audio", "muted", flag);
    case REQ_MUTE_DELEGATES: return json_pack("{s:s}", "type", "mute_delegates");
    case REQ_REMOVE_PARTICIPANT:
        return json_pack("{s:s, s:s}", "type", "remove_participant", "participant_id", target_id());
    case REQ_LOCK_ROOM: return json_pack("{s:s, s:b}", "type", "lock_room", "locked", flag);
    case REQ_SET_ROOM_OPTIONS: return json_pack("{s:s, s:b}", "type", "set_room_options", "floor_may_share", flag);
    case REQ_END_MEETING: return json_pack("{s:s}", "type", "end_meeting");
    case REQ_CHAT: {
        char *text = chat_text();
        json_t *req = json_pack("{s:s, s:s, s:s}", "type", "chat", "text", text, "to", flag ? "chair" : "all");
        g_free(text);
        return req;
    }
    default: return json_pack("{s:s, s:i}", "type", "set_gallery", "gallery", next_byte() % 30);
    }
}

/* Sends it; a request that needs a grant the participant was not given must fail. */
static void floor_or_moderation(int i)
{
    int which;
    json_t *reply = request(&sockets[i], floor_or_moderation_request(&which));
    bool needs_moderate = which != REQ_RAISE_HAND && which != REQ_LOWER_HAND && which != REQ_CHAT &&
                          which != REQ_SET_GALLERY;
    if (is_ok(reply) && ((needs_moderate && !may_moderate[i]) || (which == REQ_RAISE_HAND && !may_publish[i]))) {
        fprintf(stderr, "fuzz_meeting: request %d succeeded without its grant\n", which);
        abort();
    }
    json_decref(reply);
}

static void act(uint8_t action, int i)
{
    client *c = &sockets[i];
    if (!open_socket[i] && action != ACT_RESUME && action != ACT_TIME && action != ACT_ENGINE_EVENT &&
        action != ACT_ROLE)
        return;
    char ufrag[8];
    json_t *reply;
    switch (action) {
    case ACT_JOIN:
        reply = join(c, "r");
        if (is_ok(reply) &&
            strcmp(json_string_value(json_object_get(reply, "role")), roles[i] ? roles[i] : "official")) {
            fprintf(stderr, "fuzz_meeting: joined as %s with a token for %s\n",
                    json_string_value(json_object_get(reply, "role")), roles[i] ? roles[i] : "official");
            abort();
        }
        remember_token(i, reply);
        json_decref(reply);
        break;
    case ACT_PUBLISH: {
        uint8_t which = next_byte();
        snprintf(ufrag, sizeof ufrag, "pub%u", which % 3);
        char *offer = publish_offer(ufrag, "actpass", 1000u + which, 2000u + which);
        reply_and_forget(c, json_pack("{s:s, s:s}", "type", "publish", "sdp", offer));
        g_free(offer);
        break;
    }
    case ACT_ANSWER: answer_waiting_offer(c); break;
    case ACT_MUTE:
        reply_and_forget(c, json_pack("{s:s, s:s, s:b}", "type", "mute", "kind", next_byte() & 1 ? "video" : "audio",
                                      "muted", next_byte() & 1));
        break;
    case ACT_LEAVE: reply_and_forget(c, json_pack("{s:s}", "type", "leave")); break;
    case ACT_CLOSE: close_socket(i); break;
    case ACT_RESUME:
        if (open_socket[i]) close_socket(i);
        open_socket_at(i);
        reply = request(c, json_pack("{s:s, s:s}", "type", "resume", "resume_token", tokens[next_byte() % N_SOCKETS]));
        remember_token(i, reply);
        json_decref(reply);
        break;
    case ACT_TIME:
        advance_seconds(next_byte() % 32);
        dc_meeting_sweep(meeting);
        break;
    case ACT_ENGINE_EVENT: engine_event(); break;
    case ACT_RAW_TEXT: raw_text(c); break;
    case ACT_PING: reply_and_forget(c, json_pack("{s:s}", "type", "ping")); break;
    case ACT_CANDIDATE:
        reply_and_forget(c, json_pack("{s:s, s:s, s:n}", "type", "candidate", "pc", "publish", "candidate"));
        break;
    case ACT_REQUEST: floor_or_moderation(i); break;
    case ACT_ROLE:
        if (open_socket[i]) close_socket(i);
        roles[i] = ROLES[next_byte() % 4];
        open_socket_at(i);
        break;
    }
}

/* Keeps only what a later action may use: the newest subscribe offer. A socket the
 * meeting closed (after leave) is closed by the server, as server.c would. */
static void settle(void)
{
    for (int i = 0; i < N_SOCKETS; i++) {
        client *c = &sockets[i];
        json_t *newest = NULL, *offer;
        while ((offer = take(c, "subscribe_offer"))) {
            json_decref(newest);
            newest = offer;
        }
        client_drop_inbox(c);
        if (newest) c->inbox[c->n_inbox++] = newest;
        if (open_socket[i] && c->closed) close_socket(i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    script = data;
    script_left = size;
    meeting_start_sized(MAX_ROOM);
    memset(tokens, 0, sizeof tokens);
    memset(roles, 0, sizeof roles);
    for (int i = 0; i < N_SOCKETS; i++) open_socket_at(i);
    while (script_left) {
        uint8_t b = next_byte();
        act(b & 15, (b >> 4) & 3);
        settle();
        require_engine_sane("an action");
    }
    /* Everybody goes: those still connected leave, the others' grace ends. */
    for (int i = 0; i < N_SOCKETS; i++)
        if (open_socket[i] && sockets[i].conn.participant)
            reply_and_forget(&sockets[i], json_pack("{s:s}", "type", "leave"));
    settle();
    advance_seconds(cfg.resume_grace_seconds + 1);
    dc_meeting_sweep(meeting);
    require_engine_sane("everybody left");
    if (fake_sfu_alive_count(engine) != 0) {
        fprintf(stderr, "fuzz_meeting: %zu engine objects left after everybody left\n", fake_sfu_alive_count(engine));
        abort();
    }
    for (int i = 0; i < N_SOCKETS; i++) {
        if (open_socket[i]) close_socket(i);
        client_free(&sockets[i]);
    }
    dc_meeting_free(meeting);
    sfu_free(engine);
    return 0;
}
