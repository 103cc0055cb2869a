/* Chat rules of the meeting: what a message may contain, and how many a participant may
 * send (PROTOCOL.md, `chat`). Pure. */
#ifndef DC_CHAT_H
#define DC_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_CHAT_MAX_CHARS 1000
#define DC_CHAT_LIMIT_MESSAGES 5
#define DC_CHAT_LIMIT_WINDOW_MS 10000

/* NULL when text (valid UTF-8, jansson checked it) is 1–DC_CHAT_MAX_CHARS code points
 * after trimming, with no control character but newlines; else why not (in msg). */
const char *dc_chat_text_check(const char *text, size_t len, char *msg, size_t msg_len);

/* A sliding window: at most DC_CHAT_LIMIT_MESSAGES messages in any DC_CHAT_LIMIT_WINDOW_MS. */
typedef struct {
    int64_t sent_ms[DC_CHAT_LIMIT_MESSAGES]; /* the last messages' times, a ring */
    unsigned next;
} dc_chat_limiter;
/* Counts the message and returns true when it is within the limit. */
bool dc_chat_limiter_allow(dc_chat_limiter *l, int64_t now_ms);

#endif
