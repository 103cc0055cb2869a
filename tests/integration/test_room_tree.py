"""The room tree (issue 13 §1) at the protocol level: malformed trees stop the start with
the file and the line; a join to a tree room names the node's display name; a join token
scoped to district A lets its chair moderate in district A's commune and nowhere else (the
other district's commune and the province room refuse it with the protocol's codes);
tree_rooms_only refuses other rooms; GET /admin/rooms.json lists the tree with live counts.

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_room_tree.py
"""

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import tokens
from server_process import DiemcauServer, running
from test_signaling import Client, assert_error, run
from test_startup import start_failing

SECRET = b"room-tree-test-secret-0123456789-abcdefghijkl"
ADMIN = "room-tree-admin-credential-5c2e"
TIMEOUT = 10

PROVINCE = {"id": "tinh", "name": "Tỉnh", "kind": "province"}


def node(id_, kind, parent, name=None):
    return {"id": id_, "name": id_.upper() if name is None else name, "kind": kind, "parent": parent}


# ---- malformed trees ------------------------------------------------------------------------

# (nodes after the province, one per line from line 3 on; the line and words the refusal must have)
BAD_TREES = {
    "cycle": ([node("huyen-a", "district", "huyen-b"), node("huyen-b", "district", "huyen-a")],
              3, 'node "huyen-a": its parents form a cycle: huyen-a → huyen-b → huyen-a'),
    "duplicate id": ([node("huyen-a", "district", "tinh"), node("huyen-a", "district", "tinh")],
                     4, 'node "huyen-a": duplicate id: the node at line 3 has it already'),
    "unknown parent": ([node("huyen-a", "district", "tinh"), node("xa-a1", "commune", "huyen-z")],
                       4, 'node "xa-a1": parent "huyen-z" is not in the tree'),
    "commune under a commune": ([node("huyen-a", "district", "tinh"), node("xa-a1", "commune", "huyen-a"),
                                 node("xa-a2", "commune", "xa-a1")],
                                5, 'node "xa-a2": a commune must be under a district, not under commune "xa-a1"'),
    "reception not under a district": ([node("tiep-dan", "reception", "tinh")],
                                       3, 'node "tiep-dan": a reception point must be under a district'),
    "empty name": ([node("huyen-a", "district", "tinh", name="")], 3, 'node "huyen-a": "name" is empty'),
    "two roots": ([{"id": "tinh-2", "name": "Tỉnh 2", "kind": "province"}],
                  3, 'node "tinh-2": a second root (no parent): "tinh" is the root already'),
}


def tree_text(nodes):
    """One node per line: the province on line 2, the others from line 3 on."""
    lines = [json.dumps(n, ensure_ascii=False) for n in [PROVINCE, *nodes]]
    return '{"nodes": [\n' + ",\n".join(lines) + "\n]}\n"


@pytest.mark.parametrize("case", sorted(BAD_TREES))
def test_a_malformed_tree_stops_the_start_naming_file_and_line(tmp_path, case):
    nodes, line, words = BAD_TREES[case]
    path = tmp_path / "rooms.json"
    path.write_text(tree_text(nodes), encoding="utf-8")
    status, err = start_failing("--room-tree", str(path))
    assert status == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"diemcau: room tree refused: {path}, line {line}: {words}"), err


def test_a_tree_that_is_not_json_names_the_line(tmp_path):
    path = tmp_path / "rooms.json"
    path.write_text('{"nodes": [\n' + json.dumps(PROVINCE) + ",\n{\"id\": }\n]}\n")
    status, err = start_failing("--config", str(write_config(tmp_path, room_tree=str(path))))
    assert status == 2 and f"room tree refused: {path}, line 3:" in err, err


def test_a_missing_tree_file_is_named(tmp_path):
    status, err = start_failing("--room-tree", str(tmp_path / "nowhere.json"))
    assert status == 2 and f"room_tree {tmp_path / 'nowhere.json'}: No such file" in err, err


# ---- a running server with the built-in tree ----------------------------------------------------

def write_config(tmp_path, **keys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"token_secret": SECRET.decode(), **keys}))
    return path


@contextlib.contextmanager
def server(tmp_path, *args, **keys):
    with running(DiemcauServer(extra_args=["--config", str(write_config(tmp_path, **keys)), *args])) as srv:
        yield srv


def token(name, role="delegate", **where):
    return tokens.mint(SECRET, {"sub": name, "name": name, "role": role, "exp": int(time.time()) + 600, **where})


async def joined(srv, room, tok):
    c = await Client.open(srv)
    r = await c.call("join", room=room, token=tok)
    assert r["type"] == "ok", r
    return c, r


def test_a_tree_room_is_named_by_its_node(tmp_path):
    async def scenario(srv):
        c, r = await joined(srv, "xa-a1", token("UBND phường Bình Minh", room="xa-a1"))
        assert r["room"] == "xa-a1"
        assert r["node"] == {"id": "xa-a1", "name": "Phường Bình Minh", "kind": "commune", "parent": "huyen-a"}, r
        d, r = await joined(srv, "Phòng họp 7", token("Khách", room="Phòng họp 7"))
        assert r["node"] is None, r  # an ad-hoc room, as before the tree
        for x in (c, d):
            await x.close()

    with server(tmp_path) as srv:
        run(scenario(srv))


def test_district_chair_moderates_only_in_its_subtree(tmp_path):
    async def scenario(srv):
        # a commune site in district A and one in district B, and the province meeting
        site_a, _ = await joined(srv, "xa-a1", token("xa-a1", room="xa-a1"))
        site_b, _ = await joined(srv, "xa-b1", token("xa-b1", room="xa-b1"))
        province_chair, _ = await joined(srv, "tinh", token("chu-tich-tinh", role="chair", room="tinh"))
        # district A's chair, with a development token scoped to huyen-a (no room claim)
        dev = tokens.dev_token(srv.ws_url, None, "Chủ tịch UBND Thành phố Sơn Hà", "chair", scope="huyen-a")
        assert tokens.verify(dev, SECRET)["scope"] == "huyen-a"
        chair_a, r = await joined(srv, "xa-a1", dev)
        assert r["role"] == "chair" and "moderate" in r["grants"], r
        assert r["room_state"]["chair"] == r["participant_id"], r  # it presides
        site_a_id = next(p["id"] for p in r["participants"] if p["name"] == "xa-a1")
        r = await chair_a.call("mute_participant", participant_id=site_a_id, kind="audio", muted=True)
        assert r["type"] == "ok", r
        assert (await chair_a.call("lock_room", locked=True))["type"] == "ok"
        assert (await chair_a.call("lock_room", locked=False))["type"] == "ok"

        # the same token does not reach district B's commune or the province room
        for room in ("xa-b1", "huyen-b", "tinh"):
            other = await Client.open(srv)
            assert_error(await other.call("join", room=room, token=dev), "wrong_room")
            await other.close()

        # where a room claim admits it (district B's commune, the province meeting), it sits
        # as a delegate: its moderation is refused with forbidden, and it does not preside
        for room, target in (("xa-b1", "xa-b1"), ("tinh", "chu-tich-tinh")):
            c, r = await joined(srv, room, token("chu-tich-huyen-a", role="chair", room=room, scope="huyen-a"))
            assert r["role"] == "delegate" and "moderate" not in r["grants"], r
            assert r["room_state"]["chair"] != r["participant_id"], r
            target_id = next(p["id"] for p in r["participants"] if p["name"] == target)
            assert_error(await c.call("mute_participant", participant_id=target_id, kind="audio", muted=True),
                         "forbidden")
            assert_error(await c.call("grant_floor", participant_id=target_id), "forbidden")
            assert_error(await c.call("lock_room", locked=True), "forbidden")
            await c.close()

        for c in (site_a, site_b, province_chair, chair_a):
            await c.close()

    with server(tmp_path) as srv:
        run(scenario(srv))


def test_tree_rooms_only_refuses_other_rooms(tmp_path):
    async def scenario(srv):
        c = await Client.open(srv)
        assert_error(await c.call("join", room="Phòng họp 7", token=token("Khách", room="Phòng họp 7")),
                     "no_such_room")
        r = await c.call("join", room="huyen-b", token=token("Khách", room="huyen-b"))
        assert r["type"] == "ok" and r["node"]["name"] == "Thị xã Phú Lâm", r
        await c.close()

    with server(tmp_path, "--tree-rooms-only", "true") as srv:
        run(scenario(srv))


def test_a_configured_tree_file_is_used(tmp_path):
    path = tmp_path / "rooms.json"
    path.write_text(tree_text([node("huyen-x", "district", "tinh", name="Huyện Xuân Trường")]), encoding="utf-8")

    async def scenario(srv):
        c, r = await joined(srv, "huyen-x", token("A", room="huyen-x"))
        assert r["node"] == {"id": "huyen-x", "name": "Huyện Xuân Trường", "kind": "district", "parent": "tinh"}
        d, r = await joined(srv, "xa-a1", token("B", room="xa-a1"))
        assert r["node"] is None, r  # the built-in tree is not used
        for x in (c, d):
            await x.close()

    with server(tmp_path, room_tree=str(path)) as srv:
        run(scenario(srv))


# ---- /admin/rooms.json -----------------------------------------------------------------------

def admin_request(srv, path, credential=ADMIN, method="GET", body=None):
    """(status, JSON answer) of an admin request; body: a JSON value, or bytes as they are."""
    headers = {"Authorization": f"Bearer {credential}"} if credential is not None else {}
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{srv.http_port}{urllib.parse.quote(path)}", data=data,
                                 headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def counts(srv):
    status, body = admin_request(srv, "/admin/rooms.json")
    assert status == 200, body
    return {n["id"]: n["participants"] for n in body["nodes"]}, body


async def wait_counts(srv, want):
    deadline = time.monotonic() + TIMEOUT
    while True:
        got, _ = counts(srv)
        if all(got[k] == v for k, v in want.items()):
            return
        assert time.monotonic() < deadline, (got, want)
        await asyncio.sleep(0.05)


def test_admin_rooms_json_lists_the_tree_with_live_counts(tmp_path):
    async def scenario(srv):
        got, body = counts(srv)
        assert body["root"] == "tinh" and len(body["nodes"]) == 47 and set(got.values()) == {0}, body
        huyen_a = next(n for n in body["nodes"] if n["id"] == "huyen-a")
        assert huyen_a == {"id": "huyen-a", "name": "Thành phố Sơn Hà", "kind": "district", "parent": "tinh",
                           "chair": "chu-tich-huyen-a", "depth": 1, "participants": 0}, huyen_a
        a1, _ = await joined(srv, "xa-a1", token("x1", room="xa-a1"))
        a2, _ = await joined(srv, "xa-a1", token("x2", room="xa-a1"))
        t, _ = await joined(srv, "tinh", token("t", room="tinh"))
        adhoc, _ = await joined(srv, "Phòng họp 7", token("k", room="Phòng họp 7"))
        await wait_counts(srv, {"xa-a1": 2, "tinh": 1, "xa-a2": 0})
        assert "Phòng họp 7" not in counts(srv)[0]
        await a2.call("leave")
        await wait_counts(srv, {"xa-a1": 1})
        for c in (a1, a2, t, adhoc):
            await c.close()

        for credential in (None, "wrong"):
            status, body = admin_request(srv, "/admin/rooms.json", credential)
            assert status == 401 and body["error"] == "unauthorized", body

    with server(tmp_path, admin_token=ADMIN) as srv:
        run(scenario(srv))


# ---- diemcau token --scope ---------------------------------------------------------------------

def test_token_command_scopes_to_a_node_of_the_configured_tree(tmp_path):
    from test_tokens import run_token_cmd
    config = str(write_config(tmp_path))
    proc = run_token_cmd("--scope", "huyen-a", "--role", "chair", "--name", "Chủ tịch", "--sub", "chu-tich-huyen-a",
                         "--config", config)
    assert proc.returncode == 0, proc.stderr
    claims = tokens.verify(proc.stdout.strip(), SECRET)
    assert claims["scope"] == "huyen-a" and "room" not in claims and "room_prefix" not in claims, claims
    proc = run_token_cmd("--scope", "huyen-z", "--role", "chair", "--name", "Chủ tịch", "--config", config)
    assert proc.returncode == 1 and proc.stdout == "", proc
    assert "--scope huyen-z is not a node of the room tree (the built-in one)" in proc.stderr, proc.stderr
