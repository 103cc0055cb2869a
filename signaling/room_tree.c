/* See room_tree.h. Jansson parses the text; it keeps no positions of values, so a small
 * scanner walks the same (already accepted) text to find the line each node object starts
 * on. Validation runs in an order where each error is the clearest one for the mistake:
 * each node's own fields, then duplicate ids, unknown parents, cycles, the root, and last
 * the kinds (with kinds right no cycle is possible, so cycles are looked for before them). */
#include "room_tree.h"

#include <glib.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dc_room_tree {
    dc_room_node *nodes;
    size_t n;
    int root;
    int *first_child, *next_sibling; /* children in file order; −1 ends */
    GHashTable *by_id;               /* id → node (points into nodes) */
};

static const char *const kind_names[DC_NODE_KIND_COUNT] = {
    [DC_NODE_PROVINCE] = "province",
    [DC_NODE_DISTRICT] = "district",
    [DC_NODE_COMMUNE] = "commune",
    [DC_NODE_RECEPTION] = "reception",
};

const char *dc_room_node_kind_name(dc_node_kind kind) { return kind < DC_NODE_KIND_COUNT ? kind_names[kind] : "?"; }

dc_node_kind dc_room_node_kind_parse(const char *name)
{
    for (int k = 0; name && k < DC_NODE_KIND_COUNT; k++)
        if (!strcmp(name, kind_names[k])) return (dc_node_kind)k;
    return DC_NODE_KIND_COUNT;
}

bool dc_room_tree_id_valid(const char *id, size_t len)
{
    if (!id || len < 1 || len > DC_ROOM_TREE_ID_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) return false;
    }
    return true;
}

/* ---- where each node starts ----------------------------------------------------------- */

typedef struct {
    const char *p, *end, *counted; /* counted: newlines before it are in line */
    int line;
} scanner;

static void skip_blank(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static bool skip_string(scanner *s) /* at its opening quote */
{
    for (s->p++; s->p < s->end; s->p++) {
        if (*s->p == '\\') {
            if (s->end - s->p < 2) return false;
            s->p++;
        } else if (*s->p == '"') {
            s->p++;
            return true;
        }
    }
    return false;
}

static bool skip_value(scanner *s)
{
    skip_blank(s);
    if (s->p >= s->end) return false;
    if (*s->p == '"') return skip_string(s);
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        while (s->p < s->end) {
            char c = *s->p;
            if (c == '"') {
                if (!skip_string(s)) return false;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) {
                s->p++;
                return true;
            }
            s->p++;
        }
        return false;
    }
    while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ' && *s->p != '\n' &&
           *s->p != '\r' && *s->p != '\t')
        s->p++;
    return true;
}

static int line_here(scanner *s)
{
    for (; s->counted < s->p; s->counted++)
        if (*s->counted == '\n') s->line++;
    return s->line;
}

static bool expect(scanner *s, char c)
{
    skip_blank(s);
    if (s->p >= s->end || *s->p != c) return false;
    s->p++;
    return true;
}

/* lines[i] = the line of element i of the top-level "nodes" array (n elements); left 0
 * where the walk cannot tell (a key written with escapes, say). */
static void find_node_lines(const char *text, size_t len, int *lines, size_t n)
{
    scanner s = {text, text + len, text, 1};
    if (!expect(&s, '{')) return;
    for (;;) {
        skip_blank(&s);
        if (s.p >= s.end || *s.p != '"') return;
        const char *key = s.p;
        if (!skip_string(&s)) return;
        bool nodes = s.p - key == 7 && !memcmp(key, "\"nodes\"", 7);
        if (!expect(&s, ':')) return;
        if (nodes) {
            if (!expect(&s, '[')) return;
            for (size_t i = 0;; i++) {
                skip_blank(&s);
                if (s.p >= s.end || *s.p == ']') return;
                if (i < n) lines[i] = line_here(&s);
                if (!skip_value(&s)) return;
                if (!expect(&s, ',')) return;
            }
        }
        if (!skip_value(&s) || !expect(&s, ',')) return;
    }
}

/* ---- errors ---------------------------------------------------------------------------- */

static void say(char *err, size_t err_len, const char *source, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void say(char *err, size_t err_len, const char *source, int line, const char *fmt, ...)
{
    int used = line > 0 ? snprintf(err, err_len, "%s, line %d: ", source, line)
                        : snprintf(err, err_len, "%s: ", source);
    if (used < 0 || (size_t)used >= err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, err_len - (size_t)used, fmt, ap);
    va_end(ap);
}

/* "node \"id\"" or, before the id is known, "nodes[i]" */
static void node_label(const dc_room_node *node, char *out, size_t size)
{
    if (node->id[0]) snprintf(out, size, "node \"%s\"", node->id);
    else snprintf(out, size, "nodes[%d]", node->index);
}

#define NODE_ERROR(node, ...) \
    do { \
        char label_[DC_ROOM_TREE_ID_MAX + 16], what_[256]; \
        node_label(node, label_, sizeof label_); \
        snprintf(what_, sizeof what_, __VA_ARGS__); \
        say(err, err_len, source, (node)->line, "%s: %s", label_, what_); \
    } while (0)

/* ---- parsing --------------------------------------------------------------------------- */

static const char *const node_keys[] = {"id", "name", "kind", "parent", "chair"};

/* One node object's fields into node; parent_ids[node->index] gets its parent's id (or
 * "" for none). False with err set. */
static bool parse_node(json_t *obj, dc_room_node *node, char *parent_id, const char *source, char *err, size_t err_len)
{
    if (!json_is_object(obj)) {
        NODE_ERROR(node, "each node must be an object {\"id\", \"name\", \"kind\", \"parent\", \"chair\"}");
        return false;
    }
    json_t *id = json_object_get(obj, "id");
    if (!json_is_string(id) || !dc_room_tree_id_valid(json_string_value(id), json_string_length(id))) {
        NODE_ERROR(node, "\"id\" must be 1 to %d ASCII letters, digits, '.', '_' or '-' (e.g. \"huyen-a\")",
                   DC_ROOM_TREE_ID_MAX);
        return false;
    }
    memcpy(node->id, json_string_value(id), json_string_length(id) + 1);
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        bool known = key[0] == '_';
        for (size_t k = 0; k < sizeof node_keys / sizeof node_keys[0]; k++) known |= !strcmp(key, node_keys[k]);
        if (!known) {
            NODE_ERROR(node, "unknown key \"%.64s\" (a node has id, name, kind, parent, chair)", key);
            return false;
        }
    }
    json_t *name = json_object_get(obj, "name");
    char why[160];
    if (!json_is_string(name)) {
        NODE_ERROR(node, "\"name\" (its display name) is missing");
        return false;
    }
    if (dc_label_normalize("name", json_string_value(name), json_string_length(name), node->name, why, sizeof why)) {
        NODE_ERROR(node, "%s", json_string_length(name) == 0 ? "\"name\" is empty" : why);
        return false;
    }
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    node->kind = dc_room_node_kind_parse(kind);
    if (node->kind == DC_NODE_KIND_COUNT) {
        NODE_ERROR(node, "\"kind\" must be \"province\", \"district\", \"commune\" or \"reception\"");
        return false;
    }
    json_t *parent = json_object_get(obj, "parent");
    parent_id[0] = '\0';
    if (parent && !json_is_null(parent)) {
        if (!json_is_string(parent) || !dc_room_tree_id_valid(json_string_value(parent), json_string_length(parent))) {
            NODE_ERROR(node, "\"parent\" must be another node's id (or absent for the root)");
            return false;
        }
        memcpy(parent_id, json_string_value(parent), json_string_length(parent) + 1);
    }
    json_t *chair = json_object_get(obj, "chair");
    if (chair) {
        size_t n = json_string_length(chair);
        if (!json_is_string(chair) || n > DC_ROOM_TREE_CHAIR_MAX) {
            NODE_ERROR(node, "\"chair\" must be the chair's user id (a token's sub), at most %d bytes",
                       DC_ROOM_TREE_CHAIR_MAX);
            return false;
        }
        memcpy(node->chair, json_string_value(chair), n + 1);
    }
    return true;
}

static bool link_parents(dc_room_tree *t, char (*parent_ids)[DC_ROOM_TREE_ID_MAX + 1], const char *source, char *err,
                         size_t err_len)
{
    for (size_t i = 0; i < t->n; i++) {
        dc_room_node *node = &t->nodes[i];
        const dc_room_node *first = g_hash_table_lookup(t->by_id, node->id);
        if (first) {
            if (first->line) NODE_ERROR(node, "duplicate id: the node at line %d has it already", first->line);
            else NODE_ERROR(node, "duplicate id: nodes[%d] has it already", first->index);
            return false;
        }
        g_hash_table_insert(t->by_id, node->id, node);
    }
    for (size_t i = 0; i < t->n; i++) {
        dc_room_node *node = &t->nodes[i];
        node->parent = -1;
        if (!parent_ids[i][0]) continue;
        const dc_room_node *parent = g_hash_table_lookup(t->by_id, parent_ids[i]);
        if (!parent) {
            NODE_ERROR(node, "parent \"%s\" is not in the tree", parent_ids[i]);
            return false;
        }
        node->parent = parent->index;
    }
    return true;
}

/* A cycle of parents (a → b → a) has no root to hang from. */
static bool check_cycles(dc_room_tree *t, const char *source, char *err, size_t err_len)
{
    enum { UNSEEN = 0, ON_PATH, DONE };
    uint8_t *state = calloc(t->n, 1);
    if (!state) return say(err, err_len, source, 0, "out of memory"), false;
    bool ok = true;
    for (size_t i = 0; i < t->n && ok; i++) {
        int j = (int)i;
        while (j >= 0 && state[j] == UNSEEN) {
            state[j] = ON_PATH;
            j = t->nodes[j].parent;
        }
        if (j >= 0 && state[j] == ON_PATH) {
            char path[200] = "";
            size_t used = 0;
            int k = j;
            do {
                used += (size_t)snprintf(path + used, sizeof path - used, "%s → ", t->nodes[k].id);
                k = t->nodes[k].parent;
            } while (k != j && used < sizeof path - DC_ROOM_TREE_ID_MAX - 8);
            snprintf(path + used, sizeof path - used, "%s", k == j ? t->nodes[j].id : "…");
            const dc_room_node *node = &t->nodes[j];
            NODE_ERROR(node, "its parents form a cycle: %s", path);
            ok = false;
        }
        for (j = (int)i; j >= 0 && state[j] == ON_PATH; j = t->nodes[j].parent) state[j] = DONE;
    }
    free(state);
    return ok;
}

static bool check_root(dc_room_tree *t, const char *source, char *err, size_t err_len)
{
    t->root = -1;
    for (size_t i = 0; i < t->n; i++) {
        const dc_room_node *node = &t->nodes[i];
        if (node->parent >= 0) continue;
        if (t->root >= 0) {
            NODE_ERROR(node, "a second root (no parent): \"%s\" is the root already; give it a parent",
                       t->nodes[t->root].id);
            return false;
        }
        t->root = (int)i;
    }
    if (t->root < 0) return say(err, err_len, source, 0, "the tree has no root (a node without parent)"), false;
    return true;
}

/* What each kind hangs from: the province is the root, districts are under it, communes
 * and reception points under a district. */
static bool check_kinds(dc_room_tree *t, const char *source, char *err, size_t err_len)
{
    static const int parent_kind[DC_NODE_KIND_COUNT] = {
        [DC_NODE_PROVINCE] = -1,
        [DC_NODE_DISTRICT] = DC_NODE_PROVINCE,
        [DC_NODE_COMMUNE] = DC_NODE_DISTRICT,
        [DC_NODE_RECEPTION] = DC_NODE_DISTRICT,
    };
    static const char *const rule[DC_NODE_KIND_COUNT] = {
        [DC_NODE_PROVINCE] = "the province is the root and has no parent",
        [DC_NODE_DISTRICT] = "a district must be under the province",
        [DC_NODE_COMMUNE] = "a commune must be under a district",
        [DC_NODE_RECEPTION] = "a reception point must be under a district",
    };
    for (size_t i = 0; i < t->n; i++) {
        const dc_room_node *node = &t->nodes[i];
        const dc_room_node *parent = node->parent >= 0 ? &t->nodes[node->parent] : NULL;
        int want = parent_kind[node->kind];
        if (!parent && want >= 0) {
            NODE_ERROR(node, "the root must be the province, not a %s", kind_names[node->kind]);
            return false;
        }
        if (parent && (want < 0 || parent->kind != (dc_node_kind)want)) {
            NODE_ERROR(node, "%s, not under %s \"%s\"", rule[node->kind], kind_names[parent->kind], parent->id);
            return false;
        }
    }
    return true;
}

static void index_children(dc_room_tree *t)
{
    for (size_t i = 0; i < t->n; i++) t->first_child[i] = t->next_sibling[i] = -1;
    for (size_t i = t->n; i-- > 0;) { /* backwards: each list ends up in file order */
        dc_room_node *node = &t->nodes[i];
        if (node->parent < 0) continue;
        t->next_sibling[i] = t->first_child[node->parent];
        t->first_child[node->parent] = (int)i;
    }
    for (size_t i = 0; i < t->n; i++) {
        int depth = 0;
        for (int j = t->nodes[i].parent; j >= 0; j = t->nodes[j].parent) depth++;
        t->nodes[i].depth = depth;
    }
}

static bool parse_nodes(dc_room_tree *t, json_t *list, const char *text, size_t len, const char *source, char *err,
                        size_t err_len)
{
    t->n = json_array_size(list);
    t->nodes = calloc(t->n, sizeof *t->nodes);
    t->first_child = calloc(t->n, sizeof(int));
    t->next_sibling = calloc(t->n, sizeof(int));
    char(*parent_ids)[DC_ROOM_TREE_ID_MAX + 1] = calloc(t->n, DC_ROOM_TREE_ID_MAX + 1);
    int *lines = calloc(t->n, sizeof(int));
    bool ok = t->nodes && t->first_child && t->next_sibling && parent_ids && lines;
    if (!ok) say(err, err_len, source, 0, "out of memory");
    if (ok) find_node_lines(text, len, lines, t->n);
    for (size_t i = 0; ok && i < t->n; i++) {
        t->nodes[i].index = (int)i;
        t->nodes[i].line = lines[i];
        ok = parse_node(json_array_get(list, i), &t->nodes[i], parent_ids[i], source, err, err_len);
    }
    ok = ok && link_parents(t, parent_ids, source, err, err_len) && check_cycles(t, source, err, err_len) &&
         check_root(t, source, err, err_len) && check_kinds(t, source, err, err_len);
    if (ok) index_children(t);
    free(parent_ids);
    free(lines);
    return ok;
}

dc_room_tree *dc_room_tree_parse(const char *text, size_t len, const char *source, char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        say(err, err_len, source, jerr.line, "%s", jerr.text);
        return NULL;
    }
    dc_room_tree *t = NULL;
    json_t *list = json_object_get(root, "nodes");
    const char *key;
    json_t *value;
    if (!json_is_object(root)) {
        say(err, err_len, source, 1, "the top level must be an object {\"nodes\": [ … ]}");
        goto out;
    }
    json_object_foreach(root, key, value)
    {
        if (key[0] != '_' && strcmp(key, "nodes")) {
            say(err, err_len, source, 0, "unknown top-level key \"%.64s\" (only \"nodes\" and \"_…\" comments)", key);
            goto out;
        }
    }
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > DC_ROOM_TREE_MAX_NODES) {
        say(err, err_len, source, 0, "\"nodes\" must be an array of 1 to %d nodes", DC_ROOM_TREE_MAX_NODES);
        goto out;
    }
    t = calloc(1, sizeof *t);
    if (t) t->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    if (!t || !parse_nodes(t, list, text, len, source, err, err_len)) {
        if (!t) say(err, err_len, source, 0, "out of memory");
        dc_room_tree_free(t);
        t = NULL;
    }
out:
    json_decref(root);
    return t;
}

void dc_room_tree_free(dc_room_tree *t)
{
    if (!t) return;
    if (t->by_id) g_hash_table_destroy(t->by_id);
    free(t->nodes);
    free(t->first_child);
    free(t->next_sibling);
    free(t);
}

/* ---- queries --------------------------------------------------------------------------- */

size_t dc_room_tree_size(const dc_room_tree *t) { return t ? t->n : 0; }

const dc_room_node *dc_room_tree_at(const dc_room_tree *t, size_t i) { return t && i < t->n ? &t->nodes[i] : NULL; }

const dc_room_node *dc_room_tree_root(const dc_room_tree *t) { return t ? &t->nodes[t->root] : NULL; }

const dc_room_node *dc_room_tree_find(const dc_room_tree *t, const char *id)
{
    return t && id ? g_hash_table_lookup(t->by_id, id) : NULL;
}

const dc_room_node *dc_room_tree_parent(const dc_room_tree *t, const dc_room_node *node)
{
    return t && node && node->parent >= 0 ? &t->nodes[node->parent] : NULL;
}

bool dc_room_tree_within(const dc_room_tree *t, const char *id, const char *scope_id)
{
    const dc_room_node *node = dc_room_tree_find(t, id), *scope = dc_room_tree_find(t, scope_id);
    for (; node && scope; node = dc_room_tree_parent(t, node))
        if (node == scope) return true;
    return false;
}

size_t dc_room_tree_ancestors(const dc_room_tree *t, const dc_room_node *node, const dc_room_node **out, size_t max)
{
    size_t n = 0;
    for (const dc_room_node *a = dc_room_tree_parent(t, node); a && n < max; a = dc_room_tree_parent(t, a))
        out[n++] = a;
    return n;
}

size_t dc_room_tree_subtree(const dc_room_tree *t, const dc_room_node *node, int depth, const dc_room_node **out,
                            size_t max)
{
    if (!t || !node || !max || depth < 0) return 0;
    size_t n = 0, level_start = 0;
    out[n++] = node;
    /* breadth first: the nodes of one level are out[level_start … level_end) */
    for (int level = 0; level < depth && level_start < n; level++) {
        size_t level_end = n;
        for (size_t i = level_start; i < level_end; i++)
            for (int c = t->first_child[out[i]->index]; c >= 0 && n < max; c = t->next_sibling[c])
                out[n++] = &t->nodes[c];
        level_start = level_end;
    }
    return n;
}
