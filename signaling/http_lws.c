/* See http_lws.h. One request at a time per connection: the per-session state is reset at
 * each request (keep-alive) and freed when lws drops the protocol or the connection. */
#include "http_lws.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_BYTES 512
#define QUERY_MAX_BYTES 512
#define AUTH_MAX_BYTES 512
#define WRITE_CHUNK 16384

typedef struct {
    char method[8];
    char path[PATH_MAX_BYTES];
    char query[QUERY_MAX_BYTES];
    char authorization[AUTH_MAX_BYTES];
    char peer_ip[64];
    char *body; /* DC_HTTP_API_MAX_BODY bytes once a body comes */
    size_t body_len;
    bool body_too_large;
    dc_http_response resp;
    size_t sent;
    bool responding, close_after;
} api_session;

static void reset(api_session *as)
{
    free(as->body);
    free(as->resp.body);
    free(as->resp.content_disposition);
    memset(as, 0, sizeof *as);
}

static const struct {
    enum lws_token_indexes token;
    const char *method;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},     {WSI_TOKEN_POST_URI, "POST"},     {WSI_TOKEN_PUT_URI, "PUT"},
    {WSI_TOKEN_PATCH_URI, "PATCH"}, {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

/* Method and path from the request line; false when the path is too long to be ours. */
static bool read_request_line(struct lws *wsi, api_session *as)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (lws_hdr_total_length(wsi, methods[i].token) > 0) {
            snprintf(as->method, sizeof as->method, "%s", methods[i].method);
            return lws_hdr_copy(wsi, as->path, sizeof as->path, methods[i].token) > 0;
        }
    }
    return false;
}

/* The query as a=1&b=2 (lws hands it over as fragments). */
static void read_query(struct lws *wsi, api_session *as)
{
    size_t used = 0;
    char part[QUERY_MAX_BYTES];
    for (int i = 0; lws_hdr_copy_fragment(wsi, part, sizeof part, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
        int n = snprintf(as->query + used, sizeof as->query - used, "%s%s", i ? "&" : "", part);
        if (n < 0 || (size_t)n >= sizeof as->query - used) break;
        used += (size_t)n;
    }
}

static void read_header(struct lws *wsi, enum lws_token_indexes token, char *buf, int size)
{
    if (lws_hdr_copy(wsi, buf, size, token) < 0) buf[0] = '\0';
}

/* Writes the status line and headers now; the body follows in HTTP_WRITEABLE. */
static int start_response(struct lws *wsi, api_session *as)
{
    dc_http_response *r = &as->resp;
    if (!r->body) dc_http_api_error(r, 500, "internal", "no response");
    if (!r->content_type) r->content_type = "application/json";
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, r->body_len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store", 8,
                                    &p, end) ||
        (r->content_disposition && lws_add_http_header_by_name(wsi, (const unsigned char *)"content-disposition:",
                                                               (const unsigned char *)r->content_disposition,
                                                               (int)strlen(r->content_disposition), &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    as->responding = true;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond(struct lws *wsi, api_session *as, dc_http_api *api)
{
    dc_http_request req = {
        .method = as->method,
        .path = as->path,
        .query = as->query,
        .authorization = as->authorization,
        .peer_ip = as->peer_ip,
        .body = as->body,
        .body_len = as->body_len,
    };
    if (!dc_http_api_dispatch(api, &req, &as->resp)) dc_http_api_error(&as->resp, 404, "not_found", "no such API path");
    return start_response(wsi, as);
}

static int refuse_too_large(struct lws *wsi, api_session *as)
{
    char msg[64];
    snprintf(msg, sizeof msg, "the body is larger than %d bytes", DC_HTTP_API_MAX_BODY);
    dc_http_api_error(&as->resp, 413, "too_large", msg);
    as->close_after = true; /* the rest of the body is not read */
    return start_response(wsi, as);
}

static int write_body(struct lws *wsi, api_session *as)
{
    if (!as->responding) return 0;
    size_t left = as->resp.body_len - as->sent, n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    memcpy(buf + LWS_PRE, as->resp.body + as->sent, n);
    bool last = n == left;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) return -1;
    as->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    bool close_after = as->close_after;
    reset(as);
    if (close_after) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    api_session *as = user;
    dc_http_api *api = lws_get_protocol(wsi) ? lws_get_protocol(wsi)->user : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        reset(as);
        if (!api || !read_request_line(wsi, as)) {
            lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
            return -1;
        }
        read_query(wsi, as);
        read_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, as->authorization, sizeof as->authorization);
        lws_get_peer_simple(wsi, as->peer_ip, sizeof as->peer_ip);
        char length_text[24];
        read_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, length_text, sizeof length_text);
        long long length = length_text[0] ? strtoll(length_text, NULL, 10) : 0;
        if (length > DC_HTTP_API_MAX_BODY) return refuse_too_large(wsi, as);
        if (length > 0) return 0; /* the body comes in HTTP_BODY callbacks */
        return respond(wsi, as, api);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (as->responding || as->body_too_large) return 0;
        if (as->body_len + len > DC_HTTP_API_MAX_BODY) {
            as->body_too_large = true;
            return 0;
        }
        if (!as->body && !(as->body = malloc(DC_HTTP_API_MAX_BODY))) return -1;
        memcpy(as->body + as->body_len, in, len);
        as->body_len += len;
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (as->responding) return 0;
        return as->body_too_large ? refuse_too_large(wsi, as) : respond(wsi, as, api);
    case LWS_CALLBACK_HTTP_WRITEABLE: return write_body(wsi, as);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (as) reset(as);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

struct lws_protocols dc_http_lws_protocol(dc_http_api *api)
{
    return (struct lws_protocols){
        .name = DC_HTTP_LWS_PROTOCOL,
        .callback = callback,
        .per_session_data_size = sizeof(api_session),
        .user = api,
    };
}

struct lws_http_mount dc_http_lws_mount(const char *mountpoint, const struct lws_http_mount *next)
{
    return (struct lws_http_mount){
        .mount_next = next,
        .mountpoint = mountpoint,
        .mountpoint_len = (unsigned char)strlen(mountpoint),
        .origin = DC_HTTP_LWS_PROTOCOL,
        .origin_protocol = LWSMPRO_CALLBACK,
    };
}
