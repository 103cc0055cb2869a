/* The VP8 payload descriptor (RFC 7741 §4.2) built with every combination of its optional
 * fields (I with 7- and 15-bit picture ids, L, T, K), parsed back, rewritten in place
 * (picture id, TL0PICIDX) and parsed again; every truncation of each is refused, not
 * over-read (ASan watches). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rtp/rtp.h"
#include "rtp/vp8.h"

enum { F_I = 1, F_M = 2, F_L = 4, F_T = 8, F_K = 16 };

/* Writes a descriptor with the fields of `flags`, then a VP8 payload header byte (P bit:
 * delta) and two payload bytes; returns the length and the descriptor length. */
static size_t build(uint8_t *p, unsigned flags, bool key, uint16_t pid, uint8_t tl0, uint8_t tid, size_t *desc_len)
{
    size_t n = 0;
    bool x = flags & (F_I | F_L | F_T | F_K);
    p[n++] = (uint8_t)((x ? 0x80 : 0) | 0x10); /* S=1, PID=0 */
    if (x)
        p[n++] = (uint8_t)((flags & F_I ? 0x80 : 0) | (flags & F_L ? 0x40 : 0) | (flags & F_T ? 0x20 : 0) |
                           (flags & F_K ? 0x10 : 0));
    if (flags & F_I) {
        if (flags & F_M) {
            p[n++] = (uint8_t)(0x80 | (pid >> 8 & 0x7f));
            p[n++] = pid & 0xff;
        } else {
            p[n++] = pid & 0x7f;
        }
    }
    if (flags & F_L) p[n++] = tl0;
    if (flags & (F_T | F_K)) p[n++] = (uint8_t)(tid << 6 | 0x20 | 3); /* Y, KEYIDX 3 */
    *desc_len = n;
    p[n++] = key ? 0x10 : 0x11;
    p[n++] = 0x9d;
    p[n++] = 0x01;
    return n;
}

static void test_combinations(void)
{
    for (unsigned flags = 0; flags < 32; flags++) {
        if ((flags & F_M) && !(flags & F_I)) continue;
        for (int key = 0; key < 2; key++) {
            uint8_t p[16], copy[16];
            size_t desc_len;
            uint16_t pid = flags & F_M ? 0x7ffe : 0x7e;
            size_t n = build(p, flags, key, pid, 254, 2, &desc_len);
            sfu_vp8_descriptor d;
            CHECK(sfu_vp8_parse_descriptor(p, n, &d));
            CHECK(d.descriptor_len == desc_len && d.start && d.partition_id == 0 && d.keyframe == (bool)key);
            CHECK(d.has_picture_id == (bool)(flags & F_I) && d.picture_id_15bit == (bool)(flags & F_M));
            CHECK(!d.has_picture_id || d.picture_id == pid);
            CHECK(d.has_tl0picidx == (bool)(flags & F_L) && (!d.has_tl0picidx || d.tl0picidx == 254));
            CHECK(d.has_tid == (bool)(flags & F_T) && (!d.has_tid || (d.tid == 2 && d.layer_sync)));

            /* rewritten: the same layout, the new values (wrapping in the packet's width) */
            memcpy(copy, p, n);
            CHECK(sfu_vp8_set_picture_id(copy, n, &d, (uint16_t)(pid + 3)) == d.has_picture_id);
            CHECK(sfu_vp8_set_tl0picidx(copy, n, &d, 1) == d.has_tl0picidx);
            sfu_vp8_descriptor again;
            CHECK(sfu_vp8_parse_descriptor(copy, n, &again));
            CHECK(again.descriptor_len == d.descriptor_len && again.keyframe == d.keyframe);
            CHECK(again.has_tid == d.has_tid && again.tid == d.tid);
            if (d.has_picture_id) CHECK(again.picture_id == 1 && again.picture_id_15bit == d.picture_id_15bit);
            if (d.has_tl0picidx) CHECK(again.tl0picidx == 1);
            CHECK(memcmp(copy + d.descriptor_len, p + d.descriptor_len, n - d.descriptor_len) == 0);
            if (!d.has_picture_id && !d.has_tl0picidx) CHECK(memcmp(copy, p, n) == 0);

            /* every truncation up to the payload header is refused, on an exact-size heap copy */
            for (size_t cut = 0; cut <= desc_len; cut++) {
                uint8_t *heap = malloc(cut ? cut : 1);
                memcpy(heap, p, cut);
                CHECK(!sfu_vp8_parse_descriptor(heap, cut, &again));
                free(heap);
            }
        }
    }
}

static void test_picture_id_diff(void)
{
    CHECK(sfu_vp8_picture_id_diff(10, 11, true) == 1);
    CHECK(sfu_vp8_picture_id_diff(0x7fff, 0, true) == 1);
    CHECK(sfu_vp8_picture_id_diff(0, 0x7fff, true) == -1);
    CHECK(sfu_vp8_picture_id_diff(0x7f, 0, false) == 1);
    CHECK(sfu_vp8_picture_id_diff(5, 5, false) == 0);
    CHECK(sfu_vp8_picture_id_diff(100, 90, true) == -10);
}

int main(void)
{
    test_combinations();
    test_picture_id_diff();
    return CHECK_RESULT();
}
