/* Transport-wide congestion control: the sequence-number header extension on what we send
 * and the parser of the feedback about it (twcc.h). */
#include "rtp/twcc.h"

#include <string.h>

#define EXT_ONE_BYTE 0xBEDEu
#define RTP_X 0x10u
#define FEEDBACK_HEADER_LEN 20 /* RTCP header, two SSRCs, base/count, reference time/count */
#define DELTA_UNIT_US 250
#define REFERENCE_UNIT_US 64000

/* --- the header extension ------------------------------------------------------------ */

static bool two_byte_profile(uint16_t profile) { return (profile & 0xfff0u) == 0x1000u; }

/* Walks the elements of an extension block (data, len) in dst: renames and fills the
 * first element that is ours (id, or in_id, two octets), turns every other element
 * carrying `id` into padding. *end gets the offset after the last element (trailing
 * padding starts there). Returns 1 if an element was rewritten, 0 if not, -1 if the block
 * is malformed or stops early (id 15): a receiver would not read what we add. */
static int rewrite_elements(uint8_t *data, size_t len, bool two_byte, uint8_t id, uint8_t in_id, uint16_t seq,
                            size_t *end)
{
    bool stamped = false;
    size_t i = 0;
    *end = 0;
    while (i < len) {
        if (data[i] == 0) { /* padding */
            i++;
            continue;
        }
        size_t head = two_byte ? 2 : 1;
        uint8_t el_id = two_byte ? data[i] : data[i] >> 4;
        if (!two_byte && el_id == 15) return -1; /* stop: the rest is not to be read */
        if (len - i < head) return -1;
        size_t el_len = two_byte ? data[i + 1] : (size_t)(data[i] & 0x0f) + 1;
        if (el_len > len - i - head) return -1;
        if (!stamped && el_len == 2 && (el_id == id || (in_id && el_id == in_id))) {
            if (two_byte) data[i] = id;
            else data[i] = (uint8_t)(id << 4 | 1);
            sfu_wr16(data + i + head, seq);
            stamped = true;
        } else if (el_id == id) {
            memset(data + i, 0, head + el_len); /* padding octets, element gone */
        }
        i += head + el_len;
        *end = i;
    }
    return stamped;
}

static size_t write_element(uint8_t *p, bool two_byte, uint8_t id, uint16_t seq)
{
    if (two_byte) {
        p[0] = id;
        p[1] = 2;
        sfu_wr16(p + 2, seq);
        return 4;
    }
    p[0] = (uint8_t)(id << 4 | 1);
    sfu_wr16(p + 1, seq);
    p[3] = 0; /* padding to the 32-bit boundary */
    return 4;
}

size_t sfu_twcc_copy_stamped(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, const sfu_rtp_header *h,
                             uint8_t id, uint8_t in_id, uint16_t seq)
{
    if (id == 0 || id > 14 || len > cap) return 0;
    size_t fixed = 12 + (size_t)h->csrc_count * 4;
    bool has_block = h->ext_profile == EXT_ONE_BYTE || (two_byte_profile(h->ext_profile) && h->ext_len);
    if (!has_block) {
        /* no block we can write into (none, or another profile, which we replace) */
        size_t after = (src[0] & RTP_X) ? h->ext_off + h->ext_len : fixed; /* payload start */
        size_t tail = len - after;
        if (fixed + 8 + tail > cap) return 0;
        memcpy(dst, src, fixed);
        dst[0] |= RTP_X;
        sfu_wr16(dst + fixed, EXT_ONE_BYTE);
        sfu_wr16(dst + fixed + 2, 1);
        write_element(dst + fixed + 4, false, id, seq);
        memcpy(dst + fixed + 8, src + after, tail);
        return fixed + 8 + tail;
    }
    /* the header and its block first, then the payload once, where it goes */
    bool two_byte = h->ext_profile != EXT_ONE_BYTE;
    size_t block_end = h->ext_off + h->ext_len, tail = len - block_end;
    memcpy(dst, src, block_end);
    size_t end;
    int stamped = rewrite_elements(dst + h->ext_off, h->ext_len, two_byte, id, in_id, seq, &end);
    if (stamped < 0) return 0;
    size_t need = two_byte ? 4 : 3;
    if (stamped || h->ext_len - end >= need) {
        if (!stamped) { /* trailing padding takes it */
            uint8_t el[4];
            write_element(el, two_byte, id, seq);
            memcpy(dst + h->ext_off + end, el, need);
        }
        memcpy(dst + block_end, src + block_end, tail);
        return len;
    }
    /* the block grows by one word, the payload goes behind it */
    if (len + 4 > cap) return 0;
    write_element(dst + block_end, two_byte, id, seq);
    sfu_wr16(dst + h->ext_off - 2, (uint16_t)((h->ext_len + 4) / 4));
    memcpy(dst + block_end + 4, src + block_end, tail);
    return len + 4;
}

/* --- the feedback ---------------------------------------------------------------------- */

/* Packet status chunks, read one symbol at a time: 0 not received, 1 small delta (one
 * octet), 2 large or negative delta (two octets, signed), 3 reserved. */
typedef struct {
    const uint8_t *data;
    size_t len, off; /* off: the next chunk */
    uint16_t chunk;
    unsigned left; /* symbols left in the current chunk */
    unsigned index;
} chunk_reader;

static bool next_symbol(chunk_reader *r, unsigned *symbol)
{
    while (r->left == 0) { /* (an empty run is skipped) */
        if (r->len - r->off < 2) return false;
        r->chunk = sfu_rd16(r->data + r->off);
        r->off += 2;
        r->index = 0;
        if (!(r->chunk & 0x8000)) r->left = r->chunk & 0x1fff; /* run length */
        else r->left = (r->chunk & 0x4000) ? 7 : 14;           /* status vector */
    }
    if (!(r->chunk & 0x8000)) *symbol = (r->chunk >> 13) & 3;
    else if (r->chunk & 0x4000) *symbol = (r->chunk >> (12 - 2 * r->index)) & 3;
    else *symbol = (r->chunk >> (13 - r->index)) & 1;
    r->index++;
    r->left--;
    return *symbol != 3;
}

static size_t delta_size(unsigned symbol) { return symbol; /* 0, 1 or 2 octets */ }

bool sfu_twcc_parse(const sfu_rtcp_packet *p, sfu_twcc_feedback *fb, sfu_twcc_status *out, size_t max, size_t *n)
{
    *n = 0;
    if (p->pt != SFU_RTCP_RTPFB || p->fmt != SFU_TWCC_FMT || p->len < FEEDBACK_HEADER_LEN) return false;
    const uint8_t *d = p->data;
    size_t len = p->len;
    if (d[0] & 0x20) { /* RTCP padding: the last octet counts it */
        size_t pad = d[len - 1];
        if (pad == 0 || pad > len - FEEDBACK_HEADER_LEN) return false;
        len -= pad;
    }
    *fb = (sfu_twcc_feedback){.sender_ssrc = sfu_rd32(d + 4),
                              .media_ssrc = sfu_rd32(d + 8),
                              .base_seq = sfu_rd16(d + 12),
                              .status_count = sfu_rd16(d + 14),
                              .fb_count = d[19]};
    uint32_t ref = (uint32_t)d[16] << 16 | (uint32_t)d[17] << 8 | d[18];
    fb->reference_time = (int32_t)(ref ^ 0x800000u) - 0x800000; /* sign-extend 24 bits */

    /* first pass: where the chunks end and the deltas fit */
    chunk_reader r = {.data = d, .len = len, .off = FEEDBACK_HEADER_LEN};
    size_t delta_bytes = 0;
    for (unsigned i = 0; i < fb->status_count; i++) {
        unsigned symbol;
        if (!next_symbol(&r, &symbol)) return false;
        delta_bytes += delta_size(symbol);
    }
    size_t deltas = r.off;
    if (delta_bytes > len - deltas) return false;

    /* second pass: the statuses, arrival times accumulated from the reference time */
    r = (chunk_reader){.data = d, .len = len, .off = FEEDBACK_HEADER_LEN};
    int64_t arrival = (int64_t)fb->reference_time * REFERENCE_UNIT_US;
    size_t count = fb->status_count < max ? fb->status_count : max;
    for (size_t i = 0; i < count; i++) {
        unsigned symbol;
        next_symbol(&r, &symbol); /* checked by the first pass */
        sfu_twcc_status *s = &out[i];
        s->seq = (uint16_t)(fb->base_seq + i);
        s->received = symbol != 0;
        s->arrival_us = 0;
        if (symbol == 1) arrival += (int64_t)d[deltas] * DELTA_UNIT_US;
        else if (symbol == 2) arrival += (int64_t)(int16_t)sfu_rd16(d + deltas) * DELTA_UNIT_US;
        if (symbol) s->arrival_us = arrival;
        deltas += delta_size(symbol);
    }
    *n = count;
    return true;
}

/* --- writing feedback -------------------------------------------------------------- */

#define TICKS_PER_REFERENCE (REFERENCE_UNIT_US / DELTA_UNIT_US)
#define RUN_MAX 0x1fff

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The chunk that starts at sym[i] (n symbols in all): run-length where a status repeats
 * for a whole vector's worth, else the densest vector that holds the symbols. Returns the
 * chunk and sets *taken to the symbols it covers. */
static uint16_t next_chunk(const uint8_t *sym, size_t i, size_t n, size_t *taken)
{
    size_t run = 1;
    while (i + run < n && run < RUN_MAX && sym[i + run] == sym[i]) run++;
    size_t k14 = n - i < 14 ? n - i : 14, k7 = n - i < 7 ? n - i : 7;
    bool one_bit = true;
    for (size_t j = 0; j < k14; j++) one_bit = one_bit && sym[i + j] < 2;
    if (run >= 14 || (run >= 7 && !one_bit) || run == n - i) {
        *taken = run;
        return (uint16_t)(sym[i] << 13 | run);
    }
    uint16_t chunk = 0x8000;
    if (one_bit) {
        for (size_t j = 0; j < k14; j++) chunk |= (uint16_t)(sym[i + j] << (13 - j));
        *taken = k14;
        return chunk;
    }
    chunk |= 0x4000;
    for (size_t j = 0; j < k7; j++) chunk |= (uint16_t)(sym[i + j] << (12 - 2 * j));
    *taken = k7;
    return chunk;
}

size_t sfu_twcc_write_feedback(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t fb_count,
                               uint16_t base_seq, const int64_t *arrival_us, size_t count, size_t *covered)
{
    *covered = 0;
    if (count > SFU_TWCC_MAX_STATUSES) count = SFU_TWCC_MAX_STATUSES;
    if (!buf || count == 0 || cap < FEEDBACK_HEADER_LEN + 4) return 0;
    /* the symbols and deltas, up to a delta that does not fit */
    uint8_t sym[SFU_TWCC_MAX_STATUSES];
    int16_t delta[SFU_TWCC_MAX_STATUSES];
    int64_t reference = 0, ticks = 0;
    bool any = false;
    size_t n = 0;
    for (; n < count; n++) {
        if (arrival_us[n] == SFU_TWCC_NOT_RECEIVED || arrival_us[n] < 0) {
            sym[n] = 0;
            continue;
        }
        int64_t t = arrival_us[n] / DELTA_UNIT_US;
        if (!any) {
            reference = floor_div(t, TICKS_PER_REFERENCE);
            ticks = reference * TICKS_PER_REFERENCE;
            any = true;
        }
        int64_t d = t - ticks;
        if (d < INT16_MIN || d > INT16_MAX) break;
        sym[n] = d >= 0 && d <= 255 ? 1 : 2;
        delta[n] = (int16_t)d;
        ticks = t;
    }
    /* chunks while the packet still fits (deltas and 3 octets of padding at most) */
    size_t off = FEEDBACK_HEADER_LEN, done = 0, delta_bytes = 0;
    while (done < n) {
        size_t taken, bytes = 0;
        uint16_t chunk = next_chunk(sym, done, n, &taken);
        for (size_t j = done; j < done + taken; j++) bytes += sym[j];
        if (off + 2 + delta_bytes + bytes + 3 > cap) {
            /* a shorter chunk, of as many symbols as fit at two octets each (a long run of
             * large deltas would otherwise never fit) */
            size_t room = cap - off, fixed = 2 + delta_bytes + 3;
            size_t limit = room > fixed ? (room - fixed) / 2 : 0;
            if (limit == 0) break;
            chunk = next_chunk(sym, done, done + limit < n ? done + limit : n, &taken);
            bytes = 0;
            for (size_t j = done; j < done + taken; j++) bytes += sym[j];
        }
        sfu_wr16(buf + off, chunk);
        off += 2;
        delta_bytes += bytes;
        done += taken;
    }
    if (done == 0) return 0;
    for (size_t j = 0; j < done; j++) {
        if (sym[j] == 1) buf[off++] = (uint8_t)delta[j];
        else if (sym[j] == 2) {
            sfu_wr16(buf + off, (uint16_t)delta[j]);
            off += 2;
        }
    }
    size_t pad = (4 - off % 4) % 4;
    if (pad) {
        memset(buf + off, 0, pad);
        off += pad;
        buf[off - 1] = (uint8_t)pad;
    }
    buf[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | SFU_TWCC_FMT);
    buf[1] = SFU_RTCP_RTPFB;
    sfu_wr16(buf + 2, (uint16_t)(off / 4 - 1));
    sfu_wr32(buf + 4, sender_ssrc);
    sfu_wr32(buf + 8, media_ssrc);
    sfu_wr16(buf + 12, base_seq);
    sfu_wr16(buf + 14, (uint16_t)done);
    uint32_t ref24 = (uint32_t)reference & 0xffffffu;
    buf[16] = (uint8_t)(ref24 >> 16);
    buf[17] = (uint8_t)(ref24 >> 8);
    buf[18] = (uint8_t)ref24;
    buf[19] = fb_count;
    *covered = done;
    return off;
}
