/* See cidr.h. */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Parses a numeric address; IPv4-mapped IPv6 addresses become IPv4. */
static bool parse_address(const char *text, uint8_t addr[16], bool *v6)
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, text, addr) != 1) return false;
    *v6 = true;
    if (!memcmp(addr, v4_mapped_prefix, sizeof v4_mapped_prefix)) {
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *v6 = false;
    }
    return true;
}

bool dc_cidr_parse(const char *text, dc_cidr *out)
{
    char host[DC_CIDR_TEXT_MAX];
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    if (host_len == 0 || host_len >= sizeof host) return false;
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    if (!parse_address(host, out->addr, &out->v6) || (out->v6 && strchr(host, '.'))) return false;
    int max = out->v6 ? 128 : 32;
    out->prefix_len = max;
    if (slash) {
        char *end;
        const char *digits = slash + 1;
        if (*digits < '0' || *digits > '9') return false;
        long n = strtol(digits, &end, 10);
        if (*end || n > max || end - digits > 3) return false;
        out->prefix_len = (int)n;
    }
    return true;
}

bool dc_cidr_contains(const dc_cidr *range, const char *ip)
{
    uint8_t addr[16];
    bool v6;
    if (!ip || !parse_address(ip, addr, &v6) || v6 != range->v6) return false;
    int whole = range->prefix_len / 8, bits = range->prefix_len % 8;
    if (memcmp(addr, range->addr, (size_t)whole)) return false;
    if (!bits) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - bits));
    return (addr[whole] & mask) == (range->addr[whole] & mask);
}

void dc_cidr_format(const dc_cidr *range, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN];
    inet_ntop(range->v6 ? AF_INET6 : AF_INET, range->addr, host, sizeof host);
    snprintf(out, size, "%s/%d", host, range->prefix_len);
}
