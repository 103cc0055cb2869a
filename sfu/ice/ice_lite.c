/* ICE-lite STUN responder on top of libnice's STUN library (see ice_lite.h).
 *
 * Flow for one datagram:
 *   1. structural check (header, attribute lengths, magic cookie) -> MALFORMED;
 *   2. anything but a Binding request -> IGNORED (a lite agent sends no requests, so
 *      responses and indications need no answer);
 *   3. stun_agent_validate(): FINGERPRINT, then USERNAME -> password through the
 *      caller's lookup, then MESSAGE-INTEGRITY;
 *   4. stun_usage_ice_conncheck_create_reply() as the controlled agent.
 * Nothing here allocates, locks or logs: the StunMessage structs live on the stack
 * and the reply is written straight into out->reply. */
#include "ice/ice_lite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <openssl/rand.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#define STUN_HEADER_LEN 20
#define STUN_HMAC_SHA1_LEN 20

/* Attributes a browser's Binding request may carry that require comprehension
 * (< 0x8000) or that we read. Must outlive every agent: libnice keeps the pointer. */
static const uint16_t known_attributes[] = {
    STUN_ATTRIBUTE_USERNAME,        STUN_ATTRIBUTE_MESSAGE_INTEGRITY,  STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_PRIORITY,        STUN_ATTRIBUTE_USE_CANDIDATE,      STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, 0,
};

struct sfu_ice_agent {
    StunAgent stun;
};

sfu_ice_agent *sfu_ice_agent_new(void)
{
    sfu_ice_agent *agent = calloc(1, sizeof *agent);
    if (!agent) return NULL;
    stun_agent_init(&agent->stun, known_attributes, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    return agent;
}

void sfu_ice_agent_free(sfu_ice_agent *agent) { free(agent); }

const char *sfu_ice_result_str(sfu_ice_result r)
{
    switch (r) {
    case SFU_ICE_REPLY: return "reply";
    case SFU_ICE_IGNORED: return "ignored";
    case SFU_ICE_MALFORMED: return "malformed";
    case SFU_ICE_UNKNOWN_UFRAG: return "unknown-ufrag";
    case SFU_ICE_UNAUTHORIZED: return "unauthorized";
    case SFU_ICE_ROLE_CONFLICT: return "role-conflict";
    }
    return "invalid-result";
}

/* What the validater callback learned about the USERNAME; stun_agent_validate()
 * reports both "no such user" and "bad HMAC" as UNAUTHORIZED, this tells them apart. */
typedef enum {
    CREDENTIALS_NOT_ASKED,
    CREDENTIALS_BAD_USERNAME, /* no ':' separator */
    CREDENTIALS_UNKNOWN_UFRAG,
    CREDENTIALS_FOUND,
} credentials_outcome;

typedef struct {
    sfu_ice_pwd_lookup_fn lookup;
    void *user;
    sfu_ice_answer_t *out;
    credentials_outcome outcome;
} credentials_query;

static bool password_for_username(StunAgent *agent, StunMessage *message, uint8_t *username, uint16_t username_len,
                                  uint8_t **password, size_t *password_len, void *data)
{
    (void)agent;
    (void)message;
    credentials_query *query = data;
    const uint8_t *colon = username ? memchr(username, ':', username_len) : NULL;
    if (!colon) {
        query->outcome = CREDENTIALS_BAD_USERNAME;
        return false;
    }
    size_t ufrag_len = (size_t)(colon - username);
    const char *pwd = NULL;
    size_t pwd_len = 0;
    query->outcome = CREDENTIALS_UNKNOWN_UFRAG;
    if (ufrag_len == 0 || ufrag_len > SFU_ICE_UFRAG_MAX) return false;
    if (!query->lookup(query->user, (const char *)username, ufrag_len, &pwd, &pwd_len)) return false;
    /* libnice skips the HMAC check entirely for an empty key: never allow that. */
    if (!pwd || pwd_len == 0) return false;

    memcpy(query->out->local_ufrag, username, ufrag_len);
    query->out->local_ufrag[ufrag_len] = '\0';
    *password = (uint8_t *)pwd; /* libnice only reads it */
    *password_len = pwd_len;
    query->outcome = CREDENTIALS_FOUND;
    return true;
}

/* Checks what stun_agent_validate() does not: libnice 0.1.21 hashes and compares 20
 * bytes at MESSAGE-INTEGRITY without checking the attribute's length, so a short one
 * would make it read past the datagram. Call only on a length-validated message. */
static bool integrity_attribute_well_formed(const StunMessage *msg)
{
    uint16_t mi_len = 0;
    if (!stun_message_find(msg, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, &mi_len)) return true;
    return mi_len == STUN_HMAC_SHA1_LEN;
}

/* Copies `from` into the storage libnice wants; false unless it is IPv4 or IPv6. */
static bool copy_peer_address(const struct sockaddr *from, socklen_t from_len, struct sockaddr_storage *peer,
                              socklen_t *peer_len)
{
    if (!from || from_len < (socklen_t)sizeof(sa_family_t)) return false;
    socklen_t need;
    if (from->sa_family == AF_INET) need = sizeof(struct sockaddr_in);
    else if (from->sa_family == AF_INET6) need = sizeof(struct sockaddr_in6);
    else return false;
    if (from_len < need) return false;
    memcpy(peer, from, need);
    *peer_len = need;
    return true;
}

static sfu_ice_result result_of_validation(StunValidationStatus status, credentials_outcome outcome)
{
    switch (status) {
    case STUN_VALIDATION_SUCCESS: return SFU_ICE_REPLY;
    case STUN_VALIDATION_UNAUTHORIZED:
        if (outcome == CREDENTIALS_UNKNOWN_UFRAG) return SFU_ICE_UNKNOWN_UFRAG;
        if (outcome == CREDENTIALS_BAD_USERNAME) return SFU_ICE_MALFORMED;
        return SFU_ICE_UNAUTHORIZED;
    case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST:  /* USERNAME or MESSAGE-INTEGRITY missing */
    case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE: /* would deserve a 420; browsers never */
    default: return SFU_ICE_MALFORMED;
    }
}

static void reset_answer(sfu_ice_answer_t *out)
{
    out->local_ufrag[0] = '\0';
    out->use_candidate = false;
    out->reply_len = 0;
}

/* A lite agent is always controlled (RFC 8445 §6.1.1). With our tie-breaker 0, libnice
 * (RFC 8445 §7.3.1.1) answers a peer that also claims the controlled role with a 487
 * Role Conflict error telling it to take control, and returns ROLE_CONFLICT. Only a
 * peer tie-breaker of 0 would make libnice switch us to controlling: that is dropped. */
static sfu_ice_result build_reply(StunAgent *stun, StunMessage *request, const struct sockaddr_storage *peer,
                                  socklen_t peer_len, sfu_ice_answer_t *out)
{
    bool controlling = false;
    StunMessage reply;
    size_t reply_len = sizeof out->reply;
    StunUsageIceReturn ret = stun_usage_ice_conncheck_create_reply(stun, request, &reply, out->reply, &reply_len, peer,
                                                                   peer_len, &controlling, 0,
                                                                   STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    bool answered = ret == STUN_USAGE_ICE_RETURN_SUCCESS || ret == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT;
    /* not answered: address problem, or the reply would exceed SFU_ICE_REPLY_MAX
     * (libnice echoes USERNAME; only a remote ufrag over ~130 bytes gets there) */
    if (!answered || reply_len == 0 || controlling) return SFU_ICE_MALFORMED;
    out->reply_len = reply_len;
    if (stun_message_get_class(&reply) != STUN_RESPONSE) return SFU_ICE_ROLE_CONFLICT;
    return SFU_ICE_REPLY;
}

sfu_ice_result sfu_ice_answer(sfu_ice_agent *agent, const uint8_t *msg, size_t len, const struct sockaddr *from,
                              socklen_t from_len, sfu_ice_pwd_lookup_fn lookup, void *user, sfu_ice_answer_t *out)
{
    reset_answer(out);
    if (!msg || len < STUN_HEADER_LEN || len > UINT16_MAX + STUN_HEADER_LEN) return SFU_ICE_MALFORMED;
    if (stun_message_validate_buffer_length(msg, len, true) != (int)len) return SFU_ICE_MALFORMED;

    StunMessage request = {.agent = &agent->stun, .buffer = (uint8_t *)msg, .buffer_len = len};
    if (!stun_message_has_cookie(&request)) return SFU_ICE_MALFORMED; /* RFC 3489 */
    if (stun_message_get_class(&request) != STUN_REQUEST) return SFU_ICE_IGNORED;
    if (stun_message_get_method(&request) != STUN_BINDING) return SFU_ICE_IGNORED;
    if (!integrity_attribute_well_formed(&request)) return SFU_ICE_MALFORMED;

    struct sockaddr_storage peer;
    socklen_t peer_len;
    if (!copy_peer_address(from, from_len, &peer, &peer_len)) return SFU_ICE_MALFORMED;

    credentials_query query = {.lookup = lookup, .user = user, .out = out};
    StunValidationStatus status = stun_agent_validate(&agent->stun, &request, msg, len, password_for_username, &query);
    sfu_ice_result result = result_of_validation(status, query.outcome);
    if (result == SFU_ICE_REPLY) result = build_reply(&agent->stun, &request, &peer, peer_len, out);
    if (result != SFU_ICE_REPLY) {
        out->local_ufrag[0] = '\0'; /* the caller must not bind the 5-tuple */
        return result;
    }
    out->use_candidate = stun_usage_ice_conncheck_use_candidate(&request);
    return SFU_ICE_REPLY;
}

void sfu_ice_random_string(char *buf, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    _Static_assert(sizeof alphabet - 1 == 64, "64 symbols: a byte's low 6 bits are uniform");
    uint8_t random_bytes[64];
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < sizeof random_bytes ? len - done : sizeof random_bytes;
        if (RAND_bytes(random_bytes, (int)chunk) != 1) {
            /* No randomness means guessable ICE passwords: refuse to continue. */
            fputs("sfu_ice_random_string: RAND_bytes failed\n", stderr);
            abort();
        }
        for (size_t i = 0; i < chunk; i++) buf[done + i] = alphabet[random_bytes[i] & 63];
        done += chunk;
    }
    buf[len] = '\0';
}

bool sfu_ice_local_ufrag(const uint8_t *msg, size_t len, char out[SFU_ICE_UFRAG_MAX + 1])
{
    if (len < 20 || (msg[0] & 0xc0)) return false;
    size_t body = (size_t)msg[2] << 8 | msg[3];
    if (body > len - 20) return false;
    size_t at = 20, end = 20 + body;
    while (end - at >= 4) {
        unsigned type = (unsigned)msg[at] << 8 | msg[at + 1];
        size_t alen = (size_t)msg[at + 2] << 8 | msg[at + 3];
        at += 4;
        if (alen > end - at) return false;
        if (type == 0x0006) { /* USERNAME */
            const uint8_t *colon = memchr(msg + at, ':', alen);
            size_t n = colon ? (size_t)(colon - (msg + at)) : 0;
            if (n == 0 || n > SFU_ICE_UFRAG_MAX) return false;
            memcpy(out, msg + at, n);
            out[n] = 0;
            return strlen(out) == n; /* no NUL inside */
        }
        at += (alen + 3) & ~(size_t)3; /* attributes are padded to 4 bytes */
        if (at > end) return false;
    }
    return false;
}
