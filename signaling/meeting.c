/* Request handlers and the rules that keep rooms, SDP and the media engine in step
 * (see meeting.h and PROTOCOL.md). */
#include "meeting.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

struct dc_meeting {
    dc_config cfg;
    sfu *engine;
    dc_meeting_io io;
    dc_registry *reg;
    dc_sdp *scratch; /* parse target (~300 KiB), reused for every SDP */
};

static int64_t now_ms(void) { return g_get_monotonic_time() / 1000; }

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

static void send_json(dc_meeting *m, dc_conn *conn, json_t *msg)
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
static void reply_ok(dc_meeting *m, dc_conn *conn, const dc_request *req, json_t *ok)
{
    if (!req->id) {
        json_decref(ok);
        return;
    }
    send_json(m, conn, ok);
}

static void reply_error(dc_meeting *m, dc_conn *conn, json_t *id, dc_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void reply_error(dc_meeting *m, dc_conn *conn, json_t *id, dc_error_code code, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    send_json(m, conn, dc_reply_error(id, code, message));
}

void dc_meeting_send_error(dc_meeting *m, dc_conn *conn, dc_error_code code, const char *message)
{
    send_json(m, conn, dc_reply_error(NULL, code, message));
}

/* Sends msg to everyone connected in room except `except`; consumes msg. */
static void broadcast(dc_meeting *m, dc_room *room, const dc_participant *except, json_t *msg)
{
    dc_frame *frame = take_frame(msg);
    if (!frame) return;
    for (dc_participant *o = room->participants; o; o = o->next)
        if (o != except && o->conn) m->io.send(m->io.user, o->conn, frame);
    dc_frame_unref(frame);
}

static json_t *participant_json(const dc_participant *p)
{
    json_t *tracks = json_array();
    for (size_t i = 0; i < p->n_tracks; i++)
        json_array_append_new(tracks, json_pack("{s:s, s:b}", "kind", kind_name(p->tracks[i].kind), "muted",
                                                p->muted[p->tracks[i].kind]));
    return json_pack("{s:s, s:s, s:o}", "id", p->id, "name", p->name, "tracks", tracks);
}

static json_t *slots_json(const dc_participant *p)
{
    json_t *slots = json_array();
    for (size_t i = 0; i < p->n_slots; i++) {
        const dc_slot *s = &p->slots[i];
        json_t *source = s->source_stream ? json_string(s->source_pid) : json_null();
        json_array_append_new(slots, json_pack("{s:s, s:s, s:o, s:b}", "mid", s->mid, "kind", kind_name(s->kind),
                                               "participant_id", source, "active", s->source_stream != 0));
    }
    return slots;
}

/* join's and resume's result: who I am and who else is here. */
static json_t *room_state_json(const dc_request *req, const dc_participant *p)
{
    json_t *others = json_array();
    for (const dc_participant *o = p->room->participants; o; o = o->next)
        if (o != p) json_array_append_new(others, participant_json(o));
    json_t *ok = dc_reply_ok(req->id);
    json_object_set_new(ok, "participant_id", json_string(p->id));
    json_object_set_new(ok, "room", json_string(p->room->name));
    json_object_set_new(ok, "resume_token", json_string(p->resume_token));
    json_object_set_new(ok, "participants", others);
    return ok;
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
        .session_id = p->sdp_session_id,
        .session_version = version,
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
    dc_registry_index_transport(m->reg, p->sub_transport, p);
    sfu_transport_add(m->engine, p->sub_transport, p->room->room_id, p->sub_ufrag, p->sub_pwd, NULL, false);
    p->sub_transport_added = true;
}

static void send_subscribe_offer(dc_meeting *m, dc_participant *p)
{
    if (!p->n_slots) return; /* an offer needs at least one m-line */
    if (!p->sub_transport_added) add_subscribe_transport(m, p);
    p->sub_version++;
    p->sub_offer_wanted = false;
    dc_sdp_slot slots[DC_MAX_SLOTS];
    memset(slots, 0, sizeof slots);
    for (size_t i = 0; i < p->n_slots; i++) {
        dc_slot *s = &p->slots[i];
        s->offered_stream = s->source_stream;
        snprintf(slots[i].mid, sizeof slots[i].mid, "%s", s->mid);
        slots[i].kind = s->kind == SFU_KIND_VIDEO ? DC_MEDIA_VIDEO : DC_MEDIA_AUDIO;
        slots[i].active = s->source_stream != 0;
        slots[i].ssrc = s->out_ssrc;
        snprintf(slots[i].msid_stream, sizeof slots[i].msid_stream, "%s", s->source_pid);
        snprintf(slots[i].msid_track, sizeof slots[i].msid_track, "%s", s->source_label);
        snprintf(slots[i].cname, sizeof slots[i].cname, "%s", s->source_pid);
    }
    dc_sdp_local local = local_description(m, p, p->sub_ufrag, p->sub_pwd, (uint32_t)p->sub_version);
    char *sdp = dc_sdp_write_subscribe_offer(slots, p->n_slots, &local);
    if (!sdp) {
        fprintf(stderr, "signaling: could not write a subscribe offer for %s\n", p->id);
        return;
    }
    json_t *ev = dc_event("subscribe_offer");
    json_object_set_new(ev, "version", json_integer(p->sub_version));
    json_object_set_new(ev, "sdp", json_string(sdp));
    json_object_set_new(ev, "slots", slots_json(p));
    free(sdp);
    send_json(m, p->conn, ev);
}

/* A slot that no longer shows what the engine forwards to it is paused at once; it is
 * pointed at its new source only when the subscriber has answered the offer announcing it. */
static void pause_stale_slots(dc_meeting *m, dc_participant *p)
{
    for (size_t i = 0; i < p->n_slots; i++) {
        dc_slot *s = &p->slots[i];
        if (s->in_engine && s->pointed_stream && s->pointed_stream != s->source_stream) {
            sfu_slot_point(m->engine, s->slot_id, p->room->room_id, 0, 0);
            s->pointed_stream = 0;
        }
    }
}

/* One subscribe offer in flight per participant: while the last offer is unanswered,
 * changes only mark the participant, and one offer carrying all of them follows the
 * answer. Offering at every change makes a room where many publish at once (a meeting
 * starting) send each subscriber a run of offers that supersede each other: every answer
 * comes back stale, and no media can flow until the joins stop. */
static void refresh_subscriber(dc_meeting *m, dc_participant *p)
{
    if (!dc_slots_reconcile(m->reg, p)) return;
    pause_stale_slots(m, p);
    if (p->sub_version > p->sub_answered_version) p->sub_offer_wanted = true;
    else send_subscribe_offer(m, p);
}

static void refresh_others(dc_meeting *m, dc_room *room, const dc_participant *except)
{
    for (dc_participant *o = room->participants; o; o = o->next)
        if (o != except) refresh_subscriber(m, o);
}

/* ---- leaving -------------------------------------------------------------------------- */

static void remove_participant(dc_meeting *m, dc_participant *p, const char *reason)
{
    dc_room *room = p->room;
    dc_participant_unlink(m->reg, p);
    /* Others stop receiving p's tracks before the streams go away. */
    refresh_others(m, room, NULL);
    broadcast(m, room, NULL,
              json_pack("{s:s, s:s, s:s}", "type", "participant_left", "participant_id", p->id, "reason", reason));
    for (size_t i = 0; i < p->n_slots; i++)
        if (p->slots[i].in_engine) sfu_slot_remove(m->engine, p->slots[i].slot_id, room->room_id);
    for (size_t i = 0; i < p->n_tracks; i++) sfu_stream_remove(m->engine, p->tracks[i].stream_id, room->room_id);
    if (p->pub_transport) sfu_transport_remove(m->engine, p->pub_transport, room->room_id);
    if (p->sub_transport_added) sfu_transport_remove(m->engine, p->sub_transport, room->room_id);
    if (p->conn) p->conn->participant = NULL;
    free(p);
    dc_registry_drop_room_if_empty(m->reg, room);
}

/* ---- requests ------------------------------------------------------------------------- */

static void handle_join(dc_meeting *m, dc_conn *conn, const dc_request *req)
{
    if (conn->participant) {
        reply_error(m, conn, req->id, DC_ERR_ALREADY_JOINED, "this connection already joined a room");
        return;
    }
    /* Signed join tokens are not implemented yet: no room requires one, a token is ignored. */
    dc_room *room = dc_registry_room(m->reg, req->room, false);
    if (room && room->n_participants >= (size_t)m->cfg.max_room_size) {
        reply_error(m, conn, req->id, DC_ERR_ROOM_FULL, "room %s is full (%d participants)", req->room,
                    m->cfg.max_room_size);
        return;
    }
    if (!room) room = dc_registry_room(m->reg, req->room, true);
    dc_participant *p = room ? dc_participant_add(m->reg, room, req->name) : NULL;
    if (!p) {
        if (room) dc_registry_drop_room_if_empty(m->reg, room);
        reply_error(m, conn, req->id, DC_ERR_INTERNAL, "out of memory");
        return;
    }
    p->conn = conn;
    conn->participant = p;
    reply_ok(m, conn, req, room_state_json(req, p));
    broadcast(m, room, p, json_pack("{s:s, s:o}", "type", "participant_joined", "participant", participant_json(p)));
    /* Existing tracks are offered right away, before this participant publishes anything. */
    refresh_subscriber(m, p);
}

static void handle_resume(dc_meeting *m, dc_conn *conn, const dc_request *req)
{
    if (conn->participant) {
        reply_error(m, conn, req->id, DC_ERR_ALREADY_JOINED, "this connection already joined a room");
        return;
    }
    dc_participant *p = dc_registry_by_resume_token(m->reg, req->resume_token);
    if (!p) {
        reply_error(m, conn, req->id, DC_ERR_RESUME_FAILED, "unknown or expired resume token");
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
    reply_ok(m, conn, req, room_state_json(req, p));
    dc_slots_reconcile(m->reg, p);
    pause_stale_slots(m, p);
    send_subscribe_offer(m, p); /* always a fresh one: the client may have missed some */
}

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

static bool same_track(const dc_track *a, const dc_track *b)
{
    return a->kind == b->kind && a->codec == b->codec && a->pt == b->pt && a->ssrc == b->ssrc &&
           a->mid_ext_id == b->mid_ext_id && !strcmp(a->mid, b->mid);
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
                                dc_track tracks[DC_MAX_TRACKS])
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
        snprintf(t->mid, sizeof t->mid, "%s", md->mid);
        snprintf(t->label, sizeof t->label, "%s-%s", p->id, md->mid);
        for (size_t j = 0; j < p->n_tracks && !new_transport; j++)
            if (same_track(&p->tracks[j], t)) t->stream_id = p->tracks[j].stream_id;
        if (!t->stream_id) t->stream_id = dc_registry_next_id(m->reg);
    }
    return n;
}

/* Tells the engine what changed: streams that went away, the transport if it was
 * replaced, and streams that are new. Subscribers' slots were paused before this. */
static void apply_publish_to_engine(dc_meeting *m, const dc_participant *p, const dc_track *old, size_t n_old,
                                    uint32_t old_transport, bool new_transport)
{
    uint32_t room_id = p->room->room_id;
    for (size_t i = 0; i < n_old; i++)
        if (!has_stream(p->tracks, p->n_tracks, old[i].stream_id))
            sfu_stream_remove(m->engine, old[i].stream_id, room_id);
    if (old_transport) sfu_transport_remove(m->engine, old_transport, room_id);
    if (new_transport) /* dtls_client false: an actpass offer leaves the server the DTLS server role. */
        sfu_transport_add(m->engine, p->pub_transport, room_id, p->pub_ufrag, p->pub_pwd, p->pub_peer_fingerprint,
                          false);
    for (size_t i = 0; i < p->n_tracks; i++) {
        const dc_track *t = &p->tracks[i];
        if (has_stream(old, n_old, t->stream_id)) continue;
        sfu_stream_desc desc = {
            .stream_id = t->stream_id,
            .transport_id = p->pub_transport,
            .room_id = room_id,
            .kind = t->kind,
            .codec = t->codec,
            .pt = t->pt,
            .ssrc = t->ssrc,
            .mid_ext_id = t->mid_ext_id,
        };
        snprintf(desc.mid, sizeof desc.mid, "%s", t->mid);
        sfu_stream_add(m->engine, &desc);
    }
}

static void handle_publish(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    dc_sdp *offer = m->scratch;
    char err[200];
    if (!dc_sdp_parse(req->sdp, req->sdp_len, offer, err, sizeof err)) {
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "%s", err);
        return;
    }
    /* The server is always the DTLS server (a=setup:passive) of a publish connection. */
    if (offer->setup == DC_SETUP_ACTIVE || offer->setup == DC_SETUP_PASSIVE) {
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "a publish offer must use a=setup:actpass");
        return;
    }
    limit_tracks(offer);

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
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "the offer cannot be answered");
        return;
    }
    dc_track tracks[DC_MAX_TRACKS];
    size_t n = tracks_from_offer(m, p, offer, new_transport, picked, picked_pt, tracks);
    if (n == 0) {
        free(answer);
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP,
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
        dc_registry_index_transport(m->reg, p->pub_transport, p);
        memcpy(p->pub_ufrag, ufrag, sizeof ufrag);
        memcpy(p->pub_pwd, pwd, sizeof pwd);
        snprintf(p->pub_peer_ufrag, sizeof p->pub_peer_ufrag, "%s", offer->ice_ufrag);
        snprintf(p->pub_peer_fingerprint, sizeof p->pub_peer_fingerprint, "%s", offer->fingerprint);
    }

    json_t *ok = dc_reply_ok(req->id);
    json_object_set_new(ok, "sdp", json_string(answer));
    free(answer);
    reply_ok(m, conn, req, ok);
    broadcast(m, p->room, p,
              json_pack("{s:s, s:o}", "type", "participant_updated", "participant", participant_json(p)));
    refresh_others(m, p->room, p); /* pauses slots showing replaced streams, offers new ones */
    apply_publish_to_engine(m, p, old, n_old, old_transport, new_transport);
}

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
        reply_error(m, conn, req->id, DC_ERR_BAD_REQUEST, "no subscribe_offer with version %lld was sent",
                    (long long)req->version);
        return;
    }
    if (req->version < p->sub_version || req->version == p->sub_answered_version) {
        reply_error(m, conn, req->id, DC_ERR_STALE_VERSION, "version %lld is not the latest offer (%lld)",
                    (long long)req->version, (long long)p->sub_version);
        return;
    }
    dc_sdp *answer = m->scratch;
    char err[200];
    if (!dc_sdp_parse(req->sdp, req->sdp_len, answer, err, sizeof err)) {
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "%s", err);
        return;
    }
    if (answer->setup != DC_SETUP_ACTIVE && answer->setup != DC_SETUP_PASSIVE) {
        reply_error(m, conn, req->id, DC_ERR_BAD_SDP, "the answer must use a=setup:active or a=setup:passive");
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
    }
    p->sub_answered_version = req->version;

    for (size_t i = 0; i < p->n_slots; i++) {
        dc_slot *s = &p->slots[i];
        if (!s->source_stream) continue; /* inactive slots were paused when their source went */
        /* a source that changed after this offer went out waits for the next offer */
        if (s->offered_stream != s->source_stream) continue;
        const dc_sdp_media *md = media_by_mid(answer, s->mid);
        uint8_t pt = subscribe_pt(s->source_codec);
        bool accepted = md && !md->rejected && md->direction != DC_DIR_INACTIVE && media_has_pt(md, pt);
        if (!accepted) {
            if (s->pointed_stream) sfu_slot_point(m->engine, s->slot_id, room_id, 0, 0);
            s->pointed_stream = 0;
            continue;
        }
        if (s->in_engine && s->engine_ssrc != s->out_ssrc) { /* reused for a new source */
            sfu_slot_remove(m->engine, s->slot_id, room_id);
            s->in_engine = false;
            s->pointed_stream = 0;
        }
        if (!s->in_engine) {
            sfu_slot_add(m->engine, s->slot_id, p->sub_transport, room_id, s->kind, s->out_ssrc);
            s->in_engine = true;
            s->engine_ssrc = s->out_ssrc;
        }
        if (s->pointed_stream != s->source_stream) {
            sfu_slot_point(m->engine, s->slot_id, room_id, s->source_stream, pt);
            s->pointed_stream = s->source_stream;
        }
    }
    reply_ok(m, conn, req, dc_reply_ok(req->id));
    if (p->sub_offer_wanted) send_subscribe_offer(m, p); /* what changed meanwhile */
}

static void handle_mute(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    p->muted[req->kind] = req->muted;
    reply_ok(m, conn, req, dc_reply_ok(req->id));
    broadcast(m, p->room, p,
              json_pack("{s:s, s:o}", "type", "participant_updated", "participant", participant_json(p)));
}

static void handle_leave(dc_meeting *m, dc_conn *conn, dc_participant *p, const dc_request *req)
{
    reply_ok(m, conn, req, dc_reply_ok(req->id));
    remove_participant(m, p, "left");
    m->io.close(m->io.user, conn);
}

void dc_meeting_handle_text(dc_meeting *m, dc_conn *conn, const char *text, size_t len)
{
    dc_request req;
    char message[256];
    bool allowed = dc_rate_limiter_allow(&conn->rate, now_ms()); /* every message counts, valid or not */
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
        send_json(m, conn, dc_reply_error(req.id, code, message));
        dc_request_clear(&req);
        if (dc_rate_limiter_flooding(&conn->rate)) m->io.close(m->io.user, conn); /* the server says 1008 */
        return;
    }
    dc_participant *p = conn->participant;
    switch (req.type) {
    case DC_REQ_JOIN: handle_join(m, conn, &req); break;
    case DC_REQ_RESUME: handle_resume(m, conn, &req); break;
    case DC_REQ_PING: reply_ok(m, conn, &req, dc_reply_ok(req.id)); break;
    case DC_REQ_PUBLISH: handle_publish(m, conn, p, &req); break;
    case DC_REQ_SUBSCRIBE_ANSWER: handle_subscribe_answer(m, conn, p, &req); break;
    case DC_REQ_CANDIDATE: reply_ok(m, conn, &req, dc_reply_ok(req.id)); break; /* ICE-lite: not needed */
    case DC_REQ_MUTE: handle_mute(m, conn, p, &req); break;
    case DC_REQ_LEAVE: handle_leave(m, conn, p, &req); break;
    }
    dc_request_clear(&req);
}

/* ---- connections, timers, engine events --------------------------------------------- */

dc_meeting *dc_meeting_new(const dc_config *cfg, sfu *engine, const dc_meeting_io *io)
{
    dc_meeting *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->engine = engine;
    m->io = *io;
    m->reg = dc_registry_new();
    m->scratch = malloc(sizeof *m->scratch);
    if (!m->reg || !m->scratch) {
        dc_meeting_free(m);
        return NULL;
    }
    return m;
}

void dc_meeting_free(dc_meeting *m)
{
    if (!m) return;
    dc_registry_free(m->reg);
    free(m->scratch);
    free(m);
}

void dc_meeting_conn_opened(dc_meeting *m, dc_conn *conn)
{
    conn->participant = NULL;
    dc_rate_limiter_init(&conn->rate, m->cfg.rate_limit_per_second, m->cfg.rate_limit_burst, now_ms());
}

void dc_meeting_conn_closed(dc_meeting *m, dc_conn *conn)
{
    dc_participant *p = conn->participant;
    conn->participant = NULL;
    if (!p) return;
    p->conn = NULL;
    if (m->cfg.resume_grace_seconds == 0) {
        remove_participant(m, p, "timeout");
        return;
    }
    p->grace_deadline_ms = now_ms() + (int64_t)m->cfg.resume_grace_seconds * 1000;
}

static bool grace_over(const dc_participant *p, void *user)
{
    return !p->conn && p->grace_deadline_ms <= *(const int64_t *)user;
}

void dc_meeting_sweep(dc_meeting *m)
{
    int64_t now = now_ms();
    size_t n;
    dc_participant **expired = dc_registry_collect(m->reg, grace_over, &now, &n);
    for (size_t i = 0; i < n; i++) remove_participant(m, expired[i], "timeout");
    free(expired);
}

static void forward_engine_event(dc_meeting *m, const sfu_event *ev)
{
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
    send_json(m, p->conn, json_pack("{s:s, s:s, s:s}", "type", "media_state", "pc", pc_name, "state", state));
    /* the engine could not set the connection up: say what, or the client waits forever */
    if (ev->type == SFU_EV_COMMAND_FAILED) dc_meeting_send_error(m, p->conn, DC_ERR_INTERNAL, ev->detail);
    /* Media and WebSocket both gone: nobody is there any more. */
    if (ev->type == SFU_EV_TRANSPORT_TIMEOUT && pc == DC_PC_PUBLISH && !p->conn) remove_participant(m, p, "timeout");
}

void dc_meeting_poll_engine(dc_meeting *m)
{
    sfu_event events[32];
    size_t n;
    do {
        n = sfu_poll_events(m->engine, events, 32);
        for (size_t i = 0; i < n; i++) forward_engine_event(m, &events[i]);
    } while (n == 32);
}
