/* Rewriting the RFC 7741 VP8 payload descriptor in place: the picture id and TL0PICIDX a
 * simulcast slot renumbers so that a layer switch shows the decoder one continuous run.
 * Parsing is sfu_vp8_parse_descriptor (rtp.h); these write only the fields the parse
 * found, inside the bounds it checked. Pure functions over caller buffers (fuzzed). */
#ifndef SFU_RTP_VP8_H
#define SFU_RTP_VP8_H

#include "rtp/rtp.h"

#define SFU_VP8_PICTURE_ID_MASK 0x7fff /* 15-bit picture ids (what browsers send) */

/* Writes picture_id (in the width the packet has: 7 or 15 bits, the M bit kept) where d
 * says it is; false, nothing written, if the packet has none. */
bool sfu_vp8_set_picture_id(uint8_t *payload, size_t len, const sfu_vp8_descriptor *d, uint16_t picture_id);
/* Writes TL0PICIDX; false, nothing written, if the packet has none. */
bool sfu_vp8_set_tl0picidx(uint8_t *payload, size_t len, const sfu_vp8_descriptor *d, uint8_t tl0picidx);

/* Forward distance from a to b in the picture id space of the packet (7 or 15 bits),
 * read as signed: > 0 when b is newer than a. */
int16_t sfu_vp8_picture_id_diff(uint16_t a, uint16_t b, bool bits15);

#endif
