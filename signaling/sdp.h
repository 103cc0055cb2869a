/* SDP (RFC 8866) for WebRTC as the SFU needs it: parse a browser's offer or answer into a
 * plain struct, and write the server's answer to a publish offer and the server's offer
 * for a subscription. Unified Plan, BUNDLE and rtcp-mux only. Fixed-size structs, bounds
 * checked; parse errors carry a human message. */
#ifndef DC_SDP_H
#define DC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_SDP_MAX_MEDIA \
    64 /* 32 remote participants with audio and video; a room larger than that needs last-N video */
#define DC_SDP_MAX_CODECS 24
#define DC_SDP_MAX_EXTMAPS 16
#define DC_SDP_MAX_SSRCS 8
#define DC_SDP_MAX_RIDS 3          /* simulcast layers (the engine's SFU_MAX_LAYERS) */
#define DC_SDP_RID_MAX 16          /* a rid's length + 1 */
#define DC_SDP_MAX_TEXT (8192 * 8) /* a larger SDP is refused */
#define DC_SDP_MAX_LINE 4096       /* a longer line is refused */

typedef enum { DC_MEDIA_AUDIO = 0, DC_MEDIA_VIDEO, DC_MEDIA_APPLICATION, DC_MEDIA_OTHER } dc_media_kind;
typedef enum { DC_DIR_SENDRECV = 0, DC_DIR_SENDONLY, DC_DIR_RECVONLY, DC_DIR_INACTIVE } dc_direction;
typedef enum { DC_SETUP_NONE = 0, DC_SETUP_ACTPASS, DC_SETUP_ACTIVE, DC_SETUP_PASSIVE } dc_setup;

typedef struct {
    uint8_t pt;
    char name[16]; /* "opus", "VP8", "H264", "rtx", "red", "ulpfec" … as written */
    uint32_t clock;
    uint8_t channels; /* audio, 0 if not given */
    char fmtp[160];   /* the a=fmtp value for this pt, "" if none */
    bool fb_nack, fb_nack_pli, fb_ccm_fir, fb_transport_cc, fb_goog_remb;
    int apt; /* rtx: the pt it repairs (from fmtp apt=), else -1 */
} dc_sdp_codec;

typedef struct {
    uint8_t id;
    char uri[128];
} dc_sdp_extmap;

typedef struct {
    uint32_t ssrc;
    char cname[64];
} dc_sdp_ssrc;

typedef struct {
    dc_media_kind kind;
    char kind_name[16]; /* the m-line's media token as written ("audio", "text" …) */
    char proto[32];     /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" … */
    char fmt[32];       /* non-RTP m-lines: the first format token ("webrtc-datachannel") */
    char mid[32];
    bool rejected; /* port 0 (and no a=bundle-only) */
    dc_direction direction;
    char msid[128]; /* a=msid value ("stream track"), "" if none */
    dc_sdp_codec codecs[DC_SDP_MAX_CODECS];
    size_t n_codecs; /* in m-line preference order */
    dc_sdp_extmap extmaps[DC_SDP_MAX_EXTMAPS];
    size_t n_extmaps;
    dc_sdp_ssrc ssrcs[DC_SDP_MAX_SSRCS];
    size_t n_ssrcs;
    uint32_t fid_primary, fid_rtx; /* a=ssrc-group:FID, 0 if none */
    /* simulcast (RFC 8853, RFC 8851): the rids of a=simulcast:send that an a=rid:… send
     * line declares, in the order listed (the first alternative of each; a paused "~"
     * one too), and the SSRCs of a=ssrc-group:SIM when given (same order) */
    char rids[DC_SDP_MAX_RIDS][DC_SDP_RID_MAX];
    size_t n_rids;
    uint32_t sim_ssrcs[DC_SDP_MAX_RIDS];
    size_t n_sim_ssrcs;
    char rid_send[DC_SDP_MAX_RIDS * 2][DC_SDP_RID_MAX]; /* a=rid:<id> send, as parsed */
    size_t n_rid_send;
    bool rtcp_mux;
    bool rtcp_rsize;
    /* transport attributes may sit at media level; parse merges them into the session */
} dc_sdp_media;

typedef struct {
    char ice_ufrag[64];
    char ice_pwd[128];
    char fingerprint[160]; /* "sha-256 AB:CD:…" (hash name, space, hex) */
    dc_setup setup;
    bool ice_lite;
    char bundle[DC_SDP_MAX_MEDIA][32];
    size_t n_bundle; /* a=group:BUNDLE mids */
    dc_sdp_media media[DC_SDP_MAX_MEDIA];
    size_t n_media;
} dc_sdp;

/* Parses SDP text (CRLF or LF). Returns false with a message in err on anything a
 * WebRTC endpoint could not have meant: missing ice-ufrag/pwd/fingerprint, no BUNDLE,
 * more than DC_SDP_MAX_MEDIA m-lines, over-long lines, non-numeric payload types … */
/* Details: text need not be NUL-terminated; len > DC_SDP_MAX_TEXT, a line longer than
 * DC_SDP_MAX_LINE, a control character or a value too long for its field is refused.
 * Codecs beyond DC_SDP_MAX_CODECS (extmaps, ssrcs beyond theirs) are ignored, not an
 * error. ice-ufrag/pwd/fingerprint/setup are taken from the first BUNDLE-tagged m-line,
 * else from session level, else from the first m-line that has them. setup is not
 * required (DC_SETUP_NONE if absent): the caller checks the role it expects. out is
 * large (~300 KiB): allocate it on the heap in threads with small stacks. */
bool dc_sdp_parse(const char *text, size_t len, dc_sdp *out, char *err, size_t err_len);

/* Codecs the server forwards. Publish answers pick, per m-line, the first offered codec
 * in this list whose parameters fit (H.264: packetization-mode=1, a baseline or
 * constrained-baseline profile; VP8; Opus/48000/2). */
/* Preference is the server's, as PROTOCOL.md says: VP8 before H.264 even if the offer
 * lists H.264 first; among several fitting H.264 entries the first offered wins. */
typedef enum { DC_CODEC_NONE = 0, DC_CODEC_OPUS, DC_CODEC_VP8, DC_CODEC_H264 } dc_codec_id;

/* Picks the codec for a media section of a publish offer; returns its index in
 * m->codecs or -1 if nothing usable. */
int dc_sdp_pick_codec(const dc_sdp_media *m, dc_codec_id *which);

/* The number of simulcast layers of a media section that the server accepts (its rids
 * valid, the rid extension offered or a=ssrc-group:SIM matching), 0: none. */
size_t dc_sdp_simulcast_layers(const dc_sdp_media *m);

/* Finds the extmap id for a URI, 0 if not negotiated. */
uint8_t dc_sdp_extmap_id(const dc_sdp_media *m, const char *uri);

#define DC_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
/* RFC 6464: the publisher's audio level in each packet (the engine's SFU_EV_AUDIO_LEVEL) */
#define DC_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
/* RFC 8852: the rid of a simulcast layer, and of the layer an RTX packet repairs */
#define DC_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define DC_EXT_REPAIRED_RID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
/* transport-wide congestion control: in the server's offers, to estimate what it can send;
 * accepted in publish answers, to feed back what arrives */
#define DC_EXT_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* The id an answer gives a header extension in its first audio/video m-line that has it
 * (under BUNDLE one id for all), 0 if none does. */
uint8_t dc_sdp_session_extmap_id(const dc_sdp *sdp, const char *uri);

/* What the server puts into SDP about itself. */
typedef struct {
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint;  /* "AB:CD:…" sha-256 */
    const char *candidate_ip; /* announced address */
    uint16_t candidate_port;  /* the worker's UDP port */
    uint16_t tcp_port;        /* the engine's passive ICE-TCP port; 0 = none */
    uint64_t session_id;
    uint32_t session_version;
    bool rtx; /* RFC 4588 retransmissions: accepted from publishers, offered to subscribers */
    bool red; /* RFC 2198 RED around Opus: accepted from publishers, offered to subscribers */
} dc_sdp_local;

/* The payload type of the offer's RED codec (red/48000/2) that carries `primary` (fmtp
 * "<primary>/<primary>…", every block of it), -1 if none. (sdp_red.c) */
int dc_sdp_red_pt(const dc_sdp_media *m, uint8_t primary);

/* The payload type of the offer's RTX codec that repairs `apt` (fmtp apt=), -1 if none. */
int dc_sdp_rtx_pt(const dc_sdp_media *m, uint8_t apt);

/* Writes the server's answer to a publish offer (server receives): each offered
 * audio/video m-line is accepted recvonly with the picked codec (plus nothing else),
 * the mid extension if offered, a video m-line's simulcast (n_rids > 0, with the rid
 * extension offered) as a=rid:… recv and a=simulcast:recv with the rid and repaired-rid
 * extensions, rtcp-fb nack pli / ccm fir / goog-remb / transport-cc as offered, the
 * transport-wide-cc extension as offered (the server then feeds back what arrives),
 * and (local->rtx) the RTX codec that repairs the picked one if offered; an audio m-line
 * (local->red) the RED codec around the picked Opus if offered, listed first so that the
 * publisher sends RED (Opus fmtp, useinbandfec and usedtx, echoed as offered);
 * other m-lines (data channels, unusable codecs) are rejected with port 0.
 * picked[i] receives the codec picked for media i (DC_CODEC_NONE if rejected) and
 * picked_pt[i] its payload type. Returns a malloc'd string (free()), NULL on error. */
/* NULL also when the offer's setup is passive/active (the server is always passive) or a
 * local field is empty or not a single token. If no m-line is usable the answer still
 * rejects every one of them (a valid SDP): check picked[] to refuse with bad_sdp. */
char *dc_sdp_write_publish_answer(const dc_sdp *offer, const dc_sdp_local *local, dc_codec_id picked[DC_SDP_MAX_MEDIA],
                                  uint8_t picked_pt[DC_SDP_MAX_MEDIA]);

/* One sendonly (or inactive, when free) m-line of a subscription offer. */
typedef struct {
    char mid[32];
    dc_media_kind kind;   /* AUDIO or VIDEO */
    bool active;          /* sendonly with ssrc lines, else inactive */
    uint32_t ssrc;        /* the SSRC the server sends this slot with */
    char msid_stream[64]; /* a=msid stream id (we use the source participant id) */
    char msid_track[64];  /* a=msid track id */
    char cname[64];
    uint32_t rtx_ssrc; /* video: its retransmissions' SSRC (RFC 4588), 0 = no RTX offered */
} dc_sdp_slot;

/* Fixed payload types the server uses on the subscription side. */
enum { DC_PT_OPUS = 111, DC_PT_RED = 63, DC_PT_VP8 = 96, DC_PT_VP8_RTX = 97, DC_PT_H264 = 102, DC_PT_H264_RTX = 103 };
/* The id the subscription offers give transport-wide-cc (libwebrtc's own choice for it, so
 * a Chromium publisher's numbered packets are renumbered in place). */
enum { DC_SUB_TWCC_EXT_ID = 3 };

/* Writes the server's subscription offer: a=ice-lite, setup:actpass, BUNDLE of all
 * slots, audio slots with opus/48000/2 (DC_PT_OPUS, fmtp minptime=10;useinbandfec=1) and
 * (local->red) red/48000/2 around it (DC_PT_RED, fmtp 111/111),
 * video slots with VP8 (DC_PT_VP8) and H.264 (DC_PT_H264, 42e01f, packetization-mode=1)
 * and rtcp-fb nack pli, ccm fir; a video slot with an rtx_ssrc adds rtx for both
 * (DC_PT_VP8_RTX, DC_PT_H264_RTX) and the FID group; every slot offers the
 * transport-wide-cc extension with id DC_SUB_TWCC_EXT_ID and rtcp-fb transport-cc on
 * each codec. Returns a malloc'd string, NULL on error. */
char *dc_sdp_write_subscribe_offer(const dc_sdp_slot *slots, size_t n_slots, const dc_sdp_local *local);

#endif
