/* Routing of the HTTP API (http_api.h): a short list of prefixes, longest first. */
#include "http_api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *prefix;
    size_t len;
    dc_http_handler handler;
    void *user;
} route;

struct dc_http_api {
    route *routes; /* longest prefix first */
    size_t n;
};

dc_http_api *dc_http_api_new(void) { return calloc(1, sizeof(dc_http_api)); }

void dc_http_api_free(dc_http_api *api)
{
    if (!api) return;
    for (size_t i = 0; i < api->n; i++) free(api->routes[i].prefix);
    free(api->routes);
    free(api);
}

void dc_http_api_route(dc_http_api *api, const char *prefix, dc_http_handler handler, void *user)
{
    route *grown = realloc(api->routes, (api->n + 1) * sizeof *grown);
    if (!grown) abort(); /* at start-up only */
    api->routes = grown;
    size_t len = strlen(prefix), at = 0;
    while (at < api->n && api->routes[at].len >= len) at++;
    memmove(&api->routes[at + 1], &api->routes[at], (api->n - at) * sizeof *grown);
    api->routes[at] = (route){strdup(prefix), len, handler, user};
    api->n++;
}

/* The paths the API owns even when no route takes them: they never fall through to files. */
static bool is_api_path(const char *path)
{
    static const char *const roots[] = {"/api", "/admin", "/metrics"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        size_t n = strlen(roots[i]);
        if (!strncmp(path, roots[i], n) && (path[n] == '\0' || path[n] == '/')) return true;
    }
    return false;
}

bool dc_http_api_dispatch(dc_http_api *api, const dc_http_request *req, dc_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    for (size_t i = 0; i < api->n; i++) {
        const route *r = &api->routes[i];
        if (!strncmp(req->path, r->prefix, r->len) && r->handler(r->user, req, resp)) return true;
    }
    if (!is_api_path(req->path)) return false;
    dc_http_api_error(resp, 404, "not_found", "no such API path");
    return true;
}

void dc_http_api_error(dc_http_response *resp, int status, const char *code, const char *message)
{
    json_t *body = json_pack("{s:s, s:s}", "error", code, "message", message ? message : "");
    free(resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    free(resp->content_disposition);
    resp->content_disposition = NULL;
    resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(body);
}

void dc_http_api_json(dc_http_response *resp, json_t *body)
{
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(body);
    if (!resp->body) dc_http_api_error(resp, 500, "internal", "out of memory");
}
