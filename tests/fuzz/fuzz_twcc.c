/* Fuzz target: transport-cc feedback parsing on arbitrary RTCP, and the sequence-number
 * extension stamped into arbitrary RTP. Invariant violations abort. */
#include <stdlib.h>
#include <string.h>

#include "bwe/bwe.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rtp/twcc.h"

static volatile int64_t sink;

static void fuzz_feedback(const uint8_t *d, size_t n)
{
    static sfu_bwe bwe;
    static bool bwe_ready;
    if (!bwe_ready) {
        sfu_bwe_init(&bwe, 1);
        for (unsigned i = 0; i < SFU_BWE_HISTORY; i++)
            sfu_bwe_sent_packet(&bwe, sfu_bwe_take_seq(&bwe), 1000, 1 + i * 100);
        bwe_ready = true;
    }
    sfu_rtcp_iter it;
    sfu_rtcp_packet p;
    sfu_rtcp_iter_init(&it, d, n);
    while (sfu_rtcp_iter_next(&it, &p)) {
        sfu_twcc_feedback fb;
        sfu_twcc_status st[300];
        size_t max = n % 301, count = 7;
        if (!sfu_twcc_parse(&p, &fb, st, max, &count)) {
            if (count != 0) abort();
            continue;
        }
        if (count > max || count > fb.status_count) abort();
        for (size_t i = 0; i < count; i++) {
            if (st[i].seq != (uint16_t)(fb.base_seq + i)) abort();
            sink += st[i].arrival_us;
        }
        sfu_bwe_on_feedback(&bwe, st, count, 1000000);
        sfu_bwe_figures f;
        sfu_bwe_get_figures(&bwe, &f);
        if (f.estimate_bps < SFU_BWE_MIN_BPS || f.estimate_bps > SFU_BWE_MAX_BPS) abort();
    }
}

static void fuzz_stamp(const uint8_t *d, size_t n)
{
    sfu_rtp_header h;
    if (n < 2 || !sfu_rtp_parse(d + 2, n - 2, &h)) return;
    static uint8_t out[65536 + SFU_TWCC_EXT_GROWTH];
    uint8_t id = d[0] % 16, in_id = d[1] % 16;
    size_t len = n - 2, cap = len + d[1] % (SFU_TWCC_EXT_GROWTH + 1);
    size_t got = sfu_twcc_copy_stamped(out, cap, d + 2, len, &h, id, in_id, 0xbeef);
    if (got == 0) return;
    if (got > cap || got > len + SFU_TWCC_EXT_GROWTH || id == 0 || id > 14) abort();
    sfu_rtp_header h2;
    const uint8_t *val;
    size_t val_len;
    if (!sfu_rtp_parse(out, got, &h2)) abort();
    if (!sfu_rtp_find_ext(out, &h2, id, &val, &val_len) || val_len != 2 || sfu_rd16(val) != 0xbeef) abort();
    if (h2.payload_len != h.payload_len || memcmp(out + h2.payload_off, d + 2 + h.payload_off, h.payload_len)) abort();
    if (h2.ssrc != h.ssrc || h2.seq != h.seq || h2.padding != h.padding) abort();
}

/* Feedback written from arbitrary arrivals (3 octets each: lost, or a signed step in µs)
 * parses back to what was written, packet after packet, whatever the cap. */
static void fuzz_write(const uint8_t *d, size_t n)
{
    static int64_t arrival[SFU_TWCC_MAX_STATUSES + 1];
    static sfu_twcc_status st[SFU_TWCC_MAX_STATUSES + 1];
    static uint8_t buf[8192];
    if (n < 3) return;
    size_t count = 0, cap = 24 + (size_t)d[0] * 32 % 4000;
    uint16_t base = sfu_rd16(d + 1);
    int64_t t = 1000000000;
    for (size_t i = 3; i + 3 <= n && count <= SFU_TWCC_MAX_STATUSES; i += 3) {
        int32_t step = (int32_t)((uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2]) - 0x800000;
        t += (int64_t)step * 4;
        arrival[count++] = d[i] == 0xff ? SFU_TWCC_NOT_RECEIVED : t;
    }
    size_t done = 0;
    while (done < count) {
        size_t covered;
        size_t len = sfu_twcc_write_feedback(buf, cap, 1, 2, 3, (uint16_t)(base + done), arrival + done, count - done,
                                             &covered);
        if (!len) {
            if (covered || cap >= 28) abort(); /* one status always fits in 28 */
            return;
        }
        if (len > cap || len % 4 || covered == 0 || covered > count - done) abort();
        sfu_rtcp_iter it;
        sfu_rtcp_packet p;
        sfu_rtcp_iter_init(&it, buf, len);
        sfu_twcc_feedback fb;
        size_t got;
        if (!sfu_rtcp_iter_next(&it, &p) || !sfu_twcc_parse(&p, &fb, st, SFU_TWCC_MAX_STATUSES + 1, &got)) abort();
        if (got != covered || fb.base_seq != (uint16_t)(base + done)) abort();
        for (size_t i = 0; i < got; i++) {
            int64_t a = arrival[done + i];
            bool rx = a != SFU_TWCC_NOT_RECEIVED && a >= 0;
            if (st[i].received != rx) abort();
            /* the reference time wraps at 24 bits: compare within one wrap */
            if (rx && (st[i].arrival_us - a / 250 * 250) % ((int64_t)64000 << 24) != 0) abort();
        }
        done += covered;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_feedback(d, n);
    fuzz_stamp(d, n);
    fuzz_write(d, n);
    return 0;
}
