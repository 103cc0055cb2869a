/* For tests: a compact JWT from any header and claims text, signed HS256 with a given
 * secret, so that tests reach the checks behind the signature (header, claims). */
#ifndef DC_TOKEN_FORGE_H
#define DC_TOKEN_FORGE_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <string.h>

/* Appends base64url (no padding) of data to the string out. */
static inline void token_forge_b64url(const void *data, size_t len, char *out)
{
    char *o = out + strlen(out);
    int n = EVP_EncodeBlock((unsigned char *)o, data, (int)len);
    for (int i = 0; i < n; i++) {
        if (o[i] == '+') o[i] = '-';
        else if (o[i] == '/') o[i] = '_';
        else if (o[i] == '=') o[i] = '\0';
    }
}

/* out (cap bytes, at least 4 * (header_len + claims_len) / 3 + 64) gets header.claims.signature. */
static inline void token_forge(const char *header, size_t header_len, const char *claims, size_t claims_len,
                               const uint8_t *secret, size_t secret_len, char *out)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    out[0] = '\0';
    token_forge_b64url(header, header_len, out);
    strcat(out, ".");
    token_forge_b64url(claims, claims_len, out);
    HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)out, strlen(out), mac, &mac_len);
    strcat(out, ".");
    token_forge_b64url(mac, mac_len, out);
}

#endif
