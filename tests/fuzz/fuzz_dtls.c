/* Fuzz target for the engine's DTLS after the handshake (sfu_dtls_handle on a connected
 * association, and behind it the record check of commit 8752149 that keeps short or cut
 * records away from OpenSSL).
 *
 * Anyone who knows a participant's address can send it datagrams, but without the keys
 * nobody can produce a record that authenticates. So whatever the bytes, a connected
 * association must stay CONNECTED: no crash, no FAILED (which would end the participant's
 * media), no CLOSED (a forged close_notify). Each input goes to two server associations made
 * once at start, one per AEAD family the cipher list allows, because the check's minimum
 * record size depends on it: AES-GCM (8-octet explicit nonce + 16-octet tag) and
 * ChaCha20-Poly1305 (tag only). Their peer is a plain OpenSSL client (tests/support).
 * Seeds: tests/fuzz/corpus/dtls, records of each kind and epoch around the size limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"
#include "ref_dtls_client.h"

typedef struct {
    const char *cipher;
    sfu_dtls_cert *cert;
    ref_dtls_client client;
    sfu_dtls *server;
} session;

static session sessions[] = {
    {.cipher = "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {.cipher = "ECDHE-ECDSA-CHACHA20-POLY1305"},
};
#define N_SESSIONS (sizeof sessions / sizeof sessions[0])

static void connect_session(session *s)
{
    char fp[160];
    s->cert = sfu_dtls_cert_new();
    if (!s->cert || !ref_dtls_client_init(&s->client, "SRTP_AEAD_AES_128_GCM", s->cipher)) {
        fprintf(stderr, "fuzz_dtls: cannot set up the %s client\n", s->cipher);
        abort();
    }
    ref_dtls_client_fingerprint(&s->client, fp, sizeof fp);
    s->server = sfu_dtls_new(s->cert, SFU_DTLS_ROLE_SERVER, fp, ref_dtls_client_receive, &s->client);
    if (!s->server || !ref_dtls_client_connect(&s->client, s->server)) {
        fprintf(stderr, "fuzz_dtls: the %s handshake did not complete\n", s->cipher);
        abort();
    }
    const SSL_CIPHER *chosen = SSL_get_current_cipher(s->client.ssl);
    if (!chosen || strcmp(SSL_CIPHER_get_name(chosen), s->cipher)) {
        fprintf(stderr, "fuzz_dtls: wanted %s, got %s\n", s->cipher, chosen ? SSL_CIPHER_get_name(chosen) : "none");
        abort();
    }
}

/* What the server answers (alerts, retransmissions) is not the client's business here:
 * drop it so the client's memory BIO does not grow over millions of inputs. */
static void drain_client_input(session *s) { (void)BIO_reset(s->client.in); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        for (size_t i = 0; i < N_SESSIONS; i++) connect_session(&sessions[i]);
        ready = true;
    }
    for (size_t i = 0; i < N_SESSIONS; i++) {
        session *s = &sessions[i];
        sfu_dtls_state state = sfu_dtls_handle(s->server, data, size);
        if (state != SFU_DTLS_CONNECTED) {
            fprintf(stderr, "fuzz_dtls: %s association left CONNECTED (state %d: %s) on a %zu-byte datagram\n",
                    s->cipher, (int)state, sfu_dtls_error(s->server), size);
            abort();
        }
        drain_client_input(s);
    }
    return 0;
}
