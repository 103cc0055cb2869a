/* RFC 4571 framing (sfu/net/tcp_frame.h): frames split over reads, many frames in one
 * read, zero-length frames, a frame longer than the limit, and the writer's bound (whole
 * packets refused when full, never split; room made again as the socket takes bytes). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/tcp_frame.h"

static size_t put_frame(uint8_t *at, const uint8_t *data, size_t len)
{
    at[0] = (uint8_t)(len >> 8), at[1] = (uint8_t)len;
    if (len) memcpy(at + 2, data, len); /* (data may be NULL for an empty frame) */
    return 2 + len;
}

/* Feeds `stream` to the reader in reads of `chunk` bytes; copies the frames out in order
 * into frames[] (lengths in lens[]); returns the count, or -1 at a bad frame. */
static int read_all(sfu_tcp_reader *r, const uint8_t *stream, size_t n, size_t chunk, uint8_t frames[][1600],
                    size_t *lens, int max, int *empties)
{
    int count = 0;
    size_t fed = 0;
    while (fed < n) {
        size_t room;
        uint8_t *at = sfu_tcp_reader_space(r, &room);
        size_t k = chunk < room ? chunk : room;
        if (k > n - fed) k = n - fed;
        memcpy(at, stream + fed, k);
        sfu_tcp_reader_wrote(r, k);
        fed += k;
        for (;;) {
            const uint8_t *f;
            size_t len;
            sfu_tcp_frame_result res = sfu_tcp_reader_next(r, &f, &len);
            if (res == SFU_TCP_FRAME_NONE) break;
            if (res == SFU_TCP_FRAME_BAD) return -1;
            if (res == SFU_TCP_FRAME_EMPTY) {
                (*empties)++;
                continue;
            }
            if (count < max) {
                memcpy(frames[count], f, len);
                lens[count] = len;
            }
            count++;
        }
    }
    return count;
}

static uint8_t stream[64 * 1024];
static uint8_t frames[64][1600];
static size_t lens[64];

static void test_reads_of_any_size(void)
{
    /* 40 frames of 1 … 1500 bytes, each byte telling its frame and place */
    size_t n = 0, sizes[40];
    uint8_t pkt[1500];
    for (int i = 0; i < 40; i++) {
        sizes[i] = i == 39 ? SFU_TCP_FRAME_MAX : 1 + (size_t)(i * 37 % 1499);
        for (size_t k = 0; k < sizes[i]; k++) pkt[k] = (uint8_t)(i * 7 + k);
        n += put_frame(stream + n, pkt, sizes[i]);
    }
    /* one byte a read (a length split in two), odd sizes, exactly a frame, many frames a read */
    const size_t chunks[] = {1, 2, 3, 777, 1502, 4096, SFU_TCP_RX_BUF};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        sfu_tcp_reader r;
        sfu_tcp_reader_init(&r);
        int empties = 0;
        int got = read_all(&r, stream, n, chunks[c], frames, lens, 64, &empties);
        CHECK(got == 40);
        bool same = got == 40;
        for (int i = 0; same && i < 40; i++) {
            same = lens[i] == sizes[i];
            for (size_t k = 0; same && k < sizes[i]; k++) same = frames[i][k] == (uint8_t)(i * 7 + k);
        }
        CHECK(same);
        CHECK(empties == 0);
    }
}

static void test_partial_frame_waits(void)
{
    uint8_t pkt[300];
    memset(pkt, 0xab, sizeof pkt);
    size_t n = put_frame(stream, pkt, sizeof pkt);
    sfu_tcp_reader r;
    sfu_tcp_reader_init(&r);
    int empties = 0;
    CHECK(read_all(&r, stream, 1, 1, frames, lens, 64, &empties) == 0);           /* half a length */
    CHECK(read_all(&r, stream + 1, n - 2, 100, frames, lens, 64, &empties) == 0); /* all but one byte */
    CHECK(read_all(&r, stream + n - 1, 1, 1, frames, lens, 64, &empties) == 1);
    CHECK(lens[0] == sizeof pkt && frames[0][299] == 0xab);
}

static void test_zero_length_is_skipped(void)
{
    uint8_t one = 0x42;
    size_t n = put_frame(stream, NULL, 0);
    n += put_frame(stream + n, &one, 1);
    n += put_frame(stream + n, NULL, 0);
    sfu_tcp_reader r;
    sfu_tcp_reader_init(&r);
    int empties = 0;
    CHECK(read_all(&r, stream, n, 64, frames, lens, 64, &empties) == 1);
    CHECK(empties == 2);
    CHECK(lens[0] == 1 && frames[0][0] == 0x42);
}

static void test_oversize_is_bad_at_once(void)
{
    /* judged from the two length bytes: the connection is closed without waiting for them */
    uint8_t head[2] = {(SFU_TCP_FRAME_MAX + 1) >> 8, (SFU_TCP_FRAME_MAX + 1) & 0xff};
    sfu_tcp_reader r;
    sfu_tcp_reader_init(&r);
    int empties = 0;
    CHECK(read_all(&r, head, 2, 2, frames, lens, 64, &empties) == -1);
    uint8_t ff[2] = {0xff, 0xff};
    sfu_tcp_reader_init(&r);
    CHECK(read_all(&r, ff, 2, 1, frames, lens, 64, &empties) == -1);
}

static void test_writer_bound(void)
{
    sfu_tcp_writer w;
    CHECK(sfu_tcp_writer_init(&w));
    uint8_t pkt[1200];
    memset(pkt, 7, sizeof pkt);
    CHECK(!sfu_tcp_writer_put(&w, pkt, 0));                     /* nothing to frame */
    CHECK(!sfu_tcp_writer_put(&w, pkt, SFU_TCP_FRAME_MAX + 1)); /* too long */
    size_t fitted = 0;
    while (sfu_tcp_writer_put(&w, pkt, sizeof pkt)) fitted++;
    CHECK(fitted == SFU_TCP_TX_BUF / (2 + sizeof pkt));
    CHECK(sfu_tcp_writer_pending(&w) == fitted * (2 + sizeof pkt)); /* whole frames only */
    /* the socket takes part of the first frame: the rest of it stays in front */
    sfu_tcp_writer_sent(&w, 100);
    CHECK(sfu_tcp_writer_pending(&w) == fitted * (2 + sizeof pkt) - 100);
    CHECK(!sfu_tcp_writer_put(&w, pkt, sizeof pkt)); /* still no room for a whole one */
    sfu_tcp_writer_sent(&w, 2 * (2 + sizeof pkt));
    CHECK(sfu_tcp_writer_put(&w, pkt, sizeof pkt)); /* room made by moving what is left */
    const uint8_t *d = sfu_tcp_writer_data(&w);
    CHECK(d[0] == 7); /* the middle of a frame that was being sent, in order */
    sfu_tcp_writer_sent(&w, sfu_tcp_writer_pending(&w));
    CHECK(sfu_tcp_writer_pending(&w) == 0);
    sfu_tcp_writer_free(&w);
}

int main(void)
{
    test_reads_of_any_size();
    test_partial_frame_waits();
    test_zero_length_is_skipped();
    test_oversize_is_bad_at_once();
    test_writer_bound();
    return CHECK_RESULT();
}
