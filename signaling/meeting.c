/* Request handlers and the rules that keep rooms, SDP and the media engine in step
 * (see meeting.h and PROTOCOL.md): joining with a token, publishing, the fixed slots of
 * each subscriber and what they show. Floor control, moderation and chat are in
 * moderation.c. */
#include "meeting.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join_auth.h"
#include "meeting_internal.h"
#include "slots.h"
#include "turn_creds.h"

/* After the chair ends a meeting, joins to its room are refused for this long, so that
 * sites reconnecting on their own do not start a new, empty meeting. */
#define ENDED_ROOM_HOLD_MS (10 * 60 * 1000)
/* Slots follow speaking activity at most this often per room (no restless galleries). */
#define RANKING_INTERVAL_MS 1000

int64_t dc_mt_now_ms(void) { return g_get_monotonic_time() / 1000; }
int64_t dc_mt_wall_ms(void) { return g_get_real_time() / 1000; }

static const char *kind_name(sfu_kind kind) { return kind == SFU_KIND_VIDEO ? "video" : "audio"; }

static uint8_t subscribe_pt(sfu_codec codec)
{
    switch (codec) {
    case SFU_CODEC_OPUS: return DC_PT_OPUS;
    case SFU_CODEC_VP8: return DC_PT_VP8;
    case SFU_CODEC_H264: return DC_PT_H264;
    }
    return 0;
}

/* ---- sending ---------------------------------------------------------------------- */

/* Serializes and releases msg. */
static dc_frame *take_frame(json_t *msg)
{
    size_t len;
    char *text = dc_json_take_text(msg, &len);
    if (!text) return NULL;
    dc_frame *frame = dc_frame_new(text, len);
    free(text);
    return frame;
}

void dc_mt_send(dc_meeting *m, dc_conn *conn, json_t *msg)
{
    if (!conn) {
        json_decref(msg);
        return;
    }
    dc_frame *frame = take_frame(msg);
    if (frame) m->io.send(m->io.user, conn, frame);
    dc_frame_unref(frame);
}

/* Requests without an id get no "ok" (PROTOCOL.md). */
void dc_mt_reply_ok(dc_meeting *m, dc_conn *conn, const dc_request *req, json_t *ok)
{
    if (!req->id) {
        json_decref(ok);
        return;
    }
    dc_mt_send(m, conn, ok);
}

void dc_mt_reply_error(dc_meeting *m, dc_conn *conn, json_t *id, dc_error_code code, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    dc_mt_send(m, conn, dc_reply_error(id, code, message));
}

void dc_meeting_send_error(dc_meeting *m, dc_conn *conn, dc_error_code code, const char *message)
{
    dc_mt_send(m, conn, dc_reply_error(NULL, code, message));
}

void dc_mt_broadcast(dc_meeting *m, dc_room *room, const dc_participant *except, json_t *msg)
{
    dc_frame *frame = take_frame(msg);
    if (!frame) return;
    for (dc_participant *o = room->participants; o; o = o->next)
        if (o != except && o->conn) m->io.send(m->io.user, o->conn, frame);
    dc_frame_unref(frame);
}

/* ---- what the room looks like ---------------------------------------------------------- */

static json_t *grants_json(dc_grants grants)
{
    json_t *list = json_array();
    for (dc_grants g = 1; g <= DC_GRANT_MODERATE; g <<= 1)
        if (grants & g) json_array_append_new(list, json_string(dc_grant_name(g)));
    return list;
}

json_t *dc_mt_participant_json(const dc_participant *p)
{
    json_t *tracks = json_array();
    for (size_t i = 0; i < p->n_tracks; i++)
        json_array_append_new(tracks, json_pack("{s:s, s:b, s:b}", "kind", kind_name(p->tracks[i].kind), "muted",
                                                p->muted[p->tracks[i].kind], "screen", p->tracks[i].screen));
    json_t *by_chair = json_pack("{s:b, s:b}", "audio", p->muted_by_chair[SFU_KIND_AUDIO], "video",
                                 p->muted_by_chair[SFU_KIND_VIDEO]);
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "id", p->id, "name", p->name, "site", p->site, "role",
                     dc_role_name(p->role), "hand", dc_floor_has_hand(&p->room->floor, p->key), "muted_by_chair",
                     by_chair, "tracks", tracks);
}

static json_t *key_json(const dc_room *room, uint32_t key)
{
    for (const dc_participant *p = room->participants; p && key; p = p->next)
        if (p->key == key) return json_string(p->id);
    return json_null();
}

json_t *dc_mt_room_state_json(const dc_room *room)
{
    json_t *hands = json_array();
    for (size_t i = 0; i < room->floor.n_hands; i++) json_array_append_new(hands, key_json(room, room->floor.hands[i]));
    /* floor_until on the wall clock: the monotonic deadline shifted by now */
    json_t *until = json_null();
    if (room->floor.holder && room->floor.until_ms)
        until = json_integer(dc_mt_wall_ms() + (room->floor.until_ms - dc_mt_now_ms()));
    const dc_participant *chair = dc_room_chair(room);
    return json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "locked", room->locked, "floor_may_share",
                     room->floor_may_share, "chair", chair ? json_string(chair->id) : json_null(), "floor_holder",
                     key_json(room, room->floor.holder), "floor_until", until, "hands", hands, "screen_sharer",
                     room->screen_sharer ? json_string(room->screen_sharer->id) : json_null(), "dominant_speaker",
                     key_json(room, room->dominant));
}

void dc_mt_broadcast_room_state(dc_meeting *m, dc_room *room)
{
    json_t *ev = dc_event("room_state");
    json_object_set_new(ev, "room_state", dc_mt_room_state_json(room));
    dc_mt_broadcast(m, room, NULL, ev);
}

void dc_mt_broadcast_participant(dc_meeting *m, dc_participant *p)
{
    dc_mt_broadcast(m, p->room, NULL,
                    json_pack("{s:s, s:o}", "type", "participant_updated", "participant", dc_mt_participant_json(p)));
}

void dc_mt_record_event(dc_meeting *m, const dc_room *room, const char *kind, const dc_participant *actor,
                        const dc_participant *target, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    dc_record_event(m->record, room->meeting_id, kind, actor ? actor->id : NULL, target ? target->id : NULL, text,
                    dc_mt_wall_ms());
    free(text);
}

/* ---- gates --------------------------------------------------------------------------- */

/* Whether the engine forwards this track of p at all: media without a grant is dropped at
 * the worker, whatever the client sends. */
static bool gate_open(const dc_participant *p, const dc_track *t)
{
    const dc_room *room = p->room;
    if (!(p->grants & DC_GRANT_PUBLISH)) return false;
    if (t->screen) return room->screen_sharer == p;
    if (p->muted_by_chair[t->kind]) return false;
    if (t->kind == SFU_KIND_VIDEO) return true;
    return (p->grants & DC_GRANT_SPEAK) || room->floor.holder == p->key;
}

void dc_mt_apply_gates(dc_meeting *m, dc_participant *p)
{
    for (size_t i = 0; i < p->n_tracks; i++) {
        dc_track *t = &p->tracks[i];
        bool open = gate_open(p, t);
        if (open == t->gate_open) continue;
        t->gate_open = open;
        sfu_stream_set_forwarding(m->engine, t->stream_id, p->room->room_id, open);
    }
}

/* ---- slots --------------------------------------------------------------------------- */

static int by_recent_speech(const void *a, const void *b, void *user)
{
    const dc_participant *pa = *(dc_participant *const *)a, *pb = *(dc_participant *const *)b;
    const dc_speaker_detector *d = user;
    int64_t sa = dc_speaker_last_spoke(d, pa->key), sb = dc_speaker_last_spoke(d, pb->key);
    if (sa != sb) return sa > sb ? -1 : 1;
    return pa->key < pb->key ? -1 : pa->key > pb->key;
}

/* Engine pointing of one slot: its source, when the subscriber's last answer accepted the
 * source's codec on that m-line; nothing otherwise. Slots enter the engine at the answer. */
static void point_slot(dc_meeting *m, dc_participant *p, dc_slot *s)
{
    if (!s->in_engine) return;
    uint32_t want = s->source_stream;
    if (want && !(s->accepted_codecs & (1u << s->source_codec))) want = 0;
    if (s->pointed_stream == want) return;
    sfu_slot_point(m->engine, s->slot_id, p->room->room_id, want, want ? subscribe_pt(s->source_codec) : 0);
    s->pointed_stream = want;
}

static json_t *slot_json(const dc_slot *s)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:b}", "mid", s->mid, "kind", kind_name(s->kind), "use",
                     dc_slot_use_name(s->use), "participant_id",
                     s->source_stream ? json_string(s->source_pid) : json_null(), "active", s->source_stream != 0);
}

/* Tells the subscriber which slots changed since it last heard (offer or slot_update);
 * slots not offered yet wait for their offer. */
static void send_slot_updates(dc_meeting *m, dc_participant *p)
{
    json_t *changed = NULL;
    for (size_t i = 0; i < p->n_offered_slots; i++) {
        dc_slot *s = &p->slots[i];
        if (!s->changed) continue;
        s->changed = false;
        if (!changed) changed = json_array();
        json_array_append_new(changed, slot_json(s));
    }
    if (!changed) return;
    json_t *ev = dc_event("slot_update");
    json_object_set_new(ev, "slots", changed);
    dc_mt_send(m, p->conn, ev);
}

void dc_mt_refresh_slots(dc_meeting *m, dc_room *room)
{
    dc_participant **ranked = malloc((room->n_participants ? room->n_participants : 1) * sizeof *ranked);
    if (!ranked) return;
    size_t n = 0;
    for (dc_participant *o = room->participants; o; o = o->next) ranked[n++] = o;
    g_qsort_with_data(ranked, (gint)n, sizeof *ranked, by_recent_speech, room->speakers);
    dc_participant *holder = NULL;
    for (dc_participant *o = room->participants; o; o = o->next)
        if (o->key == room->floor.holder) holder = o;
    dc_slot_context ctx = {
        .chair = dc_room_chair(room),
        .floor_holder = holder,
        .screen_sharer = room->screen_sharer,
        .ranked = (const dc_participant *const *)ranked,
        .n_ranked = n,
    };
    for (dc_participant *p = room->participants; p; p = p->next) {
        if (!p->n_slots || !dc_slots_assign(&ctx, p)) continue;
        for (size_t i = 0; i < p->n_slots; i++) point_slot(m, p, &p->slots[i]);
        send_slot_updates(m, p);
    }
    free(ranked);
    room->ranking_dirty = false;
    room->ranking_applied_ms = dc_mt_now_ms();
}

/* ---- subscriptions ------------------------------------------------------------------ */

static dc_sdp_local local_description(dc_meeting *m, const dc_participant *p, const char *ufrag, const char *pwd,
                                      uint32_t version)
{
    return (dc_sdp_local){
        .ice_ufrag = ufrag,
        .ice_pwd = pwd,
        .fingerprint = sfu_fingerprint(m->engine),
        .candidate_ip = m->cfg.announce_ip,
        .candidate_port = sfu_room_port(m->engine, p->room->room_id),
        .tcp_port = sfu_tcp_port(m->engine),
        .session_id = p->sdp_session_id,
        .session_version = version,
        .rtx = m->cfg.nack,
        .red = m->cfg.red,
    };
}

/* The subscribe transport is in the engine from the offer on, before the client's answer
 * names its side (sfu_transport_set_peer): a client's connectivity checks start as soon as
 * it has applied the offer and often reach the server before its answer does, all the more
 * from a busy client. Checks for credentials the engine did not know yet went unanswered,
 * and an ICE agent facing an ICE-lite server never tries again (docs/CONSENT.md). */
static void add_subscribe_transport(dc_meeting *m, dc_participant *p)
{
    p->sub_transport = dc_registry_next_id(m->reg);
    p->sub_link = (dc_link){0}; /* a new transport's totals start at zero */
    dc_registry_index_transport(m->reg, p->sub_transport, p);
    sfu_transport_add(m->engine, p->sub_transport, p->room->room_id, p->sub_ufrag, p->sub_pwd, NULL, false);
    p->sub_transport_added = true;
    p->sub_budget_bps = 0;
    dc_mt_apply_budgets(m); /* its site's budget, shared with one more */
}

/* A video slot's retransmissions (RFC 4588) go with an SSRC derived from its own: fixed for
 * the session like it, and as unlikely to meet another slot's random one. */
static uint32_t rtx_ssrc_of(uint32_t out_ssrc)
{
    uint32_t rtx = out_ssrc ^ 0x52545800u; /* "RTX" */
    return rtx ? rtx : 1;
}

/* Every slot is sendonly with its fixed SSRC for the whole session, whatever it shows:
 * what a slot shows changes with slot_update, never with an offer. */
static void send_subscribe_offer(dc_meeting *m, dc_participant *p)
{
    if (!p->n_slots) return;
    if (!p->sub_transport_added) add_subscribe_transport(m, p);
    p->sub_version++;
    p->sub_offer_wanted = false;
    dc_sdp_slot slots[DC_MAX_SLOTS];
    memset(slots, 0, sizeof slots);
    json_t *slots_json = json_array();
    for (size_t i = 0; i < p->n_slots; i++) {
        dc_slot *s = &p->slots[i];
        s->changed = false;
        snprintf(slots[i].mid, sizeof slots[i].mid, "%s", s->mid);
        slots[i].kind = s->kind == SFU_KIND_VIDEO ? DC_MEDIA_VIDEO : DC_MEDIA_AUDIO;
        slots[i].active = true;
        slots[i].ssrc = s->out_ssrc;
        slots[i].rtx_ssrc = s->kind == SFU_KIND_VIDEO && m->cfg.nack ? rtx_ssrc_of(s->out_ssrc) : 0;
        snprintf(slots[i].msid_stream, sizeof slots[i].msid_stream, "diemcau");
        snprintf(slots[i].msid_track, sizeof slots[i].msid_track, "slot-%s", s->mid);
        snprintf(slots[i].cname, sizeof slots[i].cname, "diemcau");
        json_array_append_new(slots_json, slot_json(s));
    }
    p->n_offered_slots = p->n_slots;
    dc_sdp_local local = local_description(m, p, p->sub_ufrag, p->sub_pwd, (uint32_t)p->sub_version);
    char *sdp = dc_sdp_write_subscribe_offer(slots, p->n_slots, &local);
    if (!sdp) {
        fprintf(stderr, "signaling: could not write a subscribe offer for %s\n", p->id);
        json_decref(slots_json);
        return;
    }
    json_t *ev = dc_event("subscribe_offer");
    json_object_set_new(ev, "version", json_integer(p->sub_version));
    json_object_set_new(ev, "sdp", json_string(sdp));
    json_object_set_new(ev, "slots", slots_json);
    free(sdp);
    dc_mt_send(m, p->conn, ev);
}

/* One subscribe offer in flight per participant: while the last offer is unanswered, a
 * change of m-lines only marks the participant, and the next offer follows the answer. */
static void offer_when_possible(dc_meeting *m, dc_participant *p)
{
    if (p->sub_version > p->sub_answered_version) p->sub_offer_wanted = true;
    else send_subscribe_offer(m, p);
}

/* ---- leaving -------------------------------------------------------------------------- */

static void drop_room_if_empty(dc_meeting *m, dc_room *room)
{
    if (room->participants) return;
    dc_record_meeting_end(m->record, room->meeting_id, dc_mt_wall_ms());
    dc_registry_drop_room_if_empty(m->reg, room);
}

void dc_mt_remove_participant(dc_meeting *m, dc_participant *p, const char *reason)
{
    dc_room *room = p->room;
    bool floor_changed = dc_moderation_forget(m, p);
    dc_speaker_forget(room->speakers, p->key);
    dc_participant_unlink(m->reg, p);
    dc_record_leave(m->record, p->attendance_id, reason, dc_mt_wall_ms());
    /* Others stop receiving p's tracks before the streams go away. */
    dc_mt_refresh_slots(m, room);
    dc_mt_broadcast(
        m, room, NULL,
        json_pack("{s:s, s:s, s:s}", "type", "participant_left", "participant_id", p->id, "reason", reason));
    if (floor_changed || room->dominant == p->key) {
        if (room->dominant == p->key) room->dominant = 0;
        dc_mt_broadcast_room_state(m, room);
    }
    for (size_t i = 0; i < p->n_slots; i++)
        if (p->slots[i].in_engine) sfu_slot_remove(m->engine, p->slots[i].slot_id, room->room_id);
    for (size_t i = 0; i < p->n_tracks; i++) sfu_stream_remove(m->engine, p->tracks[i].stream_id, room->room_id);
    if (p->pub_transport) sfu_transport_remove(m->engine, p->pub_transport, room->room_id);
    if (p->sub_transport_added) sfu_transport_remove(m->engine, p->sub_transport, room->room_id);
    if (p->conn) p->conn->participant = NULL;
    bool shared_budget = p->sub_transport_added && dc_mt_budget_kbps(m, p);
    free(p);
    drop_room_if_empty(m, room);
    if (shared_budget) dc_mt_apply_budgets(m); /* the others' shares grow */
}

/* ---- joining -------------------------------------------------------------------------- */

static json_t *join_result(const dc_meeting *m, const dc_request *req, const dc_participant *p)
{
    json_t *others = json_array();
    for (const dc_participant *o = p->room->participants; o; o = o->next)
        if (o != p) json_array_append_new(others, dc_mt_participant_json(o));
    json_t *ok = dc_reply_ok(req->id);
    json_object_set_new(ok, "participant_id", json_string(p->id));
    json_object_set_new(ok, "room", json_string(p->room->name));
    json_object_set_new(ok, "node", dc_mt_node_json(m, p->room->name));
    json_object_set_new(ok, "name", json_string(p->name));
    json_object_set_new(ok, "site", json_string(p->site));
    json_object_set_new(ok, "role", json_string(dc_role_name(p->role)));
    json_object_set_new(ok, "grants", grants_json(p->grants));
    json_object_set_new(ok, "resume_token", json_string(p->resume_token));
    json_object_set_new(ok, "room_state", dc_mt_room_state_json(p->room));
    json_object_set_new(ok, "participants", others);
    json_object_set_new(ok, "ice_servers", dc_turn_ice_servers(&m->cfg, p->id, dc_mt_wall_ms() / 1000));
    json_object_set_new(ok, "simulcast", json_boolean(m->cfg.simulcast));
    return ok;
}

/* Whether the token's holder may enter the room now; replies the refusal if not. */
static bool admitted(dc_meeting *m, dc_conn *conn, const dc_request *req, const dc_token_claims *who, dc_room *room)
{
    bool moderator = who->grants & DC_GRANT_MODERATE;
    gint64 *ended = g_hash_table_lookup(m->ended_rooms, req->room);
    if (!room && ended && dc_mt_now_ms() - *ended < ENDED_ROOM_HOLD_MS && !moderator) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_MEETING_ENDED, "the chair ended the meeting in %s", req->room);
        return false;
    }
    if (!room) return true;
    if (who->sub[0] && g_hash_table_contains(room->removed_users, who->sub)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "removed from this meeting by the chair");
        return false;
    }
    if (room->locked && !moderator) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_ROOM_LOCKED, "the chair locked room %s", req->room);
        return false;
    }
    if (room->n_participants >= (size_t)m->cfg.max_room_size) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_ROOM_FULL, "room %s is full (%d participants)", req->room,
                          m->cfg.max_room_size);
        return false;
    }
    return true;
}

static dc_room *open_room(dc_meeting *m, const char *name)
{
    dc_room *room = dc_registry_room(m->reg, name, true);
    if (!room) return NULL;
    g_hash_table_remove(m->ended_rooms, name);
    room->meeting_id = dc_record_meeting_start(m->record, name, dc_mt_wall_ms());
    return room;
}

static void handle_join(dc_meeting *m, dc_conn *conn, const dc_request *req)
{
    if (conn->participant) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_ALREADY_JOINED, "this connection already joined a room");
        return;
    }
    dc_token_claims who;
    char why[200];
    dc_error_code code = dc_join_authorize(m->cfg.token_secret, m->cfg.token_secret_len, req->token, req->room, m->tree,
                                           dc_mt_wall_ms() / 1000, &who, why, sizeof why);
    if (code != DC_OK) {
        dc_mt_send(m, conn, dc_reply_error(req->id, code, why));
        return;
    }
    if (!dc_mt_room_allowed(m, req->room)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_NO_SUCH_ROOM, "%s is not a room of the room tree", req->room);
        return;
    }
    const char *name = who.name[0] ? who.name : req->name;
    if (!name[0]) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "missing field \"name\" (the token has none)");
        return;
    }
    dc_room *room = dc_registry_room(m->reg, req->room, false);
    if (!admitted(m, conn, req, &who, room)) return;
    if (!room) room = open_room(m, req->room);
    dc_participant *p = room ? dc_participant_add(m->reg, room, name) : NULL;
    if (!p) {
        if (room) drop_room_if_empty(m, room);
        dc_mt_reply_error(m, conn, req->id, DC_ERR_INTERNAL, "out of memory");
        return;
    }
    p->role = who.role;
    p->grants = who.grants;
    snprintf(p->user_id, sizeof p->user_id, "%s", who.sub);
    snprintf(p->site, sizeof p->site, "%s", who.site);
    p->gallery = req->gallery;
    p->conn = conn;
    conn->participant = p;
    dc_record_person person = {.participant_id = p->id,
                               .user_id = p->user_id,
                               .name = p->name,
                               .site = p->site,
                               .role = dc_role_name(p->role)};
    p->attendance_id = dc_record_join(m->record, room->meeting_id, &person, dc_mt_wall_ms());

    dc_mt_reply_ok(m, conn, req, join_result(m, req, p));
    dc_mt_broadcast(m, room, p,
                    json_pack("{s:s, s:o}", "type", "participant_joined", "participant", dc_mt_participant_json(p)));
    if (dc_room_chair(room) == p) dc_mt_broadcast_room_state(m, room); /* the meeting has its chair */
    if (p->grants & DC_GRANT_SUBSCRIBE) dc_slots_layout(m->reg, p);
    dc_mt_refresh_slots(m, room);
    /* The program and gallery are offered right away, before this participant publishes. */
    send_subscribe_offer(m, p);
}

static void handle_resume(dc_meeting *m, dc_conn *conn, const dc_request *req)
{
    if (conn->participant) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_ALREADY_JOINED, "this connection already joined a room");
        return;
    }
    dc_participant *p = dc_registry_by_resume_token(m->reg, req->resume_token);
    if (!p) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_RESUME_FAILED, "unknown or expired resume token");
        return;
    }
    if (p->conn) {
        /* The old WebSocket is still open (e.g. a half-open TCP connection): the new one wins. */
        dc_conn *old = p->conn;
        old->participant = NULL;
        m->io.close(m->io.user, old);
    }
    p->conn = conn;
    conn->participant = p;
    dc_mt_reply_ok(m, conn, req, join_result(m, req, p));
    /* always a fresh offer: the client may have missed some; and each slot's last word on
     * its quality (the page starts from none) */
    send_subscribe_offer(m, p);
    dc_mt_resend_slot_qualities(m, p);
}

/* ---- publishing ----------------------------------------------------------------------- */

/* Tracks beyond DC_MAX_TRACKS are rejected in the answer (port 0), as the subscribe side
 * has only DC_MAX_SLOTS m-lines to share among everybody's tracks. */
static void limit_tracks(dc_sdp *offer)
{
    size_t usable = 0;
    for (size_t i = 0; i < offer->n_media; i++) {
        dc_sdp_media *md = &offer->media[i];
        dc_codec_id which;
        if (md->rejected || (md->kind != DC_MEDIA_AUDIO && md->kind != DC_MEDIA_VIDEO)) continue;
        if (dc_sdp_pick_codec(md, &which) < 0) continue;
        if (++usable > DC_MAX_TRACKS) md->rejected = true;
    }
}

/* The SSRC the publisher sends the primary stream with: the first a=ssrc that is not the
 * RTX one of an FID group; 0 lets the engine learn it from the mid extension. */
static uint32_t primary_ssrc(const dc_sdp_media *md)
{
    for (size_t i = 0; i < md->n_ssrcs; i++)
        if (md->ssrcs[i].ssrc != md->fid_rtx) return md->ssrcs[i].ssrc;
    return 0;
}

static sfu_codec engine_codec(dc_codec_id id)
{
    return id == DC_CODEC_OPUS ? SFU_CODEC_OPUS : id == DC_CODEC_H264 ? SFU_CODEC_H264 : SFU_CODEC_VP8;
}

static bool same_layers(const dc_track *a, const dc_track *b)
{
    return a->n_layers == b->n_layers && a->rid_ext_id == b->rid_ext_id && !memcmp(a->rids, b->rids, sizeof a->rids) &&
           !memcmp(a->layer_ssrcs, b->layer_ssrcs, sizeof a->layer_ssrcs);
}

static bool same_track(const dc_track *a, const dc_track *b)
{
    return a->kind == b->kind && a->codec == b->codec && a->pt == b->pt && a->ssrc == b->ssrc &&
           a->mid_ext_id == b->mid_ext_id && a->audio_level_ext_id == b->audio_level_ext_id && a->rtx_pt == b->rtx_pt &&
           a->rtx_ssrc == b->rtx_ssrc && a->red_pt == b->red_pt && !strcmp(a->mid, b->mid) && same_layers(a, b);
}

/* A video m-line sent in simulcast layers (the answer accepted them): its rids, and
 * SSRCs when the offer named them. */
static void track_layers(dc_track *t, const dc_sdp_media *md)
{
    size_t n = dc_sdp_simulcast_layers(md);
    if (n == 0 || n > SFU_MAX_LAYERS) return;
    t->n_layers = (uint8_t)n;
    for (size_t l = 0; l < n; l++) {
        snprintf(t->rids[l], sizeof t->rids[l], "%s", md->rids[l]);
        t->layer_ssrcs[l] = md->n_sim_ssrcs == n ? md->sim_ssrcs[l] : 0;
    }
    t->rid_ext_id = dc_sdp_extmap_id(md, DC_EXT_RID);
    t->repaired_rid_ext_id = dc_sdp_extmap_id(md, DC_EXT_REPAIRED_RID);
    t->ssrc = 0;
}

static bool has_stream(const dc_track *tracks, size_t n, uint32_t stream_id)
{
    for (size_t i = 0; i < n; i++)
        if (tracks[i].stream_id == stream_id) return true;
    return false;
}

/* The tracks an answered publish offer yields; an unchanged track on an unchanged
 * transport keeps its stream id (and so keeps flowing to its subscribers). */
static size_t tracks_from_offer(dc_meeting *m, const dc_participant *p, const dc_sdp *offer, bool new_transport,
                                const dc_codec_id picked[DC_SDP_MAX_MEDIA], const uint8_t picked_pt[DC_SDP_MAX_MEDIA],
                                const char *screen_mid, dc_track tracks[DC_MAX_TRACKS])
{
    size_t n = 0;
    for (size_t i = 0; i < offer->n_media && n < DC_MAX_TRACKS; i++) {
        if (picked[i] == DC_CODEC_NONE) continue;
        const dc_sdp_media *md = &offer->media[i];
        dc_track *t = &tracks[n++];
        memset(t, 0, sizeof *t);
        t->kind = md->kind == DC_MEDIA_VIDEO ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
        t->codec = engine_codec(picked[i]);
        t->pt = picked_pt[i];
        t->ssrc = primary_ssrc(md);
        t->mid_ext_id = dc_sdp_extmap_id(md, DC_EXT_MID);
        t->audio_level_ext_id = t->kind == SFU_KIND_AUDIO ? dc_sdp_extmap_id(md, DC_EXT_AUDIO_LEVEL) : 0;
        int rtx_pt = t->kind == SFU_KIND_VIDEO && m->cfg.nack ? dc_sdp_rtx_pt(md, t->pt) : -1; /* as answered */
        t->rtx_pt = rtx_pt > 0 ? (uint8_t)rtx_pt : 0;
        t->rtx_ssrc = t->rtx_pt && md->fid_primary == t->ssrc ? md->fid_rtx : 0;
        int red_pt = t->kind == SFU_KIND_AUDIO && m->cfg.red ? dc_sdp_red_pt(md, t->pt) : -1; /* as answered */
        t->red_pt = red_pt > 0 ? (uint8_t)red_pt : 0;
        t->screen = screen_mid && !strcmp(screen_mid, md->mid);
        track_layers(t, md);
        snprintf(t->mid, sizeof t->mid, "%s", md->mid);
        snprintf(t->label, sizeof t->label, "%s-%s", p->id, md->mid);
        for (size_t j = 0; j < p->n_tracks && !new_transport; j++) {
            if (!same_track(&p->tracks[j], t)) continue;
            t->stream_id = p->tracks[j].stream_id;
            t->gate_open = p->tracks[j].gate_open; /* what the engine was told about it */
        }
        if (!t->stream_id) t->stream_id = dc_registry_next_id(m->reg);
    }
    return n;
}

/* Tells the engine about the new transport (if it was replaced) and the new streams,
 * their gates set from the start, so that no packet of a participant without the floor
 * slips through. */
static void add_published(dc_meeting *m, dc_participant *p, const dc_track *old, size_t n_old, bool new_transport)
{
    uint32_t room_id = p->room->room_id;
    if (new_transport) { /* dtls_client false: an actpass offer leaves the server the DTLS server role. */
        sfu_transport_add(m->engine, p->pub_transport, room_id, p->pub_ufrag, p->pub_pwd, p->pub_peer_fingerprint,
                          false);
        /* transport-cc feedback about what it sends, if the answer accepted the extension */
        sfu_transport_set_twcc_feedback(m->engine, p->pub_transport, room_id, p->pub_twcc_ext_id);
    }
    for (size_t i = 0; i < p->n_tracks; i++) {
        dc_track *t = &p->tracks[i];
        if (has_stream(old, n_old, t->stream_id)) continue;
        t->gate_open = gate_open(p, t);
        sfu_stream_desc desc = {
            .stream_id = t->stream_id,
            .transport_id = p->pub_transport,
            .room_id = room_id,
            .kind = t->kind,
            .codec = t->codec,
            .pt = t->pt,
            .ssrc = t->ssrc,
            .mid_ext_id = t->mid_ext_id,
            .audio_level_ext_id = t->audio_level_ext_id,
            .blocked = !t->gate_open,
            .n_layers = t->n_layers,
            .rid_ext_id = t->rid_ext_id,
            .repaired_rid_ext_id = t->repaired_rid_ext_id,
            .rtx_ssrc = t->rtx_ssrc,
            .rtx_pt = t->rtx_pt,
            .red_pt = t->red_pt,
        };
        snprintf(desc.mid, sizeof desc.mid, "%s", t->mid);
        memcpy(desc.rids, t->rids, sizeof desc.rids);
        memcpy(desc.layer_ssrcs, t->layer_ssrcs, sizeof desc.layer_ssrcs);
        sfu_stream_add(m->engine, &desc);
        dc_registry_index_stream(m->reg, t->stream_id, p);
    }
}

/* Removes what the publish replaced, once no slot shows it any more. */
static void remove_unpublished(dc_meeting *m, const dc_participant *p, const dc_track *old, size_t n_old,
                               uint32_t old_transport)
{
    uint32_t room_id = p->room->room_id;
    for (size_t i = 0; i < n_old; i++) {
        if (has_stream(p->tracks, p->n_tracks, old[i].stream_id)) continue;
        sfu_stream_remove(m->engine, old[i].stream_id, room_id);
        dc_registry_unindex_stream(m->reg, old[i].stream_id);
    }
    if (old_transport) sfu_transport_remove(m->engine, old_transport, room_id);
}

/* A publish naming a screen m-line: it must be a video m-line of the offer, the sender
 * must have the share grant (or hold the floor while the chair allows it), and nobody else
 * may be sharing. Replies the refusal and returns false otherwise. */
static bool screen_share_allowed(dc_meeting *m, dc_conn *conn, const dc_participant *p, const dc_request *req,
                                 const dc_sdp *offer)
{
    if (!req->screen_mid) return true;
    bool found = false;
    for (size_t i = 0; i < offer->n_media && !found; i++)
        found = !strcmp(offer->media[i].mid, req->screen_mid) && offer->media[i].kind == DC_MEDIA_VIDEO &&
                !offer->media[i].rejected;
    if (!found) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "\"screen_mid\" %s is not a video m-line of the offer",
                          req->screen_mid);
        return false;
    }
    const dc_room *room = p->room;
    bool may = (p->grants & DC_GRANT_SHARE_SCREEN) || (room->floor_may_share && room->floor.holder == p->key);
    if (!may) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "no permission to share a screen");
        return false;
    }
    if (room->screen_sharer && room->screen_sharer != p) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_SHARE_BUSY, "%s is sharing a screen", room->screen_sharer->name);
        return false;
    }
    return true;
}

/* After an accepted publish: p shares a screen exactly when one of its tracks is one. */
static bool update_screen_share(dc_meeting *m, dc_participant *p)
{
    dc_room *room = p->room;
    bool sharing = dc_participant_track(p, SFU_KIND_VIDEO, true) != NULL;
    if (sharing == (room->screen_sharer == p)) return false;
    room->screen_sharer = sharing ? p : NULL;
    dc_mt_record_event(m, room, sharing ? "screen_started" : "screen_stopped", p, NULL, NULL);
    return true;
}

static void handle_publish(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!(p->grants & DC_GRANT_PUBLISH)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "the %s role does not send media", dc_role_name(p->role));
        return;
    }
    dc_sdp *offer = m->scratch;
    char err[200];
    if (!dc_sdp_parse(req->sdp, req->sdp_len, offer, err, sizeof err)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "%s", err);
        return;
    }
    /* The server is always the DTLS server (a=setup:passive) of a publish connection. */
    if (offer->setup == DC_SETUP_ACTIVE || offer->setup == DC_SETUP_PASSIVE) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "a publish offer must use a=setup:actpass");
        return;
    }
    limit_tracks(offer);
    if (!screen_share_allowed(m, conn, p, req, offer)) return;

    /* Same ICE ufrag and certificate: keep the transport. Otherwise (first publish, ICE
     * restart, new peer connection) a new transport with new server credentials. */
    bool new_transport = !p->pub_transport || strcmp(offer->ice_ufrag, p->pub_peer_ufrag) ||
                         strcmp(offer->fingerprint, p->pub_peer_fingerprint);
    char ufrag[DC_UFRAG_LEN + 1], pwd[DC_PWD_LEN + 1];
    if (new_transport && p->pub_transport) {
        sfu_random_string(ufrag, DC_UFRAG_LEN);
        sfu_random_string(pwd, DC_PWD_LEN);
    } else {
        memcpy(ufrag, p->pub_ufrag, sizeof ufrag);
        memcpy(pwd, p->pub_pwd, sizeof pwd);
    }
    dc_sdp_local local = local_description(m, p, ufrag, pwd, p->pub_answer_version + 1);
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    char *answer = dc_sdp_write_publish_answer(offer, &local, picked, picked_pt);
    if (!answer) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "the offer cannot be answered");
        return;
    }
    dc_track tracks[DC_MAX_TRACKS];
    size_t n = tracks_from_offer(m, p, offer, new_transport, picked, picked_pt, req->screen_mid, tracks);
    if (n == 0) {
        free(answer);
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP,
                          "the offer has no usable audio or video (Opus, VP8, H.264 packetization-mode=1)");
        return;
    }

    /* Commit: from here on the offer is accepted. */
    dc_track old[DC_MAX_TRACKS];
    size_t n_old = p->n_tracks;
    memcpy(old, p->tracks, sizeof old);
    uint32_t old_transport = new_transport ? p->pub_transport : 0;
    memcpy(p->tracks, tracks, n * sizeof tracks[0]);
    p->n_tracks = n;
    p->pub_answer_version++;
    if (new_transport) {
        if (old_transport) dc_registry_unindex_transport(m->reg, old_transport);
        p->pub_transport = dc_registry_next_id(m->reg);
        p->pub_link = (dc_link){0}; /* a new transport's totals start at zero */
        dc_registry_index_transport(m->reg, p->pub_transport, p);
        memcpy(p->pub_ufrag, ufrag, sizeof ufrag);
        memcpy(p->pub_pwd, pwd, sizeof pwd);
        snprintf(p->pub_peer_ufrag, sizeof p->pub_peer_ufrag, "%s", offer->ice_ufrag);
        snprintf(p->pub_peer_fingerprint, sizeof p->pub_peer_fingerprint, "%s", offer->fingerprint);
        uint8_t twcc = dc_sdp_session_extmap_id(offer, DC_EXT_TWCC);
        p->pub_twcc_ext_id = twcc <= 14 ? twcc : 0; /* as the answer accepted it */
    }

    json_t *ok = dc_reply_ok(req->id);
    json_object_set_new(ok, "sdp", json_string(answer));
    free(answer);
    dc_mt_reply_ok(m, conn, req, ok);
    bool share_changed = update_screen_share(m, p);
    add_published(m, p, old, n_old, new_transport);
    dc_mt_apply_gates(m, p); /* a kept track may have become or stopped being the screen */
    dc_mt_broadcast_participant(m, p);
    if (share_changed) dc_mt_broadcast_room_state(m, p->room);
    dc_mt_refresh_slots(m, p->room); /* slots leave replaced streams before they go */
    remove_unpublished(m, p, old, n_old, old_transport);
}

/* ---- subscribing ---------------------------------------------------------------------- */

static const dc_sdp_media *media_by_mid(const dc_sdp *sdp, const char *mid)
{
    for (size_t i = 0; i < sdp->n_media; i++)
        if (!strcmp(sdp->media[i].mid, mid)) return &sdp->media[i];
    return NULL;
}

static bool media_has_pt(const dc_sdp_media *md, uint8_t pt)
{
    for (size_t i = 0; i < md->n_codecs; i++)
        if (md->codecs[i].pt == pt) return true;
    return false;
}

/* The RTX payload types the answer kept on a video slot's m-line go to the engine with the
 * slot's RTX SSRC; without them (or with repair off) the engine resends as is. */
static void set_slot_rtx(dc_meeting *m, const dc_sdp *answer, const dc_slot *s, uint32_t room_id)
{
    const dc_sdp_media *md = media_by_mid(answer, s->mid);
    if (!md || s->kind != SFU_KIND_VIDEO || !m->cfg.nack) return;
    sfu_slot_rtx rtx = {.ssrc = rtx_ssrc_of(s->out_ssrc)};
    static const uint8_t pairs[][2] = {{DC_PT_VP8, DC_PT_VP8_RTX}, {DC_PT_H264, DC_PT_H264_RTX}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (!media_has_pt(md, pairs[i][1])) continue;
        rtx.apt[rtx.n_pts] = pairs[i][0];
        rtx.pt[rtx.n_pts++] = pairs[i][1];
    }
    if (rtx.n_pts) sfu_slot_set_rtx(m->engine, s->slot_id, room_id, &rtx);
}

/* RED on an audio slot whose answer kept it (the engine strips RED for the others). */
static void set_slot_red(dc_meeting *m, const dc_sdp *answer, const dc_slot *s, uint32_t room_id)
{
    const dc_sdp_media *md = media_by_mid(answer, s->mid);
    if (md && s->kind == SFU_KIND_AUDIO && m->cfg.red && media_has_pt(md, DC_PT_RED))
        sfu_slot_set_red(m->engine, s->slot_id, room_id, DC_PT_RED);
}

/* The codecs (bit per sfu_codec) the answer accepts on the slot's m-line. */
static uint8_t accepted_codecs(const dc_sdp *answer, const dc_slot *s)
{
    const dc_sdp_media *md = media_by_mid(answer, s->mid);
    if (!md || md->rejected || md->direction == DC_DIR_INACTIVE) return 0;
    uint8_t bits = 0;
    static const sfu_codec codecs[] = {SFU_CODEC_OPUS, SFU_CODEC_VP8, SFU_CODEC_H264};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (media_has_pt(md, subscribe_pt(codecs[i]))) bits |= (uint8_t)(1u << codecs[i]);
    return bits;
}

/* The subscriber answered from a new peer connection or restarted ICE (another ufrag or
 * certificate): the old DTLS association is useless, so the engine transport starts over
 * with the new peer (sfu_transport_set_peer, which follows). The same transport, not a new
 * one: the server's ICE credentials stay those of the offer being answered, and the new
 * connection's checks, often sent before its answer, were answered by this transport and
 * bound its address; a new transport would never see a check again (docs/CONSENT.md). */
static void forget_subscribe_peer(dc_meeting *m, dc_participant *p)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        dc_slot *s = &p->slots[i];
        if (s->in_engine) sfu_slot_remove(m->engine, s->slot_id, p->room->room_id);
        s->in_engine = false;
        s->pointed_stream = 0;
    }
}

static void handle_subscribe_answer(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (req->version > p->sub_version) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "no subscribe_offer with version %lld was sent",
                          (long long)req->version);
        return;
    }
    if (req->version < p->sub_version || req->version == p->sub_answered_version) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_STALE_VERSION, "version %lld is not the latest offer (%lld)",
                          (long long)req->version, (long long)p->sub_version);
        return;
    }
    dc_sdp *answer = m->scratch;
    char err[200];
    if (!dc_sdp_parse(req->sdp, req->sdp_len, answer, err, sizeof err)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "%s", err);
        return;
    }
    if (answer->setup != DC_SETUP_ACTIVE && answer->setup != DC_SETUP_PASSIVE) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "the answer must use a=setup:active or a=setup:passive");
        return;
    }
    bool peer_known = p->sub_peer_fingerprint[0];
    if (peer_known &&
        (strcmp(answer->fingerprint, p->sub_peer_fingerprint) || strcmp(answer->ice_ufrag, p->sub_peer_ufrag))) {
        forget_subscribe_peer(m, p);
        peer_known = false;
    }
    uint32_t room_id = p->room->room_id;
    if (!peer_known) {
        snprintf(p->sub_peer_fingerprint, sizeof p->sub_peer_fingerprint, "%s", answer->fingerprint);
        snprintf(p->sub_peer_ufrag, sizeof p->sub_peer_ufrag, "%s", answer->ice_ufrag);
        sfu_transport_set_peer(m->engine, p->sub_transport, room_id, p->sub_peer_fingerprint,
                               answer->setup == DC_SETUP_PASSIVE);
        /* the bandwidth estimate toward this subscriber, if it numbers what it gets */
        sfu_transport_set_twcc(m->engine, p->sub_transport, room_id, dc_sdp_session_extmap_id(answer, DC_EXT_TWCC));
    }
    p->sub_answered_version = req->version;

    /* Every answered slot enters the engine, shown or not: from now on a change of source
     * is a re-pointing, without an offer. */
    for (size_t i = 0; i < p->n_offered_slots; i++) {
        dc_slot *s = &p->slots[i];
        s->accepted_codecs = accepted_codecs(answer, s);
        if (!s->in_engine && s->accepted_codecs) {
            sfu_slot_add(m->engine, s->slot_id, p->sub_transport, room_id, s->kind, s->out_ssrc);
            if (dc_mt_slot_priority(m, s->use))
                sfu_slot_set_priority(m->engine, s->slot_id, room_id, dc_mt_slot_priority(m, s->use));
            if (s->quality != SFU_QUALITY_HIGH || s->max_tid != 0xff)
                sfu_slot_set_quality(m->engine, s->slot_id, room_id, s->quality, s->max_tid);
            s->in_engine = true;
            set_slot_rtx(m, answer, s, room_id);
            set_slot_red(m, answer, s, room_id);
        }
        point_slot(m, p, s);
    }
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (p->sub_offer_wanted) send_subscribe_offer(m, p); /* m-lines added meanwhile */
}

static void handle_set_gallery(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    if (!(p->grants & DC_GRANT_SUBSCRIBE)) {
        dc_mt_reply_error(m, conn, req->id, DC_ERR_FORBIDDEN, "the %s role receives no media", dc_role_name(p->role));
        return;
    }
    p->gallery = req->gallery;
    bool grew = dc_slots_layout(m->reg, p);
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_refresh_slots(m, p->room);
    if (grew) offer_when_possible(m, p);
}

/* The quality each named slot's tile needs (its size; off when hidden): a simulcast
 * source's layer follows it (the engine maps it to the layers there are). Kept for the
 * slot, applied again when it re-enters the engine. Unknown mids are refused, none set. */
static void handle_set_quality(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_slot *found[DC_QUALITY_MAX_ENTRIES];
    for (size_t i = 0; i < req->n_qualities; i++) {
        found[i] = NULL;
        for (size_t j = 0; j < p->n_slots && !found[i]; j++)
            if (!strcmp(p->slots[j].mid, req->qualities[i].mid)) found[i] = &p->slots[j];
        if (!found[i]) {
            dc_mt_reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "no slot with mid \"%s\"", req->qualities[i].mid);
            return;
        }
    }
    for (size_t i = 0; i < req->n_qualities; i++) {
        dc_slot *s = found[i];
        if (s->quality == req->qualities[i].quality && s->max_tid == req->max_temporal_layer) continue;
        s->quality = req->qualities[i].quality;
        s->max_tid = req->max_temporal_layer;
        if (s->in_engine) sfu_slot_set_quality(m->engine, s->slot_id, p->room->room_id, s->quality, s->max_tid);
    }
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
}

static void handle_mute(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    p->muted[req->kind] = req->muted;
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_broadcast_participant(m, p);
}

static void handle_leave(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_mt_reply_ok(m, conn, req, dc_reply_ok(req->id));
    dc_mt_remove_participant(m, p, "left");
    m->io.close(m->io.user, conn);
}

void dc_meeting_handle_text(dc_meeting *m, dc_conn *conn, const char *text, size_t len)
{
    dc_request req;
    char message[256];
    bool allowed = dc_rate_limiter_allow(&conn->rate, dc_mt_now_ms()); /* every message counts, valid or not */
    dc_error_code code = dc_request_parse(text, len, &req, message, sizeof message); /* for its id */
    if (!allowed) {
        code = DC_ERR_RATE_LIMITED;
        snprintf(message, sizeof message, "more than %d messages per second", m->cfg.rate_limit_per_second);
    }
    if (code == DC_OK && !conn->participant && !dc_request_allowed_before_join(req.type)) {
        code = DC_ERR_NOT_JOINED;
        snprintf(message, sizeof message, "join or resume first");
    }
    if (code != DC_OK) {
        dc_mt_send(m, conn, dc_reply_error(req.id, code, message));
        dc_request_clear(&req);
        if (dc_rate_limiter_flooding(&conn->rate)) m->io.close(m->io.user, conn); /* the server says 1008 */
        return;
    }
    dc_participant *p = conn->participant;
    switch (req.type) {
    case DC_REQ_JOIN: handle_join(m, conn, &req); break;
    case DC_REQ_RESUME: handle_resume(m, conn, &req); break;
    case DC_REQ_PING: dc_mt_reply_ok(m, conn, &req, dc_reply_ok(req.id)); break;
    case DC_REQ_PUBLISH: handle_publish(m, conn, p, &req); break;
    case DC_REQ_SUBSCRIBE_ANSWER: handle_subscribe_answer(m, conn, p, &req); break;
    case DC_REQ_CANDIDATE: dc_mt_reply_ok(m, conn, &req, dc_reply_ok(req.id)); break; /* ICE-lite: not needed */
    case DC_REQ_MUTE: handle_mute(m, conn, p, &req); break;
    case DC_REQ_LEAVE: handle_leave(m, conn, p, &req); break;
    case DC_REQ_SET_GALLERY: handle_set_gallery(m, conn, p, &req); break;
    case DC_REQ_SET_QUALITY: handle_set_quality(m, conn, p, &req); break;
    case DC_REQ_RAISE_HAND:
    case DC_REQ_LOWER_HAND:
    case DC_REQ_GRANT_FLOOR:
    case DC_REQ_REVOKE_FLOOR:
    case DC_REQ_NEXT_FLOOR:
    case DC_REQ_MUTE_PARTICIPANT:
    case DC_REQ_MUTE_DELEGATES:
    case DC_REQ_REMOVE_PARTICIPANT:
    case DC_REQ_LOCK_ROOM:
    case DC_REQ_END_MEETING:
    case DC_REQ_SET_ROOM_OPTIONS:
    case DC_REQ_CHAT: dc_moderation_handle(m, conn, p, &req); break;
    }
    dc_request_clear(&req);
}

/* ---- connections, timers, engine events --------------------------------------------- */

dc_meeting *dc_meeting_new(const dc_config *cfg, sfu *engine, dc_record *record, const dc_meeting_io *io)
{
    dc_meeting *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->engine = engine;
    m->record = record;
    m->io = *io;
    m->reg = dc_registry_new();
    m->scratch = malloc(sizeof *m->scratch);
    m->ended_rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->budgets = dc_site_budgets_new(cfg);
    dc_link_tally_init(&m->links);
    char err[160];
    if (!dc_priority_parse(cfg->slot_priority, m->priority_rank, err, sizeof err)) /* (validated) */
        dc_priority_parse("screen,floor,chair,gallery", m->priority_rank, err, sizeof err);
    if (!m->reg || !m->scratch) {
        dc_meeting_free(m);
        return NULL;
    }
    return m;
}

/* A server that stops closes its meetings in the record (a killed one cannot: the record
 * closes those when it is next opened). */
static void close_in_record(dc_room *room, void *user)
{
    dc_meeting *m = user;
    int64_t now = dc_mt_wall_ms();
    for (dc_participant *p = room->participants; p; p = p->next)
        dc_record_leave(m->record, p->attendance_id, "server_stopped", now);
    dc_record_meeting_end(m->record, room->meeting_id, now);
}

void dc_meeting_free(dc_meeting *m)
{
    if (!m) return;
    if (m->reg) dc_registry_foreach_room(m->reg, close_in_record, m);
    dc_registry_free(m->reg);
    g_hash_table_destroy(m->ended_rooms);
    dc_site_budgets_free(m->budgets);
    free(m->scratch);
    free(m);
}

void dc_meeting_conn_opened(dc_meeting *m, dc_conn *conn)
{
    conn->participant = NULL;
    dc_rate_limiter_init(&conn->rate, m->cfg.rate_limit_per_second, m->cfg.rate_limit_burst, dc_mt_now_ms());
}

void dc_meeting_conn_closed(dc_meeting *m, dc_conn *conn)
{
    dc_participant *p = conn->participant;
    conn->participant = NULL;
    if (!p) return;
    p->conn = NULL;
    if (m->cfg.resume_grace_seconds == 0) {
        dc_mt_remove_participant(m, p, "timeout");
        return;
    }
    p->grace_deadline_ms = dc_mt_now_ms() + (int64_t)m->cfg.resume_grace_seconds * 1000;
}

static bool grace_over(const dc_participant *p, void *user)
{
    return !p->conn && p->grace_deadline_ms <= *(const int64_t *)user;
}

/* Speaking activity: a new dominant speaker is announced at once; the slots follow the
 * activity at most every RANKING_INTERVAL_MS. */
static void follow_speakers(dc_meeting *m, dc_room *room, int64_t now)
{
    if (dc_speaker_update(room->speakers, now)) {
        room->dominant = dc_speaker_dominant(room->speakers);
        room->ranking_dirty = true;
        json_t *ev = dc_event("dominant_speaker");
        json_t *who = json_null();
        for (const dc_participant *p = room->participants; p; p = p->next)
            if (p->key == room->dominant) who = json_string(p->id);
        json_object_set_new(ev, "participant_id", who);
        dc_mt_broadcast(m, room, NULL, ev);
    }
    for (const dc_participant *p = room->participants; p && !room->ranking_dirty; p = p->next)
        room->ranking_dirty = dc_speaker_is_speaking(room->speakers, p->key);
    if (room->ranking_dirty && now - room->ranking_applied_ms >= RANKING_INTERVAL_MS) dc_mt_refresh_slots(m, room);
}

typedef struct {
    dc_meeting *m;
    int64_t now;
} room_tick;

static void tick_room(dc_room *room, void *user)
{
    room_tick *t = user;
    dc_moderation_sweep(t->m, room, t->now);
    follow_speakers(t->m, room, t->now);
}

void dc_meeting_sweep(dc_meeting *m)
{
    int64_t now = dc_mt_now_ms();
    size_t n;
    dc_participant **expired = dc_registry_collect(m->reg, grace_over, &now, &n);
    for (size_t i = 0; i < n; i++) dc_mt_remove_participant(m, expired[i], "timeout");
    free(expired);
    room_tick t = {m, now};
    dc_registry_foreach_room(m->reg, tick_room, &t);
}

/* The engine paused or resumed layers of a simulcast stream: the publishing page is told
 * which of its encodings (by rid) to send (PROTOCOL.md "layers"). */
static void tell_publisher_layers(dc_meeting *m, const sfu_event *ev)
{
    dc_participant *p = dc_registry_by_stream(m->reg, ev->id);
    const dc_track *t = NULL;
    for (size_t i = 0; p && i < p->n_tracks && !t; i++)
        if (p->tracks[i].stream_id == ev->id) t = &p->tracks[i];
    if (!t || !t->n_layers || !p->conn) return;
    json_t *active = json_array();
    for (unsigned l = 0; l < t->n_layers; l++)
        if (ev->layers_active & 1u << l) json_array_append_new(active, json_string(t->rids[l]));
    dc_mt_send(m, p->conn, json_pack("{s:s, s:s, s:o}", "type", "layers", "mid", t->mid, "active", active));
}

static void forward_engine_event(dc_meeting *m, const sfu_event *ev)
{
    if (ev->type == SFU_EV_LINK) { /* kept for the admin figures (meeting_figures.c) and /metrics */
        dc_pc pc;
        dc_participant *p = dc_registry_by_transport(m->reg, ev->id, &pc);
        if (!p) return;
        dc_link *l = pc == DC_PC_SUBSCRIBE ? &p->sub_link : &p->pub_link;
        dc_link_tally_add(&m->links, pc == DC_PC_PUBLISH ? DC_TALLY_PUBLISH : DC_TALLY_SUBSCRIBE, &l->last, &ev->link);
        l->before = l->last;
        l->before_ms = l->at_ms;
        l->last = ev->link;
        l->at_ms = dc_mt_now_ms();
        return;
    }
    if (ev->type == SFU_EV_LAYERS) {
        tell_publisher_layers(m, ev);
        return;
    }
    if (ev->type == SFU_EV_BANDWIDTH) { /* kept for the admin figures (meeting_figures.c) */
        dc_pc pc;
        dc_participant *p = dc_registry_by_transport(m->reg, ev->id, &pc);
        if (p && pc == DC_PC_SUBSCRIBE)
            p->sub_bandwidth = (dc_bandwidth){ev->estimate_bps, ev->acked_bps, ev->loss_percent, dc_mt_now_ms()};
        return;
    }
    if (ev->type == SFU_EV_SLOT_QUALITY) {
        dc_mt_on_slot_quality(m, ev);
        return;
    }
    if (ev->type == SFU_EV_AUDIO_LEVEL) {
        dc_participant *p = dc_registry_by_stream(m->reg, ev->id);
        const dc_track *mic = p ? dc_participant_track(p, SFU_KIND_AUDIO, false) : NULL;
        /* only a voice the room hears makes a speaker: a delegate talking in its hall
         * without the floor is neither highlighted nor pulled into the galleries */
        if (!mic || mic->stream_id != ev->id || !mic->gate_open) return;
        dc_speaker_sample(p->room->speakers, p->key, ev->audio_level, ev->voice_percent, dc_mt_now_ms());
        p->room->speech_sampled = true;
        return;
    }
    const char *state = ev->type == SFU_EV_TRANSPORT_CONNECTED ? "connected"
                        : ev->type == SFU_EV_TRANSPORT_FAILED  ? "failed"
                        : ev->type == SFU_EV_COMMAND_FAILED    ? "failed"
                        : ev->type == SFU_EV_TRANSPORT_TIMEOUT ? "timeout"
                                                               : NULL;
    if (!state) return; /* SFU_EV_STREAM_ACTIVE: nothing to tell anyone yet */
    dc_pc pc;
    dc_participant *p = dc_registry_by_transport(m->reg, ev->id, &pc);
    if (!p) return; /* already gone */
    const char *pc_name = pc == DC_PC_PUBLISH ? "publish" : "subscribe";
    /* the server's own view of each connection, beside what the client is told (docs/CONSENT.md) */
    fprintf(stderr, "media: %s %s %s: %s\n", p->id, pc_name, state, ev->detail);
    dc_mt_send(m, p->conn, json_pack("{s:s, s:s, s:s}", "type", "media_state", "pc", pc_name, "state", state));
    /* the engine could not set the connection up: say what, or the client waits forever */
    if (ev->type == SFU_EV_COMMAND_FAILED) dc_meeting_send_error(m, p->conn, DC_ERR_INTERNAL, ev->detail);
    /* Media and WebSocket both gone: nobody is there any more. */
    if (ev->type == SFU_EV_TRANSPORT_TIMEOUT && pc == DC_PC_PUBLISH && !p->conn)
        dc_mt_remove_participant(m, p, "timeout");
}

static void follow_sampled_room(dc_room *room, void *user)
{
    if (!room->speech_sampled) return;
    room->speech_sampled = false;
    follow_speakers(user, room, dc_mt_now_ms());
}

void dc_meeting_poll_engine(dc_meeting *m)
{
    sfu_event events[64];
    size_t n;
    do {
        n = sfu_poll_events(m->engine, events, 64);
        for (size_t i = 0; i < n; i++) forward_engine_event(m, &events[i]);
    } while (n == 64);
    /* after the drain: an event above may have removed a participant and its room */
    dc_registry_foreach_room(m->reg, follow_sampled_room, m);
}
