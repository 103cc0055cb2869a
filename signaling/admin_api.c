/* See admin_api.h. The checks come in the order that gives away the least: the API being
 * off (404, as if the path did not exist), then the credential (401) before anything about
 * the request or the record is looked at, so a caller without it learns nothing. */
#include "admin_api.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"

#define ADMIN_ROOT "/admin"

bool dc_admin_authorized(const dc_config *cfg, const char *authorization)
{
    static const char scheme[] = "Bearer ";
    if (!cfg->admin_token_len || !authorization) return false;
    const char *given = authorization;
    bool has_scheme = !strncasecmp(given, scheme, sizeof scheme - 1); /* the scheme is case-insensitive */
    if (has_scheme) given += sizeof scheme - 1;
    while (*given == ' ') given++;
    size_t given_len = strlen(given);
    while (given_len && given[given_len - 1] == ' ') given_len--;
    /* Digests of both sides, compared in constant time: neither the position of the first
     * wrong byte nor the credential's length shows in the time taken. */
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)cfg->admin_token, cfg->admin_token_len, want);
    SHA256((const unsigned char *)given, given_len, got);
    return (CRYPTO_memcmp(want, got, sizeof want) == 0) & has_scheme;
}

/* What a path under /admin asks for. */
typedef struct {
    const char *what;   /* "meetings", "attendance", "events" */
    const char *format; /* "json", "csv" */
    int64_t meeting_id; /* 0 for the list */
} export_request;

/* "json"/"csv" after the last dot of name (which must be stem.ext), else NULL. */
static const char *format_of(const char *name, const char *stem)
{
    size_t n = strlen(stem);
    if (strncmp(name, stem, n)) return NULL;
    if (!strcmp(name + n, ".json")) return "json";
    if (!strcmp(name + n, ".csv")) return "csv";
    return NULL;
}

/* A meeting id: decimal digits only, at least 1. */
static bool parse_meeting_id(const char *text, size_t len, int64_t *out)
{
    if (!len || len > 18) return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return v > 0;
}

/* rest is the path after /admin; false when it names no export. */
static bool parse_export_path(const char *rest, export_request *x)
{
    memset(x, 0, sizeof *x);
    static const char list[] = "/meetings";
    if (!strcmp(rest, list)) {
        *x = (export_request){"meetings", "json", 0};
        return true;
    }
    if ((x->format = format_of(rest, list))) {
        x->what = "meetings";
        return true;
    }
    if (strncmp(rest, "/meetings/", sizeof list)) return false;
    const char *id = rest + sizeof list, *slash = strchr(id, '/');
    if (!slash || !parse_meeting_id(id, (size_t)(slash - id), &x->meeting_id)) return false;
    static const char *const whats[] = {"attendance", "events"};
    for (size_t i = 0; i < sizeof whats / sizeof whats[0]; i++) {
        if ((x->format = format_of(slash + 1, whats[i]))) {
            x->what = whats[i];
            return true;
        }
    }
    return false;
}

/* The CSV file's name a browser saves: meetings.csv, meeting-12-attendance.csv. */
static char *attachment_header(const export_request *x)
{
    char name[96];
    if (x->meeting_id) snprintf(name, sizeof name, "meeting-%" PRId64 "-%s.csv", x->meeting_id, x->what);
    else snprintf(name, sizeof name, "%s.csv", x->what);
    char header[160];
    snprintf(header, sizeof header, "attachment; filename=\"%s\"", name);
    return strdup(header);
}

static void export_response(const dc_config *cfg, const export_request *x, dc_http_response *resp)
{
    char err[256] = "";
    dc_record *r = dc_record_open_readonly(cfg->record_path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "admin: %s\n", err);
        dc_http_api_error(resp, 500, "record_unreadable",
                          "the meeting record cannot be read (the server log says why)");
        return;
    }
    if (x->meeting_id && !dc_record_meeting_exists(r, x->meeting_id)) {
        char msg[96];
        snprintf(msg, sizeof msg, "no meeting %" PRId64 " in the record", x->meeting_id);
        dc_record_close(r);
        dc_http_api_error(resp, 404, "no_such_meeting", msg);
        return;
    }
    char *text = dc_record_export(r, x->meeting_id, x->what, x->format, err, sizeof err);
    dc_record_close(r);
    if (!text) {
        fprintf(stderr, "admin: %s\n", err);
        dc_http_api_error(resp, 500, "internal", err);
        return;
    }
    bool csv = !strcmp(x->format, "csv");
    resp->status = 200;
    resp->content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    resp->body = text;
    resp->body_len = strlen(text);
    resp->content_disposition = csv ? attachment_header(x) : NULL;
}

bool dc_admin_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const dc_config *cfg = user;
    const char *rest = req->path + strlen(ADMIN_ROOT);
    if (strncmp(req->path, ADMIN_ROOT, strlen(ADMIN_ROOT)) || (*rest && *rest != '/')) return false;
    if (!cfg->admin_token_len) {
        dc_http_api_error(resp, 404, "not_found",
                          "the admin API is off: set admin_token_file in the server's configuration");
        return true;
    }
    if (!dc_admin_authorized(cfg, req->authorization)) {
        dc_http_api_error(resp, 401, "unauthorized", "send the admin credential as Authorization: Bearer <token>");
        return true;
    }
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    export_request x;
    if (!parse_export_path(rest, &x)) {
        dc_http_api_error(resp, 404, "not_found",
                          "no such admin path: /admin/meetings[.csv], /admin/meetings/<id>/attendance.json|.csv,"
                          " /admin/meetings/<id>/events.json|.csv");
        return true;
    }
    if (!cfg->record_path[0]) {
        dc_http_api_error(resp, 404, "no_record", "this server keeps no meeting record (record_path is empty)");
        return true;
    }
    export_response(cfg, &x, resp);
    return true;
}

void dc_admin_routes(dc_http_api *api, const dc_config *cfg)
{
    dc_http_api_route(api, ADMIN_ROOT, dc_admin_handle, (void *)cfg);
}
