/* See admin_live.h. The credential is checked before the path, as in admin_api.c. */
#include "admin_live.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "room_tree.h"

#define LIVE_ROOT "/admin/rooms/"
#define TRANSPORTS "/transports.json"
#define TREE_PATH "/admin/rooms.json"

typedef struct {
    const dc_config *cfg;
    dc_meeting *const *meeting;
} live_routes;

static bool authorized(const live_routes *r, const dc_http_request *req)
{
    return r->cfg->admin_token_len && dc_admin_authorized(r->cfg, req->authorization);
}

/* The meeting a request may go on with; NULL with a 503 in resp while the server starts
 * or stops. */
static dc_meeting *running_meeting(const live_routes *r, dc_http_response *resp)
{
    if (!*r->meeting) dc_http_api_error(resp, 503, "starting", "the server is starting or stopping");
    return *r->meeting;
}

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
    if (!authorized(r, req)) return dc_admin_handle((void *)r->cfg, req, resp); /* its 404 or 401 */
    char room[256];
    if (!room_of(req->path, room, sizeof room)) {
        dc_http_api_error(resp, 404, "not_found", "no such admin path: /admin/rooms/<room>/transports.json");
        return true;
    }
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    dc_meeting *m = running_meeting(r, resp);
    if (!m) return true;
    json_t *figures = dc_meeting_room_figures(m, room);
    if (!figures) {
        dc_http_api_error(resp, 404, "no_such_room", "nobody is in that room");
        return true;
    }
    dc_http_api_json(resp, figures);
    return true;
}

#define SITES_ROOT "/admin/sites/"
#define TIERS_ROOT "/admin/tiers/"
#define BUDGET "/budget"

/* "<root><name>/budget" → name (at most cap − 1 octets, no '/'); false if not. */
static bool budget_name_of(const char *path, const char *root, char *out, size_t cap)
{
    if (strncmp(path, root, strlen(root))) return false;
    const char *name = path + strlen(root), *slash = strrchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : 0;
    if (!len || len >= cap || strcmp(slash, BUDGET) || memchr(name, '/', len)) return false;
    memcpy(out, name, len);
    out[len] = 0;
    return true;
}

/* The body of a PUT, {"kbps": 1…10000000}; 0 when it is not that. */
static uint32_t kbps_of(const dc_http_request *req)
{
    json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    json_t *v = json_object_get(body, "kbps");
    bool ok = json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 10000000;
    uint32_t kbps = ok ? (uint32_t)json_integer_value(v) : 0;
    json_decref(body);
    return kbps;
}

/* What sites and tiers share: the credential, the meeting, the method, the PUT body.
 * True with *m and *kbps (0 for GET and DELETE) when the request may go on; false when
 * resp already holds the answer. */
static bool budget_request(const live_routes *r, const dc_http_request *req, dc_http_response *resp, dc_meeting **m,
                           uint32_t *kbps)
{
    *kbps = 0;
    if (!(*m = running_meeting(r, resp))) return false;
    if (!strcmp(req->method, "PUT")) {
        *kbps = kbps_of(req);
        if (*kbps) return true;
        dc_http_api_error(resp, 400, "bad_request", "send {\"kbps\": 1…10000000}; DELETE clears the budget");
        return false;
    }
    if (strcmp(req->method, "DELETE") && strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET, PUT or DELETE");
        return false;
    }
    return true;
}

static void budget_answer(dc_http_response *resp, const char *key, const char *name, uint32_t kbps)
{
    dc_http_api_json(resp, json_pack("{s:s, s:o}", key, name, "kbps", kbps ? json_integer(kbps) : json_null()));
}

/* PUT {"kbps": n} sets a site's downstream budget, DELETE clears it, GET reads it. */
static bool sites_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const live_routes *r = user;
    if (!authorized(r, req)) return dc_admin_handle((void *)r->cfg, req, resp); /* its 404 or 401 */
    char site[DC_CONFIG_SITE_NAME_MAX];
    if (!budget_name_of(req->path, SITES_ROOT, site, sizeof site)) {
        dc_http_api_error(resp, 404, "not_found", "no such admin path: /admin/sites/<site>/budget");
        return true;
    }
    dc_meeting *m;
    uint32_t kbps;
    if (!budget_request(r, req, resp, &m, &kbps)) return true;
    if (strcmp(req->method, "GET") && !dc_meeting_set_site_budget(m, site, kbps)) {
        dc_http_api_error(resp, 400, "bad_request", "the site name is too long");
        return true;
    }
    budget_answer(resp, "site", site, dc_meeting_site_budget(m, site));
    return true;
}

/* The same for every site of a tier (a room tree node kind) without its own budget. */
static bool tiers_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const live_routes *r = user;
    if (!authorized(r, req)) return dc_admin_handle((void *)r->cfg, req, resp); /* its 404 or 401 */
    char name[16];
    dc_node_kind tier = DC_NODE_KIND_COUNT;
    if (budget_name_of(req->path, TIERS_ROOT, name, sizeof name)) tier = dc_room_node_kind_parse(name);
    if (tier == DC_NODE_KIND_COUNT) {
        dc_http_api_error(resp, 404, "not_found",
                          "no such admin path: /admin/tiers/<province|district|commune|reception>/budget");
        return true;
    }
    dc_meeting *m;
    uint32_t kbps;
    if (!budget_request(r, req, resp, &m, &kbps)) return true;
    if (strcmp(req->method, "GET")) dc_meeting_set_tier_budget(m, (int)tier, kbps);
    budget_answer(resp, "tier", name, dc_meeting_tier_budget(m, (int)tier));
    return true;
}

/* The room tree with each room's live participant count. The credential is checked
 * before the method, as in admin_api.c. */
static bool tree_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const live_routes *r = user;
    if (strcmp(req->path, TREE_PATH)) return false;
    if (!authorized(r, req)) return dc_admin_handle((void *)r->cfg, req, resp); /* its 404 or 401 */
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    dc_meeting *m = running_meeting(r, resp);
    if (m) dc_http_api_json(resp, dc_meeting_tree_json(m));
    return true;
}

void dc_admin_live_routes(dc_http_api *api, const dc_config *cfg, dc_meeting *const *meeting)
{
    static live_routes routes; /* one server per process */
    routes = (live_routes){cfg, meeting};
    dc_http_api_route(api, "/admin/rooms", live_handle, &routes);
    dc_http_api_route(api, TREE_PATH, tree_handle, &routes);
    dc_http_api_route(api, "/admin/sites", sites_handle, &routes);
    dc_http_api_route(api, "/admin/tiers", tiers_handle, &routes);
}
