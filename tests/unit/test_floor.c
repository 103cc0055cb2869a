/* Floor control state (signaling/floor.c): the hand queue, grants, deadlines, departures. */
#include "check.h"
#include "floor.h"

static void test_queue_order(void)
{
    dc_floor f;
    dc_floor_init(&f);
    CHECK(f.n_hands == 0 && f.holder == 0 && f.until_ms == 0);
    CHECK(dc_floor_raise(&f, 7, 1000));
    CHECK(dc_floor_raise(&f, 3, 2000));
    CHECK(dc_floor_raise(&f, 9, 3000));
    CHECK(f.n_hands == 3);
    CHECK(f.hands[0] == 7 && f.hands[1] == 3 && f.hands[2] == 9);
    CHECK(f.hand_since_ms[0] == 1000 && f.hand_since_ms[1] == 2000 && f.hand_since_ms[2] == 3000);
    CHECK(dc_floor_hand_position(&f, 7) == 1);
    CHECK(dc_floor_hand_position(&f, 3) == 2);
    CHECK(dc_floor_hand_position(&f, 9) == 3);
    CHECK(dc_floor_hand_position(&f, 4) == 0);
    CHECK(dc_floor_has_hand(&f, 3) && !dc_floor_has_hand(&f, 4));
    /* key 0 is nobody */
    CHECK(!dc_floor_raise(&f, 0, 4000));
    CHECK(!dc_floor_has_hand(&f, 0) && dc_floor_hand_position(&f, 0) == 0);
}

static void test_raise_twice_and_lower(void)
{
    dc_floor f;
    dc_floor_init(&f);
    CHECK(dc_floor_raise(&f, 1, 10));
    CHECK(dc_floor_raise(&f, 2, 20));
    CHECK(!dc_floor_raise(&f, 1, 30)); /* already raised: keeps its place and its time */
    CHECK(f.n_hands == 2 && f.hands[0] == 1 && f.hand_since_ms[0] == 10);
    CHECK(dc_floor_raise(&f, 3, 40));

    /* lowering from the middle keeps the others' order and times */
    CHECK(dc_floor_lower(&f, 2));
    CHECK(f.n_hands == 2 && f.hands[0] == 1 && f.hands[1] == 3);
    CHECK(f.hand_since_ms[0] == 10 && f.hand_since_ms[1] == 40);
    CHECK(!dc_floor_lower(&f, 2)); /* not raised any more */
    CHECK(!dc_floor_lower(&f, 0));
    /* raising again goes to the back */
    CHECK(dc_floor_raise(&f, 2, 50));
    CHECK(dc_floor_hand_position(&f, 2) == 3);
    CHECK(dc_floor_lower(&f, 1) && dc_floor_lower(&f, 3) && dc_floor_lower(&f, 2));
    CHECK(f.n_hands == 0);
}

static void test_grant_and_revoke(void)
{
    dc_floor f;
    dc_floor_init(&f);
    CHECK(dc_floor_raise(&f, 1, 0));
    CHECK(dc_floor_raise(&f, 2, 0));
    CHECK(dc_floor_raise(&f, 3, 0));

    /* granting lowers the hand, no previous holder */
    CHECK(dc_floor_grant(&f, 2, 60, 5000) == 0);
    CHECK(f.holder == 2 && f.holder_since_ms == 5000 && f.until_ms == 65000);
    CHECK(!dc_floor_has_hand(&f, 2) && f.n_hands == 2 && f.hands[0] == 1 && f.hands[1] == 3);
    /* the holder cannot raise its hand */
    CHECK(!dc_floor_raise(&f, 2, 6000));

    /* granting to someone without a hand replaces the holder, no limit */
    CHECK(dc_floor_grant(&f, 8, 0, 7000) == 2);
    CHECK(f.holder == 8 && f.holder_since_ms == 7000 && f.until_ms == 0);
    CHECK(f.n_hands == 2);
    /* the previous holder may raise its hand again */
    CHECK(dc_floor_raise(&f, 2, 7500) && dc_floor_hand_position(&f, 2) == 3);

    CHECK(dc_floor_revoke(&f) == 8);
    CHECK(f.holder == 0 && f.until_ms == 0 && f.holder_since_ms == 0);
    CHECK(dc_floor_revoke(&f) == 0);
    CHECK(f.n_hands == 3); /* the queue is untouched */

    /* nobody (key 0) is never granted */
    CHECK(dc_floor_grant(&f, 0, 10, 8000) == 0 && f.holder == 0);
    /* a negative time counts as no limit */
    CHECK(dc_floor_grant(&f, 1, -5, 9000) == 0 && f.holder == 1 && f.until_ms == 0);
}

static void test_grant_to_current_holder(void)
{
    dc_floor f;
    dc_floor_init(&f);
    CHECK(dc_floor_grant(&f, 4, 30, 1000) == 0);
    CHECK(f.until_ms == 31000);
    /* renews the limit from now, keeps holder_since; returns the holder itself */
    CHECK(dc_floor_grant(&f, 4, 30, 20000) == 4);
    CHECK(f.holder == 4 && f.holder_since_ms == 1000 && f.until_ms == 50000);
    CHECK(dc_floor_expire(&f, 31000) == 0);
    CHECK(dc_floor_grant(&f, 4, 0, 21000) == 4 && f.until_ms == 0);
}

static void test_next(void)
{
    dc_floor f;
    dc_floor_init(&f);
    /* empty queue, nobody holds: nothing happens */
    CHECK(dc_floor_next(&f, 60, 100) == 0 && f.holder == 0);

    CHECK(dc_floor_grant(&f, 5, 0, 100) == 0);
    /* empty queue: the holder keeps the floor */
    CHECK(dc_floor_next(&f, 60, 200) == 0);
    CHECK(f.holder == 5 && f.until_ms == 0 && f.holder_since_ms == 100);

    CHECK(dc_floor_raise(&f, 6, 300));
    CHECK(dc_floor_raise(&f, 7, 400));
    CHECK(dc_floor_next(&f, 60, 500) == 6);
    CHECK(f.holder == 6 && f.holder_since_ms == 500 && f.until_ms == 60500);
    CHECK(f.n_hands == 1 && f.hands[0] == 7);
    CHECK(dc_floor_next(&f, 0, 600) == 7);
    CHECK(f.holder == 7 && f.until_ms == 0 && f.n_hands == 0);
    CHECK(dc_floor_next(&f, 0, 700) == 0 && f.holder == 7);
}

static void test_expire(void)
{
    dc_floor f;
    dc_floor_init(&f);
    CHECK(dc_floor_expire(&f, 1000) == 0); /* nobody holds */
    dc_floor_grant(&f, 3, 0, 1000);
    CHECK(dc_floor_expire(&f, 1000000000) == 0 && f.holder == 3); /* no limit never expires */
    dc_floor_grant(&f, 3, 10, 2000);
    CHECK(dc_floor_expire(&f, 11999) == 0 && f.holder == 3);
    CHECK(dc_floor_expire(&f, 12000) == 3);
    CHECK(f.holder == 0 && f.until_ms == 0);
    CHECK(dc_floor_expire(&f, 13000) == 0);
    /* a long limit does not overflow */
    dc_floor_grant(&f, 3, 2000000000, 0);
    CHECK(f.until_ms == 2000000000000LL);
}

static void test_forget(void)
{
    dc_floor f;
    dc_floor_init(&f);
    dc_floor_raise(&f, 1, 0);
    dc_floor_raise(&f, 2, 0);
    dc_floor_raise(&f, 3, 0);
    dc_floor_grant(&f, 9, 30, 0);

    /* a queued hand */
    CHECK(!dc_floor_forget(&f, 2));
    CHECK(f.n_hands == 2 && f.hands[0] == 1 && f.hands[1] == 3 && f.holder == 9);
    /* someone unknown */
    CHECK(!dc_floor_forget(&f, 42));
    CHECK(!dc_floor_forget(&f, 0));
    CHECK(f.n_hands == 2 && f.holder == 9);
    /* the holder */
    CHECK(dc_floor_forget(&f, 9));
    CHECK(f.holder == 0 && f.until_ms == 0 && f.n_hands == 2);
    CHECK(!dc_floor_forget(&f, 9));
}

static void test_full_queue(void)
{
    static dc_floor f; /* ~12 KiB */
    dc_floor_init(&f);
    for (uint32_t k = 1; k <= DC_FLOOR_MAX_HANDS; k++) CHECK(dc_floor_raise(&f, k, k));
    CHECK(f.n_hands == DC_FLOOR_MAX_HANDS);
    CHECK(!dc_floor_raise(&f, DC_FLOOR_MAX_HANDS + 1, 0));
    CHECK(dc_floor_hand_position(&f, DC_FLOOR_MAX_HANDS) == DC_FLOOR_MAX_HANDS);
    /* granting the last one frees a place */
    CHECK(dc_floor_grant(&f, DC_FLOOR_MAX_HANDS, 0, 0) == 0);
    CHECK(dc_floor_raise(&f, DC_FLOOR_MAX_HANDS + 1, 0));
    CHECK(dc_floor_next(&f, 0, 0) == 1 && dc_floor_hand_position(&f, 2) == 1);
}

int main(void)
{
    test_queue_order();
    test_raise_twice_and_lower();
    test_grant_and_revoke();
    test_grant_to_current_holder();
    test_next();
    test_expire();
    test_forget();
    test_full_queue();
    return CHECK_RESULT();
}
