/* Join tokens for the bench's participants from a server in development mode:
 * POST /api/dev-token {"room","name","role"} on the server's HTTP port (signaling/PROTOCOL.md,
 * "Join tokens and roles"). A plain blocking HTTP/1.1 request on a TCP socket, one per
 * token: the bench mints every token before the first join, so the join storm it measures
 * is the WebSocket join, SDP, ICE/DTLS and media, as with invitation links. */
#ifndef BENCH_DEV_TOKEN_H
#define BENCH_DEV_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* ws_url: the signaling URL ("ws://HOST:PORT/ws"): the same host and port serve the API.
 * Returns a malloc'd token, or NULL with the reason in err (the server's message, if any). */
char *bench_dev_token(const char *ws_url, const char *room, const char *name, const char *role, char *err,
                      size_t err_len);

#endif
