/* The ICE servers a page is given (RTCPeerConnection iceServers): the configured TURN
 * server with short-lived credentials of the TURN REST API scheme that coturn checks with
 * use-auth-secret / static-auth-secret: username "<expiry unix time>:<participant>",
 * password base64(HMAC-SHA1(secret, username)). No TURN configured: an empty list (and no
 * public STUN server: the SFU's own candidates are all a page needs when UDP flows). */
#ifndef DC_TURN_CREDS_H
#define DC_TURN_CREDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* A JSON array: [] or [{"urls":[…], "username":…, "credential":…}] (new reference). */
json_t *dc_turn_ice_servers(const dc_config *cfg, const char *participant, int64_t now_s);

/* The password for `username` (base64 of HMAC-SHA1); false if out doesn't hold it. */
bool dc_turn_password(const uint8_t *secret, size_t secret_len, const char *username, char *out, size_t out_len);

#endif
