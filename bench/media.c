/* See media.h. */
#include "media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rx_ring.h"
#include "srtp/srtp_session.h"
#include "stats.h"

#define RX_BATCH 64
#define RX_BUF 1500
#define TX_BATCH 128
#define CONSENT_NS 5000000000LL
#define SENT_RING 256  /* a publisher's timestamped sends not yet matched (≥ TX_BATCH) */
#define WIRE_RING 1024 /* per stream: the latest packets' wire delays, by sequence */

typedef struct {
    dc_peer *peer;
    int fd;
    sfu_srtp *srtp;
    const void *addr;
    size_t addr_len;
    bool is_pub;
    int64_t next_consent_ns;
} conn;

typedef struct {
    uint32_t seq;
    uint16_t stream;
    int64_t send_ns;
} sent_packet;

typedef struct {
    conn c;
    size_t pub_index;
    bench_gen_stream audio, video;
    int64_t next_audio_ns, next_video_ns;
    /* the packets of the timestamped sends, by the kernel's per-socket key (OPT_ID: the
     * n-th timestamped datagram has key n) */
    uint32_t tx_key;
    sent_packet sent[SENT_RING];
} pub;

typedef struct {
    conn c;
    long self_pub;
    const uint8_t *wanted, *expect;
    int64_t join_ns, first_media_ns;
    uint32_t *count; /* per stream: packets sent in the window and received */
    uint32_t ovfl;
    uint64_t rx_total;
    bench_slot_rx *slots;
} sub;

enum { CMD_NONE = 0, CMD_BEGIN, CMD_END, CMD_STOP };

/* One of the two media threads: the sender owns the publishing connections (timed sends,
 * PLIs from the server), the receiver the subscribing ones (checks, latency). Split so
 * that receiving a burst of forwarded packets never delays a scheduled send: a late
 * sender bunches the publishers' frames together and the server sees bursts no set of
 * independent browsers would send. */
typedef struct {
    bench_media *m;
    bool sends;
    pthread_t thread;
    atomic_int cmd;
    int ep;
    bool in_window;
    double cpu_begin, cpu_end;
    int64_t next_consent_sweep;
    /* connections handed over by the signaling thread (under m->lock), then owned: pub*
     * on the sender, sub* on the receiver (both begin with their conn) */
    atomic_bool incoming;
    conn **in;
    size_t n_in;
    conn **conns;
    size_t n, cap;
    uint8_t (*rx)[RX_BUF];
    uint64_t decrypt_failures;
    int64_t ring_now_mono; /* the receiver's loop time, for datagrams from the ring */
} side;

struct bench_media {
    bench_media_opts o;
    size_t n_streams;
    side send, recv;
    bool sender_realtime;
    pthread_mutex_t lock; /* guards the sides' incoming lists */
    atomic_size_t subs_total, subs_with_media;
    /* per stream window bounds (bench sequence): written by the sender, read by the
     * receiver (relaxed atomics: a packet is counted once its bound is visible) */
    uint32_t *s0, *s1;
    int64_t win_begin_ns, win_end_ns;
    /* sender */
    uint64_t tx_win, plis;
    bench_hist send_lag, send_path;
    /* per stream × WIRE_RING: (sequence << 32 | ns from the record's send time to the
     * kernel's transmit stamp), written by the sender, read by the receiver */
    uint64_t *wire_delay;
    /* receiver */
    bench_hist lat, lat_of[BENCH_LAT_CLASSES];
    uint64_t rx_win, rx_bytes_win;
    uint64_t decrypted, mismatches, no_record, unstamped;
    /* buffers */
    uint8_t (*tx)[BENCH_PKT_CAP];
    /* the receiver's packet ring (split network), and which subscriber each local port is */
    bench_rx_ring *ring;
    sub **sub_by_port;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void conn_init(conn *c, dc_peer *peer, bool is_pub)
{
    c->peer = peer;
    c->fd = dc_peer_fd(peer);
    c->srtp = dc_peer_srtp(peer);
    c->addr = dc_peer_server_addr(peer, &c->addr_len);
    c->is_pub = is_pub;
    int one = 1, rcvbuf = 1 << 20;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    if (is_pub) {
        /* transmit stamps of media sends (each asks with a cmsg, see flush), numbered, without
         * the packet; consent checks and DTLS ask for none, so they take no number */
        int ts = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
        setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof ts);
    }
    c->next_consent_ns = mono_ns() + rand() % CONSENT_NS;
}

/* --- receive ------------------------------------------------------------------------ */

static void read_tx_stamps(side *d, pub *p);

static uint32_t bound(const uint32_t *b, size_t stream) { return __atomic_load_n(&b[stream], __ATOMIC_RELAXED); }
static void set_bound(uint32_t *b, size_t stream, uint32_t v) { __atomic_store_n(&b[stream], v, __ATOMIC_RELAXED); }

/* When the packet left the publisher: the kernel's transmit stamp (taken as the datagram
 * entered the network device), or else the send time in its record. The two differ when
 * the generator's CPU runs other work (receive softirqs) between taking the record's time
 * and the send: that delay is the generator's, not the server's. */
static int64_t wire_time(bench_media *m, const bench_record *rec)
{
    uint64_t v = __atomic_load_n(&m->wire_delay[(size_t)rec->stream * WIRE_RING + rec->seq % WIRE_RING],
                                 __ATOMIC_RELAXED);
    if (v >> 32 != rec->seq || v == 0) {
        m->unstamped++;
        return rec->send_ns;
    }
    return rec->send_ns + (int64_t)(uint32_t)v;
}

/* Which slot the packet came on (by its SSRC, clear under SRTP) and the stream it carried
 * (NULL: unknown). A short linear search: at most BENCH_MAX_SLOTS. */
static void count_slot(side *d, sub *s, uint32_t ssrc, const bench_record *rec)
{
    bench_slot_rx *t = s->slots;
    if (!t) return;
    size_t i = 0;
    while (i < t->n && t->ssrc[i] != ssrc) i++;
    if (i == t->n) {
        t->off_slot++;
        return;
    }
    t->packets[i]++;
    if (d->in_window) t->window_packets[i]++;
    if (!rec) return;
    for (size_t k = 0; k < t->n_seen[i]; k++)
        if (t->seen[i][k] == rec->stream) return;
    if (t->n_seen[i] < BENCH_SLOT_SEEN) t->seen[i][t->n_seen[i]++] = rec->stream;
    else t->seen_overflow[i] = true;
}

/* Could this record, read from a payload's end, be one of ours? A packet without the
 * header's record may come from a publisher this generator does not drive (a browser in the
 * same room, tests/e2e/province200.test.mjs), whose payload ends in media, not a record. */
static bool record_plausible(const bench_media *m, const bench_record *r)
{
    int64_t age = real_ns() - r->send_ns;
    return r->stream < m->n_streams && (r->flags & ~1u) == 0 && age > -1000000000LL && age < 60000000000LL;
}

static void on_sub_rtp(side *d, sub *s, uint8_t *buf, size_t len, int64_t rx_ns)
{
    bench_media *m = d->m;
    bench_record rec;
    uint32_t ssrc = sfu_rd32(buf + 8);
    bool have = bench_record_from_ext(buf, len, &rec);
    if (!have) m->no_record++;
    s->rx_total++;
    if (!have || (m->o.decrypt_every && s->rx_total % m->o.decrypt_every == 0)) {
        m->decrypted++;
        if (sfu_srtp_unprotect_rtp(s->c.srtp, buf, &len) != 0) {
            d->decrypt_failures++;
            count_slot(d, s, ssrc, NULL);
            return;
        }
        bench_record inner;
        bool from_payload = bench_record_from_payload(buf, len, &inner);
        if (!have && !(from_payload && record_plausible(m, &inner))) { /* not ours: only its slot is checked */
            count_slot(d, s, ssrc, NULL);
            return;
        }
        if (!from_payload) {
            m->mismatches++;
            count_slot(d, s, ssrc, NULL);
            return;
        }
        if (have && (inner.seq != rec.seq || inner.stream != rec.stream || inner.send_ns != rec.send_ns))
            m->mismatches++;
        rec = inner;
    }
    if (rec.stream >= m->n_streams) {
        m->mismatches++;
        count_slot(d, s, ssrc, NULL);
        return;
    }
    count_slot(d, s, ssrc, &rec);
    if (rec.seq >= bound(m->s0, rec.stream) && rec.seq < bound(m->s1, rec.stream)) {
        s->count[rec.stream]++;
        int64_t latency = rx_ns - wire_time(m, &rec);
        bench_hist_add(&m->lat, latency);
        int class = rec.stream % 2 == 0 ? BENCH_LAT_AUDIO : rec.flags & 1 ? BENCH_LAT_KEYFRAME : BENCH_LAT_VIDEO;
        bench_hist_add(&m->lat_of[class], latency);
    }
}

/* An RTP packet that reached a subscriber, from its socket or the packet ring. */
static void on_sub_media(side *d, sub *s, uint8_t *buf, size_t len, int64_t rx_ns, int64_t now_mono)
{
    bench_media *m = d->m;
    if (!s->first_media_ns) {
        s->first_media_ns = now_mono;
        atomic_fetch_add(&m->subs_with_media, 1);
    }
    if (d->in_window) {
        m->rx_win++;
        m->rx_bytes_win += len;
    }
    on_sub_rtp(d, s, buf, len, rx_ns);
}

static void on_pub_rtcp(side *d, pub *p, uint8_t *buf, size_t len)
{
    if (sfu_srtp_unprotect_rtcp(p->c.srtp, buf, &len) != 0) {
        d->decrypt_failures++;
        return;
    }
    sfu_rtcp_iter it;
    sfu_rtcp_packet pk;
    sfu_rtcp_iter_init(&it, buf, len);
    while (sfu_rtcp_iter_next(&it, &pk))
        if (pk.pt == SFU_RTCP_PSFB && (pk.fmt == 1 || pk.fmt == 4)) {
            p->video.want_key = true;
            d->m->plis++;
        }
}

static void drain_socket(side *d, conn *c, int64_t now_mono)
{
    struct mmsghdr msgs[RX_BATCH];
    struct iovec iov[RX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctrl[RX_BATCH];
    for (;;) {
        for (int i = 0; i < RX_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = d->rx[i], .iov_len = RX_BUF};
            msgs[i].msg_hdr = (struct msghdr){
                .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = ctrl[i].buf, .msg_controllen = sizeof ctrl[i].buf};
        }
        if (c->is_pub) read_tx_stamps(d, (pub *)c); /* EPOLLERR: stamps not read at the send */
        int n = recvmmsg(c->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        for (int i = 0; i < n; i++) {
            uint8_t *buf = d->rx[i];
            size_t len = msgs[i].msg_len;
            int64_t rx_ns = 0;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
                if (cm->cmsg_level != SOL_SOCKET) continue;
                if (cm->cmsg_type == SO_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                    rx_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
                } else if (cm->cmsg_type == SO_RXQ_OVFL && !c->is_pub) {
                    memcpy(&((sub *)c)->ovfl, CMSG_DATA(cm), sizeof(uint32_t));
                }
            }
            if (!rx_ns) rx_ns = real_ns();
            if (len < 12 || buf[0] < 128 || buf[0] > 191) continue; /* STUN responses, DTLS */
            bool rtcp = buf[1] >= 192 && buf[1] <= 223;
            if (c->is_pub) {
                if (rtcp) on_pub_rtcp(d, (pub *)c, buf, len);
                continue;
            }
            if (!rtcp) on_sub_media(d, (sub *)c, buf, len, rx_ns, now_mono);
        }
        if (n < RX_BATCH) return;
    }
}

/* A datagram the packet ring caught on its way to subscriber port `dst_port` (rx_ring.h):
 * the same checks as one read from the subscriber's socket. */
static void on_ring_datagram(void *user, uint16_t dst_port, uint8_t *buf, size_t len, int64_t rx_ns)
{
    side *d = user;
    sub *s = d->m->sub_by_port[dst_port];
    if (!s || sfu_pkt_classify(buf, len) != SFU_PKT_RTP) return; /* RTCP comes through the socket */
    on_sub_media(d, s, buf, len, rx_ns, d->ring_now_mono);
}

/* --- send --------------------------------------------------------------------------- */

/* Reads the transmit stamps of p's sends from its socket's error queue and publishes each
 * packet's delay from its record's send time to the wire (wire_time). */
static void read_tx_stamps(side *d, pub *p)
{
    bench_media *m = d->m;
    struct mmsghdr msgs[TX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct sock_extended_err) + 32)];
        struct cmsghdr align;
    } ctrl[TX_BATCH];
    for (;;) {
        for (int i = 0; i < TX_BATCH; i++)
            msgs[i].msg_hdr = (struct msghdr){.msg_control = ctrl[i].buf, .msg_controllen = sizeof ctrl[i].buf};
        int n = recvmmsg(p->c.fd, msgs, TX_BATCH, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        for (int i = 0; i < n; i++) {
            int64_t wire_ns = 0;
            bool have_key = false;
            uint32_t key = 0;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING) {
                    struct scm_timestamping ts;
                    memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                    wire_ns = (int64_t)ts.ts[0].tv_sec * 1000000000LL + ts.ts[0].tv_nsec;
                } else if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                           (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)) {
                    struct sock_extended_err ee;
                    memcpy(&ee, CMSG_DATA(cm), sizeof ee);
                    have_key = ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && ee.ee_info == SCM_TSTAMP_SND;
                    key = ee.ee_data;
                }
            }
            if (!have_key || !wire_ns || p->tx_key - key - 1 >= SENT_RING) continue; /* not one of ours */
            const sent_packet *sp = &p->sent[key % SENT_RING];
            int64_t delay = wire_ns - sp->send_ns;
            if (delay < 0) delay = 0;
            if (delay > UINT32_MAX) delay = UINT32_MAX;
            __atomic_store_n(&m->wire_delay[(size_t)sp->stream * WIRE_RING + sp->seq % WIRE_RING],
                             (uint64_t)sp->seq << 32 | (uint64_t)delay, __ATOMIC_RELAXED);
            if (d->in_window) bench_hist_add(&m->send_path, delay);
        }
        if (n < TX_BATCH) return;
    }
}

static void flush(side *d, pub *p, size_t *lens, size_t n)
{
    bench_media *m = d->m;
    struct mmsghdr msgs[TX_BATCH];
    struct iovec iov[TX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctrl[TX_BATCH];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = lens[i];
        bench_record rec;
        if (!bench_record_from_ext(m->tx[i], len, &rec)) continue;
        if (sfu_srtp_protect_rtp(p->c.srtp, m->tx[i], &len, BENCH_PKT_CAP) != 0) continue;
        p->sent[(p->tx_key + k) % SENT_RING] = (sent_packet){
            .seq = rec.seq, .stream = rec.stream, .send_ns = rec.send_ns};
        struct cmsghdr *cm = &ctrl[k].align; /* ask for this datagram's transmit stamp */
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SO_TIMESTAMPING;
        cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
        uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE;
        memcpy(CMSG_DATA(cm), &flags, sizeof flags);
        iov[k] = (struct iovec){.iov_base = m->tx[i], .iov_len = len};
        msgs[k].msg_hdr = (struct msghdr){.msg_name = (void *)p->c.addr,
                                          .msg_namelen = (socklen_t)p->c.addr_len,
                                          .msg_iov = &iov[k],
                                          .msg_iovlen = 1,
                                          .msg_control = ctrl[k].buf,
                                          .msg_controllen = sizeof ctrl[k].buf};
        k++;
    }
    size_t sent = 0;
    while (sent < k) {
        int r = sendmmsg(p->c.fd, msgs + sent, (unsigned)(k - sent), 0);
        if (r <= 0) break;
        sent += (size_t)r;
    }
    p->tx_key += (uint32_t)sent;
    read_tx_stamps(d, p);
    if (d->in_window) m->tx_win += sent;
}

static void note_lag(side *d, int64_t due, int64_t now)
{
    if (d->in_window) bench_hist_add(&d->m->send_lag, now - due);
}

#define LEVEL_SPEAKING (0x80 | 20) /* V bit, −20 dBov: a voice close to the microphone */
#define LEVEL_SILENT 127           /* −127 dBov, no voice */

/* The audio level octet p's audio carries now (bench_speech). */
static uint8_t audio_level(const bench_media *m, const pub *p, int64_t now)
{
    if (!m->win_begin_ns) return LEVEL_SILENT;
    int64_t t_ms = (now - m->win_begin_ns) / 1000000;
    for (size_t i = 0; i < m->o.n_speech; i++) {
        const bench_speech *sp = &m->o.speech[i];
        if (sp->pub_index == p->pub_index && t_ms >= sp->start_ms && t_ms < sp->end_ms) return LEVEL_SPEAKING;
    }
    return LEVEL_SILENT;
}

/* Sends what is due; returns the next due time. */
static int64_t send_due(side *d, pub *p, int64_t now)
{
    bench_media *m = d->m;
    size_t lens[TX_BATCH], n = 0;
    int64_t rt = real_ns();
    if (m->o.audio) {
        if (p->audio.level_ext_id) p->audio.level = audio_level(m, p, now);
        while (p->next_audio_ns <= now && n < TX_BATCH) {
            note_lag(d, p->next_audio_ns, now);
            lens[n] = bench_gen_audio(&p->audio, m->tx[n], rt);
            n++;
            p->next_audio_ns += 20000000;
        }
        if (now - p->next_audio_ns > 1000000000LL) p->next_audio_ns = now; /* hopelessly late */
    }
    if (m->o.video && p->next_video_ns <= now) {
        note_lag(d, p->next_video_ns, now);
        size_t max = TX_BATCH - n < BENCH_MAX_FRAME_PKTS ? TX_BATCH - n : BENCH_MAX_FRAME_PKTS;
        n += bench_gen_video_frame(&p->video, m->tx + n, lens + n, max, rt);
        p->next_video_ns += 1000000000LL / m->o.fps;
        if (now - p->next_video_ns > 1000000000LL) p->next_video_ns = now;
    }
    if (n) flush(d, p, lens, n);
    int64_t next = INT64_MAX;
    if (m->o.audio && p->next_audio_ns < next) next = p->next_audio_ns;
    if (m->o.video && p->next_video_ns < next) next = p->next_video_ns;
    return next;
}

/* --- threads ------------------------------------------------------------------------ */

_Static_assert(offsetof(pub, c) == 0 && offsetof(sub, c) == 0, "a side's conn* is its pub* or sub*");

static pub *pub_at(const bench_media *m, size_t i) { return (pub *)m->send.conns[i]; }
static sub *sub_at(const bench_media *m, size_t i) { return (sub *)m->recv.conns[i]; }

/* splitmix64: a repeatable pseudo-random number from a publisher's index */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ x >> 27) * 0x94d049bb133111ebULL;
    return x ^ x >> 31;
}

/* A publisher starts sending at its own phase, as independent browsers do: its frames,
 * audio packets and periodic keyframes start at offsets drawn (repeatably, from its index)
 * over a frame interval, 20 ms and a keyframe interval. A shared grid would make publishers
 * send at the same instant and every keyframe land in the same second. One that joins
 * during the window is counted from now on. */
static void start_pub(side *d, pub *p)
{
    int64_t now = mono_ns();
    uint64_t r1 = mix64(p->pub_index * 3 + 1), r2 = mix64(p->pub_index * 3 + 2), r3 = mix64(p->pub_index * 3 + 3);
    p->next_video_ns = now + (int64_t)(r1 % (uint64_t)(1000000000LL / d->m->o.fps));
    p->next_audio_ns = now + (int64_t)(r2 % 20000000ULL);
    p->video.frame_no = (uint32_t)(r3 % p->video.kf_interval); /* the first frame is a keyframe anyway */
    if (d->in_window) {
        set_bound(d->m->s0, p->pub_index * 2, p->audio.next_seq);
        set_bound(d->m->s0, p->pub_index * 2 + 1, p->video.next_seq);
    }
}

static void take_incoming(side *d)
{
    pthread_mutex_lock(&d->m->lock);
    for (size_t i = 0; i < d->n_in; i++) {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 64;
            d->conns = realloc(d->conns, d->cap * sizeof *d->conns);
        }
        conn *c = d->in[i];
        d->conns[d->n++] = c;
        if (d->sends) start_pub(d, (pub *)c);
        if (!d->sends && d->m->ring) { /* its media comes through the ring, by port */
            struct sockaddr_storage ss;
            socklen_t len = sizeof ss;
            if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET)
                d->m->sub_by_port[ntohs(((struct sockaddr_in *)&ss)->sin_port)] = (sub *)c;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(d->ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    d->n_in = 0;
    atomic_store(&d->incoming, false);
    pthread_mutex_unlock(&d->m->lock);
}

/* From the signaling thread: the side's thread takes c at its next loop turn. */
static void hand_over(side *d, conn *c)
{
    pthread_mutex_lock(&d->m->lock);
    d->in = realloc(d->in, (d->n_in + 1) * sizeof *d->in);
    d->in[d->n_in++] = c;
    atomic_store(&d->incoming, true);
    pthread_mutex_unlock(&d->m->lock);
}

/* Keeps ICE consent (RFC 7675) fresh on this side's connections. */
static void consent_sweep(side *d, int64_t now)
{
    if (now < d->next_consent_sweep) return;
    d->next_consent_sweep = now + 100000000;
    for (size_t i = 0; i < d->n; i++) {
        conn *c = d->conns[i];
        if (now >= c->next_consent_ns) {
            dc_peer_send_consent(c->peer);
            c->next_consent_ns = now + CONSENT_NS;
        }
    }
}

static void apply_cmd(side *d, int cmd)
{
    bench_media *m = d->m;
    if (d->sends)
        for (size_t i = 0; i < d->n; i++) {
            pub *p = pub_at(m, i);
            uint32_t *b = cmd == CMD_BEGIN ? m->s0 : m->s1;
            set_bound(b, p->pub_index * 2, p->audio.next_seq);
            set_bound(b, p->pub_index * 2 + 1, p->video.next_seq);
        }
    d->in_window = cmd == CMD_BEGIN;
    if (cmd == CMD_BEGIN) {
        if (d->sends) m->win_begin_ns = mono_ns();
        d->cpu_begin = thread_cpu_s();
    } else {
        if (d->sends) m->win_end_ns = mono_ns();
        d->cpu_end = thread_cpu_s();
    }
}

/* Real-time priority for the sender, if the bench may have it: on the generator's CPU it
 * then preempts the receiver the moment a send is due. */
static bool prefer_realtime(void)
{
    struct sched_param sp = {.sched_priority = 1};
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
}

/* epoll with a nanosecond timeout (Linux ≥ 5.11); on older kernels, whole milliseconds
 * rounded up, so that a missing call never turns into a busy loop */
static int wait_ready(side *d, struct epoll_event *evs, int max, int64_t wait_ns)
{
    static atomic_bool no_pwait2;
    if (!atomic_load(&no_pwait2)) {
        struct timespec timeout = {.tv_sec = wait_ns / 1000000000LL, .tv_nsec = wait_ns % 1000000000LL};
        int n = epoll_pwait2(d->ep, evs, max, &timeout, NULL);
        if (n >= 0 || errno != ENOSYS) return n;
        atomic_store(&no_pwait2, true);
    }
    return epoll_wait(d->ep, evs, max, (int)((wait_ns + 999999) / 1000000));
}

static void *run(void *arg)
{
    side *d = arg;
    bench_media *m = d->m;
    if (d->sends) m->sender_realtime = prefer_realtime();
    struct epoll_event evs[256];
    for (;;) {
        int cmd = atomic_load(&d->cmd);
        if (cmd == CMD_STOP) break;
        if (cmd != CMD_NONE) {
            apply_cmd(d, cmd);
            atomic_store(&d->cmd, CMD_NONE);
        }
        if (atomic_load(&d->incoming)) take_incoming(d);
        int64_t now = mono_ns(), next = now + 10000000;
        if (d->sends)
            for (size_t i = 0; i < d->n; i++) {
                int64_t t = send_due(d, pub_at(m, i), now);
                if (t < next) next = t;
            }
        consent_sweep(d, now);
        now = mono_ns();
        int n = wait_ready(d, evs, 256, next > now ? next - now : 0);
        now = mono_ns();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == m->ring) {
                d->ring_now_mono = now;
                bench_rx_ring_drain(m->ring, on_ring_datagram, d);
            } else {
                drain_socket(d, evs[i].data.ptr, now);
            }
        }
    }
    return NULL;
}

static void side_start(bench_media *m, side *d, bool sends)
{
    d->m = m;
    d->sends = sends;
    d->rx = malloc(RX_BATCH * sizeof *d->rx);
    d->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!sends && m->ring) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = m->ring};
        epoll_ctl(d->ep, EPOLL_CTL_ADD, bench_rx_ring_fd(m->ring), &ev);
    }
    pthread_create(&d->thread, NULL, run, d);
}

static void side_stop(side *d)
{
    atomic_store(&d->cmd, CMD_STOP);
    pthread_join(d->thread, NULL);
    take_incoming(d);
}

static void side_free(side *d)
{
    free(d->conns);
    free(d->in);
    free(d->rx);
    close(d->ep);
}

bench_media *bench_media_new(const bench_media_opts *o)
{
    bench_media *m = calloc(1, sizeof *m);
    m->o = *o;
    m->o.speech = NULL;
    if (o->n_speech) {
        bench_speech *copy = malloc(o->n_speech * sizeof *copy);
        memcpy(copy, o->speech, o->n_speech * sizeof *copy);
        m->o.speech = copy;
    }
    if (m->o.fps == 0) m->o.fps = 30;
    m->n_streams = o->n_publishers * 2;
    m->s0 = malloc((m->n_streams + 1) * sizeof *m->s0);
    m->s1 = malloc((m->n_streams + 1) * sizeof *m->s1);
    for (size_t i = 0; i <= m->n_streams; i++) {
        m->s0[i] = UINT32_MAX;
        m->s1[i] = UINT32_MAX;
    }
    bench_hist_init(&m->lat);
    for (int c = 0; c < BENCH_LAT_CLASSES; c++) bench_hist_init(&m->lat_of[c]);
    bench_hist_init(&m->send_lag);
    bench_hist_init(&m->send_path);
    m->wire_delay = calloc(m->n_streams * WIRE_RING + 1, sizeof *m->wire_delay);
    m->tx = malloc(TX_BATCH * sizeof *m->tx);
    if (o->rx_ring_if && (m->ring = bench_rx_ring_open(o->rx_ring_if)))
        m->sub_by_port = calloc(65536, sizeof *m->sub_by_port);
    pthread_mutex_init(&m->lock, NULL);
    side_start(m, &m->send, true);
    side_start(m, &m->recv, false);
    return m;
}

void bench_media_add_pub(bench_media *m, dc_peer *peer, size_t pub_index, uint32_t audio_ssrc, uint8_t audio_pt,
                         uint32_t video_ssrc, uint8_t video_pt, uint8_t level_ext_id)
{
    pub *p = calloc(1, sizeof *p);
    conn_init(&p->c, peer, true);
    p->pub_index = pub_index;
    bench_gen_init_audio(&p->audio, (uint16_t)(pub_index * 2), audio_ssrc, audio_pt);
    bench_gen_init_video(&p->video, (uint16_t)(pub_index * 2 + 1), video_ssrc, video_pt, m->o.video_bps, m->o.fps,
                         m->o.keyframe_s);
    p->audio.level_ext_id = level_ext_id;
    if (m->o.rtp_seq_start >= 0) p->audio.rtp_seq = p->video.rtp_seq = (uint16_t)m->o.rtp_seq_start;
    if (m->o.vary_sizes) {
        bench_gen_vary_sizes(&p->audio, (uint32_t)pub_index * 2 + 1);
        bench_gen_vary_sizes(&p->video, (uint32_t)pub_index * 2 + 2);
    }
    hand_over(&m->send, &p->c);
}

size_t bench_media_add_sub(bench_media *m, dc_peer *peer, long self_pub, const uint8_t *wanted, const uint8_t *expect,
                           int64_t join_ns, bench_slot_rx *slots)
{
    sub *s = calloc(1, sizeof *s);
    conn_init(&s->c, peer, false);
    s->self_pub = self_pub;
    s->wanted = wanted;
    s->expect = expect;
    s->join_ns = join_ns;
    s->slots = slots;
    s->count = calloc(m->n_streams + 1, sizeof *s->count);
    hand_over(&m->recv, &s->c);
    return atomic_fetch_add(&m->subs_total, 1);
}

static void command(bench_media *m, int cmd)
{
    atomic_store(&m->send.cmd, cmd);
    atomic_store(&m->recv.cmd, cmd);
    while (atomic_load(&m->send.cmd) == cmd || atomic_load(&m->recv.cmd) == cmd) usleep(500);
}

void bench_media_window_begin(bench_media *m) { command(m, CMD_BEGIN); }
void bench_media_window_end(bench_media *m) { command(m, CMD_END); }
size_t bench_media_subs_with_media(bench_media *m) { return atomic_load(&m->subs_with_media); }

void bench_media_finish(bench_media *m, bench_media_result *r)
{
    side_stop(&m->send);
    side_stop(&m->recv);
    memset(r, 0, sizeof *r);
    r->window_s = (double)(m->win_end_ns - m->win_begin_ns) / 1e9;
    r->tx_packets = m->tx_win;
    r->rx_packets = m->rx_win;
    r->rx_bytes = m->rx_bytes_win;
    size_t n_subs = m->recv.n;
    r->subs = n_subs;
    double *joins = calloc(n_subs + 1, sizeof *joins);
    double loss_sum = 0;
    for (size_t i = 0; i < n_subs; i++) {
        sub *s = sub_at(m, i);
        uint64_t exp = 0, got = 0;
        for (size_t st = 0; st < m->n_streams; st++) {
            if ((long)(st / 2) == s->self_pub || m->s0[st] == UINT32_MAX || m->s1[st] == UINT32_MAX) continue;
            if ((st % 2 == 0 && !m->o.audio) || (st % 2 == 1 && !m->o.video)) continue;
            if (s->wanted && !s->wanted[st]) continue; /* another room's */
            if (s->expect && !s->expect[st]) {
                r->streams_without_slot++;
                continue;
            }
            exp += m->s1[st] - m->s0[st];
            got += s->count[st];
        }
        double loss = exp ? 1.0 - (double)got / (double)exp : 0;
        if (loss < 0) loss = 0;
        if (loss > r->loss_max) r->loss_max = loss;
        loss_sum += loss;
        r->expected += exp;
        r->received += got;
        r->gen_socket_drops += s->ovfl;
        if (s->first_media_ns) joins[r->join_count++] = (double)(s->first_media_ns - s->join_ns) / 1e6;
        else r->join_missing++;
    }
    r->loss_mean = n_subs ? loss_sum / (double)n_subs : 0;
    r->join_p50_ms = bench_quantile(joins, r->join_count, 0.5);
    r->join_p99_ms = bench_quantile(joins, r->join_count, 0.99);
    r->join_max_ms = r->join_count ? joins[r->join_count - 1] : 0;
    free(joins);
    r->lat_samples = m->lat.count;
    r->lat_p50_us = bench_hist_quantile_us(&m->lat, 0.5);
    r->lat_p99_us = bench_hist_quantile_us(&m->lat, 0.99);
    r->lat_max_us = (double)m->lat.max_ns / 1000.0;
    r->lat_mean_us = m->lat.count ? m->lat.sum_ns / (double)m->lat.count / 1000.0 : 0;
    for (int c = 0; c < BENCH_LAT_CLASSES; c++) r->lat_p99_of_us[c] = bench_hist_quantile_us(&m->lat_of[c], 0.99);
    r->decrypted = m->decrypted;
    r->decrypt_failures = m->send.decrypt_failures + m->recv.decrypt_failures;
    r->record_mismatches = m->mismatches;
    r->no_record = m->no_record;
    r->plis = m->plis;
    for (size_t i = 0; i < m->send.n; i++) r->keyframes += pub_at(m, i)->video.keyframes;
    r->gen_cpu_s = m->send.cpu_end - m->send.cpu_begin + m->recv.cpu_end - m->recv.cpu_begin;
    r->send_lag_p99_ms = bench_hist_quantile_us(&m->send_lag, 0.99) / 1000.0;
    r->max_send_lag_ms = (double)m->send_lag.max_ns / 1e6;
    r->sender_realtime = m->sender_realtime;
    r->rx_ring = m->ring != NULL;
    if (m->ring) r->gen_socket_drops += bench_rx_ring_drops(m->ring);
    r->send_path_p99_ms = bench_hist_quantile_us(&m->send_path, 0.99) / 1000.0;
    r->send_path_max_ms = (double)m->send_path.max_ns / 1e6;
    r->unstamped = m->unstamped;
    for (size_t i = 0; i < m->send.n; i++) {
        dc_peer_free(pub_at(m, i)->c.peer);
        free(pub_at(m, i));
    }
    for (size_t i = 0; i < n_subs; i++) {
        dc_peer_free(sub_at(m, i)->c.peer);
        free(sub_at(m, i)->count);
        free(sub_at(m, i));
    }
    free(m->s0);
    free(m->s1);
    free(m->tx);
    free((void *)m->o.speech);
    bench_hist_free(&m->lat);
    for (int c = 0; c < BENCH_LAT_CLASSES; c++) bench_hist_free(&m->lat_of[c]);
    bench_hist_free(&m->send_lag);
    bench_hist_free(&m->send_path);
    free(m->wire_delay);
    bench_rx_ring_close(m->ring);
    free(m->sub_by_port);
    side_free(&m->send);
    side_free(&m->recv);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
