/* The router: published streams, subscriber slots, and the forwarding of RTP and RTCP
 * between them. This is the per-packet path:
 *
 *   unprotect once → parse → stream by SSRC (a scan of the ≤ 8 streams of the transport
 *   the packet came on, which the 5-tuple hash already found) → audio level (one header
 *   extension octet, audio streams that negotiated it) → gate (a closed one drops here)
 *   → queue; at the end of the
 *   receive batch, per stream and per slot: copy into a batch buffer, rewrite SSRC /
 *   sequence / timestamp / payload type, protect, queue for sendmmsg.
 *
 * No allocation, lock, syscall or logging here; the owner of the core sends the batch
 * when the receive batch is done (or when it is full). Keyframe requests (PLI) travel
 * the other way: from a subscriber's slot to the stream's publisher, throttled per stream. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "bwe/bwe.h"
#include "output.h"
#include "red_forward.h"
#include "repair.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "rtp/twcc.h"
#include "simulcast.h"
#include "temporal.h"
#include "transport_budget.h"
#include "uplink.h"

#define KEYFRAME_REQUEST_INTERVAL_US 500000 /* per stream, whatever the subscribers */
#define SLOTS_PER_SRTP_GROUP 8
#define GSO_PAD_MAX 8

/* --- tables ----------------------------------------------------------------------- */

sfu_stream *sfu_stream_create(sfu_core *c, const sfu_stream_desc *desc, const char **why)
{
    sfu_transport *t = g_hash_table_lookup(c->transports, GUINT_TO_POINTER(desc->transport_id));
    *why = !t                                              ? "stream: unknown transport"
           : t->room_id != desc->room_id                   ? "stream: transport is in another room"
           : t->n_streams == SFU_MAX_STREAMS_PER_TRANSPORT ? "stream: too many streams on the transport"
                                                           : NULL;
    if (*why) return NULL;
    sfu_stream *st = calloc(1, sizeof *st);
    if (!st) {
        *why = "stream: out of memory";
        return NULL;
    }
    st->desc = *desc;
    st->desc.mid[sizeof st->desc.mid - 1] = 0;
    if (desc->kind != SFU_KIND_AUDIO) st->desc.audio_level_ext_id = 0; /* RFC 6464 is for audio */
    st->transport = t;
    if (!sfu_repair_stream_init(st)) {
        sfu_repair_stream_free(st);
        free(st);
        *why = "stream: out of memory";
        return NULL;
    }
    st->slots = g_ptr_array_new();
    sfu_layer_pause_init(&st->pause, st->desc.n_layers);
    t->streams[t->n_streams++] = st;
    g_hash_table_insert(c->streams, GUINT_TO_POINTER(desc->stream_id), st);
    sfu_count(&c->counters.streams, 1);
    return st;
}

void sfu_stream_destroy(sfu_stream *st)
{
    for (guint i = 0; i < st->slots->len; i++) ((sfu_slot *)g_ptr_array_index(st->slots, i))->source = NULL;
    g_ptr_array_free(st->slots, TRUE);
    sfu_transport *t = st->transport;
    for (size_t i = 0; i < t->n_streams; i++) {
        if (t->streams[i] == st) {
            t->streams[i] = t->streams[--t->n_streams];
            break;
        }
    }
    g_hash_table_remove(t->core->streams, GUINT_TO_POINTER(st->desc.stream_id));
    sfu_count(&t->core->counters.streams, (uint64_t)-1);
    sfu_repair_stream_free(st);
    free(st);
}

sfu_slot *sfu_slot_create(sfu_core *c, uint32_t id, uint32_t room_id, uint32_t transport_id, sfu_kind kind,
                          uint32_t out_ssrc, const char **why)
{
    sfu_transport *t = g_hash_table_lookup(c->transports, GUINT_TO_POINTER(transport_id));
    *why = !t ? "slot: unknown transport" : t->room_id != room_id ? "slot: transport is in another room" : NULL;
    if (*why) return NULL;
    sfu_slot *slot = calloc(1, sizeof *slot);
    if (!slot) {
        *why = "slot: out of memory";
        return NULL;
    }
    slot->id = id;
    slot->room_id = room_id;
    slot->transport = t;
    slot->kind = kind;
    slot->out_ssrc = out_ssrc;
    /* a few SSRCs per libsrtp session keep its per-packet stream lookup short */
    slot->srtp_group = (uint8_t)(t->slots_made++ / SLOTS_PER_SRTP_GROUP % SFU_SRTP_GROUPS);
    if (t->srtp && !sfu_srtp_prepare_group(t->srtp, slot->srtp_group)) { /* (else when DTLS connects) */
        free(slot);
        *why = "slot: out of memory";
        return NULL;
    }
    if (!sfu_repair_slot_init(slot)) {
        free(slot);
        *why = "slot: out of memory";
        return NULL;
    }
    slot->resync = true;
    sfu_simulcast_slot_init(&slot->layers);
    g_ptr_array_add(t->slots, slot);
    g_hash_table_insert(c->slots, GUINT_TO_POINTER(id), slot);
    sfu_count(&c->counters.slots, 1);
    return slot;
}

void sfu_slot_destroy(sfu_slot *slot)
{
    if (slot->source) g_ptr_array_remove_fast(slot->source->slots, slot);
    g_ptr_array_remove_fast(slot->transport->slots, slot);
    g_hash_table_remove(slot->transport->core->slots, GUINT_TO_POINTER(slot->id));
    sfu_count(&slot->transport->core->counters.slots, (uint64_t)-1);
    sfu_repair_slot_free(slot);
    free(slot);
}

/* --- keyframe requests ------------------------------------------------------------- */

/* A PLI to the publisher for the stream (a simulcast stream: for one layer), throttled
 * per stream (per layer). */
static void request_keyframe(sfu_stream *st, int layer, int64_t now)
{
    if (st->desc.kind != SFU_KIND_VIDEO) return;
    bool layered = st->desc.n_layers && layer >= 0 && layer < st->desc.n_layers;
    uint32_t ssrc = layered ? st->desc.layer_ssrcs[layer] : st->desc.ssrc;
    int64_t *last = layered ? &st->layers[layer].last_keyframe_request_us : &st->last_keyframe_request_us;
    if (ssrc == 0 || now - *last < KEYFRAME_REQUEST_INTERVAL_US) return;
    *last = now;
    sfu_transport *t = st->transport;
    uint8_t *buf = sfu_out_buf(t->core);
    if (!buf) return;
    sfu_out_rtcp(t, 0, buf, sfu_rtcp_write_pli(buf, SFU_TX_BUF, t->rtcp_ssrc, ssrc));
    sfu_count(&t->core->counters.keyframe_requests_out, 1);
}

bool sfu_slot_set_source(sfu_slot *slot, sfu_stream *source, uint8_t out_pt)
{
    bool fits = !source || (source->desc.kind == slot->kind && source->desc.room_id == slot->room_id);
    if (!fits) source = NULL;
    slot->out_pt = out_pt;
    if (source == slot->source) return fits;
    if (slot->source) g_ptr_array_remove_fast(slot->source->slots, slot);
    slot->source = source;
    slot->resync = true;
    slot->layers.current = -1;
    sfu_repair_repointed(slot);
    if (source) g_ptr_array_add(source->slots, slot);
    sfu_simulcast_retarget_slot(slot, slot->transport->core->now_us);
    /* the keyframe request goes out when the first packet from the new source is held
     * back (forward_to_slot), i.e. only once the subscriber can actually receive */
    return fits;
}

void sfu_slot_apply_quality(sfu_slot *slot, sfu_quality quality, uint8_t max_temporal_layer)
{
    sfu_slot_layers *l = &slot->layers;
    if (l->quality == SFU_QUALITY_OFF && quality != SFU_QUALITY_OFF) slot->resync = true; /* resumes at a keyframe */
    l->quality = (uint8_t)quality;
    l->max_tid = max_temporal_layer;
    sfu_temporal_cap(slot, l->tid_alloc); /* (a single-layer source's frames) */
    sfu_simulcast_retarget_slot(slot, slot->transport->core->now_us);
}

/* A closed gate leaves a gap in the stream's sequence numbers and timestamps: the slots
 * showing it re-base on the next packet that passes (a video slot waits for a keyframe),
 * so their receivers see one continuous stream; a sender report is not relayed to them
 * meanwhile (their offsets are unknown). */
void sfu_stream_set_gate(sfu_stream *st, bool forward)
{
    if (st->desc.blocked == !forward) return;
    st->desc.blocked = !forward;
    for (guint i = 0; i < st->slots->len; i++) ((sfu_slot *)g_ptr_array_index(st->slots, i))->resync = true;
    if (forward && st->slots->len) request_keyframe(st, -1, st->transport->core->now_us);
}

/* --- forwarding ------------------------------------------------------------------- */

/* The stream of an SSRC and, for a simulcast stream, its layer. */
static sfu_stream *stream_by_ssrc(sfu_transport *t, uint32_t ssrc, int *layer)
{
    *layer = 0;
    for (size_t i = 0; i < t->n_streams; i++) {
        sfu_stream *st = t->streams[i];
        if (st->desc.ssrc == ssrc && !st->desc.n_layers) return st; /* layer 0 */
        if (!st->desc.n_layers) continue;
        int l = sfu_simulcast_layer_of(st, ssrc);
        if (l >= 0) {
            *layer = l;
            return st;
        }
    }
    return NULL;
}

static sfu_stream *find_stream(sfu_transport *t, const uint8_t *buf, const sfu_rtp_header *h, int *layer)
{
    sfu_stream *known = stream_by_ssrc(t, h->ssrc, layer);
    if (known) return known;
    /* an SSRC the SDP did not announce: bind it through the mid header extension (the rid
     * extension for a simulcast layer) */
    for (size_t i = 0; i < t->n_streams; i++) {
        sfu_stream *st = t->streams[i];
        if (st->desc.n_layers) {
            if ((*layer = sfu_simulcast_learn(st, buf, h)) >= 0) return st;
            *layer = 0;
            continue;
        }
        const uint8_t *mid;
        size_t mid_len;
        if (st->desc.ssrc || !st->desc.mid_ext_id) continue;
        if (!sfu_rtp_find_ext(buf, h, st->desc.mid_ext_id, &mid, &mid_len)) continue;
        if (mid_len == strlen(st->desc.mid) && memcmp(mid, st->desc.mid, mid_len) == 0) {
            st->desc.ssrc = h->ssrc;
            return st;
        }
    }
    return NULL;
}

/* RFC 6464: one octet, the V (voice activity) bit and the level in −dBov, 0 (loudest) to
 * 127 (silence). Audio streams only (sfu_stream_create clears the id of others). */
static void measure_audio_level(sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h)
{
    const uint8_t *val;
    size_t len;
    if (!sfu_rtp_find_ext(buf, h, st->desc.audio_level_ext_id, &val, &len)) return;
    st->level_sum += 127u - (val[0] & 0x7fu);
    st->level_packets++;
    st->voice_packets += val[0] >> 7;
}

static bool is_keyframe(const sfu_stream *st, const uint8_t *buf, const sfu_rtp_header *h, sfu_vp8_descriptor *vp8)
{
    if (st->desc.kind != SFU_KIND_VIDEO) return false;
    const uint8_t *payload = buf + h->payload_off;
    if (st->desc.codec == SFU_CODEC_H264) return sfu_h264_is_keyframe(payload, h->payload_len);
    /* kept: a slot renumbers it, drops temporal layers, and the allocator reads the TIDs */
    return sfu_vp8_parse_descriptor(payload, h->payload_len, vp8) && vp8->keyframe;
}

/* Re-bases the slot's offsets so that the first packet of a (new) source continues the
 * slot's sequence numbers and advances its timestamp by the wall time since the last
 * packet: the receiver sees one continuous stream. */
static void rebase(sfu_slot *slot, const sfu_rtp_header *h, int64_t now)
{
    if (!slot->sent_any) {
        slot->seq_offset = 0;
        slot->ts_offset = 0;
    } else {
        uint32_t clock = slot->kind == SFU_KIND_AUDIO ? 48000 : 90000;
        int64_t elapsed = now - slot->last_sent_us;
        uint32_t ts_step = elapsed > 0 ? (uint32_t)(elapsed * clock / 1000000) : 0;
        if (ts_step == 0) ts_step = 1;
        slot->seq_offset = (uint16_t)(slot->last_seq + 1 - h->seq);
        slot->ts_offset = slot->last_ts + ts_step - h->ts;
    }
    slot->resync = false;
}


static void forward_to_slot(sfu_slot *slot, sfu_stream *st, const sfu_rx_pending *p, int64_t now)
{
    sfu_transport *out = slot->transport;
    sfu_core *c = out->core;
    const uint8_t *buf = p->buf;
    size_t len = p->len, pad = p->pad;
    const sfu_rtp_header *h = &p->h;
    if (!out->srtp || !out->has_addr) return; /* subscriber not connected (yet) */
    if (p->is_red && sfu_red_forward_skip(slot, p)) return;
    if (st->desc.n_layers || slot->layers.quality == SFU_QUALITY_OFF || slot->layers.paused ||
        sfu_temporal_capped(slot)) {
        sfu_sc_verdict v = sfu_simulcast_admit(slot, p);
        if (v == SFU_SC_WANT_KEYFRAME) request_keyframe(st, p->layer, now);
        if (v == SFU_SC_DROP || v == SFU_SC_WANT_KEYFRAME) return;
        if (v == SFU_SC_SWITCH) slot->resync = true; /* a new layer: re-based like a new source */
    }
    bool rebased = slot->resync;
    if (slot->resync) {
        if (slot->kind == SFU_KIND_VIDEO && !p->keyframe) {
            request_keyframe(st, -1, now); /* a decoder can only start at a keyframe */
            return;
        }
        rebase(slot, h, now);
    }
    uint8_t *ob = sfu_out_buf(c);
    if (!ob) return;
    int twcc_seq;
    size_t out_len = sfu_out_copy_numbered(ob, out, buf, len, h, &twcc_seq);
    uint16_t seq = (uint16_t)(h->seq + slot->seq_offset);
    uint32_t ts = h->ts + slot->ts_offset;
    uint8_t out_pt = slot->out_pt;
    if (p->is_red) out_pt = sfu_red_forward_adapt(slot, p, ob, ob + out_len - len + h->payload_off, &out_len);
    sfu_rtp_set_ssrc(ob, slot->out_ssrc);
    sfu_rtp_set_seq(ob, seq);
    sfu_rtp_set_ts(ob, ts);
    sfu_rtp_set_pt(ob, out_pt);
    /* the transport-wide number may have grown the header: the payload moved with it */
    if (p->vp8.has_picture_id)
        sfu_simulcast_rewrite_vp8(&slot->layers, ob + out_len - len + h->payload_off, p, rebased);
    sfu_repair_sent(slot, seq, h->seq, p->layer); /* what a NACK for seq is answered with */
    if (pad && !sfu_red_forward_strips(slot, p))
        sfu_rtp_add_padding(ob, &out_len, SFU_PKT_MAX, h, pad); /* best effort */
    if (sfu_srtp_protect_rtp_indexed(out->srtp, slot->srtp_group, &slot->srtp_index, ob, &out_len, SFU_TX_BUF) != 0) {
        sfu_count_drop(c, SFU_DROP_SRTP);
        sfu_out_numbered_sent(out, twcc_seq, 0, false);
        return;
    }
    sfu_out_commit(c, &out->addr, out->addr_len, out_len);
    sfu_out_numbered_sent(out, twcc_seq, out_len, true);
    out->link.packets_out++;
    out->link.octets_out += out_len;
    if (!slot->sent_any || (int16_t)(seq - slot->last_seq) > 0) {
        slot->last_seq = seq;
        slot->last_ts = ts;
        slot->last_sent_us = now;
    }
    slot->sent_any = true;
    sfu_count(&c->counters.rtp_forwarded, 1);
}

void sfu_router_on_rtp(sfu_transport *t, uint8_t *buf, size_t len)
{
    sfu_core *c = t->core;
    if (!t->srtp || sfu_srtp_unprotect_rtp(t->srtp, buf, &len) != 0) {
        sfu_count_drop(c, SFU_DROP_SRTP);
        return;
    }
    t->last_alive_us = c->now_us; /* it authenticated: the peer is there (consent) */
    t->link.packets_in++;
    t->link.octets_in += len;
    sfu_rtp_header h;
    if (!sfu_rtp_parse(buf, len, &h)) {
        sfu_count_drop(c, SFU_DROP_MALFORMED);
        return;
    }
    sfu_uplink_on_rtp(t, buf, &h, c->rx_arrival_us ? c->rx_arrival_us : c->now_us); /* the publisher's estimate */
    int layer;
    sfu_stream *st = find_stream(t, buf, &h, &layer);
    bool repaired = false;
    if (!st) { /* a publisher's RTX? unwrapped, it is found as the packet it repairs */
        st = sfu_repair_unwrap(t, buf, &len, &h, &repaired);
        if (st) st = find_stream(t, buf, &h, &layer);
    }
    if (!st || (h.pt != st->desc.pt && (!st->desc.red_pt || h.pt != st->desc.red_pt))) {
        if (!repaired) sfu_count_drop(c, SFU_DROP_UNKNOWN_SOURCE); /* (empty RTX: probing) */
        return;
    }
    if (!sfu_repair_on_rtp(st, (unsigned)layer, buf, len, &h, repaired)) return; /* a duplicate */
    if (!st->active_reported) {
        st->active_reported = true;
        sfu_out_event(c, SFU_EV_STREAM_ACTIVE, st->desc.stream_id, st->desc.mid);
    }
    if (st->desc.audio_level_ext_id) measure_audio_level(st, buf, &h);
    sfu_simulcast_on_rx(st, (unsigned)layer, len, c->now_us); /* (the allocator reads every stream's rate) */
    if (st->desc.blocked) {
        sfu_count_drop(c, SFU_DROP_NOT_ALLOWED);
        return;
    }
    if (st->slots->len == 0) return;
    bool is_red;
    sfu_red_info red;
    if (!sfu_red_forward_check(st, buf, &h, &is_red, &red)) {
        sfu_count_drop(c, SFU_DROP_MALFORMED);
        return;
    }

    /* queue for the fan-out at the end of the batch, chained to the stream's other
     * packets of this batch */
    sfu_rx_batch *rx = &c->rx;
    if (rx->count == SFU_RX_BATCH) sfu_router_fan_out(c); /* only if a caller skipped it */
    unsigned i = rx->count++;
    sfu_rx_pending *p = &rx->pkts[i];
    *p = (sfu_rx_pending){
        .buf = buf, .len = len, .h = h, .layer = (uint8_t)layer, .next = UINT16_MAX, .is_red = is_red};
    if (is_red) p->red = red;
    p->keyframe = is_keyframe(st, buf, &h, &p->vp8);
    if (!st->desc.n_layers) sfu_temporal_on_rx(st, &p->vp8, len, c->now_us);
    if (st->batch_no != rx->batch_no) {
        st->batch_no = rx->batch_no;
        st->batch_first = (uint16_t)i;
        st->batch_count = 0;
        rx->streams[rx->n_streams++] = st;
    } else {
        rx->pkts[st->batch_last].next = (uint16_t)i;
    }
    st->batch_last = (uint16_t)i;
    st->batch_count++;
}

/* UDP GSO sends a subscriber's run as one super-datagram only if every datagram but the
 * last has the same size. libwebrtc splits a frame into packets a byte apart (the last
 * ones larger), so without help a frame's run breaks in two. The shorter packets get RTP
 * padding up to the longest (RFC 3550 §5.1; receivers strip it) when that costs at most
 * GSO_PAD_MAX octets each. */
static void pad_for_gso(sfu_core *c, sfu_stream *st)
{
    if (!c->pad_for_gso || st->batch_count < 2) return;
    size_t longest = c->rx.pkts[st->batch_last].len, shortest = SIZE_MAX;
    for (unsigned i = st->batch_first; i != st->batch_last; i = c->rx.pkts[i].next) {
        size_t len = c->rx.pkts[i].len;
        if (len > longest) longest = len;
        if (len < shortest) shortest = len;
    }
    /* the last may stay shorter; a longer last sets the size */
    if (longest - shortest > GSO_PAD_MAX) return; /* the run breaks anyway */
    for (unsigned i = st->batch_first; i != st->batch_last; i = c->rx.pkts[i].next)
        c->rx.pkts[i].pad = (uint8_t)(longest - c->rx.pkts[i].len);
}

/* Each slot of the stream gets all of the stream's packets of this batch in a row. */
static void fan_out_stream(sfu_core *c, sfu_stream *st)
{
    int64_t now = c->now_us;
    pad_for_gso(c, st);
    for (guint s = 0; s < st->slots->len; s++) {
        sfu_slot *slot = g_ptr_array_index(st->slots, s);
        sfu_out_reserve(c, st->batch_count);
        for (unsigned i = st->batch_first; i != UINT16_MAX; i = c->rx.pkts[i].next)
            forward_to_slot(slot, st, &c->rx.pkts[i], now);
    }
}

/* Shortest first (audio, then video by packets in the batch; stable): the fan-out of one
 * batch is serial, so a big keyframe ahead of a small frame or an audio packet would add
 * its whole fan-out time to theirs, while the keyframe, decoded only once complete, loses
 * little by going last. */
static unsigned fan_out_weight(const sfu_stream *st) { return st->desc.kind == SFU_KIND_AUDIO ? 0 : st->batch_count; }

static void order_shortest_first(sfu_rx_batch *rx)
{
    for (unsigned k = 1; k < rx->n_streams; k++) { /* insertion sort: ≤ 64, mostly short */
        sfu_stream *st = rx->streams[k];
        unsigned j = k;
        for (; j > 0 && fan_out_weight(rx->streams[j - 1]) > fan_out_weight(st); j--)
            rx->streams[j] = rx->streams[j - 1];
        rx->streams[j] = st;
    }
}

void sfu_router_fan_out(sfu_core *c)
{
    sfu_rx_batch *rx = &c->rx;
    order_shortest_first(rx);
    for (unsigned k = 0; k < rx->n_streams; k++) fan_out_stream(c, rx->streams[k]);
    rx->count = 0;
    rx->n_streams = 0;
    if (++rx->batch_no == 0) rx->batch_no = 1; /* a new stream's batch_no is 0 */
}

/* --- feedback from subscribers ------------------------------------------------------ */

static void keyframe_wanted(sfu_transport *t, uint32_t out_ssrc, int64_t now)
{
    sfu_count(&t->core->counters.keyframe_requests_in, 1);
    sfu_slot *slot = sfu_slot_by_out_ssrc(t, out_ssrc);
    if (slot && slot->source) request_keyframe(slot->source, slot->layers.current, now);
}

/* A publisher's sender report, translated into each slot's SSRC and timestamp space, lets
 * the subscriber's browser synchronise audio with video (lip sync). */
static void relay_sender_report(sfu_transport *t, const sfu_rtcp_packet *p)
{
    uint64_t ntp;
    uint32_t rtp_ts, packets, octets;
    int layer;
    sfu_stream *st = stream_by_ssrc(t, p->sender_ssrc, &layer);
    if (!st || !sfu_rtcp_sr_info(p, &ntp, &rtp_ts, &packets, &octets)) return;
    sfu_repair_on_publisher_sr(st, (unsigned)layer, ntp);
    for (guint i = 0; i < st->slots->len; i++) {
        sfu_slot *slot = g_ptr_array_index(st->slots, i);
        if (slot->resync || !slot->sent_any) continue;                    /* offsets not known yet */
        if (st->desc.n_layers && slot->layers.current != layer) continue; /* another layer's clock */
        uint8_t *buf = sfu_out_buf(t->core);
        if (!buf) return;
        sfu_out_rtcp(
            slot->transport, slot->srtp_group, buf,
            sfu_rtcp_write_sr(buf, SFU_TX_BUF, slot->out_ssrc, ntp, rtp_ts + slot->ts_offset, packets, octets));
        sfu_repair_sr_relayed(slot, ntp);
    }
}

static void on_transport_feedback(sfu_transport *t, const sfu_rtcp_packet *p);

void sfu_router_on_rtcp(sfu_transport *t, uint8_t *buf, size_t len)
{
    sfu_core *c = t->core;
    if (!t->srtp || sfu_srtp_unprotect_rtcp(t->srtp, buf, &len) != 0) {
        sfu_count_drop(c, SFU_DROP_SRTP);
        return;
    }
    t->last_alive_us = c->now_us; /* it authenticated: the peer is there (consent) */
    sfu_rtcp_iter it;
    sfu_rtcp_packet p;
    sfu_rtcp_iter_init(&it, buf, len);
    while (sfu_rtcp_iter_next(&it, &p)) {
        if (p.pt == SFU_RTCP_SR || p.pt == SFU_RTCP_RR) {
            if (p.pt == SFU_RTCP_SR) relay_sender_report(t, &p);
            sfu_repair_on_reports(t, &p);
        } else if (p.pt == SFU_RTCP_RTPFB && p.fmt == 1) {
            sfu_slot *slot = sfu_slot_by_out_ssrc(t, p.media_ssrc);
            if (slot) sfu_repair_on_nack(slot, &p);
        } else if (p.pt == SFU_RTCP_PSFB && p.fmt == 1) {
            keyframe_wanted(t, p.media_ssrc, c->now_us);
        } else if (p.pt == SFU_RTCP_PSFB && p.fmt == 4) {
            for (size_t i = 0, n = sfu_rtcp_fir_count(&p); i < n; i++) {
                uint32_t ssrc;
                uint8_t seq;
                if (sfu_rtcp_fir_entry(&p, i, &ssrc, &seq)) keyframe_wanted(t, ssrc, c->now_us);
            }
        } else if (p.pt == SFU_RTCP_RTPFB && p.fmt == SFU_TWCC_FMT) {
            on_transport_feedback(t, &p);
        }
        /* SDES and REMB from peers are not read */
    }
}

/* Readings (audio levels, bandwidth, links) leave a tick in chunks: one sfu_out_readings call
 * per CHUNK events, not one per event. */
enum { READINGS_CHUNK = 64 };
typedef struct {
    sfu_core *c;
    sfu_event evs[READINGS_CHUNK];
    size_t n;
} readings;

static void readings_add(readings *r, sfu_event ev)
{
    r->evs[r->n++] = ev;
    if (r->n == READINGS_CHUNK) {
        sfu_out_readings(r->c, r->evs, r->n);
        r->n = 0;
    }
}

static void readings_flush(readings *r)
{
    if (r->n) sfu_out_readings(r->c, r->evs, r->n);
    r->n = 0;
}

/* One SFU_EV_AUDIO_LEVEL per stream that carried levels since the last report: the mean
 * loudness and the share of voice packets, rounded; then the stream starts over. */
static void report_audio_levels(sfu_core *c)
{
    readings r = {.c = c};
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->streams);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_stream *st = value;
        uint32_t packets = st->level_packets;
        if (!packets) continue;
        readings_add(&r, (sfu_event){.type = SFU_EV_AUDIO_LEVEL,
                                     .id = st->desc.stream_id,
                                     .audio_level = (uint8_t)((st->level_sum + packets / 2) / packets),
                                     .voice_percent = (uint8_t)((st->voice_packets * 100u + packets / 2) / packets)});
        st->level_sum = st->level_packets = st->voice_packets = 0;
    }
    readings_flush(&r);
}

/* Layers come and go (a publisher drops its top layer when its uplink is short): each
 * simulcast slot's target follows what arrives; a layer nobody wants is paused at the
 * publisher (SFU_EV_LAYERS to signaling), one wanted again resumed. */
static void retarget_layers(sfu_core *c, int64_t now_us)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->streams);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_stream *st = value;
        sfu_simulcast_retarget(st, now_us);
        sfu_temporal_measure(st, now_us);
        if (sfu_simulcast_update_pause(st, now_us))
            sfu_out_event_full(c, &(sfu_event){.type = SFU_EV_LAYERS,
                                               .id = st->desc.stream_id,
                                               .n_layers = st->desc.n_layers,
                                               .layers_active = st->pause.active});
    }
}

static void report_bandwidth(sfu_core *c, int64_t now_us);

/* SFU_EV_LINK for each transport whose peer is connected. */
static void report_links(sfu_core *c)
{
    readings r = {.c = c};
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const sfu_transport *t = value;
        if (t->srtp && t->has_addr) readings_add(&r, (sfu_event){.type = SFU_EV_LINK, .id = t->id, .link = t->link});
    }
    readings_flush(&r);
}

void sfu_router_tick(sfu_core *c, int64_t now_us)
{
    sfu_repair_tick(c, now_us);
    /* the worker ticks every 100 ms (at least), the interval of the audio level reports */
    if (now_us >= c->next_audio_level_us) {
        c->next_audio_level_us = now_us + SFU_AUDIO_LEVEL_INTERVAL_MS * 1000;
        report_audio_levels(c);
        retarget_layers(c, now_us);
        sfu_budget_tick(c, now_us);
    }
    if (now_us >= c->next_bandwidth_us) {
        c->next_bandwidth_us = now_us + SFU_BANDWIDTH_INTERVAL_MS * 1000;
        report_bandwidth(c, now_us);
    }
    if (now_us >= c->next_link_us) {
        c->next_link_us = now_us + SFU_LINK_INTERVAL_MS * 1000;
        report_links(c);
    }
    sfu_uplink_tick(c, now_us);
}

/* --- transport-wide congestion control ------------------------------------------------ */

bool sfu_router_set_twcc(sfu_transport *t, uint8_t ext_id)
{
    free(t->bwe);
    t->bwe = NULL;
    t->twcc_ext_id = 0;
    if (ext_id == 0 || ext_id > 14) return ext_id == 0;
    t->bwe = malloc(sizeof *t->bwe);
    if (!t->bwe) return false;
    sfu_bwe_init(t->bwe, t->core->now_us);
    t->twcc_ext_id = ext_id;
    t->bwe_reported_us = 0;
    t->bwe_reported_bps = 0;
    return true;
}

static void on_transport_feedback(sfu_transport *t, const sfu_rtcp_packet *p)
{
    enum { MAX_STATUSES = 1024 }; /* more than a feedback covers between two reports */
    static _Thread_local sfu_twcc_status statuses[MAX_STATUSES];
    sfu_twcc_feedback fb;
    size_t n;
    if (!t->bwe) return;
    if (!sfu_twcc_parse(p, &fb, statuses, MAX_STATUSES, &n)) {
        sfu_count_drop(t->core, SFU_DROP_MALFORMED);
        return;
    }
    sfu_bwe_on_feedback(t->bwe, statuses, n, t->core->now_us);
}

/* SFU_EV_BANDWIDTH for each transport whose estimate moved by 10 % since its last report,
 * or whose last report is 5 s old. */
static void report_bandwidth(sfu_core *c, int64_t now_us)
{
    readings r = {.c = c};
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_transport *t = value;
        if (!t->bwe) continue;
        sfu_bwe_figures f;
        sfu_bwe_get_figures(t->bwe, &f);
        if (!f.feedbacks) continue; /* nothing sent or no feedback yet: no estimate */
        uint32_t last = t->bwe_reported_bps;
        bool moved = f.estimate_bps * 10ull > last * 11ull || f.estimate_bps * 10ull < last * 9ull;
        if (!moved && now_us - t->bwe_reported_us < 5000000) continue;
        t->bwe_reported_bps = f.estimate_bps;
        t->bwe_reported_us = now_us;
        readings_add(&r, (sfu_event){.type = SFU_EV_BANDWIDTH,
                                     .id = t->id,
                                     .estimate_bps = f.estimate_bps,
                                     .acked_bps = f.acked_bps,
                                     .loss_percent = f.loss_percent});
    }
    readings_flush(&r);
}
