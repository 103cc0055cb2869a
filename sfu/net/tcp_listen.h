/* The engine's one ICE-TCP port (RFC 6544 passive candidate): a thread accepts
 * connections and reads each one's first RFC 4571 frame, which must be a STUN binding
 * request; that frame names the transport (its USERNAME's local ufrag), and so the room
 * and worker, which the owner's route callback decides from. The socket, with the frame,
 * is then handed over and belongs to the worker.
 *
 * Bounded: a connection that sends no complete first frame within SFU_TCP_FIRST_FRAME_MS,
 * sends a frame that is not STUN or too long, or names no transport, is closed and
 * counted; so are connections beyond SFU_TCP_PENDING_MAX waiting at once. */
#ifndef SFU_NET_TCP_LISTEN_H
#define SFU_NET_TCP_LISTEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SFU_TCP_FIRST_FRAME_MS 5000
#define SFU_TCP_PENDING_MAX 256

/* The first frame of a new connection (a STUN message, len ≤ SFU_TCP_FRAME_MAX): take the
 * socket (return true: it is the callee's now) or refuse it (false: it is closed and
 * counted). Called on the listener's thread. */
typedef bool (*sfu_tcp_route_fn)(void *user, int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
                                 const uint8_t *frame, size_t len);

typedef struct sfu_tcp_listen sfu_tcp_listen;

/* Binds and listens (port 0: any); NULL, with a message on stderr, if not. */
sfu_tcp_listen *sfu_tcp_listen_new(const char *bind_ip, uint16_t port, sfu_tcp_route_fn route, void *user);
bool sfu_tcp_listen_start(sfu_tcp_listen *l);
void sfu_tcp_listen_free(sfu_tcp_listen *l); /* stops the thread, closes what is pending */
uint16_t sfu_tcp_listen_port(const sfu_tcp_listen *l);
/* Connections accepted, and those refused (junk, too slow, too many waiting; not those the
 * peer closed before sending anything, as a browser does with a TCP pair it no longer needs). */
void sfu_tcp_listen_counts(const sfu_tcp_listen *l, uint64_t *accepted, uint64_t *refused);

#endif
