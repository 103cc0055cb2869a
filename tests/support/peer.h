/* A minimal WebRTC peer in C, built from the server's own ICE/DTLS/SRTP modules in client
 * mode: it sends ICE connectivity checks (controlling, with USE-CANDIDATE), runs the DTLS
 * client handshake and protects/unprotects SRTP. Used by the engine tests and the load
 * generator; it is not a full ICE agent (one host candidate, one server address). */
#ifndef DC_PEER_H
#define DC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/dtls.h"

typedef struct dc_peer dc_peer;

/* server_fp: the server's "AB:CD:…" sha-256 fingerprint. cert: the client's certificate
 * (one may serve many peers). The peer's socket is bound to 127.0.0.1, or for a server
 * address outside 127/8 to the source address the kernel routes towards it. */
dc_peer *dc_peer_new(const char *server_ip, uint16_t server_port, const char *server_ufrag, const char *server_pwd,
                     const char *server_fp, sfu_dtls_cert *cert);
void dc_peer_free(dc_peer *p);
/* As dc_peer_new, with the client's ICE ufrag given (the one the client's SDP carries),
 * instead of a random one. */
dc_peer *dc_peer_new_ufrag(const char *server_ip, uint16_t server_port, const char *server_ufrag,
                           const char *server_pwd, const char *server_fp, sfu_dtls_cert *cert,
                           const char *client_ufrag);

/* For servers that run full ICE and wait for their own checks to be answered before
 * using a pair (Janus: libnice sends a triggered check back even in ICE Lite mode): the
 * client's ICE password (the one its SDP carries), so that connecting answers the
 * server's Binding requests as the controlling agent. Without it they are ignored.
 * Only the connect functions answer; the load generator's media threads do not. */
void dc_peer_answer_checks(dc_peer *p, const char *client_pwd);

int dc_peer_fd(const dc_peer *p);
/* Sends one connectivity check whose answer the connect functions validate. */
void dc_peer_send_check(dc_peer *p);
/* Sends one ICE consent check (RFC 7675) whose answer nobody reads: its transaction is
 * forgotten at once. The STUN agent keeps at most 200 open transactions; a consent check
 * every 5 s sent as dc_peer_send_check stopped after ~17 minutes, the server's consent
 * then expired, and a 30-minute soak lost everything after that. */
void dc_peer_send_consent(dc_peer *p);
/* Checks and handshakes until DTLS is connected or timeout_ms passes. */
bool dc_peer_connect(dc_peer *p, int timeout_ms);
bool dc_peer_connected(const dc_peer *p);
/* Connects many peers at once (checks and handshakes interleaved, one poll over all
 * sockets) until all are connected or timeout_ms passes. Returns how many are connected. */
size_t dc_peer_connect_all(dc_peer **peers, size_t n, int timeout_ms);

/* For callers that run their own I/O loop on dc_peer_fd once connected (the load
 * generator): the SRTP session (NULL until connected) and the server's address
 * (a struct sockaddr_in). */
sfu_srtp *dc_peer_srtp(dc_peer *p);
sfu_srtp_profile dc_peer_srtp_profile(const dc_peer *p); /* NONE until connected */
const void *dc_peer_server_addr(const dc_peer *p, size_t *len);

/* Protects and sends a plain RTP or RTCP packet (buf needs SFU_SRTP_MAX_TRAILER spare). */
bool dc_peer_send_rtp(dc_peer *p, uint8_t *buf, size_t len, size_t cap);
bool dc_peer_send_rtcp(dc_peer *p, uint8_t *buf, size_t len, size_t cap);
/* Sends raw bytes to the server's media port (for garbage tests). */
void dc_peer_send_raw(dc_peer *p, const uint8_t *buf, size_t len);

/* Waits up to timeout_ms for one media packet; STUN and DTLS are handled inside.
 * Returns the plain RTP/RTCP length, 0 on timeout, -1 on an SRTP failure. */
int dc_peer_recv(dc_peer *p, uint8_t *buf, size_t cap, int timeout_ms);

#endif
