/* Request validation (signaling/protocol.c): every error code that malformed input can
 * cause, every request type parsed, replies, the message size cap and the rate limiter. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "protocol.h"

static dc_error_code parse(const char *text, dc_request *req)
{
    char msg[256];
    dc_error_code e = dc_request_parse(text, strlen(text), req, msg, sizeof msg);
    if (e != DC_OK) CHECK(msg[0] != '\0'); /* every error names its cause */
    return e;
}

static dc_error_code parse_code(const char *text)
{
    dc_request req;
    dc_error_code e = parse(text, &req);
    dc_request_clear(&req);
    return e;
}

static void test_error_names(void)
{
    static const char *const expected[] = {
        "ok",      "bad_json",      "too_large", "bad_request",  "unknown_type",  "not_joined",   "already_joined",
        "bad_sdp", "stale_version", "room_full", "unauthorized", "resume_failed", "rate_limited", "internal",
    };
    for (int i = 0; i <= DC_ERR_INTERNAL; i++) CHECK(!strcmp(dc_error_code_name((dc_error_code)i), expected[i]));
    CHECK(!strcmp(dc_error_code_name((dc_error_code)999), "internal"));
}

static void test_bad_json(void)
{
    CHECK(parse_code("") == DC_ERR_BAD_JSON);
    CHECK(parse_code("{") == DC_ERR_BAD_JSON);
    CHECK(parse_code("[]") == DC_ERR_BAD_JSON);
    CHECK(parse_code("\"ping\"") == DC_ERR_BAD_JSON);
    CHECK(parse_code("42") == DC_ERR_BAD_JSON);
    CHECK(parse_code("null") == DC_ERR_BAD_JSON);
    CHECK(parse_code("{\"type\":\"ping\"} trailing") == DC_ERR_BAD_JSON);
    CHECK(parse_code("{\"type\":\"ping\",\"type\":\"join\"}") == DC_ERR_BAD_JSON); /* duplicate key */
    CHECK(parse_code("{\"type\":\"ping\",\"id\":123456789012345678901234567890}") == DC_ERR_BAD_JSON);
    /* valid JSON, but a NUL would cut the string short in C: a bad request */
    CHECK(parse_code("{\"type\":\"pi\\u0000ng\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"\xff\xfe\"}") == DC_ERR_BAD_JSON); /* invalid UTF-8 */
    /* Deep nesting is refused by jansson's depth limit, not by the stack. */
    size_t depth = 100000;
    char *deep = malloc(depth + 1);
    memset(deep, '[', depth);
    deep[depth] = '\0';
    dc_request req;
    char msg[128];
    CHECK(dc_request_parse(deep, depth, &req, msg, sizeof msg) != DC_OK);
    dc_request_clear(&req);
    free(deep);
    /* Not NUL-terminated input is read only up to len. */
    CHECK(dc_request_parse("{\"type\":\"ping\"}XXXX", 15, &req, msg, sizeof msg) == DC_OK);
    dc_request_clear(&req);
}

static void test_too_large(void)
{
    size_t n = DC_MAX_MESSAGE_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    dc_request req;
    char msg[128];
    CHECK(dc_request_parse(big, n, &req, msg, sizeof msg) == DC_ERR_TOO_LARGE);
    dc_request_clear(&req);
    free(big);

    dc_message_buffer b = {0};
    char chunk[4096];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 16; i++) CHECK(dc_message_buffer_append(&b, chunk, sizeof chunk) == DC_OK);
    CHECK(b.len == DC_MAX_MESSAGE_BYTES);
    CHECK(dc_message_buffer_append(&b, chunk, 1) == DC_ERR_TOO_LARGE);
    CHECK(b.len == DC_MAX_MESSAGE_BYTES);
    dc_message_buffer_free(&b);
    CHECK(b.len == 0 && b.cap == 0 && !b.data);
    CHECK(dc_message_buffer_append(&b, chunk, SIZE_MAX) == DC_ERR_TOO_LARGE); /* no overflow */
    CHECK(dc_message_buffer_append(&b, chunk, 0) == DC_OK);
    dc_message_buffer_free(&b);
}

static void test_bad_request_and_unknown_type(void)
{
    CHECK(parse_code("{}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":5}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":null}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"dance\"}") == DC_ERR_UNKNOWN_TYPE);
    CHECK(parse_code("{\"type\":\"\"}") == DC_ERR_UNKNOWN_TYPE);
    CHECK(parse_code("{\"type\":\"PING\"}") == DC_ERR_UNKNOWN_TYPE);
    /* ids: integer or short string */
    CHECK(parse_code("{\"type\":\"ping\",\"id\":1.5}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"ping\",\"id\":null}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"ping\",\"id\":\"\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"ping\",\"id\":[1]}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code(
              "{\"type\":\"ping\",\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}") ==
          DC_ERR_BAD_REQUEST); /* 65 */
    CHECK(
        parse_code("{\"type\":\"ping\",\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}") ==
        DC_OK); /* 64 */
    CHECK(parse_code("{\"type\":\"ping\",\"id\":-9223372036854775808}") == DC_OK);

    /* join */
    CHECK(parse_code("{\"type\":\"join\",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\"}") == DC_OK); /* the token names */
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"gallery\":25}") == DC_OK);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"gallery\":26}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"gallery\":\"9\"}") == DC_ERR_BAD_REQUEST);

    /* the province meeting's requests */
    static const struct {
        const char *text;
        dc_error_code code;
    } meeting_requests[] = {
        {"{\"type\":\"raise_hand\"}", DC_OK},
        {"{\"type\":\"lower_hand\"}", DC_OK},
        {"{\"type\":\"lower_hand\",\"participant_id\":\"p2\"}", DC_OK},
        {"{\"type\":\"lower_hand\",\"participant_id\":\"\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"grant_floor\",\"participant_id\":\"p2\"}", DC_OK},
        {"{\"type\":\"grant_floor\",\"participant_id\":\"p2\",\"seconds\":86400}", DC_OK},
        {"{\"type\":\"grant_floor\",\"participant_id\":\"p2\",\"seconds\":86401}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"grant_floor\",\"participant_id\":\"p2\",\"seconds\":-1}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"grant_floor\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"grant_floor\",\"participant_id\":\"p1234567890123456\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"revoke_floor\"}", DC_OK},
        {"{\"type\":\"next_floor\",\"seconds\":60}", DC_OK},
        {"{\"type\":\"mute_participant\",\"participant_id\":\"p2\",\"kind\":\"video\",\"muted\":true}", DC_OK},
        {"{\"type\":\"mute_participant\",\"participant_id\":\"p2\",\"kind\":\"screen\",\"muted\":true}",
         DC_ERR_BAD_REQUEST},
        {"{\"type\":\"mute_participant\",\"kind\":\"audio\",\"muted\":true}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"mute_delegates\"}", DC_OK},
        {"{\"type\":\"remove_participant\",\"participant_id\":\"p2\"}", DC_OK},
        {"{\"type\":\"lock_room\",\"locked\":false}", DC_OK},
        {"{\"type\":\"lock_room\",\"locked\":1}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"end_meeting\"}", DC_OK},
        {"{\"type\":\"set_room_options\",\"floor_may_share\":true}", DC_OK},
        {"{\"type\":\"set_room_options\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"chat\",\"text\":\"xin chào\"}", DC_OK},
        {"{\"type\":\"chat\",\"text\":\"x\",\"to\":\"chair\"}", DC_OK},
        {"{\"type\":\"chat\",\"text\":\"x\",\"to\":\"p2\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"chat\",\"text\":\"\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"set_gallery\",\"gallery\":0}", DC_OK},
        {"{\"type\":\"set_gallery\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"publish\",\"sdp\":\"v=0\",\"screen_mid\":\"2\"}", DC_OK},
        {"{\"type\":\"publish\",\"sdp\":\"v=0\",\"screen_mid\":\"\"}", DC_ERR_BAD_REQUEST},
        {"{\"type\":\"publish\",\"sdp\":\"v=0\",\"screen_mid\":2}", DC_ERR_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof meeting_requests / sizeof meeting_requests[0]; i++) {
        dc_error_code got = parse_code(meeting_requests[i].text);
        CHECK(got == meeting_requests[i].code);
        if (got != meeting_requests[i].code) fprintf(stderr, "  for %s\n", meeting_requests[i].text);
    }
    CHECK(parse_code("{\"type\":\"join\",\"room\":1,\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"\",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"   \",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"a\\u0007b\",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"a\\nb\",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"a\\u007fb\",\"name\":\"A\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"name\":\"   \"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\u0007b\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"name\":[\"A\"]}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"join\",\"room\":\"r\",\"name\":\"A\",\"token\":7}") == DC_ERR_BAD_REQUEST);
    /* publish / subscribe_answer */
    CHECK(parse_code("{\"type\":\"publish\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"publish\",\"sdp\":\"\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"publish\",\"sdp\":{}}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"sdp\":\"v=0\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"version\":0,\"sdp\":\"v=0\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"version\":-3,\"sdp\":\"v=0\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"version\":\"1\",\"sdp\":\"v=0\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"version\":1.0,\"sdp\":\"v=0\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"subscribe_answer\",\"version\":1}") == DC_ERR_BAD_REQUEST);
    /* candidate */
    CHECK(parse_code("{\"type\":\"candidate\",\"candidate\":null}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"both\",\"candidate\":null}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"c\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{}}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"\","
                     "\"sdpMid\":5}}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"\","
                     "\"sdpMLineIndex\":-1}}") == DC_ERR_BAD_REQUEST);
    /* mute */
    CHECK(parse_code("{\"type\":\"mute\",\"kind\":\"audio\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":1}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"mute\",\"kind\":\"screen\",\"muted\":true}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"mute\",\"muted\":true}") == DC_ERR_BAD_REQUEST);
    /* resume */
    CHECK(parse_code("{\"type\":\"resume\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"resume\",\"resume_token\":\"\"}") == DC_ERR_BAD_REQUEST);
    CHECK(parse_code("{\"type\":\"resume\",\"resume_token\":false}") == DC_ERR_BAD_REQUEST);
}

static void test_id_survives_errors(void)
{
    dc_request req;
    CHECK(parse("{\"type\":\"dance\",\"id\":\"abc\"}", &req) == DC_ERR_UNKNOWN_TYPE);
    CHECK(req.id && json_is_string(req.id) && !strcmp(json_string_value(req.id), "abc"));
    json_t *err = dc_reply_error(req.id, DC_ERR_UNKNOWN_TYPE, "unknown");
    char *text = dc_json_take_text(err, NULL);
    CHECK(text &&
          !strcmp(text, "{\"type\":\"error\",\"code\":\"unknown_type\",\"message\":\"unknown\",\"id\":\"abc\"}"));
    free(text);
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"join\",\"id\":7,\"room\":\"bad\\u0001room\",\"name\":\"x\"}", &req) == DC_ERR_BAD_REQUEST);
    CHECK(req.id && json_integer_value(req.id) == 7);
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"ping\",\"id\":[]}", &req) == DC_ERR_BAD_REQUEST);
    CHECK(req.id == NULL);
    dc_request_clear(&req);
}

/* Room names are any Unicode text, trimmed and NFC-normalised, 1-64 code points. */
static void expect_room(const char *json_room, const char *want)
{
    char json[2048];
    snprintf(json, sizeof json, "{\"type\":\"join\",\"room\":\"%s\",\"name\":\"A\"}", json_room);
    dc_request req;
    dc_error_code e = parse(json, &req);
    CHECK(e == (want ? DC_OK : DC_ERR_BAD_REQUEST));
    if (want && e == DC_OK) CHECK(!strcmp(req.room, want));
    dc_request_clear(&req);
}

static void test_room_names(void)
{
    expect_room("ubnd-tinh.A_1", "ubnd-tinh.A_1");
    expect_room("  Phòng họp Sở Nội vụ ", "Phòng họp Sở Nội vụ");
    /* decomposed: "o" + U+0300 (grave) and "o" + U+0323 (dot below) + U+0302 (circumflex) */
    expect_room("Pho\\u0300ng ho\\u0323p So\\u031b\\u0309 No\\u0323\\u0302i vu\\u0323", "Phòng họp Sở Nội vụ");
    expect_room("../etc", "../etc"); /* only a key: rooms are never paths */
    char room[65 * 3 + 1] = "";
    for (int i = 0; i < 64; i++) strcat(room, "ệ");
    expect_room(room, room);           /* 64 code points, 192 bytes */
    char decomposed[64 * 13 + 1] = ""; /* 64 × "e" + U+0323 + U+0302 */
    for (int i = 0; i < 64; i++) strcat(decomposed, "e\\u0323\\u0302");
    expect_room(decomposed, room); /* 192 code points as sent, 64 once normalised: counted after NFC */
    strcat(room, "ệ");
    expect_room(room, NULL);               /* 65 */
    expect_room("\\u0085next-line", NULL); /* C1 control */
    expect_room("", NULL);
}

static void test_valid_requests(void)
{
    dc_request req;
    CHECK(parse("{\"type\":\"join\",\"id\":1,\"room\":\"ubnd-tinh.A_1\",\"name\":\"  Nguyễn Văn A \\n\","
                "\"extra\":[1,2]}",
                &req) == DC_OK);
    CHECK(req.type == DC_REQ_JOIN && json_integer_value(req.id) == 1);
    CHECK(!strcmp(req.room, "ubnd-tinh.A_1"));
    CHECK(!strcmp(req.name, "Nguyễn Văn A"));
    CHECK(req.token == NULL);
    dc_request_clear(&req);

    /* 64 code points of 3 bytes each fit; 65 do not */
    char json[1024];
    char name[65 * 3 + 1] = "";
    for (int i = 0; i < 64; i++) strcat(name, "ệ");
    snprintf(json, sizeof json, "{\"type\":\"join\",\"room\":\"r\",\"name\":\"%s\",\"token\":\"t\"}", name);
    CHECK(parse(json, &req) == DC_OK);
    CHECK(req.token && !strcmp(req.token, "t"));
    dc_request_clear(&req);
    strcat(name, "ệ");
    snprintf(json, sizeof json, "{\"type\":\"join\",\"room\":\"r\",\"name\":\"%s\"}", name);
    CHECK(parse_code(json) == DC_ERR_BAD_REQUEST);

    test_room_names();

    CHECK(parse("{\"type\":\"publish\",\"id\":\"x\",\"sdp\":\"v=0\\r\\n\"}", &req) == DC_OK);
    CHECK(req.type == DC_REQ_PUBLISH && req.sdp_len == 5 && !memcmp(req.sdp, "v=0\r\n", 5));
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"subscribe_answer\",\"id\":3,\"version\":4,\"sdp\":\"v=0\"}", &req) == DC_OK);
    CHECK(req.type == DC_REQ_SUBSCRIBE_ANSWER && req.version == 4 && req.sdp_len == 3);
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"candidate\",\"pc\":\"subscribe\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 "
                "10.0.0.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}",
                &req) == DC_OK);
    CHECK(req.type == DC_REQ_CANDIDATE && req.pc == DC_PC_SUBSCRIBE && req.id == NULL);
    dc_request_clear(&req);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"\"}}") == DC_OK);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":null}") == DC_OK);
    CHECK(parse_code("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{\"candidate\":\"\","
                     "\"sdpMid\":null,\"sdpMLineIndex\":null}}") == DC_OK);

    CHECK(parse("{\"type\":\"mute\",\"id\":5,\"kind\":\"video\",\"muted\":true}", &req) == DC_OK);
    CHECK(req.type == DC_REQ_MUTE && req.kind == SFU_KIND_VIDEO && req.muted);
    dc_request_clear(&req);
    CHECK(parse("{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":false}", &req) == DC_OK);
    CHECK(req.kind == SFU_KIND_AUDIO && !req.muted);
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"resume\",\"id\":1,\"resume_token\":\"abc+/\"}", &req) == DC_OK);
    CHECK(req.type == DC_REQ_RESUME && !strcmp(req.resume_token, "abc+/"));
    dc_request_clear(&req);

    CHECK(parse("{\"type\":\"leave\",\"id\":6}", &req) == DC_OK && req.type == DC_REQ_LEAVE);
    dc_request_clear(&req);
    CHECK(parse("{\"id\":7,\"type\":\"ping\"}", &req) == DC_OK && req.type == DC_REQ_PING);
    dc_request_clear(&req);

    CHECK(dc_request_allowed_before_join(DC_REQ_JOIN));
    CHECK(dc_request_allowed_before_join(DC_REQ_RESUME));
    CHECK(dc_request_allowed_before_join(DC_REQ_PING));
    CHECK(!dc_request_allowed_before_join(DC_REQ_PUBLISH));
    CHECK(!dc_request_allowed_before_join(DC_REQ_MUTE));
    CHECK(!dc_request_allowed_before_join(DC_REQ_LEAVE));
}

static void test_replies(void)
{
    json_t *id = json_integer(9);
    char *text = dc_json_take_text(dc_reply_ok(id), NULL);
    CHECK(text && !strcmp(text, "{\"type\":\"ok\",\"id\":9}"));
    free(text);
    json_decref(id);
    text = dc_json_take_text(dc_reply_ok(NULL), NULL);
    CHECK(text && !strcmp(text, "{\"type\":\"ok\"}"));
    free(text);
    /* A message that is not valid UTF-8 (e.g. truncated mid-character) still gives an error reply. */
    size_t len = 0;
    text = dc_json_take_text(dc_reply_error(NULL, DC_ERR_BAD_SDP, "bad \xe1\xbb"), &len);
    CHECK(text && strstr(text, "\"code\":\"bad_sdp\"") && len == strlen(text));
    free(text);
    text = dc_json_take_text(dc_event("slot_update"), NULL);
    CHECK(text && !strcmp(text, "{\"type\":\"slot_update\"}"));
    free(text);
    CHECK(dc_json_take_text(NULL, NULL) == NULL);
}

static void test_candidate_grammar(void)
{
    static const char *const good[] = {
        "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.1 rport 46154 generation 0",
        "candidate:1 1 UDP 2122252543 0ccb4b8e-6f13-4c4a.local 54321 typ host",
        "candidate:3 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active",
        "candidate:a+/Z 256 udp 4294967295 2001:db8::1 65535 typ relay",
        "candidate:1 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 ufrag a+/b network-id 1",
    };
    static const char *const bad[] = {
        "",
        "candidate:",
        "candidate:1",
        "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ",
        "candidate:1 0 udp 1 127.0.0.1 5000 typ host",
        "candidate:1 1 udp 4294967296 127.0.0.1 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.1 65536 typ host",
        "candidate:1 1 udp 1 .local 5000 typ host",
        "candidate:1 1 udp 1 a..b 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.1 5000 type host",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host raddr",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host raddr x_y rport 1",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host rport 70000",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host ",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n",
        "candidate:1 1 udp 1 127.0.0.1 5000 typ h\xc3\xa9",
        "candidate:123456789012345678901234567890123 1 udp 1 127.0.0.1 5000 typ host",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(dc_candidate_check(good[i], strlen(good[i])) == NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(dc_candidate_check(bad[i], strlen(bad[i])) != NULL);
    /* only len bytes are read */
    CHECK(dc_candidate_check("candidate:1 1 udp 1 127.0.0.1 5000 typ hostXX", 44) == NULL);
}

static void test_rate_limiter(void)
{
    dc_rate_limiter rl;
    dc_rate_limiter_init(&rl, 50, 100, 1000);
    int allowed = 0;
    for (int i = 0; i < 150; i++) allowed += dc_rate_limiter_allow(&rl, 1000);
    CHECK(allowed == 100);                    /* the burst */
    CHECK(!dc_rate_limiter_allow(&rl, 1010)); /* 10 ms = half a message */
    CHECK(dc_rate_limiter_allow(&rl, 1020));  /* 20 ms = one message */
    CHECK(!dc_rate_limiter_allow(&rl, 1020));
    allowed = 0;
    for (int i = 0; i < 200; i++) allowed += dc_rate_limiter_allow(&rl, 5000);
    CHECK(allowed == 100);                            /* refilled to the burst, not beyond */
    CHECK(!dc_rate_limiter_allow(&rl, 4000));         /* a clock going back gives nothing */
    CHECK(dc_rate_limiter_allow(&rl, INT64_MAX / 2)); /* a huge jump does not overflow */
}

static void test_rate_limiter_flooding(void)
{
    dc_rate_limiter rl;
    dc_rate_limiter_init(&rl, 50, 2, 0);
    CHECK(dc_rate_limiter_allow(&rl, 0) && dc_rate_limiter_allow(&rl, 0));
    for (int i = 0; i < DC_RATE_LIMIT_FLOOD_MESSAGES - 1; i++) CHECK(!dc_rate_limiter_allow(&rl, 0));
    CHECK(!dc_rate_limiter_flooding(&rl));
    CHECK(dc_rate_limiter_allow(&rl, 20)); /* one allowed message starts the count again */
    for (int i = 0; i < DC_RATE_LIMIT_FLOOD_MESSAGES - 1; i++) CHECK(!dc_rate_limiter_allow(&rl, 20));
    CHECK(!dc_rate_limiter_flooding(&rl));
    CHECK(!dc_rate_limiter_allow(&rl, 20));
    CHECK(dc_rate_limiter_flooding(&rl));
}

int main(void)
{
    test_error_names();
    test_bad_json();
    test_too_large();
    test_bad_request_and_unknown_type();
    test_id_survives_errors();
    test_valid_requests();
    test_replies();
    test_candidate_grammar();
    test_rate_limiter();
    test_rate_limiter_flooding();
    return CHECK_RESULT();
}
