/* Fuzz target: the VP8 payload descriptor parse and its in-place rewriters on arbitrary
 * bytes. A rewrite must stay inside the descriptor, keep its layout and read back as
 * written; any violation aborts. */
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"
#include "rtp/vp8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t copy[4096];
    if (size < 3 || size > sizeof copy) return 0;
    /* the first two bytes are the values to write, the rest the payload */
    uint16_t pid = (uint16_t)(data[0] << 8 | data[1]);
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    sfu_vp8_descriptor d;
    if (!sfu_vp8_parse_descriptor(p, n, &d)) return 0;
    if (d.descriptor_len >= n) abort();
    if (d.has_picture_id && d.picture_id_off + (d.picture_id_15bit ? 2u : 1u) > d.descriptor_len) abort();
    if (d.has_tl0picidx && d.tl0picidx_off >= d.descriptor_len) abort();
    memcpy(copy, p, n);
    bool wrote_pid = sfu_vp8_set_picture_id(copy, n, &d, pid);
    bool wrote_tl0 = sfu_vp8_set_tl0picidx(copy, n, &d, data[0]);
    if (wrote_pid != d.has_picture_id || wrote_tl0 != d.has_tl0picidx) abort();
    if (memcmp(copy + d.descriptor_len, p + d.descriptor_len, n - d.descriptor_len) != 0) abort();
    sfu_vp8_descriptor again;
    if (!sfu_vp8_parse_descriptor(copy, n, &again)) abort();
    if (again.descriptor_len != d.descriptor_len || again.keyframe != d.keyframe) abort();
    if (d.has_picture_id && again.picture_id != (pid & (d.picture_id_15bit ? 0x7fff : 0x7f))) abort();
    if (d.has_tl0picidx && again.tl0picidx != data[0]) abort();
    (void)sfu_vp8_picture_id_diff(d.picture_id, pid, d.picture_id_15bit);
    return 0;
}
