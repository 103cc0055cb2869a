/* See procstat.h. */
#include "procstat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool bench_proc_read(pid_t pid, bench_proc_sample *out)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return false;
    /* fields after the ")" closing comm: state is field 3, utime 14, stime 15 */
    const char *p = strrchr(line, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return false;
    out->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    out->sys_s = (double)stime / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f) return false;
    out->rss_kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &utime) == 1) out->rss_kib = utime;
    fclose(f);
    return true;
}

uint64_t bench_udp_port_drops(pid_t pid, uint16_t port)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/net/udp", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    uint64_t drops = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned lport;
        unsigned long long d;
        /* sl local_address:port rem st tx:rx tr:when retr uid timeout inode ref ptr drops */
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %*x %*x:%*x %*x:%*x %*x %*u %*u %*u %*u %*x %llu", &lport, &d) == 2 &&
            lport == port)
            drops += d;
    }
    fclose(f);
    return drops;
}

bench_cpu_times bench_cpus_read(const cpu_set_t *cpus)
{
    bench_cpu_times t = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return t;
    char line[512];
    unsigned long long busy = 0, irqs = 0;
    while (fgets(line, sizeof line, f) && strncmp(line, "cpu", 3) == 0) {
        int cpu = -1, off = 0;
        if (line[3] == ' ') {
            if (cpus) continue; /* the machine's total line */
            off = 3;
        } else if (sscanf(line + 3, "%d%n", &cpu, &off) != 1 || !cpus || !CPU_ISSET(cpu, cpus)) {
            continue;
        } else {
            off += 3;
        }
        unsigned long long u = 0, n = 0, s = 0, idle = 0, io = 0, irq = 0, sirq = 0, steal = 0;
        if (sscanf(line + off, " %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq, &sirq,
                   &steal) >= 7) {
            busy += u + n + s + irq + sirq + steal;
            irqs += irq + sirq;
        }
    }
    fclose(f);
    t.busy_s = (double)busy / (double)sysconf(_SC_CLK_TCK);
    t.irq_s = (double)irqs / (double)sysconf(_SC_CLK_TCK);
    return t;
}

uint64_t bench_backlog_drops(void)
{
    FILE *f = fopen("/proc/net/softnet_stat", "r");
    if (!f) return 0;
    uint64_t drops = 0;
    unsigned processed, dropped;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%x %x", &processed, &dropped) == 2) drops += dropped;
    fclose(f);
    return drops;
}

bool bench_pinned_cpus(pid_t pid, cpu_set_t *out)
{
    CPU_ZERO(out);
    if (sched_getaffinity(pid, sizeof *out, out) != 0) return false;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return CPU_COUNT(out) > 0 && CPU_COUNT(out) < online;
}
