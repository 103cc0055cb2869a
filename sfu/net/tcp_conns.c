/* One worker's ICE-TCP connections (tcp_conns.h).
 *
 * Level-triggered epoll: a connection that still has bytes after its bounded reads of
 * one round is simply reported again next round, so one busy peer cannot starve the UDP
 * socket or the command queue. Writes happen at flush (once per worker batch, not per
 * packet); what the socket does not take stays queued and EPOLLOUT is asked for. */
#include "net/tcp_conns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define READS_PER_ROUND 4 /* per ready connection, so the loop stays fair */
#define EVENTS_PER_ROUND 64

typedef struct {
    uint32_t id;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    bool want_write; /* EPOLLOUT registered */
    bool dirty;      /* in s->dirty */
    int64_t last_rx_us;
    sfu_tcp_reader rx;
    sfu_tcp_writer tx;
} conn;

static void conn_free(void *p)
{
    conn *c = p;
    if (c->fd >= 0) close(c->fd);
    sfu_tcp_writer_free(&c->tx);
    free(c);
}

bool sfu_tcp_conns_init(sfu_tcp_conns *s, sfu_tcp_frame_fn on_frame, sfu_tcp_closed_fn on_closed,
                        sfu_tcp_batch_fn on_batch, void *user)
{
    *s = (sfu_tcp_conns){.on_frame = on_frame, .on_closed = on_closed, .on_batch = on_batch, .user = user};
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->by_id = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, conn_free);
    s->dirty = g_ptr_array_new();
    s->next_id = 1;
    return s->epoll_fd >= 0;
}

void sfu_tcp_conns_free(sfu_tcp_conns *s)
{
    if (s->by_id) g_hash_table_destroy(s->by_id);
    if (s->dirty) g_ptr_array_free(s->dirty, TRUE);
    if (s->epoll_fd >= 0) close(s->epoll_fd);
    s->by_id = NULL;
    s->dirty = NULL;
    s->epoll_fd = -1;
}

size_t sfu_tcp_conns_count(const sfu_tcp_conns *s) { return g_hash_table_size(s->by_id); }

static conn *lookup(sfu_tcp_conns *s, uint32_t id) { return g_hash_table_lookup(s->by_id, GUINT_TO_POINTER(id)); }

uint32_t sfu_tcp_conns_adopt(sfu_tcp_conns *s, int fd, const struct sockaddr_storage *peer, socklen_t peer_len)
{
    conn *c = calloc(1, sizeof *c);
    if (!c || !sfu_tcp_writer_init(&c->tx)) {
        free(c);
        close(fd);
        return 0;
    }
    if (s->next_id == 0) s->next_id = 1; /* after 4 billion connections */
    c->id = s->next_id++;
    c->fd = fd;
    memcpy(&c->peer, peer, peer_len);
    c->peer_len = peer_len;
    c->last_rx_us = g_get_monotonic_time();
    sfu_tcp_reader_init(&c->rx);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = c->id};
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_free(c);
        return 0;
    }
    g_hash_table_insert(s->by_id, GUINT_TO_POINTER(c->id), c);
    s->opened++;
    return c->id;
}

static void drop_conn(sfu_tcp_conns *s, conn *c, sfu_tcp_close_reason why)
{
    uint32_t id = c->id;
    if (why == SFU_TCP_CLOSED_BAD) s->closed_bad++;
    g_ptr_array_remove_fast(s->dirty, c); /* a short array: the conns written this batch */
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    g_hash_table_remove(s->by_id, GUINT_TO_POINTER(id)); /* closes and frees */
    if (why != SFU_TCP_CLOSED_OWNER && s->on_closed) s->on_closed(s->user, id, why);
}

void sfu_tcp_conns_close(sfu_tcp_conns *s, uint32_t conn_id)
{
    conn *c = lookup(s, conn_id);
    if (c) drop_conn(s, c, SFU_TCP_CLOSED_OWNER);
}

/* Reads and hands out frames; false when the connection was closed. */
static bool read_conn(sfu_tcp_conns *s, conn *c)
{
    for (int round = 0; round < READS_PER_ROUND; round++) {
        size_t room;
        uint8_t *at = sfu_tcp_reader_space(&c->rx, &room);
        ssize_t n = recv(c->fd, at, room, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            drop_conn(s, c, SFU_TCP_CLOSED_BY_PEER);
            return false;
        }
        if (n < 0) return true;
        s->rx_bytes += (uint64_t)n;
        c->last_rx_us = g_get_monotonic_time();
        sfu_tcp_reader_wrote(&c->rx, (size_t)n);
        for (;;) {
            const uint8_t *frame;
            size_t len;
            sfu_tcp_frame_result r = sfu_tcp_reader_next(&c->rx, &frame, &len);
            if (r == SFU_TCP_FRAME_NONE) break;
            if (r == SFU_TCP_FRAME_EMPTY) continue;
            if (r == SFU_TCP_FRAME_BAD) {
                drop_conn(s, c, SFU_TCP_CLOSED_BAD);
                return false;
            }
            uint32_t id = c->id;
            bool ok = s->on_frame(s->user, id, &c->peer, c->peer_len, frame, len);
            if (lookup(s, id) != c) return false; /* the owner's batch closed it (a failed write) */
            if (!ok) {
                drop_conn(s, c, SFU_TCP_CLOSED_BAD);
                return false;
            }
        }
        if ((size_t)n < room) return true; /* the socket is drained */
    }
    return true;
}

static void set_want_write(sfu_tcp_conns *s, conn *c, bool want)
{
    if (c->want_write == want) return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0), .data.u32 = c->id};
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->want_write = want;
}

/* Writes what the socket takes; false when the connection was closed. */
static bool write_conn(sfu_tcp_conns *s, conn *c)
{
    while (sfu_tcp_writer_pending(&c->tx)) {
        ssize_t n = send(c->fd, sfu_tcp_writer_data(&c->tx), sfu_tcp_writer_pending(&c->tx),
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            drop_conn(s, c, SFU_TCP_CLOSED_BY_PEER);
            return false;
        }
        sfu_tcp_writer_sent(&c->tx, (size_t)n);
    }
    set_want_write(s, c, sfu_tcp_writer_pending(&c->tx) > 0);
    return true;
}

void sfu_tcp_conns_service(sfu_tcp_conns *s)
{
    struct epoll_event evs[EVENTS_PER_ROUND];
    int n = epoll_wait(s->epoll_fd, evs, EVENTS_PER_ROUND, 0);
    for (int i = 0; i < n; i++) {
        conn *c = lookup(s, evs[i].data.u32);
        if (!c) continue; /* closed earlier in this round */
        if ((evs[i].events & EPOLLOUT) && !write_conn(s, c)) continue;
        if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            bool open = read_conn(s, c);
            if (s->on_batch) s->on_batch(s->user); /* frames of this read, before the next reuses buffers */
            (void)open;
        }
    }
}

bool sfu_tcp_conns_send(sfu_tcp_conns *s, uint32_t conn_id, const uint8_t *data, size_t len)
{
    conn *c = lookup(s, conn_id);
    if (!c) return false;
    if (!sfu_tcp_writer_put(&c->tx, data, len)) {
        s->tx_full++;
        return false;
    }
    s->tx_packets++;
    s->tx_bytes += len;
    if (!c->dirty) {
        c->dirty = true;
        g_ptr_array_add(s->dirty, c);
    }
    return true;
}

void sfu_tcp_conns_flush(sfu_tcp_conns *s)
{
    while (s->dirty->len) {
        conn *c = g_ptr_array_steal_index_fast(s->dirty, s->dirty->len - 1);
        c->dirty = false;
        if (!c->want_write) write_conn(s, c); /* else: the socket is full, EPOLLOUT will say */
    }
}

void sfu_tcp_conns_close_idle(sfu_tcp_conns *s, int64_t idle_us)
{
    int64_t before = g_get_monotonic_time() - idle_us;
    GHashTableIter it;
    gpointer value;
    GPtrArray *idle = NULL;
    g_hash_table_iter_init(&it, s->by_id);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        conn *c = value;
        if (c->last_rx_us >= before) continue;
        if (!idle) idle = g_ptr_array_new();
        g_ptr_array_add(idle, c);
    }
    for (guint i = 0; idle && i < idle->len; i++) drop_conn(s, g_ptr_array_index(idle, i), SFU_TCP_CLOSED_BY_PEER);
    if (idle) g_ptr_array_free(idle, TRUE);
}
