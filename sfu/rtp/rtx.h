/* RFC 4588 retransmission payload format: an RTX packet is the original packet's header
 * (with the RTX stream's SSRC, payload type and sequence number), the original sequence
 * number (OSN) in the first two payload octets, then the original payload. Pure functions
 * over caller buffers, bounds checked. */
#ifndef SFU_RTX_H
#define SFU_RTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"

#define SFU_RTX_OSN_LEN 2

/* Writes into out the RTX packet that carries `pkt` (parsed as h), with the RTX stream's
 * SSRC, payload type and sequence number; the original's timestamp, marker, CSRCs and
 * header extensions are kept, its padding dropped. `osn` is the original sequence number
 * as the receiver knows it (an SFU's rewritten one). Returns the length, 0 if cap is too
 * small. */
size_t sfu_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, const sfu_rtp_header *h, uint16_t osn,
                    uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq);

/* Turns an RTX packet (parsed as h) back into the original in place: sequence number from
 * the OSN, the given SSRC and payload type, the payload moved down over the OSN (padding
 * dropped). false if the payload is too short to hold an OSN. */
bool sfu_rtx_unwrap(uint8_t *buf, size_t *len, const sfu_rtp_header *h, uint32_t ssrc, uint8_t pt);

#endif
