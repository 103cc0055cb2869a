/* The admin API's live part: figures of the meeting as it runs, for technicians, with the
 * same bearer credential as the record export (admin_api.h). Routes:
 *   /admin/rooms.json                     GET the room tree with each room's live
 *                                         participant count, for the technicians'
 *                                         dashboard: {"root", "nodes": [{"id", "name",
 *                                         "kind", "parent", "chair", "depth",
 *                                         "participants"}]} (meeting.h)
 *   /admin/rooms/<room>/transports.json   each participant's connection figures: the
 *                                         server's bandwidth estimate toward it, what it
 *                                         acknowledged, the loss, and per video slot what
 *                                         it asks, gets and why (meeting.h)
 *   /admin/sites/<site>/budget            GET the site's downstream budget, PUT
 *                                         {"kbps": n} sets it, DELETE clears it; answers
 *                                         {"site", "kbps" (null: none)}; applied at once
 *   /admin/tiers/<tier>/budget            the same for every site of a tier (province,
 *                                         district, commune, reception: the room tree's
 *                                         node kind of the room joined) that has no budget
 *                                         of its own; answers {"tier", "kbps"}
 * Answers: as admin_api.h for a missing credential or an unknown path; 404 for a room
 * nobody is in or an unknown tier; 400 for a budget that is not 1…10000000 kbit/s; 503
 * while the server starts or stops. */
#ifndef DC_ADMIN_LIVE_H
#define DC_ADMIN_LIVE_H

#include <stdbool.h>

#include "config.h"
#include "http_api.h"
#include "meeting.h"

/* Adds /admin/rooms, /admin/rooms.json, /admin/sites and /admin/tiers; *meeting is read at each request (NULL while starting); cfg and
 * meeting must outlive api. */
void dc_admin_live_routes(dc_http_api *api, const dc_config *cfg, dc_meeting *const *meeting);

#endif
