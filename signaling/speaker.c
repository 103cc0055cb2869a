/* Who is speaking (see speaker.h): a small, explainable detector over the engine's audio
 * level reports (one per audio stream every ~100 ms: mean loudness and the share of
 * packets the sender's own voice detector flagged).
 *
 * After Volfin & Cohen's dominant speaker identification (as in Jitsi and mediasoup: speech
 * activity compared on an immediate, a medium and a long time scale, a switch only when the
 * challenger leads on all of them) and the simpler accumulate-and-hold detectors, with the
 * scales made concrete:
 *   - a report (100 ms): is it voice? loud enough, and flagged as voice by senders that
 *     flag at all;
 *   - a talk spurt: the speaking flag goes on after 200 ms of uninterrupted voice and off
 *     after 700 ms without any, so the pauses between words and sentences do not end it;
 *     a spurt is "steady" once it holds 1 s of voice;
 *   - the medium window (3 s): the mean loudness of the voice in it, silence counting as 0,
 *     so it grows with both loudness and talk time.
 * The dominant speaker changes only to a steady challenger (a cough, a door, a short "vâng"
 * never make 1 s of voice), and only if the current one has been silent for 1.5 s, or the
 * challenger's medium window has beaten the current one's by a quarter for 1.5 s on end.
 * Two people talking at once at similar levels therefore do not take turns: a breath or a
 * short pause costs the current one little of 3 s, and only for a moment.
 *
 * Each participant keeps two rings of 100 ms slots (loudness, and loudness of voice), so
 * memory per participant is fixed and silence (no reports: DTX, a muted sender, a lost
 * stream) is simply empty slots as time advances. Lookup by key is a linear scan of a
 * packed key array: a few hundred comparisons, cheaper than hashing at our room sizes
 * (≤ 300). dc_speaker_update is O(participants). */
#include "speaker.h"

#include <stdlib.h>
#include <string.h>

/* One slot per engine report (SFU_AUDIO_LEVEL_INTERVAL_MS). */
#define SLOT_MS 100
#define RING_SLOTS 32 /* a power of two, ≥ every window below */
/* Smoothed loudness: mean over the last 300 ms, a syllable or two. */
#define LOUDNESS_SLOTS 3
/* The medium window, 3 s: long enough that the pauses of someone who goes on talking weigh
 * little, short enough that a clearly more active speaker overtakes within a few seconds. */
#define MEDIUM_SLOTS 30
/* A report is voice when louder than −55 dBov (127 − 55): speech reaches a working
 * microphone at −45…−15 dBov, a quiet room's noise stays below. Without a noise-floor
 * estimate a constant loud noise counts as voice unless the sender flags voice (V bit). */
#define VOICE_LEVEL 72
/* When the sender uses the V bit (seen set at least once on that stream), a report is voice
 * only if at least half of its packets were flagged. Senders that never set it (vad=off,
 * some encoders) are judged on loudness alone. */
#define VOICE_PERCENT 50
/* A report covers the time since the previous one, but at most 150 ms: the engine reports
 * every 100 ms (150 leaves room for timer jitter), so a longer gap before it was silence
 * (no packets), not voice. */
#define MAX_SPAN_MS 150
/* Speaking flag hysteresis: on after 200 ms of uninterrupted voice (two reports), off after
 * 700 ms without voice (longer than the pause between sentences). */
#define SPEAKING_ON_MS 200
#define SPEAKING_OFF_MS 700
/* A challenger must have 1 s of voice in its current spurt: a cough or a short "yes"
 * (< 400 ms) never gets there. */
#define STEADY_MS 1000
/* The current dominant speaker silent this long yields to any steady challenger. */
#define DOMINANT_SILENT_MS 1500
/* Otherwise the challenger's medium window must exceed the current one's by a quarter, and
 * by at least MEDIUM_MIN_LEAD level units (~dB at full talk time) when both are quiet. */
#define MEDIUM_LEAD_DIVISOR 4
#define MEDIUM_MIN_LEAD 8
/* … and keep that lead for 1.5 s: a window that pulls ahead for a moment (the current
 * speaker took a breath while the other went on) is noise, not a change of turn. With two
 * people talking at once at the same level, with random pauses, this leaves ~1 switch in
 * 8 minutes (1 s: 1 in 4; none: 1.5 a minute); a 24 dB louder challenger takes over in ~4.5 s. */
#define AHEAD_MS 1500

#define NEVER INT64_MIN

_Static_assert((RING_SLOTS & (RING_SLOTS - 1)) == 0 && RING_SLOTS >= MEDIUM_SLOTS && RING_SLOTS >= LOUDNESS_SLOTS,
               "the rings hold every window");

typedef struct {
    uint8_t level[RING_SLOTS]; /* highest loudness reported in each 100 ms slot */
    uint8_t voice[RING_SLOTS]; /* same, 0 where the report was not voice */
    int64_t slot;              /* slot number (ms / SLOT_MS) the rings are current to */
    int64_t last_sample_ms;    /* NEVER before the first report */
    int64_t run_start_ms;      /* start of the current uninterrupted voice, NEVER if none */
    int64_t last_voice_ms;     /* end of the last report that was voice */
    int64_t spurt_voice_ms;    /* voice in the current talk spurt (while speaking) */
    int64_t last_spoke_ms;     /* last voice while speaking, NEVER if never */
    int64_t ahead_since_ms;    /* since when its medium window has beaten the dominant one's */
    bool speaking;
    bool vad_in_use; /* the sender sets the V bit */
} speaker;

struct dc_speaker_detector {
    uint32_t *keys; /* packed, parallel to speakers */
    speaker *speakers;
    size_t n, cap;
    uint32_t dominant;
    bool dominant_lost; /* the dominant speaker left since the last update */
};

dc_speaker_detector *dc_speaker_new(void) { return calloc(1, sizeof(dc_speaker_detector)); }

void dc_speaker_free(dc_speaker_detector *d)
{
    if (!d) return;
    free(d->keys);
    free(d->speakers);
    free(d);
}

static speaker *find(const dc_speaker_detector *d, uint32_t key)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->keys[i] == key) return &d->speakers[i];
    return NULL;
}

/* Allocates on a participant's first report only. NULL when out of memory (the report is
 * then ignored). */
static speaker *find_or_add(dc_speaker_detector *d, uint32_t key, int64_t now_ms)
{
    speaker *s = find(d, key);
    if (s) return s;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        uint32_t *keys = realloc(d->keys, cap * sizeof *keys);
        if (!keys) return NULL;
        d->keys = keys;
        speaker *speakers = realloc(d->speakers, cap * sizeof *speakers);
        if (!speakers) return NULL;
        d->speakers = speakers;
        d->cap = cap;
    }
    s = &d->speakers[d->n];
    memset(s, 0, sizeof *s);
    s->slot = now_ms / SLOT_MS;
    s->last_sample_ms = s->run_start_ms = s->last_voice_ms = s->last_spoke_ms = s->ahead_since_ms = NEVER;
    d->keys[d->n++] = key;
    return s;
}

/* A slot number's place in the rings; slot numbers may be negative (a clock near 0 looking
 * back), so the power-of-two mask rather than %. */
static size_t ring_at(int64_t slot) { return (size_t)((uint64_t)slot & (RING_SLOTS - 1)); }

/* Moves the rings forward to now: the slots passed since are silence. */
static void advance(speaker *s, int64_t now_ms)
{
    int64_t slot = now_ms / SLOT_MS;
    if (slot <= s->slot) return; /* same slot, or a clock that went back: keep the rings */
    int64_t gap = slot - s->slot;
    for (int64_t i = 1; i <= gap && i <= RING_SLOTS; i++) {
        s->level[ring_at(s->slot + i)] = s->voice[ring_at(s->slot + i)] = 0;
    }
    s->slot = slot;
}

/* Sum of a ring over the last n slots up to the current one. */
static unsigned ring_sum(const uint8_t *ring, int64_t slot, int n)
{
    unsigned sum = 0;
    for (int i = 0; i < n; i++) sum += ring[ring_at(slot - i)];
    return sum;
}

static unsigned medium_activity(const speaker *s) { return ring_sum(s->voice, s->slot, MEDIUM_SLOTS) / MEDIUM_SLOTS; }

/* Ends the talk spurt after SPEAKING_OFF_MS without voice. */
static void settle(speaker *s, int64_t now_ms)
{
    if (s->speaking && now_ms - s->last_voice_ms >= SPEAKING_OFF_MS) {
        s->speaking = false;
        s->spurt_voice_ms = 0;
    }
}

void dc_speaker_sample(dc_speaker_detector *d, uint32_t key, uint8_t level, uint8_t voice_percent, int64_t now_ms)
{
    if (!d || key == 0) return;
    speaker *s = find_or_add(d, key, now_ms);
    if (!s) return;
    if (level > 127) level = 127;
    int64_t span = SLOT_MS;
    if (s->last_sample_ms != NEVER) {
        span = now_ms - s->last_sample_ms;
        if (span < 0) span = 0;
        if (span > MAX_SPAN_MS) span = MAX_SPAN_MS;
    }
    s->last_sample_ms = now_ms;
    if (voice_percent > 0) s->vad_in_use = true;
    bool voice = level >= VOICE_LEVEL && (!s->vad_in_use || voice_percent >= VOICE_PERCENT);

    advance(s, now_ms);
    size_t at = ring_at(s->slot);
    if (level > s->level[at]) s->level[at] = level;
    if (voice && level > s->voice[at]) s->voice[at] = level;

    if (!voice) {
        s->run_start_ms = NEVER;
        settle(s, now_ms);
        return;
    }
    /* the run goes on if the previous report was voice too and no silence gap came between */
    bool run_goes_on = s->run_start_ms != NEVER && now_ms - s->last_voice_ms <= MAX_SPAN_MS;
    if (!run_goes_on) s->run_start_ms = now_ms - span;
    s->last_voice_ms = now_ms;
    if (s->speaking) {
        s->spurt_voice_ms += span;
    } else if (now_ms - s->run_start_ms >= SPEAKING_ON_MS) {
        s->speaking = true;
        s->spurt_voice_ms = now_ms - s->run_start_ms;
    }
    if (s->speaking) s->last_spoke_ms = now_ms;
}

void dc_speaker_forget(dc_speaker_detector *d, uint32_t key)
{
    if (!d || key == 0) return;
    speaker *s = find(d, key);
    if (!s) return;
    size_t i = (size_t)(s - d->speakers);
    d->n--;
    d->keys[i] = d->keys[d->n];
    d->speakers[i] = d->speakers[d->n];
    if (d->dominant == key) {
        d->dominant = 0;
        d->dominant_lost = true;
    }
}

/* How far above the current dominant speaker's medium window a challenger's must be. */
static unsigned lead_over(unsigned current)
{
    unsigned lead = current / MEDIUM_LEAD_DIVISOR;
    return current + (lead < MEDIUM_MIN_LEAD ? MEDIUM_MIN_LEAD : lead);
}

bool dc_speaker_update(dc_speaker_detector *d, int64_t now_ms)
{
    if (!d) return false;
    bool changed = d->dominant_lost;
    d->dominant_lost = false;

    const speaker *cur = NULL;
    for (size_t i = 0; i < d->n; i++) {
        advance(&d->speakers[i], now_ms);
        settle(&d->speakers[i], now_ms);
        if (d->keys[i] == d->dominant) cur = &d->speakers[i];
    }
    bool cur_silent = !cur || cur->last_voice_ms == NEVER || now_ms - cur->last_voice_ms >= DOMINANT_SILENT_MS;
    unsigned bar = cur ? lead_over(medium_activity(cur)) : 0;

    /* the most active steady challenger that may take over now */
    size_t best = d->n;
    unsigned best_activity = 0;
    for (size_t i = 0; i < d->n; i++) {
        speaker *s = &d->speakers[i];
        if (s == cur) continue;
        bool steady = s->speaking && s->spurt_voice_ms >= STEADY_MS;
        unsigned activity = medium_activity(s);
        if (!steady || activity < bar) {
            s->ahead_since_ms = NEVER;
            if (!steady || !cur_silent) continue;
        } else if (s->ahead_since_ms == NEVER) {
            s->ahead_since_ms = now_ms;
        }
        bool may_take = cur_silent || now_ms - s->ahead_since_ms >= AHEAD_MS;
        if (may_take && (best == d->n || activity > best_activity)) best = i, best_activity = activity;
    }
    if (best == d->n) return changed;
    d->dominant = d->keys[best];
    for (size_t i = 0; i < d->n; i++) d->speakers[i].ahead_since_ms = NEVER; /* they were ahead of the old one */
    return true;
}

uint32_t dc_speaker_dominant(const dc_speaker_detector *d) { return d ? d->dominant : 0; }

bool dc_speaker_is_speaking(const dc_speaker_detector *d, uint32_t key)
{
    const speaker *s = d && key ? find(d, key) : NULL;
    return s && s->speaking;
}

int64_t dc_speaker_last_spoke(const dc_speaker_detector *d, uint32_t key)
{
    const speaker *s = d && key ? find(d, key) : NULL;
    return s && s->last_spoke_ms != NEVER ? s->last_spoke_ms : 0;
}

uint8_t dc_speaker_loudness(const dc_speaker_detector *d, uint32_t key)
{
    const speaker *s = d && key ? find(d, key) : NULL;
    if (!s) return 0;
    return (uint8_t)(ring_sum(s->level, s->slot, LOUDNESS_SLOTS) / LOUDNESS_SLOTS);
}
