/* The development-mode API (spec of issue 11): POST /api/dev-token mints a join token for
 * {"room","name","role","site"?,"scope"?} to clients in dev_token_clients; GET /api/info tells the
 * join page whether it may ask. Outside development mode /api/dev-token answers 404. */
#ifndef DC_DEV_TOKEN_H
#define DC_DEV_TOKEN_H

#include <stdbool.h>

#include "config.h"
#include "http_api.h"

#define DC_DEV_TOKEN_TTL_SECONDS 43200 /* a working day */

/* Adds both routes; cfg (dev_mode, dev_token_clients, token_secret) must outlive api. */
void dc_dev_token_routes(dc_http_api *api, const dc_config *cfg);

/* The handlers themselves (user = the dc_config), for the unit test. */
bool dc_dev_token_handle(void *cfg, const dc_http_request *req, dc_http_response *resp);
bool dc_api_info_handle(void *cfg, const dc_http_request *req, dc_http_response *resp);

#endif
