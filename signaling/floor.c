/* Floor control of one room (see floor.h): a queue of raised hands, oldest first, and the
 * holder with an optional deadline. Keys are non-zero; key 0 is refused everywhere. The
 * queue is a plain array kept in order: at most DC_FLOOR_MAX_HANDS entries, lowered from
 * the middle by shifting, which is cheap at that size and keeps "oldest first" obvious. */
#include "floor.h"

#include <string.h>

void dc_floor_init(dc_floor *f) { memset(f, 0, sizeof *f); }

/* Index of key's hand in the queue, or n_hands when it has none. */
static size_t hand_index(const dc_floor *f, uint32_t key)
{
    size_t i = 0;
    while (i < f->n_hands && f->hands[i] != key) i++;
    return i;
}

bool dc_floor_raise(dc_floor *f, uint32_t key, int64_t now_ms)
{
    if (key == 0 || key == f->holder || f->n_hands == DC_FLOOR_MAX_HANDS) return false;
    if (hand_index(f, key) < f->n_hands) return false;
    f->hands[f->n_hands] = key;
    f->hand_since_ms[f->n_hands] = now_ms;
    f->n_hands++;
    return true;
}

bool dc_floor_lower(dc_floor *f, uint32_t key)
{
    size_t i = hand_index(f, key);
    if (key == 0 || i == f->n_hands) return false;
    size_t after = f->n_hands - i - 1;
    memmove(&f->hands[i], &f->hands[i + 1], after * sizeof f->hands[0]);
    memmove(&f->hand_since_ms[i], &f->hand_since_ms[i + 1], after * sizeof f->hand_since_ms[0]);
    f->n_hands--;
    return true;
}

bool dc_floor_has_hand(const dc_floor *f, uint32_t key) { return key != 0 && hand_index(f, key) < f->n_hands; }

size_t dc_floor_hand_position(const dc_floor *f, uint32_t key)
{
    size_t i = hand_index(f, key);
    return key != 0 && i < f->n_hands ? i + 1 : 0;
}

/* Granting the floor to its current holder renews its time limit (from now; seconds 0 =
 * none) and keeps holder_since_ms; the return value is then key itself, so a caller that
 * closes the previous holder's gate compares it with key first. seconds < 0 counts as 0. */
uint32_t dc_floor_grant(dc_floor *f, uint32_t key, int seconds, int64_t now_ms)
{
    if (key == 0) return 0;
    uint32_t previous = f->holder;
    dc_floor_lower(f, key);
    if (previous != key) f->holder_since_ms = now_ms;
    f->holder = key;
    f->until_ms = seconds > 0 ? now_ms + (int64_t)seconds * 1000 : 0;
    return previous;
}

uint32_t dc_floor_revoke(dc_floor *f)
{
    uint32_t previous = f->holder;
    f->holder = 0;
    f->holder_since_ms = 0;
    f->until_ms = 0;
    return previous;
}

uint32_t dc_floor_next(dc_floor *f, int seconds, int64_t now_ms)
{
    if (f->n_hands == 0) return 0;
    uint32_t next = f->hands[0];
    dc_floor_grant(f, next, seconds, now_ms);
    return next;
}

uint32_t dc_floor_expire(dc_floor *f, int64_t now_ms)
{
    if (f->holder == 0 || f->until_ms == 0 || now_ms < f->until_ms) return 0;
    return dc_floor_revoke(f);
}

bool dc_floor_forget(dc_floor *f, uint32_t key)
{
    if (key == 0) return false;
    dc_floor_lower(f, key);
    if (f->holder != key) return false;
    dc_floor_revoke(f);
    return true;
}
