/* The ICE-TCP listener (tcp_listen.h).
 *
 * Its own thread, so that a slow or hostile peer's first bytes never cost a media worker
 * anything: workers only see connections that already proved they belong to one of
 * their transports' ufrags (the worker still checks MESSAGE-INTEGRITY, as for UDP). The
 * first frame is read exactly (its 2-byte length, then that many bytes), so nothing after
 * it is taken from the socket: the worker reads the rest. */
#include "net/tcp_listen.h"
#include "net/address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/tcp_frame.h"

#define LISTEN_ID 0u
#define WAKE_ID 1u

typedef struct {
    uint32_t id;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int64_t deadline_us;
    size_t have; /* bytes of buf read so far */
    uint8_t buf[2 + SFU_TCP_FRAME_MAX];
} pending;

struct sfu_tcp_listen {
    int fd, epoll_fd, wake_fd;
    uint16_t port;
    sfu_tcp_route_fn route;
    void *user;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    GHashTable *pending; /* id → pending (owns) */
    uint32_t next_id;
    _Atomic uint64_t accepted, refused;
};

static void pending_free(void *p)
{
    pending *c = p;
    if (c->fd >= 0) close(c->fd);
    free(c);
}

static void count(_Atomic uint64_t *n) { atomic_fetch_add_explicit(n, 1, memory_order_relaxed); }

sfu_tcp_listen *sfu_tcp_listen_new(const char *bind_ip, uint16_t port, sfu_tcp_route_fn route, void *user)
{
    sfu_tcp_listen *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->fd = l->epoll_fd = l->wake_fd = -1;
    l->route = route;
    l->user = user;
    l->next_id = 2;
    l->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, pending_free);
    struct sockaddr_storage ss;
    socklen_t len;
    if (!sfu_net_bind_address(bind_ip, port, &ss, &len)) {
        fprintf(stderr, "sfu: bad ICE-TCP bind address %s\n", bind_ip);
        sfu_tcp_listen_free(l);
        return NULL;
    }
    l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (l->fd >= 0) setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&ss, len) != 0 || listen(l->fd, 128) != 0) {
        fprintf(stderr, "sfu: cannot listen for ICE-TCP on %s port %u: %s\n", bind_ip, port, strerror(errno));
        sfu_tcp_listen_free(l);
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(l->fd, (struct sockaddr *)&bound, &blen);
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = LISTEN_ID};
    struct epoll_event wev = {.events = EPOLLIN, .data.u32 = WAKE_ID};
    if (l->epoll_fd < 0 || l->wake_fd < 0 || epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->fd, &lev) != 0 ||
        epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &wev) != 0) {
        fprintf(stderr, "sfu: ICE-TCP listener: out of file descriptors\n");
        sfu_tcp_listen_free(l);
        return NULL;
    }
    return l;
}

uint16_t sfu_tcp_listen_port(const sfu_tcp_listen *l) { return l->port; }

void sfu_tcp_listen_counts(const sfu_tcp_listen *l, uint64_t *accepted, uint64_t *refused)
{
    *accepted = atomic_load_explicit(&l->accepted, memory_order_relaxed);
    *refused = atomic_load_explicit(&l->refused, memory_order_relaxed);
}

static void refuse(sfu_tcp_listen *l, pending *c)
{
    count(&l->refused);
    g_hash_table_remove(l->pending, GUINT_TO_POINTER(c->id)); /* epoll forgets a closed fd */
}

/* The oldest pending connection goes when too many wait (a flood of idle sockets). */
static void refuse_oldest(sfu_tcp_listen *l)
{
    GHashTableIter it;
    gpointer value;
    pending *oldest = NULL;
    g_hash_table_iter_init(&it, l->pending);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (!oldest || ((pending *)value)->deadline_us < oldest->deadline_us) oldest = value;
    if (oldest) refuse(l, oldest);
}

static void accept_all(sfu_tcp_listen *l)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept4(l->fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or out of descriptors: the backlog waits */
        if (g_hash_table_size(l->pending) >= SFU_TCP_PENDING_MAX) refuse_oldest(l);
        pending *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            count(&l->refused);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* media: no Nagle delay */
        if (l->next_id < 2) l->next_id = 2;
        c->id = l->next_id++;
        c->fd = fd;
        c->peer = peer;
        c->peer_len = peer_len;
        c->deadline_us = g_get_monotonic_time() + (int64_t)SFU_TCP_FIRST_FRAME_MS * 1000;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = c->id};
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            pending_free(c);
            count(&l->refused);
            continue;
        }
        g_hash_table_insert(l->pending, GUINT_TO_POINTER(c->id), c);
        count(&l->accepted);
    }
}

/* STUN (RFC 5389): first two bits zero and the magic cookie; a binding request is what
 * ICE opens with. The worker does the full check. */
static bool looks_like_binding_request(const uint8_t *p, size_t len)
{
    return len >= 20 && p[0] == 0x00 && p[1] == 0x01 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 && p[7] == 0x42;
}

static void read_first_frame(sfu_tcp_listen *l, pending *c)
{
    for (;;) {
        size_t want = c->have < 2 ? 2 : 2 + ((size_t)c->buf[0] << 8 | c->buf[1]);
        if (c->have >= 2 && (want - 2 > SFU_TCP_FRAME_MAX || want == 2)) {
            refuse(l, c); /* too long, or empty: not an ICE client */
            return;
        }
        if (c->have == want) break;
        ssize_t n = recv(c->fd, c->buf + c->have, want - c->have, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n == 0 && c->have == 0) {
            /* closed before a byte: a browser that found a better pair (UDP) drops the TCP
             * one it had opened; not a refusal */
            g_hash_table_remove(l->pending, GUINT_TO_POINTER(c->id));
            return;
        }
        if (n <= 0) {
            refuse(l, c);
            return;
        }
        c->have += (size_t)n;
    }
    const uint8_t *frame = c->buf + 2;
    size_t len = c->have - 2;
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    if (!looks_like_binding_request(frame, len) || !l->route(l->user, c->fd, &c->peer, c->peer_len, frame, len)) {
        refuse(l, c);
        return;
    }
    c->fd = -1; /* the worker's now */
    g_hash_table_remove(l->pending, GUINT_TO_POINTER(c->id));
}

static void refuse_late(sfu_tcp_listen *l, int64_t now)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, l->pending);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        pending *c = value;
        if (now < c->deadline_us) continue;
        count(&l->refused);
        g_hash_table_iter_remove(&it);
    }
}

static void *listen_main(void *arg)
{
    sfu_tcp_listen *l = arg;
    pthread_setname_np(pthread_self(), "sfu-tcp-listen");
    while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
        struct epoll_event evs[64];
        int n = epoll_wait(l->epoll_fd, evs, 64, 500);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == LISTEN_ID) accept_all(l);
            else if (id != WAKE_ID) {
                pending *c = g_hash_table_lookup(l->pending, GUINT_TO_POINTER(id));
                if (c) read_first_frame(l, c);
            }
        }
        refuse_late(l, g_get_monotonic_time());
    }
    return NULL;
}

bool sfu_tcp_listen_start(sfu_tcp_listen *l)
{
    return pthread_create(&l->thread, NULL, listen_main, l) == 0 && (l->started = true);
}

void sfu_tcp_listen_free(sfu_tcp_listen *l)
{
    if (!l) return;
    if (l->started) {
        atomic_store_explicit(&l->stop, true, memory_order_relaxed);
        uint64_t one = 1;
        ssize_t r = write(l->wake_fd, &one, sizeof one);
        (void)r;
        pthread_join(l->thread, NULL);
    }
    g_hash_table_destroy(l->pending);
    if (l->fd >= 0) close(l->fd);
    if (l->epoll_fd >= 0) close(l->epoll_fd);
    if (l->wake_fd >= 0) close(l->wake_fd);
    free(l);
}
