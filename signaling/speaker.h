/* Who is speaking in a room, from the RFC 6464 audio levels the engine reports for each
 * audio stream (SFU_EV_AUDIO_LEVEL, every ~100 ms for streams that carried the extension).
 * Pure: fed samples and a clock, no I/O. Two outputs:
 *   - the dominant speaker, which changes only after a challenger has spoken steadily
 *     (a cough, a door, a short "yes" never take it) and beats the current one;
 *   - recent speaking activity per participant (when each last spoke), which orders the
 *     gallery and picks the loudest audio streams.
 * Participants are keyed by an opaque non-zero uint32 (the meeting passes its own key). */
#ifndef DC_SPEAKER_H
#define DC_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dc_speaker_detector dc_speaker_detector;

dc_speaker_detector *dc_speaker_new(void);
void dc_speaker_free(dc_speaker_detector *d);

/* level: mean loudness over the report, 0 (−127 dBov, silence) … 127 (0 dBov);
 * voice_percent: share of the report's packets flagged as voice (RFC 6464 V bit). */
void dc_speaker_sample(dc_speaker_detector *d, uint32_t key, uint8_t level, uint8_t voice_percent, int64_t now_ms);
void dc_speaker_forget(dc_speaker_detector *d, uint32_t key); /* participant left */

/* Re-evaluates at now (call after samples, and on a timer ~ every 100–300 ms: silence
 * sends no samples). Returns true when the dominant speaker changed. */
bool dc_speaker_update(dc_speaker_detector *d, int64_t now_ms);
uint32_t dc_speaker_dominant(const dc_speaker_detector *d); /* 0 = none yet */

/* Is key speaking now (smoothed, with hysteresis)? */
bool dc_speaker_is_speaking(const dc_speaker_detector *d, uint32_t key);
/* When key last spoke (ms), 0 = never. */
int64_t dc_speaker_last_spoke(const dc_speaker_detector *d, uint32_t key);
/* Current smoothed loudness 0…127 (0 after silence or for unknown keys). */
uint8_t dc_speaker_loudness(const dc_speaker_detector *d, uint32_t key);

#endif
