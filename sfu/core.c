/* One worker's in-memory engine (core.h). */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "router.h"
#include "transport.h"
#include "uplink.h"

sfu_core *sfu_core_new(const sfu_core_settings *cfg, sfu_tx_full_fn tx_full, void *tx_full_user)
{
    sfu_core *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cfg = *cfg;
    c->tx_full = tx_full;
    c->tx_full_user = tx_full_user;
    c->rx.batch_no = 1;
    c->transports = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->transports_by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
    c->transports_by_addr = g_hash_table_new(sfu_addr_key_hash, sfu_addr_key_equal);
    c->streams = g_hash_table_new(g_direct_hash, g_direct_equal);
    c->slots = g_hash_table_new(g_direct_hash, g_direct_equal);
    char name[16];
    snprintf(name, sizeof name, "sfu-dtls-%d", cfg->index);
    c->dtls_thread = sfu_arena_thread_new(name);
    c->ice = sfu_ice_agent_new();
    c->tx = calloc(1, sizeof *c->tx);
    if (!sfu_event_queue_init(&c->events, cfg->wake, cfg->wake_user) || !c->ice || !c->tx) {
        sfu_core_free(c);
        return NULL;
    }
    return c;
}

static void destroy_all(GHashTable *table, void (*destroy)(void *))
{
    GList *values = g_hash_table_get_values(table);
    for (GList *l = values; l; l = l->next) destroy(l->data);
    g_list_free(values);
}

static void destroy_transport(void *t) { sfu_transport_destroy(t); }
static void destroy_stream(void *st) { sfu_stream_destroy(st); }
static void destroy_slot(void *slot) { sfu_slot_destroy(slot); }

void sfu_core_free(sfu_core *c)
{
    if (!c) return;
    /* transports take their streams and slots with them; what is left is unattached */
    destroy_all(c->transports, destroy_transport);
    destroy_all(c->streams, destroy_stream);
    destroy_all(c->slots, destroy_slot);
    g_hash_table_destroy(c->transports);
    g_hash_table_destroy(c->transports_by_ufrag);
    g_hash_table_destroy(c->transports_by_addr);
    g_hash_table_destroy(c->streams);
    g_hash_table_destroy(c->slots);
    sfu_arena_thread_free(c->dtls_thread); /* after the transports: they free DTLS on it */
    if (c->ice) sfu_ice_agent_free(c->ice);
    sfu_event_queue_free(&c->events);
    free(c->tx);
    free(c);
}

static void *find(GHashTable *table, uint32_t id)
{
    return id ? g_hash_table_lookup(table, GUINT_TO_POINTER(id)) : NULL;
}

/* Applies one command; returns why it failed and, in *about, the transport it concerned. */
static const char *apply(sfu_core *c, const sfu_cmd *cmd, uint32_t *about)
{
    const char *why = NULL;
    switch (cmd->type) {
    case SFU_CMD_TRANSPORT_ADD:
        *about = cmd->id;
        if (find(c->transports, cmd->id)) return "transport: id already in use";
        sfu_transport_new(c, cmd->id, cmd->room_id, cmd->ufrag, cmd->pwd, cmd->fingerprint, cmd->dtls_client, &why);
        return why;
    case SFU_CMD_TRANSPORT_SET_PEER: {
        sfu_transport *t = find(c->transports, cmd->id);
        *about = cmd->id;
        if (!t || t->room_id != cmd->room_id) return "transport: unknown transport";
        sfu_transport_learn_peer(t, cmd->fingerprint, cmd->dtls_client);
        return NULL;
    }
    case SFU_CMD_TRANSPORT_SET_TWCC: {
        sfu_transport *t = find(c->transports, cmd->id);
        *about = cmd->id;
        if (!t || t->room_id != cmd->room_id) return "transport: unknown transport";
        if (cmd->ext_id > 14) return "transport: a transport-wide-cc extension id must be 1–14";
        return sfu_router_set_twcc(t, cmd->ext_id) ? NULL : "transport: out of memory";
    }
    case SFU_CMD_TRANSPORT_SET_TWCC_FEEDBACK: {
        sfu_transport *t = find(c->transports, cmd->id);
        *about = cmd->id;
        if (!t || t->room_id != cmd->room_id) return "transport: unknown transport";
        if (cmd->ext_id > 14) return "transport: a transport-wide-cc extension id must be 1–14";
        return sfu_uplink_set_twcc(t, cmd->ext_id) ? NULL : "transport: out of memory";
    }
    case SFU_CMD_TRANSPORT_REMOVE: {
        sfu_transport *t = find(c->transports, cmd->id);
        if (t && t->room_id == cmd->room_id) sfu_transport_destroy(t);
        return NULL;
    }
    case SFU_CMD_STREAM_ADD:
        *about = cmd->stream.transport_id;
        if (find(c->streams, cmd->id)) return "stream: id already in use";
        sfu_stream_create(c, &cmd->stream, &why);
        return why;
    case SFU_CMD_STREAM_REMOVE: {
        sfu_stream *st = find(c->streams, cmd->id);
        if (st && st->desc.room_id == cmd->room_id) sfu_stream_destroy(st);
        return NULL;
    }
    case SFU_CMD_STREAM_SET_FORWARDING: {
        sfu_stream *st = find(c->streams, cmd->id);
        if (!st || st->desc.room_id != cmd->room_id) return "stream: unknown stream";
        *about = st->desc.transport_id;
        sfu_stream_set_gate(st, cmd->forward);
        return NULL;
    }
    case SFU_CMD_SLOT_ADD:
        *about = cmd->target_id;
        if (find(c->slots, cmd->id)) return "slot: id already in use";
        sfu_slot_create(c, cmd->id, cmd->room_id, cmd->target_id, cmd->kind, cmd->ssrc, &why);
        return why;
    case SFU_CMD_SLOT_POINT: {
        sfu_slot *slot = find(c->slots, cmd->id);
        sfu_stream *st = find(c->streams, cmd->target_id);
        if (!slot || slot->room_id != cmd->room_id) return "slot: unknown slot";
        *about = slot->transport->id;
        if (cmd->target_id && !st) return "slot: unknown stream";
        return sfu_slot_set_source(slot, st, cmd->pt) ? NULL : "slot: stream of another kind or room";
    }
    case SFU_CMD_SLOT_SET_QUALITY: {
        sfu_slot *slot = find(c->slots, cmd->id);
        if (!slot || slot->room_id != cmd->room_id) return "slot: unknown slot";
        *about = slot->transport->id;
        sfu_slot_apply_quality(slot, (sfu_quality)cmd->quality, cmd->max_tid);
        return NULL;
    }
    case SFU_CMD_TCP_ADOPT: return "tcp: not a core command"; /* the worker takes these */
    case SFU_CMD_SLOT_SET_PRIORITY: {
        sfu_slot *slot = find(c->slots, cmd->id);
        if (!slot || slot->room_id != cmd->room_id) return "slot: unknown slot";
        slot->priority = cmd->priority; /* the allocator's next round (≤ 100 ms) follows */
        return NULL;
    }
    case SFU_CMD_TRANSPORT_SET_BUDGET: {
        sfu_transport *t = find(c->transports, cmd->id);
        *about = cmd->id;
        if (!t || t->room_id != cmd->room_id) return "transport: unknown transport";
        t->site_budget_bps = cmd->budget_bps;
        return NULL;
    }
    case SFU_CMD_SLOT_SET_RTX: {
        sfu_slot *slot = find(c->slots, cmd->id);
        if (!slot || slot->room_id != cmd->room_id) return "slot: unknown slot";
        slot->repair.rtx = cmd->rtx;
        return NULL;
    }
    case SFU_CMD_SLOT_SET_RED: {
        sfu_slot *slot = find(c->slots, cmd->id);
        if (!slot || slot->room_id != cmd->room_id) return "slot: unknown slot";
        slot->out_red_pt = cmd->pt;
        return NULL;
    }
    case SFU_CMD_SLOT_REMOVE: {
        sfu_slot *slot = find(c->slots, cmd->id);
        if (slot && slot->room_id == cmd->room_id) sfu_slot_destroy(slot);
        return NULL;
    }
    }
    return "unknown command";
}

void sfu_core_apply(sfu_core *c, const sfu_cmd *cmd)
{
    uint32_t about = 0;
    const char *why = apply(c, cmd, &about);
    if (why) sfu_out_event(c, SFU_EV_COMMAND_FAILED, about, why);
}

void sfu_core_on_datagram(sfu_core *c, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                          socklen_t from_len, bool late)
{
    sfu_count(&c->counters.rx_packets, 1);
    sfu_count(&c->counters.rx_bytes, len);
    sfu_pkt_kind kind = sfu_pkt_classify(buf, len);
    if (late && kind == SFU_PKT_RTP) {
        sfu_count_drop(c, SFU_DROP_LATE);
        return;
    }
    if (kind == SFU_PKT_STUN) {
        sfu_transport_on_stun(c, buf, len, from, from_len);
        return;
    }
    if (kind == SFU_PKT_UNKNOWN) {
        sfu_count_drop(c, SFU_DROP_MALFORMED);
        return;
    }
    /* everything else must come from an address ICE has bound to a transport */
    sfu_transport *t = sfu_transport_by_addr(c, from);
    if (!t) {
        sfu_count_drop(c, SFU_DROP_UNKNOWN_SOURCE);
        return;
    }
    if (kind == SFU_PKT_DTLS) sfu_transport_on_dtls(t, buf, len);
    else if (kind == SFU_PKT_RTP) sfu_router_on_rtp(t, buf, len);
    else sfu_router_on_rtcp(t, buf, len);
}

void sfu_core_on_tcp_closed(sfu_core *c, uint32_t conn_id, const char *why)
{
    struct sockaddr_storage addr;
    socklen_t len;
    struct sockaddr_storage none = {0};
    sfu_tcp_addr_make(&addr, &len, conn_id, &none, 0);
    sfu_transport_on_path_closed(c, &addr, why);
}

void sfu_core_end_batch(sfu_core *c) { sfu_router_fan_out(c); }

void sfu_core_tick(sfu_core *c, int64_t now_us)
{
    c->now_us = now_us;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) sfu_transport_tick(value, now_us);
    sfu_router_tick(c, now_us);
}
