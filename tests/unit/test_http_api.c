/* The HTTP API without sockets: routing (http_api.c) and the development-mode handlers
 * (dev_token.c) on crafted requests. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "dev_token.h"
#include "http_api.h"
#include "token.h"

static int calls_a, calls_ab;
static bool handler_a(void *user, const dc_http_request *req, dc_http_response *resp)
{
    calls_a++;
    if (!strcmp(req->path, "/api/a/declined")) return false;
    dc_http_api_error(resp, 200, "a", NULL);
    return true;
}
static bool handler_ab(void *user, const dc_http_request *req, dc_http_response *resp)
{
    calls_ab++;
    dc_http_api_error(resp, 200, "ab", NULL);
    return true;
}

static dc_http_request request(const char *method, const char *path, const char *peer, const char *body)
{
    return (dc_http_request){.method = method,
                             .path = path,
                             .query = "",
                             .authorization = "",
                             .peer_ip = peer,
                             .body = body,
                             .body_len = body ? strlen(body) : 0};
}

/* Dispatches and returns the parsed body (NULL if not JSON); *status gets the status. */
static json_t *call(dc_http_api *api, dc_http_request req, int *status)
{
    dc_http_response resp;
    if (!dc_http_api_dispatch(api, &req, &resp)) {
        *status = 0;
        return NULL;
    }
    *status = resp.status;
    json_error_t jerr;
    json_t *body = json_loadb(resp.body, resp.body_len, 0, &jerr);
    CHECK(resp.content_type && !strcmp(resp.content_type, "application/json"));
    free(resp.body);
    return body;
}

static bool has_error(json_t *body, const char *code)
{
    const char *e = json_string_value(json_object_get(body, "error"));
    return e && !strcmp(e, code) && json_is_string(json_object_get(body, "message"));
}

static void test_routing(void)
{
    dc_http_api *api = dc_http_api_new();
    dc_http_api_route(api, "/api/a", handler_a, NULL);
    dc_http_api_route(api, "/api/a/b", handler_ab, NULL); /* longer: tried first */
    int status;
    json_t *body = call(api, request("GET", "/api/a/b/c", "127.0.0.1", NULL), &status);
    CHECK(status == 200 && has_error(body, "ab") && calls_ab == 1 && calls_a == 0);
    json_decref(body);
    body = call(api, request("GET", "/api/a/x", "127.0.0.1", NULL), &status);
    CHECK(status == 200 && has_error(body, "a") && calls_a == 1);
    json_decref(body);
    /* A declining handler lets the API answer 404 under /api; other paths are files. */
    body = call(api, request("GET", "/api/a/declined", "127.0.0.1", NULL), &status);
    CHECK(status == 404 && has_error(body, "not_found"));
    json_decref(body);
    body = call(api, request("GET", "/admin", "127.0.0.1", NULL), &status);
    CHECK(status == 404 && has_error(body, "not_found"));
    json_decref(body);
    body = call(api, request("GET", "/index.html", "127.0.0.1", NULL), &status);
    CHECK(status == 0 && !body);
    body = call(api, request("GET", "/apis", "127.0.0.1", NULL), &status);
    CHECK(status == 0 && !body);
    dc_http_api_free(api);
}

static void test_dev_token(void)
{
    dc_config cfg;
    dc_config_defaults(&cfg);
    memcpy(cfg.token_secret, "unit-test-secret-unit-test-secret!", 34);
    cfg.token_secret_len = 34;
    dc_http_api *api = dc_http_api_new();
    dc_dev_token_routes(api, &cfg);
    int status;

    const char *good = "{\"room\":\"Họp tỉnh\",\"name\":\" Xã A \",\"role\":\"delegate\",\"site\":\"Xã A\"}";
    static const char *const allowed[] = {"127.0.0.1", "::1", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        json_t *body = call(api, request("POST", "/api/dev-token", allowed[i], good), &status);
        const char *token = json_string_value(json_object_get(body, "token"));
        CHECK(status == 200 && token && json_integer_value(json_object_get(body, "expires_in")) == 43200);
        dc_token_claims c;
        char msg[128];
        CHECK(token && dc_token_verify(token, strlen(token), cfg.token_secret, cfg.token_secret_len, time(NULL), &c,
                                       msg, sizeof msg) == DC_TOKEN_OK);
        CHECK(!strcmp(c.room, "Họp tỉnh") && !strcmp(c.name, "Xã A") && !strcmp(c.site, "Xã A"));
        CHECK(c.role == DC_ROLE_DELEGATE && c.grants == dc_role_default_grants(DC_ROLE_DELEGATE) && c.sub[0]);
        CHECK(c.exp >= time(NULL) + 43200 - 5 && c.exp <= time(NULL) + 43200);
        json_decref(body);
    }
    /* Outside the allowed ranges, or no address at all. */
    static const char *const refused[] = {"10.1.2.3", "127.0.0.2", "::2", "fe80::1", "", "garbage"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        json_t *body = call(api, request("POST", "/api/dev-token", refused[i], good), &status);
        CHECK(status == 403 && has_error(body, "forbidden"));
        json_decref(body);
    }
    /* Wider ranges from the configuration. */
    cfg.n_dev_token_clients = 2;
    CHECK(dc_cidr_parse("10.0.0.0/8", &cfg.dev_token_clients[0]) &&
          dc_cidr_parse("fd00::/8", &cfg.dev_token_clients[1]));
    json_t *body = call(api, request("POST", "/api/dev-token", "10.200.0.1", good), &status);
    CHECK(status == 200);
    json_decref(body);
    body = call(api, request("POST", "/api/dev-token", "fdab::7", good), &status);
    CHECK(status == 200);
    json_decref(body);
    body = call(api, request("POST", "/api/dev-token", "11.0.0.1", good), &status);
    CHECK(status == 403);
    json_decref(body);
    dc_config_defaults(&cfg);
    memcpy(cfg.token_secret, "unit-test-secret-unit-test-secret!", 34);
    cfg.token_secret_len = 34;

    /* Bad requests. */
    static const char *const bad[] = {
        NULL,
        "not json",
        "[]",
        "{\"room\":\"r\",\"name\":\"A\"}",
        "{\"room\":\"r\",\"name\":\"A\",\"role\":\"king\"}",
        "{\"room\":\"r\",\"name\":\"A\",\"role\":7}",
        "{\"room\":\"\",\"name\":\"A\",\"role\":\"chair\"}",
        "{\"room\":\"r\",\"name\":\"A\\u0001\",\"role\":\"chair\"}",
        "{\"room\":\"r\",\"name\":\"A\",\"role\":\"chair\",\"site\":5}",
        "{\"room\":\"r\",\"name\":\"0123456789012345678901234567890123456789012345678901234567890123456789\","
        "\"role\":\"chair\"}",
        "{\"name\":\"A\",\"role\":\"chair\"}",                            /* neither room nor scope */
        "{\"scope\":\"huyện-a\",\"name\":\"A\",\"role\":\"chair\"}",      /* not a node id */
        "{\"scope\":7,\"room\":\"r\",\"name\":\"A\",\"role\":\"chair\"}", /* not a string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        body = call(api, request("POST", "/api/dev-token", "127.0.0.1", bad[i]), &status);
        CHECK(status == 400 && has_error(body, "bad_request"));
        json_decref(body);
    }
    /* A token scoped to a room tree node (issue 13), with or without a room. */
    static const char *const scoped[] = {"{\"scope\":\"huyen-a\",\"name\":\"A\",\"role\":\"chair\"}",
                                         "{\"scope\":\"huyen-a\",\"room\":\"tinh\",\"name\":\"A\",\"role\":\"chair\"}"};
    for (size_t i = 0; i < 2; i++) {
        body = call(api, request("POST", "/api/dev-token", "127.0.0.1", scoped[i]), &status);
        const char *token = json_string_value(json_object_get(body, "token"));
        dc_token_claims c;
        char msg[128];
        CHECK(status == 200 && token &&
              dc_token_verify(token, strlen(token), cfg.token_secret, cfg.token_secret_len, time(NULL), &c, msg,
                              sizeof msg) == DC_TOKEN_OK &&
              !strcmp(c.scope, "huyen-a") && !strcmp(c.room, i ? "tinh" : "") && c.role == DC_ROLE_CHAIR);
        json_decref(body);
    }
    body = call(api, request("GET", "/api/dev-token", "127.0.0.1", NULL), &status);
    CHECK(status == 405);
    json_decref(body);

    body = call(api, request("GET", "/api/info", "10.9.9.9", NULL), &status);
    CHECK(status == 200 && json_is_true(json_object_get(body, "dev_mode")));
    json_decref(body);

    /* Development mode off: the path does not exist, for anyone. */
    cfg.dev_mode = false;
    body = call(api, request("POST", "/api/dev-token", "127.0.0.1", good), &status);
    CHECK(status == 404 && has_error(body, "not_found"));
    json_decref(body);
    body = call(api, request("GET", "/api/info", "127.0.0.1", NULL), &status);
    CHECK(status == 200 && json_is_false(json_object_get(body, "dev_mode")));
    json_decref(body);
    dc_http_api_free(api);
}

static void test_cidr(void)
{
    dc_cidr r;
    static const char *const invalid[] = {"",
                                          "/8",
                                          "10.0.0.0/33",
                                          "::/129",
                                          "10.0.0.0/",
                                          "10.0.0.0/-1",
                                          "10.0.0.0/8x",
                                          "host.example",
                                          "10.0.0.0/8/8",
                                          "::1.2.3.4/128"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) CHECK(!dc_cidr_parse(invalid[i], &r));
    CHECK(dc_cidr_parse("192.168.1.0/23", &r) && dc_cidr_contains(&r, "192.168.0.255") &&
          !dc_cidr_contains(&r, "192.168.2.0") && !dc_cidr_contains(&r, "::1"));
    CHECK(dc_cidr_parse("0.0.0.0/0", &r) && dc_cidr_contains(&r, "8.8.8.8") && !dc_cidr_contains(&r, "2001:db8::1"));
    CHECK(dc_cidr_parse("2001:db8::/33", &r) && dc_cidr_contains(&r, "2001:db8:7fff::1") &&
          !dc_cidr_contains(&r, "2001:db8:8000::1"));
    CHECK(dc_cidr_parse("10.1.2.3", &r) && r.prefix_len == 32 && dc_cidr_contains(&r, "::ffff:10.1.2.3"));
    char text[DC_CIDR_TEXT_MAX];
    dc_cidr_format(&r, text, sizeof text);
    CHECK(!strcmp(text, "10.1.2.3/32"));
}

int main(void)
{
    test_cidr();
    test_routing();
    test_dev_token();
    return CHECK_RESULT();
}
