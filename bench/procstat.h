/* What the bench reads from /proc: a process's CPU time (utime + stime) and RSS, the
 * kernel's drop count of a UDP socket bound to a local port, and CPUs' busy time. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <sched.h> /* cpu_set_t (_GNU_SOURCE is project-wide) */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    double cpu_s; /* utime + stime, seconds */
    double sys_s; /* stime alone: the kernel's share (for a server on loopback, the
                         receivers' side of each datagram's delivery is charged here too) */
    uint64_t rss_kib;
} bench_proc_sample;

bool bench_proc_read(pid_t pid, bench_proc_sample *out);
/* Sum of the "drops" column of the UDP table for sockets on local port `port`, as seen from
 * the network namespace of process `pid` (/proc/<pid>/net/udp: the server may run in
 * another namespace than the bench). */
uint64_t bench_udp_port_drops(pid_t pid, uint16_t port);

/* CPU seconds from /proc/stat of the CPUs in `cpus`, or of the whole machine if NULL. */
typedef struct {
    double busy_s; /* user, nice, system, irq, softirq, steal: whoever ran */
    double irq_s;  /* irq + softirq alone (counted here whether they interrupted a task,
                      which is then charged for them too, or an idle CPU) */
} bench_cpu_times;
bench_cpu_times bench_cpus_read(const cpu_set_t *cpus);

/* Packets the kernel dropped because a CPU's input backlog was full (/proc/net/softnet_stat,
 * all CPUs): with BENCH_NET=split, datagrams lost on the way into the generator. */
uint64_t bench_backlog_drops(void);

/* The CPUs process `pid` may run on, if that is a strict subset of the machine's online
 * CPUs (the server was pinned); false if it may run anywhere. */
bool bench_pinned_cpus(pid_t pid, cpu_set_t *out);
#endif
