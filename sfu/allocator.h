/* The bandwidth allocator: the one place that spends a subscriber transport's budget
 * over its slots. Pure logic over plain numbers (no engine objects, no clock of its own),
 * so tests drive it with a fake clock; sfu/transport_budget.c feeds it the engine's slots
 * on the router's tick and applies what it decides.
 *
 * The budget is the lower of the bandwidth estimate toward the subscriber and the
 * technician's site budget. It is spent in a fixed order:
 *   1. audio: every audio slot's measured rate is reserved first (RED included: it is in
 *      the rate);
 *   2. each video slot's lowest usable layer, by priority (a smaller number first; the
 *      signaling side ranks floor, screen, chair and gallery per room); when one does not
 *      fit, it and every slot after it are paused — lowest priority paused first; when
 *      even the first does not fit, all video pauses (audio plus the last picture);
 *   3. the layers above, slot by slot in the same order, each up to what it asked for:
 *      so when the budget shrinks, lower priorities step down first.
 * A single-layer stream has one layer: it is forwarded or paused, and only the site
 * budget pauses it (also when it comes after a layered slot the estimate could not
 * carry): the estimate also falls with random loss, which loss repair answers, and a
 * black tile would be worse than a lossy one. A single-layer VP8 stream sent with
 * temporal layers (a screen share) has their levels as its layers — T0, T0+T1, all, each
 * level's rate the sum (sfu/temporal.h): its lowest level answers to the site budget as
 * above, the levels above to the whole budget, so the estimate lowers its frame rate
 * only.
 *
 * Hysteresis: a slot steps down at once when its level no longer fits (with a small
 * tolerance, since measured rates wobble); it steps up only when the higher level fits
 * with UP_HEADROOM to spare, continuously for SFU_ALLOC_UP_HOLD_US.
 *
 * Trials: the estimator cannot see bandwidth the server is not using (it grows to at most
 * 1.5 × what gets through), so a subscriber held on a low layer would stay there after its
 * link recovers. When the estimate is the limit and nothing signals congestion, the
 * allocator tries what the site budget alone would allow for SFU_ALLOC_TRIAL_US; an
 * estimate cut during the trial, or levels that do not fit once it ends, fail it, and the
 * next trial waits twice as long (SFU_ALLOC_TRIAL_WAIT_MIN_US up to _MAX_US). No trial
 * starts while a slot still waits for the keyframe of the layer it was last moved to. */
#ifndef SFU_ALLOCATOR_H
#define SFU_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_ALLOC_MAX_LAYERS 3
#define SFU_ALLOC_UP_HOLD_US 2000000
#define SFU_ALLOC_TRIAL_US 2500000
#define SFU_ALLOC_TRIAL_WAIT_MIN_US 2000000
#define SFU_ALLOC_TRIAL_WAIT_MAX_US 6000000
#define SFU_ALLOC_TRIAL_AFTER_DOWN_US 3000000 /* at least, after the estimate lowered a slot */
#define SFU_ALLOC_UP_HEADROOM_PERCENT 118     /* a step up needs this share of its rate free */
#define SFU_ALLOC_KEEP_TOLERANCE_PERCENT 105  /* what is sent now stays while within this */

/* Why a slot gets less than it asked for. */
typedef enum {
    SFU_ALLOC_WHY_NONE = 0,
    SFU_ALLOC_WHY_BANDWIDTH, /* the estimate toward the subscriber */
    SFU_ALLOC_WHY_BUDGET,    /* the site budget a technician set */
} sfu_alloc_why;

/* A slot as the allocator sees it this round. */
typedef struct {
    bool audio;                         /* reserved first, never paused by the allocator */
    bool single_layer;                  /* video of one encoding: forwarded or paused (by the site budget) */
    uint8_t priority;                   /* video: smaller first */
    int8_t want;                        /* the highest layer asked for and arriving; −1: nothing to send */
    uint8_t usable;                     /* bit per layer that may be chosen (arriving, ≤ want) */
    uint32_t bps[SFU_ALLOC_MAX_LAYERS]; /* each layer's rate (audio, single layer: [0]) */
} sfu_alloc_slot_in;

/* A slot's allocation, kept between rounds (the caller owns it, zeroed at first). */
typedef struct {
    bool started;        /* level has been set once */
    int8_t level;        /* the highest layer allowed now; −1: paused */
    uint8_t why;         /* sfu_alloc_why: why level < want (NONE otherwise) */
    int64_t up_since_us; /* a step up has fitted since (0: not) */
} sfu_alloc_slot;

/* A transport's limits this round; 0: none. */
typedef struct {
    uint32_t estimate_bps; /* the send-side estimate, once feedback came */
    uint32_t site_bps;     /* the site budget's share of this transport */
    bool may_trial;        /* the estimator sees no congestion now (no over-use, little loss) */
    bool switching;        /* a slot still waits for the keyframe of a layer it was moved to */
} sfu_alloc_limits;

/* A transport's trial state, kept between rounds (zeroed at first). */
typedef struct {
    int64_t trial_until_us;  /* a trial runs until then (0: none) */
    uint32_t trial_estimate; /* the estimate when it began */
    int64_t next_trial_us;   /* none before */
    int64_t trial_wait_us;   /* the wait before the next trial (doubles with each failure) */
    uint32_t trials, trials_failed;
} sfu_alloc_transport;

/* One round over a transport's n slots (in[i] and st[i] belong together) at now_us.
 * Returns true when some slot's level or reason changed. n ≤ SFU_ALLOC_MAX_SLOTS; the
 * slots after that are left as they are. */
#define SFU_ALLOC_MAX_SLOTS 64
bool sfu_allocate(const sfu_alloc_limits *lim, sfu_alloc_transport *tr, const sfu_alloc_slot_in *in, sfu_alloc_slot *st,
                  size_t n, int64_t now_us);

const char *sfu_alloc_why_name(sfu_alloc_why why); /* "", "bandwidth", "budget" */

#endif
