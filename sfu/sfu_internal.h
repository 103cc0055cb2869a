/* For white-box tests of the running engine only: the worker a room is pinned to. */
#ifndef SFU_INTERNAL_H
#define SFU_INTERNAL_H

#include "sfu.h"
#include "worker.h"

sfu_worker *sfu_room_worker(const sfu *s, uint32_t room_id);

#endif
