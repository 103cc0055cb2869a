/* Server-wide totals of the engine's link reports (SFU_EV_LINK), for /metrics (metrics.c).
 * A report carries one transport's totals since the transport was created; the tally adds
 * what grew since that transport's previous report, so its figures only ever rise and what
 * a departed participant counted stays in (what it counted after its last report, under
 * SFU_LINK_INTERVAL_MS, is not seen). Each report with a figure is also one observation of
 * the distributions of round-trip time, jitter and reported loss, by direction. */
#ifndef DC_LINK_TALLY_H
#define DC_LINK_TALLY_H

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "sfu.h"

typedef enum { DC_TALLY_PUBLISH = 0, DC_TALLY_SUBSCRIBE = 1, DC_TALLY_DIRECTIONS } dc_tally_direction;

typedef struct {
    /* sums of the sfu_link_stats totals over every transport, departed ones too */
    uint64_t packets_in, octets_in;              /* RTP received from publishers */
    uint64_t nacks_received, nack_seqs_received; /* from subscribers */
    uint64_t rtx_sent, rtx_missed;               /* answers to them; asked but no longer cached */
    uint64_t nacks_sent, nack_seqs_sent;         /* to publishers */
    uint64_t rtx_received, lost;                 /* repaired upstream; never came */
    uint64_t reports;
    /* by dc_tally_direction: seconds, seconds, ratio 0…1 */
    dc_histogram rtt[DC_TALLY_DIRECTIONS], jitter[DC_TALLY_DIRECTIONS], loss[DC_TALLY_DIRECTIONS];
} dc_link_tally;

void dc_link_tally_init(dc_link_tally *t);
/* A transport's new report `now`; `before` is its previous one (all zero for its first). */
void dc_link_tally_add(dc_link_tally *t, dc_tally_direction dir, const sfu_link_stats *before,
                       const sfu_link_stats *now);

#endif
