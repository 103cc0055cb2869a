/* One PeerConnection as the server sees it: ICE-lite address binding and consent, the
 * DTLS handshake and, once it completes, the SRTP session the router uses.
 * Internal to sfu/. */
#ifndef SFU_TRANSPORT_H
#define SFU_TRANSPORT_H

#include "types.h"

/* NULL, with *why set, if the ufrag is taken or memory ran out. */
sfu_transport *sfu_transport_new(sfu_core *c, uint32_t id, uint32_t room_id, const char *ufrag, const char *pwd,
                                 const char *peer_fp, bool dtls_client, const char **why);
/* The peer of a transport made without one (an offer the server made was answered), or
 * a new peer connection answering the same offer. */
void sfu_transport_learn_peer(sfu_transport *t, const char *peer_fp, bool dtls_client);
void sfu_transport_destroy(sfu_transport *t); /* unlinks its streams and slots too */
void sfu_transport_on_stun(sfu_core *c, const uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                           socklen_t from_len);
void sfu_transport_on_dtls(sfu_transport *t, const uint8_t *buf, size_t len);
void sfu_transport_tick(sfu_transport *t, int64_t now_us);
/* The path a transport is bound to is gone (its ICE-TCP connection closed): ended like a
 * consent loss, reported as SFU_EV_TRANSPORT_TIMEOUT with `why`. */
void sfu_transport_on_path_closed(sfu_core *c, const struct sockaddr_storage *addr, const char *why);
sfu_transport *sfu_transport_by_addr(sfu_core *c, const struct sockaddr_storage *from);

#endif
