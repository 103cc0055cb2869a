/* The room tree in the meeting (issue 13 §1), through the protocol with the fake engine
 * (meeting_harness.h) and the built-in tree: a tree room's display name in the join
 * result, subtree-scoped chair tokens (moderating inside the scope works, outside it is
 * refused), the tree with live counts for /admin/rooms.json, and tier budgets (a site's
 * tier is its room's node kind; its own site budget wins). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "meeting_harness.h"
#include "room_tree_file.h"

static void count_failure(const char *file, int line, const char *expr)
{
    check_count++;
    check_failures++;
    fprintf(stderr, "FAIL (harness) %s:%d: %s\n", file, line, expr);
}

/* A chair token scoped to a tree node; room NULL = the scope alone admits. */
static json_t *join_scoped(client *c, const char *room_to_join, const char *scope, const char *room_claim)
{
    char msg[160];
    dc_token_claims claims;
    CHECK(
        dc_token_claims_from_text(&claims, room_claim, NULL, scope, c->name, NULL, "chair", c->name, msg, sizeof msg));
    claims.exp = g_get_real_time() / G_USEC_PER_SEC + 3600;
    char *token = dc_token_sign(&claims, cfg.token_secret, cfg.token_secret_len);
    json_t *reply = request(c, json_pack("{s:s, s:s, s:s}", "type", "join", "room", room_to_join, "token", token));
    free(token);
    if (is_ok(reply))
        snprintf(c->pid, sizeof c->pid, "%s", json_string_value(json_object_get(reply, "participant_id")));
    return reply;
}

static json_t *mute(client *by, const client *target)
{
    return request(by, json_pack("{s:s, s:s, s:s, s:b}", "type", "mute_participant", "participant_id", target->pid,
                                 "kind", "audio", "muted", true));
}

static const json_t *tree_node(json_t *tree, const char *id)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(tree, "nodes"), i,
                       n) if (!strcmp(json_string_value(json_object_get(n, "id")), id)) return n;
    return NULL;
}

/* The budget (bit/s) the engine was last told for c's subscribe transport since from; 0 if
 * it was not told. */
static uint32_t last_budget(const client *c, size_t from)
{
    uint32_t bps = 0;
    for (size_t i = from; i < fake_sfu_call_count(engine); i++) {
        const fake_call *call = fake_sfu_call(engine, i);
        if (call->op == FAKE_TRANSPORT_SET_BUDGET && call->id == c->sub_transport) bps = call->budget_bps;
    }
    return bps;
}

/* Two halls of one commune site, a district hall and an ad-hoc room's guest, all of a site. */
static void test_tier_budgets(void)
{
    client hall1, hall2, district, guest;
    client *all[] = {&hall1, &hall2, &district, &guest};
    const char *rooms[] = {"xa-a2", "xa-a2", "huyen-b", "Phòng họp 2"};
    const char *sites[] = {"UBND xã A2", "UBND xã A2", "UBND huyện B", "Khách"};
    for (size_t i = 0; i < 4; i++) {
        client_open(all[i], sites[i]);
        all[i]->site = sites[i];
        join_ok(all[i], rooms[i]);
        answer_offer(all[i]);
    }
    size_t before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_tier_budget(meeting, DC_NODE_COMMUNE, 300));
    CHECK(dc_meeting_tier_budget(meeting, DC_NODE_COMMUNE) == 300);
    CHECK(last_budget(&hall1, before) == 150000 && last_budget(&hall2, before) == 150000); /* shared */
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_SET_BUDGET) == 2);           /* nobody else */
    CHECK(dc_meeting_site_budget(meeting, "UBND xã A2") == 0); /* the tier's is not the site's own */

    before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_site_budget(meeting, "UBND xã A2", 1000)); /* the site's own wins */
    CHECK(last_budget(&hall1, before) == 500000 && last_budget(&hall2, before) == 500000);
    before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_tier_budget(meeting, DC_NODE_COMMUNE, 200)); /* changes nothing for it */
    CHECK(fake_sfu_count_since(engine, before, FAKE_TRANSPORT_SET_BUDGET) == 0);
    CHECK(dc_meeting_set_site_budget(meeting, "UBND xã A2", 0)); /* back to the tier's */
    CHECK(last_budget(&hall1, before) == 100000);

    before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_tier_budget(meeting, DC_NODE_DISTRICT, 800));
    CHECK(last_budget(&district, before) == 800000 && !last_budget(&guest, before));
    request_ok(&hall2, json_pack("{s:s}", "type", "leave")); /* the other hall's share grows */
    CHECK(last_budget(&hall1, before) == 200000);

    before = fake_sfu_call_count(engine);
    CHECK(dc_meeting_set_tier_budget(meeting, DC_NODE_COMMUNE, 0) &&
          dc_meeting_set_tier_budget(meeting, DC_NODE_DISTRICT, 0));
    CHECK(fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_BUDGET, hall1.sub_transport)->budget_bps == 0);
    CHECK(fake_sfu_find(engine, before, FAKE_TRANSPORT_SET_BUDGET, district.sub_transport)->budget_bps == 0);
    CHECK(!dc_meeting_set_tier_budget(meeting, DC_NODE_KIND_COUNT, 100) &&
          !dc_meeting_set_tier_budget(meeting, -1, 100));
    meeting_end(all, 4);
}

int main(void)
{
    mh_on_failure = count_failure;
    char err[256];
    dc_room_tree *tree = dc_room_tree_load("", err, sizeof err);
    CHECK(tree != NULL);
    meeting_start();
    dc_meeting_set_room_tree(meeting, tree);

    /* a commune's delegate: the join result names the node */
    client site, chair_a, chair_a_away, chair_a_tinh, adhoc;
    client_open_as(&site, "xa-a1-site", "delegate");
    json_t *r = join(&site, "xa-a1");
    json_t *node = json_object_get(r, "node");
    CHECK(is_ok(r) && !strcmp(json_string_value(json_object_get(r, "room")), "xa-a1"));
    CHECK(!strcmp(json_string_value(json_object_get(node, "name")), "Phường Bình Minh") &&
          !strcmp(json_string_value(json_object_get(node, "kind")), "commune") &&
          !strcmp(json_string_value(json_object_get(node, "parent")), "huyen-a"));
    json_decref(r);

    /* district A's chair presides and moderates in a commune of district A */
    client_open(&chair_a, "chu-tich-huyen-a");
    r = join_scoped(&chair_a, "xa-a1", "huyen-a", NULL);
    CHECK(is_ok(r) && !strcmp(json_string_value(json_object_get(r, "role")), "chair"));
    json_decref(r);
    r = mute(&chair_a, &site);
    CHECK(is_ok(r));
    json_decref(r);

    /* … is not admitted to district B's commune, or the province room */
    client_open(&chair_a_away, "chu-tich-huyen-a-2");
    r = join_scoped(&chair_a_away, "xa-b1", "huyen-a", NULL);
    CHECK(is_error(r, "wrong_room"));
    json_decref(r);
    r = join_scoped(&chair_a_away, "tinh", "huyen-a", NULL);
    CHECK(is_error(r, "wrong_room"));
    json_decref(r);

    /* … and where another claim admits it (the province meeting), it is a delegate there:
     * it neither presides nor moderates */
    client_open(&chair_a_tinh, "chu-tich-huyen-a-3");
    r = join_scoped(&chair_a_tinh, "tinh", "huyen-a", "tinh");
    CHECK(is_ok(r) && !strcmp(json_string_value(json_object_get(r, "role")), "delegate") &&
          json_is_null(json_object_get(json_object_get(r, "room_state"), "chair")));
    json_decref(r);
    r = request(&chair_a_tinh, json_pack("{s:s, s:b}", "type", "lock_room", "locked", true));
    CHECK(is_error(r, "forbidden"));
    json_decref(r);

    /* a room outside the tree stays an ad-hoc room */
    client_open(&adhoc, "khach");
    r = join(&adhoc, "Phòng họp 1");
    CHECK(is_ok(r) && json_is_null(json_object_get(r, "node")));
    json_decref(r);

    /* the tree with live counts */
    json_t *t = dc_meeting_tree_json(meeting);
    CHECK(!strcmp(json_string_value(json_object_get(t, "root")), "tinh") &&
          json_array_size(json_object_get(t, "nodes")) == dc_room_tree_size(tree));
    CHECK(json_integer_value(json_object_get(tree_node(t, "xa-a1"), "participants")) == 2);
    CHECK(json_integer_value(json_object_get(tree_node(t, "tinh"), "participants")) == 1);
    CHECK(json_integer_value(json_object_get(tree_node(t, "xa-b1"), "participants")) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(tree_node(t, "huyen-a"), "chair")), "chu-tich-huyen-a") &&
          json_integer_value(json_object_get(tree_node(t, "huyen-a"), "depth")) == 1);
    json_decref(t);

    client *all[] = {&site, &chair_a, &chair_a_away, &chair_a_tinh, &adhoc};
    meeting_end(all, sizeof all / sizeof all[0]);

    meeting_start();
    dc_meeting_set_room_tree(meeting, tree);
    test_tier_budgets();
    dc_room_tree_free(tree);
    return CHECK_RESULT();
}
