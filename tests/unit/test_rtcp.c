/* RTCP compound iteration, feedback accessors and writers. */
#include <string.h>

#include "check.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

/* Writes an RTCP header for a packet of total_len bytes (a multiple of 4). */
static void put_header(uint8_t *b, bool padding, uint8_t count, uint8_t pt, size_t total_len)
{
    b[0] = (uint8_t)(0x80 | (padding ? 0x20 : 0) | count);
    b[1] = pt;
    sfu_wr16(b + 2, (uint16_t)(total_len / 4 - 1));
}

/* Collects up to max packets; returns how many the iterator yielded. */
static size_t walk(const uint8_t *b, size_t len, sfu_rtcp_packet *out, size_t max)
{
    sfu_rtcp_iter it;
    sfu_rtcp_iter_init(&it, b, len);
    size_t n = 0;
    sfu_rtcp_packet p;
    while (n < max && sfu_rtcp_iter_next(&it, &p)) out[n++] = p;
    return n;
}

static void test_sr_sdes_compound(void)
{
    uint8_t b[128] = {0};
    /* SR with one report block: 28 + 24 = 52 bytes */
    put_header(b, false, 1, SFU_RTCP_SR, 52);
    sfu_wr32(b + 4, 0x11223344);
    sfu_wr32(b + 8, 0xe6a1b2c3); /* NTP seconds */
    sfu_wr32(b + 12, 0x80000000);
    sfu_wr32(b + 16, 90000);
    sfu_wr32(b + 20, 500);
    sfu_wr32(b + 24, 600000);
    sfu_wr32(b + 28, 0x55667788); /* report block SSRC */
    /* SDES: one chunk, CNAME "abcd", then the terminating null: 4+4+2+4+1 → 16 */
    uint8_t *s = b + 52;
    put_header(s, false, 1, SFU_RTCP_SDES, 16);
    sfu_wr32(s + 4, 0x11223344);
    s[8] = 1, s[9] = 4;
    memcpy(s + 10, "abcd", 4);
    size_t total = 52 + 16;

    sfu_rtcp_packet p[4];
    CHECK(walk(b, total, p, 4) == 2);
    CHECK(p[0].pt == SFU_RTCP_SR && p[0].fmt == 1 && p[0].len == 52 && p[0].data == b);
    CHECK(p[0].sender_ssrc == 0x11223344 && p[0].media_ssrc == 0);
    CHECK(p[1].pt == SFU_RTCP_SDES && p[1].len == 16 && p[1].sender_ssrc == 0x11223344);
    uint64_t ntp = 0;
    uint32_t rtp_ts = 0, packets = 0, octets = 0;
    CHECK(sfu_rtcp_sr_info(&p[0], &ntp, &rtp_ts, &packets, &octets));
    CHECK(ntp == 0xe6a1b2c380000000ull && rtp_ts == 90000 && packets == 500 && octets == 600000);
    CHECK(!sfu_rtcp_sr_info(&p[1], &ntp, &rtp_ts, &packets, &octets));

    /* a trailing partial packet ends the walk after the good ones */
    CHECK(walk(b, total + 3, p, 4) == 2);
    /* SR claiming two report blocks does not fit in 52 bytes */
    b[0] = 0x82;
    CHECK(walk(b, total, p, 4) == 0);
}

static void test_rr_pli(void)
{
    uint8_t b[64];
    size_t n = sfu_rtcp_write_empty_rr(b, sizeof b, 0xaaaa0001);
    CHECK(n == 8);
    size_t m = sfu_rtcp_write_pli(b + n, sizeof b - n, 0xaaaa0001, 0xbbbb0002);
    CHECK(m == 12);
    sfu_rtcp_packet p[4];
    CHECK(walk(b, n + m, p, 4) == 2);
    CHECK(p[0].pt == SFU_RTCP_RR && p[0].fmt == 0 && p[0].len == 8 && p[0].sender_ssrc == 0xaaaa0001);
    CHECK(p[1].pt == SFU_RTCP_PSFB && p[1].fmt == 1 && p[1].len == 12);
    CHECK(p[1].sender_ssrc == 0xaaaa0001 && p[1].media_ssrc == 0xbbbb0002);
    CHECK(sfu_pkt_classify(b, n + m) == SFU_PKT_RTCP);
    CHECK(sfu_rtcp_fir_count(&p[1]) == 0 && sfu_rtcp_nack_count(&p[1]) == 0);

    /* rewrite the media SSRC in place and parse again */
    sfu_rtcp_set_media_ssrc(b + n, 0xcccc0003);
    CHECK(walk(b, n + m, p, 4) == 2 && p[1].media_ssrc == 0xcccc0003);

    CHECK(sfu_rtcp_write_empty_rr(b, 7, 1) == 0);
    CHECK(sfu_rtcp_write_pli(b, 11, 1, 2) == 0);
}

static void test_fir(void)
{
    uint8_t b[64] = {0};
    size_t n = sfu_rtcp_write_fir(b, sizeof b, 0x01010101, 0x02020202, 42);
    CHECK(n == 20);
    sfu_rtcp_packet p;
    CHECK(walk(b, n, &p, 1) == 1);
    CHECK(p.pt == SFU_RTCP_PSFB && p.fmt == 4 && p.sender_ssrc == 0x01010101 && p.media_ssrc == 0);
    CHECK(sfu_rtcp_fir_count(&p) == 1);
    uint32_t ssrc = 0;
    uint8_t seq = 0;
    CHECK(sfu_rtcp_fir_entry(&p, 0, &ssrc, &seq) && ssrc == 0x02020202 && seq == 42);
    CHECK(!sfu_rtcp_fir_entry(&p, 1, &ssrc, &seq));
    CHECK(sfu_rtcp_write_fir(b, 19, 1, 2, 3) == 0);

    /* hand-built FIR with two entries */
    put_header(b, false, 4, SFU_RTCP_PSFB, 28);
    sfu_wr32(b + 4, 9);
    sfu_wr32(b + 8, 0);
    sfu_wr32(b + 12, 0xa1);
    b[16] = 1;
    sfu_wr32(b + 20, 0xa2);
    b[24] = 2;
    CHECK(walk(b, 28, &p, 1) == 1 && sfu_rtcp_fir_count(&p) == 2);
    CHECK(sfu_rtcp_fir_entry(&p, 1, &ssrc, &seq) && ssrc == 0xa2 && seq == 2);
    CHECK(sfu_rtcp_nack_count(&p) == 0);
}

static void test_nack(void)
{
    uint8_t b[64] = {0};
    put_header(b, false, 1, SFU_RTCP_RTPFB, 20);
    sfu_wr32(b + 4, 0x10);
    sfu_wr32(b + 8, 0x20);
    sfu_wr16(b + 12, 1000), sfu_wr16(b + 14, 0x0005);
    sfu_wr16(b + 16, 65535), sfu_wr16(b + 18, 0x8000);
    sfu_rtcp_packet p;
    CHECK(walk(b, 20, &p, 1) == 1);
    CHECK(p.pt == SFU_RTCP_RTPFB && p.fmt == 1 && p.sender_ssrc == 0x10 && p.media_ssrc == 0x20);
    CHECK(sfu_rtcp_nack_count(&p) == 2 && sfu_rtcp_fir_count(&p) == 0);
    uint16_t pid = 0, blp = 0;
    CHECK(sfu_rtcp_nack_entry(&p, 0, &pid, &blp) && pid == 1000 && blp == 5);
    CHECK(sfu_rtcp_nack_entry(&p, 1, &pid, &blp) && pid == 65535 && blp == 0x8000);
    CHECK(!sfu_rtcp_nack_entry(&p, 2, &pid, &blp));

    /* padded last packet: the padding is not a third NACK entry */
    put_header(b, true, 1, SFU_RTCP_RTPFB, 24);
    b[23] = 4;
    CHECK(walk(b, 24, &p, 1) == 1 && sfu_rtcp_nack_count(&p) == 2 && p.len == 24);
    b[23] = 0; /* zero pad count */
    CHECK(walk(b, 24, &p, 1) == 0);
    b[23] = 21; /* pad reaches into the header */
    CHECK(walk(b, 24, &p, 1) == 0);
    b[23] = 12; /* pad covers both entries: a NACK with none */
    CHECK(walk(b, 24, &p, 1) == 1 && sfu_rtcp_nack_count(&p) == 0);
    b[23] = 16; /* pad leaves only the header and sender SSRC: too short for feedback */
    CHECK(walk(b, 24, &p, 1) == 0);
}

static void test_remb(void)
{
    uint8_t b[64] = {0};
    put_header(b, false, 15, SFU_RTCP_PSFB, 24);
    sfu_wr32(b + 4, 0x77);
    memcpy(b + 12, "REMB", 4);
    b[16] = 1;
    /* 1 500 000 bps = 187500 << 3; mantissa 187500 = 0x2dc6c (18 bits) */
    b[17] = (uint8_t)(3 << 2 | (0x2dc6c >> 16));
    sfu_wr16(b + 18, 0x2dc6c & 0xffff);
    sfu_wr32(b + 20, 0xabcdef01);
    sfu_rtcp_packet p;
    CHECK(walk(b, 24, &p, 1) == 1);
    uint64_t bps = 0;
    size_t n_ssrc = 0;
    CHECK(sfu_rtcp_remb(&p, &bps, &n_ssrc) && bps == 1500000 && n_ssrc == 1);
    b[17] = (uint8_t)(63 << 2 | 3); /* huge exponent saturates */
    CHECK(walk(b, 24, &p, 1) == 1 && sfu_rtcp_remb(&p, &bps, &n_ssrc) && bps == UINT64_MAX);
    b[16] = 2; /* claims a second SSRC that is not there */
    CHECK(walk(b, 24, &p, 1) == 1 && !sfu_rtcp_remb(&p, &bps, &n_ssrc));
    b[16] = 1;
    b[15] = 'X';
    CHECK(walk(b, 24, &p, 1) == 1 && !sfu_rtcp_remb(&p, &bps, &n_ssrc));

    /* the writer's output reads back; 1.5 Mbit/s needs exponent 3 */
    uint32_t ssrcs[2] = {0x11, 0x22};
    uint8_t w[64];
    size_t n = sfu_rtcp_write_remb(w, sizeof w, 0x77, 1500000, ssrcs, 2);
    CHECK(n == 28 && w[17] == (3 << 2 | (0x2dc6c >> 16)) && memcmp(w + 12, "REMB", 4) == 0);
    CHECK(walk(w, n, &p, 1) == 1 && sfu_rtcp_remb(&p, &bps, &n_ssrc) && bps == 1500000 && n_ssrc == 2);
    CHECK(sfu_rtcp_write_remb(w, 27, 0x77, 1500000, ssrcs, 2) == 0);
}

static void test_malformed(void)
{
    uint8_t b[64];
    size_t n = sfu_rtcp_write_empty_rr(b, sizeof b, 1);
    n += sfu_rtcp_write_pli(b + n, sizeof b - n, 1, 2);
    sfu_rtcp_packet p[4];

    CHECK(walk(b, n, p, 4) == 2);
    CHECK(walk(b, n - 1, p, 4) == 1); /* PLI cut */
    CHECK(walk(b, 7, p, 4) == 0);
    CHECK(walk(b, 0, p, 4) == 0);
    CHECK(walk(NULL, 20, p, 4) == 0);

    b[8] = 0x40 | 1; /* version 1 in the second packet */
    CHECK(walk(b, n, p, 4) == 1);
    b[8] = 0x81;

    /* RR padded with 4 bytes: fine as the last packet, not before a PLI */
    uint8_t padded[32] = {0};
    put_header(padded, true, 0, SFU_RTCP_RR, 12);
    padded[11] = 4;
    CHECK(walk(padded, 12, p, 4) == 1 && p[0].len == 12);
    sfu_rtcp_write_pli(padded + 12, sizeof padded - 12, 1, 2);
    CHECK(walk(padded, 24, p, 4) == 0);

    b[9] = 190; /* not an RTCP packet type */
    CHECK(walk(b, n, p, 4) == 1);
    b[9] = SFU_RTCP_PSFB;

    sfu_wr16(b + 2, 100); /* length past the buffer */
    CHECK(walk(b, n, p, 4) == 0);
    sfu_wr16(b + 2, 1);

    /* RTPFB with only 8 bytes: no media SSRC */
    put_header(b, false, 1, SFU_RTCP_RTPFB, 8);
    CHECK(walk(b, 8, p, 4) == 0);

    /* BYE with no SSRC is a legal 4-byte packet */
    put_header(b, false, 0, SFU_RTCP_BYE, 4);
    CHECK(walk(b, 4, p, 4) == 1 && p[0].pt == SFU_RTCP_BYE && p[0].sender_ssrc == 0);

    /* once the iterator stopped at a bad packet it stays stopped */
    sfu_rtcp_iter it;
    n = sfu_rtcp_write_empty_rr(b, sizeof b, 1);
    b[n] = 0; /* garbage second packet */
    sfu_rtcp_write_empty_rr(b + n + 4, sizeof b - n - 4, 1);
    sfu_rtcp_iter_init(&it, b, n + 12);
    CHECK(sfu_rtcp_iter_next(&it, p));
    CHECK(!sfu_rtcp_iter_next(&it, p));
    CHECK(!sfu_rtcp_iter_next(&it, p));
}

static void test_sr_writer(void)
{
    uint8_t b[64];
    const uint64_t ntp = 0xe8000000deadbeefull;
    CHECK(sfu_rtcp_write_sr(b, 27, 1, ntp, 2, 3, 4) == 0);
    size_t n = sfu_rtcp_write_sr(b, sizeof b, 0x5151, ntp, 0xfffffff0, 12345, 0x80000001);
    CHECK(n == 28);
    CHECK(sfu_pkt_classify(b, n) == SFU_PKT_RTCP);
    sfu_rtcp_packet p;
    CHECK(walk(b, n, &p, 1) == 1);
    CHECK(p.pt == SFU_RTCP_SR && p.fmt == 0 && p.len == 28 && p.sender_ssrc == 0x5151);
    uint64_t got_ntp = 0;
    uint32_t ts = 0, packets = 0, octets = 0;
    CHECK(sfu_rtcp_sr_info(&p, &got_ntp, &ts, &packets, &octets));
    CHECK(got_ntp == ntp && ts == 0xfffffff0 && packets == 12345 && octets == 0x80000001);
}

int main(void)
{
    test_sr_sdes_compound();
    test_rr_pli();
    test_fir();
    test_nack();
    test_remb();
    test_malformed();
    test_sr_writer();
    return CHECK_RESULT();
}
