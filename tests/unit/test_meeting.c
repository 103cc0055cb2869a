/* The meeting logic (signaling/meeting.c) as a room of clients sees it, through the
 * harness of meeting_harness.h: no sockets, no sleeps, the fake engine of fake_sfu.c and
 * a fake clock. Each test checks what the clients receive and what the engine is told. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "meeting_harness.h"

static void count_failure(const char *file, int line, const char *expr)
{
    check_count++;
    check_failures++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
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
    /* the subscribe transport went into the engine with the offer, its peer with the answer,
     * and two slots pointed at A */
    const fake_call *added = fake_sfu_find(engine, 0, FAKE_TRANSPORT_ADD, b.sub_transport);
    const fake_call *t = fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_PEER, b.sub_transport);
    CHECK(added && !added->text[0] && fake_sfu_call_count(engine) && added < fake_sfu_call(engine, before));
    CHECK(t && !t->dtls_client && t->text[0]); /* the answer said a=setup:active */
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
    /* The reused m-line gets a new SSRC (Chromium shows nothing when the SSRC a receiver
     * had before going inactive comes back), and the engine slot is re-added with it. */
    CHECK(md && md->n_ssrcs && md->ssrcs[0].ssrc != c_ssrc);
    const fake_call *re_add = fake_sfu_find(engine, before, FAKE_SLOT_ADD, slot_of(&a, mid));
    CHECK(re_add && md && md->n_ssrcs && re_add->ssrc == md->ssrcs[0].ssrc);
    CHECK(fake_sfu_find(engine, before, FAKE_SLOT_REMOVE, slot_of(&a, mid)) != NULL);
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
        {&a, "{\"type\":\"join\",\"id\":1,\"room\":\"a\\u0001b\",\"name\":\"A\"}", "bad_request"},
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

    /* The engine could not apply a command for B's publish transport: B is told the media
     * failed and why, instead of waiting for a connection that will never come. */
    fake_sfu_push_event(engine, SFU_EV_COMMAND_FAILED, b.pub_transport);
    dc_meeting_poll_engine(meeting);
    CHECK(!strcmp(media_state_of(&b, "publish"), "failed"));
    json_t *err = take(&b, "error");
    CHECK(err && !strcmp(json_string_value(json_object_get(err, "code")), "internal"));
    json_decref(err);
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

/* An answer from a new peer connection (other ufrag) gives the subscribe transport a new
 * peer: slots out, the new peer in, slots back; the transport (and the address the new
 * connection's early checks bound) stays. */
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
    CHECK(b2.sub_transport == old_transport && fake_sfu_transport_alive(engine, old_transport));
    CHECK(!fake_sfu_find(engine, before, FAKE_TRANSPORT_REMOVE, 0) &&
          !fake_sfu_find(engine, before, FAKE_TRANSPORT_ADD, 0));
    const fake_call *slot_out = fake_sfu_find(engine, before, FAKE_SLOT_REMOVE, 0);
    const fake_call *peer = fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_PEER, old_transport);
    const fake_call *slot_in = fake_sfu_find(engine, before, FAKE_SLOT_ADD, 0);
    CHECK(slot_out && peer && slot_in && slot_out < peer && peer < slot_in);
    CHECK(sees_both(&b2, &a));
    meeting_end((client *[]){&a, &b, &b2}, 3);
}

int main(void)
{
    mh_on_failure = count_failure;
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
