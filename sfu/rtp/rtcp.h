/* RTCP (RFC 3550, RFC 4585, RFC 5104) compound-packet walking, parsing of the
 * feedback the SFU acts on, and writers for what it sends. Pure functions, bounds
 * checked on any input, no allocation. */
#ifndef SFU_RTCP_H
#define SFU_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SFU_RTCP_SR = 200,
    SFU_RTCP_RR = 201,
    SFU_RTCP_SDES = 202,
    SFU_RTCP_BYE = 203,
    SFU_RTCP_APP = 204,
    SFU_RTCP_RTPFB = 205, /* fmt 1 NACK, 15 transport-cc */
    SFU_RTCP_PSFB = 206,  /* fmt 1 PLI, 4 FIR, 15 REMB (AFB) */
};

/* One packet inside a compound RTCP datagram. */
typedef struct {
    uint8_t pt;
    uint8_t fmt;         /* the 5-bit count / FMT field */
    const uint8_t *data; /* whole packet, header included */
    size_t len;          /* whole packet length in bytes */
    uint32_t sender_ssrc;
    uint32_t media_ssrc; /* RTPFB/PSFB only (0 for FIR, see sfu_rtcp_fir_entry) */
} sfu_rtcp_packet;

typedef struct {
    const uint8_t *buf;
    size_t len, off;
} sfu_rtcp_iter;

void sfu_rtcp_iter_init(sfu_rtcp_iter *it, const uint8_t *buf, size_t len);
/* Next well-formed packet; false at the end or at the first malformed one (the rest of
 * the compound is then ignored). */
bool sfu_rtcp_iter_next(sfu_rtcp_iter *it, sfu_rtcp_packet *out);

/* FIR (PSFB fmt 4) carries FCI entries (ssrc, seq nr). Returns the number of entries
 * and writes the i-th entry's SSRC. */
size_t sfu_rtcp_fir_count(const sfu_rtcp_packet *p);
bool sfu_rtcp_fir_entry(const sfu_rtcp_packet *p, size_t i, uint32_t *ssrc, uint8_t *seq);

/* Generic NACK (RTPFB fmt 1): entries (pid, blp). */
size_t sfu_rtcp_nack_count(const sfu_rtcp_packet *p);
bool sfu_rtcp_nack_entry(const sfu_rtcp_packet *p, size_t i, uint16_t *pid, uint16_t *blp);

/* A report block of an SR or RR (RFC 3550 §6.4.1). */
typedef struct {
    uint32_t ssrc;           /* the source reported on */
    uint8_t fraction_lost;   /* since the previous report, out of 256 */
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;         /* interarrival jitter, RTP timestamp units */
    uint32_t lsr, dlsr;      /* middle 32 bits of the last SR's NTP time; delay since, 1/65536 s */
} sfu_rtcp_report_block;

/* Report blocks of an SR or RR (0 for other types). */
size_t sfu_rtcp_report_count(const sfu_rtcp_packet *p);
bool sfu_rtcp_report_block_at(const sfu_rtcp_packet *p, size_t i, sfu_rtcp_report_block *out);

/* Sender report (PT 200) sender info. false if p is not an SR. */
bool sfu_rtcp_sr_info(const sfu_rtcp_packet *p, uint64_t *ntp, uint32_t *rtp_ts, uint32_t *packets, uint32_t *octets);

/* REMB (PSFB fmt 15, "REMB" identifier): estimated bitrate in bits/s (saturated at
 * UINT64_MAX) and the number of SSRCs it applies to. false if p is not a valid REMB. */
bool sfu_rtcp_remb(const sfu_rtcp_packet *p, uint64_t *bitrate_bps, size_t *ssrc_count);

/* Rewrites the media SSRC of an RTPFB/PSFB packet in place (p->data points into a
 * writable buffer owned by the caller). */
void sfu_rtcp_set_media_ssrc(uint8_t *packet, uint32_t ssrc);

/* Writers: return the bytes written, or 0 if cap is too small. */
size_t sfu_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
size_t sfu_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq_nr);
/* Receiver report with no report blocks (keeps a compound valid; RFC 3550 §6.1). */
size_t sfu_rtcp_write_empty_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc);
/* Receiver report with n report blocks (at most 31). */
size_t sfu_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender_ssrc, const sfu_rtcp_report_block *blocks, size_t n);
/* Generic NACK (RTPFB fmt 1) for the n sequence numbers, ascending (modulo 2^16): each
 * entry covers a pid and the 16 that follow it. At most `cap` bytes; the entries that do
 * not fit are left out. */
size_t sfu_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
                           size_t n);
/* Sender report: NTP time, RTP time, counts; no report blocks. */
size_t sfu_rtcp_write_sr(uint8_t *buf, size_t cap, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t packets,
                         uint32_t octets);

/* REMB (draft-alvestrand-rmcat-remb): PSFB fmt 15 with the receiver's estimate for the
 * listed media SSRCs (at most 255). */
size_t sfu_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps, const uint32_t *ssrcs,
                           size_t n_ssrcs);

#endif
