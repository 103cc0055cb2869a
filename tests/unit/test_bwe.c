/* The bandwidth estimator (sfu/bwe/bwe.c) against a simulated path: a sender that, like
 * the SFU, sends what its publishers send whatever the estimate (frames of ~1200-octet
 * packets every 33 ms), a bottleneck link (a FIFO served at a capacity, a queue limit in
 * time, random loss, 20 ms propagation) and a receiver that reports every packet's fate
 * every 50 ms as transport-cc feedback would. All in simulated time, 1 ms steps. */
#include <stdlib.h>
#include <string.h>

#include "bwe/bwe.h"
#include "check.h"

#define SIM_PACKETS 200000
#define PACKET_BYTES 1200
#define FRAME_US 33333
#define FEEDBACK_US 50000
#define PROPAGATION_US 20000

typedef struct {
    double send_bps;         /* what the sender sends */
    double capacity_bps;     /* the bottleneck; 0: unlimited */
    int64_t max_queue_us;    /* tail drop beyond this much queue */
    unsigned loss_per_mille; /* random loss before the bottleneck */
    int64_t jitter_us;       /* random extra delay (a busy receiver), order kept */
    int64_t stall_us;        /* every 2 s the receiver stalls this long, then takes all at once */
} path;

typedef struct {
    sfu_bwe bwe;
    int64_t now, link_free, last_arrival;
    int64_t arrival[SIM_PACKETS]; /* per packet number: arrival time, -1 lost */
    uint32_t sent, reported;      /* packets sent, reported so far */
    double frame_credit;
    unsigned rng;
} sim;

static unsigned rnd(sim *s) { return s->rng = s->rng * 1103515245u + 12345u, (s->rng >> 16) % 1000; }

static void sim_init(sim *s)
{
    memset(s, 0, sizeof *s);
    s->rng = 1;
    s->now = 1000000;
    sfu_bwe_init(&s->bwe, s->now);
}

static void send_packet(sim *s, const path *p)
{
    uint16_t seq = sfu_bwe_take_seq(&s->bwe);
    sfu_bwe_sent_packet(&s->bwe, seq, PACKET_BYTES, s->now);
    int64_t *arr = &s->arrival[s->sent++];
    if (rnd(s) < p->loss_per_mille) {
        *arr = -1;
        return;
    }
    if (!p->capacity_bps) {
        *arr = s->now + PROPAGATION_US + (p->jitter_us ? (int64_t)rnd(s) * p->jitter_us / 1000 : 0);
        int64_t in_cycle = *arr % 2000000;
        if (in_cycle < p->stall_us) *arr += p->stall_us - in_cycle;
        if (*arr < s->last_arrival) *arr = s->last_arrival;
        s->last_arrival = *arr;
        return;
    }
    int64_t start = s->link_free > s->now ? s->link_free : s->now;
    if (start - s->now > p->max_queue_us) {
        *arr = -1; /* the queue is full */
        return;
    }
    s->link_free = start + (int64_t)(PACKET_BYTES * 8 * 1e6 / p->capacity_bps);
    *arr = s->link_free + PROPAGATION_US;
}

/* The receiver reports everything up to the newest packet that has arrived by now. */
static void feedback(sim *s)
{
    uint32_t last = s->reported;
    for (uint32_t i = s->reported; i < s->sent; i++)
        if (s->arrival[i] >= 0 && s->arrival[i] <= s->now) last = i + 1;
    sfu_twcc_status st[2048];
    size_t n = 0;
    for (uint32_t i = s->reported; i < last && n < 2048; i++, n++)
        st[n] = (sfu_twcc_status){.seq = (uint16_t)i, .received = s->arrival[i] >= 0, .arrival_us = s->arrival[i]};
    s->reported += (uint32_t)n;
    sfu_bwe_on_feedback(&s->bwe, st, n, s->now + PROPAGATION_US);
}

/* Runs the path for `us`; returns the simulated time at which the estimate first fell
 * below `below` (or rose above `above`), -1 if never. */
static int64_t run(sim *s, const path *p, int64_t us, double below, double above)
{
    int64_t hit = -1, end = s->now + us;
    for (; s->now < end && s->sent < SIM_PACKETS - 1000; s->now += 1000) {
        if (s->now % FRAME_US < 1000) {
            s->frame_credit += p->send_bps * FRAME_US / 1e6 / 8 / PACKET_BYTES;
            for (; s->frame_credit >= 1; s->frame_credit -= 1) send_packet(s, p);
        }
        if (s->now % FEEDBACK_US == 0) feedback(s);
        sfu_bwe_figures f;
        sfu_bwe_get_figures(&s->bwe, &f);
        if (hit < 0 && ((below && f.estimate_bps < below) || (above && f.estimate_bps > above)))
            hit = s->now - (end - us);
    }
    return hit;
}

static uint32_t estimate(const sim *s)
{
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    return f.estimate_bps;
}

static void test_steady_link_rises_to_send_rate(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path p = {.send_bps = 2000000};
    run(s, &p, 10000000, 0, 0);
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    CHECK(f.acked_bps > 1900000 && f.acked_bps < 2100000);
    CHECK(f.estimate_bps >= 2000000);                   /* at least what goes through, from 1 Mbit/s */
    CHECK(f.estimate_bps <= 1.6 * f.acked_bps + 10000); /* 1.5 × the highest acknowledged rate */
    CHECK(f.loss_percent == 0 && f.usage != SFU_BWE_OVERUSE);
    /* and it stays there */
    CHECK(run(s, &p, 20000000, 1800000, 0) < 0);
    free(s);
}

static void test_bottleneck_falls_then_recovers(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path clean = {.send_bps = 1200000};
    run(s, &clean, 5000000, 0, 0);
    CHECK(estimate(s) > 1100000);
    /* 300 kbit/s with a deep queue (2 s): no loss at first, the delay grows */
    path narrow = {.send_bps = 1200000, .capacity_bps = 300000, .max_queue_us = 2000000};
    int64_t fell = run(s, &narrow, 6000000, 400000, 0);
    printf("bottleneck: below 400 kbit/s after %.2f s (estimate %u)\n", fell / 1e6, estimate(s));
    CHECK(fell >= 0 && fell <= 3000000);
    CHECK(estimate(s) < 400000 && estimate(s) >= SFU_BWE_MIN_BPS);
    /* the limit ends: the queue drains, what goes through shows the room */
    int64_t rose = run(s, &clean, 10000000, 0, 800000);
    printf("recovery: above 800 kbit/s after %.2f s (estimate %u)\n", rose / 1e6, estimate(s));
    CHECK(rose >= 0 && rose <= 8000000);
    CHECK(estimate(s) > 1100000);
    free(s);
}

/* The e2e case: a publisher sending ~600 kbit/s, a 300 kbit/s limit that comes and goes.
 * Afterwards the estimate is back above 800 kbit/s (1.33 × what is sent) within 3 s: faster
 * than GCC's 8 %/s would allow from what gets through. */
static void test_recovery_of_a_quiet_sender(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path clean = {.send_bps = 600000};
    run(s, &clean, 5000000, 0, 0);
    path narrow = {.send_bps = 600000, .capacity_bps = 300000, .max_queue_us = 50000};
    CHECK(run(s, &narrow, 5000000, 450000, 0) >= 0);
    int64_t rose = run(s, &clean, 10000000, 0, 800000);
    printf("quiet sender after the limit: above 800 kbit/s after %.2f s (estimate %u)\n", rose / 1e6, estimate(s));
    CHECK(rose >= 0 && rose < 3000000);
    free(s);
}

static void test_shallow_queue_loss_falls(void)
{
    /* a tbf-like limit: 300 kbit/s and 50 ms of queue, the rest dropped */
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path clean = {.send_bps = 1200000};
    run(s, &clean, 3000000, 0, 0);
    path narrow = {.send_bps = 1200000, .capacity_bps = 300000, .max_queue_us = 50000};
    int64_t fell = run(s, &narrow, 5000000, 400000, 0);
    printf("shallow bottleneck: below 400 kbit/s after %.2f s\n", fell / 1e6);
    CHECK(fell >= 0 && fell <= 3000000);
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    CHECK(f.loss_percent > 50);
    CHECK(f.acked_bps > 250000 && f.acked_bps < 350000);
    free(s);
}

static void test_loss_decreases(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path clean = {.send_bps = 1500000};
    run(s, &clean, 5000000, 0, 0);
    uint32_t before = estimate(s);
    path lossy = {.send_bps = 1500000, .loss_per_mille = 200};
    run(s, &lossy, 5000000, 0, 0);
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    printf("20 %% loss: %u → %u bit/s (loss %u %%)\n", before, f.estimate_bps, f.loss_percent);
    CHECK(f.loss_percent >= 12 && f.loss_percent <= 28);
    CHECK(f.estimate_bps < 0.9 * before);
    CHECK(f.estimate_bps < f.delay_based_bps); /* the loss controller decided */
    /* the loss ends: it climbs back */
    int64_t rose = run(s, &clean, 10000000, 0, 0.95 * before);
    CHECK(rose >= 0);
    free(s);
}

/* A quiet sender (300 kbit/s, far below the estimate) to a busy receiver whose arrival
 * times jitter by up to 30 ms and that stalls for 150 ms every 2 s: delay signals without
 * a queue in the path, so the estimate must not collapse to what is sent. */
static void test_quiet_sender_jitter_holds(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path quiet = {.send_bps = 300000, .jitter_us = 30000, .stall_us = 150000};
    int64_t fell = run(s, &quiet, 20000000, 600000, 0);
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    printf(
        "quiet sender, jittery receiver: estimate %u (delay %u, loss %u), acked %u, fell below 600 kbit/s at %.1f s\n",
        f.estimate_bps, f.delay_based_bps, f.loss_based_bps, f.acked_bps, fell / 1e6);
    CHECK(fell < 0);
    free(s);
}

/* A busy receiver on a wide path (it stalls for 300 ms every 2 s, then takes everything
 * at once) while we send 1.2 Mbit/s: no cut to what got through during a stall. */
static void test_receiver_stalls_hold(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path stalls = {.send_bps = 1200000, .jitter_us = 5000, .stall_us = 300000};
    int64_t fell = run(s, &stalls, 20000000, 900000, 0);
    sfu_bwe_figures f;
    sfu_bwe_get_figures(&s->bwe, &f);
    printf("receiver stalls: estimate %u (delay %u, loss %u), acked %u, fell below 900 kbit/s at %.1f s\n",
           f.estimate_bps, f.delay_based_bps, f.loss_based_bps, f.acked_bps, fell / 1e6);
    CHECK(fell < 0);
    free(s);
}

/* A quiet sender slightly over a narrow link (380 kbit/s into 300, 500 ms of queue): the
 * delay signal is weak (most gets through, little is sent), the overflowing queue's loss
 * then brings the estimate down to what gets through. */
static void test_slightly_over_capacity_falls(void)
{
    sim *s = malloc(sizeof *s);
    sim_init(s);
    path over = {.send_bps = 380000, .capacity_bps = 300000, .max_queue_us = 500000};
    int64_t fell = run(s, &over, 15000000, 350000, 0);
    printf("380 kbit/s into 300: below 350 kbit/s after %.1f s (estimate %u)\n", fell / 1e6, estimate(s));
    CHECK(fell >= 0 && fell < 10000000);
    CHECK(estimate(s) < 350000 && estimate(s) > 200000);
    free(s);
}

static void test_history_ignores_unknown_and_repeats(void)
{
    sfu_bwe b;
    sfu_bwe_init(&b, 1);
    sfu_twcc_status st[2] = {{.seq = 5, .received = false}, {.seq = 6, .received = true, .arrival_us = 10}};
    sfu_bwe_on_feedback(&b, st, 2, 1000); /* nothing was sent */
    CHECK(b.loss_window_total == 0);
    uint16_t seq = sfu_bwe_take_seq(&b);
    CHECK(seq == 0);
    sfu_bwe_sent_packet(&b, seq, 1000, 5);
    st[0] = (sfu_twcc_status){.seq = 0, .received = true, .arrival_us = 100};
    sfu_bwe_on_feedback(&b, st, 1, 2000);
    sfu_bwe_on_feedback(&b, st, 1, 3000); /* reported twice: counted once */
    CHECK(b.loss_window_total == 1);
    uint16_t again = sfu_bwe_take_seq(&b);
    sfu_bwe_unsent(&b, again); /* protection failed: no gap */
    CHECK(sfu_bwe_take_seq(&b) == again);
}

int main(void)
{
    test_steady_link_rises_to_send_rate();
    test_bottleneck_falls_then_recovers();
    test_shallow_queue_loss_falls();
    test_recovery_of_a_quiet_sender();
    test_loss_decreases();
    test_quiet_sender_jitter_holds();
    test_slightly_over_capacity_falls();
    test_receiver_stalls_hold();
    test_history_ignores_unknown_and_repeats();
    return CHECK_RESULT();
}
