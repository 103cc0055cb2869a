/* The meeting logic (signaling/meeting.c) as a room of clients sees it, without sockets or
 * sleeps: requests go in through dc_meeting_handle_text, replies and events come out
 * through the dc_meeting_io callbacks into each client's inbox, and the media engine is
 * the fake of fake_sfu.c (linked instead of libsfu), which records every engine call and
 * models the objects they make. Time is a fake clock: meeting.c reads it through
 * g_get_monotonic_time, which this file defines in glib's place.
 *
 * The clients write their SDP the way a browser would (a publish offer with Opus and VP8,
 * an answer per subscribe offer), from PROTOCOL.md alone. */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_sfu.h"
#include "meeting.h"
#include "sdp.h"

/* ---- the clock ---------------------------------------------------------------------- */

static gint64 fake_now_us = 1000 * G_USEC_PER_SEC;

gint64 g_get_monotonic_time(void) { return fake_now_us; }

static void advance_seconds(int seconds) { fake_now_us += (gint64)seconds * G_USEC_PER_SEC; }

/* ---- a room of test clients ------------------------------------------------------------ */

#define MAX_INBOX 64
#define CLIENT_FINGERPRINT \
    "sha-256 44:2B:BC:5C:33:02:7C:CF:EB:4C:29:95:5A:10:6B:D7:BA:EE:34:1A:F4:A1:1B:BC:4E:2E:C7:01:0E:68:E9:2C"

typedef struct {
    dc_conn conn;
    const char *name;
    json_t *inbox[MAX_INBOX]; /* unread messages, oldest first */
    size_t n_inbox;
    bool closed; /* the meeting asked the server to close the WebSocket */
    int next_id;
    char pid[16];
    char resume_token[DC_RESUME_TOKEN_MAX_BYTES + 1];
    uint32_t pub_transport; /* engine ids learnt from the fake's call log */
    uint32_t sub_transport;
    dc_sdp *offer; /* the last subscribe offer answered */
    json_t *offer_msg;
} client;

static dc_config cfg;
static sfu *engine;
static dc_meeting *meeting;

static void io_send(void *user, dc_conn *conn, dc_frame *frame)
{
    (void)user;
    client *c = conn->server_handle;
    json_error_t err;
    json_t *msg = json_loadb((const char *)dc_frame_payload(frame), dc_frame_len(frame), 0, &err);
    CHECK(msg && json_is_object(msg) && json_is_string(json_object_get(msg, "type")));
    CHECK(c->n_inbox < MAX_INBOX);
    if (msg && c->n_inbox < MAX_INBOX) c->inbox[c->n_inbox++] = msg;
    else json_decref(msg);
}

static void io_close(void *user, dc_conn *conn)
{
    (void)user;
    ((client *)conn->server_handle)->closed = true;
}

/* A meeting with the default configuration, room size limited to max_room_size if not 0. */
static void meeting_start_sized(int max_room_size)
{
    dc_config_defaults(&cfg);
    if (max_room_size) cfg.max_room_size = max_room_size;
    engine = fake_sfu_new();
    dc_meeting_io io = {.send = io_send, .close = io_close};
    meeting = dc_meeting_new(&cfg, engine, &io);
    CHECK(meeting != NULL);
}

static void meeting_start(void) { meeting_start_sized(0); }

static void client_open(client *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->conn.server_handle = c;
    c->next_id = 1;
    dc_meeting_conn_opened(meeting, &c->conn);
}

static void client_drop_inbox(client *c)
{
    for (size_t i = 0; i < c->n_inbox; i++) json_decref(c->inbox[i]);
    c->n_inbox = 0;
}

static void client_free(client *c)
{
    client_drop_inbox(c);
    free(c->offer);
    json_decref(c->offer_msg);
    c->offer = NULL;
    c->offer_msg = NULL;
}

/* Ends the meeting; the fake engine must not have seen a call the real one would mishandle. */
static void meeting_end(client *clients[], size_t n)
{
    CHECK(fake_sfu_problem_count(engine) == 0);
    for (size_t i = 0; i < n; i++) client_free(clients[i]);
    dc_meeting_free(meeting);
    sfu_free(engine);
}

static const char *type_of(const json_t *msg) { return json_string_value(json_object_get(msg, "type")); }

static json_t *take_at(client *c, size_t i)
{
    json_t *msg = c->inbox[i];
    memmove(c->inbox + i, c->inbox + i + 1, (c->n_inbox - i - 1) * sizeof *c->inbox);
    c->n_inbox--;
    return msg;
}

/* The oldest unread message of that type, removed from the inbox; NULL if none. */
static json_t *take(client *c, const char *type)
{
    for (size_t i = 0; i < c->n_inbox; i++)
        if (!strcmp(type_of(c->inbox[i]), type)) return take_at(c, i);
    return NULL;
}

static size_t count_unread(const client *c, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_inbox; i++) n += !strcmp(type_of(c->inbox[i]), type);
    return n;
}

/* Index in the inbox of the first unread message of that type, or MAX_INBOX. */
static size_t position(const client *c, const char *type)
{
    for (size_t i = 0; i < c->n_inbox; i++)
        if (!strcmp(type_of(c->inbox[i]), type)) return i;
    return MAX_INBOX;
}

static void send_json(client *c, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    dc_meeting_handle_text(meeting, &c->conn, text, strlen(text));
    free(text);
}

/* Sends req with a fresh id and returns its reply (ok or error), taken from the inbox. */
static json_t *request(client *c, json_t *req)
{
    int id = c->next_id++;
    json_object_set_new(req, "id", json_integer(id));
    send_json(c, req);
    for (size_t i = 0; i < c->n_inbox; i++)
        if (json_integer_value(json_object_get(c->inbox[i], "id")) == id) return take_at(c, i);
    CHECK(!"a request got no reply");
    return json_object();
}

static bool is_ok(const json_t *reply) { return !strcmp(type_of(reply), "ok"); }

static bool is_error(const json_t *reply, const char *code)
{
    return !strcmp(type_of(reply), "error") && !strcmp(json_string_value(json_object_get(reply, "code")), code);
}

/* Requests that need nothing back but an ok. */
static void request_ok(client *c, json_t *req)
{
    json_t *reply = request(c, req);
    CHECK(is_ok(reply));
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
static char *publish_offer(const char *ufrag, const char *setup, uint32_t audio_ssrc, uint32_t video_ssrc)
{
    GString *s = g_string_new("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                              "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n");
    g_string_append_printf(s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n%sa=mid:0\r\n", media_lines(ufrag, setup));
    g_string_append_printf(s,
                           "a=extmap:4 %s\r\na=sendonly\r\na=msid:s a\r\na=rtpmap:111 opus/48000/2\r\n"
                           "a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:%u cname:c\r\n",
                           DC_EXT_MID, audio_ssrc);
    g_string_append_printf(s, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n%sa=mid:1\r\n", media_lines(ufrag, setup));
    g_string_append_printf(s,
                           "a=extmap:4 %s\r\na=sendonly\r\na=msid:s v\r\na=rtpmap:96 VP8/90000\r\n"
                           "a=rtcp-fb:96 nack pli\r\na=ssrc:%u cname:c\r\n",
                           DC_EXT_MID, video_ssrc);
    return g_string_free(s, FALSE);
}

/* Accepts every m-line of a subscribe offer with all its codecs, recvonly (inactive stays inactive). */
static char *subscribe_answer_sdp(const dc_sdp *offer, const char *ufrag)
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

static dc_sdp *parse_sdp(const char *text)
{
    dc_sdp *sdp = malloc(sizeof *sdp);
    char err[200];
    bool ok = text && dc_sdp_parse(text, strlen(text), sdp, err, sizeof err);
    CHECK(ok);
    if (!ok) memset(sdp, 0, sizeof *sdp);
    return sdp;
}

static const dc_sdp_media *media_by_mid(const dc_sdp *sdp, const char *mid)
{
    for (size_t i = 0; i < sdp->n_media; i++)
        if (!strcmp(sdp->media[i].mid, mid)) return &sdp->media[i];
    return NULL;
}

/* ---- the engine's view, from the fake's call log ------------------------------------------ */

/* The transport the meeting added with this server ufrag since call `from`; 0 if none. */
static uint32_t transport_with_ufrag(size_t from, const char *server_ufrag)
{
    for (size_t i = from; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_TRANSPORT_ADD && !strcmp(call->ice_ufrag, server_ufrag)) return call->id;
    }
    return 0;
}

/* The live stream of that kind published on the client's publish transport; 0 if none. */
static uint32_t stream_of(const client *c, sfu_kind kind)
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
static uint32_t slot_of(const client *c, const char *mid)
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

static json_t *join(client *c, const char *room)
{
    json_t *reply = request(c, json_pack("{s:s, s:s, s:s}", "type", "join", "room", room, "name", c->name));
    if (is_ok(reply)) {
        snprintf(c->pid, sizeof c->pid, "%s", json_string_value(json_object_get(reply, "participant_id")));
        snprintf(c->resume_token, sizeof c->resume_token, "%s",
                 json_string_value(json_object_get(reply, "resume_token")));
    }
    return reply;
}

static void join_ok(client *c, const char *room)
{
    json_t *reply = join(c, room);
    CHECK(is_ok(reply));
    json_decref(reply);
}

/* Publishes audio and video; returns the server's parsed answer (free()). */
static dc_sdp *publish(client *c, const char *ufrag)
{
    size_t from = fake_sfu_call_count(engine);
    char *offer = publish_offer(ufrag, "actpass", 1111, 2222);
    json_t *reply = request(c, json_pack("{s:s, s:s}", "type", "publish", "sdp", offer));
    g_free(offer);
    CHECK(is_ok(reply));
    dc_sdp *answer = parse_sdp(json_string_value(json_object_get(reply, "sdp")));
    json_decref(reply);
    uint32_t added = transport_with_ufrag(from, answer->ice_ufrag);
    if (added) c->pub_transport = added;
    return answer;
}

static void publish_ok(client *c) { free(publish(c, "pubufrag")); }

/* Answers the one subscribe offer waiting in the inbox (accepting everything) and
 * returns the reply; the offer is kept in c->offer. */
static json_t *answer_offer_with(client *c, const char *ufrag)
{
    CHECK(count_unread(c, "subscribe_offer") == 1);
    json_t *offer_msg = take(c, "subscribe_offer");
    if (!offer_msg) return json_object();
    json_decref(c->offer_msg);
    free(c->offer);
    c->offer_msg = offer_msg;
    c->offer = parse_sdp(json_string_value(json_object_get(offer_msg, "sdp")));
    size_t from = fake_sfu_call_count(engine);
    char *answer = subscribe_answer_sdp(c->offer, ufrag);
    json_t *reply = request(c, json_pack("{s:s, s:O, s:s}", "type", "subscribe_answer", "version",
                                         json_object_get(offer_msg, "version"), "sdp", answer));
    g_free(answer);
    uint32_t added = transport_with_ufrag(from, c->offer->ice_ufrag);
    if (added) c->sub_transport = added;
    return reply;
}

static void answer_offer(client *c)
{
    json_t *reply = answer_offer_with(c, "subufrag");
    CHECK(is_ok(reply));
    json_decref(reply);
}

/* The slot entry {"mid","kind","participant_id","active"} of the last answered offer. */
static const json_t *offered_slot(const client *c, const char *mid)
{
    json_t *slots = json_object_get(c->offer_msg, "slots");
    for (size_t i = 0; i < json_array_size(slots); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(slots, i), "mid")), mid))
            return json_array_get(slots, i);
    return NULL;
}

/* The mid of the offered slot showing that participant's track of that kind, or NULL. */
static const char *mid_showing(const client *c, const client *source, const char *kind)
{
    json_t *slots = json_object_get(c->offer_msg, "slots");
    for (size_t i = 0; i < json_array_size(slots); i++) {
        json_t *slot = json_array_get(slots, i);
        const char *pid = json_string_value(json_object_get(slot, "participant_id"));
        if (pid && !strcmp(pid, source->pid) && !strcmp(json_string_value(json_object_get(slot, "kind")), kind))
            return json_string_value(json_object_get(slot, "mid"));
    }
    return NULL;
}

/* True if viewer's engine slot for source's track of that kind forwards source's stream. */
static bool sees(const client *viewer, const client *source, sfu_kind kind)
{
    const char *mid = mid_showing(viewer, source, kind == SFU_KIND_VIDEO ? "video" : "audio");
    uint32_t stream = stream_of(source, kind);
    return mid && stream && fake_sfu_slot_source(engine, slot_of(viewer, mid)) == stream;
}

static bool sees_both(const client *viewer, const client *source)
{
    return sees(viewer, source, SFU_KIND_AUDIO) && sees(viewer, source, SFU_KIND_VIDEO);
}

/* A joins and publishes; everyone already there answers the offer it causes. */
static void enter_and_publish(client *c, const char *room, client *others[], size_t n_others)
{
    join_ok(c, room);
    publish_ok(c);
    if (count_unread(c, "subscribe_offer")) answer_offer(c);
    for (size_t i = 0; i < n_others; i++) {
        CHECK(count_unread(others[i], "subscribe_offer") == 1);
        answer_offer(others[i]);
        client_drop_inbox(others[i]);
    }
    client_drop_inbox(c);
}

/* A and B (and C) in room "r", each publishing audio and video and seeing the others. */
static void room_of_two(client *a, client *b)
{
    client_open(a, "A");
    client_open(b, "B");
    enter_and_publish(a, "r", NULL, 0);
    enter_and_publish(b, "r", (client *[]){a}, 1);
}

static void room_of_three(client *a, client *b, client *c)
{
    room_of_two(a, b);
    client_open(c, "C");
    enter_and_publish(c, "r", (client *[]){a, b}, 2);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_join_and_publish(void)
{
    meeting_start();
    client a;
    client_open(&a, "Nguyễn Văn A");
    json_t *reply = join(&a, "ubnd-tinh");
    CHECK(is_ok(reply));
    CHECK(!strcmp(json_string_value(json_object_get(reply, "room")), "ubnd-tinh"));
    CHECK(a.pid[0] && strlen(a.resume_token) > 0);
    CHECK(json_array_size(json_object_get(reply, "participants")) == 0);
    json_decref(reply);
    CHECK(fake_sfu_call_count(engine) == 0); /* joining alone needs no media yet */

    dc_sdp *answer = publish(&a, "pubufrag");
    CHECK(answer->setup == DC_SETUP_PASSIVE && answer->ice_lite);
    CHECK(strstr(answer->fingerprint, FAKE_SFU_FINGERPRINT) != NULL);
    CHECK(answer->n_media == 2 && answer->media[0].direction == DC_DIR_RECVONLY);
    /* one transport with the answer's credentials, DTLS server, the client's fingerprint */
    CHECK(fake_sfu_count_since(engine, 0, FAKE_TRANSPORT_ADD) == 1);
    const fake_call *t = fake_sfu_find(engine, 0, FAKE_TRANSPORT_ADD, a.pub_transport);
    CHECK(t && !t->dtls_client && !strcmp(t->text, CLIENT_FINGERPRINT));
    /* its two streams, as the offer describes them */
    CHECK(fake_sfu_count_since(engine, 0, FAKE_STREAM_ADD) == 2);
    const fake_call *audio = fake_sfu_find(engine, 0, FAKE_STREAM_ADD, stream_of(&a, SFU_KIND_AUDIO));
    const fake_call *video = fake_sfu_find(engine, 0, FAKE_STREAM_ADD, stream_of(&a, SFU_KIND_VIDEO));
    CHECK(audio && audio->codec == SFU_CODEC_OPUS && audio->pt == 111 && audio->ssrc == 1111 &&
          audio->room_id == t->room_id && !strcmp(audio->text, "0"));
    CHECK(video && video->codec == SFU_CODEC_VP8 && video->pt == 96 && video->ssrc == 2222);
    CHECK(a.n_inbox == 0); /* alone: no offer, no events */
    free(answer);

    /* Renegotiating with the same ufrag and certificate keeps transport and streams. */
    size_t before = fake_sfu_call_count(engine);
    publish_ok(&a);
    CHECK(fake_sfu_call_count(engine) == before);
    meeting_end((client *[]){&a}, 1);
}

static void test_subscribe_to_publishers(void)
{
    meeting_start();
    client a, b;
    client_open(&a, "A");
    client_open(&b, "B");
    join_ok(&a, "r");
    publish_ok(&a);

    json_t *reply = join(&b, "r");
    CHECK(is_ok(reply));
    json_t *others = json_object_get(reply, "participants");
    CHECK(json_array_size(others) == 1);
    json_t *pa = json_array_get(others, 0);
    CHECK(!strcmp(json_string_value(json_object_get(pa, "id")), a.pid));
    CHECK(json_array_size(json_object_get(pa, "tracks")) == 2);
    json_decref(reply);
    /* an offer for A's tracks follows the ok at once; A hears of B */
    CHECK(b.n_inbox == 1 && count_unread(&b, "subscribe_offer") == 1);
    json_t *joined = take(&a, "participant_joined");
    CHECK(joined && !strcmp(json_string_value(json_object_get(json_object_get(joined, "participant"), "id")), b.pid));
    json_decref(joined);

    size_t before = fake_sfu_call_count(engine);
    answer_offer(&b);
    CHECK(b.offer->setup == DC_SETUP_ACTPASS && b.offer->n_media == 2);
    CHECK(json_integer_value(json_object_get(b.offer_msg, "version")) == 1);
    const json_t *slot = offered_slot(&b, mid_showing(&b, &a, "video"));
    CHECK(slot && json_is_true(json_object_get(slot, "active")));
    /* the answer puts the subscribe transport and two slots into the engine, pointed at A */
    const fake_call *t = fake_sfu_find(engine, before, FAKE_TRANSPORT_ADD, b.sub_transport);
    CHECK(t && !t->dtls_client); /* the answer said a=setup:active */
    CHECK(fake_sfu_count_since(engine, before, FAKE_SLOT_ADD) == 2);
    CHECK(sees_both(&b, &a));
    const fake_call *point = fake_sfu_find(engine, before, FAKE_SLOT_POINT, slot_of(&b, mid_showing(&b, &a, "video")));
    CHECK(point && point->pt == DC_PT_VP8);
    point = fake_sfu_find(engine, before, FAKE_SLOT_POINT, slot_of(&b, mid_showing(&b, &a, "audio")));
    CHECK(point && point->pt == DC_PT_OPUS);

    /* B publishes: A gets an offer for B; B's slots showing A are untouched */
    before = fake_sfu_call_count(engine);
    publish_ok(&b);
    CHECK(fake_sfu_count_since(engine, before, FAKE_SLOT_POINT) == 0);
    json_t *updated = take(&a, "participant_updated");
    CHECK(updated != NULL);
    json_decref(updated);
    answer_offer(&a);
    CHECK(sees_both(&a, &b) && sees_both(&b, &a));
    meeting_end((client *[]){&a, &b}, 2);
}

/* While B's offer is unanswered, C arrives: B gets no second offer until it answers the
 * first, then one offer with C; C's slots stay unpointed until that one is answered. */
static void test_one_offer_in_flight(void)
{
    meeting_start();
    client a, b, c;
    client_open(&a, "A");
    client_open(&b, "B");
    client_open(&c, "C");
    enter_and_publish(&a, "r", NULL, 0);
    join_ok(&b, "r");
    CHECK(count_unread(&b, "subscribe_offer") == 1);
    join_ok(&c, "r");
    publish_ok(&c);
    CHECK(count_unread(&b, "subscribe_offer") == 1); /* still the first */
    answer_offer(&b);
    CHECK(sees_both(&b, &a) && mid_showing(&b, &c, "video") == NULL);
    /* the answer's ok, then at once the offer carrying C */
    CHECK(count_unread(&b, "subscribe_offer") == 1);
    size_t before = fake_sfu_call_count(engine);
    answer_offer(&b);
    CHECK(json_integer_value(json_object_get(b.offer_msg, "version")) == 2);
    CHECK(fake_sfu_count_since(engine, before, FAKE_SLOT_POINT) == 2);
    CHECK(sees_both(&b, &a) && sees_both(&b, &c));
    CHECK(count_unread(&b, "subscribe_offer") == 0);
    meeting_end((client *[]){&a, &b, &c}, 3);
}

/* A, B, C in a room, everyone sees everyone; C leaves. */
static void test_leave(void)
{
    meeting_start();
    client a, b, c;
    room_of_three(&a, &b, &c);
    CHECK(sees_both(&a, &b) && sees_both(&a, &c) && sees_both(&c, &a));
    uint32_t c_video_slot_at_a = slot_of(&a, mid_showing(&a, &c, "video"));
    uint32_t c_streams[2] = {stream_of(&c, SFU_KIND_AUDIO), stream_of(&c, SFU_KIND_VIDEO)};
    uint32_t c_transports[2] = {c.pub_transport, c.sub_transport};

    size_t before = fake_sfu_call_count(engine);
    request_ok(&c, json_pack("{s:s}", "type", "leave"));
    CHECK(c.closed);

    /* Today's order (PROTOCOL.md does not say): the offer that deactivates C's slots
     * comes first, participant_left after it. */
    client *viewers[] = {&a, &b};
    for (size_t i = 0; i < 2; i++) {
        client *viewer = viewers[i];
        CHECK(viewer->n_inbox == 2);
        CHECK(position(viewer, "subscribe_offer") == 0 && position(viewer, "participant_left") == 1);
        json_t *left = take(viewer, "participant_left");
        CHECK(left && !strcmp(json_string_value(json_object_get(left, "participant_id")), c.pid) &&
              !strcmp(json_string_value(json_object_get(left, "reason")), "left"));
        json_decref(left);
    }
    /* The engine: A's slot showing C paused before C's streams went, then everything of C removed. */
    const fake_call *pause = fake_sfu_find(engine, before, FAKE_SLOT_POINT, c_video_slot_at_a);
    const fake_call *stream_gone = fake_sfu_find(engine, before, FAKE_STREAM_REMOVE, c_streams[1]);
    CHECK(pause && pause->stream_id == 0 && stream_gone && pause < stream_gone);
    for (int i = 0; i < 2; i++) CHECK(!fake_sfu_stream_alive(engine, c_streams[i]));
    for (int i = 0; i < 2; i++) CHECK(!fake_sfu_transport_alive(engine, c_transports[i]));
    /* A and B each: 2 transports, 2 streams, 4 slots (2 of them now paused, kept for reuse) */
    CHECK(fake_sfu_alive_count(engine) == 2 * (2 + 2 + 4));

    /* The new offer shows C's former slots inactive, with no participant. */
    const char *c_video_mid = mid_showing(&a, &c, "video");
    char mid[8];
    snprintf(mid, sizeof mid, "%s", c_video_mid);
    answer_offer(&a);
    const json_t *freed = offered_slot(&a, mid);
    CHECK(freed && json_is_null(json_object_get(freed, "participant_id")) &&
          json_is_false(json_object_get(freed, "active")));
    CHECK(media_by_mid(a.offer, mid) && media_by_mid(a.offer, mid)->direction == DC_DIR_INACTIVE);
    CHECK(fake_sfu_slot_source(engine, slot_of(&a, mid)) == 0);
    CHECK(sees_both(&a, &b));

    /* B and A leave too: nothing is left in the engine. */
    answer_offer(&b);
    request_ok(&b, json_pack("{s:s}", "type", "leave"));
    request_ok(&a, json_pack("{s:s}", "type", "leave"));
    CHECK(fake_sfu_alive_count(engine) == 0);
    meeting_end((client *[]){&a, &b, &c}, 3);
}

/* C leaves, D joins: D's tracks take C's old slots at A. A's page must be able to tell
 * the newcomer from the one who left on that m-line. */
static void test_slot_reuse_by_newcomer(void)
{
    meeting_start();
    client a, b, c, d;
    room_of_three(&a, &b, &c);
    client_open(&d, "D");
    char mid[8];
    snprintf(mid, sizeof mid, "%s", mid_showing(&a, &c, "video"));
    uint32_t c_ssrc = media_by_mid(a.offer, mid)->ssrcs[0].ssrc;
    char c_msid[128];
    snprintf(c_msid, sizeof c_msid, "%s", media_by_mid(a.offer, mid)->msid);
    size_t slots_before = json_array_size(json_object_get(a.offer_msg, "slots"));

    request_ok(&c, json_pack("{s:s}", "type", "leave"));
    answer_offer(&a);
    answer_offer(&b);
    client_drop_inbox(&a);
    client_drop_inbox(&b);

    size_t before = fake_sfu_call_count(engine);
    enter_and_publish(&d, "r", (client *[]){&a, &b}, 2);
    /* D reuses C's slots: no new m-line */
    CHECK(json_array_size(json_object_get(a.offer_msg, "slots")) == slots_before);
    CHECK(mid_showing(&a, &d, "video") && !strcmp(mid_showing(&a, &d, "video"), mid));
    const json_t *slot = offered_slot(&a, mid);
    CHECK(json_is_true(json_object_get(slot, "active")));
    /* what tells A's page that this is D, not C: the slot list and the m-line's msid */
    const dc_sdp_media *md = media_by_mid(a.offer, mid);
    CHECK(md && md->direction == DC_DIR_SENDONLY);
    CHECK(md && strcmp(md->msid, c_msid) != 0 && !strncmp(md->msid, d.pid, strlen(d.pid)));
    /* Today the m-line also keeps its SSRC (sfu.h: fixed for the slot's life): mid and
     * SSRC say nothing about who is behind them, only msid and slots do. */
    if (md && md->n_ssrcs && md->ssrcs[0].ssrc == c_ssrc) printf("slot reuse: mid %s keeps SSRC %u\n", mid, c_ssrc);
    /* the engine re-points the same slot, no new slot for A */
    CHECK(fake_sfu_find(engine, before, FAKE_SLOT_ADD, slot_of(&a, mid)) == NULL);
    CHECK(sees_both(&a, &d) && sees_both(&b, &d) && sees_both(&d, &a) && sees_both(&d, &b));
    meeting_end((client *[]){&a, &b, &c, &d}, 4);
}

/* A's WebSocket drops; within the grace period it resumes on a new one. */
static void test_resume_within_grace(void)
{
    meeting_start();
    client a, b, c, a2;
    room_of_three(&a, &b, &c);
    int64_t old_version = json_integer_value(json_object_get(a.offer_msg, "version"));

    size_t before = fake_sfu_call_count(engine);
    dc_meeting_conn_closed(meeting, &a.conn);
    advance_seconds(cfg.resume_grace_seconds - 1);
    dc_meeting_sweep(meeting);
    CHECK(b.n_inbox == 0 && c.n_inbox == 0);      /* nobody hears of it */
    CHECK(fake_sfu_call_count(engine) == before); /* media keeps flowing */
    /* meanwhile C leaves; A cannot hear it now */
    request_ok(&c, json_pack("{s:s}", "type", "leave"));
    answer_offer(&b);

    client_open(&a2, "A");
    json_t *reply = request(&a2, json_pack("{s:s, s:s}", "type", "resume", "resume_token", a.resume_token));
    CHECK(is_ok(reply));
    /* a full state sync: same identity, the room as it is now */
    CHECK(!strcmp(json_string_value(json_object_get(reply, "participant_id")), a.pid));
    CHECK(!strcmp(json_string_value(json_object_get(reply, "resume_token")), a.resume_token));
    json_t *others = json_object_get(reply, "participants");
    CHECK(json_array_size(others) == 1 &&
          !strcmp(json_string_value(json_object_get(json_array_get(others, 0), "id")), b.pid));
    json_decref(reply);
    CHECK(count_unread(&a2, "participant_left") == 0);
    /* a fresh offer, newer than any before; C's slots in it are inactive */
    CHECK(a2.n_inbox == 1 && count_unread(&a2, "subscribe_offer") == 1);
    json_t *fresh = a2.inbox[0];
    CHECK(json_integer_value(json_object_get(fresh, "version")) > old_version);
    /* an answer to the old offer is stale */
    reply = request(&a2, json_pack("{s:s, s:I, s:s}", "type", "subscribe_answer", "version", (json_int_t)old_version,
                                   "sdp", "v=0\r\n"));
    CHECK(is_error(reply, "stale_version"));
    json_decref(reply);
    /* the same peer connection answers: no new transport, the slots keep flowing */
    a2.pub_transport = a.pub_transport;
    a2.sub_transport = a.sub_transport;
    before = fake_sfu_call_count(engine);
    answer_offer(&a2);
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_ADD) == 0);
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_REMOVE) == 0);
    CHECK(sees_both(&a2, &b) && mid_showing(&a2, &c, "video") == NULL);
    /* the resumed participant is reachable again */
    request_ok(&b, json_pack("{s:s, s:s, s:b}", "type", "mute", "kind", "audio", "muted", 1));
    CHECK(count_unread(&a2, "participant_updated") == 1);
    meeting_end((client *[]){&a, &b, &c, &a2}, 4);
}

static void test_grace_expiry(void)
{
    meeting_start();
    client a, b, late;
    room_of_two(&a, &b);
    dc_meeting_conn_closed(meeting, &a.conn);
    advance_seconds(cfg.resume_grace_seconds);
    dc_meeting_sweep(meeting);
    json_t *left = take(&b, "participant_left");
    CHECK(left && !strcmp(json_string_value(json_object_get(left, "reason")), "timeout"));
    json_decref(left);
    CHECK(!fake_sfu_transport_alive(engine, a.pub_transport) && !fake_sfu_transport_alive(engine, a.sub_transport));
    client_open(&late, "A");
    json_t *reply = request(&late, json_pack("{s:s, s:s}", "type", "resume", "resume_token", a.resume_token));
    CHECK(is_error(reply, "resume_failed"));
    json_decref(reply);
    meeting_end((client *[]){&a, &b, &late}, 3);
}

/* Each bad request gets its error, with its id, and changes nothing in the engine. */
static void test_errors(void)
{
    meeting_start_sized(2);
    client a, b, c;
    client_open(&a, "A");
    client_open(&b, "B");
    client_open(&c, "C");
    struct {
        client *who;
        const char *text;
        const char *code;
    } cases[] = {
        {&a, "{\"type\":\"publish\",\"id\":1,\"sdp\":\"v=0\"}", "not_joined"},
        {&a, "{\"type\":\"subscribe_answer\",\"id\":1,\"version\":1,\"sdp\":\"v=0\"}", "not_joined"},
        {&a, "{\"type\":\"leave\",\"id\":1}", "not_joined"},
        {&a, "{\"type\":", "bad_json"},
        {&a, "{\"type\":\"dance\",\"id\":1}", "unknown_type"},
        {&a, "{\"type\":\"join\",\"id\":1,\"room\":\"a b\",\"name\":\"A\"}", "bad_request"},
        {&a, "{\"type\":\"resume\",\"id\":1,\"resume_token\":\"nope\"}", "resume_failed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dc_meeting_handle_text(meeting, &cases[i].who->conn, cases[i].text, strlen(cases[i].text));
        json_t *reply = take(cases[i].who, "error");
        CHECK(reply && is_error(reply, cases[i].code));
        if (reply && strstr(cases[i].text, "\"id\":1")) CHECK(json_integer_value(json_object_get(reply, "id")) == 1);
        json_decref(reply);
    }
    json_t *reply = request(&a, json_pack("{s:s}", "type", "ping"));
    CHECK(is_ok(reply)); /* allowed before join */
    json_decref(reply);

    join_ok(&a, "r");
    reply = join(&a, "r");
    CHECK(is_error(reply, "already_joined"));
    json_decref(reply);
    join_ok(&b, "r");
    reply = join(&c, "r");
    CHECK(is_error(reply, "room_full"));
    json_decref(reply);
    client_drop_inbox(&a);

    char *active = publish_offer("u", "active", 1, 2);
    const char *bad_sdps[] = {"v=0\r\nnot sdp", active};
    for (size_t i = 0; i < 2; i++) {
        reply = request(&a, json_pack("{s:s, s:s}", "type", "publish", "sdp", bad_sdps[i]));
        CHECK(is_error(reply, "bad_sdp"));
        json_decref(reply);
    }
    g_free(active);
    reply = request(&a, json_pack("{s:s, s:i, s:s}", "type", "subscribe_answer", "version", 1, "sdp", "v=0\r\n"));
    CHECK(is_error(reply, "bad_request")); /* never offered */
    json_decref(reply);
    CHECK(fake_sfu_call_count(engine) == 0);

    /* A second answer to the same offer is stale. */
    publish_ok(&a);
    answer_offer(&b);
    char *again = subscribe_answer_sdp(b.offer, "subufrag");
    reply = request(&b, json_pack("{s:s, s:O, s:s}", "type", "subscribe_answer", "version",
                                  json_object_get(b.offer_msg, "version"), "sdp", again));
    g_free(again);
    CHECK(is_error(reply, "stale_version"));
    json_decref(reply);

    /* Requests without an id get no ok, but their errors. */
    const char *no_id = "{\"type\":\"ping\"}";
    dc_meeting_handle_text(meeting, &b.conn, no_id, strlen(no_id));
    CHECK(count_unread(&b, "ok") == 0);
    meeting_end((client *[]){&a, &b, &c}, 3);
}

/* The burst is spent, then one message per 1/rate seconds of the fake clock. */
static void test_rate_limit(void)
{
    meeting_start();
    client a;
    client_open(&a, "A");
    size_t rate_limited = 0;
    for (int i = 0; i < cfg.rate_limit_burst + 5; i++) {
        json_t *reply = request(&a, json_pack("{s:s}", "type", "ping"));
        rate_limited += is_error(reply, "rate_limited");
        json_decref(reply);
    }
    CHECK(rate_limited == 5);
    advance_seconds(1);
    json_t *reply = request(&a, json_pack("{s:s}", "type", "ping"));
    CHECK(is_ok(reply));
    json_decref(reply);
    meeting_end((client *[]){&a}, 1);
}

static const char *media_state_of(client *c, const char *pc)
{
    static char state[16];
    json_t *ev = take(c, "media_state");
    if (!ev || strcmp(json_string_value(json_object_get(ev, "pc")), pc)) {
        json_decref(ev);
        return "";
    }
    snprintf(state, sizeof state, "%s", json_string_value(json_object_get(ev, "state")));
    json_decref(ev);
    return state;
}

static void test_engine_events(void)
{
    meeting_start();
    client a, b;
    room_of_two(&a, &b);

    fake_sfu_push_event(engine, SFU_EV_TRANSPORT_CONNECTED, a.pub_transport);
    fake_sfu_push_event(engine, SFU_EV_TRANSPORT_FAILED, b.sub_transport);
    fake_sfu_push_event(engine, SFU_EV_TRANSPORT_TIMEOUT, a.sub_transport);
    fake_sfu_push_event(engine, SFU_EV_STREAM_ACTIVE, stream_of(&a, SFU_KIND_VIDEO));
    fake_sfu_push_event(engine, SFU_EV_TRANSPORT_FAILED, 999999); /* unknown: ignored */
    dc_meeting_poll_engine(meeting);
    CHECK(!strcmp(media_state_of(&a, "publish"), "connected"));
    CHECK(!strcmp(media_state_of(&b, "subscribe"), "failed"));
    CHECK(!strcmp(media_state_of(&a, "subscribe"), "timeout"));
    CHECK(a.n_inbox == 0 && b.n_inbox == 0);

    /* More events than one poll batch are all delivered. */
    for (int i = 0; i < 40; i++) fake_sfu_push_event(engine, SFU_EV_TRANSPORT_CONNECTED, b.pub_transport);
    dc_meeting_poll_engine(meeting);
    CHECK(count_unread(&b, "media_state") == 40);
    client_drop_inbox(&b);

    /* WebSocket gone and publish consent lost: A is removed at once, not after the grace. */
    dc_meeting_conn_closed(meeting, &a.conn);
    fake_sfu_push_event(engine, SFU_EV_TRANSPORT_TIMEOUT, a.pub_transport);
    dc_meeting_poll_engine(meeting);
    json_t *left = take(&b, "participant_left");
    CHECK(left && !strcmp(json_string_value(json_object_get(left, "reason")), "timeout"));
    json_decref(left);
    CHECK(!fake_sfu_transport_alive(engine, a.pub_transport));
    meeting_end((client *[]){&a, &b}, 2);
}

/* An answer from a new peer connection (other ufrag) replaces the subscribe transport. */
static void test_subscribe_ice_restart(void)
{
    meeting_start();
    client a, b;
    room_of_two(&a, &b);
    uint32_t old_transport = b.sub_transport;
    /* B reloads its subscribe side: a resume brings a fresh offer, answered from a new ufrag */
    dc_meeting_conn_closed(meeting, &b.conn);
    client b2;
    client_open(&b2, "B");
    json_t *reply = request(&b2, json_pack("{s:s, s:s}", "type", "resume", "resume_token", b.resume_token));
    CHECK(is_ok(reply));
    json_decref(reply);
    b2.pub_transport = b.pub_transport;
    size_t before = fake_sfu_call_count(engine);
    reply = answer_offer_with(&b2, "newufrag");
    CHECK(is_ok(reply));
    json_decref(reply);
    CHECK(!fake_sfu_transport_alive(engine, old_transport));
    CHECK(b2.sub_transport && b2.sub_transport != old_transport && fake_sfu_transport_alive(engine, b2.sub_transport));
    const fake_call *removed = fake_sfu_find(engine, before, FAKE_TRANSPORT_REMOVE, old_transport);
    const fake_call *added = fake_sfu_find(engine, before, FAKE_TRANSPORT_ADD, b2.sub_transport);
    CHECK(removed && added && removed < added);
    CHECK(sees_both(&b2, &a));
    meeting_end((client *[]){&a, &b, &b2}, 3);
}

int main(void)
{
    test_join_and_publish();
    test_subscribe_to_publishers();
    test_one_offer_in_flight();
    test_leave();
    test_slot_reuse_by_newcomer();
    test_resume_within_grace();
    test_grace_expiry();
    test_errors();
    test_rate_limit();
    test_engine_events();
    test_subscribe_ice_restart();
    return CHECK_RESULT();
}
