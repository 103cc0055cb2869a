/* SDP the bench writes as a browser would: the publish offer (sendonly Opus + VP8,
 * a=ssrc, actpass) and the answer to a subscription offer (recvonly per slot, active).
 * Both BUNDLE every m-line with rtcp-mux. Output is malloc'd (free()), NULL on error. */
#ifndef BENCH_SDP_CLIENT_H
#define BENCH_SDP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp.h"

typedef struct {
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint; /* "AB:CD:…" sha-256 of the client certificate */
    const char *cname;
    uint64_t session_id;
} bench_sdp_local;

/* Extension the bench puts into every RTP packet (one-byte header, id BENCH_EXT_ID):
 * see gen.h. Offered so that a server which negotiates extensions keeps it. */
#define BENCH_EXT_URI "urn:diemcau:bench:send-info"
/* RFC 6464 audio level on the audio m-line (the id the bench offers; the answer's counts) */
#define BENCH_AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define BENCH_AUDIO_LEVEL_EXT_ID 2
#define BENCH_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

char *bench_sdp_publish_offer(const bench_sdp_local *l, bool audio, bool video, uint32_t audio_ssrc,
                              uint32_t video_ssrc);
/* Answers every m-line of the server's offer: recvonly for active ones (first codec of
 * the offer), inactive for inactive ones, rejected (port 0) for others. */
char *bench_sdp_subscribe_answer(const dc_sdp *offer, const bench_sdp_local *l);


/* The first UDP host candidate of an SDP (the server has one): address and port. */
bool bench_sdp_candidate(const char *sdp, char *ip, size_t ip_len, uint16_t *port);
#endif
