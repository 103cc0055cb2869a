/* Fuzz target for the ICE-lite responder (sfu_ice_answer).
 *
 * Each input is fed twice, each time copied so that it ends exactly at an inaccessible
 * guard page: a read past the datagram faults even inside libnice, which ASan does not
 * instrument (libnice 0.1.21 does over-read on a short MESSAGE-INTEGRITY):
 *   1. as is;
 *   2. "re-signed": if it carries a 20-byte MESSAGE-INTEGRITY and/or ends in a
 *      FINGERPRINT, both are recomputed (with the one password the lookup knows), so
 *      mutations of the body reach the code behind the integrity check instead of
 *      dying at the CRC.
 * The source address alternates between IPv4 and IPv6. Seeds (tests/fuzz/corpus/stun)
 * are written by `test_ice <dir>` and use the same ufrag/password as below. */
#include "ice/ice_lite.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_UFRAG "srvufrag"
#define FUZZ_PWD "srvpassword0123456789abc"
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_FINGERPRINT 0x8028

static bool lookup_one_ufrag(void *user, const char *ufrag, size_t ufrag_len, const char **pwd, size_t *pwd_len)
{
    (void)user;
    if (ufrag_len != strlen(FUZZ_UFRAG) || memcmp(ufrag, FUZZ_UFRAG, ufrag_len) != 0) return false;
    *pwd = FUZZ_PWD;
    *pwd_len = strlen(FUZZ_PWD);
    return true;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, size_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

static uint32_t stun_crc32(const uint8_t *d, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= d[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

/* Offset of the first attribute of `type` (its header), or 0. Bounded walk. */
static size_t find_attribute(const uint8_t *m, size_t n, uint16_t type)
{
    size_t at = 20;
    while (at + 4 <= n) {
        if (get16(m + at) == type) return at;
        at += 4 + ((get16(m + at + 2) + 3u) & ~3u);
    }
    return 0;
}

/* Recomputes MESSAGE-INTEGRITY (RFC 5389 §15.4: length field counts up to it) and a
 * trailing FINGERPRINT, in place, when they have the right shape. */
static void resign(uint8_t *m, size_t n)
{
    if (n < 20 || get16(m + 2) + 20u != n) return;
    size_t mi = find_attribute(m, n, ATTR_MESSAGE_INTEGRITY);
    if (mi && get16(m + mi + 2) == 20 && mi + 24 <= n) {
        put16(m + 2, mi + 24 - 20);
        unsigned int hlen = 20;
        HMAC(EVP_sha1(), FUZZ_PWD, (int)strlen(FUZZ_PWD), m, mi, m + mi + 4, &hlen);
        put16(m + 2, n - 20);
    }
    if (n >= 28 && get16(m + n - 8) == ATTR_FINGERPRINT && get16(m + n - 6) == 4) {
        uint32_t fp = stun_crc32(m, n - 8) ^ 0x5354554eu;
        m[n - 4] = (uint8_t)(fp >> 24), m[n - 3] = (uint8_t)(fp >> 16);
        m[n - 2] = (uint8_t)(fp >> 8), m[n - 1] = (uint8_t)fp;
    }
}

static void answer_once(sfu_ice_agent *agent, const uint8_t *d, size_t n, bool ipv6)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(5000), .sin_addr.s_addr = htonl(0xc0000201)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(5001)};
    v6.sin6_addr.s6_addr[0] = 0x20, v6.sin6_addr.s6_addr[15] = 1;
    const struct sockaddr *from = ipv6 ? (const struct sockaddr *)&v6 : (const void *)&v4;
    socklen_t from_len = ipv6 ? sizeof v6 : sizeof v4;
    sfu_ice_answer_t out;
    sfu_ice_result r = sfu_ice_answer(agent, d, n, from, from_len, lookup_one_ufrag, NULL, &out);
    bool has_reply = r == SFU_ICE_REPLY || r == SFU_ICE_ROLE_CONFLICT;
    if (has_reply != (out.reply_len > 0) || out.reply_len > SFU_ICE_REPLY_MAX) abort();
    if (r == SFU_ICE_REPLY && strcmp(out.local_ufrag, FUZZ_UFRAG) != 0) abort();
    if (r != SFU_ICE_REPLY && out.local_ufrag[0] != '\0') abort();
    /* the ICE-TCP listener's routing: the same ufrag as the full check, never longer */
    char ufrag[SFU_ICE_UFRAG_MAX + 1];
    bool named = sfu_ice_local_ufrag(d, n, ufrag);
    if (named && (!ufrag[0] || strlen(ufrag) > SFU_ICE_UFRAG_MAX)) abort();
    if (r == SFU_ICE_REPLY && (!named || strcmp(ufrag, FUZZ_UFRAG) != 0)) abort();
}

#define GUARDED_CAPACITY (70 * 1024) /* > largest STUN message, 65535 + 20 */

/* One writable area followed by a PROT_NONE page, mapped once. */
static uint8_t *guarded_area_end(void)
{
    static uint8_t *end;
    if (end) return end;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t usable = (GUARDED_CAPACITY + page - 1) / page * page;
    uint8_t *base = mmap(NULL, usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + usable, page, PROT_NONE) != 0) abort();
    end = base + usable;
    return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sfu_ice_agent *agent;
    if (!agent) agent = sfu_ice_agent_new();
    if (!agent) abort();
    if (size > GUARDED_CAPACITY) return 0;
    uint8_t *copy = guarded_area_end() - size;
    memcpy(copy, data, size);
    answer_once(agent, copy, size, size & 1);
    resign(copy, size);
    answer_once(agent, copy, size, !(size & 1));
    return 0;
}
