#include "ref_dtls_client.h"

#include <stdio.h>

#include <openssl/x509.h>

bool ref_dtls_client_init(ref_dtls_client *r, const char *srtp_profile, const char *cipher_list)
{
    r->key = EVP_EC_gen("P-256");
    r->x509 = X509_new();
    X509_NAME *name = X509_get_subject_name(r->x509);
    bool ok = r->key && ASN1_INTEGER_set(X509_get_serialNumber(r->x509), 7) &&
              X509_gmtime_adj(X509_getm_notBefore(r->x509), 0) && X509_gmtime_adj(X509_getm_notAfter(r->x509), 3600) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"ref", -1, -1, 0) &&
              X509_set_issuer_name(r->x509, name) && X509_set_pubkey(r->x509, r->key) &&
              X509_sign(r->x509, r->key, EVP_sha256()) > 0;
    r->ctx = ok ? SSL_CTX_new(DTLS_client_method()) : NULL;
    ok = r->ctx && SSL_CTX_use_certificate(r->ctx, r->x509) == 1 && SSL_CTX_use_PrivateKey(r->ctx, r->key) == 1 &&
         SSL_CTX_set_tlsext_use_srtp(r->ctx, srtp_profile) == 0 &&
         (!cipher_list || SSL_CTX_set_cipher_list(r->ctx, cipher_list) == 1);
    r->ssl = ok ? SSL_new(r->ctx) : NULL;
    if (!r->ssl) return false;
    r->in = BIO_new(BIO_s_mem());
    r->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(r->in, -1);
    SSL_set_bio(r->ssl, r->in, r->out);
    SSL_set_connect_state(r->ssl);
    return true;
}

void ref_dtls_client_free(ref_dtls_client *r)
{
    SSL_free(r->ssl);
    SSL_CTX_free(r->ctx);
    X509_free(r->x509);
    EVP_PKEY_free(r->key);
}

void ref_dtls_client_fingerprint(const ref_dtls_client *r, char *out, size_t cap)
{
    uint8_t md[32];
    unsigned n = 0;
    X509_digest(r->x509, EVP_sha256(), md, &n);
    size_t pos = (size_t)snprintf(out, cap, "sha-256 ");
    for (unsigned i = 0; i < n && pos + 4 < cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, i ? ":%02x" : "%02x", md[i]);
}

void ref_dtls_client_receive(void *user, const uint8_t *data, size_t len)
{
    ref_dtls_client *r = user;
    BIO_write(r->in, data, (int)len);
}

bool ref_dtls_client_connect(ref_dtls_client *r, sfu_dtls *server)
{
    bool done = false;
    for (int round = 0; round < 16; round++) {
        done = SSL_do_handshake(r->ssl) == 1;
        uint8_t blob[4096];
        int n = BIO_read(r->out, blob, sizeof blob);
        if (n > 0) sfu_dtls_handle(server, blob, (size_t)n);
        if (done && sfu_dtls_get_state(server) != SFU_DTLS_HANDSHAKING) break;
    }
    return done && sfu_dtls_get_state(server) == SFU_DTLS_CONNECTED;
}
