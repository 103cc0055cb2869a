/* One run's configuration and results, written as JSON (bench/out/NAME.json) and as one
 * Markdown table row. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "media.h"

typedef struct {
    const char *scenario, *server, *note;
    const char *srtp_offer;       /* --srtp-profile: gcm, cm or any */
    const char *srtp_profile;     /* negotiated by every connection, "mixed" if they differ, "NONE" */
    size_t publishers, receivers; /* per room; receivers: participants that only receive */
    size_t rooms;                 /* identical rooms run at once (--rooms) */
    bool publishers_receive;
    size_t participants, connected, failed;
    unsigned video_kbps, duration_s, decrypt_every;
    bool vary_sizes; /* --vary-sizes */
    bool have_server;
    double server_cpu_s;        /* utime + stime over the window */
    double server_sys_s;        /* stime alone over the window */
    bool server_pinned;         /* the server may run only on some CPUs: */
    double server_cores_busy_s; /* their busy time over the window, whoever used it */
    double server_cores_irq_s;  /* their irq + softirq time over the window */
    double server_rss_start_kib, server_rss_kib;
    unsigned long long server_socket_drops; /* kernel drops on the server's media port in the window */
    double other_cpu_s;                     /* machine CPU in the window used by neither server nor bench */
    unsigned long long backlog_drops;       /* kernel input-backlog drops on any CPU in the window */
    bench_media_result media;
    /* optional, owned by the caller: merged into the JSON's "config" and its top level
     * (roles, slots, floor and speech schedules, the join storm) */
    struct json_t *config_extra, *extra;
} bench_run;

/* derived figures */
double bench_run_pps(const bench_run *r);
double bench_run_server_us_per_pkt(const bench_run *r);
double bench_run_kib_per_participant(const bench_run *r);

bool bench_report_json(const bench_run *r, const char *path);
void bench_report_markdown_header(FILE *f);
void bench_report_markdown_row(FILE *f, const bench_run *r);

#endif
