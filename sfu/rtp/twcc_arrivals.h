/* Transport-wide congestion control, the receiving side: when each packet a peer numbered
 * with the transport-wide sequence number arrived, kept in a fixed ring until it is
 * reported to the peer in transport-cc feedback (twcc.h), so that the peer (a publishing
 * browser) can run its own send-side bandwidth estimate. Recording is a few stores per
 * packet, no allocation; a packet that arrives after its number was reported, or more than
 * SFU_TWCC_ARRIVALS numbers behind the newest, is not reported again. Pure. */
#ifndef SFU_RTP_TWCC_ARRIVALS_H
#define SFU_RTP_TWCC_ARRIVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_TWCC_ARRIVALS 1024 /* a power of two; ≤ SFU_TWCC_MAX_STATUSES */

typedef struct {
    int64_t seq[SFU_TWCC_ARRIVALS]; /* the unwrapped number held in each place (−1: none) */
    int64_t at_us[SFU_TWCC_ARRIVALS];
    bool started;
    int64_t next;    /* the first number not reported yet (unwrapped) */
    int64_t highest; /* the highest number seen (unwrapped) */
    uint8_t fb_count;
} sfu_twcc_arrivals;

void sfu_twcc_arrivals_init(sfu_twcc_arrivals *a);

/* A packet numbered seq arrived at now_us. */
static inline void sfu_twcc_arrivals_record(sfu_twcc_arrivals *a, uint16_t seq, int64_t now_us)
{
    int64_t s = a->highest + (int16_t)(seq - (uint16_t)a->highest);
    if (!a->started) {
        a->started = true;
        s = a->next = a->highest = seq;
    }
    if (s < a->next) return; /* reported already (as lost) */
    if (s > a->highest) {
        a->highest = s;
        if (s - a->next >= SFU_TWCC_ARRIVALS) a->next = s - SFU_TWCC_ARRIVALS + 1; /* older ones lost */
    }
    size_t i = (size_t)s & (SFU_TWCC_ARRIVALS - 1);
    a->seq[i] = s;
    a->at_us[i] = now_us;
}

/* Writes one feedback packet about the numbers not reported yet (up to the highest seen)
 * into buf and marks those it covers reported; 0 when there is nothing to report (or cap
 * is too small). Called until it returns 0, it reports everything. */
size_t sfu_twcc_arrivals_feedback(sfu_twcc_arrivals *a, uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                                  uint32_t media_ssrc);

#endif
