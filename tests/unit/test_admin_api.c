/* The admin HTTP API (signaling/admin_api.c) through the real router on a real record file:
 * the credential (off, missing, wrong, right), the paths, the exports' bodies and headers,
 * unknown meetings, and an export while another connection holds a write transaction. */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "admin_live.h"
#include "check.h"
#include "config.h"
#include "http_api.h"
#include "record.h"

#define T0 1796630400000LL /* 2026-12-07T08:00:00Z */
#define TOKEN "s3cret-admin-credential-0123456789"

static dc_http_api *api;
static dc_config cfg;

/* One request through the router; the response's body is NUL-terminated for the checks. */
static dc_http_response get(const char *method, const char *path, const char *authorization)
{
    dc_http_request req = {.method = method,
                           .path = path,
                           .query = "",
                           .authorization = authorization,
                           .peer_ip = "10.0.0.7",
                           .body = NULL,
                           .body_len = 0};
    dc_http_response resp;
    if (!dc_http_api_dispatch(api, &req, &resp)) memset(&resp, 0, sizeof resp);
    return resp;
}

static void response_free(dc_http_response *resp)
{
    free(resp->body);
    free(resp->content_disposition);
}

/* status and, for errors, the JSON error code */
static bool answers(const char *method, const char *path, const char *authorization, int status, const char *code)
{
    dc_http_response resp = get(method, path, authorization);
    json_t *body = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    const char *got = json_string_value(json_object_get(body, "error"));
    bool ok = resp.status == status && (!code || (got && !strcmp(got, code))) &&
              (!code || json_is_string(json_object_get(body, "message")));
    if (!ok)
        fprintf(stderr, "  %s %s: %d %.*s\n", method, path, resp.status, (int)resp.body_len,
                resp.body ? resp.body : "");
    json_decref(body);
    response_free(&resp);
    return ok;
}

static void set_admin_token(const char *token)
{
    snprintf(cfg.admin_token, sizeof cfg.admin_token, "%s", token);
    cfg.admin_token_len = strlen(token);
}

static int64_t write_meeting(const char *path)
{
    char err[256] = "";
    dc_record *r = dc_record_open(path, err, sizeof err);
    if (!r) fprintf(stderr, "  open: %s\n", err);
    CHECK(r != NULL);
    int64_t m = dc_record_meeting_start(r, "hop-tinh", T0);
    dc_record_person chair = {"p1", "u-chair", "Nguyễn Văn An", "UBND tỉnh", "chair"};
    dc_record_person delegate = {"p2", "u-xa", "Trần Thị Bích", "Xã Đông Hòa", "delegate"};
    dc_record_join(r, m, &chair, T0 + 1000);
    int64_t d = dc_record_join(r, m, &delegate, T0 + 2000);
    dc_record_event(r, m, "floor_granted", "p1", "p2", NULL, T0 + 3000);
    dc_record_chat(r, m, "p2", "all", "Xin chào", T0 + 4000);
    dc_record_leave(r, d, "left", T0 + 5000);
    dc_record_close(r); /* left open: the meeting is still "in progress" for the reader */
    /* the exports' name lookups have their index (a long event log otherwise takes seconds) */
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name ="
                             " 'attendance_participant'",
                             -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return m;
}

static void test_off_and_credential(void)
{
    set_admin_token("");
    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN, 404, "not_found"));
    dc_http_response off = get("GET", "/admin/meetings", "");
    CHECK(off.body && strstr(off.body, "admin_token_file"));
    response_free(&off);

    set_admin_token(TOKEN);
    CHECK(answers("GET", "/admin/meetings", "", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Bearer", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Bearer ", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Bearer wrong", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN "x", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Bearer s3cret-admin-credential-012345678", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", "Basic " TOKEN, 401, "unauthorized"));
    CHECK(answers("GET", "/admin/meetings", TOKEN, 401, "unauthorized"));
    /* the credential is checked before the path: a stranger learns nothing of them */
    CHECK(answers("GET", "/admin/anything", "", 401, "unauthorized"));
    CHECK(answers("POST", "/admin/meetings", "", 401, "unauthorized"));

    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN, 200, NULL));
    CHECK(answers("GET", "/admin/meetings", "bearer  " TOKEN " ", 200, NULL)); /* scheme in any case */
    CHECK(answers("POST", "/admin/meetings", "Bearer " TOKEN, 405, "method_not_allowed"));

    CHECK(dc_admin_authorized(&cfg, "Bearer " TOKEN) && !dc_admin_authorized(&cfg, "Bearer " TOKEN "0"));
    printf("ok off and credential\n");
}

static void test_paths(int64_t m)
{
    static const char *const unknown[] = {"/admin",
                                          "/admin/",
                                          "/admin/meeting",
                                          "/admin/meetings/",
                                          "/admin/meetings/1",
                                          "/admin/meetings/1/",
                                          "/admin/meetings/1/people.csv",
                                          "/admin/meetings/1/attendance",
                                          "/admin/meetings/1/attendance.xml",
                                          "/admin/meetings/0/attendance.csv",
                                          "/admin/meetings/-1/attendance.csv",
                                          "/admin/meetings/x1/attendance.csv",
                                          "/admin/meetings/1x/attendance.csv",
                                          "/admin/meetings/1/attendance.csv/more",
                                          "/admin/meetings.xml"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK(answers("GET", unknown[i], "Bearer " TOKEN, 404, "not_found"));
    CHECK(answers("GET", "/admin/meetings/42/attendance.csv", "Bearer " TOKEN, 404, "no_such_meeting"));
    CHECK(answers("GET", "/admin/meetings/42/events.json", "Bearer " TOKEN, 404, "no_such_meeting"));
    CHECK(answers("GET", "/admin/meetings/1/events.json", "Bearer " TOKEN, 200, NULL) && m == 1);

    /* not ours: /administrator is a file path like any other */
    dc_http_response resp = get("GET", "/administrator", "Bearer " TOKEN);
    CHECK(resp.status == 0 && !resp.body);
    printf("ok paths\n");
}

/* Each export over HTTP is byte for byte the record's own export, with its headers. */
static void test_exports(int64_t m)
{
    char err[256] = "";
    dc_record *r = dc_record_open_readonly(cfg.record_path, err, sizeof err);
    CHECK(r != NULL);
    /* `diemcau export --room` finds the meeting this way */
    CHECK(dc_record_last_meeting_in_room(r, "hop-tinh") == m && dc_record_last_meeting_in_room(r, "hop") == 0);
    static const struct {
        const char *path, *what, *format, *type, *disposition;
    } cases[] = {
        {"/admin/meetings", "meetings", "json", "application/json", NULL},
        {"/admin/meetings.json", "meetings", "json", "application/json", NULL},
        {"/admin/meetings.csv", "meetings", "csv", "text/csv; charset=utf-8", "attachment; filename=\"meetings.csv\""},
        {"/admin/meetings/1/attendance.json", "attendance", "json", "application/json", NULL},
        {"/admin/meetings/1/attendance.csv", "attendance", "csv", "text/csv; charset=utf-8",
         "attachment; filename=\"meeting-1-attendance.csv\""},
        {"/admin/meetings/1/events.json", "events", "json", "application/json", NULL},
        {"/admin/meetings/1/events.csv", "events", "csv", "text/csv; charset=utf-8",
         "attachment; filename=\"meeting-1-events.csv\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dc_http_response resp = get("GET", cases[i].path, "Bearer " TOKEN);
        char *want = r ? dc_record_export(r, m, cases[i].what, cases[i].format, err, sizeof err) : NULL;
        bool same = resp.status == 200 && want && resp.body && resp.body_len == strlen(want) &&
                    !memcmp(resp.body, want, resp.body_len);
        if (!same) fprintf(stderr, "  %s: %d\n%.*s\n", cases[i].path, resp.status, (int)resp.body_len, resp.body);
        CHECK(same);
        CHECK(resp.content_type && !strcmp(resp.content_type, cases[i].type));
        CHECK(cases[i].disposition ? resp.content_disposition && !strcmp(resp.content_disposition, cases[i].disposition)
                                   : !resp.content_disposition);
        free(want);
        response_free(&resp);
    }
    dc_record_close(r);

    /* what the exports hold, read the way an admin would */
    dc_http_response resp = get("GET", "/admin/meetings/1/attendance.csv", "Bearer " TOKEN);
    CHECK(resp.body && strstr(resp.body, ",Nguyễn Văn An,UBND tỉnh,chair,2026-12-07T08:00:01.000Z,,,in_progress\r\n"));
    CHECK(resp.body && strstr(resp.body, ",Trần Thị Bích,Xã Đông Hòa,delegate,2026-12-07T08:00:02.000Z,"
                                         "2026-12-07T08:00:05.000Z,3,left\r\n"));
    response_free(&resp);
    resp = get("GET", "/admin/meetings/1/events.csv", "Bearer " TOKEN);
    CHECK(resp.body && strstr(resp.body, "floor_granted,p1,Nguyễn Văn An,p2,Trần Thị Bích"));
    CHECK(resp.body && strstr(resp.body, ",chat,p2,Trần Thị Bích,,,,all,Xin chào\r\n"));
    response_free(&resp);
    printf("ok exports\n");
}

/* Another connection in the middle of a write transaction (the meeting's writer) neither
 * blocks the export nor shows it uncommitted rows (WAL readers read the last commit). */
static void test_export_beside_a_writer(void)
{
    sqlite3 *db;
    CHECK(sqlite3_open(cfg.record_path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "BEGIN IMMEDIATE; INSERT INTO chat(meeting_id, ts_ms, sender, recipient, text)"
                       " VALUES(1, 1796630409000, 'p1', 'all', 'not yet committed')",
                       NULL, NULL, NULL) == SQLITE_OK);
    gint64 start = g_get_monotonic_time();
    dc_http_response resp = get("GET", "/admin/meetings/1/events.csv", "Bearer " TOKEN);
    gint64 took_ms = (g_get_monotonic_time() - start) / 1000;
    CHECK(resp.status == 200 && resp.body && strstr(resp.body, "Xin chào") && !strstr(resp.body, "not yet"));
    CHECK(took_ms < 500); /* the busy timeout is 1000 ms: a blocked reader would wait it out */
    response_free(&resp);
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    resp = get("GET", "/admin/meetings/1/events.csv", "Bearer " TOKEN);
    CHECK(resp.body && strstr(resp.body, "not yet committed"));
    response_free(&resp);
    printf("ok export beside a writer (%lld ms)\n", (long long)took_ms);
}

static void test_no_record(const char *tmp)
{
    snprintf(cfg.record_path, sizeof cfg.record_path, "%s", "");
    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN, 404, "no_record"));
    CHECK(answers("GET", "/admin/meetings", "", 401, "unauthorized"));
    snprintf(cfg.record_path, sizeof cfg.record_path, "%s/never-written.sqlite", tmp);
    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN, 500, "record_unreadable"));
    printf("ok no record\n");
}

/* The live figures' route (admin_live.c) beside the export: the same credential, its own
 * paths, 503 while there is no meeting (starting); the figures themselves are tested with
 * a meeting in test_meeting.c and end to end in tests/e2e/bandwidth.test.mjs. */
static void test_live_routes(void)
{
    set_admin_token("");
    CHECK(answers("GET", "/admin/rooms/r/transports.json", "Bearer " TOKEN, 404, "not_found"));
    set_admin_token(TOKEN);
    CHECK(answers("GET", "/admin/rooms/r/transports.json", "", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/rooms/r/transports.json", "Bearer wrong", 401, "unauthorized"));
    CHECK(answers("GET", "/admin/rooms/r/transports.json", "Bearer " TOKEN, 503, "starting"));
    CHECK(answers("POST", "/admin/rooms/r/transports.json", "Bearer " TOKEN, 405, "method_not_allowed"));
    CHECK(answers("GET", "/admin/rooms/r", "Bearer " TOKEN, 404, "not_found"));
    CHECK(answers("GET", "/admin/rooms//transports.json", "Bearer " TOKEN, 404, "not_found"));
    CHECK(answers("GET", "/admin/rooms/r/transports.json/x", "Bearer " TOKEN, 404, "not_found"));
    CHECK(answers("GET", "/admin/meetings", "Bearer " TOKEN, 200, NULL)); /* the export is still there */
}

int main(void)
{
    char *tmp = g_dir_make_tmp("test_admin_api.XXXXXX", NULL);
    dc_config_defaults(&cfg);
    char *path = g_build_filename(tmp, "record.sqlite", NULL);
    snprintf(cfg.record_path, sizeof cfg.record_path, "%s", path);
    int64_t m = write_meeting(path);
    api = dc_http_api_new();
    dc_admin_routes(api, &cfg);
    static dc_meeting *const no_meeting = NULL; /* as while the server starts */
    dc_admin_live_routes(api, &cfg, &no_meeting);

    test_off_and_credential();
    test_paths(m);
    test_exports(m);
    test_export_beside_a_writer();
    test_live_routes();
    test_no_record(tmp);

    dc_http_api_free(api);
    static const char *const files[] = {"record.sqlite", "record.sqlite-wal", "record.sqlite-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *f = g_build_filename(tmp, files[i], NULL);
        g_unlink(f);
        g_free(f);
    }
    g_rmdir(tmp);
    g_free(path);
    g_free(tmp);
    return CHECK_RESULT();
}
