/* The meeting record in SQLite (record.h). Every write is one autocommitted statement (or
 * one short transaction), so when a call returns its row is in the WAL: a SIGKILL loses
 * nothing that was reported. synchronous=FULL also fsyncs the WAL at each commit, so a
 * power loss loses nothing either (NORMAL would keep the file intact but could lose the
 * last commits). The writes are a few per join, leave, floor change or chat line; their
 * cost is in docs/RECORD.md.
 *
 * A meeting the server never closed (it was killed or the machine stopped) is closed at the
 * next open: its end and its open attendance rows take the time of its last recorded row,
 * with leave_reason "server_stopped" and a "server_stopped" event, so the exports say so. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 1000

static const char SCHEMA[] =
    "CREATE TABLE meetings("
    " id INTEGER PRIMARY KEY, room TEXT NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    " end_reason TEXT);" /* "closed" by the server, "server_stopped" when closed at the next open */
    "CREATE TABLE attendance("
    " id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL REFERENCES meetings(id),"
    " participant_id TEXT, user_id TEXT, name TEXT, site TEXT, role TEXT,"
    " joined_ms INTEGER NOT NULL, left_ms INTEGER, leave_reason TEXT);"
    "CREATE INDEX attendance_meeting ON attendance(meeting_id);"
    "CREATE TABLE events("
    " id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL REFERENCES meetings(id),"
    " ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT, target TEXT, detail TEXT);"
    "CREATE INDEX events_meeting ON events(meeting_id, ts_ms);"
    "CREATE TABLE chat("
    " id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL REFERENCES meetings(id),"
    " ts_ms INTEGER NOT NULL, sender TEXT, recipient TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX chat_meeting ON chat(meeting_id, ts_ms);";

/* Indexes added after version 1 was first written (created at each writable open, so
 * older files get them too). The exports look names up by participant id for each event
 * row: without this index a long meeting's event log took seconds. */
static const char LATER_INDEXES[] =
    "CREATE INDEX IF NOT EXISTS attendance_participant ON attendance(meeting_id, participant_id);";

/* The writes, prepared once at open. */
enum { ST_MEETING_START, ST_MEETING_END, ST_MEETING_END_ATTENDANCE, ST_JOIN, ST_LEAVE, ST_EVENT, ST_CHAT, ST_COUNT };
static const char *const WRITE_SQL[ST_COUNT] = {
    [ST_MEETING_START] = "INSERT INTO meetings(room, started_ms) VALUES(?1, ?2)",
    [ST_MEETING_END] = "UPDATE meetings SET ended_ms = ?2, end_reason = ?3 WHERE id = ?1 AND ended_ms IS NULL",
    [ST_MEETING_END_ATTENDANCE] = "UPDATE attendance SET left_ms = ?2, leave_reason = ?3"
                                  " WHERE meeting_id = ?1 AND left_ms IS NULL",
    [ST_JOIN] = "INSERT INTO attendance(meeting_id, participant_id, user_id, name, site, role, joined_ms)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_LEAVE] = "UPDATE attendance SET left_ms = ?2, leave_reason = ?3 WHERE id = ?1 AND left_ms IS NULL",
    [ST_EVENT] = "INSERT INTO events(meeting_id, ts_ms, kind, actor, target, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_CHAT] = "INSERT INTO chat(meeting_id, ts_ms, sender, recipient, text) VALUES(?1, ?2, ?3, ?4, ?5)",
};

struct dc_record {
    sqlite3 *db;
    bool read_only;
    sqlite3_stmt *st[ST_COUNT];
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static bool exec_sql(dc_record *r, const char *sql, char *err, size_t err_len)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    set_err(err, err_len, "%s", msg ? msg : sqlite3_errmsg(r->db));
    sqlite3_free(msg);
    return false;
}

static int64_t query_int(dc_record *r, const char *sql, int64_t arg, int64_t fallback)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) return fallback;
    sqlite3_bind_int64(st, 1, arg);
    int64_t v = fallback;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool switch_to_wal(dc_record *r)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK) return false;
    bool wal = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    return wal;
}

/* mkdir -p of the folder that holds path (the record holds personal data: 0750). */
static bool make_parent_dirs(const char *path, char *err, size_t err_len)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        set_err(err, err_len, "record path too long");
        return false;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return true;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) goto fail;
        *p = '/';
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) goto fail;
    return true;
fail:
    set_err(err, err_len, "cannot create the folder %s: %s", dir, strerror(errno));
    return false;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

/* Runs a bound write; false (and a line on stderr: the meeting goes on) when it failed. */
static bool run_write(dc_record *r, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) fprintf(stderr, "record: could not write %s: %s\n", what, sqlite3_errmsg(r->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

static bool insert_event(dc_record *r, int64_t meeting_id, const char *kind, const char *actor, const char *target,
                         const char *detail_json, int64_t now_ms)
{
    sqlite3_stmt *st = r->st[ST_EVENT];
    sqlite3_bind_int64(st, 1, meeting_id);
    sqlite3_bind_int64(st, 2, now_ms);
    bind_text_or_null(st, 3, kind);
    bind_text_or_null(st, 4, actor);
    bind_text_or_null(st, 5, target);
    bind_text_or_null(st, 6, detail_json);
    return run_write(r, st, "an event");
}

/* Closes a meeting's attendance rows still open, then the meeting (in the caller's transaction). */
static bool close_meeting(dc_record *r, int64_t meeting_id, int64_t at_ms, const char *leave_reason,
                          const char *end_reason)
{
    sqlite3_stmt *st = r->st[ST_MEETING_END_ATTENDANCE];
    sqlite3_bind_int64(st, 1, meeting_id);
    sqlite3_bind_int64(st, 2, at_ms);
    sqlite3_bind_text(st, 3, leave_reason, -1, SQLITE_STATIC);
    if (!run_write(r, st, "the attendance at a meeting end")) return false;
    st = r->st[ST_MEETING_END];
    sqlite3_bind_int64(st, 1, meeting_id);
    sqlite3_bind_int64(st, 2, at_ms);
    sqlite3_bind_text(st, 3, end_reason, -1, SQLITE_STATIC);
    return run_write(r, st, "a meeting end");
}

/* Closes every meeting a previous run left open (see the top of the file), in one transaction. */
static bool close_abandoned_meetings(dc_record *r, char *err, size_t err_len)
{
    static const char LAST_ROW_SQL[] = "SELECT MAX(t) FROM ("
                                       " SELECT started_ms AS t FROM meetings WHERE id = ?1"
                                       " UNION ALL SELECT MAX(joined_ms) FROM attendance WHERE meeting_id = ?1"
                                       " UNION ALL SELECT MAX(left_ms) FROM attendance WHERE meeting_id = ?1"
                                       " UNION ALL SELECT MAX(ts_ms) FROM events WHERE meeting_id = ?1"
                                       " UNION ALL SELECT MAX(ts_ms) FROM chat WHERE meeting_id = ?1)";
    if (!exec_sql(r, "BEGIN IMMEDIATE", err, err_len)) return false;
    bool ok = true;
    int64_t id;
    /* each pass closes one, so the next looks at the next */
    while (ok && (id = query_int(r, "SELECT MIN(id) FROM meetings WHERE ended_ms IS NULL", 0, 0)) > 0) {
        int64_t last = query_int(r, LAST_ROW_SQL, id, 0);
        ok = insert_event(r, id, "server_stopped", NULL, NULL,
                          "{\"note\":\"the server stopped without closing the meeting; its end is the time of its"
                          " last recorded row\"}",
                          last) &&
             close_meeting(r, id, last, "server_stopped", "server_stopped");
    }
    if (!ok) set_err(err, err_len, "closing the meetings left open: %s", sqlite3_errmsg(r->db));
    return exec_sql(r, ok ? "COMMIT" : "ROLLBACK", ok ? err : NULL, err_len) && ok;
}

static bool ensure_schema(dc_record *r, char *err, size_t err_len)
{
    int64_t version = query_int(r, "PRAGMA user_version", 0, -1);
    if (version == SCHEMA_VERSION) return true;
    if (version > SCHEMA_VERSION) {
        set_err(err, err_len, "the record has schema version %" PRId64 ", newer than this server's (%d)", version,
                SCHEMA_VERSION);
        return false;
    }
    if (version < 0) {
        set_err(err, err_len, "the file is not a meeting record (%s)", sqlite3_errmsg(r->db));
        return false;
    }
    if (version != 0 || r->read_only) {
        set_err(err, err_len, "the file is not a meeting record (schema version %" PRId64 ")", version);
        return false;
    }
    char sql[sizeof SCHEMA + 64];
    snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;%sPRAGMA user_version=%d;COMMIT", SCHEMA, SCHEMA_VERSION);
    if (exec_sql(r, sql, err, err_len)) return true;
    exec_sql(r, "ROLLBACK", NULL, 0);
    return false;
}

static dc_record *record_open(const char *path, bool read_only, char *err, size_t err_len)
{
    if (!path || !*path) {
        set_err(err, err_len, "no record path");
        return NULL;
    }
    if (!read_only) {
        if (!make_parent_dirs(path, err, err_len)) return NULL;
        /* created here so that it is private; SQLite gives its -wal and -shm the same mode */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            set_err(err, err_len, "cannot open the record %s: %s", path, strerror(errno));
            return NULL;
        }
        close(fd);
    }
    dc_record *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->read_only = read_only;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &r->db, flags, NULL) != SQLITE_OK) {
        set_err(err, err_len, "cannot open the record %s: %s", path, r->db ? sqlite3_errmsg(r->db) : "no memory");
        dc_record_close(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
    char e[256] = "";
    bool ok = exec_sql(r, "PRAGMA foreign_keys=ON", e, sizeof e);
    if (ok && !read_only) {
        ok = exec_sql(r, "PRAGMA synchronous=FULL", e, sizeof e) &&
             query_int(r, "PRAGMA user_version", 0, -1) >= 0; /* reads the header: fails if not a database */
        if (ok && !switch_to_wal(r)) {
            snprintf(e, sizeof e, "cannot switch to WAL mode: %s", sqlite3_errmsg(r->db));
            ok = false;
        }
    }
    ok = ok && ensure_schema(r, e, sizeof e) && (read_only || exec_sql(r, LATER_INDEXES, e, sizeof e));
    for (int i = 0; ok && !read_only && i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(r->db, WRITE_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL) != SQLITE_OK) {
            snprintf(e, sizeof e, "%s", sqlite3_errmsg(r->db));
            ok = false;
        }
    }
    ok = ok && (read_only || close_abandoned_meetings(r, e, sizeof e));
    if (!ok) {
        set_err(err, err_len, "record %s: %s", path, *e ? e : sqlite3_errmsg(r->db));
        dc_record_close(r);
        return NULL;
    }
    return r;
}

dc_record *dc_record_open(const char *path, char *err, size_t err_len)
{
    return record_open(path, false, err, err_len);
}

dc_record *dc_record_open_readonly(const char *path, char *err, size_t err_len)
{
    return record_open(path, true, err, err_len);
}

void dc_record_close(dc_record *r)
{
    if (!r) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(r->st[i]);
    sqlite3_close(r->db);
    free(r);
}

/* ---- writes -------------------------------------------------------------------------- */

static sqlite3_stmt *write_stmt(dc_record *r, int which) { return r && !r->read_only ? r->st[which] : NULL; }

int64_t dc_record_meeting_start(dc_record *r, const char *room, int64_t now_ms)
{
    sqlite3_stmt *st = write_stmt(r, ST_MEETING_START);
    if (!st) return 0;
    bind_text_or_null(st, 1, room ? room : "");
    sqlite3_bind_int64(st, 2, now_ms);
    return run_write(r, st, "a meeting start") ? sqlite3_last_insert_rowid(r->db) : 0;
}

void dc_record_meeting_end(dc_record *r, int64_t meeting_id, int64_t now_ms)
{
    if (!write_stmt(r, ST_MEETING_END)) return;
    char err[256];
    if (!exec_sql(r, "BEGIN IMMEDIATE", err, sizeof err)) {
        fprintf(stderr, "record: could not write a meeting end: %s\n", err);
        return;
    }
    bool ok = close_meeting(r, meeting_id, now_ms, "ended", "closed");
    exec_sql(r, ok ? "COMMIT" : "ROLLBACK", NULL, 0);
}

int64_t dc_record_join(dc_record *r, int64_t meeting_id, const dc_record_person *who, int64_t now_ms)
{
    sqlite3_stmt *st = write_stmt(r, ST_JOIN);
    if (!st || !who) return 0;
    sqlite3_bind_int64(st, 1, meeting_id);
    bind_text_or_null(st, 2, who->participant_id);
    bind_text_or_null(st, 3, who->user_id);
    bind_text_or_null(st, 4, who->name);
    bind_text_or_null(st, 5, who->site);
    bind_text_or_null(st, 6, who->role);
    sqlite3_bind_int64(st, 7, now_ms);
    return run_write(r, st, "a join") ? sqlite3_last_insert_rowid(r->db) : 0;
}

void dc_record_leave(dc_record *r, int64_t attendance_id, const char *reason, int64_t now_ms)
{
    sqlite3_stmt *st = write_stmt(r, ST_LEAVE);
    if (!st) return;
    sqlite3_bind_int64(st, 1, attendance_id);
    sqlite3_bind_int64(st, 2, now_ms);
    bind_text_or_null(st, 3, reason ? reason : "left");
    run_write(r, st, "a leave");
}

void dc_record_event(dc_record *r, int64_t meeting_id, const char *kind, const char *actor, const char *target,
                     const char *detail_json, int64_t now_ms)
{
    if (write_stmt(r, ST_EVENT) && kind) insert_event(r, meeting_id, kind, actor, target, detail_json, now_ms);
}

void dc_record_chat(dc_record *r, int64_t meeting_id, const char *from, const char *to, const char *text,
                    int64_t now_ms)
{
    sqlite3_stmt *st = write_stmt(r, ST_CHAT);
    if (!st || !text) return;
    sqlite3_bind_int64(st, 1, meeting_id);
    sqlite3_bind_int64(st, 2, now_ms);
    bind_text_or_null(st, 3, from);
    bind_text_or_null(st, 4, to ? to : "all");
    bind_text_or_null(st, 5, text);
    run_write(r, st, "a chat line");
}

bool dc_record_meeting_exists(dc_record *r, int64_t meeting_id)
{
    return r && query_int(r, "SELECT 1 FROM meetings WHERE id = ?1", meeting_id, 0) == 1;
}

int64_t dc_record_last_meeting_in_room(dc_record *r, const char *room)
{
    sqlite3_stmt *st;
    if (!r || !room ||
        sqlite3_prepare_v2(r->db, "SELECT MAX(id) FROM meetings WHERE room = ?1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, room, -1, SQLITE_TRANSIENT);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0; /* NULL reads as 0 */
    sqlite3_finalize(st);
    return id;
}

/* ---- exports ------------------------------------------------------------------------- */

/* How a result column is written: its SQL alias is its name in both formats. */
typedef enum {
    COL_INT,
    COL_TEXT, /* text that people typed or tokens carry */
    COL_TIME, /* ms since the epoch → "2026-12-07T08:15:02.123Z" */
    COL_JSON, /* a JSON object text: an object in JSON, the text itself in CSV */
} col_type;

typedef struct {
    const char *sql; /* ?1 = the meeting id */
    const col_type *types;
    int n_types;
} export_query;

#define QUERY(sql, ...) \
    { \
        sql, (const col_type[]){__VA_ARGS__}, sizeof((const col_type[]){__VA_ARGS__}) / sizeof(col_type) \
    }

static const export_query MEETINGS_QUERY = QUERY(
    "SELECT m.id AS meeting_id, m.room AS room, m.started_ms AS started_utc, m.ended_ms AS ended_utc,"
    " (m.ended_ms - m.started_ms + 500) / 1000 AS duration_s,"
    " (SELECT COUNT(*) FROM attendance a WHERE a.meeting_id = m.id) AS joins,"
    " (SELECT COUNT(DISTINCT COALESCE(a.user_id, a.participant_id)) FROM attendance a WHERE a.meeting_id = m.id)"
    " AS people,"
    " CASE WHEN m.ended_ms IS NULL THEN 'in_progress' ELSE m.end_reason END AS end_reason"
    " FROM meetings m ORDER BY m.id",
    COL_INT, COL_TEXT, COL_TIME, COL_TIME, COL_INT, COL_INT, COL_INT, COL_TEXT);

static const export_query ATTENDANCE_QUERY = QUERY(
    "SELECT meeting_id, participant_id, user_id, name, site, role, joined_ms AS joined_utc, left_ms AS left_utc,"
    " (left_ms - joined_ms + 500) / 1000 AS duration_s,"
    " CASE WHEN left_ms IS NULL THEN 'in_progress' ELSE leave_reason END AS leave_reason"
    " FROM attendance WHERE meeting_id = ?1 ORDER BY joined_ms, id",
    COL_INT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TIME, COL_TIME, COL_INT, COL_TEXT);

/* Events and chat lines merged by time; names looked up from the attendance. The
 * server_stopped event has the time of the meeting's last row: it sorts after that row. */
#define NAME_OF(col) \
    "(SELECT a.name FROM attendance a WHERE a.meeting_id = ?1 AND a.participant_id = " col \
    " ORDER BY a.id DESC LIMIT 1)"
// clang-format off
static const export_query EVENTS_QUERY = QUERY(
    "SELECT time_utc, kind, actor, actor_name, target, target_name, detail, \"to\", text FROM ("
    " SELECT ts_ms AS time_utc, kind, actor, " NAME_OF("actor") " AS actor_name,"
    "  target, " NAME_OF("target") " AS target_name, detail, NULL AS \"to\", NULL AS text,"
    "  kind = 'server_stopped' AS closing, 0 AS source, id"
    "  FROM events WHERE meeting_id = ?1"
    " UNION ALL"
    " SELECT ts_ms, 'chat', sender, " NAME_OF("sender") ", NULL, NULL, NULL, recipient, text, 0, 1, id"
    "  FROM chat WHERE meeting_id = ?1)"
    " ORDER BY time_utc, closing, source, id",
    COL_TIME, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_JSON, COL_TEXT, COL_TEXT);
// clang-format on

static void format_time(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms - (int64_t)secs * 1000));
}

/* A growing text buffer (malloc'd: the caller frees the export with free()). */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} text_buf;

static void buf_add(text_buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_adds(text_buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* One RFC 4180 field. Text that people typed and that starts like a spreadsheet formula
 * gets a leading apostrophe, so opening the export cannot run what a participant wrote. */
static void csv_field(text_buf *b, const char *s, bool typed_text)
{
    bool formula = typed_text && s[0] && strchr("=+-@\t\r", s[0]);
    if (!formula && !s[strcspn(s, ",\"\r\n")]) {
        buf_adds(b, s);
        return;
    }
    buf_adds(b, formula ? "\"'" : "\"");
    for (const char *p = s; *p; p++) {
        buf_add(b, p, 1);
        if (*p == '"') buf_add(b, "\"", 1); /* a quote inside is doubled */
    }
    buf_adds(b, "\"");
}

static char *export_csv(sqlite3_stmt *st, const export_query *q, char *err, size_t err_len)
{
    text_buf b = {0};
    buf_adds(&b, "\xEF\xBB\xBF"); /* the BOM: Excel then reads the file as UTF-8 */
    for (int c = 0; c < q->n_types; c++) {
        if (c) buf_adds(&b, ",");
        buf_adds(&b, sqlite3_column_name(st, c));
    }
    buf_adds(&b, "\r\n");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < q->n_types; c++) {
            if (c) buf_adds(&b, ",");
            if (sqlite3_column_type(st, c) == SQLITE_NULL) continue;
            char tmp[32];
            switch (q->types[c]) {
            case COL_INT:
                snprintf(tmp, sizeof tmp, "%" PRId64, (int64_t)sqlite3_column_int64(st, c));
                buf_adds(&b, tmp);
                break;
            case COL_TIME:
                format_time(sqlite3_column_int64(st, c), tmp);
                buf_adds(&b, tmp);
                break;
            case COL_TEXT:
            case COL_JSON: csv_field(&b, (const char *)sqlite3_column_text(st, c), q->types[c] == COL_TEXT); break;
            }
        }
        buf_adds(&b, "\r\n");
    }
    if (rc != SQLITE_DONE || b.failed) {
        set_err(err, err_len, "export failed: %s", b.failed ? "out of memory" : sqlite3_errmsg(sqlite3_db_handle(st)));
        free(b.data);
        return NULL;
    }
    return b.data;
}

static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    gchar *valid = g_utf8_make_valid(s, -1); /* bytes that are not UTF-8 become U+FFFD */
    j = json_string(valid);
    g_free(valid);
    return j;
}

static json_t *json_value(sqlite3_stmt *st, int c, col_type type)
{
    if (sqlite3_column_type(st, c) == SQLITE_NULL) return json_null();
    char tmp[32];
    const char *text = (const char *)sqlite3_column_text(st, c);
    switch (type) {
    case COL_INT: return json_integer(sqlite3_column_int64(st, c));
    case COL_TIME: format_time(sqlite3_column_int64(st, c), tmp); return json_string(tmp);
    case COL_JSON: {
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (j) return j;
        return json_text(text); /* not JSON after all: kept as text */
    }
    case COL_TEXT: break;
    }
    return json_text(text);
}

static char *export_json(sqlite3_stmt *st, const export_query *q, char *err, size_t err_len)
{
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int c = 0; c < q->n_types; c++)
            json_object_set_new(row, sqlite3_column_name(st, c), json_value(st, c, q->types[c]));
        json_array_append_new(rows, row);
    }
    char *text = rc == SQLITE_DONE ? json_dumps(rows, JSON_INDENT(2)) : NULL;
    json_decref(rows);
    text_buf b = {0};
    if (text) {
        buf_adds(&b, text);
        buf_adds(&b, "\n");
        free(text);
    }
    if (!b.data || b.failed) {
        set_err(err, err_len, "export failed: %s",
                rc == SQLITE_DONE ? "out of memory" : sqlite3_errmsg(sqlite3_db_handle(st)));
        free(b.data);
        return NULL;
    }
    return b.data;
}

char *dc_record_export(dc_record *r, int64_t meeting_id, const char *what, const char *format, char *err,
                       size_t err_len)
{
    if (!r) {
        set_err(err, err_len, "no record is kept (record_path is empty)");
        return NULL;
    }
    const export_query *q = NULL;
    if (what && !strcmp(what, "meetings")) q = &MEETINGS_QUERY;
    else if (what && !strcmp(what, "attendance")) q = &ATTENDANCE_QUERY;
    else if (what && !strcmp(what, "events")) q = &EVENTS_QUERY;
    bool csv = format && !strcmp(format, "csv");
    if (!q || !format || (!csv && strcmp(format, "json"))) {
        set_err(err, err_len, "unknown export %s.%s (meetings|attendance|events, json|csv)", what ? what : "",
                format ? format : "");
        return NULL;
    }
    if (q != &MEETINGS_QUERY && !dc_record_meeting_exists(r, meeting_id)) {
        set_err(err, err_len, "no meeting %" PRId64 " in the record", meeting_id);
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, q->sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, err_len, "export failed: %s", sqlite3_errmsg(r->db));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, meeting_id);
    char *out = csv ? export_csv(st, q, err, err_len) : export_json(st, q, err, err_len);
    sqlite3_finalize(st);
    return out;
}
