"""A downstream budget per tier (issue 12 §5 with the room tree of issue 13): a technician
sets it for every site of a tier — the room tree's kind of the room joined — through
PUT/GET/DELETE /admin/tiers/<tier>/budget or config tier_budgets; a site's own budget wins.
Checked through the admin API on a running server: the budget read back, bad tiers and
bodies refused, and the budget each participant's site gets in
/admin/rooms/<room>/transports.json (site_budget_kbps).

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_tier_budget.py
"""

import json

from test_room_tree import ADMIN, admin_request, joined, server, token
from test_signaling import run
from test_startup import start_failing

COMMUNE_A1 = "UBND phường Bình Minh"
COMMUNE_A2 = "UBND xã A2"


def tier_budget(srv, tier, method="GET", body=None, credential=ADMIN):
    return admin_request(srv, f"/admin/tiers/{tier}/budget", credential, method, body)


def budgets(srv, room):
    """site_budget_kbps of each participant of room, by name."""
    status, body = admin_request(srv, f"/admin/rooms/{room}/transports.json")
    assert status == 200, body
    return {p["name"]: p["site_budget_kbps"] for p in body["participants"]}


async def site_joins(srv, room, name, site):
    """A participant of the site joins room; returns once its subscribe connection exists
    (the server offers it right after the join, and shares budgets then)."""
    c, _ = await joined(srv, room, token(name, room=room, site=site))
    await c.event("subscribe_offer")
    return c


def test_a_tier_budget_reaches_every_site_of_the_tier_unless_it_has_its_own(tmp_path):
    async def scenario(srv):
        # from the config: district rooms 800 kbit/s; no commune budget yet
        assert tier_budget(srv, "district") == (200, {"tier": "district", "kbps": 800})
        assert tier_budget(srv, "commune") == (200, {"tier": "commune", "kbps": None})
        clients = [
            await site_joins(srv, "xa-a1", "a1-chair", COMMUNE_A1),
            await site_joins(srv, "xa-a1", "a1-hall", COMMUNE_A1),
            await site_joins(srv, "xa-a2", "a2-hall", COMMUNE_A2),
            await site_joins(srv, "huyen-a", "district-hall", "UBND thành phố Sơn Hà"),
            await site_joins(srv, "Phòng họp 7", "guest", "Khách"),  # an ad-hoc room: no tier
        ]
        assert budgets(srv, "xa-a1") == {"a1-chair": None, "a1-hall": None}
        assert budgets(srv, "huyen-a") == {"district-hall": 800}

        assert tier_budget(srv, "commune", "PUT", {"kbps": 300}) == (200, {"tier": "commune", "kbps": 300})
        assert tier_budget(srv, "commune") == (200, {"tier": "commune", "kbps": 300})
        # every commune site gets the whole tier budget (its two halls share it)
        assert budgets(srv, "xa-a1") == {"a1-chair": 300, "a1-hall": 300}
        assert budgets(srv, "xa-a2") == {"a2-hall": 300}
        assert budgets(srv, "huyen-a") == {"district-hall": 800}
        assert budgets(srv, "Phòng họp 7") == {"guest": None}

        # a site budget wins over its tier's, and the tier's comes back when it goes
        status, body = admin_request(srv, f"/admin/sites/{COMMUNE_A2}/budget", method="PUT", body={"kbps": 1000})
        assert status == 200 and body == {"site": COMMUNE_A2, "kbps": 1000}, body
        assert budgets(srv, "xa-a2") == {"a2-hall": 1000}
        assert budgets(srv, "xa-a1") == {"a1-chair": 300, "a1-hall": 300}
        status, body = admin_request(srv, f"/admin/sites/{COMMUNE_A2}/budget")
        assert body == {"site": COMMUNE_A2, "kbps": 1000}, body  # the site's own, not the tier's
        assert admin_request(srv, f"/admin/sites/{COMMUNE_A2}/budget", method="DELETE")[0] == 200
        assert budgets(srv, "xa-a2") == {"a2-hall": 300}
        status, body = admin_request(srv, f"/admin/sites/{COMMUNE_A1}/budget")
        assert body == {"site": COMMUNE_A1, "kbps": None}, body  # a tier budget is not the site's

        assert tier_budget(srv, "commune", "DELETE") == (200, {"tier": "commune", "kbps": None})
        assert budgets(srv, "xa-a1") == {"a1-chair": None, "a1-hall": None}
        assert tier_budget(srv, "reception", "PUT", {"kbps": 10000000}) == (200, {"tier": "reception",
                                                                                  "kbps": 10000000})
        for c in clients:
            await c.close()

    with server(tmp_path, admin_token=ADMIN, tier_budgets={"district": 800}) as srv:
        run(scenario(srv))


def test_bad_tier_budget_requests_are_refused(tmp_path):
    with server(tmp_path, admin_token=ADMIN) as srv:
        for tier in ("thon", "Commune", "commune/x", ""):
            status, body = tier_budget(srv, tier, "PUT", {"kbps": 300})
            assert status == 404 and body["error"] == "not_found", (tier, body)
        for body in ({"kbps": 0}, {"kbps": -5}, {"kbps": 10000001}, {"kbps": "300"}, {"kbps": 2.5}, {},
                     b"not json", None):
            status, answer = tier_budget(srv, "commune", "PUT", body)
            assert status == 400 and answer["error"] == "bad_request", (body, answer)
        status, body = tier_budget(srv, "commune", "POST", {"kbps": 300})
        assert status == 405 and body["error"] == "method_not_allowed", body
        for credential in (None, "wrong"):
            status, body = tier_budget(srv, "commune", "PUT", {"kbps": 300}, credential=credential)
            assert status == 401 and body["error"] == "unauthorized", body
        assert tier_budget(srv, "commune") == (200, {"tier": "commune", "kbps": None})  # nothing was set


def test_a_bad_tier_budgets_config_stops_the_start(tmp_path):
    for bad, words in (({"thon": 300}, 'tier "thon" needs to be province, district, commune or reception'),
                       ({"commune": 0}, 'tier "commune" needs to be province, district, commune or reception and '
                                        'a budget of 1–10000000 kbit/s'),
                       ([300], '"tier_budgets" must be an object of at most 4 tiers')):
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"tier_budgets": bad}))
        status, err = start_failing("--config", str(path))
        assert status == 2 and words in err, err
