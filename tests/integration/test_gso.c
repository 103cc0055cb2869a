/* UDP GSO in the worker's transmit flush: bursts of equal-size packets to one
 * subscriber go out as super-datagrams (UDP_SEGMENT) after the batch is regrouped by
 * destination. SUBS subscribers receive bursts of 10 packets sent back to back with one
 * sendmmsg; each must get every packet, in order, with its own length and content,
 * whether a burst was bundled or not. SUBS × 10 is more than one send batch
 * (SFU_TX_BATCH), so the fan-out also crosses a flush, where a subscriber's run must not
 * be cut or reordered. The bursts mix the shapes the flush must handle:
 * equal sizes with a smaller last one (one run), a larger packet in the middle (the run
 * breaks and restarts), libwebrtc's split (sizes a byte apart: the router pads the shorter
 * ones with RTP padding, which the receiver strips; the payload must arrive unchanged),
 * and sizes too far apart to pad. How a burst is bundled depends on how much of it one
 * receive batch caught, so the test checks what arrives, not how. Runs with
 * DIEMCAU_GSO=1; checks that GSO was used when the kernel has UDP_SEGMENT. */
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/check.h"
#include "ice/ice_lite.h"
#include "peer.h"
#include "rtp/rtp.h"
#include "sfu.h"

#define ROOM 9
#define BURST 10
#define BURSTS 40
#define SUBS 32

static sfu *engine;
static sfu_dtls_cert *client_cert;

#include "engine_client.h"

/* A VP8 packet of `len` bytes; the payload after the descriptor repeats a tag derived
 * from the sequence number, so a mixed-up buffer is caught. */
static size_t vp8_packet(uint8_t *buf, uint16_t seq, uint32_t ts, bool key, bool marker, size_t len)
{
    memset(buf, 0, 12);
    buf[0] = 0x80;
    buf[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, 0x1111);
    buf[12] = 0x10;              /* S=1, PID=0 */
    buf[13] = key ? 0x10 : 0x11; /* P bit 0 = keyframe */
    memset(buf + 14, (uint8_t)(seq * 7 + 1), len - 14);
    return len;
}

/* The burst shapes: sizes of the 10 packets. */
static size_t burst_size(int burst, int i)
{
    switch (burst % 4) {
    case 0: return i == BURST - 1 ? 300 : 1000;        /* one run, smaller last */
    case 1: return i == 4 ? 1100 : i == 7 ? 500 : 800; /* a larger one breaks the run */
    case 2: return 1000 + (i >= 7);                    /* libwebrtc's split: the router pads */
    default: return 200 + (size_t)i * 20;              /* too different to pad: no run */
    }
}

/* Sends a burst with one sendmmsg, so that the server reads it in one batch. */
static void send_burst(client *pub, uint16_t seq0, uint32_t ts, int burst)
{
    static uint8_t bufs[BURST][2048];
    struct iovec iov[BURST];
    struct mmsghdr msgs[BURST];
    size_t alen;
    const void *addr = dc_peer_server_addr(pub->peer, &alen);
    for (int i = 0; i < BURST; i++) {
        size_t len = vp8_packet(bufs[i], (uint16_t)(seq0 + i), ts, false, i == BURST - 1, burst_size(burst, i));
        CHECK(sfu_srtp_protect_rtp(dc_peer_srtp(pub->peer), bufs[i], &len, sizeof bufs[i]) == 0);
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = len};
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = (void *)addr, .msg_namelen = (socklen_t)alen, .msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int sent = 0;
    while (sent < BURST) {
        int n = sendmmsg(dc_peer_fd(pub->peer), msgs + sent, (unsigned)(BURST - sent), 0);
        if (n <= 0) break;
        sent += n;
    }
    CHECK(sent == BURST);
}

/* Receives one burst and checks count, order, lengths and content. */
static bool recv_burst(client *c, uint16_t seq0, int burst)
{
    uint8_t buf[2048];
    for (int i = 0; i < BURST; i++) {
        sfu_rtp_header h;
        int n;
        do {
            n = dc_peer_recv(c->peer, buf, sizeof buf, 1000);
        } while (n > 0 && sfu_pkt_classify(buf, (size_t)n) != SFU_PKT_RTP);
        if (n <= 0 || !sfu_rtp_parse(buf, (size_t)n, &h)) {
            fprintf(stderr, "burst %d: packet %d missing\n", burst, i);
            return false;
        }
        /* the payload as sent; the router may have added RTP padding (stripped here) */
        uint16_t want = (uint16_t)(seq0 + i);
        size_t sent_len = h.payload_off + h.payload_len;
        if (h.seq != want || h.ssrc != 0x5555 || sent_len != burst_size(burst, i) ||
            buf[sent_len - 1] != (uint8_t)(want * 7 + 1) || (size_t)n - sent_len > 8) {
            fprintf(stderr, "burst %d: packet %d is seq %u len %zu (+%zu padding), want seq %u len %zu\n", burst, i,
                    h.seq, sent_len, (size_t)n - sent_len, want, burst_size(burst, i));
            return false;
        }
    }
    return true;
}

static bool kernel_has_gso(void)
{
#ifdef UDP_SEGMENT
    int fd = socket(AF_INET, SOCK_DGRAM, 0), zero = 0;
    bool ok = fd >= 0 && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
    if (fd >= 0) close(fd);
    return ok;
#else
    return false;
#endif
}

int main(void)
{
    setenv("DIEMCAU_GSO", "1", 1);
    sfu_config cfg = {
        .bind_ip = "127.0.0.1", .first_port = 0, .workers = 1, .consent_timeout_ms = 30000, .dtls_linger_ms = 10000};
    engine = sfu_new(&cfg, NULL, NULL);
    CHECK(engine != NULL);
    if (!engine) return CHECK_RESULT();
    client_cert = sfu_dtls_cert_new();

    client pub = client_new(1), subs[SUBS];
    CHECK(pub.peer && dc_peer_connect(pub.peer, 5000));
    for (int i = 0; i < SUBS; i++) {
        subs[i] = client_new(2 + (uint32_t)i);
        CHECK(subs[i].peer && dc_peer_connect(subs[i].peer, 5000));
    }
    for (uint32_t id = 1; id <= 1 + SUBS; id++) CHECK(wait_event(SFU_EV_TRANSPORT_CONNECTED, id, 3000));

    sfu_stream_desc s = vp8_stream(11, 1, 0x1111);
    sfu_stream_add(engine, &s);
    for (uint32_t i = 0; i < SUBS; i++) {
        sfu_slot_add(engine, 100 + i, 2 + i, ROOM, SFU_KIND_VIDEO, 0x5555);
        sfu_slot_point(engine, 100 + i, ROOM, 11, 96);
    }
    usleep(50000);

    /* a keyframe starts every slot; sequence numbers pass through unchanged (offset 0) */
    uint8_t buf[2048];
    size_t len = vp8_packet(buf, 100, 0, true, true, 1000);
    CHECK(dc_peer_send_rtp(pub.peer, buf, len, sizeof buf));
    for (int i = 0; i < SUBS; i++) {
        sfu_rtp_header h;
        int n = dc_peer_recv(subs[i].peer, buf, sizeof buf, 1000);
        CHECK(n > 0 && sfu_rtp_parse(buf, (size_t)n, &h) && h.seq == 100);
    }

    sfu_stats before, after;
    sfu_get_stats(engine, &before);
    uint16_t seq = 101;
    int complete = 0;
    for (int b = 0; b < BURSTS; b++, seq += BURST) {
        send_burst(&pub, seq, (uint32_t)(b + 1) * 3000, b);
        bool ok = true;
        for (int i = 0; i < SUBS && ok; i++) ok = recv_burst(&subs[i], seq, b);
        CHECK(ok);
        if (!ok) break;
        complete++;
    }
    CHECK(complete == BURSTS);
    /* every datagram was received, but the worker counts only after sendmmsg returns */
    uint64_t want = (uint64_t)SUBS * BURST * BURSTS;
    for (int waited = 0; waited < 2000; waited += 10) {
        sfu_get_stats(engine, &after);
        if (after.tx_packets - before.tx_packets >= want) break;
        usleep(10000);
    }
    CHECK(after.tx_packets - before.tx_packets >= want); /* datagrams, not super-datagrams */
    printf("gso: %llu super-datagrams carrying %llu datagrams, for %d bursts to %d subscribers\n",
           (unsigned long long)(after.tx_gso_sends - before.tx_gso_sends),
           (unsigned long long)(after.tx_gso_segments - before.tx_gso_segments), BURSTS, SUBS);
    if (kernel_has_gso()) CHECK(after.tx_gso_sends > before.tx_gso_sends);
    else printf("gso: kernel without UDP_SEGMENT, plain path only\n");

    dc_peer_free(pub.peer);
    for (int i = 0; i < SUBS; i++) dc_peer_free(subs[i].peer);
    sfu_free(engine);
    sfu_dtls_cert_free(client_cert);
    return CHECK_RESULT();
}
