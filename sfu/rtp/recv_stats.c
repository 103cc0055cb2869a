/* Receive statistics and the missing list (recv_stats.h). */
#include "rtp/recv_stats.h"

#include <string.h>

void sfu_recv_init(sfu_recv_stats *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->clock_rate = clock_rate;
}

static bool forget_missing(sfu_recv_stats *s, uint16_t seq)
{
    for (size_t i = 0; i < s->n_missing; i++) {
        if (s->missing[i].seq != seq) continue;
        memmove(&s->missing[i], &s->missing[i + 1], (s->n_missing - i - 1) * sizeof s->missing[0]);
        s->n_missing--;
        return true;
    }
    return false;
}

/* The list is kept in arrival order of the gaps, i.e. ascending; a full list drops its
 * oldest entries (the least likely to still be useful). */
static void add_missing(sfu_recv_stats *s, uint16_t seq, int64_t now_us)
{
    if (s->n_missing == SFU_RECV_MISSING_MAX) {
        memmove(&s->missing[0], &s->missing[1], (SFU_RECV_MISSING_MAX - 1) * sizeof s->missing[0]);
        s->n_missing--;
        s->lost_total++;
    }
    s->missing[s->n_missing++] = (sfu_recv_missing){.seq = seq, .first_us = now_us, .next_us = now_us};
}

static void update_jitter(sfu_recv_stats *s, uint32_t rtp_ts, int64_t now_us)
{
    int64_t arrival = now_us * (int64_t)s->clock_rate / 1000000;
    int64_t transit = arrival - (int64_t)rtp_ts;
    if (s->has_transit) {
        int64_t d = transit - s->transit;
        if (d < 0) d = -d;
        if (d > (int64_t)s->clock_rate * 10) d = 0; /* a timestamp jump (new source), not jitter */
        s->jitter16 += (uint32_t)(d - (int64_t)((s->jitter16 + 8) >> 4));
    }
    s->transit = transit;
    s->has_transit = true;
}

bool sfu_recv_on_packet(sfu_recv_stats *s, uint16_t seq, uint32_t rtp_ts, int64_t now_us, bool repaired,
                        bool track_missing)
{
    if (!s->started) {
        s->started = true;
        s->max_seq = seq;
        s->base_seq = seq;
        s->received = 1;
        if (!repaired) update_jitter(s, rtp_ts, now_us);
        return true;
    }
    uint16_t delta = (uint16_t)(seq - s->max_seq);
    if (delta == 0) return false; /* a duplicate */
    if (delta < 0x8000) {         /* newer */
        if (delta > SFU_RECV_GAP_MAX) {
            s->n_missing = 0; /* the source restarted its numbering: start over */
        } else if (track_missing) {
            for (uint16_t m = (uint16_t)(s->max_seq + 1); m != seq; m++) add_missing(s, m, now_us);
        }
        if (seq < s->max_seq) s->cycles += 1u << 16;
        s->max_seq = seq;
    } else {
        bool was_missing = forget_missing(s, seq); /* late or repaired */
        if (repaired && !was_missing) return false;
    }
    s->received++;
    if (!repaired) update_jitter(s, rtp_ts, now_us);
    return true;
}

void sfu_recv_on_sr(sfu_recv_stats *s, uint64_t ntp, int64_t now_us)
{
    s->last_sr = (uint32_t)(ntp >> 16);
    s->last_sr_us = now_us;
}

void sfu_recv_report(sfu_recv_stats *s, uint32_t ssrc, int64_t now_us, sfu_rtcp_report_block *out)
{
    uint32_t extended = s->cycles + s->max_seq;
    uint32_t expected = s->started ? extended - s->base_seq + 1 : 0;
    int64_t lost = (int64_t)expected - s->received;
    uint32_t expected_interval = expected - s->expected_prior;
    uint32_t received_interval = s->received - s->received_prior;
    int64_t lost_interval = (int64_t)expected_interval - received_interval;
    s->expected_prior = expected;
    s->received_prior = s->received;
    uint8_t fraction = 0;
    if (expected_interval && lost_interval > 0) fraction = (uint8_t)((lost_interval << 8) / expected_interval);
    uint32_t dlsr = 0;
    if (s->last_sr) dlsr = (uint32_t)((now_us - s->last_sr_us) * 65536 / 1000000);
    *out = (sfu_rtcp_report_block){.ssrc = ssrc,
                                   .fraction_lost = fraction,
                                   .cumulative_lost = lost > 0x7fffff ? 0x7fffff : (int32_t)lost,
                                   .highest_seq = extended,
                                   .jitter = s->jitter16 >> 4,
                                   .lsr = s->last_sr,
                                   .dlsr = dlsr};
}

size_t sfu_recv_due_nacks(sfu_recv_stats *s, int64_t now_us, int64_t retry_us, uint16_t *out, size_t max)
{
    size_t n = 0, kept = 0;
    for (size_t i = 0; i < s->n_missing; i++) {
        sfu_recv_missing m = s->missing[i];
        if (m.tries >= SFU_RECV_NACK_TRIES || now_us - m.first_us >= SFU_RECV_NACK_GIVE_UP_US) {
            s->lost_total++;
            continue; /* given up */
        }
        if (now_us >= m.next_us && n < max) {
            out[n++] = m.seq;
            m.tries++;
            m.next_us = now_us + retry_us;
        }
        s->missing[kept++] = m;
    }
    s->n_missing = kept;
    return n;
}

int64_t sfu_rtt_from_report(const sfu_rtcp_report_block *rb, uint64_t ntp_now)
{
    if (!rb->lsr) return -1;
    uint32_t now_mid = (uint32_t)(ntp_now >> 16);
    int64_t rtt = (int64_t)(uint32_t)(now_mid - rb->lsr - rb->dlsr); /* 1/65536 s */
    if (rtt > 65536 * 10) return -1;                                 /* nonsense (or > 10 s) */
    return rtt * 1000000 / 65536;
}

uint64_t sfu_ntp_of(int64_t now_us, uint64_t epoch_ntp)
{
    uint64_t secs = (uint64_t)(now_us / 1000000), frac_us = (uint64_t)(now_us % 1000000);
    return epoch_ntp + (secs << 32) + (frac_us << 32) / 1000000;
}
