/* The bandwidth allocator (allocator.h). */
#include "allocator.h"

#define NO_LIMIT ((int64_t)1 << 50)

typedef enum { PLAN_NORMAL, PLAN_TRIAL } plan_mode;

const char *sfu_alloc_why_name(sfu_alloc_why why)
{
    switch (why) {
    case SFU_ALLOC_WHY_NONE: return "";
    case SFU_ALLOC_WHY_BANDWIDTH: return "bandwidth";
    case SFU_ALLOC_WHY_BUDGET: return "budget";
    }
    return "";
}

static int lowest_usable(const sfu_alloc_slot_in *in)
{
    for (int l = 0; l <= in->want && l < SFU_ALLOC_MAX_LAYERS; l++)
        if (in->usable & 1u << l) return l;
    return -1;
}

static bool wants_video(const sfu_alloc_slot_in *in) { return !in->audio && in->want >= 0 && lowest_usable(in) >= 0; }

/* What a layer costs against the budget: what is sent now is kept within a tolerance (the
 * measured rates wobble); going higher needs headroom. A trial plan counts plain rates. */
static int64_t cost(const sfu_alloc_slot_in *in, const sfu_alloc_slot *st, int layer, plan_mode mode)
{
    int64_t bps = in->bps[layer];
    if (mode == PLAN_TRIAL) return bps;
    if (st->started && layer <= st->level) return bps * 100 / SFU_ALLOC_KEEP_TOLERANCE_PERCENT;
    return bps * SFU_ALLOC_UP_HEADROOM_PERCENT / 100;
}

/* Video slots wanting something, by priority (stable: slot order within a class). */
static size_t video_order(const sfu_alloc_slot_in *in, size_t n, uint8_t *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!wants_video(&in[i])) continue;
        size_t j = k++;
        for (; j > 0 && in[order[j - 1]].priority > in[i].priority; j--) order[j] = order[j - 1];
        order[j] = (uint8_t)i;
    }
    return k;
}

/* The levels the budget allows (fit[i], −1 paused) in the order of allocator.h; a
 * single-layer slot answers to the site budget only (site: that budget). */
static void plan(const sfu_alloc_slot_in *in, const sfu_alloc_slot *st, size_t n, int64_t budget, int64_t site,
                 plan_mode mode, int8_t *fit)
{
    uint8_t order[SFU_ALLOC_MAX_SLOTS];
    size_t k = video_order(in, n, order);
    int64_t left = budget, site_left = site;
    for (size_t i = 0; i < n; i++) {
        fit[i] = in[i].audio && in[i].want >= 0 ? 0 : -1;
        if (fit[i] == 0) left -= in[i].bps[0], site_left -= in[i].bps[0];
    }
    /* the lowest layers by priority: the first that does not fit pauses the rest, except
     * that a single-layer slot answers to the site budget alone: one behind a layered slot
     * the estimate could not carry is still forwarded, if the site budget has room */
    bool estimate_full = false;
    for (size_t o = 0; o < k; o++) {
        size_t i = order[o];
        int low = lowest_usable(&in[i]);
        int64_t c = cost(&in[i], &st[i], low, mode);
        if (c > site_left) break;
        if (!in[i].single_layer && (estimate_full || c > left)) {
            estimate_full = true;
            continue;
        }
        fit[i] = (int8_t)low;
        left -= in[i].bps[low];
        site_left -= in[i].bps[low];
    }
    /* then the layers above, one slot at a time up to what it asked for */
    for (size_t o = 0; o < k; o++) {
        size_t i = order[o];
        if (fit[i] < 0) continue;
        for (int l = fit[i] + 1; l <= in[i].want && l < SFU_ALLOC_MAX_LAYERS; l++) {
            if (!(in[i].usable & 1u << l)) continue;
            int64_t have = in[i].bps[fit[i]];
            if (cost(&in[i], &st[i], l, mode) > left + have) break;
            left += have - in[i].bps[l];
            fit[i] = (int8_t)l;
        }
    }
}

static int64_t site_budget(const sfu_alloc_limits *lim) { return lim->site_bps ? lim->site_bps : NO_LIMIT; }

static int64_t budget_of(const sfu_alloc_limits *lim, bool with_estimate, sfu_alloc_why *why)
{
    int64_t b = NO_LIMIT;
    *why = SFU_ALLOC_WHY_NONE;
    if (lim->site_bps) {
        b = lim->site_bps;
        *why = SFU_ALLOC_WHY_BUDGET;
    }
    if (with_estimate && lim->estimate_bps && lim->estimate_bps < b) {
        b = lim->estimate_bps;
        *why = SFU_ALLOC_WHY_BANDWIDTH;
    }
    return b;
}

static void set_level(sfu_alloc_slot *st, const sfu_alloc_slot_in *in, int level, sfu_alloc_why why)
{
    st->started = true;
    st->level = (int8_t)level;
    st->why = (uint8_t)(level < in->want ? why : SFU_ALLOC_WHY_NONE);
}

/* A normal round: down at once, up after the hold. Counts the slots that went down. */
static size_t normal_round(const sfu_alloc_limits *lim, const sfu_alloc_slot_in *in, sfu_alloc_slot *st, size_t n,
                           int64_t now, sfu_alloc_why *why_out)
{
    int8_t fit[SFU_ALLOC_MAX_SLOTS];
    sfu_alloc_why why;
    plan(in, st, n, budget_of(lim, true, &why), site_budget(lim), PLAN_NORMAL, fit);
    *why_out = why;
    size_t down = 0;
    for (size_t i = 0; i < n; i++) {
        sfu_alloc_slot *s = &st[i];
        if (in[i].want < 0 || (!in[i].audio && lowest_usable(&in[i]) < 0)) {
            *s = (sfu_alloc_slot){0}; /* nothing to send: a new source starts afresh */
            s->level = -1;
            continue;
        }
        if (!s->started || fit[i] == s->level) {
            s->up_since_us = 0;
            set_level(s, &in[i], fit[i], why);
        } else if (fit[i] < s->level) {
            s->up_since_us = 0;
            down++;
            set_level(s, &in[i], fit[i], why);
        } else if (!s->up_since_us) {
            s->up_since_us = now;
            set_level(s, &in[i], s->level, why);
        } else if (now - s->up_since_us >= SFU_ALLOC_UP_HOLD_US) {
            s->up_since_us = 0;
            set_level(s, &in[i], fit[i], why);
        } else {
            set_level(s, &in[i], s->level, why);
        }
    }
    return down;
}

/* The levels the site budget alone allows, if any is above what is sent now. */
static bool trial_plan(const sfu_alloc_limits *lim, const sfu_alloc_slot_in *in, const sfu_alloc_slot *st, size_t n,
                       int8_t *fit)
{
    sfu_alloc_why unused;
    int64_t site = budget_of(lim, false, &unused);
    plan(in, st, n, site, site, PLAN_TRIAL, fit);
    for (size_t i = 0; i < n; i++)
        if (st[i].started && fit[i] > st[i].level) return true;
    return false;
}

static void apply_trial(const sfu_alloc_slot_in *in, sfu_alloc_slot *st, size_t n, const int8_t *fit)
{
    for (size_t i = 0; i < n; i++) {
        if (!st[i].started) continue;
        st[i].up_since_us = 0;
        set_level(&st[i], &in[i], fit[i], SFU_ALLOC_WHY_BANDWIDTH);
    }
}

static void trial_over(sfu_alloc_transport *tr, bool failed, int64_t now)
{
    tr->trial_until_us = 0;
    if (failed) {
        tr->trials_failed++;
        tr->trial_wait_us = tr->trial_wait_us * 2 > SFU_ALLOC_TRIAL_WAIT_MAX_US ? SFU_ALLOC_TRIAL_WAIT_MAX_US
                                                                                : tr->trial_wait_us * 2;
        tr->next_trial_us = now + tr->trial_wait_us;
    } else {
        tr->trial_wait_us = SFU_ALLOC_TRIAL_WAIT_MIN_US;
        tr->next_trial_us = now + SFU_ALLOC_TRIAL_WAIT_MIN_US;
    }
}

bool sfu_allocate(const sfu_alloc_limits *lim, sfu_alloc_transport *tr, const sfu_alloc_slot_in *in, sfu_alloc_slot *st,
                  size_t n, int64_t now_us)
{
    if (n > SFU_ALLOC_MAX_SLOTS) n = SFU_ALLOC_MAX_SLOTS;
    if (!tr->trial_wait_us) tr->trial_wait_us = SFU_ALLOC_TRIAL_WAIT_MIN_US;
    sfu_alloc_slot before[SFU_ALLOC_MAX_SLOTS];
    for (size_t i = 0; i < n; i++) before[i] = st[i];
    int8_t fit[SFU_ALLOC_MAX_SLOTS];

    bool cut = tr->trial_until_us && lim->estimate_bps &&
               (uint64_t)lim->estimate_bps * 10 < (uint64_t)tr->trial_estimate * 9;
    if (tr->trial_until_us && !cut && now_us < tr->trial_until_us) {
        trial_plan(lim, in, st, n, fit); /* the trial follows requests and layers as they change */
        apply_trial(in, st, n, fit);
    } else {
        bool ended = tr->trial_until_us != 0;
        sfu_alloc_why why;
        size_t down = normal_round(lim, in, st, n, now_us, &why);
        if (ended) trial_over(tr, cut || down > 0, now_us);
        else if (down && why == SFU_ALLOC_WHY_BANDWIDTH) { /* the link just showed its limit */
            int64_t wait = tr->trial_wait_us > SFU_ALLOC_TRIAL_AFTER_DOWN_US ? tr->trial_wait_us
                                                                             : SFU_ALLOC_TRIAL_AFTER_DOWN_US;
            if (tr->next_trial_us < now_us + wait) tr->next_trial_us = now_us + wait;
        }
        /* held below by the estimate alone, with no sign of congestion: try more */
        if (!ended && !down && why == SFU_ALLOC_WHY_BANDWIDTH && lim->may_trial && !lim->switching &&
            now_us >= tr->next_trial_us && trial_plan(lim, in, st, n, fit)) {
            apply_trial(in, st, n, fit);
            tr->trial_until_us = now_us + SFU_ALLOC_TRIAL_US;
            tr->trial_estimate = lim->estimate_bps;
            tr->trials++;
        }
    }
    bool changed = false;
    for (size_t i = 0; i < n; i++) changed |= st[i].level != before[i].level || st[i].why != before[i].why;
    return changed;
}
