/* Send-side bandwidth estimation of one transport (the idea of Google Congestion Control,
 * draft-ietf-rmcat-gcc, as libwebrtc runs it; our own code): every packet sent is
 * remembered by its transport-wide sequence number (size, send time) in a fixed ring;
 * transport-cc feedback tells which arrived and when. Two controllers read it:
 *
 *  - delay-based: packets sent within 5 ms form a group; the growth of the one-way delay
 *    from group to group is accumulated and smoothed, and the slope of that over the last
 *    20 groups (a trendline) is compared with an adaptive threshold: over-use (a queue is
 *    building) cuts the rate to 0.85 × what was acknowledged, under-use holds it, normal
 *    lets it grow (8 %/s, or ~50 kbit/s per second near the last cut's level; 25 %/s while
 *    below the level it had before its last cuts, for up to a minute after them, since
 *    without probing a limit that went away is otherwise relearnt slowly);
 *  - loss-based: over > 10 % loss the rate is cut by half the loss fraction, under 2 % it
 *    may grow again.
 *
 * The estimate is the lower of the two, between 50 kbit/s and 20 Mbit/s. It does not grow
 * beyond 1.5 × the acknowledged bitrate (what the receiver got over the last second): we
 * can only vouch for what we have seen go through; but sending less for a while (a quiet
 * publisher) does not lower it either. While nothing signals congestion, what went through
 * is a floor: a forwarding SFU does not pace to its estimate, so once a limit is gone the
 * acknowledged rate shows it at once. A cut goes to 0.85 × the acknowledged bitrate when
 * clearly less gets through than we send, for half a second (a queue or a limit in the
 * path, not a receiver's stall); when what we
 * send gets through, a delay signal trims the estimate by 15 % (not below 0.85 × what gets
 * through), and is ignored while we send less than half the estimate: jitter of a busy
 * receiver tells nothing of rates we are not even trying, and without probing an estimate
 * cut to a quiet sender's rate could never grow back (growth is capped by what gets
 * through).
 *
 * Pure and in memory (tested with synthetic feedback, tests/unit/test_bwe.c); times are
 * the caller's clock (send, now) and the receiver's clock (arrival), in microseconds. */
#ifndef SFU_BWE_H
#define SFU_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/twcc.h"

#define SFU_BWE_HISTORY 1024 /* sent packets remembered: seconds of video at a few Mbit/s */
#define SFU_BWE_TREND_WINDOW 20
#define SFU_BWE_ACK_BUCKETS 10 /* 100 ms each */
#define SFU_BWE_START_BPS 1000000
#define SFU_BWE_MIN_BPS 50000
#define SFU_BWE_MAX_BPS 20000000

typedef enum { SFU_BWE_NORMAL = 0, SFU_BWE_OVERUSE, SFU_BWE_UNDERUSE } sfu_bwe_usage;

typedef struct {
    int64_t send_us; /* 0: empty */
    uint16_t seq, size;
    bool reported;
} sfu_bwe_sent;

typedef struct {
    int64_t first_send_us, last_send_us, last_arrival_us;
} sfu_bwe_group;

/* Bytes per 100 ms over the last second of some clock: a bitrate. */
typedef struct {
    uint32_t bytes[SFU_BWE_ACK_BUCKETS];
    int64_t bucket, first_bucket; /* the newest bucket, the first ever */
    bool started;
    double bps; /* over the complete buckets; 0 until two are */
} sfu_bwe_rate;

typedef struct sfu_bwe {
    uint16_t next_seq; /* the transport-wide sequence number of the next packet */
    sfu_bwe_sent sent[SFU_BWE_HISTORY];

    /* delay-based: groups, trendline, detector, rate control */
    bool have_group, have_prev_group;
    sfu_bwe_group group, prev_group;
    double accumulated_ms, smoothed_ms;
    double trend_x[SFU_BWE_TREND_WINDOW], trend_y[SFU_BWE_TREND_WINDOW];
    unsigned trend_n, trend_head, num_deltas;
    int64_t first_arrival_us;
    double slope, prev_slope, threshold_ms, time_over_using_ms;
    int64_t threshold_updated_us; /* arrival clock; 0: never */
    unsigned overuse_count;
    sfu_bwe_usage usage;
    enum { SFU_BWE_HOLD, SFU_BWE_INCREASE, SFU_BWE_DECREASE } rate_state;
    double delay_bps, link_capacity_bps; /* capacity: the level of the last cut, 0 unknown */
    int64_t short_since_us;              /* less acknowledged than sent since (0: not) */
    double recover_to_bps;               /* the level before the last cuts (0: none) */
    int64_t recover_from_us;             /* the last cut */
    int64_t last_rate_us, last_decrease_us;

    /* loss-based */
    double loss_bps;
    unsigned loss_window_lost, loss_window_total;
    int64_t loss_window_start_us, last_loss_decrease_us;
    double loss_fraction; /* of the last complete window */

    /* the reported packets: received ones by arrival (the acknowledged bitrate), all of
     * them by send time (what we sent, for comparison) */
    sfu_bwe_rate acked, sent_rate;

    double estimate_bps;
    int64_t started_us;
    uint32_t feedbacks; /* messages taken */
} sfu_bwe;

/* What the estimator shows (the signaling side gets these in SFU_EV_BANDWIDTH). */
typedef struct {
    uint32_t estimate_bps, delay_based_bps, loss_based_bps, acked_bps;
    uint8_t loss_percent; /* of the last loss window */
    sfu_bwe_usage usage;
    uint32_t feedbacks; /* feedback messages taken so far: 0, the estimate is a guess */
} sfu_bwe_figures;

void sfu_bwe_init(sfu_bwe *b, int64_t now_us);

/* The per-packet part (forwarding path): takes the next sequence number for a packet
 * about to be sent; sfu_bwe_sent_packet records it once it is (size on the wire). */
static inline uint16_t sfu_bwe_take_seq(sfu_bwe *b) { return b->next_seq++; }
static inline void sfu_bwe_sent_packet(sfu_bwe *b, uint16_t seq, size_t size, int64_t now_us)
{
    sfu_bwe_sent *e = &b->sent[seq % SFU_BWE_HISTORY];
    *e = (sfu_bwe_sent){
        .send_us = now_us ? now_us : 1, .seq = seq, .size = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size};
}
/* The number was taken but the packet did not leave (protection failed): gives it back
 * when it was the last one taken, so the receiver sees no gap. */
static inline void sfu_bwe_unsent(sfu_bwe *b, uint16_t seq)
{
    if ((uint16_t)(b->next_seq - 1) == seq) b->next_seq = seq;
}

/* One transport-cc feedback message's statuses (sfu_twcc_parse), at now_us. Statuses of
 * packets not (or no longer) in the history, or already reported, are ignored. */
void sfu_bwe_on_feedback(sfu_bwe *b, const sfu_twcc_status *st, size_t n, int64_t now_us);

void sfu_bwe_get_figures(const sfu_bwe *b, sfu_bwe_figures *out);

#endif
