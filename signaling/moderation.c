/* Floor control, the chair's moderation and chat (PROTOCOL.md "The province meeting").
 * The rules live here; the floor itself is plain state (floor.h) and the media follow
 * through the engine gates and the slots (meeting.c). */
#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "meeting_internal.h"

static dc_participant *by_key(dc_room *room, uint32_t key)
{
    for (dc_participant *p = room->participants; p && key; p = p->next)
        if (p->key == key) return p;
    return NULL;
}

static bool require_moderator(dc_meeting *m, dc_conn *conn, const dc_participant *p, const dc_request *req)
{
    if (p->grants & DC_GRANT_MODERATE) return true;
    dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "only the chair may do this");
    return false;
}

/* The participant a request names, or NULL after replying not_found. */
static dc_participant *target_of(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_participant *t = dc_room_participant(p->room, req->participant_id);
    if (!t)
        dc_mt_reply_error(m, conn, req->id, DC_ERR_NOT_FOUND, "no participant %s in this room", req->participant_id);
    return t;
}

/* The floor moved from `before` to whoever holds it now: gates, slots, room, record. */
static void floor_moved(dc_meeting *m, dc_room *room, dc_participant *actor, uint32_t before)
{
    dc_participant *old = by_key(room, before), *now = by_key(room, room->floor.holder);
    if (old == now) {
        dc_mt_broadcast_room_state(m, room);
        return;
    }
    if (now) now->muted_by_chair[SFU_KIND_AUDIO] = false; /* the floor lifts the chair's mute */
    if (old) {
        /* sharing by the floor's leave (floor_may_share) ends with the floor */
        if (room->screen_sharer == old && !(old->grants & DC_GRANT_SHARE_SCREEN)) {
            room->screen_sharer = NULL;
            dc_mt_record_event(m, room, "screen_stopped", old, NULL, NULL);
        }
        dc_mt_apply_gates(m, old);
        dc_mt_record_event(m, room, "floor_revoked", actor, old, NULL);
    }
    if (now) {
        dc_mt_apply_gates(m, now);
        json_t *detail = room->floor.until_ms
                             ? json_pack("{s:I}", "seconds",
                                         (json_int_t)((room->floor.until_ms - room->floor.holder_since_ms) / 1000))
                             : NULL;
        dc_mt_record_event(m, room, "floor_granted", actor, now, detail);
        dc_mt_broadcast_participant(m, now);
    }
    dc_mt_refresh_slots(m, room);
    dc_mt_broadcast_room_state(m, room);
}

static void handle_raise_hand(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_room *room = p->room;
    if (!(p->grants & DC_GRANT_PUBLISH)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "the %s role cannot take the floor",
                          dc_role_name(p->role));
        return;
    }
    bool raised = room->floor.holder != p->key && dc_floor_raise(&room->floor, p->key, dc_mt_now_ms());
    json_t *ok = dc_reply_ok(req->id);
    json_object_set_new(ok, "position", json_integer((json_int_t)dc_floor_hand_position(&room->floor, p->key)));
    dc_mt_reply_ok(m, conn, req, ok);
    if (!raised) return;
    dc_mt_record_event(m, room, "hand_raised", p, p, NULL);
    dc_mt_broadcast_room_state(m, room);
}

static void handle_lower_hand(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_participant *t = p;
    if (req->participant_id[0] && strcmp(req->participant_id, p->id)) {
        if (!require_moderator(m, conn, p, req) || !(t = target_of(m, conn, p, req))) return;
    }
    bool lowered = dc_floor_lower(&p->room->floor, t->key);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (!lowered) return;
    dc_mt_record_event(m, p->room, "hand_lowered", p, t, NULL);
    dc_mt_broadcast_room_state(m, p->room);
}

static void handle_grant_floor(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_participant *t;
    if (!require_moderator(m, conn, p, req) || !(t = target_of(m, conn, p, req))) return;
    if (!(t->grants & DC_GRANT_PUBLISH)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "%s (%s) sends no media", t->name, dc_role_name(t->role));
        return;
    }
    uint32_t before = dc_floor_grant(&p->room->floor, t->key, req->seconds, dc_mt_now_ms());
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    floor_moved(m, p->room, p, before);
}

static void handle_revoke_floor(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    uint32_t before = dc_floor_revoke(&p->room->floor);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (before) floor_moved(m, p->room, p, before);
}

static void handle_next_floor(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    uint32_t before = p->room->floor.holder;
    if (!dc_floor_next(&p->room->floor, req->seconds, dc_mt_now_ms())) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_NOT_FOUND, "no raised hands");
        return;
    }
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    floor_moved(m, p->room, p, before);
}

static void set_chair_mute(dc_meeting *m, dc_participant *actor, dc_participant *t, sfu_kind kind, bool muted)
{
    if (t->muted_by_chair[kind] == muted) return;
    t->muted_by_chair[kind] = muted;
    dc_mt_apply_gates(m, t);
    dc_mt_record_event(m, t->room, muted ? "muted" : "unmuted", actor, t,
                       json_pack("{s:s}", "kind", kind == SFU_KIND_VIDEO ? "video" : "audio"));
}

static void handle_mute_participant(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_participant *t;
    if (!require_moderator(m, conn, p, req) || !(t = target_of(m, conn, p, req))) return;
    set_chair_mute(m, p, t, req->kind, req->muted);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_broadcast_participant(m, t);
    dc_mt_refresh_slots(m, p->room); /* a muted video leaves the galleries, a muted voice the audio slots */
}

/* Every delegate's microphone closed at once (one event to the room, not one per
 * delegate: 190 sites × 190 receivers would be 36 000 messages). */
static void handle_mute_delegates(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    dc_room *room = p->room;
    dc_participant *holder = by_key(room, room->floor.holder);
    uint32_t before = 0;
    if (holder && holder->role == DC_ROLE_DELEGATE) before = dc_floor_revoke(&room->floor);
    for (dc_participant *o = room->participants; o; o = o->next)
        if (o->role == DC_ROLE_DELEGATE) {
            o->muted_by_chair[SFU_KIND_AUDIO] = true;
            dc_mt_apply_gates(m, o);
        }
    dc_mt_record_event(m, room, "delegates_muted", p, NULL, NULL);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_broadcast(m, room, NULL, json_pack("{s:s, s:s}", "type", "delegates_muted", "kind", "audio"));
    if (before) floor_moved(m, room, p, before);
    else dc_mt_refresh_slots(m, room);
}

static void handle_remove(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_participant *t;
    if (!require_moderator(m, conn, p, req) || !(t = target_of(m, conn, p, req))) return;
    if (t == p) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "use leave to leave the meeting");
        return;
    }
    if (t->user_id[0]) g_hash_table_add(p->room->removed_users, g_strdup(t->user_id));
    dc_mt_record_event(m, p->room, "removed", p, t, NULL);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_conn *gone = t->conn;
    dc_mt_send(m, gone, json_pack("{s:s, s:s}", "type", "removed", "reason", "by_chair"));
    dc_mt_remove_participant(m, t, "removed");
    if (gone) {
        gone->participant = NULL;
        m->io.close(m->io.user, gone);
    }
}

static void handle_lock(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (p->room->locked == req->flag) return;
    p->room->locked = req->flag;
    dc_mt_record_event(m, p->room, req->flag ? "locked" : "unlocked", p, NULL, NULL);
    dc_mt_broadcast_room_state(m, p->room);
}

static void handle_room_options(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    p->room->floor_may_share = req->flag;
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_broadcast_room_state(m, p->room);
}

static void handle_end(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!require_moderator(m, conn, p, req)) return;
    dc_room *room = p->room;
    gint64 *when = g_new(gint64, 1);
    *when = dc_mt_now_ms();
    g_hash_table_replace(m->ended_rooms, g_strdup(room->name), when);
    dc_mt_record_event(m, room, "ended", p, NULL, NULL);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_broadcast(m, room, NULL, json_pack("{s:s, s:s}", "type", "meeting_ended", "by", p->id));
    /* the last removal frees the room: count first, never touch it after */
    size_t left = room->n_participants;
    while (left--) {
        dc_participant *o = room->participants;
        dc_conn *c = o->conn;
        dc_mt_remove_participant(m, o, "ended");
        if (c) {
            c->participant = NULL;
            m->io.close(m->io.user, c);
        }
    }
}

static void handle_chat(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    char why[160];
    const char *bad = dc_chat_text_check(req->text, req->text_len, why, sizeof why);
    if (bad) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "%s", bad);
        return;
    }
    if (!dc_chat_limiter_allow(&p->chat, dc_mt_now_ms())) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_RATE_LIMITED, "at most %d chat messages per %d seconds",
                          DC_CHAT_LIMIT_MESSAGES, DC_CHAT_LIMIT_WINDOW_MS / 1000);
        return;
    }
    const char *to = req->to_chair ? "chair" : "all";
    int64_t ts = dc_mt_wall_ms();
    dc_record_chat(m->record, p->room->meeting_id, p->id, to, req->text, ts);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "chat", "from", p->id, "from_name", p->name, "to",
                           to, "text", req->text, "ts", (json_int_t)ts);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (!req->to_chair) {
        dc_mt_broadcast(m, p->room, NULL, ev);
        return;
    }
    /* privately: every moderator, and the sender's own copy */
    for (dc_participant *o = p->room->participants; o; o = o->next)
        if (o == p || (o->grants & DC_GRANT_MODERATE)) dc_mt_send(m, o->conn, json_incref(ev));
    json_decref(ev);
}

void dc_moderation_handle(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    switch (req->type) {
    case DC_REQ_RAISE_HAND: handle_raise_hand(m, conn, p, req); break;
    case DC_REQ_LOWER_HAND: handle_lower_hand(m, conn, p, req); break;
    case DC_REQ_GRANT_FLOOR: handle_grant_floor(m, conn, p, req); break;
    case DC_REQ_REVOKE_FLOOR: handle_revoke_floor(m, conn, p, req); break;
    case DC_REQ_NEXT_FLOOR: handle_next_floor(m, conn, p, req); break;
    case DC_REQ_MUTE_PARTICIPANT: handle_mute_participant(m, conn, p, req); break;
    case DC_REQ_MUTE_DELEGATES: handle_mute_delegates(m, conn, p, req); break;
    case DC_REQ_REMOVE_PARTICIPANT: handle_remove(m, conn, p, req); break;
    case DC_REQ_LOCK_ROOM: handle_lock(m, conn, p, req); break;
    case DC_REQ_SET_ROOM_OPTIONS: handle_room_options(m, conn, p, req); break;
    case DC_REQ_END_MEETING: handle_end(m, conn, p, req); break;
    case DC_REQ_CHAT: handle_chat(m, conn, p, req); break;
    default: dc_mt_reply_error(m, conn, req->id, DC_ERR_INTERNAL, "not a moderation request");
    }
}

void dc_moderation_sweep(dc_meeting *m, dc_room *room, int64_t now_ms)
{
    uint32_t expired = dc_floor_expire(&room->floor, now_ms);
    if (expired) floor_moved(m, room, NULL, expired);
}

bool dc_moderation_forget(dc_meeting *m, dc_participant *p)
{
    dc_room *room = p->room;
    bool had_hand = dc_floor_has_hand(&room->floor, p->key);
    bool held = dc_floor_forget(&room->floor, p->key);
    bool shared = room->screen_sharer == p;
    if (shared) {
        room->screen_sharer = NULL;
        dc_mt_record_event(m, room, "screen_stopped", p, NULL, NULL);
    }
    return had_hand || held || shared;
}
