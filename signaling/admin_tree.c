/* See admin_tree.h. The credential is checked before the method, as in admin_api.c. */
#include "admin_tree.h"

#include <string.h>

#include "admin_api.h"

#define TREE_PATH "/admin/rooms.json"

typedef struct {
    const dc_config *cfg;
    dc_meeting *const *meeting;
} tree_route;

static bool tree_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const tree_route *r = user;
    if (strcmp(req->path, TREE_PATH)) return false;
    if (!r->cfg->admin_token_len || !dc_admin_authorized(r->cfg, req->authorization))
        return dc_admin_handle((void *)r->cfg, req, resp); /* its 404 or 401 */
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    dc_meeting *m = *r->meeting;
    if (!m) {
        dc_http_api_error(resp, 503, "starting", "the server is starting or stopping");
        return true;
    }
    dc_http_api_json(resp, dc_meeting_tree_json(m));
    return true;
}

void dc_admin_tree_routes(dc_http_api *api, const dc_config *cfg, dc_meeting *const *meeting)
{
    static tree_route route; /* one server per process */
    route = (tree_route){cfg, meeting};
    dc_http_api_route(api, TREE_PATH, tree_handle, &route);
}
