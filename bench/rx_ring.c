/* See rx_ring.h. */
#include "rx_ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCK_SIZE (1u << 20) /* ~700 datagrams of 1.2 KB */
#define BLOCK_COUNT 64        /* 64 MiB: a third of a second at 200 k datagrams a second */
#define FRAME_SIZE 2048
#define BLOCK_TIMEOUT_MS 1 /* a block is handed over when full or after this long */

struct bench_rx_ring {
    int fd;
    uint8_t *map;
    unsigned next; /* the block to read next */
    uint64_t drops;
};

bench_rx_ring *bench_rx_ring_open(const char *ifname)
{
    unsigned ifindex = if_nametoindex(ifname);
    /* ETH_P_ALL, not ETH_P_IP: only "all protocols" taps see a packet before the ingress
     * hooks, where netsplit.sh drops the RTP */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (!ifindex || fd < 0) {
        fprintf(stderr, "bench: no packet socket on %s: %s\n", ifname, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    int version = TPACKET_V3, one = 1;
    struct tpacket_req3 req = {.tp_block_size = BLOCK_SIZE,
                               .tp_block_nr = BLOCK_COUNT,
                               .tp_frame_size = FRAME_SIZE,
                               .tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_COUNT,
                               .tp_retire_blk_tov = BLOCK_TIMEOUT_MS};
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
    void *map = MAP_FAILED;
    /* the generator's own sends are not wanted: each would be one more copy */
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0 ||
        (map = mmap(NULL, (size_t)BLOCK_SIZE * BLOCK_COUNT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
        bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
        fprintf(stderr, "bench: cannot set up the packet ring on %s: %s\n", ifname, strerror(errno));
        if (map != MAP_FAILED) munmap(map, (size_t)BLOCK_SIZE * BLOCK_COUNT);
        close(fd);
        return NULL;
    }
    bench_rx_ring *r = calloc(1, sizeof *r);
    r->fd = fd;
    r->map = map;
    return r;
}

void bench_rx_ring_close(bench_rx_ring *r)
{
    if (!r) return;
    munmap(r->map, (size_t)BLOCK_SIZE * BLOCK_COUNT);
    close(r->fd);
    free(r);
}

int bench_rx_ring_fd(const bench_rx_ring *r) { return r->fd; }

/* The UDP payload of an IPv4 datagram captured from `net` (caplen octets); false if it is
 * not one (ARP and the TCP signaling share the link) or was cut. */
static bool udp_payload(uint8_t *net, size_t caplen, uint16_t *dst_port, uint8_t **payload, size_t *len)
{
    if (caplen < 20 || net[0] >> 4 != 4 || net[9] != 17) return false;
    size_t ihl = (size_t)(net[0] & 0x0f) * 4;
    if (ihl < 20 || caplen < ihl + 8 || (net[6] & 0x3f) || net[7]) return false; /* fragments */
    const uint8_t *udp = net + ihl;
    size_t udp_len = (size_t)udp[4] << 8 | udp[5];
    if (udp_len < 8 || ihl + udp_len > caplen) return false;
    *dst_port = (uint16_t)(udp[2] << 8 | udp[3]);
    *payload = net + ihl + 8;
    *len = udp_len - 8;
    return true;
}

size_t bench_rx_ring_drain(bench_rx_ring *r, bench_rx_ring_fn fn, void *user)
{
    size_t n = 0;
    for (;;) {
        struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->next * BLOCK_SIZE);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
        uint8_t *p = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
        for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; i++) {
            struct tpacket3_hdr *h = (void *)p;
            uint16_t port;
            uint8_t *payload;
            size_t len;
            if (h->tp_net >= h->tp_mac &&
                udp_payload(p + h->tp_net, h->tp_snaplen - (h->tp_net - h->tp_mac), &port, &payload, &len)) {
                fn(user, port, payload, len, (int64_t)h->tp_sec * 1000000000LL + h->tp_nsec);
                n++;
            }
            p += h->tp_next_offset;
        }
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        r->next = (r->next + 1) % BLOCK_COUNT;
    }
    return n;
}

uint64_t bench_rx_ring_drops(bench_rx_ring *r)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) r->drops += st.tp_drops; /* resets on read */
    return r->drops;
}
