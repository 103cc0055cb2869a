/* ICE-lite STUN responder (RFC 8445 §2.5, RFC 5389) built on libnice's STUN library.
 *
 * The server never sends connectivity checks; it only answers the browser's Binding
 * requests on its one UDP port. A request is accepted when its USERNAME is
 * "<local ufrag>:<remote ufrag>", the local ufrag is known (looked up through the
 * callback) and its MESSAGE-INTEGRITY verifies with that transport's local password.
 * Pure function of its inputs: no sockets, no allocation per call, no global state
 * except the STUN agent the caller owns. */
#ifndef SFU_ICE_LITE_H
#define SFU_ICE_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SFU_ICE_UFRAG_MAX 64 /* bytes, without NUL; we generate 16-char ufrags */
#define SFU_ICE_REPLY_MAX 256

/* Looks up the local ICE password for a local ufrag. Returns false if unknown.
 * ufrag is NOT NUL-terminated. *pwd must stay valid until sfu_ice_answer returns. */
typedef bool (*sfu_ice_pwd_lookup_fn)(void *user, const char *ufrag, size_t ufrag_len, const char **pwd,
                                      size_t *pwd_len);

typedef enum {
    SFU_ICE_REPLY = 0,     /* valid Binding request: reply[] holds the success response */
    SFU_ICE_IGNORED,       /* valid STUN but nothing to answer (indication, response) */
    SFU_ICE_MALFORMED,     /* not parseable as STUN / bad fingerprint */
    SFU_ICE_UNKNOWN_UFRAG, /* USERNAME names no transport we know */
    SFU_ICE_UNAUTHORIZED,  /* MESSAGE-INTEGRITY did not verify */
    /* Added: an authenticated request whose sender also claims the controlled role
     * (ICE-CONTROLLED). reply[] holds a 487 Role Conflict error response to send, telling
     * it to take the controlling role; local_ufrag is empty: do not bind the 5-tuple. */
    SFU_ICE_ROLE_CONFLICT,
} sfu_ice_result;

typedef struct sfu_ice_agent sfu_ice_agent; /* wraps a libnice StunAgent; one per worker */

sfu_ice_agent *sfu_ice_agent_new(void);
void sfu_ice_agent_free(sfu_ice_agent *agent);

typedef struct {
    char local_ufrag[SFU_ICE_UFRAG_MAX + 1]; /* NUL-terminated, the part before ':' */
    bool use_candidate;                      /* USE-CANDIDATE present (nomination) */
    uint8_t reply[SFU_ICE_REPLY_MAX];        /* the Binding success response to send back */
    size_t reply_len;
} sfu_ice_answer_t;

/* Handles one datagram that starts with a STUN first byte (0..3) received from `from`.
 * On SFU_ICE_REPLY, out->reply holds the response (XOR-MAPPED-ADDRESS = from,
 * MESSAGE-INTEGRITY with the local password, FINGERPRINT) and out->local_ufrag names the
 * transport, so the caller can bind the 5-tuple to it. */
sfu_ice_result sfu_ice_answer(sfu_ice_agent *agent, const uint8_t *msg, size_t len, const struct sockaddr *from,
                              socklen_t from_len, sfu_ice_pwd_lookup_fn lookup, void *user, sfu_ice_answer_t *out);

const char *sfu_ice_result_str(sfu_ice_result r);

/* The local ufrag a STUN request's USERNAME ("<local>:<remote>") names, without checking
 * anything else (the ICE-TCP listener routes a connection by it; the worker then
 * authenticates the request with sfu_ice_answer). false if there is none. */
bool sfu_ice_local_ufrag(const uint8_t *msg, size_t len, char out[SFU_ICE_UFRAG_MAX + 1]);

/* Fills buf with `len` random characters from the ICE alphabet [A-Za-z0-9+/] and a NUL.
 * Uses OpenSSL RAND_bytes. ufrag: len 16 (>= 4), pwd: len 24 (>= 22). */
void sfu_ice_random_string(char *buf, size_t len);

#endif
