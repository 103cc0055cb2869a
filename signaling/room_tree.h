/* The province's room tree (issue 13): the province, its districts, their communes, and a
 * citizen-reception point per district. Each node is a room, named by a stable ASCII id
 * (the room a join names: "huyen-a"), with a Vietnamese display name and the user id
 * (token `sub`) of its chair. Parsed from JSON (configs/rooms.json):
 *   {"nodes": [{"id": "tinh", "name": "Tỉnh …", "kind": "province", "chair": "…"},
 *              {"id": "huyen-a", "name": "Huyện …", "kind": "district", "parent": "tinh"}, …]}
 * and refused whole when it is not a tree of that shape: every error names the source
 * and the line of the node at fault. Pure: no I/O here (room_tree_file.c reads files and
 * holds the built-in tree), so parse and queries are unit-tested and fuzzed. */
#ifndef DC_ROOM_TREE_H
#define DC_ROOM_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

#define DC_ROOM_TREE_ID_MAX 64 /* bytes of [A-Za-z0-9._-] */
#define DC_ROOM_TREE_CHAIR_MAX 64
#define DC_ROOM_TREE_MAX_NODES 4096

typedef enum {
    DC_NODE_PROVINCE = 0, /* the root */
    DC_NODE_DISTRICT,     /* under the province */
    DC_NODE_COMMUNE,      /* under a district */
    DC_NODE_RECEPTION,    /* a district's citizen-reception point, under the district */
    DC_NODE_KIND_COUNT,
} dc_node_kind;

typedef struct {
    char id[DC_ROOM_TREE_ID_MAX + 1];
    char name[DC_NAME_MAX_BYTES + 1];       /* display name, trimmed, 1–64 code points */
    char chair[DC_ROOM_TREE_CHAIR_MAX + 1]; /* the chair's token sub, "" = none named */
    dc_node_kind kind;
    int index;  /* in file order, 0-based */
    int parent; /* index of the parent, −1 for the root */
    int depth;  /* 0 for the root */
    int line;   /* of the node's object in the source (1-based), 0 if unknown */
} dc_room_node;

typedef struct dc_room_tree dc_room_tree;

/* Parses and validates text (len bytes, need not end in NUL). source names it in errors
 * ("configs/rooms.json"). NULL with err = "<source>, line N: <what>" on any error: not
 * JSON, unknown keys, a bad id, an empty name, an unknown kind, duplicate ids, an unknown
 * parent, a cycle of parents, no root or more than one, a kind under the wrong parent. */
dc_room_tree *dc_room_tree_parse(const char *text, size_t len, const char *source, char *err, size_t err_len);
void dc_room_tree_free(dc_room_tree *tree);

size_t dc_room_tree_size(const dc_room_tree *tree);
/* The i-th node in file order (i < size); the root is not necessarily first. */
const dc_room_node *dc_room_tree_at(const dc_room_tree *tree, size_t i);
const dc_room_node *dc_room_tree_root(const dc_room_tree *tree);
/* The node with this id, NULL if none (tree may be NULL: no tree). */
const dc_room_node *dc_room_tree_find(const dc_room_tree *tree, const char *id);
const dc_room_node *dc_room_tree_parent(const dc_room_tree *tree, const dc_room_node *node);
/* True when the room id is the node scope_id or below it (false if either is unknown). */
bool dc_room_tree_within(const dc_room_tree *tree, const char *id, const char *scope_id);
/* node's ancestors, its parent first, into out (at most max); returns how many. */
size_t dc_room_tree_ancestors(const dc_room_tree *tree, const dc_room_node *node, const dc_room_node **out, size_t max);
/* node and the nodes below it down to depth levels (0: node alone), breadth first, each
 * level in file order, into out (at most max); returns how many. */
size_t dc_room_tree_subtree(const dc_room_tree *tree, const dc_room_node *node, int depth, const dc_room_node **out,
                            size_t max);

const char *dc_room_node_kind_name(dc_node_kind kind);
/* "province", "district", "commune", "reception" → the kind; DC_NODE_KIND_COUNT if none
 * (name may be NULL). */
dc_node_kind dc_room_node_kind_parse(const char *name);
/* A node id: 1–DC_ROOM_TREE_ID_MAX bytes of ASCII letters, digits, '.', '_', '-'. */
bool dc_room_tree_id_valid(const char *id, size_t len);

#endif
