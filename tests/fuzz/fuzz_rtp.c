/* Fuzz target: every RTP-side parser on arbitrary bytes. Invariant violations abort,
 * so the runner reports them like a sanitizer finding. */
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"
#include "rtp/rtx.h"

static volatile uint8_t sink; /* keeps reads of returned spans from being optimised out */

static void touch(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc ^= p[i];
    sink = acc;
}

static void fuzz_extensions(const uint8_t *d, const sfu_rtp_header *h)
{
    static const uint8_t ids[] = {0, 1, 2, 3, 4, 5, 9, 13, 14, 15, 16, 100, 255};
    for (size_t i = 0; i < sizeof ids; i++) {
        const uint8_t *val = NULL;
        size_t val_len = 0;
        if (!sfu_rtp_find_ext(d, h, ids[i], &val, &val_len)) continue;
        if (val < d + h->ext_off || val + val_len > d + h->ext_off + h->ext_len) abort();
        touch(val, val_len);
    }
}

static void fuzz_payload(const uint8_t *p, size_t n)
{
    sfu_vp8_descriptor vp8;
    if (sfu_vp8_parse_descriptor(p, n, &vp8)) {
        if (vp8.descriptor_len >= n) abort();
        if (vp8.keyframe != sfu_vp8_is_keyframe(p, n)) abort();
    }
    sink = (uint8_t)sfu_h264_is_keyframe(p, n);
}

/* The setters must leave a packet that still parses to the same layout. */
static void fuzz_rewrite(const uint8_t *d, size_t n, const sfu_rtp_header *h)
{
    static uint8_t copy[65536];
    if (n > sizeof copy) return;
    memcpy(copy, d, n);
    sfu_rtp_set_pt(copy, 96);
    sfu_rtp_set_seq(copy, (uint16_t)(h->seq + 1));
    sfu_rtp_set_ts(copy, h->ts + 3000);
    sfu_rtp_set_ssrc(copy, ~h->ssrc);
    sfu_rtp_header again;
    if (!sfu_rtp_parse(copy, n, &again)) abort();
    if (again.pt != 96 || again.marker != h->marker || again.ssrc != ~h->ssrc) abort();
    if (again.payload_off != h->payload_off || again.payload_len != h->payload_len) abort();
}

/* RFC 4588 both ways: wrapping gives a packet that parses with the same payload behind an
 * OSN, and unwrapping it gives the original's payload back (padding dropped). */
static void fuzz_rtx(const uint8_t *d, size_t n, const sfu_rtp_header *h)
{
    static uint8_t rtx[65536 + 2];
    size_t len = sfu_rtx_wrap(rtx, sizeof rtx, d, h, h->seq, 0x55, 97, 9);
    if (len != h->payload_off + 2 + h->payload_len) abort();
    sfu_rtp_header r;
    if (!sfu_rtp_parse(rtx, len, &r) || r.payload_len != h->payload_len + 2 || r.ssrc != 0x55) abort();
    if (!sfu_rtx_unwrap(rtx, &len, &r, h->ssrc, h->pt)) abort();
    if (len != h->payload_off + h->payload_len || memcmp(rtx + h->payload_off, d + h->payload_off, h->payload_len))
        abort();
    /* the input itself taken as RTX */
    memcpy(rtx, d, n);
    len = n;
    if (sfu_rtx_unwrap(rtx, &len, h, 1, 96) != (h->payload_len >= 2)) abort();
    if (len > n || (h->payload_len >= 2 && !sfu_rtp_parse(rtx, len, &r))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    sfu_pkt_kind kind = sfu_pkt_classify(d, n);
    fuzz_payload(d, n);

    sfu_rtp_header h;
    if (!sfu_rtp_parse(d, n, &h)) return 0;
    if (kind != SFU_PKT_RTP) abort();
    if (h.payload_off > n || h.payload_len > n - h.payload_off) abort();
    if (h.ext_len && (h.ext_off < 16 || h.ext_off + h.ext_len > h.payload_off)) abort();
    touch(d + h.payload_off, h.payload_len);
    fuzz_extensions(d, &h);
    fuzz_payload(d + h.payload_off, h.payload_len);
    fuzz_rewrite(d, n, &h);
    fuzz_rtx(d, n, &h);
    return 0;
}
