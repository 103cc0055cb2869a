/* Unwatched simulcast layers paused, wanted ones resumed (layer_pause.h). */
#include "layer_pause.h"

void sfu_layer_pause_init(sfu_layer_pause *p, unsigned n_layers)
{
    *p = (sfu_layer_pause){.active = (uint8_t)((1u << n_layers) - 1)};
}

bool sfu_layer_pause_update(sfu_layer_pause *p, unsigned n_layers, unsigned wanted, int64_t now_us)
{
    if (n_layers > SFU_MAX_LAYERS) n_layers = SFU_MAX_LAYERS;
    wanted |= 1u; /* the lowest always: a new subscriber starts on something at once */
    uint8_t before = p->active;
    for (unsigned i = 0; i < n_layers; i++) {
        uint8_t bit = (uint8_t)(1u << i);
        if (wanted & bit) {
            p->active |= bit; /* at once: the subscriber waits for it */
            p->unwanted_since_us[i] = 0;
        } else if (p->unwanted_since_us[i] == 0) {
            p->unwanted_since_us[i] = now_us ? now_us : 1;
        } else if (now_us - p->unwanted_since_us[i] >= SFU_LAYER_UNWATCHED_US) {
            p->active &= (uint8_t)~bit;
        }
    }
    return p->active != before;
}
