/* One worker's ICE-TCP connections (RFC 6544 passive, RFC 4571 framing): sockets handed
 * over by the listener (tcp_listen.h), read without blocking into framed packets, and
 * packets queued to them in bounded buffers that are written when the worker flushes.
 *
 * A connection is named by an id that is never reused, so a transport still bound to a
 * closed connection can never send to a newer one. The set has one epoll fd the worker
 * polls beside its UDP socket. Bytes and sockets only: nothing here knows transports. */
#ifndef SFU_NET_TCP_CONNS_H
#define SFU_NET_TCP_CONNS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/tcp_frame.h"

typedef enum {
    SFU_TCP_CLOSED_BY_PEER, /* end of stream or a socket error */
    SFU_TCP_CLOSED_BAD,     /* a frame too long, or junk the owner refused */
    SFU_TCP_CLOSED_OWNER,   /* sfu_tcp_conns_close */
} sfu_tcp_close_reason;

/* A packet arrived on a connection; return false to close it as junk (SFU_TCP_CLOSED_BAD).
 * `frame` is valid only during the call. */
typedef bool (*sfu_tcp_frame_fn)(void *user, uint32_t conn_id, const struct sockaddr_storage *peer, socklen_t peer_len,
                                 const uint8_t *frame, size_t len);
/* Called once per connection when it is gone (not for SFU_TCP_CLOSED_OWNER at free). */
typedef void (*sfu_tcp_closed_fn)(void *user, uint32_t conn_id, sfu_tcp_close_reason why);
/* A read is done: the frames it gave may be handled as one batch now. */
typedef void (*sfu_tcp_batch_fn)(void *user);

typedef struct {
    int epoll_fd;
    GHashTable *by_id; /* id → conn (owns) */
    GPtrArray *dirty;  /* conns with output queued since the last flush */
    uint32_t next_id;
    sfu_tcp_frame_fn on_frame;
    sfu_tcp_closed_fn on_closed;
    sfu_tcp_batch_fn on_batch;
    void *user;
    /* what happened, for the owner's counters */
    uint64_t opened, closed_bad, tx_full, tx_packets, tx_bytes, rx_bytes;
} sfu_tcp_conns;

bool sfu_tcp_conns_init(sfu_tcp_conns *s, sfu_tcp_frame_fn on_frame, sfu_tcp_closed_fn on_closed,
                        sfu_tcp_batch_fn on_batch, void *user);
void sfu_tcp_conns_free(sfu_tcp_conns *s); /* closes every connection */
/* Takes over a connected socket; returns its id (0: failed, the socket is closed). */
uint32_t sfu_tcp_conns_adopt(sfu_tcp_conns *s, int fd, const struct sockaddr_storage *peer, socklen_t peer_len);
/* Reads what the epoll fd says is ready, and writes what became writable (no waiting). */
void sfu_tcp_conns_service(sfu_tcp_conns *s);
/* Queues one packet; false (counted in tx_full) when the connection's buffer is full,
 * or when there is no such connection. */
bool sfu_tcp_conns_send(sfu_tcp_conns *s, uint32_t conn_id, const uint8_t *data, size_t len);
void sfu_tcp_conns_flush(sfu_tcp_conns *s); /* writes what was queued, without blocking */
void sfu_tcp_conns_close(sfu_tcp_conns *s, uint32_t conn_id);
/* Closes the connections that sent nothing for idle_us (a peer gone without a FIN); run
 * at the worker's tick, reported as closed by the peer. */
void sfu_tcp_conns_close_idle(sfu_tcp_conns *s, int64_t idle_us);
size_t sfu_tcp_conns_count(const sfu_tcp_conns *s);

#endif
