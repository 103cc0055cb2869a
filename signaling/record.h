/* The meeting record: an SQLite database (WAL) that keeps who attended which meeting and
 * what happened in it (floor, moderation, chat), durable across a SIGKILL: each call is
 * its own committed transaction before it returns. Single-threaded (the lws thread). A
 * NULL record (no record_path configured) makes every call a no-op returning 0. */
#ifndef DC_RECORD_H
#define DC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dc_record dc_record;

/* Opens (creating the file, its folder and the schema) or returns NULL with err set. */
dc_record *dc_record_open(const char *path, char *err, size_t err_len);
/* For exports beside a running server (`diemcau export`): no schema creation, no closing of
 * meetings left open (the server may still hold them), every write a no-op. */
dc_record *dc_record_open_readonly(const char *path, char *err, size_t err_len);
void dc_record_close(dc_record *r);

/* Times are milliseconds since the Unix epoch (wall clock). */
int64_t dc_record_meeting_start(dc_record *r, const char *room, int64_t now_ms); /* meeting id */
void dc_record_meeting_end(dc_record *r, int64_t meeting_id, int64_t now_ms);

typedef struct {
    const char *participant_id; /* this session's id ("p7") */
    const char *user_id;        /* the token's sub */
    const char *name, *site, *role;
} dc_record_person;
/* One attendance row (a join); returns its id for dc_record_leave. */
int64_t dc_record_join(dc_record *r, int64_t meeting_id, const dc_record_person *who, int64_t now_ms);
/* reason: "left", "timeout", "removed", "ended" */
void dc_record_leave(dc_record *r, int64_t attendance_id, const char *reason, int64_t now_ms);

/* A floor or moderation event: kind e.g. "hand_raised", "hand_lowered", "floor_granted",
 * "floor_revoked", "muted", "unmuted", "removed", "locked", "unlocked", "ended",
 * "screen_started", "screen_stopped"; actor/target participant ids may be NULL; detail is
 * a JSON object text or NULL. */
void dc_record_event(dc_record *r, int64_t meeting_id, const char *kind, const char *actor, const char *target,
                     const char *detail_json, int64_t now_ms);
/* to: "all" or "chair" */
void dc_record_chat(dc_record *r, int64_t meeting_id, const char *from, const char *to, const char *text,
                    int64_t now_ms);

bool dc_record_meeting_exists(dc_record *r, int64_t meeting_id);
/* The newest meeting held in room (`diemcau export --room`): its id, 0 when there is none. */
int64_t dc_record_last_meeting_in_room(dc_record *r, const char *room);

/* Exports (malloc'd text, NULL on error with err set): what = "meetings" (meeting_id
 * ignored), "attendance" or "events" (events include chat); format = "json" or "csv". */
char *dc_record_export(dc_record *r, int64_t meeting_id, const char *what, const char *format, char *err,
                       size_t err_len);

#endif
