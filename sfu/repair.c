/* Loss repair and reception reports (repair.h). */
#include "repair.h"

#include <string.h>

#include "output.h"
#include "rtp/rtcp.h"
#include "rtp/rtx.h"

#define REPORT_INTERVAL_US 1000000
#define RESEND_FLOOR_US 100000 /* no packet twice to one subscriber within this (or its RTT) */
#define NACK_RETRY_FLOOR_US 100000
#define NACKS_PER_PACKET 64
#define AUDIO_CLOCK 48000
#define VIDEO_CLOCK 90000

static bool repair_on(const sfu_core *c) { return !c->cfg.nack_disabled; }

bool sfu_repair_stream_init(sfu_stream *st)
{
    sfu_recv_init(&st->recv, st->desc.kind == SFU_KIND_AUDIO ? AUDIO_CLOCK : VIDEO_CLOCK);
    /* Not yet for simulcast: its layers are three sequence-number spaces, and one cache and
     * one missing list per stream would mix them up (a subscriber's NACK then goes
     * unanswered: better than answered with another layer's packet). */
    if (st->desc.kind != SFU_KIND_VIDEO || st->desc.n_layers) return true;
    st->cache = sfu_rtx_cache_new();
    return st->cache != NULL;
}

void sfu_repair_stream_free(sfu_stream *st)
{
    sfu_rtx_cache_free(st->cache);
    st->cache = NULL;
}

/* --- upstream: the publisher's losses ---------------------------------------------- */

static int64_t retry_interval(const sfu_transport *t)
{
    return t->link.rtt_us > NACK_RETRY_FLOOR_US ? t->link.rtt_us : NACK_RETRY_FLOOR_US;
}

/* NACKs what is due of the stream's missing list (video only: audio has no RTX). */
static void send_nacks(sfu_stream *st, int64_t now)
{
    sfu_transport *t = st->transport;
    uint16_t seqs[NACKS_PER_PACKET];
    size_t n = sfu_recv_due_nacks(&st->recv, now, retry_interval(t), seqs, NACKS_PER_PACKET);
    if (n == 0) return;
    uint8_t *buf = sfu_out_buf(t->core);
    if (!buf) return;
    sfu_out_rtcp(t, 0, buf, sfu_rtcp_write_nack(buf, SFU_TX_BUF, t->rtcp_ssrc, st->desc.ssrc, seqs, n));
    t->link.nacks_sent++;
    t->link.nack_seqs_sent += n;
}

sfu_stream *sfu_repair_unwrap(sfu_transport *t, uint8_t *buf, size_t *len, sfu_rtp_header *h, bool *is_rtx)
{
    *is_rtx = false;
    for (size_t i = 0; i < t->n_streams; i++) {
        sfu_stream *st = t->streams[i];
        if (!st->desc.rtx_pt || h->pt != st->desc.rtx_pt || !st->desc.ssrc) continue;
        if (st->desc.rtx_ssrc != h->ssrc) {
            /* not announced: the mid extension says whose it is */
            const uint8_t *mid;
            size_t mid_len;
            if (st->desc.rtx_ssrc || !st->desc.mid_ext_id ||
                !sfu_rtp_find_ext(buf, h, st->desc.mid_ext_id, &mid, &mid_len) || mid_len != strlen(st->desc.mid) ||
                memcmp(mid, st->desc.mid, mid_len) != 0)
                continue;
            st->desc.rtx_ssrc = h->ssrc;
        }
        *is_rtx = true;
        if (!sfu_rtx_unwrap(buf, len, h, st->desc.ssrc, st->desc.pt) || !sfu_rtp_parse(buf, *len, h)) return NULL;
        t->link.rtx_received++;
        return st;
    }
    return NULL;
}

bool sfu_repair_on_rtp(sfu_stream *st, const uint8_t *buf, size_t len, const sfu_rtp_header *h, bool repaired)
{
    sfu_core *c = st->transport->core;
    if (st->desc.n_layers) return true; /* not yet repaired (sfu_repair_stream_init) */
    /* what nobody is shown (no slot, or a closed gate) is not worth asking for again */
    bool wanted = st->desc.kind == SFU_KIND_VIDEO && repair_on(c) && !st->desc.blocked && st->slots->len;
    size_t missing_before = st->recv.n_missing;
    if (!sfu_recv_on_packet(&st->recv, h->seq, h->ts, c->now_us, repaired, wanted)) return false;
    if (st->cache) sfu_rtx_cache_put(st->cache, h->seq, buf, len);
    if (st->recv.n_missing > missing_before) send_nacks(st, c->now_us); /* a new gap: ask at once */
    return true;
}

/* --- downstream: a subscriber's NACK ------------------------------------------------ */

void sfu_repair_rebased(sfu_slot *slot, uint16_t first_out_seq)
{
    slot->repair.epoch_valid = true;
    slot->repair.epoch_first = first_out_seq;
}

void sfu_repair_repointed(sfu_slot *slot) { slot->repair.epoch_valid = false; }

static int rtx_pt_for(const sfu_slot_rtx *rtx, uint8_t apt)
{
    for (uint8_t i = 0; i < rtx->n_pts && i < SFU_RTX_MAX_PTS; i++)
        if (rtx->apt[i] == apt) return rtx->pt[i];
    return -1;
}

/* Whether out_seq may be resent now (not resent within the round trip); notes it. */
static bool resend_allowed(sfu_slot *slot, uint16_t out_seq, int64_t now)
{
    int64_t floor = slot->transport->link.rtt_us > RESEND_FLOOR_US ? slot->transport->link.rtt_us : RESEND_FLOOR_US;
    __typeof__(slot->repair.resent[0]) *r = &slot->repair.resent[out_seq % SFU_SLOT_RESENT];
    if (r->at_us && r->seq == out_seq && now - r->at_us < floor) return false;
    r->seq = out_seq;
    r->at_us = now;
    return true;
}

static void resend(sfu_slot *slot, uint16_t out_seq, int64_t now)
{
    sfu_slot_repair *rp = &slot->repair;
    sfu_transport *out = slot->transport;
    sfu_core *c = out->core;
    /* only this epoch's packets: before it the offsets (or the source) were others */
    if (!rp->epoch_valid || (int16_t)(out_seq - rp->epoch_first) < 0 || (int16_t)(slot->last_seq - out_seq) < 0) return;
    size_t len;
    const uint8_t *pkt = sfu_rtx_cache_get(slot->source->cache, (uint16_t)(out_seq - slot->seq_offset), &len);
    sfu_rtp_header h;
    if (!pkt || !sfu_rtp_parse(pkt, len, &h)) {
        out->link.rtx_missed++;
        return;
    }
    if (!resend_allowed(slot, out_seq, now)) return;
    uint8_t *ob = sfu_out_buf(c);
    if (!ob) return;
    /* The cached packet still carries the publisher's header extensions, its
     * transport-wide sequence number among them: stamped with the subscriber's own, as
     * the forwarded copy is (sfu_out_copy_numbered). Sent raw, a Chromium subscriber whose
     * transport-cc id was the publisher's took the publisher's numbers for ours, and its
     * pages stopped presenting the 200-site meeting's gallery. */
    static _Thread_local uint8_t stamped[SFU_PKT_MAX];
    int twcc_seq;
    len = sfu_out_copy_numbered(stamped, out, pkt, len, &h, &twcc_seq);
    pkt = stamped;
    if (!sfu_rtp_parse(pkt, len, &h)) {
        sfu_out_numbered_sent(out, twcc_seq, 0, false);
        return;
    }
    int rtx_pt = rp->rtx.ssrc ? rtx_pt_for(&rp->rtx, slot->out_pt) : -1;
    sfu_srtp_tx_index *index = &slot->srtp_index;
    size_t out_len = len;
    if (rtx_pt >= 0) {
        out_len = sfu_rtx_wrap(ob, SFU_PKT_MAX, pkt, &h, out_seq, rp->rtx.ssrc, (uint8_t)rtx_pt, rp->rtx_seq++);
        index = &rp->rtx_srtp_index;
    } else {
        memcpy(ob, pkt, len);
        sfu_rtp_set_ssrc(ob, slot->out_ssrc);
        sfu_rtp_set_seq(ob, out_seq);
        sfu_rtp_set_pt(ob, slot->out_pt);
    }
    bool ok = out_len != 0;
    if (ok) {
        sfu_rtp_set_ts(ob, h.ts + slot->ts_offset);
        ok = sfu_srtp_protect_rtp_indexed(out->srtp, slot->srtp_group, index, ob, &out_len, SFU_TX_BUF) == 0;
        if (!ok) sfu_count_drop(c, SFU_DROP_SRTP);
    }
    sfu_out_numbered_sent(out, twcc_seq, out_len, ok);
    if (!ok) return;
    sfu_out_commit(c, &out->addr, out->addr_len, out_len);
    out->link.rtx_sent++;
}

void sfu_repair_on_nack(sfu_slot *slot, const sfu_rtcp_packet *p)
{
    sfu_transport *t = slot->transport;
    sfu_core *c = t->core;
    t->link.nacks_received++;
    if (!repair_on(c) || !slot->source || !slot->source->cache || !t->srtp || !t->has_addr) return;
    for (size_t i = 0, n = sfu_rtcp_nack_count(p); i < n; i++) {
        uint16_t pid, blp;
        if (!sfu_rtcp_nack_entry(p, i, &pid, &blp)) break;
        t->link.nack_seqs_received++;
        resend(slot, pid, c->now_us);
        for (unsigned b = 0; b < 16; b++) {
            if (!(blp >> b & 1)) continue;
            t->link.nack_seqs_received++;
            resend(slot, (uint16_t)(pid + b + 1), c->now_us);
        }
    }
}

/* --- reports ------------------------------------------------------------------------ */

void sfu_repair_on_publisher_sr(sfu_stream *st, uint64_t ntp)
{
    sfu_recv_on_sr(&st->recv, ntp, st->transport->core->now_us);
}

void sfu_repair_sr_relayed(sfu_slot *slot, uint64_t ntp)
{
    slot->repair.sr_lsr = (uint32_t)(ntp >> 16);
    slot->repair.sr_sent_us = slot->transport->core->now_us;
}

sfu_slot *sfu_slot_by_out_ssrc(sfu_transport *t, uint32_t ssrc)
{
    for (guint i = 0; i < t->slots->len; i++) {
        sfu_slot *slot = g_ptr_array_index(t->slots, i);
        if (slot->out_ssrc == ssrc) return slot;
    }
    return NULL;
}

static uint32_t jitter_us(uint32_t jitter, sfu_kind kind)
{
    uint64_t clock = kind == SFU_KIND_AUDIO ? AUDIO_CLOCK : VIDEO_CLOCK;
    uint64_t us = (uint64_t)jitter * 1000000 / clock;
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A subscriber's report blocks on our slots: its loss and jitter, and the round trip
 * from the last SR we relayed on that slot (now − sent − DLSR). */
void sfu_repair_on_reports(sfu_transport *t, const sfu_rtcp_packet *p)
{
    for (size_t i = 0, n = sfu_rtcp_report_count(p); i < n; i++) {
        sfu_rtcp_report_block rb;
        if (!sfu_rtcp_report_block_at(p, i, &rb)) break;
        sfu_slot *slot = sfu_slot_by_out_ssrc(t, rb.ssrc);
        if (!slot) continue;
        t->link.fraction_lost = rb.fraction_lost;
        t->link.jitter_us = jitter_us(rb.jitter, slot->kind);
        if (!rb.lsr || rb.lsr != slot->repair.sr_lsr) continue;
        int64_t rtt = t->core->now_us - slot->repair.sr_sent_us - (int64_t)rb.dlsr * 1000000 / 65536;
        if (rtt >= 0 && rtt < 10000000) t->link.rtt_us = t->link.rtt_us ? (7 * t->link.rtt_us + rtt) / 8 : rtt;
    }
}

/* One RR with a block per stream of the publisher that has sent anything. */
static void send_receiver_report(sfu_transport *t, int64_t now)
{
    sfu_rtcp_report_block blocks[SFU_MAX_STREAMS_PER_TRANSPORT];
    size_t n = 0;
    for (size_t i = 0; i < t->n_streams; i++) {
        sfu_stream *st = t->streams[i];
        if (!st->desc.ssrc || !st->recv.started) continue;
        sfu_recv_report(&st->recv, st->desc.ssrc, now, &blocks[n]);
        if (st->desc.kind == SFU_KIND_VIDEO) {
            t->link.fraction_lost = blocks[n].fraction_lost;
            t->link.jitter_us = jitter_us(blocks[n].jitter, SFU_KIND_VIDEO);
        }
        n++;
    }
    uint64_t lost = 0;
    for (size_t i = 0; i < t->n_streams; i++) lost += t->streams[i]->recv.lost_total;
    t->link.lost = lost;
    if (n == 0) return;
    uint8_t *buf = sfu_out_buf(t->core);
    if (buf) sfu_out_rtcp(t, 0, buf, sfu_rtcp_write_rr(buf, SFU_TX_BUF, t->rtcp_ssrc, blocks, n));
}

void sfu_repair_tick(sfu_core *c, int64_t now_us)
{
    bool reports = now_us >= c->next_report_us;
    if (reports) c->next_report_us = now_us + REPORT_INTERVAL_US;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_transport *t = value;
        if (t->n_streams == 0) continue;
        if (repair_on(c))
            for (size_t i = 0; i < t->n_streams; i++) send_nacks(t->streams[i], now_us);
        if (reports) send_receiver_report(t, now_us);
    }
}
