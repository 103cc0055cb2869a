/* See dev_token.h. The checks come in the order that tells a caller the most useful thing
 * first: development mode off (404, as if the path did not exist), a client outside the
 * allowed ranges (403), then the request itself (405, 400). */
#include "dev_token.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"
#include "token.h"

#ifndef DC_VERSION
#define DC_VERSION "unknown"
#endif

static bool client_allowed(const dc_config *cfg, const char *ip)
{
    for (size_t i = 0; i < cfg->n_dev_token_clients; i++)
        if (dc_cidr_contains(&cfg->dev_token_clients[i], ip)) return true;
    return false;
}

/* A string member, NULL when absent or not a string (the claims' checks then name it). */
static const char *text_member(json_t *body, const char *key) { return json_string_value(json_object_get(body, key)); }

/* The claims a development token carries: the request's room and/or scope (a room tree
 * node: its rooms and the chair's rights in them only), name, role and site, a random sub (each mint is another person) and DC_DEV_TOKEN_TTL_SECONDS of validity. */
static bool claims_from_body(json_t *body, dc_token_claims *c, char *why, size_t why_len)
{
    if (!json_is_object(body)) {
        snprintf(why, why_len, "the body must be a JSON object {\"room\",\"name\",\"role\",\"site\"?}");
        return false;
    }
    json_t *site = json_object_get(body, "site");
    if (site && !json_is_string(site)) {
        snprintf(why, why_len, "\"site\" must be a string");
        return false;
    }
    const char *room = text_member(body, "room"), *scope = text_member(body, "scope");
    if ((!room && !scope) || (json_object_get(body, "scope") && !scope)) {
        snprintf(why, why_len, "\"room\" (or \"scope\", a room tree node id) must be a string");
        return false;
    }
    if (!dc_token_claims_from_text(c, room, NULL, scope, text_member(body, "name"), json_string_value(site),
                                   text_member(body, "role"), NULL, why, why_len))
        return false;
    c->exp = (int64_t)time(NULL) + DC_DEV_TOKEN_TTL_SECONDS;
    return true;
}

bool dc_dev_token_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const dc_config *cfg = user;
    if (strcmp(req->path, "/api/dev-token")) return false;
    if (!cfg->dev_mode) {
        dc_http_api_error(resp, 404, "not_found", "development mode is off: ask the organiser for a join link");
        return true;
    }
    if (!client_allowed(cfg, req->peer_ip)) {
        dc_http_api_error(resp, 403, "forbidden", "this address may not mint development tokens (dev_token_clients)");
        return true;
    }
    if (strcmp(req->method, "POST")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use POST");
        return true;
    }
    json_error_t jerr;
    json_t *body = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    dc_token_claims claims;
    char why[160];
    bool ok = body ? claims_from_body(body, &claims, why, sizeof why)
                   : (snprintf(why, sizeof why, "the body is not JSON"), false);
    json_decref(body);
    if (!ok) {
        dc_http_api_error(resp, 400, "bad_request", why);
        return true;
    }
    char *token = dc_token_sign(&claims, cfg->token_secret, cfg->token_secret_len);
    if (!token) {
        dc_http_api_error(resp, 500, "internal", "cannot sign the token");
        return true;
    }
    dc_http_api_json(resp, json_pack("{s:s, s:i}", "token", token, "expires_in", DC_DEV_TOKEN_TTL_SECONDS));
    free(token);
    return true;
}

bool dc_api_info_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const dc_config *cfg = user;
    if (strcmp(req->path, "/api/info")) return false;
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    dc_http_api_json(resp, json_pack("{s:b, s:s}", "dev_mode", cfg->dev_mode, "version", DC_VERSION));
    return true;
}

void dc_dev_token_routes(dc_http_api *api, const dc_config *cfg)
{
    dc_http_api_route(api, "/api/dev-token", dc_dev_token_handle, (void *)cfg);
    dc_http_api_route(api, "/api/info", dc_api_info_handle, (void *)cfg);
}
