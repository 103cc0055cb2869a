/* Arrival times by transport-wide sequence number, reported as transport-cc feedback
 * (twcc_arrivals.h). */
#include "rtp/twcc_arrivals.h"

#include "rtp/twcc.h"

_Static_assert((SFU_TWCC_ARRIVALS & (SFU_TWCC_ARRIVALS - 1)) == 0, "a power of two");
_Static_assert(SFU_TWCC_ARRIVALS <= SFU_TWCC_MAX_STATUSES, "one feedback can cover the ring");

void sfu_twcc_arrivals_init(sfu_twcc_arrivals *a)
{
    *a = (sfu_twcc_arrivals){.started = false};
    for (size_t i = 0; i < SFU_TWCC_ARRIVALS; i++) a->seq[i] = -1;
}

size_t sfu_twcc_arrivals_feedback(sfu_twcc_arrivals *a, uint8_t *buf, size_t cap, uint32_t sender_ssrc,
                                  uint32_t media_ssrc)
{
    if (!a->started || a->next > a->highest) return 0;
    int64_t arrival[SFU_TWCC_ARRIVALS];
    size_t count = (size_t)(a->highest - a->next + 1);
    for (size_t k = 0; k < count; k++) {
        int64_t s = a->next + (int64_t)k;
        size_t i = (size_t)s & (SFU_TWCC_ARRIVALS - 1);
        arrival[k] = a->seq[i] == s ? a->at_us[i] : SFU_TWCC_NOT_RECEIVED;
    }
    size_t covered;
    size_t len = sfu_twcc_write_feedback(buf, cap, sender_ssrc, media_ssrc, a->fb_count, (uint16_t)a->next, arrival,
                                         count, &covered);
    if (!len) return 0;
    a->next += (int64_t)covered;
    a->fb_count++;
    return len;
}
