/* bench_sig for Janus 1.1 (VideoRoom plugin): the Janus API over WebSocket (subprotocol
 * "janus-protocol"), one WebSocket and one Janus session per participant, all in one lws
 * context (ws_client.h), JSON with jansson. See bench/janus/README.md for the set-up and
 * the choices (ICE Lite, DTLS roles, SRTP profile).
 *
 * Per participant:
 *   create session → attach janus.plugin.videoroom (publisher handle) → "join" as
 *   publisher in the room (string ids; "create" the room if Janus does not know it)
 *   → on_joined(feed id). publish(offer) → "publish" with the jsep offer → the event with
 *   the jsep answer → on_publish_answer.
 *   Every publisher Janus announces (the "publishers" lists of "joined" and later events)
 *   is subscribed on a second handle (Janus 1.x multistream subscriber): the first time
 *   with "join" ptype subscriber, later with "subscribe"; Janus sends a jsep offer
 *   ("attached"/"updated", or unasked when a feed goes away) → on_subscribe_offer(version);
 *   subscribe_answer → "start" with the jsep answer. One subscriber negotiation at a time:
 *   feeds learnt meanwhile wait for the next one.
 *   A keepalive goes out on every session every 20 s.
 *
 * Our peer is a DTLS client only (tests/support/peer.c), so the publish offer says
 * a=setup:active instead of actpass: Janus then takes the DTLS server role (it does for
 * "active" in an offer) and answers a=setup:passive. In subscriber answers the bench
 * already says active to Janus's actpass. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sig.h"
#include "ws_client.h"

#define KEEPALIVE_NS (20LL * 1000000000LL)
#define N_TX 128

typedef enum {
    TX_NONE = 0,
    TX_CREATE, /* session */
    TX_ATTACH_PUB,
    TX_ATTACH_SUB,
    TX_JOIN, /* publisher join */
    TX_CREATE_ROOM,
    TX_PUBLISH,
    TX_SUB_JOIN,
    TX_SUB_UPDATE, /* "subscribe" to more feeds */
    TX_START,
    TX_KEEPALIVE,
    TX_TRICKLE,
} tx_kind;

typedef enum { SUB_NONE = 0, SUB_ATTACHING, SUB_ATTACHED, SUB_NEGOTIATING, SUB_OFFERED, SUB_IDLE } sub_state;

/* bench_sig_hub is only a handle: it is the bench_ws_hub, which owns the sessions too. */
static bench_ws_hub *ws_hub(bench_sig_hub *h) { return (bench_ws_hub *)h; }

struct bench_sig {
    bench_ws_conn *ws;
    char room[65], name[65];
    const bench_sig_events *ev;
    void *user;
    unsigned next_tx;
    tx_kind tx[N_TX]; /* by transaction number % N_TX */
    int pending;
    bool joined, room_create_tried;
    json_int_t session_id, pub_handle, sub_handle;
    int64_t last_keepalive_ns;
    json_t *my_id;        /* our own feed id (string or integer, as Janus gives it) */
    json_t *subscribed;   /* feed ids asked for on the subscriber handle */
    json_t *to_subscribe; /* feed ids learnt and not asked for yet */
    sub_state sub;
    int64_t sub_version; /* version of the last offer handed to the bench */
    /* a selection (bench_sig_join.program_name): the program feed whole, `gallery`
     * others' video only (video_only); slots: what each subscribed stream is, told to
     * the bench with every offer (on_slots) */
    char program[65];
    int gallery, n_gallery;
    json_t *video_only;
    bench_sig_slot slots[64];
    size_t n_slots;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(bench_sig *s, const char *what)
{
    if (s->ev->on_error) s->ev->on_error(s->user, what);
}

/* Sends a Janus API request (msg is consumed): adds the transaction and, when given, the
 * session and handle ids. */
static void send_request(bench_sig *s, json_t *msg, tx_kind kind, json_int_t handle)
{
    unsigned n = ++s->next_tx;
    char tx[24];
    snprintf(tx, sizeof tx, "t%u", n);
    json_object_set_new(msg, "transaction", json_string(tx));
    if (s->session_id) json_object_set_new(msg, "session_id", json_integer(s->session_id));
    if (handle) json_object_set_new(msg, "handle_id", json_integer(handle));
    if (s->tx[n % N_TX] != TX_NONE) s->pending--; /* a request never answered: forget it */
    s->tx[n % N_TX] = kind;
    s->pending++;
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text && s->ws) bench_ws_send_text(s->ws, text, strlen(text));
    free(text);
}

/* A plugin message ({"janus":"message","body":…,"jsep":…}); body and jsep are consumed. */
static void send_message(bench_sig *s, json_int_t handle, json_t *body, json_t *jsep, tx_kind kind)
{
    json_t *msg = json_pack("{s:s,s:o}", "janus", "message", "body", body);
    if (jsep) json_object_set_new(msg, "jsep", jsep);
    send_request(s, msg, kind, handle);
}

static void send_trickle_done(bench_sig *s, json_int_t handle)
{
    send_request(s, json_pack("{s:s,s:{s:b}}", "janus", "trickle", "candidate", "completed", 1), TX_TRICKLE, handle);
}

static json_t *room_value(const bench_sig *s) { return json_string(s->room); }

static void send_join(bench_sig *s)
{
    send_message(s, s->pub_handle,
                 json_pack("{s:s,s:s,s:o,s:s}", "request", "join", "ptype", "publisher", "room", room_value(s),
                           "display", s->name),
                 NULL, TX_JOIN);
}

static void send_create_room(bench_sig *s)
{
    /* the same settings as bench/janus/janus.plugin.videoroom.jcfg.in */
    json_t *body = json_pack("{s:s,s:o,s:b,s:i,s:i,s:i,s:s,s:s,s:b,s:b,s:b,s:b,s:b}", "request", "create", "room",
                             room_value(s), "permanent", 0, "publishers", 1000, "bitrate", 0, "fir_freq", 0,
                             "audiocodec", "opus", "videocodec", "vp8", "notify_joining", 0, "audiolevel_ext", 0,
                             "videoorient_ext", 0, "playoutdelay_ext", 0, "transport_wide_cc_ext", 0);
    send_message(s, s->pub_handle, body, NULL, TX_CREATE_ROOM);
}

static bool feed_in(json_t *list, json_t *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (json_equal(v, id)) return true;
    return false;
}

/* Sends the next subscriber step if one is due: attach the handle, join with the feeds
 * learnt so far, or subscribe to the new ones. */
static void sub_advance(bench_sig *s)
{
    if (!json_array_size(s->to_subscribe) || !s->session_id) return;
    if (s->sub == SUB_NONE) {
        s->sub = SUB_ATTACHING;
        send_request(s, json_pack("{s:s,s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom"), TX_ATTACH_SUB,
                     0);
        return;
    }
    if (s->sub != SUB_ATTACHED && s->sub != SUB_IDLE) return;
    json_t *streams = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(s->to_subscribe, i, v)
    {
        bool video_only = feed_in(s->video_only, v);
        if (video_only) /* the bench publishes audio as mid 0, video as mid 1 */
            json_array_append_new(streams, json_pack("{s:O,s:s}", "feed", v, "mid", "1"));
        else json_array_append_new(streams, json_pack("{s:O}", "feed", v));
        json_array_append(s->subscribed, v);
        for (int video = video_only; video < 2 && s->program[0] && s->n_slots < 64; video++) {
            bench_sig_slot *slot = &s->slots[s->n_slots];
            slot->mid = (int)s->n_slots++;
            if (json_is_string(v))
                snprintf(slot->participant_id, sizeof slot->participant_id, "%s", json_string_value(v));
            else snprintf(slot->participant_id, sizeof slot->participant_id, "%lld", (long long)json_integer_value(v));
            snprintf(slot->use, sizeof slot->use, "%s", video_only ? "gallery" : video ? "chair_video" : "chair_audio");
            slot->video = video;
            slot->active = true;
        }
    }
    json_array_clear(s->to_subscribe);
    if (s->sub == SUB_ATTACHED)
        send_message(s, s->sub_handle,
                     json_pack("{s:s,s:s,s:o,s:o}", "request", "join", "ptype", "subscriber", "room", room_value(s),
                               "streams", streams),
                     NULL, TX_SUB_JOIN);
    else
        send_message(s, s->sub_handle, json_pack("{s:s,s:o}", "request", "subscribe", "streams", streams), NULL,
                     TX_SUB_UPDATE);
    s->sub = SUB_NEGOTIATING;
}

/* Learns publishers from a "publishers" list: every one that is not us and not known. */
static void learn_publishers(bench_sig *s, json_t *list)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        json_t *id = json_object_get(p, "id");
        if (!id || (s->my_id && json_equal(id, s->my_id))) continue;
        if (feed_in(s->subscribed, id) || feed_in(s->to_subscribe, id)) continue;
        if (s->program[0]) { /* a selection: the program whole, then the first others' video */
            const char *display = json_string_value(json_object_get(p, "display"));
            bool program = display && strcmp(display, s->program) == 0;
            if (!program && s->n_gallery >= s->gallery) continue;
            if (!program) {
                s->n_gallery++;
                json_array_append(s->video_only, id);
            }
        }
        json_array_append(s->to_subscribe, id);
    }
    sub_advance(s);
}

static void deliver_offer(bench_sig *s, const char *sdp)
{
    s->sub = SUB_OFFERED;
    s->sub_version++;
    if (s->program[0] && s->ev->on_slots) s->ev->on_slots(s->user, s->slots, s->n_slots, false);
    if (s->ev->on_subscribe_offer) s->ev->on_subscribe_offer(s->user, s->sub_version, sdp);
}

static void on_plugin_event(bench_sig *s, json_int_t sender, tx_kind kind, json_t *data, json_t *jsep)
{
    const char *what = json_string_value(json_object_get(data, "videoroom"));
    const char *jsep_type = json_string_value(json_object_get(jsep, "type"));
    const char *jsep_sdp = json_string_value(json_object_get(jsep, "sdp"));
    json_t *err_code = json_object_get(data, "error_code");
    if (err_code) {
        json_int_t code = json_integer_value(err_code);
        const char *reason = json_string_value(json_object_get(data, "error"));
        if (kind == TX_JOIN && code == 426 && !s->room_create_tried) { /* no such room */
            s->room_create_tried = true;
            send_create_room(s);
            return;
        }
        if (kind == TX_CREATE_ROOM && code == 427) { /* created meanwhile by another participant */
            send_join(s);
            return;
        }
        char text[300];
        snprintf(text, sizeof text, "janus videoroom error %lld: %s", (long long)code, reason ? reason : "?");
        if (kind == TX_SUB_JOIN || kind == TX_SUB_UPDATE) s->sub = kind == TX_SUB_JOIN ? SUB_ATTACHED : SUB_IDLE;
        fail(s, text);
        return;
    }
    if (!what) return;
    if (sender == s->pub_handle) {
        if (strcmp(what, "created") == 0 && kind == TX_CREATE_ROOM) {
            send_join(s);
            return;
        }
        if (strcmp(what, "joined") == 0) {
            json_t *id = json_object_get(data, "id");
            json_decref(s->my_id);
            s->my_id = json_incref(id);
            s->joined = true;
            char idtext[64] = "?";
            if (json_is_string(id)) snprintf(idtext, sizeof idtext, "%s", json_string_value(id));
            else if (json_is_integer(id)) snprintf(idtext, sizeof idtext, "%lld", (long long)json_integer_value(id));
            if (s->ev->on_joined) s->ev->on_joined(s->user, idtext);
        }
        json_t *pubs = json_object_get(data, "publishers");
        if (json_is_array(pubs)) learn_publishers(s, pubs);
        if (jsep_type && strcmp(jsep_type, "answer") == 0 && jsep_sdp && s->ev->on_publish_answer) {
            s->ev->on_publish_answer(s->user, jsep_sdp);
            send_trickle_done(s, s->pub_handle);
        }
        return;
    }
    if (sender == s->sub_handle) {
        if (jsep_type && strcmp(jsep_type, "offer") == 0 && jsep_sdp) {
            deliver_offer(s, jsep_sdp);
            return;
        }
        /* "start" is answered by {"videoroom":"event","started":"ok"}; a "subscribe" that
         * changed nothing by "updated" without jsep */
        if (kind == TX_START || json_object_get(data, "started") || strcmp(what, "updated") == 0) {
            s->sub = SUB_IDLE;
            sub_advance(s);
        }
    }
}

static void on_message(void *user, const char *text, size_t len)
{
    bench_sig *s = user;
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    const char *janus = msg ? json_string_value(json_object_get(msg, "janus")) : NULL;
    if (!janus) {
        fail(s, "bad JSON from janus");
        json_decref(msg);
        return;
    }
    tx_kind kind = TX_NONE;
    const char *tx = json_string_value(json_object_get(msg, "transaction"));
    unsigned n = 0;
    if (tx && sscanf(tx, "t%u", &n) == 1) kind = s->tx[n % N_TX];
    bool final = strcmp(janus, "ack") != 0 || kind == TX_KEEPALIVE || kind == TX_TRICKLE;
    if (kind != TX_NONE && final) {
        s->tx[n % N_TX] = TX_NONE;
        s->pending--;
    }
    json_t *data = json_object_get(msg, "data");
    if (strcmp(janus, "success") == 0) {
        json_int_t id = json_integer_value(json_object_get(data, "id"));
        json_t *pd = json_object_get(json_object_get(msg, "plugindata"), "data");
        switch (kind) {
        case TX_CREATE:
            s->session_id = id;
            s->last_keepalive_ns = mono_ns();
            send_request(s, json_pack("{s:s,s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom"),
                         TX_ATTACH_PUB, 0);
            break;
        case TX_ATTACH_PUB:
            s->pub_handle = id;
            send_join(s);
            break;
        case TX_ATTACH_SUB:
            s->sub_handle = id;
            s->sub = SUB_ATTACHED;
            sub_advance(s);
            break;
        default:
            /* synchronous plugin requests ("create" room) answer with "success" */
            if (pd) on_plugin_event(s, json_integer_value(json_object_get(msg, "sender")), kind, pd, NULL);
            break;
        }
    } else if (strcmp(janus, "error") == 0) {
        json_t *e = json_object_get(msg, "error");
        char what[300];
        snprintf(what, sizeof what, "janus error %lld: %s", (long long)json_integer_value(json_object_get(e, "code")),
                 json_string_value(json_object_get(e, "reason")) ?: "?");
        fail(s, what);
    } else if (strcmp(janus, "event") == 0) {
        json_t *pd = json_object_get(json_object_get(msg, "plugindata"), "data");
        if (pd)
            on_plugin_event(s, json_integer_value(json_object_get(msg, "sender")), kind, pd,
                            json_object_get(msg, "jsep"));
    } else if (strcmp(janus, "timeout") == 0) {
        fail(s, "janus session timed out");
    } else if (strcmp(janus, "hangup") == 0) {
        char what[200];
        snprintf(what, sizeof what, "janus hangup: %s", json_string_value(json_object_get(msg, "reason")) ?: "?");
        fail(s, what);
    }
    /* ack, webrtcup, media, slowlink, detached: nothing to do */
    json_decref(msg);
}

static void on_open(void *user) { send_request(user, json_pack("{s:s}", "janus", "create"), TX_CREATE, 0); }

static void on_closed(void *user, const char *reason) { fail(user, reason ? reason : "websocket closed by janus"); }

static void free_session(void *user)
{
    bench_sig *s = user;
    json_decref(s->my_id);
    json_decref(s->subscribed);
    json_decref(s->to_subscribe);
    json_decref(s->video_only);
    free(s);
}

static const bench_ws_events ws_events = {on_open, on_message, on_closed, free_session};

static bench_sig_hub *hub_new(const char *url) { return (bench_sig_hub *)bench_ws_hub_new(url, "janus-protocol"); }

static void keepalive_if_due(void *user, void *now_ns)
{
    bench_sig *s = user;
    int64_t now = *(const int64_t *)now_ns;
    if (!s->session_id || now - s->last_keepalive_ns < KEEPALIVE_NS) return;
    s->last_keepalive_ns = now;
    send_request(s, json_pack("{s:s}", "janus", "keepalive"), TX_KEEPALIVE, 0);
}

static void hub_service(bench_sig_hub *h, int timeout_ms)
{
    bench_ws_hub_service(ws_hub(h), timeout_ms); /* serviced all along, in 1 ms steps */
    int64_t now = mono_ns();
    bench_ws_hub_each(ws_hub(h), keepalive_if_due, &now); /* open sessions, newest first as before */
}

/* Janus destroys a session (its handles and PeerConnections) when its WebSocket goes */
static void hub_free(bench_sig_hub *h) { bench_ws_hub_free(ws_hub(h)); }

static bench_sig *open_session(bench_sig_hub *h, const char *room, const char *name, const bench_sig_join *join,
                               const bench_sig_events *ev, void *user)
{
    bench_sig *s = calloc(1, sizeof *s);
    snprintf(s->room, sizeof s->room, "%s", room);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (join && join->program_name) { /* no tokens; a selection of feeds, or all */
        snprintf(s->program, sizeof s->program, "%s", join->program_name);
        s->gallery = join->gallery < 0 ? 9 : join->gallery;
    }
    s->video_only = json_array();
    s->ev = ev;
    s->user = user;
    s->subscribed = json_array();
    s->to_subscribe = json_array();
    s->ws = bench_ws_open(ws_hub(h), &ws_events, s);
    if (!s->ws) fail(s, "websocket connect failed"); /* out of memory */
    return s;
}

/* Rewrites every a=setup:actpass to a=setup:active (see the top of the file). */
static char *offer_as_active(const char *sdp)
{
    static const char from[] = "a=setup:actpass", to[] = "a=setup:active";
    char *out = malloc(strlen(sdp) + 1);
    if (!out) return NULL;
    char *w = out;
    const char *r = sdp;
    for (const char *p; (p = strstr(r, from)); r = p + sizeof from - 1) {
        memcpy(w, r, (size_t)(p - r));
        w += p - r;
        memcpy(w, to, sizeof to - 1);
        w += sizeof to - 1;
    }
    strcpy(w, r);
    return out;
}

static void publish(bench_sig *s, const char *offer_sdp)
{
    if (!s->pub_handle) {
        fail(s, "publish before the publisher handle is attached");
        return;
    }
    char *sdp = offer_as_active(offer_sdp);
    send_message(s, s->pub_handle, json_pack("{s:s}", "request", "publish"),
                 json_pack("{s:s,s:s}", "type", "offer", "sdp", sdp), TX_PUBLISH);
    free(sdp);
}

static void subscribe_answer(bench_sig *s, int64_t version, const char *answer_sdp)
{
    if (version != s->sub_version || s->sub != SUB_OFFERED) return; /* a newer offer came */
    send_message(s, s->sub_handle, json_pack("{s:s}", "request", "start"),
                 json_pack("{s:s,s:s}", "type", "answer", "sdp", answer_sdp), TX_START);
    send_trickle_done(s, s->sub_handle);
    s->sub = SUB_NEGOTIATING;
}

static int pending(const bench_sig *s) { return s->pending; }

const bench_sig_ops bench_sig_janus = {
    .name = "janus",
    .hub_new = hub_new,
    .hub_service = hub_service,
    .hub_free = hub_free,
    .open = open_session,
    .publish = publish,
    .subscribe_answer = subscribe_answer,
    .pending = pending,
};
