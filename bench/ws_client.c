/* A libwebsockets client hub: see ws_client.h. */
#include "ws_client.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
} out_msg;

struct bench_ws_conn {
    bench_ws_hub *hub;
    struct bench_ws_conn *next;
    struct lws *wsi;
    const bench_ws_events *ev;
    void *user;
    out_msg *q_head, *q_tail;
    char *rx;
    size_t rx_len, rx_cap;
    bool closed;
};

struct bench_ws_hub {
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
    char protocol[64];
    char host[128], path[128];
    int port;
    bench_ws_conn *conns;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void closed(bench_ws_conn *c, const char *reason)
{
    c->wsi = NULL;
    if (c->closed) return;
    c->closed = true;
    if (c->ev->on_closed) c->ev->on_closed(c->user, reason);
}

static void free_queue(bench_ws_conn *c)
{
    for (out_msg *m = c->q_head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    c->q_head = c->q_tail = NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    bench_ws_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        if (!c) break;
        /* what on_open sends goes first, even if something was queued before */
        out_msg *rest = c->q_head, *rest_tail = c->q_tail;
        c->q_head = c->q_tail = NULL;
        if (c->ev->on_open) c->ev->on_open(c->user);
        if (rest) {
            if (c->q_tail) c->q_tail->next = rest;
            else c->q_head = rest;
            c->q_tail = rest_tail;
        }
        if (c->q_head) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c) break;
        if (c->rx_len + len + 1 > c->rx_cap) {
            size_t cap = (c->rx_len + len + 1) * 2;
            char *rx = realloc(c->rx, cap);
            if (!rx) return -1;
            c->rx = rx;
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            size_t n = c->rx_len;
            c->rx_len = 0;
            if (c->ev->on_message) c->ev->on_message(c->user, c->rx, n);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        out_msg *m = c ? c->q_head : NULL;
        if (!m) break;
        if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) {
            closed(c, "websocket write failed");
            return -1;
        }
        c->q_head = m->next;
        if (!c->q_head) c->q_tail = NULL;
        free(m);
        if (c->q_head) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) closed(c, in ? (const char *)in : "websocket connection error");
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) closed(c, NULL);
        break;
    default: break;
    }
    return 0;
}

bench_ws_hub *bench_ws_hub_new(const char *url, const char *protocol)
{
    bench_ws_hub *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    char path[128] = "/";
    if (sscanf(url, "ws://%127[^:/]:%d%127s", h->host, &h->port, path) < 2) {
        free(h);
        return NULL;
    }
    snprintf(h->path, sizeof h->path, "%s", path);
    snprintf(h->protocol, sizeof h->protocol, "%s", protocol);
    h->protocols[0] = (struct lws_protocols){h->protocol, callback, 0, 65536, 0, NULL, 0};
    /* protocols[1] stays zero: the list's end */
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = h->protocols;
    info.gid = -1;
    info.uid = -1;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        free(h);
        return NULL;
    }
    return h;
}

void bench_ws_hub_service(bench_ws_hub *h, int timeout_ms)
{
    /* lws 4.1 ignores lws_service's timeout and sleeps until its next internal timer or
     * event: with a quiet server that can be seconds (Janus between keepalives: 20 s), and
     * the caller's connects and DTLS retransmissions would wait as long. A negative
     * timeout makes it poll without waiting; the waiting is done here, in 1 ms steps. */
    int64_t until = mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
    for (;;) {
        lws_service(h->ctx, -1);
        if (mono_ns() >= until) break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

void bench_ws_hub_free(bench_ws_hub *h)
{
    if (!h) return;
    for (bench_ws_conn *c = h->conns; c; c = c->next) c->closed = true; /* no on_closed */
    lws_context_destroy(h->ctx);
    bench_ws_conn *c = h->conns;
    while (c) {
        bench_ws_conn *next = c->next;
        free_queue(c);
        free(c->rx);
        if (c->ev->free_user) c->ev->free_user(c->user);
        free(c);
        c = next;
    }
    free(h);
}

void bench_ws_hub_each(bench_ws_hub *h, void (*fn)(void *user, void *arg), void *arg)
{
    for (bench_ws_conn *c = h->conns; c; c = c->next)
        if (!c->closed) fn(c->user, arg);
}

bench_ws_conn *bench_ws_open(bench_ws_hub *h, const bench_ws_events *ev, void *user)
{
    bench_ws_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->hub = h;
    c->ev = ev;
    c->user = user;
    c->next = h->conns;
    h->conns = c;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = h->ctx;
    ci.address = h->host;
    ci.port = h->port;
    ci.path = h->path;
    ci.host = h->host;
    ci.origin = h->host;
    ci.protocol = h->protocol;
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&ci)) closed(c, "websocket connect failed");
    return c;
}

void bench_ws_send_text(bench_ws_conn *c, const char *text, size_t len)
{
    out_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) return;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->q_tail) c->q_tail->next = m;
    else c->q_head = m;
    c->q_tail = m;
    if (c->wsi) lws_callback_on_writable(c->wsi);
}
