/* The media engine: starts the workers, routes control commands to the worker that owns
 * the room, and carries events back to the signaling thread.
 *
 * Control traffic is rare (joins, publishes), so it may take a mutex; the packet path
 * never does. Which worker owns a transport or stream is remembered here, because the
 * remove calls name only the id. */
#include "sfu.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

#define SFU_EVENT_QUEUE_MAX 4096

struct sfu {
    sfu_config cfg;
    sfu_dtls_cert *cert;
    sfu_worker **workers;
    int n_workers;

    pthread_mutex_t lock; /* guards the two maps and the event queue */
    GHashTable *transport_owner; /* transport id → worker index + 1 */
    GHashTable *stream_owner;    /* stream id → worker index + 1 */
    GQueue events;               /* sfu_event* */
    sfu_wake_fn wake;
    void *wake_user;
};

sfu *sfu_new(const sfu_config *cfg, sfu_wake_fn wake, void *wake_user)
{
    if (!sfu_srtp_global_init()) {
        fprintf(stderr, "sfu: libsrtp initialisation failed\n");
        return NULL;
    }
    sfu *s = calloc(1, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.workers < 1) s->cfg.workers = 1;
    if (s->cfg.consent_timeout_ms <= 0) s->cfg.consent_timeout_ms = 30000;
    if (s->cfg.dtls_linger_ms <= 0) s->cfg.dtls_linger_ms = 10000;
    if (s->cfg.max_queue_delay_ms == 0) s->cfg.max_queue_delay_ms = 250;
    s->wake = wake;
    s->wake_user = wake_user;
    pthread_mutex_init(&s->lock, NULL);
    g_queue_init(&s->events);
    s->transport_owner = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->stream_owner = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->cert = sfu_dtls_cert_new();
    if (!s->cert) {
        fprintf(stderr, "sfu: could not create the DTLS certificate\n");
        sfu_free(s);
        return NULL;
    }
    s->workers = calloc((size_t)s->cfg.workers, sizeof *s->workers);
    for (int i = 0; i < s->cfg.workers; i++) {
        uint16_t port = cfg->first_port ? (uint16_t)(cfg->first_port + i) : 0;
        s->workers[i] = sfu_worker_new(s, i, cfg->bind_ip ? cfg->bind_ip : "0.0.0.0", port);
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
    g_queue_clear_full(&s->events, free);
    g_hash_table_destroy(s->transport_owner);
    g_hash_table_destroy(s->stream_owner);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

sfu_dtls_cert *sfu_engine_cert(const sfu *s) { return s->cert; }
int sfu_consent_timeout_ms(const sfu *s) { return s->cfg.consent_timeout_ms; }
int sfu_dtls_linger_ms(const sfu *s) { return s->cfg.dtls_linger_ms; }
int sfu_max_queue_delay_ms(const sfu *s) { return s->cfg.max_queue_delay_ms; }
const char *sfu_fingerprint(const sfu *s) { return sfu_dtls_cert_fingerprint(s->cert); }

static sfu_worker *worker_for_room(const sfu *s, uint32_t room_id)
{
    return s->workers[room_id % (uint32_t)s->n_workers];
}

uint16_t sfu_room_port(const sfu *s, uint32_t room_id) { return worker_for_room(s, room_id)->port; }
sfu_worker *sfu_engine_worker(const sfu *s, uint32_t room_id) { return worker_for_room(s, room_id); }

/* Remembers (or forgets, with w == NULL) which worker owns an id; returns the owner. */
static sfu_worker *owner(sfu *s, GHashTable *map, uint32_t id, sfu_worker *w, bool forget)
{
    pthread_mutex_lock(&s->lock);
    gpointer key = GUINT_TO_POINTER(id);
    if (w) g_hash_table_insert(map, key, GINT_TO_POINTER(w->index + 1));
    int idx = GPOINTER_TO_INT(g_hash_table_lookup(map, key));
    if (forget) g_hash_table_remove(map, key);
    pthread_mutex_unlock(&s->lock);
    return idx ? s->workers[idx - 1] : NULL;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void sfu_transport_add(sfu *s, uint32_t transport_id, uint32_t room_id, const char *ice_ufrag,
                       const char *ice_pwd, const char *peer_fingerprint, bool dtls_client)
{
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_ADD, .id = transport_id, .room_id = room_id,
                 .dtls_client = dtls_client};
    copy_str(c.ufrag, sizeof c.ufrag, ice_ufrag);
    copy_str(c.pwd, sizeof c.pwd, ice_pwd);
    copy_str(c.fingerprint, sizeof c.fingerprint, peer_fingerprint);
    sfu_worker *w = worker_for_room(s, room_id);
    owner(s, s->transport_owner, transport_id, w, false);
    sfu_worker_post(w, &c);
}

void sfu_transport_remove(sfu *s, uint32_t transport_id)
{
    sfu_worker *w = owner(s, s->transport_owner, transport_id, NULL, true);
    if (!w) return;
    sfu_cmd c = {.type = SFU_CMD_TRANSPORT_REMOVE, .id = transport_id};
    sfu_worker_post(w, &c);
}

void sfu_stream_add(sfu *s, const sfu_stream_desc *desc)
{
    sfu_cmd c = {.type = SFU_CMD_STREAM_ADD, .id = desc->stream_id, .room_id = desc->room_id,
                 .stream = *desc};
    sfu_worker *w = worker_for_room(s, desc->room_id);
    owner(s, s->stream_owner, desc->stream_id, w, false);
    sfu_worker_post(w, &c);
}

void sfu_stream_remove(sfu *s, uint32_t stream_id)
{
    sfu_worker *w = owner(s, s->stream_owner, stream_id, NULL, true);
    if (!w) return;
    sfu_cmd c = {.type = SFU_CMD_STREAM_REMOVE, .id = stream_id};
    sfu_worker_post(w, &c);
}

void sfu_slot_add(sfu *s, uint32_t slot_id, uint32_t transport_id, uint32_t room_id,
                  sfu_kind kind, uint32_t out_ssrc)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_ADD, .id = slot_id, .room_id = room_id,
                 .target_id = transport_id, .kind = kind, .ssrc = out_ssrc};
    sfu_worker_post(worker_for_room(s, room_id), &c);
}

void sfu_slot_point(sfu *s, uint32_t slot_id, uint32_t room_id, uint32_t stream_id, uint8_t out_pt)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_POINT, .id = slot_id, .room_id = room_id,
                 .target_id = stream_id, .pt = out_pt};
    sfu_worker_post(worker_for_room(s, room_id), &c);
}

void sfu_slot_remove(sfu *s, uint32_t slot_id, uint32_t room_id)
{
    sfu_cmd c = {.type = SFU_CMD_SLOT_REMOVE, .id = slot_id, .room_id = room_id};
    sfu_worker_post(worker_for_room(s, room_id), &c);
}

void sfu_emit_event(sfu *s, sfu_event_type type, uint32_t id, const char *detail)
{
    sfu_event *ev = calloc(1, sizeof *ev);
    ev->type = type;
    ev->id = id;
    copy_str(ev->detail, sizeof ev->detail, detail);
    pthread_mutex_lock(&s->lock);
    if (s->events.length < SFU_EVENT_QUEUE_MAX) {
        g_queue_push_tail(&s->events, ev);
        ev = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(ev); /* queue full: the signaling thread is not draining; drop */
    if (s->wake) s->wake(s->wake_user);
}

size_t sfu_poll_events(sfu *s, sfu_event *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    while (n < max && s->events.length) {
        sfu_event *ev = g_queue_pop_head(&s->events);
        out[n++] = *ev;
        free(ev);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

void sfu_get_stats(const sfu *s, sfu_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->n_workers; i++) {
        const sfu_counters *c = &s->workers[i]->counters;
        out->rx_packets += c->rx_packets;
        out->rx_bytes += c->rx_bytes;
        out->tx_packets += c->tx_packets;
        out->tx_bytes += c->tx_bytes;
        out->rtp_forwarded += c->rtp_forwarded;
        out->drop_malformed += c->drop_malformed;
        out->drop_unknown_source += c->drop_unknown_source;
        out->drop_stun_auth += c->drop_stun_auth;
        out->drop_srtp += c->drop_srtp;
        out->drop_dtls += c->drop_dtls;
        out->drop_no_route += c->drop_no_route + c->drop_tx_full;
        out->drop_late += c->drop_late;
        out->tx_gso_sends += c->tx_gso_sends;
        out->tx_gso_segments += c->tx_gso_segments;
        /* sizes of the tables are read racily; good enough for a dashboard */
        out->transports += g_hash_table_size(s->workers[i]->transports);
        out->streams += g_hash_table_size(s->workers[i]->streams);
        out->slots += g_hash_table_size(s->workers[i]->slots);
    }
}
