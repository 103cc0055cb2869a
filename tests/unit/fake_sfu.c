/* The fake engine (see fake_sfu.h). Every sfu.h function signaling calls is defined here. */
#include "fake_sfu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OBJ_TRANSPORT, OBJ_STREAM, OBJ_SLOT } obj_type;

typedef struct {
    obj_type type;
    uint32_t id, room_id;
    uint32_t transport_id; /* streams, slots */
    sfu_kind kind;         /* streams, slots */
    uint32_t source;       /* slots: the stream pointed at, 0 = none */
    bool peer_set;         /* transports: the peer's fingerprint is known */
    bool forward;          /* streams: the gate is open */
} fake_object;

#define FAKE_MAX_EVENTS 64

struct sfu {
    fake_call *calls;
    size_t n_calls, cap_calls;
    fake_object *objects; /* alive ones only */
    size_t n_objects, cap_objects;
    sfu_event events[FAKE_MAX_EVENTS];
    size_t n_events;
    size_t problems;
};

static void *grow(void *array, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return array;
    *cap = *cap ? *cap * 2 : 64;
    void *p = realloc(array, *cap * elem);
    if (!p) abort();
    return p;
}

static void problem(sfu *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(sfu *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fake engine: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    s->problems++;
}

static fake_call *record(sfu *s, fake_op op, uint32_t id, uint32_t room_id)
{
    s->calls = grow(s->calls, &s->cap_calls, s->n_calls, sizeof *s->calls);
    fake_call *c = &s->calls[s->n_calls++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->id = id;
    c->room_id = room_id;
    return c;
}

static fake_object *find(const sfu *s, obj_type type, uint32_t id)
{
    for (size_t i = 0; i < s->n_objects; i++)
        if (s->objects[i].type == type && s->objects[i].id == id) return &s->objects[i];
    return NULL;
}

static const char *type_name(obj_type type)
{
    return type == OBJ_TRANSPORT ? "transport" : type == OBJ_STREAM ? "stream" : "slot";
}

static fake_object *create(sfu *s, obj_type type, uint32_t id, uint32_t room_id, uint32_t transport_id, sfu_kind kind)
{
    if (!id) problem(s, "%s id 0", type_name(type));
    if (find(s, type, id)) {
        problem(s, "%s %u added twice", type_name(type), id);
        return NULL;
    }
    if (type != OBJ_TRANSPORT) {
        const fake_object *t = find(s, OBJ_TRANSPORT, transport_id);
        if (!t) problem(s, "%s %u on unknown transport %u", type_name(type), id, transport_id);
        else if (t->room_id != room_id)
            problem(s, "%s %u in room %u, its transport %u in room %u", type_name(type), id, room_id, transport_id,
                    t->room_id);
    }
    s->objects = grow(s->objects, &s->cap_objects, s->n_objects, sizeof *s->objects);
    fake_object *o = &s->objects[s->n_objects++];
    *o = (fake_object){.type = type, .id = id, .room_id = room_id, .transport_id = transport_id, .kind = kind};
    return o;
}

static void destroy_at(sfu *s, size_t index)
{
    fake_object gone = s->objects[index];
    s->objects[index] = s->objects[--s->n_objects];
    if (gone.type == OBJ_STREAM) {
        for (size_t i = 0; i < s->n_objects; i++)
            if (s->objects[i].type == OBJ_SLOT && s->objects[i].source == gone.id) {
                problem(s, "stream %u removed while slot %u still shows it", gone.id, s->objects[i].id);
                s->objects[i].source = 0;
            }
    }
    if (gone.type != OBJ_TRANSPORT) return;
    /* as the engine does: a transport's streams and slots go with it */
    for (size_t i = 0; i < s->n_objects;) {
        if (s->objects[i].type != OBJ_TRANSPORT && s->objects[i].transport_id == gone.id)
            destroy_at(s, i); /* moves the last object to i */
        else i++;
    }
}

static void destroy(sfu *s, obj_type type, uint32_t id)
{
    fake_object *o = find(s, type, id);
    if (!o) {
        problem(s, "remove of unknown %s %u", type_name(type), id);
        return;
    }
    destroy_at(s, (size_t)(o - s->objects));
}

/* ---- sfu.h ------------------------------------------------------------------------ */

sfu *fake_sfu_new(void)
{
    sfu *s = calloc(1, sizeof *s);
    if (!s) abort();
    return s;
}

sfu *sfu_new(const sfu_config *cfg, sfu_wake_fn wake, void *wake_user)
{
    (void)cfg, (void)wake, (void)wake_user;
    return fake_sfu_new();
}

void sfu_free(sfu *s)
{
    if (!s) return;
    free(s->calls);
    free(s->objects);
    free(s);
}

const char *sfu_fingerprint(const sfu *s)
{
    (void)s;
    return FAKE_SFU_FINGERPRINT;
}

uint16_t sfu_room_port(const sfu *s, uint32_t room_id)
{
    (void)s, (void)room_id;
    return FAKE_SFU_PORT;
}

uint16_t sfu_tcp_port(const sfu *s)
{
    (void)s;
    return 0; /* no ICE-TCP: the SDP the tests compare has the UDP candidate only */
}

void sfu_transport_add(sfu *s, uint32_t transport_id, uint32_t room_id, const char *ice_ufrag, const char *ice_pwd,
                       const char *peer_fingerprint, bool dtls_client)
{
    fake_call *c = record(s, FAKE_TRANSPORT_ADD, transport_id, room_id);
    c->dtls_client = dtls_client;
    snprintf(c->ice_ufrag, sizeof c->ice_ufrag, "%s", ice_ufrag ? ice_ufrag : "");
    snprintf(c->text, sizeof c->text, "%s", peer_fingerprint ? peer_fingerprint : "");
    if (!ice_ufrag || !*ice_ufrag || !ice_pwd || !*ice_pwd)
        problem(s, "transport %u without ufrag or password", transport_id);
    fake_object *t = create(s, OBJ_TRANSPORT, transport_id, room_id, 0, 0);
    if (t) t->peer_set = peer_fingerprint && *peer_fingerprint;
}

void sfu_transport_set_peer(sfu *s, uint32_t transport_id, uint32_t room_id, const char *peer_fingerprint,
                            bool dtls_client)
{
    fake_call *c = record(s, FAKE_TRANSPORT_SET_PEER, transport_id, room_id);
    c->dtls_client = dtls_client;
    snprintf(c->text, sizeof c->text, "%s", peer_fingerprint ? peer_fingerprint : "");
    fake_object *t = find(s, OBJ_TRANSPORT, transport_id);
    if (!t || t->room_id != room_id) {
        problem(s, "peer set on unknown transport %u (room %u)", transport_id, room_id);
        return;
    }
    if (!peer_fingerprint || !*peer_fingerprint)
        problem(s, "peer of transport %u set without a fingerprint", transport_id);
    /* a new peer on a transport with slots: their SRTP state would be the old peer's */
    for (size_t i = 0; t->peer_set && i < s->n_objects; i++)
        if (s->objects[i].type == OBJ_SLOT && s->objects[i].transport_id == transport_id)
            problem(s, "new peer on transport %u while slot %u is on it", transport_id, s->objects[i].id);
    t->peer_set = true;
}

/* A remove names the room: the real engine ignores one that names another room. */
static void remove_in_room(sfu *s, obj_type type, const char *what, uint32_t id, uint32_t room_id)
{
    const fake_object *o = find(s, type, id);
    if (o && o->room_id != room_id) problem(s, "%s %u of room %u removed with room %u", what, id, o->room_id, room_id);
    destroy(s, type, id);
}

void sfu_transport_set_twcc(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id)
{
    record(s, FAKE_TRANSPORT_SET_TWCC, transport_id, room_id)->audio_level_ext_id = ext_id;
}

void sfu_transport_set_twcc_feedback(sfu *s, uint32_t transport_id, uint32_t room_id, uint8_t ext_id)
{
    record(s, FAKE_TRANSPORT_SET_TWCC_FEEDBACK, transport_id, room_id)->audio_level_ext_id = ext_id;
}

void sfu_transport_set_budget(sfu *s, uint32_t transport_id, uint32_t room_id, uint32_t budget_bps)
{
    record(s, FAKE_TRANSPORT_SET_BUDGET, transport_id, room_id)->budget_bps = budget_bps;
    if (!fake_sfu_transport_alive(s, transport_id))
        problem(s, "transport_set_budget of unknown transport %u", transport_id);
}

void sfu_transport_remove(sfu *s, uint32_t transport_id, uint32_t room_id)
{
    record(s, FAKE_TRANSPORT_REMOVE, transport_id, room_id);
    remove_in_room(s, OBJ_TRANSPORT, "transport", transport_id, room_id);
}

void sfu_stream_add(sfu *s, const sfu_stream_desc *desc)
{
    fake_call *c = record(s, FAKE_STREAM_ADD, desc->stream_id, desc->room_id);
    c->transport_id = desc->transport_id;
    c->kind = desc->kind;
    c->codec = desc->codec;
    c->pt = desc->pt;
    c->ssrc = desc->ssrc;
    snprintf(c->text, sizeof c->text, "%s", desc->mid);
    c->forward = !desc->blocked;
    c->audio_level_ext_id = desc->audio_level_ext_id;
    c->n_layers = desc->n_layers;
    if (!desc->ssrc && !desc->mid_ext_id) problem(s, "stream %u has neither an SSRC nor a mid", desc->stream_id);
    fake_object *st = create(s, OBJ_STREAM, desc->stream_id, desc->room_id, desc->transport_id, desc->kind);
    if (st) st->forward = !desc->blocked;
}

void sfu_stream_set_forwarding(sfu *s, uint32_t stream_id, uint32_t room_id, bool forward)
{
    fake_call *c = record(s, FAKE_STREAM_SET_FORWARDING, stream_id, room_id);
    c->forward = forward;
    fake_object *st = find(s, OBJ_STREAM, stream_id);
    if (!st || st->room_id != room_id) {
        problem(s, "gate set on unknown stream %u (room %u)", stream_id, room_id);
        return;
    }
    st->forward = forward;
}

void sfu_stream_remove(sfu *s, uint32_t stream_id, uint32_t room_id)
{
    record(s, FAKE_STREAM_REMOVE, stream_id, room_id);
    remove_in_room(s, OBJ_STREAM, "stream", stream_id, room_id);
}

void sfu_slot_add(sfu *s, uint32_t slot_id, uint32_t transport_id, uint32_t room_id, sfu_kind kind, uint32_t out_ssrc)
{
    fake_call *c = record(s, FAKE_SLOT_ADD, slot_id, room_id);
    c->transport_id = transport_id;
    c->kind = kind;
    c->ssrc = out_ssrc;
    create(s, OBJ_SLOT, slot_id, room_id, transport_id, kind);
}

void sfu_slot_point(sfu *s, uint32_t slot_id, uint32_t room_id, uint32_t stream_id, uint8_t out_pt)
{
    fake_call *c = record(s, FAKE_SLOT_POINT, slot_id, room_id);
    c->stream_id = stream_id;
    c->pt = out_pt;
    fake_object *slot = find(s, OBJ_SLOT, slot_id);
    if (!slot) {
        problem(s, "slot_point of unknown slot %u", slot_id);
        return;
    }
    if (slot->room_id != room_id)
        problem(s, "slot %u of room %u pointed with room %u", slot_id, slot->room_id, room_id);
    const fake_object *st = stream_id ? find(s, OBJ_STREAM, stream_id) : NULL;
    if (stream_id && !st) problem(s, "slot %u pointed at unknown stream %u", slot_id, stream_id);
    if (st && (st->room_id != slot->room_id || st->kind != slot->kind))
        problem(s, "slot %u pointed at stream %u of another room or kind", slot_id, stream_id);
    slot->source = st ? stream_id : 0;
}

void sfu_slot_set_quality(sfu *s, uint32_t slot_id, uint32_t room_id, sfu_quality quality, uint8_t max_temporal_layer)
{
    fake_call *c = record(s, FAKE_SLOT_SET_QUALITY, slot_id, room_id);
    c->quality = quality;
    c->max_tid = max_temporal_layer;
    const fake_object *slot = find(s, OBJ_SLOT, slot_id);
    if (!slot) problem(s, "slot_set_quality of unknown slot %u", slot_id);
    else if (slot->room_id != room_id)
        problem(s, "slot %u of room %u set with room %u", slot_id, slot->room_id, room_id);
}

void sfu_slot_set_priority(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t priority)
{
    record(s, FAKE_SLOT_SET_PRIORITY, slot_id, room_id)->priority = priority;
    const fake_object *slot = find(s, OBJ_SLOT, slot_id);
    if (!slot) problem(s, "slot_set_priority of unknown slot %u", slot_id);
}

void sfu_slot_set_rtx(sfu *s, uint32_t slot_id, uint32_t room_id, const sfu_slot_rtx *rtx)
{
    (void)rtx;
    if (!find(s, OBJ_SLOT, slot_id)) problem(s, "slot_set_rtx of unknown slot %u", slot_id);
    (void)room_id;
}

void sfu_slot_set_red(sfu *s, uint32_t slot_id, uint32_t room_id, uint8_t red_pt)
{
    (void)red_pt;
    if (!find(s, OBJ_SLOT, slot_id)) problem(s, "slot_set_red of unknown slot %u", slot_id);
    (void)room_id;
}

void sfu_slot_remove(sfu *s, uint32_t slot_id, uint32_t room_id)
{
    record(s, FAKE_SLOT_REMOVE, slot_id, room_id);
    remove_in_room(s, OBJ_SLOT, "slot", slot_id, room_id);
}

size_t sfu_poll_events(sfu *s, sfu_event *out, size_t max)
{
    size_t n = s->n_events < max ? s->n_events : max;
    memcpy(out, s->events, n * sizeof *out);
    memmove(s->events, s->events + n, (s->n_events - n) * sizeof *out);
    s->n_events -= n;
    return n;
}

void sfu_get_stats(const sfu *s, sfu_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->n_objects; i++) {
        out->transports += s->objects[i].type == OBJ_TRANSPORT;
        out->streams += s->objects[i].type == OBJ_STREAM;
        out->slots += s->objects[i].type == OBJ_SLOT;
    }
}

/* Deterministic, distinct strings: enough for ufrags and tokens in tests. */
void sfu_random_string(char *buf, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = alphabet[state >> 58];
    }
    buf[len] = '\0';
}

/* ---- test side ---------------------------------------------------------------------- */

size_t fake_sfu_call_count(const sfu *s) { return s->n_calls; }

const fake_call *fake_sfu_call(const sfu *s, size_t index) { return index < s->n_calls ? &s->calls[index] : NULL; }

size_t fake_sfu_count_since(const sfu *s, size_t from, fake_op op)
{
    size_t n = 0;
    for (size_t i = from; i < s->n_calls; i++) n += s->calls[i].op == op;
    return n;
}

const fake_call *fake_sfu_find(const sfu *s, size_t from, fake_op op, uint32_t id)
{
    for (size_t i = from; i < s->n_calls; i++)
        if (s->calls[i].op == op && (!id || s->calls[i].id == id)) return &s->calls[i];
    return NULL;
}

bool fake_sfu_transport_alive(const sfu *s, uint32_t id) { return find(s, OBJ_TRANSPORT, id) != NULL; }

bool fake_sfu_stream_alive(const sfu *s, uint32_t id) { return find(s, OBJ_STREAM, id) != NULL; }

bool fake_sfu_slot_alive(const sfu *s, uint32_t id) { return find(s, OBJ_SLOT, id) != NULL; }

uint32_t fake_sfu_slot_source(const sfu *s, uint32_t slot_id)
{
    const fake_object *slot = find(s, OBJ_SLOT, slot_id);
    return slot ? slot->source : 0;
}

bool fake_sfu_stream_forwarding(const sfu *s, uint32_t stream_id)
{
    const fake_object *st = find(s, OBJ_STREAM, stream_id);
    return st && st->forward;
}

size_t fake_sfu_alive_count(const sfu *s) { return s->n_objects; }

size_t fake_sfu_problem_count(const sfu *s) { return s->problems; }

static sfu_event *queue_event(sfu *s, sfu_event_type type, uint32_t id)
{
    if (s->n_events == FAKE_MAX_EVENTS) abort();
    sfu_event *ev = &s->events[s->n_events++];
    *ev = (sfu_event){.type = type, .id = id, .detail = "injected by the test"};
    return ev;
}

void fake_sfu_push_event(sfu *s, sfu_event_type type, uint32_t id) { queue_event(s, type, id); }

void fake_sfu_push_bandwidth(sfu *s, uint32_t transport_id, uint32_t estimate_bps, uint32_t acked_bps,
                             uint8_t loss_percent)
{
    sfu_event *ev = queue_event(s, SFU_EV_BANDWIDTH, transport_id);
    ev->estimate_bps = estimate_bps;
    ev->acked_bps = acked_bps;
    ev->loss_percent = loss_percent;
}

void fake_sfu_push_layers(sfu *s, uint32_t stream_id, uint8_t n_layers, uint8_t active)
{
    sfu_event *ev = queue_event(s, SFU_EV_LAYERS, stream_id);
    ev->n_layers = n_layers;
    ev->layers_active = active;
}

void fake_sfu_push_slot_quality(sfu *s, uint32_t transport_id, uint32_t slot_id, int8_t layer, uint8_t layers,
                                sfu_limit limit)
{
    sfu_event *ev = queue_event(s, SFU_EV_SLOT_QUALITY, transport_id);
    ev->slot_id = slot_id;
    ev->slot_layer = layer;
    ev->slot_layers = layers;
    ev->slot_limit = (uint8_t)limit;
}

void fake_sfu_push_audio_level(sfu *s, uint32_t stream_id, uint8_t audio_level, uint8_t voice_percent)
{
    sfu_event *ev = queue_event(s, SFU_EV_AUDIO_LEVEL, stream_id);
    ev->audio_level = audio_level;
    ev->voice_percent = voice_percent;
}
