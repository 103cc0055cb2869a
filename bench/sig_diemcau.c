/* bench_sig for our own server: signaling/PROTOCOL.md over libwebsockets (client mode),
 * every participant's WebSocket in one lws context (ws_client.h), JSON with jansson. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev_token.h"
#include "sig.h"
#include "ws_client.h"

typedef enum { REQ_NONE = 0, REQ_JOIN, REQ_PUBLISH, REQ_ANSWER, REQ_FLOOR } req_kind;

/* The hub: every session's WebSocket on one lws context (ws_client.h), and the URL, whose
 * host and port also serve the token API. */
struct bench_sig_hub {
    bench_ws_hub *ws;
    char url[256];
};

static bench_ws_hub *ws_hub(bench_sig_hub *h) { return h->ws; }

struct bench_sig {
    bench_ws_conn *ws;
    char room[65], name[65];
    char *token;
    int gallery;
    const bench_sig_events *ev;
    void *user;
    int next_id;
    req_kind req[64]; /* by id % 64 */
    int pending;
};

static void fail(bench_sig *s, const char *what)
{
    if (s->ev->on_error) s->ev->on_error(s->user, what);
}

static void queue_json(bench_sig *s, json_t *msg, req_kind kind)
{
    if (kind != REQ_NONE) {
        int id = ++s->next_id;
        json_object_set_new(msg, "id", json_integer(id));
        s->req[id % 64] = kind;
        s->pending++;
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text && s->ws) bench_ws_send_text(s->ws, text, strlen(text));
    free(text);
}

/* The slots list of a subscribe_offer (update false) or slot_update (true) → on_slots. */
static void report_slots(bench_sig *s, json_t *jslots, bool update)
{
    size_t n = json_is_array(jslots) ? json_array_size(jslots) : 0;
    if (!s->ev->on_slots || !n) return;
    bench_sig_slot *slots = calloc(n, sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        json_t *js = json_array_get(jslots, i);
        const char *pid = json_string_value(json_object_get(js, "participant_id"));
        const char *skind = json_string_value(json_object_get(js, "kind"));
        const char *mid = json_string_value(json_object_get(js, "mid"));
        const char *use = json_string_value(json_object_get(js, "use"));
        slots[i].mid = mid ? atoi(mid) : -1;
        snprintf(slots[i].use, sizeof slots[i].use, "%s", use ? use : "");
        snprintf(slots[i].participant_id, sizeof slots[i].participant_id, "%s", pid ? pid : "");
        slots[i].video = skind && strcmp(skind, "video") == 0;
        slots[i].active = json_is_true(json_object_get(js, "active")) && pid;
    }
    s->ev->on_slots(s->user, slots, n, update);
    free(slots);
}

static void on_message(void *user, const char *text, size_t len)
{
    bench_sig *s = user;
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    const char *type = msg ? json_string_value(json_object_get(msg, "type")) : NULL;
    if (!type) {
        fail(s, "bad JSON from server");
        json_decref(msg);
        return;
    }
    json_t *idv = json_object_get(msg, "id");
    req_kind kind = REQ_NONE;
    if (json_is_integer(idv)) {
        kind = s->req[json_integer_value(idv) % 64];
        s->req[json_integer_value(idv) % 64] = REQ_NONE;
        if (kind != REQ_NONE) s->pending--;
    }
    if (strcmp(type, "ok") == 0) {
        if (kind == REQ_JOIN && s->ev->on_joined)
            s->ev->on_joined(s->user, json_string_value(json_object_get(msg, "participant_id")));
        else if (kind == REQ_PUBLISH && s->ev->on_publish_answer) {
            const char *sdp = json_string_value(json_object_get(msg, "sdp"));
            if (sdp) s->ev->on_publish_answer(s->user, sdp);
            else fail(s, "publish ok without sdp");
        }
    } else if (strcmp(type, "error") == 0) {
        char what[256];
        snprintf(what, sizeof what, "%s: %s", json_string_value(json_object_get(msg, "code")) ?: "?",
                 json_string_value(json_object_get(msg, "message")) ?: "");
        /* a stale answer is normal: a newer offer is on its way */
        if (!json_string_value(json_object_get(msg, "code")) ||
            strcmp(json_string_value(json_object_get(msg, "code")), "stale_version") != 0)
            fail(s, what);
    } else if (strcmp(type, "subscribe_offer") == 0) {
        const char *sdp = json_string_value(json_object_get(msg, "sdp"));
        json_t *ver = json_object_get(msg, "version");
        report_slots(s, json_object_get(msg, "slots"), false);
        if (sdp && json_is_integer(ver) && s->ev->on_subscribe_offer)
            s->ev->on_subscribe_offer(s->user, json_integer_value(ver), sdp);
    } else if (strcmp(type, "slot_update") == 0) {
        report_slots(s, json_object_get(msg, "slots"), true);
    }
    /* participant_* / room_state / dominant_speaker / media_state: the bench does not need them */
    json_decref(msg);
}

/* join goes first even if something was queued before the connection was up */
static void on_open(void *user)
{
    bench_sig *s = user;
    json_t *join = json_pack("{s:s,s:s,s:s}", "type", "join", "room", s->room, "name", s->name);
    if (s->token) json_object_set_new(join, "token", json_string(s->token));
    if (s->gallery >= 0) json_object_set_new(join, "gallery", json_integer(s->gallery));
    queue_json(s, join, REQ_JOIN);
}

static void on_closed(void *user, const char *reason) { fail(user, reason ? reason : "websocket closed by server"); }

static void free_session(void *user)
{
    bench_sig *s = user;
    free(s->token);
    free(s);
}

static const bench_ws_events ws_events = {on_open, on_message, on_closed, free_session};

static bench_sig_hub *hub_new(const char *url)
{
    bench_sig_hub *h = calloc(1, sizeof *h);
    snprintf(h->url, sizeof h->url, "%s", url);
    h->ws = bench_ws_hub_new(url, "diemcau-v1");
    if (!h->ws) {
        free(h);
        return NULL;
    }
    return h;
}

static char *mint_token(bench_sig_hub *h, const char *room, const char *name, const char *role, char *err,
                        size_t err_len)
{
    return bench_dev_token(h->url, room, name, role, err, err_len);
}

/* A few passes that do not wait, then the rest of the time asleep (signaling is not
 * serviced meanwhile). */
static void hub_service(bench_sig_hub *h, int timeout_ms)
{
    for (int i = 0; i < 4; i++) bench_ws_hub_service(ws_hub(h), 0);
    if (timeout_ms > 0) usleep((useconds_t)timeout_ms * 1000);
}

static void hub_free(bench_sig_hub *h)
{
    bench_ws_hub_free(ws_hub(h));
    free(h);
}

static bench_sig *open_session(bench_sig_hub *h, const char *room, const char *name, const bench_sig_join *join,
                               const bench_sig_events *ev, void *user)
{
    bench_sig *s = calloc(1, sizeof *s);
    snprintf(s->room, sizeof s->room, "%s", room);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->token = join && join->token ? strdup(join->token) : NULL;
    s->gallery = join ? join->gallery : -1;
    s->ev = ev;
    s->user = user;
    s->ws = bench_ws_open(ws_hub(h), &ws_events, s);
    if (!s->ws) fail(s, "websocket connect failed"); /* out of memory */
    return s;
}

static void publish(bench_sig *s, const char *sdp)
{
    queue_json(s, json_pack("{s:s,s:s}", "type", "publish", "sdp", sdp), REQ_PUBLISH);
}

static void subscribe_answer(bench_sig *s, int64_t version, const char *sdp)
{
    queue_json(s, json_pack("{s:s,s:I,s:s}", "type", "subscribe_answer", "version", (json_int_t)version, "sdp", sdp),
               REQ_ANSWER);
}

static int pending(const bench_sig *s) { return s->pending; }

static void grant_floor(bench_sig *s, const char *participant_id, int seconds)
{
    queue_json(s,
               json_pack("{s:s,s:s,s:i}", "type", "grant_floor", "participant_id", participant_id, "seconds", seconds),
               REQ_FLOOR);
}

static void revoke_floor(bench_sig *s) { queue_json(s, json_pack("{s:s}", "type", "revoke_floor"), REQ_FLOOR); }

const bench_sig_ops bench_sig_diemcau = {
    .name = "diemcau",
    .fixed_slots = true,
    .rooms_on_join = true,
    .hub_new = hub_new,
    .hub_service = hub_service,
    .hub_free = hub_free,
    .open = open_session,
    .publish = publish,
    .subscribe_answer = subscribe_answer,
    .pending = pending,
    .mint_token = mint_token,
    .grant_floor = grant_floor,
    .revoke_floor = revoke_floor,
};
