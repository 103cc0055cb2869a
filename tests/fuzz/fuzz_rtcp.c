/* Fuzz target: RTCP compound walking and every accessor on arbitrary bytes, plus the
 * writers with input-chosen fields. Invariant violations abort. */
#include <stdlib.h>
#include <string.h>

#include "rtp/rtcp.h"
#include "rtp/rtp.h"

static volatile uint64_t sink;

static void fuzz_accessors(const sfu_rtcp_packet *p)
{
    size_t firs = sfu_rtcp_fir_count(p);
    for (size_t i = 0; i <= firs; i++) {
        uint32_t ssrc = 0;
        uint8_t seq = 0;
        if (sfu_rtcp_fir_entry(p, i, &ssrc, &seq) != (i < firs)) abort();
        sink += ssrc + seq;
    }
    size_t nacks = sfu_rtcp_nack_count(p);
    for (size_t i = 0; i <= nacks; i++) {
        uint16_t pid = 0, blp = 0;
        if (sfu_rtcp_nack_entry(p, i, &pid, &blp) != (i < nacks)) abort();
        sink += pid + blp;
    }
    uint64_t ntp = 0, bps = 0;
    uint32_t ts = 0, packets = 0, octets = 0;
    size_t ssrcs = 0;
    if (sfu_rtcp_sr_info(p, &ntp, &ts, &packets, &octets)) sink += ntp + ts + packets + octets;
    if (sfu_rtcp_remb(p, &bps, &ssrcs)) sink += bps + ssrcs;
    size_t blocks = sfu_rtcp_report_count(p);
    if (blocks > 31 || (blocks && p->pt != SFU_RTCP_SR && p->pt != SFU_RTCP_RR)) abort();
    for (size_t i = 0; i <= blocks; i++) {
        sfu_rtcp_report_block rb;
        if (sfu_rtcp_report_block_at(p, i, &rb) != (i < blocks)) abort();
        if (i < blocks) sink += rb.ssrc + rb.highest_seq + rb.lsr + (uint64_t)rb.cumulative_lost;
    }
}

static void fuzz_walk(const uint8_t *d, size_t n)
{
    sfu_rtcp_iter it;
    sfu_rtcp_iter_init(&it, d, n);
    sfu_rtcp_packet p;
    size_t seen = 0;
    while (sfu_rtcp_iter_next(&it, &p)) {
        if (p.data != d + seen || p.len < 4 || p.len % 4 || p.len > n - seen) abort();
        seen += p.len;
        fuzz_accessors(&p);
    }
    if (sfu_rtcp_iter_next(&it, &p)) abort(); /* stays finished */
}

/* A writer's output must be 0 (no room) or walk back as one packet from sender_ssrc. */
static void check_written(const uint8_t *out, size_t len, size_t cap, uint32_t sender_ssrc)
{
    if (len > cap) abort();
    if (len == 0) return;
    sfu_rtcp_iter it;
    sfu_rtcp_packet p;
    sfu_rtcp_iter_init(&it, out, len);
    if (!sfu_rtcp_iter_next(&it, &p) || p.len != len || p.sender_ssrc != sender_ssrc) abort();
    if (sfu_pkt_classify(out, len) != SFU_PKT_RTCP) abort();
}

/* The writers with input-chosen fields and capacities. */
static void fuzz_writers(const uint8_t *d, size_t n)
{
    if (n < 10) return;
    uint8_t out[32];
    size_t cap = d[0] % (sizeof out + 1);
    uint32_t a = sfu_rd32(d + 1), b = sfu_rd32(d + 5);
    check_written(out, sfu_rtcp_write_pli(out, cap, a, b), cap, a);
    check_written(out, sfu_rtcp_write_fir(out, cap, a, b, d[9]), cap, a);
    check_written(out, sfu_rtcp_write_empty_rr(out, cap, a), cap, a);
    check_written(out, sfu_rtcp_write_sr(out, cap, a, (uint64_t)b << 32 | a, b, a, b), cap, a);
    /* NACK for input-chosen sequence numbers, RR with one input-chosen block */
    uint8_t big[96];
    size_t big_cap = d[0] % (sizeof big + 1);
    uint16_t seqs[8];
    size_t n_seqs = (n - 10) / 2 < 8 ? (n - 10) / 2 : 8;
    for (size_t i = 0; i < n_seqs; i++) seqs[i] = sfu_rd16(d + 10 + 2 * i);
    check_written(big, sfu_rtcp_write_nack(big, big_cap, a, b, seqs, n_seqs), big_cap, a);
    sfu_rtcp_report_block rb = {.ssrc = b, .fraction_lost = d[9], .cumulative_lost = (int32_t)a, .highest_seq = b};
    check_written(big, sfu_rtcp_write_rr(big, big_cap, a, &rb, 1), big_cap, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sink += (uint64_t)sfu_pkt_classify(d, n);
    fuzz_walk(d, n);
    fuzz_writers(d, n);

    /* in-place media SSRC rewrite on a copy, then walk again */
    static uint8_t copy[65536];
    if (n >= 12 && n <= sizeof copy) {
        memcpy(copy, d, n);
        sfu_rtcp_set_media_ssrc(copy, 0x12345678);
        fuzz_walk(copy, n);
    }
    return 0;
}
