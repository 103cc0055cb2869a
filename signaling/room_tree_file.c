/* See room_tree_file.h. */
#include "room_tree_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* room_tree_default.c, generated from configs/rooms.json (scripts/embed-text.py) */
extern const char dc_room_tree_default_json[];
extern const size_t dc_room_tree_default_json_len;

#define TREE_FILE_MAX_BYTES (4 * 1024 * 1024)

dc_room_tree *dc_room_tree_load(const char *path, char *err, size_t err_len)
{
    if (!path[0])
        return dc_room_tree_parse(dc_room_tree_default_json, dc_room_tree_default_json_len,
                                  "built-in room tree (configs/rooms.json)", err, err_len);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "room_tree %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(TREE_FILE_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, TREE_FILE_MAX_BYTES + 1, f) : 0;
    bool failed = !text || ferror(f);
    fclose(f);
    if (failed || n > TREE_FILE_MAX_BYTES) {
        snprintf(err, err_len, "room_tree %s: %s", path, failed ? "cannot read it" : "the file is larger than 4 MiB");
        free(text);
        return NULL;
    }
    dc_room_tree *tree = dc_room_tree_parse(text, n, path, err, err_len);
    free(text);
    return tree;
}
