/* See metrics.h. The text is written family by family (HELP, TYPE, then its samples), each
 * name once, as the exposition format asks; the engine's and the tally's plain counters
 * come from tables of field offsets, so a new counter is one line. */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "admin_api.h"

#ifndef DC_VERSION
#define DC_VERSION "dev"
#endif

typedef struct {
    const char *name, *type, *help;
    size_t offset; /* of a uint64_t in sfu_stats or dc_link_tally */
} plain_metric;

#define ENGINE(name, type, field, help) \
    { \
        "diemcau_" name, type, help, offsetof(sfu_stats, field) \
    }
static const plain_metric engine_metrics[] = {
    ENGINE("datagrams_received_total", "counter", rx_packets, "Datagrams and ICE-TCP frames received (all kinds)."),
    ENGINE("received_bytes_total", "counter", rx_bytes, "Bytes of the datagrams received."),
    ENGINE("datagrams_sent_total", "counter", tx_packets, "Datagrams and ICE-TCP frames sent (all kinds)."),
    ENGINE("sent_bytes_total", "counter", tx_bytes, "Bytes of the datagrams sent."),
    ENGINE("rtp_forwarded_total", "counter", rtp_forwarded, "RTP packets forwarded, one per subscriber copy."),
    ENGINE("keyframe_requests_received_total", "counter", keyframe_requests_in,
           "Keyframe requests (PLI, FIR entries) from subscribers."),
    ENGINE("keyframe_requests_sent_total", "counter", keyframe_requests_out,
           "PLIs sent to publishers, after the per-stream throttle."),
    ENGINE("transports", "gauge", transports, "Media transports (peer connections) in the engine."),
    ENGINE("streams", "gauge", streams, "Published streams in the engine."),
    ENGINE("slots", "gauge", slots, "Subscriber slots in the engine."),
    ENGINE("ice_tcp_connections", "gauge", tcp_connections, "ICE-TCP connections open."),
    ENGINE("ice_tcp_accepted_total", "counter", tcp_accepted, "ICE-TCP connections accepted."),
    ENGINE("ice_tcp_refused_total", "counter", tcp_refused, "ICE-TCP connections refused by the listener."),
    ENGINE("ice_tcp_closed_bad_total", "counter", tcp_closed_bad, "ICE-TCP connections closed for junk."),
};

#define TALLY(name, field, help) \
    { \
        "diemcau_" name, "counter", help, offsetof(dc_link_tally, field) \
    }
static const plain_metric tally_metrics[] = {
    TALLY("rtp_received_total", packets_in, "RTP packets received from publishers (counted at each link report)."),
    TALLY("rtp_received_bytes_total", octets_in, "Bytes of the RTP packets received from publishers."),
    TALLY("nacks_received_total", nacks_received, "NACK messages from subscribers."),
    TALLY("nacked_packets_received_total", nack_seqs_received, "Packets subscribers asked to be resent."),
    TALLY("rtx_sent_total", rtx_sent, "Packets resent to subscribers."),
    TALLY("rtx_missed_total", rtx_missed, "Packets subscribers asked for that were no longer cached."),
    TALLY("nacks_sent_total", nacks_sent, "NACK messages sent to publishers."),
    TALLY("nacked_packets_sent_total", nack_seqs_sent, "Packets asked of publishers again."),
    TALLY("rtx_received_total", rtx_received, "Packets publishers resent that repaired a loss."),
    TALLY("rtp_lost_total", lost, "Packets from publishers that never came."),
    TALLY("link_reports_total", reports, "Link reports (one per transport every 2 s)."),
};

static uint64_t field_at(const void *base, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)base + offset, sizeof v);
    return v;
}

static void family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void plain_metrics(GString *out, const plain_metric *table, size_t n, const void *values)
{
    for (size_t i = 0; i < n; i++) {
        family(out, table[i].name, table[i].type, table[i].help);
        g_string_append_printf(out, "%s %" PRIu64 "\n", table[i].name, field_at(values, table[i].offset));
    }
}

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void label_value(GString *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') g_string_append_c(out, '\\');
        if (*v == '\n') g_string_append(out, "\\n");
        else g_string_append_c(out, *v);
    }
}

static void engine_section(GString *out, const sfu *engine)
{
    sfu_stats st;
    sfu_get_stats(engine, &st);
    plain_metrics(out, engine_metrics, G_N_ELEMENTS(engine_metrics), &st);
    family(out, "diemcau_datagrams_dropped_total", "counter", "Datagrams dropped, by reason (sfu.h sfu_drop_reason).");
    for (int r = 0; r < SFU_DROP_REASONS; r++)
        g_string_append_printf(out, "diemcau_datagrams_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
                               sfu_drop_reason_name((sfu_drop_reason)r), st.drops[r]);

    /* per worker thread: its load as CPU seconds (rate() of it is the share of a core) */
    int n = sfu_worker_count(engine);
    sfu_stats ws[n > 0 ? n : 1];
    uint64_t cpu_ns[n > 0 ? n : 1];
    for (int w = 0; w < n; w++) sfu_get_worker_stats(engine, w, &ws[w], &cpu_ns[w]);
    family(out, "diemcau_worker_cpu_seconds_total", "counter", "CPU time used by each media worker thread.");
    for (int w = 0; w < n; w++)
        g_string_append_printf(out, "diemcau_worker_cpu_seconds_total{worker=\"%d\"} %.6f\n", w, cpu_ns[w] / 1e9);
    family(out, "diemcau_worker_datagrams_received_total", "counter", "Datagrams received by each media worker.");
    for (int w = 0; w < n; w++)
        g_string_append_printf(out, "diemcau_worker_datagrams_received_total{worker=\"%d\"} %" PRIu64 "\n", w,
                               ws[w].rx_packets);
    family(out, "diemcau_worker_datagrams_sent_total", "counter", "Datagrams sent by each media worker.");
    for (int w = 0; w < n; w++)
        g_string_append_printf(out, "diemcau_worker_datagrams_sent_total{worker=\"%d\"} %" PRIu64 "\n", w,
                               ws[w].tx_packets);
    family(out, "diemcau_worker_datagrams_dropped_total", "counter", "Datagrams dropped by each media worker.");
    for (int w = 0; w < n; w++) {
        uint64_t dropped = 0;
        for (int r = 0; r < SFU_DROP_REASONS; r++) dropped += ws[w].drops[r];
        g_string_append_printf(out, "diemcau_worker_datagrams_dropped_total{worker=\"%d\"} %" PRIu64 "\n", w, dropped);
    }
}

static const char *const direction_names[DC_TALLY_DIRECTIONS] = {"publish", "subscribe"};

/* One histogram family by direction: cumulative buckets, sum, count. */
static void histogram_family(GString *out, const char *name, const char *help, const dc_histogram *by_direction)
{
    family(out, name, "histogram", help);
    for (int d = 0; d < DC_TALLY_DIRECTIONS; d++) {
        const dc_histogram *h = &by_direction[d];
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h->n_bounds; i++) {
            cumulative += h->counts[i];
            g_string_append_printf(out, "%s_bucket{direction=\"%s\",le=\"", name, direction_names[d]);
            if (i < h->n_bounds) g_string_append_printf(out, "%g", h->bounds[i]);
            else g_string_append(out, "+Inf");
            g_string_append_printf(out, "\"} %" PRIu64 "\n", cumulative);
        }
        g_string_append_printf(out, "%s_sum{direction=\"%s\"} %.9g\n", name, direction_names[d], h->sum);
        g_string_append_printf(out, "%s_count{direction=\"%s\"} %" PRIu64 "\n", name, direction_names[d], h->count);
    }
}

typedef struct {
    GString *participants, *publishers;
    size_t rooms;
} room_lines;

static void room_line(const dc_room_count *c, void *user)
{
    room_lines *r = user;
    r->rooms++;
    g_string_append(r->participants, "diemcau_room_participants{room=\"");
    label_value(r->participants, c->room);
    g_string_append_printf(r->participants, "\"} %zu\n", c->participants);
    g_string_append(r->publishers, "diemcau_room_publishers{room=\"");
    label_value(r->publishers, c->room);
    g_string_append_printf(r->publishers, "\"} %zu\n", c->publishers);
}

static void meeting_section(GString *out, dc_meeting *m)
{
    room_lines r = {g_string_new(NULL), g_string_new(NULL), 0};
    dc_meeting_foreach_room_count(m, room_line, &r);
    family(out, "diemcau_rooms", "gauge", "Rooms with someone in them.");
    g_string_append_printf(out, "diemcau_rooms %zu\n", r.rooms);
    family(out, "diemcau_room_participants", "gauge", "Participants in each room (in their resume grace too).");
    g_string_append_len(out, r.participants->str, (gssize)r.participants->len);
    family(out, "diemcau_room_publishers", "gauge", "Participants of each room who publish media.");
    g_string_append_len(out, r.publishers->str, (gssize)r.publishers->len);
    g_string_free(r.participants, TRUE);
    g_string_free(r.publishers, TRUE);

    const dc_link_tally *t = dc_meeting_link_tally(m);
    plain_metrics(out, tally_metrics, G_N_ELEMENTS(tally_metrics), t);
    histogram_family(out, "diemcau_link_rtt_seconds", "Round-trip time of each link report that measured one.", t->rtt);
    histogram_family(out, "diemcau_link_jitter_seconds", "Interarrival jitter of each link report with media.",
                     t->jitter);
    histogram_family(out, "diemcau_link_loss_ratio", "Loss the last receiver report of each link report gave.",
                     t->loss);
}

char *dc_metrics_text(const dc_metrics_sources *src)
{
    GString *out = g_string_sized_new(16384);
    family(out, "diemcau_build_info", "gauge", "The server's version, as a label; always 1.");
    g_string_append(out, "diemcau_build_info{version=\"");
    label_value(out, DC_VERSION);
    g_string_append(out, "\"} 1\n");
    family(out, "diemcau_start_time_seconds", "gauge", "When the server started, in seconds since the epoch.");
    g_string_append_printf(out, "diemcau_start_time_seconds %.3f\n", src->started_us / 1e6);
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    family(out, "diemcau_process_cpu_seconds_total", "counter", "CPU time used by the whole server process.");
    g_string_append_printf(out, "diemcau_process_cpu_seconds_total %.6f\n", cpu.tv_sec + cpu.tv_nsec / 1e9);
    family(out, "diemcau_websocket_connections", "gauge", "Signaling WebSockets open.");
    g_string_append_printf(out, "diemcau_websocket_connections %u\n",
                           src->websockets ? g_queue_get_length((GQueue *)src->websockets) : 0u);
    sfu *engine = src->engine ? *src->engine : NULL;
    if (engine) engine_section(out, engine);
    dc_meeting *m = src->meeting ? *src->meeting : NULL;
    if (m) meeting_section(out, m);
    return g_string_free(out, FALSE);
}

bool dc_metrics_handle(void *user, const dc_http_request *req, dc_http_response *resp)
{
    const dc_metrics_sources *src = user;
    if (strcmp(req->path, DC_METRICS_PATH)) return false;
    if (!src->cfg->admin_token_len) {
        dc_http_api_error(resp, 404, "not_found",
                          "metrics are off: set admin_token_file in the server's configuration");
        return true;
    }
    if (!dc_admin_authorized(src->cfg, req->authorization)) {
        dc_http_api_error(resp, 401, "unauthorized", "send the admin credential as Authorization: Bearer <token>");
        return true;
    }
    if (strcmp(req->method, "GET")) {
        dc_http_api_error(resp, 405, "method_not_allowed", "use GET");
        return true;
    }
    char *text = dc_metrics_text(src);
    resp->status = 200;
    resp->content_type = DC_METRICS_CONTENT_TYPE;
    resp->body_len = strlen(text);
    resp->body = strdup(text); /* the caller frees with free(), GLib's allocator may differ */
    g_free(text);
    if (!resp->body) dc_http_api_error(resp, 500, "internal", "out of memory");
    return true;
}

void dc_metrics_routes(dc_http_api *api, const dc_metrics_sources *src)
{
    dc_http_api_route(api, DC_METRICS_PATH, dc_metrics_handle, (void *)src);
}
