/* Floor control of one room as plain state: the raised hands in order, who holds the
 * floor and until when. Pure: the meeting applies its results to the engine and tells
 * the room. Participants are keyed by an opaque non-zero uint32. */
#ifndef DC_FLOOR_H
#define DC_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_FLOOR_MAX_HANDS 1024

typedef struct {
    uint32_t hands[DC_FLOOR_MAX_HANDS]; /* raised hands, oldest first */
    int64_t hand_since_ms[DC_FLOOR_MAX_HANDS];
    size_t n_hands;
    uint32_t holder; /* 0 = nobody holds the floor */
    int64_t holder_since_ms;
    int64_t until_ms; /* 0 = no time limit */
} dc_floor;

void dc_floor_init(dc_floor *f);
/* false if already raised (or the queue is full); raising while holding the floor is refused too */
bool dc_floor_raise(dc_floor *f, uint32_t key, int64_t now_ms);
bool dc_floor_lower(dc_floor *f, uint32_t key); /* false if not raised */
bool dc_floor_has_hand(const dc_floor *f, uint32_t key);
size_t dc_floor_hand_position(const dc_floor *f, uint32_t key); /* 1-based, 0 = none */
/* Gives key the floor (its hand is lowered), replacing any holder; seconds 0 = no limit.
 * Returns the previous holder (0 = none). */
uint32_t dc_floor_grant(dc_floor *f, uint32_t key, int seconds, int64_t now_ms);
uint32_t dc_floor_revoke(dc_floor *f); /* returns the previous holder (0 = none) */
/* Grants the oldest raised hand; returns the new holder, 0 if the queue is empty (the
 * current holder then keeps the floor). */
uint32_t dc_floor_next(dc_floor *f, int seconds, int64_t now_ms);
/* Ends a holder whose time is up; returns that holder, 0 if none expired. */
uint32_t dc_floor_expire(dc_floor *f, int64_t now_ms);
/* The participant left: lowers its hand, revokes its floor. Returns true if it held the floor. */
bool dc_floor_forget(dc_floor *f, uint32_t key);

#endif
