/* The media engine end to end over real loopback UDP: C peers (the server's own ICE, DTLS
 * and SRTP code in client mode) connect, publish and subscribe through sfu.h, and the
 * test checks what a browser relies on: forwarding with rewritten SSRC and payload type,
 * video held back until a keyframe (and a PLI sent for it), continuous sequence numbers
 * and timestamps when a slot is re-pointed to another source, subscriber PLI relayed to
 * the publisher, a command that cannot be applied reported, garbage counted and dropped,
 * media that waited too long for a stalled worker dropped instead of forwarded late,
 * consent expiry reported, consent kept by authenticated SRTCP from a subscriber slow
 * to send its checks, checks answered before the answer names the peer, and the stream
 * gate (a blocked stream's packets counted and never forwarded, forwarded once opened). */
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/check.h"
#include "ice/ice_lite.h"
#include "peer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu.h"
#include "sfu_internal.h"

#define ROOM 7
#define MAX_QUEUE_DELAY_MS 100

static sfu *engine;
static sfu_dtls_cert *client_cert;

#include "engine_client.h"

/* A VP8 packet: payload descriptor with S=1 PID=0, then a frame header whose P bit says
 * key (0) or inter (1) frame. */
static size_t vp8_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, bool key)
{
    memset(buf, 0, 12);
    buf[0] = 0x80;
    buf[1] = 0x80 | 96; /* marker: one packet per frame */
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, ssrc);
    buf[12] = 0x10;              /* S=1, PID=0 */
    buf[13] = key ? 0x10 : 0x11; /* P bit 0 = keyframe */
    memset(buf + 14, 0xab, 100);
    return 114;
}

/* Receives until an RTP packet arrives (RTCP is skipped); returns its header. */
static bool recv_rtp(client *c, sfu_rtp_header *h, int timeout_ms)
{
    uint8_t buf[2048];
    for (int tries = 0; tries < 50; tries++) {
        int n = dc_peer_recv(c->peer, buf, sizeof buf, timeout_ms);
        if (n <= 0) return false;
        if (sfu_pkt_classify(buf, (size_t)n) == SFU_PKT_RTP) return sfu_rtp_parse(buf, (size_t)n, h);
    }
    return false;
}

/* Receives until an RTCP packet of type pt with the given SSRC arrives (media SSRC for
 * feedback, sender SSRC otherwise) and copies it out. */
static bool recv_rtcp(client *c, uint8_t pt, uint8_t fmt, uint32_t ssrc, sfu_rtcp_packet *out, uint8_t *buf, size_t cap,
                      int timeout_ms)
{
    for (int tries = 0; tries < 50; tries++) {
        int n = dc_peer_recv(c->peer, buf, cap, timeout_ms);
        if (n <= 0) return false;
        if (sfu_pkt_classify(buf, (size_t)n) != SFU_PKT_RTCP) continue;
        sfu_rtcp_iter it;
        sfu_rtcp_iter_init(&it, buf, (size_t)n);
        while (sfu_rtcp_iter_next(&it, out)) {
            bool feedback = pt == SFU_RTCP_PSFB || pt == SFU_RTCP_RTPFB;
            if (out->pt == pt && (!feedback || out->fmt == fmt) &&
                (feedback ? out->media_ssrc : out->sender_ssrc) == ssrc)
                return true;
        }
    }
    return false;
}

static uint64_t dropped(const sfu_stats *st)
{
    uint64_t n = 0;
    for (int r = 0; r < SFU_DROP_REASONS; r++) n += st->drops[r];
    return n;
}

static bool recv_pli(client *c, uint32_t media_ssrc, int timeout_ms)
{
    uint8_t buf[2048];
    sfu_rtcp_packet p;
    return recv_rtcp(c, SFU_RTCP_PSFB, 1, media_ssrc, &p, buf, sizeof buf, timeout_ms);
}

/* Receives until an SR from ssrc arrives and checks its NTP and RTP times. */
static bool recv_sr(client *c, uint32_t ssrc, uint64_t want_ntp, uint32_t want_rtp, int timeout_ms)
{
    uint8_t buf[2048];
    sfu_rtcp_packet p;
    uint64_t ntp;
    uint32_t rtp, packets, octets;
    return recv_rtcp(c, SFU_RTCP_SR, 0, ssrc, &p, buf, sizeof buf, timeout_ms) &&
           sfu_rtcp_sr_info(&p, &ntp, &rtp, &packets, &octets) && ntp == want_ntp && rtp == want_rtp;
}

static void send_vp8(client *c, uint32_t ssrc, uint16_t seq, uint32_t ts, bool key)
{
    uint8_t buf[2048];
    size_t len = vp8_packet(buf, ssrc, seq, ts, key);
    CHECK(dc_peer_send_rtp(c->peer, buf, len, sizeof buf));
}

/* Reads STUN datagrams from fd until `want` have come or timeout_ms passed; returns how
 * many came (read straight from the socket: dc_peer_recv eats STUN). */
static int count_stun_answers(int fd, int want, int timeout_ms)
{
    int got = 0;
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    uint8_t reply[600];
    while (got < want) {
        int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0) break;
        for (ssize_t n; (n = recv(fd, reply, sizeof reply, MSG_DONTWAIT)) > 0;)
            got += sfu_pkt_classify(reply, (size_t)n) == SFU_PKT_STUN;
    }
    return got;
}

/* Waits until the worker has applied every command posted so far: commands are applied in
 * order, and a stream on an unknown transport (`marker`, unused elsewhere) fails. */
static void wait_commands_applied(uint32_t marker)
{
    sfu_stream_desc probe = vp8_stream(marker, marker, 1);
    sfu_stream_add(engine, &probe);
    CHECK(wait_event(SFU_EV_COMMAND_FAILED, marker, 2000));
}

/* Waits until `n` more packets than `before` were dropped by the gate; returns the stats. */
static sfu_stats wait_not_allowed(const sfu_stats *before, uint64_t n)
{
    sfu_stats now;
    for (int waited = 0; waited <= 2000; waited += 10) {
        sfu_get_stats(engine, &now);
        if (now.drops[SFU_DROP_NOT_ALLOWED] >= before->drops[SFU_DROP_NOT_ALLOWED] + n) break;
        usleep(10000);
    }
    return now;
}

/* The gate: a stream added blocked reaches no subscriber, its packets counted as
 * not_allowed; opened, the publisher is asked for a keyframe and the stream flows; closed
 * and opened again, the slot continues its numbering across the gap. */
static void test_gate(client *pub, client *sub)
{
    sfu_stream_desc gated = vp8_stream(14, pub->transport_id, 0x3333);
    gated.blocked = true;
    sfu_stream_add(engine, &gated);
    sfu_slot_add(engine, 22, sub->transport_id, ROOM, SFU_KIND_VIDEO, 0x6666);
    sfu_slot_point(engine, 22, ROOM, 14, 100);
    wait_commands_applied(4301);

    sfu_stats before, after;
    sfu_get_stats(engine, &before);
    for (uint16_t i = 0; i < 20; i++) send_vp8(pub, 0x3333, (uint16_t)(300 + i), 3000u * i, true);
    after = wait_not_allowed(&before, 20);
    CHECK(after.drops[SFU_DROP_NOT_ALLOWED] == before.drops[SFU_DROP_NOT_ALLOWED] + 20);
    CHECK(after.rtp_forwarded == before.rtp_forwarded);
    sfu_rtp_header h;
    CHECK(!recv_rtp(sub, &h, 200)); /* (the drops are counted: anything forwarded has left) */

    /* opened: a keyframe request at once (it also shows the command was applied) */
    sfu_stream_set_forwarding(engine, 14, ROOM, true);
    CHECK(recv_pli(pub, 0x3333, 1000));
    send_vp8(pub, 0x3333, 320, 60000, true);
    CHECK(recv_rtp(sub, &h, 1000) && h.ssrc == 0x6666 && h.pt == 100 && h.seq == 320 && h.ts == 60000);
    send_vp8(pub, 0x3333, 321, 63000, false);
    CHECK(recv_rtp(sub, &h, 1000) && h.seq == 321 && h.ts == 63000);

    /* closed again: dropped; opened again: the slot's numbers continue across the gap */
    sfu_stream_set_forwarding(engine, 14, ROOM, false);
    wait_commands_applied(4302);
    sfu_get_stats(engine, &before);
    for (uint16_t i = 0; i < 5; i++) send_vp8(pub, 0x3333, (uint16_t)(322 + i), 66000u + 3000u * i, true);
    after = wait_not_allowed(&before, 5);
    CHECK(after.drops[SFU_DROP_NOT_ALLOWED] == before.drops[SFU_DROP_NOT_ALLOWED] + 5);
    CHECK(!recv_rtp(sub, &h, 200));
    sfu_stream_set_forwarding(engine, 14, ROOM, true);
    wait_commands_applied(4303);
    send_vp8(pub, 0x3333, 327, 81000, true);
    CHECK(recv_rtp(sub, &h, 1000) && h.seq == 322 && (uint32_t)(h.ts - 63000) > 0 &&
          (uint32_t)(h.ts - 63000) < 90000 * 5);

    /* a gate set on a stream the engine does not have is a failed command */
    size_t failed = count_seen(SFU_EV_COMMAND_FAILED, 0);
    sfu_stream_set_forwarding(engine, 4999, ROOM, true);
    wait_commands_applied(4304);
    CHECK(count_seen(SFU_EV_COMMAND_FAILED, 0) == failed + 1);

    sfu_slot_remove(engine, 22, ROOM);
    sfu_stream_remove(engine, 14, ROOM);
    dc_peer_send_consent(pub->peer); /* (the later steps count on fresh consent) */
    dc_peer_send_consent(sub->peer);
}

int main(void)
{
    sfu_config cfg = {.bind_ip = "127.0.0.1",
                      .first_port = 0,
                      .workers = 1,
                      .consent_timeout_ms = 1500,
                      .dtls_linger_ms = 1000,
                      .max_queue_delay_ms = MAX_QUEUE_DELAY_MS};
    engine = sfu_new(&cfg, NULL, NULL);
    CHECK(engine != NULL);
    if (!engine) return CHECK_RESULT();
    client_cert = sfu_dtls_cert_new();
    CHECK(sfu_room_port(engine, ROOM) != 0);

    client pub1 = client_new(1), pub2 = client_new(2), sub = client_new(3);
    CHECK(pub1.peer && pub2.peer && sub.peer);
    CHECK(dc_peer_connect(pub1.peer, 5000));
    CHECK(dc_peer_connect(pub2.peer, 5000));
    CHECK(dc_peer_connect(sub.peer, 5000));
    CHECK(wait_event(SFU_EV_TRANSPORT_CONNECTED, 1, 2000));
    CHECK(wait_event(SFU_EV_TRANSPORT_CONNECTED, 2, 2000));
    CHECK(wait_event(SFU_EV_TRANSPORT_CONNECTED, 3, 2000));
    test_gate(&pub2, &sub);

    sfu_stream_desc s1 = vp8_stream(11, 1, 0x1111);
    sfu_stream_desc s2 = s1;
    s2.stream_id = 12;
    s2.transport_id = 2;
    s2.ssrc = 0x2222;
    sfu_stream_add(engine, &s1);
    sfu_stream_add(engine, &s2);
    /* a command the worker cannot apply comes back as an event naming the transport */
    sfu_stream_desc orphan = s1;
    orphan.stream_id = 13;
    orphan.transport_id = 4242;
    sfu_stream_add(engine, &orphan);
    CHECK(wait_event(SFU_EV_COMMAND_FAILED, 4242, 1000));
    sfu_slot_add(engine, 21, 3, ROOM, SFU_KIND_VIDEO, 0x5555);
    sfu_slot_point(engine, 21, ROOM, 11, 100);
    usleep(50000); /* commands are applied between batches */

    /* a delta frame cannot start a decoder: held back, and the publisher is asked for a keyframe */
    send_vp8(&pub1, 0x1111, 1000, 90000, false);
    CHECK(recv_pli(&pub1, 0x1111, 1000));
    CHECK(wait_event(SFU_EV_STREAM_ACTIVE, 11, 1000));
    sfu_rtp_header h;
    send_vp8(&pub1, 0x1111, 1001, 93000, true);
    CHECK(recv_rtp(&sub, &h, 1000));
    CHECK(h.ssrc == 0x5555 && h.pt == 100 && h.seq == 1001 && h.ts == 93000);
    send_vp8(&pub1, 0x1111, 1002, 96000, false);
    CHECK(recv_rtp(&sub, &h, 1000) && h.seq == 1002 && h.ts == 96000);

    /* re-point the slot at the second publisher: no SDP change, numbering continues */
    sfu_slot_point(engine, 21, ROOM, 12, 100);
    usleep(50000);
    send_vp8(&pub2, 0x2222, 50, 7777, false); /* held until its keyframe */
    CHECK(recv_pli(&pub2, 0x2222, 1000));
    send_vp8(&pub2, 0x2222, 51, 10777, true);
    CHECK(recv_rtp(&sub, &h, 1000));
    CHECK(h.ssrc == 0x5555 && h.seq == 1003);
    CHECK((uint32_t)(h.ts - 96000) > 0 && (uint32_t)(h.ts - 96000) < 90000 * 2);
    uint32_t switched_ts = h.ts;
    send_vp8(&pub2, 0x2222, 52, 13777, false);
    CHECK(recv_rtp(&sub, &h, 1000) && h.seq == 1004 && h.ts == switched_ts + 3000);

    /* the subscriber's PLI for its slot reaches the slot's current source */
    usleep(550000); /* past the keyframe-request throttle (500 ms) */
    uint8_t pli[64];
    size_t pli_len = sfu_rtcp_write_pli(pli, sizeof pli, 0x9999, 0x5555);
    CHECK(dc_peer_send_rtcp(sub.peer, pli, pli_len, sizeof pli));
    CHECK(recv_pli(&pub2, 0x2222, 1000));

    /* a publisher's sender report reaches the subscriber in the slot's SSRC and timestamp space */
    uint8_t sr[64];
    size_t sr_len = sfu_rtcp_write_sr(sr, sizeof sr, 0x2222, 0x0123456789abcdefull, 13777, 3, 300);
    CHECK(dc_peer_send_rtcp(pub2.peer, sr, sr_len, sizeof sr));
    CHECK(recv_sr(&sub, 0x5555, 0x0123456789abcdefull, switched_ts + 3000, 1000));

    /* garbage to the media port: counted, dropped, forwarding goes on */
    sfu_stats before, after;
    sfu_get_stats(engine, &before);
    uint8_t junk[1200];
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)(rand() % (int)sizeof junk);
        for (size_t j = 0; j < len; j++) junk[j] = (uint8_t)rand();
        if (i % 3 == 0 && len > 0) junk[0] = 0x80; /* RTP-looking */
        if (i % 3 == 1 && len > 0) junk[0] = 0x16; /* DTLS-looking */
        dc_peer_send_raw(i % 2 ? sub.peer : pub1.peer, junk, len);
    }
    send_vp8(&pub2, 0x2222, 53, 16777, false);
    CHECK(recv_rtp(&sub, &h, 2000) && h.seq == 1005);
    sfu_get_stats(engine, &after);
    CHECK(dropped(&after) > dropped(&before) + 1000);
    CHECK(after.rtp_forwarded >= 5);

    /* after the linger time the DTLS state is released: media still flows, DTLS is dropped */
    usleep(800000);
    sfu_get_stats(engine, &before);
    uint8_t fake_dtls[13] = {0x16, 0xfe, 0xfd};
    dc_peer_send_raw(sub.peer, fake_dtls, sizeof fake_dtls);
    send_vp8(&pub2, 0x2222, 54, 19777, false);
    CHECK(recv_rtp(&sub, &h, 1000) && h.seq == 1006);
    sfu_get_stats(engine, &after);
    CHECK(after.drops[SFU_DROP_DTLS] == before.drops[SFU_DROP_DTLS] + 1);

    /* a stalled worker: media that waited longer than max_queue_delay_ms in the socket is
     * dropped and counted, not forwarded late; what comes after it flows again. The stall is
     * made by holding the worker's command lock and waking it for commands, so it blocks
     * before it reads the socket (white-box: the test reaches into the worker). */
    sfu_worker *w = sfu_room_worker(engine, ROOM);
    dc_peer_send_consent(pub2.peer); /* consent (1.5 s here) outlives the stall */
    dc_peer_send_consent(sub.peer);
    CHECK(count_stun_answers(dc_peer_fd(pub2.peer), 1, 1000) == 1); /* (sub's: read by recv_rtp) */
    sfu_get_stats(engine, &before);
    pthread_mutex_lock(&w->cmd_lock);
    uint64_t wake = 1;
    CHECK(write(w->wake_fd, &wake, sizeof wake) == sizeof wake);
    usleep(50000); /* the worker is now waiting for the lock */
    for (uint16_t i = 0; i < 3; i++) send_vp8(&pub2, 0x2222, (uint16_t)(55 + i), 22777 + 3000u * i, false);
    usleep(3 * MAX_QUEUE_DELAY_MS * 1000);
    pthread_mutex_unlock(&w->cmd_lock);
    send_vp8(&pub2, 0x2222, 58, 31777, false);
    CHECK(recv_rtp(&sub, &h, 1000) && h.seq == 1010); /* the first to arrive: 55–57 never do */
    sfu_get_stats(engine, &after);
    CHECK(after.drops[SFU_DROP_LATE] == before.drops[SFU_DROP_LATE] + 3);
    CHECK(after.rtp_forwarded == before.rtp_forwarded + 1);

    /* consent checks whose answers nobody validates must not run out (the STUN agent
     * keeps 200 open transactions; the bench sends one every 5 s): 250 in a row are all
     * sent and all answered (read straight from the socket: dc_peer_recv eats STUN) */
    int answered = 0;
    for (int i = 0; i < 250; i++) {
        dc_peer_send_consent(pub2.peer);
        /* read as we go (250 answers at once would overrun the socket buffer), waiting
         * for this group's answers rather than a fixed time, so a slow run is not a loss */
        if (i % 25 == 24) answered += count_stun_answers(dc_peer_fd(pub2.peer), i + 1 - answered, 2000);
    }
    if (answered != 250) fprintf(stderr, "consent checks answered: %d of 250\n", answered);
    CHECK(answered == 250);

    /* the first publisher stops its connectivity checks: consent expires. The subscriber
     * is slow with its checks too (none for longer than the 1.5 s consent timeout), but it
     * keeps sending authenticated SRTCP, as a browser does with its receiver reports: it
     * is there, and must stay connected. */
    uint8_t rr[64];
    size_t rr_len = sfu_rtcp_write_empty_rr(rr, sizeof rr, 0x9999);
    for (int i = 0; i < 25; i++) {
        dc_peer_send_consent(pub2.peer);
        CHECK(dc_peer_send_rtcp(sub.peer, rr, rr_len, sizeof rr));
        usleep(100000);
    }
    CHECK(wait_event(SFU_EV_TRANSPORT_TIMEOUT, 1, 1000));
    CHECK(!wait_event(SFU_EV_TRANSPORT_TIMEOUT, 3, 0));
    send_vp8(&pub2, 0x2222, 59, 34777, false);
    CHECK(recv_rtp(&sub, &h, 1000) && h.seq == 1011);

    /* a subscriber whose checks come before its answer, as a busy client's do: the
     * transport is there from the offer on (no peer yet), answers them and binds, and no
     * consent clock runs before the answer. The peer, answered, stops checking and starts
     * DTLS (as libnice does); its handshake completes once the answer names it. */
    client early = client_make(7, false);
    sfu_get_stats(engine, &before);
    CHECK(early.peer && !dc_peer_connect(early.peer, 300));
    sfu_get_stats(engine, &after);
    /* its check was answered (the peer started DTLS: its ClientHello, from the bound
     * address, waits for the answer's fingerprint and is dropped) */
    CHECK(after.drops[SFU_DROP_STUN_AUTH] == before.drops[SFU_DROP_STUN_AUTH]);
    CHECK(after.drops[SFU_DROP_DTLS] > before.drops[SFU_DROP_DTLS]);
    usleep(1700000);
    CHECK(!wait_event(SFU_EV_TRANSPORT_TIMEOUT, 7, 0) && !wait_event(SFU_EV_TRANSPORT_CONNECTED, 7, 0));
    char fp[200];
    client_fingerprint(fp, sizeof fp);
    sfu_transport_set_peer(engine, 7, ROOM, fp, false);
    CHECK(dc_peer_connect(early.peer, 5000));
    CHECK(wait_event(SFU_EV_TRANSPORT_CONNECTED, 7, 2000));
    sfu_transport_set_peer(engine, 4343, ROOM, fp, false); /* no such transport */
    CHECK(wait_event(SFU_EV_COMMAND_FAILED, 4343, 1000));
    /* a new peer connection answers the same offer (same server credentials), its checks
     * again before its answer: the transport starts over with it, keeping what it bound */
    dc_peer *renewed = dc_peer_new("127.0.0.1", sfu_room_port(engine, ROOM), early.ufrag, early.pwd,
                                   sfu_fingerprint(engine), client_cert);
    CHECK(renewed && !dc_peer_connect(renewed, 300));
    size_t connected_before = count_seen(SFU_EV_TRANSPORT_CONNECTED, 7);
    sfu_transport_set_peer(engine, 7, ROOM, fp, false);
    CHECK(dc_peer_connect(renewed, 5000));
    for (int waited = 0; waited < 2000 && count_seen(SFU_EV_TRANSPORT_CONNECTED, 7) == connected_before; waited += 10)
        usleep(10000);
    CHECK(count_seen(SFU_EV_TRANSPORT_CONNECTED, 7) == connected_before + 1);
    dc_peer_free(renewed);
    dc_peer_free(early.peer);

    sfu_stream_remove(engine, 11, ROOM);
    sfu_transport_remove(engine, 1, ROOM);
    dc_peer_free(pub1.peer);
    dc_peer_free(pub2.peer);
    dc_peer_free(sub.peer);
    sfu_free(engine);
    sfu_dtls_cert_free(client_cert);
    return CHECK_RESULT();
}
