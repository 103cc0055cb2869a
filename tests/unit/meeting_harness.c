/* See meeting_harness.h. */
#include "meeting_harness.h"

#include "token.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void (*mh_on_failure)(const char *file, int line, const char *expr);

void mh_failed(const char *file, int line, const char *expr)
{
    if (mh_on_failure) {
        mh_on_failure(file, line, expr);
        return;
    }
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
    abort();
}

/* ---- the clock ---------------------------------------------------------------------- */

static gint64 fake_now_us = 1000 * G_USEC_PER_SEC;

gint64 g_get_monotonic_time(void) { return fake_now_us; }

void advance_seconds(int seconds) { fake_now_us += (gint64)seconds * G_USEC_PER_SEC; }

void advance_ms(int ms) { fake_now_us += (gint64)ms * 1000; }

/* ---- a room of test clients ------------------------------------------------------------ */

dc_config cfg;
sfu *engine;
dc_meeting *meeting;

static void io_send(void *user, dc_conn *conn, dc_frame *frame)
{
    (void)user;
    client *c = conn->server_handle;
    json_error_t err;
    json_t *msg = json_loadb((const char *)dc_frame_payload(frame), dc_frame_len(frame), 0, &err);
    MH_EXPECT(msg && json_is_object(msg) && json_is_string(json_object_get(msg, "type")));
    MH_EXPECT(c->n_inbox < MAX_INBOX);
    /* the slot map follows offers and slot_updates as they arrive, as a page's does */
    const char *type = msg ? json_string_value(json_object_get(msg, "type")) : "";
    json_t *slots = json_object_get(msg, "slots");
    if (!strcmp(type, "subscribe_offer")) json_object_clear(c->slots);
    for (size_t i = 0; i < json_array_size(slots); i++) {
        json_t *slot = json_array_get(slots, i);
        json_object_set(c->slots, json_string_value(json_object_get(slot, "mid")), slot);
    }
    if (msg && c->n_inbox < MAX_INBOX) c->inbox[c->n_inbox++] = msg;
    else json_decref(msg);
}

static void io_close(void *user, dc_conn *conn)
{
    (void)user;
    ((client *)conn->server_handle)->closed = true;
}

/* A meeting with the default configuration, room size limited to max_room_size if not 0. */
void meeting_start_sized(int max_room_size)
{
    dc_config_defaults(&cfg);
    if (max_room_size) cfg.max_room_size = max_room_size;
    static const char secret[] = "the meeting harness's join token secret, 48 bytes";
    memcpy(cfg.token_secret, secret, sizeof secret - 1);
    cfg.token_secret_len = sizeof secret - 1;
    engine = fake_sfu_new();
    dc_meeting_io io = {.send = io_send, .close = io_close};
    meeting = dc_meeting_new(&cfg, engine, NULL, &io);
    MH_EXPECT(meeting != NULL);
}

void meeting_start(void) { meeting_start_sized(0); }

void client_open(client *c, const char *name) { client_open_as(c, name, NULL); }

void client_open_as(client *c, const char *name, const char *role)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->role = role;
    c->slots = json_object();
    c->conn.server_handle = c;
    c->next_id = 1;
    dc_meeting_conn_opened(meeting, &c->conn);
}

void client_drop_inbox(client *c)
{
    for (size_t i = 0; i < c->n_inbox; i++) json_decref(c->inbox[i]);
    c->n_inbox = 0;
}

void client_free(client *c)
{
    client_drop_inbox(c);
    free(c->offer);
    json_decref(c->offer_msg);
    json_decref(c->slots);
    c->offer = NULL;
    c->offer_msg = NULL;
    c->slots = NULL;
}

/* Ends the meeting; the fake engine must not have seen a call the real one would mishandle. */
void meeting_end(client *clients[], size_t n)
{
    MH_EXPECT(fake_sfu_problem_count(engine) == 0);
    for (size_t i = 0; i < n; i++) client_free(clients[i]);
    dc_meeting_free(meeting);
    sfu_free(engine);
}

const char *type_of(const json_t *msg) { return json_string_value(json_object_get(msg, "type")); }

static json_t *take_at(client *c, size_t i)
{
    json_t *msg = c->inbox[i];
    memmove(c->inbox + i, c->inbox + i + 1, (c->n_inbox - i - 1) * sizeof *c->inbox);
    c->n_inbox--;
    return msg;
}

/* The oldest unread message of that type, removed from the inbox; NULL if none. */
json_t *take(client *c, const char *type)
{
    for (size_t i = 0; i < c->n_inbox; i++)
        if (!strcmp(type_of(c->inbox[i]), type)) return take_at(c, i);
    return NULL;
}

size_t count_unread(const client *c, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_inbox; i++) n += !strcmp(type_of(c->inbox[i]), type);
    return n;
}

/* Index in the inbox of the first unread message of that type, or MAX_INBOX. */
size_t position(const client *c, const char *type)
{
    for (size_t i = 0; i < c->n_inbox; i++)
        if (!strcmp(type_of(c->inbox[i]), type)) return i;
    return MAX_INBOX;
}

void send_json(client *c, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    dc_meeting_handle_text(meeting, &c->conn, text, strlen(text));
    free(text);
}

/* Sends req with a fresh id and returns its reply (ok or error), taken from the inbox. */
json_t *request(client *c, json_t *req)
{
    int id = c->next_id++;
    json_object_set_new(req, "id", json_integer(id));
    send_json(c, req);
    for (size_t i = 0; i < c->n_inbox; i++)
        if (json_integer_value(json_object_get(c->inbox[i], "id")) == id) return take_at(c, i);
    MH_EXPECT(!"a request got no reply");
    return json_object();
}

bool is_ok(const json_t *reply) { return !strcmp(type_of(reply), "ok"); }

bool is_error(const json_t *reply, const char *code)
{
    return !strcmp(type_of(reply), "error") && !strcmp(json_string_value(json_object_get(reply, "code")), code);
}

/* Requests that need nothing back but an ok. */
void request_ok(client *c, json_t *req)
{
    json_t *reply = request(c, req);
    MH_EXPECT(is_ok(reply));
    json_decref(reply);
}

/* ---- SDP as a browser writes it ----------------------------------------------------------- */

static const char *media_lines(const char *ufrag, const char *setup)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "c=IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:clientpassword0123456789\r\n"
             "a=fingerprint:%s\r\na=setup:%s\r\na=rtcp-mux\r\n",
             ufrag, CLIENT_FINGERPRINT, setup);
    return buf;
}

/* sendonly Opus (mid 0) and VP8 (mid 1), SSRCs given, the mid extension offered. */
char *publish_offer(const char *ufrag, const char *setup, uint32_t audio_ssrc, uint32_t video_ssrc)
{
    return publish_offer_with_screen(ufrag, setup, audio_ssrc, video_ssrc, 0);
}

/* The same, plus (screen_ssrc not 0) a second VP8 m-line, mid 2, for a screen share; the
 * audio m-line offers the RFC 6464 audio level extension (id 1), the video m-line
 * transport-wide cc (id 3). */
char *publish_offer_with_screen(const char *ufrag, const char *setup, uint32_t audio_ssrc, uint32_t video_ssrc,
                                uint32_t screen_ssrc)
{
    GString *s = g_string_new("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    g_string_append(s, screen_ssrc ? "a=group:BUNDLE 0 1 2\r\n" : "a=group:BUNDLE 0 1\r\n");
    g_string_append(s, "a=msid-semantic: WMS\r\n");
    g_string_append_printf(s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n%sa=mid:0\r\n", media_lines(ufrag, setup));
    g_string_append_printf(
        s,
        "a=extmap:1 %s\r\na=extmap:4 %s\r\na=sendonly\r\na=msid:s a\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:%u cname:c\r\n",
        DC_EXT_AUDIO_LEVEL, DC_EXT_MID, audio_ssrc);
    g_string_append_printf(s, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n%sa=mid:1\r\n", media_lines(ufrag, setup));
    g_string_append_printf(s,
                           "a=extmap:4 %s\r\na=extmap:3 %s\r\na=sendonly\r\na=msid:s v\r\n"
                           "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=ssrc:%u cname:c\r\n",
                           DC_EXT_MID, DC_EXT_TWCC, video_ssrc);
    if (screen_ssrc) {
        g_string_append_printf(s, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n%sa=mid:2\r\n", media_lines(ufrag, setup));
        g_string_append_printf(s,
                               "a=extmap:4 %s\r\na=sendonly\r\na=msid:s screen\r\na=rtpmap:96 VP8/90000\r\n"
                               "a=rtcp-fb:96 nack pli\r\na=ssrc:%u cname:c\r\n",
                               DC_EXT_MID, screen_ssrc);
    }
    return g_string_free(s, FALSE);
}

/* Accepts every m-line of a subscribe offer with all its codecs, recvonly (inactive stays inactive). */
char *subscribe_answer_sdp(const dc_sdp *offer, const char *ufrag)
{
    GString *s = g_string_new("v=0\r\no=- 8655001580170343429 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE");
    for (size_t i = 0; i < offer->n_media; i++) g_string_append_printf(s, " %s", offer->media[i].mid);
    g_string_append(s, "\r\n");
    for (size_t i = 0; i < offer->n_media; i++) {
        const dc_sdp_media *md = &offer->media[i];
        g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF", md->kind_name);
        for (size_t k = 0; k < md->n_codecs; k++) g_string_append_printf(s, " %u", md->codecs[k].pt);
        g_string_append_printf(s, "\r\n%sa=mid:%s\r\na=%s\r\n", media_lines(ufrag, "active"), md->mid,
                               md->direction == DC_DIR_INACTIVE ? "inactive" : "recvonly");
        for (size_t k = 0; k < md->n_codecs; k++) {
            const dc_sdp_codec *codec = &md->codecs[k];
            g_string_append_printf(s, "a=rtpmap:%u %s/%u", codec->pt, codec->name, codec->clock);
            if (codec->channels) g_string_append_printf(s, "/%u", codec->channels);
            g_string_append(s, "\r\n");
            if (codec->fmtp[0]) g_string_append_printf(s, "a=fmtp:%u %s\r\n", codec->pt, codec->fmtp);
        }
    }
    return g_string_free(s, FALSE);
}

dc_sdp *parse_sdp(const char *text)
{
    dc_sdp *sdp = malloc(sizeof *sdp);
    char err[200];
    bool ok = text && dc_sdp_parse(text, strlen(text), sdp, err, sizeof err);
    MH_EXPECT(ok);
    if (!ok) memset(sdp, 0, sizeof *sdp);
    return sdp;
}

const dc_sdp_media *media_by_mid(const dc_sdp *sdp, const char *mid)
{
    for (size_t i = 0; i < sdp->n_media; i++)
        if (!strcmp(sdp->media[i].mid, mid)) return &sdp->media[i];
    return NULL;
}

/* ---- the engine's view, from the fake's call log ------------------------------------------ */

/* The last transport the meeting added with this server ufrag since call `from`; 0 if none. */
uint32_t transport_with_ufrag(size_t from, const char *server_ufrag)
{
    uint32_t id = 0;
    for (size_t i = from; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_TRANSPORT_ADD && !strcmp(call->ice_ufrag, server_ufrag)) id = call->id;
    }
    return id;
}

/* The live stream of that kind published on the client's publish transport; 0 if none. */
uint32_t stream_of(const client *c, sfu_kind kind)
{
    for (size_t i = fake_sfu_call_count(engine); i-- > 0;) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_STREAM_ADD && call->transport_id == c->pub_transport && call->kind == kind &&
            fake_sfu_stream_alive(engine, call->id))
            return call->id;
    }
    return 0;
}

/* The engine slot behind the m-line `mid` of the client's last answered offer: the slot
 * added on its subscribe transport with the SSRC that m-line announces; 0 if none. */
uint32_t slot_of(const client *c, const char *mid)
{
    const dc_sdp_media *md = c->offer ? media_by_mid(c->offer, mid) : NULL;
    if (!md || !md->n_ssrcs) return 0;
    for (size_t i = fake_sfu_call_count(engine); i-- > 0;) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_SLOT_ADD && call->transport_id == c->sub_transport && call->ssrc == md->ssrcs[0].ssrc)
            return call->id;
    }
    return 0;
}

/* ---- what a client does ------------------------------------------------------------------- */

char *token_for(const client *c, const char *room, int64_t ttl_seconds)
{
    dc_token_claims claims = {.exp = g_get_real_time() / G_USEC_PER_SEC + ttl_seconds};
    snprintf(claims.sub, sizeof claims.sub, "%s", c->name);
    snprintf(claims.name, sizeof claims.name, "%s", c->name);
    snprintf(claims.room, sizeof claims.room, "%s", room);
    if (c->site) snprintf(claims.site, sizeof claims.site, "%s", c->site);
    MH_EXPECT(dc_role_parse(c->role ? c->role : "official", &claims.role));
    claims.grants = dc_role_default_grants(claims.role);
    char *token = dc_token_sign(&claims, cfg.token_secret, cfg.token_secret_len);
    MH_EXPECT(token != NULL);
    return token;
}

json_t *join(client *c, const char *room)
{
    char *token = token_for(c, room, 3600);
    json_t *reply = request(c, json_pack("{s:s, s:s, s:s}", "type", "join", "room", room, "token", token));
    free(token);
    if (is_ok(reply)) {
        snprintf(c->pid, sizeof c->pid, "%s", json_string_value(json_object_get(reply, "participant_id")));
        snprintf(c->resume_token, sizeof c->resume_token, "%s",
                 json_string_value(json_object_get(reply, "resume_token")));
    }
    return reply;
}

void join_ok(client *c, const char *room)
{
    json_t *reply = join(c, room);
    MH_EXPECT(is_ok(reply));
    json_decref(reply);
}

/* Publishes audio and video; returns the server's parsed answer (free()). */
dc_sdp *publish(client *c, const char *ufrag)
{
    size_t from = fake_sfu_call_count(engine);
    char *offer = publish_offer(ufrag, "actpass", 1111, 2222);
    json_t *reply = request(c, json_pack("{s:s, s:s}", "type", "publish", "sdp", offer));
    g_free(offer);
    MH_EXPECT(is_ok(reply));
    dc_sdp *answer = parse_sdp(json_string_value(json_object_get(reply, "sdp")));
    json_decref(reply);
    uint32_t added = transport_with_ufrag(from, answer->ice_ufrag);
    if (added) c->pub_transport = added;
    return answer;
}

void publish_ok(client *c) { free(publish(c, "pubufrag")); }

json_t *publish_screen(client *c, bool with_screen)
{
    char *offer = publish_offer_with_screen("pubufrag", "actpass", 1111, 2222, with_screen ? 3333 : 0);
    json_t *req = json_pack("{s:s, s:s}", "type", "publish", "sdp", offer);
    if (with_screen) json_object_set_new(req, "screen_mid", json_string("2"));
    g_free(offer);
    return request(c, req);
}

/* Answers the one subscribe offer waiting in the inbox (accepting everything) and
 * returns the reply; the offer is kept in c->offer. */
json_t *answer_offer_with(client *c, const char *ufrag)
{
    MH_EXPECT(count_unread(c, "subscribe_offer") == 1);
    json_t *offer_msg = take(c, "subscribe_offer");
    if (!offer_msg) return json_object();
    json_decref(c->offer_msg);
    free(c->offer);
    c->offer_msg = offer_msg;
    c->offer = parse_sdp(json_string_value(json_object_get(offer_msg, "sdp")));
    char *answer = subscribe_answer_sdp(c->offer, ufrag);
    json_t *reply = request(c, json_pack("{s:s, s:O, s:s}", "type", "subscribe_answer", "version",
                                         json_object_get(offer_msg, "version"), "sdp", answer));
    g_free(answer);
    /* the subscribe transport was added with the first offer, and again if this answer replaced it */
    uint32_t added = transport_with_ufrag(0, c->offer->ice_ufrag);
    if (added) c->sub_transport = added;
    return reply;
}

void answer_offer(client *c)
{
    json_t *reply = answer_offer_with(c, "subufrag");
    MH_EXPECT(is_ok(reply));
    json_decref(reply);
}

/* The slot entry {"mid","kind","participant_id","active"} of the last answered offer. */
const json_t *offered_slot(const client *c, const char *mid)
{
    json_t *slots = json_object_get(c->offer_msg, "slots");
    for (size_t i = 0; i < json_array_size(slots); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(slots, i), "mid")), mid))
            return json_array_get(slots, i);
    return NULL;
}

/* The mid of the slot showing that participant's track of that kind now, or NULL. */
const char *mid_showing(const client *c, const client *source, const char *kind)
{
    const char *mid;
    json_t *slot;
    json_object_foreach(c->slots, mid, slot)
    {
        const char *pid = json_string_value(json_object_get(slot, "participant_id"));
        if (pid && !strcmp(pid, source->pid) && !strcmp(json_string_value(json_object_get(slot, "kind")), kind) &&
            strcmp(json_string_value(json_object_get(slot, "use")), "screen"))
            return mid;
    }
    return NULL;
}

const char *slot_shows(const client *c, const char *mid)
{
    const char *pid = json_string_value(json_object_get(json_object_get(c->slots, mid), "participant_id"));
    return pid ? pid : "";
}

size_t slots_showing(const client *c, const char *kind)
{
    size_t n = 0;
    const char *mid;
    json_t *slot;
    json_object_foreach(c->slots, mid, slot) n += json_is_string(json_object_get(slot, "participant_id")) &&
                                                  !strcmp(json_string_value(json_object_get(slot, "kind")), kind);
    return n;
}

/* True if viewer's engine slot for source's track of that kind forwards source's stream. */
bool sees(const client *viewer, const client *source, sfu_kind kind)
{
    const char *mid = mid_showing(viewer, source, kind == SFU_KIND_VIDEO ? "video" : "audio");
    uint32_t stream = stream_of(source, kind);
    return mid && stream && fake_sfu_slot_source(engine, slot_of(viewer, mid)) == stream;
}

bool sees_both(const client *viewer, const client *source)
{
    return sees(viewer, source, SFU_KIND_AUDIO) && sees(viewer, source, SFU_KIND_VIDEO);
}

/* c joins, answers the offer of its slots and publishes; the others only hear of it
 * (participant_joined, slot_update): nobody renegotiates. */
void enter_and_publish(client *c, const char *room, client *others[], size_t n_others)
{
    join_ok(c, room);
    answer_offer(c);
    publish_ok(c);
    for (size_t i = 0; i < n_others; i++) {
        MH_EXPECT(count_unread(others[i], "subscribe_offer") == 0);
        client_drop_inbox(others[i]);
    }
    client_drop_inbox(c);
}

/* A and B (and C) in room "r", each publishing audio and video and seeing the others. */
void room_of_two(client *a, client *b)
{
    client_open(a, "A");
    client_open(b, "B");
    enter_and_publish(a, "r", NULL, 0);
    enter_and_publish(b, "r", (client *[]){a}, 1);
}

void room_of_three(client *a, client *b, client *c)
{
    room_of_two(a, b);
    client_open(c, "C");
    enter_and_publish(c, "r", (client *[]){a, b}, 2);
}
