/* RFC 4571 framing of packets on a TCP stream (ICE-TCP, RFC 6544): each packet is sent
 * as a 2-byte big-endian length and that many bytes.
 *
 * The reader reassembles frames from reads of any size (a frame split over reads, many
 * frames in one read) in a fixed buffer; a frame longer than the largest packet we accept
 * is an error, and the connection that sent it is to be closed. The writer appends whole
 * frames to a bounded buffer and never splits one: a frame that does not fit is refused.
 * Bytes only, no sockets. */
#ifndef SFU_NET_TCP_FRAME_H
#define SFU_NET_TCP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFU_TCP_FRAME_MAX 1500      /* largest packet carried (= SFU_PKT_MAX) */
#define SFU_TCP_RX_BUF (8 * 1024)   /* read buffer per connection */
#define SFU_TCP_TX_BUF (256 * 1024) /* queued output per connection (~1 s of video) */

typedef struct {
    uint8_t buf[SFU_TCP_RX_BUF];
    size_t start, end; /* unparsed bytes are buf[start, end) */
} sfu_tcp_reader;

typedef enum {
    SFU_TCP_FRAME_NONE,  /* no complete frame yet: read more */
    SFU_TCP_FRAME_READY, /* *frame, *len: the next packet (valid until the next read) */
    SFU_TCP_FRAME_EMPTY, /* a zero-length frame, skipped */
    SFU_TCP_FRAME_BAD,   /* a frame longer than SFU_TCP_FRAME_MAX: close the connection */
} sfu_tcp_frame_result;

void sfu_tcp_reader_init(sfu_tcp_reader *r);
/* Where the next read may write, and how much; compacts first, so after a frame has been
 * taken the space is never less than one whole frame. */
uint8_t *sfu_tcp_reader_space(sfu_tcp_reader *r, size_t *room);
void sfu_tcp_reader_wrote(sfu_tcp_reader *r, size_t n); /* n ≤ room */
sfu_tcp_frame_result sfu_tcp_reader_next(sfu_tcp_reader *r, const uint8_t **frame, size_t *len);

typedef struct {
    uint8_t *buf;      /* SFU_TCP_TX_BUF bytes, allocated once per connection */
    size_t start, end; /* unsent bytes are buf[start, end) */
} sfu_tcp_writer;

bool sfu_tcp_writer_init(sfu_tcp_writer *w); /* false: out of memory */
void sfu_tcp_writer_free(sfu_tcp_writer *w);
/* Appends one frame; false (nothing appended) if it is empty, too long or does not fit. */
bool sfu_tcp_writer_put(sfu_tcp_writer *w, const uint8_t *data, size_t len);
static inline size_t sfu_tcp_writer_pending(const sfu_tcp_writer *w) { return w->end - w->start; }
static inline const uint8_t *sfu_tcp_writer_data(const sfu_tcp_writer *w) { return w->buf + w->start; }
void sfu_tcp_writer_sent(sfu_tcp_writer *w, size_t n); /* n bytes left for the socket */

#endif
