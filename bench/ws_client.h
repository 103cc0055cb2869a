/* A libwebsockets client hub for the bench's signaling clients (sig_*.c): N text-message
 * WebSocket connections to one server on one lws context, serviced without ever blocking
 * inside lws (see bench_ws_hub_service).
 *
 * Per connection: bench_ws_open connects and calls on_open once it is up; every complete
 * text message (fragments reassembled) comes to on_message; bench_ws_send_text queues a
 * message, sent in order once the connection is writeable. on_closed is called at most
 * once, when the connection fails or ends; never from bench_ws_hub_free. Everything runs
 * on the thread that calls bench_ws_hub_service (on_closed also from bench_ws_open when
 * the connection cannot even be started).
 *
 * The hub also owns each connection's user (a signaling client's session): free_user
 * frees it in bench_ws_hub_free, and bench_ws_hub_each visits the open ones. */
#ifndef BENCH_WS_CLIENT_H
#define BENCH_WS_CLIENT_H

#include <stddef.h>

typedef struct bench_ws_hub bench_ws_hub;
typedef struct bench_ws_conn bench_ws_conn;

typedef struct {
    /* the connection is up; messages sent from here go out before any queued while it
     * was connecting */
    void (*on_open)(void *user);
    /* one complete text message; text is not NUL-terminated and valid during the call */
    void (*on_message)(void *user, const char *text, size_t len);
    /* the connection failed or ended: reason is a short text, NULL when the server
     * closed an established connection */
    void (*on_closed)(void *user, const char *reason);
    /* optional: frees user, from bench_ws_hub_free once every connection is gone */
    void (*free_user)(void *user);
} bench_ws_events;

/* url: "ws://host:port[/path]"; protocol: the WebSocket subprotocol every connection asks
 * for. NULL on a bad URL or context failure. */
bench_ws_hub *bench_ws_hub_new(const char *url, const char *protocol);
/* Runs the event loop for timeout_ms (0: one pass that does not wait). */
void bench_ws_hub_service(bench_ws_hub *hub, int timeout_ms);
/* Closes every connection (no on_closed) and frees them all, their users (free_user) and
 * the hub. */
void bench_ws_hub_free(bench_ws_hub *hub);
/* Calls fn(user, arg) for every connection not closed, the newest first. */
void bench_ws_hub_each(bench_ws_hub *hub, void (*fn)(void *user, void *arg), void *arg);

/* Starts a connection; ev must outlive it. The connection belongs to the hub (freed by
 * bench_ws_hub_free), and is returned even when it failed at once (on_closed called);
 * NULL only when out of memory (user is then not the hub's). */
bench_ws_conn *bench_ws_open(bench_ws_hub *hub, const bench_ws_events *ev, void *user);
/* Queues one text message (copied); kept unsent if the connection is closed. */
void bench_ws_send_text(bench_ws_conn *c, const char *text, size_t len);

#endif
