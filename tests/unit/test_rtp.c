/* RTP header, header extension, demux and keyframe-detection tests. */
#include <string.h>

#include "check.h"
#include "rtp/rtp.h"

/* Writes a 12-byte RTP fixed header; returns 12. */
static size_t put_rtp_header(uint8_t *b, uint8_t first_byte_flags, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                             uint32_t ssrc)
{
    b[0] = (uint8_t)(0x80 | first_byte_flags);
    b[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    sfu_wr16(b + 2, seq);
    sfu_wr32(b + 4, ts);
    sfu_wr32(b + 8, ssrc);
    return 12;
}

static void test_classify(void)
{
    uint8_t b[16] = {0};
    CHECK(sfu_pkt_classify(b, 0) == SFU_PKT_UNKNOWN);
    CHECK(sfu_pkt_classify(NULL, 10) == SFU_PKT_UNKNOWN);
    b[0] = 0x00, b[1] = 0x01;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_STUN);
    b[0] = 3;
    CHECK(sfu_pkt_classify(b, 1) == SFU_PKT_STUN);
    b[0] = 4;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_UNKNOWN);
    b[0] = 19;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_UNKNOWN);
    b[0] = 20;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_DTLS);
    b[0] = 22;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_DTLS);
    b[0] = 63;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_DTLS);
    b[0] = 64;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_UNKNOWN);
    b[0] = 127;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_UNKNOWN);
    b[0] = 192;
    CHECK(sfu_pkt_classify(b, 16) == SFU_PKT_UNKNOWN);

    b[0] = 0x80;
    b[1] = 96;
    CHECK(sfu_pkt_classify(b, 12) == SFU_PKT_RTP);
    CHECK(sfu_pkt_classify(b, 11) == SFU_PKT_UNKNOWN);
    CHECK(sfu_pkt_classify(b, 1) == SFU_PKT_UNKNOWN);
    b[1] = 0x80 | 96; /* marker + PT 96 = 224: still RTP */
    CHECK(sfu_pkt_classify(b, 12) == SFU_PKT_RTP);
    b[1] = 72; /* PT 72 without marker is RTP by the second-byte rule */
    CHECK(sfu_pkt_classify(b, 12) == SFU_PKT_RTP);
    b[1] = 191;
    CHECK(sfu_pkt_classify(b, 12) == SFU_PKT_RTP);
    b[0] = 0xbf;
    b[1] = 200; /* SR */
    CHECK(sfu_pkt_classify(b, 8) == SFU_PKT_RTCP);
    CHECK(sfu_pkt_classify(b, 7) == SFU_PKT_UNKNOWN);
    b[1] = 192;
    CHECK(sfu_pkt_classify(b, 8) == SFU_PKT_RTCP);
    b[1] = 223;
    CHECK(sfu_pkt_classify(b, 8) == SFU_PKT_RTCP);
    b[1] = 224;
    CHECK(sfu_pkt_classify(b, 8) == SFU_PKT_UNKNOWN); /* too short for RTP */
    CHECK(sfu_pkt_classify(b, 12) == SFU_PKT_RTP);
}

static void test_parse_basic(void)
{
    uint8_t b[64] = {0};
    size_t n = put_rtp_header(b, 0, 111, true, 0xfffe, 0x12345678, 0xdeadbeef);
    memset(b + n, 0xaa, 20);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, n + 20, &h));
    CHECK(h.pt == 111 && h.marker && !h.padding);
    CHECK(h.seq == 0xfffe && h.ts == 0x12345678 && h.ssrc == 0xdeadbeef);
    CHECK(h.csrc_count == 0 && h.ext_profile == 0 && h.ext_len == 0);
    CHECK(h.payload_off == 12 && h.payload_len == 20);

    CHECK(sfu_rtp_parse(b, 12, &h) && h.payload_len == 0);
    CHECK(!sfu_rtp_parse(b, 11, &h));
    b[0] = 0x40; /* version 1 */
    CHECK(!sfu_rtp_parse(b, n + 20, &h));
    b[0] = 0x80;
    b[1] = 0x80 | 72; /* would be RTCP 200 under rtcp-mux */
    CHECK(!sfu_rtp_parse(b, n + 20, &h));
}

static void test_parse_csrc(void)
{
    uint8_t b[80] = {0};
    put_rtp_header(b, 2, 96, false, 1, 2, 3);
    sfu_wr32(b + 12, 0x11111111);
    sfu_wr32(b + 16, 0x22222222);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, 24, &h));
    CHECK(h.csrc_count == 2 && h.payload_off == 20 && h.payload_len == 4);
    CHECK(sfu_rtp_parse(b, 20, &h) && h.payload_len == 0);
    CHECK(!sfu_rtp_parse(b, 19, &h));
    b[0] = 0x8f; /* 15 CSRCs need 72 bytes */
    CHECK(!sfu_rtp_parse(b, 71, &h));
    CHECK(sfu_rtp_parse(b, 72, &h) && h.payload_off == 72);
}

static void test_parse_extension_and_padding(void)
{
    uint8_t b[64] = {0};
    put_rtp_header(b, 0x10, 96, false, 1, 2, 3);
    sfu_wr16(b + 12, 0xBEDE);
    sfu_wr16(b + 14, 2); /* 8 bytes of extension data */
    memset(b + 16, 0, 8);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, 30, &h));
    CHECK(h.ext_profile == 0xBEDE && h.ext_off == 16 && h.ext_len == 8);
    CHECK(h.payload_off == 24 && h.payload_len == 6);
    CHECK(sfu_rtp_parse(b, 24, &h) && h.payload_len == 0);
    CHECK(!sfu_rtp_parse(b, 23, &h)); /* extension data does not fit */
    CHECK(!sfu_rtp_parse(b, 15, &h)); /* extension header does not fit */
    sfu_wr16(b + 14, 0xffff);
    CHECK(!sfu_rtp_parse(b, 64, &h));
    sfu_wr16(b + 14, 0); /* empty extension block is legal */
    CHECK(sfu_rtp_parse(b, 20, &h) && h.ext_len == 0 && h.payload_off == 16);

    /* padding: 6 payload bytes + 4 padding bytes, last byte = 4 */
    sfu_wr16(b + 14, 2);
    b[0] |= 0x20;
    memset(b + 24, 0x55, 6);
    memset(b + 30, 0, 4);
    b[33] = 4;
    CHECK(sfu_rtp_parse(b, 34, &h));
    CHECK(h.padding && h.payload_off == 24 && h.payload_len == 6);
    b[33] = 10; /* padding eats the whole payload: a padding-only packet */
    CHECK(sfu_rtp_parse(b, 34, &h) && h.payload_len == 0);
    b[33] = 11; /* would reach into the extension */
    CHECK(!sfu_rtp_parse(b, 34, &h));
    b[33] = 0; /* count includes itself, so 0 is invalid */
    CHECK(!sfu_rtp_parse(b, 34, &h));
    CHECK(!sfu_rtp_parse(b, 24, &h)); /* padding bit but no byte left for the count */
}

/* RTP packet with an extension block; returns the total length (no payload). */
static size_t make_ext_packet(uint8_t *b, uint16_t profile, const uint8_t *ext, size_t ext_len)
{
    size_t n = put_rtp_header(b, 0x10, 111, false, 7, 8, 9);
    size_t words = (ext_len + 3) / 4;
    sfu_wr16(b + n, profile);
    sfu_wr16(b + n + 2, (uint16_t)words);
    memset(b + n + 4, 0, words * 4);
    memcpy(b + n + 4, ext, ext_len);
    return n + 4 + words * 4;
}

static void test_find_ext_one_byte(void)
{
    /* id1 len1 (audio level), padding 0, id3 len3 (abs-send-time), id5 len2 */
    const uint8_t ext[] = {0x10, 0x85, 0x00, 0x32, 0xaa, 0xbb, 0xcc, 0x51, 0x12, 0x34};
    uint8_t b[64];
    size_t n = make_ext_packet(b, 0xBEDE, ext, sizeof ext);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, n, &h));
    const uint8_t *v = NULL;
    size_t vl = 0;
    CHECK(sfu_rtp_find_ext(b, &h, 1, &v, &vl) && vl == 1 && v[0] == 0x85);
    CHECK(sfu_rtp_find_ext(b, &h, 3, &v, &vl) && vl == 3 && v[0] == 0xaa && v[2] == 0xcc);
    CHECK(sfu_rtp_find_ext(b, &h, 5, &v, &vl) && vl == 2 && sfu_rd16(v) == 0x1234);
    CHECK(!sfu_rtp_find_ext(b, &h, 2, &v, &vl));
    CHECK(!sfu_rtp_find_ext(b, &h, 0, &v, &vl));
    CHECK(!sfu_rtp_find_ext(b, &h, 15, &v, &vl));
    CHECK(!sfu_rtp_find_ext(b, &h, 200, &v, &vl));

    /* id 15 stops parsing: id 3 after it is not found */
    const uint8_t stop[] = {0x10, 0x85, 0xf0, 0x00, 0x30, 0x01};
    n = make_ext_packet(b, 0xBEDE, stop, sizeof stop);
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(sfu_rtp_find_ext(b, &h, 1, &v, &vl));
    CHECK(!sfu_rtp_find_ext(b, &h, 3, &v, &vl));

    /* element longer than the block */
    const uint8_t overflow[] = {0x10, 0x85, 0x2f, 0x00};
    n = make_ext_packet(b, 0xBEDE, overflow, sizeof overflow);
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(!sfu_rtp_find_ext(b, &h, 2, &v, &vl));
    CHECK(sfu_rtp_find_ext(b, &h, 1, &v, &vl));

    /* unknown profile: no elements */
    n = make_ext_packet(b, 0x1234, ext, sizeof ext);
    CHECK(sfu_rtp_parse(b, n, &h) && h.ext_profile == 0x1234);
    CHECK(!sfu_rtp_find_ext(b, &h, 1, &v, &vl));

    /* no extension at all */
    size_t plain = put_rtp_header(b, 0, 111, false, 1, 1, 1);
    CHECK(sfu_rtp_parse(b, plain, &h));
    CHECK(!sfu_rtp_find_ext(b, &h, 1, &v, &vl));
}

static void test_find_ext_two_byte(void)
{
    /* id1 len0, padding, id20 len3, id255 len1 */
    const uint8_t ext[] = {0x01, 0x00, 0x00, 20, 3, 'a', 'b', 'c', 255, 1, 0x7f};
    uint8_t b[64];
    size_t n = make_ext_packet(b, 0x1000, ext, sizeof ext);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, n, &h) && h.ext_len == 12);
    const uint8_t *v = NULL;
    size_t vl = 99;
    CHECK(sfu_rtp_find_ext(b, &h, 1, &v, &vl) && vl == 0);
    CHECK(sfu_rtp_find_ext(b, &h, 20, &v, &vl) && vl == 3 && memcmp(v, "abc", 3) == 0);
    CHECK(sfu_rtp_find_ext(b, &h, 255, &v, &vl) && vl == 1 && v[0] == 0x7f);
    CHECK(!sfu_rtp_find_ext(b, &h, 15, &v, &vl));

    /* the low 4 "appbits" of the profile do not matter */
    n = make_ext_packet(b, 0x100f, ext, sizeof ext);
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(sfu_rtp_find_ext(b, &h, 20, &v, &vl) && vl == 3);

    /* length byte missing, then length past the end */
    const uint8_t cut[] = {0, 0, 0, 9};
    n = make_ext_packet(b, 0x1000, cut, sizeof cut);
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(!sfu_rtp_find_ext(b, &h, 9, &v, &vl));
    const uint8_t too_long[] = {9, 3, 0, 0};
    n = make_ext_packet(b, 0x1000, too_long, sizeof too_long);
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(!sfu_rtp_find_ext(b, &h, 9, &v, &vl));
}

static void test_setters(void)
{
    uint8_t b[32] = {0};
    size_t n = put_rtp_header(b, 0, 100, true, 1, 2, 3);
    sfu_rtp_set_pt(b, 96);
    sfu_rtp_set_seq(b, 0xabcd);
    sfu_rtp_set_ts(b, 0xcafebabe);
    sfu_rtp_set_ssrc(b, 0x01020304);
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, n, &h));
    CHECK(h.pt == 96 && h.marker); /* marker kept */
    CHECK(h.seq == 0xabcd && h.ts == 0xcafebabe && h.ssrc == 0x01020304);
    b[1] = 100;              /* no marker */
    sfu_rtp_set_pt(b, 0xff); /* out of range: only 7 bits written */
    CHECK(sfu_rtp_parse(b, n, &h) && h.pt == 127 && !h.marker);
}

static void test_add_padding(void)
{
    uint8_t b[64] = {0};
    size_t n = put_rtp_header(b, 0, 100, false, 1, 2, 3);
    memset(b + n, 0x77, 10); /* payload */
    n += 10;
    sfu_rtp_header h;
    CHECK(sfu_rtp_parse(b, n, &h) && !h.padding);
    /* no padding yet: P set, zeros, count last; the payload is unchanged */
    size_t len = n;
    CHECK(sfu_rtp_add_padding(b, &len, sizeof b, &h, 3) && len == n + 3);
    CHECK(sfu_rtp_parse(b, len, &h) && h.padding && h.payload_len == 10 && b[len - 1] == 3 && b[len - 2] == 0);
    /* existing padding grows: the count covers old and new */
    CHECK(sfu_rtp_add_padding(b, &len, sizeof b, &h, 2) && len == n + 5);
    CHECK(sfu_rtp_parse(b, len, &h) && h.padding && h.payload_len == 10 && b[len - 1] == 5);
    CHECK(b[h.payload_off] == 0x77 && b[h.payload_off + 9] == 0x77);
    /* zero is a no-op; too big for the buffer or a count above 255 is refused, unchanged */
    size_t before = len;
    CHECK(sfu_rtp_add_padding(b, &len, sizeof b, &h, 0) && len == before);
    CHECK(!sfu_rtp_add_padding(b, &len, sizeof b, &h, sizeof b) && len == before);
    CHECK(!sfu_rtp_add_padding(b, &len, len + 1, &h, 2) && len == before);
    b[len - 1] = 254; /* pretend 254 octets of padding are there */
    h.padding = true;
    CHECK(!sfu_rtp_add_padding(b, &len, sizeof b, &h, 2) && len == before);
}

static void test_vp8(void)
{
    /* no X byte; VP8 frame tag byte 0x50: P=0 (key frame) */
    const uint8_t key_plain[] = {0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a};
    CHECK(sfu_vp8_is_keyframe(key_plain, sizeof key_plain));
    CHECK(!sfu_vp8_is_keyframe(key_plain, 1)); /* no payload header byte */
    CHECK(!sfu_vp8_is_keyframe(key_plain, 0));
    CHECK(!sfu_vp8_is_keyframe(NULL, 7));
    const uint8_t delta_plain[] = {0x10, 0x31, 0x00};
    CHECK(!sfu_vp8_is_keyframe(delta_plain, sizeof delta_plain));
    const uint8_t not_start[] = {0x00, 0x50, 0x00};
    CHECK(!sfu_vp8_is_keyframe(not_start, sizeof not_start));
    const uint8_t second_partition[] = {0x11, 0x50, 0x00};
    CHECK(!sfu_vp8_is_keyframe(second_partition, sizeof second_partition));

    /* X: I (15-bit picture id 0x1234), L (tl0 7), T (tid 2, Y) */
    const uint8_t full[] = {0x90, 0xe0, 0x80 | 0x12, 0x34, 0x07, 0xa0, 0x50, 0x00};
    sfu_vp8_descriptor d;
    CHECK(sfu_vp8_parse_descriptor(full, sizeof full, &d));
    CHECK(d.start && d.partition_id == 0 && !d.non_reference);
    CHECK(d.has_picture_id && d.picture_id_15bit && d.picture_id == 0x1234 && d.picture_id_off == 2);
    CHECK(d.has_tl0picidx && d.tl0picidx == 7 && d.tl0picidx_off == 4);
    CHECK(d.has_tid && d.tid == 2 && d.layer_sync);
    CHECK(d.descriptor_len == 6 && d.keyframe);
    for (size_t cut = 0; cut <= 6; cut++) /* every truncation inside the descriptor */
        CHECK(!sfu_vp8_parse_descriptor(full, cut, &d));

    /* X: I with 7-bit picture id, K only (KEYIDX, no TID); delta frame; N set */
    const uint8_t short_pid[] = {0xb0, 0x90, 0x05, 0x1f, 0x31};
    CHECK(sfu_vp8_parse_descriptor(short_pid, sizeof short_pid, &d));
    CHECK(d.non_reference && d.has_picture_id && !d.picture_id_15bit && d.picture_id == 5);
    CHECK(!d.has_tl0picidx && !d.has_tid && d.descriptor_len == 4 && !d.keyframe);

    /* X with no optional fields */
    const uint8_t x_empty[] = {0x90, 0x00, 0x50};
    CHECK(sfu_vp8_is_keyframe(x_empty, sizeof x_empty));
    CHECK(!sfu_vp8_is_keyframe(x_empty, 2));
}

static void test_h264(void)
{
    const uint8_t idr[] = {0x65, 0x88, 0x84};
    const uint8_t sps[] = {0x67, 0x42, 0xc0, 0x1f};
    const uint8_t pps[] = {0x68, 0xce};
    const uint8_t non_idr[] = {0x41, 0x9a};
    CHECK(sfu_h264_is_keyframe(idr, sizeof idr));
    CHECK(sfu_h264_is_keyframe(sps, sizeof sps));
    CHECK(!sfu_h264_is_keyframe(pps, sizeof pps));
    CHECK(!sfu_h264_is_keyframe(non_idr, sizeof non_idr));
    CHECK(!sfu_h264_is_keyframe(idr, 0));

    const uint8_t stap_key[] = {0x78, 0, 2, 0x68, 0xce, 0, 4, 0x67, 0x42, 0xc0, 0x1f, 0, 2, 0x65, 0x88};
    CHECK(sfu_h264_is_keyframe(stap_key, sizeof stap_key));
    CHECK(!sfu_h264_is_keyframe(stap_key, 6)); /* SPS NAL cut off */
    const uint8_t stap_delta[] = {0x78, 0, 2, 0x41, 0x9a, 0, 2, 0x41, 0x9b};
    CHECK(!sfu_h264_is_keyframe(stap_delta, sizeof stap_delta));
    const uint8_t stap_bad_size[] = {0x78, 0, 9, 0x41, 0x9a, 0, 1, 0x65};
    CHECK(!sfu_h264_is_keyframe(stap_bad_size, sizeof stap_bad_size));

    const uint8_t fu_start_idr[] = {0x7c, 0x85, 0xb8};
    const uint8_t fu_middle_idr[] = {0x7c, 0x05, 0xb8};
    const uint8_t fu_start_non_idr[] = {0x7c, 0x81, 0x9a};
    CHECK(sfu_h264_is_keyframe(fu_start_idr, sizeof fu_start_idr));
    CHECK(!sfu_h264_is_keyframe(fu_start_idr, 1));
    CHECK(!sfu_h264_is_keyframe(fu_middle_idr, sizeof fu_middle_idr));
    CHECK(!sfu_h264_is_keyframe(fu_start_non_idr, sizeof fu_start_non_idr));
}

int main(void)
{
    test_classify();
    test_parse_basic();
    test_parse_csrc();
    test_parse_extension_and_padding();
    test_find_ext_one_byte();
    test_find_ext_two_byte();
    test_setters();
    test_add_padding();
    test_vp8();
    test_h264();
    return CHECK_RESULT();
}
