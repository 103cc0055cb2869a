/* RTP header parsing, RFC 8285 header extensions, RFC 7983/5761 demux and codec
 * keyframe detection. Every read is checked against the buffer length: these run on
 * decrypted packets straight from the network. */
#include "rtp/rtp.h"

#include <string.h>

#define RTP_FIXED_HEADER_LEN 12
#define RTCP_MIN_LEN 8
#define RTP_EXT_HEADER_LEN 4
#define RTP_VERSION 2

#define EXT_PROFILE_ONE_BYTE 0xBEDE
#define EXT_PROFILE_TWO_BYTE_MASK 0xFFF0 /* RFC 8285 §4.3: 0x100 + 4 "appbits" */
#define EXT_PROFILE_TWO_BYTE 0x1000
#define EXT_ONE_BYTE_ID_STOP 15 /* reserved id: stop parsing the block */

/* ---- demultiplexing ---------------------------------------------------------------- */

/* RFC 5761 §4: RTCP packet types 192..223 would collide with RTP payload types 64..95
 * with the marker bit set, which is why those RTP payload types must not be used. */
static bool second_byte_is_rtcp_type(uint8_t b) { return b >= 192 && b <= 223; }

sfu_pkt_kind sfu_pkt_classify(const uint8_t *buf, size_t len)
{
    if (!buf || len < 1) return SFU_PKT_UNKNOWN;
    uint8_t b = buf[0];
    if (b <= 3) return SFU_PKT_STUN;
    if (b >= 20 && b <= 63) return SFU_PKT_DTLS;
    if (b < 128 || b > 191) return SFU_PKT_UNKNOWN;
    if (len < 2) return SFU_PKT_UNKNOWN;
    if (second_byte_is_rtcp_type(buf[1])) return len >= RTCP_MIN_LEN ? SFU_PKT_RTCP : SFU_PKT_UNKNOWN;
    return len >= RTP_FIXED_HEADER_LEN ? SFU_PKT_RTP : SFU_PKT_UNKNOWN;
}

/* ---- RTP header ------------------------------------------------------------------- */

static bool ext_profile_is_two_byte(uint16_t profile)
{
    return (profile & EXT_PROFILE_TWO_BYTE_MASK) == EXT_PROFILE_TWO_BYTE;
}

/* Reads the extension header at *off; advances *off past the extension data. */
static bool parse_extension(const uint8_t *buf, size_t len, size_t *off, sfu_rtp_header *h)
{
    if (len - *off < RTP_EXT_HEADER_LEN) return false;
    h->ext_profile = sfu_rd16(buf + *off);
    size_t data_len = (size_t)sfu_rd16(buf + *off + 2) * 4;
    *off += RTP_EXT_HEADER_LEN;
    if (len - *off < data_len) return false;
    h->ext_off = *off;
    h->ext_len = data_len;
    *off += data_len;
    return true;
}

bool sfu_rtp_parse(const uint8_t *buf, size_t len, sfu_rtp_header *h)
{
    if (!buf || !h || len < RTP_FIXED_HEADER_LEN) return false;
    if (buf[0] >> 6 != RTP_VERSION) return false;
    /* Second byte 192..223 (M=1, PT 64..95) is RTCP under rtcp-mux, so not RTP; this
     * keeps parse consistent with sfu_pkt_classify. */
    if (second_byte_is_rtcp_type(buf[1])) return false;

    *h = (sfu_rtp_header){0};
    h->padding = buf[0] & 0x20;
    bool has_extension = buf[0] & 0x10;
    h->csrc_count = buf[0] & 0x0f;
    h->marker = buf[1] & 0x80;
    h->pt = buf[1] & 0x7f;
    h->seq = sfu_rd16(buf + 2);
    h->ts = sfu_rd32(buf + 4);
    h->ssrc = sfu_rd32(buf + 8);

    size_t off = RTP_FIXED_HEADER_LEN + (size_t)h->csrc_count * 4;
    if (off > len) return false;
    if (has_extension && !parse_extension(buf, len, &off, h)) return false;

    size_t pad = 0;
    if (h->padding) {
        /* RFC 3550 §5.1: the last octet counts the padding, itself included. */
        if (off == len) return false;
        pad = buf[len - 1];
        if (pad == 0 || pad > len - off) return false;
    }
    h->payload_off = off;
    h->payload_len = len - off - pad;
    return true;
}

/* ---- header extensions (RFC 8285) ------------------------------------------------- */

static bool find_one_byte_ext(const uint8_t *data, size_t len, uint8_t id, const uint8_t **val, size_t *val_len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t ext_id = data[i] >> 4;
        if (data[i] == 0) { /* padding byte between elements */
            i++;
            continue;
        }
        if (ext_id == EXT_ONE_BYTE_ID_STOP) return false;
        size_t elem_len = (size_t)(data[i] & 0x0f) + 1;
        i++;
        if (elem_len > len - i) return false;
        if (ext_id == id) {
            *val = data + i;
            *val_len = elem_len;
            return true;
        }
        i += elem_len;
    }
    return false;
}

static bool find_two_byte_ext(const uint8_t *data, size_t len, uint8_t id, const uint8_t **val, size_t *val_len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t ext_id = data[i];
        if (ext_id == 0) { /* padding byte */
            i++;
            continue;
        }
        if (len - i < 2) return false;
        size_t elem_len = data[i + 1];
        i += 2;
        if (elem_len > len - i) return false;
        if (ext_id == id) {
            *val = data + i;
            *val_len = elem_len;
            return true;
        }
        i += elem_len;
    }
    return false;
}

bool sfu_rtp_find_ext(const uint8_t *buf, const sfu_rtp_header *h, uint8_t id, const uint8_t **val, size_t *val_len)
{
    if (!buf || !h || !val || !val_len || id == 0 || h->ext_len == 0) return false;
    const uint8_t *data = buf + h->ext_off;
    if (h->ext_profile == EXT_PROFILE_ONE_BYTE) {
        if (id >= EXT_ONE_BYTE_ID_STOP) return false;
        return find_one_byte_ext(data, h->ext_len, id, val, val_len);
    }
    if (ext_profile_is_two_byte(h->ext_profile)) return find_two_byte_ext(data, h->ext_len, id, val, val_len);
    return false;
}

/* ---- in-place rewriting ------------------------------------------------------------ */

void sfu_rtp_set_pt(uint8_t *buf, uint8_t pt) { buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7f)); }
void sfu_rtp_set_seq(uint8_t *buf, uint16_t seq) { sfu_wr16(buf + 2, seq); }
void sfu_rtp_set_ts(uint8_t *buf, uint32_t ts) { sfu_wr32(buf + 4, ts); }
void sfu_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc) { sfu_wr32(buf + 8, ssrc); }

bool sfu_rtp_add_padding(uint8_t *buf, size_t *len, size_t cap, const sfu_rtp_header *h, size_t extra)
{
    if (extra == 0) return true;
    size_t count = (h->padding ? buf[*len - 1] : 0) + extra;
    if (count > 255 || *len > cap || cap - *len < extra) return false;
    memset(buf + *len, 0, extra);
    *len += extra;
    buf[*len - 1] = (uint8_t)count; /* an old count octet becomes a plain padding octet */
    buf[0] |= 0x20;
    return true;
}

/* ---- VP8 (RFC 7741 §4.2) ---------------------------------------------------------- */

#define VP8_X 0x80
#define VP8_N 0x20
#define VP8_S 0x10
#define VP8_PID_MASK 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80
#define VP8_PAYLOAD_P 0x01 /* inverse key frame flag of the VP8 payload header */

/* Parses the optional PictureID (I), TL0PICIDX (L) and TID/Y/KEYIDX (T|K) bytes that
 * follow the X byte. *off points after the X byte on entry. */
static bool parse_vp8_extension(const uint8_t *p, size_t len, size_t *off, uint8_t xbyte, sfu_vp8_descriptor *d)
{
    if (xbyte & VP8_I) {
        if (*off >= len) return false;
        d->has_picture_id = true;
        d->picture_id_off = *off;
        if (p[*off] & VP8_M) {
            if (len - *off < 2) return false;
            d->picture_id_15bit = true;
            d->picture_id = sfu_rd16(p + *off) & 0x7fff;
            *off += 2;
        } else {
            d->picture_id = p[*off] & 0x7f;
            *off += 1;
        }
    }
    if (xbyte & VP8_L) {
        if (*off >= len) return false;
        d->has_tl0picidx = true;
        d->tl0picidx_off = *off;
        d->tl0picidx = p[(*off)++];
    }
    if (xbyte & (VP8_T | VP8_K)) {
        if (*off >= len) return false;
        if (xbyte & VP8_T) {
            d->has_tid = true;
            d->tid = p[*off] >> 6;
            d->layer_sync = p[*off] & 0x20;
        }
        (*off)++;
    }
    return true;
}

bool sfu_vp8_parse_descriptor(const uint8_t *payload, size_t len, sfu_vp8_descriptor *d)
{
    if (!payload || !d || len < 1) return false;
    *d = (sfu_vp8_descriptor){0};
    uint8_t first = payload[0];
    d->non_reference = first & VP8_N;
    d->start = first & VP8_S;
    d->partition_id = first & VP8_PID_MASK;
    size_t off = 1;
    if (first & VP8_X) {
        if (off >= len) return false;
        uint8_t xbyte = payload[off++];
        if (!parse_vp8_extension(payload, len, &off, xbyte, d)) return false;
    }
    if (off >= len) return false; /* no VP8 payload header byte */
    d->descriptor_len = off;
    d->keyframe = d->start && d->partition_id == 0 && !(payload[off] & VP8_PAYLOAD_P);
    return true;
}

bool sfu_vp8_is_keyframe(const uint8_t *payload, size_t len)
{
    sfu_vp8_descriptor d;
    return sfu_vp8_parse_descriptor(payload, len, &d) && d.keyframe;
}

/* ---- H.264 (RFC 6184 §5) ---------------------------------------------------------- */

#define H264_NAL_TYPE_MASK 0x1f
#define H264_NAL_IDR 5
#define H264_NAL_SPS 7
#define H264_NAL_STAP_A 24
#define H264_NAL_FU_A 28
#define H264_FU_START 0x80

static bool h264_nal_type_is_key(uint8_t type) { return type == H264_NAL_IDR || type == H264_NAL_SPS; }

/* STAP-A: NAL header byte, then (16-bit size, NAL unit) pairs. */
static bool h264_stap_a_has_key(const uint8_t *p, size_t len)
{
    size_t off = 1;
    while (len - off >= 2) {
        size_t nal_len = sfu_rd16(p + off);
        off += 2;
        if (nal_len == 0 || nal_len > len - off) return false;
        if (h264_nal_type_is_key(p[off] & H264_NAL_TYPE_MASK)) return true;
        off += nal_len;
    }
    return false;
}

bool sfu_h264_is_keyframe(const uint8_t *payload, size_t len)
{
    if (!payload || len < 1) return false;
    uint8_t type = payload[0] & H264_NAL_TYPE_MASK;
    if (h264_nal_type_is_key(type)) return true;
    if (type == H264_NAL_STAP_A) return h264_stap_a_has_key(payload, len);
    if (type == H264_NAL_FU_A) {
        if (len < 2) return false;
        uint8_t fu_header = payload[1];
        return (fu_header & H264_FU_START) && h264_nal_type_is_key(fu_header & H264_NAL_TYPE_MASK);
    }
    return false;
}
