/* TURN REST API credentials (turn_creds.h). */
#include "turn_creds.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

bool dc_turn_password(const uint8_t *secret, size_t secret_len, const char *username, char *out, size_t out_len)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha1(), secret, (int)secret_len, (const uint8_t *)username, strlen(username), mac, &mac_len))
        return false;
    if (out_len < 4 * ((mac_len + 2) / 3) + 1) return false;
    EVP_EncodeBlock((uint8_t *)out, mac, (int)mac_len); /* NUL-terminated, no newline */
    return true;
}

/* turn_urls: separated by spaces or commas */
static json_t *url_list(const char *urls)
{
    json_t *list = json_array();
    const char *p = urls;
    while (*p) {
        p += strspn(p, " ,\t");
        size_t n = strcspn(p, " ,\t");
        if (n) json_array_append_new(list, json_stringn(p, n));
        p += n;
    }
    return list;
}

json_t *dc_turn_ice_servers(const dc_config *cfg, const char *participant, int64_t now_s)
{
    json_t *servers = json_array();
    json_t *urls = url_list(cfg->turn_urls);
    if (json_array_size(urls) == 0 || cfg->turn_secret_len == 0) {
        json_decref(urls);
        return servers;
    }
    char username[160], password[64];
    snprintf(username, sizeof username, "%lld:%s", (long long)(now_s + cfg->turn_ttl_seconds), participant);
    if (!dc_turn_password((const uint8_t *)cfg->turn_secret, cfg->turn_secret_len, username, password,
                          sizeof password)) {
        json_decref(urls);
        return servers;
    }
    json_array_append_new(servers,
                          json_pack("{s:o, s:s, s:s}", "urls", urls, "username", username, "credential", password));
    return servers;
}
