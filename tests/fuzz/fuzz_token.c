/* Fuzz target for join tokens (dc_token_verify, signaling/token.h).
 *
 * Each input is tried twice: verbatim as a token (the signature almost never matches, so
 * this exercises the splitting, base64url and header checks), and with its text up to
 * the last '.' re-signed with the secret (so that mutated headers and claims reach the
 * claims parser). Beyond "no crash, no leak":
 *   - a verdict is one of dc_token_status and a failure has a message;
 *   - accepted claims are what the meeting relies on: a non-empty name, exactly one of
 *     room and room_prefix at most, and one of them or a scope, a known role, grants within DC_GRANTS_ALL, exp set;
 *   - signing accepted claims again gives a token that verifies to the same claims.
 * Seeds: tests/fuzz/corpus/token, valid tokens and JSON header.claims pairs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "token_forge.h"

#define REQUIRE(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_token: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

static const uint8_t secret[] = "fuzz-secret-0123456789abcdef0123456789";
#define NOW 1800000000

static void check_token(const char *token, size_t len)
{
    dc_token_claims c, again;
    char msg[160];
    dc_token_status s = dc_token_verify(token, len, secret, sizeof secret - 1, NOW, &c, msg, sizeof msg);
    REQUIRE(s >= DC_TOKEN_OK && s <= DC_TOKEN_EXPIRED);
    if (s != DC_TOKEN_OK) {
        REQUIRE(msg[0]);
        return;
    }
    REQUIRE(c.name[0] && !(c.room[0] && c.room_prefix[0]) && (c.room[0] || c.room_prefix[0] || c.scope[0]));
    REQUIRE(c.role < DC_ROLE_COUNT && (c.grants & ~DC_GRANTS_ALL) == 0 && c.exp > 0);
    char *resigned = dc_token_sign(&c, secret, sizeof secret - 1);
    REQUIRE(resigned);
    REQUIRE(dc_token_verify(resigned, strlen(resigned), secret, sizeof secret - 1, NOW, &again, msg, sizeof msg) ==
            DC_TOKEN_OK);
    REQUIRE(!memcmp(&c, &again, sizeof c));
    free(resigned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_token((const char *)data, size);
    if (size > DC_JOIN_TOKEN_MAX_BYTES) return 0;

    const uint8_t *last_dot = memrchr(data, '.', size);
    const uint8_t *first_dot = memchr(data, '.', size);
    if (!last_dot || last_dot == first_dot) return 0;
    size_t header_len = (size_t)(first_dot - data), claims_len = (size_t)(last_dot - first_dot - 1);
    char *forged = malloc(2 * size + 64);
    token_forge((const char *)data, header_len, (const char *)first_dot + 1, claims_len, secret, sizeof secret - 1,
                forged);
    check_token(forged, strlen(forged));
    free(forged);
    return 0;
}
