/* The engine's ICE-TCP port (RFC 6544 passive, RFC 4571 framing) over real loopback TCP:
 * a binding request framed on a connection is answered on it, by the worker of the
 * transport's room (two workers here, the room on the second); and whatever else comes
 * to the port — garbage, a frame longer than any packet, a first frame that is not a
 * binding request or names no transport, connections that never send, more connections
 * than may wait, junk after a good start — is closed and counted while the engine goes on
 * answering good connections. A transport whose connection closes ends as on a consent
 * loss (SFU_EV_TRANSPORT_TIMEOUT). A peer that stops reading costs whole packets, counted
 * as tcp_full, never a blocked worker or a split frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../unit/check.h"
#include "ice/ice_lite.h"
#include "sfu.h"

#define ROOM 7 /* on worker 1 of 2 */

static sfu *engine;
static uint16_t tcp_port;

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(tcp_port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const uint8_t *d, size_t n)
{
    while (n) {
        ssize_t k = send(fd, d, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        d += k, n -= (size_t)k;
    }
}

static void send_frame(int fd, const uint8_t *d, size_t n)
{
    uint8_t head[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    send_all(fd, head, 2);
    send_all(fd, d, n);
}

/* Reads exactly n bytes within timeout_ms; false on close, error or time out. */
static bool recv_exact(int fd, uint8_t *d, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
        ssize_t k = recv(fd, d, n, 0);
        if (k <= 0) return false;
        d += k, n -= (size_t)k;
    }
    return true;
}

/* True when the server closes fd (EOF or reset) within timeout_ms. */
static bool closed_by_server(int fd, int timeout_ms)
{
    uint8_t buf[256];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k == 0 || (k < 0 && errno == ECONNRESET)) return true;
        if (k < 0) return false;
    }
}

/* A binding request of an ICE client, USERNAME "<server ufrag>:client", integrity with pwd. */
static size_t binding_request(uint8_t *buf, size_t cap, const char *ufrag, const char *pwd)
{
    static const uint16_t known[] = {STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
                                     STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_USERNAME, 0};
    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    char username[128];
    snprintf(username, sizeof username, "%s:client", ufrag);
    return stun_usage_ice_conncheck_create(
        &agent, &msg, buf, cap, (const uint8_t *)username, strlen(username), (const uint8_t *)pwd, strlen(pwd), true,
        true, 0x6e7f00ff, ((uint64_t)rand() << 32) | (uint64_t)rand(), NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

/* Sends a binding request on fd and waits for the framed success response. */
static bool check_answered(int fd, const char *ufrag, const char *pwd)
{
    uint8_t req[512], head[2], reply[1500];
    size_t n = binding_request(req, sizeof req, ufrag, pwd);
    if (!n) return false;
    send_frame(fd, req, n);
    if (!recv_exact(fd, head, 2, 3000)) return false;
    size_t len = (size_t)head[0] << 8 | head[1];
    if (len < 20 || len > sizeof reply || !recv_exact(fd, reply, len, 3000)) return false;
    return reply[0] == 0x01 && reply[1] == 0x01 && memcmp(req + 8, reply + 8, 12) == 0; /* success, same id */
}

static sfu_event seen[256];
static size_t n_seen;

static const sfu_event *wait_event(sfu_event_type type, uint32_t id, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (n_seen < 256) n_seen += sfu_poll_events(engine, seen + n_seen, 256 - n_seen);
        for (size_t i = 0; i < n_seen; i++)
            if (seen[i].type == type && seen[i].id == id) return &seen[i];
        usleep(10000);
    }
    return NULL;
}

static sfu_stats stats(void)
{
    sfu_stats st;
    sfu_get_stats(engine, &st);
    return st;
}

/* Waits until the counter reaches `want` (the listener and workers count on their threads). */
#define WAIT_STAT(field, want) \
    do { \
        for (int w_ = 0; w_ < 500 && stats().field < (want); w_++) usleep(10000); \
        CHECK(stats().field >= (want)); \
    } while (0)

static void add_transport(uint32_t id, char ufrag[17], char pwd[25])
{
    sfu_ice_random_string(ufrag, 16);
    sfu_ice_random_string(pwd, 24);
    sfu_transport_add(engine, id, ROOM, ufrag, pwd, "sha-256 00", false);
}

static void test_answers_on_tcp(const char *ufrag, const char *pwd)
{
    int fd = tcp_connect();
    CHECK(fd >= 0);
    CHECK(check_answered(fd, ufrag, pwd)); /* the first frame: read by the listener, answered by the worker */
    CHECK(check_answered(fd, ufrag, pwd)); /* later ones: read by the worker */
    /* two checks in one write, the second split over two writes */
    uint8_t a[512], b[512], both[1100];
    size_t na = binding_request(a, sizeof a, ufrag, pwd), nb = binding_request(b, sizeof b, ufrag, pwd);
    both[0] = (uint8_t)(na >> 8), both[1] = (uint8_t)na;
    memcpy(both + 2, a, na);
    both[2 + na] = (uint8_t)(nb >> 8), both[3 + na] = (uint8_t)nb;
    memcpy(both + 4 + na, b, nb);
    send_all(fd, both, 4 + na + 10);
    usleep(50000);
    send_all(fd, both + 4 + na + 10, nb - 10);
    uint8_t head[2], reply[1500];
    for (int i = 0; i < 2; i++) {
        bool got = recv_exact(fd, head, 2, 3000);
        size_t len = (size_t)head[0] << 8 | head[1];
        CHECK(got && len <= sizeof reply && recv_exact(fd, reply, len, 3000));
        CHECK(memcmp(reply + 8, (i ? b : a) + 8, 12) == 0);
    }
    CHECK(stats().tcp_connections == 1);
    close(fd);
}

static void test_junk_at_the_door(const char *ufrag, const char *pwd)
{
    sfu_stats before = stats();
    /* garbage: its first two bytes announce a frame longer than any packet */
    int g = tcp_connect();
    uint8_t noise[4096];
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)(rand() | 0x80);
    send_all(g, noise, sizeof noise);
    CHECK(closed_by_server(g, 3000));
    close(g);
    /* a frame of exactly one byte too many */
    int o = tcp_connect();
    uint8_t big[1503] = {1501 >> 8, 1501 & 0xff};
    send_all(o, big, sizeof big);
    CHECK(closed_by_server(o, 3000));
    close(o);
    /* a well-framed first packet that is not a binding request (RTP) */
    int r = tcp_connect();
    uint8_t rtp[100] = {0x80, 96};
    send_frame(r, rtp, sizeof rtp);
    CHECK(closed_by_server(r, 3000));
    close(r);
    /* a binding request naming no transport */
    int u = tcp_connect();
    uint8_t req[512];
    size_t n = binding_request(req, sizeof req, "nosuchufrag00000", pwd);
    send_frame(u, req, n);
    CHECK(closed_by_server(u, 3000));
    close(u);
    WAIT_STAT(tcp_refused, before.tcp_refused + 4);
    /* and the port still serves */
    int ok = tcp_connect();
    CHECK(check_answered(ok, ufrag, pwd));
    close(ok);
}

static void test_half_open_and_many(const char *ufrag, const char *pwd)
{
    sfu_stats before = stats();
    /* 300 connections that send nothing or half a length: more than may wait (256) */
    enum { MANY = 300 };
    int fds[MANY];
    for (int i = 0; i < MANY; i++) {
        fds[i] = tcp_connect();
        if (i % 2 && fds[i] >= 0) send_all(fds[i], (const uint8_t *)"\x00", 1);
    }
    CHECK(fds[0] >= 0 && fds[MANY - 1] >= 0);
    WAIT_STAT(tcp_accepted, before.tcp_accepted + MANY);
    WAIT_STAT(tcp_refused, before.tcp_refused + (MANY - 256)); /* the oldest made room */
    int ok = tcp_connect();                                    /* a good one among them is still served */
    CHECK(check_answered(ok, ufrag, pwd));
    close(ok);
    /* the rest are closed when their time to send a first frame is over (5 s) */
    int closed = 0;
    for (int i = 0; i < MANY; i++) closed += fds[i] >= 0 && closed_by_server(fds[i], 8000);
    CHECK(closed == MANY);
    for (int i = 0; i < MANY; i++) close(fds[i]);
    WAIT_STAT(tcp_refused, before.tcp_refused + MANY);
}

/* After a good start the worker owns the connection: junk there closes it, and the
 * transport bound to it ends as on a consent loss. */
static void test_junk_after_binding(void)
{
    char ufrag[17], pwd[25];
    add_transport(2, ufrag, pwd);
    usleep(50000);
    sfu_stats before = stats();
    int fd = tcp_connect();
    CHECK(check_answered(fd, ufrag, pwd));
    uint8_t junk[50] = {0x42}; /* neither STUN, DTLS, RTP nor RTCP */
    send_frame(fd, junk, sizeof junk);
    CHECK(closed_by_server(fd, 3000));
    close(fd);
    WAIT_STAT(tcp_closed_bad, before.tcp_closed_bad + 1);
    const sfu_event *ev = wait_event(SFU_EV_TRANSPORT_TIMEOUT, 2, 3000);
    CHECK(ev && strstr(ev->detail, "ICE-TCP"));

    /* a peer that simply goes away ends its transport too */
    char ufrag3[17], pwd3[25];
    add_transport(3, ufrag3, pwd3);
    usleep(50000);
    fd = tcp_connect();
    CHECK(check_answered(fd, ufrag3, pwd3));
    close(fd);
    ev = wait_event(SFU_EV_TRANSPORT_TIMEOUT, 3, 3000);
    CHECK(ev && strstr(ev->detail, "ICE-TCP connection closed"));
    for (int w = 0; w < 300 && stats().tcp_connections; w++) usleep(10000);
    CHECK(stats().tcp_connections == 0);
}

/* A peer that stops reading: its replies fill the kernel's buffers and then the
 * connection's own (256 KiB), after which whole packets are dropped and counted as
 * tcp_full; the worker never blocks (another connection is answered meanwhile), and what
 * does arrive is whole frames, none split. */
static void test_slow_reader(const char *ufrag, const char *pwd)
{
    sfu_stats before = stats();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(tcp_port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&to, sizeof to) == 0);
    uint8_t req[512], framed[514];
    size_t n = binding_request(req, sizeof req, ufrag, pwd);
    framed[0] = (uint8_t)(n >> 8), framed[1] = (uint8_t)n;
    memcpy(framed + 2, req, n);
    size_t sent = 0;
    for (int round = 0; round < 200 && stats().drops[SFU_DROP_TCP_FULL] == before.drops[SFU_DROP_TCP_FULL]; round++) {
        for (int i = 0; i < 500; i++, sent++) send_all(fd, framed, n + 2); /* the same check again and again */
        usleep(10000);
    }
    CHECK(stats().drops[SFU_DROP_TCP_FULL] > before.drops[SFU_DROP_TCP_FULL]);
    int other = tcp_connect();
    CHECK(check_answered(other, ufrag, pwd)); /* the worker is not stuck on the slow one */
    close(other);
    /* what arrives is whole STUN success responses, fewer than were asked for */
    size_t replies = 0;
    bool whole = true;
    uint8_t head[2], reply[1500];
    while (recv_exact(fd, head, 2, 500)) {
        size_t len = (size_t)head[0] << 8 | head[1];
        whole = whole && len >= 20 && len <= sizeof reply && recv_exact(fd, reply, len, 500) && reply[0] == 0x01 &&
                reply[1] == 0x01;
        if (!whole) break;
        replies++;
    }
    CHECK(whole);
    CHECK(replies > 0 && replies < sent);
    printf("slow reader: %zu checks sent, %zu answers arrived, %llu dropped as tcp_full\n", sent, replies,
           (unsigned long long)(stats().drops[SFU_DROP_TCP_FULL] - before.drops[SFU_DROP_TCP_FULL]));
    close(fd);
}

int main(void)
{
    srand(4571);
    sfu_config cfg = {.bind_ip = "127.0.0.1", .workers = 2, .consent_timeout_ms = 30000, .ice_tcp = true};
    engine = sfu_new(&cfg, NULL, NULL);
    CHECK(engine != NULL);
    if (!engine) return CHECK_RESULT();
    tcp_port = sfu_tcp_port(engine);
    CHECK(tcp_port != 0);
    char ufrag[17], pwd[25];
    add_transport(1, ufrag, pwd);
    usleep(50000);

    test_answers_on_tcp(ufrag, pwd);
    test_junk_at_the_door(ufrag, pwd);
    test_half_open_and_many(ufrag, pwd);
    test_slow_reader(ufrag, pwd);
    test_junk_after_binding();

    sfu_stats st = stats();
    printf("tcp: accepted=%llu refused=%llu closed_bad=%llu open=%llu\n", (unsigned long long)st.tcp_accepted,
           (unsigned long long)st.tcp_refused, (unsigned long long)st.tcp_closed_bad,
           (unsigned long long)st.tcp_connections);
    sfu_free(engine);
    return CHECK_RESULT();
}
