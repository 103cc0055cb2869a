/* The bench's signaling client: one interface, one implementation per server.
 *
 * A hub owns whatever is shared by all participants of a run (for our server: one
 * libwebsockets context serving every WebSocket). A session is one participant: it joins
 * a room, publishes an SDP offer and answers subscription offers. Everything runs on the
 * thread that calls service(); events come back through bench_sig_events.
 *
 * Implementations: bench_sig_diemcau (signaling/PROTOCOL.md). A Janus VideoRoom client
 * fits the same shape: join as publisher → on_joined, "configure"/"publish" with a jsep
 * offer → on_publish_answer, a subscriber handle's jsep offer → on_subscribe_offer
 * (the adapter subscribes to the feeds it learns of by itself). */
#ifndef BENCH_SIG_H
#define BENCH_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_sig_hub bench_sig_hub;
typedef struct bench_sig bench_sig;

/* One m-line of the receiving connection as the server describes it. */
typedef struct {
    int mid;                 /* its mid, a number: the m-line's index */
    char participant_id[64]; /* the source, "" when inactive */
    char use[16];            /* "chair_audio" … "gallery" (PROTOCOL.md), "" if not said */
    bool video;
    bool active;
} bench_sig_slot;

/* What a participant joins with (clients ignore what their server does not know). */
typedef struct {
    const char *token; /* join token (ours: from mint_token); NULL: none */
    int gallery;       /* gallery video slots to ask for; < 0: the server's default */
    /* Janus, to forward what our slots would (bench/compare.sh province): receive only
     * the whole feed of the participant of this display name (the chair) and the video of
     * the first `gallery` other feeds announced; NULL: every feed, whole */
    const char *program_name;
} bench_sig_join;

typedef struct {
    void (*on_joined)(void *user, const char *participant_id);
    void (*on_publish_answer)(void *user, const char *sdp);
    /* a (re)offer for the receiving connection; answer with subscribe_answer(version) */
    void (*on_subscribe_offer)(void *user, int64_t version, const char *sdp);
    /* a request failed or the connection dropped; what is a short human text */
    void (*on_error)(void *user, const char *what);
    /* optional, from clients that know which source each slot shows (ours does; a client
     * that never calls it means "expect every source"): update false: an offer's full list,
     * called before on_subscribe_offer; true: a slot_update, only the re-pointed slots */
    void (*on_slots)(void *user, const bench_sig_slot *slots, size_t n_slots, bool update);
} bench_sig_events;

typedef struct {
    const char *name;   /* "diemcau", "janus" */
    bool fixed_slots;   /* on_slots' SSRCs are those of the first offer for the whole session */
    bool rooms_on_join; /* joining a room that does not exist creates it (--rooms K needs it) */
    /* url: e.g. "ws://127.0.0.1:8080/ws". NULL on a bad URL or context failure. */
    bench_sig_hub *(*hub_new)(const char *url);
    /* runs the event loop once, waiting up to timeout_ms */
    void (*hub_service)(bench_sig_hub *hub, int timeout_ms);
    void (*hub_free)(bench_sig_hub *hub); /* closes every session still open */
    /* optional: a join token for one participant (malloc'd), NULL with the reason in err;
     * called before the joins, so that the bench times joins, not token minting */
    char *(*mint_token)(bench_sig_hub *hub, const char *room, const char *display_name, const char *role, char *err,
                        size_t err_len);
    /* opens the connection and joins as soon as it is up */
    bench_sig *(*open)(bench_sig_hub *hub, const char *room, const char *display_name, const bench_sig_join *join,
                       const bench_sig_events *ev, void *user);
    void (*publish)(bench_sig *s, const char *offer_sdp);
    void (*subscribe_answer)(bench_sig *s, int64_t version, const char *answer_sdp);
    /* number of requests sent and not yet answered (a bench waits for 0 before ending) */
    int (*pending)(const bench_sig *s);
    /* optional, a moderator's floor control: give participant_id the floor (seconds 0: no
     * limit), take it back */
    void (*grant_floor)(bench_sig *s, const char *participant_id, int seconds);
    void (*revoke_floor)(bench_sig *s);
} bench_sig_ops;

extern const bench_sig_ops bench_sig_diemcau;
#ifdef BENCH_HAVE_JANUS
extern const bench_sig_ops bench_sig_janus;
#endif

#endif
