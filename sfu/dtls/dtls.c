/* DTLS-SRTP over OpenSSL with the socket owned by the caller. See dtls.h.
 *
 * I/O: the read side is a memory BIO that holds exactly the one datagram being handled.
 * The write side is a small custom BIO whose write hands the bytes straight to the
 * send callback. OpenSSL (3.0) buffers the records of a flight behind its own buffering
 * BIO and flushes whenever the next record would not fit in the MTU, so every write
 * that reaches us is one datagram of whole records no larger than the MTU. A plain
 * memory BIO would glue a whole multi-datagram flight together instead. */
#include "dtls/dtls.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_DEFAULT_MTU 1200
#define DTLS_MAX_DATAGRAM 65535            /* anything longer is not one UDP datagram */
#define DTLS_RECORD_HEADER 13              /* type, version, epoch, sequence number, length */
#define DTLS_MAX_RECORD_BODY (16384 + 256) /* 2^14 plaintext + AEAD overhead, below OpenSSL's read buffer */
#define CERT_CN "diemcau"
#define CERT_DAYS_VALID 30
#define DEFAULT_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
/* What browsers and GStreamer offer for DTLS 1.2; AEAD only. */
#define CIPHER_LIST \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define EC_GROUPS "X25519:P-256:P-384"
/* Retransmission timer: RFC 6347 suggests 1 s, but ICE has just proven the path, so start
 * at 250 ms and double up to 4 s; OpenSSL gives up after 12 expiries (~35 s). */
#define RTX_INITIAL_US 250000u
#define RTX_MAX_US 4000000u
#define READ_LOOP_LIMIT 64

struct sfu_dtls_cert {
    EVP_PKEY *key;
    X509 *x509;
    SSL_CTX *ctx;
    char fingerprint[EVP_MAX_MD_SIZE * 3];
};

struct sfu_dtls {
    SSL *ssl;
    BIO *rbio; /* owned by ssl */
    sfu_dtls_role role;
    sfu_dtls_state state;
    sfu_dtls_send_fn send;
    void *user;
    const EVP_MD *peer_md;
    uint8_t peer_fingerprint[EVP_MAX_MD_SIZE];
    unsigned peer_fingerprint_len;
    sfu_srtp_keys keys;
    size_t min_sealed_body;  /* after the handshake: AEAD explicit nonce + tag of the cipher */
    unsigned rtx_initial_us; /* first retransmission timeout (sfu_dtls_set_first_retransmit_ms) */
    char error[256];
};

/* ---------- certificate and shared SSL_CTX ---------- */

static EVP_PKEY *make_p256_key(void) { return EVP_EC_gen("P-256"); }

static bool set_random_serial(X509 *x)
{
    uint8_t raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1) return false;
    raw[0] &= 0x7f; /* positive */
    raw[0] |= 0x01; /* and never zero */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static X509 *make_self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    bool ok = X509_set_version(x, X509_VERSION_3) && set_random_serial(x) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) &&
              X509_gmtime_adj(X509_getm_notAfter(x), CERT_DAYS_VALID * 24L * 3600) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)CERT_CN, -1, -1, 0) &&
              X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* "AB:CD:…" upper-case, as RFC 8122 and browsers write it. */
static void format_fingerprint(const uint8_t *md, unsigned n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = 0;
    for (unsigned i = 0; i < n && pos + 3 < cap; i++) {
        if (i) out[pos++] = ':';
        out[pos++] = hex[md[i] >> 4];
        out[pos++] = hex[md[i] & 15];
    }
    out[pos] = '\0';
}

/* The peer's certificate is self-signed; its identity is the SDP fingerprint, checked
 * after the handshake. Accept any chain here. */
static int accept_any_certificate(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

static SSL_CTX *make_ctx(EVP_PKEY *key, X509 *x509)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) return NULL;
    bool ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) && SSL_CTX_use_certificate(ctx, x509) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1 &&
              SSL_CTX_set_cipher_list(ctx, CIPHER_LIST) == 1 && SSL_CTX_set1_groups_list(ctx, EC_GROUPS) == 1 &&
              /* returns 0 on success */
              SSL_CTX_set_tlsext_use_srtp(ctx, DEFAULT_SRTP_PROFILES) == 0;
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
    /* We set the MTU; no resumption or renegotiation in WebRTC (keys must not change). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

sfu_dtls_cert *sfu_dtls_cert_new(void)
{
    sfu_dtls_cert *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    c->key = make_p256_key();
    c->x509 = c->key ? make_self_signed(c->key) : NULL;
    c->ctx = c->x509 ? make_ctx(c->key, c->x509) : NULL;
    if (!c->ctx || X509_digest(c->x509, EVP_sha256(), md, &md_len) != 1) {
        sfu_dtls_cert_free(c);
        return NULL;
    }
    format_fingerprint(md, md_len, c->fingerprint, sizeof c->fingerprint);
    return c;
}

void sfu_dtls_cert_free(sfu_dtls_cert *cert)
{
    if (!cert) return;
    SSL_CTX_free(cert->ctx);
    X509_free(cert->x509);
    EVP_PKEY_free(cert->key);
    free(cert);
}

const char *sfu_dtls_cert_fingerprint(const sfu_dtls_cert *cert) { return cert ? cert->fingerprint : ""; }

bool sfu_dtls_cert_set_srtp_profiles(sfu_dtls_cert *cert, const char *profiles)
{
    if (!cert || !profiles) return false;
    /* OpenSSL only replaces the list when the new one parses; returns 0 on success. */
    return SSL_CTX_set_tlsext_use_srtp(cert->ctx, profiles) == 0;
}

/* ---------- write BIO: one write = one datagram to the send callback ---------- */

static int send_bio_write(BIO *b, const char *data, int len)
{
    sfu_dtls *d = BIO_get_data(b);
    if (len <= 0) return 0;
    if (d && d->send) d->send(d->user, (const uint8_t *)data, (size_t)len);
    return len; /* UDP semantics: a datagram is sent or lost, never partially */
}

static long send_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return DTLS_DEFAULT_MTU;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: /* MTU values we get are UDP payload sizes */
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
    default: return 0;
    }
}

static int send_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int send_bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *send_bio_method;

static void send_bio_method_init(void)
{
    int index = BIO_get_new_index();
    BIO_METHOD *m = index > 0 ? BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "sfu dtls send") : NULL;
    if (m && BIO_meth_set_write(m, send_bio_write) && BIO_meth_set_ctrl(m, send_bio_ctrl) &&
        BIO_meth_set_create(m, send_bio_create) && BIO_meth_set_destroy(m, send_bio_destroy)) {
        send_bio_method = m;
        return;
    }
    BIO_meth_free(m);
}

static BIO *new_send_bio(sfu_dtls *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, send_bio_method_init);
    if (!send_bio_method) return NULL;
    BIO *b = BIO_new(send_bio_method);
    if (b) BIO_set_data(b, d);
    return b;
}

/* ---------- peer fingerprint from the SDP ---------- */

static const EVP_MD *hash_by_sdp_name(const char *name, size_t len)
{
    static const struct {
        const char *sdp;
        const EVP_MD *(*md)(void);
    } hashes[] = {
        {"sha-1", EVP_sha1},
        {"sha-256", EVP_sha256},
        {"sha-384", EVP_sha384},
        {"sha-512", EVP_sha512},
    };
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
        if (strlen(hashes[i].sdp) == len && strncasecmp(hashes[i].sdp, name, len) == 0) return hashes[i].md();
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "AB:cd:…" → bytes; exactly `want` bytes, nothing after but spaces. */
static bool parse_hex_pairs(const char *s, uint8_t *out, unsigned want)
{
    for (unsigned i = 0; i < want; i++) {
        if (i && *s++ != ':') return false;
        int hi = hex_value(s[0]);
        int lo = hi < 0 ? -1 : hex_value(s[1]);
        if (lo < 0) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    return *s == '\0';
}

static bool parse_peer_fingerprint(sfu_dtls *d, const char *attr)
{
    if (!attr || strnlen(attr, 512) == 512) return false;
    while (*attr == ' ' || *attr == '\t') attr++;
    size_t name_len = strcspn(attr, " \t");
    d->peer_md = hash_by_sdp_name(attr, name_len);
    if (!d->peer_md) return false;
    const char *hex = attr + name_len;
    while (*hex == ' ' || *hex == '\t') hex++;
    d->peer_fingerprint_len = (unsigned)EVP_MD_get_size(d->peer_md);
    return parse_hex_pairs(hex, d->peer_fingerprint, d->peer_fingerprint_len);
}

/* ---------- transport ---------- */

static unsigned int retransmit_timer(SSL *ssl, unsigned int previous_us)
{
    const sfu_dtls *d = SSL_get_app_data(ssl);
    unsigned initial = d ? d->rtx_initial_us : RTX_INITIAL_US;
    unsigned max = initial > RTX_MAX_US ? initial : RTX_MAX_US;
    if (previous_us == 0) return initial;
    return previous_us >= max / 2 ? max : previous_us * 2;
}

void sfu_dtls_set_first_retransmit_ms(sfu_dtls *d, unsigned ms) { d->rtx_initial_us = ms * 1000u; }

/* SSL_set_mtu returns the new MTU, DTLS_set_link_mtu returns 1; both refuse < 256. */
static bool apply_mtu(SSL *ssl, size_t mtu)
{
    if (mtu > DTLS_MAX_DATAGRAM) return false;
    return SSL_set_mtu(ssl, (long)mtu) > 0 && DTLS_set_link_mtu(ssl, (long)mtu) == 1;
}

sfu_dtls *sfu_dtls_new(sfu_dtls_cert *cert, sfu_dtls_role role, const char *peer_fingerprint, sfu_dtls_send_fn send,
                       void *user)
{
    if (!cert || !send || (role != SFU_DTLS_ROLE_SERVER && role != SFU_DTLS_ROLE_CLIENT)) return NULL;
    sfu_dtls *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->role = role;
    d->send = send;
    d->user = user;
    d->state = SFU_DTLS_HANDSHAKING;
    d->rtx_initial_us = RTX_INITIAL_US;
    if (!parse_peer_fingerprint(d, peer_fingerprint)) goto fail;

    d->ssl = SSL_new(cert->ctx);
    if (!d->ssl) goto fail;
    d->rbio = BIO_new(BIO_s_mem());
    BIO *wbio = new_send_bio(d);
    if (!d->rbio || !wbio) {
        BIO_free(d->rbio);
        BIO_free(wbio);
        d->rbio = NULL;
        goto fail;
    }
    BIO_set_mem_eof_return(d->rbio, -1); /* empty = "try again", not EOF */
    SSL_set_bio(d->ssl, d->rbio, wbio);
    if (!apply_mtu(d->ssl, DTLS_DEFAULT_MTU)) goto fail;
    SSL_set_app_data(d->ssl, d);
    DTLS_set_timer_cb(d->ssl, retransmit_timer);
    if (role == SFU_DTLS_ROLE_SERVER) SSL_set_accept_state(d->ssl);
    else SSL_set_connect_state(d->ssl);
    return d;
fail:
    sfu_dtls_free(d);
    return NULL;
}

void sfu_dtls_free(sfu_dtls *d)
{
    if (!d) return;
    SSL_free(d->ssl); /* frees both BIOs */
    OPENSSL_cleanse(&d->keys, sizeof d->keys);
    free(d);
}

bool sfu_dtls_set_mtu(sfu_dtls *d, size_t mtu) { return d && d->ssl && apply_mtu(d->ssl, mtu); }

static void fail(sfu_dtls *d, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e) {
        char detail[200];
        ERR_error_string_n(e, detail, sizeof detail);
        snprintf(d->error, sizeof d->error, "%s: %s", what, detail);
    } else {
        snprintf(d->error, sizeof d->error, "%s", what);
    }
    ERR_clear_error();
    d->state = SFU_DTLS_FAILED;
}

static bool peer_fingerprint_matches(sfu_dtls *d)
{
    X509 *peer = SSL_get0_peer_certificate(d->ssl);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (!peer || X509_digest(peer, d->peer_md, md, &md_len) != 1) return false;
    return md_len == d->peer_fingerprint_len && CRYPTO_memcmp(md, d->peer_fingerprint, md_len) == 0;
}

static sfu_srtp_profile negotiated_profile(SSL *ssl)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);
    if (!p) return SFU_SRTP_PROFILE_NONE;
    switch (p->id) {
    case SRTP_AES128_CM_SHA1_80: return SFU_SRTP_AES128_CM_SHA1_80;
    case SRTP_AEAD_AES_128_GCM: return SFU_SRTP_AEAD_AES_128_GCM;
    default: return SFU_SRTP_PROFILE_NONE;
    }
}

/* RFC 5764 4.2: client key | server key | client salt | server salt. */
static bool export_srtp_keys(sfu_dtls *d, sfu_srtp_profile profile)
{
    const size_t key_len = 16;
    const size_t salt_len = profile == SFU_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    uint8_t material[2 * (16 + 14)];
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(d->ssl, material, 2 * (key_len + salt_len), label, sizeof label - 1, NULL, 0, 0) !=
        1)
        return false;
    const uint8_t *client_key = material, *server_key = material + key_len;
    const uint8_t *client_salt = material + 2 * key_len;
    const uint8_t *server_salt = client_salt + salt_len;
    bool we_are_client = d->role == SFU_DTLS_ROLE_CLIENT;
    uint8_t *local = d->keys.local_master, *remote = d->keys.remote_master;
    memcpy(local, we_are_client ? client_key : server_key, key_len);
    memcpy(local + key_len, we_are_client ? client_salt : server_salt, salt_len);
    memcpy(remote, we_are_client ? server_key : client_key, key_len);
    memcpy(remote + key_len, we_are_client ? server_salt : client_salt, salt_len);
    d->keys.master_len = key_len + salt_len;
    d->keys.profile = profile;
    OPENSSL_cleanse(material, sizeof material);
    return true;
}

static void on_handshake_done(sfu_dtls *d)
{
    if (!peer_fingerprint_matches(d)) {
        fail(d, "peer certificate does not match the SDP fingerprint");
        return;
    }
    sfu_srtp_profile profile = negotiated_profile(d->ssl);
    if (profile == SFU_SRTP_PROFILE_NONE) {
        fail(d, "no SRTP profile negotiated");
        return;
    }
    if (!export_srtp_keys(d, profile)) {
        fail(d, "SRTP key export failed");
        return;
    }
    /* AES-GCM records carry an 8-octet explicit nonce and a 16-octet tag; ChaCha20-Poly1305
     * only the tag (RFC 7905). The cipher list allows nothing else. */
    int nid = SSL_CIPHER_get_cipher_nid(SSL_get_current_cipher(d->ssl));
    d->min_sealed_body = nid == NID_chacha20_poly1305 ? 16 : 8 + 16;
    d->state = SFU_DTLS_CONNECTED;
}

/* Maps a non-positive SSL_* return to the state; true if OpenSSL just wants more input. */
static bool handle_ssl_result(sfu_dtls *d, int ret, const char *what)
{
    int err = SSL_get_error(d->ssl, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
    if (err == SSL_ERROR_ZERO_RETURN) {
        d->state = SFU_DTLS_CLOSED;
        ERR_clear_error();
        return false;
    }
    fail(d, what);
    return false;
}

static void step_handshake(sfu_dtls *d)
{
    int ret = SSL_do_handshake(d->ssl);
    if (ret == 1) on_handshake_done(d);
    else handle_ssl_result(d, ret, "DTLS handshake failed");
}

/* Whether every record of an (after-handshake) datagram is whole and, if sealed (epoch
 * ≥ 1), long enough for the cipher's nonce and tag. RFC 6347 §4.1.2.7 says to discard
 * invalid records and keep the association, but OpenSSL 3.0.19 (Debian 12's) fails the
 * whole connection on a sealed record too short to open: a spoofed 21-octet datagram
 * would end a participant's DTLS. Such datagrams are dropped before OpenSSL sees them.
 * A record of another version than DTLS 1.2 (the only one the AEAD cipher list allows)
 * or longer than OpenSSL's read buffer is dropped by OpenSSL on its header alone, and the
 * body then read as further records: it could carry a short record past this check
 * (found by tests/fuzz/fuzz_dtls), so such records drop the datagram too. */
static bool records_well_formed(const sfu_dtls *d, const uint8_t *p, size_t len)
{
    while (len > 0) {
        if (len < DTLS_RECORD_HEADER || p[1] != 0xfe || p[2] != 0xfd) /* DTLS 1.2 */
            return false;
        size_t body = (size_t)p[11] << 8 | p[12];
        unsigned epoch = (unsigned)p[3] << 8 | p[4];
        if (body > len - DTLS_RECORD_HEADER || body > DTLS_MAX_RECORD_BODY || (epoch > 0 && body < d->min_sealed_body))
            return false;
        p += DTLS_RECORD_HEADER + body;
        len -= DTLS_RECORD_HEADER + body;
    }
    return true;
}

/* After the handshake, records are alerts, retransmitted handshake messages (OpenSSL
 * answers them itself) or application data, which WebRTC does not use here: discard. */
static void read_and_discard(sfu_dtls *d)
{
    uint8_t sink[2048];
    for (int i = 0; i < READ_LOOP_LIMIT && d->state == SFU_DTLS_CONNECTED; i++) {
        int ret = SSL_read(d->ssl, sink, sizeof sink);
        if (ret <= 0 && handle_ssl_result(d, ret, "DTLS read failed")) return;
    }
}

void sfu_dtls_start(sfu_dtls *d)
{
    if (!d || d->role != SFU_DTLS_ROLE_CLIENT || d->state != SFU_DTLS_HANDSHAKING) return;
    ERR_clear_error();
    step_handshake(d);
}

sfu_dtls_state sfu_dtls_handle(sfu_dtls *d, const uint8_t *data, size_t len)
{
    if (!d) return SFU_DTLS_FAILED;
    if (d->state == SFU_DTLS_FAILED || d->state == SFU_DTLS_CLOSED) return d->state;
    if (!data || len == 0 || len > DTLS_MAX_DATAGRAM) return d->state;
    if (d->state == SFU_DTLS_CONNECTED && !records_well_formed(d, data, len)) return d->state;
    /* One datagram at a time: whatever OpenSSL left unread belongs to an old one. */
    (void)BIO_reset(d->rbio);
    if (BIO_write(d->rbio, data, (int)len) != (int)len) return d->state;
    ERR_clear_error();
    if (d->state == SFU_DTLS_HANDSHAKING) step_handshake(d);
    if (d->state == SFU_DTLS_CONNECTED) read_and_discard(d);
    (void)BIO_reset(d->rbio);
    return d->state;
}

void sfu_dtls_close(sfu_dtls *d)
{
    if (!d || d->state != SFU_DTLS_CONNECTED) return;
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl); /* writes close_notify; we do not wait for the reply */
    ERR_clear_error();
    d->state = SFU_DTLS_CLOSED;
}

int sfu_dtls_timeout_ms(sfu_dtls *d)
{
    struct timeval tv;
    if (!d || d->state != SFU_DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1) return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void sfu_dtls_on_timeout(sfu_dtls *d)
{
    if (!d || d->state != SFU_DTLS_HANDSHAKING) return;
    ERR_clear_error();
    if (DTLSv1_handle_timeout(d->ssl) < 0) fail(d, "DTLS handshake timed out");
}

sfu_dtls_state sfu_dtls_get_state(const sfu_dtls *d) { return d ? d->state : SFU_DTLS_FAILED; }

const char *sfu_dtls_error(const sfu_dtls *d) { return d ? d->error : ""; }

bool sfu_dtls_srtp_keys(const sfu_dtls *d, sfu_srtp_keys *out)
{
    if (!d || !out || d->state != SFU_DTLS_CONNECTED) return false;
    *out = d->keys;
    return true;
}
