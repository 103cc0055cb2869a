/* The dominant speaker detector (signaling/speaker.c) on scripted timelines with a fake
 * clock: the engine's reports every 100 ms, an update after each round of reports. */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "speaker.h"

enum { A = 1, B = 2, C = 3 };
#define REPORT_MS 100
#define NO_REPORT 0 /* a DTX sender in silence sends no packets, so no report */
#define QUIET 30    /* a report of room noise (−97 dBov) */

typedef struct {
    dc_speaker_detector *d;
    int64_t now;
    int changes;        /* how many updates said the dominant speaker changed */
    int64_t changed_at; /* when the last one did */
    uint32_t rng;
} sim;

static void sim_init(sim *s)
{
    s->d = dc_speaker_new();
    s->now = 50000;
    s->changes = 0;
    s->changed_at = 0;
    s->rng = 12345;
}

static unsigned sim_random(sim *s, unsigned n)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return (s->rng >> 16) % n;
}

/* One round: A, B and C report their levels (no report for NO_REPORT), then the update. */
static void tick(sim *s, uint8_t la, uint8_t lb, uint8_t lc)
{
    s->now += REPORT_MS;
    const uint8_t levels[3] = {la, lb, lc};
    for (uint32_t k = 0; k < 3; k++)
        if (levels[k] != NO_REPORT) dc_speaker_sample(s->d, k + 1, levels[k], 0, s->now);
    if (dc_speaker_update(s->d, s->now)) {
        s->changes++;
        s->changed_at = s->now;
    }
}

static void run(sim *s, int64_t ms, uint8_t la, uint8_t lb, uint8_t lc)
{
    for (int64_t t = 0; t < ms; t += REPORT_MS) tick(s, la, lb, lc);
}

/* Ticks until key is dominant or ms passed; returns how long it took (ms + 1 if never). */
static int64_t run_until_dominant(sim *s, uint32_t key, int64_t ms, uint8_t la, uint8_t lb, uint8_t lc)
{
    int64_t start = s->now;
    while (s->now - start < ms && dc_speaker_dominant(s->d) != key) tick(s, la, lb, lc);
    return dc_speaker_dominant(s->d) == key ? s->now - start : ms + 1;
}

/* A speaks alone for 3 s and is then the dominant speaker. */
static void make_a_dominant(sim *s)
{
    run(s, 3000, 90, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s->d) == A);
}

static void test_steady_speaker_becomes_dominant(void)
{
    sim s;
    sim_init(&s);
    run(&s, 1000, QUIET, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == 0 && s.changes == 0);
    CHECK(!dc_speaker_is_speaking(s.d, A));

    int64_t start = s.now;
    run(&s, 200, 90, QUIET, QUIET);
    CHECK(dc_speaker_is_speaking(s.d, A)); /* on after 200 ms of voice */
    CHECK(!dc_speaker_is_speaking(s.d, B));
    run(&s, 700, 90, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == 0); /* 900 ms of voice is not yet steady */
    run(&s, 100, 90, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == A);
    CHECK(s.changes == 1 && s.changed_at - start == 1000);
    run(&s, 5000, 90, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == A && s.changes == 1);
    dc_speaker_free(s.d);
}

static void test_cough_never_switches(void)
{
    sim s;
    sim_init(&s);
    make_a_dominant(&s);
    /* while A talks: a loud cough, a short "vâng" */
    run(&s, 1000, 90, QUIET, QUIET);
    run(&s, 300, 90, 115, QUIET);
    run(&s, 1000, 90, QUIET, QUIET);
    run(&s, 400, 90, 95, QUIET);
    run(&s, 1000, 90, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == A);

    /* A has stopped for good: still the same */
    run(&s, 2000, QUIET, QUIET, QUIET);
    run(&s, 300, QUIET, 115, QUIET);
    run(&s, 3000, QUIET, QUIET, NO_REPORT);
    /* "vâng" turns the speaking flag on (200 ms of voice) and off 700 ms after the voice */
    run(&s, 400, QUIET, QUIET, 95);
    CHECK(dc_speaker_is_speaking(s.d, C));
    run(&s, 600, QUIET, QUIET, QUIET);
    CHECK(dc_speaker_is_speaking(s.d, C));
    run(&s, 100, QUIET, QUIET, QUIET);
    CHECK(!dc_speaker_is_speaking(s.d, C));
    /* "vâng … vâng … vâng": every one a spurt of its own */
    for (int i = 0; i < 5; i++) {
        run(&s, 400, QUIET, 95, QUIET);
        run(&s, 800, QUIET, QUIET, QUIET);
    }
    CHECK(dc_speaker_dominant(s.d) == A && s.changes == 1);
    dc_speaker_free(s.d);
}

static void test_challenger_takes_over_once(void)
{
    sim s;
    sim_init(&s);
    make_a_dominant(&s);
    /* A stops, B starts: B within 1.5 s, then exactly that one switch for 10 s */
    int64_t took = run_until_dominant(&s, B, 3000, QUIET, 90, QUIET);
    CHECK(took >= 1000 && took <= 1500);
    int changes = s.changes;
    run(&s, 10000, QUIET, 90, QUIET);
    CHECK(dc_speaker_dominant(s.d) == B && s.changes == changes && changes == 2);

    /* silence keeps the last dominant speaker, with reports (noise) or without (DTX) */
    run(&s, 10000, QUIET, QUIET, QUIET);
    run(&s, 10000, NO_REPORT, NO_REPORT, NO_REPORT);
    CHECK(dc_speaker_dominant(s.d) == B && s.changes == changes);
    CHECK(!dc_speaker_is_speaking(s.d, B));
    dc_speaker_free(s.d);
}

/* A level around 90 (85…95) with a short pause (one quiet report) now and then. */
static uint8_t talking(sim *s)
{
    if (sim_random(s, 8) == 0) return QUIET;
    return (uint8_t)(85 + sim_random(s, 11));
}

/* A becomes dominant, then B joins in at the same level and both go on for a minute; ten
 * times, with ten random pause patterns. A switch now and then is chance (the detector
 * expects ~1 in these ten minutes); a restless one switches every minute or more often. */
static void test_no_flapping_while_both_talk(void)
{
    int switches = 0;
    for (uint32_t seed = 1; seed <= 10; seed++) {
        sim s;
        sim_init(&s);
        s.rng = seed;
        make_a_dominant(&s);
        for (int i = 0; i < 600; i++) {
            uint8_t la = talking(&s), lb = talking(&s);
            tick(&s, la, lb, QUIET);
        }
        CHECK(dc_speaker_is_speaking(s.d, A) && dc_speaker_is_speaking(s.d, B));
        switches += s.changes - 1;
        dc_speaker_free(s.d);
    }
    printf("two talking at once for 10 min: %d switches\n", switches);
    CHECK(switches <= 3);
}

static void test_clearly_louder_challenger(void)
{
    sim s;
    sim_init(&s);
    run(&s, 3000, 76, QUIET, QUIET);
    CHECK(dc_speaker_dominant(s.d) == A);
    /* A goes on softly; B talks 24 dB louder: B takes over after a few seconds, once */
    int64_t took = run_until_dominant(&s, B, 6000, 76, 100, QUIET);
    CHECK(took >= 2000 && took <= 5000);
    run(&s, 20000, 76, 100, QUIET);
    CHECK(dc_speaker_dominant(s.d) == B && s.changes == 2);
    dc_speaker_free(s.d);
}

static void test_forget(void)
{
    sim s;
    sim_init(&s);
    make_a_dominant(&s);
    dc_speaker_forget(s.d, 99); /* unknown: nothing */
    dc_speaker_forget(s.d, 0);
    CHECK(dc_speaker_dominant(s.d) == A);
    dc_speaker_forget(s.d, A);
    CHECK(dc_speaker_dominant(s.d) == 0);
    CHECK(!dc_speaker_is_speaking(s.d, A) && dc_speaker_last_spoke(s.d, A) == 0);
    CHECK(dc_speaker_loudness(s.d, A) == 0);
    /* the next update reports the change to nobody */
    CHECK(dc_speaker_update(s.d, s.now + 1));
    CHECK(!dc_speaker_update(s.d, s.now + 2));
    /* C (still known after the swap inside) speaks: dominant after 1 s, no hold */
    int64_t took = run_until_dominant(&s, C, 3000, NO_REPORT, QUIET, 90);
    CHECK(took == 1000);
    /* A comes back as a new participant */
    run(&s, 500, 90, QUIET, QUIET);
    CHECK(dc_speaker_is_speaking(s.d, A) && dc_speaker_dominant(s.d) == C);
    dc_speaker_free(s.d);
}

static void test_last_spoke_ordering(void)
{
    sim s;
    sim_init(&s);
    CHECK(dc_speaker_last_spoke(s.d, A) == 0);
    run(&s, 500, 90, QUIET, QUIET);
    int64_t a_spoke = s.now;
    CHECK(dc_speaker_last_spoke(s.d, A) == a_spoke);
    run(&s, 500, QUIET, 90, QUIET);
    int64_t b_spoke = s.now;
    run(&s, 100, QUIET, QUIET, 110); /* one report of noise from C is not speaking */
    run(&s, 1000, QUIET, QUIET, QUIET);
    CHECK(dc_speaker_last_spoke(s.d, A) == a_spoke);
    CHECK(dc_speaker_last_spoke(s.d, B) == b_spoke && b_spoke > a_spoke);
    CHECK(dc_speaker_last_spoke(s.d, C) == 0);
    run(&s, 300, 90, QUIET, QUIET);
    CHECK(dc_speaker_last_spoke(s.d, A) > dc_speaker_last_spoke(s.d, B));
    CHECK(dc_speaker_last_spoke(s.d, 42) == 0);
    dc_speaker_free(s.d);
}

static void test_loudness_decays(void)
{
    sim s;
    sim_init(&s);
    CHECK(dc_speaker_loudness(s.d, A) == 0);
    run(&s, 1000, 100, QUIET, QUIET);
    CHECK(dc_speaker_loudness(s.d, A) == 100);
    CHECK(dc_speaker_loudness(s.d, B) == QUIET);
    /* no more reports: the loudness falls over 300 ms to 0 */
    run(&s, 100, NO_REPORT, QUIET, QUIET);
    uint8_t falling = dc_speaker_loudness(s.d, A);
    CHECK(falling > 0 && falling < 100);
    run(&s, 200, NO_REPORT, QUIET, QUIET);
    CHECK(dc_speaker_loudness(s.d, A) == 0);
    /* quiet reports: it settles at their level */
    run(&s, 300, QUIET, QUIET, QUIET);
    CHECK(dc_speaker_loudness(s.d, A) == QUIET);
    /* one long gap between updates (a stalled timer) */
    run(&s, 1000, 100, QUIET, QUIET);
    CHECK(!dc_speaker_update(s.d, s.now + 60000));
    CHECK(dc_speaker_loudness(s.d, A) == 0 && !dc_speaker_is_speaking(s.d, A));
    dc_speaker_free(s.d);
}

/* A sender that sets the V bit: loud reports it flags as no voice are not speech. */
static void test_voice_flag(void)
{
    dc_speaker_detector *d = dc_speaker_new();
    int64_t now = 1000;
    for (int i = 0; i < 12; i++) {
        now += REPORT_MS;
        dc_speaker_sample(d, A, 90, 100, now);
        dc_speaker_sample(d, B, 110, i == 0 ? 100 : 0, now); /* a fan, flagged voice once */
        dc_speaker_update(d, now);
    }
    CHECK(dc_speaker_dominant(d) == A);
    for (int i = 0; i < 100; i++) {
        now += REPORT_MS;
        dc_speaker_sample(d, A, 90, 0, now);   /* A's sender says: no voice now */
        dc_speaker_sample(d, B, 110, 20, now); /* one packet in five */
        dc_speaker_update(d, now);
    }
    CHECK(dc_speaker_dominant(d) == A);
    CHECK(!dc_speaker_is_speaking(d, A) && !dc_speaker_is_speaking(d, B));
    CHECK(dc_speaker_loudness(d, B) == 110); /* loud, but not speech */
    dc_speaker_free(d);
}

static void test_odd_input(void)
{
    dc_speaker_detector *d = dc_speaker_new();
    dc_speaker_sample(d, 0, 90, 100, 1000); /* key 0 is nobody */
    CHECK(dc_speaker_loudness(d, 0) == 0 && !dc_speaker_is_speaking(d, 0));
    /* a level above 127 counts as 127; a clock at 0 and one that goes back are survived */
    for (int64_t t = 0; t <= 2000; t += REPORT_MS) {
        dc_speaker_sample(d, A, 255, 0, t);
        dc_speaker_update(d, t);
    }
    CHECK(dc_speaker_loudness(d, A) == 127 && dc_speaker_dominant(d) == A);
    dc_speaker_sample(d, A, 90, 0, 500);
    dc_speaker_update(d, 400);
    dc_speaker_sample(d, A, 90, 0, 500);
    CHECK(dc_speaker_dominant(d) == A);
    dc_speaker_free(d);
    dc_speaker_free(NULL);
}

/* Random reports, departures and clock jumps: the dominant speaker is always someone present
 * (or nobody), the loudness stays in range, and the sanitizers see nothing. */
static void test_random_property(void)
{
    sim s;
    sim_init(&s);
    bool present[21] = {false};
    for (int i = 0; i < 20000; i++) {
        uint32_t key = 1 + sim_random(&s, 20);
        switch (sim_random(&s, 20)) {
        case 0: dc_speaker_forget(s.d, key), present[key] = false; break;
        case 1: s.now += sim_random(&s, 5000); break;
        case 2: s.now -= sim_random(&s, 300); break;
        default:
            dc_speaker_sample(s.d, key, (uint8_t)sim_random(&s, 256), (uint8_t)sim_random(&s, 101), s.now);
            present[key] = true;
            s.now += sim_random(&s, 30);
        }
        if (sim_random(&s, 4) == 0) dc_speaker_update(s.d, s.now);
        uint32_t dominant = dc_speaker_dominant(s.d);
        CHECK(dominant == 0 || (dominant <= 20 && present[dominant]));
        CHECK(dc_speaker_loudness(s.d, key) <= 127);
    }
    dc_speaker_free(s.d);
}

/* 250 sites: one report each per 100 ms for a simulated minute, an update per round. No
 * timing assertion (a shared machine, sanitizers): it prints what it took. */
static void test_250_participants(void)
{
    enum { N = 250 };
    sim s;
    sim_init(&s);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rounds = 0;
    for (int64_t t = 0; t < 60000; t += REPORT_MS, rounds++) {
        s.now += REPORT_MS;
        for (uint32_t k = 1; k <= N; k++) {
            /* the speaker of the moment changes every 10 s; everyone else is room noise */
            bool speaks = k == 1 + (uint32_t)(t / 10000) * 37 % N;
            dc_speaker_sample(s.d, k, speaks ? (uint8_t)(85 + sim_random(&s, 10)) : QUIET, 0, s.now);
        }
        if (dc_speaker_update(s.d, s.now)) s.changes++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("250 participants: %d rounds of 250 reports + update in %.1f ms (%.1f µs per round)\n", rounds, ms,
           ms * 1e3 / rounds);
    CHECK(s.changes == 6 && dc_speaker_dominant(s.d) == 1 + 5 * 37 % N);
    dc_speaker_free(s.d);
}

int main(void)
{
    test_steady_speaker_becomes_dominant();
    test_cough_never_switches();
    test_challenger_takes_over_once();
    test_no_flapping_while_both_talk();
    test_clearly_louder_challenger();
    test_forget();
    test_last_spoke_ordering();
    test_loudness_decays();
    test_voice_flag();
    test_odd_input();
    test_random_property();
    test_250_participants();
    return CHECK_RESULT();
}
