/* What a receiver knows of one incoming RTP stream (RFC 3550 §6.4.1, appendix A.3 and
 * A.8): the extended highest sequence number, packets received and lost, interarrival
 * jitter and the last sender report, for the receiver reports the SFU sends its
 * publishers; and the list of missing sequence numbers it asks the publisher to resend
 * (generic NACK, RFC 4585), each retried a few times spaced by the round trip and given
 * up after a while. Pure: the clock is given, no allocation, fixed size. */
#ifndef SFU_RECV_STATS_H
#define SFU_RECV_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtcp.h"

#define SFU_RECV_MISSING_MAX 128 /* sequence numbers waited for at once */
#define SFU_RECV_NACK_TRIES 5
#define SFU_RECV_NACK_GIVE_UP_US 1000000
#define SFU_RECV_GAP_MAX 1000 /* a jump larger than this is a restart, not a loss */

typedef struct {
    uint16_t seq;
    uint8_t tries;
    int64_t first_us, next_us;
} sfu_recv_missing;

typedef struct {
    uint32_t clock_rate; /* RTP timestamp units per second */
    bool started;
    uint16_t max_seq;
    uint32_t cycles; /* wrap count, shifted left by 16 */
    uint32_t base_seq;
    uint32_t received, expected_prior, received_prior;
    bool has_transit;
    int64_t transit;   /* arrival − RTP timestamp, in timestamp units */
    uint32_t jitter16; /* jitter × 16 (appendix A.8) */
    uint32_t last_sr;  /* middle 32 bits of the last SR's NTP time, 0 if none */
    int64_t last_sr_us;
    sfu_recv_missing missing[SFU_RECV_MISSING_MAX];
    size_t n_missing;
    uint64_t lost_total; /* sequence numbers that never came (given up on) */
} sfu_recv_stats;

void sfu_recv_init(sfu_recv_stats *s, uint32_t clock_rate);
/* A packet arrived (or a repaired one: `repaired` skips jitter, whose arrival time says
 * nothing of the path). `track_missing` adds the gaps it reveals to the missing list.
 * Returns whether the packet is worth forwarding: not a duplicate of the newest, and, if
 * repaired, one that was missing (a sender also resends what arrived, e.g. as probing). */
bool sfu_recv_on_packet(sfu_recv_stats *s, uint16_t seq, uint32_t rtp_ts, int64_t now_us, bool repaired,
                        bool track_missing);
void sfu_recv_on_sr(sfu_recv_stats *s, uint64_t ntp, int64_t now_us);
/* The report block for the source `ssrc` now; starts the next interval (fraction lost). */
void sfu_recv_report(sfu_recv_stats *s, uint32_t ssrc, int64_t now_us, sfu_rtcp_report_block *out);
/* Sequence numbers to ask for now (ascending, at most max), each retried every retry_us;
 * those tried SFU_RECV_NACK_TRIES times or missing for SFU_RECV_NACK_GIVE_UP_US are
 * dropped from the list. */
size_t sfu_recv_due_nacks(sfu_recv_stats *s, int64_t now_us, int64_t retry_us, uint16_t *out, size_t max);

/* Round trip from a report block about a stream we send (LSR/DLSR, RFC 3550 §6.4.1),
 * `ntp_now` our NTP time now; -1 if the block carries no LSR. In microseconds. */
int64_t sfu_rtt_from_report(const sfu_rtcp_report_block *rb, uint64_t ntp_now);

/* NTP time (RFC 3550: seconds since 1900 in 32.32 fixed point) of a microsecond clock
 * whose zero is `epoch_ntp`. */
uint64_t sfu_ntp_of(int64_t now_us, uint64_t epoch_ntp);

#endif
