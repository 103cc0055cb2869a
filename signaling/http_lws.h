/* The HTTP API (http_api.h) on libwebsockets: a protocol whose callback reads a request
 * under a callback mount (/api, /admin), its body up to DC_HTTP_API_MAX_BODY (a larger one
 * gets 413), asks dc_http_api_dispatch, and writes the response. */
#ifndef DC_HTTP_LWS_H
#define DC_HTTP_LWS_H

#include <libwebsockets.h>

#include "http_api.h"

#define DC_HTTP_LWS_PROTOCOL "diemcau-http-api"

/* The protocol entry to put in the context's protocol list; api must outlive the context. */
struct lws_protocols dc_http_lws_protocol(dc_http_api *api);
/* A mount at mountpoint ("/api") served by that protocol; mountpoint must be static. */
struct lws_http_mount dc_http_lws_mount(const char *mountpoint, const struct lws_http_mount *next);

#endif
