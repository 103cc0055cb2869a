/* The per-worker event ring (events.h). */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>

bool sfu_event_queue_init(sfu_event_queue *q, sfu_wake_fn wake, void *wake_user)
{
    q->ring = calloc(SFU_EVENT_QUEUE_MAX, sizeof *q->ring);
    q->head = q->count = 0;
    q->wake = wake;
    q->wake_user = wake_user;
    atomic_init(&q->lost, 0);
    pthread_mutex_init(&q->lock, NULL);
    return q->ring != NULL;
}

void sfu_event_queue_free(sfu_event_queue *q)
{
    free(q->ring);
    q->ring = NULL;
    pthread_mutex_destroy(&q->lock);
}

void sfu_event_push(sfu_event_queue *q, sfu_event_type type, uint32_t id, const char *detail)
{
    sfu_event ev = {.type = type, .id = id};
    snprintf(ev.detail, sizeof ev.detail, "%s", detail ? detail : "");
    sfu_event_push_full(q, &ev);
}

void sfu_event_push_full(sfu_event_queue *q, const sfu_event *ev)
{
    bool queued = false;
    pthread_mutex_lock(&q->lock);
    if (q->count < SFU_EVENT_QUEUE_MAX) {
        q->ring[(q->head + q->count++) % SFU_EVENT_QUEUE_MAX] = *ev;
        queued = true;
    }
    pthread_mutex_unlock(&q->lock);
    if (!queued) atomic_fetch_add_explicit(&q->lost, 1, memory_order_relaxed);
    if (q->wake) q->wake(q->wake_user);
}

size_t sfu_event_push_readings(sfu_event_queue *q, const sfu_event *evs, size_t n)
{
    size_t queued = 0;
    pthread_mutex_lock(&q->lock);
    while (queued < n && q->count < SFU_EVENT_QUEUE_MAX - SFU_EVENT_QUEUE_RESERVE)
        q->ring[(q->head + q->count++) % SFU_EVENT_QUEUE_MAX] = evs[queued++];
    pthread_mutex_unlock(&q->lock);
    if (queued < n) atomic_fetch_add_explicit(&q->lost, n - queued, memory_order_relaxed);
    if (queued && q->wake) q->wake(q->wake_user);
    return queued;
}

size_t sfu_event_drain(sfu_event_queue *q, sfu_event *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&q->lock);
    while (n < max && q->count) {
        out[n++] = q->ring[q->head];
        q->head = (q->head + 1) % SFU_EVENT_QUEUE_MAX;
        q->count--;
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}
