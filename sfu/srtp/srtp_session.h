/* SRTP/SRTCP protection for one transport (libsrtp2), keyed from DTLS-SRTP.
 *
 * One sfu_srtp holds an inbound session (keys the peer writes with) and an outbound
 * session (keys we write with), both for any SSRC. Packets are transformed in place;
 * the caller's buffer must have SFU_SRTP_MAX_TRAILER spare bytes after the packet for
 * protect. No allocation per packet (libsrtp allocates once per new SSRC, and we once
 * per outbound group).
 *
 * Outbound groups: libsrtp finds a packet's stream by walking a list of the session's
 * SSRCs, so a subscriber receiving 48 tracks walked up to 48 entries per packet (7 % of
 * the server's CPU in a 25-party meeting). Outbound SSRCs are therefore spread over up
 * to SFU_SRTP_GROUPS sessions with the same keys; the caller picks a fixed group per SSRC
 * (a few SSRCs each), and an SSRC must always use the same group for RTP and RTCP: its
 * rollover counter and SRTCP index live there. */
#ifndef SFU_SRTP_SESSION_H
#define SFU_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srtp/gcm_sender.h"

#define SFU_SRTP_MAX_TRAILER 32 /* room for tag + SRTCP index, whatever the profile */
#define SFU_SRTP_GROUPS 8       /* outbound groups; group 0 is what the plain calls use */

typedef enum {
    SFU_SRTP_PROFILE_NONE = 0,
    SFU_SRTP_AES128_CM_SHA1_80, /* RFC 5764, key 16 + salt 14 */
    SFU_SRTP_AEAD_AES_128_GCM,  /* RFC 7714, key 16 + salt 12 */
} sfu_srtp_profile;

typedef struct {
    sfu_srtp_profile profile;
    uint8_t local_master[32];  /* key || salt we protect with */
    uint8_t remote_master[32]; /* key || salt the peer protects with */
    size_t master_len;         /* key + salt length for the profile (30 or 28) */
} sfu_srtp_keys;

typedef struct sfu_srtp sfu_srtp;

/* Call once per process before any session (srtp_init). Thread-safe to call again. */
bool sfu_srtp_global_init(void);

sfu_srtp *sfu_srtp_new(const sfu_srtp_keys *keys);
void sfu_srtp_free(sfu_srtp *s);

/* Each returns 0 on success, or a negative libsrtp error (-srtp_err_status_t) on failure
 * (auth fail, replay, malformed). *len is updated. `cap` is the buffer capacity.
 * After a failed unprotect the buffer's contents are undefined (AEAD decrypts in place). */
int sfu_srtp_unprotect_rtp(sfu_srtp *s, uint8_t *buf, size_t *len);
int sfu_srtp_unprotect_rtcp(sfu_srtp *s, uint8_t *buf, size_t *len);
int sfu_srtp_protect_rtp(sfu_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int sfu_srtp_protect_rtcp(sfu_srtp *s, uint8_t *buf, size_t *len, size_t cap);
/* Makes outbound group `group` (allocates; group 0 exists from the start). Call it off
 * the packet path before protecting in that group: protect does not make groups. */
bool sfu_srtp_prepare_group(sfu_srtp *s, unsigned group);
/* The same in outbound group `group` (< SFU_SRTP_GROUPS and prepared, else bad_param). */
int sfu_srtp_protect_rtp_group(sfu_srtp *s, unsigned group, uint8_t *buf, size_t *len, size_t cap);
/* Forwarding path: RTP of one outbound SSRC whose index state the caller keeps beside it
 * (*state starts at 0). With AEAD_AES_128_GCM our own sender protects it (gcm_sender.h);
 * other profiles go through group `group`, and *state is unused. */
int sfu_srtp_protect_rtp_indexed(sfu_srtp *s, unsigned group, sfu_srtp_tx_index *state, uint8_t *buf, size_t *len,
                                 size_t cap);
int sfu_srtp_protect_rtcp_group(sfu_srtp *s, unsigned group, uint8_t *buf, size_t *len, size_t cap);

const char *sfu_srtp_profile_name(sfu_srtp_profile p); /* "SRTP_AEAD_AES_128_GCM" … */

#endif
