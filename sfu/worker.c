/* The worker loop: wait for datagrams or commands, receive a batch (net/udp.h), hand
 * each datagram to the core, send what the batch produced, apply queued commands, run
 * the 100 ms tick.
 *
 * Only this thread touches the core's tables, so none of them needs a lock; the command
 * queue is the one shared structure besides the core's events and counters. */
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

#define SFU_TICK_US 100000
_Static_assert(SFU_TICK_US <= SFU_AUDIO_LEVEL_INTERVAL_MS * 1000, "audio levels are reported at the tick");
#define SFU_TRIM_INTERVAL_US 1000000

int64_t sfu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The core's send batch is full or its batch is done: out it goes. */
static void send_batch(void *user, sfu_tx_batch *tx)
{
    sfu_worker *w = user;
    sfu_tx_result r = {0};
    sfu_udp_send(&w->udp, tx, &r);
    sfu_counters *c = &w->core->counters;
    sfu_count(&c->tx_packets, r.packets);
    sfu_count(&c->tx_bytes, r.bytes);
    sfu_count(&c->tx_gso_sends, r.gso_sends);
    sfu_count(&c->tx_gso_segments, r.gso_segments);
    sfu_count(&c->drops[SFU_DROP_TX_FULL], r.dropped);
    w->core->pad_for_gso = w->udp.gso; /* the kernel may have refused GSO */
}

static void flush(sfu_worker *w)
{
    if (w->core->tx->count) send_batch(w, w->core->tx);
    sfu_tcp_conns_flush(&w->tcp);
}

/* --- ICE-TCP ------------------------------------------------------------------------ */

static bool tcp_send(void *user, uint32_t conn_id, const uint8_t *data, size_t len)
{
    sfu_worker *w = user;
    if (!sfu_tcp_conns_send(&w->tcp, conn_id, data, len)) return false;
    sfu_count(&w->core->counters.tx_packets, 1);
    sfu_count(&w->core->counters.tx_bytes, len);
    return true;
}

/* The frames of one TCP read go to the core as one receive batch, like datagrams. */
static void tcp_deliver(void *user)
{
    sfu_worker *w = user;
    if (!w->tcp_rx_count) return;
    w->core->now_us = sfu_now_us();
    w->core->rx_arrival_us = 0; /* (no kernel time for a frame: now) */
    sfu_rx_datagrams *rx = w->rx;
    for (unsigned i = 0; i < w->tcp_rx_count; i++)
        sfu_core_on_datagram(w->core, rx->bufs[i], rx->len[i], &rx->from[i], rx->from_len[i], false);
    w->tcp_rx_count = 0;
    sfu_core_end_batch(w->core);
    flush(w);
}

/* A frame is copied into the receive buffers (which leave room after a packet for what
 * SRTP appends); what is not STUN, DTLS, RTP or RTCP closes the connection as junk. */
static bool tcp_frame(void *user, uint32_t conn_id, const struct sockaddr_storage *peer, socklen_t peer_len,
                      const uint8_t *frame, size_t len)
{
    sfu_worker *w = user;
    if (len > SFU_PKT_MAX || sfu_pkt_classify(frame, len) == SFU_PKT_UNKNOWN) return false;
    if (w->tcp_rx_count == SFU_RX_BATCH) tcp_deliver(w);
    unsigned i = w->tcp_rx_count++;
    memcpy(w->rx->bufs[i], frame, len);
    w->rx->len[i] = len;
    sfu_tcp_addr_make(&w->rx->from[i], &w->rx->from_len[i], conn_id, peer, peer_len);
    return true;
}

static void tcp_closed(void *user, uint32_t conn_id, sfu_tcp_close_reason why)
{
    sfu_worker *w = user;
    tcp_deliver(w); /* what it sent before it closed */
    if (why == SFU_TCP_CLOSED_BAD) sfu_count(&w->core->counters.tcp_closed_bad, 1);
    sfu_count(&w->core->counters.tcp_connections, (uint64_t)-1);
    sfu_core_on_tcp_closed(w->core, conn_id,
                           why == SFU_TCP_CLOSED_BAD ? "ICE-TCP connection closed: junk from the peer"
                                                     : "ICE-TCP connection closed");
}

static void tcp_adopt(sfu_worker *w, sfu_cmd *c)
{
    uint32_t id = sfu_tcp_conns_adopt(&w->tcp, c->tcp_fd, &c->tcp_peer, c->tcp_peer_len);
    if (id) {
        sfu_count(&w->core->counters.tcp_connections, 1);
        /* the first binding request, read by the listener, is this connection's first frame */
        if (!tcp_frame(w, id, &c->tcp_peer, c->tcp_peer_len, c->tcp_frame, c->tcp_frame_len))
            sfu_tcp_conns_close(&w->tcp, id);
        tcp_deliver(w);
    }
    free(c->tcp_frame);
}

static void free_cmd(void *p)
{
    sfu_cmd *c = p;
    if (c->type == SFU_CMD_TCP_ADOPT) {
        close(c->tcp_fd);
        free(c->tcp_frame);
    }
    free(c);
}

sfu_worker *sfu_worker_new(const sfu_worker_settings *cfg)
{
    sfu_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->udp.fd = -1;
    w->wake_fd = -1;
    pthread_mutex_init(&w->cmd_lock, NULL);
    g_queue_init(&w->cmd_queue);
    atomic_init(&w->stop, false);
    int max_delay_ms = cfg->core.max_queue_delay_ms;
    w->max_queue_delay_ns = max_delay_ms > 0 ? (int64_t)max_delay_ms * 1000000 : 0;
    bool ok = sfu_udp_open(&w->udp, cfg->bind_ip, cfg->port);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->core = sfu_core_new(&cfg->core, send_batch, w);
    w->rx = calloc(1, sizeof *w->rx);
    bool tcp_ok = sfu_tcp_conns_init(&w->tcp, tcp_frame, tcp_closed, tcp_deliver, w);
    if (!ok || w->wake_fd < 0 || !w->core || !w->rx || !tcp_ok) {
        if (ok) fprintf(stderr, "sfu: worker %d: out of memory or file descriptors\n", cfg->core.index);
        sfu_worker_free(w);
        return NULL;
    }
    w->core->pad_for_gso = w->udp.gso;
    w->core->tcp_send = tcp_send;
    w->core->tcp_send_user = w;
    return w;
}

/* --- commands --------------------------------------------------------------------- */

static void wake(sfu_worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r;
}

bool sfu_worker_post(sfu_worker *w, const sfu_cmd *cmd)
{
    sfu_cmd *copy = malloc(sizeof *copy);
    if (!copy) return false;
    *copy = *cmd;
    pthread_mutex_lock(&w->cmd_lock);
    g_queue_push_tail(&w->cmd_queue, copy);
    pthread_mutex_unlock(&w->cmd_lock);
    wake(w);
    return true;
}

static void apply_commands(sfu_worker *w)
{
    uint64_t count;
    ssize_t r = read(w->wake_fd, &count, sizeof count);
    (void)r;
    pthread_mutex_lock(&w->cmd_lock);
    GQueue pending = w->cmd_queue;
    g_queue_init(&w->cmd_queue);
    pthread_mutex_unlock(&w->cmd_lock);
    w->core->now_us = sfu_now_us();
    for (sfu_cmd *c; (c = g_queue_pop_head(&pending));) {
        if (c->type == SFU_CMD_TCP_ADOPT) tcp_adopt(w, c);
        else sfu_core_apply(w->core, c);
        free(c);
    }
    flush(w);
}

/* --- receiving -------------------------------------------------------------------- */

/* Media that waited longer than max_queue_delay_ns between the kernel and the worker is
 * dropped (counted as drop late) rather than forwarded: it would reach the receivers too
 * late to play, and fanning it out would only make the next packets later. An overloaded
 * or stalled worker (a slow host, a burst of fan-out work) so keeps a bounded delay and
 * sheds load as loss, which receivers conceal and recover from with a keyframe request;
 * STUN, DTLS and RTCP (keyframe requests among them) are still handled. */
static void receive_batch(sfu_worker *w)
{
    sfu_rx_datagrams *rx = w->rx;
    for (int round = 0; round < 16; round++) { /* bounded so commands and timers still run */
        int n = sfu_udp_receive(&w->udp, rx);
        if (n <= 0) break;
        w->core->now_us = sfu_now_us();
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
        /* a clock stepped forward drops at most this batch's media */
        int64_t late_before = w->max_queue_delay_ns ? now_ns - w->max_queue_delay_ns : 0;
        for (int i = 0; i < n; i++) {
            if (rx->truncated[i]) { /* larger than any packet we accept */
                sfu_count_drop(w->core, SFU_DROP_MALFORMED);
                continue;
            }
            bool late = late_before && rx->stamp_ns[i] && rx->stamp_ns[i] < late_before;
            /* when the kernel got it, on the core's clock (transport-cc feedback) */
            int64_t queued_us = rx->stamp_ns[i] && rx->stamp_ns[i] < now_ns ? (now_ns - rx->stamp_ns[i]) / 1000 : 0;
            w->core->rx_arrival_us = w->core->now_us - queued_us;
            sfu_core_on_datagram(w->core, rx->bufs[i], rx->len[i], &rx->from[i], rx->from_len[i], late);
        }
        sfu_core_end_batch(w->core); /* before the next receive reuses the buffers */
        flush(w);
        if (n < SFU_RX_BATCH) break;
    }
}

static void tick(sfu_worker *w, int64_t now)
{
    /* a connection silent for the consent timeout is gone even without a FIN */
    sfu_tcp_conns_close_idle(&w->tcp, (int64_t)w->core->cfg.consent_timeout_ms * 1000);
    sfu_core_tick(w->core, now);
    flush(w);
    if (w->core->released_memory && now >= w->next_trim_us) {
        /* handshakes and leaves come in waves (a meeting starts or ends, a province
         * session links 190 sites): without this the freed DTLS states and transports
         * stay in the process as fragmented free heap, and RSS only grows (bench/soak.sh
         * showed it). Never on the packet path, at most once a second. */
        w->core->released_memory = false;
        w->next_trim_us = now + SFU_TRIM_INTERVAL_US;
        malloc_trim(0);
    }
}

static void *worker_main(void *arg)
{
    sfu_worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "sfu-worker-%d", w->core->cfg.index);
    pthread_setname_np(pthread_self(), name);
    w->next_tick_us = sfu_now_us() + SFU_TICK_US;
    while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
        int64_t now = sfu_now_us();
        int wait_ms = now >= w->next_tick_us ? 0 : (int)((w->next_tick_us - now + 999) / 1000);
        struct pollfd pfd[3] = {{.fd = w->udp.fd, .events = POLLIN},
                                {.fd = w->wake_fd, .events = POLLIN},
                                {.fd = w->tcp.epoll_fd, .events = POLLIN}};
        int r = poll(pfd, 3, wait_ms);
        if (r < 0 && errno != EINTR) break;
        if (pfd[1].revents & POLLIN) apply_commands(w);
        if (pfd[0].revents & POLLIN) receive_batch(w);
        if (pfd[2].revents & POLLIN) sfu_tcp_conns_service(&w->tcp);
        now = sfu_now_us();
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
        atomic_store_explicit(&w->stop, true, memory_order_relaxed);
        wake(w);
        pthread_join(w->thread, NULL);
    }
    if (w->tcp.by_id) {
        w->tcp.on_closed = NULL; /* the core goes too: nobody to tell */
        sfu_tcp_conns_free(&w->tcp);
    }
    sfu_core_free(w->core);
    g_queue_clear_full(&w->cmd_queue, free_cmd);
    pthread_mutex_destroy(&w->cmd_lock);
    sfu_udp_close(&w->udp);
    if (w->wake_fd >= 0) close(w->wake_fd);
    free(w->rx);
    free(w);
}
