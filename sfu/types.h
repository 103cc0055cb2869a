/* The engine's objects, types only: one worker's in-memory core (its tables, batches,
 * counters, settings and event queue), transports, streams and slots. The router and
 * the transports include this, not the worker loop. Internal to sfu/. */
#ifndef SFU_TYPES_H
#define SFU_TYPES_H

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "allocator.h"
#include "arena_thread.h"
#include "dtls/dtls.h"
#include "events.h"
#include "ice/ice_lite.h"
#include "layer_pause.h"
#include "net/udp.h"
#include "rtp/recv_stats.h"
#include "rtp/red.h"
#include "rtp/rtp.h"
#include "rtp/twcc_arrivals.h"
#include "rtx_cache.h"
#include "sfu.h"
#include "srtp/gcm_sender.h"
#include "srtp/srtp_session.h"

_Static_assert(SFU_SRTP_MAX_TRAILER <= SFU_NET_SPARE, "batch buffers must hold the SRTP trailer");

#define SFU_MAX_STREAMS_PER_TRANSPORT 8

typedef struct sfu_core sfu_core;
typedef struct sfu_transport sfu_transport;
typedef struct sfu_stream sfu_stream;
typedef struct sfu_slot sfu_slot;


/* What a video slot sent, by out sequence number modulo SFU_SLOT_SENT (repair.c): which
 * layer's packet it was and the offsets it went out with, so a subscriber's NACK is
 * answered with exactly that packet, renumbered as it was, whatever switches and
 * temporal-layer drops moved the offsets since. 12 octets an entry; 256 cover 1.5 s of
 * a 1.5 Mbit/s layer, more than the caches keep. */
#define SFU_SLOT_SENT 256
#define SFU_SLOT_SENT_NONE 0xff /* layer of an empty entry */
typedef struct {
    uint16_t out_seq, in_seq;
    uint32_t ts_offset;
    uint16_t pid_offset; /* VP8 picture id and TL0PICIDX offsets (simulcast) */
    uint8_t tl0_offset;
    uint8_t layer; /* of the slot's source (0 for a single stream); SFU_SLOT_SENT_NONE: empty */
} sfu_slot_sent;

/* A slot's NACK answering state (repair.c). */
#define SFU_SLOT_RESENT 64
typedef struct {
    sfu_slot_rtx rtx;
    uint16_t rtx_seq;
    sfu_srtp_tx_index rtx_srtp_index;
    sfu_slot_sent *sent; /* [SFU_SLOT_SENT], video slots; cleared when re-pointed */
    struct {
        uint16_t seq;
        int64_t at_us;
    } resent[SFU_SLOT_RESENT]; /* by out seq modulo: one resend per seq per RTT */
    uint32_t sr_lsr;           /* middle NTP bits of the last SR relayed, and when (RTT) */
    int64_t sr_sent_us;
} sfu_slot_repair;

struct sfu_transport {
    uint32_t id, room_id;
    sfu_core *core;
    char ufrag[SFU_ICE_UFRAG_MAX + 1];
    char pwd[128];
    char peer_fingerprint[160];
    bool dtls_client;

    /* ICE: the address the client's nominated (or first valid) check came from */
    bool has_addr;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    sfu_addr_key addr_key;
    /* consent (RFC 7675): the last authenticated sign of life, a connectivity check or an
     * SRTP/SRTCP/DTLS datagram from the bound address that authenticated; the clock starts
     * when the peer is known (peer_set_us: the answer), not before */
    int64_t peer_set_us, last_alive_us, connected_us;
    int64_t last_check_us; /* the last valid connectivity check (0: none yet), for the timeout's wording */

    sfu_dtls *dtls; /* released dtls_linger_ms after the handshake */
    sfu_srtp *srtp; /* set once DTLS is connected */
    bool timeout_reported;
    uint32_t rtcp_ssrc; /* the SSRC our feedback (PLI, REMB) is sent with */

    sfu_stream *streams[SFU_MAX_STREAMS_PER_TRANSPORT]; /* published on this transport */
    size_t n_streams;
    GPtrArray *slots;    /* sfu_slot*: subscriptions sent on this transport */
    uint32_t slots_made; /* spreads slots over the SRTP outbound groups */

    /* transport-wide congestion control on what we send (router.c), NULL if off */
    struct sfu_bwe *bwe;
    uint8_t twcc_ext_id;
    int64_t bwe_reported_us;
    uint32_t bwe_reported_bps;
    /* …and on what the peer sends us (uplink.c): arrivals to feed back, NULL if off */
    sfu_twcc_arrivals *arrivals;
    uint8_t twcc_in_ext_id;
    sfu_link_stats link;
    /* what its slots may spend (transport_budget.c): the site budget's share (0: none) */
    uint32_t site_budget_bps;
    sfu_alloc_transport alloc;
};

/* Loss repair of one RTP source of a stream, the stream itself or one of its simulcast
 * layers (repair.c): what a subscriber's NACK is answered from, what is NACKed upstream
 * and reported, and the publisher's RTX SSRC that repairs it. */
typedef struct {
    sfu_rtx_cache *cache; /* video */
    sfu_recv_stats recv;
    uint32_t rtx_ssrc; /* announced (a=ssrc-group:FID) or learnt (mid, repaired-rid); 0: not yet */
} sfu_source_repair;

/* One simulcast layer of a stream as it arrives (simulcast.c); a stream of one encoding
 * measures its rate in layers[0] too (the allocator reads it). */
typedef struct {
    int64_t last_rx_us;               /* its last packet: a layer quiet for a while is not offered */
    int64_t last_keyframe_request_us; /* PLIs are throttled per layer */
    uint32_t octets;                  /* received this second */
    uint32_t bps;                     /* smoothed over the last seconds (simulcast.c) */
} sfu_stream_layer;

/* A single-layer VP8 stream's temporal layers as they arrive (temporal.c): octets by the
 * descriptor's TID (higher TIDs counted in the last), each level's rate, its last packet. */
#define SFU_TEMPORAL_LEVELS 3
typedef struct {
    uint32_t octets[SFU_TEMPORAL_LEVELS]; /* received this second */
    uint32_t bps[SFU_TEMPORAL_LEVELS];    /* smoothed over the last seconds (TID i alone) */
    int64_t last_rx_us[SFU_TEMPORAL_LEVELS];
    int64_t since_us; /* the second being counted began */
} sfu_stream_temporal;

struct sfu_stream {
    sfu_stream_desc desc; /* desc.ssrc (desc.layer_ssrcs) is filled in when learnt from the
                             mid (rid) extension; desc.blocked is the gate as it is now */
    sfu_transport *transport;
    GPtrArray *slots; /* sfu_slot* pointed at this stream */
    bool active_reported;
    /* RFC 6464 audio levels of this interval (SFU_EV_AUDIO_LEVEL): the sum of the
     * loudness (127 − level), the packets that carried a level, those with the V bit */
    uint32_t level_sum, level_packets, voice_packets;
    /* this receive batch's packets of the stream (see sfu_rx_pending) */
    uint32_t batch_no;
    uint16_t batch_first, batch_last, batch_count;
    int64_t last_keyframe_request_us;
    sfu_stream_layer layers[SFU_MAX_LAYERS]; /* desc.n_layers of them */
    int64_t layers_rate_since_us;
    sfu_stream_temporal temporal;             /* a single-layer VP8 stream's temporal layers */
    sfu_layer_pause pause;                    /* which layers the publisher is told to send */
    sfu_source_repair repair[SFU_MAX_LAYERS]; /* [0] of a single stream, [layer] of a simulcast one */
};

/* What a slot asks of a simulcast source and which layer it gets (simulcast.c). The
 * layer's own sequence numbers and timestamps go through the slot's offsets (rebase in
 * router.c); VP8 picture ids and TL0PICIDX through the offsets here, re-based at each
 * switch, and reduced by the frames a temporal-layer cap leaves out. */
typedef struct {
    uint8_t quality; /* sfu_quality */
    uint8_t max_tid; /* VP8 temporal layers above are not forwarded */
    int8_t current;  /* layer forwarded now; -1: none yet */
    int8_t target;   /* layer wanted; forwarding moves to it at its next keyframe; -1: off */
    int8_t wanted;   /* the layer it would take were every layer arriving (keeps a paused
                        layer's slot from waiting on it forever: simulcast.c); -1: off */
    bool vp8_sent;   /* last_pid/last_tl0 are set */
    uint16_t pid_offset, last_pid, next_in_pid;
    uint8_t tl0_offset, last_tl0;
    uint16_t next_in_seq; /* the current layer's next sequence number (temporal dropping) */
    bool paused;          /* the allocator's pause: nothing forwarded, the request kept */
    /* a single-layer VP8 source's temporal cap (temporal.c; 0xff: none): the allocator's
     * choice, taken on at the next frame start (tid_now), so no frame goes half out */
    uint8_t tid_cap, tid_now;
    uint8_t tid_alloc;    /* the allocator's part of tid_cap (max_tid the subscriber's) */
    uint8_t frame_levels; /* the source's temporal levels the allocator last chose among */
} sfu_slot_layers;

struct sfu_slot {
    uint32_t id, room_id;
    sfu_transport *transport;
    sfu_kind kind;
    uint32_t out_ssrc;
    uint8_t out_pt;
    uint8_t out_red_pt;           /* RFC 2198: the subscriber's RED payload type, 0: RED stripped (red_forward.h) */
    uint8_t srtp_group;           /* outbound SRTP group of out_ssrc, fixed (srtp_session.h) */
    sfu_srtp_tx_index srtp_index; /* out_ssrc's SRTP packet index state (gcm_sender.h) */
    sfu_stream *source;
    /* continuity across source switches: out = in + offset */
    bool resync; /* next forwarded packet re-bases the offsets */
    bool sent_any;
    uint16_t seq_offset;
    uint32_t ts_offset;
    uint16_t last_seq; /* highest sequence number sent */
    uint32_t last_ts;
    int64_t last_sent_us;
    sfu_slot_layers layers;
    sfu_slot_repair repair;
    uint8_t priority;     /* the allocator's order among the transport's video slots (smaller first) */
    sfu_alloc_slot alloc; /* the allocator's level for it (transport_budget.c) */
    uint16_t reported_kbps[SFU_ALLOC_MAX_LAYERS]; /* the layer rates last reported with it */
};

/* One worker's counters (see sfu_stats). Written by the worker thread only, read by
 * sfu_get_stats from another: atomics, relaxed. */
typedef struct {
    _Atomic uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rtp_forwarded;
    _Atomic uint64_t drops[SFU_DROP_REASONS];
    _Atomic uint64_t tx_gso_sends, tx_gso_segments;
    _Atomic uint64_t transports, streams, slots;      /* in the tables now */
    _Atomic uint64_t tcp_connections, tcp_closed_bad; /* ICE-TCP: open now, closed as junk */
    /* keyframe requests: PLI/FIR from subscribers, PLIs sent to publishers */
    _Atomic uint64_t keyframe_requests_in, keyframe_requests_out;
} sfu_counters;

/* An RTP packet of the current receive batch, decrypted and parsed, waiting to be fanned
 * out. The fan-out runs once per batch, stream by stream and then subscriber by
 * subscriber, so that each subscriber's packets of a batch leave back to back: the send
 * can then carry them as one GSO super-datagram, which at large fan-outs is the only way
 * two packets for one receiver ever meet in a send batch. */
typedef struct {
    uint8_t *buf; /* the receive buffer, valid until the batch ends */
    size_t len;
    sfu_rtp_header h;
    bool keyframe;
    uint8_t pad;            /* RTP padding to add so the run has one size (router.c) */
    uint8_t layer;          /* simulcast layer of the packet's SSRC (0 for other streams) */
    sfu_vp8_descriptor vp8; /* parsed for VP8 streams (vp8.has_* false otherwise) */
    uint16_t next;          /* next pending packet of the same stream, in arrival order */
    sfu_red_info red;       /* a RED packet's blocks, when is_red (red_forward.h) */
    bool is_red;
} sfu_rx_pending;

typedef struct {
    sfu_rx_pending pkts[SFU_RX_BATCH];
    unsigned count;
    sfu_stream *streams[SFU_RX_BATCH]; /* streams with pending packets, first-seen order */
    unsigned n_streams;
    uint32_t batch_no; /* stamps sfu_stream.batch_no; 0 is never used */
} sfu_rx_batch;

/* What a worker is given at creation (handed down, never asked for upward). */
typedef struct {
    int index;              /* names threads */
    int consent_timeout_ms; /* > 0 */
    int dtls_linger_ms;     /* > 0 */
    int max_queue_delay_ms; /* ≤ 0: no limit */
    bool nack_disabled;     /* sfu_config.nack_disabled */
    sfu_dtls_cert *cert;    /* borrowed; outlives the core */
    sfu_wake_fn wake;       /* called when events are waiting */
    void *wake_user;
} sfu_core_settings;

/* Called when the send batch is full: the owner sends and empties it (the worker), or
 * keeps what it holds (a test). The core itself never sends. */
typedef void (*sfu_tx_full_fn)(void *user, sfu_tx_batch *tx);
/* Queues one packet to an ICE-TCP connection of the owner (net/udp.h SFU_AF_TCP); false
 * if it could not (its buffer is full, or it is gone). */
typedef bool (*sfu_tcp_send_fn)(void *user, uint32_t conn_id, const uint8_t *data, size_t len);

/* One worker's engine without its socket and thread: everything the packet path and the
 * commands touch. Only the worker's thread uses it (events and counters excepted). */
struct sfu_core {
    sfu_core_settings cfg;
    sfu_ice_agent *ice;
    sfu_arena_thread *dtls_thread;   /* runs the transports' DTLS calls (arena_thread.h) */
    GHashTable *transports;          /* id → sfu_transport* (owns) */
    GHashTable *transports_by_ufrag; /* char* → sfu_transport* */
    GHashTable *transports_by_addr;  /* sfu_addr_key* → sfu_transport* */
    GHashTable *streams;             /* id → sfu_stream* (owns) */
    GHashTable *slots;               /* id → sfu_slot* (owns) */

    sfu_tx_batch *tx;
    sfu_tx_full_fn tx_full;
    void *tx_full_user;
    bool pad_for_gso;         /* the sender regroups for GSO: pad runs to one size */
    sfu_tcp_send_fn tcp_send; /* NULL: no ICE-TCP (set by the owner after creation) */
    void *tcp_send_user;
    sfu_rx_batch rx;
    sfu_event_queue events;
    sfu_counters counters;
    int64_t now_us; /* the clock, given by the owner (once per receive batch) */
    /* the datagram being handled: when the kernel received it on the same clock (0: now_us),
     * set by the owner before each sfu_core_on_datagram (transport-cc feedback) */
    int64_t rx_arrival_us;
    int64_t next_remb_us, next_uplink_feedback_us, next_audio_level_us, next_bandwidth_us, next_report_us, next_link_us;
    bool released_memory; /* DTLS states or transports were freed: give the pages back */
};

#endif
