/* The admin HTTP API: the meeting record (record.h) read over HTTP with the admin bearer
 * credential (admin_token / admin_token_file). Routes, all GET:
 *   /admin/meetings[.json|.csv]                       every meeting: id, room, start, end, people
 *   /admin/meetings/<id>/attendance.json|.csv         who attended, from when to when
 *   /admin/meetings/<id>/events.json|.csv             floor, moderation and chat, by time
 * Answers: 404 when no admin credential is configured (the API is off), 401 without the
 * right `Authorization: Bearer …`, 404 for an unknown path or meeting, 200 with the export
 * (CSV as an attachment named after the meeting). Each request reads through its own
 * read-only connection, so an export never holds a lock the meeting's writer waits on. It
 * runs on the lws thread: a 20 000-row event log takes ~70 ms (CSV) to ~200 ms (JSON); a
 * worker thread would be the next step if records grow much larger. */
#ifndef DC_ADMIN_API_H
#define DC_ADMIN_API_H

#include <stdbool.h>

#include "config.h"
#include "http_api.h"

/* Adds the /admin route; cfg (admin_token, record_path) must outlive api. */
void dc_admin_routes(dc_http_api *api, const dc_config *cfg);

/* The handler itself (user = the dc_config), for the unit test. */
bool dc_admin_handle(void *cfg, const dc_http_request *req, dc_http_response *resp);

/* true when the Authorization header value carries exactly the bearer credential; the
 * comparison takes the same time whatever the header holds. */
bool dc_admin_authorized(const dc_config *cfg, const char *authorization);

#endif
