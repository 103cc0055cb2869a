/* RFC 2198 RED payloads as Chromium sends them for Opus: a primary block alone, one or two
 * redundant blocks before it, empty blocks; parsed, stripped to the primary, block payload
 * types rewritten; every truncation and every lying block length refused, not over-read
 * (ASan watches). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rtp/red.h"

/* Writes a RED payload: n redundant blocks of lens[0..n-1] octets (filled with 0xA0+i),
 * then a primary of primary_len octets (0xB0); returns its length. */
static size_t build(uint8_t *p, uint8_t pt, const size_t *lens, size_t n, size_t primary_len)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ts_offset = (uint32_t)(960 * (n - i));
        p[pos++] = (uint8_t)(0x80 | pt);
        p[pos++] = (uint8_t)(ts_offset >> 6);
        p[pos++] = (uint8_t)((ts_offset & 0x3f) << 2 | (lens[i] >> 8));
        p[pos++] = (uint8_t)(lens[i] & 0xff);
    }
    p[pos++] = pt;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < lens[i]; j++) p[pos++] = (uint8_t)(0xA0 + i);
    for (size_t j = 0; j < primary_len; j++) p[pos++] = 0xB0;
    return pos;
}

static bool primary_is_b0(const uint8_t *p, const sfu_red_info *r)
{
    for (size_t j = 0; j < r->primary_len; j++)
        if (p[r->primary_off + j] != 0xB0) return false;
    return true;
}

static void test_shapes(void)
{
    static const struct {
        size_t n, lens[3], primary;
    } cases[] = {
        {0, {0}, 60},          /* the first packet: primary only */
        {1, {57}, 60},         /* Chromium's usual: one redundant block */
        {2, {40, 57}, 61},     /* two */
        {1, {0}, 3},           /* DTX: an empty redundant block */
        {1, {1023}, 10},       /* the 10-bit maximum */
        {1, {20}, 0},          /* an empty primary */
        {3, {300, 1, 2}, 900}, /* larger */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t p[4096];
        size_t len = build(p, 111, cases[c].lens, cases[c].n, cases[c].primary);
        sfu_red_info r;
        CHECK(sfu_red_parse(p, len, &r));
        CHECK(r.n_redundant == cases[c].n);
        CHECK(r.primary_pt == 111);
        CHECK(r.primary_len == cases[c].primary);
        CHECK(r.primary_off + r.primary_len == len);
        CHECK(primary_is_b0(p, &r));
        /* each truncation fails or, when it cuts only into the primary, yields a shorter one */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *q = malloc(cut ? cut : 1); /* exact size: ASan sees an over-read */
            memcpy(q, p, cut);
            sfu_red_info t;
            bool ok = sfu_red_parse(q, cut, &t);
            CHECK(!ok ||
                  (t.primary_off == r.primary_off && cut >= r.primary_off && t.primary_len == cut - r.primary_off));
            free(q);
        }
        /* rewrite the block payload types: data untouched, parse sees the new pt */
        uint8_t copy[4096];
        memcpy(copy, p, len);
        sfu_red_set_block_pts(copy, len, 109);
        sfu_red_info again;
        CHECK(sfu_red_parse(copy, len, &again));
        CHECK(again.primary_pt == 109 && again.primary_off == r.primary_off && again.primary_len == r.primary_len);
        CHECK(!memcmp(copy + r.primary_off, p + r.primary_off, r.primary_len));
        for (size_t i = 0; i < cases[c].n; i++) CHECK((copy[4 * i] & 0x7f) == 109 && (copy[4 * i] & 0x80));
    }
}

static void test_refused(void)
{
    sfu_red_info r;
    uint8_t empty[1] = {0};
    CHECK(!sfu_red_parse(empty, 0, &r)); /* no header at all */
    /* a redundant block longer than what follows */
    size_t lens[1] = {100};
    uint8_t p[256];
    size_t len = build(p, 111, lens, 1, 0);
    CHECK(sfu_red_parse(p, len, &r) && r.primary_len == 0);
    CHECK(!sfu_red_parse(p, len - 1, &r));
    /* headers only, every one with F set: no primary header */
    uint8_t all_f[8] = {0xef, 0, 0, 0, 0xef, 0, 0, 0};
    CHECK(!sfu_red_parse(all_f, sizeof all_f, &r));
    /* a lying length on the second of two blocks */
    size_t lens2[2] = {10, 10};
    len = build(p, 111, lens2, 2, 5);
    p[7] = 200; /* second block: 200 octets, only 15 follow its headers */
    CHECK(!sfu_red_parse(p, len, &r));
}

int main(void)
{
    test_shapes();
    test_refused();
    return CHECK_RESULT();
}
