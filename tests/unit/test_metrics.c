/* /metrics' parts without a running server: the link tally (link_tally.c) keeps its totals
 * monotonic across reports, transports that start over and transports that leave; the
 * histograms fall into the right buckets; the handler (metrics.c) is off without an admin
 * credential, refuses a missing or wrong one, and answers the exposition text with it. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "histogram.h"
#include "http_api.h"
#include "link_tally.h"
#include "metrics.h"

#define TOKEN "metrics-unit-credential-42"

static void test_histogram(void)
{
    static const double bounds[] = {0.01, 0.1, 1};
    dc_histogram h;
    dc_histogram_init(&h, bounds, 3);
    dc_histogram_observe(&h, 0.01); /* on a bound: that bucket (le) */
    dc_histogram_observe(&h, 0.05);
    dc_histogram_observe(&h, 0.5);
    dc_histogram_observe(&h, 7);
    CHECK(h.counts[0] == 1 && h.counts[1] == 1 && h.counts[2] == 1 && h.counts[3] == 1);
    CHECK(h.count == 4);
    CHECK(h.sum > 7.55 && h.sum < 7.57);
}

static void test_tally(void)
{
    dc_link_tally t;
    dc_link_tally_init(&t);
    sfu_link_stats zero = {0};
    sfu_link_stats a1 = {.packets_in = 100, .octets_in = 100000, .nacks_sent = 2, .lost = 1, .rtt_us = 40000};
    sfu_link_stats a2 = {.packets_in = 250, .octets_in = 250000, .nacks_sent = 3, .lost = 1, .rtt_us = 60000};
    dc_link_tally_add(&t, DC_TALLY_PUBLISH, &zero, &a1);
    dc_link_tally_add(&t, DC_TALLY_PUBLISH, &a1, &a2);
    CHECK(t.packets_in == 250 && t.octets_in == 250000 && t.nacks_sent == 3 && t.lost == 1);
    CHECK(t.rtt[DC_TALLY_PUBLISH].count == 2 && t.rtt[DC_TALLY_SUBSCRIBE].count == 0);
    CHECK(t.rtt[DC_TALLY_PUBLISH].sum > 0.099 && t.rtt[DC_TALLY_PUBLISH].sum < 0.101);
    /* the same participant's new transport starts at zero: its totals add, none is lost */
    sfu_link_stats b1 = {.packets_in = 30, .octets_in = 30000};
    dc_link_tally_add(&t, DC_TALLY_PUBLISH, &a2, &b1);
    CHECK(t.packets_in == 280 && t.octets_in == 280000 && t.nacks_sent == 3);
    /* a subscriber's report: NACKs it sent us, our answers; no RTT yet, loss as reported */
    sfu_link_stats s1 = {.packets_out = 500, .nacks_received = 4, .rtx_sent = 9, .rtx_missed = 1, .fraction_lost = 64};
    dc_link_tally_add(&t, DC_TALLY_SUBSCRIBE, &zero, &s1);
    CHECK(t.nacks_received == 4 && t.rtx_sent == 9 && t.rtx_missed == 1 && t.reports == 4);
    CHECK(t.rtt[DC_TALLY_SUBSCRIBE].count == 0);
    const dc_histogram *loss = &t.loss[DC_TALLY_SUBSCRIBE];
    CHECK(loss->count == 1 && loss->sum == 0.25);
    /* 0.25 lies above the 0.2 bound and within 0.5 */
    size_t i = 0;
    while (i < loss->n_bounds && loss->bounds[i] < 0.25) i++;
    CHECK(i < loss->n_bounds && loss->bounds[i] == 0.5 && loss->counts[i] == 1);
    /* a direction out of range changes nothing */
    dc_link_tally_add(&t, (dc_tally_direction)7, &zero, &a1);
    CHECK(t.reports == 4);
}

static dc_http_response request(const dc_metrics_sources *src, const char *method, const char *path,
                                const char *authorization)
{
    dc_http_request req = {
        .method = method, .path = path, .query = "", .authorization = authorization, .peer_ip = "10.0.0.9"};
    dc_http_response resp;
    memset(&resp, 0, sizeof resp);
    if (!dc_metrics_handle((void *)src, &req, &resp)) resp.status = -1;
    return resp;
}

static int status_of(const dc_metrics_sources *src, const char *method, const char *path, const char *authorization)
{
    dc_http_response resp = request(src, method, path, authorization);
    bool leaks_figures = resp.body && strstr(resp.body, "diemcau_") && resp.status != 200;
    free(resp.body);
    return leaks_figures ? -2 : resp.status;
}

static void test_handler(void)
{
    dc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    dc_metrics_sources src = {.cfg = &cfg, .started_us = 1796630400000000LL};
    CHECK(status_of(&src, "GET", "/metrics", "Bearer " TOKEN) == 404); /* no credential configured: off */

    snprintf(cfg.admin_token, sizeof cfg.admin_token, "%s", TOKEN);
    cfg.admin_token_len = strlen(TOKEN);
    CHECK(status_of(&src, "GET", "/metrics", "") == 401);
    CHECK(status_of(&src, "GET", "/metrics", "Bearer wrong") == 401);
    CHECK(status_of(&src, "GET", "/metrics", TOKEN) == 401); /* the scheme is required */
    CHECK(status_of(&src, "POST", "/metrics", "Bearer " TOKEN) == 405);
    CHECK(status_of(&src, "GET", "/metrics/x", "Bearer " TOKEN) == -1); /* not this route's */

    /* while the server starts (no engine, no meeting yet): what there is */
    dc_http_response resp = request(&src, "GET", "/metrics", "bearer " TOKEN);
    CHECK(resp.status == 200);
    CHECK(resp.content_type && !strcmp(resp.content_type, "text/plain; version=0.0.4; charset=utf-8"));
    CHECK(resp.body && resp.body_len == strlen(resp.body));
    CHECK(resp.body && strstr(resp.body, "# TYPE diemcau_build_info gauge\ndiemcau_build_info{version=\""));
    CHECK(resp.body && strstr(resp.body, "diemcau_start_time_seconds 1796630400.000\n"));
    CHECK(resp.body && strstr(resp.body, "diemcau_websocket_connections 0\n"));
    CHECK(resp.body && resp.body[resp.body_len - 1] == '\n');
    free(resp.body);
}

int main(void)
{
    test_histogram();
    test_tally();
    test_handler();
    return CHECK_RESULT();
}
