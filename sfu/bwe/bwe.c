/* Send-side bandwidth estimation of one transport: see bwe.h for the idea. The constants
 * are GCC's (draft-ietf-rmcat-gcc and the values libwebrtc ships). */
#include "bwe/bwe.h"

#include <math.h>
#include <string.h>

#define BURST_US 5000       /* packets sent this close form one group */
#define TREND_SMOOTHING 0.9 /* of the accumulated delay */
#define TREND_GAIN 4.0      /* the slope is scaled by this and by the deltas seen (≤ 60) */
#define TREND_MAX_DELTAS 60
#define THRESHOLD_START_MS 12.5
#define THRESHOLD_MIN_MS 6.0
#define THRESHOLD_MAX_MS 600.0
#define THRESHOLD_K_UP 0.0087 /* the threshold follows the trend slowly up, faster down */
#define THRESHOLD_K_DOWN 0.039
#define OVERUSE_TIME_MS 10.0
#define DECREASE_FACTOR 0.85
#define DECREASE_INTERVAL_US 200000 /* one cut per round trip or so */
#define INCREASE_PER_S 1.08
#define RECOVER_PER_S 1.25         /* back toward the level before a cut (see growth_per_s) */
#define RECOVER_FOR_US 60000000    /* … for at most this long after the cut */
#define ADDITIVE_BPS_PER_S 50000.0 /* about a packet per response time, near capacity */
#define ACKED_HEADROOM 1.5
#define ACKED_HEADROOM_BPS 10000.0
/* acknowledged/sent below this for SHORTFALL_US: the path does not carry what we send (a
 * receiver's stall of a few hundred ms also empties the acknowledged window, for a while) */
#define KEEPING_UP 0.75
#define SHORTFALL_US 500000
#define QUIET 0.5 /* sent/estimate below this: we do not test the estimate */
#define LOSS_HIGH 0.10
#define LOSS_LOW 0.02
#define LOSS_WINDOW_US 500000      /* loss is judged over this much feedback time … */
#define LOSS_WINDOW_MIN_PACKETS 20 /* … and at least this many packets */
#define LOSS_DECREASE_INTERVAL_US 300000
#define ACK_BUCKET_US 100000

void sfu_bwe_init(sfu_bwe *b, int64_t now_us)
{
    memset(b, 0, sizeof *b);
    b->threshold_ms = THRESHOLD_START_MS;
    b->time_over_using_ms = -1;
    b->delay_bps = b->loss_bps = b->estimate_bps = SFU_BWE_START_BPS;
    b->last_rate_us = b->loss_window_start_us = b->started_us = now_us;
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* --- acknowledged bitrate ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static size_t bucket_index(int64_t bucket)
{
    int64_t i = bucket % SFU_BWE_ACK_BUCKETS;
    return (size_t)(i < 0 ? i + SFU_BWE_ACK_BUCKETS : i);
}

static void rate_add(sfu_bwe_rate *r, int64_t at_us, unsigned size)
{
    int64_t bucket = floor_div(at_us, ACK_BUCKET_US);
    if (!r->started) {
        r->started = true;
        r->bucket = r->first_bucket = bucket;
    }
    if (bucket > r->bucket) {
        for (int64_t k = r->bucket + 1; k <= bucket && k <= r->bucket + SFU_BWE_ACK_BUCKETS; k++)
            r->bytes[bucket_index(k)] = 0;
        if (bucket - r->bucket > SFU_BWE_ACK_BUCKETS) r->first_bucket = bucket; /* a long silence: start over */
        r->bucket = bucket;
    }
    if (r->bucket - bucket >= SFU_BWE_ACK_BUCKETS) return; /* older than the window */
    r->bytes[bucket_index(bucket)] += size;
}

/* Over the complete buckets of the last second (the newest is still filling). */
static void rate_update(sfu_bwe_rate *r)
{
    int64_t complete = r->bucket - r->first_bucket;
    if (!r->started || complete < 2) return;
    if (complete > SFU_BWE_ACK_BUCKETS - 1) complete = SFU_BWE_ACK_BUCKETS - 1;
    uint64_t bytes = 0;
    for (int64_t k = r->bucket - complete; k < r->bucket; k++) bytes += r->bytes[bucket_index(k)];
    r->bps = (double)bytes * 8.0 * 1e6 / (double)(complete * ACK_BUCKET_US);
}

/* Growth stops at 1.5 × the acknowledged bitrate; a rate already above stays. */
static double limit_growth(const sfu_bwe *b, double before, double after)
{
    if (b->acked.bps <= 0 || after <= before) return after;
    double limit = ACKED_HEADROOM * b->acked.bps + ACKED_HEADROOM_BPS;
    return after <= limit ? after : fmax(before, limit);
}

/* Below the level the estimate had before its last cuts, growth is faster: a limit that went
 * away (the usual case on a commune's link: someone else's download ended) is not relearnt
 * at 8 %/s. Still capped at 1.5 × what gets through, so it cannot outrun what is sent. */
static double growth_per_s(sfu_bwe *b, double rate, int64_t now_us)
{
    if (b->recover_to_bps && (rate >= b->recover_to_bps || now_us - b->recover_from_us > RECOVER_FOR_US))
        b->recover_to_bps = 0;
    return b->recover_to_bps ? RECOVER_PER_S : INCREASE_PER_S;
}

/* A cut from `before`: the level to recover to (the first of a series of cuts sets it). */
static void note_cut(sfu_bwe *b, double before, int64_t now_us)
{
    if (before > b->recover_to_bps) b->recover_to_bps = before;
    b->recover_from_us = now_us;
}

/* --- delay-based: trendline and over-use detection ------------------------------------ */

/* Least-squares slope of the smoothed accumulated delay over arrival time. */
static double trend_slope(const sfu_bwe *b)
{
    double mx = 0, my = 0;
    for (unsigned i = 0; i < b->trend_n; i++) {
        mx += b->trend_x[i];
        my += b->trend_y[i];
    }
    mx /= b->trend_n;
    my /= b->trend_n;
    double num = 0, den = 0;
    for (unsigned i = 0; i < b->trend_n; i++) {
        num += (b->trend_x[i] - mx) * (b->trend_y[i] - my);
        den += (b->trend_x[i] - mx) * (b->trend_x[i] - mx);
    }
    return den > 0 ? num / den : b->slope;
}

static void update_threshold(sfu_bwe *b, double modified_trend, int64_t arrival_us)
{
    if (!b->threshold_updated_us) b->threshold_updated_us = arrival_us;
    double abs_trend = fabs(modified_trend);
    /* a spike far above the threshold (a route change, a pause) must not drag it up */
    if (abs_trend > b->threshold_ms + 15.0) {
        b->threshold_updated_us = arrival_us;
        return;
    }
    double k = abs_trend < b->threshold_ms ? THRESHOLD_K_DOWN : THRESHOLD_K_UP;
    double dt_ms = clamp((double)(arrival_us - b->threshold_updated_us) / 1000.0, 0, 100);
    b->threshold_ms = clamp(b->threshold_ms + k * (abs_trend - b->threshold_ms) * dt_ms, THRESHOLD_MIN_MS,
                            THRESHOLD_MAX_MS);
    b->threshold_updated_us = arrival_us;
}

static void detect(sfu_bwe *b, double send_delta_ms, int64_t arrival_us)
{
    if (b->num_deltas < 2) return;
    unsigned deltas = b->num_deltas < TREND_MAX_DELTAS ? b->num_deltas : TREND_MAX_DELTAS;
    double modified_trend = deltas * b->slope * TREND_GAIN;
    if (modified_trend > b->threshold_ms) {
        /* over the threshold long enough, more than once, and not already easing */
        b->time_over_using_ms = b->time_over_using_ms < 0 ? send_delta_ms / 2 : b->time_over_using_ms + send_delta_ms;
        b->overuse_count++;
        if (b->time_over_using_ms > OVERUSE_TIME_MS && b->overuse_count > 1 && b->slope >= b->prev_slope) {
            b->time_over_using_ms = 0;
            b->overuse_count = 0;
            b->usage = SFU_BWE_OVERUSE;
        }
    } else if (modified_trend < -b->threshold_ms) {
        b->time_over_using_ms = -1;
        b->overuse_count = 0;
        b->usage = SFU_BWE_UNDERUSE;
    } else {
        b->time_over_using_ms = -1;
        b->overuse_count = 0;
        b->usage = SFU_BWE_NORMAL;
    }
    b->prev_slope = b->slope;
    update_threshold(b, modified_trend, arrival_us);
}

/* A group is complete: its delay growth against the previous one goes into the trend. */
static void group_done(sfu_bwe *b)
{
    if (b->have_prev_group) {
        double send_delta_ms = (double)(b->group.last_send_us - b->prev_group.last_send_us) / 1000.0;
        double arrival_delta_ms = (double)(b->group.last_arrival_us - b->prev_group.last_arrival_us) / 1000.0;
        double delay_ms = arrival_delta_ms - send_delta_ms;
        if (b->num_deltas < 1000) b->num_deltas++;
        b->accumulated_ms += delay_ms;
        b->smoothed_ms = TREND_SMOOTHING * b->smoothed_ms + (1 - TREND_SMOOTHING) * b->accumulated_ms;
        unsigned i = (b->trend_head + b->trend_n) % SFU_BWE_TREND_WINDOW;
        if (b->trend_n == SFU_BWE_TREND_WINDOW) {
            i = b->trend_head;
            b->trend_head = (b->trend_head + 1) % SFU_BWE_TREND_WINDOW;
        } else {
            b->trend_n++;
        }
        b->trend_x[i] = (double)(b->group.last_arrival_us - b->first_arrival_us) / 1000.0;
        b->trend_y[i] = b->smoothed_ms;
        if (b->trend_n == SFU_BWE_TREND_WINDOW) b->slope = trend_slope(b);
        detect(b, send_delta_ms, b->group.last_arrival_us);
    }
    b->prev_group = b->group;
    b->have_prev_group = true;
}

static void delay_packet(sfu_bwe *b, int64_t send_us, int64_t arrival_us)
{
    if (!b->have_group) {
        b->group = (sfu_bwe_group){send_us, send_us, arrival_us};
        b->have_group = true;
        if (!b->first_arrival_us) b->first_arrival_us = arrival_us;
        return;
    }
    if (send_us < b->group.first_send_us) return; /* reordered: sent before this group */
    if (send_us - b->group.first_send_us <= BURST_US) {
        if (send_us > b->group.last_send_us) b->group.last_send_us = send_us;
        if (arrival_us > b->group.last_arrival_us) b->group.last_arrival_us = arrival_us;
        return;
    }
    group_done(b);
    b->group = (sfu_bwe_group){send_us, send_us, arrival_us};
}

/* --- rate control ----------------------------------------------------------------------- */

static void delay_rate_update(sfu_bwe *b, int64_t now_us)
{
    double dt_s = clamp((double)(now_us - b->last_rate_us) / 1e6, 0, 1);
    b->last_rate_us = now_us;
    switch (b->usage) { /* AIMD: over-use → decrease, under-use → hold, normal → increase */
    case SFU_BWE_OVERUSE: b->rate_state = SFU_BWE_DECREASE; break;
    case SFU_BWE_UNDERUSE: b->rate_state = SFU_BWE_HOLD; break;
    case SFU_BWE_NORMAL:
        if (b->rate_state != SFU_BWE_INCREASE) b->rate_state = SFU_BWE_INCREASE;
        break;
    }
    double rate = b->delay_bps, acked = b->acked.bps;
    bool short_now = acked > 0 && acked < KEEPING_UP * b->sent_rate.bps;
    if (!short_now) b->short_since_us = 0;
    else if (!b->short_since_us) b->short_since_us = now_us;
    if (b->rate_state == SFU_BWE_INCREASE) {
        /* far above the last cut's level, that level is stale */
        if (b->link_capacity_bps && rate > 1.5 * b->link_capacity_bps) b->link_capacity_bps = 0;
        bool near_capacity = b->link_capacity_bps && rate > 0.9 * b->link_capacity_bps;
        double grown = near_capacity && !b->recover_to_bps ? rate + ADDITIVE_BPS_PER_S * dt_s
                                                           : rate * pow(growth_per_s(b, rate, now_us), dt_s);
        rate = limit_growth(b, rate, grown);
        if (acked > rate) rate = acked; /* it went through without congestion */
    } else if (b->rate_state == SFU_BWE_DECREASE) {
        if (now_us - b->last_decrease_us >= DECREASE_INTERVAL_US) {
            /* less gets through than we send, for a while: the path's rate is what gets
             * through; all of it gets through, at a rate far below the estimate: the delay
             * is not ours (a busy receiver), nothing says the path is narrower than the
             * estimate; otherwise a trim */
            bool limited = short_now && now_us - b->short_since_us >= SHORTFALL_US;
            bool quiet = !limited && b->sent_rate.bps < QUIET * rate;
            double cut = DECREASE_FACTOR * (limited ? acked : fmax(rate, acked));
            if (!quiet && cut < rate) {
                note_cut(b, rate, now_us);
                rate = cut;
                b->link_capacity_bps = limited ? acked : rate;
                b->last_decrease_us = now_us;
            }
        }
        b->rate_state = SFU_BWE_HOLD;
        b->usage = SFU_BWE_NORMAL; /* one cut per detection */
    }
    b->delay_bps = clamp(rate, SFU_BWE_MIN_BPS, SFU_BWE_MAX_BPS);
}

static void loss_rate_update(sfu_bwe *b, int64_t now_us)
{
    if (b->loss_window_total < LOSS_WINDOW_MIN_PACKETS || now_us - b->loss_window_start_us < LOSS_WINDOW_US) return;
    double dt_s = clamp((double)(now_us - b->loss_window_start_us) / 1e6, 0, 1);
    double loss = (double)b->loss_window_lost / b->loss_window_total;
    b->loss_fraction = loss;
    b->loss_window_lost = b->loss_window_total = 0;
    b->loss_window_start_us = now_us;
    double rate = b->loss_bps;
    if (loss > LOSS_HIGH) {
        if (now_us - b->last_loss_decrease_us >= LOSS_DECREASE_INTERVAL_US) {
            /* cut what we estimate now, but not below most of what still gets through */
            rate = fmax(b->estimate_bps * (1 - 0.5 * loss), DECREASE_FACTOR * b->acked.bps);
            rate = fmin(rate, b->estimate_bps);
            note_cut(b, b->estimate_bps, now_us);
            b->last_loss_decrease_us = now_us;
        }
    } else if (loss < LOSS_LOW) {
        rate = fmax(limit_growth(b, rate, rate * pow(growth_per_s(b, rate, now_us), dt_s)), b->acked.bps);
    }
    b->loss_bps = clamp(rate, SFU_BWE_MIN_BPS, SFU_BWE_MAX_BPS);
}

/* --- feedback ----------------------------------------------------------------------------- */

void sfu_bwe_on_feedback(sfu_bwe *b, const sfu_twcc_status *st, size_t n, int64_t now_us)
{
    for (size_t i = 0; i < n; i++) {
        sfu_bwe_sent *e = &b->sent[st[i].seq % SFU_BWE_HISTORY];
        if (e->send_us == 0 || e->seq != st[i].seq || e->reported) continue;
        e->reported = true;
        b->loss_window_total++;
        rate_add(&b->sent_rate, e->send_us, e->size);
        if (!st[i].received) {
            b->loss_window_lost++;
            continue;
        }
        rate_add(&b->acked, st[i].arrival_us, e->size);
        delay_packet(b, e->send_us, st[i].arrival_us);
    }
    rate_update(&b->acked);
    rate_update(&b->sent_rate);
    delay_rate_update(b, now_us);
    loss_rate_update(b, now_us);
    b->estimate_bps = fmin(b->delay_bps, b->loss_bps);
    b->feedbacks++;
}

void sfu_bwe_get_figures(const sfu_bwe *b, sfu_bwe_figures *out)
{
    *out = (sfu_bwe_figures){.estimate_bps = (uint32_t)b->estimate_bps,
                             .delay_based_bps = (uint32_t)b->delay_bps,
                             .loss_based_bps = (uint32_t)b->loss_bps,
                             .acked_bps = (uint32_t)b->acked.bps,
                             .loss_percent = (uint8_t)lround(b->loss_fraction * 100),
                             .usage = b->usage,
                             .feedbacks = b->feedbacks};
}
