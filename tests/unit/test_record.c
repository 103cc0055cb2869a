/* The meeting record (signaling/record.c) on real SQLite files in a temporary folder:
 * schema, rows, exact exports of a small scripted meeting, closing a meeting a killed server
 * left open, and durability: a child process writes and reports each committed call through
 * a pipe, is SIGKILLed mid-stream, and every reported row is found afterwards.
 *
 *   test_record                      run the tests
 *   test_record --write-fixture FILE write the scripted meeting to FILE (the export command's
 *                                    integration test reads it back through `diemcau export`) */
#include "check.h"
#include "record.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1796630400000LL /* 2026-12-07T08:00:00Z */

static char *tmp_dir;

static char *tmp_path(const char *name) { return g_build_filename(tmp_dir, name, NULL); }

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else {
        fprintf(stderr, "  sql %s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return v;
}

static char *export_or_report(dc_record *r, int64_t meeting, const char *what, const char *format)
{
    char err[256] = "";
    char *text = dc_record_export(r, meeting, what, format, err, sizeof err);
    if (!text) fprintf(stderr, "  export %s.%s: %s\n", what, format, err);
    return text;
}

static void check_text(const char *got, const char *want, const char *what)
{
    bool same = got && !strcmp(got, want);
    if (!same) fprintf(stderr, "  %s differs:\n--- got\n%s\n--- want\n%s\n---\n", what, got ? got : "(null)", want);
    CHECK(same);
}

/* ---- the scripted meeting ----------------------------------------------------------- */

static const dc_record_person CHAIR = {"p1", "u-chair", "Nguyễn Văn An", "UBND tỉnh", "chair"};
static const dc_record_person DELEGATE = {"p2", "u-xa-1", "Trần Thị Bích, \"Hoa\"", "Xã Đông Hòa", "delegate"};

/* A chair and a delegate; the delegate raises a hand, gets and loses the floor, chats a
 * line with a comma, quotes and a newline, and leaves; the chair's line to the chairs looks
 * like a spreadsheet formula; the meeting ends with the chair still in it. */
static int64_t write_scripted_meeting(dc_record *r)
{
    int64_t m = dc_record_meeting_start(r, "hop-tinh", T0);
    dc_record_join(r, m, &CHAIR, T0 + 1000);
    int64_t d = dc_record_join(r, m, &DELEGATE, T0 + 2000);
    dc_record_event(r, m, "hand_raised", "p2", NULL, NULL, T0 + 3000);
    dc_record_event(r, m, "floor_granted", "p1", "p2", "{\"seconds\":120}", T0 + 4000);
    dc_record_chat(r, m, "p2", "all", "Xin chào, mọi người\n\"Báo cáo\" số 1", T0 + 5000);
    dc_record_chat(r, m, "p1", "chair", "=1+1", T0 + 5000);
    dc_record_event(r, m, "floor_revoked", "p1", "p2", NULL, T0 + 6500);
    dc_record_leave(r, d, "left", T0 + 65400);
    dc_record_meeting_end(r, m, T0 + 70000);
    return m;
}

static const char WANT_MEETINGS_CSV[] =
    "\xEF\xBB\xBF"
    "meeting_id,room,started_utc,ended_utc,duration_s,joins,people,end_reason\r\n"
    "1,hop-tinh,2026-12-07T08:00:00.000Z,2026-12-07T08:01:10.000Z,70,2,2,closed\r\n";

static const char WANT_MEETINGS_JSON[] = "[\n"
                                         "  {\n"
                                         "    \"meeting_id\": 1,\n"
                                         "    \"room\": \"hop-tinh\",\n"
                                         "    \"started_utc\": \"2026-12-07T08:00:00.000Z\",\n"
                                         "    \"ended_utc\": \"2026-12-07T08:01:10.000Z\",\n"
                                         "    \"duration_s\": 70,\n"
                                         "    \"joins\": 2,\n"
                                         "    \"people\": 2,\n"
                                         "    \"end_reason\": \"closed\"\n"
                                         "  }\n"
                                         "]\n";

static const char WANT_ATTENDANCE_CSV[] =
    "\xEF\xBB\xBF"
    "meeting_id,participant_id,user_id,name,site,role,joined_utc,left_utc,duration_s,leave_reason\r\n"
    "1,p1,u-chair,Nguyễn Văn An,UBND tỉnh,chair,2026-12-07T08:00:01.000Z,2026-12-07T08:01:10.000Z,69,ended\r\n"
    "1,p2,u-xa-1,\"Trần Thị Bích, \"\"Hoa\"\"\",Xã Đông Hòa,delegate,2026-12-07T08:00:02.000Z,"
    "2026-12-07T08:01:05.400Z,63,left\r\n";

static const char WANT_ATTENDANCE_JSON[] = "[\n"
                                           "  {\n"
                                           "    \"meeting_id\": 1,\n"
                                           "    \"participant_id\": \"p1\",\n"
                                           "    \"user_id\": \"u-chair\",\n"
                                           "    \"name\": \"Nguyễn Văn An\",\n"
                                           "    \"site\": \"UBND tỉnh\",\n"
                                           "    \"role\": \"chair\",\n"
                                           "    \"joined_utc\": \"2026-12-07T08:00:01.000Z\",\n"
                                           "    \"left_utc\": \"2026-12-07T08:01:10.000Z\",\n"
                                           "    \"duration_s\": 69,\n"
                                           "    \"leave_reason\": \"ended\"\n"
                                           "  },\n"
                                           "  {\n"
                                           "    \"meeting_id\": 1,\n"
                                           "    \"participant_id\": \"p2\",\n"
                                           "    \"user_id\": \"u-xa-1\",\n"
                                           "    \"name\": \"Trần Thị Bích, \\\"Hoa\\\"\",\n"
                                           "    \"site\": \"Xã Đông Hòa\",\n"
                                           "    \"role\": \"delegate\",\n"
                                           "    \"joined_utc\": \"2026-12-07T08:00:02.000Z\",\n"
                                           "    \"left_utc\": \"2026-12-07T08:01:05.400Z\",\n"
                                           "    \"duration_s\": 63,\n"
                                           "    \"leave_reason\": \"left\"\n"
                                           "  }\n"
                                           "]\n";

static const char WANT_EVENTS_CSV[] =
    "\xEF\xBB\xBF"
    "time_utc,kind,actor,actor_name,target,target_name,detail,to,text\r\n"
    "2026-12-07T08:00:03.000Z,hand_raised,p2,\"Trần Thị Bích, \"\"Hoa\"\"\",,,,,\r\n"
    "2026-12-07T08:00:04.000Z,floor_granted,p1,Nguyễn Văn An,p2,\"Trần Thị Bích, \"\"Hoa\"\"\","
    "\"{\"\"seconds\"\":120}\",,\r\n"
    "2026-12-07T08:00:05.000Z,chat,p2,\"Trần Thị Bích, \"\"Hoa\"\"\",,,,all,\"Xin chào, mọi người\n"
    "\"\"Báo cáo\"\" số 1\"\r\n"
    "2026-12-07T08:00:05.000Z,chat,p1,Nguyễn Văn An,,,,chair,\"'=1+1\"\r\n"
    "2026-12-07T08:00:06.500Z,floor_revoked,p1,Nguyễn Văn An,p2,\"Trần Thị Bích, \"\"Hoa\"\"\",,,\r\n";

static const char WANT_EVENTS_JSON_CHAT[] = "  {\n"
                                            "    \"time_utc\": \"2026-12-07T08:00:05.000Z\",\n"
                                            "    \"kind\": \"chat\",\n"
                                            "    \"actor\": \"p2\",\n"
                                            "    \"actor_name\": \"Trần Thị Bích, \\\"Hoa\\\"\",\n"
                                            "    \"target\": null,\n"
                                            "    \"target_name\": null,\n"
                                            "    \"detail\": null,\n"
                                            "    \"to\": \"all\",\n"
                                            "    \"text\": \"Xin chào, mọi người\\n\\\"Báo cáo\\\" số 1\"\n"
                                            "  },\n";

static const char WANT_EVENTS_JSON_FLOOR[] = "    \"detail\": {\n"
                                             "      \"seconds\": 120\n"
                                             "    },\n";

static dc_record *open_or_report(const char *path)
{
    char err[256] = "";
    dc_record *r = dc_record_open(path, err, sizeof err);
    if (!r) fprintf(stderr, "  open %s: %s\n", path, err);
    CHECK(r != NULL);
    return r;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_schema_and_file(void)
{
    char *path = tmp_path("nested/folder/record.sqlite");
    dc_record *r = open_or_report(path);
    CHECK(sql_int(path, "PRAGMA user_version") == 1);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
                        " ('meetings', 'attendance', 'events', 'chat')") == 4);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM pragma_table_info('attendance') WHERE name IN ('meeting_id',"
                        " 'participant_id', 'user_id', 'name', 'site', 'role', 'joined_ms', 'left_ms',"
                        " 'leave_reason')") == 9);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name IN ('meeting_id', 'ts_ms',"
                        " 'kind', 'actor', 'target', 'detail')") == 6);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM pragma_table_info('chat') WHERE name IN ('meeting_id', 'ts_ms',"
                        " 'sender', 'recipient', 'text')") == 5);
    CHECK(sql_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1);
    struct stat stt;
    CHECK(stat(path, &stt) == 0 && (stt.st_mode & 0777) == 0600);
    /* foreign keys are on: an attendance row for no meeting is refused */
    CHECK(dc_record_join(r, 999, &CHAIR, T0) == 0);
    dc_record_close(r);
    r = open_or_report(path); /* reopening an existing record */
    dc_record_close(r);

    char err[256] = "";
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(dc_record_open(path, err, sizeof err) == NULL && strstr(err, "newer"));
    g_free(path);

    path = tmp_path("not-a-database");
    g_file_set_contents(path, "hello, this is not SQLite at all, not even a little bit", -1, NULL);
    err[0] = '\0';
    CHECK(dc_record_open(path, err, sizeof err) == NULL && err[0]);
    g_free(path);
    CHECK(dc_record_open("", err, sizeof err) == NULL);
    CHECK(dc_record_open("/proc/no/such/place/record.sqlite", err, sizeof err) == NULL && err[0]);
    printf("ok schema and file\n");
}

static void test_null_record(void)
{
    dc_record_person who = CHAIR;
    CHECK(dc_record_meeting_start(NULL, "r", T0) == 0);
    CHECK(dc_record_join(NULL, 1, &who, T0) == 0);
    dc_record_leave(NULL, 1, "left", T0);
    dc_record_event(NULL, 1, "locked", "p1", NULL, NULL, T0);
    dc_record_chat(NULL, 1, "p1", "all", "x", T0);
    dc_record_meeting_end(NULL, 1, T0);
    CHECK(!dc_record_meeting_exists(NULL, 1));
    char err[128] = "";
    CHECK(dc_record_export(NULL, 1, "meetings", "json", err, sizeof err) == NULL && err[0]);
    dc_record_close(NULL);
    printf("ok null record\n");
}

static void test_exports(void)
{
    char *path = tmp_path("exports.sqlite");
    dc_record *r = open_or_report(path);
    int64_t m = write_scripted_meeting(r);
    CHECK(m == 1);
    char *t;
    check_text(t = export_or_report(r, 0, "meetings", "csv"), WANT_MEETINGS_CSV, "meetings.csv");
    free(t);
    check_text(t = export_or_report(r, 0, "meetings", "json"), WANT_MEETINGS_JSON, "meetings.json");
    free(t);
    check_text(t = export_or_report(r, m, "attendance", "csv"), WANT_ATTENDANCE_CSV, "attendance.csv");
    free(t);
    check_text(t = export_or_report(r, m, "attendance", "json"), WANT_ATTENDANCE_JSON, "attendance.json");
    free(t);
    check_text(t = export_or_report(r, m, "events", "csv"), WANT_EVENTS_CSV, "events.csv");
    free(t);
    t = export_or_report(r, m, "events", "json");
    CHECK(t && strstr(t, WANT_EVENTS_JSON_CHAT));
    CHECK(t && strstr(t, WANT_EVENTS_JSON_FLOOR));
    if (t && !(strstr(t, WANT_EVENTS_JSON_CHAT) && strstr(t, WANT_EVENTS_JSON_FLOOR))) fprintf(stderr, "%s\n", t);
    free(t);

    char err[256] = "";
    CHECK(dc_record_export(r, 42, "attendance", "csv", err, sizeof err) == NULL && strstr(err, "no meeting 42"));
    CHECK(dc_record_export(r, m, "people", "csv", err, sizeof err) == NULL && strstr(err, "unknown export"));
    CHECK(dc_record_export(r, m, "events", "xml", err, sizeof err) == NULL);
    CHECK(dc_record_meeting_exists(r, m) && !dc_record_meeting_exists(r, m + 1));

    /* a second leave of the same row does not move its time */
    int64_t a = dc_record_join(r, m, &CHAIR, T0 + 80000);
    dc_record_leave(r, a, "timeout", T0 + 81000);
    dc_record_leave(r, a, "left", T0 + 99000);
    CHECK(sql_int(path, "SELECT left_ms FROM attendance WHERE id = 3") == T0 + 81000);
    dc_record_close(r);
    g_free(path);
    printf("ok exports\n");
}

/* A meeting the server never closed is closed at the next open, with the time of its last
 * row; a read-only open (the export command beside a running server) leaves it open. */
static void test_meeting_left_open(void)
{
    char *path = tmp_path("left-open.sqlite");
    dc_record *r = open_or_report(path);
    int64_t closed = dc_record_meeting_start(r, "earlier", T0 - 100000);
    dc_record_meeting_end(r, closed, T0 - 50000);
    int64_t m = dc_record_meeting_start(r, "hop-tinh", T0);
    dc_record_join(r, m, &CHAIR, T0 + 1000);
    int64_t d = dc_record_join(r, m, &DELEGATE, T0 + 2000);
    dc_record_leave(r, d, "timeout", T0 + 9000);
    dc_record_chat(r, m, "p1", "all", "còn ai không?", T0 + 12345);
    dc_record_close(r); /* as if killed: no meeting end */

    char err[256] = "";
    r = dc_record_open_readonly(path, err, sizeof err);
    CHECK(r != NULL);
    char *t = r ? export_or_report(r, m, "attendance", "csv") : NULL;
    CHECK(t && strstr(t, ",chair,2026-12-07T08:00:01.000Z,,,in_progress\r\n"));
    free(t);
    CHECK(dc_record_meeting_start(r, "x", T0) == 0); /* read only */
    dc_record_close(r);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM meetings WHERE ended_ms IS NULL") == 1);

    r = open_or_report(path);
    CHECK(sql_int(path, "SELECT ended_ms FROM meetings WHERE id = 2") == T0 + 12345);
    CHECK(sql_int(path, "SELECT ended_ms FROM meetings WHERE id = 1") == T0 - 50000);
    t = export_or_report(r, m, "attendance", "csv");
    CHECK(t && strstr(t, ",chair,2026-12-07T08:00:01.000Z,2026-12-07T08:00:12.345Z,11,server_stopped\r\n"));
    CHECK(t && strstr(t, ",delegate,2026-12-07T08:00:02.000Z,2026-12-07T08:00:09.000Z,7,timeout\r\n"));
    free(t);
    t = export_or_report(r, 0, "meetings", "csv");
    CHECK(t && strstr(t, "\r\n1,earlier,") && strstr(t, ",closed\r\n"));
    CHECK(t && strstr(t, "\r\n2,hop-tinh,2026-12-07T08:00:00.000Z,2026-12-07T08:00:12.345Z,12,2,2,server_stopped\r\n"));
    free(t);
    t = export_or_report(r, m, "events", "json");
    CHECK(t && strstr(t, "\"kind\": \"server_stopped\"") && strstr(t, "without closing the meeting"));
    free(t);
    dc_record_close(r);
    r = open_or_report(path); /* nothing left to close: no second event */
    CHECK(sql_int(path, "SELECT COUNT(*) FROM events WHERE kind = 'server_stopped'") == 1);
    dc_record_close(r);
    g_free(path);
    printf("ok meeting left open\n");
}

/* ---- durability ---------------------------------------------------------------------- */

typedef struct {
    char kind; /* 'j' join (id = attendance id), 'e' event, 'c' chat (id = sequence), 'l' leave */
    int64_t id;
} report;

static void write_report(int fd, char kind, int64_t id)
{
    report rep = {kind, id};
    if (write(fd, &rep, sizeof rep) != (ssize_t)sizeof rep) _exit(3);
}

/* The child: writes until killed, reporting each call after it returned. */
static void durability_child(const char *path, int fd)
{
    dc_record *r = dc_record_open(path, NULL, 0);
    if (!r) _exit(2);
    int64_t m = dc_record_meeting_start(r, "ben-bi", T0);
    write_report(fd, 'm', m);
    for (int64_t i = 1; i < 1000000; i++) {
        char pid[16];
        snprintf(pid, sizeof pid, "p%lld", (long long)i);
        dc_record_person who = {pid, pid, "Người thứ i", "Xã", "delegate"};
        int64_t a = dc_record_join(r, m, &who, T0 + i * 10);
        write_report(fd, 'j', a);
        dc_record_event(r, m, "hand_raised", pid, NULL, NULL, T0 + i * 10 + 1);
        write_report(fd, 'e', i);
        dc_record_chat(r, m, pid, "all", "xin phát biểu", T0 + i * 10 + 2);
        write_report(fd, 'c', i);
        if (i % 2) {
            dc_record_leave(r, a, "left", T0 + i * 10 + 3);
            write_report(fd, 'l', a);
        }
    }
    _exit(0);
}

static void test_durability_across_sigkill(void)
{
    char *path = tmp_path("durable.sqlite");
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        durability_child(path, fds[1]);
    }
    close(fds[1]);
    /* reads every report, also those still in the pipe after the kill */
    enum { KILL_AFTER = 200 };
    GArray *got = g_array_new(false, false, sizeof(report));
    report rep;
    while (read(fds[0], &rep, sizeof rep) == (ssize_t)sizeof rep) { /* to EOF (a torn tail is ignored) */
        g_array_append_val(got, rep);
        if (got->len == KILL_AFTER) kill(child, SIGKILL);
    }
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* killed mid-stream, not finished */
    CHECK(got->len >= KILL_AFTER);
    const report *reports = (const report *)got->data;
    int n = (int)got->len;

    dc_record *r = open_or_report(path); /* closes the meeting the child left open */
    sqlite3 *db;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *st;
    const char *sql = "SELECT CASE ?1"
                      " WHEN 'm' THEN (SELECT COUNT(*) FROM meetings WHERE id = ?2)"
                      " WHEN 'j' THEN (SELECT COUNT(*) FROM attendance WHERE id = ?2)"
                      " WHEN 'l' THEN (SELECT COUNT(*) FROM attendance WHERE id = ?2 AND leave_reason = 'left')"
                      " WHEN 'e' THEN (SELECT COUNT(*) FROM events WHERE kind = 'hand_raised' AND ts_ms = ?3 + 1)"
                      " WHEN 'c' THEN (SELECT COUNT(*) FROM chat WHERE ts_ms = ?3 + 2) END";
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    int missing = 0;
    for (int i = 0; i < n; i++) {
        char kind[2] = {reports[i].kind, 0};
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, reports[i].id);
        sqlite3_bind_int64(st, 3, T0 + reports[i].id * 10);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != 1) {
            if (missing++ < 5) fprintf(stderr, "  reported %c %lld not found\n", kind[0], (long long)reports[i].id);
        }
        sqlite3_reset(st);
    }
    CHECK(missing == 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* the joins that had not left were closed as server_stopped */
    CHECK(sql_int(path, "SELECT COUNT(*) FROM attendance WHERE left_ms IS NULL") == 0);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM attendance WHERE leave_reason = 'server_stopped'") >= 1);
    CHECK(sql_int(path, "SELECT COUNT(*) FROM meetings WHERE ended_ms IS NULL") == 0);
    dc_record_close(r);
    g_array_free(got, true);
    g_free(path);
    printf("ok durability across SIGKILL (%d reported calls, all found)\n", n);
}

static void remove_tree(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-fixture")) {
        char err[256] = "";
        dc_record *r = dc_record_open(argv[2], err, sizeof err);
        if (!r) {
            fprintf(stderr, "test_record: %s\n", err);
            return 1;
        }
        write_scripted_meeting(r);
        dc_record_close(r);
        return 0;
    }
    tmp_dir = g_dir_make_tmp("test_record.XXXXXX", NULL);
    test_schema_and_file();
    test_null_record();
    test_exports();
    test_meeting_left_open();
    test_durability_across_sigkill();
    remove_tree(tmp_dir);
    g_free(tmp_dir);
    return CHECK_RESULT();
}
