/* Maps a join token's verification to the join's error code (join_auth.h). */
#include "join_auth.h"

#include <stdio.h>
#include <string.h>

void dc_join_apply_scope(const dc_room_tree *tree, const char *room, dc_token_claims *claims)
{
    if (!claims->scope[0] || dc_room_tree_within(tree, room, claims->scope)) return;
    if (claims->role == DC_ROLE_CHAIR) {
        claims->role = DC_ROLE_DELEGATE;
        claims->grants &= dc_role_default_grants(DC_ROLE_DELEGATE);
    }
    claims->grants &= ~DC_GRANT_MODERATE;
}

dc_error_code dc_join_authorize(const uint8_t *secret, size_t secret_len, const char *token, const char *room,
                                const dc_room_tree *tree, int64_t now_s, dc_token_claims *out, char *msg,
                                size_t msg_len)
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
    bool in_scope = out->scope[0] && dc_room_tree_within(tree, room, out->scope);
    if (!dc_token_admits(out, room) && !in_scope) {
        snprintf(msg, msg_len, "the token does not admit to this room");
        return DC_ERR_WRONG_ROOM;
    }
    dc_join_apply_scope(tree, room, out);
    return DC_OK;
}
