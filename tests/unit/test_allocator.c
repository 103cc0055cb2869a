/* The bandwidth allocator (sfu/allocator.c) with a fake clock: priority order, the order
 * in which slots step down and pause, collapse to audio only, hysteresis under an
 * oscillating estimate, single-layer slots (with temporal levels), and trials above the estimate. Rates: layers
 * of 150 k / 500 k / 1.5 Mbit/s, audio 40 kbit/s. */
#include <string.h>

#include "allocator.h"
#include "check.h"

#define TICK_US 100000

enum { AUDIO, SCREEN, FLOOR, CHAIR, GALLERY_A, GALLERY_B, N };

static sfu_alloc_slot_in video(uint8_t priority)
{
    return (sfu_alloc_slot_in){.priority = priority, .want = 2, .usable = 7, .bps = {150000, 500000, 1500000}};
}

static void meeting_slots(sfu_alloc_slot_in *in)
{
    in[AUDIO] = (sfu_alloc_slot_in){.audio = true, .want = 0, .usable = 1, .bps = {40000}};
    in[SCREEN] = video(0);
    in[FLOOR] = video(1);
    in[CHAIR] = video(2);
    in[GALLERY_A] = video(3);
    in[GALLERY_B] = video(3);
}

static bool round_at(uint32_t estimate, uint32_t site, bool may_trial, sfu_alloc_transport *tr,
                     const sfu_alloc_slot_in *in, sfu_alloc_slot *st, size_t n, int64_t now)
{
    sfu_alloc_limits lim = {.estimate_bps = estimate, .site_bps = site, .may_trial = may_trial};
    return sfu_allocate(&lim, tr, in, st, n, now);
}

static void test_no_limit(void)
{
    sfu_alloc_slot_in in[N];
    sfu_alloc_slot st[N] = {0};
    sfu_alloc_transport tr = {0};
    meeting_slots(in);
    CHECK(round_at(0, 0, false, &tr, in, st, N, 1000));
    for (int i = SCREEN; i < N; i++) CHECK(st[i].level == 2 && st[i].why == SFU_ALLOC_WHY_NONE);
    CHECK(st[AUDIO].level == 0);
    CHECK(!round_at(0, 0, false, &tr, in, st, N, 1000 + TICK_US)); /* nothing changed */
}

/* 1.4 Mbit/s: every lowest layer, then the screen (first) one step up; the floor next in
 * line gets no more, the rest stay low. */
static void test_priority_order(void)
{
    sfu_alloc_slot_in in[N];
    sfu_alloc_slot st[N] = {0};
    sfu_alloc_transport tr = {0};
    meeting_slots(in);
    round_at(0, 1400000, false, &tr, in, st, N, 1000);
    CHECK(st[SCREEN].level == 1);
    CHECK(st[FLOOR].level == 0 && st[CHAIR].level == 0 && st[GALLERY_A].level == 0 && st[GALLERY_B].level == 0);
    CHECK(st[FLOOR].why == SFU_ALLOC_WHY_BUDGET);
    /* another order (floor first): the floor gets the step */
    sfu_alloc_slot st2[N] = {0};
    sfu_alloc_transport tr2 = {0};
    in[FLOOR].priority = 0;
    in[SCREEN].priority = 1;
    round_at(0, 1400000, false, &tr2, in, st2, N, 1000);
    CHECK(st2[FLOOR].level == 1 && st2[SCREEN].level == 0);
}

/* The budget shrinks: the gallery steps down first, then the chair…, and pauses from the
 * lowest priority up; below audio + the first slot's lowest layer only audio is left. */
static void test_step_down_and_pause_order(void)
{
    sfu_alloc_slot_in in[N];
    sfu_alloc_slot st[N] = {0};
    sfu_alloc_transport tr = {0};
    meeting_slots(in);
    int64_t now = 1000;
    round_at(0, 0, false, &tr, in, st, N, now); /* all high */
    /* 3.9 M: the screen and the floor keep high (3.04 M with audio); the others step down */
    round_at(0, 3900000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[SCREEN].level == 2 && st[FLOOR].level == 2);
    CHECK(st[CHAIR].level == 1 && st[GALLERY_A].level == 0 && st[GALLERY_B].level == 0);
    CHECK(st[GALLERY_B].why == SFU_ALLOC_WHY_BUDGET && st[SCREEN].why == SFU_ALLOC_WHY_NONE);
    /* 700 k: four lowest layers fit (40 k + 4 × 150 k), the last gallery pauses */
    round_at(0, 700000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[SCREEN].level == 0 && st[FLOOR].level == 0 && st[CHAIR].level == 0 && st[GALLERY_A].level == 0);
    CHECK(st[GALLERY_B].level == -1 && st[GALLERY_B].why == SFU_ALLOC_WHY_BUDGET);
    /* 250 k: the screen and the floor's lowest layers */
    round_at(0, 250000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[SCREEN].level == 0);
    CHECK(st[FLOOR].level == -1 && st[CHAIR].level == -1 && st[GALLERY_A].level == -1);
    in[SCREEN].want = -1; /* nobody shares: the floor holder is first, and resumes after the hold */
    round_at(0, 250000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[FLOOR].level == -1);
    int64_t from = now;
    while (st[FLOOR].level < 0 && now - from < 5000000) round_at(0, 250000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[FLOOR].level == 0 && st[CHAIR].level == -1);
    CHECK(now - from >= SFU_ALLOC_UP_HOLD_US);
    /* 150 k: below audio + the floor's lowest layer: audio only */
    round_at(0, 150000, false, &tr, in, st, N, now += TICK_US);
    CHECK(st[AUDIO].level == 0);
    for (int i = FLOOR; i < N; i++) CHECK(st[i].level == -1 && st[i].why == SFU_ALLOC_WHY_BUDGET);
}

/* An estimate swinging every 500 ms across the rate the high layer needs never lifts the
 * slot (the step up needs 2 s of headroom); a steady one does, after the hold. */
static void test_hysteresis(void)
{
    sfu_alloc_slot_in in[N]; /* (the first two used) */
    meeting_slots(in);
    in[1] = video(0);
    sfu_alloc_slot st[2] = {0};
    sfu_alloc_transport tr = {0};
    int64_t now = 1000;
    round_at(900000, 0, false, &tr, in, st, 2, now);
    CHECK(st[1].level == 1 && st[1].why == SFU_ALLOC_WHY_BANDWIDTH);
    int changes = 0;
    for (int i = 0; i < 600; i++) { /* 60 s */
        now += TICK_US;
        uint32_t estimate = (i / 5) % 2 ? 1500000 : 2000000; /* ends low */
        int8_t before = st[1].level;
        round_at(estimate, 0, false, &tr, in, st, 2, now);
        changes += st[1].level != before;
    }
    CHECK(changes == 0);
    CHECK(st[1].level == 1);
    /* 2 Mbit/s steadily: up after the hold, not before */
    int64_t from = now;
    while (st[1].level == 1 && now - from < 10000000) round_at(2000000, 0, false, &tr, in, st, 2, now += TICK_US);
    CHECK(st[1].level == 2 && st[1].why == SFU_ALLOC_WHY_NONE);
    CHECK(now - from >= SFU_ALLOC_UP_HOLD_US && now - from <= SFU_ALLOC_UP_HOLD_US + 2 * TICK_US);
    /* a dip within the tolerance keeps it; a real one takes it down at once */
    round_at(1500000 + 40000 - 50000, 0, false, &tr, in, st, 2, now += TICK_US);
    CHECK(st[1].level == 2);
    round_at(1200000, 0, false, &tr, in, st, 2, now += TICK_US);
    CHECK(st[1].level == 1);
}

/* A single-layer video slot is forwarded or paused, and only the site budget pauses it. */
static void test_single_layer(void)
{
    sfu_alloc_slot_in in[N]; /* (the first three used) */
    meeting_slots(in);
    in[1] = (sfu_alloc_slot_in){.single_layer = true, .priority = 1, .want = 0, .usable = 1, .bps = {1000000}};
    in[2] = video(2);
    sfu_alloc_slot st[3] = {0};
    sfu_alloc_transport tr = {0};
    round_at(300000, 0, false, &tr, in, st, 3, 1000);
    CHECK(st[1].level == 0);  /* the estimate does not pause it… */
    CHECK(st[2].level == -1); /* …but what it takes is gone for the next */
    round_at(0, 300000, false, &tr, in, st, 3, 1000 + TICK_US);
    CHECK(st[1].level == -1 && st[1].why == SFU_ALLOC_WHY_BUDGET); /* the site budget does */
    CHECK(st[2].level == -1); /* the order is strict: nothing after a slot that does not fit */
}

/* A layered slot the estimate cannot carry pauses the layered slots after it, but not a
 * single-layer one behind it: that one answers to the site budget alone. */
static void test_single_layer_behind_a_paused_one(void)
{
    sfu_alloc_slot_in in[N]; /* (the first four used) */
    meeting_slots(in);
    in[1] = video(1);
    in[2] = (sfu_alloc_slot_in){.single_layer = true, .priority = 2, .want = 0, .usable = 1, .bps = {150000}};
    in[3] = video(3);
    sfu_alloc_slot st[4] = {0};
    sfu_alloc_transport tr = {0};
    round_at(100000, 0, false, &tr, in, st, 4, 1000); /* audio fits, no lowest layer does */
    CHECK(st[1].level == -1 && st[1].why == SFU_ALLOC_WHY_BANDWIDTH);
    CHECK(st[2].level == 0);  /* still forwarded */
    CHECK(st[3].level == -1); /* layered, after the one that did not fit */
    round_at(0, 150000, false, &tr, in, st, 4, 1000 + TICK_US);
    CHECK(st[2].level == -1 && st[2].why == SFU_ALLOC_WHY_BUDGET); /* the site budget does pause it */
}

/* A single-layer screen share in three temporal layers (transport_budget.c gives its levels
 * T0 / T0+T1 / all, lowest first, with their rates added up): a site budget that carries
 * audio and the base layer but not more holds it at T0 (a quarter of the frames) with the
 * budget as the reason, not paused; the estimate lowers its frame rate but never pauses it;
 * without limits it returns to all frames after the hold. */
static void test_temporal_levels(void)
{
    sfu_alloc_slot_in in[N]; /* (the first three used) */
    meeting_slots(in);
    in[1] = (sfu_alloc_slot_in){
        .single_layer = true, .priority = 0, .want = 2, .usable = 7, .bps = {120000, 200000, 320000}};
    in[2] = video(1);
    sfu_alloc_slot st[3] = {0};
    sfu_alloc_transport tr = {0};
    int64_t now = 1000;
    round_at(0, 0, false, &tr, in, st, 3, now);
    CHECK(st[1].level == 2 && st[1].why == SFU_ALLOC_WHY_NONE);
    /* 220 k: audio 40 k + T0 120 k fit, T0+T1 (200 k, 190 k within the tolerance) does not */
    CHECK(round_at(0, 220000, false, &tr, in, st, 3, now += TICK_US));
    CHECK(st[1].level == 0 && st[1].why == SFU_ALLOC_WHY_BUDGET);
    CHECK(st[2].level == -1 && st[2].why == SFU_ALLOC_WHY_BUDGET); /* the floor after it: paused */
    /* 300 k: T0+T1 (236 k with headroom; 260 k free) after the hold, not at once */
    round_at(0, 300000, false, &tr, in, st, 3, now += TICK_US);
    CHECK(st[1].level == 0);
    round_at(0, 300000, false, &tr, in, st, 3, now += SFU_ALLOC_UP_HOLD_US);
    CHECK(st[1].level == 1 && st[1].why == SFU_ALLOC_WHY_BUDGET);
    /* a budget below audio + T0 pauses it (the site budget, as any single-layer slot) */
    round_at(0, 150000, false, &tr, in, st, 3, now += TICK_US);
    CHECK(st[1].level == -1 && st[1].why == SFU_ALLOC_WHY_BUDGET);
    /* the estimate alone, however low: the base frame rate (back after the hold), never a pause */
    round_at(100000, 0, false, &tr, in, st, 3, now += TICK_US);
    CHECK(st[1].level == -1);
    round_at(100000, 0, false, &tr, in, st, 3, now += SFU_ALLOC_UP_HOLD_US);
    CHECK(st[1].level == 0 && st[1].why == SFU_ALLOC_WHY_BANDWIDTH);
    /* no limit: all the frames again, after the hold */
    round_at(0, 0, false, &tr, in, st, 3, now += TICK_US);
    CHECK(st[1].level == 0);
    round_at(0, 0, false, &tr, in, st, 3, now += SFU_ALLOC_UP_HOLD_US);
    CHECK(st[1].level == 2 && st[1].why == SFU_ALLOC_WHY_NONE);
}

/* Held low by the estimate with no congestion, the allocator tries what the site budget
 * allows: a trial that meets a cut fails at once and the next waits longer; one whose
 * levels the estimate then covers stays. */
static void test_trials(void)
{
    sfu_alloc_slot_in in[N]; /* (the first two used) */
    meeting_slots(in);
    in[1] = video(0);
    sfu_alloc_slot st[2] = {0};
    sfu_alloc_transport tr = {0};
    int64_t now = 1000;
    round_at(0, 0, true, &tr, in, st, 2, now);
    CHECK(st[1].level == 2);
    round_at(300000, 0, true, &tr, in, st, 2, now += TICK_US); /* the link shows its limit */
    CHECK(st[1].level == 0 && tr.trials == 0);
    int64_t down_at = now;
    while (tr.trials == 0 && now - down_at < 10000000) round_at(300000, 0, true, &tr, in, st, 2, now += TICK_US);
    CHECK(tr.trials == 1 && st[1].level == 2);
    CHECK(now - down_at >= SFU_ALLOC_TRIAL_AFTER_DOWN_US);
    round_at(250000, 0, true, &tr, in, st, 2, now += TICK_US); /* over-use: the estimate is cut */
    CHECK(st[1].level == 0 && tr.trials_failed == 1);
    int64_t failed_at = now;
    while (tr.trials == 1 && now - failed_at < 20000000) round_at(300000, 0, true, &tr, in, st, 2, now += TICK_US);
    CHECK(now - failed_at >= 2 * SFU_ALLOC_TRIAL_WAIT_MIN_US); /* the wait doubled */
    CHECK(st[1].level == 2);
    /* the limit is gone: the estimate follows what gets through, the trial stands */
    for (int64_t t = now; now - t < SFU_ALLOC_TRIAL_US + TICK_US;)
        round_at(1800000, 0, true, &tr, in, st, 2, now += TICK_US);
    CHECK(st[1].level == 2 && tr.trials_failed == 1 && tr.trial_until_us == 0);
    /* none while a slot waits for the keyframe of its new layer */
    sfu_alloc_slot st3[2] = {0};
    sfu_alloc_transport tr3 = {0};
    round_at(0, 0, true, &tr3, in, st3, 2, now += TICK_US);
    round_at(300000, 0, true, &tr3, in, st3, 2, now += TICK_US);
    sfu_alloc_limits switching = {.estimate_bps = 300000, .may_trial = true, .switching = true};
    for (int i = 0; i < 100; i++) sfu_allocate(&switching, &tr3, in, st3, 2, now += TICK_US);
    CHECK(tr3.trials == 0 && st3[1].level == 0);
    round_at(300000, 0, true, &tr3, in, st3, 2, now += TICK_US);
    CHECK(tr3.trials == 1);
    /* no trials while the site budget is the limit */
    sfu_alloc_slot st2[2] = {0};
    sfu_alloc_transport tr2 = {0};
    for (int i = 0; i < 100; i++) round_at(3000000, 300000, true, &tr2, in, st2, 2, now += TICK_US);
    CHECK(tr2.trials == 0 && st2[1].level == 0);
}

/* A slot with nothing to send leaves the allocation and starts afresh: a new source is
 * shown at once, not after the hold. */
static void test_new_source(void)
{
    sfu_alloc_slot_in in[N]; /* (the first two used) */
    meeting_slots(in);
    in[1] = video(0);
    in[1].want = -1;
    sfu_alloc_slot st[2] = {0};
    sfu_alloc_transport tr = {0};
    round_at(0, 1000000, false, &tr, in, st, 2, 1000);
    CHECK(st[1].level == -1 && st[1].why == SFU_ALLOC_WHY_NONE);
    in[1].want = 2;
    round_at(0, 1000000, false, &tr, in, st, 2, 1000 + TICK_US);
    CHECK(st[1].level == 1);
}

int main(void)
{
    test_no_limit();
    test_priority_order();
    test_step_down_and_pause_order();
    test_hysteresis();
    test_single_layer();
    test_single_layer_behind_a_paused_one();
    test_temporal_levels();
    test_trials();
    test_new_source();
    return CHECK_RESULT();
}
