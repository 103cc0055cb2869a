/* Chat rules (signaling/chat.c): what a message may contain and the sliding-window limit. */
#include <string.h>

#include "chat.h"
#include "check.h"

static bool text_ok(const char *text)
{
    char msg[128];
    return dc_chat_text_check(text, strlen(text), msg, sizeof msg) == NULL;
}

static void test_text_rules(void)
{
    CHECK(text_ok("Xin chào các đồng chí"));
    CHECK(text_ok("dòng một\ndòng hai"));          /* newlines are allowed inside */
    CHECK(text_ok("  có khoảng trắng quanh  \n")); /* trimmed, not refused */
    CHECK(!text_ok(""));
    CHECK(!text_ok(" \n\t "));      /* nothing left after trimming */
    CHECK(!text_ok("tab\tinside")); /* a control character */
    CHECK(!text_ok("bell\x07"));
    CHECK(!text_ok("del\x7f"));
    CHECK(!text_ok("c1 \xc2\x85 next line")); /* U+0085, a C1 control */
    CHECK(text_ok("nbsp\xc2\xa0ok"));         /* U+00A0 is not a control */
    /* the limit counts code points, not bytes: 1000 three-byte characters pass, 1001 do not */
    char big[3 * 1001 + 1];
    for (int i = 0; i < 1001; i++) memcpy(big + 3 * i, "\xe1\xbb\x87", 3); /* ệ */
    big[3 * 1000] = '\0';
    CHECK(text_ok(big));
    big[3 * 1001] = '\0';
    memcpy(big + 3 * 1000, "\xe1\xbb\x87", 3);
    CHECK(!text_ok(big));
    char msg[128];
    CHECK(dc_chat_text_check("\x01", 1, msg, sizeof msg) == msg && strstr(msg, "control"));
}

static void test_limiter_window(void)
{
    dc_chat_limiter l;
    memset(&l, 0, sizeof l);
    for (int i = 0; i < DC_CHAT_LIMIT_MESSAGES; i++) CHECK(dc_chat_limiter_allow(&l, 1000 + i));
    CHECK(!dc_chat_limiter_allow(&l, 1005));                               /* the 6th within 10 s */
    CHECK(!dc_chat_limiter_allow(&l, 1000 + DC_CHAT_LIMIT_WINDOW_MS - 1)); /* refusals are not counted */
    CHECK(dc_chat_limiter_allow(&l, 1000 + DC_CHAT_LIMIT_WINDOW_MS));      /* the first left the window */
    CHECK(!dc_chat_limiter_allow(&l, 1000 + DC_CHAT_LIMIT_WINDOW_MS));
    CHECK(dc_chat_limiter_allow(&l, 1001 + DC_CHAT_LIMIT_WINDOW_MS)); /* the second left */
    /* a clock starting at 0 still counts the message (0 means "never sent" in the ring) */
    dc_chat_limiter z;
    memset(&z, 0, sizeof z);
    for (int i = 0; i < DC_CHAT_LIMIT_MESSAGES; i++) CHECK(dc_chat_limiter_allow(&z, 0));
    CHECK(!dc_chat_limiter_allow(&z, 0));
}

int main(void)
{
    test_text_rules();
    test_limiter_window();
    return CHECK_RESULT();
}
