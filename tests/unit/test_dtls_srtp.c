/* DTLS-SRTP handshake between two in-memory peers, then SRTP/SRTCP with the exported keys.
 *
 * The two sfu_dtls objects are wired through their send callbacks into queues; pump()
 * delivers queued datagrams until both sides are quiet. Each side has its own
 * certificate, as a browser and the SFU would. A profile is forced by restricting the
 * certificates' SSL_CTX profile list (sfu_dtls_cert_set_srtp_profiles) before the
 * transports are made. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "check.h"
#include "dtls/dtls.h"
#include "ref_dtls_client.h"
#include "srtp/srtp_session.h"

#define QUEUE_LEN 64
#define MAX_DGRAM 2048

typedef struct {
    uint8_t data[QUEUE_LEN][MAX_DGRAM];
    size_t len[QUEUE_LEN];
    size_t count;
    unsigned sent_total; /* datagrams the sender produced, dropped or not */
    uint64_t drop_mask;  /* bit i set: drop the i-th datagram (0-based) */
    size_t largest;      /* largest datagram seen */
    bool misaligned;     /* a datagram that is not a whole number of DTLS records */
    bool overflow;
} wire;

typedef struct {
    sfu_dtls_cert *server_cert, *client_cert;
    sfu_dtls *server, *client;
    wire to_server, to_client;
} pair;

/* True if buf is a sequence of complete DTLS records (13-byte header + length). */
static bool whole_records(const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        if (len - off < 13) return false;
        size_t body = (size_t)buf[off + 11] << 8 | buf[off + 12];
        if (len - off - 13 < body) return false;
        off += 13 + body;
    }
    return len > 0;
}

static void wire_send(void *user, const uint8_t *data, size_t len)
{
    wire *w = user;
    unsigned index = w->sent_total++;
    if (len > w->largest) w->largest = len;
    if (!whole_records(data, len)) w->misaligned = true;
    if (index < 64 && (w->drop_mask >> index & 1)) return;
    if (w->count == QUEUE_LEN || len > MAX_DGRAM) {
        w->overflow = true;
        return;
    }
    memcpy(w->data[w->count], data, len);
    w->len[w->count++] = len;
}

/* Delivers everything queued on w to d; returns how many datagrams. */
static size_t deliver(wire *w, sfu_dtls *d)
{
    static uint8_t copy[QUEUE_LEN][MAX_DGRAM];
    static size_t lens[QUEUE_LEN];
    size_t n = w->count;
    memcpy(lens, w->len, n * sizeof lens[0]);
    for (size_t i = 0; i < n; i++) memcpy(copy[i], w->data[i], lens[i]);
    w->count = 0;
    for (size_t i = 0; i < n; i++) sfu_dtls_handle(d, copy[i], lens[i]);
    return n;
}

static void pump(pair *p)
{
    for (int round = 0; round < 32; round++) {
        size_t moved = deliver(&p->to_server, p->server) + deliver(&p->to_client, p->client);
        if (moved == 0) return;
    }
}

static char *fingerprint_attr(const sfu_dtls_cert *cert)
{
    static char buf[2][160];
    static int which;
    char *out = buf[which++ & 1];
    snprintf(out, sizeof buf[0], "sha-256 %s", sfu_dtls_cert_fingerprint(cert));
    return out;
}

#define TEST_FIRST_RETRANSMIT_MS 3000

/* Makes both certificates and transports. NULL profile lists keep the default. */
static pair *pair_new(const char *server_profiles, const char *client_profiles)
{
    pair *p = calloc(1, sizeof *p);
    p->server_cert = sfu_dtls_cert_new();
    p->client_cert = sfu_dtls_cert_new();
    if (server_profiles) CHECK(sfu_dtls_cert_set_srtp_profiles(p->server_cert, server_profiles));
    if (client_profiles) CHECK(sfu_dtls_cert_set_srtp_profiles(p->client_cert, client_profiles));
    p->server = sfu_dtls_new(p->server_cert, SFU_DTLS_ROLE_SERVER, fingerprint_attr(p->client_cert), wire_send,
                             &p->to_client);
    p->client = sfu_dtls_new(p->client_cert, SFU_DTLS_ROLE_CLIENT, fingerprint_attr(p->server_cert), wire_send,
                             &p->to_server);
    CHECK(p->server && p->client);
    /* Longer than any stall of a loaded machine: no retransmission the test did not ask
     * for (expire_timer waits it out where a test wants one). */
    sfu_dtls_set_first_retransmit_ms(p->server, TEST_FIRST_RETRANSMIT_MS);
    sfu_dtls_set_first_retransmit_ms(p->client, TEST_FIRST_RETRANSMIT_MS);
    return p;
}

static void pair_free(pair *p)
{
    sfu_dtls_free(p->server);
    sfu_dtls_free(p->client);
    sfu_dtls_cert_free(p->server_cert);
    sfu_dtls_cert_free(p->client_cert);
    free(p);
}

static bool connect_pair(pair *p)
{
    sfu_dtls_start(p->client);
    pump(p);
    return sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED && sfu_dtls_get_state(p->client) == SFU_DTLS_CONNECTED;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool keys_cross_match(const sfu_srtp_keys *a, const sfu_srtp_keys *b)
{
    return a->profile == b->profile && a->master_len == b->master_len &&
           memcmp(a->local_master, b->remote_master, a->master_len) == 0 &&
           memcmp(a->remote_master, b->local_master, a->master_len) == 0 &&
           memcmp(a->local_master, a->remote_master, a->master_len) != 0;
}

/* ---------- tests ---------- */

static void test_fingerprint_format(void)
{
    sfu_dtls_cert *cert = sfu_dtls_cert_new();
    CHECK(cert != NULL);
    const char *fp = sfu_dtls_cert_fingerprint(cert);
    /* a=fingerprint:sha-256 AB:CD:… — 32 upper-case hex pairs, colon separated */
    CHECK(strlen(fp) == 32 * 3 - 1);
    bool format_ok = true;
    for (size_t i = 0; fp[i]; i++) {
        bool colon_slot = i % 3 == 2;
        if (colon_slot ? fp[i] != ':' : !strchr("0123456789ABCDEF", fp[i])) format_ok = false;
    }
    CHECK(format_ok);
    sfu_dtls_cert *other = sfu_dtls_cert_new();
    CHECK(strcmp(fp, sfu_dtls_cert_fingerprint(other)) != 0);
    sfu_dtls_cert_free(other);
    sfu_dtls_cert_free(cert);
}

static void test_bad_fingerprint_strings(void)
{
    sfu_dtls_cert *cert = sfu_dtls_cert_new();
    wire w = {0};
    char good[128], lower[128], upper_name[128], trailing_junk[160], short_fp[128];
    snprintf(good, sizeof good, "sha-256 %s", sfu_dtls_cert_fingerprint(cert));
    for (size_t i = 0; i == 0 || lower[i - 1]; i++)
        lower[i] = (char)(good[i] >= 'A' && good[i] <= 'F' ? good[i] - 'A' + 'a' : good[i]);
    snprintf(upper_name, sizeof upper_name, "SHA-256 %s", sfu_dtls_cert_fingerprint(cert));
    snprintf(trailing_junk, sizeof trailing_junk, "%s:00", good);
    snprintf(short_fp, sizeof short_fp, "%.*s", (int)strlen(good) - 3, good);
    const char *rejected[] = {NULL,          "",       "sha-256",       "sha-256 ", "md5 AB:CD", "sha-256 zz",
                              trailing_junk, short_fp, "sha-1 AB:CD:EF"};
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        sfu_dtls *d = sfu_dtls_new(cert, SFU_DTLS_ROLE_SERVER, rejected[i], wire_send, &w);
        CHECK(d == NULL);
        sfu_dtls_free(d);
    }
    const char *accepted[] = {good, lower, upper_name};
    for (size_t i = 0; i < 3; i++) {
        sfu_dtls *d = sfu_dtls_new(cert, SFU_DTLS_ROLE_SERVER, accepted[i], wire_send, &w);
        CHECK(d != NULL);
        sfu_dtls_free(d);
    }
    CHECK(sfu_dtls_new(NULL, SFU_DTLS_ROLE_SERVER, good, wire_send, &w) == NULL);
    CHECK(sfu_dtls_new(cert, SFU_DTLS_ROLE_SERVER, good, NULL, &w) == NULL);
    CHECK(!sfu_dtls_cert_set_srtp_profiles(cert, "NO_SUCH_PROFILE"));
    sfu_dtls_cert_free(cert);
}

static void test_handshake(void)
{
    pair *p = pair_new(NULL, NULL);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_HANDSHAKING);
    sfu_srtp_keys ks, kc;
    CHECK(!sfu_dtls_srtp_keys(p->client, &kc)); /* not before CONNECTED */
    CHECK(connect_pair(p));
    CHECK(sfu_dtls_srtp_keys(p->server, &ks));
    CHECK(sfu_dtls_srtp_keys(p->client, &kc));
    CHECK(ks.profile == SFU_SRTP_AEAD_AES_128_GCM); /* our preferred profile wins */
    CHECK(ks.master_len == 28);
    CHECK(keys_cross_match(&ks, &kc));
    CHECK(strcmp(sfu_dtls_error(p->server), "") == 0);
    CHECK(sfu_dtls_timeout_ms(p->client) == -1);
    CHECK(sfu_dtls_timeout_ms(p->server) == -1);
    /* every callback is one datagram of whole records, within the 1200-byte default */
    CHECK(!p->to_client.misaligned && !p->to_server.misaligned);
    CHECK(p->to_client.largest <= 1200 && p->to_server.largest <= 1200);
    CHECK(!p->to_client.overflow && !p->to_server.overflow);
    printf("handshake: server sent %u datagrams (largest %zu), client %u (largest %zu)\n", p->to_client.sent_total,
           p->to_client.largest, p->to_server.sent_total, p->to_server.largest);

    /* orderly close: the peer sees close_notify */
    sfu_dtls_close(p->client);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_CLOSED);
    CHECK(p->to_server.count == 1);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CLOSED);
    CHECK(!sfu_dtls_srtp_keys(p->server, &ks));
    pair_free(p);
}

static void test_small_mtu_fragments_flights(void)
{
    pair *p = pair_new(NULL, NULL);
    CHECK(!sfu_dtls_set_mtu(p->server, 100)); /* below OpenSSL's minimum */
    CHECK(sfu_dtls_set_mtu(p->server, 300));
    CHECK(sfu_dtls_set_mtu(p->client, 300));
    CHECK(connect_pair(p));
    CHECK(p->to_client.largest <= 300 && p->to_server.largest <= 300);
    CHECK(!p->to_client.misaligned && !p->to_server.misaligned);
    CHECK(p->to_client.sent_total >= 4); /* the certificate flight needed several */
    pair_free(p);
}

static void test_profile_choice(void)
{
    sfu_srtp_keys k;
    pair *p = pair_new(NULL, "SRTP_AES128_CM_SHA1_80");
    CHECK(connect_pair(p));
    CHECK(sfu_dtls_srtp_keys(p->server, &k) && k.profile == SFU_SRTP_AES128_CM_SHA1_80 && k.master_len == 30);
    pair_free(p);

    /* no profile in common: OpenSSL completes without use_srtp, we refuse */
    p = pair_new("SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM");
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_FAILED || sfu_dtls_get_state(p->client) == SFU_DTLS_FAILED);
    CHECK(sfu_dtls_get_state(p->client) != SFU_DTLS_CONNECTED);
    CHECK(strstr(sfu_dtls_error(p->client), "SRTP") != NULL);
    pair_free(p);
}

static void test_fingerprint_mismatch(void)
{
    sfu_dtls_cert *stranger = sfu_dtls_cert_new();
    char wrong[160];
    snprintf(wrong, sizeof wrong, "sha-256 %s", sfu_dtls_cert_fingerprint(stranger));

    /* the client expects someone else: it fails once it has the server's certificate */
    pair *p = pair_new(NULL, NULL);
    sfu_dtls_free(p->client);
    p->client = sfu_dtls_new(p->client_cert, SFU_DTLS_ROLE_CLIENT, wrong, wire_send, &p->to_server);
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_FAILED);
    CHECK(strstr(sfu_dtls_error(p->client), "fingerprint") != NULL);
    sfu_srtp_keys k;
    CHECK(!sfu_dtls_srtp_keys(p->client, &k));
    /* further input is ignored */
    uint8_t junk[20] = {22, 0xfe, 0xfd};
    CHECK(sfu_dtls_handle(p->client, junk, sizeof junk) == SFU_DTLS_FAILED);
    pair_free(p);

    /* the server expects someone else */
    p = pair_new(NULL, NULL);
    sfu_dtls_free(p->server);
    p->server = sfu_dtls_new(p->server_cert, SFU_DTLS_ROLE_SERVER, wrong, wire_send, &p->to_client);
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_FAILED);
    CHECK(strstr(sfu_dtls_error(p->server), "fingerprint") != NULL);
    pair_free(p);
    sfu_dtls_cert_free(stranger);
}

/* Waits out the retransmission timer of d and fires it. */
static void expire_timer(sfu_dtls *d)
{
    int ms = sfu_dtls_timeout_ms(d);
    CHECK(ms > 0 && ms <= TEST_FIRST_RETRANSMIT_MS);
    sleep_ms(ms + 5);
    CHECK(sfu_dtls_timeout_ms(d) == 0);
    sfu_dtls_on_timeout(d);
}

static void test_retransmission(void)
{
    /* ClientHello lost */
    pair *p = pair_new(NULL, NULL);
    p->to_server.drop_mask = 1;
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_HANDSHAKING);
    CHECK(sfu_dtls_timeout_ms(p->server) == -1);                             /* server has sent nothing yet */
    CHECK(sfu_dtls_timeout_ms(p->client) > TEST_FIRST_RETRANSMIT_MS - 1000); /* the setting holds */
    expire_timer(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_CONNECTED);
    pair_free(p);

    /* the server's first flight lost: the client retransmits, the server answers again */
    p = pair_new(NULL, NULL);
    p->to_client.drop_mask = 1;
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_HANDSHAKING);
    expire_timer(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_CONNECTED);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED);
    pair_free(p);

    /* the server's last flight lost: the server is CONNECTED already and must answer the
     * client's retransmission from the post-handshake read path */
    p = pair_new(NULL, NULL);
    p->to_client.drop_mask = 2;
    sfu_dtls_start(p->client);
    pump(p);
    CHECK(p->to_client.sent_total == 2);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_HANDSHAKING);
    expire_timer(p->client);
    pump(p);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_CONNECTED);
    sfu_srtp_keys ks, kc;
    CHECK(sfu_dtls_srtp_keys(p->server, &ks) && sfu_dtls_srtp_keys(p->client, &kc));
    CHECK(keys_cross_match(&ks, &kc));
    pair_free(p);
}

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void feed_garbage(sfu_dtls *d, const uint8_t *real, size_t real_len)
{
    uint8_t buf[1500];
    /* record-layer junk that DTLS drops silently */
    const uint8_t bad_version[] = {22, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    const uint8_t short_header[] = {22, 0xfe, 0xfd, 0};
    const uint8_t long_length[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1};
    const uint8_t app_data_epoch1[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    sfu_dtls_handle(d, bad_version, sizeof bad_version);
    sfu_dtls_handle(d, short_header, sizeof short_header);
    sfu_dtls_handle(d, long_length, sizeof long_length);
    sfu_dtls_handle(d, app_data_epoch1, sizeof app_data_epoch1);
    sfu_dtls_handle(d, (const uint8_t *)"", 0);
    sfu_dtls_handle(d, NULL, 10);
    /* truncated copies of a real datagram */
    for (size_t cut = 1; real && cut < real_len; cut += 7) sfu_dtls_handle(d, real, cut);
    /* random datagrams whose first byte is in the DTLS range */
    for (int i = 0; i < 300; i++) {
        size_t len = 1 + rng() % sizeof buf;
        for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)rng();
        buf[0] = (uint8_t)(20 + rng() % 44);
        if (i & 1) { /* plausible header so it reaches deeper */
            buf[1] = 0xfe, buf[2] = 0xfd;
            if (len >= 13) buf[11] = (uint8_t)((len - 13) >> 8), buf[12] = (uint8_t)(len - 13);
        }
        sfu_dtls_handle(d, buf, len);
    }
}

static void test_garbage(void)
{
    pair *p = pair_new(NULL, NULL);
    /* before the ClientHello: the server stays willing */
    feed_garbage(p->server, NULL, 0);
    sfu_dtls_state before = sfu_dtls_get_state(p->server);
    CHECK(before == SFU_DTLS_HANDSHAKING || before == SFU_DTLS_FAILED);
    pair_free(p);

    /* deterministic junk only: the handshake must still complete */
    p = pair_new(NULL, NULL);
    const uint8_t bad_version[] = {22, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    const uint8_t long_length[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1};
    CHECK(sfu_dtls_handle(p->server, bad_version, sizeof bad_version) == SFU_DTLS_HANDSHAKING);
    CHECK(sfu_dtls_handle(p->server, long_length, sizeof long_length) == SFU_DTLS_HANDSHAKING);
    sfu_dtls_start(p->client);
    CHECK(p->to_server.count == 1);
    /* a truncated ClientHello first, then the real one */
    CHECK(sfu_dtls_handle(p->server, p->to_server.data[0], p->to_server.len[0] / 2) == SFU_DTLS_HANDSHAKING);
    CHECK(sfu_dtls_handle(p->client, bad_version, sizeof bad_version) == SFU_DTLS_HANDSHAKING);
    pump(p);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED);
    CHECK(sfu_dtls_get_state(p->client) == SFU_DTLS_CONNECTED);

    /* after the handshake: junk and truncated records are read and discarded */
    uint8_t real[MAX_DGRAM];
    size_t real_len = 0;
    sfu_dtls_close(p->client); /* grab a real encrypted record to truncate */
    real_len = p->to_server.len[0];
    memcpy(real, p->to_server.data[0], real_len);
    p->to_server.count = 0;
    feed_garbage(p->server, real, real_len);
    CHECK(sfu_dtls_get_state(p->server) == SFU_DTLS_CONNECTED);
    /* the intact record still works */
    CHECK(sfu_dtls_handle(p->server, real, real_len) == SFU_DTLS_CLOSED);
    pair_free(p);

    CHECK(sfu_dtls_handle(NULL, bad_version, sizeof bad_version) == SFU_DTLS_FAILED);
}

/* ---------- against a plain OpenSSL client (not our code) ---------- */

/* Independent check of the RFC 5764 key layout and of our role mapping: a client
 * written directly on OpenSSL (tests/support/ref_dtls_client.c) exports the keying
 * material itself; our server's keys must be its server half (local) and client half (remote). */
static void test_against_plain_openssl(const char *profile, sfu_srtp_profile expected, size_t salt_len)
{
    ref_dtls_client r = {0};
    CHECK(ref_dtls_client_init(&r, profile, NULL));
    if (!r.ssl) {
        ref_dtls_client_free(&r);
        return;
    }
    char fp[160];
    ref_dtls_client_fingerprint(&r, fp, sizeof fp);
    sfu_dtls_cert *cert = sfu_dtls_cert_new();
    sfu_dtls *server = sfu_dtls_new(cert, SFU_DTLS_ROLE_SERVER, fp, ref_dtls_client_receive, &r);
    CHECK(server != NULL);
    CHECK(server && ref_dtls_client_connect(&r, server));
    sfu_srtp_keys k = {0};
    CHECK(sfu_dtls_srtp_keys(server, &k));
    CHECK(k.profile == expected && k.master_len == 16 + salt_len);

    uint8_t m[60];
    const size_t key_len = 16, total = 2 * (key_len + salt_len);
    CHECK(SSL_export_keying_material(r.ssl, m, total, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) == 1);
    const uint8_t *client_key = m, *server_key = m + key_len;
    const uint8_t *client_salt = m + 2 * key_len, *server_salt = client_salt + salt_len;
    CHECK(memcmp(k.local_master, server_key, key_len) == 0);
    CHECK(memcmp(k.local_master + key_len, server_salt, salt_len) == 0);
    CHECK(memcmp(k.remote_master, client_key, key_len) == 0);
    CHECK(memcmp(k.remote_master + key_len, client_salt, salt_len) == 0);
    sfu_dtls_free(server);
    sfu_dtls_cert_free(cert);
    ref_dtls_client_free(&r);
}

/* ---------- SRTP with handshake keys ---------- */

static size_t make_rtp(uint8_t *b, uint16_t seq, size_t payload_len)
{
    b[0] = 0x80, b[1] = 96;
    b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
    memset(b + 4, 0x11, 4);                               /* timestamp */
    b[8] = 0xca, b[9] = 0xfe, b[10] = 0xba, b[11] = 0xbe; /* SSRC */
    for (size_t i = 0; i < payload_len; i++) b[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

static size_t make_rtcp_rr(uint8_t *b)
{
    /* RR, no report blocks, followed by a PLI */
    const uint8_t rr_pli[] = {0x80, 201, 0,    1,    0xca, 0xfe, 0xba, 0xbe, 0x81, 206,
                              0,    2,   0xca, 0xfe, 0xba, 0xbe, 0x12, 0x34, 0x56, 0x78};
    memcpy(b, rr_pli, sizeof rr_pli);
    return sizeof rr_pli;
}

static void check_srtp_pair(sfu_srtp *tx, sfu_srtp *rx, sfu_srtp_profile profile)
{
    uint8_t pkt[1500], orig[1500], saved[1500];
    size_t len = make_rtp(pkt, 1000, 160);
    size_t orig_len = len;
    memcpy(orig, pkt, len);
    CHECK(sfu_srtp_protect_rtp(tx, pkt, &len, sizeof pkt) == 0);
    size_t tag = profile == SFU_SRTP_AEAD_AES_128_GCM ? 16 : 10;
    CHECK(len == orig_len + tag);
    CHECK(memcmp(pkt + 12, orig + 12, 160) != 0); /* payload encrypted */
    memcpy(saved, pkt, len);
    size_t saved_len = len;
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) == 0);
    CHECK(len == orig_len && memcmp(pkt, orig, len) == 0);
    /* replay of the same packet */
    memcpy(pkt, saved, saved_len), len = saved_len;
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) == -9); /* srtp_err_status_replay_fail */
    /* one flipped payload bit in a fresh packet */
    len = make_rtp(pkt, 1001, 160);
    CHECK(sfu_srtp_protect_rtp(tx, pkt, &len, sizeof pkt) == 0);
    memcpy(saved, pkt, len), saved_len = len;
    pkt[40] ^= 0x01;
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) == -7); /* srtp_err_status_auth_fail */
    /* a forgery must not burn the index: the genuine packet still passes. (Use a copy:
     * after a failed unprotect the buffer is undefined, GCM decrypts in place.) */
    memcpy(pkt, saved, saved_len), len = saved_len;
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) == 0);
    CHECK(len == orig_len);
    /* retransmission of an already protected index is allowed on the sending side */
    len = make_rtp(pkt, 1001, 160);
    CHECK(sfu_srtp_protect_rtp(tx, pkt, &len, sizeof pkt) == 0);

    /* RTCP */
    len = make_rtcp_rr(pkt);
    orig_len = len;
    memcpy(orig, pkt, len);
    CHECK(sfu_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt) == 0);
    CHECK(len == orig_len + tag + 4); /* tag + E/SRTCP index */
    memcpy(saved, pkt, len);
    saved_len = len;
    CHECK(sfu_srtp_unprotect_rtcp(rx, pkt, &len) == 0);
    CHECK(len == orig_len && memcmp(pkt, orig, len) == 0);
    memcpy(pkt, saved, saved_len), len = saved_len;
    CHECK(sfu_srtp_unprotect_rtcp(rx, pkt, &len) == -9);
    len = make_rtcp_rr(pkt);
    CHECK(sfu_srtp_protect_rtcp(tx, pkt, &len, sizeof pkt) == 0);
    pkt[10] ^= 0x80;
    CHECK(sfu_srtp_unprotect_rtcp(rx, pkt, &len) == -7);

    /* argument checks */
    len = make_rtp(pkt, 1002, 100);
    CHECK(sfu_srtp_protect_rtp(tx, pkt, &len, len + SFU_SRTP_MAX_TRAILER - 1) == -2);
    size_t tiny = 11;
    CHECK(sfu_srtp_protect_rtp(tx, pkt, &tiny, sizeof pkt) == -2);
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &tiny) == -2);
    tiny = 7;
    CHECK(sfu_srtp_unprotect_rtcp(rx, pkt, &tiny) == -2);
    CHECK(sfu_srtp_protect_rtp(NULL, pkt, &len, sizeof pkt) == -2);
    /* a packet too short for its tag */
    len = 14;
    CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) < 0);
}

/* Outbound groups: the same keys in every group, so one inbound session reads what each
 * group protects, RTP and RTCP; a group not prepared (protect never allocates one) or out
 * of range is refused. */
static void check_srtp_groups(sfu_srtp *tx, sfu_srtp *rx)
{
    uint8_t pkt[1500], orig[1500];
    size_t unprepared = make_rtp(pkt, 1, 100);
    CHECK(sfu_srtp_protect_rtp_group(tx, 1, pkt, &unprepared, sizeof pkt) == -2);
    CHECK(!sfu_srtp_prepare_group(tx, SFU_SRTP_GROUPS));
    for (unsigned g = 0; g < SFU_SRTP_GROUPS; g++) {
        CHECK(sfu_srtp_prepare_group(tx, g));
        for (uint16_t seq = 1; seq <= 3; seq++) {
            size_t len = make_rtp(pkt, seq, 200);
            pkt[11] = (uint8_t)(0x40 + g); /* an SSRC per group */
            size_t orig_len = len;
            memcpy(orig, pkt, len);
            CHECK(sfu_srtp_protect_rtp_group(tx, g, pkt, &len, sizeof pkt) == 0);
            CHECK(sfu_srtp_unprotect_rtp(rx, pkt, &len) == 0);
            CHECK(len == orig_len && memcmp(pkt, orig, len) == 0);
        }
        size_t len = make_rtcp_rr(pkt);
        pkt[7] = (uint8_t)(0x40 + g);
        CHECK(sfu_srtp_protect_rtcp_group(tx, g, pkt, &len, sizeof pkt) == 0);
        CHECK(sfu_srtp_unprotect_rtcp(rx, pkt, &len) == 0);
    }
    size_t len = make_rtp(pkt, 9, 100);
    CHECK(sfu_srtp_protect_rtp_group(tx, SFU_SRTP_GROUPS, pkt, &len, sizeof pkt) == -2);
    len = make_rtcp_rr(pkt);
    CHECK(sfu_srtp_protect_rtcp_group(tx, SFU_SRTP_GROUPS, pkt, &len, sizeof pkt) == -2);
}

static double usec_per_protect(sfu_srtp *tx, int iterations)
{
    static uint8_t pkt[1200 + SFU_SRTP_MAX_TRAILER];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iterations; i++) {
        size_t len = make_rtp(pkt, (uint16_t)(2000 + i), 1200 - 12);
        if (sfu_srtp_protect_rtp(tx, pkt, &len, sizeof pkt) != 0) return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    /* make_rtp's fill is included; it is small next to the cipher */
    return ns / 1000.0 / iterations;
}

static void test_srtp_profile(const char *profiles, sfu_srtp_profile expected)
{
    pair *p = pair_new(profiles, profiles);
    CHECK(connect_pair(p));
    sfu_srtp_keys ks = {0}, kc = {0};
    CHECK(sfu_dtls_srtp_keys(p->server, &ks) && sfu_dtls_srtp_keys(p->client, &kc));
    CHECK(ks.profile == expected && kc.profile == expected);
    sfu_srtp *server = sfu_srtp_new(&ks);
    sfu_srtp *client = sfu_srtp_new(&kc);
    CHECK(server && client);
    if (server && client) {
        check_srtp_pair(server, client, expected);
        check_srtp_pair(client, server, expected);
        check_srtp_groups(server, client);
        /* wrong direction keys: a session keyed as the sender cannot read its own output */
        uint8_t pkt[300];
        size_t len = make_rtp(pkt, 5, 100);
        CHECK(sfu_srtp_protect_rtp(server, pkt, &len, sizeof pkt) == 0);
        sfu_srtp *impostor = sfu_srtp_new(&ks); /* inbound = client's key, not server's */
        CHECK(sfu_srtp_unprotect_rtp(impostor, pkt, &len) == -7);
        sfu_srtp_free(impostor);
        printf("%s: %.2f us per srtp_protect of a 1200-byte RTP packet\n", sfu_srtp_profile_name(expected),
               usec_per_protect(server, 20000));
    }
    sfu_srtp_free(server);
    sfu_srtp_free(client);
    pair_free(p);
}

static void test_srtp_new_rejects(void)
{
    sfu_srtp_keys k = {0};
    CHECK(sfu_srtp_new(NULL) == NULL);
    CHECK(sfu_srtp_new(&k) == NULL); /* profile NONE */
    k.profile = SFU_SRTP_AEAD_AES_128_GCM;
    k.master_len = 30; /* GCM needs 28 */
    CHECK(sfu_srtp_new(&k) == NULL);
    k.profile = SFU_SRTP_AES128_CM_SHA1_80;
    sfu_srtp *s = sfu_srtp_new(&k); /* all-zero keys are still keys */
    CHECK(s != NULL);
    sfu_srtp_free(s);
    CHECK(strcmp(sfu_srtp_profile_name(SFU_SRTP_AEAD_AES_128_GCM), "SRTP_AEAD_AES_128_GCM") == 0);
    CHECK(strcmp(sfu_srtp_profile_name(SFU_SRTP_AES128_CM_SHA1_80), "SRTP_AES128_CM_SHA1_80") == 0);
}

int main(void)
{
    CHECK(sfu_srtp_global_init());
    CHECK(sfu_srtp_global_init()); /* idempotent */
    test_fingerprint_format();
    test_bad_fingerprint_strings();
    test_handshake();
    test_small_mtu_fragments_flights();
    test_profile_choice();
    test_fingerprint_mismatch();
    test_retransmission();
    test_garbage();
    test_against_plain_openssl("SRTP_AEAD_AES_128_GCM", SFU_SRTP_AEAD_AES_128_GCM, 12);
    test_against_plain_openssl("SRTP_AES128_CM_SHA1_80", SFU_SRTP_AES128_CM_SHA1_80, 14);
    test_srtp_new_rejects();
    test_srtp_profile("SRTP_AEAD_AES_128_GCM", SFU_SRTP_AEAD_AES_128_GCM);
    test_srtp_profile("SRTP_AES128_CM_SHA1_80", SFU_SRTP_AES128_CM_SHA1_80);
    return CHECK_RESULT();
}
