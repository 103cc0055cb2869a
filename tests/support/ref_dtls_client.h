/* A DTLS client written directly on OpenSSL (not our sfu_dtls), for tests that need an
 * independent peer for the engine's DTLS server: its memory BIOs glue each flight into
 * one blob (several records per datagram, as some stacks send), and the cipher suite
 * can be forced, which sfu_dtls does not offer. */
#ifndef REF_DTLS_CLIENT_H
#define REF_DTLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "dtls/dtls.h"

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out;
    EVP_PKEY *key;
    X509 *x509;
} ref_dtls_client;

/* A fresh self-signed P-256 certificate; srtp_profile in OpenSSL syntax; cipher_list NULL
 * keeps OpenSSL's default. False if OpenSSL refused something (free it anyway). */
bool ref_dtls_client_init(ref_dtls_client *r, const char *srtp_profile, const char *cipher_list);
void ref_dtls_client_free(ref_dtls_client *r);

/* "sha-256 ab:cd:…" of the client's certificate, in lower case (which must be accepted too). */
void ref_dtls_client_fingerprint(const ref_dtls_client *r, char *out, size_t cap);

/* sfu_dtls_send_fn for the server's side: user is the ref_dtls_client that receives. */
void ref_dtls_client_receive(void *user, const uint8_t *data, size_t len);

/* Runs the handshake with server (made with ref_dtls_client_receive and r as its send
 * callback). True when both sides completed it. */
bool ref_dtls_client_connect(ref_dtls_client *r, sfu_dtls *server);

#endif
