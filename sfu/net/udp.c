/* UDP socket set-up, recvmmsg/sendmmsg batches and GSO regrouping (udp.h). */
#include "net/udp.h"
#include "net/address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SOCKET_BUFFER (4 * 1024 * 1024)
#define NO_ENTRY 0xffff

/* --- address keys ------------------------------------------------------------------ */

void sfu_addr_key_from(sfu_addr_key *k, const struct sockaddr_storage *ss)
{
    memset(k, 0, sizeof *k);
    k->family = ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        k->port = sin->sin_port;
        memcpy(k->addr, &sin->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        k->port = sin6->sin6_port;
        memcpy(k->addr, &sin6->sin6_addr, 16);
    } else if (ss->ss_family == SFU_AF_TCP) {
        const sfu_tcp_addr *a = (const sfu_tcp_addr *)ss;
        memcpy(k->addr, &a->conn_id, sizeof a->conn_id);
    }
}

unsigned sfu_addr_key_hash(const void *key)
{
    const sfu_addr_key *k = key;
    unsigned h = k->family * 31u + k->port;
    for (size_t i = 0; i < sizeof k->addr; i++) h = h * 31u + k->addr[i];
    return h;
}

int sfu_addr_key_equal(const void *a, const void *b) { return memcmp(a, b, sizeof(sfu_addr_key)) == 0; }

/* --- socket ------------------------------------------------------------------------- */

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

bool sfu_udp_open(sfu_udp *u, const char *bind_ip, uint16_t port)
{
    *u = (sfu_udp){.fd = -1};
    struct sockaddr_storage ss;
    socklen_t len;
    if (!sfu_net_bind_address(bind_ip, port, &ss, &len)) {
        fprintf(stderr, "sfu: bad media bind address '%s'\n", bind_ip);
        return false;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "sfu: cannot create a UDP socket: %s\n", strerror(errno));
        return false;
    }
    /* A keyframe fanned out to hundreds of receivers is a burst of megabytes. The plain
     * options are capped by net.core.[rw]mem_max (~200 KiB by default); as root the FORCE
     * variants lift the cap. */
    int size = SOCKET_BUFFER;
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
    u->rx_stamps = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
    if (!u->rx_stamps)
        fprintf(stderr,
                "sfu: SO_TIMESTAMPNS refused (%s): media that waited too long is not dropped "
                "(max_queue_delay_ms has no effect)\n",
                strerror(errno));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        fprintf(stderr, "sfu: cannot bind UDP %s:%u: %s\n", bind_ip, port, strerror(errno));
        close(fd);
        return false;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    u->fd = fd;
    u->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    u->gso = gso_wanted() && gso_probe(fd);
    return true;
}

void sfu_udp_close(sfu_udp *u)
{
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
}

/* --- receiving ---------------------------------------------------------------------- */

static int64_t receive_stamp(struct msghdr *m)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    return 0;
}

int sfu_udp_receive(sfu_udp *u, sfu_rx_datagrams *rx)
{
    for (int i = 0; i < SFU_RX_BATCH; i++) {
        rx->iov[i] = (struct iovec){.iov_base = rx->bufs[i], .iov_len = SFU_PKT_MAX};
        rx->msgs[i].msg_hdr = (struct msghdr){.msg_name = &rx->from[i],
                                              .msg_namelen = sizeof rx->from[i],
                                              .msg_iov = &rx->iov[i],
                                              .msg_iovlen = 1,
                                              .msg_control = rx->ctrl[i].buf,
                                              .msg_controllen = sizeof rx->ctrl[i].buf};
    }
    int n = recvmmsg(u->fd, rx->msgs, SFU_RX_BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        struct msghdr *m = &rx->msgs[i].msg_hdr;
        rx->len[i] = rx->msgs[i].msg_len;
        rx->from_len[i] = m->msg_namelen;
        rx->truncated[i] = (m->msg_flags & MSG_TRUNC) != 0;
        rx->stamp_ns[i] = u->rx_stamps ? receive_stamp(m) : 0;
    }
    return n;
}

/* --- sending ------------------------------------------------------------------------ */

static inline uint32_t dest_hash(const sfu_net_addr *a)
{
    uint32_t h;
    if (a->sa.sa_family == AF_INET6) {
        uint32_t w[4];
        memcpy(w, &a->v6.sin6_addr, sizeof w);
        h = (w[0] ^ w[1] * 0x9e3779b1u) ^ (w[2] * 0x85ebca6bu) ^ (w[3] * 0xc2b2ae35u);
        h ^= a->v6.sin6_port;
    } else {
        h = a->v4.sin_addr.s_addr ^ ((uint32_t)a->v4.sin_port << 16 | a->v4.sin_port);
    }
    h *= 0x9e3779b1u;
    return h ^ h >> 15;
}

static inline bool dest_equal(const sfu_net_addr *a, const sfu_net_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family) return false;
    if (a->sa.sa_family == AF_INET6)
        return a->v6.sin6_port == b->v6.sin6_port && a->v6.sin6_scope_id == b->v6.sin6_scope_id &&
               memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof a->v6.sin6_addr) == 0;
    return a->v4.sin_port == b->v4.sin_port && a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/* Groups the batch by destination (stable: each destination's datagrams keep their
 * order) and fills tx->gmsgs: a run of ≥ 2 datagrams to one destination whose sizes are
 * all equal but a possibly smaller last one becomes one message with an iovec per
 * datagram and a UDP_SEGMENT cmsg; everything else stays a plain datagram. */
unsigned sfu_tx_batch_regroup(sfu_tx_batch *tx)
{
#if SFU_GSO && defined(UDP_SEGMENT)
    unsigned n = tx->count, groups = 0;
    memset(tx->table, 0, sizeof tx->table);
    for (unsigned i = 0; i < n; i++) {
        unsigned h = dest_hash(&tx->to[i]) & (SFU_GSO_HASH - 1);
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
            if (dest_equal(&tx->to[tx->head[g]], &tx->to[i])) {
                tx->next[tx->tail[g]] = (uint16_t)i;
                tx->tail[g] = (uint16_t)i;
                break;
            }
        }
    }
    if (groups == n) return 0;

    unsigned msgs = 0, pos = 0;
    for (unsigned g = 0; g < groups; g++) {
        /* a segment must fit one 1500-byte Ethernet frame: the kernel refuses a gso_size
         * above the path MTU */
        size_t max_seg = tx->to[tx->head[g]].sa.sa_family == AF_INET6 ? 1500 - 40 - 8 : 1500 - 20 - 8;
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
#else
    (void)tx;
    return 0;
#endif
}

/* The kernel refused a super-datagram (no checksum offload on the route, IPsec, a path
 * MTU below the segment size …): turn message `from` and everything after it back into
 * plain datagrams, same order. Returns the new count. */
static unsigned gso_unbundle(sfu_tx_batch *tx, unsigned from)
{
    unsigned m = from;
    for (unsigned p = tx->first_of[from]; p < tx->count; p++, m++) {
        tx->gmsgs[m] = tx->msgs[tx->entry_of[p]];
        tx->segs[m] = 1;
    }
    return m;
}

static void send_regrouped(sfu_udp *u, sfu_tx_batch *tx, unsigned msgs, sfu_tx_result *res)
{
    unsigned sent = 0;
    while (sent < msgs) {
        int n = sendmmsg(u->fd, tx->gmsgs + sent, msgs - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (tx->segs[sent] > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE)) {
                u->gso = false; /* for good on this socket */
                msgs = gso_unbundle(tx, sent);
                continue;
            }
            for (unsigned i = sent; i < msgs; i++) res->dropped += tx->segs[i];
            break;
        }
        for (int i = 0; i < n; i++) {
            unsigned k = sent + (unsigned)i;
            res->bytes += tx->gmsgs[k].msg_len;
            res->packets += tx->segs[k];
            if (tx->segs[k] > 1) {
                res->gso_sends++;
                res->gso_segments += tx->segs[k];
            }
        }
        sent += (unsigned)n;
    }
}

void sfu_udp_send(sfu_udp *u, sfu_tx_batch *tx, sfu_tx_result *res)
{
    if (u->gso && tx->count > 1) {
        unsigned msgs = sfu_tx_batch_regroup(tx);
        if (msgs) {
            send_regrouped(u, tx, msgs, res);
            tx->count = 0;
            return;
        }
    }
    unsigned sent = 0;
    while (sent < tx->count) {
        int n = sendmmsg(u->fd, tx->msgs + sent, tx->count - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* EAGAIN (socket buffer full) or a dead peer (ECONNREFUSED …): drop the rest */
            res->dropped += tx->count - sent;
            break;
        }
        for (int i = 0; i < n; i++) res->bytes += tx->msgs[sent + i].msg_len;
        res->packets += (uint64_t)n;
        sent += (unsigned)n;
    }
    tx->count = 0;
}
