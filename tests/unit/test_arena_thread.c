/* sfu/arena_thread.c: calls run on the helper, one at a time, and return only when done;
 * with glibc's malloc, what a call allocates comes from another arena than the caller's. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "arena_thread.h"
#include "check.h"

typedef struct {
    pthread_t ran_on;
    int order[8], n;
    int value;
    void *block;
} record;

static record rec;

static void note_thread(void *arg)
{
    (void)arg;
    rec.ran_on = pthread_self();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* a slow call: run must still wait for it */
    rec.value = 42;
}

static void append(void *arg) { rec.order[rec.n++] = (int)(intptr_t)arg; }

static void allocate(void *arg)
{
    (void)arg;
    rec.block = malloc(4000);
}

/* glibc's non-main arenas live in their own 64 MiB-aligned heaps, the main arena in the
 * brk heap: two blocks of different arenas never share such a region (ASan and TSan bring
 * their own allocator: no arenas to tell apart there) */
static int same_region(const void *a, const void *b) { return ((uintptr_t)a >> 26) == ((uintptr_t)b >> 26); }

static void *from_a_worker(void *arg)
{
    sfu_arena_thread *t = arg;
    void *mine = malloc(4000);
    sfu_arena_thread_run(t, allocate, NULL);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && defined(__GLIBC__)
    CHECK(!same_region(mine, rec.block));
#endif
    free(rec.block);
    free(mine);
    return NULL;
}

int main(void)
{
    sfu_arena_thread *t = sfu_arena_thread_new("test-arena");
    CHECK(t != NULL);

    sfu_arena_thread_run(t, note_thread, NULL);
    CHECK(rec.value == 42);
    CHECK(!pthread_equal(rec.ran_on, pthread_self()));

    for (int i = 0; i < 5; i++) sfu_arena_thread_run(t, append, (void *)(intptr_t)i);
    CHECK(rec.n == 5);
    for (int i = 0; i < rec.n; i++) CHECK(rec.order[i] == i);

    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, from_a_worker, t) == 0);
    pthread_join(worker, NULL);
    sfu_arena_thread_free(t);

    /* without a helper, calls run inline on the caller */
    rec.value = 0;
    sfu_arena_thread_run(NULL, note_thread, NULL);
    CHECK(rec.value == 42 && pthread_equal(rec.ran_on, pthread_self()));
    return CHECK_RESULT();
}
