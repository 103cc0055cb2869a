/* What the server tells a publisher about its uplink, so that its encoder sends what the
 * link carries: transport-cc feedback (every SFU_UPLINK_FEEDBACK_US, about each packet it
 * numbered) when it negotiated transport-wide-cc, its own send-side estimate then does the
 * rest; else a fixed REMB ceiling each second (peers without transport-cc). Beside the
 * router, which calls these hooks. Internal to sfu/. */
#ifndef SFU_UPLINK_H
#define SFU_UPLINK_H

#include "rtp/twcc_arrivals.h"
#include "types.h"

#define SFU_UPLINK_FEEDBACK_US 100000

/* The peer numbers what it sends with transport-wide-cc extension ext_id (1–14; 0: it
 * does not, REMB instead). false when out of memory. */
bool sfu_uplink_set_twcc(sfu_transport *t, uint8_t ext_id);
void sfu_uplink_free(sfu_transport *t);

/* Every authenticated RTP packet from the peer (RTX and padding probes too). */
static inline void sfu_uplink_on_rtp(sfu_transport *t, const uint8_t *buf, const sfu_rtp_header *h, int64_t now)
{
    const uint8_t *val;
    size_t len;
    if (t->arrivals && sfu_rtp_find_ext(buf, h, t->twcc_in_ext_id, &val, &len) && len == 2)
        sfu_twcc_arrivals_record(t->arrivals, sfu_rd16(val), now);
}

/* The tick: feedback to each transport that numbers its packets, REMB to the others. */
void sfu_uplink_tick(sfu_core *c, int64_t now_us);

#endif
