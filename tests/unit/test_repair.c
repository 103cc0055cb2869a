/* The leaves of loss repair, without an engine: the retransmission cache (wrap-around of
 * sequence numbers and of its ring, misses), RFC 4588 wrapping and unwrapping, the NACK
 * and receiver report writers read back by the parsers, and receive statistics (loss
 * fraction, jitter, the missing list and its retries, which repaired packets are worth
 * forwarding) from crafted sequences. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "rtp/recv_stats.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rtp/rtx.h"
#include "rtx_cache.h"

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t len)
{
    memset(buf, 0, len);
    buf[0] = 0x80;
    buf[1] = 96;
    sfu_wr16(buf + 2, seq);
    sfu_wr32(buf + 4, ts);
    sfu_wr32(buf + 8, ssrc);
    for (size_t i = 12; i < len; i++) buf[i] = (uint8_t)(seq + i);
    return len;
}

static void test_cache(void)
{
    sfu_rtx_cache *c = sfu_rtx_cache_new();
    CHECK(c != NULL);
    if (!c) return;
    CHECK(sfu_rtx_cache_memory() >= SFU_RTX_CACHE_BYTES);
    /* ≥ 1 s of 2 Mbit/s */
    CHECK(SFU_RTX_CACHE_BYTES >= 2000000 / 8);
    uint8_t pkt[1200];
    size_t len;
    CHECK(sfu_rtx_cache_get(c, 0, &len) == NULL); /* empty: a miss, even for seq 0 */

    /* across the sequence number wrap */
    for (uint32_t i = 0; i < 100; i++) {
        uint16_t seq = (uint16_t)(65500 + i);
        sfu_rtx_cache_put(c, seq, pkt, make_rtp(pkt, seq, i, 1, 1000 + i % 7));
    }
    for (uint32_t i = 0; i < 100; i++) {
        uint16_t seq = (uint16_t)(65500 + i);
        const uint8_t *got = sfu_rtx_cache_get(c, seq, &len);
        make_rtp(pkt, seq, i, 1, 1000 + i % 7);
        CHECK(got && len == 1000 + i % 7 && !memcmp(got, pkt, len));
    }
    CHECK(sfu_rtx_cache_get(c, 64, &len) == NULL); /* never put */

    /* the ring turns: 1200-octet packets, the oldest are overwritten, the newest whole */
    uint16_t first = 100, n = 2000;
    for (uint16_t i = 0; i < n; i++)
        sfu_rtx_cache_put(c, (uint16_t)(first + i), pkt, make_rtp(pkt, (uint16_t)(first + i), i, 1, 1200));
    size_t whole = 0;
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t *got = sfu_rtx_cache_get(c, (uint16_t)(first + i), &len);
        if (!got) {
            CHECK(whole == 0); /* misses are the oldest only */
            continue;
        }
        make_rtp(pkt, (uint16_t)(first + i), i, 1, 1200);
        CHECK(len == 1200 && !memcmp(got, pkt, len));
        whole++;
    }
    /* as many as the ring holds (bounded by the index too) */
    size_t fit = SFU_RTX_CACHE_BYTES / 1200;
    if (fit > SFU_RTX_CACHE_ENTRIES) fit = SFU_RTX_CACHE_ENTRIES;
    CHECK(whole + 1 >= fit && whole <= fit);
    /* an index entry taken by a later packet: the older seq is a miss, not the wrong packet */
    CHECK(sfu_rtx_cache_get(c, (uint16_t)(first + n - 1 - SFU_RTX_CACHE_ENTRIES), &len) == NULL);
    /* too large to keep */
    uint8_t big[SFU_RTX_CACHE_PKT_MAX + 1];
    sfu_rtx_cache_put(c, 9, big, make_rtp(big, 9, 0, 1, sizeof big));
    CHECK(sfu_rtx_cache_get(c, 9, &len) == NULL);
    sfu_rtx_cache_free(c);
}

static void test_rtx_wrap(void)
{
    uint8_t pkt[300], rtx[400];
    size_t len = make_rtp(pkt, 4242, 90000, 0x1111, 200);
    pkt[1] |= 0x80; /* marker */
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(pkt, len, &h));
    size_t rlen = sfu_rtx_wrap(rtx, sizeof rtx, pkt, &h, 777, 0xabcd, 97, 5);
    CHECK(rlen == len + 2);
    sfu_rtp_header r;
    CHECK(sfu_rtp_parse(rtx, rlen, &r));
    CHECK(r.ssrc == 0xabcd && r.pt == 97 && r.seq == 5 && r.ts == 90000 && r.marker);
    CHECK(sfu_rd16(rtx + r.payload_off) == 777); /* the OSN */
    CHECK(!memcmp(rtx + r.payload_off + 2, pkt + h.payload_off, h.payload_len));
    CHECK(sfu_rtx_wrap(rtx, len, pkt, &h, 777, 0xabcd, 97, 5) == 0); /* no room */

    /* and back */
    CHECK(sfu_rtx_unwrap(rtx, &rlen, &r, 0x1111, 96));
    CHECK(rlen == len && sfu_rtp_parse(rtx, rlen, &r) && r.seq == 777 && r.ssrc == 0x1111 && r.pt == 96);
    CHECK(!memcmp(rtx + 12, pkt + 12, len - 12));
    /* an empty RTX packet (padding, for probing) has no OSN */
    uint8_t empty[12];
    make_rtp(empty, 1, 2, 3, 12);
    size_t elen = 12;
    CHECK(sfu_rtp_parse(empty, elen, &r) && !sfu_rtx_unwrap(empty, &elen, &r, 1, 96));
}

static void test_nack_rr_writers(void)
{
    uint8_t buf[256];
    /* 10, 11, 13 fit one entry (pid 10, bits 0 and 2); 27 is pid + 17: another, which 40
     * (27 + 13) joins */
    uint16_t seqs[] = {10, 11, 13, 27, 40};
    size_t len = sfu_rtcp_write_nack(buf, sizeof buf, 1, 0x2222, seqs, 5);
    sfu_rtcp_iter it;
    sfu_rtcp_packet p;
    sfu_rtcp_iter_init(&it, buf, len);
    CHECK(sfu_rtcp_iter_next(&it, &p) && p.pt == SFU_RTCP_RTPFB && p.fmt == 1 && p.media_ssrc == 0x2222);
    CHECK(sfu_rtcp_nack_count(&p) == 2);
    uint16_t pid, blp;
    CHECK(sfu_rtcp_nack_entry(&p, 0, &pid, &blp) && pid == 10 && blp == 0x5);
    CHECK(sfu_rtcp_nack_entry(&p, 1, &pid, &blp) && pid == 27 && blp == 1u << 12);
    /* across the wrap */
    uint16_t wrap[] = {65535, 0, 1};
    len = sfu_rtcp_write_nack(buf, sizeof buf, 1, 2, wrap, 3);
    sfu_rtcp_iter_init(&it, buf, len);
    CHECK(sfu_rtcp_iter_next(&it, &p) && sfu_rtcp_nack_count(&p) == 1);
    CHECK(sfu_rtcp_nack_entry(&p, 0, &pid, &blp) && pid == 65535 && blp == 0x3);

    sfu_rtcp_report_block blocks[2] = {
        {.ssrc = 5,
         .fraction_lost = 25,
         .cumulative_lost = -3,
         .highest_seq = 70000,
         .jitter = 9,
         .lsr = 77,
         .dlsr = 8},
        {.ssrc = 6, .cumulative_lost = 0x1234567}, /* saturates */
    };
    len = sfu_rtcp_write_rr(buf, sizeof buf, 0x99, blocks, 2);
    CHECK(len == 8 + 48);
    sfu_rtcp_iter_init(&it, buf, len);
    CHECK(sfu_rtcp_iter_next(&it, &p) && p.pt == SFU_RTCP_RR && p.sender_ssrc == 0x99);
    CHECK(sfu_rtcp_report_count(&p) == 2);
    sfu_rtcp_report_block rb;
    CHECK(sfu_rtcp_report_block_at(&p, 0, &rb) && rb.ssrc == 5 && rb.fraction_lost == 25 && rb.cumulative_lost == -3);
    CHECK(rb.highest_seq == 70000 && rb.jitter == 9 && rb.lsr == 77 && rb.dlsr == 8);
    CHECK(sfu_rtcp_report_block_at(&p, 1, &rb) && rb.ssrc == 6 && rb.cumulative_lost == 0x7fffff);
    CHECK(!sfu_rtcp_report_block_at(&p, 2, &rb));
}

/* 1000 packets at 50/s, every 10th lost, the odd ones arriving 2 ms late: fraction 10 % (25/256), cumulative 100, the highest seq extended past the
 * wrap; then a second interval without loss reports 0; jitter as appendix A.8 computes. */
static void test_recv_stats(void)
{
    sfu_recv_stats s;
    sfu_recv_init(&s, 90000);
    uint16_t seq0 = 65000;
    int64_t t0 = 1000000;
    double jitter = 0, prev_transit = 0;
    bool have = false;
    for (int i = 0; i < 1000; i++) {
        if (i % 10 == 5) continue;
        int64_t now = t0 + i * 20000 + (i % 2 ? 2000 : 0);
        uint32_t ts = (uint32_t)(i * 1800);
        sfu_recv_on_packet(&s, (uint16_t)(seq0 + i), ts, now, false, false);
        double transit = (double)(now * 90000 / 1000000) - ts;
        if (have) jitter += (fabs(transit - prev_transit) - jitter) / 16;
        prev_transit = transit;
        have = true;
    }
    sfu_rtcp_report_block rb;
    sfu_recv_report(&s, 0x77, t0 + 21 * 1000000, &rb);
    CHECK(rb.ssrc == 0x77 && rb.cumulative_lost == 100 && rb.fraction_lost == 100 * 256 / 1000);
    CHECK(rb.highest_seq == (1u << 16) + (uint16_t)(seq0 + 999));
    CHECK(rb.lsr == 0 && rb.dlsr == 0);
    CHECK((double)rb.jitter > jitter - 2 && (double)rb.jitter < jitter + 2 && rb.jitter > 100);
    for (int i = 1000; i < 1100; i++)
        sfu_recv_on_packet(&s, (uint16_t)(seq0 + i), (uint32_t)(i * 1800), t0 + i * 20000, false, false);
    sfu_recv_on_sr(&s, 0x0000123456780000ull, t0 + 22 * 1000000);
    sfu_recv_report(&s, 0x77, t0 + 22 * 1000000 + 500000, &rb);
    CHECK(rb.fraction_lost == 0 && rb.cumulative_lost == 100);
    CHECK(rb.lsr == 0x12345678 && rb.dlsr == 32768); /* half a second in 1/65536 s */
}

/* Gaps go onto the missing list, are asked for at once and then every retry interval, a
 * late or repaired arrival takes its seq off, and after the tries the rest is given up. */
static void test_missing(void)
{
    sfu_recv_stats s;
    sfu_recv_init(&s, 90000);
    uint16_t out[64];
    int64_t now = 5000000;
    sfu_recv_on_packet(&s, 100, 0, now, false, true);
    sfu_recv_on_packet(&s, 104, 0, now, false, true); /* 101, 102, 103 missing */
    CHECK(s.n_missing == 3);
    size_t n = sfu_recv_due_nacks(&s, now, 100000, out, 64);
    CHECK(n == 3 && out[0] == 101 && out[2] == 103);
    CHECK(sfu_recv_due_nacks(&s, now + 50000, 100000, out, 64) == 0); /* not yet again */
    CHECK(sfu_recv_on_packet(&s, 102, 0, now + 60000, true, true));   /* repaired: forwarded */
    CHECK(!sfu_recv_on_packet(&s, 102, 0, now + 60000, true, true));  /* twice: not */
    CHECK(!sfu_recv_on_packet(&s, 100, 0, now + 60000, true, true));  /* had arrived: not */
    CHECK(!sfu_recv_on_packet(&s, 104, 0, now + 60000, false, true)); /* the newest again */
    n = sfu_recv_due_nacks(&s, now + 100000, 100000, out, 64);
    CHECK(n == 2 && out[0] == 101 && out[1] == 103);
    for (int k = 2; k < 10; k++) sfu_recv_due_nacks(&s, now + k * 100000, 100000, out, 64);
    CHECK(s.n_missing == 0 && s.lost_total == 2); /* five tries, then given up */
    /* a jump of the numbering is a restart, not 30000 losses */
    sfu_recv_on_packet(&s, 30000, 0, now, false, true);
    CHECK(s.n_missing == 0);
    /* without tracking (audio, repair off) nothing is listed */
    sfu_recv_on_packet(&s, 30005, 0, now, false, false);
    CHECK(s.n_missing == 0);
}

int main(void)
{
    test_cache();
    test_rtx_wrap();
    test_nack_rr_writers();
    test_recv_stats();
    test_missing();
    return CHECK_RESULT();
}
