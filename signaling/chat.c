/* See chat.h. */
#include "chat.h"

#include <stdio.h>

static bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const char *dc_chat_text_check(const char *text, size_t len, char *msg, size_t msg_len)
{
    while (len && is_space((unsigned char)text[0])) text++, len--;
    while (len && is_space((unsigned char)text[len - 1])) len--;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bool control = (c < 0x20 && c != '\n') || c == 0x7f ||
                       (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] <= 0x9F); /* C1 */
        if (control) {
            snprintf(msg, msg_len, "a chat message must not contain control characters");
            return msg;
        }
        if ((c & 0xC0) != 0x80) chars++;
    }
    if (chars < 1 || chars > DC_CHAT_MAX_CHARS) {
        snprintf(msg, msg_len, "a chat message must be 1 to %d characters", DC_CHAT_MAX_CHARS);
        return msg;
    }
    return NULL;
}

bool dc_chat_limiter_allow(dc_chat_limiter *l, int64_t now_ms)
{
    /* the oldest of the last DC_CHAT_LIMIT_MESSAGES must have left the window (0: never sent) */
    int64_t oldest = l->sent_ms[l->next];
    if (oldest && now_ms - oldest < DC_CHAT_LIMIT_WINDOW_MS) return false;
    l->sent_ms[l->next] = now_ms ? now_ms : 1;
    l->next = (l->next + 1) % DC_CHAT_LIMIT_MESSAGES;
    return true;
}
