/* Which simulcast layers a publisher should send: a layer no subscriber wants for
 * SFU_LAYER_UNWATCHED_US is paused (its encoding set inactive at the publisher, through
 * signaling: a commune's uplink is not spent for nothing); wanted again, it is resumed at
 * once. The lowest layer is never paused. Pure: a mask and a timer per layer. */
#ifndef SFU_LAYER_PAUSE_H
#define SFU_LAYER_PAUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu.h"

#define SFU_LAYER_UNWATCHED_US 2000000

typedef struct {
    uint8_t active;                            /* bit i: layer i is to be sent (all, to start with) */
    int64_t unwanted_since_us[SFU_MAX_LAYERS]; /* 0: wanted (or not looked at yet) */
} sfu_layer_pause;

void sfu_layer_pause_init(sfu_layer_pause *p, unsigned n_layers);
/* wanted: bit i, some subscriber wants layer i now. Returns true when `active` changed
 * (the publisher is to be told). */
bool sfu_layer_pause_update(sfu_layer_pause *p, unsigned n_layers, unsigned wanted, int64_t now_us);

#endif
