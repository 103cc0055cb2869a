/* bench_sig for our own server: signaling/PROTOCOL.md over libwebsockets (client mode),
 * every participant's WebSocket in one lws context, JSON with jansson. */
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sig.h"

typedef enum { REQ_NONE = 0, REQ_JOIN, REQ_PUBLISH, REQ_ANSWER } req_kind;

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
} out_msg;

struct bench_sig {
    bench_sig_hub *hub;
    struct bench_sig *next;
    struct lws *wsi;
    char room[65], name[65];
    const bench_sig_events *ev;
    void *user;
    out_msg *q_head, *q_tail;
    char *rx;
    size_t rx_len, rx_cap;
    int next_id;
    req_kind req[64]; /* by id % 64 */
    int pending;
    bool closed;
};

struct bench_sig_hub {
    struct lws_context *ctx;
    char host[128], path[128];
    int port;
    bench_sig *sessions;
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
    size_t len = strlen(text);
    out_msg *m = malloc(sizeof *m + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    free(text);
    if (s->q_tail) s->q_tail->next = m;
    else s->q_head = m;
    s->q_tail = m;
    if (s->wsi) lws_callback_on_writable(s->wsi);
}

static void on_message(bench_sig *s, const char *text, size_t len)
{
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
        json_t *jslots = json_object_get(msg, "slots");
        size_t n = json_is_array(jslots) ? json_array_size(jslots) : 0;
        bench_sig_slot *slots = calloc(n + 1, sizeof *slots);
        for (size_t i = 0; i < n; i++) {
            json_t *js = json_array_get(jslots, i);
            const char *pid = json_string_value(json_object_get(js, "participant_id"));
            const char *skind = json_string_value(json_object_get(js, "kind"));
            snprintf(slots[i].participant_id, sizeof slots[i].participant_id, "%s", pid ? pid : "");
            slots[i].video = skind && strcmp(skind, "video") == 0;
            slots[i].active = json_is_true(json_object_get(js, "active")) && pid;
        }
        if (s->ev->on_slots) s->ev->on_slots(s->user, slots, n);
        if (sdp && json_is_integer(ver) && s->ev->on_subscribe_offer)
            s->ev->on_subscribe_offer(s->user, json_integer_value(ver), sdp);
        free(slots);
    }
    /* participant_* / slot_update / media_state: the bench does not need them */
    json_decref(msg);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    bench_sig *s = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        json_t *j = json_pack("{s:s,s:s,s:s}", "type", "join", "room", s->room, "name", s->name);
        /* join goes first even if something was queued before the connection was up */
        out_msg *rest = s->q_head, *rest_tail = s->q_tail;
        s->q_head = s->q_tail = NULL;
        queue_json(s, j, REQ_JOIN);
        if (rest) {
            s->q_tail->next = rest;
            s->q_tail = rest_tail;
        }
        lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!s) break;
        if (s->rx_len + len + 1 > s->rx_cap) {
            s->rx_cap = (s->rx_len + len + 1) * 2;
            s->rx = realloc(s->rx, s->rx_cap);
        }
        memcpy(s->rx + s->rx_len, in, len);
        s->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            on_message(s, s->rx, s->rx_len);
            s->rx_len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        out_msg *m = s ? s->q_head : NULL;
        if (!m) break;
        if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) {
            fail(s, "websocket write failed");
            return -1;
        }
        s->q_head = m->next;
        if (!s->q_head) s->q_tail = NULL;
        free(m);
        if (s->q_head) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (s) {
            s->wsi = NULL;
            s->closed = true;
            fail(s, in ? (const char *)in : "websocket connection error");
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s) {
            s->wsi = NULL;
            if (!s->closed) fail(s, "websocket closed by server");
            s->closed = true;
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"diemcau-v1", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static bench_sig_hub *hub_new(const char *url)
{
    bench_sig_hub *h = calloc(1, sizeof *h);
    char path[128] = "/";
    if (sscanf(url, "ws://%127[^:/]:%d%127s", h->host, &h->port, path) < 2) {
        free(h);
        return NULL;
    }
    snprintf(h->path, sizeof h->path, "%s", path);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        free(h);
        return NULL;
    }
    return h;
}

/* lws 4.1 ignores lws_service's timeout and may sleep until its next internal timer
 * (seconds): service without waiting, a few times, then sleep the rest ourselves. */
static void hub_service(bench_sig_hub *h, int timeout_ms)
{
    for (int i = 0; i < 4; i++) lws_service(h->ctx, -1);
    if (timeout_ms > 0) usleep((useconds_t)timeout_ms * 1000);
}

static void hub_free(bench_sig_hub *h)
{
    for (bench_sig *s = h->sessions; s; s = s->next) s->closed = true;
    lws_context_destroy(h->ctx);
    bench_sig *s = h->sessions;
    while (s) {
        bench_sig *next = s->next;
        for (out_msg *m = s->q_head, *n; m; m = n) {
            n = m->next;
            free(m);
        }
        free(s->rx);
        free(s);
        s = next;
    }
    free(h);
}

static bench_sig *open_session(bench_sig_hub *h, const char *room, const char *name,
                               const bench_sig_events *ev, void *user)
{
    bench_sig *s = calloc(1, sizeof *s);
    s->hub = h;
    snprintf(s->room, sizeof s->room, "%s", room);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ev = ev;
    s->user = user;
    s->next = h->sessions;
    h->sessions = s;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = h->ctx;
    ci.address = h->host;
    ci.port = h->port;
    ci.path = h->path;
    ci.host = h->host;
    ci.origin = h->host;
    ci.protocol = "diemcau-v1";
    ci.userdata = s;
    ci.pwsi = &s->wsi;
    if (!lws_client_connect_via_info(&ci)) {
        s->closed = true;
        fail(s, "websocket connect failed");
    }
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

const bench_sig_ops bench_sig_diemcau = {
    .name = "diemcau",
    .hub_new = hub_new,
    .hub_service = hub_service,
    .hub_free = hub_free,
    .open = open_session,
    .publish = publish,
    .subscribe_answer = subscribe_answer,
    .pending = pending,
};
