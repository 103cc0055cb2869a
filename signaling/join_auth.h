/* Whether a join may proceed: the join token's verdict as the protocol's error codes
 * (spec of issue 11): no token, a bad signature or a malformed token: unauthorized;
 * expired or not yet valid: token_expired; a token for another room: wrong_room.
 * A token with a `scope` (issue 13) admits to the scope node's room and every room below
 * it in the room tree, besides its room/room_prefix if any; its chair rights hold only
 * there: in a room outside its scope a chair enters as a delegate and nobody keeps the
 * `moderate` grant, so a district's chair cannot moderate another district or the
 * province. */
#ifndef DC_JOIN_AUTH_H
#define DC_JOIN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "room_tree.h"
#include "token.h"

/* token may be NULL (the join had none); room is join's normalised room; tree the room
 * tree (NULL: none, scopes then admit nowhere). On DC_OK, out holds the claims (name,
 * role, grants, site, sub) with the scope's limits applied; otherwise msg says why. */
dc_error_code dc_join_authorize(const uint8_t *secret, size_t secret_len, const char *token, const char *room,
                                const dc_room_tree *tree, int64_t now_s, dc_token_claims *out, char *msg,
                                size_t msg_len);
/* The rights of scoped claims in room: unchanged inside the scope (or without a scope);
 * outside it a chair becomes a delegate (the delegate's grants within its own) and the
 * `moderate` grant goes. */
void dc_join_apply_scope(const dc_room_tree *tree, const char *room, dc_token_claims *claims);

#endif
