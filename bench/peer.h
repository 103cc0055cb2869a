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
 * (one may serve many peers). */
dc_peer *dc_peer_new(const char *server_ip, uint16_t server_port, const char *server_ufrag,
                     const char *server_pwd, const char *server_fp, sfu_dtls_cert *cert);
void dc_peer_free(dc_peer *p);

int dc_peer_fd(const dc_peer *p);
/* Sends one connectivity check (also keeps ICE consent fresh). */
void dc_peer_send_check(dc_peer *p);
/* Checks and handshakes until DTLS is connected or timeout_ms passes. */
bool dc_peer_connect(dc_peer *p, int timeout_ms);
bool dc_peer_connected(const dc_peer *p);

/* Protects and sends a plain RTP or RTCP packet (buf needs SFU_SRTP_MAX_TRAILER spare). */
bool dc_peer_send_rtp(dc_peer *p, uint8_t *buf, size_t len, size_t cap);
bool dc_peer_send_rtcp(dc_peer *p, uint8_t *buf, size_t len, size_t cap);
/* Sends raw bytes to the server's media port (for garbage tests). */
void dc_peer_send_raw(dc_peer *p, const uint8_t *buf, size_t len);

/* Waits up to timeout_ms for one media packet; STUN and DTLS are handled inside.
 * Returns the plain RTP/RTCP length, 0 on timeout, -1 on an SRTP failure. */
int dc_peer_recv(dc_peer *p, uint8_t *buf, size_t cap, int timeout_ms);

#endif
