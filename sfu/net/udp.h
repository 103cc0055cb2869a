/* The engine's UDP floor: one socket, batches of datagrams in (recvmmsg) and out
 * (sendmmsg, with UDP GSO regrouping), and peer addresses as hashable keys.
 *
 * Bytes and addresses only: nothing here knows transports, streams or workers. */
#ifndef SFU_NET_UDP_H
#define SFU_NET_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define SFU_RX_BATCH 64  /* datagrams per recvmmsg */
#define SFU_TX_BATCH 256 /* datagrams per sendmmsg (a fan-out may span several) */
#define SFU_PKT_MAX 1500 /* largest datagram we accept or send */
#define SFU_NET_SPARE 32 /* room after a packet for what protection appends (SRTP tag) */
#define SFU_TX_BUF (SFU_PKT_MAX + SFU_NET_SPARE)
#define SFU_RX_BUF (SFU_PKT_MAX + SFU_NET_SPARE)

/* UDP GSO (UDP_SEGMENT): the send may carry a run of equal-size datagrams to one
 * destination as one super-datagram. SFU_GSO=0 compiles it out; DIEMCAU_GSO=0/1 in the
 * environment switches it at start; a kernel that refuses UDP_SEGMENT turns it off. */
#ifndef SFU_GSO
#define SFU_GSO 1
#endif
#ifndef SFU_GSO_DEFAULT
#define SFU_GSO_DEFAULT 1 /* used when DIEMCAU_GSO is unset (see bench/RESULTS.md) */
#endif
#define SFU_GSO_MAX_SEGS 64     /* kernel limit UDP_MAX_SEGMENTS */
#define SFU_GSO_MAX_BYTES 65000 /* payload of one super-datagram, below the 64 KiB IP limit */
#define SFU_GSO_HASH 512        /* open-addressing table, ≥ 2 × SFU_TX_BATCH */

/* A peer's address in a form that hashes and compares by value. */
typedef struct {
    sa_family_t family;
    in_port_t port;
    uint8_t addr[16];
} sfu_addr_key;

void sfu_addr_key_from(sfu_addr_key *k, const struct sockaddr_storage *ss);
unsigned sfu_addr_key_hash(const void *key);          /* GHashFunc-compatible */
int sfu_addr_key_equal(const void *a, const void *b); /* GEqualFunc-compatible */

/* An IPv4 or IPv6 destination, copied into the batch so that a queued datagram never
 * points at an address its owner may rewrite before the send. */
typedef union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} sfu_net_addr;

/* A transport's peer may also be one of the worker's ICE-TCP connections
 * (net/tcp_conns.h): its address is then an sfu_tcp_addr in the sockaddr_storage, of
 * family SFU_AF_TCP (no family the kernel has), keyed by the connection id and carrying
 * the peer's real address for STUN's XOR-MAPPED-ADDRESS. It never reaches the UDP batch:
 * sfu_out_commit hands its packets to the connection (output.h). */
#define SFU_AF_TCP ((sa_family_t)0xfffe)
typedef struct {
    sa_family_t family; /* SFU_AF_TCP */
    uint32_t conn_id;
    socklen_t peer_len;
    sfu_net_addr peer;
} sfu_tcp_addr;
_Static_assert(sizeof(sfu_tcp_addr) <= sizeof(struct sockaddr_storage), "a TCP peer fits an address");

static inline void sfu_tcp_addr_make(struct sockaddr_storage *ss, socklen_t *len, uint32_t conn_id,
                                     const struct sockaddr_storage *peer, socklen_t peer_len)
{
    sfu_tcp_addr a = {.family = SFU_AF_TCP, .conn_id = conn_id};
    a.peer_len = peer_len < sizeof a.peer ? peer_len : sizeof a.peer;
    memcpy(&a.peer, peer, a.peer_len);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &a, sizeof a);
    *len = sizeof a;
}
/* The address on the wire: a TCP connection's peer, or the address itself. */
static inline const struct sockaddr *sfu_addr_wire(const struct sockaddr_storage *ss, socklen_t *len)
{
    if (ss->ss_family != SFU_AF_TCP) return (const struct sockaddr *)ss;
    const sfu_tcp_addr *a = (const sfu_tcp_addr *)ss;
    *len = a->peer_len;
    return &a->peer.sa;
}

/* Outgoing datagrams, sent with one sendmmsg (or fewer, larger GSO messages). */
typedef struct {
    struct mmsghdr msgs[SFU_TX_BATCH]; /* one plain datagram per entry (commit) */
    struct iovec iov[SFU_TX_BATCH];
    sfu_net_addr to[SFU_TX_BATCH];
    uint8_t bufs[SFU_TX_BATCH][SFU_TX_BUF];
    unsigned count;

    /* GSO regrouping, filled by sfu_tx_batch_regroup (entries grouped by destination,
     * each destination's own order kept; runs of equal sizes become one message) */
    uint16_t table[SFU_GSO_HASH];                    /* group index + 1, 0 = empty */
    uint16_t next[SFU_TX_BATCH];                     /* next entry to the same destination */
    uint16_t head[SFU_TX_BATCH], tail[SFU_TX_BATCH]; /* per group: first and last entry */
    uint16_t entry_of[SFU_TX_BATCH];                 /* gather position → entry */
    uint16_t first_of[SFU_TX_BATCH];                 /* message → its first gather position */
    uint16_t segs[SFU_TX_BATCH];                     /* message → datagrams in it */
    struct mmsghdr gmsgs[SFU_TX_BATCH];
    struct iovec giov[SFU_TX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } gcmsg[SFU_TX_BATCH];
} sfu_tx_batch;

/* The next free buffer (SFU_TX_BUF bytes), or NULL when the batch is full. */
static inline uint8_t *sfu_tx_batch_buf(sfu_tx_batch *tx)
{
    return tx->count < SFU_TX_BATCH ? tx->bufs[tx->count] : NULL;
}
/* Queues the buffer sfu_tx_batch_buf returned, `len` bytes, to `to` (copied). */
static inline void sfu_tx_batch_commit(sfu_tx_batch *tx, const struct sockaddr_storage *to, socklen_t to_len,
                                       size_t len)
{
    unsigned i = tx->count++;
    /* a fixed-size copy (two moves) rather than to_len bytes (a call): a sockaddr_storage
     * always has these bytes, whatever its family */
    memcpy(&tx->to[i], to, sizeof tx->to[i]);
    tx->iov[i].iov_base = tx->bufs[i];
    tx->iov[i].iov_len = len;
    tx->msgs[i].msg_hdr = (struct msghdr){.msg_name = &tx->to[i],
                                          .msg_namelen = to_len < sizeof tx->to[i] ? to_len : sizeof tx->to[i],
                                          .msg_iov = &tx->iov[i],
                                          .msg_iovlen = 1};
}
/* Groups the batch by destination for GSO (see udp.c); returns the number of messages
 * in tx->gmsgs, or 0 when no destination has two datagrams (send tx->msgs as they are). */
unsigned sfu_tx_batch_regroup(sfu_tx_batch *tx);

/* What one send did. */
typedef struct {
    uint64_t packets, bytes;
    uint64_t gso_sends, gso_segments; /* super-datagrams, and the datagrams they carried */
    uint64_t dropped;                 /* the socket refused them (buffer full, dead peer) */
} sfu_tx_result;

/* Datagrams received by one sfu_udp_receive. */
typedef struct {
    uint8_t bufs[SFU_RX_BATCH][SFU_RX_BUF];
    struct sockaddr_storage from[SFU_RX_BATCH];
    struct iovec iov[SFU_RX_BATCH];
    struct mmsghdr msgs[SFU_RX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctrl[SFU_RX_BATCH];
    size_t len[SFU_RX_BATCH];
    socklen_t from_len[SFU_RX_BATCH];
    bool truncated[SFU_RX_BATCH];   /* larger than SFU_PKT_MAX */
    int64_t stamp_ns[SFU_RX_BATCH]; /* kernel receive time (CLOCK_REALTIME), 0 if none */
} sfu_rx_datagrams;

typedef struct {
    int fd;
    uint16_t port;
    bool gso;       /* UDP_SEGMENT in use (compiled in, enabled, kernel accepts it) */
    bool rx_stamps; /* SO_TIMESTAMPNS set: received datagrams carry the kernel's time */
} sfu_udp;

/* Binds a non-blocking UDP socket (port 0: any). false, with a message on stderr, if not. */
bool sfu_udp_open(sfu_udp *u, const char *bind_ip, uint16_t port);
void sfu_udp_close(sfu_udp *u);
/* Up to SFU_RX_BATCH datagrams without waiting; returns how many (≤ 0: none). */
int sfu_udp_receive(sfu_udp *u, sfu_rx_datagrams *rx);
/* Sends and empties the batch, regrouped for GSO when it is on; adds to *res. */
void sfu_udp_send(sfu_udp *u, sfu_tx_batch *tx, sfu_tx_result *res);

#endif
