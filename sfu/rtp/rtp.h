/* RTP (RFC 3550) header parsing and in-place rewriting, header extensions (RFC 8285),
 * and RFC 7983 / RFC 5761 demultiplexing. Pure functions over caller buffers: no
 * allocation, safe on any input (bounds checked; fuzzed). */
#ifndef SFU_RTP_H
#define SFU_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SFU_PKT_UNKNOWN = 0,
    SFU_PKT_STUN, /* first byte 0..3 */
    SFU_PKT_DTLS, /* 20..63 */
    SFU_PKT_RTP,  /* 128..191 and not RTCP */
    SFU_PKT_RTCP, /* 128..191 and second byte (PT) 192..223 */
} sfu_pkt_kind;

/* RFC 7983 first-byte demux plus RFC 5761 RTP/RTCP split. len < 1 → UNKNOWN;
 * RTP needs at least 12 bytes (fixed header), RTCP at least 8 (an empty RR), or they
 * are UNKNOWN. */
sfu_pkt_kind sfu_pkt_classify(const uint8_t *buf, size_t len);

typedef struct {
    uint8_t pt;
    bool marker;
    bool padding;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint8_t csrc_count;
    uint16_t ext_profile;    /* 0xBEDE one-byte, 0x100x two-byte, 0 if no extension */
    size_t ext_off, ext_len; /* extension data (after the 4-byte ext header) */
    size_t payload_off;      /* first payload byte */
    size_t payload_len;      /* without padding */
} sfu_rtp_header;

/* Parses a (decrypted) RTP packet. false if it is not a well-formed RTP v2 packet
 * (including when sfu_pkt_classify would call it RTCP). */
bool sfu_rtp_parse(const uint8_t *buf, size_t len, sfu_rtp_header *h);

/* Finds header extension `id` (1..14 one-byte, 1..255 two-byte). Returns false if
 * absent or malformed; on success *val points into buf. */
bool sfu_rtp_find_ext(const uint8_t *buf, const sfu_rtp_header *h, uint8_t id, const uint8_t **val, size_t *val_len);

/* In-place writers on a packet already parsed as RTP. */
void sfu_rtp_set_pt(uint8_t *buf, uint8_t pt);
void sfu_rtp_set_seq(uint8_t *buf, uint16_t seq);
void sfu_rtp_set_ts(uint8_t *buf, uint32_t ts);
void sfu_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc);
/* Grows the packet by `extra` octets of RTP padding (RFC 3550 §5.1): sets P and appends
 * zeros ending in the count, or lengthens the padding it has. `h` is the packet's parse.
 * Returns false, packet unchanged, if it would outgrow `cap` or the count pass 255. */
bool sfu_rtp_add_padding(uint8_t *buf, size_t *len, size_t cap, const sfu_rtp_header *h, size_t extra);

/* Keyframe detection on the RTP payload (first packet of a frame carries the info).
 * VP8: RFC 7741 payload descriptor, S=1 PID=0 and P bit of the VP8 header == 0.
 * H.264: RFC 6184; IDR (5) or SPS (7) in single NAL, STAP-A (24) or FU-A (28, start). */
bool sfu_vp8_is_keyframe(const uint8_t *payload, size_t len);
bool sfu_h264_is_keyframe(const uint8_t *payload, size_t len);

/* RFC 7741 VP8 payload descriptor, for simulcast switching and picture-id rewriting.
 * Offsets are relative to the payload start, so a rewriter can patch in place. */
typedef struct {
    bool start;           /* S: first packet of a partition */
    uint8_t partition_id; /* PID */
    bool non_reference;   /* N */
    bool has_picture_id;
    bool picture_id_15bit; /* M: 15-bit picture id (2 bytes) instead of 7-bit */
    uint16_t picture_id;
    size_t picture_id_off;
    bool has_tl0picidx;
    uint8_t tl0picidx;
    size_t tl0picidx_off;
    bool has_tid; /* T: TID and Y are valid */
    uint8_t tid;
    bool layer_sync;       /* Y */
    size_t descriptor_len; /* bytes before the VP8 payload header */
    bool keyframe;         /* S=1, PID=0 and P=0 in the VP8 payload header */
} sfu_vp8_descriptor;

/* false if the descriptor does not fit or no VP8 payload byte follows it. */
bool sfu_vp8_parse_descriptor(const uint8_t *payload, size_t len, sfu_vp8_descriptor *d);

static inline uint16_t sfu_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sfu_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void sfu_wr16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}
static inline void sfu_wr32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = (v >> 16) & 0xff;
    p[2] = (v >> 8) & 0xff;
    p[3] = v & 0xff;
}

#endif
