/* Signed join tokens: JWT (RFC 7519) in compact JWS form (RFC 7515), HS256 only, over the
 * server secret, checked with OpenSSL HMAC in constant time. Claims:
 *   sub   participant id of the person/site (stable across meetings; kept in the record), 1–64 bytes
 *   name  display name (same rules as join's name)
 *   site  site label, e.g. "UBND xã Tân Lập" (optional, ≤ 64 code points)
 *   room  the room it admits to (NFC, same rules as join's room)   — exactly one of room,
 *   room_prefix  admits to every room whose name starts with it    — room / room_prefix
 *   scope  a room tree node id (room_tree.h): admits to that node's room and every room
 *          below it, and confines the token's chair rights to them (join_auth.h); at
 *          least one of room, room_prefix and scope, never both room and room_prefix
 *   role  "chair" | "official" | "delegate" | "observer"
 *   grants  optional array of grant names; absent = the role's defaults
 *   nbf, exp  NumericDate (seconds); exp required; iat optional
 * The header must be {"alg":"HS256","typ":"JWT"} (typ optional); any other alg ("none"
 * included) is refused. */
#ifndef DC_TOKEN_H
#define DC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "roles.h"
#include "room_tree.h"

#define DC_TOKEN_SECRET_MIN_BYTES 32 /* a shorter secret is weak: refused outside development mode */
#define DC_TOKEN_SUB_MAX_BYTES 64
#define DC_SITE_MAX_BYTES (64 * 4)

typedef struct {
    char sub[DC_TOKEN_SUB_MAX_BYTES + 1];
    char name[DC_NAME_MAX_BYTES + 1];
    char site[DC_SITE_MAX_BYTES + 1]; /* "" when absent */
    char room[DC_ROOM_MAX_BYTES + 1]; /* "" when room_prefix is used */
    char room_prefix[DC_ROOM_MAX_BYTES + 1];
    char scope[DC_ROOM_TREE_ID_MAX + 1]; /* "" = not scoped */
    dc_role role;
    dc_grants grants;
    int64_t nbf, exp; /* seconds since the epoch; nbf 0 = absent */
} dc_token_claims;

typedef enum {
    DC_TOKEN_OK = 0,
    DC_TOKEN_MALFORMED, /* not three base64url parts, bad JSON, missing/invalid claim */
    DC_TOKEN_BAD_SIGNATURE,
    DC_TOKEN_BAD_ALG,
    DC_TOKEN_NOT_YET_VALID, /* now < nbf - leeway */
    DC_TOKEN_EXPIRED,       /* now >= exp + leeway */
} dc_token_status;

#define DC_TOKEN_LEEWAY_SECONDS 30 /* clock skew between the minting machine and this one */

/* Verifies signature, header and claims at now_s. msg gets a human reason on failure. */
dc_token_status dc_token_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len, int64_t now_s,
                                dc_token_claims *out, char *msg, size_t msg_len);
/* Signs claims (nbf/sub/site may be empty/0); returns a malloc'd compact JWT or NULL. */
char *dc_token_sign(const dc_token_claims *claims, const uint8_t *secret, size_t secret_len);
/* True when the claims admit to room (exact match, or room_prefix is a prefix of it). */
bool dc_token_admits(const dc_token_claims *claims, const char *room);
/* Claims from what a person typed (the `token` command, /api/dev-token), by the rules the
 * verifier applies: room or room_prefix (at most one; both NULL needs a scope), scope (NULL =
 * none), name, site (NULL = none), role by
 * name, the role's grants; sub NULL = a random one. exp and nbf are left 0 for the caller.
 * False with the reason in msg. */
bool dc_token_claims_from_text(dc_token_claims *c, const char *room, const char *room_prefix, const char *scope,
                               const char *name, const char *site, const char *role, const char *sub, char *msg,
                               size_t msg_len);

#endif
