/* Fuzz target for the RFC 4571 reader and writer (sfu/net/tcp_frame.h).
 *
 * The input is a TCP byte stream. It is fed to the reader in reads of sizes taken from
 * the stream's own bytes (so splits fall anywhere: inside a length, between frames, many
 * frames in one read), and what the reader gives must equal a plain reference parse of
 * the whole stream: the same frames in order, zero-length ones skipped, and a frame longer
 * than the limit reported as bad exactly where it starts. Every frame then goes through a
 * writer, whose bytes must be the stream's frames again (a writer that never splits). */
#include "net/tcp_frame.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 4096

typedef struct {
    size_t at, len;
} ref_frame;

/* Reference: frames of the whole stream up to its end or the first bad frame. */
static size_t reference(const uint8_t *d, size_t n, ref_frame *out, bool *bad)
{
    size_t count = 0, at = 0;
    *bad = false;
    while (n - at >= 2 && count < MAX_FRAMES) {
        size_t len = (size_t)d[at] << 8 | d[at + 1];
        if (len > SFU_TCP_FRAME_MAX) {
            *bad = true;
            break;
        }
        if (n - at - 2 < len) break;
        if (len) out[count++] = (ref_frame){at + 2, len};
        at += 2 + len;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ref_frame want[MAX_FRAMES];
    static sfu_tcp_reader r;
    static sfu_tcp_writer w;
    if (!w.buf && !sfu_tcp_writer_init(&w)) abort();
    bool want_bad;
    size_t n_want = reference(data, size, want, &want_bad);

    sfu_tcp_reader_init(&r);
    w.start = w.end = 0;
    size_t fed = 0, got = 0, written = 0;
    bool bad = false;
    unsigned split = size ? data[0] : 1;
    while (!bad && got < MAX_FRAMES) {
        size_t room;
        uint8_t *at = sfu_tcp_reader_space(&r, &room);
        size_t chunk = 1 + (split = split * 1103515245u + 12345u) % 3000; /* 1 … 3000 bytes */
        if (chunk > room) chunk = room;
        if (chunk > size - fed) chunk = size - fed;
        if (room == 0) abort(); /* a reader with no room could never finish a frame */
        memcpy(at, data + fed, chunk);
        sfu_tcp_reader_wrote(&r, chunk);
        fed += chunk;
        for (;;) {
            const uint8_t *frame;
            size_t len;
            sfu_tcp_frame_result res = sfu_tcp_reader_next(&r, &frame, &len);
            if (res == SFU_TCP_FRAME_NONE || res == SFU_TCP_FRAME_EMPTY) {
                if (res == SFU_TCP_FRAME_NONE) break;
                continue;
            }
            if (res == SFU_TCP_FRAME_BAD) {
                bad = true;
                break;
            }
            if (got >= n_want || len != want[got].len || memcmp(frame, data + want[got].at, len) != 0) abort();
            got++;
            /* the writer: whole frames or nothing, and the bytes as they were on the wire */
            if (sfu_tcp_writer_put(&w, frame, len)) {
                const uint8_t *out = sfu_tcp_writer_data(&w) + sfu_tcp_writer_pending(&w) - len - 2;
                if (((size_t)out[0] << 8 | out[1]) != len || memcmp(out + 2, frame, len) != 0) abort();
                written++;
            } else if (sfu_tcp_writer_pending(&w) + 2 + len <= SFU_TCP_TX_BUF) {
                abort(); /* refused although it fitted */
            }
            if (written % 7 == 0) sfu_tcp_writer_sent(&w, sfu_tcp_writer_pending(&w) / 2); /* a partial send */
        }
        if (fed == size) break;
    }
    if (got < MAX_FRAMES && (got != n_want || bad != want_bad)) abort();
    return 0;
}
