/* The slot policy of a subscriber: a fixed set of m-lines whatever the room size, and which
 * participant each shows. Pure bookkeeping over room.h; the meeting tells the engine and the
 * client what changed.
 *
 * Layout (mids in this order): chair audio, chair video, floor audio, floor video, screen,
 * DC_LOUDEST_AUDIO_SLOTS audio slots, then `gallery` video slots. */
#ifndef DC_SLOTS_H
#define DC_SLOTS_H

#include "room.h"

#define DC_PROGRAM_SLOTS 5
#define DC_LOUDEST_AUDIO_SLOTS 3
#define DC_FIXED_SLOTS (DC_PROGRAM_SLOTS + DC_LOUDEST_AUDIO_SLOTS)
_Static_assert(DC_FIXED_SLOTS + DC_GALLERY_MAX <= DC_MAX_SLOTS, "the largest layout must fit a subscribe offer");

const char *dc_slot_use_name(dc_slot_use use); /* "chair_audio" … "gallery" */

/* Creates the layout on first use and grows the gallery to subscriber->gallery (slots are
 * never removed: a smaller gallery leaves the extra ones empty). Returns true when m-lines
 * were added (a new subscribe offer is due). */
bool dc_slots_layout(dc_registry *reg, dc_participant *subscriber);

/* The room as the policy sees it; `ranked` is everyone in the room, the most recent
 * speaker first, then in joining order (the meeting sorts it once per change). */
typedef struct {
    const dc_participant *chair, *floor_holder, *screen_sharer;
    const dc_participant *const *ranked;
    size_t n_ranked;
} dc_slot_context;

/* Points every slot at what it should show now, keeping a gallery or audio slot on its
 * participant while that one still qualifies (no shuffling). Marks changed slots
 * (slot->changed) and returns true if any changed. */
bool dc_slots_assign(const dc_slot_context *ctx, dc_participant *subscriber);

#endif
