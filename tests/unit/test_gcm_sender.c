/* Our AEAD_AES_128_GCM sender (sfu/srtp/gcm_sender.h) against libsrtp as the oracle: the
 * same master key and packets must give byte-identical SRTP, including across the
 * rollover of the sequence number, reordering, repeats and refusals of too-old indexes,
 * and libsrtp's receiver must read it. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "srtp/gcm_sender.h"
#include "srtp/srtp_session.h"

static const uint8_t master[28] = {0x3c, 0x1f, 0x7a, 0x02, 0x91, 0x55, 0xe0, 0x4d, 0x18, 0xab, 0x6c, 0x33, 0x07, 0xf2,
                                   0x9e, 0x41, 0x5a, 0x26, 0xc8, 0x0b, 0x73, 0xdd, 0x14, 0x69, 0xbe, 0x80, 0x2f, 0x95};

typedef struct {
    uint8_t csrcs;     /* CC */
    uint8_t ext_words; /* header extension length in 32-bit words; 0xff = no extension */
    uint8_t pad;       /* RTP padding octets (P bit), 0 = none */
    size_t payload;    /* octets before the padding */
} shape;

static size_t make_packet(uint8_t *b, const shape *s, uint32_t ssrc, uint16_t seq, uint8_t fill)
{
    size_t n = 0;
    b[n++] = (uint8_t)(0x80 | (s->pad ? 0x20 : 0) | (s->ext_words != 0xff ? 0x10 : 0) | s->csrcs);
    b[n++] = 96;
    b[n++] = (uint8_t)(seq >> 8), b[n++] = (uint8_t)seq;
    b[n++] = 0x12, b[n++] = 0x34, b[n++] = 0x56, b[n++] = (uint8_t)(seq * 7);
    b[n++] = (uint8_t)(ssrc >> 24), b[n++] = (uint8_t)(ssrc >> 16), b[n++] = (uint8_t)(ssrc >> 8),
    b[n++] = (uint8_t)ssrc;
    for (int i = 0; i < 4 * s->csrcs; i++) b[n++] = (uint8_t)(0xc0 + i);
    if (s->ext_words != 0xff) {
        b[n++] = 0xbe, b[n++] = 0xde, b[n++] = 0, b[n++] = s->ext_words;
        for (int i = 0; i < 4 * s->ext_words; i++) b[n++] = (uint8_t)(0x10 + i);
    }
    for (size_t i = 0; i < s->payload; i++) b[n++] = (uint8_t)(fill + i * 31);
    for (int i = 0; i < s->pad; i++) b[n++] = i == s->pad - 1 ? s->pad : 0;
    return n;
}

static sfu_srtp *session(void)
{
    sfu_srtp_keys k = {.profile = SFU_SRTP_AEAD_AES_128_GCM, .master_len = 28};
    memcpy(k.local_master, master, 28);
    memcpy(k.remote_master, master, 28); /* so the same session can read what it wrote */
    return sfu_srtp_new(&k);
}

/* One packet through both senders; returns whether both accepted it (and they agree). */
static bool same_as_libsrtp(sfu_srtp *oracle, sfu_gcm_sender *ours, sfu_srtp_tx_index *state, sfu_srtp *reader,
                            const shape *s, uint32_t ssrc, uint16_t seq)
{
    uint8_t a[1600], b[1600], plain[1600];
    size_t n = make_packet(a, s, ssrc, seq, (uint8_t)seq);
    memcpy(b, a, n);
    memcpy(plain, a, n);
    size_t la = n, lb = n;
    bool ok_a = sfu_srtp_protect_rtp_group(oracle, 0, a, &la, sizeof a) == 0;
    bool ok_b = sfu_gcm_sender_protect(ours, state, b, &lb, sizeof b);
    CHECK(ok_a == ok_b);
    if (!ok_a || !ok_b) {
        CHECK(lb == n && memcmp(b, plain, n) == 0); /* refused: untouched */
        return false;
    }
    CHECK(la == n + SFU_GCM_TAG_LEN && lb == la);
    CHECK(memcmp(a, b, la) == 0);
    size_t lr = lb;
    int rc = sfu_srtp_unprotect_rtp(reader, b, &lr);
    /* the reader's replay window refuses repeats; everything else must read back */
    if (rc == 0) CHECK(lr == n && memcmp(b, plain, n) == 0);
    return true;
}

static void test_matches_libsrtp(void)
{
    static const shape shapes[] = {
        {0, 0xff, 0, 1188}, {0, 0xff, 0, 0}, {0, 0xff, 0, 1}, {2, 0xff, 0, 17},
        {0, 1, 0, 700},     {1, 3, 0, 64},   {0, 2, 5, 300},  {15, 0, 0, 33},
    };
    sfu_srtp *oracle = session(), *reader = session();
    sfu_gcm_sender *ours = sfu_gcm_sender_new(master);
    CHECK(oracle && reader && ours);
    if (!oracle || !reader || !ours) return;
    const size_t n_shapes = sizeof shapes / sizeof *shapes;

    /* SSRC A: a long run across the wrap of the sequence number (ROC 0 → 1), with
     * reordering, a repeat and a too-old packet on the way */
    sfu_srtp_tx_index a = 0;
    uint32_t ssrc_a = 0x1234abcd;
    unsigned accepted = 0;
    for (uint32_t i = 0; i < 6000; i++) {
        uint16_t seq = (uint16_t)(62000 + i);
        accepted += same_as_libsrtp(oracle, ours, &a, reader, &shapes[i % n_shapes], ssrc_a, seq);
        if (i % 97 == 5) accepted += same_as_libsrtp(oracle, ours, &a, reader, &shapes[0], ssrc_a, (uint16_t)(seq - 3));
        if (i == 4000) accepted += same_as_libsrtp(oracle, ours, &a, reader, &shapes[1], ssrc_a, seq); /* repeat */
    }
    CHECK(accepted == 6000 + 62 + 1);
    CHECK(a >> 16 == 1); /* rolled over */
    CHECK(!same_as_libsrtp(oracle, ours, &a, reader, &shapes[0], ssrc_a, (uint16_t)(62000 + 5999 - 1024)));
    CHECK(same_as_libsrtp(oracle, ours, &a, reader, &shapes[0], ssrc_a, (uint16_t)(62000 + 5999 - 1023)));

    /* SSRC B, interleaved with a second SSRC C: each keeps its own index */
    sfu_srtp_tx_index b = 0, c = 0;
    for (uint16_t i = 0; i < 300; i++) {
        CHECK(same_as_libsrtp(oracle, ours, &b, reader, &shapes[i % n_shapes], 0x0b0b0b0b, (uint16_t)(100 + i)));
        CHECK(same_as_libsrtp(oracle, ours, &c, reader, &shapes[(i + 3) % n_shapes], 0x0c0c0c0c,
                              (uint16_t)(40000 + 2 * i)));
    }
    sfu_gcm_sender_free(ours);
    sfu_srtp_free(oracle);
    sfu_srtp_free(reader);
}

static void test_index_estimate(void)
{
    sfu_srtp_tx_index st = 0;
    int32_t d;
    CHECK(sfu_srtp_tx_index_next(&st, 0, &d) == 0 && d == 0 && st == 0);
    CHECK(sfu_srtp_tx_index_next(&st, 65000, &d) == 65000 && st == 65000);            /* early: ROC taken as 0 */
    CHECK(sfu_srtp_tx_index_next(&st, 10, &d) == 0x1000a && st == 0x1000a);           /* wrapped */
    CHECK(sfu_srtp_tx_index_next(&st, 65530, &d) == 65530 && d < 0 && st == 0x1000a); /* late, ROC 0 */
    CHECK(sfu_srtp_tx_index_next(&st, 11, &d) == 0x1000b && d == 1);
}

static void test_refuses_bad_input(void)
{
    sfu_gcm_sender *g = sfu_gcm_sender_new(master);
    sfu_srtp_tx_index st = 0;
    uint8_t p[200] = {0}, copy[200];
    shape s = {0, 2, 0, 20};
    size_t n = make_packet(p, &s, 1, 1, 0);
    memcpy(copy, p, sizeof p);
    size_t len = n;
    CHECK(!sfu_gcm_sender_protect(g, &st, p, &len, n + SFU_GCM_TAG_LEN - 1)); /* no room for the tag */
    p[0] = 0x40;                                                              /* version 1 */
    CHECK(!sfu_gcm_sender_protect(g, &st, p, &len, sizeof p));
    p[0] = 0x90;
    p[15] = 200; /* extension longer than the packet */
    CHECK(!sfu_gcm_sender_protect(g, &st, p, &len, sizeof p));
    p[15] = copy[15];
    len = 11;
    CHECK(!sfu_gcm_sender_protect(g, &st, p, &len, sizeof p));
    CHECK(len == 11 && memcmp(p, copy, n) == 0 && st == 0);
    len = n;
    CHECK(sfu_gcm_sender_protect(g, &st, p, &len, sizeof p) && len == n + SFU_GCM_TAG_LEN);
    sfu_gcm_sender_free(g);
}

int main(void)
{
    CHECK(sfu_srtp_global_init());
    test_index_estimate();
    test_matches_libsrtp();
    test_refuses_bad_input();
    return CHECK_RESULT();
}
