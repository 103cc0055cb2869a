/* Maps a join token's verification to the join's error code (join_auth.h). */
#include "join_auth.h"

#include <stdio.h>
#include <string.h>

dc_error_code dc_join_authorize(const uint8_t *secret, size_t secret_len, const char *token, const char *room,
                                int64_t now_s, dc_token_claims *out, char *msg, size_t msg_len)
{
    if (!token) {
        memset(out, 0, sizeof *out);
        snprintf(msg, msg_len, "join needs a token");
        return DC_ERR_UNAUTHORIZED;
    }
    switch (dc_token_verify(token, strlen(token), secret, secret_len, now_s, out, msg, msg_len)) {
    case DC_TOKEN_OK: break;
    case DC_TOKEN_NOT_YET_VALID:
    case DC_TOKEN_EXPIRED: return DC_ERR_TOKEN_EXPIRED;
    default: return DC_ERR_UNAUTHORIZED;
    }
    if (!dc_token_admits(out, room)) {
        snprintf(msg, msg_len, "the token does not admit to this room");
        return DC_ERR_WRONG_ROOM;
    }
    return DC_OK;
}
