/* Synthetic media for the load generator: VP8-like video (frames of several ~1200-byte
 * packets, a real RFC 7741 payload descriptor and VP8 frame tag so the SFU's keyframe
 * logic works, periodic keyframes and keyframes on request) and Opus-like audio.
 *
 * Every packet carries a 16-byte send record twice: in a one-byte RTP header extension
 * (id BENCH_EXT_ID, readable without decrypting, as SRTP leaves the header in clear) and
 * as the last 16 bytes of the payload (readable after decrypting, should a server strip
 * extensions). The record: stream id (publisher index × 2 + kind), a per-stream
 * sequence, and the send time (CLOCK_REALTIME ns, comparable with the kernel receive
 * timestamps of SO_TIMESTAMPNS). Audio packets may also carry the RFC 6464 audio level
 * (level_ext_id), which the SFU's speaker detection reads. */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_EXT_ID 14
/* video packets are numbered for transport-wide congestion control as browsers number
 * theirs (the server's receive path records each arrival), under this one-byte id */
#define BENCH_TWCC_EXT_ID 3
#define BENCH_RECORD_LEN 16
#define BENCH_PKT_CAP 1280  /* buffer per packet: 1200 of RTP + SRTP trailer, rounded */
#define BENCH_RTP_SIZE 1200 /* target RTP packet size (before SRTP) */
#define BENCH_MAX_FRAME_PKTS 64

typedef struct {
    uint32_t seq;    /* per stream, from 0 */
    uint16_t stream; /* publisher index * 2 + (video ? 1 : 0) */
    uint16_t flags;  /* bit 0: keyframe packet */
    int64_t send_ns;
} bench_record;

typedef struct {
    bool video;
    uint32_t ssrc;
    uint8_t pt;
    uint16_t stream; /* see bench_record */
    uint16_t rtp_seq;
    uint32_t rtp_ts;
    uint32_t next_seq; /* bench sequence of the next packet */
    /* video */
    uint16_t picture_id;
    uint32_t frame_no;
    uint32_t kf_interval; /* frames between periodic keyframes */
    uint32_t ts_step;     /* RTP timestamp units per frame (90 kHz / fps) */
    size_t key_bytes, inter_bytes;
    bool want_key; /* set on PLI/FIR */
    uint64_t keyframes;
    uint32_t vary; /* 0: fixed sizes; else the state drawing each frame's or packet's size */
    /* audio: RFC 6464 audio level extension id (one-byte header, 1–13; 0: not sent) and
     * the octet the next packets carry: V (voice) bit | level in −dBov (127: silence) */
    uint8_t level_ext_id, level;
    uint16_t twcc_seq; /* video: the next transport-wide number (one video stream a peer) */
} bench_gen_stream;

/* bitrate_bps applies to video (fps frames per second, a keyframe every kf_seconds,
 * keyframes three times an average frame). */
void bench_gen_init_video(bench_gen_stream *g, uint16_t stream, uint32_t ssrc, uint8_t pt, uint32_t bitrate_bps,
                          unsigned fps, unsigned kf_seconds);
void bench_gen_init_audio(bench_gen_stream *g, uint16_t stream, uint32_t ssrc, uint8_t pt);

/* From now on the stream's sizes vary as an encoder's do, repeatably from `seed`: video
 * frames 70–130 % of the mean (keyframes too), audio payloads 60–140 bytes. Fixed sizes
 * (the default) are the best case for the SFU's GSO: every publisher's packets then have
 * one size, and packets of different publishers can share a super-datagram. */
void bench_gen_vary_sizes(bench_gen_stream *g, uint32_t seed);
/* One audio packet (~100 bytes of payload, 20 ms). Returns its length. */
size_t bench_gen_audio(bench_gen_stream *g, uint8_t *buf, int64_t send_ns);
/* One video frame: writes n packets into bufs (BENCH_PKT_CAP each), lens[i]; returns n. */
size_t bench_gen_video_frame(bench_gen_stream *g, uint8_t (*bufs)[BENCH_PKT_CAP], size_t *lens, size_t max,
                             int64_t send_ns);

/* Reads the record from the header extension (works on SRTP packets too). */
bool bench_record_from_ext(const uint8_t *pkt, size_t len, bench_record *out);
/* Reads the record from the last bytes of a decrypted RTP payload. */
bool bench_record_from_payload(const uint8_t *pkt, size_t len, bench_record *out);

#endif
