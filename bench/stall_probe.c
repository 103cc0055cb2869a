/* stall_probe — how often does this machine take a CPU away for a while?
 *
 *   diemcau-stall-probe [SECONDS] [CPU]      (defaults: 10 s, the current CPU)
 *
 * Spins on one CPU reading CLOCK_MONOTONIC and counts the gaps between two reads: on a
 * quiet machine they are below a few µs; a long one is time the CPU spent elsewhere
 * (interrupts, another task, or, on a VM, the hypervisor running something else). Any such
 * stall adds directly to a forwarding server's latency on that CPU, and at 70 % load the
 * queue behind it takes 2–3 times as long again to drain, so the gap rate bounds the p99
 * any server can reach there. Run it on an otherwise idle machine. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    if (argc > 2) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(atoi(argv[2]), &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            perror("sched_setaffinity");
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 3600) {
        fprintf(stderr, "usage: %s [SECONDS (0-3600]] [CPU]\n", argv[0]);
        return 2;
    }
    static const int64_t limits_us[] = {20, 100, 500, 1000, 2000, 5000, 10000};
    enum { N = sizeof limits_us / sizeof limits_us[0] };
    uint64_t count[N] = {0};
    int64_t lost_ns[N] = {0}, longest = 0;
    int64_t start = now_ns(), end = start + (int64_t)(seconds * 1e9), prev = start;
    for (int64_t t = start; t < end; prev = t) {
        t = now_ns();
        int64_t gap = t - prev;
        if (gap > longest) longest = gap;
        for (int i = 0; i < N && gap > limits_us[i] * 1000; i++) {
            count[i]++;
            lost_ns[i] += gap;
        }
    }
    double span = (double)(prev - start) / 1e9;
    printf("stall_probe: %.1f s on CPU %d; longest gap %.3f ms\n", span, sched_getcpu(), (double)longest / 1e6);
    printf("| gap longer than | per second | share of time in such gaps |\n|---:|---:|---:|\n");
    for (int i = 0; i < N; i++)
        printf("| %g ms | %.2f | %.3f %% |\n", (double)limits_us[i] / 1000, (double)count[i] / span,
               (double)lost_ns[i] / 1e9 / span * 100);
    return 0;
}
