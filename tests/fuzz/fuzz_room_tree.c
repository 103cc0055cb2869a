/* Fuzz target for the room tree parser (dc_room_tree_parse, signaling/room_tree.h): any
 * bytes, as a tree file. Beyond "no crash, no leak":
 *   - a refusal has a message that starts with the source's name;
 *   - an accepted tree is one: a single province root, every other node's parent known
 *     and of the kind the rules want, depths that match, unique ids found by find();
 *   - the subtree of the root to depth 2 holds every node exactly once, and each node's
 *     ancestors end at the root; within() agrees with the ancestors.
 * Seeds: tests/fuzz/corpus/room_tree (the built-in tree, small trees, broken ones). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room_tree.h"

#define REQUIRE(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz_room_tree: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

static void check_tree(const dc_room_tree *t)
{
    size_t n = dc_room_tree_size(t);
    const dc_room_node *root = dc_room_tree_root(t);
    REQUIRE(n >= 1 && root && root->kind == DC_NODE_PROVINCE && root->parent < 0 && root->depth == 0);
    for (size_t i = 0; i < n; i++) {
        const dc_room_node *node = dc_room_tree_at(t, i), *parent = dc_room_tree_parent(t, node);
        REQUIRE(node->index == (int)i && dc_room_tree_find(t, node->id) == node && node->name[0]);
        REQUIRE(dc_room_tree_id_valid(node->id, strlen(node->id)));
        if (node != root) {
            REQUIRE(parent && node->depth == parent->depth + 1);
            REQUIRE(node->kind == DC_NODE_DISTRICT ? parent->kind == DC_NODE_PROVINCE
                                                   : parent->kind == DC_NODE_DISTRICT);
        }
        const dc_room_node *up[4];
        size_t k = dc_room_tree_ancestors(t, node, up, 4);
        REQUIRE(k == (size_t)node->depth && (k == 0 || up[k - 1] == root));
        for (size_t j = 0; j < k; j++) REQUIRE(dc_room_tree_within(t, node->id, up[j]->id));
    }
    const dc_room_node **all = malloc(n * sizeof *all);
    uint8_t *seen = calloc(n, 1);
    REQUIRE(all && seen);
    REQUIRE(dc_room_tree_subtree(t, root, 2, all, n) == n);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(!seen[all[i]->index]);
        seen[all[i]->index] = 1;
    }
    free(all);
    free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    dc_room_tree *t = dc_room_tree_parse((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!t) {
        REQUIRE(!strncmp(err, "fuzz.json", 9));
        return 0;
    }
    check_tree(t);
    dc_room_tree_free(t);
    return 0;
}
