/* Transport-wide congestion control on the wire (sfu/rtp/twcc.c): the sequence-number
 * extension written into forwarded packets, and the feedback parser (run-length and
 * status-vector chunks, 1- and 2-bit symbols, small, large and negative deltas, sequence
 * wrap, truncation). */
#include <string.h>

#include "check.h"
#include "rtp/rtcp.h"
#include "rtp/twcc.h"
#include "rtp/twcc_arrivals.h"

/* --- the extension ------------------------------------------------------------------ */

/* An RTP packet: fixed header, optional extension block (profile, words), payload "PAYLOAD!". */
static size_t make_rtp(uint8_t *b, uint16_t profile, const uint8_t *ext, size_t ext_len)
{
    memset(b, 0, 12);
    b[0] = 0x80;
    b[1] = 96;
    sfu_wr16(b + 2, 7);
    sfu_wr32(b + 8, 0xabcdef01);
    size_t off = 12;
    if (profile) {
        b[0] |= 0x10;
        sfu_wr16(b + 12, profile);
        sfu_wr16(b + 14, (uint16_t)(ext_len / 4));
        memcpy(b + 16, ext, ext_len);
        off = 16 + ext_len;
    }
    memcpy(b + off, "PAYLOAD!", 8);
    return off + 8;
}

static bool payload_intact(const uint8_t *b, size_t len, sfu_rtp_header *h)
{
    return sfu_rtp_parse(b, len, h) && h->payload_len == 8 && !memcmp(b + h->payload_off, "PAYLOAD!", 8);
}

static bool carries_seq(const uint8_t *b, size_t len, uint8_t id, uint16_t seq)
{
    sfu_rtp_header h;
    const uint8_t *val;
    size_t n;
    return payload_intact(b, len, &h) && sfu_rtp_find_ext(b, &h, id, &val, &n) && n == 2 && sfu_rd16(val) == seq;
}

static void test_stamp_without_extension(void)
{
    uint8_t src[64], dst[64];
    size_t len = make_rtp(src, 0, NULL, 0);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(src, len, &h));
    size_t out = sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 0, 0x1234);
    CHECK(out == len + 8);
    CHECK(carries_seq(dst, out, 5, 0x1234));
    CHECK(sfu_twcc_copy_stamped(dst, len + 7, src, len, &h, 5, 0, 1) == 0); /* no room */
    CHECK(sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 0, 0, 1) == 0);
    CHECK(sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 15, 0, 1) == 0);
}

static void test_stamp_rewrites_in_place(void)
{
    /* the publisher's mid (id 4, "a") and its transport-cc (id 3); we number with id 5 */
    const uint8_t ext[] = {0x40, 'a', 0x31, 0x00, 0x09, 0, 0, 0};
    uint8_t src[64], dst[64];
    size_t len = make_rtp(src, 0xBEDE, ext, sizeof ext);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(src, len, &h));
    size_t out = sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 3, 0xfffe);
    CHECK(out == len);
    CHECK(carries_seq(dst, out, 5, 0xfffe));
    sfu_rtp_header h2;
    const uint8_t *val;
    size_t n;
    CHECK(payload_intact(dst, out, &h2) && !sfu_rtp_find_ext(dst, &h2, 3, &val, &n)); /* renamed */
    CHECK(sfu_rtp_find_ext(dst, &h2, 4, &val, &n) && n == 1 && val[0] == 'a');
}

static void test_stamp_uses_padding_and_clears_clashes(void)
{
    /* id 5 already used by the publisher for something one octet long: it must go */
    const uint8_t ext[] = {0x50, 'x', 0x40, 'a', 0, 0, 0, 0};
    uint8_t src[64], dst[64];
    size_t len = make_rtp(src, 0xBEDE, ext, sizeof ext);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(src, len, &h));
    size_t out = sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 0, 42);
    CHECK(out == len); /* into the trailing padding */
    CHECK(carries_seq(dst, out, 5, 42));
    sfu_rtp_header h2;
    const uint8_t *val;
    size_t n;
    CHECK(payload_intact(dst, out, &h2) && sfu_rtp_find_ext(dst, &h2, 4, &val, &n) && val[0] == 'a');
}

static void test_stamp_grows_block(void)
{
    const uint8_t ext[] = {0x40, 'a', 0x10, 0x7f}; /* mid, audio level: no room left */
    uint8_t src[64], dst[64];
    size_t len = make_rtp(src, 0xBEDE, ext, sizeof ext);
    src[0] |= 0x20; /* with RTP padding: 4 octets after the payload */
    memcpy(src + len, "\0\0\0\4", 4);
    len += 4;
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(src, len, &h));
    size_t out = sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 0, 7);
    CHECK(out == len + 4);
    CHECK(carries_seq(dst, out, 5, 7));
    sfu_rtp_header h2;
    const uint8_t *val;
    size_t n;
    CHECK(payload_intact(dst, out, &h2) && sfu_rtp_find_ext(dst, &h2, 1, &val, &n) && val[0] == 0x7f);
    CHECK(h2.padding && dst[out - 1] == 4);
}

static void test_stamp_two_byte_and_malformed(void)
{
    const uint8_t ext[] = {4, 1, 'a', 0}; /* two-byte form: mid */
    uint8_t src[64], dst[64];
    size_t len = make_rtp(src, 0x1000, ext, sizeof ext);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(src, len, &h));
    size_t out = sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 0, 9);
    CHECK(out == len + 4 && carries_seq(dst, out, 5, 9));
    const uint8_t stop[] = {0x40, 'a', 0xf0, 0}; /* a stop element: receivers read no further */
    len = make_rtp(src, 0xBEDE, stop, sizeof stop);
    CHECK(sfu_rtp_parse(src, len, &h));
    CHECK(sfu_twcc_copy_stamped(dst, sizeof dst, src, len, &h, 5, 0, 9) == 0);
}

/* --- the feedback ------------------------------------------------------------------- */

/* A feedback packet with the given chunks and delta octets, padded to 32 bits. */
static size_t make_feedback(uint8_t *b, uint16_t base, uint16_t count, int32_t ref, const uint16_t *chunks,
                            size_t n_chunks, const uint8_t *deltas, size_t n_deltas)
{
    size_t len = 20;
    for (size_t i = 0; i < n_chunks; i++, len += 2) sfu_wr16(b + len, chunks[i]);
    if (n_deltas) memcpy(b + len, deltas, n_deltas); /* (deltas may be NULL) */
    len += n_deltas;
    while (len % 4) b[len++] = 0;
    b[0] = 0x80 | SFU_TWCC_FMT;
    b[1] = SFU_RTCP_RTPFB;
    sfu_wr16(b + 2, (uint16_t)(len / 4 - 1));
    sfu_wr32(b + 4, 0x11111111);
    sfu_wr32(b + 8, 0x22222222);
    sfu_wr16(b + 12, base);
    sfu_wr16(b + 14, count);
    b[16] = (uint8_t)((uint32_t)ref >> 16);
    b[17] = (uint8_t)((uint32_t)ref >> 8);
    b[18] = (uint8_t)ref;
    b[19] = 3;
    return len;
}

static bool parse(const uint8_t *b, size_t len, sfu_twcc_feedback *fb, sfu_twcc_status *st, size_t max, size_t *n)
{
    sfu_rtcp_iter it;
    sfu_rtcp_packet p;
    sfu_rtcp_iter_init(&it, b, len);
    if (!sfu_rtcp_iter_next(&it, &p)) return false;
    return sfu_twcc_parse(&p, fb, st, max, n);
}

static void test_run_length_and_vectors(void)
{
    /* 20 statuses from 65530 (wrapping): a run of 4 small deltas, a run of 2 not received,
     * a 1-bit vector of 14 (received, lost alternating) */
    uint16_t chunks[] = {0x2000 | 4, 0x0000 | 2, 0x8000 | 0x1555};
    uint8_t deltas[4 + 7];
    for (size_t i = 0; i < sizeof deltas; i++) deltas[i] = (uint8_t)(4 * (i + 1)); /* (i+1) ms */
    uint8_t b[128];
    size_t len = make_feedback(b, 65530, 20, 10, chunks, 3, deltas, sizeof deltas);
    sfu_twcc_feedback fb;
    sfu_twcc_status st[32];
    size_t n;
    CHECK(parse(b, len, &fb, st, 32, &n) && n == 20);
    CHECK(fb.base_seq == 65530 && fb.status_count == 20 && fb.reference_time == 10 && fb.fb_count == 3);
    CHECK(fb.sender_ssrc == 0x11111111 && fb.media_ssrc == 0x22222222);
    CHECK(st[0].seq == 65530 && st[6].seq == 0 && st[19].seq == 13);
    CHECK(st[0].received && st[0].arrival_us == 640000 + 1000);
    CHECK(st[3].received && st[3].arrival_us == 640000 + 1000 + 2000 + 3000 + 4000);
    CHECK(!st[4].received && !st[5].received);
    CHECK(!st[6].received && st[7].received && !st[8].received && st[19].received);
    CHECK(st[7].arrival_us == st[3].arrival_us + 5000);
    CHECK(st[19].arrival_us == st[3].arrival_us + 5000 + 6000 + 7000 + 8000 + 9000 + 10000 + 11000);
    /* max cuts the statuses, not the checks */
    CHECK(parse(b, len, &fb, st, 5, &n) && n == 5);
}

static void test_two_bit_vector_large_and_negative(void)
{
    /* 7 symbols: small, large, not received, large (negative), small, then two beyond the count */
    uint16_t chunk = 0xc000 | 1 << 12 | 2 << 10 | 0 << 8 | 2 << 6 | 1 << 4 | 1 << 2 | 1;
    uint8_t deltas[] = {8, 0x7f, 0xff, 0xff, 0xfc, 12};
    uint8_t b[64];
    size_t len = make_feedback(b, 100, 5, -2, &chunk, 1, deltas, sizeof deltas);
    sfu_twcc_feedback fb;
    sfu_twcc_status st[8];
    size_t n;
    CHECK(parse(b, len, &fb, st, 8, &n) && n == 5);
    CHECK(fb.reference_time == -2);
    int64_t t = -2 * 64000 + 2000;
    CHECK(st[0].arrival_us == t);
    t += 32767 * 250;
    CHECK(st[1].received && st[1].arrival_us == t);
    CHECK(!st[2].received);
    t -= 4 * 250;
    CHECK(st[3].arrival_us == t);
    CHECK(st[4].arrival_us == t + 3000);
}

static void test_malformed(void)
{
    uint8_t b[64];
    sfu_twcc_feedback fb;
    sfu_twcc_status st[8];
    size_t n = 99;
    uint16_t chunk = 0x2000 | 3; /* three small deltas … */
    uint8_t deltas[] = {1, 2};   /* … but two octets */
    size_t len = make_feedback(b, 0, 3, 0, &chunk, 1, deltas, sizeof deltas);
    CHECK(!parse(b, len, &fb, st, 8, &n) && n == 0); /* deltas truncated */
    len = make_feedback(b, 0, 2, 0, &chunk, 1, deltas, sizeof deltas);
    CHECK(parse(b, len, &fb, st, 8, &n) && n == 2); /* the run is longer than the count: fine */
    len = make_feedback(b, 0, 5, 0, &chunk, 1, deltas, sizeof deltas);
    CHECK(!parse(b, len, &fb, st, 8, &n) && n == 0); /* statuses run past the chunks */
    chunk = 0x6000 | 2;                              /* reserved symbol 3 */
    len = make_feedback(b, 0, 2, 0, &chunk, 1, NULL, 0);
    CHECK(!parse(b, len, &fb, st, 8, &n));
    chunk = 0x4000 | 300; /* 300 large deltas: 600 octets that are not there */
    len = make_feedback(b, 0, 300, 0, &chunk, 1, NULL, 0);
    CHECK(!parse(b, len, &fb, st, 8, &n));
    /* not a transport-cc packet */
    len = make_feedback(b, 0, 0, 0, NULL, 0, NULL, 0);
    b[0] = 0x80 | 1;
    CHECK(!parse(b, len, &fb, st, 8, &n));
    /* empty runs are skipped, not looped on */
    uint16_t chunks[] = {0x0000, 0x0000, 0x2000 | 1};
    uint8_t one[] = {4};
    len = make_feedback(b, 0, 1, 0, chunks, 3, one, 1);
    CHECK(parse(b, len, &fb, st, 8, &n) && n == 1 && st[0].received && st[0].arrival_us == 1000);
}

/* --- writing feedback: round trips through the parser ------------------------------ */

/* Writes feedback for arrival[0..n), parses it back and checks every status: received
 * ones at their arrival in 250 µs ticks. Returns how many the packet covered. */
static size_t round_trip(uint16_t base, const int64_t *arrival, size_t n, size_t cap)
{
    static uint8_t b[8192];
    size_t covered;
    size_t len = sfu_twcc_write_feedback(b, cap, 0x11111111, 0x22222222, 9, base, arrival, n, &covered);
    CHECK(len > 0 && len <= cap && len % 4 == 0);
    CHECK(covered > 0 && covered <= n);
    sfu_twcc_feedback fb;
    static sfu_twcc_status st[SFU_TWCC_MAX_STATUSES];
    size_t got;
    CHECK(parse(b, len, &fb, st, SFU_TWCC_MAX_STATUSES, &got));
    CHECK(got == covered && fb.base_seq == base && fb.status_count == covered && fb.fb_count == 9);
    CHECK(fb.sender_ssrc == 0x11111111 && fb.media_ssrc == 0x22222222);
    for (size_t i = 0; i < got; i++) {
        bool rx = arrival[i] != SFU_TWCC_NOT_RECEIVED;
        CHECK(st[i].seq == (uint16_t)(base + i) && st[i].received == rx);
        if (rx && st[i].arrival_us != arrival[i] / 250 * 250) {
            CHECK(st[i].arrival_us == arrival[i] / 250 * 250);
            fprintf(stderr, "  status %zu: %lld, wanted %lld\n", i, (long long)st[i].arrival_us,
                    (long long)(arrival[i] / 250 * 250));
            break;
        }
    }
    return covered;
}

static void test_write_runs_and_vectors(void)
{
    int64_t a[100];
    /* a run of received small deltas, a run of losses, then mixed (1-bit vectors) */
    for (size_t i = 0; i < 100; i++) a[i] = 1000000 + (int64_t)i * 1000;
    for (size_t i = 30; i < 50; i++) a[i] = SFU_TWCC_NOT_RECEIVED;
    for (size_t i = 60; i < 100; i += 3) a[i] = SFU_TWCC_NOT_RECEIVED;
    CHECK(round_trip(4000, a, 100, 1500) == 100);
    CHECK(round_trip(0, a, 1, 1500) == 1); /* one packet */
    /* all but the last lost */
    int64_t lost[20];
    for (size_t i = 0; i < 20; i++) lost[i] = SFU_TWCC_NOT_RECEIVED;
    lost[19] = 5000;
    CHECK(round_trip(7, lost, 20, 1500) == 20);
}

static void test_write_large_and_negative_deltas(void)
{
    /* gaps over 63.75 ms (two-octet deltas), reordering (negative), mixed with small ones
     * so that 2-bit vectors and runs of large deltas both occur */
    int64_t a[40];
    int64_t t = 3 * 64000 + 123456;
    for (size_t i = 0; i < 40; i++) {
        t += i % 5 == 0 ? 70000 : 500;
        a[i] = t;
    }
    a[7] = a[6] - 20000; /* arrived before the one numbered before it */
    a[12] = SFU_TWCC_NOT_RECEIVED;
    CHECK(round_trip(100, a, 40, 1500) == 40);
    for (size_t i = 0; i < 20; i++) a[i] = 10000000 + (int64_t)i * 100000; /* a run of large */
    CHECK(round_trip(100, a, 20, 1500) == 20);
}

static void test_write_seq_wrap_and_reference(void)
{
    int64_t a[30];
    for (size_t i = 0; i < 30; i++) a[i] = 987654321 + (int64_t)i * 3000;
    CHECK(round_trip(65520, a, 30, 1500) == 30); /* numbers 65520 … 13 */
    /* the reference time: the first received packet's 64 ms unit, even after losses */
    uint8_t b[256];
    size_t covered;
    int64_t b2[3] = {SFU_TWCC_NOT_RECEIVED, 64000 * 5 + 63999, 64000 * 6};
    size_t len = sfu_twcc_write_feedback(b, sizeof b, 1, 2, 0, 0, b2, 3, &covered);
    sfu_twcc_feedback fb;
    sfu_twcc_status st[3];
    size_t n;
    CHECK(parse(b, len, &fb, st, 3, &n) && n == 3 && fb.reference_time == 5);
    CHECK(!st[0].received && st[1].arrival_us == 64000 * 5 + 63750 && st[2].arrival_us == 64000 * 6);
    CHECK(sfu_twcc_write_feedback(b, sizeof b, 1, 2, 0, 0, b2, 0, &covered) == 0 && covered == 0);
    CHECK(sfu_twcc_write_feedback(b, 23, 1, 2, 0, 0, b2, 3, &covered) == 0 && covered == 0);
}

static void test_write_stops_where_it_must(void)
{
    /* a delta beyond 16 signed bits (8.19 s): the packet ends before it */
    int64_t a[4] = {1000, 2000, 2000 + 9000000, 2000 + 9001000};
    CHECK(round_trip(50, a, 4, 1500) == 2);
    CHECK(round_trip(52, a + 2, 2, 1500) == 2); /* the next feedback takes the rest */
    /* a small cap: fewer statuses, each packet valid */
    static int64_t many[SFU_TWCC_MAX_STATUSES + 10];
    for (size_t i = 0; i < SFU_TWCC_MAX_STATUSES + 10; i++)
        many[i] = i % 7 == 3 ? SFU_TWCC_NOT_RECEIVED : 100000 + (int64_t)i * (i % 2 ? 70000 : 300);
    size_t done = 0;
    while (done < 300) done += round_trip((uint16_t)done, many + done, 300 - done, 120);
    CHECK(done == 300);
    CHECK(round_trip(0, many, SFU_TWCC_MAX_STATUSES + 10, 8192) <= SFU_TWCC_MAX_STATUSES);
    /* a long run of large deltas, more than a packet holds: split, never stuck */
    for (size_t i = 0; i < 1000; i++) many[i] = (int64_t)i * 100000;
    done = 0;
    while (done < 1000) done += round_trip((uint16_t)done, many + done, 1000 - done, 1200);
    CHECK(done == 1000);
}

/* --- the arrival recorder ------------------------------------------------------------ */

static size_t feedback_of(sfu_twcc_arrivals *a, sfu_twcc_feedback *fb, sfu_twcc_status *st, size_t max)
{
    uint8_t b[1500];
    size_t len = sfu_twcc_arrivals_feedback(a, b, sizeof b, 1, 2), n = 0;
    if (!len) return 0;
    CHECK(parse(b, len, fb, st, max, &n));
    return n;
}

static void test_arrivals(void)
{
    static sfu_twcc_arrivals a;
    sfu_twcc_arrivals_init(&a);
    sfu_twcc_feedback fb;
    static sfu_twcc_status st[SFU_TWCC_ARRIVALS];
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 0); /* nothing yet */
    /* 65534, 65535, (0 lost), 2, 1 (reordered), a duplicate of 2 */
    sfu_twcc_arrivals_record(&a, 65534, 1000000);
    sfu_twcc_arrivals_record(&a, 65535, 1001000);
    sfu_twcc_arrivals_record(&a, 2, 1003000);
    sfu_twcc_arrivals_record(&a, 1, 1004000);
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 5 && fb.base_seq == 65534 && fb.fb_count == 0);
    CHECK(st[0].received && st[1].received && !st[2].received && st[3].received && st[4].received);
    CHECK(st[3].arrival_us == 1004000 && st[4].arrival_us == 1003000);
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 0); /* all reported */
    /* 0 comes late: already reported lost, not again; the next feedback starts at 3 */
    sfu_twcc_arrivals_record(&a, 0, 1005000);
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 0);
    sfu_twcc_arrivals_record(&a, 4, 1006000);
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 2 && fb.base_seq == 3 && fb.fb_count == 1);
    CHECK(!st[0].received && st[1].received && st[1].arrival_us == 1006000);
    /* a jump beyond the ring: what falls out of it is not reported */
    sfu_twcc_arrivals_record(&a, 5, 1007000);
    sfu_twcc_arrivals_record(&a, 5 + SFU_TWCC_ARRIVALS + 100, 1008000);
    size_t n = feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS), total = n;
    CHECK(n > 0 && fb.base_seq == 5 + 101);
    while ((n = feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS))) total += n;
    CHECK(total == SFU_TWCC_ARRIVALS);
    /* a place reused by a newer number does not report the older one's time */
    sfu_twcc_arrivals_init(&a);
    sfu_twcc_arrivals_record(&a, 10, 5000);
    CHECK(feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS) == 1);
    sfu_twcc_arrivals_record(&a, 10 + SFU_TWCC_ARRIVALS + 1, 6000); /* 11 … lost */
    size_t got = 0, received = 0;
    while ((n = feedback_of(&a, &fb, st, SFU_TWCC_ARRIVALS)))
        for (size_t i = 0; i < n; i++, got++) received += st[i].received;
    CHECK(got == SFU_TWCC_ARRIVALS && received == 1);
}

int main(void)
{
    test_stamp_without_extension();
    test_stamp_rewrites_in_place();
    test_stamp_uses_padding_and_clears_clashes();
    test_stamp_grows_block();
    test_stamp_two_byte_and_malformed();
    test_run_length_and_vectors();
    test_two_bit_vector_large_and_negative();
    test_malformed();
    test_write_runs_and_vectors();
    test_write_large_and_negative_deltas();
    test_write_seq_wrap_and_reference();
    test_write_stops_where_it_must();
    test_arrivals();
    return CHECK_RESULT();
}
