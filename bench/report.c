/* See report.h. */
#include "report.h"

#include <jansson.h>
#include <time.h>

double bench_run_pps(const bench_run *r)
{
    return r->media.window_s > 0 ? (double)r->media.rx_packets / r->media.window_s : 0;
}

static double per_forwarded_packet_us(const bench_run *r, double seconds)
{
    return r->have_server && r->media.rx_packets ? seconds * 1e6 / (double)r->media.rx_packets : 0;
}

double bench_run_server_us_per_pkt(const bench_run *r) { return per_forwarded_packet_us(r, r->server_cpu_s); }

double bench_run_kib_per_participant(const bench_run *r)
{
    return r->have_server && r->participants ? (r->server_rss_kib - r->server_rss_start_kib) / (double)r->participants
                                             : 0;
}

bool bench_report_json(const bench_run *r, const char *path)
{
    const bench_media_result *m = &r->media;
    char date[32];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:{s:I,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:b},"
        "s:{s:f,s:I,s:I,s:f,s:f,s:f},"
        "s:{s:f,s:f,s:f,s:f,s:I},"
        "s:{s:b,s:f,s:f,s:f,s:f,s:f,s:f,s:I},"
        "s:{s:f,s:f,s:I,s:I},"
        "s:{s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
        "date", date, "scenario", r->scenario, "target", r->server, "srtp_profile",
        r->srtp_profile ? r->srtp_profile : "", "note", r->note ? r->note : "", "config", "publishers",
        (json_int_t)r->publishers, "receivers", (json_int_t)r->receivers, "publishers_receive", r->publishers_receive,
        "participants", (json_int_t)r->participants, "connected", (json_int_t)r->connected, "failed",
        (json_int_t)r->failed, "video_kbps", (json_int_t)r->video_kbps, "duration_s", (json_int_t)r->duration_s,
        "decrypt_every", (json_int_t)r->decrypt_every, "srtp_offer", r->srtp_offer ? r->srtp_offer : "any",
        "vary_sizes", r->vary_sizes, "forwarding", "window_s", m->window_s, "packets", (json_int_t)m->rx_packets,
        "sent_by_publishers", (json_int_t)m->tx_packets, "packets_per_s", bench_run_pps(r), "mbit_per_s",
        m->window_s > 0 ? (double)m->rx_bytes * 8 / m->window_s / 1e6 : 0.0, "expected_per_sent",
        m->tx_packets ? (double)m->expected / (double)m->tx_packets : 0.0, "loss", "max", m->loss_max, "mean",
        m->loss_mean, "overall", m->expected ? 1.0 - (double)m->received / (double)m->expected : 0.0, "subscribers",
        m->subs ? (double)m->subs : 0.0, "expected", (json_int_t)m->expected, "server", "measured", r->have_server,
        "cpu_s", r->server_cpu_s, "sys_cpu_s", r->server_sys_s, "us_per_forwarded_packet",
        bench_run_server_us_per_pkt(r), "rss_kib", r->server_rss_kib, "rss_start_kib", r->server_rss_start_kib,
        "kib_per_participant", bench_run_kib_per_participant(r), "socket_drops", (json_int_t)r->server_socket_drops,
        "join_ms", "p50", m->join_p50_ms, "max", m->join_max_ms, "with_media", (json_int_t)m->join_count,
        "without_media", (json_int_t)m->join_missing, "generator", "cpu_s", m->gen_cpu_s, "max_send_lag_ms",
        m->max_send_lag_ms, "socket_drops", (json_int_t)m->gen_socket_drops, "decrypted", (json_int_t)m->decrypted,
        "decrypt_failures", (json_int_t)m->decrypt_failures, "record_mismatches", (json_int_t)m->record_mismatches,
        "no_record", (json_int_t)m->no_record, "plis", (json_int_t)m->plis, "keyframes", (json_int_t)m->keyframes,
        "lat_samples", (json_int_t)m->lat_samples);
    if (!j) return false;
    json_object_set_new(json_object_get(j, "server"), "sys_us_per_forwarded_packet",
                        json_real(per_forwarded_packet_us(r, r->server_sys_s)));
    if (r->server_pinned) {
        json_t *cores = json_pack("{s:f,s:f,s:f}", "cores_busy_us_per_forwarded_packet",
                                  per_forwarded_packet_us(r, r->server_cores_busy_s),
                                  "cores_irq_us_per_forwarded_packet",
                                  per_forwarded_packet_us(r, r->server_cores_irq_s), "with_irq_us_per_forwarded_packet",
                                  /* an upper bound: interrupts that hit the server count twice */
                                  per_forwarded_packet_us(r, r->server_cpu_s + r->server_cores_irq_s));
        json_object_update(json_object_get(j, "server"), cores);
        json_decref(cores);
    }
    json_object_set_new(j, "host",
                        json_pack("{s:f,s:f,s:I}", "other_cpu_s", r->other_cpu_s, "other_cpus",
                                  m->window_s > 0 ? r->other_cpu_s / m->window_s : 0.0, "backlog_drops",
                                  (json_int_t)r->backlog_drops));
    json_object_set_new(json_object_get(j, "config"), "rooms", json_integer((json_int_t)r->rooms));
    /* the server's CPU use as a share of one core: its load in one-worker runs */
    json_object_set_new(json_object_get(j, "server"), "cpu_share",
                        json_real(m->window_s > 0 ? r->server_cpu_s / m->window_s : 0.0));
    json_object_set_new(json_object_get(j, "loss"), "streams_without_slot",
                        json_integer((json_int_t)m->streams_without_slot));
    json_object_set_new(j, "latency_us",
                        json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "p50", m->lat_p50_us, "p99", m->lat_p99_us, "max",
                                  m->lat_max_us, "mean", m->lat_mean_us, "p99_audio", m->lat_p99_of_us[BENCH_LAT_AUDIO],
                                  "p99_video_delta", m->lat_p99_of_us[BENCH_LAT_VIDEO], "p99_video_keyframe",
                                  m->lat_p99_of_us[BENCH_LAT_KEYFRAME]));
    json_object_set_new(json_object_get(j, "join_ms"), "p99", json_real(m->join_p99_ms));
    json_object_set_new(json_object_get(j, "generator"), "send_lag_p99_ms", json_real(m->send_lag_p99_ms));
    json_object_set_new(json_object_get(j, "generator"), "sender_realtime", json_boolean(m->sender_realtime));
    json_object_set_new(json_object_get(j, "generator"), "send_path_p99_ms", json_real(m->send_path_p99_ms));
    json_object_set_new(json_object_get(j, "generator"), "send_path_max_ms", json_real(m->send_path_max_ms));
    json_object_set_new(json_object_get(j, "generator"), "rx_ring", json_boolean(m->rx_ring));
    json_object_set_new(json_object_get(j, "latency_us"), "unstamped_share",
                        json_real(m->lat_samples ? (double)m->unstamped / (double)m->lat_samples : 0.0));
    json_object_set_new(
        json_object_get(j, "generator"), "us_per_packet",
        json_real(m->rx_packets + m->tx_packets ? m->gen_cpu_s * 1e6 / (double)(m->rx_packets + m->tx_packets) : 0.0));
    if (r->config_extra) json_object_update(json_object_get(j, "config"), r->config_extra);
    if (r->extra) json_object_update(j, r->extra);
    int rc = json_dump_file(j, path, JSON_INDENT(2));
    json_decref(j);
    return rc == 0;
}

void bench_report_markdown_header(FILE *f)
{
    fprintf(f,
            "| scenario | server | participants | pub | pkt/s fwd | loss max %% | loss mean %% | "
            "lat p50 µs | p99 µs | max µs | server µs/pkt | RSS MiB | KiB/part. | join p50 ms | join p99 ms | join max "
            "ms | gen µs/pkt | SRTP |\n");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void bench_report_markdown_row(FILE *f, const bench_run *r)
{
    const bench_media_result *m = &r->media;
    double gen = m->rx_packets + m->tx_packets ? m->gen_cpu_s * 1e6 / (double)(m->rx_packets + m->tx_packets) : 0;
    fprintf(f,
            "| %s | %s | %zu | %zu | %.0f | %.3f | %.3f | %.0f | %.0f | %.0f | %.2f | %.1f | %.1f | %.0f | %.0f | %.0f "
            "| %.2f | %s |\n",
            r->scenario, r->server, r->participants, r->publishers, bench_run_pps(r), m->loss_max * 100,
            m->loss_mean * 100, m->lat_p50_us, m->lat_p99_us, m->lat_max_us, bench_run_server_us_per_pkt(r),
            r->server_rss_kib / 1024, bench_run_kib_per_participant(r), m->join_p50_ms, m->join_p99_ms, m->join_max_ms,
            gen, r->srtp_profile ? r->srtp_profile : "");
}
