/* RFC 2198 RED payloads (see red.h). */
#include "rtp/red.h"

#define RED_F 0x80u
#define RED_HEADER_LEN 4 /* a redundant block's header */

bool sfu_red_parse(const uint8_t *payload, size_t len, sfu_red_info *out)
{
    size_t pos = 0, data_len = 0;
    unsigned n = 0;
    /* headers until the primary's one-octet header (F=0) */
    while (pos < len && (payload[pos] & RED_F)) {
        if (len - pos < RED_HEADER_LEN) return false;
        data_len += (size_t)((payload[pos + 2] & 0x03u) << 8 | payload[pos + 3]);
        pos += RED_HEADER_LEN;
        n++;
    }
    if (pos >= len || n > UINT8_MAX) return false; /* no primary header */
    uint8_t primary_pt = payload[pos] & 0x7fu;
    pos++;
    if (data_len > len - pos || len > UINT16_MAX) return false;
    out->primary_off = (uint16_t)(pos + data_len);
    out->primary_len = (uint16_t)(len - pos - data_len);
    out->primary_pt = primary_pt;
    out->n_redundant = (uint8_t)n;
    return true;
}

void sfu_red_set_block_pts(uint8_t *payload, size_t len, uint8_t pt)
{
    size_t pos = 0;
    while (pos < len && (payload[pos] & RED_F)) {
        payload[pos] = (uint8_t)(RED_F | (pt & 0x7fu));
        pos += RED_HEADER_LEN;
    }
    if (pos < len) payload[pos] = pt & 0x7fu;
}
