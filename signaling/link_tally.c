/* See link_tally.h. */
#include "link_tally.h"

#include <stddef.h>

/* Bucket bounds chosen around what a province network shows: a LAN answers in a few
 * milliseconds, a commune on 4G in 50–150 ms, a failing link in seconds. */
static const double rtt_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2};
static const double jitter_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2};
/* 1 % is where concealment starts to show, 5 % where video freezes (NETWORK-TESTS.md) */
static const double loss_bounds[] = {0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void dc_link_tally_init(dc_link_tally *t)
{
    *t = (dc_link_tally){0};
    for (int d = 0; d < DC_TALLY_DIRECTIONS; d++) {
        dc_histogram_init(&t->rtt[d], rtt_bounds, COUNT(rtt_bounds));
        dc_histogram_init(&t->jitter[d], jitter_bounds, COUNT(jitter_bounds));
        dc_histogram_init(&t->loss[d], loss_bounds, COUNT(loss_bounds));
    }
}

/* What a total grew by; a total below the previous one belongs to a transport that
 * started over, so all of it is new. */
static uint64_t grown(uint64_t before, uint64_t now) { return now >= before ? now - before : now; }

void dc_link_tally_add(dc_link_tally *t, dc_tally_direction dir, const sfu_link_stats *before,
                       const sfu_link_stats *now)
{
    if ((unsigned)dir >= DC_TALLY_DIRECTIONS) return;
    t->packets_in += grown(before->packets_in, now->packets_in);
    t->octets_in += grown(before->octets_in, now->octets_in);
    t->nacks_received += grown(before->nacks_received, now->nacks_received);
    t->nack_seqs_received += grown(before->nack_seqs_received, now->nack_seqs_received);
    t->rtx_sent += grown(before->rtx_sent, now->rtx_sent);
    t->rtx_missed += grown(before->rtx_missed, now->rtx_missed);
    t->nacks_sent += grown(before->nacks_sent, now->nacks_sent);
    t->nack_seqs_sent += grown(before->nack_seqs_sent, now->nack_seqs_sent);
    t->rtx_received += grown(before->rtx_received, now->rtx_received);
    t->lost += grown(before->lost, now->lost);
    t->reports++;
    if (now->rtt_us > 0) dc_histogram_observe(&t->rtt[dir], (double)now->rtt_us / 1e6);
    /* jitter and loss come from receiver reports: none yet while both are zero and no
     * packet moved; a link that carries media and reports zero is an observation */
    bool carries = now->packets_in || now->packets_out;
    if (carries) {
        dc_histogram_observe(&t->jitter[dir], (double)now->jitter_us / 1e6);
        dc_histogram_observe(&t->loss[dir], (double)now->fraction_lost / 256.0);
    }
}
