/* The generator's media threads: send synthetic media for every publishing connection
 * and receive and check everything the subscribing connections get.
 *
 * Two threads, each with an epoll over its own peer sockets: the sender owns the
 * publishing connections and sends on schedule (nanosecond timeouts, real-time priority
 * when allowed), the receiver owns the subscribing ones. Each ready socket is drained with
 * recvmmsg (kernel receive timestamps via SO_TIMESTAMPNS, socket overflow counts via
 * SO_RXQ_OVFL), each publisher's due packets go out with one sendmmsg. Loss and latency
 * come from the send record in the clear header extension (gen.h); one packet in
 * `decrypt_every` is also SRTP-decrypted and its payload record checked against it.
 *
 * Peers are handed over once connected (dc_peer_connect_all) from the signaling thread;
 * the media threads own their sockets from then on (and keep ICE consent fresh). */
#ifndef BENCH_MEDIA_H
#define BENCH_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

/* Who "speaks" when: publisher pub_index's audio packets carry a voice level (RFC 6464, V
 * set, −20 dBov) from start_ms to end_ms after the window begins; outside every segment,
 * and before the window, they carry silence (127). */
typedef struct {
    int64_t start_ms, end_ms;
    size_t pub_index;
} bench_speech;

/* A subscriber's slots (its subscribe connection's m-lines) and what arrived on each,
 * found by the SSRC the server gave the slot. Owned by the caller: n and ssrc set before
 * bench_media_add_sub (the first offer's; the bench adds no slots later), the rest written
 * by the receiving thread and read after bench_media_finish. */
#define BENCH_MAX_SLOTS 64
#define BENCH_SLOT_SEEN 16
typedef struct {
    size_t n;
    uint32_t ssrc[BENCH_MAX_SLOTS];
    uint64_t packets[BENCH_MAX_SLOTS];               /* RTP received on the slot, all */
    uint64_t window_packets[BENCH_MAX_SLOTS];        /* … in the window */
    uint16_t seen[BENCH_MAX_SLOTS][BENCH_SLOT_SEEN]; /* distinct streams (records) it carried */
    uint8_t n_seen[BENCH_MAX_SLOTS];
    bool seen_overflow[BENCH_MAX_SLOTS];
    uint64_t off_slot; /* RTP on an SSRC none of its slots has: more streams than slots */
} bench_slot_rx;

typedef struct {
    size_t n_publishers; /* stream ids are publisher index * 2 + kind */
    uint32_t video_bps;
    unsigned fps, keyframe_s;
    bool audio, video;
    unsigned decrypt_every;     /* 1 = every packet, 0 = never */
    bool vary_sizes;            /* frame and audio packet sizes vary (bench_gen_vary_sizes) */
    int32_t rtp_seq_start;      /* ≥ 0: first RTP sequence number of every stream (tests the
                                 wrap into the rollover counter early); -1: from the SSRC */
    const char *rx_ring_if;     /* receive subscribers' RTP from a packet ring on this
                                 interface (rx_ring.h) instead of their sockets; NULL: sockets */
    const bench_speech *speech; /* the speaking schedule (copied), n_speech segments */
    size_t n_speech;
} bench_media_opts;

typedef struct bench_media bench_media;

bench_media *bench_media_new(const bench_media_opts *o);
/* Starts sending on a connected publish connection of publisher pub_index; level_ext_id:
 * the audio level extension's id the server accepted (0: none, levels not sent). */
void bench_media_add_pub(bench_media *m, dc_peer *peer, size_t pub_index, uint32_t audio_ssrc, uint8_t audio_pt,
                         uint32_t video_ssrc, uint8_t video_pt, uint8_t level_ext_id);
/* Starts receiving on a connected subscribe connection. The scenario wants it to receive
 * the streams in `wanted` (one byte per stream; NULL = every publisher's) except
 * self_pub's (-1: none); expect (one byte per stream) says which of them the server
 * actually gave it a slot for; NULL = all. Both are owned by the caller and read only by
 * bench_media_finish. join_ns: CLOCK_MONOTONIC time the join was sent. slots: its slot
 * table (NULL: a server without slots). Returns the subscriber's index. */
size_t bench_media_add_sub(bench_media *m, dc_peer *peer, long self_pub, const uint8_t *wanted, const uint8_t *expect,
                           int64_t join_ns, bench_slot_rx *slots);

/* Measurement window: begin and end are applied by both media threads at their next loop turn
 * (within a few ms); they return once applied. */
void bench_media_window_begin(bench_media *m);
void bench_media_window_end(bench_media *m);
size_t bench_media_subs_with_media(bench_media *m);

/* latency classes: audio packets, video packets of delta frames, of keyframes */
enum { BENCH_LAT_AUDIO, BENCH_LAT_VIDEO, BENCH_LAT_KEYFRAME, BENCH_LAT_CLASSES };

typedef struct {
    double window_s;
    uint64_t tx_packets; /* sent by publishers in the window */
    uint64_t rx_packets; /* received by subscribers in the window (receive time) */
    uint64_t rx_bytes;
    uint64_t expected, received; /* packets sent in the window that subscribers should get / got */
    size_t subs;
    uint64_t streams_without_slot; /* (subscriber, stream) pairs the scenario wants but the
                                      server gave no slot: not counted as loss */
    double loss_max, loss_mean;    /* fractions, over subscribers */
    double lat_p50_us, lat_p99_us, lat_max_us, lat_mean_us;
    double lat_p99_of_us[BENCH_LAT_CLASSES];
    uint64_t lat_samples;
    size_t join_count, join_missing;              /* subscribers with / without media */
    double join_p50_ms, join_p99_ms, join_max_ms; /* join sent → first RTP on its subscription */
    uint64_t gen_socket_drops;                    /* SO_RXQ_OVFL: the generator's own receive buffers overflowed */
    uint64_t decrypted, decrypt_failures, record_mismatches, no_record;
    uint64_t plis, keyframes;
    double gen_cpu_s;       /* media threads' CPU in the window */
    double max_send_lag_ms; /* how late the generator was for a scheduled send */
    double send_lag_p99_ms;
    bool sender_realtime;    /* the sending thread got SCHED_FIFO */
    double send_path_p99_ms; /* from a packet's send record time to its kernel transmit */
    double send_path_max_ms; /*   stamp: the generator's own delay, kept out of latency */
    uint64_t unstamped;      /* latency samples without a transmit stamp (record time used) */
    bool rx_ring;            /* subscribers' RTP came through the packet ring */
} bench_media_result;

/* Stops the threads (after the window), fills the result, closes the peers. */
void bench_media_finish(bench_media *m, bench_media_result *out);

#endif
