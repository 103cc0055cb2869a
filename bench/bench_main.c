/* diemcau-bench: opens N real WebRTC participants against an SFU through its signaling,
 * sends synthetic media from P of them and measures what the others receive.
 *
 *   diemcau-bench --url ws://127.0.0.1:PORT/ws --server-pid PID --scenario fanout \
 *                 --publishers 1 --receivers 100 --duration 10 --out bench/out/x.json
 *
 * Phases: publishers join and connect; receivers join (their subscription offers are
 * answered, their connections made in batches); once every receiver has media (or
 * --settle-timeout passes) and after --warmup, the measurement window runs for
 * --duration seconds with the server's /proc figures sampled at both ends; a short
 * drain follows. Prints one Markdown row, writes JSON; both name the SRTP profile the
 * connections negotiated (--srtp-profile limits the ones offered). Exit status 0 if the
 * run completed, 2 if no packet was measured, 3 if loss passed --loss-limit, 4 if a participant failed
 * (join, SDP, ICE/DTLS), 5 if a subscriber received more than its slots (a stream on no slot,
 * or on a slot the server never said showed it), 1 on set-up errors.
 *
 * Our server (signaling/PROTOCOL.md): every participant joins with a development token of
 * its role (--roles), publishers' audio carries the RFC 6464 level of a speaking schedule
 * (--speak), the chair may pass the floor (--floor), and receivers follow their slots
 * (offer, slot_update) and count what arrives on each. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>

#include "gen.h"
#include "ice/ice_lite.h"
#include "media.h"
#include "peer.h"
#include "procstat.h"
#include "report.h"
#include "sdp.h"
#include "sdp_client.h"
#include "sig.h"
#include "srtp/srtp_session.h"

/* A subscriber's slots as the server described them (offer, then slot_update): who each
 * shows now, every participant it was pointed at (for the check that it carried nothing
 * else), and how often it changed. Written and read on the signaling thread. */
#define SIGNALED_MAX 16
typedef struct {
    size_t n; /* slots offered */
    bool video[BENCH_MAX_SLOTS];
    char use[BENCH_MAX_SLOTS][16];
    char now[BENCH_MAX_SLOTS][64]; /* participant id, "" when empty (Janus: a UUID) */
    unsigned changes[BENCH_MAX_SLOTS];
    char signaled[BENCH_MAX_SLOTS][SIGNALED_MAX][64];
    uint8_t n_signaled[BENCH_MAX_SLOTS];
    bool signaled_overflow[BENCH_MAX_SLOTS];
    /* at the window's begin */
    char begin_now[BENCH_MAX_SLOTS][64];
    unsigned begin_changes[BENCH_MAX_SLOTS];
    uint64_t updates, updates_window, changed_window;
} slot_state;

typedef struct participant {
    size_t idx;
    long pub_index; /* -1 if it does not publish */
    bool receives;
    bench_sig *sig;
    char ufrag_pub[17], pwd_pub[33], ufrag_sub[17], pwd_sub[33], cname[32];
    uint32_t audio_ssrc, video_ssrc;
    uint8_t audio_pt, video_pt;
    dc_peer *pub_peer, *sub_peer;
    bool pub_handed, sub_handed, failed;
    int64_t join_ns;
    char participant_id[64];
    size_t room_no;        /* which of the --rooms rooms it joins */
    size_t pos;            /* its place in the room: publishers first, in joining order */
    uint8_t *expect;       /* per stream: the server gave this participant a slot for it */
    uint8_t *room_streams; /* per stream: published in its room (what the scenario wants it
                              to receive) */
    bool slots_known;
    char error[300];
    const char *role; /* ours: the join token's role */
    char name[64];
    char *token;
    uint8_t level_ext_id; /* the audio level extension id of its publish answer */
    slot_state *slots;    /* what the server said its slots show (ours) */
    bench_slot_rx *slot_rx;
} participant;

static size_t n_publishers_total, n_receivers_total, n_streams_total;

static struct {
    const bench_sig_ops *sig;
    bench_sig_hub *hub;
    sfu_dtls_cert *cert;
    bench_media *media;
    participant *p;
    size_t n, rooms;
    dc_peer **to_connect;
    participant **to_connect_owner;
    bool *to_connect_is_pub;
    int64_t *to_connect_since;
    size_t n_connect;
    size_t connected, failed;
    bool in_window;
    int64_t window_t0;
    /* the floor schedule: the chair of each room grants the floor to the participant at
     * position floor_who of the room at floor_start_ms after the window begins and revokes
     * it at floor_end_ms; floor_step: 0 before, 1 granted, 2 revoked */
    long floor_who;
    int64_t floor_start_ms, floor_end_ms;
    int floor_step;
    size_t per_room_pub, per_room_recv;
    int64_t connect_timeout_ns; /* a connection not up this long after its answer fails */
    sfu_srtp_profile profile;   /* negotiated by the connections so far (NONE before the first) */
    bool profile_mixed;         /* … unless they negotiated different ones */
    int verbose;
} g;

static volatile sig_atomic_t interrupted;
static void on_sigint(int s)
{
    (void)s;
    interrupted = 1;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail_participant(participant *p, const char *what)
{
    if (!p->failed) {
        p->failed = true;
        g.failed++;
        snprintf(p->error, sizeof p->error, "%s", what);
        fprintf(stderr, "bench: participant %zu: %s\n", p->idx, what);
    }
}

static void queue_connect(participant *p, dc_peer *peer, bool is_pub)
{
    g.to_connect[g.n_connect] = peer;
    g.to_connect_owner[g.n_connect] = p;
    g.to_connect_is_pub[g.n_connect] = is_pub;
    g.to_connect_since[g.n_connect] = mono_ns();
    g.n_connect++;
}

static bench_sdp_local local_for(participant *p, bool pub)
{
    return (bench_sdp_local){.ice_ufrag = pub ? p->ufrag_pub : p->ufrag_sub,
                             .ice_pwd = pub ? p->pwd_pub : p->pwd_sub,
                             .fingerprint = sfu_dtls_cert_fingerprint(g.cert),
                             .cname = p->cname,
                             .session_id = (uint64_t)p->idx * 1000 + (pub ? 1 : 2)};
}

/* Makes a peer from the server's SDP (ufrag/pwd, fingerprint, candidate). */
static dc_peer *peer_from(participant *p, const dc_sdp *sdp, const char *text, const char *my_ufrag)
{
    char ip[64];
    uint16_t port;
    if (!bench_sdp_candidate(text, ip, sizeof ip, &port)) {
        fail_participant(p, "server SDP without a UDP candidate");
        return NULL;
    }
    const char *fp = strchr(sdp->fingerprint, ' ');
    if (strncmp(sdp->fingerprint, "sha-256 ", 8) != 0 || !fp) {
        fail_participant(p, "server SDP without a sha-256 fingerprint");
        return NULL;
    }
    dc_peer *peer = dc_peer_new_ufrag(ip, port, sdp->ice_ufrag, sdp->ice_pwd, fp + 1, g.cert, my_ufrag);
    if (!peer) fail_participant(p, "cannot create peer");
    else /* a full-ICE server (Janus) also checks us and waits for our answers */
        dc_peer_answer_checks(peer, my_ufrag == p->ufrag_pub ? p->pwd_pub : p->pwd_sub);
    return peer;
}

static void on_joined(void *user, const char *participant_id)
{
    participant *p = user;
    if (g.verbose) fprintf(stderr, "bench: %zu joined as %s\n", p->idx, participant_id ? participant_id : "?");
    snprintf(p->participant_id, sizeof p->participant_id, "%s", participant_id ? participant_id : "");
    if (p->pub_index < 0) return;
    bench_sdp_local l = local_for(p, true);
    char *offer = bench_sdp_publish_offer(&l, true, true, p->audio_ssrc, p->video_ssrc);
    g.sig->publish(p->sig, offer);
    free(offer);
}

static void on_publish_answer(void *user, const char *text)
{
    participant *p = user;
    if (p->pub_peer) return; /* renegotiation keeps the transport */
    dc_sdp *sdp = malloc(sizeof *sdp);
    char err[200];
    if (!dc_sdp_parse(text, strlen(text), sdp, err, sizeof err)) {
        char what[256];
        snprintf(what, sizeof what, "publish answer: %s", err);
        fail_participant(p, what);
        free(sdp);
        return;
    }
    p->audio_pt = 111;
    p->video_pt = 96;
    for (size_t i = 0; i < sdp->n_media; i++) {
        const dc_sdp_media *m = &sdp->media[i];
        if (m->rejected || !m->n_codecs) continue;
        if (m->kind == DC_MEDIA_AUDIO) {
            p->audio_pt = m->codecs[0].pt;
            uint8_t id = dc_sdp_extmap_id(m, BENCH_AUDIO_LEVEL_URI);
            p->level_ext_id = id >= 1 && id <= 14 && id != BENCH_EXT_ID ? id : 0; /* one-byte header ids */
        }
        if (m->kind == DC_MEDIA_VIDEO) p->video_pt = m->codecs[0].pt;
    }
    p->pub_peer = peer_from(p, sdp, text, p->ufrag_pub);
    if (p->pub_peer) queue_connect(p, p->pub_peer, true);
    free(sdp);
}

/* The participant whose id the server named, NULL if unknown. */
static participant *by_participant_id(const char *id)
{
    for (size_t j = 0; j < g.n; j++)
        if (id[0] && strcmp(g.p[j].participant_id, id) == 0) return &g.p[j];
    return NULL;
}

/* Follows what the server says each slot of this participant shows (the offer's list,
 * then slot_update). */
static void on_slots(void *user, const bench_sig_slot *slots, size_t n_slots, bool update)
{
    participant *p = user;
    p->slots_known = true;
    if (!p->slots) p->slots = calloc(1, sizeof *p->slots);
    slot_state *st = p->slots;
    if (update) {
        st->updates++;
        if (g.in_window) st->updates_window++;
    }
    for (size_t i = 0; i < n_slots; i++) {
        int mid = slots[i].mid;
        if (mid < 0 || mid >= BENCH_MAX_SLOTS) continue;
        if ((size_t)mid >= st->n) st->n = (size_t)mid + 1;
        st->video[mid] = slots[i].video;
        if (slots[i].use[0]) snprintf(st->use[mid], sizeof st->use[mid], "%s", slots[i].use);
        const char *now = slots[i].active ? slots[i].participant_id : "";
        if (strcmp(st->now[mid], now) == 0) continue;
        snprintf(st->now[mid], sizeof st->now[mid], "%s", now);
        st->changes[mid]++;
        if (g.in_window) st->changed_window++;
        if (!now[0]) continue;
        bool known = false;
        for (size_t k = 0; k < st->n_signaled[mid] && !known; k++) known = strcmp(st->signaled[mid][k], now) == 0;
        if (known) continue;
        if (st->n_signaled[mid] < SIGNALED_MAX)
            snprintf(st->signaled[mid][st->n_signaled[mid]++], sizeof st->signaled[0][0], "%s", now);
        else st->signaled_overflow[mid] = true;
    }
}

/* At the window's end: the streams this participant is owed are those a slot showed
 * from the window's begin to its end without a change (the rest count as without a
 * slot, not as loss). */
static void settle_expectations(participant *p)
{
    slot_state *st = p->slots;
    if (!st) return;
    memset(p->expect, 0, n_streams_total);
    for (size_t i = 0; i < st->n; i++) {
        if (st->changes[i] != st->begin_changes[i] || !st->now[i][0]) continue;
        participant *src = by_participant_id(st->now[i]);
        if (g.verbose > 1)
            fprintf(stderr, "bench: %zu slot %zu shows %s (%s)\n", p->idx, i, st->now[i], src ? "known" : "unknown");
        if (src && src->pub_index >= 0) p->expect[src->pub_index * 2 + (st->video[i] ? 1 : 0)] = 1;
    }
}

static void on_subscribe_offer(void *user, int64_t version, const char *text)
{
    participant *p = user;
    dc_sdp *sdp = malloc(sizeof *sdp);
    char err[200];
    if (!dc_sdp_parse(text, strlen(text), sdp, err, sizeof err)) {
        char what[256];
        snprintf(what, sizeof what, "subscribe offer v%lld: %s", (long long)version, err);
        fail_participant(p, what);
        free(sdp);
        return;
    }
    bench_sdp_local l = local_for(p, false);
    char *answer = bench_sdp_subscribe_answer(sdp, &l);
    if (answer) g.sig->subscribe_answer(p->sig, version, answer);
    free(answer);
    if (!p->sub_peer && p->receives) {
        if (p->slots && g.sig->fixed_slots) { /* the slots' SSRCs, by mid: which slot each packet came on */
            p->slot_rx = calloc(1, sizeof *p->slot_rx);
            for (size_t i = 0; i < sdp->n_media; i++) {
                int mid = atoi(sdp->media[i].mid);
                if (mid < 0 || mid >= BENCH_MAX_SLOTS || !sdp->media[i].n_ssrcs) continue;
                p->slot_rx->ssrc[mid] = sdp->media[i].ssrcs[0].ssrc;
                if ((size_t)mid >= p->slot_rx->n) p->slot_rx->n = (size_t)mid + 1;
            }
        }
        p->sub_peer = peer_from(p, sdp, text, p->ufrag_sub);
        if (p->sub_peer) queue_connect(p, p->sub_peer, false);
    }
    free(sdp);
}

static void on_error(void *user, const char *what)
{
    participant *p = user;
    if (interrupted) return;
    fail_participant(p, what);
}

static const bench_sig_events events = {on_joined, on_publish_answer, on_subscribe_offer, on_error, on_slots};

static const bench_sig_ops *const sig_clients[] = {
    &bench_sig_diemcau,
#ifdef BENCH_HAVE_JANUS
    &bench_sig_janus,
#endif
};

/* Folds one connection's negotiated SRTP profile into the run's (see srtp_profile_name). */
static void note_profile(sfu_srtp_profile p)
{
    if (g.profile == SFU_SRTP_PROFILE_NONE) g.profile = p;
    else if (p != g.profile) g.profile_mixed = true;
}

/* The profile every connection negotiated, "mixed" if they differ, "NONE" if none connected. */
static const char *srtp_profile_name(void) { return g.profile_mixed ? "mixed" : sfu_srtp_profile_name(g.profile); }

/* --srtp-profile NAME → the DTLS-SRTP profile list (OpenSSL syntax) the peers offer, for
 * sfu_dtls_cert_set_srtp_profiles; NULL for "any": the DTLS module's default, GCM first,
 * which both our server and Janus then pick. Offering one profile is the only way to make
 * a server use AES_CM. Returns false for an unknown name. */
static bool srtp_offer_list(const char *name, const char **list)
{
    static const struct {
        const char *name, *list;
    } offers[] = {{"any", NULL}, {"gcm", "SRTP_AEAD_AES_128_GCM"}, {"cm", "SRTP_AES128_CM_SHA1_80"}};
    for (size_t i = 0; i < sizeof offers / sizeof *offers; i++)
        if (strcmp(name, offers[i].name) == 0) {
            *list = offers[i].list;
            return true;
        }
    return false;
}

/* Advances the connections in progress a little (checks and handshakes of all of them
 * together, ~20 ms, so that signaling keeps being serviced) and hands the connected ones
 * to the media threads; a connection not up after --connect-timeout (10 s) fails. */
static void connect_queued(void)
{
    if (!g.n_connect) return;
    dc_peer_connect_all(g.to_connect, g.n_connect, 20);
    int64_t now = mono_ns();
    size_t keep = 0;
    for (size_t i = 0; i < g.n_connect; i++) {
        participant *p = g.to_connect_owner[i];
        dc_peer *peer = g.to_connect[i];
        bool is_pub = g.to_connect_is_pub[i];
        if (!dc_peer_connected(peer)) {
            if (now - g.to_connect_since[i] > g.connect_timeout_ns)
                fail_participant(p, is_pub ? "publish connection failed (ICE/DTLS)"
                                           : "subscribe connection failed (ICE/DTLS)");
            else {
                g.to_connect[keep] = peer;
                g.to_connect_owner[keep] = p;
                g.to_connect_is_pub[keep] = is_pub;
                g.to_connect_since[keep] = g.to_connect_since[i];
                keep++;
            }
            continue;
        }
        if (is_pub) {
            bench_media_add_pub(g.media, peer, (size_t)p->pub_index, p->audio_ssrc, p->audio_pt, p->video_ssrc,
                                p->video_pt, p->level_ext_id);
            p->pub_handed = true;
        } else {
            bench_media_add_sub(g.media, peer, p->pub_index, p->room_streams, p->slots_known ? p->expect : NULL,
                                p->join_ns, p->slot_rx);
            p->sub_handed = true;
        }
        g.connected++;
        note_profile(dc_peer_srtp_profile(peer));
    }
    g.n_connect = keep;
}

/* The participant at position pos of room r. */
static participant *at_position(size_t r, size_t pos)
{
    if (pos < g.per_room_pub) return &g.p[r * g.per_room_pub + pos];
    pos -= g.per_room_pub;
    return pos < g.per_room_recv ? &g.p[g.per_room_pub * g.rooms + r * g.per_room_recv + pos] : NULL;
}

/* The floor schedule (--floor): each room's first chair grants and revokes it. */
static void floor_tick(void)
{
    if (g.floor_who < 0 || !g.in_window || g.floor_step >= 2) return;
    int64_t t_ms = (mono_ns() - g.window_t0) / 1000000;
    int step = t_ms >= g.floor_end_ms ? 2 : t_ms >= g.floor_start_ms ? 1 : 0;
    if (step == g.floor_step) return;
    for (size_t r = 0; r < g.rooms; r++) {
        participant *chair = NULL, *who = at_position(r, (size_t)g.floor_who);
        for (size_t pos = 0; !chair && at_position(r, pos); pos++)
            if (strcmp(at_position(r, pos)->role, "chair") == 0) chair = at_position(r, pos);
        if (!chair || !who || !who->participant_id[0] || chair->failed) continue;
        if (step == 1 && g.floor_step == 0) g.sig->grant_floor(chair->sig, who->participant_id, 0);
        if (step == 2) g.sig->revoke_floor(chair->sig);
    }
    g.floor_step = step;
}

/* Services signaling and connects peers for ms milliseconds, or until done() is true. */
static void pump(int64_t ms, bool (*done)(void))
{
    int64_t until = mono_ns() + ms * 1000000;
    while (!interrupted && mono_ns() < until) {
        g.sig->hub_service(g.hub, g.n_connect ? 0 : 2);
        connect_queued();
        floor_tick();
        if (done && done()) return;
    }
}


static bool publishers_ready(void)
{
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.p[i].pub_index >= 0) {
            ok += g.p[i].pub_handed;
            bad += g.p[i].failed;
        }
    return ok + bad >= n_publishers_total;
}

static bool receivers_ready(void)
{
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.p[i].receives) {
            ok += g.p[i].sub_handed;
            bad += g.p[i].failed && !g.p[i].sub_handed;
        }
    return ok + bad >= n_receivers_total;
}

static bool all_have_media(void)
{
    size_t handed = 0;
    for (size_t i = 0; i < g.n; i++) handed += g.p[i].sub_handed;
    return receivers_ready() && bench_media_subs_with_media(g.media) >= handed;
}

/* NAME with one room, NAME-1 … NAME-K with --rooms K */
static const char *room_name(const char *base, const participant *p)
{
    static char buf[80];
    if (g.rooms == 1) return base;
    snprintf(buf, sizeof buf, "%s-%zu", base, p->room_no + 1);
    return buf;
}

/* --roles "ROLE[*COUNT],…": roles by place in a room, in joining order (publishers first);
 * ROLE*COUNT gives COUNT places that role, and the last entry's role holds for every place
 * after (chair,official*9,delegate: place 0 the chair, 1–9 officials, the rest delegates). */
#define ROLE_RUNS_MAX 16
static struct {
    char name[16];
    size_t upto; /* places below it (and above the previous run's) have this role */
} role_runs[ROLE_RUNS_MAX];
static size_t n_role_runs;

static bool known_role(const char *r)
{
    return !strcmp(r, "chair") || !strcmp(r, "official") || !strcmp(r, "delegate") || !strcmp(r, "observer");
}

static bool parse_roles(const char *list)
{
    size_t upto = 0;
    n_role_runs = 0;
    for (const char *q = list;; q++) {
        size_t len = strcspn(q, ",*");
        unsigned long count = 1;
        if (n_role_runs == ROLE_RUNS_MAX || len >= sizeof role_runs[0].name) return false;
        snprintf(role_runs[n_role_runs].name, sizeof role_runs[0].name, "%.*s", (int)len, q);
        if (!known_role(role_runs[n_role_runs].name)) return false;
        q += len;
        if (*q == '*') {
            char *end;
            count = strtoul(q + 1, &end, 10);
            if (count == 0 || count > 100000 || end == q + 1) return false;
            q = end;
        }
        upto += count;
        role_runs[n_role_runs++].upto = upto;
        if (!*q) return true;
        if (*q != ',') return false;
    }
}

static const char *role_at(size_t pos)
{
    for (size_t i = 0; i + 1 < n_role_runs; i++)
        if (pos < role_runs[i].upto) return role_runs[i].name;
    return role_runs[n_role_runs - 1].name;
}

/* "START-END:POS[,…]" (seconds, fractions allowed) → segments; false if malformed. */
typedef struct {
    int64_t start_ms, end_ms;
    size_t pos;
} segment;

static bool parse_segments(const char *spec, segment *out, size_t max, size_t *n)
{
    *n = 0;
    while (*spec) {
        double a, b;
        unsigned long pos;
        int used = 0;
        if (*n == max || sscanf(spec, "%lf-%lf:%lu%n", &a, &b, &pos, &used) != 3 || a < 0 || b <= a) return false;
        out[(*n)++] = (segment){(int64_t)(a * 1000), (int64_t)(b * 1000), pos};
        spec += used;
        if (*spec == ',') spec++;
        else if (*spec) return false;
    }
    return true;
}

/* Every subscriber got no more than its slots: nothing on an SSRC that is not one of its
 * slots, and on each slot only streams of participants the server said it showed (offer,
 * slot_update). Adds the slot figures to *extra; returns the number of violations. */
static uint64_t check_slots(json_t *extra)
{
    static const char *const uses[] = {"chair_audio", "chair_video", "floor_audio", "floor_video",
                                       "screen",      "audio",       "gallery"};
    uint64_t by_use[7] = {0}, off_slot = 0, wrong = 0, unchecked = 0, updates = 0, updates_window = 0,
             changed_window = 0, subs = 0;
    size_t offered_min = SIZE_MAX, offered_max = 0;
    for (size_t i = 0; i < g.n; i++) {
        participant *p = &g.p[i];
        slot_state *st = p->slots;
        bench_slot_rx *rx = p->slot_rx;
        if (!st || !rx || !p->sub_handed) continue;
        subs++;
        updates += st->updates;
        updates_window += st->updates_window;
        changed_window += st->changed_window;
        if (st->n < offered_min) offered_min = st->n;
        if (st->n > offered_max) offered_max = st->n;
        off_slot += rx->off_slot;
        for (size_t k = 0; k < rx->n && k < st->n; k++) {
            for (size_t u = 0; u < 7; u++)
                if (strcmp(st->use[k], uses[u]) == 0) by_use[u] += rx->window_packets[k];
            if (rx->seen_overflow[k] || st->signaled_overflow[k]) {
                unchecked++;
                continue;
            }
            for (size_t e = 0; e < rx->n_seen[k]; e++) {
                const participant *src = &g.p[rx->seen[k][e] / 2]; /* publishers come first: pub_index = idx */
                bool video = rx->seen[k][e] % 2, signaled = false;
                for (size_t q = 0; q < st->n_signaled[k] && !signaled; q++)
                    signaled = strcmp(st->signaled[k][q], src->participant_id) == 0;
                if (signaled && video == st->video[k]) continue;
                if (wrong < 5)
                    fprintf(stderr, "bench: participant %zu slot %zu (%s) carried %s's %s, never signaled for it\n",
                            p->idx, k, st->use[k], src->participant_id, video ? "video" : "audio");
                wrong++;
            }
        }
    }
    json_t *use_json = json_object();
    for (size_t u = 0; u < 7; u++) json_object_set_new(use_json, uses[u], json_integer((json_int_t)by_use[u]));
    json_object_set_new(
        extra, "slots",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "subscribers", (json_int_t)subs, "offered_min",
                  (json_int_t)(subs ? offered_min : 0), "offered_max", (json_int_t)offered_max, "slot_updates",
                  (json_int_t)updates, "slot_updates_in_window", (json_int_t)updates_window, "slots_changed_in_window",
                  (json_int_t)changed_window, "off_slot_packets", (json_int_t)off_slot, "wrong_source_streams",
                  (json_int_t)wrong, "unchecked_slots", (json_int_t)unchecked, "window_packets_by_use", use_json));
    if (subs)
        fprintf(stderr,
                "bench: slots: %llu subscribers, %zu–%zu slots each, %llu slot_update (%llu in the window, %llu "
                "slots re-pointed), packets off the slots %llu, streams never signaled for their slot %llu\n",
                (unsigned long long)subs, offered_min, offered_max, (unsigned long long)updates,
                (unsigned long long)updates_window, (unsigned long long)changed_window, (unsigned long long)off_slot,
                (unsigned long long)wrong);
    return off_slot + wrong;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: diemcau-bench --url ws://HOST:PORT/ws [options]\n"
            "  --server-pid PID        sample CPU and RSS of this process (the server only)\n"
            "  --media-port PORT       count kernel drops on the server's UDP port\n"
            "  --scenario NAME         label (fanout, province, meeting25 …)\n"
            "  --publishers P          participants that publish audio + video (1), per room\n"
            "  --receivers R           participants that only receive (10), per room\n"
            "  --rooms K               K such rooms at once, NAME-1 … NAME-K (1: one room, NAME)\n"
            "  --publishers-receive    publishers also receive everyone else\n"
            "  --video-kbps K          video bitrate per publisher (1500)\n"
            "  --fps F --keyframe-s S  frame rate (30), periodic keyframe interval (2)\n"
            "  --duration S            measurement window (10)\n"
            "  --warmup S              after everyone has media (1)\n"
            "  --settle-timeout S      give up waiting for joins after (30)\n"
            "  --join-batch B          receivers opened per 100 ms (50)\n"
            "  --join-spread S         the publishers' joins spread evenly over S seconds (join i at i*S/P)\n"
            "                          instead of all at once (0)\n"
            "  --connect-timeout S     a connection not up (ICE + DTLS) S seconds after its SDP fails (10)\n"
            "  --decrypt-every K       SRTP-decrypt one received packet in K (16; 1 = all, 0 = none)\n"
            "  --vary-sizes            video frame (70-130 %% of the mean) and audio packet (60-140 bytes)\n"
            "                          sizes vary per frame and packet, as encoders' do (default: fixed)\n"
            "  --rtp-seq-start N       first RTP sequence number of every stream (0-65535; default from\n"
            "                          the SSRC): near 65535 the streams wrap into rollover counter 1 early\n"
            "  --rx-ring IF            read the subscribers' RTP from a packet ring on interface IF (the\n"
            "                          split network's veth, whose ingress drops it before IP: bench/netsplit.sh)\n"
            "                          instead of their sockets\n"
            "  --room NAME             (bench)\n"
            "  --roles LIST            roles by place in the room, joining order (publishers first), ROLE*COUNT\n"
            "                          for COUNT places, the last one for everyone after: e.g. chair,delegate\n"
            "                          or chair,official*9,delegate (official)\n"
            "  --gallery N             gallery video slots each subscriber asks for (the server's default: 9)\n"
            "  --speak LIST            who speaks when, as START-END:POS,… (seconds after the window begins,\n"
            "                          POS a publisher's place in its room): its audio then carries a voice\n"
            "                          level (RFC 6464), else silence. Default: nobody speaks\n"
            "  --floor START-END:POS   the room's chair grants the floor to POS at START and revokes it at END\n"
            "  --janus-select          Janus: each receives what our slots would show: the room's first\n"
            "                          participant's feed whole and the first --gallery (9) others' video\n"
            "  --signaling NAME        signaling client: diemcau (default), janus if built\n"
            "  --srtp-profile P        DTLS-SRTP profiles the peers offer: gcm (SRTP_AEAD_AES_128_GCM only),\n"
            "                          cm (SRTP_AES128_CM_SHA1_80, i.e. AES_CM_128_HMAC_SHA1_80, only) or\n"
            "                          any (both, GCM first: the default); the negotiated one is reported\n"
            "                          (JSON srtp_profile, \"mixed\" if connections differ)\n"
            "  --loss-limit F          exit 3 if the worst subscriber's loss exceeds F (0.005 = 0.5%%)\n"
            "  --note TEXT             free text stored in the JSON\n"
            "  --out FILE.json         write the JSON there\n"
            "  --markdown-header       print the table header before the row\n"
            "  -v                      log joins\n");
}

int main(int argc, char **argv)
{
    const char *url = NULL, *scenario = "custom", *room = "bench", *out = NULL, *note = "", *signaling = "diemcau",
               *srtp_offer = "any", *srtp_list = NULL, *rx_ring_if = NULL, *roles = "official", *speak = "",
               *floor_spec = "";
    int gallery = -1;
    bool janus_select = false;
    long server_pid = 0, media_port = 0;
    size_t publishers = 1, receivers = 10, rooms = 1;
    unsigned video_kbps = 1500, fps = 30, keyframe_s = 2, duration = 10, warmup = 1, settle = 30, join_batch = 50,
             decrypt_every = 16, connect_timeout = 10;
    double join_spread = 0;
    bool publishers_receive = false, md_header = false, vary_sizes = false;
    double loss_limit = -1;
    long rtp_seq_start = -1;
    enum {
        O_URL = 256,
        O_PID,
        O_PORT,
        O_SCEN,
        O_PUB,
        O_RECV,
        O_PUBRECV,
        O_KBPS,
        O_FPS,
        O_KF,
        O_DUR,
        O_WARM,
        O_SETTLE,
        O_BATCH,
        O_DEC,
        O_ROOM,
        O_SIG,
        O_NOTE,
        O_OUT,
        O_MDH,
        O_LIMIT,
        O_SRTP,
        O_ROOMS,
        O_SEQ,
        O_RING,
        O_VARY,
        O_ROLES,
        O_GALLERY,
        O_SPEAK,
        O_FLOOR,
        O_JSEL,
        O_SPREAD,
        O_CTIMEOUT
    };
    static const struct option opts[] = {{"url", 1, 0, O_URL},
                                         {"server-pid", 1, 0, O_PID},
                                         {"media-port", 1, 0, O_PORT},
                                         {"scenario", 1, 0, O_SCEN},
                                         {"publishers", 1, 0, O_PUB},
                                         {"receivers", 1, 0, O_RECV},
                                         {"publishers-receive", 0, 0, O_PUBRECV},
                                         {"video-kbps", 1, 0, O_KBPS},
                                         {"fps", 1, 0, O_FPS},
                                         {"keyframe-s", 1, 0, O_KF},
                                         {"duration", 1, 0, O_DUR},
                                         {"warmup", 1, 0, O_WARM},
                                         {"settle-timeout", 1, 0, O_SETTLE},
                                         {"join-batch", 1, 0, O_BATCH},
                                         {"decrypt-every", 1, 0, O_DEC},
                                         {"room", 1, 0, O_ROOM},
                                         {"signaling", 1, 0, O_SIG},
                                         {"note", 1, 0, O_NOTE},
                                         {"out", 1, 0, O_OUT},
                                         {"markdown-header", 0, 0, O_MDH},
                                         {"loss-limit", 1, 0, O_LIMIT},
                                         {"srtp-profile", 1, 0, O_SRTP},
                                         {"rooms", 1, 0, O_ROOMS},
                                         {"rtp-seq-start", 1, 0, O_SEQ},
                                         {"rx-ring", 1, 0, O_RING},
                                         {"vary-sizes", 0, 0, O_VARY},
                                         {"roles", 1, 0, O_ROLES},
                                         {"gallery", 1, 0, O_GALLERY},
                                         {"speak", 1, 0, O_SPEAK},
                                         {"floor", 1, 0, O_FLOOR},
                                         {"janus-select", 0, 0, O_JSEL},
                                         {"join-spread", 1, 0, O_SPREAD},
                                         {"connect-timeout", 1, 0, O_CTIMEOUT},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        switch (c) {
        case O_URL: url = optarg; break;
        case O_PID: server_pid = atol(optarg); break;
        case O_PORT: media_port = atol(optarg); break;
        case O_SCEN: scenario = optarg; break;
        case O_PUB: publishers = strtoul(optarg, NULL, 10); break;
        case O_RECV: receivers = strtoul(optarg, NULL, 10); break;
        case O_PUBRECV: publishers_receive = true; break;
        case O_KBPS: video_kbps = (unsigned)atoi(optarg); break;
        case O_FPS: fps = (unsigned)atoi(optarg); break;
        case O_KF: keyframe_s = (unsigned)atoi(optarg); break;
        case O_DUR: duration = (unsigned)atoi(optarg); break;
        case O_WARM: warmup = (unsigned)atoi(optarg); break;
        case O_SETTLE: settle = (unsigned)atoi(optarg); break;
        case O_BATCH: join_batch = (unsigned)atoi(optarg); break;
        case O_DEC: decrypt_every = (unsigned)atoi(optarg); break;
        case O_ROOM: room = optarg; break;
        case O_SIG: signaling = optarg; break;
        case O_NOTE: note = optarg; break;
        case O_OUT: out = optarg; break;
        case O_MDH: md_header = true; break;
        case O_LIMIT: loss_limit = atof(optarg); break;
        case O_SRTP: srtp_offer = optarg; break;
        case O_ROOMS: rooms = strtoul(optarg, NULL, 10); break;
        case O_SEQ: rtp_seq_start = atol(optarg); break;
        case O_RING: rx_ring_if = optarg; break;
        case O_VARY: vary_sizes = true; break;
        case O_ROLES: roles = optarg; break;
        case O_GALLERY: gallery = atoi(optarg); break;
        case O_SPEAK: speak = optarg; break;
        case O_FLOOR: floor_spec = optarg; break;
        case O_JSEL: janus_select = true; break;
        case O_SPREAD: join_spread = atof(optarg); break;
        case O_CTIMEOUT: connect_timeout = (unsigned)atoi(optarg); break;
        case 'v': g.verbose++; break;
        default: usage(); return c == 'h' ? 0 : 1;
        }
    }
    if (!url || publishers == 0 || rooms == 0 || publishers * rooms > 1000 || receivers * rooms > 5000 ||
        duration == 0 || duration > 3600 || join_spread < 0 || join_spread > 600 || connect_timeout == 0 || fps == 0 ||
        fps > 120 || rtp_seq_start < -1 || rtp_seq_start > 65535) {
        usage();
        return 1;
    }
    segment speech_segs[64], floor_seg[1];
    size_t n_speech_segs = 0, n_floor = 0;
    if (!parse_roles(roles) || gallery > 25 || !parse_segments(speak, speech_segs, 64, &n_speech_segs) ||
        !parse_segments(floor_spec, floor_seg, 1, &n_floor)) {
        fprintf(stderr, "bench: bad --roles, --gallery, --speak or --floor\n");
        return 1;
    }
    g.connect_timeout_ns = connect_timeout * 1000000000LL;
    g.floor_who = n_floor ? (long)floor_seg[0].pos : -1;
    if (n_floor) {
        g.floor_start_ms = floor_seg[0].start_ms;
        g.floor_end_ms = floor_seg[0].end_ms;
    }
    if (!srtp_offer_list(srtp_offer, &srtp_list)) {
        fprintf(stderr, "bench: --srtp-profile must be gcm, cm or any, not '%s'\n", srtp_offer);
        return 1;
    }
    for (size_t i = 0; i < sizeof sig_clients / sizeof *sig_clients; i++)
        if (strcmp(signaling, sig_clients[i]->name) == 0) g.sig = sig_clients[i];
    if (!g.sig) {
        fprintf(stderr, "bench: unknown signaling client '%s'\n", signaling);
        return 1;
    }
    if (n_floor && !g.sig->grant_floor) {
        fprintf(stderr, "bench: --floor needs a signaling client with floor control (diemcau)\n");
        return 1;
    }
    if (rooms > 1 && !g.sig->rooms_on_join) {
        fprintf(stderr, "bench: --rooms needs a signaling client that creates rooms on join (diemcau)\n");
        return 1;
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    sfu_srtp_global_init();
    g.cert = sfu_dtls_cert_new();
    g.hub = g.sig->hub_new(url);
    if (!g.cert || !g.hub || (srtp_list && !sfu_dtls_cert_set_srtp_profiles(g.cert, srtp_list))) {
        fprintf(stderr, "bench: cannot set up (certificate, SRTP profiles or signaling context for %s)\n", url);
        return 1;
    }
    bench_run run = {.scenario = scenario,
                     .server = g.sig->name,
                     .note = note,
                     .publishers = publishers,
                     .receivers = receivers,
                     .rooms = rooms,
                     .publishers_receive = publishers_receive,
                     .video_kbps = video_kbps,
                     .duration_s = duration,
                     .decrypt_every = decrypt_every,
                     .vary_sizes = vary_sizes,
                     .srtp_offer = srtp_offer};
    bench_proc_sample s_start = {0}, s_begin, s_end;
    run.have_server = server_pid > 0 && bench_proc_read((pid_t)server_pid, &s_start);
    run.server_rss_start_kib = (double)s_start.rss_kib;

    /* participants: every room's publishers first (room i / publishers), then every room's
     * receivers; publishers and receivers are counts per room */
    g.rooms = rooms;
    size_t npub = publishers * rooms;
    g.n = npub + receivers * rooms;
    g.p = calloc(g.n, sizeof *g.p);
    g.to_connect = calloc(2 * g.n, sizeof *g.to_connect);
    g.to_connect_owner = calloc(2 * g.n, sizeof *g.to_connect_owner);
    g.to_connect_is_pub = calloc(2 * g.n, sizeof *g.to_connect_is_pub);
    g.to_connect_since = calloc(2 * g.n, sizeof *g.to_connect_since);
    n_publishers_total = npub;
    n_streams_total = npub * 2;
    n_receivers_total = receivers * rooms + (publishers_receive ? npub : 0);
    g.per_room_pub = publishers;
    g.per_room_recv = receivers;
    bench_speech *speech = calloc(n_speech_segs * rooms + 1, sizeof *speech);
    size_t n_speech = 0;
    for (size_t r = 0; r < rooms; r++)
        for (size_t i = 0; i < n_speech_segs; i++)
            if (speech_segs[i].pos < publishers)
                speech[n_speech++] = (bench_speech){speech_segs[i].start_ms, speech_segs[i].end_ms,
                                                    r * publishers + speech_segs[i].pos};
    bench_media_opts mo = {.n_publishers = npub,
                           .video_bps = video_kbps * 1000,
                           .fps = fps,
                           .keyframe_s = keyframe_s,
                           .audio = true,
                           .video = true,
                           .decrypt_every = decrypt_every,
                           .rtp_seq_start = (int32_t)rtp_seq_start,
                           .rx_ring_if = rx_ring_if,
                           .vary_sizes = vary_sizes,
                           .speech = speech,
                           .n_speech = n_speech};
    g.media = bench_media_new(&mo);
    free(speech);
    srand((unsigned)getpid());
    for (size_t i = 0; i < g.n; i++) {
        participant *p = &g.p[i];
        p->idx = i;
        p->pub_index = i < npub ? (long)i : -1;
        p->receives = i >= npub || publishers_receive;
        p->room_no = i < npub ? i / publishers : (i - npub) / receivers;
        p->pos = i < npub ? i % publishers : publishers + (i - npub) % receivers;
        p->role = role_at(p->pos);
        snprintf(p->name, sizeof p->name, i < npub ? "bench-pub-%zu" : "bench-%zu", i);
        sfu_ice_random_string(p->ufrag_pub, 16);
        sfu_ice_random_string(p->pwd_pub, 32);
        sfu_ice_random_string(p->ufrag_sub, 16);
        sfu_ice_random_string(p->pwd_sub, 32);
        snprintf(p->cname, sizeof p->cname, "bench%zu", i);
        p->audio_ssrc = 0x10000000u + (uint32_t)i * 2 + ((uint32_t)rand() & 0xfff0000);
        p->video_ssrc = p->audio_ssrc + 1;
        p->expect = calloc(n_streams_total, 1);
        p->room_streams = calloc(n_streams_total, 1);
        for (size_t j = p->room_no * publishers; j < (p->room_no + 1) * publishers; j++)
            p->room_streams[2 * j] = p->room_streams[2 * j + 1] = 1;
    }
    /* every token before the first join: the joins are timed, not the minting */
    for (size_t i = 0; i < g.n && g.sig->mint_token && !interrupted; i++) {
        char err[300];
        g.p[i].token = g.sig->mint_token(g.hub, room_name(room, &g.p[i]), g.p[i].name, g.p[i].role, err, sizeof err);
        if (!g.p[i].token) {
            fprintf(stderr, "bench: participant %zu: %s\n", i, err);
            return 1;
        }
    }
    int64_t t0 = mono_ns();
    /* publishers first, so that receivers' first offers already carry their tracks; all at
     * once, or publisher i at t0 + i * join_spread / npub */
    for (size_t i = 0; i < npub; i++) {
        if (join_spread > 0)
            pump((t0 + (int64_t)(join_spread * 1e9 * (double)i / (double)npub) - mono_ns()) / 1000000, NULL);
        g.p[i].join_ns = mono_ns();
        bench_sig_join join = {.token = g.p[i].token,
                               .gallery = gallery,
                               .program_name = janus_select ? at_position(g.p[i].room_no, 0)->name : NULL};
        g.p[i].sig = g.sig->open(g.hub, room_name(room, &g.p[i]), g.p[i].name, &join, &events, &g.p[i]);
    }
    pump(settle * 1000LL, publishers_ready);
    double publishers_s = (double)(mono_ns() - t0) / 1e9;
    for (size_t i = npub; i < g.n && !interrupted; i++) {
        g.p[i].join_ns = mono_ns();
        bench_sig_join join = {.token = g.p[i].token,
                               .gallery = gallery,
                               .program_name = janus_select ? at_position(g.p[i].room_no, 0)->name : NULL};
        g.p[i].sig = g.sig->open(g.hub, room_name(room, &g.p[i]), g.p[i].name, &join, &events, &g.p[i]);
        if ((i - npub + 1) % join_batch == 0) pump(100, NULL);
    }
    int64_t settle_end = t0 + settle * 1000000000LL;
    pump((settle_end - mono_ns()) / 1000000, all_have_media);
    double setup_s = (double)(mono_ns() - t0) / 1e9;
    bool storm_complete = all_have_media();
    pump(warmup * 1000LL, NULL);
    for (size_t i = 0; i < g.n; i++) /* the slots as the window begins (settle_expectations) */
        if (g.p[i].slots) {
            memcpy(g.p[i].slots->begin_now, g.p[i].slots->now, sizeof g.p[i].slots->now);
            memcpy(g.p[i].slots->begin_changes, g.p[i].slots->changes, sizeof g.p[i].slots->changes);
        }
    g.in_window = true;
    g.window_t0 = mono_ns();

    /* a line to start a probe on (bench/probe.sh): the window begins now */
    fprintf(stderr, "bench: window begins, %u s\n", duration);
    bench_media_window_begin(g.media);
    if (run.have_server) bench_proc_read((pid_t)server_pid, &s_begin);
    uint64_t drops0 = server_pid && media_port ? bench_udp_port_drops((pid_t)server_pid, (uint16_t)media_port) : 0;
    /* a pinned server: also measure its CPUs' interrupt work, which holds the softirq work
     * of packets delivered to it even when they arrived while the CPU was idle and so were
     * charged to no process (bench/netsplit.sh) */
    cpu_set_t server_cpus;
    run.server_pinned = run.have_server && bench_pinned_cpus((pid_t)server_pid, &server_cpus);
    bench_cpu_times cores0 = {0}, cores1;
    if (run.server_pinned) cores0 = bench_cpus_read(&server_cpus);
    uint64_t backlog0 = bench_backlog_drops();
    bench_proc_sample self0 = {0}, self1 = {0};
    bench_proc_read(getpid(), &self0);
    double host0 = bench_cpus_read(NULL).busy_s;
    pump(duration * 1000LL, NULL);
    bench_media_window_end(g.media);
    g.in_window = false;
    for (size_t i = 0; i < g.n; i++) settle_expectations(&g.p[i]);
    double host1 = bench_cpus_read(NULL).busy_s;
    if (run.server_pinned) {
        cores1 = bench_cpus_read(&server_cpus);
        run.server_cores_busy_s = cores1.busy_s - cores0.busy_s;
        run.server_cores_irq_s = cores1.irq_s - cores0.irq_s;
    }
    bench_proc_read(getpid(), &self1);
    if (run.have_server && bench_proc_read((pid_t)server_pid, &s_end)) {
        run.server_cpu_s = s_end.cpu_s - s_begin.cpu_s;
        run.server_sys_s = s_end.sys_s - s_begin.sys_s;
        run.server_rss_kib = (double)s_end.rss_kib;
    } else {
        run.have_server = false;
    }
    /* what else ran on the machine meanwhile (other processes, interrupts): a disturbed run */
    run.other_cpu_s = (host1 - host0) - (self1.cpu_s - self0.cpu_s) - run.server_cpu_s;
    if (run.other_cpu_s < 0) run.other_cpu_s = 0;
    if (run.other_cpu_s > 0.1 * duration)
        fprintf(stderr, "bench: warning: other processes used %.1f CPU-s during the %u s window: figures disturbed\n",
                run.other_cpu_s, duration);
    if (server_pid && media_port)
        run.server_socket_drops = bench_udp_port_drops((pid_t)server_pid, (uint16_t)media_port) - drops0;
    pump(500, NULL); /* drain: packets sent in the window still in flight */
    run.backlog_drops = bench_backlog_drops() - backlog0;
    bench_media_finish(g.media, &run.media);
    run.participants = g.n;
    run.connected = g.connected;
    run.failed = g.failed;
    for (size_t i = 0; i < g.n; i++)
        if (g.p[i].pub_peer && !g.p[i].pub_handed) dc_peer_free(g.p[i].pub_peer);
    for (size_t i = 0; i < g.n; i++)
        if (g.p[i].sub_peer && !g.p[i].sub_handed) dc_peer_free(g.p[i].sub_peer);
    g.sig->hub_free(g.hub);

    run.srtp_profile = srtp_profile_name();
    run.extra = json_object();
    uint64_t slot_violations = check_slots(run.extra);
    size_t joined = 0; /* accepted by the server, no connection failed */
    for (size_t i = 0; i < g.n; i++) joined += g.p[i].participant_id[0] && !g.p[i].failed;
    bool all_joined = joined == g.n && storm_complete;
    json_object_set_new(run.extra, "join_storm",
                        json_pack("{s:f,s:f,s:b,s:f,s:I,s:I,s:b,s:f,s:f,s:f,s:I,s:I}", "s", setup_s,
                                  "publishers_connected_s", publishers_s, "complete", storm_complete, "spread_s",
                                  join_spread, "joins", (json_int_t)g.n, "joined", (json_int_t)joined, "all_joined",
                                  all_joined, "first_media_p50_ms", run.media.join_p50_ms, "first_media_p99_ms",
                                  run.media.join_p99_ms, "first_media_max_ms", run.media.join_max_ms, "with_media",
                                  (json_int_t)run.media.join_count, "connect_timeout_s", (json_int_t)connect_timeout));
    fprintf(stderr,
            "bench: join storm: %zu joins %s, %zu joined, %s; every publish connection up after %.2f s, every "
            "subscriber with media after %.2f s; join to first media p50 %.0f ms, p99 %.0f ms, max %.0f ms "
            "(%zu with media, %zu without)\n",
            g.n, join_spread > 0 ? "spread" : "at once", joined, all_joined ? "all joined" : "NOT all joined",
            publishers_s, setup_s, run.media.join_p50_ms, run.media.join_p99_ms, run.media.join_max_ms,
            run.media.join_count, run.media.join_missing);
    run.config_extra = json_pack("{s:s,s:i,s:s,s:s,s:b}", "roles", g.sig->mint_token ? roles : "", "gallery", gallery,
                                 "speak", speak, "floor", floor_spec, "janus_select", janus_select);
    if (md_header) bench_report_markdown_header(stdout);
    bench_report_markdown_row(stdout, &run);
    fprintf(stderr,
            "bench: %s: %zu participants (%zu failed), set-up %.1f s, window %.1f s, sent %llu, received %llu, "
            "expected %llu; gen drops %llu, decrypted %llu (fail %llu, mismatch %llu), PLIs %llu, keyframes %llu, "
            "send lag p99 %.2f max %.2f ms%s, send path p99 %.2f max %.2f ms (unstamped %llu), receive %s, server "
            "drops %llu, backlog drops %llu, streams without a slot %llu, SRTP %s "
            "(offered %s)\n",
            scenario, g.n, g.failed, setup_s, run.media.window_s, (unsigned long long)run.media.tx_packets,
            (unsigned long long)run.media.rx_packets, (unsigned long long)run.media.expected,
            (unsigned long long)run.media.gen_socket_drops, (unsigned long long)run.media.decrypted,
            (unsigned long long)run.media.decrypt_failures, (unsigned long long)run.media.record_mismatches,
            (unsigned long long)run.media.plis, (unsigned long long)run.media.keyframes, run.media.send_lag_p99_ms,
            run.media.max_send_lag_ms, run.media.sender_realtime ? " (SCHED_FIFO)" : "", run.media.send_path_p99_ms,
            run.media.send_path_max_ms, (unsigned long long)run.media.unstamped,
            run.media.rx_ring ? "packet ring" : "sockets", (unsigned long long)run.server_socket_drops,
            run.backlog_drops, (unsigned long long)run.media.streams_without_slot, run.srtp_profile, srtp_offer);
    if (out && !bench_report_json(&run, out)) fprintf(stderr, "bench: cannot write %s\n", out);
    json_decref(run.extra);
    json_decref(run.config_extra);
    sfu_dtls_cert_free(g.cert);
    for (size_t i = 0; i < g.n; i++) {
        free(g.p[i].expect);
        free(g.p[i].room_streams);
        free(g.p[i].token);
        free(g.p[i].slots);
        free(g.p[i].slot_rx);
    }
    free(g.p);
    free(g.to_connect);
    free(g.to_connect_owner);
    free(g.to_connect_is_pub);
    free(g.to_connect_since);
    if (run.media.rx_packets == 0 || run.media.expected == 0 || run.media.lat_samples == 0) return 2;
    if (g.failed) return 4;
    if (slot_violations) return 5;
    return loss_limit >= 0 && run.media.loss_max > loss_limit ? 3 : 0;
}
