/* See gen.h. */
#include "gen.h"

#include <string.h>

#include "rtp/rtp.h"

#define HDR_LEN 36 /* 12 fixed + 4 extension header + 20 (1 + 16 record, 1 + 1 audio level, padded) */
#define AUDIO_PAYLOAD 100

/* Real VP8 frames, so that a browser among the generator's participants decodes and shows
 * their video: a keyframe of a flat blue-grey 320x180 picture and an inter frame that keeps
 * it (libvpx via GStreamer: videotestsrc pattern=solid-color foreground-color=0xff2f5d7a !
 * video/x-raw,width=320,height=180 ! vp8enc deadline=1, frames 1 and 3). Each video frame
 * begins with one of them; the filler after it is data the decoder never reads. Both fit in
 * a frame's first packet (sizes below are at least MIN_FRAME_BYTES), so the record at the end
 * of every packet never lands inside them. */
static const uint8_t vp8_key[] = {
    0xd0, 0x0f, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00, 0x00, 0x47, 0x08, 0x85, 0x85, 0x88, 0x99, 0x84,
    0x88, 0x02, 0x02, 0x02, 0x75, 0xaa, 0x03, 0xf8, 0x03, 0xf8, 0x02, 0x06, 0xb6, 0xa5, 0x69, 0x7d, 0xaf, 0x6e,
    0x6c, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1,
    0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1,
    0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1,
    0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1,
    0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1,
    0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xe1, 0xec, 0x9c, 0xde, 0x00, 0xfe, 0xfc, 0xb8, 0x4b, 0xff, 0xa8, 0x2d, 0x0d,
    0x7c, 0xbf, 0x1a, 0x2f, 0xfd, 0x4e, 0x0c, 0x1c, 0xf9, 0xf8, 0xff, 0x00,
};
static const uint8_t vp8_inter[] = {
    0xb1, 0x02, 0x00, 0x06, 0x10, 0x8c, 0x00, 0x18, 0x00, 0x18, 0x58, 0x2f, 0xf4,
    0x00, 0x08, 0x80, 0x04, 0x33, 0x5f, 0xad, 0x72, 0x4f, 0x95, 0x80, 0x00,
};
#define MIN_FRAME_BYTES 256 /* ≥ sizeof vp8_key even when --vary-sizes draws 70 % */

static void put_record(uint8_t *p, const bench_record *r)
{
    sfu_wr32(p, r->seq);
    sfu_wr16(p + 4, r->stream);
    sfu_wr16(p + 6, r->flags);
    sfu_wr32(p + 8, (uint32_t)((uint64_t)r->send_ns >> 32));
    sfu_wr32(p + 12, (uint32_t)r->send_ns);
}

static void get_record(const uint8_t *p, bench_record *r)
{
    r->seq = sfu_rd32(p);
    r->stream = sfu_rd16(p + 4);
    r->flags = sfu_rd16(p + 6);
    r->send_ns = (int64_t)((uint64_t)sfu_rd32(p + 8) << 32 | sfu_rd32(p + 12));
}

/* Writes the RTP header with the record extension; returns HDR_LEN. */
static size_t put_header(bench_gen_stream *g, uint8_t *b, bool marker, const bench_record *r)
{
    b[0] = 0x90; /* V=2, X=1 */
    b[1] = (uint8_t)((marker ? 0x80 : 0) | g->pt);
    sfu_wr16(b + 2, g->rtp_seq++);
    sfu_wr32(b + 4, g->rtp_ts);
    sfu_wr32(b + 8, g->ssrc);
    sfu_wr16(b + 12, 0xBEDE);
    sfu_wr16(b + 14, 5); /* 20 bytes */
    b[16] = (uint8_t)(BENCH_EXT_ID << 4 | (BENCH_RECORD_LEN - 1));
    put_record(b + 17, r);
    b[33] = b[34] = b[35] = 0; /* padding */
    if (g->video) {            /* transport-wide cc: one byte of header, two of number */
        b[33] = (uint8_t)(BENCH_TWCC_EXT_ID << 4 | 1);
        sfu_wr16(b + 34, g->twcc_seq++);
    } else if (g->level_ext_id) { /* RFC 6464 in the padding: one byte of header, one of level */
        b[33] = (uint8_t)(g->level_ext_id << 4);
        b[34] = g->level;
    }
    return HDR_LEN;
}

void bench_gen_init_video(bench_gen_stream *g, uint16_t stream, uint32_t ssrc, uint8_t pt, uint32_t bitrate_bps,
                          unsigned fps, unsigned kf_seconds)
{
    memset(g, 0, sizeof *g);
    g->video = true;
    g->stream = stream;
    g->ssrc = ssrc;
    g->pt = pt;
    g->rtp_seq = (uint16_t)(ssrc * 7);
    g->rtp_ts = ssrc * 13;
    g->picture_id = (uint16_t)(ssrc & 0x7fff);
    if (fps == 0) fps = 30;
    g->ts_step = 90000 / fps; /* the 90 kHz video clock: browsers pace playout by it */
    g->kf_interval = fps * (kf_seconds ? kf_seconds : 2);
    size_t avg = bitrate_bps / 8 / fps;
    g->key_bytes = 3 * avg;
    g->inter_bytes = g->kf_interval > 1 ? (g->kf_interval * avg - g->key_bytes) / (g->kf_interval - 1) : avg;
    if (g->key_bytes < MIN_FRAME_BYTES) g->key_bytes = MIN_FRAME_BYTES;
    if (g->inter_bytes < MIN_FRAME_BYTES) g->inter_bytes = MIN_FRAME_BYTES;
    g->want_key = true;
}

void bench_gen_init_audio(bench_gen_stream *g, uint16_t stream, uint32_t ssrc, uint8_t pt)
{
    memset(g, 0, sizeof *g);
    g->stream = stream;
    g->ssrc = ssrc;
    g->pt = pt;
    g->rtp_seq = (uint16_t)(ssrc * 7);
    g->rtp_ts = ssrc * 13;
    g->level = 127; /* silence */
}

void bench_gen_vary_sizes(bench_gen_stream *g, uint32_t seed) { g->vary = seed * 2654435761u | 1; }

/* `mean` ± `spread_pct` %, evenly: xorshift32 on the stream's state; `mean` when fixed. */
static size_t varied(bench_gen_stream *g, size_t mean, unsigned spread_pct)
{
    if (!g->vary) return mean;
    g->vary ^= g->vary << 13;
    g->vary ^= g->vary >> 17;
    g->vary ^= g->vary << 5;
    return mean * (100 - spread_pct + g->vary % (2 * spread_pct + 1)) / 100;
}

size_t bench_gen_audio(bench_gen_stream *g, uint8_t *buf, int64_t send_ns)
{
    bench_record r = {.seq = g->next_seq++, .stream = g->stream, .send_ns = send_ns};
    size_t off = put_header(g, buf, false, &r);
    size_t payload = varied(g, AUDIO_PAYLOAD, 40);
    buf[off] = 0x78; /* an Opus TOC byte (SILK-only WB 20 ms, mono) */
    memset(buf + off + 1, 0xa5, payload - 1 - BENCH_RECORD_LEN);
    put_record(buf + off + payload - BENCH_RECORD_LEN, &r);
    g->rtp_ts += 960;
    return off + payload;
}

size_t bench_gen_video_frame(bench_gen_stream *g, uint8_t (*bufs)[BENCH_PKT_CAP], size_t *lens, size_t max,
                             int64_t send_ns)
{
    bool key = g->want_key || g->frame_no % g->kf_interval == 0;
    g->want_key = false;
    if (key) g->keyframes++;
    size_t bytes = varied(g, key ? g->key_bytes : g->inter_bytes, 30);
    const size_t room = BENCH_RTP_SIZE - HDR_LEN - 4 - BENCH_RECORD_LEN; /* per packet */
    size_t n = (bytes + room - 1) / room;
    if (n == 0) n = 1;
    if (n > max) n = max;
    /* split like libwebrtc's packetizer (RtpPacketizer::SplitAboutEqually): equal shares,
     * the last `bytes % n` packets one byte larger; so the bench sees the packet sizes
     * browsers send, which decide how often runs of equal sizes can go out as one GSO
     * super-datagram */
    size_t per_min = bytes / n, larger_from = n - bytes % n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = bufs[i];
        size_t per = per_min + (i >= larger_from ? 1 : 0);
        bench_record r = {.seq = g->next_seq++, .stream = g->stream, .flags = key ? 1 : 0, .send_ns = send_ns};
        size_t off = put_header(g, b, i == n - 1, &r);
        /* RFC 7741 descriptor: X=1, S on the first packet, PID 0; I=1, 15-bit picture id */
        b[off] = (uint8_t)(0x80 | (i == 0 ? 0x10 : 0));
        b[off + 1] = 0x80;
        b[off + 2] = (uint8_t)(0x80 | (g->picture_id >> 8));
        b[off + 3] = (uint8_t)g->picture_id;
        size_t p = off + 4, end = off + 4 + per + BENCH_RECORD_LEN;
        if (i == 0) { /* the frame tag (P=0 on a keyframe) and the picture */
            const uint8_t *f = key ? vp8_key : vp8_inter;
            size_t flen = key ? sizeof vp8_key : sizeof vp8_inter;
            if (flen > end - BENCH_RECORD_LEN - p) flen = end - BENCH_RECORD_LEN - p;
            memcpy(b + p, f, flen);
            p += flen;
        }
        memset(b + p, 0x5a, end - BENCH_RECORD_LEN - p);
        put_record(b + end - BENCH_RECORD_LEN, &r);
        lens[i] = end;
    }
    g->frame_no++;
    g->picture_id = (uint16_t)((g->picture_id + 1) & 0x7fff);
    g->rtp_ts += g->ts_step;
    return n;
}

bool bench_record_from_ext(const uint8_t *pkt, size_t len, bench_record *out)
{
    sfu_rtp_header h;
    const uint8_t *val;
    size_t vlen;
    if (!sfu_rtp_parse(pkt, len, &h) || !sfu_rtp_find_ext(pkt, &h, BENCH_EXT_ID, &val, &vlen) ||
        vlen != BENCH_RECORD_LEN)
        return false;
    get_record(val, out);
    return true;
}

bool bench_record_from_payload(const uint8_t *pkt, size_t len, bench_record *out)
{
    sfu_rtp_header h;
    if (!sfu_rtp_parse(pkt, len, &h) || h.payload_len < BENCH_RECORD_LEN) return false;
    get_record(pkt + h.payload_off + h.payload_len - BENCH_RECORD_LEN, out);
    return true;
}
