/* Whether a join may proceed: the join token's verdict as the protocol's error codes
 * (spec of issue 11): no token, a bad signature or a malformed token: unauthorized;
 * expired or not yet valid: token_expired; a token for another room: wrong_room. */
#ifndef DC_JOIN_AUTH_H
#define DC_JOIN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "token.h"

/* token may be NULL (the join had none); room is join's normalised room. On DC_OK, out
 * holds the claims (name, role, grants, site, sub); otherwise msg says why. */
dc_error_code dc_join_authorize(const uint8_t *secret, size_t secret_len, const char *token, const char *room,
                                int64_t now_s, dc_token_claims *out, char *msg, size_t msg_len);

#endif
