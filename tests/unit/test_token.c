/* Join tokens (signaling/token.h), roles (roles.h) and the join's verdict (join_auth.h). */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "check.h"
#include "join_auth.h"
#include "room_tree_file.h"
#include "token.h"
#include "token_forge.h"

#define NOW 1800000000

static const uint8_t secret[] = "0123456789abcdef0123456789abcdef-test";

static dc_token_claims base_claims(void)
{
    dc_token_claims c = {0};
    strcpy(c.sub, "site-042");
    strcpy(c.name, "UBND xã Tân Lập");
    strcpy(c.site, "Tân Lập");
    strcpy(c.room, "Họp tỉnh");
    c.role = DC_ROLE_DELEGATE;
    c.grants = dc_role_default_grants(c.role);
    c.exp = NOW + 3600;
    return c;
}

static dc_token_status verify(const char *token, dc_token_claims *out)
{
    char msg[200];
    return dc_token_verify(token, strlen(token), secret, sizeof secret - 1, NOW, out, msg, sizeof msg);
}

/* A token with this header and these claims, signed with the test secret. */
static dc_token_status verify_raw(const char *header_json, const char *claims_json, dc_token_claims *out)
{
    static char token[4096];
    token_forge(header_json, strlen(header_json), claims_json, strlen(claims_json), secret, sizeof secret - 1, token);
    return verify(token, out);
}

#define GOOD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_CLAIMS "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}"

/* Subtree-scoped tokens (issue 13): the scope claim, and what it admits to and allows in
 * the built-in tree (configs/rooms.json). */
static void test_scope(void)
{
    char msg[200];
    dc_token_claims c, out;
    CHECK(dc_token_claims_from_text(&c, NULL, NULL, "huyen-a", "Chủ tịch huyện A", NULL, "chair", "ct-a", msg,
                                    sizeof msg));
    c.exp = NOW + 3600;
    char *tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(verify(tok, &out) == DC_TOKEN_OK && !strcmp(out.scope, "huyen-a") && !out.room[0] && !out.room_prefix[0]);
    CHECK(!dc_token_admits(&out, "huyen-a")); /* the scope admits through the tree only */
    CHECK(!dc_token_claims_from_text(&c, NULL, NULL, "huyện-a", "A", NULL, "chair", NULL, msg, sizeof msg) &&
          strstr(msg, "scope"));
    CHECK(verify_raw(GOOD_HEADER, "{\"name\":\"A\",\"scope\":\"a b\",\"role\":\"chair\",\"exp\":1900000000}", &out) ==
          DC_TOKEN_MALFORMED);
    CHECK(verify_raw(GOOD_HEADER, "{\"name\":\"A\",\"scope\":7,\"role\":\"chair\",\"exp\":1900000000}", &out) ==
          DC_TOKEN_MALFORMED);
    CHECK(verify_raw(GOOD_HEADER,
                     "{\"name\":\"A\",\"room\":\"tinh\",\"scope\":\"huyen-a\",\"role\":\"chair\",\"exp\":1900000000}",
                     &out) == DC_TOKEN_OK &&
          !strcmp(out.room, "tinh") && !strcmp(out.scope, "huyen-a"));

    char err[256];
    dc_room_tree *tree = dc_room_tree_load("", err, sizeof err);
    CHECK(tree != NULL);
    /* inside its scope: the district's room, its communes, its reception point, as chair */
    static const char *const inside[] = {"huyen-a", "xa-a1", "xa-a4", "tiep-dan-huyen-a"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, inside[i], tree, NOW, &out, msg, sizeof msg) == DC_OK &&
              out.role == DC_ROLE_CHAIR && (out.grants & DC_GRANT_MODERATE));
    }
    /* another district, its communes, the province, an ad-hoc room, no tree: not admitted */
    static const char *const outside[] = {"huyen-b", "xa-b1", "tinh", "Phòng họp"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, outside[i], tree, NOW, &out, msg, sizeof msg) ==
              DC_ERR_WRONG_ROOM);
    }
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "xa-a1", NULL, NOW, &out, msg, sizeof msg) ==
          DC_ERR_WRONG_ROOM);
    free(tok);
    /* with a room outside its scope too (the district chair attending the province meeting):
     * admitted there, as a delegate without moderate */
    CHECK(dc_token_claims_from_text(&c, "tinh", NULL, "huyen-a", "Chủ tịch huyện A", NULL, "chair", "ct-a", msg,
                                    sizeof msg));
    c.exp = NOW + 3600;
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "tinh", tree, NOW, &out, msg, sizeof msg) == DC_OK &&
          out.role == DC_ROLE_DELEGATE && out.grants == dc_role_default_grants(DC_ROLE_DELEGATE));
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "xa-a2", tree, NOW, &out, msg, sizeof msg) == DC_OK &&
          out.role == DC_ROLE_CHAIR);
    free(tok);
    /* an official keeps its role outside the scope; nobody keeps moderate there */
    c.role = DC_ROLE_OFFICIAL;
    c.grants = DC_GRANTS_ALL;
    dc_join_apply_scope(tree, "tinh", &c);
    CHECK(c.role == DC_ROLE_OFFICIAL && c.grants == (DC_GRANTS_ALL & ~DC_GRANT_MODERATE));
    c.role = DC_ROLE_CHAIR;
    c.scope[0] = '\0'; /* unscoped tokens: unchanged anywhere */
    c.grants = DC_GRANTS_ALL;
    dc_join_apply_scope(tree, "tinh", &c);
    CHECK(c.role == DC_ROLE_CHAIR && c.grants == DC_GRANTS_ALL);
    dc_room_tree_free(tree);
}

int main(void)
{
    /* RFC 7515 appendix A.1: the HS256 example's key and signature. The claims are not
     * ours (no name, room, role), so the verdict is "malformed", which is only reached
     * after the signature matched; one changed signature character makes it bad. */
    static const char rfc_token[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static const uint8_t rfc_key[] = {3,   35,  53, 75,  43,  15, 165, 188, 131, 126, 6,   101, 119, 123, 166, 143,
                                      90,  179, 40, 230, 240, 84, 201, 40,  169, 15,  132, 178, 210, 80,  46,  191,
                                      211, 251, 90, 146, 210, 6,  71,  239, 150, 138, 180, 195, 119, 98,  61,  34,
                                      61,  46,  33, 114, 5,   46, 79,  8,   192, 205, 154, 245, 103, 208, 128, 163};
    dc_token_claims out;
    char msg[200];
    CHECK(dc_token_verify(rfc_token, strlen(rfc_token), rfc_key, sizeof rfc_key, NOW, &out, msg, sizeof msg) ==
          DC_TOKEN_MALFORMED);
    char rfc_bad[sizeof rfc_token];
    memcpy(rfc_bad, rfc_token, sizeof rfc_token);
    rfc_bad[sizeof rfc_token - 3] = rfc_bad[sizeof rfc_token - 3] == 'X' ? 'Y' : 'X';
    CHECK(dc_token_verify(rfc_bad, strlen(rfc_bad), rfc_key, sizeof rfc_key, NOW, &out, msg, sizeof msg) ==
          DC_TOKEN_BAD_SIGNATURE);

    /* Round trip. */
    dc_token_claims c = base_claims();
    char *tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(tok && verify(tok, &out) == DC_TOKEN_OK);
    CHECK(!strcmp(out.sub, c.sub) && !strcmp(out.name, c.name) && !strcmp(out.site, c.site));
    CHECK(!strcmp(out.room, c.room) && !out.room_prefix[0] && out.role == DC_ROLE_DELEGATE);
    CHECK(out.grants == (DC_GRANT_PUBLISH | DC_GRANT_SUBSCRIBE) && out.exp == c.exp && out.nbf == 0);
    /* Another secret, or any flipped signature byte. */
    CHECK(dc_token_verify(tok, strlen(tok), (const uint8_t *)"another secret", 14, NOW, &out, msg, sizeof msg) ==
          DC_TOKEN_BAD_SIGNATURE);
    size_t len = strlen(tok);
    for (size_t i = strrchr(tok, '.') - tok + 1; i < len; i++) {
        char saved = tok[i];
        tok[i] = saved == 'A' ? 'B' : 'A';
        CHECK(verify(tok, &out) != DC_TOKEN_OK);
        tok[i] = saved;
    }
    CHECK(verify(tok, &out) == DC_TOKEN_OK);
    /* Truncated, extra part, padding, empty. */
    tok[len - 1] = '\0';
    CHECK(verify(tok, &out) != DC_TOKEN_OK);
    free(tok);
    CHECK(verify("", &out) == DC_TOKEN_MALFORMED);
    CHECK(verify("a.b", &out) == DC_TOKEN_MALFORMED);
    CHECK(verify("a.b.c.d", &out) == DC_TOKEN_MALFORMED);

    /* Algorithms other than HS256 are refused, even with a valid HS256 signature. */
    CHECK(verify_raw(GOOD_HEADER, GOOD_CLAIMS, &out) == DC_TOKEN_OK);
    CHECK(verify_raw("{\"alg\":\"HS256\"}", GOOD_CLAIMS, &out) == DC_TOKEN_OK);
    CHECK(verify_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_CLAIMS, &out) == DC_TOKEN_BAD_ALG);
    CHECK(verify_raw("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD_CLAIMS, &out) == DC_TOKEN_BAD_ALG);
    CHECK(verify_raw("{\"typ\":\"JWT\"}", GOOD_CLAIMS, &out) == DC_TOKEN_BAD_ALG);
    CHECK(verify_raw("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", GOOD_CLAIMS, &out) == DC_TOKEN_MALFORMED);
    CHECK(verify_raw("[1]", GOOD_CLAIMS, &out) == DC_TOKEN_MALFORMED);
    /* An unsigned token ("alg":"none", empty signature) is not one either. */
    char unsigned_token[512] = "";
    token_forge_b64url("{\"alg\":\"none\"}", strlen("{\"alg\":\"none\"}"), unsigned_token);
    strcat(unsigned_token, ".");
    token_forge_b64url(GOOD_CLAIMS, strlen(GOOD_CLAIMS), unsigned_token);
    strcat(unsigned_token, ".");
    CHECK(verify(unsigned_token, &out) == DC_TOKEN_BAD_ALG);

    /* Expiry and nbf, with the leeway for clock skew. */
    struct {
        int64_t nbf, exp;
        dc_token_status want;
    } times[] = {
        {0, NOW - DC_TOKEN_LEEWAY_SECONDS + 1, DC_TOKEN_OK},
        {0, NOW - DC_TOKEN_LEEWAY_SECONDS, DC_TOKEN_EXPIRED},
        {0, NOW - 3600, DC_TOKEN_EXPIRED},
        {NOW + DC_TOKEN_LEEWAY_SECONDS, NOW + 3600, DC_TOKEN_OK},
        {NOW + DC_TOKEN_LEEWAY_SECONDS + 1, NOW + 3600, DC_TOKEN_NOT_YET_VALID},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        c = base_claims();
        c.nbf = times[i].nbf, c.exp = times[i].exp;
        tok = dc_token_sign(&c, secret, sizeof secret - 1);
        CHECK(verify(tok, &out) == times[i].want);
        free(tok);
    }

    /* Room or room prefix; rooms compare after NFC ("ọ" precomposed vs o + dot below). */
    c = base_claims();
    CHECK(dc_token_admits(&c, "Họp tỉnh") && !dc_token_admits(&c, "Họp tỉnh 2") && !dc_token_admits(&c, "Họp"));
    strcpy(c.room, "Ho\xcc\xa3p tỉnh");
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(verify(tok, &out) == DC_TOKEN_OK && !strcmp(out.room, "Họp tỉnh"));
    free(tok);
    c.room[0] = '\0';
    strcpy(c.room_prefix, "Huyện A/");
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(verify(tok, &out) == DC_TOKEN_OK && !out.room[0] && !strcmp(out.room_prefix, "Huyện A/"));
    CHECK(dc_token_admits(&out, "Huyện A/xã 1") && !dc_token_admits(&out, "Huyện B/xã 1"));
    free(tok);

    /* Grants: absent = the role's defaults; present = exactly those. */
    c = base_claims();
    c.role = DC_ROLE_OBSERVER;
    c.grants = DC_GRANT_SUBSCRIBE | DC_GRANT_SPEAK;
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(verify(tok, &out) == DC_TOKEN_OK && out.role == DC_ROLE_OBSERVER &&
          out.grants == (DC_GRANT_SUBSCRIBE | DC_GRANT_SPEAK));
    free(tok);
    c.role = DC_ROLE_CHAIR;
    c.grants = dc_role_default_grants(DC_ROLE_CHAIR);
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(verify(tok, &out) == DC_TOKEN_OK && out.grants == DC_GRANTS_ALL);
    free(tok);

    /* Claims that break the rules of join's room and name, or ours. */
    static const char *const bad_claims[] = {
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\"}",                           /* no exp */
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"king\",\"exp\":1900000000}",         /* unknown role */
        "{\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}",                       /* no name */
        "{\"name\":\"A\\u0007\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}", /* control char */
        "{\"name\":\"A\",\"role\":\"chair\",\"exp\":1900000000}",                       /* no room */
        "{\"name\":\"A\",\"room\":\"r\",\"room_prefix\":\"r\",\"role\":\"chair\",\"exp\":1900000000}",
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":\"soon\"}",
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000,\"grants\":[\"fly\"]}",
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000,\"grants\":\"speak\"}",
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000,\"sub\":\"\"}",
        "{\"name\":\"A\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000,\"name\":\"B\"}", /* duplicate */
        "[\"name\"]",
    };
    for (size_t i = 0; i < sizeof bad_claims / sizeof bad_claims[0]; i++) {
        CHECK(verify_raw(GOOD_HEADER, bad_claims[i], &out) == DC_TOKEN_MALFORMED);
    }
    char long_name[600];
    snprintf(long_name, sizeof long_name, "{\"name\":\"%065d\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}",
             7);
    CHECK(verify_raw(GOOD_HEADER, long_name, &out) == DC_TOKEN_MALFORMED);
    snprintf(long_name, sizeof long_name, "{\"name\":\"%064d\",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}",
             7);
    CHECK(verify_raw(GOOD_HEADER, long_name, &out) == DC_TOKEN_OK);
    /* The display name is trimmed like join's. */
    CHECK(verify_raw(GOOD_HEADER, "{\"name\":\"  Chủ tọa \",\"room\":\"r\",\"role\":\"chair\",\"exp\":1900000000}",
                     &out) == DC_TOKEN_OK &&
          !strcmp(out.name, "Chủ tọa"));

    /* Roles and grants by name. */
    dc_role role;
    CHECK(dc_role_parse("official", &role) && role == DC_ROLE_OFFICIAL && !dc_role_parse("Chair", &role));
    CHECK(!strcmp(dc_role_name(DC_ROLE_OBSERVER), "observer"));
    dc_grants g;
    CHECK(dc_grant_parse("share_screen", &g) && g == DC_GRANT_SHARE_SCREEN && !dc_grant_parse("all", &g));
    CHECK(!strcmp(dc_grant_name(DC_GRANT_MODERATE), "moderate") && dc_grant_name(3) == NULL);
    CHECK(dc_role_default_grants(DC_ROLE_OFFICIAL) == (DC_GRANTS_ALL & ~DC_GRANT_MODERATE));
    CHECK(dc_role_default_grants(DC_ROLE_OBSERVER) == DC_GRANT_SUBSCRIBE);

    /* Claims from typed text (the token command, /api/dev-token). */
    CHECK(dc_token_claims_from_text(&c, " Ho\xcc\xa3p ", NULL, NULL, " A ", NULL, "delegate", NULL, msg, sizeof msg));
    CHECK(!strcmp(c.room, "Họp") && !strcmp(c.name, "A") && !c.site[0] && c.role == DC_ROLE_DELEGATE);
    CHECK(c.grants == dc_role_default_grants(DC_ROLE_DELEGATE) && !strncmp(c.sub, "id-", 3) && strlen(c.sub) == 19);
    dc_token_claims c2;
    CHECK(dc_token_claims_from_text(&c2, NULL, "Huyện", NULL, "A", "Xã", "chair", "site-1", msg, sizeof msg));
    CHECK(!c2.room[0] && !strcmp(c2.room_prefix, "Huyện") && !strcmp(c2.sub, "site-1") && !strcmp(c2.site, "Xã"));
    CHECK(dc_token_claims_from_text(&c2, "r", NULL, NULL, "A", NULL, "official", NULL, msg, sizeof msg) &&
          strcmp(c.sub, c2.sub)); /* a fresh random sub each time */
    CHECK(!dc_token_claims_from_text(&c2, "r", "r", NULL, "A", NULL, "chair", NULL, msg, sizeof msg) && msg[0]);
    CHECK(!dc_token_claims_from_text(&c2, NULL, NULL, NULL, "A", NULL, "chair", NULL, msg, sizeof msg));
    CHECK(!dc_token_claims_from_text(&c2, "r", NULL, NULL, NULL, NULL, "chair", NULL, msg, sizeof msg));
    CHECK(!dc_token_claims_from_text(&c2, "r", NULL, NULL, "A", NULL, "boss", NULL, msg, sizeof msg));
    CHECK(!dc_token_claims_from_text(&c2, "r", NULL, NULL, "A\x01", NULL, "chair", NULL, msg, sizeof msg));
    CHECK(!dc_token_claims_from_text(&c2, "r", NULL, NULL, "A", "", "chair", NULL, msg, sizeof msg));
    CHECK(!dc_token_claims_from_text(&c2, "r", NULL, NULL, "A", NULL, "chair", "", msg, sizeof msg));

    /* The join's verdict as protocol error codes. */
    c = base_claims();
    tok = dc_token_sign(&c, secret, sizeof secret - 1);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "Họp tỉnh", NULL, NOW, &out, msg, sizeof msg) == DC_OK);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "Phòng khác", NULL, NOW, &out, msg, sizeof msg) ==
          DC_ERR_WRONG_ROOM);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, tok, "Họp tỉnh", NULL, c.exp + 3600, &out, msg, sizeof msg) ==
          DC_ERR_TOKEN_EXPIRED);
    CHECK(dc_join_authorize(secret, sizeof secret - 2, tok, "Họp tỉnh", NULL, NOW, &out, msg, sizeof msg) ==
          DC_ERR_UNAUTHORIZED);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, NULL, "Họp tỉnh", NULL, NOW, &out, msg, sizeof msg) ==
              DC_ERR_UNAUTHORIZED &&
          msg[0]);
    CHECK(dc_join_authorize(secret, sizeof secret - 1, "garbage", "Họp tỉnh", NULL, NOW, &out, msg, sizeof msg) ==
          DC_ERR_UNAUTHORIZED);
    free(tok);
    CHECK(!strcmp(dc_error_code_name(DC_ERR_TOKEN_EXPIRED), "token_expired"));
    CHECK(!strcmp(dc_error_code_name(DC_ERR_MEETING_ENDED), "meeting_ended"));
    CHECK(!strcmp(dc_error_code_name(DC_ERR_NO_SUCH_ROOM), "no_such_room"));
    test_scope();
    return CHECK_RESULT();
}
