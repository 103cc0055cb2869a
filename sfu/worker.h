/* One media worker: a thread that owns one UDP socket and every transport, stream and
 * slot of the rooms pinned to it. Nothing here is shared with other threads except the
 * control queue (commands in) and the engine's event queue (events out); counters are
 * plain integers that the stats reader reads without locks.
 *
 * Internal to sfu/: the signaling side only sees sfu.h. */
#ifndef SFU_WORKER_H
#define SFU_WORKER_H

#include <glib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "arena_thread.h"
#include "dtls/dtls.h"
#include "ice/ice_lite.h"
#include "rtp/rtp.h"
#include "srtp/gcm_sender.h"
#include "sfu.h"
#include "srtp/srtp_session.h"

#define SFU_RX_BATCH 64     /* datagrams per recvmmsg */
#define SFU_TX_BATCH 256    /* datagrams per sendmmsg (a fan-out may span several) */
#define SFU_PKT_MAX 1500    /* largest datagram we accept or send */
#define SFU_TX_BUF (SFU_PKT_MAX + SFU_SRTP_MAX_TRAILER)
#define SFU_MAX_STREAMS_PER_TRANSPORT 8

typedef struct sfu_worker sfu_worker;
typedef struct sfu_transport sfu_transport;
typedef struct sfu_stream sfu_stream;
typedef struct sfu_slot sfu_slot;

/* A peer's address in a form that hashes and compares by value. */
typedef struct {
    sa_family_t family;
    in_port_t port;
    uint8_t addr[16];
} sfu_addr_key;

struct sfu_transport {
    uint32_t id, room_id;
    sfu_worker *worker;
    char ufrag[SFU_ICE_UFRAG_MAX + 1];
    char pwd[128];
    char peer_fingerprint[160];
    bool dtls_client;

    /* ICE: the address the client's nominated (or first valid) check came from */
    bool has_addr;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    sfu_addr_key addr_key;
    int64_t created_us, last_check_us, connected_us;

    sfu_dtls *dtls;        /* released dtls_linger_ms after the handshake */
    sfu_srtp *srtp;        /* set once DTLS is connected */
    bool timeout_reported;
    uint32_t rtcp_ssrc;    /* the SSRC our feedback (PLI, REMB) is sent with */

    sfu_stream *streams[SFU_MAX_STREAMS_PER_TRANSPORT]; /* published on this transport */
    size_t n_streams;
    GPtrArray *slots;      /* sfu_slot*: subscriptions sent on this transport */
    uint32_t slots_made;   /* spreads slots over the SRTP outbound groups */
};

struct sfu_stream {
    sfu_stream_desc desc;   /* desc.ssrc is filled in when learnt from the mid extension */
    sfu_transport *transport;
    GPtrArray *slots;       /* sfu_slot* pointed at this stream */
    bool active_reported;
    /* this receive batch's packets of the stream (see sfu_rx_pending) */
    uint32_t batch_no;
    uint16_t batch_first, batch_last, batch_count;
    int64_t last_keyframe_request_us;
    uint8_t fir_seq;
};

struct sfu_slot {
    uint32_t id, room_id;
    sfu_transport *transport;
    sfu_kind kind;
    uint32_t out_ssrc;
    uint8_t out_pt;
    uint8_t srtp_group;     /* outbound SRTP group of out_ssrc, fixed (srtp_session.h) */
    sfu_srtp_tx_index srtp_index; /* out_ssrc's SRTP packet index state (gcm_sender.h) */
    sfu_stream *source;
    /* continuity across source switches: out = in + offset */
    bool resync;            /* next forwarded packet re-bases the offsets */
    bool wait_keyframe;     /* video: drop until the new source's next keyframe */
    bool sent_any;
    uint16_t seq_offset;
    uint32_t ts_offset;
    uint16_t last_seq;      /* highest sequence number sent */
    uint32_t last_ts;
    int64_t last_sent_us;
};

/* Plain per-worker counters (see sfu_stats). */
typedef struct {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rtp_forwarded;
    uint64_t drop_malformed, drop_unknown_source, drop_stun_auth, drop_srtp, drop_dtls,
        drop_no_route, drop_tx_full, drop_late;
    uint64_t tx_gso_sends, tx_gso_segments; /* super-datagrams sent, datagrams they carried */
} sfu_counters;

/* UDP GSO (UDP_SEGMENT): the flush may send a run of equal-size datagrams to one
 * destination as one super-datagram. SFU_GSO=0 compiles it out; DIEMCAU_GSO=0/1 in the
 * environment switches it at start; a kernel that refuses UDP_SEGMENT turns it off. */
#ifndef SFU_GSO
#define SFU_GSO 1
#endif
#ifndef SFU_GSO_DEFAULT
#define SFU_GSO_DEFAULT 1   /* used when DIEMCAU_GSO is unset (see bench/RESULTS.md) */
#endif
#define SFU_GSO_MAX_SEGS 64        /* kernel limit UDP_MAX_SEGMENTS */
#define SFU_GSO_MAX_BYTES 65000    /* payload of one super-datagram, below the 64 KiB IP limit */
#define SFU_GSO_HASH 512           /* open-addressing table, ≥ 2 × SFU_TX_BATCH */

/* Outgoing datagrams collected during one receive batch, sent with one sendmmsg. */
typedef struct {
    struct mmsghdr msgs[SFU_TX_BATCH];   /* one plain datagram per entry (tx_commit) */
    struct iovec iov[SFU_TX_BATCH];
    uint8_t bufs[SFU_TX_BATCH][SFU_TX_BUF];
    unsigned count;

    /* GSO regrouping, filled by the flush (entries grouped by destination, each
     * destination's own order kept; runs of equal sizes become one message) */
    uint16_t table[SFU_GSO_HASH];        /* group index + 1, 0 = empty */
    uint16_t next[SFU_TX_BATCH];         /* next entry to the same destination */
    uint16_t head[SFU_TX_BATCH], tail[SFU_TX_BATCH]; /* per group: first and last entry */
    uint16_t entry_of[SFU_TX_BATCH];     /* gather position → entry */
    uint16_t first_of[SFU_TX_BATCH];     /* message → its first gather position */
    uint16_t segs[SFU_TX_BATCH];         /* message → datagrams in it */
    struct mmsghdr gmsgs[SFU_TX_BATCH];
    struct iovec giov[SFU_TX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } gcmsg[SFU_TX_BATCH];
} sfu_tx_batch;

/* An RTP packet of the current receive batch, decrypted and parsed, waiting to be fanned
 * out. The fan-out runs once per batch, stream by stream and then subscriber by
 * subscriber, so that each subscriber's packets of a batch leave back to back: the flush
 * can then send them as one GSO super-datagram, which at large fan-outs is the only way
 * two packets for one receiver ever meet in a send batch. */
typedef struct {
    uint8_t *buf;           /* the receive buffer, valid until the next recvmmsg */
    size_t len;
    sfu_rtp_header h;
    bool keyframe;
    uint8_t pad;            /* RTP padding to add so the run has one size (router.c) */
    uint16_t next;          /* next pending packet of the same stream, in arrival order */
} sfu_rx_pending;

typedef struct {
    sfu_rx_pending pkts[SFU_RX_BATCH];
    unsigned count;
    sfu_stream *streams[SFU_RX_BATCH]; /* streams with pending packets, first-seen order */
    unsigned n_streams;
    uint32_t batch_no;      /* stamps sfu_stream.batch_no; 0 is never used */
} sfu_rx_batch;

struct sfu_worker {
    sfu *engine;
    int index;
    int fd;
    uint16_t port;
    int wake_fd;            /* eventfd: commands are waiting */
    pthread_t thread;
    volatile bool stop;
    bool thread_started;

    pthread_mutex_t cmd_lock;
    GQueue cmd_queue;       /* struct sfu_cmd* */

    sfu_ice_agent *ice;
    sfu_arena_thread *dtls_thread;   /* runs the transports' DTLS calls (arena_thread.h) */
    GHashTable *transports;          /* id → sfu_transport* (owns) */
    GHashTable *transports_by_ufrag; /* char* → sfu_transport* */
    GHashTable *transports_by_addr;  /* sfu_addr_key* → sfu_transport* */
    GHashTable *streams;             /* id → sfu_stream* (owns) */
    GHashTable *slots;               /* id → sfu_slot* (owns) */

    sfu_tx_batch *tx;
    sfu_rx_batch rx;
    bool gso;               /* UDP_SEGMENT in use (compiled in, enabled, kernel accepts it) */
    sfu_counters counters;
    int64_t next_tick_us, next_remb_us;
    bool released_memory;   /* DTLS states or transports were freed: give the pages back */
    int64_t next_trim_us;   /* at most one malloc_trim per SFU_TRIM_INTERVAL_US */
    int64_t now_us;         /* monotonic time, read once per receive batch */
    int64_t max_queue_delay_ns; /* sfu_config.max_queue_delay_ms; 0: no limit */
};

/* A control command from the signaling thread, applied by the worker between batches. */
typedef enum {
    SFU_CMD_TRANSPORT_ADD,
    SFU_CMD_TRANSPORT_REMOVE,
    SFU_CMD_STREAM_ADD,
    SFU_CMD_STREAM_REMOVE,
    SFU_CMD_SLOT_ADD,
    SFU_CMD_SLOT_POINT,
    SFU_CMD_SLOT_REMOVE,
} sfu_cmd_type;

typedef struct {
    sfu_cmd_type type;
    uint32_t id, room_id, target_id; /* target: transport of a slot, stream of a pointing */
    sfu_kind kind;
    uint32_t ssrc;
    uint8_t pt;
    bool dtls_client;
    char ufrag[SFU_ICE_UFRAG_MAX + 1], pwd[128], fingerprint[160];
    sfu_stream_desc stream;
} sfu_cmd;

/* worker.c */
void sfu_worker_post(sfu_worker *w, const sfu_cmd *cmd); /* any thread */
sfu_worker *sfu_worker_new(sfu *engine, int index, const char *bind_ip, uint16_t port);
bool sfu_worker_start(sfu_worker *w);
void sfu_worker_free(sfu_worker *w); /* stops the thread first */
int64_t sfu_now_us(void);
/* Queues one datagram to `to`; returns the buffer to fill (SFU_TX_BUF bytes) or NULL if the
 * batch is full even after a flush. sfu_worker_tx_commit sets its length. */
uint8_t *sfu_worker_tx_slot(sfu_worker *w);
/* Flushes first unless n more datagrams fit the batch: keeps a run for one receiver in
 * one sendmmsg (n ≤ SFU_TX_BATCH). */
void sfu_worker_tx_reserve(sfu_worker *w, unsigned n);
void sfu_worker_tx_commit(sfu_worker *w, const struct sockaddr_storage *to, socklen_t to_len, size_t len);
void sfu_worker_tx_flush(sfu_worker *w);
void sfu_worker_send_now(sfu_worker *w, const struct sockaddr_storage *to, socklen_t to_len,
                         const uint8_t *data, size_t len);

/* transport.c: ICE, DTLS and SRTP of one PeerConnection */
sfu_transport *sfu_transport_new(sfu_worker *w, uint32_t id, uint32_t room_id, const char *ufrag,
                                 const char *pwd, const char *peer_fp, bool dtls_client);
void sfu_transport_destroy(sfu_transport *t); /* unlinks its streams and slots too */
void sfu_transport_on_stun(sfu_worker *w, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from, socklen_t from_len);
void sfu_transport_on_dtls(sfu_transport *t, const uint8_t *buf, size_t len);
void sfu_transport_tick(sfu_transport *t, int64_t now_us);
sfu_transport *sfu_transport_by_addr(sfu_worker *w, const struct sockaddr_storage *from);

/* router.c: streams, slots and the forwarding of RTP and RTCP */
sfu_stream *sfu_stream_create(sfu_worker *w, const sfu_stream_desc *desc);
void sfu_stream_destroy(sfu_stream *st);
sfu_slot *sfu_slot_create(sfu_worker *w, uint32_t id, uint32_t room_id, uint32_t transport_id,
                          sfu_kind kind, uint32_t out_ssrc);
void sfu_slot_destroy(sfu_slot *slot);
void sfu_slot_set_source(sfu_slot *slot, sfu_stream *source, uint8_t out_pt);
void sfu_router_on_rtp(sfu_transport *t, uint8_t *buf, size_t len); /* queues into w->rx */
void sfu_router_fan_out(sfu_worker *w); /* forwards what the batch queued; end of each batch */
void sfu_router_on_rtcp(sfu_transport *t, uint8_t *buf, size_t len);
void sfu_router_tick(sfu_worker *w, int64_t now_us);

/* sfu.c: the engine side the workers call */
void sfu_emit_event(sfu *s, sfu_event_type type, uint32_t id, const char *detail);
int sfu_consent_timeout_ms(const sfu *s);
int sfu_dtls_linger_ms(const sfu *s);
int sfu_max_queue_delay_ms(const sfu *s);
sfu_worker *sfu_engine_worker(const sfu *s, uint32_t room_id); /* the worker a room is pinned to */
sfu_dtls_cert *sfu_engine_cert(const sfu *s);

#endif
