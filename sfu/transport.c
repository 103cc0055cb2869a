/* One PeerConnection as the server sees it: ICE-lite address binding and consent,
 * the DTLS handshake and, once it completes, the SRTP session the router uses.
 *
 * ICE-lite means the browser's connectivity checks are the only proof that an address
 * belongs to the transport: a datagram that is not STUN is accepted only from an address
 * that a valid, authenticated check came from. The latest nominated address wins, so a
 * client that changes network (or its NAT binding) keeps its call. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"


static void addr_key_from(sfu_addr_key *k, const struct sockaddr_storage *ss)
{
    memset(k, 0, sizeof *k);
    k->family = ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        k->port = sin->sin_port;
        memcpy(k->addr, &sin->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        k->port = sin6->sin6_port;
        memcpy(k->addr, &sin6->sin6_addr, 16);
    }
}

sfu_transport *sfu_transport_by_addr(sfu_worker *w, const struct sockaddr_storage *from)
{
    sfu_addr_key k;
    addr_key_from(&k, from);
    return g_hash_table_lookup(w->transports_by_addr, &k);
}

static void dtls_send(void *user, const uint8_t *data, size_t len)
{
    sfu_transport *t = user;
    if (t->has_addr) sfu_worker_send_now(t->worker, &t->addr, t->addr_len, data, len);
}

/* --- DTLS calls, run on the worker's arena thread (arena_thread.h) -------------------- */

typedef enum { DTLS_NEW, DTLS_START, DTLS_HANDLE, DTLS_TIMEOUT, DTLS_FREE } dtls_op;

typedef struct {
    dtls_op op;
    sfu_transport *t;
    const uint8_t *buf;
    size_t len;
    sfu_dtls_state state; /* DTLS_HANDLE's result */
} dtls_call;

static void run_dtls_call(void *p)
{
    dtls_call *c = p;
    sfu_transport *t = c->t;
    switch (c->op) {
    case DTLS_NEW:
        t->dtls = sfu_dtls_new(sfu_engine_cert(t->worker->engine),
                               t->dtls_client ? SFU_DTLS_ROLE_CLIENT : SFU_DTLS_ROLE_SERVER, t->peer_fingerprint,
                               dtls_send, t);
        break;
    case DTLS_START: sfu_dtls_start(t->dtls); break;
    case DTLS_HANDLE: c->state = sfu_dtls_handle(t->dtls, c->buf, c->len); break;
    case DTLS_TIMEOUT: sfu_dtls_on_timeout(t->dtls); break;
    case DTLS_FREE:
        sfu_dtls_free(t->dtls);
        t->dtls = NULL;
        break;
    }
}

static sfu_dtls_state dtls_run(sfu_transport *t, dtls_op op, const uint8_t *buf, size_t len)
{
    dtls_call c = {.op = op, .t = t, .buf = buf, .len = len};
    sfu_arena_thread_run(t->worker->dtls_thread, run_dtls_call, &c);
    return c.state;
}

sfu_transport *sfu_transport_new(sfu_worker *w, uint32_t id, uint32_t room_id, const char *ufrag,
                                 const char *pwd, const char *peer_fp, bool dtls_client)
{
    if (g_hash_table_contains(w->transports_by_ufrag, ufrag)) return NULL; /* ufrags are unique */
    sfu_transport *t = calloc(1, sizeof *t);
    t->id = id;
    t->room_id = room_id;
    t->worker = w;
    snprintf(t->ufrag, sizeof t->ufrag, "%s", ufrag);
    snprintf(t->pwd, sizeof t->pwd, "%s", pwd);
    snprintf(t->peer_fingerprint, sizeof t->peer_fingerprint, "%s", peer_fp);
    t->dtls_client = dtls_client;
    t->created_us = sfu_now_us();
    t->slots = g_ptr_array_new();
    t->rtcp_ssrc = (uint32_t)g_random_int() | 1;
    dtls_run(t, DTLS_NEW, NULL, 0);
    if (!t->dtls) sfu_emit_event(w->engine, SFU_EV_TRANSPORT_FAILED, id, "bad peer fingerprint");
    g_hash_table_insert(w->transports, GUINT_TO_POINTER(id), t);
    g_hash_table_insert(w->transports_by_ufrag, t->ufrag, t);
    return t;
}

static void unbind_addr(sfu_transport *t)
{
    if (t->has_addr && g_hash_table_lookup(t->worker->transports_by_addr, &t->addr_key) == t)
        g_hash_table_remove(t->worker->transports_by_addr, &t->addr_key);
    t->has_addr = false;
}

void sfu_transport_destroy(sfu_transport *t)
{
    sfu_worker *w = t->worker;
    while (t->n_streams) sfu_stream_destroy(t->streams[0]);
    while (t->slots->len) sfu_slot_destroy(g_ptr_array_index(t->slots, 0));
    g_ptr_array_free(t->slots, TRUE);
    unbind_addr(t);
    g_hash_table_remove(w->transports_by_ufrag, t->ufrag);
    g_hash_table_remove(w->transports, GUINT_TO_POINTER(t->id));
    if (t->dtls) dtls_run(t, DTLS_FREE, NULL, 0);
    if (t->srtp) sfu_srtp_free(t->srtp);
    free(t);
    w->released_memory = true;
}

static bool lookup_pwd(void *user, const char *ufrag, size_t ufrag_len, const char **pwd, size_t *pwd_len)
{
    sfu_worker *w = user;
    char key[SFU_ICE_UFRAG_MAX + 1];
    if (ufrag_len > SFU_ICE_UFRAG_MAX) return false;
    memcpy(key, ufrag, ufrag_len);
    key[ufrag_len] = 0;
    sfu_transport *t = g_hash_table_lookup(w->transports_by_ufrag, key);
    if (!t) return false;
    *pwd = t->pwd;
    *pwd_len = strlen(t->pwd);
    return true;
}

static void bind_addr(sfu_transport *t, const struct sockaddr_storage *from, socklen_t from_len)
{
    sfu_addr_key k;
    addr_key_from(&k, from);
    if (t->has_addr && memcmp(&k, &t->addr_key, sizeof k) == 0) return;
    /* another transport on this exact address (a stale one) loses it */
    sfu_transport *other = g_hash_table_lookup(t->worker->transports_by_addr, &k);
    if (other && other != t) unbind_addr(other);
    unbind_addr(t);
    memcpy(&t->addr, from, from_len);
    t->addr_len = from_len;
    t->addr_key = k;
    t->has_addr = true;
    g_hash_table_insert(t->worker->transports_by_addr, &t->addr_key, t);
}

void sfu_transport_on_stun(sfu_worker *w, const uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                           socklen_t from_len)
{
    sfu_ice_answer_t answer;
    sfu_ice_result r = sfu_ice_answer(w->ice, buf, len, (const struct sockaddr *)from, from_len, lookup_pwd, w, &answer);
    if (r == SFU_ICE_ROLE_CONFLICT) {
        sfu_worker_send_now(w, from, from_len, answer.reply, answer.reply_len);
        return;
    }
    if (r != SFU_ICE_REPLY) {
        if (r == SFU_ICE_UNAUTHORIZED || r == SFU_ICE_UNKNOWN_UFRAG)
            w->counters.drop_stun_auth++;
        else if (r == SFU_ICE_MALFORMED)
            w->counters.drop_malformed++;
        return;
    }
    sfu_transport *t = g_hash_table_lookup(w->transports_by_ufrag, answer.local_ufrag);
    if (!t) return;
    sfu_worker_send_now(w, from, from_len, answer.reply, answer.reply_len);
    t->last_check_us = sfu_now_us();
    t->timeout_reported = false;
    /* the first valid check binds; a nomination moves the binding */
    if (!t->has_addr || answer.use_candidate) {
        bool first = !t->has_addr;
        bind_addr(t, from, from_len);
        if (first && t->dtls && t->dtls_client) dtls_run(t, DTLS_START, NULL, 0);
    }
}

static void on_dtls_connected(sfu_transport *t)
{
    sfu_srtp_keys keys;
    if (!sfu_dtls_srtp_keys(t->dtls, &keys) || !(t->srtp = sfu_srtp_new(&keys))) {
        sfu_emit_event(t->worker->engine, SFU_EV_TRANSPORT_FAILED, t->id, "SRTP key setup failed");
        return;
    }
    t->connected_us = sfu_now_us();
    sfu_emit_event(t->worker->engine, SFU_EV_TRANSPORT_CONNECTED, t->id, sfu_srtp_profile_name(keys.profile));
}

void sfu_transport_on_dtls(sfu_transport *t, const uint8_t *buf, size_t len)
{
    if (!t->dtls) { /* never made (bad fingerprint) or released after the handshake */
        t->worker->counters.drop_dtls++;
        return;
    }
    sfu_dtls_state before = sfu_dtls_get_state(t->dtls);
    sfu_dtls_state after = dtls_run(t, DTLS_HANDLE, buf, len);
    if (before == after) return;
    if (after == SFU_DTLS_CONNECTED)
        on_dtls_connected(t);
    else if (after == SFU_DTLS_FAILED)
        sfu_emit_event(t->worker->engine, SFU_EV_TRANSPORT_FAILED, t->id, sfu_dtls_error(t->dtls));
    else if (after == SFU_DTLS_CLOSED)
        sfu_emit_event(t->worker->engine, SFU_EV_TRANSPORT_TIMEOUT, t->id, "DTLS closed by peer");
}

void sfu_transport_tick(sfu_transport *t, int64_t now_us)
{
    const sfu *engine = t->worker->engine;
    int consent_timeout_ms = sfu_consent_timeout_ms(engine);
    if (t->dtls && sfu_dtls_get_state(t->dtls) == SFU_DTLS_HANDSHAKING) {
        int ms = sfu_dtls_timeout_ms(t->dtls);
        if (ms == 0) dtls_run(t, DTLS_TIMEOUT, NULL, 0);
    } else if (t->dtls && t->srtp && now_us - t->connected_us > (int64_t)sfu_dtls_linger_ms(engine) * 1000) {
        /* the DTLS object (~45 KiB with OpenSSL) only serves the handshake and a peer's
         * retransmitted final flight; SRTP needs only the exported keys */
        dtls_run(t, DTLS_FREE, NULL, 0);
        t->worker->released_memory = true;
    }
    if (t->timeout_reported) return;
    int64_t last = t->last_check_us ? t->last_check_us : t->created_us;
    if (now_us - last > (int64_t)consent_timeout_ms * 1000) {
        /* consent lost (RFC 7675): stop sending to the address; signaling decides the rest */
        t->timeout_reported = true;
        unbind_addr(t);
        sfu_emit_event(t->worker->engine, SFU_EV_TRANSPORT_TIMEOUT, t->id,
                       t->last_check_us ? "ICE consent expired" : "no ICE connectivity check received");
    }
}
