/* GET /metrics: the server's figures in the Prometheus text exposition format (0.0.4),
 * behind the admin credential as `Authorization: Bearer <admin token>` (what Prometheus's
 * `authorization: {credentials_file: …}` sends; the credential is never taken from the
 * URL, where access logs and browser histories would keep it). Off (404) when no admin
 * credential is configured, 401 without it. What is exposed, with names, types and labels,
 * is listed in PROTOCOL.md "Metrics"; labels stay bounded: a room's name, a worker's
 * index, a drop reason, a direction, never a participant. Built at each scrape from what
 * the server already keeps: the engine's counters (sfu_get_stats, per worker with its CPU
 * time), the rooms, the WebSockets, and the link reports summed (link_tally.h). */
#ifndef DC_METRICS_H
#define DC_METRICS_H

#include <glib.h>

#include "config.h"
#include "http_api.h"
#include "meeting.h"
#include "sfu.h"

#define DC_METRICS_PATH "/metrics"
#define DC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    const dc_config *cfg;       /* admin_token */
    dc_meeting *const *meeting; /* read at each scrape: NULL while starting or stopping */
    sfu *const *engine;         /* likewise */
    const GQueue *websockets;   /* the open WebSockets (their number is read) */
    int64_t started_us;         /* the server's start, wall clock (g_get_real_time) */
} dc_metrics_sources;

/* Adds the /metrics route; src and what it points at must outlive api. */
void dc_metrics_routes(dc_http_api *api, const dc_metrics_sources *src);
/* The route's handler (user = the dc_metrics_sources), for the unit test. */
bool dc_metrics_handle(void *src, const dc_http_request *req, dc_http_response *resp);
/* The exposition text of what src can say now (NUL-terminated; g_free it). */
char *dc_metrics_text(const dc_metrics_sources *src);

#endif
