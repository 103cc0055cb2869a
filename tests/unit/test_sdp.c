/* SDP parser and writers: real browser fixtures (tests/unit/data, see README.md there),
 * writer round trips, codec choice, and malformed input. */
#include "check.h"
#include "sdp.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static const dc_sdp_local LOCAL = {
    .ice_ufrag = "srvU",
    .ice_pwd = "serverpassword0123456789",
    .fingerprint = "6B:85:B9:EA:7B:F6:F5:F2:9D:06:82:11:09:A2:BE:99:37:E1:4F:EE:86:F4:5B:93:CA:12:E4:07:33:FA:C8:EF",
    .candidate_ip = "203.0.113.7",
    .candidate_port = 40000,
    .session_id = 1234567890123ull,
    .session_version = 2,
};

/* ------------------------------------------------------------------ helpers */

/* Finds tests/unit/data whether run by meson (cwd = build dir) or by hand. */
static char *load_fixture(const char *name, size_t *len)
{
    char *dir_of_source = g_path_get_dirname(__FILE__);
    const char *env = getenv("DC_TEST_DATA");
    char *candidates[] = {
        env ? g_build_filename(env, name, NULL) : NULL,
        g_build_filename(dir_of_source, "data", name, NULL),
        g_build_filename("tests", "unit", "data", name, NULL),
        g_build_filename("..", "tests", "unit", "data", name, NULL),
        g_build_filename("..", "..", "tests", "unit", "data", name, NULL),
    };
    char *text = NULL;
    gsize n = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (!text && candidates[i] && g_file_get_contents(candidates[i], &text, &n, NULL)) *len = n;
        g_free(candidates[i]);
    }
    g_free(dir_of_source);
    if (!text) fprintf(stderr, "FAIL: fixture %s not found (set DC_TEST_DATA)\n", name);
    CHECK(text != NULL);
    return text;
}

static dc_sdp *parse_or_report(const char *text, size_t len, bool *ok)
{
    dc_sdp *s = malloc(sizeof *s);
    char err[256];
    *ok = text && dc_sdp_parse(text, len, s, err, sizeof err);
    if (text && !*ok) fprintf(stderr, "  parse error: %s\n", err);
    return s;
}

/* Parses and expects failure with a non-empty message. */
static void expect_refused(const char *text, size_t len, const char *what)
{
    dc_sdp *s = malloc(sizeof *s);
    char err[256] = "";
    bool ok = dc_sdp_parse(text, len, s, err, sizeof err);
    if (ok) fprintf(stderr, "  expected refusal: %s\n", what);
    CHECK(!ok);
    CHECK(err[0] != '\0');
    free(s);
}

static char *replace(const char *text, const char *from, const char *to)
{
    GString *g = g_string_new(text);
    g_string_replace(g, from, to, 0);
    return g_string_free(g, FALSE);
}

/* replace() that frees its input */
static char *replace_owned(char *text, const char *from, const char *to)
{
    char *r = replace(text, from, to);
    g_free(text);
    return r;
}

static const dc_sdp_codec *codec_by_pt(const dc_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt) return &m->codecs[i];
    return NULL;
}

/* ------------------------------------------------------------------ fixtures */

static void test_chromium_offer(void)
{
    size_t len = 0;
    char *text = load_fixture("chromium-publish-offer.sdp", &len);
    bool ok;
    dc_sdp *s = parse_or_report(text, len, &ok);
    CHECK(ok);
    if (ok) {
        CHECK(!strcmp(s->ice_ufrag, "7ETp"));
        CHECK(!strcmp(s->ice_pwd, "eOn/kph/z3WlCu1aKmhLxaT0"));
        CHECK(!strcmp(s->fingerprint, "sha-256 FD:47:0E:2C:CA:7A:AD:2F:DB:05:42:05:D6:29:5E:24:26:81:"
                                      "91:DC:16:A5:A5:B8:BE:DE:B6:C3:1D:EC:C6:A4"));
        CHECK(s->setup == DC_SETUP_ACTPASS);
        CHECK(!s->ice_lite);
        CHECK(s->n_bundle == 2 && !strcmp(s->bundle[0], "0") && !strcmp(s->bundle[1], "1"));
        CHECK(s->n_media == 2);
        const dc_sdp_media *a = &s->media[0], *v = &s->media[1];
        CHECK(a->kind == DC_MEDIA_AUDIO && !strcmp(a->mid, "0") && !a->rejected);
        CHECK(a->direction == DC_DIR_SENDONLY && a->rtcp_mux && a->rtcp_rsize);
        CHECK(a->n_codecs == 8);
        CHECK(a->codecs[0].pt == 111 && !strcmp(a->codecs[0].name, "opus"));
        CHECK(a->codecs[0].clock == 48000 && a->codecs[0].channels == 2);
        CHECK(!strcmp(a->codecs[0].fmtp, "minptime=10;useinbandfec=1"));
        CHECK(a->codecs[0].fb_transport_cc && !a->codecs[0].fb_nack);
        CHECK(codec_by_pt(a, 63) && !strcmp(codec_by_pt(a, 63)->name, "red"));
        CHECK(dc_sdp_extmap_id(a, DC_EXT_MID) == 4);
        CHECK(a->n_ssrcs == 1 && a->ssrcs[0].ssrc == 2242634001u);
        CHECK(!strcmp(a->ssrcs[0].cname, "VgMXrF5vfB8IyRSp"));
        CHECK(!strncmp(a->msid, "- ", 2) && strlen(a->msid) > 10);

        CHECK(v->kind == DC_MEDIA_VIDEO && !strcmp(v->mid, "1") && v->direction == DC_DIR_SENDONLY);
        CHECK(v->n_codecs == 23);
        CHECK(v->codecs[0].pt == 96 && !strcmp(v->codecs[0].name, "VP8") && v->codecs[0].clock == 90000);
        CHECK(v->codecs[0].fb_nack && v->codecs[0].fb_nack_pli && v->codecs[0].fb_ccm_fir);
        CHECK(v->codecs[0].fb_goog_remb && v->codecs[0].fb_transport_cc && v->codecs[0].apt == -1);
        const dc_sdp_codec *rtx = codec_by_pt(v, 97);
        CHECK(rtx && !strcmp(rtx->name, "rtx") && rtx->apt == 96);
        const dc_sdp_codec *h = codec_by_pt(v, 108);
        CHECK(h && !strcmp(h->name, "H264") && strstr(h->fmtp, "profile-level-id=42e01f"));
        CHECK(codec_by_pt(v, 104) && strstr(codec_by_pt(v, 104)->fmtp, "packetization-mode=0"));
        CHECK(codec_by_pt(v, 116) && strstr(codec_by_pt(v, 116)->fmtp, "profile-level-id=4d001f"));
        CHECK(codec_by_pt(v, 120) && !strcmp(codec_by_pt(v, 120)->name, "ulpfec"));
        CHECK(dc_sdp_extmap_id(v, DC_EXT_MID) == 4);
        CHECK(dc_sdp_extmap_id(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") == 10);
        CHECK(dc_sdp_extmap_id(v, "urn:example:absent") == 0);
        CHECK(v->fid_primary == 729896208u && v->fid_rtx == 1876022090u);
        CHECK(v->n_ssrcs == 2 && v->ssrcs[1].ssrc == 1876022090u);

        dc_codec_id which;
        CHECK(dc_sdp_pick_codec(a, &which) == 0 && which == DC_CODEC_OPUS);
        CHECK(dc_sdp_pick_codec(v, &which) == 0 && which == DC_CODEC_VP8);
    }
    free(s);

    /* the same offer with LF only parses to the same values */
    char *lf = replace(text, "\r\n", "\n");
    dc_sdp *s2 = parse_or_report(lf, strlen(lf), &ok);
    CHECK(ok && !strcmp(s2->ice_ufrag, "7ETp") && s2->n_media == 2 && s2->media[1].n_codecs == 23);
    free(s2);
    g_free(lf);
    g_free(text);
}

static void test_firefox_offer(void)
{
    size_t len = 0;
    char *text = load_fixture("firefox-publish-offer.sdp", &len);
    bool ok;
    dc_sdp *s = parse_or_report(text, len, &ok);
    CHECK(ok);
    if (ok) {
        /* ufrag/pwd only at media level, fingerprint only at session level */
        CHECK(!strcmp(s->ice_ufrag, "6ffde564"));
        CHECK(!strcmp(s->ice_pwd, "3d65c818797da0857a952cdea4603a24"));
        CHECK(!strncmp(s->fingerprint, "sha-256 44:2B:BC:5C:33:02:7C:CF:", 32));
        CHECK(s->setup == DC_SETUP_ACTPASS);
        CHECK(s->n_bundle == 2 && s->n_media == 2);
        const dc_sdp_media *a = &s->media[0], *v = &s->media[1];
        /* a=sendrecv at session level, a=sendonly in each section */
        CHECK(a->direction == DC_DIR_SENDONLY && v->direction == DC_DIR_SENDONLY);
        /* Firefox writes fmtp and rtcp-fb before rtpmap */
        CHECK(a->codecs[0].pt == 109 && !strcmp(a->codecs[0].name, "opus") && a->codecs[0].channels == 2);
        CHECK(!strcmp(a->codecs[0].fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1"));
        CHECK(codec_by_pt(a, 9) && codec_by_pt(a, 9)->channels == 1);
        CHECK(dc_sdp_extmap_id(a, DC_EXT_MID) == 3);
        CHECK(dc_sdp_extmap_id(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level") == 2); /* "2/recvonly" */
        CHECK(a->rtcp_mux && !a->rtcp_rsize);
        CHECK(v->codecs[0].pt == 120 && !strcmp(v->codecs[0].name, "VP8") && v->codecs[0].fb_nack_pli);
        CHECK(codec_by_pt(v, 124) && codec_by_pt(v, 124)->apt == 120);
        CHECK(codec_by_pt(v, 119) && codec_by_pt(v, 119)->apt == 122);
        CHECK(v->fid_primary == 390268744u && v->fid_rtx == 213979165u && v->n_ssrcs == 2);
        CHECK(!strcmp(v->ssrcs[0].cname, "{2bec1fc8-b09f-4e0b-b5ca-32bc53ebf047}"));
        dc_codec_id which;
        CHECK(dc_sdp_pick_codec(v, &which) == 0 && which == DC_CODEC_VP8);
    }
    free(s);
    g_free(text);
}

static void test_subscribe_answers(void)
{
    static const struct {
        const char *file, *ufrag, *fp_prefix;
    } cases[] = {
        {"chromium-subscribe-answer.sdp", "rk47", "sha-256 68:46:95:D5:"},
        {"firefox-subscribe-answer.sdp", "7443efee", "sha-256 44:96:D5:11:"},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        size_t len = 0;
        char *text = load_fixture(cases[k].file, &len);
        bool ok;
        dc_sdp *s = parse_or_report(text, len, &ok);
        CHECK(ok);
        if (ok) {
            CHECK(s->setup == DC_SETUP_ACTIVE);
            CHECK(!strcmp(s->ice_ufrag, cases[k].ufrag));
            CHECK(!strncmp(s->fingerprint, cases[k].fp_prefix, strlen(cases[k].fp_prefix)));
            CHECK(s->n_media == 4 && s->n_bundle == 4);
            CHECK(s->media[0].direction == DC_DIR_RECVONLY && s->media[1].direction == DC_DIR_RECVONLY);
            CHECK(s->media[3].direction == DC_DIR_INACTIVE && !s->media[3].rejected);
            CHECK(!strcmp(s->media[2].mid, "2") && s->media[2].codecs[0].pt == DC_PT_OPUS);
            CHECK(s->media[1].codecs[0].pt == DC_PT_VP8);
        }
        free(s);
        g_free(text);
    }
}

/* ------------------------------------------------------------------ writers */

static void check_publish_answer_of(const char *fixture, int audio_pt, int video_pt, uint8_t mid_ext,
                                    bool has_datachannel)
{
    size_t len = 0;
    char *text = load_fixture(fixture, &len);
    bool ok;
    dc_sdp *offer = parse_or_report(text, len, &ok);
    CHECK(ok);
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    char *answer = ok ? dc_sdp_write_publish_answer(offer, &LOCAL, picked, picked_pt) : NULL;
    CHECK(answer != NULL);
    if (answer) {
        CHECK(picked[0] == DC_CODEC_OPUS && picked_pt[0] == audio_pt);
        CHECK(picked[1] == DC_CODEC_VP8 && picked_pt[1] == video_pt);
        CHECK(picked[2] == DC_CODEC_NONE);
        CHECK(strstr(answer, "a=group:BUNDLE 0 1\r\n") != NULL);
        CHECK(strstr(answer, "a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host\r\n") != NULL);
        CHECK(!strstr(answer, "rtx") && !strstr(answer, "red/") && !strstr(answer, "ulpfec"));
        CHECK(!strstr(answer, "abs-send-time"));
        if (has_datachannel) CHECK(strstr(answer, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n") != NULL);
        dc_sdp *back = parse_or_report(answer, strlen(answer), &ok);
        CHECK(ok);
        if (ok) {
            CHECK(!strcmp(back->ice_ufrag, "srvU") && !strcmp(back->ice_pwd, LOCAL.ice_pwd));
            CHECK(!strncmp(back->fingerprint, "sha-256 ", 8) && !strcmp(back->fingerprint + 8, LOCAL.fingerprint));
            CHECK(back->setup == DC_SETUP_PASSIVE && back->ice_lite);
            CHECK(back->n_media == offer->n_media);
            for (size_t i = 0; i < 2 && i < back->n_media; i++) {
                const dc_sdp_media *m = &back->media[i];
                CHECK(!strcmp(m->mid, offer->media[i].mid) && !m->rejected);
                CHECK(m->direction == DC_DIR_RECVONLY && m->rtcp_mux && m->n_codecs == 1);
                CHECK(m->rtcp_rsize == offer->media[i].rtcp_rsize);
                /* the mid on both; the audio level (RFC 6464) on audio; transport-wide cc on
                 * both (the server feeds back what arrives); each with the offer's id */
                uint8_t twcc = dc_sdp_extmap_id(&offer->media[i], DC_EXT_TWCC);
                CHECK(twcc != 0 && dc_sdp_extmap_id(m, DC_EXT_TWCC) == twcc);
                CHECK(m->n_extmaps == (i == 0 ? 3u : 2u) && dc_sdp_extmap_id(m, DC_EXT_MID) == mid_ext);
                CHECK(dc_sdp_extmap_id(m, DC_EXT_AUDIO_LEVEL) ==
                      (i == 0 ? dc_sdp_extmap_id(&offer->media[0], DC_EXT_AUDIO_LEVEL) : 0));
                CHECK(i != 0 || dc_sdp_extmap_id(m, DC_EXT_AUDIO_LEVEL) != 0);
                CHECK(m->n_ssrcs == 0);
            }
            CHECK(!strcmp(back->media[0].codecs[0].name, "opus") && back->media[0].codecs[0].pt == audio_pt);
            CHECK(!strcmp(back->media[0].codecs[0].fmtp, offer->media[0].codecs[0].fmtp));
            CHECK(!strcmp(back->media[1].codecs[0].name, "VP8") && back->media[1].codecs[0].fb_nack_pli);
            CHECK(back->media[1].codecs[0].fb_ccm_fir && back->media[1].codecs[0].fb_transport_cc);
            CHECK(back->media[0].codecs[0].fb_transport_cc == offer->media[0].codecs[0].fb_transport_cc);
            if (has_datachannel) {
                CHECK(back->n_media == 3 && back->media[2].rejected);
                CHECK(back->media[2].kind == DC_MEDIA_APPLICATION && !strcmp(back->media[2].mid, "2"));
                CHECK(back->media[2].direction == DC_DIR_INACTIVE);
            }
        }
        free(back);
    }
    free(answer);
    /* with RTX on, the video line also takes the offer's RTX for the picked codec */
    dc_sdp_local with_rtx = LOCAL;
    with_rtx.rtx = true;
    int offered_rtx = ok ? dc_sdp_rtx_pt(&offer->media[1], (uint8_t)video_pt) : -1;
    answer = ok ? dc_sdp_write_publish_answer(offer, &with_rtx, picked, picked_pt) : NULL;
    dc_sdp *back = answer ? parse_or_report(answer, strlen(answer), &ok) : NULL;
    if (back && ok) {
        CHECK(back->media[0].n_codecs == 1);
        CHECK(back->media[1].n_codecs == (offered_rtx >= 0 ? 2u : 1u));
        CHECK(dc_sdp_rtx_pt(&back->media[1], (uint8_t)video_pt) == offered_rtx);
    }
    free(back);
    free(answer);
    free(offer);
    g_free(text);
}

static void test_publish_answers(void)
{
    check_publish_answer_of("chromium-publish-offer.sdp", 111, 96, 4, false);
    check_publish_answer_of("firefox-publish-offer.sdp", 109, 120, 3, false);
    check_publish_answer_of("chromium-publish-offer-datachannel.sdp", 111, 96, 4, true);
    check_publish_answer_of("firefox-publish-offer-datachannel.sdp", 109, 120, 3, true);
}

/* The audio level extension is echoed only where it was offered, and only on audio: an
 * offer without it on audio and with it on video gets an answer with none. */
static void test_publish_answer_audio_level_only_when_offered(void)
{
    size_t len;
    char *text = load_fixture("chromium-publish-offer.sdp", &len);
    if (!text) return;
    GString *edited = g_string_new(text);
    const char *level = "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n";
    CHECK(g_string_replace(edited, level, "", 1) == 1);
    CHECK(g_string_replace(edited, "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n",
                           "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n", 1) == 1);
    bool ok;
    dc_sdp *offer = parse_or_report(edited->str, edited->len, &ok);
    CHECK(ok && dc_sdp_extmap_id(&offer->media[1], DC_EXT_AUDIO_LEVEL) == 14);
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    char *answer = ok ? dc_sdp_write_publish_answer(offer, &LOCAL, picked, picked_pt) : NULL;
    CHECK(answer && !strstr(answer, DC_EXT_AUDIO_LEVEL) && strstr(answer, DC_EXT_MID));
    free(answer);
    free(offer);
    g_string_free(edited, TRUE);
    g_free(text);
}

static void test_subscribe_offer_round_trip(void)
{
    dc_sdp_slot slots[4] = {
        {"0", DC_MEDIA_AUDIO, true, 11111111, "p3", "p3-audio", "p3cname", 0},
        {"1", DC_MEDIA_VIDEO, true, 22222222, "p3", "p3-video", "p3cname", 33333333},
        {"2", DC_MEDIA_AUDIO, true, 4000000000u, "p4", "p4-audio", "p4cname", 0},
        {"3", DC_MEDIA_VIDEO, false, 0, "", "", "", 0},
    };
    char *offer = dc_sdp_write_subscribe_offer(slots, 4, &LOCAL);
    CHECK(offer != NULL);
    if (!offer) return;
    bool ok;
    dc_sdp *s = parse_or_report(offer, strlen(offer), &ok);
    CHECK(ok);
    if (ok) {
        CHECK(s->setup == DC_SETUP_ACTPASS && s->ice_lite && !strcmp(s->ice_ufrag, "srvU"));
        CHECK(s->n_bundle == 4 && s->n_media == 4);
        CHECK(dc_sdp_session_extmap_id(s, DC_EXT_TWCC) == DC_SUB_TWCC_EXT_ID);
        CHECK(dc_sdp_session_extmap_id(s, "urn:example:absent") == 0);
        for (size_t i = 0; i < 4; i++) {
            const dc_sdp_media *m = &s->media[i];
            CHECK(!strcmp(m->mid, slots[i].mid) && m->kind == slots[i].kind && !m->rejected);
            CHECK(m->direction == (slots[i].active ? DC_DIR_SENDONLY : DC_DIR_INACTIVE));
            CHECK(m->n_ssrcs == (slots[i].active ? 1u + (slots[i].rtx_ssrc != 0) : 0u));
            /* the server numbers what it sends: transport-wide cc on every slot and codec */
            CHECK(dc_sdp_extmap_id(m, DC_EXT_TWCC) == DC_SUB_TWCC_EXT_ID);
            for (size_t k = 0; k < m->n_codecs; k++)
                CHECK(m->codecs[k].fb_transport_cc || !strcmp(m->codecs[k].name, "rtx"));
            if (slots[i].active) {
                char msid[160];
                snprintf(msid, sizeof msid, "%s %s", slots[i].msid_stream, slots[i].msid_track);
                CHECK(m->ssrcs[0].ssrc == slots[i].ssrc && !strcmp(m->ssrcs[0].cname, slots[i].cname));
                CHECK(!strcmp(m->msid, msid));
            }
        }
        CHECK(s->media[0].n_codecs == 1 && s->media[0].codecs[0].pt == DC_PT_OPUS);
        CHECK(!strcmp(s->media[0].codecs[0].fmtp, "minptime=10;useinbandfec=1"));
        /* slot 1 has an RTX SSRC: rtx for both codecs, the FID group; slot 3 none */
        CHECK(s->media[1].n_codecs == 4 && s->media[1].codecs[0].pt == DC_PT_VP8);
        CHECK(dc_sdp_rtx_pt(&s->media[1], DC_PT_VP8) == DC_PT_VP8_RTX);
        CHECK(dc_sdp_rtx_pt(&s->media[1], DC_PT_H264) == DC_PT_H264_RTX);
        CHECK(s->media[1].fid_primary == 22222222 && s->media[1].fid_rtx == 33333333);
        CHECK(s->media[3].n_codecs == 2 && dc_sdp_rtx_pt(&s->media[3], DC_PT_VP8) == -1);
        const dc_sdp_codec *h = codec_by_pt(&s->media[1], DC_PT_H264);
        CHECK(h && !strcmp(h->name, "H264") && strstr(h->fmtp, "packetization-mode=1"));
        CHECK(h && strstr(h->fmtp, "profile-level-id=42e01f") && h->fb_nack && h->fb_nack_pli && h->fb_ccm_fir);
        dc_codec_id which;
        CHECK(dc_sdp_pick_codec(&s->media[1], &which) == 0 && which == DC_CODEC_VP8);
    }
    CHECK(strstr(offer, "a=ssrc:4000000000 cname:p4cname\r\n") != NULL);
    free(s);
    free(offer);

    /* refused inputs: CR/LF injection, duplicate mids, bad kind, no slots */
    dc_sdp_slot bad = slots[0];
    strcpy(bad.cname, "x\r\na=evil");
    CHECK(dc_sdp_write_subscribe_offer(&bad, 1, &LOCAL) == NULL);
    bad = slots[0];
    strcpy(bad.msid_track, "two words");
    CHECK(dc_sdp_write_subscribe_offer(&bad, 1, &LOCAL) == NULL);
    bad = slots[0];
    bad.kind = DC_MEDIA_APPLICATION;
    CHECK(dc_sdp_write_subscribe_offer(&bad, 1, &LOCAL) == NULL);
    dc_sdp_slot dup[2] = {slots[0], slots[0]};
    CHECK(dc_sdp_write_subscribe_offer(dup, 2, &LOCAL) == NULL);
    CHECK(dc_sdp_write_subscribe_offer(slots, 0, &LOCAL) == NULL);
    dc_sdp_local bad_local = LOCAL;
    bad_local.ice_ufrag = "a b";
    CHECK(dc_sdp_write_subscribe_offer(slots, 4, &bad_local) == NULL);
    bad_local = LOCAL;
    bad_local.fingerprint = "not:hex";
    CHECK(dc_sdp_write_subscribe_offer(slots, 4, &bad_local) == NULL);
}

/* ------------------------------------------------------------------ codec choice */

/* A minimal WebRTC offer around one video m-line; %s = payload list, then a=… lines. */
static char *video_offer(const char *pts, const char *attrs)
{
    return g_strdup_printf("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
                           "a=ice-ufrag:uf01\r\na=ice-pwd:pw0123456789012345678901\r\n"
                           "a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n"
                           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=sendonly\r\n"
                           "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                           "m=video 9 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=sendonly\r\n"
                           "a=rtcp-mux\r\n%s",
                           pts, attrs);
}

/* Returns the pt picked for the video line (-1 if none) and checks the answer agrees. */
static int picked_video_pt(const char *pts, const char *attrs)
{
    char *text = video_offer(pts, attrs);
    bool ok;
    dc_sdp *s = parse_or_report(text, strlen(text), &ok);
    CHECK(ok);
    int result = -2;
    if (ok) {
        dc_codec_id which;
        int i = dc_sdp_pick_codec(&s->media[1], &which);
        result = i < 0 ? -1 : s->media[1].codecs[i].pt;
        dc_codec_id picked[DC_SDP_MAX_MEDIA];
        uint8_t picked_pt[DC_SDP_MAX_MEDIA];
        char *answer = dc_sdp_write_publish_answer(s, &LOCAL, picked, picked_pt);
        CHECK(answer != NULL);
        if (answer && i >= 0) {
            char line[300];
            CHECK(picked[1] == which && picked_pt[1] == result);
            snprintf(line, sizeof line, "m=video 40000 UDP/TLS/RTP/SAVPF %d\r\n", result);
            CHECK(strstr(answer, line) != NULL);
            CHECK(strstr(answer, "a=group:BUNDLE a v\r\n") != NULL);
            if (s->media[1].codecs[i].fmtp[0]) { /* the offered fmtp is echoed */
                snprintf(line, sizeof line, "a=fmtp:%d %s\r\n", result, s->media[1].codecs[i].fmtp);
                CHECK(strstr(answer, line) != NULL);
            }
        } else if (answer) {
            /* rejected: port 0, the offered payload list, outside BUNDLE */
            char line[300];
            snprintf(line, sizeof line, "m=video 0 UDP/TLS/RTP/SAVPF %s\r\n", pts);
            CHECK(strstr(answer, line) != NULL);
            CHECK(strstr(answer, "a=group:BUNDLE a\r\n") != NULL);
            CHECK(picked[1] == DC_CODEC_NONE && picked[0] == DC_CODEC_OPUS);
        }
        free(answer);
    }
    free(s);
    g_free(text);
    return result;
}

#define H264(pt, params) "a=rtpmap:" #pt " H264/90000\r\na=fmtp:" #pt " " params "\r\n"

static void test_codec_choice(void)
{
    CHECK(picked_video_pt("102", H264(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")) ==
          102);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1;profile-level-id=42001f")) == 102);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1;profile-level-id=42C01F")) == 102);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1")) == 102); /* default 420010 */
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=0;profile-level-id=42e01f")) == -1);
    CHECK(picked_video_pt("102", H264(102, "profile-level-id=42e01f")) == -1); /* mode 0 */
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1;profile-level-id=4d001f")) == -1);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1;profile-level-id=64001f")) == -1);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=1;profile-level-id=42zz1f")) == -1);
    CHECK(picked_video_pt("102", H264(102, "packetization-mode=10;profile-level-id=42e01f")) == -1);
    /* first fitting H.264 entry wins; VP8 wins over H.264 wherever it is offered */
    CHECK(picked_video_pt("104 108", H264(104, "packetization-mode=0;profile-level-id=42e01f")
                                         H264(108, "packetization-mode=1;profile-level-id=42e01f")) == 108);
    CHECK(picked_video_pt("108 96",
                          H264(108, "packetization-mode=1;profile-level-id=42e01f") "a=rtpmap:96 VP8/90000\r\n") == 96);
    /* nothing usable: VP9 and its rtx */
    CHECK(picked_video_pt("98 99", "a=rtpmap:98 VP9/90000\r\na=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n") == -1);
    /* rtcp-fb with a wildcard */
    char *text = video_offer("96", "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:* nack pli\r\n");
    bool ok;
    dc_sdp *s = parse_or_report(text, strlen(text), &ok);
    CHECK(ok && s->media[1].codecs[0].fb_nack_pli && !s->media[1].codecs[0].fb_nack);
    free(s);
    g_free(text);
    /* opus must be 48000/2 */
    text = replace_owned(video_offer("96", "a=rtpmap:96 VP8/90000\r\n"), "opus/48000/2", "opus/48000");
    s = parse_or_report(text, strlen(text), &ok);
    CHECK(ok && dc_sdp_pick_codec(&s->media[0], NULL) == -1);
    free(s);
    g_free(text);
}

/* An offer whose peer is already active (or passive) cannot be answered passive. */
static void test_answer_refuses_wrong_role(void)
{
    char *text = replace_owned(video_offer("96", "a=rtpmap:96 VP8/90000\r\n"), "setup:actpass", "setup:active");
    bool ok;
    dc_sdp *s = parse_or_report(text, strlen(text), &ok);
    CHECK(ok && s->setup == DC_SETUP_ACTIVE);
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    CHECK(ok && dc_sdp_write_publish_answer(s, &LOCAL, picked, picked_pt) == NULL);
    free(s);
    g_free(text);
}

/* ------------------------------------------------------------------ transport merge */

static void test_transport_precedence(void)
{
    const char *base = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE x y\r\n"
                       "a=ice-ufrag:sess\r\na=ice-pwd:sessionpassword0123456789\r\n"
                       "a=fingerprint:sha-256 AA:BB\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:y\r\n%s"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:x\r\n%s";
    /* media level of the BUNDLE-tagged m-line (mid x, the second here) wins */
    char *t1 = g_strdup_printf(base, "a=ice-ufrag:notme\r\na=setup:active\r\n",
                               "a=ice-ufrag:med1\r\na=setup:actpass\r\na=fingerprint:sha-256 CC:DD\r\n");
    bool ok;
    dc_sdp *s = parse_or_report(t1, strlen(t1), &ok);
    CHECK(ok && !strcmp(s->ice_ufrag, "med1") && s->setup == DC_SETUP_ACTPASS);
    CHECK(ok && !strcmp(s->fingerprint, "sha-256 CC:DD") && !strcmp(s->ice_pwd, "sessionpassword0123456789"));
    free(s);
    g_free(t1);
    /* port 0 with a=bundle-only is not a rejection (JSEP max-bundle offers) */
    char *t3 = g_strdup_printf(base, "", "a=bundle-only\r\n");
    t3 = replace_owned(t3, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:x", "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:x");
    s = parse_or_report(t3, strlen(t3), &ok);
    CHECK(ok && !s->media[1].rejected && !s->media[0].rejected);
    free(s);
    t3 = replace_owned(t3, "a=bundle-only\r\n", "");
    s = parse_or_report(t3, strlen(t3), &ok);
    CHECK(ok && s->media[1].rejected);
    free(s);
    g_free(t3);
    /* otherwise session level beats another m-line */
    char *t2 = g_strdup_printf(base, "a=ice-ufrag:notme\r\n", "");
    s = parse_or_report(t2, strlen(t2), &ok);
    CHECK(ok && !strcmp(s->ice_ufrag, "sess") && s->setup == DC_SETUP_NONE);
    free(s);
    g_free(t2);
}

/* ------------------------------------------------------------------ malformed */

static void test_malformed(void)
{
    size_t len = 0;
    char *offer = load_fixture("chromium-publish-offer.sdp", &len);
    if (!offer) return;

    expect_refused("", 0, "empty");
    expect_refused(NULL, 0, "NULL");
    expect_refused("hello world", 11, "garbage");
    expect_refused("\r\n\r\n", 4, "blank lines");
    expect_refused("v=1\r\n", 5, "wrong version");
    expect_refused("v=0\r\n", 5, "no m-lines");
    char *t;
#define REFUSE_EDIT(from, to, what) \
    t = replace(offer, from, to); \
    expect_refused(t, strlen(t), what); \
    g_free(t)
    REFUSE_EDIT("a=ice-ufrag:", "a=x-ice-ufrag:", "missing ufrag");
    REFUSE_EDIT("a=ice-pwd:", "a=x-ice-pwd:", "missing pwd");
    REFUSE_EDIT("a=fingerprint:", "a=x-fingerprint:", "missing fingerprint");
    REFUSE_EDIT("a=group:BUNDLE", "a=x-group:BUNDLE", "missing BUNDLE");
    REFUSE_EDIT("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7", "BUNDLE names unknown mid");
    REFUSE_EDIT("a=mid:1", "a=mid:0", "duplicate mid");
    REFUSE_EDIT("a=mid:1", "a=x-mid:1", "m-line without mid");
    REFUSE_EDIT("SAVPF 111 63", "SAVPF 111 abc", "non-numeric payload type");
    REFUSE_EDIT("SAVPF 111 63", "SAVPF 111 300", "payload type over 127");
    REFUSE_EDIT("m=audio 32816", "m=audio 9x", "non-numeric port");
    REFUSE_EDIT("m=audio 32816", "m=audio 99999", "port over 65535");
    REFUSE_EDIT("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/fast/2", "non-numeric clock");
    REFUSE_EDIT("a=ssrc-group:FID 729896208", "a=ssrc-group:FID 72989620x", "non-numeric ssrc-group");
    REFUSE_EDIT("a=ssrc:2242634001 cname", "a=ssrc:99999999999 cname", "ssrc over 32 bits");
    REFUSE_EDIT("a=setup:actpass", "a=setup:holdconn", "unknown setup");
    REFUSE_EDIT("a=fingerprint:sha-256 FD:47", "a=fingerprint:sha-256 FD:4G", "non-hex fingerprint");
    REFUSE_EDIT("a=ice-ufrag:7ETp", "a=ice-ufrag:7ETp\x01", "control character");
#undef REFUSE_EDIT
    /* a NUL byte in the middle of the text */
    char *nul = g_memdup2(offer, len);
    nul[len / 2] = '\0';
    expect_refused(nul, len, "NUL byte");
    g_free(nul);

    /* 1000 m-lines */
    GString *many = g_string_new(offer);
    for (int i = 0; i < 1000; i++) g_string_append_printf(many, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:m%d\r\n", i);
    expect_refused(many->str, many->len, "1000 m-lines");
    g_string_free(many, TRUE);

    /* a 5000-byte line; and a line of exactly DC_SDP_MAX_LINE bytes is still fine */
    GString *huge = g_string_new(offer);
    g_string_append(huge, "a=x-long:");
    for (int i = 0; i < 5000; i++) g_string_append_c(huge, 'x');
    g_string_append(huge, "\r\n");
    expect_refused(huge->str, huge->len, "huge line");
    g_string_truncate(huge, len);
    g_string_append(huge, "a=x-long:");
    while (huge->len < len + DC_SDP_MAX_LINE) g_string_append_c(huge, 'x');
    g_string_append(huge, "\r\n");
    bool ok;
    dc_sdp *s = parse_or_report(huge->str, huge->len, &ok);
    CHECK(ok);
    free(s);
    /* one byte more, LF only (no CR to strip): refused */
    g_string_truncate(huge, huge->len - 2);
    g_string_append(huge, "x\n");
    expect_refused(huge->str, huge->len, "line of DC_SDP_MAX_LINE + 1 bytes");
    g_string_free(huge, TRUE);

    /* over DC_SDP_MAX_TEXT in total, made of harmless lines */
    GString *big = g_string_new(offer);
    while (big->len <= DC_SDP_MAX_TEXT) g_string_append(big, "a=x-filler:0123456789012345678901234567890123456789\r\n");
    expect_refused(big->str, big->len, "over DC_SDP_MAX_TEXT");
    g_string_free(big, TRUE);

    /* 100 payload types: extra codecs ignored, not an error, never overflowing */
    GString *pts = g_string_new(NULL);
    for (int pt = 0; pt < 100; pt++) g_string_append_printf(pts, "%s%d", pt ? " " : "", pt);
    GString *rtpmaps = g_string_new(NULL);
    for (int pt = 0; pt < 100; pt++)
        g_string_append_printf(rtpmaps, "a=rtpmap:%d VP8/90000\r\na=fmtp:%d x=%d\r\n", pt, pt, pt);
    for (int i = 0; i < 40; i++)
        g_string_append_printf(rtpmaps, "a=extmap:%d urn:x:%d\r\na=ssrc:%d cname:c\r\n", i + 1, i, i + 1);
    char *wide = video_offer(pts->str, rtpmaps->str);
    s = parse_or_report(wide, strlen(wide), &ok);
    CHECK(ok);
    if (ok) {
        CHECK(s->media[1].n_codecs == DC_SDP_MAX_CODECS);
        CHECK(s->media[1].codecs[DC_SDP_MAX_CODECS - 1].pt == DC_SDP_MAX_CODECS - 1);
        CHECK(!strcmp(s->media[1].codecs[5].fmtp, "x=5"));
        CHECK(s->media[1].n_extmaps == DC_SDP_MAX_EXTMAPS && s->media[1].n_ssrcs == DC_SDP_MAX_SSRCS);
    }
    free(s);
    g_free(wide);
    g_string_free(pts, TRUE);
    g_string_free(rtpmaps, TRUE);

    /* every prefix of a real offer: no crash (ASan checks reads), short ones refused */
    for (size_t cut = 0; cut <= len; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, offer, cut);
        dc_sdp *p = malloc(sizeof *p);
        char err[128];
        bool parsed = dc_sdp_parse(copy, cut, p, err, sizeof err);
        if (cut < 300) CHECK(!parsed); /* cut before the first fingerprint */
        if (cut == len) CHECK(parsed);
        free(p);
        free(copy);
    }
    /* a small error buffer is honoured */
    char tiny[4] = "zzz";
    s = malloc(sizeof *s);
    CHECK(!dc_sdp_parse("v=9", 3, s, tiny, sizeof tiny) && strlen(tiny) == 3);
    CHECK(!dc_sdp_parse("v=9", 3, s, NULL, 0));
    free(s);
    g_free(offer);
}

/* Simulcast offers as Chromium and Firefox ESR write them (rid q/h/f): three layers in
 * the send list's order, the answer receiving them with the offer's rid extension ids. */
static void check_simulcast_offer(const char *fixture, uint8_t rid_ext, uint8_t repaired_ext)
{
    size_t len = 0;
    char *text = load_fixture(fixture, &len);
    bool ok;
    dc_sdp *offer = parse_or_report(text, len, &ok);
    CHECK(ok);
    const dc_sdp_media *v = ok ? &offer->media[0] : NULL;
    CHECK(v && v->kind == DC_MEDIA_VIDEO && v->n_rids == 3 && dc_sdp_simulcast_layers(v) == 3);
    if (v) CHECK(!strcmp(v->rids[0], "q") && !strcmp(v->rids[1], "h") && !strcmp(v->rids[2], "f"));
    char *answer = ok ? dc_sdp_write_publish_answer(offer, &LOCAL, NULL, NULL) : NULL;
    CHECK(answer && strstr(answer, "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"));
    dc_sdp *back = answer ? parse_or_report(answer, strlen(answer), &ok) : NULL;
    CHECK(back && ok);
    if (back && ok) {
        CHECK(dc_sdp_extmap_id(&back->media[0], DC_EXT_RID) == rid_ext);
        CHECK(dc_sdp_extmap_id(&back->media[0], DC_EXT_REPAIRED_RID) == repaired_ext);
        CHECK(back->media[0].n_rids == 0); /* recv: not a sender's layers */
    }
    free(back);
    free(answer);
    free(offer);
    g_free(text);
}

static void test_simulcast_offers(void)
{
    check_simulcast_offer("chromium-publish-offer-simulcast.sdp", 10, 11);
    check_simulcast_offer("firefox-publish-offer-simulcast.sdp", 9, 10);

    bool ok;
    /* only rids declared as sending count, alternatives and paused ones by their first
     * name; SIM ssrcs kept when they match; one layer left is no simulcast */
    const char *variants[][3] = {
        {"a=rid:q send\r\na=rid:f send max-width=1280\r\na=rid:x recv\r\na=simulcast:send ~q;h;f,x recv x\r\n", "q,f",
         "2"},
        {"a=simulcast:send rid=a;b\r\na=rid:a send\r\na=rid:b send\r\n", "a,b", "2"},
        {"a=rid:a send\r\na=simulcast:send a;b\r\n", "", "0"},
        {"a=rid:a send\r\na=rid:b send\r\na=simulcast:send a;b\r\na=ssrc-group:SIM 5 6\r\n", "a,b", "2"},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *attrs = g_strdup_printf("a=extmap:9 %s\r\na=rtpmap:96 VP8/90000\r\n%s", DC_EXT_RID, variants[i][0]);
        char *t = video_offer("96", attrs);
        dc_sdp *o = parse_or_report(t, strlen(t), &ok);
        CHECK(ok);
        const dc_sdp_media *v = &o->media[1];
        GString *got = g_string_new("");
        for (size_t r = 0; ok && r < v->n_rids; r++) g_string_append_printf(got, "%s%s", r ? "," : "", v->rids[r]);
        CHECK(ok && !strcmp(got->str, variants[i][1]) && dc_sdp_simulcast_layers(v) == (size_t)atoi(variants[i][2]));
        if (i == 3) CHECK(v->n_sim_ssrcs == 2 && v->sim_ssrcs[0] == 5 && v->sim_ssrcs[1] == 6);
        g_string_free(got, TRUE);
        free(o);
        g_free(t);
        g_free(attrs);
    }
    char *long_rid = video_offer("96", "a=rtpmap:96 VP8/90000\r\na=rid:waytoolongridnameforus send\r\n");
    expect_refused(long_rid, strlen(long_rid), "long rid");
    g_free(long_rid);
}

/* ICE-TCP: the passive TCP candidate beside the UDP one, at a lower priority, before
 * end-of-candidates; none when the engine has no TCP port. */
static void test_tcp_candidate(void)
{
    dc_sdp_slot slot = {"0", DC_MEDIA_AUDIO, true, 11111111, "p3", "p3-audio", "p3cname", 0};
    dc_sdp_local with_tcp = LOCAL;
    with_tcp.tcp_port = 40000;
    char *offer = dc_sdp_write_subscribe_offer(&slot, 1, &with_tcp);
    CHECK(offer != NULL);
    if (!offer) return;
    const char *udp = strstr(offer, "a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host\r\n");
    const char *tcp = strstr(offer, "a=candidate:2 1 tcp 1518280447 203.0.113.7 40000 typ host tcptype passive\r\n");
    const char *end = strstr(offer, "a=end-of-candidates\r\n");
    CHECK(udp && tcp && end && udp < tcp && tcp < end);
    free(offer);
    offer = dc_sdp_write_subscribe_offer(&slot, 1, &LOCAL);
    CHECK(offer && !strstr(offer, " tcp ") && strstr(offer, "a=end-of-candidates\r\n"));
    free(offer);
}

/* RFC 2198 RED (local.red): a publish answer takes the offered red/48000/2 around the picked
 * Opus, listed first (libwebrtc then sends RED), the Opus fmtp (in-band FEC, DTX) as
 * offered; not when its blocks name another codec, not from an offer without it (Firefox
 * ESR); a subscription offer lists it after Opus on each audio slot. */
static void test_red(void)
{
    dc_sdp_local red = LOCAL;
    red.red = true;
    size_t len = 0;
    char *text = load_fixture("chromium-publish-offer.sdp", &len);
    char *dtx = replace(text, "a=fmtp:111 minptime=10;useinbandfec=1",
                        "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1");
    bool ok;
    dc_sdp *offer = parse_or_report(dtx, strlen(dtx), &ok);
    CHECK(ok && dc_sdp_red_pt(&offer->media[0], 111) == 63 && dc_sdp_red_pt(&offer->media[0], 96) == -1);
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    char *answer = ok ? dc_sdp_write_publish_answer(offer, &red, picked, picked_pt) : NULL;
    CHECK(answer && strstr(answer, "m=audio 40000 UDP/TLS/RTP/SAVPF 63 111\r\n"));
    CHECK(answer && strstr(answer, "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"));
    CHECK(answer && picked[0] == DC_CODEC_OPUS && picked_pt[0] == 111);
    dc_sdp *back = answer ? parse_or_report(answer, strlen(answer), &ok) : NULL;
    if (back && ok) {
        CHECK(back->media[0].n_codecs == 2 && dc_sdp_red_pt(&back->media[0], 111) == 63);
        CHECK(!strcmp(back->media[0].codecs[1].fmtp, "minptime=10;useinbandfec=1;usedtx=1"));
        CHECK(back->media[1].n_codecs == 1); /* video has no RED */
    }
    free(back);
    free(answer);
    free(offer);
    /* blocks of another payload type, or red at another clock: not RED around this Opus */
    static const char *const wrong[][2] = {{"a=fmtp:63 111/111", "a=fmtp:63 111/9"},
                                           {"a=fmtp:63 111/111", "a=fmtp:63 111/1111"},
                                           {"a=rtpmap:63 red/48000/2", "a=rtpmap:63 red/90000"}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        char *bad = replace(text, wrong[i][0], wrong[i][1]);
        offer = parse_or_report(bad, strlen(bad), &ok);
        answer = ok ? dc_sdp_write_publish_answer(offer, &red, picked, picked_pt) : NULL;
        CHECK(answer && strstr(answer, "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n") && !strstr(answer, "red/"));
        free(answer);
        free(offer);
        g_free(bad);
    }
    g_free(dtx);
    g_free(text);
    text = load_fixture("firefox-publish-offer.sdp", &len);
    offer = parse_or_report(text, len, &ok);
    answer = ok ? dc_sdp_write_publish_answer(offer, &red, picked, picked_pt) : NULL;
    CHECK(answer && strstr(answer, "m=audio 40000 UDP/TLS/RTP/SAVPF 109\r\n") && !strstr(answer, "red/"));
    free(answer);
    free(offer);
    g_free(text);

    dc_sdp_slot slots[2] = {
        {"0", DC_MEDIA_AUDIO, true, 11111111, "p3", "p3-audio", "p3cname", 0},
        {"1", DC_MEDIA_VIDEO, true, 22222222, "p3", "p3-video", "p3cname", 0},
    };
    char *sub = dc_sdp_write_subscribe_offer(slots, 2, &red);
    CHECK(sub && strstr(sub, "m=audio 40000 UDP/TLS/RTP/SAVPF 111 63\r\n"));
    CHECK(sub && strstr(sub, "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"));
    back = sub ? parse_or_report(sub, strlen(sub), &ok) : NULL;
    CHECK(back && ok && dc_sdp_red_pt(&back->media[0], DC_PT_OPUS) == DC_PT_RED && back->media[1].n_codecs == 2);
    free(back);
    free(sub);
    sub = dc_sdp_write_subscribe_offer(slots, 2, &LOCAL);
    CHECK(sub && strstr(sub, "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n") && !strstr(sub, "red/"));
    free(sub);
}

int main(void)
{
    test_tcp_candidate();
    test_chromium_offer();
    test_simulcast_offers();
    test_firefox_offer();
    test_subscribe_answers();
    test_publish_answers();
    test_publish_answer_audio_level_only_when_offered();
    test_subscribe_offer_round_trip();
    test_codec_choice();
    test_answer_refuses_wrong_role();
    test_transport_precedence();
    test_malformed();
    test_red();
    return CHECK_RESULT();
}
