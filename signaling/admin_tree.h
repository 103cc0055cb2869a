/* GET /admin/rooms.json (admin credential, as admin_api.h): the room tree with each room's
 * live participant count, for the technicians' dashboard: {"root", "nodes": [{"id", "name",
 * "kind", "parent", "chair", "depth", "participants"}]} (meeting.h). 503 while the server
 * starts or stops. */
#ifndef DC_ADMIN_TREE_H
#define DC_ADMIN_TREE_H

#include "config.h"
#include "http_api.h"
#include "meeting.h"

/* *meeting is read at each request (NULL while starting); cfg and meeting outlive api. */
void dc_admin_tree_routes(dc_http_api *api, const dc_config *cfg, dc_meeting *const *meeting);

#endif
