/* Transport-cc feedback or REMB to publishers (uplink.h). */
#include "uplink.h"

#include <stdlib.h>

#include "output.h"
#include "rtp/rtcp.h"

#define REMB_INTERVAL_US 1000000
/* A publisher without transport-cc is told this ceiling for video… */
#define PUBLISH_VIDEO_BITRATE_BPS 1500000
/* …and a simulcast one this, room for its three layers (150 k + 500 k + 1.5 M) */
#define PUBLISH_SIMULCAST_BITRATE_BPS 2500000
#define MAX_FEEDBACKS_PER_TICK 8 /* a tick's backlog beyond this waits for the next */

bool sfu_uplink_set_twcc(sfu_transport *t, uint8_t ext_id)
{
    sfu_uplink_free(t);
    if (ext_id == 0 || ext_id > 14) return ext_id == 0;
    t->arrivals = malloc(sizeof *t->arrivals);
    if (!t->arrivals) return false;
    sfu_twcc_arrivals_init(t->arrivals);
    t->twcc_in_ext_id = ext_id;
    return true;
}

void sfu_uplink_free(sfu_transport *t)
{
    free(t->arrivals);
    t->arrivals = NULL;
    t->twcc_in_ext_id = 0;
}

/* The media SSRC a feedback names: transport-wide, any of the peer's will do. */
static uint32_t some_media_ssrc(const sfu_transport *t)
{
    for (size_t i = 0; i < t->n_streams; i++) {
        const sfu_stream_desc *d = &t->streams[i]->desc;
        if (d->ssrc) return d->ssrc;
        for (unsigned l = 0; l < d->n_layers; l++)
            if (d->layer_ssrcs[l]) return d->layer_ssrcs[l];
    }
    return 0;
}

static void send_feedback(sfu_core *c, sfu_transport *t)
{
    if (!t->srtp || !t->has_addr) return; /* (what arrived before is reported once it is) */
    uint32_t media_ssrc = some_media_ssrc(t);
    for (int i = 0; i < MAX_FEEDBACKS_PER_TICK; i++) {
        uint8_t *buf = sfu_out_buf(c);
        if (!buf) return;
        size_t len = sfu_twcc_arrivals_feedback(t->arrivals, buf, SFU_PKT_MAX, t->rtcp_ssrc, media_ssrc);
        if (!len) return;
        sfu_out_rtcp(t, 0, buf, len);
    }
}

/* Tells a video publisher the bitrate ceiling (REMB), so its encoder ramps up to it. */
static void send_remb(sfu_core *c, sfu_transport *t)
{
    uint32_t ssrcs[SFU_MAX_STREAMS_PER_TRANSPORT * SFU_MAX_LAYERS];
    size_t n = 0;
    uint32_t bitrate = PUBLISH_VIDEO_BITRATE_BPS;
    for (size_t i = 0; i < t->n_streams; i++) {
        const sfu_stream_desc *d = &t->streams[i]->desc;
        if (d->kind != SFU_KIND_VIDEO) continue;
        if (d->ssrc && !d->n_layers) ssrcs[n++] = d->ssrc;
        for (unsigned l = 0; l < d->n_layers; l++)
            if (d->layer_ssrcs[l]) ssrcs[n++] = d->layer_ssrcs[l];
        if (d->n_layers) bitrate = PUBLISH_SIMULCAST_BITRATE_BPS;
    }
    if (n == 0) return;
    uint8_t *buf = sfu_out_buf(c);
    if (buf) sfu_out_rtcp(t, 0, buf, sfu_rtcp_write_remb(buf, SFU_TX_BUF, t->rtcp_ssrc, bitrate, ssrcs, n));
}

void sfu_uplink_tick(sfu_core *c, int64_t now_us)
{
    bool feedback = now_us >= c->next_uplink_feedback_us, remb = now_us >= c->next_remb_us;
    if (!feedback && !remb) return;
    if (feedback) c->next_uplink_feedback_us = now_us + SFU_UPLINK_FEEDBACK_US;
    if (remb) c->next_remb_us = now_us + REMB_INTERVAL_US;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->transports);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        sfu_transport *t = value;
        if (t->arrivals && feedback) send_feedback(c, t);
        else if (!t->arrivals && remb) send_remb(c, t);
    }
}
