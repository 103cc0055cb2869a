/* A helper thread that runs calls for its owner, synchronously, so that what they
 * allocate comes from the helper's malloc arena (glibc gives each thread its own).
 *
 * Why: a worker runs DTLS handshakes in waves (a province session links 190 sites at
 * once). Each handshake allocates ~100 KiB of OpenSSL state that lives seconds, while the
 * worker also allocates the transports' long-lived state (SRTP contexts, slots). In one
 * arena the two interleave on the same pages, and after the wave most of the handshake
 * memory stays resident as fragmented free heap. On a helper's arena the handshake
 * memory is all free again once the DTLS states are released, and malloc_trim gives it
 * back.
 *
 * The owner blocks while the call runs, so the call may touch the owner's state as if
 * the owner ran it itself (the mutex orders the two threads). */
#ifndef SFU_ARENA_THREAD_H
#define SFU_ARENA_THREAD_H

typedef struct sfu_arena_thread sfu_arena_thread;

/* NULL if the thread cannot be started; sfu_arena_thread_run then runs calls inline. */
sfu_arena_thread *sfu_arena_thread_new(const char *name);
void sfu_arena_thread_free(sfu_arena_thread *t);

/* Runs fn(arg) on the helper and returns when it has returned. */
void sfu_arena_thread_run(sfu_arena_thread *t, void (*fn)(void *), void *arg);

#endif
