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
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return false;
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

uint64_t bench_udp_port_drops(uint16_t port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f) return 0;
    char line[512];
    uint64_t drops = 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return 0; }
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

double bench_host_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long u = 0, n = 0, s = 0, idle = 0, io = 0, irq = 0, sirq = 0, steal = 0;
    int k = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq, &sirq, &steal);
    fclose(f);
    if (k < 7) return 0;
    return (double)(u + n + s + irq + sirq + steal) / (double)sysconf(_SC_CLK_TCK);
}
