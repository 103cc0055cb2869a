/* The media engine: starts the workers, routes control commands to the worker that owns
 * the room, and drains the workers' events for the signaling thread.
 *
 * Every call names the room, and a room is pinned to a worker, so no table of owners is
 * kept here and no lock is taken. */
#include "sfu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dtls/dtls.h"
#include "ice/ice_lite.h"
#include "net/tcp_listen.h"
#include "sfu_internal.h"
#include "srtp/srtp_session.h"
#include "worker.h"

struct sfu {
    sfu_config cfg;
    sfu_dtls_cert *cert;
    sfu_worker **workers;
    int n_workers;
    _Atomic unsigned poll_start; /* the worker sfu_poll_events drains first, in turn */

    /* ICE-TCP: one listener for every worker; a connection goes to the worker of the room
     * whose transport its first binding request names, looked up here (the signaling
     * thread writes, the listener thread reads: a lock, never on the packet path) */
    sfu_tcp_listen *tcp;
    pthread_mutex_t ufrag_lock;
    GHashTable *room_by_ufrag;      /* char* ufrag → room id */
    GHashTable *ufrag_by_transport; /* transport id → char* ufrag (owns the key strings) */
};

static const char *const drop_names[SFU_DROP_REASONS] = {
    [SFU_DROP_MALFORMED] = "malformed", [SFU_DROP_UNKNOWN_SOURCE] = "unknown_source",
    [SFU_DROP_STUN_AUTH] = "stun_auth", [SFU_DROP_SRTP] = "srtp",
    [SFU_DROP_DTLS] = "dtls",           [SFU_DROP_TX_FULL] = "tx_full",
    [SFU_DROP_LATE] = "late",           [SFU_DROP_NOT_ALLOWED] = "not_allowed",
    [SFU_DROP_TCP_FULL] = "tcp_full",
};

const char *sfu_drop_reason_name(sfu_drop_reason r) { return (unsigned)r < SFU_DROP_REASONS ? drop_names[r] : "?"; }

void sfu_random_string(char *buf, size_t len) { sfu_ice_random_string(buf, len); }

static sfu_worker *worker_for_room(const sfu *s, uint32_t room_id);

/* The listener's question (tcp_listen.h): whose is this connection? The worker of the
 * transport named by the first binding request's ufrag gets the socket and the frame. */
static bool route_tcp(void *user, int fd, const struct sockaddr_storage *peer, socklen_t peer_len, const uint8_t *frame,
                      size_t len)
{
    sfu *s = user;
    char ufrag[SFU_ICE_UFRAG_MAX + 1];
    if (!sfu_ice_local_ufrag(frame, len, ufrag)) return false;
    pthread_mutex_lock(&s->ufrag_lock);
    gpointer room;
    bool known = g_hash_table_lookup_extended(s->room_by_ufrag, ufrag, NULL, &room);
    pthread_mutex_unlock(&s->ufrag_lock);
    if (!known) return false;
    sfu_cmd c = {.type = SFU_CMD_TCP_ADOPT,
                 .room_id = GPOINTER_TO_UINT(room),
                 .tcp_fd = fd,
                 .tcp_peer_len = peer_len,
                 .tcp_frame_len = len};
    memcpy(&c.tcp_peer, peer, peer_len);
    c.tcp_frame = malloc(len);
    if (!c.tcp_frame) return false;
    memcpy(c.tcp_frame, frame, len);
    if (!sfu_worker_post(worker_for_room(s, c.room_id), &c)) {
        free(c.tcp_frame);
        return false;
    }
    return true;
}

uint16_t sfu_tcp_port(const sfu *s) { return s->tcp ? sfu_tcp_listen_port(s->tcp) : 0; }

sfu *sfu_new(const sfu_config *cfg, sfu_wake_fn wake, void *wake_user)
{
    if (!sfu_srtp_global_init()) {
        fprintf(stderr, "sfu: libsrtp initialisation failed\n");
        return NULL;
    }
    sfu *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    if (s->cfg.workers < 1) s->cfg.workers = 1;
    if (s->cfg.consent_timeout_ms <= 0) s->cfg.consent_timeout_ms = 30000;
    if (s->cfg.dtls_linger_ms <= 0) s->cfg.dtls_linger_ms = 10000;
    if (s->cfg.max_queue_delay_ms == 0) s->cfg.max_queue_delay_ms = 250;
    pthread_mutex_init(&s->ufrag_lock, NULL);
    s->room_by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
    s->ufrag_by_transport = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->cert = sfu_dtls_cert_new();
    s->workers = calloc((size_t)s->cfg.workers, sizeof *s->workers);
    if (!s->cert || !s->workers) {
        fprintf(stderr, "sfu: could not create the DTLS certificate\n");
        sfu_free(s);
        return NULL;
    }
    for (int i = 0; i < s->cfg.workers; i++) {
        sfu_worker_settings ws = {
            .core = {.index = i,
                     .consent_timeout_ms = s->cfg.consent_timeout_ms,
                     .dtls_linger_ms = s->cfg.dtls_linger_ms,
                     .max_queue_delay_ms = s->cfg.max_queue_delay_ms,
                     .nack_disabled = s->cfg.nack_disabled,
                     .cert = s->cert,
                     .wake = wake,
                     .wake_user = wake_user},
            .bind_ip = cfg->bind_ip ? cfg->bind_ip : "0.0.0.0",
            .port = cfg->first_port ? (uint16_t)(cfg->first_port + i) : 0,
        };
        s->workers[i] = sfu_worker_new(&ws);
        if (!s->workers[i]) {
            sfu_free(s);
            return NULL;
        }
        s->n_workers = i + 1;
    }
    if (s->cfg.ice_tcp) {
        s->tcp = sfu_tcp_listen_new(cfg->bind_ip ? cfg->bind_ip : "0.0.0.0", cfg->tcp_port, route_tcp, s);
        if (!s->tcp) {
            sfu_free(s);
            return NULL;
        }
    }
    for (int i = 0; i < s->n_workers; i++) {
        if (!sfu_worker_start(s->workers[i])) {
            sfu_free(s);
            return NULL;
        }
    }
    if (s->tcp && !sfu_tcp_listen_start(s->tcp)) {
        sfu_free(s);
        return NULL;
    }
    return s;
}

void sfu_free(sfu *s)
{
    if (!s) return;
    sfu_tcp_listen_free(s->tcp); /* first: it hands sockets to the workers */
    for (int i = 0; i < s->n_workers; i++) sfu_worker_free(s->workers[i]);
    if (s->room_by_ufrag) g_hash_table_destroy(s->room_by_ufrag);
    if (s->ufrag_by_transport) g_hash_table_destroy(s->ufrag_by_transport);
    pthread_mutex_destroy(&s->ufrag_lock);
    free(s->workers);
    if (s->cert) sfu_dtls_cert_free(s->cert);
    free(s);
}

const char *sfu_fingerprint(const sfu *s) { return sfu_dtls_cert_fingerprint(s->cert); }

static sfu_worker *worker_for_room(const sfu *s, uint32_t room_id)
{
    return s->workers[room_id % (uint32_t)s->n_workers];
}

uint16_t sfu_room_port(const sfu *s, uint32_t room_id) { return worker_for_room(s, room_id)->udp.port; }
sfu_worker *sfu_room_worker(const sfu *s, uint32_t room_id) { return worker_for_room(s, room_id); }

/* Queues the command on the room's worker; a command that cannot even be queued is
 * reported like one the worker could not apply. */
static void post(sfu *s, const sfu_cmd *c, uint32_t about)
{
    sfu_worker *w = worker_for_room(s, c->room_id);
    if (!sfu_worker_post(w, c)) sfu_event_push(&w->core->events, SFU_EV_COMMAND_FAILED, about, "out of memory");
}

static void copy_str(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

void sfu_transport_add(sfu *s, uint32_t transport_id, uint32_t room_id, const char *ice_ufrag, const char *ice_pwd,
                       const char *peer_fingerprint, bool dtls_client)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_ADD, .id = transport_id, .room_id = room_id, .dtls_client = dtls_client};
    copy_str(c.ufrag, sizeof c.ufrag, ice_ufrag);
    copy_str(c.pwd, sizeof c.pwd, ice_pwd);
    copy_str(c.fingerprint, sizeof c.fingerprint, peer_fingerprint);
    if (s->tcp && c.ufrag[0]) {
        char *key = g_strdup(c.ufrag);
        pthread_mutex_lock(&s->ufrag_lock);
        const char *old = g_hash_table_lookup(s->ufrag_by_transport, GUINT_TO_POINTER(transport_id));
        if (old) g_hash_table_remove(s->room_by_ufrag, old);
        g_hash_table_insert(s->room_by_ufrag, key, GUINT_TO_POINTER(room_id));
        g_hash_table_replace(s->ufrag_by_transport, GUINT_TO_POINTER(transport_id), key);
        pthread_mutex_unlock(&s->ufrag_lock);
    }
    post(s, &c, transport_id);
}

void sfu_transport_set_peer(sfu *s, uint32_t transport_id, uint32_t room_id, const char *peer_fingerprint,
                            bool dtls_client)
{
    sfu_cmd c = {
        .type = SFU_CMD_TRANSPORT_SET_PEER, .id = transport_id, .room_id = room_id, .dtls_client = dtls_client};
    copy_str(c.fingerprint, sizeof c.fingerprint, peer_fingerprint);
    post(s, &c, transport_id);
}

void sfu_transport_set_twcc(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_SET_TWCC, .id = transport_id, .room_id = room_id, .ext_id = ext_id};
    post(s, &c, transport_id);
}

void sfu_transport_set_twcc_feedback(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_SET_TWCC_FEEDBACK, .id = transport_id, .room_id = room_id, .ext_id = ext_id};
    post(s, &c, transport_id);
}

void sfu_transport_set_budget(sfu *s, uint32_t transport_id, uint32_t room_id, uint32_t budget_bps)
{
    sfu_cmd c = {
        .type = SFU_CMD_TRANSPORT_SET_BUDGET, .id = transport_id, .room_id = room_id, .budget_bps = budget_bps};
    post(s, &c, transport_id);
}

void sfu_transport_remove(sfu *s, uint32_t transport_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_REMOVE, .id = transport_id, .room_id = room_id};
    if (s->tcp) {
        pthread_mutex_lock(&s->ufrag_lock);
        const char *key = g_hash_table_lookup(s->ufrag_by_transport, GUINT_TO_POINTER(transport_id));
        if (key) g_hash_table_remove(s->room_by_ufrag, key);
        g_hash_table_remove(s->ufrag_by_transport, GUINT_TO_POINTER(transport_id)); /* frees key */
        pthread_mutex_unlock(&s->ufrag_lock);
    }
    post(s, &c, transport_id);
}

void sfu_stream_add(sfu *s, const sfu_stream_desc *desc)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_ADD, .id = desc->stream_id, .room_id = desc->room_id, .stream = *desc};
    c.stream.mid[sizeof c.stream.mid - 1] = 0;
    post(s, &c, desc->transport_id);
}

void sfu_stream_remove(sfu *s, uint32_t stream_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_REMOVE, .id = stream_id, .room_id = room_id};
    post(s, &c, 0);
}

void sfu_stream_set_forwarding(sfu *s, uint32_t stream_id, uint32_t room_id, bool forward)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_SET_FORWARDING, .id = stream_id, .room_id = room_id, .forward = forward};
    post(s, &c, 0);
}

void sfu_slot_add(sfu *s, uint32_t slot_id, uint32_t transport_id, uint32_t room_id, sfu_kind kind, uint32_t out_ssrc)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_ADD,
                 .id = slot_id,
                 .room_id = room_id,
                 .target_id = transport_id,
                 .kind = kind,
                 .ssrc = out_ssrc};
    post(s, &c, transport_id);
}

void sfu_slot_point(sfu *s, uint32_t slot_id, uint32_t room_id, uint32_t stream_id, uint8_t out_pt)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_POINT, .id = slot_id, .room_id = room_id, .target_id = stream_id, .pt = out_pt};
    post(s, &c, 0);
}

void sfu_slot_set_rtx(sfu *s, uint32_t slot_id, uint32_t room_id, const sfu_slot_rtx *rtx)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_SET_RTX, .id = slot_id, .room_id = room_id, .rtx = *rtx};
    post(s, &c, 0);
}

void sfu_slot_set_red(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t red_pt)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_SET_RED, .id = slot_id, .room_id = room_id, .pt = red_pt};
    post(s, &c, 0);
}

void sfu_slot_remove(sfu *s, uint32_t slot_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_REMOVE, .id = slot_id, .room_id = room_id};
    post(s, &c, 0);
}

void sfu_slot_set_quality(sfu *s, uint32_t slot_id, uint32_t room_id, sfu_quality quality, uint8_t max_temporal_layer)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_SET_QUALITY,
                 .id = slot_id,
                 .room_id = room_id,
                 .quality = (uint8_t)quality,
                 .max_tid = max_temporal_layer};
    post(s, &c, 0);
}

void sfu_slot_set_priority(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t priority)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_SET_PRIORITY, .id = slot_id, .room_id = room_id, .priority = priority};
    post(s, &c, 0);
}

size_t sfu_poll_events(sfu *s, sfu_event *out, size_t max)
{
    /* start at a different worker each call, so a busy one cannot starve the others */
    unsigned first = atomic_fetch_add_explicit(&s->poll_start, 1, memory_order_relaxed);
    size_t n = 0;
    for (int i = 0; i < s->n_workers && n < max; i++) {
        sfu_worker *w = s->workers[(first + (unsigned)i) % (unsigned)s->n_workers];
        n += sfu_event_drain(&w->core->events, out + n, max - n);
    }
    return n;
}

static uint64_t load(const _Atomic uint64_t *counter) { return atomic_load_explicit(counter, memory_order_relaxed); }

static void add_counters(const sfu_counters *c, sfu_stats *out)
{
    out->rx_packets += load(&c->rx_packets);
    out->rx_bytes += load(&c->rx_bytes);
    out->tx_packets += load(&c->tx_packets);
    out->tx_bytes += load(&c->tx_bytes);
    out->rtp_forwarded += load(&c->rtp_forwarded);
    for (int r = 0; r < SFU_DROP_REASONS; r++) out->drops[r] += load(&c->drops[r]);
    out->tx_gso_sends += load(&c->tx_gso_sends);
    out->tx_gso_segments += load(&c->tx_gso_segments);
    out->transports += load(&c->transports);
    out->streams += load(&c->streams);
    out->slots += load(&c->slots);
    out->tcp_connections += load(&c->tcp_connections);
    out->tcp_closed_bad += load(&c->tcp_closed_bad);
    out->keyframe_requests_in += load(&c->keyframe_requests_in);
    out->keyframe_requests_out += load(&c->keyframe_requests_out);
}

void sfu_get_stats(const sfu *s, sfu_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->n_workers; i++) add_counters(&s->workers[i]->core->counters, out);
    if (s->tcp) sfu_tcp_listen_counts(s->tcp, &out->tcp_accepted, &out->tcp_refused);
}

int sfu_worker_count(const sfu *s) { return s->n_workers; }

bool sfu_get_worker_stats(const sfu *s, int worker, sfu_stats *out, uint64_t *cpu_ns)
{
    memset(out, 0, sizeof *out);
    *cpu_ns = 0;
    if (worker < 0 || worker >= s->n_workers) return false;
    const sfu_worker *w = s->workers[worker];
    add_counters(&w->core->counters, out);
    /* the thread's own CPU clock: read from here without disturbing the worker */
    clockid_t clock;
    struct timespec used;
    if (w->thread_started && !pthread_getcpuclockid(w->thread, &clock) && !clock_gettime(clock, &used))
        *cpu_ns = (uint64_t)used.tv_sec * 1000000000u + (uint64_t)used.tv_nsec;
    return true;
}
