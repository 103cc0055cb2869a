/* Address ranges in CIDR notation ("127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"),
 * for the clients that may mint development tokens. An IPv4 client seen on a dual-stack
 * socket as "::ffff:a.b.c.d" matches IPv4 ranges. */
#ifndef DC_CIDR_H
#define DC_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_CIDR_TEXT_MAX 64 /* "ffff:…/128" and its NUL */

typedef struct {
    uint8_t addr[16]; /* IPv4 in the first 4 bytes */
    bool v6;
    int prefix_len; /* 0–32 (IPv4) or 0–128 (IPv6) */
} dc_cidr;

/* "address/prefix"; a bare address is a single host. False for anything else. */
bool dc_cidr_parse(const char *text, dc_cidr *out);
/* True when ip (numeric, as getnameinfo or lws report it) is inside range. */
bool dc_cidr_contains(const dc_cidr *range, const char *ip);
/* The range as text, in out (DC_CIDR_TEXT_MAX bytes). */
void dc_cidr_format(const dc_cidr *range, char *out, size_t size);

#endif
