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
} client;

/* Adds a transport with fresh ICE credentials and the client certificate's fingerprint,
 * and a peer that knows the server's side. */
static client client_new(uint32_t transport_id)
{
    char ufrag[17], pwd[25], fp[200];
    sfu_ice_random_string(ufrag, 16);
    sfu_ice_random_string(pwd, 24);
    snprintf(fp, sizeof fp, "sha-256 %s", sfu_dtls_cert_fingerprint(client_cert));
    sfu_transport_add(engine, transport_id, ROOM, ufrag, pwd, fp, false);
    client c = {dc_peer_new("127.0.0.1", sfu_room_port(engine, ROOM), ufrag, pwd, sfu_fingerprint(engine), client_cert),
                transport_id};
    return c;
}

/* Every event seen so far, so that waiting for one does not lose another. */
static sfu_event seen[256];
static size_t n_seen;

static bool wait_event(sfu_event_type type, uint32_t id, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (n_seen < 256) n_seen += sfu_poll_events(engine, seen + n_seen, 256 - n_seen);
        for (size_t i = 0; i < n_seen; i++)
            if (seen[i].type == type && seen[i].id == id) return true;
        usleep(10000);
    }
    return false;
}

#endif
