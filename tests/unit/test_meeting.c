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

static const char *str(const json_t *obj, const char *key) { return json_string_value(json_object_get(obj, key)); }

static void test_join_and_publish(void)
{
    meeting_start();
    client a;
    client_open(&a, "Nguyễn Văn A");
    json_t *reply = join(&a, "ubnd-tinh");
    CHECK(is_ok(reply));
    CHECK(!strcmp(str(reply, "room"), "ubnd-tinh") && !strcmp(str(reply, "name"), "Nguyễn Văn A"));
    CHECK(!strcmp(str(reply, "role"), "official"));
    CHECK(json_array_size(json_object_get(reply, "grants")) == 4); /* publish, subscribe, speak, share_screen */
    CHECK(json_is_object(json_object_get(reply, "room_state")));
    CHECK(a.pid[0] && strlen(a.resume_token) > 0);
    CHECK(json_array_size(json_object_get(reply, "participants")) == 0);
    json_decref(reply);
    /* the offer of its fixed slots comes at once, and its subscribe transport with it */
    CHECK(count_unread(&a, "subscribe_offer") == 1);
    CHECK(fake_sfu_count_since(engine, 0, FAKE_TRANSPORT_ADD) == 1 && fake_sfu_call_count(engine) == 1);
    answer_offer(&a);

    size_t before = fake_sfu_call_count(engine);
    dc_sdp *answer = publish(&a, "pubufrag");
    CHECK(answer->setup == DC_SETUP_PASSIVE && answer->ice_lite);
    CHECK(strstr(answer->fingerprint, FAKE_SFU_FINGERPRINT) != NULL);
    CHECK(answer->n_media == 2 && answer->media[0].direction == DC_DIR_RECVONLY);
    /* the audio level extension is accepted: speaking activity comes from it */
    CHECK(dc_sdp_extmap_id(&answer->media[0], DC_EXT_AUDIO_LEVEL) == 1);
    const fake_call *t = fake_sfu_find(engine, before, FAKE_TRANSPORT_ADD, a.pub_transport);
    CHECK(t && !t->dtls_client && !strcmp(t->text, CLIENT_FINGERPRINT));
    CHECK(fake_sfu_count_since(engine, before, FAKE_STREAM_ADD) == 2);
    const fake_call *audio = fake_sfu_find(engine, before, FAKE_STREAM_ADD, stream_of(&a, SFU_KIND_AUDIO));
    const fake_call *video = fake_sfu_find(engine, before, FAKE_STREAM_ADD, stream_of(&a, SFU_KIND_VIDEO));
    CHECK(audio && audio->codec == SFU_CODEC_OPUS && audio->pt == 111 && audio->ssrc == 1111 &&
          audio->room_id == t->room_id && !strcmp(audio->text, "0") && audio->audio_level_ext_id == 1);
    CHECK(video && video->codec == SFU_CODEC_VP8 && video->pt == 96 && video->ssrc == 2222);
    /* an official speaks freely: both gates open from the start */
    CHECK(audio && audio->forward && video && video->forward);
    free(answer);

    /* Renegotiating with the same ufrag and certificate keeps transport and streams. */
    client_drop_inbox(&a);
    before = fake_sfu_call_count(engine);
    publish_ok(&a);
    CHECK(fake_sfu_call_count(engine) == before);
    meeting_end((client *[]){&a}, 1);
}

/* A camera published in three simulcast layers becomes one stream with them; a
 * subscriber's set_quality reaches the engine for the named slots (and only for known
 * mids and quality names), and is applied again when the slot re-enters the engine. */
static void test_simulcast_quality(void)
{
    meeting_start();
    client a, b;
    client_open(&a, "Xã A");
    join_ok(&a, "tinh");
    answer_offer(&a);
    client_open(&b, "Xã B");
    join_ok(&b, "tinh");
    answer_offer(&b);

    char *plain = publish_offer("pubufrag", "actpass", 1111, 2222);
    GString *g = g_string_new(plain);
    g_string_replace(g, "a=ssrc:2222 cname:c\r\n",
                     "a=extmap:5 " DC_EXT_RID "\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\n"
                     "a=simulcast:send q;h;f\r\n",
                     0);
    size_t before = fake_sfu_call_count(engine);
    json_t *reply = request(&a, json_pack("{s:s, s:s}", "type", "publish", "sdp", g->str));
    CHECK(is_ok(reply));
    const char *answer = json_string_value(json_object_get(reply, "sdp"));
    CHECK(answer && strstr(answer, "a=simulcast:recv q;h;f\r\n"));
    json_decref(reply);
    g_string_free(g, TRUE);
    g_free(plain);
    const fake_call *video = NULL;
    for (size_t i = before; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_STREAM_ADD && call->kind == SFU_KIND_VIDEO) video = call;
    }
    CHECK(video && video->n_layers == 3 && video->ssrc == 0);
    /* the engine pauses the middle layer: the publisher is told which rids to keep */
    if (video) {
        client_drop_inbox(&a);
        fake_sfu_push_layers(engine, video->id, 3, 0x5);
        fake_sfu_push_layers(engine, 999999, 3, 0x1); /* unknown stream: nobody told */
        dc_meeting_poll_engine(meeting);
        json_t *layers = take(&a, "layers");
        CHECK(layers && !strcmp(json_string_value(json_object_get(layers, "mid")), "1"));
        json_t *active = json_object_get(layers, "active");
        CHECK(json_array_size(active) == 2 && !strcmp(json_string_value(json_array_get(active, 0)), "q") &&
              !strcmp(json_string_value(json_array_get(active, 1)), "f"));
        json_decref(layers);
        CHECK(count_unread(&b, "layers") == 0);
    }

    const char *mid = mid_showing(&b, &a, "video");
    CHECK(mid != NULL);
    if (mid) {
        before = fake_sfu_call_count(engine);
        request_ok(&b, json_pack("{s:s, s:{s:s}}", "type", "set_quality", "qualities", mid, "low"));
        const fake_call *q = fake_sfu_find(engine, before, FAKE_SLOT_SET_QUALITY, slot_of(&b, mid));
        CHECK(q && q->quality == SFU_QUALITY_LOW && q->max_tid == 0xff);
        before = fake_sfu_call_count(engine);
        request_ok(&b, json_pack("{s:s, s:{s:s}}", "type", "set_quality", "qualities", mid, "low")); /* no change */
        CHECK(fake_sfu_count_since(engine, before, FAKE_SLOT_SET_QUALITY) == 0);
        before = fake_sfu_call_count(engine);
        request_ok(&b, json_pack("{s:s, s:{s:s}, s:i}", "type", "set_quality", "qualities", mid, "low",
                                 "max_temporal_layer", 0));
        q = fake_sfu_find(engine, before, FAKE_SLOT_SET_QUALITY, slot_of(&b, mid));
        CHECK(q && q->quality == SFU_QUALITY_LOW && q->max_tid == 0);
    }
    json_t *bad = request(&b, json_pack("{s:s, s:{s:s}}", "type", "set_quality", "qualities", "99", "high"));
    CHECK(is_error(bad, "bad_request"));
    json_decref(bad);
    bad = request(&b, json_pack("{s:s, s:{s:s}}", "type", "set_quality", "qualities", "1", "ultra"));
    CHECK(is_error(bad, "bad_request"));
    json_decref(bad);
    meeting_end((client *[]){&a, &b}, 2);
}

static const json_t *offer_slot_at(const client *c, size_t i)
{
    return json_array_get(json_object_get(c->offer_msg, "slots"), i);
}

/* Chair A, official B, delegate C: the fixed layout, who fills which slot, and the
 * delegate's microphone closed at the engine. */
static void test_fixed_slots(void)
{
    meeting_start();
    client a, b, c;
    client_open_as(&a, "Chủ tọa", "chair");
    client_open_as(&b, "Sở Nội vụ", "official");
    client_open_as(&c, "UBND xã Tân Lập", "delegate");
    enter_and_publish(&a, "r", NULL, 0);
    join_ok(&b, "r");
    size_t before = fake_sfu_call_count(engine);
    answer_offer(&b);
    /* 5 program + 3 audio + 9 gallery m-lines, all sendonly, each with its own SSRC; video
     * ones with their RTX SSRC too (FID group) */
    CHECK(b.offer->n_media == 17);
    static const char *const uses[] = {"chair_audio", "chair_video", "floor_audio", "floor_video", "screen",
                                       "audio",       "audio",       "audio",       "gallery"};
    for (size_t i = 0; i < 17; i++) {
        const json_t *slot = offer_slot_at(&b, i);
        CHECK(!strcmp(str(slot, "use"), uses[i < 8 ? i : 8]));
        const dc_sdp_media *md = &b.offer->media[i];
        bool video = md->kind == DC_MEDIA_VIDEO;
        CHECK(md->direction == DC_DIR_SENDONLY && md->n_ssrcs == (video ? 2u : 1u));
        CHECK(!video ||
              (md->fid_primary == md->ssrcs[0].ssrc && md->fid_rtx == md->ssrcs[1].ssrc &&
               dc_sdp_rtx_pt(md, DC_PT_VP8) == DC_PT_VP8_RTX && dc_sdp_rtx_pt(md, DC_PT_H264) == DC_PT_H264_RTX));
    }
    /* every answered slot is in the engine; the chair's two point at A */
    CHECK(fake_sfu_count_since(engine, before, FAKE_SLOT_ADD) == 17);
    CHECK(!strcmp(slot_shows(&b, "0"), a.pid) && !strcmp(slot_shows(&b, "1"), a.pid));
    CHECK(sees_both(&b, &a));
    CHECK(fake_sfu_slot_source(engine, slot_of(&b, "1")) == stream_of(&a, SFU_KIND_VIDEO));
    CHECK(slots_showing(&b, "video") == 1 && slots_showing(&b, "audio") == 1); /* the chair is not repeated */
    publish_ok(&b);
    client_drop_inbox(&a);

    /* The delegate publishes: its video reaches the galleries by slot_update, no offer;
     * its audio is added to the engine with the gate closed and fills no audio slot. */
    join_ok(&c, "r");
    answer_offer(&c);
    before = fake_sfu_call_count(engine);
    publish_ok(&c);
    CHECK(count_unread(&a, "subscribe_offer") == 0 && count_unread(&b, "subscribe_offer") == 0);
    json_t *update = take(&b, "slot_update");
    CHECK(update && json_array_size(json_object_get(update, "slots")) == 1);
    json_decref(update);
    CHECK(sees(&b, &c, SFU_KIND_VIDEO) && sees(&a, &c, SFU_KIND_VIDEO));
    CHECK(!mid_showing(&a, &c, "audio") && !mid_showing(&b, &c, "audio"));
    const fake_call *c_audio = fake_sfu_find(engine, before, FAKE_STREAM_ADD, stream_of(&c, SFU_KIND_AUDIO));
    CHECK(c_audio && !c_audio->forward && !fake_sfu_stream_forwarding(engine, stream_of(&c, SFU_KIND_AUDIO)));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&c, SFU_KIND_VIDEO)));
    /* the official's voice is among the chair's audio slots, the chair's in B's and C's chair slot */
    CHECK(sees(&a, &b, SFU_KIND_AUDIO) && sees(&c, &b, SFU_KIND_AUDIO) && sees(&c, &a, SFU_KIND_AUDIO));
    CHECK(!mid_showing(&b, &b, "video") && !mid_showing(&a, &a, "video")); /* nobody sees themselves */
    meeting_end((client *[]){&a, &b, &c}, 3);
}

/* Many sites, nine gallery slots: the gallery holds nine, the subscriber's SDP does not
 * grow with the room, and a new speaker enters the gallery within a second. */
static void test_gallery_follows_speakers(void)
{
    meeting_start();
    enum { SITES = 14 };
    client chair, viewer, sites[SITES];
    static char names[SITES][16];
    client_open_as(&chair, "Chair", "chair");
    enter_and_publish(&chair, "r", NULL, 0);
    for (int i = 0; i < SITES; i++) {
        snprintf(names[i], sizeof names[i], "Sở %02d", i + 1);
        client_open_as(&sites[i], names[i], "official");
        enter_and_publish(&sites[i], "r", NULL, 0);
    }
    client_open_as(&viewer, "Viewer", "observer");
    join_ok(&viewer, "r");
    answer_offer(&viewer);
    CHECK(viewer.offer->n_media == 17);
    CHECK(slots_showing(&viewer, "video") == 1 + 9); /* the chair and a full gallery */
    /* nobody spoke yet: the gallery in joining order */
    for (int i = 0; i < 9; i++) CHECK(mid_showing(&viewer, &sites[i], "video") != NULL);
    CHECK(!mid_showing(&viewer, &sites[12], "video"));
    char kept_mid[8];
    snprintf(kept_mid, sizeof kept_mid, "%s", mid_showing(&viewer, &sites[0], "video"));
    client_drop_inbox(&viewer);

    /* site 13 speaks steadily; a cough from site 12 moves nothing */
    uint32_t voice13 = stream_of(&sites[12], SFU_KIND_AUDIO), voice12 = stream_of(&sites[11], SFU_KIND_AUDIO);
    fake_sfu_push_audio_level(engine, voice12, 100, 100);
    dc_meeting_poll_engine(meeting);
    for (int step = 0; step < 30; step++) { /* 3 s of speech, a report every 100 ms */
        advance_ms(100);
        fake_sfu_push_audio_level(engine, voice13, 90, 100);
        dc_meeting_poll_engine(meeting);
        dc_meeting_sweep(meeting);
    }
    json_t *dominant = take(&viewer, "dominant_speaker");
    CHECK(dominant && !strcmp(str(dominant, "participant_id"), sites[12].pid));
    json_decref(dominant);
    CHECK(count_unread(&viewer, "dominant_speaker") == 0); /* once, no flapping */
    CHECK(mid_showing(&viewer, &sites[12], "video") != NULL);
    CHECK(!mid_showing(&viewer, &sites[11], "video"));           /* the cough did not get a tile */
    CHECK(!strcmp(slot_shows(&viewer, kept_mid), sites[0].pid)); /* the others kept their slots */
    CHECK(slots_showing(&viewer, "video") == 1 + 9 && count_unread(&viewer, "subscribe_offer") == 0);
    CHECK(sees(&viewer, &sites[12], SFU_KIND_VIDEO) && sees(&viewer, &sites[12], SFU_KIND_AUDIO));
    /* a delegate's voice, not forwarded, never makes it the speaker */
    client mute_site;
    client_open_as(&mute_site, "Xã 1", "delegate");
    enter_and_publish(&mute_site, "r", NULL, 0);
    for (int step = 0; step < 30; step++) {
        advance_ms(100);
        fake_sfu_push_audio_level(engine, stream_of(&mute_site, SFU_KIND_AUDIO), 120, 100);
        dc_meeting_poll_engine(meeting);
        dc_meeting_sweep(meeting);
    }
    CHECK(count_unread(&viewer, "dominant_speaker") == 0 && !mid_showing(&viewer, &mute_site, "video"));
    client_drop_inbox(&viewer);

    /* a smaller gallery empties slots; a larger one adds m-lines in a new offer */
    request_ok(&viewer, json_pack("{s:s, s:i}", "type", "set_gallery", "gallery", 4));
    CHECK(slots_showing(&viewer, "video") == 1 + 4 && count_unread(&viewer, "subscribe_offer") == 0);
    request_ok(&viewer, json_pack("{s:s, s:i}", "type", "set_gallery", "gallery", 25));
    answer_offer(&viewer);
    CHECK(viewer.offer->n_media == 8 + 25 && slots_showing(&viewer, "video") == 1 + SITES + 1);
    json_t *reply = request(&viewer, json_pack("{s:s, s:i}", "type", "set_gallery", "gallery", 26));
    CHECK(is_error(reply, "bad_request"));
    json_decref(reply);

    client *all[SITES + 3] = {&chair, &viewer, &mute_site};
    for (int i = 0; i < SITES; i++) all[3 + i] = &sites[i];
    meeting_end(all, SITES + 3);
}

static json_t *room_state(client *c)
{
    json_t *last = NULL, *ev;
    while ((ev = take(c, "room_state"))) {
        json_decref(last);
        last = ev;
    }
    return last;
}

/* The floor: hands in order, a grant opens the holder's microphone at the engine and puts
 * it into everyone's floor slots; revoke and a time limit close it again. */
static void test_floor(void)
{
    meeting_start();
    client chair, d1, d2;
    client_open_as(&chair, "Chair", "chair");
    client_open_as(&d1, "Xã 1", "delegate");
    client_open_as(&d2, "Xã 2", "delegate");
    enter_and_publish(&chair, "r", NULL, 0);
    enter_and_publish(&d1, "r", NULL, 0);
    enter_and_publish(&d2, "r", NULL, 0);
    client_drop_inbox(&chair);
    uint32_t mic1 = stream_of(&d1, SFU_KIND_AUDIO);
    CHECK(!fake_sfu_stream_forwarding(engine, mic1));

    request_ok(&d2, json_pack("{s:s}", "type", "raise_hand"));
    json_t *reply = request(&d1, json_pack("{s:s}", "type", "raise_hand"));
    CHECK(is_ok(reply) && json_integer_value(json_object_get(reply, "position")) == 2);
    json_decref(reply);
    json_t *state = room_state(&chair);
    json_t *hands = json_object_get(json_object_get(state, "room_state"), "hands");
    CHECK(json_array_size(hands) == 2 && !strcmp(json_string_value(json_array_get(hands, 0)), d2.pid));
    json_decref(state);

    /* a delegate cannot moderate */
    static const char *const chair_only[] = {
        "{\"type\":\"grant_floor\",\"id\":9,\"participant_id\":\"p1\"}",
        "{\"type\":\"revoke_floor\",\"id\":9}",
        "{\"type\":\"next_floor\",\"id\":9}",
        "{\"type\":\"mute_participant\",\"id\":9,\"participant_id\":\"p1\",\"kind\":\"audio\",\"muted\":true}",
        "{\"type\":\"mute_delegates\",\"id\":9}",
        "{\"type\":\"remove_participant\",\"id\":9,\"participant_id\":\"p1\"}",
        "{\"type\":\"lock_room\",\"id\":9,\"locked\":true}",
        "{\"type\":\"set_room_options\",\"id\":9,\"floor_may_share\":true}",
        "{\"type\":\"end_meeting\",\"id\":9}",
        "{\"type\":\"lower_hand\",\"id\":9,\"participant_id\":\"p3\"}",
    };
    size_t calls = fake_sfu_call_count(engine);
    for (size_t i = 0; i < sizeof chair_only / sizeof chair_only[0]; i++) {
        dc_meeting_handle_text(meeting, &d1.conn, chair_only[i], strlen(chair_only[i]));
        json_t *err = take(&d1, "error");
        CHECK(err && is_error(err, "forbidden"));
        json_decref(err);
    }
    CHECK(fake_sfu_call_count(engine) == calls && count_unread(&chair, "room_state") == 0);

    /* next: the oldest hand (d2) gets the floor */
    request_ok(&chair, json_pack("{s:s}", "type", "next_floor"));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&d2, SFU_KIND_AUDIO)));
    CHECK(!strcmp(slot_shows(&d1, "2"), d2.pid) && !strcmp(slot_shows(&d1, "3"), d2.pid));
    CHECK(sees_both(&d1, &d2) && sees_both(&chair, &d2));
    /* the floor holder left the gallery for the floor slots */
    CHECK(!strcmp(mid_showing(&chair, &d2, "video"), "3"));
    state = room_state(&d1);
    CHECK(!strcmp(str(json_object_get(state, "room_state"), "floor_holder"), d2.pid));
    json_decref(state);

    /* grant d1 for 30 s: d2 loses the floor (gate closed), d1 has it */
    request_ok(&chair, json_pack("{s:s, s:s, s:i}", "type", "grant_floor", "participant_id", d1.pid, "seconds", 30));
    CHECK(fake_sfu_stream_forwarding(engine, mic1));
    CHECK(!fake_sfu_stream_forwarding(engine, stream_of(&d2, SFU_KIND_AUDIO)));
    CHECK(!strcmp(slot_shows(&d2, "2"), d1.pid) && sees(&d2, &d1, SFU_KIND_AUDIO));
    CHECK(!mid_showing(&chair, &d2, "audio")); /* a delegate without the floor is heard nowhere */
    state = room_state(&d2);
    json_t *rs = json_object_get(state, "room_state");
    CHECK(!strcmp(str(rs, "floor_holder"), d1.pid) && json_is_integer(json_object_get(rs, "floor_until")));
    CHECK(json_array_size(json_object_get(rs, "hands")) == 0);
    json_decref(state);

    /* the time runs out */
    advance_seconds(31);
    dc_meeting_sweep(meeting);
    CHECK(!fake_sfu_stream_forwarding(engine, mic1));
    CHECK(!strcmp(slot_shows(&d2, "2"), ""));
    state = room_state(&d2);
    CHECK(json_is_null(json_object_get(json_object_get(state, "room_state"), "floor_holder")));
    json_decref(state);

    /* grant and revoke */
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", d1.pid));
    CHECK(fake_sfu_stream_forwarding(engine, mic1));
    request_ok(&chair, json_pack("{s:s}", "type", "revoke_floor"));
    CHECK(!fake_sfu_stream_forwarding(engine, mic1));
    reply = request(&chair, json_pack("{s:s}", "type", "next_floor"));
    CHECK(is_error(reply, "not_found")); /* no hands left */
    json_decref(reply);
    reply = request(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", "p999"));
    CHECK(is_error(reply, "not_found"));
    json_decref(reply);

    /* the holder leaves: the floor goes with it */
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", d2.pid));
    client_drop_inbox(&chair);
    request_ok(&d2, json_pack("{s:s}", "type", "leave"));
    state = room_state(&chair);
    CHECK(state && json_is_null(json_object_get(json_object_get(state, "room_state"), "floor_holder")));
    json_decref(state);
    meeting_end((client *[]){&chair, &d1, &d2}, 3);
}

static void test_moderation(void)
{
    meeting_start();
    client chair, off, d1, d2, late, again, chair2;
    client_open_as(&chair, "Chair", "chair");
    client_open_as(&off, "Official", "official");
    client_open_as(&d1, "Xã 1", "delegate");
    client_open_as(&d2, "Xã 2", "delegate");
    enter_and_publish(&chair, "r", NULL, 0);
    enter_and_publish(&off, "r", NULL, 0);
    enter_and_publish(&d1, "r", NULL, 0);
    enter_and_publish(&d2, "r", NULL, 0);
    client_drop_inbox(&chair);
    client_drop_inbox(&off);
    client_drop_inbox(&d1);

    /* mute an official's camera: the gate closes, everyone sees muted_by_chair, the
     * galleries drop it; the official cannot lift it */
    request_ok(&chair, json_pack("{s:s, s:s, s:s, s:b}", "type", "mute_participant", "participant_id", off.pid, "kind",
                                 "video", "muted", 1));
    CHECK(!fake_sfu_stream_forwarding(engine, stream_of(&off, SFU_KIND_VIDEO)));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&off, SFU_KIND_AUDIO)));
    json_t *upd = take(&d1, "participant_updated");
    CHECK(upd && json_is_true(
                     json_object_get(json_object_get(json_object_get(upd, "participant"), "muted_by_chair"), "video")));
    json_decref(upd);
    CHECK(!mid_showing(&d1, &off, "video"));
    request_ok(&off, json_pack("{s:s, s:s, s:b}", "type", "mute", "kind", "video", "muted", 0));
    CHECK(!fake_sfu_stream_forwarding(engine, stream_of(&off, SFU_KIND_VIDEO)));
    request_ok(&chair, json_pack("{s:s, s:s, s:s, s:b}", "type", "mute_participant", "participant_id", off.pid, "kind",
                                 "video", "muted", 0));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&off, SFU_KIND_VIDEO)) && mid_showing(&d1, &off, "video"));

    /* mute all delegates while d1 holds the floor: the floor goes, one event for all */
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", d1.pid));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&d1, SFU_KIND_AUDIO)));
    client_drop_inbox(&d2);
    request_ok(&chair, json_pack("{s:s}", "type", "mute_delegates"));
    CHECK(!fake_sfu_stream_forwarding(engine, stream_of(&d1, SFU_KIND_AUDIO)));
    CHECK(count_unread(&d2, "delegates_muted") == 1 && count_unread(&d2, "participant_updated") == 0);
    /* a grant lifts the chair's mute of the holder's microphone */
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", d2.pid));
    CHECK(fake_sfu_stream_forwarding(engine, stream_of(&d2, SFU_KIND_AUDIO)));
    request_ok(&chair, json_pack("{s:s}", "type", "revoke_floor"));

    /* lock: a new site is refused, a moderator still enters, resume still works */
    request_ok(&chair, json_pack("{s:s, s:b}", "type", "lock_room", "locked", 1));
    client_open_as(&late, "Xã 3", "delegate");
    json_t *reply = join(&late, "r");
    CHECK(is_error(reply, "room_locked"));
    json_decref(reply);
    client_open_as(&chair2, "Phó chủ tịch", "chair");
    join_ok(&chair2, "r");
    request_ok(&chair, json_pack("{s:s, s:b}", "type", "lock_room", "locked", 0));
    join_ok(&late, "r");

    /* remove d1: it is told, disconnected, gone for the others, and may not come back */
    client_drop_inbox(&off);
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "remove_participant", "participant_id", d1.pid));
    CHECK(d1.closed && count_unread(&d1, "removed") == 1);
    json_t *left = take(&off, "participant_left");
    CHECK(left && !strcmp(str(left, "reason"), "removed"));
    json_decref(left);
    client_open_as(&again, "Xã 1", "delegate");
    reply = join(&again, "r");
    CHECK(is_error(reply, "forbidden"));
    json_decref(reply);
    CHECK(!fake_sfu_transport_alive(engine, d1.pub_transport));

    /* end the meeting: everyone told and disconnected; a site cannot restart it, the chair can */
    request_ok(&chair, json_pack("{s:s}", "type", "end_meeting"));
    CHECK(off.closed && d2.closed && late.closed && chair.closed);
    CHECK(count_unread(&off, "meeting_ended") == 1);
    CHECK(fake_sfu_alive_count(engine) == 0);
    client_free(&again);
    client_open_as(&again, "Xã 2", "delegate");
    reply = join(&again, "r");
    CHECK(is_error(reply, "meeting_ended"));
    json_decref(reply);
    client_free(&chair2);
    client_open_as(&chair2, "Chair", "chair");
    join_ok(&chair2, "r");
    meeting_end((client *[]){&chair, &off, &d1, &d2, &late, &again, &chair2}, 7);
}

/* An observer receives only; a delegate may not share; two officials cannot share at once. */
static void test_observer_and_screen_share(void)
{
    meeting_start();
    client chair, obs, o1, o2, d1;
    client_open_as(&chair, "Chair", "chair");
    client_open_as(&obs, "Observer", "observer");
    client_open_as(&o1, "Official 1", "official");
    client_open_as(&o2, "Official 2", "official");
    client_open_as(&d1, "Xã 1", "delegate");
    enter_and_publish(&chair, "r", NULL, 0);
    join_ok(&obs, "r");
    answer_offer(&obs);
    size_t before = fake_sfu_call_count(engine);
    char *offer = publish_offer("u", "actpass", 1, 2);
    json_t *reply = request(&obs, json_pack("{s:s, s:s}", "type", "publish", "sdp", offer));
    g_free(offer);
    CHECK(is_error(reply, "forbidden"));
    json_decref(reply);
    reply = request(&obs, json_pack("{s:s}", "type", "raise_hand"));
    CHECK(is_error(reply, "forbidden"));
    json_decref(reply);
    CHECK(fake_sfu_call_count(engine) == before);

    enter_and_publish(&o1, "r", NULL, 0);
    enter_and_publish(&o2, "r", NULL, 0);
    enter_and_publish(&d1, "r", NULL, 0);
    reply = publish_screen(&d1, true);
    CHECK(is_error(reply, "forbidden"));
    json_decref(reply);

    client_drop_inbox(&obs);
    reply = publish_screen(&o1, true);
    CHECK(is_ok(reply));
    json_decref(reply);
    uint32_t screen = stream_of(&o1, SFU_KIND_VIDEO); /* the newest video stream: the screen */
    CHECK(fake_sfu_stream_forwarding(engine, screen));
    CHECK(!strcmp(slot_shows(&obs, "4"), o1.pid) && fake_sfu_slot_source(engine, slot_of(&obs, "4")) == screen);
    json_t *state = room_state(&obs);
    CHECK(!strcmp(str(json_object_get(state, "room_state"), "screen_sharer"), o1.pid));
    json_decref(state);
    reply = publish_screen(&o2, true);
    CHECK(is_error(reply, "share_busy"));
    json_decref(reply);

    /* the floor holder may share once the chair allows it */
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "grant_floor", "participant_id", d1.pid));
    reply = publish_screen(&o1, false); /* o1 stops sharing */
    CHECK(is_ok(reply) && !strcmp(slot_shows(&obs, "4"), ""));
    json_decref(reply);
    reply = publish_screen(&d1, true);
    CHECK(is_error(reply, "forbidden"));
    json_decref(reply);
    request_ok(&chair, json_pack("{s:s, s:b}", "type", "set_room_options", "floor_may_share", 1));
    reply = publish_screen(&d1, true);
    CHECK(is_ok(reply) && !strcmp(slot_shows(&obs, "4"), d1.pid));
    json_decref(reply);
    /* losing the floor ends that share */
    request_ok(&chair, json_pack("{s:s}", "type", "revoke_floor"));
    CHECK(!strcmp(slot_shows(&obs, "4"), "") && !fake_sfu_stream_forwarding(engine, stream_of(&d1, SFU_KIND_VIDEO)));
    meeting_end((client *[]){&chair, &obs, &o1, &o2, &d1}, 5);
}

static void test_chat(void)
{
    meeting_start();
    client chair, d1, d2;
    client_open_as(&chair, "Chair", "chair");
    client_open_as(&d1, "Xã 1", "delegate");
    client_open_as(&d2, "Xã 2", "delegate");
    join_ok(&chair, "r");
    join_ok(&d1, "r");
    join_ok(&d2, "r");
    client_drop_inbox(&chair);
    client_drop_inbox(&d1);
    client_drop_inbox(&d2);
    request_ok(&d1, json_pack("{s:s, s:s}", "type", "chat", "text", "Xin chào, \"mọi người\"\ndòng 2"));
    json_t *msg = take(&d2, "chat");
    CHECK(msg && !strcmp(str(msg, "from"), d1.pid) && !strcmp(str(msg, "to"), "all") &&
          !strcmp(str(msg, "text"), "Xin chào, \"mọi người\"\ndòng 2") && json_is_integer(json_object_get(msg, "ts")));
    json_decref(msg);
    CHECK(count_unread(&chair, "chat") == 1 && count_unread(&d1, "chat") == 1);
    client_drop_inbox(&chair);
    client_drop_inbox(&d1);
    /* privately to the chair: the chair and the sender only */
    request_ok(&d1, json_pack("{s:s, s:s, s:s}", "type", "chat", "text", "riêng", "to", "chair"));
    CHECK(count_unread(&chair, "chat") == 1 && count_unread(&d1, "chat") == 1 && count_unread(&d2, "chat") == 0);
    /* limits: 1000 characters (Vietnamese, several bytes each) pass, 1001 do not; control characters do not */
    GString *text = g_string_new("");
    for (int i = 0; i < 1000; i++) g_string_append(text, "ệ");
    json_t *reply = request(&d2, json_pack("{s:s, s:s}", "type", "chat", "text", text->str));
    CHECK(is_ok(reply));
    json_decref(reply);
    g_string_append(text, "ệ");
    reply = request(&d2, json_pack("{s:s, s:s}", "type", "chat", "text", text->str));
    CHECK(is_error(reply, "bad_request"));
    json_decref(reply);
    g_string_free(text, TRUE);
    reply = request(&d2, json_pack("{s:s, s:s}", "type", "chat", "text",
                                   "a\x07"
                                   "b"));
    CHECK(is_error(reply, "bad_request"));
    json_decref(reply);
    /* at most 5 per 10 s */
    int refused = 0;
    for (int i = 0; i < 6; i++) {
        reply = request(&chair, json_pack("{s:s, s:s}", "type", "chat", "text", "x"));
        refused += is_error(reply, "rate_limited");
        json_decref(reply);
    }
    CHECK(refused == 1);
    advance_seconds(11);
    request_ok(&chair, json_pack("{s:s, s:s}", "type", "chat", "text", "y"));
    meeting_end((client *[]){&chair, &d1, &d2}, 3);
}

/* Tokens: missing, forged, expired and for another room are refused with their codes. */
static void test_join_tokens(void)
{
    meeting_start();
    client a;
    client_open(&a, "A");
    json_t *reply = request(&a, json_pack("{s:s, s:s, s:s}", "type", "join", "room", "r", "name", "A"));
    CHECK(is_error(reply, "unauthorized"));
    json_decref(reply);
    char *token = token_for(&a, "r", 3600);
    token[strlen(token) - 2] ^= 1; /* a signature byte */
    reply = request(&a, json_pack("{s:s, s:s, s:s}", "type", "join", "room", "r", "token", token));
    CHECK(is_error(reply, "unauthorized"));
    json_decref(reply);
    free(token);
    token = token_for(&a, "r", -3600);
    reply = request(&a, json_pack("{s:s, s:s, s:s}", "type", "join", "room", "r", "token", token));
    CHECK(is_error(reply, "token_expired"));
    json_decref(reply);
    free(token);
    token = token_for(&a, "other room", 3600);
    reply = request(&a, json_pack("{s:s, s:s, s:s}", "type", "join", "room", "r", "token", token));
    CHECK(is_error(reply, "wrong_room"));
    json_decref(reply);
    free(token);
    CHECK(fake_sfu_call_count(engine) == 0 && a.pid[0] == 0);
    join_ok(&a, "r");
    meeting_end((client *[]){&a}, 1);
}

/* A, B, C in a room, everyone sees everyone; C leaves: the slots that showed C are
 * re-pointed (slot_update) before participant_left, and C's streams go after. */
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
    client *viewers[] = {&a, &b};
    for (size_t i = 0; i < 2; i++) {
        client *viewer = viewers[i];
        CHECK(position(viewer, "slot_update") < position(viewer, "participant_left"));
        CHECK(count_unread(viewer, "subscribe_offer") == 0);
        json_t *left = take(viewer, "participant_left");
        CHECK(left && !strcmp(str(left, "participant_id"), c.pid) && !strcmp(str(left, "reason"), "left"));
        json_decref(left);
        CHECK(!mid_showing(viewer, &c, "video") && !mid_showing(viewer, &c, "audio"));
    }
    const fake_call *pause = fake_sfu_find(engine, before, FAKE_SLOT_POINT, c_video_slot_at_a);
    const fake_call *stream_gone = fake_sfu_find(engine, before, FAKE_STREAM_REMOVE, c_streams[1]);
    CHECK(pause && pause->stream_id == 0 && stream_gone && pause < stream_gone);
    for (int i = 0; i < 2; i++) CHECK(!fake_sfu_stream_alive(engine, c_streams[i]));
    for (int i = 0; i < 2; i++) CHECK(!fake_sfu_transport_alive(engine, c_transports[i]));
    /* A and B each: 2 transports, 2 streams, 17 slots */
    CHECK(fake_sfu_alive_count(engine) == 2 * (2 + 2 + 17));
    CHECK(sees_both(&a, &b));

    /* D comes: it takes a slot C had, with the slot's SSRC unchanged (never inactive) */
    client d;
    client_open(&d, "D");
    uint32_t ssrc = media_by_mid(a.offer, "8")->ssrcs[0].ssrc;
    enter_and_publish(&d, "r", (client *[]){&a, &b}, 2);
    CHECK(sees_both(&a, &d) && media_by_mid(a.offer, "8")->ssrcs[0].ssrc == ssrc);

    request_ok(&b, json_pack("{s:s}", "type", "leave"));
    request_ok(&a, json_pack("{s:s}", "type", "leave"));
    request_ok(&d, json_pack("{s:s}", "type", "leave"));
    CHECK(fake_sfu_alive_count(engine) == 0);
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
    /* a fresh offer, newer than any before; no slot in it shows C */
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
    reply = request(&a, json_pack("{s:s, s:i, s:s}", "type", "subscribe_answer", "version", 2, "sdp", "v=0\r\n"));
    CHECK(is_error(reply, "bad_request")); /* never offered */
    json_decref(reply);
    CHECK(fake_sfu_count_since(engine, 0, FAKE_STREAM_ADD) == 0); /* only the subscribe transports so far */

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
/* SFU_EV_BANDWIDTH is kept per subscriber and shown in the room's live figures; the
 * engine is told whether each subscriber numbers what it gets (its answer's extmap). */
static void test_bandwidth_figures(void)
{
    meeting_start();
    size_t before = fake_sfu_call_count(engine);
    client a, b;
    room_of_two(&a, &b);
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_SET_TWCC) == 2);
    /* …and whether each publisher numbers what it sends (transport-cc feedback to it) */
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_SET_TWCC_FEEDBACK) == 2);
    const fake_call *fbk = fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_TWCC_FEEDBACK, a.pub_transport);
    CHECK(fbk && fbk->audio_level_ext_id == 3);
    fake_sfu_push_bandwidth(engine, b.sub_transport, 420000, 300000, 12);
    fake_sfu_push_bandwidth(engine, b.pub_transport, 1, 1, 1); /* not a subscription: ignored */
    fake_sfu_push_bandwidth(engine, 999999, 1, 1, 1);          /* unknown: ignored */
    dc_meeting_poll_engine(meeting);
    CHECK(a.n_inbox == 0 && b.n_inbox == 0); /* nothing told to the clients (yet) */
    json_t *fig = dc_meeting_room_figures(meeting, "r");
    CHECK(fig && json_array_size(json_object_get(fig, "participants")) == 2);
    size_t seen = 0;
    json_t *p;
    size_t i;
    json_array_foreach(json_object_get(fig, "participants"), i, p)
    {
        json_t *sub = json_object_get(p, "subscribe");
        if (!strcmp(json_string_value(json_object_get(p, "name")), "B")) {
            seen++;
            CHECK(json_integer_value(json_object_get(sub, "estimate_bps")) == 420000);
            CHECK(json_integer_value(json_object_get(sub, "acked_bps")) == 300000);
            CHECK(json_integer_value(json_object_get(sub, "loss_percent")) == 12);
            CHECK(json_integer_value(json_object_get(sub, "transport")) == b.sub_transport);
        } else {
            CHECK(json_is_null(sub));
        }
    }
    CHECK(seen == 1);
    json_decref(fig);
    CHECK(dc_meeting_room_figures(meeting, "nobody-here") == NULL);
    meeting_end((client *[]){&a, &b}, 2);
}

/* Bandwidth allocation as signaling sees it: video slots get their use's priority, a site
 * budget is shared by the site's subscribers (and follows joins, leaves and technicians),
 * and the allocator's verdicts reach the page (slot_quality) and the live figures. */
static void test_bandwidth_allocation(void)
{
    meeting_start();
    size_t before = fake_sfu_call_count(engine);
    client a, b, c;
    client_open_as(&a, "A", "chair");
    client_open(&b, "B");
    client_open(&c, "C");
    b.site = c.site = "Xã Tân Lập";
    CHECK(dc_meeting_set_site_budget(meeting, "Xã Tân Lập", 300));
    enter_and_publish(&a, "r", NULL, 0);
    enter_and_publish(&b, "r", (client *[]){&a}, 1);
    enter_and_publish(&c, "r", (client *[]){&a, &b}, 2);
    /* priorities: screen 0 (the default, not sent), floor 1, chair 2, gallery 3 */
    const char *gallery_mid = NULL;
    for (unsigned i = 0; i < 40; i++) {
        char mid[12];
        snprintf(mid, sizeof mid, "%u", i);
        const json_t *slot = offered_slot(&b, mid);
        if (!slot) continue;
        const char *use = json_string_value(json_object_get(slot, "use"));
        const fake_call *pr = fake_sfu_find(engine, before, FAKE_SLOT_SET_PRIORITY, slot_of(&b, mid));
        if (!strcmp(use, "screen") || strcmp(json_string_value(json_object_get(slot, "kind")), "video")) CHECK(!pr);
        else if (!strcmp(use, "floor_video")) CHECK(pr && pr->priority == 1);
        else if (!strcmp(use, "chair_video")) CHECK(pr && pr->priority == 2);
        else if (!strcmp(use, "gallery")) {
            CHECK(pr && pr->priority == 3);
            if (!gallery_mid && !strcmp(slot_shows(&b, mid), c.pid))
                gallery_mid = json_string_value(json_object_get(slot, "mid"));
        }
    }
    /* the site's two subscribers share 300 kbit/s; the chair (no site) has no budget */
    uint32_t last_b = 0, last_c = 0;
    for (size_t i = before; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op != FAKE_TRANSPORT_SET_BUDGET) continue;
        CHECK(call->id != a.sub_transport);
        if (call->id == b.sub_transport) last_b = call->budget_bps;
        if (call->id == c.sub_transport) last_c = call->budget_bps;
    }
    CHECK(last_b == 150000 && last_c == 150000);
    before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_site_budget(meeting, "Xã Tân Lập", 0)); /* cleared */
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_SET_BUDGET) == 2);
    CHECK(fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_BUDGET, b.sub_transport)->budget_bps == 0);
    CHECK(dc_meeting_site_budget(meeting, "Xã Tân Lập") == 0);

    /* the allocator paused B's gallery tile of C for the budget */
    CHECK(gallery_mid != NULL);
    if (gallery_mid) {
        client_drop_inbox(&b);
        fake_sfu_push_slot_quality(engine, b.sub_transport, slot_of(&b, gallery_mid), -1, 3, SFU_LIMIT_BUDGET);
        fake_sfu_push_slot_quality(engine, 999999, 1, -1, 3, SFU_LIMIT_BUDGET); /* unknown: ignored */
        dc_meeting_poll_engine(meeting);
        json_t *q = take(&b, "slot_quality");
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "mid")), gallery_mid));
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "layer")), "off"));
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "requested")), "high"));
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "reason")), "budget"));
        json_decref(q);
        fake_sfu_push_slot_quality(engine, b.sub_transport, slot_of(&b, gallery_mid), 0, 3, SFU_LIMIT_BANDWIDTH);
        dc_meeting_poll_engine(meeting);
        q = take(&b, "slot_quality");
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "layer")), "low"));
        CHECK(q && !strcmp(json_string_value(json_object_get(q, "reason")), "bandwidth"));
        json_decref(q);
        json_t *fig = dc_meeting_room_figures(meeting, "r");
        size_t i;
        json_t *p;
        bool found = false;
        json_array_foreach(json_object_get(fig, "participants"), i, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "name")), "B")) continue;
            size_t j;
            json_t *s;
            json_array_foreach(json_object_get(p, "slots"), j, s)
            {
                if (strcmp(json_string_value(json_object_get(s, "mid")), gallery_mid)) continue;
                found = true;
                CHECK(!strcmp(json_string_value(json_object_get(s, "layer")), "low"));
                CHECK(!strcmp(json_string_value(json_object_get(s, "reason")), "bandwidth"));
                CHECK(!strcmp(json_string_value(json_object_get(s, "participant_id")), c.pid));
            }
        }
        CHECK(found);
        json_decref(fig);
    }
    /* a budget again, then C leaves: B's share grows to the whole */
    CHECK(dc_meeting_set_site_budget(meeting, "Xã Tân Lập", 300));
    before = fake_sfu_call_count(engine);
    request_ok(&c, json_pack("{s:s}", "type", "leave"));
    const fake_call *grown = fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_BUDGET, b.sub_transport);
    CHECK(grown && grown->budget_bps == 300000);
    meeting_end((client *[]){&a, &b, &c}, 3);
}

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
    test_simulcast_quality();
    test_join_tokens();
    test_fixed_slots();
    test_gallery_follows_speakers();
    test_floor();
    test_moderation();
    test_observer_and_screen_share();
    test_chat();
    test_leave();
    test_resume_within_grace();
    test_grace_expiry();
    test_errors();
    test_rate_limit();
    test_engine_events();
    test_subscribe_ice_restart();
    test_bandwidth_figures();
    test_bandwidth_allocation();
    return CHECK_RESULT();
}
