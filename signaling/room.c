/* Rooms, participants, tracks and slots (see room.h). */
#include "room.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dc_registry {
    GHashTable *rooms;        /* name → dc_room* (owned) */
    GHashTable *by_token;     /* resume token → dc_participant* */
    GHashTable *by_transport; /* transport id → dc_participant* */
    GHashTable *by_stream;    /* published stream id → dc_participant* */
    uint32_t next_id;
    uint32_t next_participant;
};

static void free_room(gpointer data)
{
    dc_room *room = data;
    dc_participant *p = room->participants;
    while (p) {
        dc_participant *next = p->next;
        free(p);
        p = next;
    }
    dc_speaker_free(room->speakers);
    if (room->removed_users) g_hash_table_destroy(room->removed_users);
    free(room);
}

dc_registry *dc_registry_new(void)
{
    dc_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return NULL;
    reg->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free_room);
    reg->by_token = g_hash_table_new(g_str_hash, g_str_equal);
    reg->by_transport = g_hash_table_new(g_direct_hash, g_direct_equal);
    reg->by_stream = g_hash_table_new(g_direct_hash, g_direct_equal);
    return reg;
}

void dc_registry_free(dc_registry *reg)
{
    if (!reg) return;
    g_hash_table_destroy(reg->by_token);
    g_hash_table_destroy(reg->by_transport);
    g_hash_table_destroy(reg->by_stream);
    g_hash_table_destroy(reg->rooms);
    free(reg);
}

uint32_t dc_registry_next_id(dc_registry *reg)
{
    if (++reg->next_id == 0) reg->next_id = 1;
    return reg->next_id;
}

dc_room *dc_registry_room(dc_registry *reg, const char *name, bool create)
{
    dc_room *room = g_hash_table_lookup(reg->rooms, name);
    if (room || !create) return room;
    room = calloc(1, sizeof *room);
    if (!room) return NULL;
    snprintf(room->name, sizeof room->name, "%s", name);
    room->speakers = dc_speaker_new();
    room->removed_users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!room->speakers) {
        free_room(room);
        return NULL;
    }
    dc_floor_init(&room->floor);
    room->room_id = dc_registry_next_id(reg);
    g_hash_table_insert(reg->rooms, room->name, room);
    return room;
}

void dc_registry_foreach_room(dc_registry *reg, void (*fn)(dc_room *room, void *user), void *user)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) fn(value, user);
}

void dc_registry_drop_room_if_empty(dc_registry *reg, dc_room *room)
{
    if (room && !room->participants) g_hash_table_remove(reg->rooms, room->name);
}

dc_participant *dc_participant_add(dc_registry *reg, dc_room *room, const char *name)
{
    dc_participant *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->id, sizeof p->id, "p%u", ++reg->next_participant);
    p->key = dc_registry_next_id(reg);
    snprintf(p->name, sizeof p->name, "%s", name);
    sfu_random_string(p->resume_token, DC_RESUME_TOKEN_LEN);
    sfu_random_string(p->pub_ufrag, DC_UFRAG_LEN);
    sfu_random_string(p->pub_pwd, DC_PWD_LEN);
    sfu_random_string(p->sub_ufrag, DC_UFRAG_LEN);
    sfu_random_string(p->sub_pwd, DC_PWD_LEN);
    p->sdp_session_id = ((uint64_t)g_random_int() << 31) ^ g_random_int(); /* < 2^63, as RFC 8866 advises */
    p->room = room;
    /* Append, so that join's participant list is in arrival order. */
    dc_participant **tail = &room->participants;
    while (*tail) tail = &(*tail)->next;
    *tail = p;
    room->n_participants++;
    g_hash_table_insert(reg->by_token, p->resume_token, p);
    return p;
}

void dc_participant_unlink(dc_registry *reg, dc_participant *p)
{
    g_hash_table_remove(reg->by_token, p->resume_token);
    if (p->pub_transport) g_hash_table_remove(reg->by_transport, GUINT_TO_POINTER(p->pub_transport));
    if (p->sub_transport) g_hash_table_remove(reg->by_transport, GUINT_TO_POINTER(p->sub_transport));
    for (size_t i = 0; i < p->n_tracks; i++)
        g_hash_table_remove(reg->by_stream, GUINT_TO_POINTER(p->tracks[i].stream_id));
    dc_room *room = p->room;
    for (dc_participant **link = &room->participants; *link; link = &(*link)->next) {
        if (*link == p) {
            *link = p->next;
            room->n_participants--;
            break;
        }
    }
    p->next = NULL;
}

dc_participant *dc_registry_by_resume_token(dc_registry *reg, const char *token)
{
    return g_hash_table_lookup(reg->by_token, token);
}

void dc_registry_index_transport(dc_registry *reg, uint32_t transport_id, dc_participant *p)
{
    g_hash_table_insert(reg->by_transport, GUINT_TO_POINTER(transport_id), p);
}

void dc_registry_unindex_transport(dc_registry *reg, uint32_t transport_id)
{
    g_hash_table_remove(reg->by_transport, GUINT_TO_POINTER(transport_id));
}

dc_participant *dc_registry_by_transport(dc_registry *reg, uint32_t transport_id, dc_pc *pc)
{
    dc_participant *p = g_hash_table_lookup(reg->by_transport, GUINT_TO_POINTER(transport_id));
    if (p && pc) *pc = p->pub_transport == transport_id ? DC_PC_PUBLISH : DC_PC_SUBSCRIBE;
    return p;
}

dc_participant **dc_registry_collect(dc_registry *reg, dc_participant_pred pred, void *user, size_t *n)
{
    GPtrArray *found = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, reg->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        for (dc_participant *p = ((dc_room *)value)->participants; p; p = p->next)
            if (!pred || pred(p, user)) g_ptr_array_add(found, p);
    }
    *n = found->len;
    dc_participant **out = malloc((found->len ? found->len : 1) * sizeof *out);
    if (out && found->len) memcpy(out, found->pdata, found->len * sizeof *out);
    if (!out) *n = 0;
    g_ptr_array_free(found, TRUE);
    return out;
}

const dc_track *dc_room_find_stream(const dc_room *room, uint32_t stream_id, const dc_participant **owner)
{
    for (const dc_participant *p = room->participants; p; p = p->next)
        for (size_t i = 0; i < p->n_tracks; i++)
            if (p->tracks[i].stream_id == stream_id) {
                if (owner) *owner = p;
                return &p->tracks[i];
            }
    return NULL;
}

void dc_registry_index_stream(dc_registry *reg, uint32_t stream_id, dc_participant *p)
{
    g_hash_table_insert(reg->by_stream, GUINT_TO_POINTER(stream_id), p);
}

void dc_registry_unindex_stream(dc_registry *reg, uint32_t stream_id)
{
    g_hash_table_remove(reg->by_stream, GUINT_TO_POINTER(stream_id));
}

dc_participant *dc_registry_by_stream(dc_registry *reg, uint32_t stream_id)
{
    return g_hash_table_lookup(reg->by_stream, GUINT_TO_POINTER(stream_id));
}

dc_participant *dc_room_participant(const dc_room *room, const char *participant_id)
{
    for (dc_participant *p = room->participants; p; p = p->next)
        if (!strcmp(p->id, participant_id)) return p;
    return NULL;
}

dc_participant *dc_room_chair(const dc_room *room)
{
    for (dc_participant *p = room->participants; p; p = p->next)
        if (p->role == DC_ROLE_CHAIR) return p;
    return NULL;
}

const dc_track *dc_participant_track(const dc_participant *p, sfu_kind kind, bool screen)
{
    for (size_t i = 0; i < p->n_tracks; i++)
        if (p->tracks[i].kind == kind && p->tracks[i].screen == screen) return &p->tracks[i];
    return NULL;
}
