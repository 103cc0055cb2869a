/* What the bench reads about a process from /proc: CPU time (utime + stime) and RSS, and
 * the kernel's drop count of a UDP socket bound to a local port. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    double cpu_s;     /* utime + stime, seconds */
    double sys_s;     /* stime alone: the kernel's share (for a server on loopback, the
                         receivers' side of each datagram's delivery is charged here too) */
    uint64_t rss_kib;
} bench_proc_sample;

bool bench_proc_read(pid_t pid, bench_proc_sample *out);
/* Sum of the "drops" column of /proc/net/udp for sockets on local port `port`. */
uint64_t bench_udp_port_drops(uint16_t port);


/* CPU seconds the whole machine spent busy (user, nice, system, irq, softirq, steal in
 * /proc/stat), to tell how much else ran during a measurement. */
double bench_host_busy_s(void);
#endif
