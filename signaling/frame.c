/* See frame.h. */
#include "frame.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

struct dc_frame {
    unsigned refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE, then the text and a NUL */
};

dc_frame *dc_frame_new(const char *text, size_t len)
{
    dc_frame *f = malloc(sizeof *f + LWS_PRE + len + 1);
    if (!f) return NULL;
    f->refs = 1;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    f->buf[LWS_PRE + len] = 0;
    return f;
}

dc_frame *dc_frame_ref(dc_frame *f)
{
    f->refs++;
    return f;
}

void dc_frame_unref(dc_frame *f)
{
    if (f && --f->refs == 0) free(f);
}

size_t dc_frame_len(const dc_frame *f) { return f->len; }
unsigned char *dc_frame_payload(dc_frame *f) { return f->buf + LWS_PRE; }
