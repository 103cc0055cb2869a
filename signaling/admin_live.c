/* See admin_live.h. The credential is checked before the path, as in admin_api.c. */
#include "admin_live.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"

#define LIVE_ROOT "/admin/rooms/"
#define TRANSPORTS "/transports.json"

typedef struct {
    const dc_config *cfg;
    dc_meeting *const *meeting;
} live_routes;

/* "/admin/rooms/<room>/transports.json" → room (at most cap − 1 octets, no '/'); false if not. */
static bool room_of(const char *path, char *room, size_t cap)
{
    if (strncmp(path, LIVE_ROOT, strlen(LIVE_ROOT))) return false;
    const char *name = path + strlen(LIVE_ROOT), *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : 0;
    if (!len || len >= cap || strcmp(slash, TRANSPORTS)) return false;
    memcpy(room, name, len);
    room[len] = 0;
    return true;
}

static bool live_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const live_routes *r = user;
    if (!r->cfg->admin_token_len) return dc_admin_handle((void *)r->cfg, req, resp); /* off: its 404 */
    if (!dc_admin_authorized(r->cfg, req->authorization)) return dc_admin_handle((void *)r->cfg, req, resp);
    char room[256];
    if (!room_of(req->path, room, sizeof room)) {
        dc_http_api_error(resp, 404, "not_found", "no such admin path: /admin/rooms/<room>/transports.json");
        return true;
    }
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    dc_meeting *m = *r->meeting;
    if (!m) {
        dc_http_api_error(resp, 503, "starting", "the server is starting or stopping");
        return true;
    }
    json_t *figures = dc_meeting_room_figures(m, room);
    if (!figures) {
        dc_http_api_error(resp, 404, "no_such_room", "nobody is in that room");
        return true;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = json_dumps(figures, JSON_COMPACT);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(figures);
    if (!resp->body) dc_http_api_error(resp, 500, "internal", "out of memory");
    return true;
}

void dc_admin_live_routes(dc_http_api *api, const dc_config *cfg, dc_meeting *const *meeting)
{
    static live_routes routes; /* one server per process */
    routes = (live_routes){cfg, meeting};
    dc_http_api_route(api, "/admin/rooms", live_handle, &routes);
}
