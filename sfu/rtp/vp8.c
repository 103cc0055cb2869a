/* VP8 payload descriptor rewriting (vp8.h). */
#include "rtp/vp8.h"

#define VP8_M 0x80

bool sfu_vp8_set_picture_id(uint8_t *payload, size_t len, const sfu_vp8_descriptor *d, uint16_t picture_id)
{
    if (!d->has_picture_id) return false;
    size_t off = d->picture_id_off;
    if (d->picture_id_15bit) {
        if (off + 2 > len) return false;
        sfu_wr16(payload + off, (uint16_t)(VP8_M << 8 | (picture_id & SFU_VP8_PICTURE_ID_MASK)));
    } else {
        if (off + 1 > len) return false;
        payload[off] = picture_id & 0x7f;
    }
    return true;
}

bool sfu_vp8_set_tl0picidx(uint8_t *payload, size_t len, const sfu_vp8_descriptor *d, uint8_t tl0picidx)
{
    if (!d->has_tl0picidx || d->tl0picidx_off >= len) return false;
    payload[d->tl0picidx_off] = tl0picidx;
    return true;
}

int16_t sfu_vp8_picture_id_diff(uint16_t a, uint16_t b, bool bits15)
{
    unsigned bits = bits15 ? 15 : 7, mask = (1u << bits) - 1;
    unsigned d = (unsigned)(b - a) & mask;
    return d >= (1u << (bits - 1)) ? (int16_t)((int)d - (int)(mask + 1)) : (int16_t)d;
}
