/* TURN REST API credentials (signaling/turn_creds.h): the password is what coturn's
 * use-auth-secret computes (checked against Python's hmac/base64 for one vector), the
 * username carries expiry and participant, and no TURN configured means no ICE servers. */
#include <jansson.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "turn_creds.h"

int main(void)
{
    char pw[64];
    CHECK(dc_turn_password((const uint8_t *)"north-secret", 12, "1700021600:p7", pw, sizeof pw));
    CHECK(strcmp(pw, "EXusYG7KzLZM8EQfYjuFY2JB6pE=") == 0);
    CHECK(!dc_turn_password((const uint8_t *)"north-secret", 12, "1700021600:p7", pw, 20)); /* no room */

    dc_config cfg;
    dc_config_defaults(&cfg);
    json_t *none = dc_turn_ice_servers(&cfg, "p7", 1700000000);
    CHECK(json_is_array(none) && json_array_size(none) == 0);
    json_decref(none);

    snprintf(cfg.turn_urls, sizeof cfg.turn_urls,
             "turns:t.example.vn:443?transport=tcp, turn:t.example.vn:3478?transport=tcp");
    none = dc_turn_ice_servers(&cfg, "p7", 1700000000); /* URLs without a secret: nothing usable */
    CHECK(json_array_size(none) == 0);
    json_decref(none);

    memcpy(cfg.turn_secret, "north-secret", 12);
    cfg.turn_secret_len = 12;
    cfg.turn_ttl_seconds = 21600;
    json_t *list = dc_turn_ice_servers(&cfg, "p7", 1700000000);
    CHECK(json_array_size(list) == 1);
    json_t *s = json_array_get(list, 0);
    json_t *urls = json_object_get(s, "urls");
    CHECK(json_array_size(urls) == 2);
    CHECK(strcmp(json_string_value(json_array_get(urls, 0)), "turns:t.example.vn:443?transport=tcp") == 0);
    CHECK(strcmp(json_string_value(json_array_get(urls, 1)), "turn:t.example.vn:3478?transport=tcp") == 0);
    CHECK(strcmp(json_string_value(json_object_get(s, "username")), "1700021600:p7") == 0);
    CHECK(strcmp(json_string_value(json_object_get(s, "credential")), "EXusYG7KzLZM8EQfYjuFY2JB6pE=") == 0);
    json_decref(list);
    return CHECK_RESULT();
}
