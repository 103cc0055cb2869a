/* A worker's queue of engine events (sfu.h) for the signaling thread: a fixed ring, so
 * that reporting an event never allocates; the public sfu_poll_events drains it. */
#ifndef SFU_EVENTS_H
#define SFU_EVENTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sfu.h"

#define SFU_EVENT_QUEUE_MAX 4096
/* Readings (audio levels: one per audio stream every 100 ms, 2 500 a second for a room of
 * 250) never take the last SFU_EVENT_QUEUE_RESERVE places: when the signaling thread falls
 * behind, readings are lost first and a transport's or a command's event still gets in. */
#define SFU_EVENT_QUEUE_RESERVE 1024

typedef struct {
    pthread_mutex_t lock;
    sfu_event *ring; /* SFU_EVENT_QUEUE_MAX entries */
    size_t head, count;
    sfu_wake_fn wake; /* called after each push (signaling: lws_cancel_service) */
    void *wake_user;
    atomic_uint_fast64_t lost; /* pushed while full: the signaling thread is not draining */
} sfu_event_queue;

bool sfu_event_queue_init(sfu_event_queue *q, sfu_wake_fn wake, void *wake_user);
void sfu_event_queue_free(sfu_event_queue *q);
void sfu_event_push(sfu_event_queue *q, sfu_event_type type, uint32_t id, const char *detail);
void sfu_event_push_full(sfu_event_queue *q, const sfu_event *ev); /* (the same, with figures) */
/* Queues readings under one lock with one wake; returns how many fitted (the rest count
 * as lost). */
size_t sfu_event_push_readings(sfu_event_queue *q, const sfu_event *evs, size_t n);
size_t sfu_event_drain(sfu_event_queue *q, sfu_event *out, size_t max);

#endif
