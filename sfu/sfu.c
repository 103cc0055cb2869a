/* The media engine: starts the workers, routes control commands to the worker that owns
 * the room, and drains the workers' events for the signaling thread.
 *
 * Every call names the room, and a room is pinned to a worker, so no table of owners is
 * kept here and no lock is taken. */
#include "sfu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"
#include "ice/ice_lite.h"
#include "sfu_internal.h"
#include "srtp/srtp_session.h"
#include "worker.h"

struct sfu {
    sfu_config cfg;
    sfu_dtls_cert *cert;
    sfu_worker **workers;
    int n_workers;
    _Atomic unsigned poll_start; /* the worker sfu_poll_events drains first, in turn */
};

static const char *const drop_names[SFU_DROP_REASONS] = {
    [SFU_DROP_MALFORMED] = "malformed", [SFU_DROP_UNKNOWN_SOURCE] = "unknown_source",
    [SFU_DROP_STUN_AUTH] = "stun_auth", [SFU_DROP_SRTP] = "srtp",
    [SFU_DROP_DTLS] = "dtls",           [SFU_DROP_TX_FULL] = "tx_full",
    [SFU_DROP_LATE] = "late",           [SFU_DROP_NOT_ALLOWED] = "not_allowed",
};

const char *sfu_drop_reason_name(sfu_drop_reason r) { return (unsigned)r < SFU_DROP_REASONS ? drop_names[r] : "?"; }

void sfu_random_string(char *buf, size_t len) { sfu_ice_random_string(buf, len); }

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
    for (int i = 0; i < s->n_workers; i++) {
        if (!sfu_worker_start(s->workers[i])) {
            sfu_free(s);
            return NULL;
        }
    }
    return s;
}

void sfu_free(sfu *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_workers; i++) sfu_worker_free(s->workers[i]);
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

void sfu_transport_remove(sfu *s, uint32_t transport_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_REMOVE, .id = transport_id, .room_id = room_id};
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

void sfu_slot_remove(sfu *s, uint32_t slot_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_REMOVE, .id = slot_id, .room_id = room_id};
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

void sfu_get_stats(const sfu *s, sfu_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->n_workers; i++) {
        const sfu_counters *c = &s->workers[i]->core->counters;
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
    }
}
