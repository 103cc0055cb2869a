/* Unit tests for the ICE-lite STUN responder. Requests are built the way a browser's
 * full ICE agent builds them (libnice's client-side conncheck code), and replies are
 * checked with a client-side StunAgent, so both directions go through a real parser.
 *
 * With a directory argument it also writes fuzz seeds (tests/fuzz/corpus/stun). */
#include "ice/ice_lite.h"

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/mman.h>
#include <unistd.h>

#define SERVER_UFRAG "srvufrag"
#define SERVER_PWD "srvpassword0123456789abc"
#define CLIENT_UFRAG "cliufrag"
#define CLIENT_PWD "clientpassword0123456789"
#define USERNAME SERVER_UFRAG ":" CLIENT_UFRAG

static const uint16_t client_known_attributes[] = {
    STUN_ATTRIBUTE_USERNAME,           STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_ERROR_CODE,        0,
};

static int lookups;

static bool lookup_server_pwd(void *user, const char *ufrag, size_t ufrag_len, const char **pwd, size_t *pwd_len)
{
    (void)user;
    lookups++;
    if (ufrag_len != strlen(SERVER_UFRAG) || memcmp(ufrag, SERVER_UFRAG, ufrag_len) != 0) return false;
    *pwd = SERVER_PWD;
    *pwd_len = strlen(SERVER_PWD);
    return true;
}

/* A buggy lookup that "knows" the ufrag but has an empty password must not turn the
 * integrity check off. */
static bool lookup_empty_pwd(void *user, const char *ufrag, size_t ufrag_len, const char **pwd, size_t *pwd_len)
{
    (void)user, (void)ufrag, (void)ufrag_len;
    *pwd = "";
    *pwd_len = 0;
    return true;
}

static void init_client(StunAgent *client)
{
    stun_agent_init(client, client_known_attributes, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
}

typedef struct {
    const char *username;
    const char *password;
    bool use_candidate;
    bool controlling;
} request_spec;

static const request_spec browser_check = {USERNAME, SERVER_PWD, false, true};

/* Builds a Binding request as a full, controlling ICE agent would. */
static size_t build_request(StunAgent *client, const request_spec *spec, uint8_t *buf, size_t cap)
{
    StunMessage msg;
    return stun_usage_ice_conncheck_create(client, &msg, buf, cap, (const uint8_t *)spec->username,
                                           strlen(spec->username), (const uint8_t *)spec->password,
                                           strlen(spec->password), spec->use_candidate, spec->controlling, 0x6e7f1eff,
                                           0x0123456789abcdefULL, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

static struct sockaddr_in ipv4_peer(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(51234)};
    inet_pton(AF_INET, "192.0.2.77", &a.sin_addr);
    return a;
}

static struct sockaddr_in6 ipv6_peer(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(40001)};
    inet_pton(AF_INET6, "2001:db8::1:2:3", &a.sin6_addr);
    return a;
}

static sfu_ice_result answer(sfu_ice_agent *agent, const uint8_t *msg, size_t len, sfu_ice_answer_t *out)
{
    struct sockaddr_in from = ipv4_peer();
    return sfu_ice_answer(agent, msg, len, (struct sockaddr *)&from, sizeof from, lookup_server_pwd, NULL, out);
}

/* The reply must validate on the client (transaction id, MESSAGE-INTEGRITY with the
 * server password, FINGERPRINT) and map back to the sender's address. */
static void check_reply_maps_to(StunAgent *client, const sfu_ice_answer_t *out, const struct sockaddr *expect,
                                socklen_t expect_len)
{
    StunMessage resp;
    CHECK(out->reply_len > 0 && out->reply_len <= SFU_ICE_REPLY_MAX);
    StunValidationStatus v = stun_agent_validate(client, &resp, out->reply, out->reply_len, NULL, NULL);
    CHECK(v == STUN_VALIDATION_SUCCESS);
    if (v != STUN_VALIDATION_SUCCESS) return;
    CHECK(stun_message_get_class(&resp) == STUN_RESPONSE);
    CHECK(stun_message_get_method(&resp) == STUN_BINDING);
    struct sockaddr_storage mapped;
    socklen_t mapped_len = sizeof mapped;
    CHECK(stun_usage_ice_conncheck_process(&resp, &mapped, &mapped_len, STUN_USAGE_ICE_COMPATIBILITY_RFC5245) ==
          STUN_USAGE_ICE_RETURN_SUCCESS);
    CHECK(mapped.ss_family == expect->sa_family);
    if (expect->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)&mapped, *b = (const void *)expect;
        CHECK(a->sin_port == b->sin_port);
        CHECK(a->sin_addr.s_addr == b->sin_addr.s_addr);
    } else {
        const struct sockaddr_in6 *a = (const void *)&mapped, *b = (const void *)expect;
        CHECK(a->sin6_port == b->sin6_port);
        CHECK(memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0);
    }
    (void)expect_len;
}

static void test_valid_request_ipv4(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    uint8_t req[512];
    size_t len = build_request(&client, &browser_check, req, sizeof req);
    CHECK(len > 0);
    sfu_ice_answer_t out;
    CHECK(answer(agent, req, len, &out) == SFU_ICE_REPLY);
    CHECK(strcmp(out.local_ufrag, SERVER_UFRAG) == 0);
    CHECK(!out.use_candidate);
    struct sockaddr_in from = ipv4_peer();
    check_reply_maps_to(&client, &out, (struct sockaddr *)&from, sizeof from);
}

static void test_valid_request_ipv6_use_candidate(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    request_spec nominate = browser_check;
    nominate.use_candidate = true;
    uint8_t req[512];
    size_t len = build_request(&client, &nominate, req, sizeof req);
    struct sockaddr_in6 from = ipv6_peer();
    sfu_ice_answer_t out;
    CHECK(sfu_ice_answer(agent, req, len, (struct sockaddr *)&from, sizeof from, lookup_server_pwd, NULL, &out) ==
          SFU_ICE_REPLY);
    CHECK(out.use_candidate);
    CHECK(strcmp(out.local_ufrag, SERVER_UFRAG) == 0);
    check_reply_maps_to(&client, &out, (struct sockaddr *)&from, sizeof from);

    /* a sockaddr_in6 passed with a too-short length is refused, not over-read */
    CHECK(sfu_ice_answer(agent, req, len, (struct sockaddr *)&from, sizeof(struct sockaddr_in), lookup_server_pwd, NULL,
                         &out) != SFU_ICE_REPLY);
}

static void test_reply_to_tampered_reply_fails(sfu_ice_agent *agent)
{
    /* proves check_reply_maps_to can fail: a flipped XOR-MAPPED-ADDRESS byte breaks it */
    StunAgent client;
    init_client(&client);
    uint8_t req[512];
    size_t len = build_request(&client, &browser_check, req, sizeof req);
    sfu_ice_answer_t out;
    CHECK(answer(agent, req, len, &out) == SFU_ICE_REPLY);
    out.reply[20 + 4 + 3] ^= 1; /* port byte of the first attribute (XOR-MAPPED-ADDRESS) */
    StunMessage resp;
    CHECK(stun_agent_validate(&client, &resp, out.reply, out.reply_len, NULL, NULL) != STUN_VALIDATION_SUCCESS);
}

static void test_wrong_password(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    request_spec bad = browser_check;
    bad.password = "notthepassword0123456789";
    uint8_t req[512];
    size_t len = build_request(&client, &bad, req, sizeof req);
    sfu_ice_answer_t out;
    CHECK(answer(agent, req, len, &out) == SFU_ICE_UNAUTHORIZED);
    CHECK(out.reply_len == 0);
    CHECK(out.local_ufrag[0] == '\0');

    struct sockaddr_in from = ipv4_peer();
    CHECK(sfu_ice_answer(agent, req, len, (struct sockaddr *)&from, sizeof from, lookup_empty_pwd, NULL, &out) !=
          SFU_ICE_REPLY);
}

static void test_unknown_ufrag(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    request_spec other = browser_check;
    other.username = "otherufr:" CLIENT_UFRAG;
    uint8_t req[512];
    size_t len = build_request(&client, &other, req, sizeof req);
    sfu_ice_answer_t out;
    int before = lookups;
    CHECK(answer(agent, req, len, &out) == SFU_ICE_UNKNOWN_UFRAG);
    CHECK(lookups == before + 1);

    other.username = "nocolon"; /* not "<local>:<remote>" */
    len = build_request(&client, &other, req, sizeof req);
    CHECK(answer(agent, req, len, &out) == SFU_ICE_MALFORMED);
    other.username = ":" CLIENT_UFRAG; /* empty local ufrag */
    len = build_request(&client, &other, req, sizeof req);
    CHECK(answer(agent, req, len, &out) == SFU_ICE_UNKNOWN_UFRAG);
}

static void test_role_conflict(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    request_spec controlled = browser_check;
    controlled.controlling = false; /* peer claims the controlled role too */
    uint8_t req[512];
    size_t len = build_request(&client, &controlled, req, sizeof req);
    sfu_ice_answer_t out;
    CHECK(answer(agent, req, len, &out) == SFU_ICE_ROLE_CONFLICT);
    CHECK(out.local_ufrag[0] == '\0');
    StunMessage resp;
    if (out.reply_len == 0) return;
    CHECK(stun_agent_validate(&client, &resp, out.reply, out.reply_len, NULL, NULL) == STUN_VALIDATION_SUCCESS);
    int code = 0;
    CHECK(stun_message_get_class(&resp) == STUN_ERROR);
    CHECK(stun_message_find_error(&resp, &code) == STUN_MESSAGE_RETURN_SUCCESS && code == 487);
}

static void test_every_truncation(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    uint8_t req[512];
    size_t len = build_request(&client, &browser_check, req, sizeof req);
    for (size_t n = 0; n < len; n++) {
        /* exact-size heap copy, so ASan sees any read past the datagram */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, req, n);
        sfu_ice_answer_t out;
        sfu_ice_result r = answer(agent, copy, n, &out);
        CHECK(r != SFU_ICE_REPLY);
        CHECK(out.reply_len == 0);
        free(copy);
    }
    /* ... and a truncation that re-states the header length to stay parseable */
    uint8_t cut[512];
    memcpy(cut, req, len - 8); /* drop FINGERPRINT */
    cut[2] = (uint8_t)((len - 8 - 20) >> 8), cut[3] = (uint8_t)(len - 8 - 20);
    sfu_ice_answer_t out;
    CHECK(answer(agent, cut, len - 8, &out) == SFU_ICE_MALFORMED);
}

static void test_random_bytes(sfu_ice_agent *agent)
{
    uint64_t s = 0x243f6a8885a308d3ull;
    uint8_t buf[600];
    int replies = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(s % sizeof buf);
        for (size_t j = 0; j < n; j++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            buf[j] = (uint8_t)s;
        }
        if (n >= 20 && (i & 1)) {          /* half of them pass the cheap header checks */
            buf[0] &= 0x01, buf[1] = 0x01; /* Binding request (or response) */
            buf[2] = (uint8_t)((n - 20) >> 8), buf[3] = (uint8_t)(n - 20);
            buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
        }
        sfu_ice_answer_t out;
        replies += answer(agent, buf, n, &out) == SFU_ICE_REPLY;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    }
    CHECK(replies == 0);
}

static size_t build_indication(StunAgent *client, uint8_t *buf, size_t cap)
{
    StunMessage msg;
    if (!stun_agent_init_indication(client, &msg, buf, cap, STUN_BINDING)) return 0;
    return stun_agent_finish_message(client, &msg, NULL, 0);
}

static void test_non_requests_ignored(sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    uint8_t ind[64];
    size_t ind_len = build_indication(&client, ind, sizeof ind);
    CHECK(ind_len >= 20);
    sfu_ice_answer_t out;
    CHECK(answer(agent, ind, ind_len, &out) == SFU_ICE_IGNORED);

    /* our own success response reflected back at us */
    uint8_t req[512];
    size_t len = build_request(&client, &browser_check, req, sizeof req);
    CHECK(answer(agent, req, len, &out) == SFU_ICE_REPLY);
    uint8_t resp[SFU_ICE_REPLY_MAX];
    size_t resp_len = out.reply_len;
    memcpy(resp, out.reply, resp_len);
    CHECK(answer(agent, resp, resp_len, &out) == SFU_ICE_IGNORED);
    CHECK(out.reply_len == 0);
}

/* USERNAME, then a 4-byte MESSAGE-INTEGRITY, then a correct FINGERPRINT. libnice
 * 0.1.21 alone would hash and compare 20 bytes from the MESSAGE-INTEGRITY value, i.e.
 * read 8 bytes past the datagram. Returns the length written to m (>= 68 bytes). */
static size_t build_short_integrity_request(uint8_t *m)
{
    size_t at = 20;
    memset(m, 0, 68);
    m[1] = 0x01;
    m[4] = 0x21, m[5] = 0x12, m[6] = 0xa4, m[7] = 0x42;
    m[at++] = 0x00, m[at++] = 0x06, m[at++] = 0, m[at++] = 17;
    memcpy(m + at, USERNAME, 17), at += 20;
    m[at++] = 0x00, m[at++] = 0x08, m[at++] = 0, m[at++] = 4, at += 4;
    size_t total = at + 8;
    m[2] = 0, m[3] = (uint8_t)(total - 20);
    /* CRC-32 (IEEE) of everything before FINGERPRINT, XOR "STUN" */
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < at; i++) {
        crc ^= m[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    crc = ~crc ^ 0x5354554eu;
    m[at++] = 0x80, m[at++] = 0x28, m[at++] = 0, m[at++] = 4;
    m[at++] = (uint8_t)(crc >> 24), m[at++] = (uint8_t)(crc >> 16);
    m[at++] = (uint8_t)(crc >> 8), m[at++] = (uint8_t)crc;
    return total;
}

static void test_short_integrity_attribute(sfu_ice_agent *agent)
{
    /* The message ends right before an inaccessible page, so an over-read faults even
     * inside libnice, which ASan does not instrument. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED);
    if (area == MAP_FAILED) return;
    CHECK(mprotect(area + page, page, PROT_NONE) == 0);
    uint8_t m[128];
    size_t total = build_short_integrity_request(m);
    uint8_t *at_edge = area + page - total;
    memcpy(at_edge, m, total);
    sfu_ice_answer_t out;
    CHECK(answer(agent, at_edge, total, &out) == SFU_ICE_MALFORMED);
    munmap(area, 2 * page);
}

static bool in_ice_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static void test_random_string(void)
{
    char a[301], b[301];
    memset(a, '#', sizeof a);
    sfu_ice_random_string(a, 16);
    CHECK(strlen(a) == 16);
    CHECK(a[17] == '#');
    sfu_ice_random_string(a, 300); /* more than one RAND_bytes chunk */
    sfu_ice_random_string(b, 300);
    CHECK(strlen(a) == 300);
    bool all_in = true;
    int seen[128] = {0};
    for (int i = 0; i < 300; i++) {
        all_in &= in_ice_alphabet(a[i]);
        if ((unsigned char)a[i] < 128) seen[(unsigned char)a[i]] = 1;
    }
    CHECK(all_in);
    CHECK(strcmp(a, b) != 0);
    int distinct = 0;
    for (int i = 0; i < 128; i++) distinct += seen[i];
    CHECK(distinct > 40); /* 300 draws from 64 symbols: ~63 expected */
    sfu_ice_random_string(a, 0);
    CHECK(a[0] == '\0');
}

static void write_seed(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return;
    }
    fwrite(d, 1, n, f);
    fclose(f);
}

/* Seeds for tests/fuzz/corpus/stun; fuzz_stun.c knows SERVER_UFRAG/SERVER_PWD. */
static void write_seeds(const char *dir, sfu_ice_agent *agent)
{
    StunAgent client;
    init_client(&client);
    uint8_t buf[512];
    request_spec spec = browser_check;
    write_seed(dir, "binding_request", buf, build_request(&client, &spec, buf, sizeof buf));
    spec.use_candidate = true;
    write_seed(dir, "binding_request_use_candidate", buf, build_request(&client, &spec, buf, sizeof buf));
    spec.controlling = false;
    write_seed(dir, "binding_request_controlled", buf, build_request(&client, &spec, buf, sizeof buf));
    spec = browser_check;
    spec.password = "notthepassword0123456789";
    write_seed(dir, "binding_request_bad_password", buf, build_request(&client, &spec, buf, sizeof buf));
    spec = browser_check;
    spec.username = "otherufr:" CLIENT_UFRAG;
    write_seed(dir, "binding_request_unknown_ufrag", buf, build_request(&client, &spec, buf, sizeof buf));
    write_seed(dir, "binding_indication", buf, build_indication(&client, buf, sizeof buf));
    write_seed(dir, "binding_request_short_integrity", buf, build_short_integrity_request(buf));
    size_t len = build_request(&client, &browser_check, buf, sizeof buf);
    sfu_ice_answer_t out;
    if (answer(agent, buf, len, &out) == SFU_ICE_REPLY)
        write_seed(dir, "binding_success_response", out.reply, out.reply_len);
}

int main(int argc, char **argv)
{
    sfu_ice_agent *agent = sfu_ice_agent_new();
    CHECK(agent != NULL);
    if (!agent) return CHECK_RESULT();
    if (argc > 1) write_seeds(argv[1], agent);
    test_valid_request_ipv4(agent);
    test_valid_request_ipv6_use_candidate(agent);
    test_reply_to_tampered_reply_fails(agent);
    test_wrong_password(agent);
    test_unknown_ufrag(agent);
    test_role_conflict(agent);
    test_every_truncation(agent);
    test_random_bytes(agent);
    test_non_requests_ignored(agent);
    test_short_integrity_attribute(agent);
    test_random_string();
    CHECK(strcmp(sfu_ice_result_str(SFU_ICE_UNAUTHORIZED), "unauthorized") == 0);
    sfu_ice_agent_free(agent);
    return CHECK_RESULT();
}
