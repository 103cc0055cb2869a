/* The room tree as the meeting sees it (meeting.h, meeting_internal.h): which rooms are
 * tree rooms, their display names, and the tree with live participant counts. */
#include <jansson.h>

#include "meeting_internal.h"
#include "room_tree.h"

void dc_meeting_set_room_tree(dc_meeting *m, const dc_room_tree *tree) { m->tree = tree; }

static json_t *node_json(const dc_room_tree *tree, const dc_room_node *node)
{
    const dc_room_node *parent = dc_room_tree_parent(tree, node);
    return json_pack("{s:s, s:s, s:s, s:o}", "id", node->id, "name", node->name, "kind",
                     dc_room_node_kind_name(node->kind), "parent", parent ? json_string(parent->id) : json_null());
}

json_t *dc_mt_node_json(const dc_meeting *m, const char *room)
{
    const dc_room_node *node = dc_room_tree_find(m->tree, room);
    return node ? node_json(m->tree, node) : json_null();
}

int dc_mt_room_tier(const dc_meeting *m, const char *room)
{
    const dc_room_node *node = dc_room_tree_find(m->tree, room);
    return node ? (int)node->kind : -1;
}

bool dc_mt_room_allowed(const dc_meeting *m, const char *room)
{
    return !m->cfg.tree_rooms_only || dc_room_tree_find(m->tree, room);
}

json_t *dc_meeting_tree_json(dc_meeting *m)
{
    json_t *nodes = json_array();
    size_t n = dc_room_tree_size(m->tree);
    for (size_t i = 0; i < n; i++) {
        const dc_room_node *node = dc_room_tree_at(m->tree, i);
        const dc_room *room = dc_registry_room(m->reg, node->id, false);
        json_t *o = node_json(m->tree, node);
        json_object_set_new(o, "chair", node->chair[0] ? json_string(node->chair) : json_null());
        json_object_set_new(o, "depth", json_integer(node->depth));
        json_object_set_new(o, "participants", json_integer(room ? (json_int_t)room->n_participants : 0));
        json_array_append_new(nodes, o);
    }
    const dc_room_node *root = dc_room_tree_root(m->tree);
    return json_pack("{s:o, s:o}", "root", root ? json_string(root->id) : json_null(), "nodes", nodes);
}
