/* Join tokens: compact JWS with HS256 (token.h). The signature is checked before any claim
 * is looked at, in constant time; the claims then follow the same rules as join's room and
 * name (protocol.c's helpers), so that a token cannot carry what a join could not. */
#include "token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS256_BYTES 32
/* Header and claims are small: a token longer than this is not one of ours. */
#define TOKEN_MAX_BYTES DC_JOIN_TOKEN_MAX_BYTES

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Writes base64url without padding; out needs 4 * ceil(len / 3) + 1 bytes. */
static size_t b64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        size_t chars = len - i >= 3 ? 4 : len - i + 1;
        for (size_t c = 0; c < chars; c++) out[o++] = b64url_alphabet[(v >> (18 - 6 * c)) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url_alphabet, c) : NULL;
    return p ? (int)(p - b64url_alphabet) : -1;
}

/* Decodes base64url without padding into a malloc'd buffer (NUL-terminated for JSON);
 * NULL on a character outside the alphabet, an impossible length or non-zero spare bits. */
static uint8_t *b64url_decode(const char *in, size_t len, size_t *out_len)
{
    if (len % 4 == 1) return NULL;
    uint8_t *out = malloc(len * 3 / 4 + 1);
    if (!out) return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* a second encoding of the same bytes: not canonical */
        free(out);
        return NULL;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static bool hs256(const uint8_t *secret, size_t secret_len, const char *data, size_t len, uint8_t mac[HS256_BYTES])
{
    unsigned int mac_len = 0;
    return HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, len, mac, &mac_len) &&
           mac_len == HS256_BYTES;
}

static dc_token_status fail(dc_token_status status, char *msg, size_t msg_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dc_token_status fail(dc_token_status status, char *msg, size_t msg_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (msg && msg_len) vsnprintf(msg, msg_len, fmt, ap);
    va_end(ap);
    return status;
}

/* A base64url part holding a JSON object; NULL if it is not one. */
static json_t *decode_json_part(const char *part, size_t len)
{
    size_t n;
    uint8_t *text = b64url_decode(part, len, &n);
    if (!text) return NULL;
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static dc_token_status check_header(const char *part, size_t len, char *msg, size_t msg_len)
{
    json_t *h = decode_json_part(part, len);
    if (!h) return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token header is not base64url JSON");
    const char *alg = json_string_value(json_object_get(h, "alg"));
    json_t *typ = json_object_get(h, "typ");
    dc_token_status s = DC_TOKEN_OK;
    if (!alg || strcmp(alg, "HS256")) s = fail(DC_TOKEN_BAD_ALG, msg, msg_len, "token algorithm must be HS256");
    else if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT")))
        s = fail(DC_TOKEN_MALFORMED, msg, msg_len, "token type must be JWT");
    json_decref(h);
    return s;
}

/* A NumericDate claim: *value 0 when absent and optional. */
static bool date_claim(json_t *claims, const char *key, bool required, int64_t *value)
{
    json_t *v = json_object_get(claims, key);
    *value = 0;
    if (!v) return !required;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) return false;
    *value = json_integer_value(v);
    return true;
}

static dc_token_status malformed_claim(char *msg, size_t msg_len, const char *key)
{
    return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token claim \"%s\" is missing or invalid", key);
}

/* Copies the claim text through check (protocol.c's room or label rules); absent is fine
 * when not required (out stays ""). */
static dc_token_status text_claim(json_t *claims, const char *key, bool required, char *out,
                                  dc_error_code (*check)(const char *, const char *, size_t, char *, char *, size_t),
                                  char *msg, size_t msg_len)
{
    json_t *v = json_object_get(claims, key);
    out[0] = '\0';
    if (!v && !required) return DC_TOKEN_OK;
    if (!json_is_string(v)) return malformed_claim(msg, msg_len, key);
    char why[128];
    if (check(key, json_string_value(v), json_string_length(v), out, why, sizeof why))
        return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token claim %s", why);
    return DC_TOKEN_OK;
}

static dc_token_status parse_grants(json_t *claims, dc_token_claims *out, char *msg, size_t msg_len)
{
    json_t *list = json_object_get(claims, "grants");
    out->grants = dc_role_default_grants(out->role);
    if (!list) return DC_TOKEN_OK;
    if (!json_is_array(list)) return malformed_claim(msg, msg_len, "grants");
    out->grants = 0;
    size_t i;
    json_t *g;
    json_array_foreach(list, i, g)
    {
        dc_grants one;
        if (!json_is_string(g) || !dc_grant_parse(json_string_value(g), &one))
            return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token grant %zu is not a known grant", i);
        out->grants |= one;
    }
    return DC_TOKEN_OK;
}

static dc_token_status parse_claims(json_t *claims, dc_token_claims *out, char *msg, size_t msg_len)
{
    json_t *sub = json_object_get(claims, "sub");
    if (sub) {
        size_t n = json_string_length(sub);
        if (!json_is_string(sub) || n < 1 || n > DC_TOKEN_SUB_MAX_BYTES || memchr(json_string_value(sub), '\0', n))
            return malformed_claim(msg, msg_len, "sub");
        memcpy(out->sub, json_string_value(sub), n + 1);
    }
    dc_token_status s;
    if ((s = text_claim(claims, "name", true, out->name, dc_label_normalize, msg, msg_len)) ||
        (s = text_claim(claims, "site", false, out->site, dc_label_normalize, msg, msg_len)) ||
        (s = text_claim(claims, "room", false, out->room, dc_room_normalize, msg, msg_len)) ||
        (s = text_claim(claims, "room_prefix", false, out->room_prefix, dc_room_normalize, msg, msg_len)))
        return s;
    json_t *scope = json_object_get(claims, "scope");
    if (scope) {
        if (!json_is_string(scope) || !dc_room_tree_id_valid(json_string_value(scope), json_string_length(scope)))
            return malformed_claim(msg, msg_len, "scope");
        memcpy(out->scope, json_string_value(scope), json_string_length(scope) + 1);
    }
    if (out->room[0] && out->room_prefix[0])
        return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token must not name both \"room\" and \"room_prefix\"");
    if (!out->room[0] && !out->room_prefix[0] && !out->scope[0])
        return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token must name one of \"room\", \"room_prefix\" and \"scope\"");
    const char *role = json_string_value(json_object_get(claims, "role"));
    if (!role || !dc_role_parse(role, &out->role)) return malformed_claim(msg, msg_len, "role");
    if ((s = parse_grants(claims, out, msg, msg_len))) return s;
    int64_t iat;
    if (!date_claim(claims, "exp", true, &out->exp)) return malformed_claim(msg, msg_len, "exp");
    if (!date_claim(claims, "nbf", false, &out->nbf)) return malformed_claim(msg, msg_len, "nbf");
    if (!date_claim(claims, "iat", false, &iat)) return malformed_claim(msg, msg_len, "iat");
    return DC_TOKEN_OK;
}

dc_token_status dc_token_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len, int64_t now_s,
                                dc_token_claims *out, char *msg, size_t msg_len)
{
    memset(out, 0, sizeof *out);
    if (msg && msg_len) msg[0] = '\0';
    if (!token || len > TOKEN_MAX_BYTES || memchr(token, '\0', len))
        return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token is not a compact JWT");
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token is not three base64url parts");
    size_t header_len = (size_t)(dot1 - token), signed_len = (size_t)(dot2 - token);
    const char *payload = dot1 + 1, *signature = dot2 + 1;

    dc_token_status s = check_header(token, header_len, msg, msg_len);
    if (s) return s;
    uint8_t expected[HS256_BYTES], *given;
    size_t given_len;
    if (!hs256(secret, secret_len, token, signed_len, expected))
        return fail(DC_TOKEN_BAD_SIGNATURE, msg, msg_len, "cannot compute the token signature");
    given = b64url_decode(signature, len - signed_len - 1, &given_len);
    bool match = given && given_len == HS256_BYTES && CRYPTO_memcmp(given, expected, HS256_BYTES) == 0;
    free(given);
    if (!match) return fail(DC_TOKEN_BAD_SIGNATURE, msg, msg_len, "token signature does not match");

    json_t *claims = decode_json_part(payload, (size_t)(dot2 - payload));
    if (!claims) return fail(DC_TOKEN_MALFORMED, msg, msg_len, "token claims are not base64url JSON");
    s = parse_claims(claims, out, msg, msg_len);
    json_decref(claims);
    if (s) return s;
    /* The leeway is added on the side of now, so that a huge exp cannot overflow. */
    if (out->nbf && now_s + DC_TOKEN_LEEWAY_SECONDS < out->nbf)
        return fail(DC_TOKEN_NOT_YET_VALID, msg, msg_len, "token is not valid yet");
    if (now_s - DC_TOKEN_LEEWAY_SECONDS >= out->exp) return fail(DC_TOKEN_EXPIRED, msg, msg_len, "token has expired");
    return DC_TOKEN_OK;
}

bool dc_token_admits(const dc_token_claims *claims, const char *room)
{
    if (claims->room[0]) return strcmp(claims->room, room) == 0;
    size_t n = strlen(claims->room_prefix);
    return n > 0 && strncmp(claims->room_prefix, room, n) == 0;
}

/* protocol.c's rule for an optional text: NULL leaves out "" */
static bool normalize_optional(dc_error_code (*check)(const char *, const char *, size_t, char *, char *, size_t),
                               const char *field, const char *text, char *out, char *msg, size_t msg_len)
{
    return !text || check(field, text, strlen(text), out, msg, msg_len) == DC_OK;
}

bool dc_token_claims_from_text(dc_token_claims *c, const char *room, const char *room_prefix, const char *scope,
                               const char *name, const char *site, const char *role, const char *sub, char *msg,
                               size_t msg_len)
{
    memset(c, 0, sizeof *c);
    if ((room && room_prefix) || (!room && !room_prefix && !scope))
        return snprintf(msg, msg_len, "give one of room and room_prefix, or a scope"), false;
    if (scope) {
        if (!dc_room_tree_id_valid(scope, strlen(scope)))
            return snprintf(msg, msg_len, "\"scope\" must be a room tree node id (e.g. huyen-a)"), false;
        memcpy(c->scope, scope, strlen(scope) + 1);
    }
    if (!name) return snprintf(msg, msg_len, "\"name\" is required"), false;
    if (!normalize_optional(dc_room_normalize, "room", room, c->room, msg, msg_len) ||
        !normalize_optional(dc_room_normalize, "room_prefix", room_prefix, c->room_prefix, msg, msg_len) ||
        !normalize_optional(dc_label_normalize, "name", name, c->name, msg, msg_len) ||
        !normalize_optional(dc_label_normalize, "site", site, c->site, msg, msg_len))
        return false;
    if (!role || !dc_role_parse(role, &c->role))
        return snprintf(msg, msg_len, "\"role\" must be chair, official, delegate or observer"), false;
    c->grants = dc_role_default_grants(c->role);
    if (sub) {
        size_t n = strlen(sub);
        if (n < 1 || n > DC_TOKEN_SUB_MAX_BYTES)
            return snprintf(msg, msg_len, "\"sub\" must be 1 to %d bytes", DC_TOKEN_SUB_MAX_BYTES), false;
        memcpy(c->sub, sub, n + 1);
        return true;
    }
    /* one id per minted token, so that the record and a removal can tell people apart */
    uint8_t id[8];
    if (RAND_bytes(id, sizeof id) != 1) return snprintf(msg, msg_len, "no randomness for the token's id"), false;
    snprintf(c->sub, sizeof c->sub, "id-%02x%02x%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3], id[4], id[5],
             id[6], id[7]);
    return true;
}

static json_t *claims_json(const dc_token_claims *c)
{
    json_t *o = json_object();
    if (c->sub[0]) json_object_set_new(o, "sub", json_string(c->sub));
    json_object_set_new(o, "name", json_string(c->name));
    if (c->site[0]) json_object_set_new(o, "site", json_string(c->site));
    if (c->room[0]) json_object_set_new(o, "room", json_string(c->room));
    if (c->room_prefix[0]) json_object_set_new(o, "room_prefix", json_string(c->room_prefix));
    if (c->scope[0]) json_object_set_new(o, "scope", json_string(c->scope));
    json_object_set_new(o, "role", json_string(dc_role_name(c->role)));
    if (c->grants != dc_role_default_grants(c->role)) {
        json_t *list = json_array();
        for (dc_grants g = 1; g & DC_GRANTS_ALL; g <<= 1)
            if (c->grants & g) json_array_append_new(list, json_string(dc_grant_name(g)));
        json_object_set_new(o, "grants", list);
    }
    if (c->nbf) json_object_set_new(o, "nbf", json_integer(c->nbf));
    json_object_set_new(o, "exp", json_integer(c->exp));
    return o;
}

char *dc_token_sign(const dc_token_claims *claims, const uint8_t *secret, size_t secret_len)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    json_t *payload_json = claims_json(claims);
    char *payload = json_dumps(payload_json, JSON_COMPACT);
    json_decref(payload_json);
    if (!payload) return NULL;
    size_t header_len = sizeof header - 1, payload_len = strlen(payload);
    /* header.payload.signature, each base64url: at most 4/3 of the bytes, rounded up */
    size_t cap = (header_len + payload_len + HS256_BYTES) / 3 * 4 + 16;
    char *token = malloc(cap);
    if (!token) {
        free(payload);
        return NULL;
    }
    size_t n = b64url_encode((const uint8_t *)header, header_len, token);
    token[n++] = '.';
    n += b64url_encode((const uint8_t *)payload, payload_len, token + n);
    free(payload);
    uint8_t mac[HS256_BYTES];
    if (!hs256(secret, secret_len, token, n, mac)) {
        free(token);
        return NULL;
    }
    token[n++] = '.';
    b64url_encode(mac, sizeof mac, token + n);
    return token;
}
