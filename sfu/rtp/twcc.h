/* Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01),
 * the wire side: the header extension that numbers every RTP packet a transport sends, and
 * the RTCP feedback (RTPFB fmt 15) that reports, per number, whether and when the packet
 * arrived. Pure functions over caller buffers: no allocation, bounds checked on any input
 * (fuzzed: tests/fuzz/fuzz_twcc.c). */
#ifndef SFU_RTP_TWCC_H
#define SFU_RTP_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#define SFU_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define SFU_TWCC_FMT 15
#define SFU_TWCC_EXT_GROWTH 8 /* the most sfu_twcc_copy_stamped adds to a packet */

/* Copies the RTP packet src (parsed as h) into dst so that it carries the transport-wide
 * sequence number `seq` as one-byte-form extension `id` (1..14), in the one copy the
 * forwarding makes anyway:
 *  - an element with id `id`, or with `in_id` (the id the publisher numbered it with, 0
 *    if none), of two octets is rewritten in place (and renamed to `id`);
 *  - otherwise the element is added: into trailing padding of the block when it fits,
 *    else the block (or a new one) grows by 4 octets and the payload moves behind it;
 *  - any other element that carries `id` becomes padding, so the receiver cannot take a
 *    publisher's extension for ours.
 * A two-byte-form block is handled the same way (elements of id ≤ 255). Returns the new
 * length (≤ len + SFU_TWCC_EXT_GROWTH), or 0 if it would not fit in cap or id is 0 or
 * above 14 (the caller then sends the packet unnumbered). dst and src must not overlap. */
size_t sfu_twcc_copy_stamped(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, const sfu_rtp_header *h,
                             uint8_t id, uint8_t in_id, uint16_t seq);

/* One packet of a feedback message. */
typedef struct {
    uint16_t seq;
    bool received;
    int64_t arrival_us; /* received only: the receiver's clock (reference time + deltas) */
} sfu_twcc_status;

typedef struct {
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq, status_count;
    int32_t reference_time; /* 64 ms units, signed 24 bits */
    uint8_t fb_count;       /* feedback packet count, wraps at 256 */
} sfu_twcc_feedback;

/* Parses a transport-cc feedback packet (p: RTPFB fmt 15 from sfu_rtcp_iter_next) into
 * its header and up to max packet statuses in sequence order (seq wraps at 65536).
 * *n gets how many were written (min(status_count, max)). false, *n = 0, if p is not a
 * transport-cc feedback or is truncated or malformed (a reserved symbol, status chunks or
 * deltas running past the end). */
bool sfu_twcc_parse(const sfu_rtcp_packet *p, sfu_twcc_feedback *fb, sfu_twcc_status *out, size_t max, size_t *n);

/* The receiving side: feedback about packets base_seq, base_seq + 1 … (count of them,
 * seq wrapping at 65536) with arrival_us[i] the arrival of each on the receiver's clock
 * (≥ 0), or SFU_TWCC_NOT_RECEIVED. The reference time is the first received packet's
 * arrival in 64 ms units (its low 24 bits); arrival times are written in 250 µs ticks
 * (floor), so the parser reads back arrival_us / 250 * 250. Chunks are run-length where a
 * status repeats, else status vectors (1-bit when no large delta is among them).
 * Writes one RTPFB fmt 15 packet (padded to 32 bits) and returns its length; *covered
 * gets how many of the statuses it carries: it stops before a packet whose delta to the
 * previous received one does not fit 16 signed bits (−8.192 s … 8.19 s), before what
 * does not fit in cap, and after SFU_TWCC_MAX_STATUSES. 0 (*covered 0) if count is 0 or
 * not even the first chunk fits. */
#define SFU_TWCC_NOT_RECEIVED INT64_MIN
#define SFU_TWCC_MAX_STATUSES 1024
size_t sfu_twcc_write_feedback(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t fb_count,
                               uint16_t base_seq, const int64_t *arrival_us, size_t count, size_t *covered);

#endif
