/* See arena_thread.h. */
#include "arena_thread.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct sfu_arena_thread {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    void (*fn)(void *); /* the pending call, NULL when none */
    void *arg;
    bool stop;
};

static void *helper_main(void *p)
{
    sfu_arena_thread *t = p;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->fn && !t->stop) pthread_cond_wait(&t->changed, &t->lock);
        if (t->stop) break;
        t->fn(t->arg);
        t->fn = NULL;
        pthread_cond_broadcast(&t->changed);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

sfu_arena_thread *sfu_arena_thread_new(const char *name)
{
    sfu_arena_thread *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->changed, NULL);
    if (pthread_create(&t->thread, NULL, helper_main, t) != 0) {
        pthread_cond_destroy(&t->changed);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    char short_name[16];
    snprintf(short_name, sizeof short_name, "%s", name);
    pthread_setname_np(t->thread, short_name);
    return t;
}

void sfu_arena_thread_run(sfu_arena_thread *t, void (*fn)(void *), void *arg)
{
    if (!t) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&t->lock);
    while (t->fn) pthread_cond_wait(&t->changed, &t->lock); /* one call at a time */
    t->fn = fn;
    t->arg = arg;
    pthread_cond_broadcast(&t->changed);
    while (t->fn) pthread_cond_wait(&t->changed, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

void sfu_arena_thread_free(sfu_arena_thread *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
