/* One media worker: a thread that owns one UDP socket (and the ICE-TCP connections of
 * its rooms) and a core (core.h) with every
 * transport, stream and slot of the rooms pinned to it. Shared with other threads: the
 * command queue (in), the core's event queue and counters (out).
 *
 * Internal to sfu/: the signaling side only sees sfu.h. */
#ifndef SFU_WORKER_H
#define SFU_WORKER_H

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "net/tcp_conns.h"
#include "net/udp.h"

typedef struct {
    sfu_core_settings core;
    const char *bind_ip;
    uint16_t port; /* 0: any */
} sfu_worker_settings;

typedef struct {
    sfu_core *core;
    sfu_udp udp;
    int wake_fd; /* eventfd: commands are waiting */
    pthread_t thread;
    atomic_bool stop;
    bool thread_started;

    pthread_mutex_t cmd_lock;
    GQueue cmd_queue; /* sfu_cmd* */

    sfu_rx_datagrams *rx;
    sfu_tcp_conns tcp;          /* ICE-TCP connections handed to this worker */
    unsigned tcp_rx_count;      /* frames of the current TCP read waiting in rx */
    int64_t max_queue_delay_ns; /* 0: no limit */
    int64_t next_tick_us;
    int64_t next_trim_us; /* at most one malloc_trim per second */
} sfu_worker;

sfu_worker *sfu_worker_new(const sfu_worker_settings *cfg); /* NULL, with a message, on failure */
bool sfu_worker_start(sfu_worker *w);
void sfu_worker_free(sfu_worker *w); /* stops the thread first */
/* Queues a command for the worker thread (any thread); false if memory ran out. */
bool sfu_worker_post(sfu_worker *w, const sfu_cmd *cmd);
int64_t sfu_now_us(void);

#endif
