/* See peer.h. Blocking and simple on purpose: the peer is a test and load tool. */
#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ice/ice_lite.h"
#include "rtp/rtp.h"
#include "srtp/srtp_session.h"

struct dc_peer {
    int fd;
    struct sockaddr_in server;
    char username[160]; /* "server_ufrag:client_ufrag" */
    char server_pwd[128];
    StunAgent stun;
    sfu_dtls *dtls;
    sfu_srtp *srtp;
    bool dtls_started;
    int64_t next_check_ms; /* dc_peer_connect_all's check pacing */
    sfu_srtp_profile profile;
    char client_ufrag[65];
    char client_pwd[128]; /* "" unless dc_peer_answer_checks: server checks are ignored */
};

static void send_datagram(void *user, const uint8_t *data, size_t len)
{
    dc_peer *p = user;
    sendto(p->fd, data, len, 0, (struct sockaddr *)&p->server, sizeof p->server);
}

/* The source address the kernel would use towards a server that is not on 127/8 (e.g.
 * Janus, which has no loopback candidate, in a test namespace): a datagram from 127.0.0.1
 * to another local address is delivered, but the answer from that address back to
 * 127.0.0.1 is dropped by the kernel. */
static struct in_addr source_for(const struct sockaddr_in *server)
{
    struct in_addr a;
    inet_pton(AF_INET, "127.0.0.1", &a);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    if (s >= 0 && connect(s, (const struct sockaddr *)server, sizeof *server) == 0 &&
        getsockname(s, (struct sockaddr *)&me, &len) == 0)
        a = me.sin_addr;
    if (s >= 0) close(s);
    return a;
}

dc_peer *dc_peer_new(const char *server_ip, uint16_t server_port, const char *server_ufrag, const char *server_pwd,
                     const char *server_fp, sfu_dtls_cert *cert)
{
    return dc_peer_new_ufrag(server_ip, server_port, server_ufrag, server_pwd, server_fp, cert, NULL);
}

dc_peer *dc_peer_new_ufrag(const char *server_ip, uint16_t server_port, const char *server_ufrag,
                           const char *server_pwd, const char *server_fp, sfu_dtls_cert *cert,
                           const char *client_ufrag_in)
{
    dc_peer *p = calloc(1, sizeof *p);
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    p->server.sin_family = AF_INET;
    p->server.sin_port = htons(server_port);
    inet_pton(AF_INET, server_ip, &p->server.sin_addr);
    struct sockaddr_in local = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
    if ((ntohl(p->server.sin_addr.s_addr) >> 24) != 127) local.sin_addr = source_for(&p->server);
    bind(p->fd, (struct sockaddr *)&local, sizeof local);
    char client_ufrag[65];
    if (client_ufrag_in) snprintf(client_ufrag, sizeof client_ufrag, "%s", client_ufrag_in);
    else sfu_ice_random_string(client_ufrag, 16);
    snprintf(p->username, sizeof p->username, "%s:%s", server_ufrag, client_ufrag);
    snprintf(p->client_ufrag, sizeof p->client_ufrag, "%s", client_ufrag);
    snprintf(p->server_pwd, sizeof p->server_pwd, "%s", server_pwd);
    static const uint16_t known[] = {
        STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_FINGERPRINT,
        STUN_ATTRIBUTE_USERNAME,           STUN_ATTRIBUTE_PRIORITY,          STUN_ATTRIBUTE_USE_CANDIDATE,
        STUN_ATTRIBUTE_ICE_CONTROLLED,     STUN_ATTRIBUTE_ICE_CONTROLLING,   0};
    stun_agent_init(&p->stun, known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    char fp[200];
    snprintf(fp, sizeof fp, "sha-256 %s", server_fp);
    p->dtls = sfu_dtls_new(cert, SFU_DTLS_ROLE_CLIENT, fp, send_datagram, p);
    if (!p->dtls) {
        dc_peer_free(p);
        return NULL;
    }
    return p;
}

void dc_peer_free(dc_peer *p)
{
    if (!p) return;
    if (p->dtls) sfu_dtls_free(p->dtls);
    if (p->srtp) sfu_srtp_free(p->srtp);
    if (p->fd >= 0) close(p->fd);
    free(p);
}

int dc_peer_fd(const dc_peer *p) { return p->fd; }
bool dc_peer_connected(const dc_peer *p) { return p->srtp != NULL; }

/* A Binding request with our credentials; its transaction stays in the agent (for
 * stun_agent_validate) until forget_id says otherwise. */
static void send_binding(dc_peer *p, bool forget_id)
{
    uint8_t buf[512];
    StunMessage msg;
    size_t len = stun_usage_ice_conncheck_create(
        &p->stun, &msg, buf, sizeof buf, (const uint8_t *)p->username, strlen(p->username),
        (const uint8_t *)p->server_pwd, strlen(p->server_pwd), true, true, 0x6e7f00ff,
        ((uint64_t)rand() << 32) | (uint64_t)rand(), NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (!len) return;
    if (forget_id) {
        StunTransactionId id;
        stun_message_id(&msg, id);
        stun_agent_forget_transaction(&p->stun, id);
    }
    send_datagram(p, buf, len);
}

void dc_peer_send_check(dc_peer *p) { send_binding(p, false); }

void dc_peer_send_consent(dc_peer *p) { send_binding(p, true); }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dc_peer_answer_checks(dc_peer *p, const char *client_pwd)
{
    snprintf(p->client_pwd, sizeof p->client_pwd, "%s", client_pwd ? client_pwd : "");
}

/* USERNAME of a server's check: "client_ufrag:server_ufrag"; the key is our password. */
static bool check_credentials(StunAgent *agent, StunMessage *msg, uint8_t *username, uint16_t username_len,
                              uint8_t **password, size_t *password_len, void *user)
{
    (void)agent;
    (void)msg;
    dc_peer *p = user;
    size_t n = strlen(p->client_ufrag);
    if (username_len <= n || memcmp(username, p->client_ufrag, n) != 0 || username[n] != ':') return false;
    *password = (uint8_t *)p->client_pwd;
    *password_len = strlen(p->client_pwd);
    return true;
}

/* Answers a server's Binding request (a full ICE agent's check) as the controlling agent. */
static void answer_check(dc_peer *p, const uint8_t *buf, size_t len)
{
    StunMessage req, resp;
    if (stun_agent_validate(&p->stun, &req, buf, len, check_credentials, p) != STUN_VALIDATION_SUCCESS) return;
    if (stun_message_get_class(&req) != STUN_REQUEST || stun_message_get_method(&req) != STUN_BINDING) return;
    uint8_t out[512];
    size_t out_len = sizeof out;
    bool control = true;
    struct sockaddr_storage from;
    memset(&from, 0, sizeof from);
    memcpy(&from, &p->server, sizeof p->server); /* one server address: it sent the check */
    StunUsageIceReturn r = stun_usage_ice_conncheck_create_reply(
        &p->stun, &req, &resp, out, &out_len, &from, sizeof p->server, &control,
        ((uint64_t)rand() << 32) | (uint64_t)rand(), STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if ((r == STUN_USAGE_ICE_RETURN_SUCCESS || r == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT) && out_len)
        send_datagram(p, out, out_len);
}

/* Handles one non-media datagram; returns true if it was consumed. */
static bool handle_control(dc_peer *p, const uint8_t *buf, size_t len)
{
    sfu_pkt_kind kind = sfu_pkt_classify(buf, len);
    if (kind == SFU_PKT_STUN) {
        /* a Binding request: the server runs full ICE (dc_peer_answer_checks) */
        if (p->client_pwd[0] && len >= 2 && buf[0] == 0x00 && buf[1] == 0x01) {
            answer_check(p, buf, len);
            return true;
        }
        /* a success response means the server knows our address: start DTLS */
        if (!p->dtls_started && len >= 2 && buf[0] == 0x01 && buf[1] == 0x01) {
            p->dtls_started = true;
            sfu_dtls_start(p->dtls);
        }
        return true;
    }
    if (kind == SFU_PKT_DTLS) {
        if (sfu_dtls_handle(p->dtls, buf, len) == SFU_DTLS_CONNECTED && !p->srtp) {
            sfu_srtp_keys keys;
            if (sfu_dtls_srtp_keys(p->dtls, &keys)) {
                p->srtp = sfu_srtp_new(&keys);
                p->profile = keys.profile;
            }
        }
        return true;
    }
    return kind != SFU_PKT_RTP && kind != SFU_PKT_RTCP;
}

bool dc_peer_connect(dc_peer *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms, next_check = 0;
    uint8_t buf[2048];
    while (!p->srtp && now_ms() < deadline) {
        if (!p->dtls_started && now_ms() >= next_check) {
            dc_peer_send_check(p);
            next_check = now_ms() + 100;
        }
        int ms = sfu_dtls_timeout_ms(p->dtls);
        if (ms == 0) sfu_dtls_on_timeout(p->dtls);
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        if (poll(&pfd, 1, 20) <= 0) continue;
        ssize_t n = recv(p->fd, buf, sizeof buf, 0);
        if (n > 0) handle_control(p, buf, (size_t)n);
    }
    return p->srtp != NULL;
}

size_t dc_peer_connect_all(dc_peer **peers, size_t n, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct pollfd *pfd = calloc(n ? n : 1, sizeof *pfd);
    dc_peer **open = calloc(n ? n : 1, sizeof *open);
    uint8_t buf[2048];
    size_t connected = 0;
    while (now_ms() < deadline) {
        size_t m = 0;
        connected = 0;
        for (size_t i = 0; i < n; i++) {
            dc_peer *p = peers[i];
            if (!p || p->srtp) {
                connected += p != NULL;
                continue;
            }
            if (!p->dtls_started && now_ms() >= p->next_check_ms) {
                dc_peer_send_check(p);
                p->next_check_ms = now_ms() + 100;
            }
            if (p->dtls_started && sfu_dtls_timeout_ms(p->dtls) == 0) sfu_dtls_on_timeout(p->dtls);
            pfd[m] = (struct pollfd){.fd = p->fd, .events = POLLIN};
            open[m++] = p;
        }
        if (m == 0) break;
        if (poll(pfd, m, 10) <= 0) continue;
        for (size_t j = 0; j < m; j++) {
            if (!(pfd[j].revents & POLLIN)) continue;
            ssize_t r;
            while ((r = recv(pfd[j].fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) handle_control(open[j], buf, (size_t)r);
        }
    }
    connected = 0;
    for (size_t i = 0; i < n; i++) connected += peers[i] && peers[i]->srtp;
    free(pfd);
    free(open);
    return connected;
}

sfu_srtp *dc_peer_srtp(dc_peer *p) { return p->srtp; }
sfu_srtp_profile dc_peer_srtp_profile(const dc_peer *p) { return p->profile; }

const void *dc_peer_server_addr(const dc_peer *p, size_t *len)
{
    *len = sizeof p->server;
    return &p->server;
}

bool dc_peer_send_rtp(dc_peer *p, uint8_t *buf, size_t len, size_t cap)
{
    if (!p->srtp || sfu_srtp_protect_rtp(p->srtp, buf, &len, cap) != 0) return false;
    send_datagram(p, buf, len);
    return true;
}

bool dc_peer_send_rtcp(dc_peer *p, uint8_t *buf, size_t len, size_t cap)
{
    if (!p->srtp || sfu_srtp_protect_rtcp(p->srtp, buf, &len, cap) != 0) return false;
    send_datagram(p, buf, len);
    return true;
}

void dc_peer_send_raw(dc_peer *p, const uint8_t *buf, size_t len) { send_datagram(p, buf, len); }

int dc_peer_recv(dc_peer *p, uint8_t *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0) return 0;
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0) return 0;
        ssize_t n = recv(p->fd, buf, cap, 0);
        if (n <= 0 || handle_control(p, buf, (size_t)n)) continue;
        size_t len = (size_t)n;
        if (!p->srtp) return -1;
        int r = sfu_pkt_classify(buf, len) == SFU_PKT_RTP ? sfu_srtp_unprotect_rtp(p->srtp, buf, &len)
                                                          : sfu_srtp_unprotect_rtcp(p->srtp, buf, &len);
        return r == 0 ? (int)len : -1;
    }
}
