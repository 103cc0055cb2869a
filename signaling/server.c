/* libwebsockets glue: HTTP static files, the /ws protocol, per-connection output queues,
 * message reassembly with the 64 KiB cap, the sweep timer and engine wake-ups. All
 * protocol decisions are made in meeting.c. */
#include "server.h"

#include <glib.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "admin_live.h"
#include "dev_token.h"
#include "heap_log.h"
#include "http_lws.h"
#include "meeting.h"
#include "metrics.h"
#include "protocol.h"
#include "record.h"
#include "sfu.h"
#include "startup.h"
#include "tls_files.h"

#define SWEEP_INTERVAL_US (250 * LWS_US_PER_MS)
#define DC_SUBPROTOCOL "diemcau-v1"
#define DC_HTTP_UPGRADE_REQUIRED 426u /* not among lws 4.1's status names */
/* A client that stops reading must not make the server buffer without bound. */
#define MAX_QUEUED_BYTES (8u * 1024 * 1024)

struct dc_server {
    dc_config cfg;
    struct lws_context *context;
    struct lws_vhost *vhost;
    struct lws_http_mount mount, api_mount, admin_mount, metrics_mount; /* /api → /admin → /metrics → / */
    struct lws_protocols protocols[3];
    dc_http_api *api;
    dc_record *record; /* the meeting record (record.h), NULL when record_path is "" */
    sfu *engine;
    dc_meeting *meeting; /* NULL while starting and shutting down */
    lws_sorted_usec_list_t sweep_timer;
    dc_heap_log heap_log;
    uint16_t http_port;
    GQueue sessions; /* every open WebSocket (session.link) */
    dc_metrics_sources metrics;
};

/* lws allocates this zeroed for each WebSocket (per_session_data_size). */
typedef struct {
    dc_conn conn; /* first: the meeting's view of this connection */
    struct lws *wsi;
    dc_server *server;
    dc_message_buffer rx;
    GQueue *out; /* dc_frame*, one reference each */
    size_t out_bytes;
    bool closing; /* close once out is written; ignore further input */
    enum lws_close_status close_status;
    GList link; /* in dc_server.sessions */
} session;

static void unref_frame(gpointer data) { dc_frame_unref(data); }

static void request_close(session *ss, enum lws_close_status status)
{
    if (ss->closing) return;
    ss->closing = true;
    ss->close_status = status;
    lws_callback_on_writable(ss->wsi);
}

/* dc_meeting_io.send */
static void meeting_send(void *user, dc_conn *conn, dc_frame *frame)
{
    (void)user;
    session *ss = (session *)conn;
    size_t len = dc_frame_len(frame);
    if (ss->closing || ss->out_bytes + len > MAX_QUEUED_BYTES) {
        if (!ss->closing) {
            lwsl_warn("signaling: closing a connection that does not read its messages\n");
            ss->closing = true;
            lws_set_timeout(ss->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        return;
    }
    g_queue_push_tail(ss->out, dc_frame_ref(frame));
    ss->out_bytes += len;
    lws_callback_on_writable(ss->wsi);
}

/* dc_meeting_io.close: after leave, or for a connection that keeps flooding (PROTOCOL.md) */
static void meeting_close(void *user, dc_conn *conn)
{
    (void)user;
    bool flooding = dc_rate_limiter_flooding(&conn->rate);
    request_close((session *)conn, flooding ? LWS_CLOSE_STATUS_POLICY_VIOLATION : LWS_CLOSE_STATUS_NORMAL);
}

static int write_next_frame(session *ss)
{
    dc_frame *f = g_queue_pop_head(ss->out);
    if (!f) {
        if (ss->closing) {
            lws_close_reason(ss->wsi, ss->close_status, NULL, 0);
            return -1;
        }
        return 0;
    }
    /* lws writes the header into the headroom and sends (or copies) at once, so the
     * next recipient of a shared frame may reuse it */
    size_t len = dc_frame_len(f);
    ss->out_bytes -= len;
    int n = lws_write(ss->wsi, dc_frame_payload(f), len, LWS_WRITE_TEXT);
    bool ok = n >= (int)len;
    dc_frame_unref(f);
    if (!ok) return -1;
    if (!g_queue_is_empty(ss->out) || ss->closing) lws_callback_on_writable(ss->wsi);
    return 0;
}

/* The size of the message being received as its current frame header announces it, with
 * `len` bytes in hand beside what is gathered: a header announcing 2^62 bytes is refused at
 * once instead of waiting for a payload that never comes. */
static bool announced_too_large(session *ss, size_t len)
{
    return ss->rx.len + len + lws_remaining_packet_payload(ss->wsi) > DC_MAX_MESSAGE_BYTES;
}

static void refuse_too_large(session *ss)
{
    if (ss->server->meeting)
        dc_meeting_send_error(ss->server->meeting, &ss->conn, DC_ERR_TOO_LARGE, "message larger than 64 KiB");
    dc_message_buffer_free(&ss->rx);
    request_close(ss, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
}

/* A message that arrives whole in one callback (nearly all) is handled in place; only a
 * message lws hands over in parts is gathered, and that buffer is freed once the message
 * is handled, so an idle connection holds no receive buffer of its own. */
static void on_receive(session *ss, const void *in, size_t len)
{
    dc_server *s = ss->server;
    if (ss->closing || !s->meeting) return;
    bool complete = lws_is_final_fragment(ss->wsi) && !lws_remaining_packet_payload(ss->wsi);
    const char *text = in;
    if (ss->rx.len || !complete) {
        if (announced_too_large(ss, len) || dc_message_buffer_append(&ss->rx, in, len) != DC_OK) {
            refuse_too_large(ss);
            return;
        }
        if (!complete) return;
        text = ss->rx.data;
        len = ss->rx.len;
    }
    if (lws_frame_is_binary(ss->wsi))
        dc_meeting_send_error(s->meeting, &ss->conn, DC_ERR_BAD_JSON, "binary frames are not supported");
    else dc_meeting_handle_text(s->meeting, &ss->conn, text ? text : "", len);
    dc_message_buffer_free(&ss->rx);
}

static bool is_signaling_path(struct lws *wsi)
{
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return false;
    return !strcmp(uri, "/ws");
}

/* Copies a request header; "" when absent or longer than the buffer. */
static const char *header(struct lws *wsi, enum lws_token_indexes token, char *buf, int size)
{
    if (lws_hdr_copy(wsi, buf, size, token) < 0) buf[0] = '\0';
    return buf;
}

/* RFC 6455 4.1: the key is 16 random bytes in base64, so 24 characters ending in "==". */
static bool websocket_key_ok(const char *key)
{
    if (strlen(key) != 24 || strcmp(key + 22, "==")) return false;
    for (int i = 0; i < 22; i++)
        if (!g_ascii_isalnum(key[i]) && key[i] != '+' && key[i] != '/') return false;
    return true;
}

/* Whether a comma-separated header value lists `token` (case-insensitively). */
static bool header_lists(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *end = p;
        while (*end && *end != ',') end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) last--;
        if ((size_t)(last - p) == n && !g_ascii_strncasecmp(p, token, n)) return true;
        p = end;
    }
    return false;
}

/* The HTTP status that refuses a WebSocket upgrade (RFC 6455 4.2.1-4.2.2), or 0 to accept
 * it; *why says what was wrong, for the response body. libwebsockets 4.1 would answer a
 * wrong version or key with 101 and a wrong path or subprotocol with a bare TCP close. */
static unsigned int upgrade_refusal(const dc_server *s, struct lws *wsi, const char **why)
{
    char buf[256];
    if (!is_signaling_path(wsi)) return *why = "the WebSocket is at /ws", HTTP_STATUS_NOT_FOUND;
    if (s->cfg.tls_cert[0] && !lws_is_ssl(wsi)) return *why = "this server speaks wss:// only", HTTP_STATUS_FORBIDDEN;
    if (strcmp(header(wsi, WSI_TOKEN_VERSION, buf, sizeof buf), "13"))
        return *why = "Sec-WebSocket-Version must be 13", DC_HTTP_UPGRADE_REQUIRED;
    if (!websocket_key_ok(header(wsi, WSI_TOKEN_KEY, buf, sizeof buf)))
        return *why = "Sec-WebSocket-Key must be 16 bytes in base64", HTTP_STATUS_BAD_REQUEST;
    if (!header(wsi, WSI_TOKEN_HOST, buf, sizeof buf)[0]) return *why = "Host is missing", HTTP_STATUS_BAD_REQUEST;
    if (!header_lists(header(wsi, WSI_TOKEN_CONNECTION, buf, sizeof buf), "upgrade"))
        return *why = "Connection must list Upgrade", HTTP_STATUS_BAD_REQUEST;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) &&
        !header_lists(header(wsi, WSI_TOKEN_PROTOCOL, buf, sizeof buf), DC_SUBPROTOCOL))
        return *why = "the only subprotocol is " DC_SUBPROTOCOL, HTTP_STATUS_BAD_REQUEST;
    return 0;
}

/* Answers the upgrade request with `status` and a one-line text body; 426 also names the
 * version we speak. The connection stays an HTTP/1.1 connection. */
static int refuse_upgrade(struct lws *wsi, unsigned int status, const char *why)
{
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 128;
    size_t body_len = strlen(why) + 1;
    if (lws_add_http_header_status(wsi, status, &p, end) ||
        (status == DC_HTTP_UPGRADE_REQUIRED &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_VERSION, (const unsigned char *)"13", 2, &p, end)) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)"text/plain", 10, &p,
                                     end) ||
        lws_add_http_header_content_length(wsi, body_len, &p, end) || lws_finalize_http_header(wsi, &p, end))
        return -1;
    p += snprintf((char *)p, 128, "%s\n", why);
    int n = (int)(p - start);
    return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) == n ? 1 : -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    session *ss = user;
    dc_server *s = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        const char *why = NULL;
        unsigned int status = strcmp(in, "websocket") ? 0 : upgrade_refusal(s, wsi, &why);
        return status ? refuse_upgrade(wsi, status, why) : 0;
    }

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return is_signaling_path(wsi) ? 0 : 1; /* upgrades that skip the check above (HTTP/2) */

    case LWS_CALLBACK_ESTABLISHED:
        ss->wsi = wsi;
        ss->server = s;
        ss->link.data = ss;
        g_queue_push_tail_link(&s->sessions, &ss->link);
        ss->out = g_queue_new();
        ss->conn.server_handle = wsi;
        if (s->meeting) dc_meeting_conn_opened(s->meeting, &ss->conn);
        return 0;

    case LWS_CALLBACK_RECEIVE: on_receive(ss, in, len); return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE: return write_next_frame(ss);

    case LWS_CALLBACK_CLOSED:
        if (ss->link.data) g_queue_unlink(&s->sessions, &ss->link);
        ss->link.data = NULL;
        if (s->meeting) dc_meeting_conn_closed(s->meeting, &ss->conn);
        if (ss->out) g_queue_free_full(ss->out, unref_frame);
        ss->out = NULL;
        dc_message_buffer_free(&ss->rx);
        return 0;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* lws_cancel_service from an engine thread: events are waiting. */
        if (s && s->meeting) dc_meeting_poll_engine(s->meeting);
        return 0;

    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* Beside each heap line of a soak: the engine's packet counters, so that a loss in a long
 * run can be told apart by reason (drops are counted, never logged one by one). */
static void log_engine_counters(const sfu *engine)
{
    sfu_stats st;
    sfu_get_stats(engine, &st);
    fprintf(stderr, "engine: rx=%" PRIu64 " tx=%" PRIu64 " forwarded=%" PRIu64, st.rx_packets, st.tx_packets,
            st.rtp_forwarded);
    for (int r = 0; r < SFU_DROP_REASONS; r++)
        fprintf(stderr, " drop_%s=%" PRIu64, sfu_drop_reason_name((sfu_drop_reason)r), st.drops[r]);
    fprintf(stderr, " transports=%" PRIu64 " streams=%" PRIu64 " slots=%" PRIu64, st.transports, st.streams, st.slots);
    fprintf(stderr, " tcp=%" PRIu64 " tcp_accepted=%" PRIu64 " tcp_refused=%" PRIu64 " tcp_closed_bad=%" PRIu64 "\n",
            st.tcp_connections, st.tcp_accepted, st.tcp_refused, st.tcp_closed_bad);
    fflush(stderr);
}

static void sweep(lws_sorted_usec_list_t *sul)
{
    dc_server *s = lws_container_of(sul, dc_server, sweep_timer);
    /* a frame header that announced too much but whose payload does not come */
    for (GList *l = s->sessions.head; l; l = l->next) {
        session *ss = l->data;
        if (!ss->closing && announced_too_large(ss, 0)) refuse_too_large(ss);
    }
    if (s->meeting) dc_meeting_sweep(s->meeting);
    if (dc_heap_log_maybe(&s->heap_log, g_get_monotonic_time()) && s->engine) log_engine_counters(s->engine);
    lws_sul_schedule(s->context, 0, &s->sweep_timer, sweep, SWEEP_INTERVAL_US);
}

static void wake_lws(void *user)
{
    dc_server *s = user;
    lws_cancel_service(s->context);
}


dc_server *dc_server_new(const dc_config *cfg, const dc_room_tree *tree, char *err, size_t err_len)
{
    if (!dc_startup_check_listen(cfg->bind_ip, cfg->http_port, err, err_len)) return NULL;
    if (cfg->tls_cert[0] && !dc_tls_files_check(cfg->tls_cert, cfg->tls_key, err, err_len)) return NULL;
    dc_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->mount = (struct lws_http_mount){
        .mountpoint = "/",
        .mountpoint_len = 1,
        .origin = s->cfg.web_root,
        .def = "index.html",
        .origin_protocol = LWSMPRO_FILE,
    };
    s->protocols[0] = (struct lws_protocols){
        .name = DC_SUBPROTOCOL,
        .callback = callback,
        .per_session_data_size = sizeof(session),
        /* lws keeps a receive buffer this size per WebSocket (an idle participant holds it);
         * longer messages (SDP offers and answers) come in parts, gathered in session.rx */
        .rx_buffer_size = 1024,
    };
    s->api = dc_http_api_new();
    if (!s->api) {
        snprintf(err, err_len, "out of memory");
        free(s);
        return NULL;
    }
    if (s->cfg.record_path[0] && !(s->record = dc_record_open(s->cfg.record_path, err, err_len))) {
        dc_http_api_free(s->api);
        free(s);
        return NULL;
    }
    dc_dev_token_routes(s->api, &s->cfg);
    dc_admin_routes(s->api, &s->cfg);
    dc_admin_live_routes(s->api, &s->cfg, &s->meeting);
    s->metrics = (dc_metrics_sources){&s->cfg, &s->meeting, &s->engine, &s->sessions, g_get_real_time()};
    dc_metrics_routes(s->api, &s->metrics);
    s->protocols[1] = dc_http_lws_protocol(s->api);
    s->metrics_mount = dc_http_lws_mount(DC_METRICS_PATH, &s->mount);
    s->admin_mount = dc_http_lws_mount("/admin", &s->metrics_mount);
    s->api_mount = dc_http_lws_mount("/api", &s->admin_mount);

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = s->cfg.http_port;
    /* lws takes an interface name or address; NULL listens on all of them. */
    info.iface = strcmp(s->cfg.bind_ip, "0.0.0.0") ? s->cfg.bind_ip : NULL;
    /* An IPv4 address on lws's default dual-stack IPv6 socket would be ignored. */
    if (info.iface && !strchr(info.iface, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    /* WebSocket PING after 15 s of silence, hang up after 30 s: a vanished client (laptop
     * lid closed, Wi-Fi gone) then enters its resume grace instead of lingering forever. */
    static const lws_retry_bo_t keepalive = {.secs_since_valid_ping = 15, .secs_since_valid_hangup = 30};
    info.retry_and_idle_policy = &keepalive;
    info.protocols = s->protocols;
    info.mounts = &s->api_mount;
    info.user = s;
    if (s->cfg.tls_cert[0]) {
        /* a plain http:// request on the TLS port gets a redirect to https:// on the same
         * port instead of a reset (plain ws:// is refused in upgrade_refusal) */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT |
                        LWS_SERVER_OPTION_REDIRECT_HTTP_TO_HTTPS;
        info.ssl_cert_filepath = s->cfg.tls_cert;
        info.ssl_private_key_filepath = s->cfg.tls_key;
    }
    s->context = lws_create_context(&info);
    if (!s->context) {
        snprintf(err, err_len,
                 "libwebsockets could not start the web server on %s port %d (its own lines "
                 "above say why)",
                 s->cfg.bind_ip, s->cfg.http_port);
        dc_record_close(s->record);
        dc_http_api_free(s->api);
        free(s);
        return NULL;
    }
    s->vhost = lws_get_vhost_by_name(s->context, "default");
    int port = s->vhost ? lws_get_vhost_listen_port(s->vhost) : s->cfg.http_port;
    s->http_port = (uint16_t)(port > 0 ? port : s->cfg.http_port);

    sfu_config engine_cfg = {
        .bind_ip = s->cfg.media_bind_ip,
        .first_port = (uint16_t)s->cfg.media_port,
        .workers = dc_config_workers(&s->cfg),
        .consent_timeout_ms = s->cfg.consent_timeout_ms,
        .max_queue_delay_ms = s->cfg.max_queue_delay_ms > 0 ? s->cfg.max_queue_delay_ms : -1,
        .ice_tcp = s->cfg.ice_tcp,
        .tcp_port = (uint16_t)(s->cfg.media_tcp_port < 0 ? s->cfg.media_port : s->cfg.media_tcp_port),
        .nack_disabled = !s->cfg.nack,
    };
    s->engine = sfu_new(&engine_cfg, wake_lws, s);
    if (!s->engine) {
        snprintf(err, err_len, "cannot start the media engine on %s port %d", s->cfg.media_bind_ip, s->cfg.media_port);
        lws_context_destroy(s->context);
        dc_record_close(s->record);
        dc_http_api_free(s->api);
        free(s);
        return NULL;
    }

    dc_meeting_io io = {.send = meeting_send, .close = meeting_close, .user = s};
    s->meeting = dc_meeting_new(&s->cfg, s->engine, s->record, &io);
    if (!s->meeting) {
        snprintf(err, err_len, "out of memory");
        dc_server_free(s);
        return NULL;
    }
    dc_meeting_set_room_tree(s->meeting, tree);
    dc_heap_log_init(&s->heap_log, g_get_monotonic_time());
    lws_sul_schedule(s->context, 0, &s->sweep_timer, sweep, SWEEP_INTERVAL_US);
    uint16_t ports[256];
    size_t n_ports = dc_server_media_ports(s, ports, 256);
    dc_startup_banner(stdout, stderr, &s->cfg, s->http_port, ports, n_ports);
    uint16_t tcp_port = sfu_tcp_port(s->engine);
    if (tcp_port)
        printf("  media (TCP)           %s port %u, ICE-TCP for networks that block UDP\n", s->cfg.media_bind_ip,
               tcp_port);
    else printf("  media (TCP)           off (ice_tcp false): a network that blocks UDP needs TURN\n");
    printf("  TURN                  %s\n", s->cfg.turn_urls[0] && s->cfg.turn_secret_len ? s->cfg.turn_urls : "none");
    fflush(stdout);
    return s;
}

uint16_t dc_server_http_port(const dc_server *s) { return s->http_port; }

uint16_t dc_server_media_tcp_port(const dc_server *s) { return sfu_tcp_port(s->engine); }

size_t dc_server_media_ports(const dc_server *s, uint16_t *ports, size_t max)
{
    /* worker i serves the rooms whose id is i modulo the worker count (sfu.h) */
    size_t n = (size_t)dc_config_workers(&s->cfg);
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) ports[i] = sfu_room_port(s->engine, (uint32_t)i);
    return n;
}

void dc_server_run(dc_server *s, volatile sig_atomic_t *stop)
{
    /* lws_service returns at least every SWEEP_INTERVAL_US (timer) or on a signal. */
    while (!*stop)
        if (lws_service(s->context, 0) < 0) break;
}

void dc_server_free(dc_server *s)
{
    if (!s) return;
    /* Order matters: the meeting goes first (connections closing below must not touch it),
     * then the engine (its threads call wake_lws, which needs the context), then lws. */
    dc_meeting *meeting = s->meeting;
    s->meeting = NULL;
    dc_meeting_free(meeting);
    if (s->context) lws_sul_cancel(&s->sweep_timer);
    sfu_free(s->engine);
    s->engine = NULL;
    if (s->context) lws_context_destroy(s->context);
    dc_record_close(s->record);
    dc_http_api_free(s->api);
    free(s);
}
