/* A link-time fake of the media engine (sfu.h) for unit tests of the signaling side:
 * link it instead of libsfu. It records every engine call in order, keeps a model of
 * the objects the calls create (transports, streams, slots and where each slot points),
 * and notes every call the real engine would ignore or get wrong: an id added twice, a
 * remove of something that does not exist, a stream or slot on an unknown transport, a
 * slot pointed at a stream that is gone or of another kind or room, a stream removed
 * while a slot still shows it, a gate set on an unknown stream. Tests inject engine events with fake_sfu_push_event.
 * Written against today's sfu.h; keep every dependency on its signatures in fake_sfu.c. */
#ifndef FAKE_SFU_H
#define FAKE_SFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu.h"

#define FAKE_SFU_PORT 40000 /* what sfu_room_port answers for every room */
#define FAKE_SFU_FINGERPRINT \
    "6B:85:B9:EA:7B:F6:F5:F2:9D:06:82:11:09:A2:BE:99:37:E1:4F:EE:86:F4:5B:93:CA:12:E4:07:33:FA:C8:EF"

typedef enum {
    FAKE_TRANSPORT_ADD = 1,
    FAKE_TRANSPORT_REMOVE,
    FAKE_STREAM_ADD,
    FAKE_STREAM_REMOVE,
    FAKE_SLOT_ADD,
    FAKE_SLOT_POINT,
    FAKE_SLOT_REMOVE,
    FAKE_TRANSPORT_SET_PEER,
    FAKE_STREAM_SET_FORWARDING,
    FAKE_SLOT_SET_QUALITY,
    FAKE_TRANSPORT_SET_TWCC,
    FAKE_TRANSPORT_SET_TWCC_FEEDBACK,
    FAKE_TRANSPORT_SET_BUDGET,
    FAKE_SLOT_SET_PRIORITY,
} fake_op;

/* One engine call; fields the call does not have are 0. */
typedef struct {
    fake_op op;
    uint32_t id; /* the transport, stream or slot the call is about */
    uint32_t room_id;
    uint32_t transport_id;      /* stream_add, slot_add */
    uint32_t stream_id;         /* slot_point: the new source, 0 = none */
    sfu_kind kind;              /* stream_add, slot_add */
    sfu_codec codec;            /* stream_add */
    uint8_t pt;                 /* stream_add: the publisher's; slot_point: the one sent with */
    uint32_t ssrc;              /* stream_add: the publisher's (0 = from mid); slot_add: the slot's */
    bool dtls_client;           /* transport_add, transport_set_peer */
    bool forward;               /* stream_add: !desc.blocked; stream_set_forwarding: the gate opens */
    uint8_t audio_level_ext_id; /* stream_add; transport_set_twcc(_feedback): the extension id */
    uint8_t n_layers;           /* stream_add: simulcast layers */
    sfu_quality quality;        /* slot_set_quality */
    uint8_t max_tid;            /* slot_set_quality */
    uint32_t budget_bps;        /* transport_set_budget */
    uint8_t priority;           /* slot_set_priority */
    char ice_ufrag[64];         /* transport_add: the server's ufrag */
    char text[160];             /* transport_add, transport_set_peer: the peer's fingerprint ("" = not yet);
                              stream_add: the mid */
} fake_call;

/* A fresh fake engine, as sfu_new would return. */
sfu *fake_sfu_new(void);

/* The calls so far, oldest first. */
size_t fake_sfu_call_count(const sfu *s);
const fake_call *fake_sfu_call(const sfu *s, size_t index);
/* How many calls of op since index `from` (fake_sfu_call_count() before the action). */
size_t fake_sfu_count_since(const sfu *s, size_t from, fake_op op);
/* The first call of op about id at or after index `from`; NULL if none. id 0 = any. */
const fake_call *fake_sfu_find(const sfu *s, size_t from, fake_op op, uint32_t id);

/* The model: whether an object is alive, where a slot points (0 = nowhere or no slot). */
bool fake_sfu_transport_alive(const sfu *s, uint32_t id);
bool fake_sfu_stream_alive(const sfu *s, uint32_t id);
bool fake_sfu_slot_alive(const sfu *s, uint32_t id);
uint32_t fake_sfu_slot_source(const sfu *s, uint32_t slot_id);
/* A stream's gate as the engine has it now (its add's desc.blocked, then the last
 * sfu_stream_set_forwarding); false for no stream. */
bool fake_sfu_stream_forwarding(const sfu *s, uint32_t stream_id);
size_t fake_sfu_alive_count(const sfu *s); /* transports + streams + slots */

/* Calls the real engine would have ignored or mishandled; each also printed on stderr. */
size_t fake_sfu_problem_count(const sfu *s);

/* Queues an event for the next sfu_poll_events. */
void fake_sfu_push_event(sfu *s, sfu_event_type type, uint32_t id);
/* Queues an SFU_EV_AUDIO_LEVEL for a stream: loudness 0–127, voice share 0–100. */
void fake_sfu_push_audio_level(sfu *s, uint32_t stream_id, uint8_t audio_level, uint8_t voice_percent);
/* SFU_EV_LAYERS: the layers (bit i: layer i) the publisher of stream_id should send. */
void fake_sfu_push_layers(sfu *s, uint32_t stream_id, uint8_t n_layers, uint8_t active);
/* SFU_EV_SLOT_QUALITY: a slot's layer and why it is below what was asked. */
void fake_sfu_push_slot_quality(sfu *s, uint32_t transport_id, uint32_t slot_id, int8_t layer, uint8_t layers,
                                sfu_limit limit);
/* Queues an SFU_EV_BANDWIDTH for a transport. */
void fake_sfu_push_bandwidth(sfu *s, uint32_t transport_id, uint32_t estimate_bps, uint32_t acked_bps,
                             uint8_t loss_percent);

#endif
