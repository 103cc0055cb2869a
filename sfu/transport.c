/* One PeerConnection as the server sees it (transport.h).
 *
 * ICE-lite means the browser's connectivity checks are the only proof that an address
 * belongs to the transport: a datagram that is not STUN is accepted only from an address
 * that a valid, authenticated check came from. The latest nominated address wins, so a
 * client that changes network (or its NAT binding) keeps its call.
 *
 * Consent (RFC 7675) is judged by any authenticated sign of life from the bound address:
 * a connectivity check, SRTP or SRTCP that authenticates (router.c), a DTLS record. A
 * peer that is slow to send its checks but keeps sending media so stays connected. */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "router.h"
#include "uplink.h"

sfu_transport *sfu_transport_by_addr(sfu_core *c, const struct sockaddr_storage *from)
{
    sfu_addr_key k;
    sfu_addr_key_from(&k, from);
    return g_hash_table_lookup(c->transports_by_addr, &k);
}

static void dtls_send(void *user, const uint8_t *data, size_t len)
{
    sfu_transport *t = user;
    if (t->has_addr) sfu_out_copy(t->core, &t->addr, t->addr_len, data, len);
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
        t->dtls = sfu_dtls_new(t->core->cfg.cert, t->dtls_client ? SFU_DTLS_ROLE_CLIENT : SFU_DTLS_ROLE_SERVER,
                               t->peer_fingerprint, dtls_send, t);
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
    sfu_arena_thread_run(t->core->dtls_thread, run_dtls_call, &c);
    return c.state;
}

sfu_transport *sfu_transport_new(sfu_core *c, uint32_t id, uint32_t room_id, const char *ufrag, const char *pwd,
                                 const char *peer_fp, bool dtls_client, const char **why)
{
    if (g_hash_table_contains(c->transports_by_ufrag, ufrag)) { /* ufrags are unique */
        *why = "transport: ICE ufrag already in use";
        return NULL;
    }
    sfu_transport *t = calloc(1, sizeof *t);
    if (!t) {
        *why = "transport: out of memory";
        return NULL;
    }
    t->id = id;
    t->room_id = room_id;
    t->core = c;
    snprintf(t->ufrag, sizeof t->ufrag, "%s", ufrag);
    snprintf(t->pwd, sizeof t->pwd, "%s", pwd);
    t->slots = g_ptr_array_new();
    t->rtcp_ssrc = (uint32_t)g_random_int() | 1;
    if (peer_fp && *peer_fp) sfu_transport_learn_peer(t, peer_fp, dtls_client);
    g_hash_table_insert(c->transports, GUINT_TO_POINTER(id), t);
    g_hash_table_insert(c->transports_by_ufrag, t->ufrag, t);
    sfu_count(&c->counters.transports, 1);
    *why = NULL;
    return t;
}

/* From here on the peer is known: DTLS can start, and so does the consent clock (a
 * transport made for an offer waits for the answer, however late it comes). A second
 * peer is a new peer connection answering the same offer: the old DTLS association and
 * keys go, the address its checks bound stays (they often come before its answer). */
void sfu_transport_learn_peer(sfu_transport *t, const char *peer_fp, bool dtls_client)
{
    if (t->dtls || t->srtp) t->core->released_memory = true;
    if (t->dtls) dtls_run(t, DTLS_FREE, NULL, 0);
    if (t->srtp) sfu_srtp_free(t->srtp);
    t->srtp = NULL;
    t->timeout_reported = false;
    snprintf(t->peer_fingerprint, sizeof t->peer_fingerprint, "%s", peer_fp);
    t->dtls_client = dtls_client;
    t->peer_set_us = t->core->now_us;
    dtls_run(t, DTLS_NEW, NULL, 0);
    if (!t->dtls) sfu_out_event(t->core, SFU_EV_TRANSPORT_FAILED, t->id, "bad peer fingerprint");
    else if (t->has_addr && dtls_client) /* its checks came before its answer */ dtls_run(t, DTLS_START, NULL, 0);
}

static void unbind_addr(sfu_transport *t)
{
    if (t->has_addr && g_hash_table_lookup(t->core->transports_by_addr, &t->addr_key) == t)
        g_hash_table_remove(t->core->transports_by_addr, &t->addr_key);
    t->has_addr = false;
}

void sfu_transport_destroy(sfu_transport *t)
{
    sfu_core *c = t->core;
    while (t->n_streams) sfu_stream_destroy(t->streams[0]);
    while (t->slots->len) sfu_slot_destroy(g_ptr_array_index(t->slots, 0));
    g_ptr_array_free(t->slots, TRUE);
    unbind_addr(t);
    g_hash_table_remove(c->transports_by_ufrag, t->ufrag);
    g_hash_table_remove(c->transports, GUINT_TO_POINTER(t->id));
    if (t->dtls) dtls_run(t, DTLS_FREE, NULL, 0);
    if (t->srtp) sfu_srtp_free(t->srtp);
    free(t->bwe);
    sfu_uplink_free(t);
    free(t);
    sfu_count(&c->counters.transports, (uint64_t)-1);
    c->released_memory = true;
}

static bool lookup_pwd(void *user, const char *ufrag, size_t ufrag_len, const char **pwd, size_t *pwd_len)
{
    sfu_core *c = user;
    char key[SFU_ICE_UFRAG_MAX + 1];
    if (ufrag_len > SFU_ICE_UFRAG_MAX) return false;
    memcpy(key, ufrag, ufrag_len);
    key[ufrag_len] = 0;
    sfu_transport *t = g_hash_table_lookup(c->transports_by_ufrag, key);
    if (!t) return false;
    *pwd = t->pwd;
    *pwd_len = strlen(t->pwd);
    return true;
}

/* Datagrams already queued to the old address keep it: the send batch holds copies of
 * the destinations (net/udp.h), so rewriting t->addr here cannot redirect them. */
static void bind_addr(sfu_transport *t, const struct sockaddr_storage *from, socklen_t from_len)
{
    sfu_addr_key k;
    sfu_addr_key_from(&k, from);
    if (t->has_addr && memcmp(&k, &t->addr_key, sizeof k) == 0) return;
    /* another transport on this exact address (a stale one) loses it */
    sfu_transport *other = g_hash_table_lookup(t->core->transports_by_addr, &k);
    if (other && other != t) unbind_addr(other);
    unbind_addr(t);
    memcpy(&t->addr, from, from_len);
    t->addr_len = from_len;
    t->addr_key = k;
    t->has_addr = true;
    g_hash_table_insert(t->core->transports_by_addr, &t->addr_key, t);
}

void sfu_transport_on_stun(sfu_core *c, const uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                           socklen_t from_len)
{
    sfu_ice_answer_t answer;
    socklen_t wire_len = from_len;
    const struct sockaddr *wire = sfu_addr_wire(from, &wire_len); /* an ICE-TCP peer's own address */
    sfu_ice_result r = sfu_ice_answer(c->ice, buf, len, wire, wire_len, lookup_pwd, c, &answer);
    if (r == SFU_ICE_ROLE_CONFLICT) {
        sfu_out_copy(c, from, from_len, answer.reply, answer.reply_len);
        return;
    }
    if (r != SFU_ICE_REPLY) {
        if (r == SFU_ICE_UNAUTHORIZED || r == SFU_ICE_UNKNOWN_UFRAG) sfu_count_drop(c, SFU_DROP_STUN_AUTH);
        else if (r == SFU_ICE_MALFORMED) sfu_count_drop(c, SFU_DROP_MALFORMED);
        return;
    }
    sfu_transport *t = g_hash_table_lookup(c->transports_by_ufrag, answer.local_ufrag);
    if (!t) return;
    sfu_out_copy(c, from, from_len, answer.reply, answer.reply_len);
    t->last_alive_us = t->last_check_us = c->now_us;
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
    bool ok = sfu_dtls_srtp_keys(t->dtls, &keys) && (t->srtp = sfu_srtp_new(&keys));
    /* the outbound groups of slots made before the handshake, here rather than on the
     * packet path */
    for (guint i = 0; ok && i < t->slots->len; i++)
        ok = sfu_srtp_prepare_group(t->srtp, ((sfu_slot *)g_ptr_array_index(t->slots, i))->srtp_group);
    if (!ok) {
        sfu_srtp_free(t->srtp);
        t->srtp = NULL;
        sfu_out_event(t->core, SFU_EV_TRANSPORT_FAILED, t->id, "SRTP key setup failed");
        return;
    }
    t->connected_us = t->core->now_us;
    sfu_out_event(t->core, SFU_EV_TRANSPORT_CONNECTED, t->id, sfu_srtp_profile_name(keys.profile));
}

void sfu_transport_on_dtls(sfu_transport *t, const uint8_t *buf, size_t len)
{
    if (!t->dtls) { /* never made (bad fingerprint) or released after the handshake */
        sfu_count_drop(t->core, SFU_DROP_DTLS);
        return;
    }
    sfu_dtls_state before = sfu_dtls_get_state(t->dtls);
    sfu_dtls_state after = dtls_run(t, DTLS_HANDLE, buf, len);
    if (after == SFU_DTLS_HANDSHAKING || after == SFU_DTLS_CONNECTED) t->last_alive_us = t->core->now_us;
    if (before == after) return;
    if (after == SFU_DTLS_CONNECTED) on_dtls_connected(t);
    else if (after == SFU_DTLS_FAILED) sfu_out_event(t->core, SFU_EV_TRANSPORT_FAILED, t->id, sfu_dtls_error(t->dtls));
    else if (after == SFU_DTLS_CLOSED) sfu_out_event(t->core, SFU_EV_TRANSPORT_TIMEOUT, t->id, "DTLS closed by peer");
}

/* Says how long the peer has been silent, so that a log shows at once whether it stopped
 * sending (and since when) or never started (docs/CONSENT.md). */
static void report_timeout(const sfu_transport *t, int64_t silent_us, int64_t now_us)
{
    char why[sizeof((sfu_event *)0)->detail];
    if (t->last_check_us)
        snprintf(why, sizeof why, "ICE consent expired: nothing authenticated for %.1f s, last check %.1f s ago",
                 (double)silent_us / 1e6, (double)(now_us - t->last_check_us) / 1e6);
    else
        snprintf(why, sizeof why, "no ICE connectivity check in the %.1f s since the answer",
                 (double)(now_us - t->peer_set_us) / 1e6);
    sfu_out_event(t->core, SFU_EV_TRANSPORT_TIMEOUT, t->id, why);
}

void sfu_transport_tick(sfu_transport *t, int64_t now_us)
{
    sfu_core *c = t->core;
    if (t->dtls && sfu_dtls_get_state(t->dtls) == SFU_DTLS_HANDSHAKING) {
        int ms = sfu_dtls_timeout_ms(t->dtls);
        if (ms == 0) dtls_run(t, DTLS_TIMEOUT, NULL, 0);
    } else if (t->dtls && t->srtp && now_us - t->connected_us > (int64_t)c->cfg.dtls_linger_ms * 1000) {
        /* the DTLS object (~45 KiB with OpenSSL) only serves the handshake and a peer's
         * retransmitted final flight; SRTP needs only the exported keys */
        dtls_run(t, DTLS_FREE, NULL, 0);
        c->released_memory = true;
    }
    if (t->timeout_reported || !t->peer_fingerprint[0]) return; /* no answer yet: no clock */
    int64_t last = MAX(t->last_alive_us, t->peer_set_us);
    if (now_us - last > (int64_t)c->cfg.consent_timeout_ms * 1000) {
        /* consent lost (RFC 7675): stop sending to the address; signaling decides the rest */
        t->timeout_reported = true;
        unbind_addr(t);
        report_timeout(t, now_us - last, now_us);
    }
}

void sfu_transport_on_path_closed(sfu_core *c, const struct sockaddr_storage *addr, const char *why)
{
    sfu_transport *t = sfu_transport_by_addr(c, addr);
    if (!t) return; /* no transport uses it (any more): nothing is lost */
    unbind_addr(t);
    if (t->timeout_reported) return;
    t->timeout_reported = true; /* as a consent loss: signaling decides the rest */
    sfu_out_event(c, SFU_EV_TRANSPORT_TIMEOUT, t->id, why);
}
