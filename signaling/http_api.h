/* The server's small HTTP API beside the static files and /ws: routes by path prefix to
 * handlers that turn a request into a response without touching lws, so they can be unit
 * tested. server.c reads the request (headers, up to DC_HTTP_API_MAX_BODY of body), calls
 * dc_http_api_dispatch, and writes the response. Routes (see docs/ and PROTOCOL.md):
 *   POST /api/dev-token        development mode only: a join token for {room,name,role}
 *   GET  /api/info             {"dev_mode":bool,"version":…}: what the join page needs
 *   GET  /admin/…              the meeting record export, with the admin credential
 *   GET  /metrics              Prometheus metrics, with the admin credential (metrics.h) */
#ifndef DC_HTTP_API_H
#define DC_HTTP_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define DC_HTTP_API_MAX_BODY 8192

typedef struct {
    const char *method;        /* "GET", "POST" … */
    const char *path;          /* without the query */
    const char *query;         /* after '?', "" if none */
    const char *authorization; /* the Authorization header, "" if none */
    const char *peer_ip;       /* the client's address, numeric ("127.0.0.1", "::1" …) */
    const char *body;          /* POST body (not NUL-terminated), may be NULL */
    size_t body_len;
} dc_http_request;

typedef struct {
    int status;               /* 200, 400, 401, 403, 404, 405, 413, 500 */
    const char *content_type; /* static string */
    char *body;               /* malloc'd, freed by the caller */
    size_t body_len;
    char *content_disposition; /* malloc'd or NULL (e.g. attachment for CSV), freed by the caller */
} dc_http_response;

/* A handler fills resp and returns true when it owns the path; false lets others try. */
typedef bool (*dc_http_handler)(void *user, const dc_http_request *req, dc_http_response *resp);

typedef struct dc_http_api dc_http_api;
dc_http_api *dc_http_api_new(void);
void dc_http_api_free(dc_http_api *api);
/* Paths starting with prefix go to handler (the longest matching prefix first). */
void dc_http_api_route(dc_http_api *api, const char *prefix, dc_http_handler handler, void *user);
/* true if a route handled it (resp filled); false: not an API path (static files). */
bool dc_http_api_dispatch(dc_http_api *api, const dc_http_request *req, dc_http_response *resp);
/* A JSON {"error":code,"message":…} response with the given status. */
void dc_http_api_error(dc_http_response *resp, int status, const char *code, const char *message);
/* A 200 response of body as compact JSON; takes the reference to body. */
void dc_http_api_json(dc_http_response *resp, json_t *body);

#endif
