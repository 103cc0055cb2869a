/* RTCP compound walking (RFC 3550 §6.4), feedback accessors (RFC 4585, RFC 5104,
 * draft-alvestrand-rmcat-remb) and writers. The iterator validates each packet's
 * framing once; the accessors then only trust what it checked. */
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include <string.h>

#define RTCP_VERSION 2
#define RTCP_HEADER_LEN 4
#define RTCP_SSRC_END 8            /* header + sender SSRC */
#define RTCP_FB_FCI_OFF 12         /* header + sender SSRC + media SSRC */
#define RTCP_SR_SENDER_INFO_END 28 /* header + SSRC + NTP(8) + RTP ts + packets + octets */
#define RTCP_REPORT_BLOCK_LEN 24
#define RTCP_FIR_ENTRY_LEN 8
#define RTCP_NACK_ENTRY_LEN 4
#define RTCP_PADDING_BIT 0x20

#define RTCP_FMT_NACK 1
#define RTCP_FMT_PLI 1
#define RTCP_FMT_FIR 4
#define RTCP_FMT_AFB 15

/* ---- iteration ------------------------------------------------------------------- */

void sfu_rtcp_iter_init(sfu_rtcp_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = buf ? len : 0;
    it->off = 0;
}

/* Bytes of the packet without its trailing padding. Relies on the iterator having
 * checked that the pad count fits; still never returns more than p->len. */
static size_t content_len(const sfu_rtcp_packet *p)
{
    if (p->len < RTCP_HEADER_LEN || !(p->data[0] & RTCP_PADDING_BIT)) return p->len;
    size_t pad = p->data[p->len - 1];
    return pad <= p->len - RTCP_HEADER_LEN ? p->len - pad : RTCP_HEADER_LEN;
}

/* Smallest content length each type needs to be usable (0: just the header). */
static size_t min_len_for_type(uint8_t pt, uint8_t count)
{
    switch (pt) {
    case SFU_RTCP_SR: return RTCP_SR_SENDER_INFO_END + (size_t)count * RTCP_REPORT_BLOCK_LEN;
    case SFU_RTCP_RR: return RTCP_SSRC_END + (size_t)count * RTCP_REPORT_BLOCK_LEN;
    case SFU_RTCP_RTPFB:
    case SFU_RTCP_PSFB: return RTCP_FB_FCI_OFF;
    case SFU_RTCP_APP: return RTCP_FB_FCI_OFF; /* SSRC + 4-byte name */
    default: return RTCP_HEADER_LEN;
    }
}

/* Validates the packet at it->off and fills *out; false if malformed. */
static bool parse_one(const sfu_rtcp_iter *it, sfu_rtcp_packet *out)
{
    const uint8_t *p = it->buf + it->off;
    size_t remaining = it->len - it->off;
    if (remaining < RTCP_HEADER_LEN) return false;
    if (p[0] >> 6 != RTCP_VERSION) return false;
    if (p[1] < 192 || p[1] > 223) return false; /* not an RTCP type: garbage */

    size_t pkt_len = ((size_t)sfu_rd16(p + 2) + 1) * 4;
    if (pkt_len > remaining) return false;
    bool padded = p[0] & RTCP_PADDING_BIT;
    /* RFC 3550 §6.4.1: only the last packet of a compound may be padded. */
    if (padded && pkt_len != remaining) return false;
    if (padded && (p[pkt_len - 1] == 0 || p[pkt_len - 1] > pkt_len - RTCP_HEADER_LEN)) return false;

    *out = (sfu_rtcp_packet){.pt = p[1], .fmt = p[0] & 0x1f, .data = p, .len = pkt_len};
    size_t usable = content_len(out);
    if (usable < min_len_for_type(out->pt, out->fmt)) return false;
    if (usable >= RTCP_SSRC_END) out->sender_ssrc = sfu_rd32(p + 4);
    if (out->pt == SFU_RTCP_RTPFB || out->pt == SFU_RTCP_PSFB) out->media_ssrc = sfu_rd32(p + 8);
    return true;
}

bool sfu_rtcp_iter_next(sfu_rtcp_iter *it, sfu_rtcp_packet *out)
{
    if (!it->buf || it->off >= it->len) return false;
    if (!parse_one(it, out)) {
        it->off = it->len; /* ignore the rest of the compound */
        return false;
    }
    it->off += out->len;
    return true;
}

/* ---- feedback accessors ------------------------------------------------------------ */

static bool is_feedback(const sfu_rtcp_packet *p, uint8_t pt, uint8_t fmt)
{
    return p && p->data && p->pt == pt && p->fmt == fmt && p->len >= RTCP_FB_FCI_OFF;
}

static size_t fci_entries(const sfu_rtcp_packet *p, size_t entry_len)
{
    size_t usable = content_len(p);
    return usable > RTCP_FB_FCI_OFF ? (usable - RTCP_FB_FCI_OFF) / entry_len : 0;
}

size_t sfu_rtcp_fir_count(const sfu_rtcp_packet *p)
{
    if (!is_feedback(p, SFU_RTCP_PSFB, RTCP_FMT_FIR)) return 0;
    return fci_entries(p, RTCP_FIR_ENTRY_LEN);
}

bool sfu_rtcp_fir_entry(const sfu_rtcp_packet *p, size_t i, uint32_t *ssrc, uint8_t *seq)
{
    if (i >= sfu_rtcp_fir_count(p)) return false;
    const uint8_t *entry = p->data + RTCP_FB_FCI_OFF + i * RTCP_FIR_ENTRY_LEN;
    *ssrc = sfu_rd32(entry);
    *seq = entry[4];
    return true;
}

size_t sfu_rtcp_nack_count(const sfu_rtcp_packet *p)
{
    if (!is_feedback(p, SFU_RTCP_RTPFB, RTCP_FMT_NACK)) return 0;
    return fci_entries(p, RTCP_NACK_ENTRY_LEN);
}

bool sfu_rtcp_nack_entry(const sfu_rtcp_packet *p, size_t i, uint16_t *pid, uint16_t *blp)
{
    if (i >= sfu_rtcp_nack_count(p)) return false;
    const uint8_t *entry = p->data + RTCP_FB_FCI_OFF + i * RTCP_NACK_ENTRY_LEN;
    *pid = sfu_rd16(entry);
    *blp = sfu_rd16(entry + 2);
    return true;
}

bool sfu_rtcp_sr_info(const sfu_rtcp_packet *p, uint64_t *ntp, uint32_t *rtp_ts, uint32_t *packets, uint32_t *octets)
{
    if (!p || !p->data || p->pt != SFU_RTCP_SR || content_len(p) < RTCP_SR_SENDER_INFO_END) return false;
    const uint8_t *d = p->data;
    *ntp = (uint64_t)sfu_rd32(d + 8) << 32 | sfu_rd32(d + 12);
    *rtp_ts = sfu_rd32(d + 16);
    *packets = sfu_rd32(d + 20);
    *octets = sfu_rd32(d + 24);
    return true;
}

size_t sfu_rtcp_report_count(const sfu_rtcp_packet *p)
{
    if (!p || !p->data || (p->pt != SFU_RTCP_SR && p->pt != SFU_RTCP_RR)) return 0;
    size_t first = p->pt == SFU_RTCP_SR ? RTCP_SR_SENDER_INFO_END : RTCP_SSRC_END;
    size_t usable = content_len(p);
    size_t fit = usable > first ? (usable - first) / RTCP_REPORT_BLOCK_LEN : 0;
    return p->fmt < fit ? p->fmt : fit;
}

bool sfu_rtcp_report_block_at(const sfu_rtcp_packet *p, size_t i, sfu_rtcp_report_block *out)
{
    if (i >= sfu_rtcp_report_count(p)) return false;
    size_t first = p->pt == SFU_RTCP_SR ? RTCP_SR_SENDER_INFO_END : RTCP_SSRC_END;
    const uint8_t *b = p->data + first + i * RTCP_REPORT_BLOCK_LEN;
    uint32_t lost = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    *out = (sfu_rtcp_report_block){.ssrc = sfu_rd32(b),
                                   .fraction_lost = b[4],
                                   .cumulative_lost = lost & 0x800000u ? (int32_t)lost - 0x1000000 : (int32_t)lost,
                                   .highest_seq = sfu_rd32(b + 8),
                                   .jitter = sfu_rd32(b + 12),
                                   .lsr = sfu_rd32(b + 16),
                                   .dlsr = sfu_rd32(b + 20)};
    return true;
}

#define REMB_FIXED_END 20 /* FCI offset + "REMB" + num SSRC + exp/mantissa */
#define REMB_MANTISSA_BITS 18

/* mantissa << exp, saturated: the exponent field allows up to 63. */
static uint64_t remb_bitrate(uint32_t mantissa, unsigned exp)
{
    if (mantissa == 0) return 0;
    if (exp > 64 - REMB_MANTISSA_BITS && (mantissa >> (64 - exp)) != 0) return UINT64_MAX;
    return (uint64_t)mantissa << exp;
}

bool sfu_rtcp_remb(const sfu_rtcp_packet *p, uint64_t *bitrate_bps, size_t *ssrc_count)
{
    if (!is_feedback(p, SFU_RTCP_PSFB, RTCP_FMT_AFB)) return false;
    size_t usable = content_len(p);
    const uint8_t *d = p->data;
    if (usable < REMB_FIXED_END) return false;
    if (d[12] != 'R' || d[13] != 'E' || d[14] != 'M' || d[15] != 'B') return false;
    size_t n = d[16];
    if (usable - REMB_FIXED_END < n * 4) return false;
    uint32_t mantissa = (uint32_t)(d[17] & 0x03) << 16 | sfu_rd16(d + 18);
    *bitrate_bps = remb_bitrate(mantissa, d[17] >> 2);
    *ssrc_count = n;
    return true;
}

void sfu_rtcp_set_media_ssrc(uint8_t *packet, uint32_t ssrc) { sfu_wr32(packet + 8, ssrc); }

/* ---- writers ---------------------------------------------------------------------- */

/* Common header: V=2, no padding, count/fmt, type, length in 32-bit words minus one. */
static void write_header(uint8_t *buf, uint8_t count_or_fmt, uint8_t pt, size_t total_len)
{
    buf[0] = (uint8_t)(RTCP_VERSION << 6 | (count_or_fmt & 0x1f));
    buf[1] = pt;
    sfu_wr16(buf + 2, (uint16_t)(total_len / 4 - 1));
}

size_t sfu_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    const size_t len = RTCP_FB_FCI_OFF;
    if (!buf || cap < len) return 0;
    write_header(buf, RTCP_FMT_PLI, SFU_RTCP_PSFB, len);
    sfu_wr32(buf + 4, sender_ssrc);
    sfu_wr32(buf + 8, media_ssrc);
    return len;
}

size_t sfu_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr)
{
    const size_t len = RTCP_FB_FCI_OFF + RTCP_FIR_ENTRY_LEN;
    if (!buf || cap < len) return 0;
    write_header(buf, RTCP_FMT_FIR, SFU_RTCP_PSFB, len);
    sfu_wr32(buf + 4, sender_ssrc);
    sfu_wr32(buf + 8, 0); /* RFC 5104 §4.3.1.2: media SSRC unused, target is in the FCI */
    sfu_wr32(buf + 12, media_ssrc);
    buf[16] = seq_nr;
    buf[17] = buf[18] = buf[19] = 0;
    return len;
}

size_t sfu_rtcp_write_empty_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc)
{
    const size_t len = RTCP_SSRC_END;
    if (!buf || cap < len) return 0;
    write_header(buf, 0, SFU_RTCP_RR, len);
    sfu_wr32(buf + 4, sender_ssrc);
    return len;
}

size_t sfu_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc, const sfu_rtcp_report_block *blocks, size_t n)
{
    if (n > 31) n = 31;
    const size_t len = RTCP_SSRC_END + n * RTCP_REPORT_BLOCK_LEN;
    if (!buf || cap < len) return 0;
    write_header(buf, (uint8_t)n, SFU_RTCP_RR, len);
    sfu_wr32(buf + 4, sender_ssrc);
    for (size_t i = 0; i < n; i++) {
        const sfu_rtcp_report_block *rb = &blocks[i];
        uint8_t *b = buf + RTCP_SSRC_END + i * RTCP_REPORT_BLOCK_LEN;
        int32_t lost = rb->cumulative_lost > 0x7fffff    ? 0x7fffff
                       : rb->cumulative_lost < -0x800000 ? -0x800000
                                                         : rb->cumulative_lost;
        uint32_t lost24 = (uint32_t)lost & 0xffffffu;
        sfu_wr32(b, rb->ssrc);
        b[4] = rb->fraction_lost;
        b[5] = (uint8_t)(lost24 >> 16);
        b[6] = (uint8_t)(lost24 >> 8);
        b[7] = (uint8_t)lost24;
        sfu_wr32(b + 8, rb->highest_seq);
        sfu_wr32(b + 12, rb->jitter);
        sfu_wr32(b + 16, rb->lsr);
        sfu_wr32(b + 20, rb->dlsr);
    }
    return len;
}

size_t sfu_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
                           size_t n)
{
    if (!buf || cap < RTCP_FB_FCI_OFF + RTCP_NACK_ENTRY_LEN || n == 0) return 0;
    size_t len = RTCP_FB_FCI_OFF;
    for (size_t i = 0; i < n && len + RTCP_NACK_ENTRY_LEN <= cap;) {
        uint16_t pid = seqs[i++], blp = 0;
        for (; i < n && (uint16_t)(seqs[i] - pid) >= 1 && (uint16_t)(seqs[i] - pid) <= 16; i++)
            blp |= (uint16_t)(1u << ((uint16_t)(seqs[i] - pid) - 1));
        sfu_wr16(buf + len, pid);
        sfu_wr16(buf + len + 2, blp);
        len += RTCP_NACK_ENTRY_LEN;
    }
    write_header(buf, RTCP_FMT_NACK, SFU_RTCP_RTPFB, len);
    sfu_wr32(buf + 4, sender_ssrc);
    sfu_wr32(buf + 8, media_ssrc);
    return len;
}

size_t sfu_rtcp_write_sr(uint8_t *buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t packets,
                         uint32_t octets)
{
    const size_t len = RTCP_SR_SENDER_INFO_END;
    if (!buf || cap < len) return 0;
    write_header(buf, 0, SFU_RTCP_SR, len);
    sfu_wr32(buf + 4, ssrc);
    sfu_wr32(buf + 8, (uint32_t)(ntp >> 32));
    sfu_wr32(buf + 12, (uint32_t)ntp);
    sfu_wr32(buf + 16, rtp_ts);
    sfu_wr32(buf + 20, packets);
    sfu_wr32(buf + 24, octets);
    return len;
}

size_t sfu_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps, const uint32_t *ssrcs,
                           size_t n_ssrcs)
{
    if (n_ssrcs > 255) n_ssrcs = 255;
    const size_t len = RTCP_FB_FCI_OFF + 8 + 4 * n_ssrcs;
    if (!buf || cap < len) return 0;
    /* bitrate = mantissa (18 bits) << exponent (6 bits) */
    uint8_t exp = 0;
    while ((bitrate_bps >> exp) > 0x3ffff) exp++;
    uint32_t mantissa = (uint32_t)(bitrate_bps >> exp);
    write_header(buf, 15, SFU_RTCP_PSFB, len);
    sfu_wr32(buf + 4, sender_ssrc);
    sfu_wr32(buf + 8, 0);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = (uint8_t)n_ssrcs;
    buf[17] = (uint8_t)(exp << 2 | (mantissa >> 16));
    sfu_wr16(buf + 18, (uint16_t)(mantissa & 0xffff));
    for (size_t i = 0; i < n_ssrcs; i++) sfu_wr32(buf + 20 + 4 * i, ssrcs[i]);
    return len;
}
