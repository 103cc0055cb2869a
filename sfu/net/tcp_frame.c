/* RFC 4571 framing (tcp_frame.h). */
#include "net/tcp_frame.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(SFU_TCP_RX_BUF >= 2 * (SFU_TCP_FRAME_MAX + 2), "a read buffer holds a frame and the next one's start");

void sfu_tcp_reader_init(sfu_tcp_reader *r) { r->start = r->end = 0; }

uint8_t *sfu_tcp_reader_space(sfu_tcp_reader *r, size_t *room)
{
    if (r->start > 0) { /* at most one partial frame is left: a short move */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    *room = sizeof r->buf - r->end;
    return r->buf + r->end;
}

void sfu_tcp_reader_wrote(sfu_tcp_reader *r, size_t n)
{
    size_t room = sizeof r->buf - r->end;
    r->end += n < room ? n : room;
}

sfu_tcp_frame_result sfu_tcp_reader_next(sfu_tcp_reader *r, const uint8_t **frame, size_t *len)
{
    size_t have = r->end - r->start;
    if (have < 2) return SFU_TCP_FRAME_NONE;
    const uint8_t *p = r->buf + r->start;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n > SFU_TCP_FRAME_MAX) return SFU_TCP_FRAME_BAD; /* judged from the header alone */
    if (have < 2 + n) return SFU_TCP_FRAME_NONE;
    r->start += 2 + n;
    if (n == 0) return SFU_TCP_FRAME_EMPTY;
    *frame = p + 2;
    *len = n;
    return SFU_TCP_FRAME_READY;
}

bool sfu_tcp_writer_init(sfu_tcp_writer *w)
{
    w->start = w->end = 0;
    w->buf = malloc(SFU_TCP_TX_BUF);
    return w->buf != NULL;
}

void sfu_tcp_writer_free(sfu_tcp_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->start = w->end = 0;
}

bool sfu_tcp_writer_put(sfu_tcp_writer *w, const uint8_t *data, size_t len)
{
    if (len == 0 || len > SFU_TCP_FRAME_MAX) return false;
    if (w->end + 2 + len > SFU_TCP_TX_BUF && w->start > 0) { /* make room: move what is left */
        memmove(w->buf, w->buf + w->start, w->end - w->start);
        w->end -= w->start;
        w->start = 0;
    }
    if (w->end + 2 + len > SFU_TCP_TX_BUF) return false; /* full: the whole packet is dropped */
    w->buf[w->end] = (uint8_t)(len >> 8);
    w->buf[w->end + 1] = (uint8_t)len;
    memcpy(w->buf + w->end + 2, data, len);
    w->end += 2 + len;
    return true;
}

void sfu_tcp_writer_sent(sfu_tcp_writer *w, size_t n)
{
    size_t pending = w->end - w->start;
    w->start += n < pending ? n : pending;
    if (w->start == w->end) w->start = w->end = 0;
}
