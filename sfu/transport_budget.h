/* The bandwidth allocator (allocator.h) on the engine's objects: every 100 ms (the
 * router's tick), for each subscriber transport, its slots as the allocator sees them
 * (requests, the layers that arrive and their measured rates, priorities), its limits
 * (the send-side estimate once feedback came, the site budget's share), one allocation
 * round, and the result applied: a simulcast slot's target layer is capped (simulcast.c
 * reads slot->alloc), a video slot the budget cannot carry is paused (and resumes at a
 * keyframe). Every change of a slot's level or reason is reported (SFU_EV_SLOT_QUALITY).
 * Internal to sfu/. */
#ifndef SFU_TRANSPORT_BUDGET_H
#define SFU_TRANSPORT_BUDGET_H

#include "types.h"

void sfu_budget_tick(sfu_core *c, int64_t now_us);
/* One transport's round (the tick calls it for each). */
void sfu_budget_transport(sfu_transport *t, int64_t now_us);

#endif
