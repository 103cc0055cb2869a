/* The media engine's public face: the only header the signaling side includes.
 *
 * The engine runs one worker thread per configured core, each with its own UDP port.
 * Every call below is thread-safe and cheap: it enqueues a command on the owning
 * worker's control queue and returns (the worker applies it between packet batches).
 * Identifiers are chosen by the caller (signaling), unique for the engine's lifetime;
 * 0 is never a valid id. Rooms are pinned to a worker by room id.
 *
 * Events (transport connected, failed, consent lost, first media on a stream, a command
 * that could not be applied) are queued by each worker; `wake` is called from a worker thread when new events are waiting
 * (signaling passes lws_cancel_service), and sfu_poll_events drains them. */
#ifndef SFU_H
#define SFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sfu sfu;

typedef struct {
    const char *bind_ip;    /* address the UDP sockets bind to, e.g. "0.0.0.0" */
    uint16_t first_port;    /* worker i listens on first_port + i */
    int workers;            /* >= 1 */
    int consent_timeout_ms; /* drop a transport whose client stops sending checks (30000) */
    int dtls_linger_ms;     /* release the DTLS state this long after the handshake (10000) */
    int max_queue_delay_ms; /* RTP that waited longer in a worker's receive queue is dropped,
                               not forwarded late (250; < 0: never) */
    bool ice_tcp;           /* also listen for ICE-TCP (RFC 6544 passive) on one TCP port */
    uint16_t tcp_port;      /* that port (0: any free port), shared by all workers */
    bool nack_disabled;     /* no loss repair: subscribers' NACKs go unanswered, publishers are
                               sent none (a comparison switch; repair is on by default) */
} sfu_config;

typedef enum { SFU_KIND_AUDIO = 0, SFU_KIND_VIDEO = 1 } sfu_kind;
typedef enum { SFU_CODEC_OPUS = 1, SFU_CODEC_VP8 = 2, SFU_CODEC_H264 = 3 } sfu_codec;

typedef enum {
    SFU_EV_TRANSPORT_CONNECTED = 1, /* ICE bound and DTLS-SRTP keys in place */
    SFU_EV_TRANSPORT_FAILED,        /* DTLS failed (e.g. fingerprint mismatch) */
    SFU_EV_TRANSPORT_TIMEOUT,       /* ICE consent lost or never established */
    SFU_EV_STREAM_ACTIVE,           /* first RTP packet seen on a published stream */
    SFU_EV_COMMAND_FAILED,          /* an add or point call could not be applied (duplicate
                                       ufrag or id, stream limit, unknown transport, stream
                                       or room, out of memory): id is the transport it
                                       concerned, detail says what failed */
    SFU_EV_AUDIO_LEVEL,             /* every SFU_AUDIO_LEVEL_INTERVAL_MS, for each audio stream
                                       whose packets carried the RFC 6464 audio level in that
                                       interval (gated streams too): id is the stream id */
    SFU_EV_LINK,                    /* every SFU_LINK_INTERVAL_MS for each transport whose peer
                                       is connected: its link figures (ev->link) */
    SFU_EV_BANDWIDTH,               /* a transport with transport-wide congestion control
                                       (sfu_transport_set_twcc) once its peer's feedback came:
                                       its send-side bandwidth estimate, at most every
                                       SFU_BANDWIDTH_INTERVAL_MS, when it moved by 10 % or
                                       more, and at least every 5 s */
    SFU_EV_LAYERS,                  /* a simulcast stream's layers to send changed: id is the
                                       stream, layers_active which of its n_layers (bit i:
                                       layer i, lowest first) the publisher should send;
                                       a layer no slot wanted for 2 s is dropped, one wanted
                                       again comes back at once, the lowest always stays.
                                       Signaling tells the publisher (PROTOCOL.md "layers") */
    SFU_EV_SLOT_QUALITY,            /* the bandwidth allocator changed what a slot may send
                                       (sfu_transport_set_budget): id is the subscriber
                                       transport, slot_id the slot; slot_layer and
                                       slot_limit say what and why */
} sfu_event_type;

/* Why a slot gets less than it asked for (SFU_EV_SLOT_QUALITY). */
typedef enum {
    SFU_LIMIT_NONE = 0,
    SFU_LIMIT_BANDWIDTH, /* the bandwidth estimate toward the subscriber */
    SFU_LIMIT_BUDGET,    /* the site budget (sfu_transport_set_budget) */
} sfu_limit;

#define SFU_AUDIO_LEVEL_INTERVAL_MS 100
#define SFU_BANDWIDTH_INTERVAL_MS 1000
#define SFU_LINK_INTERVAL_MS 2000

/* One transport's link as the engine sees it: totals since it was created, and the last
 * reports. On a publisher's transport the losses, jitter and NACKs are of what it sends us
 * (our receiver reports), on a subscriber's of what we send it (its reports). What a
 * technician's view reads (SFU_EV_LINK). */
typedef struct {
    uint64_t packets_in, octets_in;              /* RTP that authenticated */
    uint64_t packets_out, octets_out;            /* RTP forwarded (retransmissions apart) */
    uint64_t nacks_received, nack_seqs_received; /* from the peer as a subscriber */
    uint64_t rtx_sent, rtx_missed;               /* answered; asked but no longer cached */
    uint64_t nacks_sent, nack_seqs_sent;         /* to the peer as a publisher */
    uint64_t rtx_received, lost;                 /* repaired; never came (upstream) */
    uint8_t fraction_lost;                       /* last reported, of 256: by the peer or by us */
    uint32_t jitter_us;                          /* last reported interarrival jitter */
    int64_t rtt_us;                              /* 0: not measured yet */
} sfu_link_stats;

typedef struct {
    sfu_event_type type;
    uint32_t id; /* transport id, or stream id for STREAM_ACTIVE and AUDIO_LEVEL */
    union {
        char detail[96];
        sfu_link_stats link; /* SFU_EV_LINK */
    };
    /* SFU_EV_AUDIO_LEVEL: mean loudness over the interval, 0 (−127 dBov, silence) … 127
     * (0 dBov), i.e. 127 minus the mean level field; and the share (0–100) of the
     * interval's packets whose V (voice activity) bit was set */
    uint8_t audio_level, voice_percent;
    /* SFU_EV_BANDWIDTH: what the server can send to the transport's peer (estimate), what
     * the peer acknowledged receiving over the last second, and the share lost (0–100) */
    uint32_t estimate_bps, acked_bps;
    uint8_t loss_percent;
    /* SFU_EV_LAYERS */
    uint8_t n_layers, layers_active;
    /* SFU_EV_SLOT_QUALITY: the highest layer the slot may send now (0 lowest; a stream of
     * one encoding has only 0), −1 paused; slot_layers: the source's layers (0: one
     * encoding); slot_limit: sfu_limit, NONE when nothing holds it below its request;
     * slot_frame_levels: a single-layer VP8 source's temporal levels (0: none), slot_layer
     * then the highest sent (below the top one: a reduced frame rate); slot_kbps: what
     * the allocator counts each of its layers (temporal levels) at, kbit/s (0: none). For
     * temporal levels, also sent when those rates move by a fifth (technicians' figures). */
    uint32_t slot_id;
    int8_t slot_layer;
    uint8_t slot_layers, slot_limit, slot_frame_levels;
    uint16_t slot_kbps[3]; /* SFU_MAX_LAYERS (below) */
} sfu_event;

typedef void (*sfu_wake_fn)(void *user);

/* Starts the workers. Returns NULL (with a message on stderr) if a port can't be bound. */
sfu *sfu_new(const sfu_config *cfg, sfu_wake_fn wake, void *wake_user);
void sfu_free(sfu *s); /* stops and joins the workers, frees everything */

const char *sfu_fingerprint(const sfu *s);              /* sha-256 "AB:CD:…" of the DTLS certificate */
uint16_t sfu_room_port(const sfu *s, uint32_t room_id); /* the UDP port serving a room */
/* The ICE-TCP port (one for all rooms: a connection is handed to its room's worker by the
 * ufrag of its first binding request); 0 when ICE-TCP is off. */
uint16_t sfu_tcp_port(const sfu *s);

/* A transport is one PeerConnection: ICE-lite credentials, DTLS, SRTP, one 5-tuple.
 * peer_fingerprint is "sha-256 AB:…" from the remote SDP. dtls_client: we take the DTLS
 * client role (the remote said a=setup:passive). */
void sfu_transport_add(sfu *s, uint32_t transport_id, uint32_t room_id, const char *ice_ufrag, const char *ice_pwd,
                       const char *peer_fingerprint, bool dtls_client);
/* A transport for an offer the server makes (the subscribe side) exists from the moment the
 * offer leaves: peer_fingerprint NULL above, and the client's connectivity checks are
 * answered even when they come before its answer (a busy client's usually do). Its
 * answer then names the peer: DTLS starts, and the consent clock starts (docs/CONSENT.md).
 * Called again (an answer from a new peer connection), the transport starts over with the
 * new peer: new DTLS and keys, the address the checks bound kept; its slots should be
 * removed first. */
void sfu_transport_set_peer(sfu *s, uint32_t transport_id, uint32_t room_id, const char *peer_fingerprint,
                            bool dtls_client);
void sfu_transport_remove(sfu *s, uint32_t transport_id, uint32_t room_id);
/* Transport-wide congestion control on what the server sends a transport: ext_id is the
 * id (1–14) the peer accepted for the transport-wide-cc header extension (0 turns it off). Every RTP packet sent then carries the transport's
 * sequence number, the peer's transport-cc feedback drives a bandwidth estimate, and
 * SFU_EV_BANDWIDTH reports it. Called again, the estimate starts over (a new peer). */
void sfu_transport_set_twcc(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id);
/* The other way, on what a transport's peer sends (a publisher): ext_id is the id (1–14)
 * the server accepted for the transport-wide-cc extension in its answer (0: none). The
 * server then records when each numbered packet arrives and sends transport-cc feedback
 * about them every 100 ms, so the publisher's own send-side estimate fits its encoder to
 * its uplink; a transport without it is sent a fixed REMB ceiling each second. */
void sfu_transport_set_twcc_feedback(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id);

/* The bandwidth allocator of a subscriber transport spends the lower of its bandwidth
 * estimate (set_twcc) and budget_bps (its share of a site budget; 0: none) over its slots,
 * every 100 ms: audio first, then video slots by priority (sfu_slot_set_priority), lowest
 * layers first, then the layers above; video it cannot fit is paused (its last picture
 * stays on the subscriber's screen). Each change is reported as SFU_EV_SLOT_QUALITY. */
void sfu_transport_set_budget(sfu *s, uint32_t transport_id, uint32_t room_id, uint32_t budget_bps);

/* A published stream arriving on a transport. ssrc may be 0 when the SDP did not say:
 * the stream is then bound by the RTP mid header extension (mid_ext_id, mid).
 * A simulcast stream (RFC 8853) has n_layers > 0 encodings of one source, lowest
 * resolution first, each named by its rid; its ssrc is unused and each layer's SSRC is
 * layer_ssrcs[i], or 0 to learn it from the rid header extension (rid_ext_id). Each slot
 * pointed at it receives one layer (sfu_slot_set_quality). */
#define SFU_MAX_LAYERS 3
#define SFU_RID_MAX 16
typedef struct {
    uint32_t stream_id, transport_id, room_id;
    sfu_kind kind;
    sfu_codec codec;
    uint8_t pt;         /* payload type the publisher uses */
    uint32_t ssrc;      /* 0 = learn from mid */
    uint8_t mid_ext_id; /* 0 = not negotiated */
    char mid[32];
    uint8_t audio_level_ext_id; /* RFC 6464 ssrc-audio-level extension id; 0 = not negotiated */
    bool blocked;               /* starts gated (see sfu_stream_set_forwarding) */
    uint8_t n_layers;           /* 0: one encoding (ssrc above) */
    char rids[SFU_MAX_LAYERS][SFU_RID_MAX];
    uint32_t layer_ssrcs[SFU_MAX_LAYERS];
    uint8_t rid_ext_id, repaired_rid_ext_id; /* 0 = not negotiated */
    /* RFC 4588: the publisher's retransmission stream (video), unwrapped into this one;
     * rtx_ssrc 0 = learn it from the mid extension of packets with rtx_pt; rtx_pt 0 = none.
     * A simulcast stream's layers each have their own RTX SSRC, learnt from the
     * repaired-rid extension (repaired_rid_ext_id); rtx_ssrc is not used for them. */
    uint32_t rtx_ssrc;
    uint8_t rtx_pt;
    /* RFC 2198 RED of an audio stream: the payload type the publisher sends Opus wrapped
     * in RED with (its blocks carry pt), 0 = none; plain Opus (pt) is accepted beside it */
    uint8_t red_pt;
} sfu_stream_desc;
void sfu_stream_add(sfu *s, const sfu_stream_desc *desc);
void sfu_stream_remove(sfu *s, uint32_t stream_id, uint32_t room_id);
/* The gate of a published stream: while closed, its RTP is dropped at the worker right
 * after it is authenticated (counted as SFU_DROP_NOT_ALLOWED) and reaches no slot, whatever
 * the client sends; audio levels are still measured. Opening it requests a keyframe for a
 * video stream. Roles and floor control (signaling) decide; the engine only obeys. */
void sfu_stream_set_forwarding(sfu *s, uint32_t stream_id, uint32_t room_id, bool forward);

/* A slot is one sending m-line of a subscriber transport with a fixed SSRC. It can be
 * pointed at any stream of the same kind in the same room (or at none) without SDP
 * renegotiation: the worker keeps sequence numbers and timestamps continuous across
 * the switch and requests a keyframe from the new source. */
void sfu_slot_add(sfu *s, uint32_t slot_id, uint32_t transport_id, uint32_t room_id, sfu_kind kind, uint32_t out_ssrc);
/* out_pt: payload type to send with (the one the subscription SDP gives the codec). */
void sfu_slot_point(sfu *s, uint32_t slot_id, uint32_t room_id, uint32_t stream_id, uint8_t out_pt);
void sfu_slot_remove(sfu *s, uint32_t slot_id, uint32_t room_id);
/* The quality a slot asks for (what its tile needs); kept across re-pointing. From a
 * simulcast stream the slot gets the layer it maps to (low: the lowest, medium: the
 * middle one, high: the highest), never one the publisher is not sending, switching only
 * at a keyframe of the new layer; OFF forwards nothing (any stream) until asked again.
 * max_temporal_layer: VP8 packets with a higher TID are not forwarded (0xff: all). New
 * slots ask for HIGH. */
typedef enum { SFU_QUALITY_OFF = 0, SFU_QUALITY_LOW, SFU_QUALITY_MEDIUM, SFU_QUALITY_HIGH } sfu_quality;
void sfu_slot_set_quality(sfu *s, uint32_t slot_id, uint32_t room_id, sfu_quality quality, uint8_t max_temporal_layer);
/* A video slot's place in its transport's bandwidth allocation: smaller first (0 default,
 * ties in slot order). Signaling ranks by what the slot shows (floor, screen, chair,
 * gallery) in the room's order. */
void sfu_slot_set_priority(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t priority);

/* RFC 4588 retransmissions of a video slot: the SSRC they are sent with and the RTX payload
 * type for each payload type the slot may send (apt). A slot without (ssrc 0, the default)
 * answers a NACK by resending the packet as it was. */
#define SFU_RTX_MAX_PTS 4
typedef struct {
    uint32_t ssrc;
    uint8_t n_pts;
    uint8_t apt[SFU_RTX_MAX_PTS], pt[SFU_RTX_MAX_PTS];
} sfu_slot_rtx;
void sfu_slot_set_rtx(sfu *s, uint32_t slot_id, uint32_t room_id, const sfu_slot_rtx *rtx);

/* RFC 2198 RED on an audio slot: the payload type the subscriber's answer gave RED, 0 (the
 * default) if it did not take it. A RED packet from the source goes to a RED slot as it is
 * (its block payload types those of the slot's Opus) and to any other stripped to its
 * primary block, plain Opus; plain Opus goes to both as it is. */
void sfu_slot_set_red(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t red_pt);

/* Drains up to max events; returns how many were written. Call from the signaling thread. */
size_t sfu_poll_events(sfu *s, sfu_event *out, size_t max);

/* Why a datagram was dropped; sfu_stats.drops is indexed by it. */
typedef enum {
    SFU_DROP_MALFORMED,      /* not STUN/DTLS/RTP/RTCP, truncated, unparsable */
    SFU_DROP_UNKNOWN_SOURCE, /* from an address no transport is bound to, or an unknown SSRC */
    SFU_DROP_STUN_AUTH,      /* STUN with an unknown ufrag or a bad MESSAGE-INTEGRITY */
    SFU_DROP_SRTP,           /* SRTP/SRTCP that did not authenticate, or could not be protected */
    SFU_DROP_DTLS,           /* DTLS for a transport whose DTLS state is gone */
    SFU_DROP_TX_FULL,        /* the socket refused outgoing datagrams (buffer full, dead peer) */
    SFU_DROP_LATE,           /* RTP older than max_queue_delay_ms when the worker read it */
    SFU_DROP_NOT_ALLOWED,    /* RTP of a stream whose gate is closed (no grant, no floor, muted by the chair) */
    SFU_DROP_TCP_FULL,       /* a packet for an ICE-TCP connection whose output buffer was full (or that is gone) */
    SFU_DROP_REASONS
} sfu_drop_reason;
const char *sfu_drop_reason_name(sfu_drop_reason r); /* "malformed", "tx_full" … */

/* Counters summed over workers (each read atomically; approximate while running). */
typedef struct {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
    uint64_t rtp_forwarded;
    uint64_t drops[SFU_DROP_REASONS];
    uint64_t transports, streams, slots;
    uint64_t tx_gso_sends;    /* UDP GSO super-datagrams (their datagrams are in tx_packets) */
    uint64_t tx_gso_segments; /* datagrams those super-datagrams carried */
    /* ICE-TCP: connections open now; accepted by the listener; refused by it (no valid
     * first binding request in time, unknown ufrag, too many waiting; a peer that closes
     * before sending a byte is not refused); closed by a worker
     * for junk (a frame too long, or not STUN/DTLS/RTP/RTCP) */
    uint64_t tcp_connections, tcp_accepted, tcp_refused, tcp_closed_bad;
    /* keyframe requests: PLI and FIR entries from subscribers; PLIs sent to publishers
     * (after the per-stream throttle) */
    uint64_t keyframe_requests_in, keyframe_requests_out;
} sfu_stats;
void sfu_get_stats(const sfu *s, sfu_stats *out);

/* One worker's share of sfu_stats (tcp_accepted and tcp_refused stay 0: the listener is
 * shared) and the CPU time its thread has used so far (ns; 0 if the system cannot say),
 * for a per-worker load figure. false for an index ≥ sfu_worker_count. */
int sfu_worker_count(const sfu *s);
bool sfu_get_worker_stats(const sfu *s, int worker, sfu_stats *out, uint64_t *cpu_ns);

/* Fills buf with `len` random characters from the ICE alphabet [A-Za-z0-9+/] and a NUL
 * (OpenSSL RAND_bytes): ICE credentials and other tokens. */
void sfu_random_string(char *buf, size_t len);

#endif
