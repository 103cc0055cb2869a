/* The router in memory: a worker's core (sfu/core.h) without socket or thread, fed
 * SRTP datagrams with a given clock, its send batch read before anything sends it. Peers
 * are transports whose ICE binding and DTLS-SRTP keys the test sets directly (white-box),
 * each with a libsrtp session of its own side to protect what it sends and open what it
 * gets. No sockets, no sleeps.
 *
 * Covers: sequence/timestamp continuity across slot re-pointing, keyframe gating after a
 * switch, PLI throttling (and a subscriber's PLI relayed), sender-report translation,
 * shortest-first ordering, padding for GSO and the GSO regrouping of a send batch,
 * commands that fail reported as events, the stream gate (drops counted, continuity and a
 * keyframe request when it opens), RFC 6464 audio level reports and the room events keep
 * in a queue full of them; simulcast: layers learnt by rid, a slot's switch waiting for
 * the target layer's keyframe (requested, throttled per layer), sequence numbers,
 * timestamps, VP8 picture ids and TL0PICIDX continuous across it, temporal-layer
 * dropping without a gap (a single-layer screen's temporal levels under a site budget too), quiet layers not offered, quality off; transport-wide congestion
 * control (numbered packets, feedback read, SFU_EV_BANDWIDTH); loss repair (a subscriber's
 * NACK answered by RTX or a resend, once per round trip, never across a re-pointing; the
 * publisher's gaps NACKed and its RTX unwrapped and forwarded; receiver reports; the switch
 * that turns repair off) and twenty subscribers' keyframe requests reaching the publisher
 * as a bounded few PLIs. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bwe/bwe.h"
#include "check.h"
#include "core.h"
#include "router.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rtp/rtx.h"
#include "rtp/twcc.h"
#include "simulcast.h"
#include "temporal.h"

#define ROOM 7
#define SEC 1000000

typedef struct {
    uint32_t id;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    sfu_srtp *srtp; /* the peer's own side */
} peer;

/* what the core queued, decrypted per peer */
typedef struct {
    bool rtcp;
    uint8_t buf[SFU_TX_BUF];
    size_t len;
    size_t wire_len;  /* as sent (encrypted) */
    sfu_rtp_header h; /* RTP only */
} got;

typedef struct {
    uint8_t data[SFU_TX_BUF];
    size_t len;
    struct sockaddr_storage to;
} sent_datagram;

static sfu_core *core;
static sfu_dtls_cert *client_cert;
static uint8_t rx_bufs[SFU_RX_BATCH][SFU_RX_BUF]; /* valid until the batch ends, as recvmmsg's */
static unsigned rx_used;
static sent_datagram sent[4096];
static size_t n_sent, n_batches_full;

/* The send batch, kept instead of sent: the core's tx_full, and the test's read. */
static void keep_batch(void *user, sfu_tx_batch *tx)
{
    (void)user;
    for (unsigned i = 0; i < tx->count && n_sent < 4096; i++) {
        sent_datagram *d = &sent[n_sent++];
        d->len = tx->iov[i].iov_len;
        memcpy(d->data, tx->bufs[i], d->len);
        memset(&d->to, 0, sizeof d->to);
        memcpy(&d->to, &tx->to[i], tx->msgs[i].msg_hdr.msg_namelen);
    }
    tx->count = 0;
}

static void on_full(void *user, sfu_tx_batch *tx)
{
    n_batches_full++;
    keep_batch(user, tx);
}

static void make_keys(sfu_srtp_keys *server, sfu_srtp_keys *client, uint32_t id)
{
    *server = (sfu_srtp_keys){.profile = SFU_SRTP_AEAD_AES_128_GCM, .master_len = 28};
    memset(server->local_master, (int)(0x10 + id), 28);
    memset(server->remote_master, (int)(0x80 + id), 28);
    *client = *server;
    memcpy(client->local_master, server->remote_master, 28);
    memcpy(client->remote_master, server->local_master, 28);
}

/* A transport as if ICE had bound 127.0.0.1:port and DTLS had given SRTP keys. */
static peer connect_peer(uint32_t id, uint16_t port)
{
    peer p = {.id = id};
    sfu_cmd add = {.type = SFU_CMD_TRANSPORT_ADD, .id = id, .room_id = ROOM};
    snprintf(add.ufrag, sizeof add.ufrag, "ufrag%u", id);
    snprintf(add.pwd, sizeof add.pwd, "password-of-transport-%u", id);
    snprintf(add.fingerprint, sizeof add.fingerprint, "sha-256 %s", sfu_dtls_cert_fingerprint(client_cert));
    sfu_core_apply(core, &add);
    sfu_transport *t = g_hash_table_lookup(core->transports, GUINT_TO_POINTER(id));
    CHECK(t != NULL);
    if (!t) return p;
    struct sockaddr_in *sin = (struct sockaddr_in *)&p.addr;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p.addr_len = sizeof *sin;
    t->addr = p.addr;
    t->addr_len = p.addr_len;
    sfu_addr_key_from(&t->addr_key, &t->addr);
    t->has_addr = true;
    g_hash_table_insert(core->transports_by_addr, &t->addr_key, t);
    sfu_srtp_keys server, client;
    make_keys(&server, &client, id);
    t->srtp = sfu_srtp_new(&server);
    p.srtp = sfu_srtp_new(&client);
    CHECK(t->srtp && p.srtp);
    return p;
}

static void free_peers(peer **ps, size_t n)
{
    for (size_t i = 0; i < n; i++) sfu_srtp_free(ps[i]->srtp);
}

/* A stream with the gate (blocked) and audio level extension (0: none) it starts with. */
static void add_stream_desc(const sfu_stream_desc *d)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_ADD, .id = d->stream_id, .room_id = ROOM, .stream = *d};
    sfu_core_apply(core, &c);
}

static void add_stream_with(uint32_t stream_id, const peer *p, sfu_kind kind, uint8_t pt, uint32_t ssrc, bool blocked,
                            uint8_t audio_level_ext_id)
{
    add_stream_desc(&(sfu_stream_desc){.stream_id = stream_id,
                                       .transport_id = p->id,
                                       .room_id = ROOM,
                                       .kind = kind,
                                       .codec = kind == SFU_KIND_AUDIO ? SFU_CODEC_OPUS : SFU_CODEC_VP8,
                                       .pt = pt,
                                       .ssrc = ssrc,
                                       .audio_level_ext_id = audio_level_ext_id,
                                       .blocked = blocked});
}

static void add_stream(uint32_t stream_id, const peer *p, sfu_kind kind, uint8_t pt, uint32_t ssrc)
{
    add_stream_with(stream_id, p, kind, pt, ssrc, false, 0);
}

static void set_forwarding(uint32_t stream_id, uint32_t room_id, bool forward)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_SET_FORWARDING, .id = stream_id, .room_id = room_id, .forward = forward};
    sfu_core_apply(core, &c);
}

static void add_slot(uint32_t slot_id, const peer *p, sfu_kind kind, uint32_t out_ssrc)
{
    sfu_cmd c = {
        .type = SFU_CMD_SLOT_ADD, .id = slot_id, .room_id = ROOM, .target_id = p->id, .kind = kind, .ssrc = out_ssrc};
    sfu_core_apply(core, &c);
}

static void point(uint32_t slot_id, uint32_t stream_id, uint8_t pt)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_POINT, .id = slot_id, .room_id = ROOM, .target_id = stream_id, .pt = pt};
    sfu_core_apply(core, &c);
}

/* RTP with a VP8 payload descriptor (S=1, PID=0) whose P bit says key or delta frame,
 * padded with payload to `len` octets; or Opus-like audio when pt is 111. */
static size_t rtp_packet(uint8_t *buf, uint8_t pt, uint32_t ssrc, uint16_t seq, uint32_t ts, bool key, size_t len)
{
    memset(buf, 0, len);
    buf[0] = 0x80;
    buf[1] = (uint8_t)(0x80 | pt);
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, ssrc);
    buf[12] = 0x10;
    buf[13] = key ? 0x10 : 0x11;
    memset(buf + 14, 0xab, len - 14);
    return len;
}

/* Opus-like audio (pt 111) whose one-byte header extension (RFC 8285) `ext_id` carries
 * the RFC 6464 octet: V bit (voice) and the level in -dBov. */
static size_t audio_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, uint8_t ext_id, bool voice,
                           uint8_t level)
{
    size_t len = 12 + 8 + 40;
    memset(buf, 0, len);
    buf[0] = 0x90; /* version 2, X */
    buf[1] = 111;
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, ssrc);
    sfu_wr16(buf + 12, 0xBEDE);
    sfu_wr16(buf + 14, 1);            /* one 32-bit word of extensions */
    buf[16] = (uint8_t)(ext_id << 4); /* length 0: one octet */
    buf[17] = (uint8_t)((voice ? 0x80 : 0) | (level & 0x7f));
    memset(buf + 20, 0xab, len - 20);
    return len;
}

/* The peer sends one datagram (RTP or RTCP, protected with its keys) into the batch. */
static void feed(const peer *p, const uint8_t *plain, size_t len, bool rtcp)
{
    uint8_t *buf = rx_bufs[rx_used++ % SFU_RX_BATCH];
    memcpy(buf, plain, len);
    int rc = rtcp ? sfu_srtp_protect_rtcp(p->srtp, buf, &len, SFU_RX_BUF)
                  : sfu_srtp_protect_rtp(p->srtp, buf, &len, SFU_RX_BUF);
    CHECK(rc == 0);
    sfu_core_on_datagram(core, buf, len, &p->addr, p->addr_len, false);
}

static void send_video(const peer *p, uint32_t ssrc, uint16_t seq, uint32_t ts, bool key)
{
    uint8_t pkt[200];
    feed(p, pkt, rtp_packet(pkt, 96, ssrc, seq, ts, key, 114), false);
}

/* Ends the receive batch at time now; what it queued stays in the send batch. */
static void end_batch(void)
{
    sfu_core_end_batch(core);
    rx_used = 0;
}

/* Takes the send batch, then decrypts, in order, what went to p. */
static size_t received(const peer *p, got *out, size_t max)
{
    keep_batch(NULL, core->tx);
    size_t n = 0;
    sfu_addr_key want, to;
    sfu_addr_key_from(&want, &p->addr);
    for (size_t i = 0; i < n_sent && n < max; i++) {
        sfu_addr_key_from(&to, &sent[i].to);
        if (memcmp(&want, &to, sizeof want) != 0) continue;
        got *g = &out[n];
        memcpy(g->buf, sent[i].data, sent[i].len);
        g->len = g->wire_len = sent[i].len;
        g->rtcp = sfu_pkt_classify(g->buf, g->len) == SFU_PKT_RTCP;
        int rc = g->rtcp ? sfu_srtp_unprotect_rtcp(p->srtp, g->buf, &g->len)
                         : sfu_srtp_unprotect_rtp(p->srtp, g->buf, &g->len);
        CHECK(rc == 0);
        if (rc == 0 && (g->rtcp || sfu_rtp_parse(g->buf, g->len, &g->h))) n++;
    }
    return n;
}

static void forget_sent(void)
{
    keep_batch(NULL, core->tx);
    n_sent = 0;
}

/* Counts RTCP packets of type pt/fmt for media (feedback) or sender (SR) ssrc among gs. */
static size_t count_rtcp(const got *gs, size_t n, uint8_t pt, uint8_t fmt, uint32_t ssrc, sfu_rtcp_packet *last)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!gs[i].rtcp) continue;
        sfu_rtcp_iter it;
        sfu_rtcp_packet p;
        sfu_rtcp_iter_init(&it, gs[i].buf, gs[i].len);
        while (sfu_rtcp_iter_next(&it, &p)) {
            bool feedback = pt == SFU_RTCP_PSFB || pt == SFU_RTCP_RTPFB;
            if (p.pt == pt && (!feedback || p.fmt == fmt) && (feedback ? p.media_ssrc : p.sender_ssrc) == ssrc) {
                count++;
                if (last) *last = p;
            }
        }
    }
    return count;
}

static size_t count_rtp(const got *gs, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += !gs[i].rtcp;
    return count;
}

/* Every queued event (the tick's link reports of all the test's transports among them). */
static size_t drain_events(const sfu_event **evs)
{
    static sfu_event all[SFU_EVENT_QUEUE_MAX];
    *evs = all;
    return sfu_event_drain(&core->events, all, SFU_EVENT_QUEUE_MAX);
}

static size_t count_events(sfu_event_type type, uint32_t id, char *detail, size_t cap)
{
    const sfu_event *evs;
    size_t n = drain_events(&evs), count = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].type != type || evs[i].id != id) continue;
        count++;
        if (detail) snprintf(detail, cap, "%s", evs[i].detail);
    }
    return count;
}

static got gs[512];

static uint64_t drops(sfu_drop_reason why) { return atomic_load(&core->counters.drops[why]); }

/* Continuity across re-pointing, keyframe gating, PLI throttling, SR translation. */
static void test_switching(void)
{
    peer pub1 = connect_peer(1, 5001), pub2 = connect_peer(2, 5002), sub = connect_peer(3, 5003);
    add_stream(11, &pub1, SFU_KIND_VIDEO, 96, 0x1111);
    add_stream(12, &pub2, SFU_KIND_VIDEO, 96, 0x2222);
    add_slot(21, &sub, SFU_KIND_VIDEO, 0x5555);
    point(21, 11, 100);
    forget_sent();
    uint64_t requests_in = core->counters.keyframe_requests_in, requests_out = core->counters.keyframe_requests_out;

    /* a delta frame cannot start a decoder: held back, and the publisher asked for a keyframe */
    core->now_us = 1 * SEC;
    send_video(&pub1, 0x1111, 999, 87000, false);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    size_t n = received(&pub1, gs, 512);
    CHECK(count_rtcp(gs, n, SFU_RTCP_PSFB, 1, 0x1111, NULL) == 1);
    CHECK(count_events(SFU_EV_STREAM_ACTIVE, 11, NULL, 0) == 1);
    forget_sent();

    /* the keyframe starts the slot: same numbers, the slot's SSRC and payload type */
    core->now_us = 1 * SEC + 10000;
    send_video(&pub1, 0x1111, 1000, 90000, true);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x5555 && gs[0].h.pt == 100 && gs[0].h.seq == 1000 && gs[0].h.ts == 90000);
    forget_sent();
    core->now_us = 1 * SEC + 43000;
    send_video(&pub1, 0x1111, 1001, 93000, false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.seq == 1001 && gs[0].h.ts == 93000);
    forget_sent();

    /* re-pointed: pub2's delta frames are held and ask for a keyframe, throttled to one per
     * 500 ms however many arrive */
    point(21, 12, 100);
    for (int i = 0; i < 3; i++) {
        core->now_us = 1 * SEC + 100000 + i * 100000; /* 1.1, 1.2, 1.3 s */
        send_video(&pub2, 0x2222, (uint16_t)(40 + i), 4777u + 1000u * (unsigned)i, false);
        end_batch();
    }
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    CHECK(count_rtcp(gs, received(&pub2, gs, 512), SFU_RTCP_PSFB, 1, 0x2222, NULL) == 1);
    forget_sent();
    core->now_us = 1 * SEC + 600001; /* past the throttle: asked again */
    send_video(&pub2, 0x2222, 43, 7700, false);
    end_batch();
    CHECK(count_rtcp(gs, received(&pub2, gs, 512), SFU_RTCP_PSFB, 1, 0x2222, NULL) == 1);
    forget_sent();

    /* pub2's keyframe continues the slot: next sequence number, and the timestamp advanced
     * by the wall time since the last packet sent (1.043 s → 1.7 s: 657 ms × 90 kHz) */
    core->now_us = 1 * SEC + 700000;
    send_video(&pub2, 0x2222, 50, 7777, true);
    end_batch();
    n = received(&sub, gs, 512);
    uint32_t switched_ts = 93000 + 657000 * 90 / 1000;
    CHECK(n == 1 && gs[0].h.ssrc == 0x5555 && gs[0].h.seq == 1002 && gs[0].h.ts == switched_ts);
    forget_sent();
    core->now_us = 1 * SEC + 733000;
    send_video(&pub2, 0x2222, 51, 10777, false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.seq == 1003 && gs[0].h.ts == switched_ts + 3000);
    forget_sent();

    /* the subscriber's PLI for its slot reaches the slot's current source, throttled too */
    uint8_t rtcp[64];
    core->now_us = 2 * SEC + 200000;
    feed(&sub, rtcp, sfu_rtcp_write_pli(rtcp, sizeof rtcp, 0x9999, 0x5555), true);
    feed(&sub, rtcp, sfu_rtcp_write_pli(rtcp, sizeof rtcp, 0x9999, 0x5555), true);
    end_batch();
    CHECK(count_rtcp(gs, received(&pub2, gs, 512), SFU_RTCP_PSFB, 1, 0x2222, NULL) == 1);
    CHECK(count_rtcp(gs, received(&pub1, gs, 512), SFU_RTCP_PSFB, 1, 0x1111, NULL) == 0);
    forget_sent();
    /* counted (/metrics): the subscriber's two PLIs; the four PLIs that went out */
    CHECK(core->counters.keyframe_requests_in - requests_in == 2);
    CHECK(core->counters.keyframe_requests_out - requests_out == 4);

    /* a sender report reaches the subscriber in the slot's SSRC and timestamp space */
    feed(&pub2, rtcp, sfu_rtcp_write_sr(rtcp, sizeof rtcp, 0x2222, 0x0123456789abcdefull, 10777, 3, 300), true);
    end_batch();
    sfu_rtcp_packet sr;
    uint64_t ntp = 0;
    uint32_t rtp_ts = 0, packets, octets;
    CHECK(count_rtcp(gs, received(&sub, gs, 512), SFU_RTCP_SR, 0, 0x5555, &sr) == 1);
    CHECK(sfu_rtcp_sr_info(&sr, &ntp, &rtp_ts, &packets, &octets));
    CHECK(ntp == 0x0123456789abcdefull && rtp_ts == switched_ts + 3000 && packets == 3 && octets == 300);
    forget_sent();

    /* pointed at nothing: nothing is forwarded, and no keyframe is asked for */
    point(21, 0, 100);
    core->now_us = 3 * SEC;
    send_video(&pub2, 0x2222, 52, 13777, false);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    CHECK(count_rtcp(gs, received(&pub2, gs, 512), SFU_RTCP_PSFB, 1, 0x2222, NULL) == 0);
    forget_sent();
    free_peers((peer *[]){&pub1, &pub2, &sub}, 3);
}

/* One batch with a 3-packet video frame, a 1-packet video frame and an audio packet, in
 * that arrival order: the subscriber gets audio, then the short frame, then the long one;
 * each stream's own order kept. With GSO padding on, the long frame's packets leave with
 * one size but the last (a run the kernel sends as one super-datagram). */
static void test_shortest_first(void)
{
    peer pa = connect_peer(31, 5031), pb = connect_peer(32, 5032), pc = connect_peer(33, 5033);
    peer sub = connect_peer(34, 5034);
    add_stream(41, &pa, SFU_KIND_VIDEO, 96, 0xa1);
    add_stream(42, &pb, SFU_KIND_VIDEO, 96, 0xb1);
    add_stream(43, &pc, SFU_KIND_AUDIO, 111, 0xc1);
    add_slot(51, &sub, SFU_KIND_VIDEO, 0x51);
    add_slot(52, &sub, SFU_KIND_VIDEO, 0x52);
    add_slot(53, &sub, SFU_KIND_AUDIO, 0x53);
    point(51, 41, 96);
    point(52, 42, 96);
    point(53, 43, 111);
    forget_sent();

    core->pad_for_gso = true;
    core->now_us = 10 * SEC;
    uint8_t pkt[1300];
    /* keyframes, so every slot starts at once; sizes a byte apart as libwebrtc makes them */
    for (uint16_t i = 0; i < 3; i++)
        feed(&pa, pkt, rtp_packet(pkt, 96, 0xa1, (uint16_t)(100 + i), 9000, i == 0, 1000u + i), false);
    feed(&pb, pkt, rtp_packet(pkt, 96, 0xb1, 200, 18000, true, 500), false);
    feed(&pc, pkt, rtp_packet(pkt, 111, 0xc1, 300, 48000, false, 80), false);
    end_batch();
    size_t n = received(&sub, gs, 512);
    CHECK(n == 5);
    if (n == 5) {
        CHECK(gs[0].h.ssrc == 0x53);
        CHECK(gs[1].h.ssrc == 0x52);
        CHECK(gs[2].h.ssrc == 0x51 && gs[2].h.seq == 100);
        CHECK(gs[3].h.ssrc == 0x51 && gs[3].h.seq == 101);
        CHECK(gs[4].h.ssrc == 0x51 && gs[4].h.seq == 102);
        /* padded to the longest (1002); the receiver sees the payload unchanged */
        CHECK(gs[2].wire_len == gs[3].wire_len && gs[3].wire_len == gs[4].wire_len);
        CHECK(gs[2].h.padding && gs[2].h.payload_len == 1000 - 12);
        CHECK(!gs[4].h.padding && gs[4].h.payload_len == 1002 - 12);
    }
    core->pad_for_gso = false;
    forget_sent();
    free_peers((peer *[]){&pa, &pb, &pc, &sub}, 4);
}

/* A fan-out larger than one send batch: the core hands the full batch to its owner (the
 * test here) instead of sending; every receiver gets its packet exactly once. */
static void test_full_batch(void)
{
    enum { RECEIVERS = 300 };
    peer pub = connect_peer(60, 5060);
    static peer subs[RECEIVERS];
    add_stream(61, &pub, SFU_KIND_AUDIO, 111, 0x61);
    for (uint32_t i = 0; i < RECEIVERS; i++) {
        subs[i] = connect_peer(1000 + i, (uint16_t)(20000 + i));
        add_slot(2000 + i, &subs[i], SFU_KIND_AUDIO, 0x7000 + i);
        point(2000 + i, 61, 111);
    }
    forget_sent();
    n_batches_full = 0;
    core->now_us = 20 * SEC;
    uint8_t pkt[200];
    feed(&pub, pkt, rtp_packet(pkt, 111, 0x61, 1, 480, false, 100), false);
    end_batch();
    CHECK(n_batches_full == 1);
    CHECK(core->tx->count == RECEIVERS - SFU_TX_BATCH);
    bool all_once = true;
    for (uint32_t i = 0; i < RECEIVERS; i++) {
        size_t n = received(&subs[i], gs, 4);
        all_once = all_once && n == 1 && gs[0].h.ssrc == 0x7000 + i && gs[0].h.seq == 1;
    }
    CHECK(all_once);
    forget_sent();
    for (uint32_t i = 0; i < RECEIVERS; i++) sfu_srtp_free(subs[i].srtp);
    free_peers((peer *[]){&pub}, 1);
}

static bool present(GHashTable *table, uint32_t id) { return g_hash_table_contains(table, GUINT_TO_POINTER(id)); }

/* Commands that cannot be applied come back as events naming the transport; removes name
 * the room. */
static void test_command_failures(void)
{
    char detail[96];
    count_events(0, 0, NULL, 0); /* forget earlier events */
    peer a = connect_peer(70, 5070);
    sfu_cmd dup = {.type = SFU_CMD_TRANSPORT_ADD, .id = 71, .room_id = ROOM};
    snprintf(dup.ufrag, sizeof dup.ufrag, "ufrag70"); /* a's ufrag */
    sfu_core_apply(core, &dup);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 71, detail, sizeof detail) == 1 && strstr(detail, "ufrag"));

    for (uint32_t i = 0; i < SFU_MAX_STREAMS_PER_TRANSPORT + 1; i++)
        add_stream(80 + i, &a, SFU_KIND_AUDIO, 111, 0x8000 + i);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 70, detail, sizeof detail) == 1 && strstr(detail, "too many"));

    add_slot(90, &(peer){.id = 999}, SFU_KIND_VIDEO, 0x90);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 999, detail, sizeof detail) == 1 && strstr(detail, "unknown transport"));

    /* a slot is pointed only at a stream of its own kind and room */
    add_slot(91, &a, SFU_KIND_VIDEO, 0x91);
    point(91, 80, 96); /* audio */
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 70, detail, sizeof detail) == 1 && strstr(detail, "kind"));
    sfu_slot *slot = g_hash_table_lookup(core->slots, GUINT_TO_POINTER(91));
    sfu_stream *other_room = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(80));
    other_room->desc.room_id = ROOM + 1;
    other_room->desc.kind = SFU_KIND_VIDEO;
    CHECK(slot && !sfu_slot_set_source(slot, other_room, 96) && slot->source == NULL);
    other_room->desc.room_id = ROOM;
    other_room->desc.kind = SFU_KIND_AUDIO;
    sfu_cmd wrong_room = {.type = SFU_CMD_SLOT_POINT, .id = 91, .room_id = ROOM + 1, .target_id = 80};
    sfu_core_apply(core, &wrong_room);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 0, detail, sizeof detail) == 1 && strstr(detail, "unknown slot"));

    /* a remove names the room: another room's call removes nothing */
    sfu_cmd removes[] = {{.type = SFU_CMD_SLOT_REMOVE, .id = 91, .room_id = ROOM + 1},
                         {.type = SFU_CMD_STREAM_REMOVE, .id = 80, .room_id = ROOM + 1},
                         {.type = SFU_CMD_TRANSPORT_REMOVE, .id = 70, .room_id = ROOM + 1}};
    for (size_t i = 0; i < 3; i++) sfu_core_apply(core, &removes[i]);
    CHECK(present(core->slots, 91) && present(core->streams, 80) && present(core->transports, 70));
    for (size_t i = 0; i < 3; i++) removes[i].room_id = ROOM;
    for (size_t i = 0; i < 3; i++) sfu_core_apply(core, &removes[i]);
    CHECK(!present(core->slots, 91) && !present(core->streams, 80) && !present(core->transports, 70));
    free_peers((peer *[]){&a}, 1);
}

/* The GSO regrouping of a send batch, alone: per destination, each one's order kept, a
 * run of equal sizes (the last may be smaller) becomes one message. */
static void test_gso_regroup(void)
{
#if SFU_GSO && defined(UDP_SEGMENT)
    static sfu_tx_batch tx;
    struct sockaddr_storage a = {0}, b = {0};
    ((struct sockaddr_in *)&a)->sin_family = AF_INET;
    ((struct sockaddr_in *)&a)->sin_port = htons(1);
    ((struct sockaddr_in *)&b)->sin_family = AF_INET;
    ((struct sockaddr_in *)&b)->sin_port = htons(2);
    /* A:1000 B:500 A:1000 A:900 A:1000 B:500 B:600 */
    const struct sockaddr_storage *to[] = {&a, &b, &a, &a, &a, &b, &b};
    size_t len[] = {1000, 500, 1000, 900, 1000, 500, 600};
    tx.count = 0;
    for (unsigned i = 0; i < 7; i++) {
        CHECK(sfu_tx_batch_buf(&tx) != NULL);
        sfu_tx_batch_commit(&tx, to[i], sizeof(struct sockaddr_in), len[i]);
    }
    unsigned msgs = sfu_tx_batch_regroup(&tx);
    /* A: [0 2 3] (900 ends the run), [4]; B: [1 5], [6] (larger: a new message) */
    CHECK(msgs == 4);
    CHECK(tx.segs[0] == 3 && tx.segs[1] == 1 && tx.segs[2] == 2 && tx.segs[3] == 1);
    CHECK(tx.entry_of[0] == 0 && tx.entry_of[1] == 2 && tx.entry_of[2] == 3 && tx.entry_of[3] == 4);
    CHECK(tx.entry_of[4] == 1 && tx.entry_of[5] == 5 && tx.entry_of[6] == 6);
    CHECK(tx.gmsgs[0].msg_hdr.msg_controllen > 0 && tx.gmsgs[1].msg_hdr.msg_controllen == 0);
    uint16_t gso_size = 0;
    memcpy(&gso_size, CMSG_DATA(CMSG_FIRSTHDR(&tx.gmsgs[0].msg_hdr)), sizeof gso_size);
    CHECK(gso_size == 1000);
    /* one datagram per destination: nothing to regroup */
    tx.count = 0;
    sfu_tx_batch_commit(&tx, &a, sizeof(struct sockaddr_in), 100);
    sfu_tx_batch_commit(&tx, &b, sizeof(struct sockaddr_in), 100);
    CHECK(sfu_tx_batch_regroup(&tx) == 0);
    /* the batch holds its own copy of a destination */
    ((struct sockaddr_in *)&a)->sin_port = htons(9);
    CHECK(tx.to[0].v4.sin_port == htons(1));
#endif
}

/* The gate: a closed stream's packets are dropped (counted) and reach no slot, ask for no
 * keyframe; when it opens, the publisher of a video stream is asked for one at once, and
 * the slot continues its sequence numbers and timestamps across the gap. */
static void test_gate(void)
{
    count_events(0, 0, NULL, 0);
    peer pub = connect_peer(101, 5101), sub = connect_peer(102, 5102);
    add_stream(111, &pub, SFU_KIND_VIDEO, 96, 0x111);
    add_stream_with(112, &pub, SFU_KIND_AUDIO, 111, 0x112, true, 0); /* starts gated */
    add_slot(121, &sub, SFU_KIND_VIDEO, 0x121);
    add_slot(122, &sub, SFU_KIND_AUDIO, 0x122);
    point(121, 111, 96);
    point(122, 112, 111);
    forget_sent();

    /* the video flows; the audio, gated from the start, is counted and goes nowhere */
    uint64_t not_allowed = drops(SFU_DROP_NOT_ALLOWED);
    uint8_t pkt[200];
    core->now_us = 30 * SEC;
    send_video(&pub, 0x111, 500, 45000, true);
    feed(&pub, pkt, rtp_packet(pkt, 111, 0x112, 700, 96000, false, 80), false);
    end_batch();
    size_t n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x121 && gs[0].h.seq == 500);
    CHECK(drops(SFU_DROP_NOT_ALLOWED) == not_allowed + 1);
    CHECK(count_events(SFU_EV_STREAM_ACTIVE, 112, NULL, 0) == 1); /* it did arrive */
    forget_sent();

    /* the video closed: dropped, counted, and no keyframe asked for it */
    set_forwarding(111, ROOM, false);
    set_forwarding(111, ROOM, false); /* (twice: no change) */
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 101, NULL, 0) == 0);
    for (int i = 0; i < 5; i++) {
        core->now_us = 30 * SEC + 33000 * (i + 1);
        send_video(&pub, 0x111, (uint16_t)(501 + i), 45000u + 3000u * (unsigned)(i + 1), i == 2);
        end_batch();
    }
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_PSFB, 1, 0x111, NULL) == 0);
    CHECK(drops(SFU_DROP_NOT_ALLOWED) == not_allowed + 6);
    forget_sent();

    /* opened at 31 s: the publisher is asked for a keyframe at once; the delta frames before
     * it are held; the keyframe continues the slot (seq 501, ts advanced by 1 s of 90 kHz
     * plus the 50 ms to the keyframe) */
    core->now_us = 31 * SEC;
    set_forwarding(111, ROOM, true);
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_PSFB, 1, 0x111, NULL) == 1);
    forget_sent();
    core->now_us = 31 * SEC + 20000;
    send_video(&pub, 0x111, 540, 150000, false);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    core->now_us = 31 * SEC + 50000;
    send_video(&pub, 0x111, 541, 153000, true);
    end_batch();
    n = received(&sub, gs, 512);
    uint32_t reopened_ts = 45000 + 1050000 * 90 / 1000;
    CHECK(count_rtp(gs, n) == 1);
    CHECK(n >= 1 && gs[n - 1].h.seq == 501 && gs[n - 1].h.ts == reopened_ts);
    forget_sent();
    core->now_us = 31 * SEC + 83000;
    send_video(&pub, 0x111, 542, 156000, false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.seq == 502 && gs[0].h.ts == reopened_ts + 3000);
    forget_sent();

    /* the audio opened: its next packet flows at once (no keyframe to wait for) */
    set_forwarding(112, ROOM, true);
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_PSFB, 1, 0x112, NULL) == 0);
    feed(&pub, pkt, rtp_packet(pkt, 111, 0x112, 760, 99000, false, 80), false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x122 && gs[0].h.seq == 760);
    forget_sent();

    /* an unknown stream, or one named with another room, is a failed command */
    char detail[96];
    set_forwarding(999, ROOM, true);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 0, detail, sizeof detail) == 1 && strstr(detail, "unknown stream"));
    set_forwarding(112, ROOM + 1, false);
    CHECK(count_events(SFU_EV_COMMAND_FAILED, 0, detail, sizeof detail) == 1 && strstr(detail, "unknown stream"));
    sfu_stream *audio = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(112));
    CHECK(audio && !audio->desc.blocked);
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* The SFU_EV_AUDIO_LEVEL events of one tick, by stream id (level, voice) in got_level. */
typedef struct {
    uint32_t id;
    int level, voice;
} level_report;

static size_t audio_levels(level_report *out, size_t max)
{
    const sfu_event *evs;
    size_t n = drain_events(&evs), count = 0;
    for (size_t i = 0; i < n && count < max; i++)
        if (evs[i].type == SFU_EV_AUDIO_LEVEL)
            out[count++] = (level_report){evs[i].id, evs[i].audio_level, evs[i].voice_percent};
    return count;
}

static void send_level(const peer *p, uint32_t ssrc, uint16_t seq, uint8_t ext_id, bool voice, uint8_t level)
{
    uint8_t pkt[200];
    feed(p, pkt, audio_packet(pkt, ssrc, seq, (uint32_t)seq * 960, ext_id, voice, level), false);
}

/* Audio levels: per interval, the mean loudness (127 − level) and voice share of the
 * packets that carried one, gated streams included; none for a stream that did not
 * negotiate the extension, sent nothing, or is video. */
static void test_audio_levels(void)
{
    count_events(0, 0, NULL, 0);
    peer pa = connect_peer(131, 5131), pb = connect_peer(132, 5132), sub = connect_peer(133, 5133);
    add_stream_with(141, &pa, SFU_KIND_AUDIO, 111, 0x141, false, 1);
    add_stream_with(142, &pb, SFU_KIND_AUDIO, 111, 0x142, true, 3);  /* gated */
    add_stream_with(143, &pb, SFU_KIND_AUDIO, 111, 0x143, false, 0); /* not negotiated */
    add_stream_with(144, &pa, SFU_KIND_AUDIO, 111, 0x144, false, 2); /* sends nothing */
    add_slot(151, &sub, SFU_KIND_AUDIO, 0x151);
    point(151, 141, 111);

    core->now_us = 40 * SEC;
    sfu_router_tick(core, core->now_us); /* starts an interval */
    count_events(0, 0, NULL, 0);
    forget_sent();
    uint64_t not_allowed = drops(SFU_DROP_NOT_ALLOWED);
    /* 141: levels 30 (voice), 40 (voice), 50, 127 → loudness 97, 87, 77, 0: mean 65.25, voice 50 % */
    send_level(&pa, 0x141, 1, 1, true, 30);
    send_level(&pa, 0x141, 2, 1, true, 40);
    send_level(&pa, 0x141, 3, 1, false, 50);
    send_level(&pa, 0x141, 4, 1, false, 127);
    /* 142 (gated): 0 and 9 -dBov, both voice → loudness 127, 118: 122.5 rounds to 123, 100 % */
    send_level(&pb, 0x142, 1, 3, true, 0);
    send_level(&pb, 0x142, 2, 3, true, 9);
    /* 143 carries the octet under an id it never negotiated */
    send_level(&pb, 0x143, 1, 1, true, 20);
    /* 141 once more under another id: not a level for it */
    send_level(&pa, 0x141, 5, 2, true, 0);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 5); /* the levels do not hold packets back */
    CHECK(drops(SFU_DROP_NOT_ALLOWED) == not_allowed + 2);
    forget_sent();

    level_report r[8];
    sfu_router_tick(core, core->now_us + 99000); /* not yet an interval */
    CHECK(audio_levels(r, 8) == 0);
    sfu_router_tick(core, core->now_us + 100000);
    size_t n = audio_levels(r, 8);
    CHECK(n == 2);
    bool a_ok = false, b_ok = false;
    for (size_t i = 0; i < n; i++) {
        a_ok |= r[i].id == 141 && r[i].level == 65 && r[i].voice == 50;
        b_ok |= r[i].id == 142 && r[i].level == 123 && r[i].voice == 100;
    }
    CHECK(a_ok && b_ok);

    /* the next interval starts from nothing: silence for 141 only */
    core->now_us = 40 * SEC + 150000;
    send_level(&pa, 0x141, 6, 1, false, 127);
    end_batch();
    forget_sent();
    sfu_router_tick(core, 40 * SEC + 200000);
    n = audio_levels(r, 8);
    CHECK(n == 1 && r[0].id == 141 && r[0].level == 0 && r[0].voice == 0);
    sfu_router_tick(core, 40 * SEC + 300000);
    CHECK(audio_levels(r, 8) == 0);

    /* a video stream never reports one, whatever its description said */
    add_stream_with(145, &pa, SFU_KIND_VIDEO, 96, 0x145, false, 1);
    sfu_stream *video = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(145));
    CHECK(video && video->desc.audio_level_ext_id == 0);
    free_peers((peer *[]){&pa, &pb, &sub}, 3);
}

/* Readings fill the event queue only up to the reserve: a lifecycle event still gets in. */
static void test_readings_give_way(void)
{
    sfu_event_queue q;
    CHECK(sfu_event_queue_init(&q, NULL, NULL));
    static sfu_event readings[1000];
    for (size_t i = 0; i < 1000; i++) readings[i] = (sfu_event){.type = SFU_EV_AUDIO_LEVEL, .id = (uint32_t)i + 1};
    size_t queued = 0;
    for (int round = 0; round < 5; round++) queued += sfu_event_push_readings(&q, readings, 1000);
    CHECK(queued == SFU_EVENT_QUEUE_MAX - SFU_EVENT_QUEUE_RESERVE);
    CHECK(atomic_load(&q.lost) == 5000 - queued);
    sfu_event_push(&q, SFU_EV_TRANSPORT_CONNECTED, 77, NULL);
    static sfu_event out[SFU_EVENT_QUEUE_MAX];
    size_t n = sfu_event_drain(&q, out, SFU_EVENT_QUEUE_MAX);
    CHECK(n == queued + 1 && out[n - 1].type == SFU_EV_TRANSPORT_CONNECTED && out[n - 1].id == 77);
    CHECK(out[0].id == 1 && out[999].id == 1000 && out[1000].id == 1); /* in order */
    sfu_event_queue_free(&q);
}

/* A simulcast VP8 packet: the rid in a one-byte header extension (id SC_RID_EXT), then
 * the payload descriptor with a 15-bit picture id, TL0PICIDX and TID, a frame start. */
#define SC_RID_EXT 10

/* A VP8 camera in three rid layers (q, h, f: lowest first), learnt by the rid extension. */
static sfu_stream_desc simulcast_camera(uint32_t stream_id, uint32_t transport_id)
{
    return (sfu_stream_desc){.stream_id = stream_id,
                             .transport_id = transport_id,
                             .room_id = ROOM,
                             .kind = SFU_KIND_VIDEO,
                             .codec = SFU_CODEC_VP8,
                             .pt = 96,
                             .n_layers = 3,
                             .rids = {"q", "h", "f"},
                             .rid_ext_id = SC_RID_EXT};
}
/* RTP with the rid in a one-byte header extension, then `payload`. */
static size_t rid_packet(uint8_t *buf, uint32_t ssrc, const char *rid, uint16_t seq, uint32_t ts,
                         const uint8_t *payload, size_t payload_len)
{
    size_t rid_len = strlen(rid), ext_words = (1 + rid_len + 3) / 4, n = 12;
    memset(buf, 0, 12 + 4 + ext_words * 4);
    buf[0] = 0x90;
    buf[1] = 96;
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, ssrc);
    sfu_wr16(buf + n, 0xBEDE);
    sfu_wr16(buf + n + 2, (uint16_t)ext_words);
    buf[n + 4] = (uint8_t)(SC_RID_EXT << 4 | (rid_len - 1));
    memcpy(buf + n + 5, rid, rid_len);
    n += 4 + ext_words * 4;
    memcpy(buf + n, payload, payload_len);
    return n + payload_len;
}

/* A simulcast VP8 packet: the payload descriptor with a 15-bit picture id, TL0PICIDX and
 * TID, a frame start, then payload. */
static size_t simulcast_packet(uint8_t *buf, uint32_t ssrc, const char *rid, uint16_t seq, uint32_t ts, bool key,
                               uint16_t pid, uint8_t tl0, uint8_t tid)
{
    uint8_t payload[80];
    size_t n = 0;
    payload[n++] = 0x90; /* X, S, PID 0 */
    payload[n++] = 0xe0; /* I, L, T */
    sfu_wr16(payload + n, (uint16_t)(0x8000 | pid));
    n += 2;
    payload[n++] = tl0;
    payload[n++] = (uint8_t)(tid << 6);
    payload[n++] = key ? 0x10 : 0x11;
    memset(payload + n, 0xab, 60);
    return rid_packet(buf, ssrc, rid, seq, ts, payload, n + 60);
}

typedef struct {
    const peer *pub;
    uint32_t ssrc[3];
    uint16_t seq[3], pid[3];
    uint32_t ts[3];
    uint8_t tl0[3];
} sc_publisher;

/* One frame (one packet) of layer i: its own numbering, 3000 ticks (33 ms) a frame. */
static void sc_frame(sc_publisher *p, unsigned i, bool key, uint8_t tid)
{
    static const char *const rids[] = {"q", "h", "f"};
    uint8_t pkt[256];
    if (tid == 0) p->tl0[i]++;
    feed(p->pub, pkt,
         simulcast_packet(pkt, p->ssrc[i], rids[i], p->seq[i]++, p->ts[i], key, p->pid[i]++, p->tl0[i], tid), false);
    p->ts[i] += 3000;
}

static void set_quality(uint32_t slot_id, sfu_quality q, uint8_t max_tid)
{
    sfu_cmd c = {
        .type = SFU_CMD_SLOT_SET_QUALITY, .id = slot_id, .room_id = ROOM, .quality = (uint8_t)q, .max_tid = max_tid};
    sfu_core_apply(core, &c);
}

/* What the subscriber got: one RTP packet, its VP8 descriptor */
static bool sc_got_one(const peer *sub, got *g, sfu_vp8_descriptor *d)
{
    size_t n = received(sub, gs, 512);
    if (count_rtp(gs, n) != 1) return false;
    for (size_t i = 0; i < n; i++)
        if (!gs[i].rtcp) *g = gs[i];
    return sfu_vp8_parse_descriptor(g->buf + g->h.payload_off, g->h.payload_len, d);
}

static void test_simulcast(void)
{
    peer pub = connect_peer(81, 5081), sub = connect_peer(82, 5082);
    sfu_stream_desc cam = simulcast_camera(91, 81);
    add_stream_desc(&cam);
    add_slot(92, &sub, SFU_KIND_VIDEO, 0x9292);
    point(92, 91, 100);
    forget_sent();
    sc_publisher p = {.pub = &pub,
                      .ssrc = {0xc0, 0xc1, 0xc2},
                      .seq = {100, 2000, 30000},
                      .pid = {10, 500, 32760}, /* the high layer's ids wrap */
                      .ts = {1000, 50000, 900000},
                      .tl0 = {5, 77, 250}};
    int64_t now = 100 * SEC; /* after the other tests' clocks */

    /* every layer's SSRC is learnt from its rid; the slot (high by default) waits for the
     * high layer's keyframe and asks that layer for one, once per 300 ms */
    for (int f = 0; f < 3; f++) {
        core->now_us = now += 33000;
        for (unsigned i = 0; i < 3; i++) sc_frame(&p, i, i == 0, 0); /* the low layer even sends a key */
        end_batch();
        sfu_router_tick(core, now);
    }
    sfu_stream *st = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(91));
    CHECK(st && st->desc.layer_ssrcs[0] == 0xc0 && st->desc.layer_ssrcs[1] == 0xc1 && st->desc.layer_ssrcs[2] == 0xc2);
    size_t n = received(&sub, gs, 512);
    CHECK(count_rtp(gs, n) == 0);
    n = received(&pub, gs, 512);
    CHECK(count_rtcp(gs, n, SFU_RTCP_PSFB, 1, 0xc2, NULL) == 1);
    CHECK(count_rtcp(gs, n, SFU_RTCP_PSFB, 1, 0xc0, NULL) == 0);
    forget_sent();

    /* the high layer's keyframe starts the slot: its numbers as they come */
    core->now_us = now += 33000;
    sc_frame(&p, 0, false, 0);
    sc_frame(&p, 2, true, 0);
    end_batch();
    got g;
    sfu_vp8_descriptor d;
    CHECK(sc_got_one(&sub, &g, &d));
    CHECK(g.h.ssrc == 0x9292 && g.h.pt == 100 && g.h.seq == 30003 && d.keyframe && d.picture_id == 32763 &&
          d.tl0picidx == 254);
    forget_sent();
    uint16_t seq = g.h.seq, pid = d.picture_id;
    uint32_t ts = g.h.ts;
    uint8_t tl0 = d.tl0picidx;
    for (int f = 0; f < 6; f++) { /* high frames pass (ids wrapping 32767 → 0), the others do not */
        core->now_us = now += 33000;
        for (unsigned i = 0; i < 3; i++) sc_frame(&p, i, false, 0);
        end_batch();
        CHECK(sc_got_one(&sub, &g, &d));
        CHECK(g.h.seq == (uint16_t)(seq + 1) && g.h.ts == ts + 3000 && d.picture_id == ((pid + 1) & 0x7fff) &&
              d.tl0picidx == (uint8_t)(tl0 + 1));
        seq = g.h.seq, ts = g.h.ts, pid = d.picture_id, tl0 = d.tl0picidx;
        forget_sent();
    }

    /* asked for low: the high layer goes on until the low layer's keyframe, which was
     * asked for once (the second delta is within 300 ms) */
    set_quality(92, SFU_QUALITY_LOW, 0xff);
    for (int f = 0; f < 2; f++) {
        core->now_us = now += 33000;
        for (unsigned i = 0; i < 3; i++) sc_frame(&p, i, false, 0);
        end_batch();
        CHECK(sc_got_one(&sub, &g, &d));
        CHECK(g.h.seq == (uint16_t)(seq + 1) && d.picture_id == ((pid + 1) & 0x7fff));
        seq = g.h.seq, ts = g.h.ts, pid = d.picture_id, tl0 = d.tl0picidx;
        CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_PSFB, 1, 0xc0, NULL) == (f == 0 ? 1 : 0));
        forget_sent();
    }
    /* the low keyframe: every number continues the last one sent (ts by the 33 ms since) */
    core->now_us = now += 33000;
    sc_frame(&p, 0, true, 0);
    sc_frame(&p, 2, false, 0);
    end_batch();
    CHECK(sc_got_one(&sub, &g, &d));
    CHECK(g.h.ssrc == 0x9292 && d.keyframe && g.h.seq == (uint16_t)(seq + 1) && g.h.ts == ts + 33000 * 90 / 1000);
    CHECK(d.picture_id == ((pid + 1) & 0x7fff) && d.tl0picidx == (uint8_t)(tl0 + 1));
    seq = g.h.seq, ts = g.h.ts, pid = d.picture_id, tl0 = d.tl0picidx;
    forget_sent();

    /* temporal cap at TID 0: TID 1 frames are left out and leave no gap behind */
    set_quality(92, SFU_QUALITY_LOW, 0);
    for (int f = 0; f < 4; f++) {
        core->now_us = now += 33000;
        sc_frame(&p, 0, false, (uint8_t)(f % 2));
        end_batch();
        if (f % 2) {
            CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
        } else {
            CHECK(sc_got_one(&sub, &g, &d));
            CHECK(g.h.seq == (uint16_t)(seq + 1) && d.picture_id == ((pid + 1) & 0x7fff) &&
                  d.tl0picidx == (uint8_t)(tl0 + 1));
            seq = g.h.seq, pid = d.picture_id, tl0 = d.tl0picidx;
        }
        forget_sent();
    }

    /* high asked while only the low and middle layers arrive (the top one quiet for more
     * than a second): the middle one is chosen, and at its keyframe forwarded */
    set_quality(92, SFU_QUALITY_HIGH, 0xff);
    for (int f = 0; f < 40; f++) {
        core->now_us = now += 33000;
        sc_frame(&p, 0, false, 0);
        sc_frame(&p, 1, f == 39, 0);
        end_batch();
        sfu_router_tick(core, now);
    }
    sfu_slot *slot = g_hash_table_lookup(core->slots, GUINT_TO_POINTER(92));
    CHECK(slot && slot->layers.target == 1 && slot->layers.current == 1);
    forget_sent();

    /* off: nothing; back on: from the next keyframe */
    set_quality(92, SFU_QUALITY_OFF, 0xff);
    core->now_us = now += 33000;
    sc_frame(&p, 1, true, 0);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    set_quality(92, SFU_QUALITY_MEDIUM, 0xff);
    core->now_us = now += 33000;
    sc_frame(&p, 1, false, 0);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    core->now_us = now += 33000;
    sc_frame(&p, 1, true, 0);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 1);
    forget_sent();

    /* the choice itself: mapping, quiet layers, budget */
    uint32_t bps[3] = {150000, 500000, 1500000};
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 7, UINT32_MAX, bps) == 2);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_MEDIUM, 3, 7, UINT32_MAX, bps) == 1);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_LOW, 3, 7, UINT32_MAX, bps) == 0);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_OFF, 3, 7, UINT32_MAX, bps) == -1);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 0, UINT32_MAX, bps) == 2); /* none yet: as asked */
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 1, UINT32_MAX, bps) == 0);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_LOW, 3, 6, UINT32_MAX, bps) == 1); /* lowest there is */
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 7, 600000, bps) == 1);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 5, 600000, bps) == 0);
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 3, 7, 1000, bps) == 0); /* never below the lowest */
    CHECK(sfu_simulcast_choose_layer(SFU_QUALITY_HIGH, 2, 3, UINT32_MAX, bps) == 1);
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* H.264 layers: the switch waits for the target's IDR (SPS first, in a STAP-A), with
 * sequence numbers and timestamps continuous; there is no descriptor to rewrite. */
static void test_simulcast_h264(void)
{
    peer pub = connect_peer(83, 5083), sub = connect_peer(84, 5084);
    sfu_cmd add = {.type = SFU_CMD_STREAM_ADD,
                   .id = 93,
                   .room_id = ROOM,
                   .stream = {.stream_id = 93,
                              .transport_id = 83,
                              .room_id = ROOM,
                              .kind = SFU_KIND_VIDEO,
                              .codec = SFU_CODEC_H264,
                              .pt = 96,
                              .n_layers = 2,
                              .rids = {"lo", "hi"},
                              .layer_ssrcs = {0xd0, 0}, /* one from SDP, one learnt */
                              .rid_ext_id = SC_RID_EXT}};
    sfu_core_apply(core, &add);
    add_slot(94, &sub, SFU_KIND_VIDEO, 0x9494);
    point(94, 93, 102);
    set_quality(94, SFU_QUALITY_LOW, 0xff);
    forget_sent();
    static const uint8_t idr[] = {24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce, 0, 3, 0x65, 0x88, 0x84};
    static const uint8_t delta[] = {0x41, 0x9a, 0x02, 0x03};
    uint8_t pkt[256];
    int64_t now = 200 * SEC;
    uint16_t seq[2] = {10, 5000};
    uint32_t ts[2] = {0, 777777};
    for (int f = 0; f < 4; f++) { /* low starts at its IDR; high arrives, not forwarded */
        core->now_us = now += 33000;
        for (unsigned l = 0; l < 2; l++) {
            const char *rid = l ? "hi" : "lo";
            bool key = f == 1;
            feed(&pub, pkt,
                 rid_packet(pkt, 0xd0 + l, rid, seq[l]++, ts[l], key ? idr : delta, key ? sizeof idr : sizeof delta),
                 false);
            ts[l] += 3000;
        }
        end_batch();
        size_t n = count_rtp(gs, received(&sub, gs, 512));
        CHECK(n == (f == 0 ? 0u : 1u));
        forget_sent();
    }
    set_quality(94, SFU_QUALITY_HIGH, 0xff);
    got g;
    uint16_t last_seq = 0;
    for (int f = 0; f < 3; f++) { /* the high IDR comes at f == 1, after that batch's low packet */
        core->now_us = now += 33000;
        for (unsigned l = 0; l < 2; l++) {
            bool key = l == 1 && f == 1;
            feed(&pub, pkt,
                 rid_packet(pkt, 0xd0 + l, l ? "hi" : "lo", seq[l]++, ts[l], key ? idr : delta,
                            key ? sizeof idr : sizeof delta),
                 false);
            ts[l] += 3000;
        }
        end_batch();
        size_t n = received(&sub, gs, 512);
        CHECK(count_rtp(gs, n) == (f == 1 ? 2u : 1u));
        if (f == 1 && n == 2) CHECK(gs[1].h.seq == (uint16_t)(gs[0].h.seq + 1)); /* low, then high's IDR */
        g = gs[n - 1];
        CHECK(g.h.ssrc == 0x9494 && g.h.pt == 102);
        if (f > 0) CHECK(g.h.seq == (uint16_t)(last_seq + (f == 1 ? 2 : 1)));
        if (f == 1) CHECK(sfu_h264_is_keyframe(g.buf + g.h.payload_off, g.h.payload_len));
        last_seq = g.h.seq;
        forget_sent();
    }
    sfu_stream *st = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(93));
    CHECK(st && st->desc.layer_ssrcs[1] == 0xd1);
    free_peers((peer *[]){&pub, &sub}, 2);
}

static void set_twcc(const peer *p, uint8_t ext_id)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_SET_TWCC, .id = p->id, .room_id = ROOM, .ext_id = ext_id};
    sfu_core_apply(core, &c);
}

/* Transport-cc feedback from p: packets base.. base+count-1 all received, 1 ms apart. */
static void send_feedback(const peer *p, uint16_t base, uint16_t count)
{
    uint8_t b[128] = {0};
    size_t len = 20 + 2 + count;
    while (len % 4) len++;
    b[0] = 0x80 | SFU_TWCC_FMT;
    b[1] = SFU_RTCP_RTPFB;
    sfu_wr16(b + 2, (uint16_t)(len / 4 - 1));
    sfu_wr32(b + 4, 0x5eed);
    sfu_wr32(b + 8, 0);
    sfu_wr16(b + 12, base);
    sfu_wr16(b + 14, count);
    b[18] = 100;                                  /* reference time: 6.4 s */
    sfu_wr16(b + 20, (uint16_t)(0x2000 | count)); /* a run of small deltas */
    memset(b + 22, 4, count);
    feed(p, b, len, true);
}

/* Every packet a transport with transport-wide cc gets carries its next sequence number
 * under the negotiated id; its feedback moves the estimate, reported as SFU_EV_BANDWIDTH. */
static void test_transport_cc(void)
{
    count_events(0, 0, NULL, 0);
    peer pub = connect_peer(161, 5161), sub = connect_peer(162, 5162), plain = connect_peer(163, 5163);
    add_stream(171, &pub, SFU_KIND_VIDEO, 96, 0x171);
    add_slot(181, &sub, SFU_KIND_VIDEO, 0x181);
    add_slot(182, &plain, SFU_KIND_VIDEO, 0x182);
    point(181, 171, 96);
    point(182, 171, 96);
    set_twcc(&sub, 3);
    core->now_us = 300 * SEC; /* after the other tests' clocks (the report timer only moves forward) */
    forget_sent();
    for (uint16_t i = 0; i < 10; i++) send_video(&pub, 0x171, (uint16_t)(500 + i), 9000, i == 0);
    end_batch();
    size_t n = received(&sub, gs, 512);
    CHECK(count_rtp(gs, n) == 10);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *val;
        size_t len;
        CHECK(sfu_rtp_find_ext(gs[i].buf, &gs[i].h, 3, &val, &len) && len == 2 && sfu_rd16(val) == i);
        CHECK(gs[i].h.payload_len == 114 - 12 && gs[i].buf[gs[i].h.payload_off] == 0x10);
        CHECK(gs[i].h.seq == 500 + i && gs[i].h.ssrc == 0x181);
    }
    got other[16];
    size_t m = received(&plain, other, 16);
    CHECK(m == 10 && other[0].h.ext_profile == 0 && other[0].len == 114); /* unnumbered, as before */
    forget_sent();

    sfu_transport *t = g_hash_table_lookup(core->transports, GUINT_TO_POINTER(162));
    CHECK(t && t->bwe && t->bwe->loss_window_total == 0);
    uint64_t malformed = drops(SFU_DROP_MALFORMED);
    send_feedback(&sub, 0, 10);
    end_batch();
    CHECK(t && t->bwe && t->bwe->loss_window_total == 10);
    CHECK(drops(SFU_DROP_MALFORMED) == malformed);
    sfu_router_tick(core, core->now_us + SEC);
    const sfu_event *evs;
    size_t ne = drain_events(&evs), bandwidth = 0;
    for (size_t i = 0; i < ne; i++)
        if (evs[i].type == SFU_EV_BANDWIDTH) {
            bandwidth++;
            CHECK(evs[i].id == 162 && evs[i].estimate_bps >= SFU_BWE_MIN_BPS);
        }
    CHECK(bandwidth == 1);
    /* turned off: plain copies again */
    set_twcc(&sub, 0);
    CHECK(t && !t->bwe);
    send_video(&pub, 0x171, 510, 12000, false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ext_profile == 0);
    forget_sent();
    free_peers((peer *[]){&pub, &sub, &plain}, 3);
}

/* Video RTP numbered with transport-wide sequence number twcc under one-byte id ext_id. */
static void send_numbered(const peer *p, uint32_t ssrc, uint16_t seq, uint8_t ext_id, uint16_t twcc)
{
    uint8_t pkt[200];
    size_t len = rtp_packet(pkt, 96, ssrc, seq, 9000, false, 114);
    memmove(pkt + 20, pkt + 12, len - 12);
    pkt[0] |= 0x10;
    sfu_wr16(pkt + 12, 0xBEDE);
    sfu_wr16(pkt + 14, 1);
    pkt[16] = (uint8_t)(ext_id << 4 | 1);
    sfu_wr16(pkt + 17, twcc);
    pkt[19] = 0;
    feed(p, pkt, len + 8, false);
}

/* A publisher that numbers its packets (transport-wide cc accepted in its answer) is sent
 * transport-cc feedback about them at the tick, and no REMB; one that does not, REMB. */
static void test_uplink_feedback(void)
{
    peer pub = connect_peer(191, 5191), old = connect_peer(192, 5192);
    add_stream(193, &pub, SFU_KIND_VIDEO, 96, 0x193);
    add_stream(194, &old, SFU_KIND_VIDEO, 96, 0x194);
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_SET_TWCC_FEEDBACK, .id = pub.id, .room_id = ROOM, .ext_id = 5};
    sfu_core_apply(core, &c);
    core->now_us = 400 * SEC;
    forget_sent();
    for (uint16_t i = 0; i < 6; i++) {
        if (i == 3) continue; /* lost on the way */
        core->now_us = 400 * SEC + i * 2000;
        send_numbered(&pub, 0x193, (uint16_t)(70 + i), 5, (uint16_t)(65533 + i));
        end_batch();
    }
    sfu_router_tick(core, 401 * SEC);
    size_t n = received(&pub, gs, 512);
    sfu_rtcp_packet fbp;
    CHECK(count_rtcp(gs, n, SFU_RTCP_RTPFB, SFU_TWCC_FMT, 0x193, &fbp) == 1);
    CHECK(count_rtcp(gs, n, SFU_RTCP_PSFB, 15, 0, NULL) == 0); /* REMB: PSFB fmt 15, media ssrc 0 */
    sfu_twcc_feedback fb;
    sfu_twcc_status st[8];
    size_t ns;
    CHECK(sfu_twcc_parse(&fbp, &fb, st, 8, &ns) && ns == 6 && fb.base_seq == 65533);
    for (size_t i = 0; i < ns; i++) {
        CHECK(st[i].received == (i != 3));
        if (i != 3) CHECK(st[i].arrival_us == 400 * SEC + (int64_t)i * 2000);
    }
    got others[16];
    size_t m = received(&old, others, 16);
    CHECK(count_rtcp(others, m, SFU_RTCP_PSFB, 15, 0, NULL) == 1);
    forget_sent();
    /* reported once: the next tick has nothing new */
    sfu_router_tick(core, 401 * SEC + 200000);
    n = received(&pub, gs, 512);
    CHECK(count_rtcp(gs, n, SFU_RTCP_RTPFB, SFU_TWCC_FMT, 0x193, NULL) == 0);
    forget_sent();
    free_peers((peer *[]){&pub, &old}, 2);
}

/* The SFU_EV_LAYERS events for stream_id since the last drain; *active the last one's. */
static size_t layer_events(uint32_t stream_id, uint8_t *active)
{
    const sfu_event *evs;
    size_t n = drain_events(&evs), count = 0;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].type != SFU_EV_LAYERS || evs[i].id != stream_id) continue;
        count++;
        *active = evs[i].layers_active;
        CHECK(evs[i].n_layers == 3);
    }
    return count;
}

/* A layer no slot wants for 2 s is paused at the publisher (SFU_EV_LAYERS); the lowest
 * never; asked for again (even while it sends nothing), it is resumed at the next tick. */
static void test_unwatched_layers_paused(void)
{
    peer pub = connect_peer(301, 5301), sub = connect_peer(302, 5302);
    sfu_stream_desc cam = simulcast_camera(303, 301);
    add_stream_desc(&cam);
    add_slot(304, &sub, SFU_KIND_VIDEO, 0x304);
    point(304, 303, 100);
    set_quality(304, SFU_QUALITY_LOW, 0xff);
    sc_publisher p = {.pub = &pub, .ssrc = {0xe0, 0xe1, 0xe2}};
    int64_t now = 500 * SEC;
    uint8_t active = 0;
    layer_events(303, &active);
    for (int i = 0; i < 20; i++, now += 100000) { /* 2 s of all three layers, low watched */
        core->now_us = now;
        for (unsigned l = 0; l < 3; l++) sc_frame(&p, l, i == 0, 0);
        end_batch();
        sfu_router_tick(core, now);
        CHECK(layer_events(303, &active) == 0); /* not yet */
    }
    core->now_us = now += 200000;
    sfu_router_tick(core, now);
    CHECK(layer_events(303, &active) == 1 && active == 0x1); /* medium and high paused */
    sfu_router_tick(core, now += 100000);
    CHECK(layer_events(303, &active) == 0); /* told once */
    /* high asked for while it sends nothing: resumed at once (the slot targets low until
     * the high layer arrives) */
    set_quality(304, SFU_QUALITY_HIGH, 0xff);
    core->now_us = now += 1500000;
    for (unsigned l = 0; l < 1; l++) sc_frame(&p, l, false, 0);
    end_batch();
    sfu_router_tick(core, now);
    CHECK(layer_events(303, &active) == 1 && active == 0x5);
    /* nobody at all: everything but the lowest goes after 2 s */
    set_quality(304, SFU_QUALITY_OFF, 0xff);
    sfu_router_tick(core, now += 100000);
    CHECK(layer_events(303, &active) == 0);
    sfu_router_tick(core, now += 2100000);
    CHECK(layer_events(303, &active) == 1 && active == 0x1);
    forget_sent();
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* A camera in simulcast and a screen of one encoding on one transport: a screen packet,
 * looked up past the camera's layers (no match: layer −1), is layer 0 of the screen (the
 * lookup once kept the −1: an index out of bounds on every screen packet). */
static void test_screen_beside_simulcast_camera(void)
{
    peer pub = connect_peer(311, 5311), sub = connect_peer(312, 5312);
    sfu_stream_desc cam = simulcast_camera(313, 311);
    cam.layer_ssrcs[0] = 0x3130;
    cam.layer_ssrcs[1] = 0x3131;
    cam.layer_ssrcs[2] = 0x3132;
    cam.rid_ext_id = 0; /* SSRCs given: nothing to learn */
    add_stream_desc(&cam);
    add_stream(314, &pub, SFU_KIND_VIDEO, 96, 0x3140); /* the screen, after the camera */
    add_slot(315, &sub, SFU_KIND_VIDEO, 0x315);
    point(315, 314, 100);
    core->now_us = 600 * SEC;
    send_video(&pub, 0x3140, 1, 1000, true);
    send_video(&pub, 0x3140, 2, 1000, false);
    end_batch();
    size_t n = received(&sub, gs, 512);
    CHECK(count_rtp(gs, n) == 2);
    sfu_stream *screen = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(314));
    CHECK(screen && screen->layers[0].octets > 0);
    forget_sent();
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* The RTP packet with sequence number seq on its way to p is lost (SRTP leaves the
 * header in clear). */
static void lose(const peer *p, uint16_t seq)
{
    keep_batch(NULL, core->tx);
    sfu_addr_key want, to;
    sfu_addr_key_from(&want, &p->addr);
    for (size_t i = 0; i < n_sent; i++) {
        sfu_addr_key_from(&to, &sent[i].to);
        if (memcmp(&want, &to, sizeof want) != 0 || sfu_pkt_classify(sent[i].data, sent[i].len) != SFU_PKT_RTP ||
            sfu_rd16(sent[i].data + 2) != seq)
            continue;
        memmove(&sent[i], &sent[i + 1], (n_sent - i - 1) * sizeof sent[0]);
        n_sent--;
        return;
    }
}

static void set_rtx(uint32_t slot_id, uint32_t rtx_ssrc, uint8_t apt, uint8_t rtx_pt)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_SET_RTX,
                 .id = slot_id,
                 .room_id = ROOM,
                 .rtx = {.ssrc = rtx_ssrc, .n_pts = 1, .apt = {apt}, .pt = {rtx_pt}}};
    sfu_core_apply(core, &c);
}

static void send_nack(const peer *sub, uint32_t media_ssrc, const uint16_t *seqs, size_t n)
{
    uint8_t rtcp[128];
    feed(sub, rtcp, sfu_rtcp_write_nack(rtcp, sizeof rtcp, 0x9999, media_ssrc, seqs, n), true);
    end_batch();
}

static sfu_transport *transport_of(const peer *p)
{
    return g_hash_table_lookup(core->transports, GUINT_TO_POINTER(p->id));
}

/* A subscriber's NACK: the slot with RTX gets RFC 4588 packets (its RTX SSRC and payload
 * type, own sequence numbers, the OSN it asked for, the original payload and timestamp);
 * the one without gets the packet again as it was; not twice within 100 ms; nothing of
 * an older source epoch, nothing not cached; nothing at all with repair off. */
static void test_nack_answered(void)
{
    peer pub = connect_peer(201, 5201), pub2 = connect_peer(202, 5202);
    peer sub = connect_peer(203, 5203), plain = connect_peer(204, 5204);
    add_stream(211, &pub, SFU_KIND_VIDEO, 96, 0x2111);
    add_stream(212, &pub2, SFU_KIND_VIDEO, 96, 0x2112);
    add_slot(221, &sub, SFU_KIND_VIDEO, 0x5221);
    add_slot(222, &plain, SFU_KIND_VIDEO, 0x5222);
    set_rtx(221, 0x6221, 100, 101);
    point(221, 211, 100);
    point(222, 211, 100);
    forget_sent();

    core->now_us = 30 * SEC;
    for (uint16_t i = 0; i < 10; i++) send_video(&pub, 0x2111, (uint16_t)(65530 + i), 90000, i == 0);
    end_batch();
    lose(&sub, 65533);
    lose(&sub, 65535);
    lose(&sub, 1);
    lose(&plain, 2);
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 7);
    CHECK(count_rtp(gs, received(&plain, gs, 512)) == 9);
    forget_sent();

    /* 65533 and 65535 and 1 (across the wrap): three RTX packets, numbered 0, 1, 2 */
    core->now_us = 30 * SEC + 50000;
    send_nack(&sub, 0x5221, (uint16_t[]){65533, 65535, 1}, 3);
    size_t n = received(&sub, gs, 512);
    CHECK(n == 3);
    uint16_t want_osn[] = {65533, 65535, 1};
    uint8_t original[200];
    size_t original_len = rtp_packet(original, 96, 0x2111, 0, 90000, false, 114);
    for (size_t i = 0; i < n && i < 3; i++) {
        const got *g = &gs[i];
        CHECK(g->h.ssrc == 0x6221 && g->h.pt == 101 && g->h.seq == i && g->h.ts == 90000);
        CHECK(g->h.payload_len == original_len - 12 + 2 && sfu_rd16(g->buf + g->h.payload_off) == want_osn[i]);
        CHECK(!memcmp(g->buf + g->h.payload_off + 2, original + 12, original_len - 12));
    }
    forget_sent();
    /* asked again at once: not resent; after 100 ms: resent */
    send_nack(&sub, 0x5221, (uint16_t[]){65533}, 1);
    CHECK(received(&sub, gs, 512) == 0);
    core->now_us = 30 * SEC + 151000;
    send_nack(&sub, 0x5221, (uint16_t[]){65533}, 1);
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x6221 && gs[0].h.seq == 3);
    forget_sent();

    /* the slot without RTX: the packet as first sent */
    send_nack(&plain, 0x5222, (uint16_t[]){2}, 1);
    n = received(&plain, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x5222 && gs[0].h.seq == 2 && gs[0].h.pt == 100 && gs[0].len == original_len);
    forget_sent();

    /* not sent yet, or from before the slot's epoch: nothing */
    sfu_transport *st = transport_of(&sub);
    send_nack(&sub, 0x5221, (uint16_t[]){4, 65000}, 2);
    CHECK(received(&sub, gs, 512) == 0);
    forget_sent();

    /* re-pointed at pub2: until its keyframe, no epoch; after it, the old numbers are refused
     * and the new ones served from pub2's cache */
    point(221, 212, 100);
    core->now_us = 31 * SEC;
    send_nack(&sub, 0x5221, (uint16_t[]){65535}, 1);
    CHECK(received(&sub, gs, 512) == 0);
    send_video(&pub2, 0x2112, 500, 1000, true);
    send_video(&pub2, 0x2112, 501, 1000, false);
    end_batch();
    lose(&sub, 5);
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.seq == 4); /* continues after 65530 + 9 = 3 */
    forget_sent();
    core->now_us = 31 * SEC + 200000;
    send_nack(&sub, 0x5221, (uint16_t[]){2, 3, 5}, 3);
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.ssrc == 0x6221 && sfu_rd16(gs[0].buf + gs[0].h.payload_off) == 5);
    forget_sent();
    CHECK(st->link.nacks_received == 6 && st->link.rtx_sent == 5);
    /* what a technician reads: the subscriber's link report carries the same, and what was
     * forwarded to it and the publisher sent (a report per connected transport) */
    const sfu_link_stats *sub_link = NULL, *pub_link = NULL;
    uint32_t sub_id = st->id, pub_id = transport_of(&pub)->id;
    const sfu_event *evs;
    core->next_link_us = 0; /* the tests' clocks are not in order: this tick reports */
    sfu_router_tick(core, core->now_us);
    for (size_t i = 0, ne = drain_events(&evs); i < ne; i++) {
        if (evs[i].type != SFU_EV_LINK) continue;
        if (evs[i].id == sub_id) sub_link = &evs[i].link;
        if (evs[i].id == pub_id) pub_link = &evs[i].link;
    }
    CHECK(sub_link && sub_link->nacks_received == 6 && sub_link->rtx_sent == 5);
    CHECK(sub_link && sub_link->packets_out == st->link.packets_out && sub_link->packets_out >= 4);
    CHECK(sub_link && sub_link->octets_out > sub_link->packets_out * 12);
    CHECK(pub_link && pub_link->packets_in >= 4 && pub_link->packets_in == transport_of(&pub)->link.packets_in);

    /* repair off: NACKs counted, not answered */
    core->cfg.nack_disabled = true;
    core->now_us = 32 * SEC;
    send_nack(&sub, 0x5221, (uint16_t[]){5}, 1);
    CHECK(received(&sub, gs, 512) == 0);
    core->cfg.nack_disabled = false;
    forget_sent();
    free_peers((peer *[]){&pub, &pub2, &sub, &plain}, 4);
}

/* The publisher's side: a gap is NACKed at once and again after the retry interval (the
 * tick), the publisher's RTX packet is unwrapped into the stream and reaches the
 * subscriber as the packet it lost, a closed gate stops repaired packets too, and the
 * receiver report says what was lost; the subscriber's round trip from its report on the
 * sender report relayed to it. */
static void test_upstream_repair(void)
{
    peer pub = connect_peer(231, 5231), sub = connect_peer(232, 5232);
    sfu_cmd add = {.type = SFU_CMD_STREAM_ADD,
                   .id = 241,
                   .room_id = ROOM,
                   .stream = {.stream_id = 241,
                              .transport_id = pub.id,
                              .room_id = ROOM,
                              .kind = SFU_KIND_VIDEO,
                              .codec = SFU_CODEC_VP8,
                              .pt = 96,
                              .ssrc = 0x2411,
                              .rtx_ssrc = 0x2412,
                              .rtx_pt = 97}};
    sfu_core_apply(core, &add);
    add_slot(251, &sub, SFU_KIND_VIDEO, 0x5251);
    point(251, 241, 96);
    forget_sent();
    sfu_transport *t = transport_of(&pub);

    core->now_us = 40 * SEC;
    send_video(&pub, 0x2411, 100, 9000, true);
    send_video(&pub, 0x2411, 101, 9000, false);
    send_video(&pub, 0x2411, 104, 9000, false); /* 102, 103 lost */
    end_batch();
    sfu_rtcp_packet nack;
    size_t n = received(&pub, gs, 512);
    CHECK(count_rtcp(gs, n, SFU_RTCP_RTPFB, 1, 0x2411, &nack) == 1);
    uint16_t pid = 0, blp = 0;
    CHECK(sfu_rtcp_nack_count(&nack) == 1 && sfu_rtcp_nack_entry(&nack, 0, &pid, &blp) && pid == 102 && blp == 1);
    forget_sent();
    /* no answer: asked again from the tick once the retry interval passed */
    sfu_router_tick(core, 40 * SEC + 50000);
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_RTPFB, 1, 0x2411, NULL) == 0);
    sfu_router_tick(core, 40 * SEC + 120000);
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_RTPFB, 1, 0x2411, NULL) == 1);
    forget_sent();

    /* the RTX of 102 (OSN 102 in its own numbering) reaches the subscriber as 102 */
    core->now_us = 40 * SEC + 130000;
    uint8_t pkt[200], rtx[260];
    size_t len = rtp_packet(pkt, 96, 0x2411, 102, 9000, false, 114);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(pkt, len, &h));
    feed(&pub, rtx, sfu_rtx_wrap(rtx, sizeof rtx, pkt, &h, 102, 0x2412, 97, 7), false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && gs[0].h.seq == 102 && gs[0].h.ssrc == 0x5251 && gs[0].h.pt == 96 && gs[0].len == len);
    CHECK(t->link.rtx_received == 1 && t->link.nacks_sent == 2);
    forget_sent();

    /* the subscriber's round trip: its report on the SR relayed to it, held 50 ms (DLSR),
     * arriving 80 ms after the SR left: 30 ms */
    uint8_t rtcp[128];
    uint64_t ntp = 0x0000123456789abcull;
    core->now_us = 40 * SEC + 200000;
    feed(&pub, rtcp, sfu_rtcp_write_sr(rtcp, sizeof rtcp, 0x2411, ntp, 9000, 5, 500), true);
    end_batch();
    CHECK(count_rtcp(gs, received(&sub, gs, 512), SFU_RTCP_SR, 0, 0x5251, NULL) == 1);
    forget_sent();
    core->now_us = 40 * SEC + 280000;
    sfu_rtcp_report_block block = {
        .ssrc = 0x5251, .fraction_lost = 12, .lsr = (uint32_t)(ntp >> 16), .dlsr = 65536 / 20};
    feed(&sub, rtcp, sfu_rtcp_write_rr(rtcp, sizeof rtcp, 0x9999, &block, 1), true);
    end_batch();
    sfu_transport *ts = transport_of(&sub);
    CHECK(ts->link.rtt_us > 29000 && ts->link.rtt_us < 31000 && ts->link.fraction_lost == 12);
    forget_sent();

    /* gated: the RTX of 103 is dropped like the original would be */
    set_forwarding(241, ROOM, false);
    len = rtp_packet(pkt, 96, 0x2411, 103, 9000, false, 114);
    CHECK(sfu_rtp_parse(pkt, len, &h));
    feed(&pub, rtx, sfu_rtx_wrap(rtx, sizeof rtx, pkt, &h, 103, 0x2412, 97, 8), false);
    end_batch();
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    /* and what nobody is shown is not asked for: 105–109 lost while gated, no NACK */
    send_video(&pub, 0x2411, 110, 9000, false);
    end_batch();
    CHECK(count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_RTPFB, 1, 0x2411, NULL) == 0);
    set_forwarding(241, ROOM, true);
    forget_sent();

    /* the receiver report: 100–110 expected, 6 received (102, 103 repaired), 5 lost */
    core->next_report_us = 0;
    sfu_router_tick(core, 41 * SEC);
    sfu_rtcp_packet rr;
    n = received(&pub, gs, 512);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        sfu_rtcp_iter it;
        sfu_rtcp_iter_init(&it, gs[i].buf, gs[i].len);
        while (gs[i].rtcp && sfu_rtcp_iter_next(&it, &rr)) {
            sfu_rtcp_report_block rb;
            if (rr.pt != SFU_RTCP_RR || !sfu_rtcp_report_block_at(&rr, 0, &rb)) continue;
            found = rb.ssrc == 0x2411 && rb.highest_seq == 110 && rb.cumulative_lost == 5 &&
                    rb.fraction_lost == 5 * 256 / 11;
        }
    }
    CHECK(found);
    forget_sent();
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* A simulcast slot with RTX, as the subscriber saw each packet: by out sequence number. */
typedef struct {
    bool have;
    uint32_t ts;
    uint8_t payload[128];
    size_t payload_len;
} sc_seen;

static void sc_keep(sc_seen *seen, const got *g)
{
    sc_seen *s = &seen[g->h.seq % 512];
    s->have = g->h.payload_len <= sizeof s->payload;
    s->ts = g->h.ts;
    s->payload_len = g->h.payload_len;
    if (s->have) memcpy(s->payload, g->buf + g->h.payload_off, g->h.payload_len);
}

/* What the subscriber got since the last forget_sent, kept in seen (the last packet's VP8
 * descriptor in *d, if d); the last out sequence number, or -1. */
static int keep_received(const peer *sub, sc_seen *seen, sfu_vp8_descriptor *d)
{
    size_t n = received(sub, gs, 512);
    int out = -1;
    for (size_t i = 0; i < n; i++) {
        if (gs[i].rtcp) continue;
        sc_keep(seen, &gs[i]);
        out = gs[i].h.seq;
        if (d) sfu_vp8_parse_descriptor(gs[i].buf + gs[i].h.payload_off, gs[i].h.payload_len, d);
    }
    forget_sent();
    return out;
}

/* One frame of layer i for each of `layers` (a bit mask), the batch ended; what the
 * subscriber got is kept in seen. Returns the out sequence number forwarded, or -1. */
static int sc_step(sc_publisher *p, const peer *sub, sc_seen *seen, unsigned layers, unsigned key_layer, uint8_t tid,
                   int64_t *now)
{
    core->now_us = *now += 33000;
    for (unsigned i = 0; i < 3; i++)
        if (layers >> i & 1) sc_frame(p, i, i == key_layer, tid);
    end_batch();
    return keep_received(sub, seen, NULL);
}

/* The subscriber's NACK for out: exactly one RTX packet back, carrying what it was sent as
 * out (timestamp, payload with the renumbered picture id and TL0PICIDX), OSN out. */
static bool sc_repaired_as_sent(const peer *sub, uint32_t slot_ssrc, const sc_seen *seen, uint16_t out)
{
    core->now_us += 200000; /* past the once-per-round-trip limit */
    send_nack(sub, slot_ssrc, &out, 1);
    size_t n = received(sub, gs, 512);
    forget_sent();
    const sc_seen *s = &seen[out % 512];
    if (n != 1 || gs[0].rtcp || !s->have || gs[0].h.ssrc != 0x6931 || gs[0].h.pt != 101) return false;
    const uint8_t *payload = gs[0].buf + gs[0].h.payload_off;
    return gs[0].h.ts == s->ts && sfu_rd16(payload) == out && gs[0].h.payload_len == s->payload_len + 2 &&
           !memcmp(payload + 2, s->payload, s->payload_len);
}

/* A video slot of sub that answers NACKs with RTX (ssrc 0x6931, pt 101 for 100), pointed
 * at stream_id; nothing sent yet. */
static void rtx_video_slot(uint32_t slot_id, peer *sub, uint32_t stream_id)
{
    add_slot(slot_id, sub, SFU_KIND_VIDEO, 0x5931);
    set_rtx(slot_id, 0x6931, 100, 101);
    point(slot_id, stream_id, 100);
    forget_sent();
}

/* Loss repair of a simulcast stream toward a subscriber: a NACK is answered with the layer's
 * packet the slot sent under that number, renumbered as it was, before and after a layer
 * switch and across temporal-layer drops that moved the offsets in between; a number not
 * sent, or whose record a later packet took, or sent before a re-pointing, is not
 * answered. */
static void test_simulcast_nack(void)
{
    peer pub = connect_peer(291, 5291), sub = connect_peer(292, 5292);
    sfu_stream_desc cam = simulcast_camera(293, pub.id);
    add_stream_desc(&cam);
    rtx_video_slot(294, &sub, 293);
    static sc_seen seen[512];
    memset(seen, 0, sizeof seen);
    sc_publisher p = {.pub = &pub,
                      .ssrc = {0xe0, 0xe1, 0xe2},
                      .seq = {7000, 65530, 300},
                      .pid = {40, 900, 32765},
                      .ts = {1000, 50000, 900000},
                      .tl0 = {5, 77, 250}};
    int64_t now = 120 * SEC;

    /* the high layer: its keyframe, then frames of TID 0 and 1 (ids wrap) */
    sc_step(&p, &sub, seen, 7, 9, 0, &now);
    int high_first = sc_step(&p, &sub, seen, 7, 2, 0, &now);
    CHECK(high_first >= 0);
    int high_last = high_first;
    for (int f = 0; f < 6; f++) high_last = sc_step(&p, &sub, seen, 7, 9, (uint8_t)(f % 2), &now);
    CHECK(high_last == (uint16_t)(high_first + 6));

    /* to the low layer with a temporal cap: the switch re-bases the offsets, then each TID 1
     * frame left out moves them again */
    set_quality(294, SFU_QUALITY_LOW, 0);
    int low_first = -1;
    for (int f = 0; f < 3 && low_first < 0; f++) {
        low_first = sc_step(&p, &sub, seen, 1, 0, 0, &now);
        if (low_first >= 0 && seen[low_first % 512].have) break;
    }
    CHECK(low_first == (uint16_t)(high_last + 1));
    int low_outs[6], n_low = 0;
    for (int f = 0; f < 12; f++) {
        int out = sc_step(&p, &sub, seen, 1, 9, (uint8_t)(f % 2), &now);
        CHECK((out >= 0) == (f % 2 == 0)); /* TID 1 left out */
        if (out >= 0) low_outs[n_low++] = out;
    }
    CHECK(n_low == 6 && low_outs[5] == (uint16_t)(low_first + 6)); /* no gap */

    /* NACKs for each: the high layer's from before the switch, the low keyframe, low
     * packets between and after drops */
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)high_first));
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)(high_first + 3)));
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)high_last));
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)low_first));
    for (int i = 0; i < n_low; i++) CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)low_outs[i]));
    /* not sent (yet): nothing */
    sfu_transport *ts = transport_of(&sub);
    uint64_t missed = ts->link.rtx_missed;
    core->now_us += 200000;
    send_nack(&sub, 0x5931, (uint16_t[]){(uint16_t)(low_outs[5] + 1), (uint16_t)(high_first - 1)}, 2);
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0 && ts->link.rtx_missed == missed + 2);
    forget_sent();

    /* a record taken by a later packet: 256 packets on, the first high one is not answered
     * (the cache of the high layer still holds it: the record decides) */
    set_quality(294, SFU_QUALITY_LOW, 0xff);
    for (int f = 0; f < SFU_SLOT_SENT; f++) sc_step(&p, &sub, seen, 1, 9, 0, &now);
    core->now_us += 200000;
    send_nack(&sub, 0x5931, (uint16_t[]){(uint16_t)high_first}, 1);
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    forget_sent();

    /* re-pointed (even at the same stream after another): nothing sent before is answered */
    uint16_t recent = (uint16_t)(low_first + 6 + SFU_SLOT_SENT);
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, recent));
    point(294, 0, 100);
    point(294, 293, 100);
    core->now_us += 200000;
    send_nack(&sub, 0x5931, &recent, 1);
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 0);
    forget_sent();
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* A single-layer VP8 screen share in three temporal layers (L1T3: TIDs 0 2 1 2 …, one
 * packet a frame at 30 fps). What the subscriber saw, by out sequence number. */
typedef struct {
    const peer *pub;
    uint32_t ssrc;
    uint16_t seq, pid;
    uint32_t ts;
    uint8_t tl0;
    unsigned frame;
} l1t3_publisher;

static const uint8_t l1t3_tids[4] = {0, 2, 1, 2};

/* One frame (a keyframe every 64), the batch ended, the router's tick; what the subscriber
 * got is kept in seen; its descriptor in *d. Returns the out sequence number, or -1. */
static int l1t3_step(l1t3_publisher *p, const peer *sub, sc_seen *seen, sfu_vp8_descriptor *d, int64_t *now)
{
    uint8_t pkt[256], tid = l1t3_tids[p->frame % 4];
    if (tid == 0) p->tl0++;
    core->now_us = *now += 33333;
    feed(p->pub, pkt, simulcast_packet(pkt, p->ssrc, "s", p->seq++, p->ts, p->frame % 64 == 0, p->pid++, p->tl0, tid),
         false);
    p->ts += 3000;
    p->frame++;
    end_batch();
    sfu_router_tick(core, *now);
    return keep_received(sub, seen, d);
}

/* The last SFU_EV_SLOT_QUALITY of the slot among the events waiting, or NULL. */
static const sfu_event *slot_quality_event(uint32_t slot_id)
{
    const sfu_event *evs, *last = NULL;
    for (size_t i = 0, n = drain_events(&evs); i < n; i++)
        if (evs[i].type == SFU_EV_SLOT_QUALITY && evs[i].slot_id == slot_id) last = &evs[i];
    return last;
}

/* The screen's temporal levels under a site budget: once the rate of each TID is measured,
 * a budget that carries T0 but not T0+T1 caps the slot at TID 0 (reported: level 0 of 3,
 * the budget); the frames above leave no gap in sequence numbers, picture ids or
 * TL0PICIDX, and a NACK is answered with the packet as it was renumbered; without the
 * budget every frame comes back (after the allocator's hold), still without a gap. */
static void test_temporal_levels_of_one_encoding(void)
{
    peer pub = connect_peer(321, 5321), sub = connect_peer(322, 5322);
    add_stream(323, &pub, SFU_KIND_VIDEO, 96, 0x3230);
    rtx_video_slot(324, &sub, 323);
    static sc_seen seen[512];
    memset(seen, 0, sizeof seen);
    l1t3_publisher p = {.pub = &pub, .ssrc = 0x3230, .seq = 65000, .pid = 32000, .ts = 5000, .tl0 = 200};
    int64_t now = 700 * SEC;
    sfu_vp8_descriptor d;

    /* 3 s unlimited: every frame, numbers as they come; the levels measured */
    int out = -1, last = -1;
    uint16_t last_pid = 0;
    for (int f = 0; f < 90; f++) {
        out = l1t3_step(&p, &sub, seen, &d, &now);
        CHECK(out >= 0);
        CHECK(last < 0 || (out == (uint16_t)(last + 1) && d.picture_id == ((last_pid + 1) & 0x7fff)));
        last = out, last_pid = d.picture_id;
    }
    sfu_stream *st = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(323));
    uint32_t bps[SFU_TEMPORAL_LEVELS];
    CHECK(st && sfu_temporal_levels(st, now, bps) == 3 && bps[0] < bps[1] && bps[1] < bps[2]);
    drain_events(&(const sfu_event *){0});

    /* a budget between T0 and T0+T1: only TID 0 frames from the next frame start on */
    sfu_transport *t = transport_of(&sub);
    t->site_budget_bps = (uint32_t)((uint64_t)bps[0] * 3 / 2);
    int outs[16], n_out = 0;
    uint8_t last_tl0 = 0;
    for (int f = 0; f < 48 && n_out < 16; f++) {
        bool base = l1t3_tids[p.frame % 4] == 0;
        out = l1t3_step(&p, &sub, seen, &d, &now);
        if (f < 4) { /* (the cap is taken on at the first frame start after the tick) */
            if (out >= 0) last = out, last_pid = d.picture_id, last_tl0 = d.tl0picidx;
            continue;
        }
        CHECK((out >= 0) == base);
        if (out < 0) continue;
        CHECK(out == (uint16_t)(last + 1) && d.picture_id == ((last_pid + 1) & 0x7fff) && d.has_tid && d.tid == 0);
        CHECK(n_out == 0 || d.tl0picidx == (uint8_t)(last_tl0 + 1));
        last = out, last_pid = d.picture_id, last_tl0 = d.tl0picidx;
        outs[n_out++] = out;
    }
    CHECK(n_out == 11); /* (the base frames of 44) */
    const sfu_event *ev = slot_quality_event(324);
    CHECK(ev && ev->slot_layer == 0 && ev->slot_frame_levels == 3 && ev->slot_limit == SFU_LIMIT_BUDGET);
    sfu_slot *slot = g_hash_table_lookup(core->slots, GUINT_TO_POINTER(324));
    CHECK(slot && slot->layers.tid_cap == 0 && !slot->layers.paused);
    /* a NACK for each: the packet as it was renumbered */
    for (int i = 0; i < n_out; i += 3) CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)outs[i]));

    /* the budget lifted: every frame again after the hold, continuing the numbers */
    t->site_budget_bps = 0;
    int back = -1;
    for (int f = 0; f < 120 && back < 0; f++) {
        bool base = l1t3_tids[p.frame % 4] == 0;
        out = l1t3_step(&p, &sub, seen, &d, &now);
        if (out < 0) continue;
        CHECK(out == (uint16_t)(last + 1) && d.picture_id == ((last_pid + 1) & 0x7fff));
        last = out, last_pid = d.picture_id;
        if (!base) back = f;
    }
    CHECK(back >= 0 && back * 33333 >= SFU_ALLOC_UP_HOLD_US);
    for (int f = 0; f < 8; f++) {
        out = l1t3_step(&p, &sub, seen, &d, &now);
        CHECK(out == (uint16_t)(last + 1) && d.picture_id == ((last_pid + 1) & 0x7fff));
        last = out, last_pid = d.picture_id;
    }
    ev = slot_quality_event(324);
    CHECK(ev && ev->slot_layer == 2 && ev->slot_limit == SFU_LIMIT_NONE);
    CHECK(sc_repaired_as_sent(&sub, 0x5931, seen, (uint16_t)last));
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* The publisher's side of a simulcast stream: a gap in one layer is NACKed on that layer's
 * SSRC only; the layer's RTX, its SSRC never announced, is learnt from the repaired-rid
 * extension, unwrapped into the layer and forwarded to the slot showing it; the receiver
 * report has a block per layer. */
#define SC_RRID_EXT 11
static void test_simulcast_upstream(void)
{
    peer pub = connect_peer(295, 5295), sub = connect_peer(296, 5296);
    sfu_stream_desc cam = simulcast_camera(297, pub.id);
    cam.repaired_rid_ext_id = SC_RRID_EXT;
    cam.rtx_pt = 97;
    add_stream_desc(&cam);
    add_slot(298, &sub, SFU_KIND_VIDEO, 0x5981);
    point(298, 297, 96);
    set_quality(298, SFU_QUALITY_MEDIUM, 0xff);
    forget_sent();
    static sc_seen seen[512];
    sc_publisher p = {.pub = &pub,
                      .ssrc = {0xf0, 0xf1, 0xf2},
                      .seq = {100, 2000, 30000},
                      .pid = {1, 2, 3},
                      .ts = {1000, 2000, 3000},
                      .tl0 = {1, 2, 3}};
    int64_t now = 140 * SEC;
    sc_step(&p, &sub, seen, 7, 1, 0, &now); /* the middle layer's keyframe starts the slot */
    int first = sc_step(&p, &sub, seen, 7, 9, 0, &now);
    CHECK(first >= 0);
    sfu_stream *st = g_hash_table_lookup(core->streams, GUINT_TO_POINTER(297));
    CHECK(st && st->repair[0].cache && st->repair[1].cache && st->repair[2].cache);
    if (st && st->repair[0].cache) /* the lower layers' caches: a quarter and a half */
        CHECK(sfu_rtx_cache_ring_bytes(st->repair[0].cache) == SFU_RTX_CACHE_BYTES / 4 &&
              sfu_rtx_cache_ring_bytes(st->repair[1].cache) == SFU_RTX_CACHE_BYTES / 2 &&
              sfu_rtx_cache_ring_bytes(st->repair[2].cache) == SFU_RTX_CACHE_BYTES);
    forget_sent();

    /* the middle layer's next packet is lost on the way in: NACKed on its SSRC only */
    uint16_t lost_seq = p.seq[1]++, lost_pid = p.pid[1]++;
    uint32_t lost_ts = p.ts[1];
    uint8_t lost_tl0 = p.tl0[1];
    p.ts[1] += 3000;
    core->now_us = now += 33000;
    for (unsigned i = 0; i < 3; i++) sc_frame(&p, i, false, 1);
    end_batch();
    size_t n = received(&pub, gs, 512);
    sfu_rtcp_packet nack;
    uint16_t pid = 0, blp = 0;
    CHECK(count_rtcp(gs, n, SFU_RTCP_RTPFB, 1, 0xf1, &nack) == 1 && sfu_rtcp_nack_entry(&nack, 0, &pid, &blp) &&
          pid == lost_seq && blp == 0);
    CHECK(count_rtcp(gs, n, SFU_RTCP_RTPFB, 1, 0xf0, NULL) == 0 &&
          count_rtcp(gs, n, SFU_RTCP_RTPFB, 1, 0xf2, NULL) == 0);
    CHECK(count_rtp(gs, received(&sub, gs, 512)) == 1); /* the one after it */
    forget_sent();

    /* its RTX on an SSRC never announced, naming the layer by repaired-rid: unwrapped and
     * forwarded in its place */
    uint8_t pkt[256], rtx[300];
    size_t len = simulcast_packet(pkt, 0xf1, "h", lost_seq, lost_ts, false, lost_pid, lost_tl0, 1);
    pkt[16] = (uint8_t)(SC_RRID_EXT << 4 | (pkt[16] & 0x0f)); /* rid → repaired-rid */
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(pkt, len, &h));
    core->now_us = now += 10000;
    feed(&pub, rtx, sfu_rtx_wrap(rtx, sizeof rtx, pkt, &h, lost_seq, 0xf9, 97, 1), false);
    end_batch();
    n = received(&sub, gs, 512);
    CHECK(n == 1 && !gs[0].rtcp && gs[0].h.seq == (uint16_t)(first + 1) && gs[0].h.ssrc == 0x5981);
    CHECK(st && st->repair[1].rtx_ssrc == 0xf9 && !st->repair[0].rtx_ssrc && !st->repair[2].rtx_ssrc);
    CHECK(transport_of(&pub)->link.rtx_received == 1);
    forget_sent();

    /* the receiver report: one block per layer */
    core->next_report_us = 0;
    sfu_router_tick(core, now + 1000);
    n = received(&pub, gs, 512);
    unsigned blocks = 0;
    for (size_t i = 0; i < n; i++) {
        sfu_rtcp_iter it;
        sfu_rtcp_packet rr;
        sfu_rtcp_iter_init(&it, gs[i].buf, gs[i].len);
        while (gs[i].rtcp && sfu_rtcp_iter_next(&it, &rr)) {
            sfu_rtcp_report_block rb;
            for (size_t b = 0; rr.pt == SFU_RTCP_RR && sfu_rtcp_report_block_at(&rr, b, &rb); b++)
                blocks |= rb.ssrc == 0xf0 ? 1u : rb.ssrc == 0xf1 ? 2u : rb.ssrc == 0xf2 ? 4u : 8u;
        }
    }
    CHECK(blocks == 7);
    forget_sent();
    free_peers((peer *[]){&pub, &sub}, 2);
}

/* Twenty subscribers start at once on a stream that sends delta frames and each asks for a
 * keyframe every 100 ms for two seconds: the publisher gets one PLI per 500 ms. */
static void test_pli_storm(void)
{
    enum { SUBS = 20 };
    peer pub = connect_peer(261, 5261);
    static peer subs[SUBS];
    add_stream(262, &pub, SFU_KIND_VIDEO, 96, 0x2621);
    for (uint32_t i = 0; i < SUBS; i++) {
        subs[i] = connect_peer(4000 + i, (uint16_t)(24000 + i));
        add_slot(4100 + i, &subs[i], SFU_KIND_VIDEO, 0x4100 + i);
        point(4100 + i, 262, 96);
    }
    forget_sent();
    uint8_t rtcp[64];
    uint16_t seq = 0;
    size_t plis = 0;
    for (int64_t t = 0; t < 2 * SEC; t += 33333) {
        core->now_us = 50 * SEC + t;
        send_video(&pub, 0x2621, seq++, (uint32_t)(t * 9 / 100), false);
        if (t / 100000 != (t + 33333) / 100000)
            for (uint32_t i = 0; i < SUBS; i++)
                feed(&subs[i], rtcp, sfu_rtcp_write_pli(rtcp, sizeof rtcp, 0x9999, 0x4100 + i), true);
        end_batch();
        plis += count_rtcp(gs, received(&pub, gs, 512), SFU_RTCP_PSFB, 1, 0x2621, NULL);
        forget_sent();
    }
    CHECK(plis >= 4 && plis <= 5); /* 0, 0.5, 1, 1.5 s (and 2 s at the edge) */
    for (uint32_t i = 0; i < SUBS; i++) sfu_srtp_free(subs[i].srtp);
    free_peers((peer *[]){&pub}, 1);
}

/* Audio with its level extension whose payload is RED (pt 63): one redundant block of 5
 * octets (0xA0) and a primary of primary_len octets (0xB0), both blocks named block_pt;
 * or plain Opus of primary_len octets when red is false (pt block_pt). */
static size_t red_packet(uint8_t *buf, bool red, uint8_t block_pt, uint16_t seq, size_t primary_len)
{
    size_t len = audio_packet(buf, 0x471, seq, (uint32_t)seq * 960, 1, true, 20);
    size_t pos = 20; /* after the header and its extension */
    buf[1] = red ? 63 : block_pt;
    if (red) {
        const uint8_t headers[] = {(uint8_t)(0x80 | block_pt), 0x0f, 0x00, 5, block_pt};
        memcpy(buf + pos, headers, sizeof headers);
        pos += sizeof headers;
        memset(buf + pos, 0xA0, 5);
        pos += 5;
    }
    memset(buf + pos, 0xB0, primary_len);
    (void)len;
    return pos + primary_len;
}

/* RED (RFC 2198): a slot that took it gets the publisher's RED as it is, its blocks named
 * with the slot's Opus payload type; a slot that did not gets the primary block alone as
 * plain Opus (nothing for an empty primary); plain Opus reaches both unchanged; malformed
 * RED is dropped; levels are still measured; a RED-less slot re-pointed to a non-RED
 * source goes on with continuous sequence numbers. */
static void test_red(void)
{
    peer pa = connect_peer(461, 5461), pb = connect_peer(462, 5462);
    peer with = connect_peer(463, 5463), without = connect_peer(464, 5464);
    add_stream_desc(&(sfu_stream_desc){.stream_id = 471,
                                       .transport_id = pa.id,
                                       .room_id = ROOM,
                                       .kind = SFU_KIND_AUDIO,
                                       .codec = SFU_CODEC_OPUS,
                                       .pt = 109, /* Firefox's number for Opus */
                                       .red_pt = 63,
                                       .ssrc = 0x471,
                                       .audio_level_ext_id = 1});
    add_stream(472, &pb, SFU_KIND_AUDIO, 111, 0x472);
    add_slot(481, &with, SFU_KIND_AUDIO, 0x481);
    add_slot(482, &without, SFU_KIND_AUDIO, 0x482);
    sfu_core_apply(core, &(sfu_cmd){.type = SFU_CMD_SLOT_SET_RED, .id = 481, .room_id = ROOM, .pt = 63});
    point(481, 471, 111);
    point(482, 471, 111);
    core->now_us = core->next_audio_level_us > 50 * SEC ? core->next_audio_level_us : 50 * SEC;
    sfu_router_tick(core, core->now_us); /* starts a level interval */
    count_events(0, 0, NULL, 0);
    forget_sent();
    uint64_t malformed = drops(SFU_DROP_MALFORMED);

    uint8_t pkt[200];
    size_t red_len = red_packet(pkt, true, 109, 1, 7);
    feed(&pa, pkt, red_len, false);
    feed(&pa, pkt, red_packet(pkt, false, 109, 2, 9), false); /* plain Opus beside it */
    size_t lying = red_packet(pkt, true, 109, 3, 2);
    pkt[23] = 200; /* the redundant block claims 200 octets */
    feed(&pa, pkt, lying, false);
    feed(&pa, pkt, red_packet(pkt, true, 109, 4, 0), false); /* an empty primary */
    end_batch();
    CHECK(drops(SFU_DROP_MALFORMED) == malformed + 1);

    got *g = gs;
    size_t n = received(&with, g, 512);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(g[0].h.pt == 63 && g[0].len == red_len);
        const uint8_t *pl = g[0].buf + g[0].h.payload_off;
        CHECK(pl[0] == (0x80 | 111) && pl[4] == 111 && pl[5] == 0xA0 && pl[10] == 0xB0);
        CHECK(g[1].h.pt == 111 && g[1].h.payload_len == 9);
        CHECK(g[2].h.pt == 63 && g[2].h.payload_len == 10);
        CHECK(g[0].h.seq + 1 == g[1].h.seq && g[1].h.seq + 2 == g[2].h.seq);
        const uint8_t *val;
        size_t vlen;
        CHECK(sfu_rtp_find_ext(g[0].buf, &g[0].h, 1, &val, &vlen) && val[0] == (0x80 | 20));
    }
    n = received(&without, g, 512);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(g[0].h.pt == 111 && g[0].h.payload_len == 7 && g[0].len == 20 + 7 && !g[0].h.padding);
        bool primary = true;
        for (size_t i = 0; i < 7; i++) primary &= g[0].buf[g[0].h.payload_off + i] == 0xB0;
        CHECK(primary);
        const uint8_t *val;
        size_t vlen;
        CHECK(sfu_rtp_find_ext(g[0].buf, &g[0].h, 1, &val, &vlen) && val[0] == (0x80 | 20));
        CHECK(g[1].h.pt == 111 && g[1].h.payload_len == 9 && g[1].h.seq == g[0].h.seq + 1);
    }
    forget_sent();

    /* RED with RTP padding: stripped, the padding stays behind (P cleared); kept, it stays */
    size_t padded = red_packet(pkt, true, 109, 5, 7);
    memcpy(pkt + padded, (const uint8_t[]){0, 0, 0, 4}, 4);
    pkt[0] |= 0x20;
    feed(&pa, pkt, padded + 4, false);
    end_batch();
    n = received(&with, g, 512);
    CHECK(n == 1 && g[0].h.pt == 63 && g[0].h.padding && g[0].len == padded + 4 && g[0].h.payload_len == 17);
    n = received(&without, g, 512);
    CHECK(n == 1 && g[0].h.pt == 111 && !g[0].h.padding && g[0].len == 20 + 7);
    uint16_t last_seq = n == 1 ? g[0].h.seq : 0;
    forget_sent();
    sfu_router_tick(core, core->now_us + 100000);
    level_report r[8];
    size_t nl = audio_levels(r, 8);
    bool level_seen = false;
    for (size_t i = 0; i < nl; i++) level_seen |= r[i].id == 471 && r[i].level == 107;
    CHECK(level_seen); /* every packet with a level counted, the malformed one too */

    /* the RED-less slot follows a plain Opus source: still Opus, numbers continuous */
    point(482, 472, 111);
    core->now_us += 200000;
    uint8_t plain[200];
    feed(&pb, plain, rtp_packet(plain, 111, 0x472, 500, 9000, false, 60), false);
    end_batch();
    n = received(&without, g, 512);
    CHECK(n == 1 && g[0].h.pt == 111 && g[0].h.seq == (uint16_t)(last_seq + 1) && g[0].h.payload_len == 48);
    forget_sent();
    free_peers((peer *[]){&pa, &pb, &with, &without}, 4);
}

int main(void)
{
    CHECK(sfu_srtp_global_init());
    client_cert = sfu_dtls_cert_new();
    sfu_dtls_cert *server_cert = sfu_dtls_cert_new();
    sfu_core_settings settings = {
        .consent_timeout_ms = 30000, .dtls_linger_ms = 10000, .max_queue_delay_ms = 250, .cert = server_cert};
    core = sfu_core_new(&settings, on_full, NULL);
    CHECK(core != NULL);
    if (!core) return CHECK_RESULT();

    test_switching();
    test_shortest_first();
    test_full_batch();
    test_command_failures();
    test_gso_regroup();
    test_gate();
    test_audio_levels();
    test_readings_give_way();
    test_simulcast();
    test_simulcast_h264();
    test_nack_answered();
    test_upstream_repair();
    test_simulcast_nack();
    test_simulcast_upstream();
    test_pli_storm();
    test_transport_cc();
    test_uplink_feedback();
    test_unwatched_layers_paused();
    test_screen_beside_simulcast_camera();
    test_temporal_levels_of_one_encoding();
    test_red();

    sfu_core_free(core);
    sfu_dtls_cert_free(server_cert);
    sfu_dtls_cert_free(client_cert);
    return CHECK_RESULT();
}
