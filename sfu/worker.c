/* The worker loop: wait for datagrams or commands, receive a batch with recvmmsg,
 * demultiplex each datagram (RFC 7983) to ICE, DTLS or the router, send what the batch
 * produced with sendmmsg, apply queued commands, run the 100 ms tick.
 *
 * Only this thread touches the worker's tables, so none of them needs a lock; the
 * command queue is the one shared structure. */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "rtp/rtp.h"

#define SFU_TICK_US 100000
#define SFU_TRIM_INTERVAL_US 1000000
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
    /* Don't fragment, and don't shrink to a learned path MTU either: media datagrams are
     * ≤ 1200 octets plus SRTP; a fragmented one is worse than a lost one. With DF set the
     * kernel also skips the per-datagram IP ID hash (~1 % of the worker in meeting25). */
    int probe = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE; /* (IPv4 also for v4-mapped peers) */
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof probe6);
    /* the kernel's receive time of each datagram: how long it waited for the worker */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        fprintf(stderr, "sfu: cannot bind UDP %s:%u: %s\n", bind_ip, port, strerror(errno));
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound_port = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
    return fd;
}

/* GSO is used when compiled in, not switched off by DIEMCAU_GSO, and the kernel takes
 * UDP_SEGMENT (Linux ≥ 4.18): setting the socket's default segment size to 0 (= no
 * segmentation unless a message asks for it) is the probe. */
static bool gso_wanted(void)
{
#if SFU_GSO && defined(UDP_SEGMENT)
    const char *env = getenv("DIEMCAU_GSO");
    if (env && *env) return strcmp(env, "0") != 0;
    return SFU_GSO_DEFAULT;
#else
    return false;
#endif
}

static bool gso_probe(int fd)
{
#if SFU_GSO && defined(UDP_SEGMENT)
    int zero = 0;
    return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
#else
    (void)fd;
    return false;
#endif
}

sfu_worker *sfu_worker_new(sfu *engine, int index, const char *bind_ip, uint16_t port)
{
    sfu_worker *w = calloc(1, sizeof *w);
    w->engine = engine;
    w->index = index;
    w->fd = open_udp_socket(bind_ip, port, &w->port);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->ice = sfu_ice_agent_new();
    char name[16];
    snprintf(name, sizeof name, "sfu-dtls-%d", index);
    w->dtls_thread = sfu_arena_thread_new(name);
    w->tx = calloc(1, sizeof *w->tx);
    w->rx.batch_no = 1;
    w->gso = gso_wanted() && w->fd >= 0 && gso_probe(w->fd);
    int max_delay_ms = sfu_max_queue_delay_ms(engine);
    w->max_queue_delay_ns = max_delay_ms > 0 ? (int64_t)max_delay_ms * 1000000 : 0;
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

#if SFU_GSO && defined(UDP_SEGMENT)
static inline uint32_t dest_hash(const struct sockaddr *sa)
{
    uint32_t h;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        uint32_t w[4];
        memcpy(w, &a->sin6_addr, sizeof w);
        h = (w[0] ^ w[1] * 0x9e3779b1u) ^ (w[2] * 0x85ebca6bu) ^ (w[3] * 0xc2b2ae35u);
        h ^= a->sin6_port;
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        h = a->sin_addr.s_addr ^ ((uint32_t)a->sin_port << 16 | a->sin_port);
    }
    h *= 0x9e3779b1u;
    return h ^ h >> 15;
}

static inline bool dest_equal(const struct msghdr *x, const struct msghdr *y)
{
    if (x->msg_name == y->msg_name) return true;
    const struct sockaddr *a = x->msg_name, *b = y->msg_name;
    if (a->sa_family != b->sa_family) return false;
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *p = (const void *)a, *q = (const void *)b;
        return p->sin6_port == q->sin6_port && p->sin6_scope_id == q->sin6_scope_id &&
               memcmp(&p->sin6_addr, &q->sin6_addr, sizeof p->sin6_addr) == 0;
    }
    const struct sockaddr_in *p = (const void *)a, *q = (const void *)b;
    return p->sin_port == q->sin_port && p->sin_addr.s_addr == q->sin_addr.s_addr;
}

#define NO_ENTRY 0xffff

/* Groups the batch by destination (stable: each destination's datagrams keep their
 * order) and fills tx->gmsgs: a run of ≥ 2 datagrams to one destination whose sizes are
 * all equal but a possibly smaller last one becomes one message with an iovec per
 * datagram and a UDP_SEGMENT cmsg; everything else stays a plain datagram. Returns the
 * number of messages, or 0 when no destination has two datagrams (send as is). */
static unsigned gso_build(sfu_tx_batch *tx, bool ipv6)
{
    unsigned n = tx->count, groups = 0;
    memset(tx->table, 0, sizeof tx->table);
    for (unsigned i = 0; i < n; i++) {
        const struct msghdr *m = &tx->msgs[i].msg_hdr;
        unsigned h = dest_hash(m->msg_name) & (SFU_GSO_HASH - 1);
        tx->next[i] = NO_ENTRY;
        for (;; h = (h + 1) & (SFU_GSO_HASH - 1)) {
            unsigned g = tx->table[h];
            if (g == 0) {
                tx->table[h] = (uint16_t)(groups + 1);
                tx->head[groups] = tx->tail[groups] = (uint16_t)i;
                groups++;
                break;
            }
            g--;
            if (dest_equal(&tx->msgs[tx->head[g]].msg_hdr, m)) {
                tx->next[tx->tail[g]] = (uint16_t)i;
                tx->tail[g] = (uint16_t)i;
                break;
            }
        }
    }
    if (groups == n) return 0;

    /* a segment must fit one 1500-byte Ethernet frame: the kernel refuses a gso_size
     * above the path MTU */
    size_t max_seg = ipv6 ? 1500 - 40 - 8 : 1500 - 20 - 8;
    unsigned msgs = 0, pos = 0;
    for (unsigned g = 0; g < groups; g++) {
        for (unsigned e = tx->head[g]; e != NO_ENTRY;) {
            unsigned m = msgs++, start = pos;
            size_t size = tx->iov[e].iov_len, total = size;
            tx->giov[pos] = tx->iov[e];
            tx->entry_of[pos++] = (uint16_t)e;
            unsigned f = tx->next[e];
            if (size <= max_seg) {
                while (f != NO_ENTRY && pos - start < SFU_GSO_MAX_SEGS) {
                    size_t len = tx->iov[f].iov_len;
                    if (len > size || total + len > SFU_GSO_MAX_BYTES) break;
                    tx->giov[pos] = tx->iov[f];
                    tx->entry_of[pos++] = (uint16_t)f;
                    total += len;
                    f = tx->next[f];
                    if (len < size) break; /* a smaller one can only be the last */
                }
            }
            struct msghdr *hdr = &tx->gmsgs[m].msg_hdr;
            *hdr = tx->msgs[e].msg_hdr;
            hdr->msg_iov = &tx->giov[start];
            hdr->msg_iovlen = pos - start;
            tx->first_of[m] = (uint16_t)start;
            tx->segs[m] = (uint16_t)(pos - start);
            if (pos - start > 1) {
                struct cmsghdr *cm = &tx->gcmsg[m].align;
                cm->cmsg_level = SOL_UDP;
                cm->cmsg_type = UDP_SEGMENT;
                cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t gso_size = (uint16_t)size;
                memcpy(CMSG_DATA(cm), &gso_size, sizeof gso_size);
                hdr->msg_control = tx->gcmsg[m].buf;
                hdr->msg_controllen = sizeof tx->gcmsg[m].buf;
            }
            e = f;
        }
    }
    return msgs;
}

/* The kernel refused a super-datagram (no checksum offload on the route, IPsec, a path
 * MTU below the segment size …): stop using GSO on this worker and turn message `from`
 * and everything after it back into plain datagrams, same order. Returns the new count. */
static unsigned gso_unbundle(sfu_tx_batch *tx, unsigned from)
{
    unsigned m = from;
    for (unsigned p = tx->first_of[from]; p < tx->count; p++, m++) {
        tx->gmsgs[m] = tx->msgs[tx->entry_of[p]];
        tx->segs[m] = 1;
    }
    return m;
}

static void tx_flush_gso(sfu_worker *w, unsigned msgs)
{
    sfu_tx_batch *tx = w->tx;
    unsigned sent = 0;
    while (sent < msgs) {
        int n = sendmmsg(w->fd, tx->gmsgs + sent, msgs - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (tx->segs[sent] > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE)) {
                w->gso = false;
                msgs = gso_unbundle(tx, sent);
                continue;
            }
            for (unsigned i = sent; i < msgs; i++) w->counters.drop_tx_full += tx->segs[i];
            break;
        }
        for (int i = 0; i < n; i++) {
            unsigned k = sent + (unsigned)i;
            w->counters.tx_bytes += tx->gmsgs[k].msg_len;
            w->counters.tx_packets += tx->segs[k];
            if (tx->segs[k] > 1) {
                w->counters.tx_gso_sends++;
                w->counters.tx_gso_segments += tx->segs[k];
            }
        }
        sent += (unsigned)n;
    }
    tx->count = 0;
}
#endif

void sfu_worker_tx_flush(sfu_worker *w)
{
    sfu_tx_batch *tx = w->tx;
#if SFU_GSO && defined(UDP_SEGMENT)
    if (w->gso && tx->count > 1) {
        bool ipv6 = ((const struct sockaddr *)tx->msgs[0].msg_hdr.msg_name)->sa_family == AF_INET6;
        unsigned msgs = gso_build(tx, ipv6);
        if (msgs) {
            tx_flush_gso(w, msgs);
            return;
        }
    }
#endif
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

void sfu_worker_tx_reserve(sfu_worker *w, unsigned n)
{
    if (w->tx->count + n > SFU_TX_BATCH) sfu_worker_tx_flush(w);
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
                            socklen_t from_len, bool late)
{
    w->counters.rx_packets++;
    w->counters.rx_bytes += len;
    sfu_pkt_kind kind = sfu_pkt_classify(buf, len);
    if (late && kind == SFU_PKT_RTP) {
        w->counters.drop_late++;
        return;
    }
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

/* Whether the kernel received the datagram before `deadline_ns` (CLOCK_REALTIME, as
 * SO_TIMESTAMPNS stamps are); a datagram without a stamp is not late. */
static bool received_before(struct msghdr *m, int64_t deadline_ns)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec < deadline_ns;
    }
    return false;
}

/* Media that waited longer than max_queue_delay_ns between the kernel and the worker is
 * dropped (counted as drop_late) rather than forwarded: it would reach the receivers too
 * late to play, and fanning it out would only make the next packets later. An overloaded
 * or stalled worker (a slow host, a burst of fan-out work) so keeps a bounded delay and
 * sheds load as loss, which receivers conceal and recover from with a keyframe request;
 * STUN, DTLS and RTCP (keyframe requests among them) are still handled. */
static void receive_batch(sfu_worker *w)
{
    static __thread uint8_t bufs[SFU_RX_BATCH][SFU_PKT_MAX + SFU_SRTP_MAX_TRAILER];
    static __thread struct sockaddr_storage addrs[SFU_RX_BATCH];
    static __thread struct iovec iov[SFU_RX_BATCH];
    static __thread struct mmsghdr msgs[SFU_RX_BATCH];
    static __thread union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctrl[SFU_RX_BATCH];
    for (int round = 0; round < 16; round++) { /* bounded so commands and timers still run */
        for (int i = 0; i < SFU_RX_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = SFU_PKT_MAX};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &addrs[i], .msg_namelen = sizeof addrs[i],
                                              .msg_iov = &iov[i], .msg_iovlen = 1,
                                              .msg_control = ctrl[i].buf, .msg_controllen = sizeof ctrl[i].buf};
        }
        int n = recvmmsg(w->fd, msgs, SFU_RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        w->now_us = sfu_now_us();
        int64_t late_before = 0; /* a clock stepped forward drops at most this batch's media */
        if (w->max_queue_delay_ns) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            late_before = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - w->max_queue_delay_ns;
        }
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) { /* larger than any packet we accept */
                w->counters.drop_malformed++;
                continue;
            }
            bool late = late_before && received_before(&msgs[i].msg_hdr, late_before);
            handle_datagram(w, bufs[i], msgs[i].msg_len, &addrs[i], msgs[i].msg_hdr.msg_namelen, late);
        }
        sfu_router_fan_out(w); /* before the next recvmmsg reuses the buffers */
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
    if (w->released_memory && now >= w->next_trim_us) {
        /* handshakes and leaves come in waves (a meeting starts or ends, a province
         * session links 190 sites): without this the freed DTLS states and transports
         * stay in the process as fragmented free heap, and RSS only grows (bench/soak.sh
         * showed it). Never on the packet path, at most once a second. */
        w->released_memory = false;
        w->next_trim_us = now + SFU_TRIM_INTERVAL_US;
        malloc_trim(0);
    }
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
    sfu_arena_thread_free(w->dtls_thread); /* after the transports: they free DTLS on it */
    g_queue_clear_full(&w->cmd_queue, g_free);
    pthread_mutex_destroy(&w->cmd_lock);
    if (w->ice) sfu_ice_agent_free(w->ice);
    if (w->fd >= 0) close(w->fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    free(w->tx);
    free(w);
}
