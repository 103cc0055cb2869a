/* Fuzz target: the RFC 2198 RED parse and the block payload type rewrite on arbitrary
 * bytes. The primary must lie inside the payload and end it; a rewrite must leave every
 * data octet as it was and parse back alike; any violation aborts. */
#include <stdlib.h>
#include <string.h>

#include "rtp/red.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t copy[4096];
    if (size < 1 || size > sizeof copy) return 0;
    /* the first byte is the payload type to write, the rest the payload */
    uint8_t pt = data[0] & 0x7f;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    sfu_red_info r;
    if (!sfu_red_parse(p, n, &r)) return 0;
    if ((size_t)r.primary_off + r.primary_len != n) abort();
    size_t headers = (size_t)r.n_redundant * 4 + 1;
    if (r.primary_off < headers) abort();
    memcpy(copy, p, n);
    sfu_red_set_block_pts(copy, n, pt);
    if (memcmp(copy + headers, p + headers, n - headers) != 0) abort();
    sfu_red_info again;
    if (!sfu_red_parse(copy, n, &again)) abort();
    if (again.primary_off != r.primary_off || again.primary_len != r.primary_len || again.primary_pt != pt ||
        again.n_redundant != r.n_redundant)
        abort();
    return 0;
}
