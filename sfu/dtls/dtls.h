/* DTLS 1.2 for DTLS-SRTP (RFC 5764) with OpenSSL over memory BIOs.
 *
 * The worker owns the socket: it hands every received DTLS record to sfu_dtls_handle()
 * and sends whatever the send callback gets. OpenSSL never does I/O. When the
 * handshake completes, the peer certificate's fingerprint is checked against the one
 * from the SDP and the SRTP keys are exported (EXTRACTOR-dtls_srtp). */
#ifndef SFU_DTLS_H
#define SFU_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srtp/srtp_session.h"

/* One self-signed ECDSA P-256 certificate per process, made at start. */
typedef struct sfu_dtls_cert sfu_dtls_cert;

sfu_dtls_cert *sfu_dtls_cert_new(void);
void sfu_dtls_cert_free(sfu_dtls_cert *cert);
/* "AB:CD:…" (upper-case hex, colon separated) SHA-256 fingerprint for a=fingerprint:sha-256 */
const char *sfu_dtls_cert_fingerprint(const sfu_dtls_cert *cert);
/* SRTP profiles offered/accepted by transports created after this call, in OpenSSL's
 * colon-separated syntax, preference first. Default:
 * "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80". Used by tests to force one profile.
 * Returns false if OpenSSL rejects the list (the previous list stays). Not thread-safe
 * against sfu_dtls_new on the same cert: call before the workers start. */
bool sfu_dtls_cert_set_srtp_profiles(sfu_dtls_cert *cert, const char *profiles);

typedef enum {
    SFU_DTLS_HANDSHAKING = 0,
    SFU_DTLS_CONNECTED, /* keys available */
    SFU_DTLS_FAILED,    /* handshake error or fingerprint mismatch */
    SFU_DTLS_CLOSED,    /* peer sent close_notify */
} sfu_dtls_state;

typedef enum { SFU_DTLS_ROLE_SERVER = 0, SFU_DTLS_ROLE_CLIENT } sfu_dtls_role;

/* Called synchronously from inside sfu_dtls_start/handle/on_timeout/close, once per
 * datagram (whole DTLS records, at most the MTU). It must not free the sfu_dtls. */
typedef void (*sfu_dtls_send_fn)(void *user, const uint8_t *data, size_t len);

typedef struct sfu_dtls sfu_dtls;

/* peer_fingerprint: "sha-256 AB:CD:..." exactly as in the SDP attribute value (hash name,
 * space, hex); sha-1, sha-256, sha-384, sha-512 accepted. Returns NULL on bad input. */
sfu_dtls *sfu_dtls_new(sfu_dtls_cert *cert, sfu_dtls_role role, const char *peer_fingerprint, sfu_dtls_send_fn send,
                       void *user);
void sfu_dtls_free(sfu_dtls *d);

/* Largest datagram the transport sends (default 1200, UDP payload). Call before
 * sfu_dtls_start; larger flights are fragmented. Returns false if OpenSSL refuses it. */
bool sfu_dtls_set_mtu(sfu_dtls *d, size_t mtu);

/* Client role: sends the ClientHello. Server role: no-op. Call once ICE has an address. */
void sfu_dtls_start(sfu_dtls *d);

/* Feeds one received datagram (first byte 20..63). Returns the state afterwards.
 * Garbage moves the state to FAILED only if OpenSSL says the handshake failed;
 * records that do not parse are dropped and counted by the caller. */
sfu_dtls_state sfu_dtls_handle(sfu_dtls *d, const uint8_t *data, size_t len);

/* Sends close_notify through the send callback if CONNECTED, then state CLOSED.
 * sfu_dtls_free() sends nothing, so call this first for an orderly goodbye. */
void sfu_dtls_close(sfu_dtls *d);

/* Retransmission timer (handshake only): ms until sfu_dtls_on_timeout() should be
 * called, or -1 if no timer is pending. */
int sfu_dtls_timeout_ms(sfu_dtls *d);
void sfu_dtls_on_timeout(sfu_dtls *d);
/* The first retransmission waits this long (default 250 ms), later ones twice as long each
 * (at most 4 s or this). Call before the handshake starts. Tests that drop flights on
 * purpose set a long one: OpenSSL also fires an expired timer by itself on the next read
 * (dtls1_read_failed), so a test descheduled past the timeout would see a retransmission
 * it did not ask for. */
void sfu_dtls_set_first_retransmit_ms(sfu_dtls *d, unsigned ms);

sfu_dtls_state sfu_dtls_get_state(const sfu_dtls *d);
/* Human-readable reason of a FAILED state, or "". */
const char *sfu_dtls_error(const sfu_dtls *d);

/* Valid once CONNECTED: the negotiated profile and keys, local/remote from our side. */
bool sfu_dtls_srtp_keys(const sfu_dtls *d, sfu_srtp_keys *out);

#endif
