/* The generator's cheap receive path for the split network (bench/netsplit.sh): an
 * AF_PACKET TPACKET_V3 ring on the generator's veth end, read a block at a time.
 *
 * Why: receiving ~200 k forwarded datagrams a second through 75+ UDP sockets (IP/UDP
 * input, socket queues, wake-ups, one recvmmsg per socket) kept the generator's CPU 99 %
 * busy and cost more per packet than the server it measures (bench/RESULTS.md). With the
 * ring, the kernel copies each datagram once into shared memory and hands over whole
 * blocks; netsplit.sh drops the server's RTP at the veth's netdev ingress hook (after the
 * packet tap, before IP), so it never reaches the sockets. STUN, DTLS and RTCP still do.
 *
 * Each datagram comes with its kernel receive stamp (the same one SO_TIMESTAMPNS gives: the
 * veth stamps it as the server sends it) and its UDP destination port, which names the
 * subscriber it was sent to. IPv4 only, as the split network is. */
#ifndef BENCH_RX_RING_H
#define BENCH_RX_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_rx_ring bench_rx_ring;

/* Opens the ring on interface `ifname`; NULL (with a message on stderr) if it can't. */
bench_rx_ring *bench_rx_ring_open(const char *ifname);
void bench_rx_ring_close(bench_rx_ring *r);
int bench_rx_ring_fd(const bench_rx_ring *r); /* readable when a block is ready */

/* Calls `fn` for every UDP datagram in the blocks the kernel has handed over (payload
 * writable in place), then gives the blocks back. Returns how many datagrams it passed. */
typedef void (*bench_rx_ring_fn)(void *user, uint16_t dst_port, uint8_t *payload, size_t len, int64_t rx_ns);
size_t bench_rx_ring_drain(bench_rx_ring *r, bench_rx_ring_fn fn, void *user);

/* Datagrams the kernel dropped because the ring was full (PACKET_STATISTICS, cumulative). */
uint64_t bench_rx_ring_drops(bench_rx_ring *r);

#endif
