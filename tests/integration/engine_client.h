/* Shared by the engine tests: a C peer (the server's own ICE/DTLS/SRTP in client mode)
 * registered as a transport of a running engine, and waiting for the engine's events.
 * Each test defines `engine`, `client_cert` and ROOM before including this file. */
#ifndef DC_ENGINE_CLIENT_H
#define DC_ENGINE_CLIENT_H

#include <stdio.h>
#include <unistd.h>

#include "ice/ice_lite.h"
#include "peer.h"
#include "sfu.h"

typedef struct {
    dc_peer *peer;
    uint32_t transport_id;
    char ufrag[17], pwd[25]; /* the server side's ICE credentials */
} client;

static void client_fingerprint(char *fp, size_t cap)
{
    snprintf(fp, cap, "sha-256 %s", sfu_dtls_cert_fingerprint(client_cert));
}

/* Adds a transport with fresh ICE credentials and, when peer_known, the client
 * certificate's fingerprint (else as for an offer not answered yet: sfu_transport_set_peer
 * follows), and a peer that knows the server's side. */
static client client_make(uint32_t transport_id, bool peer_known)
{
    client c = {.transport_id = transport_id};
    char fp[200];
    sfu_ice_random_string(c.ufrag, 16);
    sfu_ice_random_string(c.pwd, 24);
    client_fingerprint(fp, sizeof fp);
    sfu_transport_add(engine, transport_id, ROOM, c.ufrag, c.pwd, peer_known ? fp : NULL, false);
    c.peer = dc_peer_new("127.0.0.1", sfu_room_port(engine, ROOM), c.ufrag, c.pwd, sfu_fingerprint(engine),
                         client_cert);
    return c;
}

static client client_new(uint32_t transport_id) { return client_make(transport_id, true); }

/* Every event seen so far, so that waiting for one does not lose another. */
static sfu_event seen[256];
static size_t n_seen;

/* How many events of this type about id have been seen. */
static size_t count_seen(sfu_event_type type, uint32_t id)
{
    if (n_seen < 256) n_seen += sfu_poll_events(engine, seen + n_seen, 256 - n_seen);
    size_t n = 0;
    for (size_t i = 0; i < n_seen; i++) n += seen[i].type == type && seen[i].id == id;
    return n;
}

static bool wait_event(sfu_event_type type, uint32_t id, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (count_seen(type, id)) return true;
        usleep(10000);
    }
    return false;
}

/* A VP8 video stream of ROOM published on a transport with a known SSRC (payload type 96). */
static sfu_stream_desc vp8_stream(uint32_t stream_id, uint32_t transport_id, uint32_t ssrc)
{
    return (sfu_stream_desc){.stream_id = stream_id,
                             .transport_id = transport_id,
                             .room_id = ROOM,
                             .kind = SFU_KIND_VIDEO,
                             .codec = SFU_CODEC_VP8,
                             .pt = 96,
                             .ssrc = ssrc};
}

#endif
