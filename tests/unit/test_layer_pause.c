/* The unwatched-layer timer (sfu/layer_pause.c): a layer nobody wants for 2 s is paused,
 * wanted again it is back at once, the lowest is never paused. */
#include "check.h"
#include "layer_pause.h"

#define SEC 1000000

int main(void)
{
    sfu_layer_pause p;
    sfu_layer_pause_init(&p, 3);
    CHECK(p.active == 0x7);
    int64_t t = 10 * SEC;
    /* only the low layer wanted: nothing changes before 2 s */
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t));
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t + SEC));
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t + 2 * SEC - 1) && p.active == 0x7);
    CHECK(sfu_layer_pause_update(&p, 3, 0x1, t + 2 * SEC) && p.active == 0x1);
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t + 3 * SEC)); /* told once */
    /* the top wanted again: back at once, the middle stays paused */
    CHECK(sfu_layer_pause_update(&p, 3, 0x4, t + 3 * SEC) && p.active == 0x5);
    /* a want that comes and goes within 2 s never pauses: the timer restarts */
    t += 4 * SEC;
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t));
    CHECK(!sfu_layer_pause_update(&p, 3, 0x5, t + SEC + SEC / 2));
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t + 2 * SEC + SEC / 2) && p.active == 0x5);
    CHECK(!sfu_layer_pause_update(&p, 3, 0x1, t + 4 * SEC) && p.active == 0x5);
    CHECK(sfu_layer_pause_update(&p, 3, 0x1, t + 4 * SEC + SEC / 2) && p.active == 0x1);
    /* nobody at all: the lowest stays */
    CHECK(!sfu_layer_pause_update(&p, 3, 0, t + 60 * SEC) && p.active == 0x1);
    /* two layers; a clock at 0 still starts the timer */
    sfu_layer_pause_init(&p, 2);
    CHECK(p.active == 0x3);
    CHECK(!sfu_layer_pause_update(&p, 2, 0, 0));
    CHECK(sfu_layer_pause_update(&p, 2, 0, 2 * SEC + 1) && p.active == 0x1);
    CHECK(sfu_layer_pause_update(&p, 2, 0x2, 2 * SEC) && p.active == 0x3);
    return CHECK_RESULT();
}
