/* Where the room tree comes from: the file config room_tree names, or, when it is empty,
 * the built-in tree (configs/rooms.json as it was at build time). */
#ifndef DC_ROOM_TREE_FILE_H
#define DC_ROOM_TREE_FILE_H

#include <stddef.h>

#include "room_tree.h"

/* path "" = the built-in tree. NULL with err naming the file and the line on any error. */
dc_room_tree *dc_room_tree_load(const char *path, char *err, size_t err_len);

#endif
