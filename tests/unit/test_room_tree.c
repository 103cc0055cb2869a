/* The room tree (signaling/room_tree.h): the built-in tree, every refusal with its file and
 * line, and the queries the meeting uses (find, within a scope, ancestors, subtree). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "room_tree.h"
#include "room_tree_file.h"

static char err[512];

static dc_room_tree *parse(const char *text)
{
    return dc_room_tree_parse(text, strlen(text), "t.json", err, sizeof err);
}

/* The text is refused and the message has each of the expected parts. */
static void refused(const char *text, const char *part1, const char *part2)
{
    err[0] = '\0';
    dc_room_tree *t = parse(text);
    CHECK(t == NULL);
    bool ok = strstr(err, part1) && (!part2 || strstr(err, part2));
    if (!ok) fprintf(stderr, "  message was: %s (wanted \"%s\", \"%s\")\n", err, part1, part2 ? part2 : "");
    CHECK(ok);
    dc_room_tree_free(t);
}

#define HEAD "{\"nodes\": [\n"
#define TINH "{\"id\":\"tinh\",\"name\":\"Tỉnh\",\"kind\":\"province\"}"
#define HUYEN_A ",\n{\"id\":\"huyen-a\",\"name\":\"Huyện A\",\"kind\":\"district\",\"parent\":\"tinh\"}"
#define TAIL "\n]}"

static void test_builtin_tree(void)
{
    dc_room_tree *t = dc_room_tree_load("", err, sizeof err);
    CHECK(t != NULL);
    if (!t) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const dc_room_node *root = dc_room_tree_root(t);
    CHECK(!strcmp(root->id, "tinh") && root->kind == DC_NODE_PROVINCE && root->depth == 0);
    const dc_room_node *all[DC_ROOM_TREE_MAX_NODES];
    size_t districts = dc_room_tree_subtree(t, root, 1, all, DC_ROOM_TREE_MAX_NODES) - 1;
    CHECK(districts == 9);
    /* every district has a reception point and 2–4 communes */
    for (size_t i = 1; i <= districts; i++) {
        const dc_room_node *below[16];
        size_t n = dc_room_tree_subtree(t, all[i], 1, below, 16);
        size_t reception = 0, communes = 0;
        for (size_t j = 1; j < n; j++) {
            reception += below[j]->kind == DC_NODE_RECEPTION;
            communes += below[j]->kind == DC_NODE_COMMUNE;
        }
        CHECK(all[i]->kind == DC_NODE_DISTRICT && reception == 1 && communes >= 2 && communes <= 4);
    }
    const dc_room_node *xa = dc_room_tree_find(t, "xa-c1");
    CHECK(xa && !strcmp(xa->name, "Xã Tân Lập") && xa->line > 3 && xa->chair[0]);
    dc_room_tree_free(t);
}

static void test_refusals(void)
{
    refused("{\"nodes\": [\n" TINH ",\n{\"id\": }" TAIL, "t.json, line 3:", NULL); /* not JSON */
    refused("[]", "t.json, line 1: the top level must be an object", NULL);
    refused("{\"nodes\": []}", "\"nodes\" must be an array of 1 to", NULL);
    refused("{\"rooms\": []}", "unknown top-level key \"rooms\"", NULL);
    /* each node's own fields */
    refused(HEAD TINH ",\n\"x\"" TAIL, "t.json, line 3: nodes[1]: each node must be an object", NULL);
    refused(HEAD TINH ",\n{\"id\":\"Huyện A\",\"name\":\"A\",\"kind\":\"district\",\"parent\":\"tinh\"}" TAIL,
            "t.json, line 3: nodes[1]: \"id\" must be", NULL);
    refused(HEAD TINH ",\n{\"id\":\"huyen-a\",\"name\":\"\",\"kind\":\"district\",\"parent\":\"tinh\"}" TAIL,
            "t.json, line 3: node \"huyen-a\": \"name\" is empty", NULL);
    refused(HEAD TINH ",\n{\"id\":\"huyen-a\",\"name\":\"  \",\"kind\":\"district\",\"parent\":\"tinh\"}" TAIL,
            "line 3: node \"huyen-a\": \"name\" must be 1 to", NULL);
    refused(HEAD TINH ",\n{\"id\":\"huyen-a\",\"kind\":\"district\",\"parent\":\"tinh\"}" TAIL,
            "line 3: node \"huyen-a\": \"name\" (its display name) is missing", NULL);
    refused(HEAD TINH ",\n{\"id\":\"huyen-a\",\"name\":\"A\",\"kind\":\"ward\",\"parent\":\"tinh\"}" TAIL,
            "line 3: node \"huyen-a\": \"kind\" must be", NULL);
    refused(HEAD TINH
            ",\n{\"id\":\"huyen-a\",\"name\":\"A\",\"kind\":\"district\",\"parent\":\"tinh\",\"cheir\":\"x\"}" TAIL,
            "line 3: node \"huyen-a\": unknown key \"cheir\"", NULL);
    /* between nodes */
    refused(HEAD TINH HUYEN_A HUYEN_A TAIL, "t.json, line 4: node \"huyen-a\": duplicate id", "line 3");
    refused(HEAD TINH ",\n{\"id\":\"xa-a1\",\"name\":\"Xã\",\"kind\":\"commune\",\"parent\":\"huyen-z\"}" TAIL,
            "t.json, line 3: node \"xa-a1\": parent \"huyen-z\" is not in the tree", NULL);
    refused(HEAD TINH ",\n{\"id\":\"huyen-a\",\"name\":\"A\",\"kind\":\"district\",\"parent\":\"huyen-b\"},"
                      "\n{\"id\":\"huyen-b\",\"name\":\"B\",\"kind\":\"district\",\"parent\":\"huyen-a\"}" TAIL,
            "t.json, line 3: node \"huyen-a\": its parents form a cycle: huyen-a → huyen-b → huyen-a", NULL);
    refused(HEAD TINH ",\n{\"id\":\"x\",\"name\":\"X\",\"kind\":\"commune\",\"parent\":\"x\"}" TAIL,
            "line 3: node \"x\": its parents form a cycle: x → x", NULL);
    refused(HEAD TINH ",\n{\"id\":\"tinh-2\",\"name\":\"Tỉnh 2\",\"kind\":\"province\"}" TAIL,
            "t.json, line 3: node \"tinh-2\": a second root", "\"tinh\" is the root already");
    refused(HEAD "{\"id\":\"huyen-a\",\"name\":\"A\",\"kind\":\"district\"}" TAIL,
            "t.json, line 2: node \"huyen-a\": the root must be the province, not a district", NULL);
    refused(HEAD TINH HUYEN_A ",\n{\"id\":\"xa-a1\",\"name\":\"Xã 1\",\"kind\":\"commune\",\"parent\":\"huyen-a\"},"
                              "\n{\"id\":\"xa-a2\",\"name\":\"Xã 2\",\"kind\":\"commune\",\"parent\":\"xa-a1\"}" TAIL,
            "t.json, line 5: node \"xa-a2\": a commune must be under a district, not under commune \"xa-a1\"", NULL);
    refused(HEAD TINH ",\n{\"id\":\"tiep-dan\",\"name\":\"Tiếp dân\",\"kind\":\"reception\",\"parent\":\"tinh\"}" TAIL,
            "line 3: node \"tiep-dan\": a reception point must be under a district, not under province \"tinh\"", NULL);
    refused(HEAD TINH ",\n{\"id\":\"t2\",\"name\":\"T\",\"kind\":\"province\",\"parent\":\"tinh\"}" TAIL,
            "line 3: node \"t2\": the province is the root and has no parent", NULL);
    /* lines are found past strings holding brackets, commas and escaped quotes */
    refused("{\"_c\": \"[{,\\\"}]\",\n \"nodes\": [\n" TINH ",\n\n{\"id\":\"a\",\"name\":\"A ]\",\"kind\":\"x\"}" TAIL,
            "t.json, line 5: node \"a\": \"kind\" must be", NULL);
    /* a "nodes" key written with an escape: the walk cannot place the nodes, the id and
     * index still name the culprit */
    refused("{\"no\\u0064es\": [" TINH ",\n{\"id\":\"x\",\"name\":\"X\",\"kind\":\"bad\"}]}",
            "t.json: node \"x\": \"kind\" must be", NULL);
    refused("{\"no\\u0064es\": [" TINH ",\n{\"name\":\"X\"}]}", "t.json: nodes[1]: \"id\" must be", NULL);
}

static void test_queries(void)
{
    dc_room_tree *t = dc_room_tree_load("", err, sizeof err);
    if (!t) return;
    CHECK(dc_room_tree_within(t, "xa-a1", "huyen-a") && dc_room_tree_within(t, "huyen-a", "huyen-a") &&
          dc_room_tree_within(t, "tiep-dan-huyen-a", "huyen-a") && dc_room_tree_within(t, "xa-b1", "tinh"));
    CHECK(!dc_room_tree_within(t, "xa-b1", "huyen-a") && !dc_room_tree_within(t, "tinh", "huyen-a") &&
          !dc_room_tree_within(t, "huyen-b", "huyen-a") && !dc_room_tree_within(t, "Phòng họp", "huyen-a") &&
          !dc_room_tree_within(t, "xa-a1", "no-such-node") && !dc_room_tree_within(NULL, "xa-a1", "huyen-a"));
    const dc_room_node *up[4];
    CHECK(dc_room_tree_ancestors(t, dc_room_tree_find(t, "xa-a1"), up, 4) == 2 && !strcmp(up[0]->id, "huyen-a") &&
          !strcmp(up[1]->id, "tinh"));
    CHECK(dc_room_tree_ancestors(t, dc_room_tree_root(t), up, 4) == 0);
    const dc_room_node *down[DC_ROOM_TREE_MAX_NODES];
    const dc_room_node *a = dc_room_tree_find(t, "huyen-a");
    size_t n = dc_room_tree_subtree(t, a, 1, down, DC_ROOM_TREE_MAX_NODES);
    CHECK(n == 6 && down[0] == a && !strcmp(down[1]->id, "tiep-dan-huyen-a") && !strcmp(down[2]->id, "xa-a1"));
    CHECK(dc_room_tree_subtree(t, a, 0, down, DC_ROOM_TREE_MAX_NODES) == 1);
    CHECK(dc_room_tree_subtree(t, a, 1, down, 3) == 3); /* bounded by max */
    size_t all = dc_room_tree_subtree(t, dc_room_tree_root(t), 2, down, DC_ROOM_TREE_MAX_NODES);
    CHECK(all == dc_room_tree_size(t) && down[1]->depth == 1 && down[all - 1]->depth == 2);
    /* breadth first: every district before any commune */
    CHECK(!strcmp(down[9]->id, "huyen-i") && down[10]->parent == dc_room_tree_find(t, "huyen-a")->index);
    CHECK(!strcmp(dc_room_node_kind_name(DC_NODE_RECEPTION), "reception"));
    CHECK(dc_room_tree_id_valid("tiep-dan_2.b", 12) && !dc_room_tree_id_valid("xã", 3) &&
          !dc_room_tree_id_valid("", 0) && !dc_room_tree_id_valid("a b", 3));
    dc_room_tree_free(t);
}

static void test_file(void)
{
    CHECK(dc_room_tree_load("/nonexistent/rooms.json", err, sizeof err) == NULL &&
          strstr(err, "room_tree /nonexistent/rooms.json: No such file"));
}

int main(void)
{
    test_builtin_tree();
    test_refusals();
    test_queries();
    test_file();
    return CHECK_RESULT();
}
