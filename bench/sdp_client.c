/* See sdp_client.h. Mirrors what Chromium writes, minus what the server ignores. */
#include "sdp_client.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static void session_head(GString *s, const bench_sdp_local *l)
{
    g_string_append_printf(s, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                           (unsigned long long)l->session_id);
}

static void transport_lines(GString *s, const bench_sdp_local *l, const char *setup)
{
    g_string_append_printf(s,
                           "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
                           "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
                           "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n",
                           l->ice_ufrag, l->ice_pwd, l->fingerprint, setup);
}

static void send_section(GString *s, const bench_sdp_local *l, bool video, const char *mid, uint32_t ssrc)
{
    g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n", video ? "video" : "audio", video ? 96 : 111);
    transport_lines(s, l, "actpass");
    g_string_append_printf(s,
                           "a=mid:%s\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                           "a=extmap:%d " BENCH_EXT_URI "\r\na=sendonly\r\na=msid:bench-%s %s-%s\r\na=rtcp-mux\r\n",
                           mid, BENCH_EXT_ID, l->cname, l->cname, video ? "v" : "a");
    if (!video) /* browsers offer it: the server's speaker detection reads it */
        g_string_append_printf(s, "a=extmap:%d " BENCH_AUDIO_LEVEL_URI "\r\n", BENCH_AUDIO_LEVEL_EXT_ID);
    if (video)
        g_string_append_printf(s,
                               "a=extmap:%d " BENCH_TWCC_URI "\r\n"
                               "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 ccm fir\r\n"
                               "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 transport-cc\r\n",
                               BENCH_TWCC_EXT_ID);
    else g_string_append(s, "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n");
    g_string_append_printf(s, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:bench-%s %s-%s\r\n", ssrc, l->cname, ssrc, l->cname,
                           l->cname, video ? "v" : "a");
}

char *bench_sdp_publish_offer(const bench_sdp_local *l, bool audio, bool video, uint32_t audio_ssrc,
                              uint32_t video_ssrc)
{
    if (!audio && !video) return NULL;
    GString *s = g_string_new(NULL);
    session_head(s, l);
    g_string_append_printf(s, "a=group:BUNDLE%s%s\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS bench-%s\r\n",
                           audio ? " 0" : "", video ? (audio ? " 1" : " 0") : "", l->cname);
    if (audio) send_section(s, l, false, "0", audio_ssrc);
    if (video) send_section(s, l, true, audio ? "1" : "0", video_ssrc);
    return g_string_free(s, FALSE);
}

static const char *kind_token(const dc_sdp_media *m) { return m->kind_name[0] ? m->kind_name : "audio"; }

char *bench_sdp_subscribe_answer(const dc_sdp *offer, const bench_sdp_local *l)
{
    GString *s = g_string_new(NULL);
    session_head(s, l);
    g_string_append(s, "a=group:BUNDLE");
    for (size_t i = 0; i < offer->n_media; i++) {
        const dc_sdp_media *m = &offer->media[i];
        bool usable = !m->rejected && m->n_codecs > 0 && (m->kind == DC_MEDIA_AUDIO || m->kind == DC_MEDIA_VIDEO);
        if (usable) g_string_append_printf(s, " %s", m->mid);
    }
    g_string_append_printf(s, "\r\na=msid-semantic: WMS\r\n");
    for (size_t i = 0; i < offer->n_media; i++) {
        const dc_sdp_media *m = &offer->media[i];
        bool usable = !m->rejected && m->n_codecs > 0 && (m->kind == DC_MEDIA_AUDIO || m->kind == DC_MEDIA_VIDEO);
        if (!usable) {
            g_string_append_printf(s, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", kind_token(m),
                                   m->proto[0] ? m->proto : "UDP/TLS/RTP/SAVPF",
                                   m->n_codecs ? "0" : (m->fmt[0] ? m->fmt : "0"), m->mid);
            continue;
        }
        const dc_sdp_codec *c = &m->codecs[0];
        g_string_append_printf(s, "m=%s 9 %s %u\r\n", kind_token(m), m->proto, c->pt);
        transport_lines(s, l, "active");
        g_string_append_printf(s, "a=mid:%s\r\n", m->mid);
        for (size_t e = 0; e < m->n_extmaps; e++)
            g_string_append_printf(s, "a=extmap:%u %s\r\n", m->extmaps[e].id, m->extmaps[e].uri);
        g_string_append_printf(s, "a=%s\r\na=rtcp-mux\r\n", m->direction == DC_DIR_INACTIVE ? "inactive" : "recvonly");
        if (c->channels) g_string_append_printf(s, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
        else g_string_append_printf(s, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
        if (c->fb_nack) g_string_append_printf(s, "a=rtcp-fb:%u nack\r\n", c->pt);
        if (c->fb_nack_pli) g_string_append_printf(s, "a=rtcp-fb:%u nack pli\r\n", c->pt);
        if (c->fb_ccm_fir) g_string_append_printf(s, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
        if (c->fmtp[0]) g_string_append_printf(s, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    }
    return g_string_free(s, FALSE);
}

bool bench_sdp_candidate(const char *sdp, char *ip, size_t ip_len, uint16_t *port)
{
    for (const char *p = strstr(sdp, "a=candidate:"); p; p = strstr(p + 1, "a=candidate:")) {
        char transport[8], addr[64];
        unsigned prt;
        if (sscanf(p, "a=candidate:%*s %*u %7s %*u %63s %u typ", transport, addr, &prt) == 3 &&
            g_ascii_strcasecmp(transport, "udp") == 0 && prt > 0 && prt < 65536) {
            snprintf(ip, ip_len, "%s", addr);
            *port = (uint16_t)prt;
            return true;
        }
    }
    return false;
}
