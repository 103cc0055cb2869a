/* The worker loop: wait for datagrams or commands, receive a batch with recvmmsg,
 * demultiplex each datagram (RFC 7983) to ICE, DTLS or the router, send what the batch
 * produced with sendmmsg, apply queued commands, run the 100 ms tick.
 *
 * Only this thread touches the worker's tables, so none of them needs a lock; the
 * command queue is the one shared structure. */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "rtp/rtp.h"

#define SFU_TICK_US 100000
#define SFU_SOCKET_BUFFER (4 * 1024 * 1024)

int64_t sfu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static guint addr_key_hash(gconstpointer p)
{
    const sfu_addr_key *k = p;
    guint h = k->family * 31u + k->port;
    for (size_t i = 0; i < sizeof k->addr; i++) h = h * 31u + k->addr[i];
    return h;
}

static gboolean addr_key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(sfu_addr_key)) == 0;
}

static int open_udp_socket(const char *bind_ip, uint16_t port, uint16_t *bound_port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bind_ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        len = sizeof *sin;
    } else if (inet_pton(AF_INET6, bind_ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        len = sizeof *sin6;
    } else {
        fprintf(stderr, "sfu: bad media bind address '%s'\n", bind_ip);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    /* A keyframe fanned out to hundreds of receivers is a burst of megabytes. The plain
     * options are capped by net.core.[rw]mem_max (~200 KiB by default); as root the FORCE
     * variants lift the cap. */
    int size = SFU_SOCKET_BUFFER;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        fprintf(stderr, "sfu: cannot bind UDP %s:%u: %s\n", bind_ip, port, strerror(errno));
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound_port = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
    return fd;
}

sfu_worker *sfu_worker_new(sfu *engine, int index, const char *bind_ip, uint16_t port)
{
    sfu_worker *w = calloc(1, sizeof *w);
    w->engine = engine;
    w->index = index;
    w->fd = open_udp_socket(bind_ip, port, &w->port);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->ice = sfu_ice_agent_new();
    w->tx = calloc(1, sizeof *w->tx);
    pthread_mutex_init(&w->cmd_lock, NULL);
    g_queue_init(&w->cmd_queue);
    w->transports = g_hash_table_new(g_direct_hash, g_direct_equal);
    w->transports_by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
    w->transports_by_addr = g_hash_table_new(addr_key_hash, addr_key_equal);
    w->streams = g_hash_table_new(g_direct_hash, g_direct_equal);
    w->slots = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (w->fd < 0 || w->wake_fd < 0 || !w->ice) {
        sfu_worker_free(w);
        return NULL;
    }
    return w;
}

/* --- sending ---------------------------------------------------------------------- */

void sfu_worker_tx_flush(sfu_worker *w)
{
    sfu_tx_batch *tx = w->tx;
    unsigned sent = 0;
    while (sent < tx->count) {
        int n = sendmmsg(w->fd, tx->msgs + sent, tx->count - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* EAGAIN (socket buffer full) or a dead peer (ECONNREFUSED …): drop the rest */
            w->counters.drop_tx_full += tx->count - sent;
            break;
        }
        for (int i = 0; i < n; i++) w->counters.tx_bytes += tx->msgs[sent + i].msg_len;
        w->counters.tx_packets += (uint64_t)n;
        sent += (unsigned)n;
    }
    tx->count = 0;
}

uint8_t *sfu_worker_tx_slot(sfu_worker *w)
{
    if (w->tx->count == SFU_TX_BATCH) sfu_worker_tx_flush(w);
    return w->tx->bufs[w->tx->count];
}

void sfu_worker_tx_commit(sfu_worker *w, const struct sockaddr_storage *to, socklen_t to_len, size_t len)
{
    sfu_tx_batch *tx = w->tx;
    unsigned i = tx->count++;
    tx->iov[i].iov_base = tx->bufs[i];
    tx->iov[i].iov_len = len;
    tx->msgs[i].msg_hdr = (struct msghdr){
        .msg_name = (void *)to, .msg_namelen = to_len, .msg_iov = &tx->iov[i], .msg_iovlen = 1};
}

/* For control traffic (STUN replies, DTLS flights): goes out in the current batch so that
 * ordering with media is kept and no extra syscall is made. */
void sfu_worker_send_now(sfu_worker *w, const struct sockaddr_storage *to, socklen_t to_len,
                         const uint8_t *data, size_t len)
{
    if (len > SFU_TX_BUF) return;
    uint8_t *buf = sfu_worker_tx_slot(w);
    memcpy(buf, data, len);
    sfu_worker_tx_commit(w, to, to_len, len);
}

/* --- commands --------------------------------------------------------------------- */

void sfu_worker_post(sfu_worker *w, const sfu_cmd *cmd)
{
    sfu_cmd *copy = g_memdup2(cmd, sizeof *cmd);
    pthread_mutex_lock(&w->cmd_lock);
    g_queue_push_tail(&w->cmd_queue, copy);
    pthread_mutex_unlock(&w->cmd_lock);
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r;
}

static void apply_command(sfu_worker *w, const sfu_cmd *c)
{
    switch (c->type) {
    case SFU_CMD_TRANSPORT_ADD:
        if (!g_hash_table_contains(w->transports, GUINT_TO_POINTER(c->id)))
            sfu_transport_new(w, c->id, c->room_id, c->ufrag, c->pwd, c->fingerprint, c->dtls_client);
        break;
    case SFU_CMD_TRANSPORT_REMOVE: {
        sfu_transport *t = g_hash_table_lookup(w->transports, GUINT_TO_POINTER(c->id));
        if (t) sfu_transport_destroy(t);
        break;
    }
    case SFU_CMD_STREAM_ADD:
        if (!g_hash_table_contains(w->streams, GUINT_TO_POINTER(c->id))) sfu_stream_create(w, &c->stream);
        break;
    case SFU_CMD_STREAM_REMOVE: {
        sfu_stream *st = g_hash_table_lookup(w->streams, GUINT_TO_POINTER(c->id));
        if (st) sfu_stream_destroy(st);
        break;
    }
    case SFU_CMD_SLOT_ADD:
        if (!g_hash_table_contains(w->slots, GUINT_TO_POINTER(c->id)))
            sfu_slot_create(w, c->id, c->room_id, c->target_id, c->kind, c->ssrc);
        break;
    case SFU_CMD_SLOT_POINT: {
        sfu_slot *slot = g_hash_table_lookup(w->slots, GUINT_TO_POINTER(c->id));
        sfu_stream *st = c->target_id ? g_hash_table_lookup(w->streams, GUINT_TO_POINTER(c->target_id)) : NULL;
        if (slot) sfu_slot_set_source(slot, st, c->pt);
        break;
    }
    case SFU_CMD_SLOT_REMOVE: {
        sfu_slot *slot = g_hash_table_lookup(w->slots, GUINT_TO_POINTER(c->id));
        if (slot) sfu_slot_destroy(slot);
        break;
    }
    }
}

static void apply_commands(sfu_worker *w)
{
    uint64_t count;
    ssize_t r = read(w->wake_fd, &count, sizeof count);
    (void)r;
    GQueue pending = G_QUEUE_INIT;
    pthread_mutex_lock(&w->cmd_lock);
    pending = w->cmd_queue;
    g_queue_init(&w->cmd_queue);
    pthread_mutex_unlock(&w->cmd_lock);
    for (sfu_cmd *c; (c = g_queue_pop_head(&pending));) {
        apply_command(w, c);
        g_free(c);
    }
}

/* --- receiving -------------------------------------------------------------------- */

static void handle_datagram(sfu_worker *w, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                            socklen_t from_len)
{
    w->counters.rx_packets++;
    w->counters.rx_bytes += len;
    sfu_pkt_kind kind = sfu_pkt_classify(buf, len);
    if (kind == SFU_PKT_STUN) {
        sfu_transport_on_stun(w, buf, len, from, from_len);
        return;
    }
    if (kind == SFU_PKT_UNKNOWN) {
        w->counters.drop_malformed++;
        return;
    }
    /* everything else must come from an address ICE has bound to a transport */
    sfu_transport *t = sfu_transport_by_addr(w, from);
    if (!t) {
        w->counters.drop_unknown_source++;
        return;
    }
    if (kind == SFU_PKT_DTLS)
        sfu_transport_on_dtls(t, buf, len);
    else if (kind == SFU_PKT_RTP)
        sfu_router_on_rtp(t, buf, len);
    else
        sfu_router_on_rtcp(t, buf, len);
}

static void receive_batch(sfu_worker *w)
{
    static __thread uint8_t bufs[SFU_RX_BATCH][SFU_PKT_MAX + SFU_SRTP_MAX_TRAILER];
    static __thread struct sockaddr_storage addrs[SFU_RX_BATCH];
    static __thread struct iovec iov[SFU_RX_BATCH];
    static __thread struct mmsghdr msgs[SFU_RX_BATCH];
    for (int round = 0; round < 16; round++) { /* bounded so commands and timers still run */
        for (int i = 0; i < SFU_RX_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = SFU_PKT_MAX};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &addrs[i], .msg_namelen = sizeof addrs[i],
                                              .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(w->fd, msgs, SFU_RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        w->now_us = sfu_now_us();
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) { /* larger than any packet we accept */
                w->counters.drop_malformed++;
                continue;
            }
            handle_datagram(w, bufs[i], msgs[i].msg_len, &addrs[i], msgs[i].msg_hdr.msg_namelen);
        }
        sfu_worker_tx_flush(w);
        if (n < SFU_RX_BATCH) break;
    }
}

static void tick(sfu_worker *w, int64_t now)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, w->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) sfu_transport_tick(value, now);
    sfu_router_tick(w, now);
    sfu_worker_tx_flush(w);
}

static void *worker_main(void *arg)
{
    sfu_worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "sfu-worker-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    w->next_tick_us = sfu_now_us() + SFU_TICK_US;
    while (!w->stop) {
        int64_t now = sfu_now_us();
        int wait_ms = now >= w->next_tick_us ? 0 : (int)((w->next_tick_us - now + 999) / 1000);
        struct pollfd pfd[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = w->wake_fd, .events = POLLIN}};
        int r = poll(pfd, 2, wait_ms);
        if (r < 0 && errno != EINTR) break;
        if (pfd[1].revents & POLLIN) apply_commands(w);
        if (pfd[0].revents & POLLIN) receive_batch(w);
        now = w->now_us = sfu_now_us();
        if (now >= w->next_tick_us) {
            tick(w, now);
            w->next_tick_us = now + SFU_TICK_US;
        }
    }
    return NULL;
}

bool sfu_worker_start(sfu_worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 && (w->thread_started = true);
}

void sfu_worker_free(sfu_worker *w)
{
    if (!w) return;
    if (w->thread_started) {
        w->stop = true;
        uint64_t one = 1;
        ssize_t r = write(w->wake_fd, &one, sizeof one);
        (void)r;
        pthread_join(w->thread, NULL);
    }
    if (w->transports) {
        /* transports own their slots' and streams' links; destroy them first */
        GList *ts = g_hash_table_get_values(w->transports);
        for (GList *l = ts; l; l = l->next) sfu_transport_destroy(l->data);
        g_list_free(ts);
        GList *ss = g_hash_table_get_values(w->streams);
        for (GList *l = ss; l; l = l->next) sfu_stream_destroy(l->data);
        g_list_free(ss);
        GList *sl = g_hash_table_get_values(w->slots);
        for (GList *l = sl; l; l = l->next) sfu_slot_destroy(l->data);
        g_list_free(sl);
        g_hash_table_destroy(w->transports);
        g_hash_table_destroy(w->transports_by_ufrag);
        g_hash_table_destroy(w->transports_by_addr);
        g_hash_table_destroy(w->streams);
        g_hash_table_destroy(w->slots);
    }
    g_queue_clear_full(&w->cmd_queue, g_free);
    pthread_mutex_destroy(&w->cmd_lock);
    if (w->ice) sfu_ice_agent_free(w->ice);
    if (w->fd >= 0) close(w->fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    free(w->tx);
    free(w);
}
