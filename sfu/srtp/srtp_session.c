/* SRTP/SRTCP for one transport on libsrtp2: an inbound and an outbound wildcard-SSRC
 * session. See srtp_session.h for the contract. */
#include "srtp/srtp_session.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define RTP_MIN_HEADER 12
#define RTCP_MIN_HEADER 8
#define REPLAY_WINDOW 1024

/* Separate inbound and outbound libsrtp sessions: one srtp_t holds only one
 * wildcard-SSRC template, so ssrc_any_inbound and ssrc_any_outbound cannot share one
 * (srtp_create says bad_param). Outbound group 0 exists from the start; the others are
 * made from local_master by sfu_srtp_prepare_group, off the packet path, when a slot
 * needs one (a session costs ~3 KB, each SSRC in it ~0.4 KB: streams share their
 * session's cipher contexts). */
struct sfu_srtp {
    srtp_t inbound;
    srtp_t outbound[SFU_SRTP_GROUPS];
    sfu_gcm_sender *gcm_out; /* AEAD_AES_128_GCM only: forwarded RTP (protect_rtp_indexed) */
    sfu_srtp_profile profile;
    unsigned char local_master[32];
};

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;
static bool global_init_ok;

static void global_init_run(void) { global_init_ok = srtp_init() == srtp_err_status_ok; }

bool sfu_srtp_global_init(void)
{
    pthread_once(&global_init_once, global_init_run);
    return global_init_ok;
}

/* key || salt length libsrtp expects for the profile, 0 if unknown. */
static size_t profile_master_len(sfu_srtp_profile profile)
{
    switch (profile) {
    case SFU_SRTP_AES128_CM_SHA1_80: return 16 + 14;
    case SFU_SRTP_AEAD_AES_128_GCM: return 16 + 12; /* RFC 7714: 12-byte master salt */
    default: return 0;
    }
}

static void set_crypto_policy(srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp, sfu_srtp_profile profile)
{
    if (profile == SFU_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
    }
}

static void fill_policy(srtp_policy_t *p, srtp_ssrc_type_t direction, sfu_srtp_profile profile, unsigned char *master)
{
    memset(p, 0, sizeof *p);
    p->ssrc.type = direction;
    set_crypto_policy(&p->rtp, &p->rtcp, profile);
    p->key = master;
    p->window_size = REPLAY_WINDOW;
    /* Outbound: NACK answers re-protect a packet with the same index (RTX comes later). */
    p->allow_repeat_tx = direction == ssrc_any_outbound;
}

bool sfu_srtp_prepare_group(sfu_srtp *s, unsigned group)
{
    if (!s || group >= SFU_SRTP_GROUPS) return false;
    if (!s->outbound[group]) {
        srtp_policy_t outbound;
        fill_policy(&outbound, ssrc_any_outbound, s->profile, s->local_master);
        if (srtp_create(&s->outbound[group], &outbound) != srtp_err_status_ok) s->outbound[group] = NULL;
    }
    return s->outbound[group] != NULL;
}

sfu_srtp *sfu_srtp_new(const sfu_srtp_keys *keys)
{
    if (!keys) return NULL;
    size_t master_len = profile_master_len(keys->profile);
    if (master_len == 0 || keys->master_len != master_len) return NULL;
    if (!sfu_srtp_global_init()) return NULL;

    sfu_srtp *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->profile = keys->profile;

    /* libsrtp wants non-const key pointers; it derives session keys during srtp_create
     * and does not keep these buffers. */
    unsigned char remote[32];
    memcpy(remote, keys->remote_master, master_len);
    memcpy(s->local_master, keys->local_master, master_len);
    srtp_policy_t inbound;
    fill_policy(&inbound, ssrc_any_inbound, keys->profile, remote);
    bool ok = srtp_create(&s->inbound, &inbound) == srtp_err_status_ok && sfu_srtp_prepare_group(s, 0) &&
              (keys->profile != SFU_SRTP_AEAD_AES_128_GCM || (s->gcm_out = sfu_gcm_sender_new(s->local_master)));
    explicit_bzero(remote, sizeof remote);
    if (!ok) {
        sfu_srtp_free(s);
        return NULL;
    }
    return s;
}

void sfu_srtp_free(sfu_srtp *s)
{
    if (!s) return;
    if (s->inbound) srtp_dealloc(s->inbound);
    for (unsigned g = 0; g < SFU_SRTP_GROUPS; g++)
        if (s->outbound[g]) srtp_dealloc(s->outbound[g]);
    sfu_gcm_sender_free(s->gcm_out);
    explicit_bzero(s->local_master, sizeof s->local_master);
    free(s);
}

/* Common argument checks; returns 0 or -srtp_err_status_bad_param. */
static int check_packet(const sfu_srtp *s, const uint8_t *buf, const size_t *len, size_t min_len)
{
    if (!s || !buf || !len || *len < min_len || *len > INT_MAX - SFU_SRTP_MAX_TRAILER)
        return -(int)srtp_err_status_bad_param;
    return 0;
}

static int check_room(size_t len, size_t cap)
{
    if (cap < len || cap - len < SFU_SRTP_MAX_TRAILER) return -(int)srtp_err_status_bad_param;
    return 0;
}

static int finish(srtp_err_status_t st, int out_len, size_t *len)
{
    if (st != srtp_err_status_ok) return -(int)st;
    *len = (size_t)out_len;
    return 0;
}

/* srtp_protect, srtp_unprotect and their RTCP twins share this signature. */
typedef srtp_err_status_t (*srtp_transform)(srtp_t, void *, int *);

static int run_transform(srtp_t session, srtp_transform fn, uint8_t *buf, size_t *len)
{
    int n = (int)*len;
    srtp_err_status_t st = fn(session, buf, &n);
    return finish(st, n, len);
}

static int unprotect(sfu_srtp *s, srtp_transform fn, size_t min_len, uint8_t *buf, size_t *len)
{
    int rc = check_packet(s, buf, len, min_len);
    return rc ? rc : run_transform(s->inbound, fn, buf, len);
}

static int protect(sfu_srtp *s, unsigned group, srtp_transform fn, size_t min_len, uint8_t *buf, size_t *len,
                   size_t cap)
{
    int rc = check_packet(s, buf, len, min_len);
    if (rc || (rc = check_room(*len, cap))) return rc;
    /* never made here: making a session allocates, and this is the packet path */
    srtp_t session = group < SFU_SRTP_GROUPS ? s->outbound[group] : NULL;
    return session ? run_transform(session, fn, buf, len) : -(int)srtp_err_status_bad_param;
}

int sfu_srtp_unprotect_rtp(sfu_srtp *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, srtp_unprotect, RTP_MIN_HEADER, buf, len);
}

int sfu_srtp_unprotect_rtcp(sfu_srtp *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, srtp_unprotect_rtcp, RTCP_MIN_HEADER, buf, len);
}

int sfu_srtp_protect_rtp_group(sfu_srtp *s, unsigned group, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, group, srtp_protect, RTP_MIN_HEADER, buf, len, cap);
}

int sfu_srtp_protect_rtp_indexed(sfu_srtp *s, unsigned group, sfu_srtp_tx_index *state, uint8_t *buf, size_t *len,
                                 size_t cap)
{
    if (!s || !s->gcm_out) return sfu_srtp_protect_rtp_group(s, group, buf, len, cap);
    int rc = check_packet(s, buf, len, RTP_MIN_HEADER);
    if (rc || (rc = check_room(*len, cap))) return rc;
    return sfu_gcm_sender_protect(s->gcm_out, state, buf, len, cap) ? 0 : -(int)srtp_err_status_fail;
}

int sfu_srtp_protect_rtcp_group(sfu_srtp *s, unsigned group, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, group, srtp_protect_rtcp, RTCP_MIN_HEADER, buf, len, cap);
}

int sfu_srtp_protect_rtp(sfu_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    return sfu_srtp_protect_rtp_group(s, 0, buf, len, cap);
}

int sfu_srtp_protect_rtcp(sfu_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    return sfu_srtp_protect_rtcp_group(s, 0, buf, len, cap);
}

const char *sfu_srtp_profile_name(sfu_srtp_profile p)
{
    switch (p) {
    case SFU_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
    case SFU_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
    default: return "NONE";
    }
}
