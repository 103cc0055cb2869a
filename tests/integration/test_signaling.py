"""The signaling server over real WebSockets (PROTOCOL.md): joins, events, errors, limits,
publish answers, resume, static files, and survival of garbage input.

    DIEMCAU_BIN=build/diemcau /usr/bin/python3 -m pytest -v tests/integration/test_signaling.py
"""

import asyncio
import json
import os
import random
import urllib.request
import uuid

import pytest
import websockets

import tokens

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM_OFFER = os.path.join(ROOT, "tests", "unit", "data", "chromium-publish-offer.sdp")
CHROMIUM_SUB_ANSWER = os.path.join(ROOT, "tests", "unit", "data", "chromium-subscribe-answer.sdp")
TIMEOUT = 5


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def room_name():
    return "t-" + uuid.uuid4().hex[:12]


def read_fixture(path):
    if not os.path.exists(path):
        pytest.skip(f"{os.path.relpath(path, ROOT)} not captured yet (the SDP engineer's fixture)")
    with open(path, encoding="utf-8") as f:
        return f.read()


class Client:
    """One WebSocket speaking the protocol; keeps events that arrive while waiting for replies."""

    def __init__(self, ws, url=None):
        self.ws = ws
        self.url = url  # the server's ws:// URL, for join tokens
        self.events = []
        self.next_id = 1

    @classmethod
    async def open(cls, server):
        return cls(await websockets.connect(server.ws_url, max_size=None, open_timeout=TIMEOUT), server.ws_url)

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    async def recv(self):
        return json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))

    async def call(self, type_, **fields):
        """Sends a request with a fresh id and returns the ok/error reply with that id."""
        rid = self.next_id
        self.next_id += 1
        await self.send({"type": type_, "id": rid, **fields})
        return await self.reply(rid)

    async def reply(self, rid):
        while True:
            msg = await self.recv()
            if msg.get("type") in ("ok", "error") and msg.get("id") == rid:
                return msg
            self.events.append(msg)

    async def event(self, type_):
        for i, msg in enumerate(self.events):
            if msg.get("type") == type_:
                return self.events.pop(i)
        while True:
            msg = await self.recv()
            if msg.get("type") == type_:
                return msg
            self.events.append(msg)

    async def join(self, room, name="Nguyễn Văn A", role=tokens.DEFAULT_ROLE):
        r = await self.call("join", **tokens.join_fields(self.url, room, name, role))
        assert r["type"] == "ok", r
        return r

    async def close(self):
        await self.ws.close()


def assert_error(msg, code):
    assert msg["type"] == "error", msg
    assert msg["code"] == code, msg
    assert isinstance(msg.get("message"), str)


# ---- HTTP ---------------------------------------------------------------------------------

def test_http_serves_client_web_index(diemcau):
    with urllib.request.urlopen(f"http://127.0.0.1:{diemcau.http_port}/", timeout=TIMEOUT) as resp:
        body = resp.read()
        assert resp.status == 200
    index = os.path.join(ROOT, "client-web", "index.html")
    if os.path.exists(index):
        with open(index, "rb") as f:
            assert body == f.read()


# ---- join, events ---------------------------------------------------------------------------

def test_join_and_events_between_two_clients(diemcau):
    async def scenario():
        room = room_name()
        a, b = await Client.open(diemcau), await Client.open(diemcau)
        ra = await a.join(room, "Nguyễn Văn A")
        assert ra["room"] == room and ra["participants"] == []
        assert ra["participant_id"] and ra["resume_token"]
        rb = await b.join(room, "  Trần Thị B  ")
        assert [p["id"] for p in rb["participants"]] == [ra["participant_id"]]
        assert rb["participants"][0]["name"] == "Nguyễn Văn A"
        joined = await a.event("participant_joined")
        assert joined["participant"]["id"] == rb["participant_id"]
        assert joined["participant"]["name"] == "Trần Thị B"   # trimmed

        r = await b.call("mute", kind="audio", muted=True)
        assert r["type"] == "ok", r
        updated = await a.event("participant_updated")
        assert updated["participant"]["id"] == rb["participant_id"]

        assert (await b.call("leave"))["type"] == "ok"
        left = await a.event("participant_left")
        assert left == {"type": "participant_left", "participant_id": rb["participant_id"], "reason": "left"}
        with pytest.raises(websockets.ConnectionClosed):   # leave closes the WebSocket
            await b.recv()
        assert (await a.call("ping"))["type"] == "ok"
        await a.close()
    run(scenario())


def test_broadcast_reaches_every_other_participant_intact(diemcau):
    """One event, many recipients: the server shares one frame between them (frame.c), so
    each must get the whole text, also the ones written after others have finished."""
    async def scenario():
        room = room_name()
        clients = [await Client.open(diemcau) for _ in range(5)]
        ids = []
        for i, c in enumerate(clients[:-1]):
            ids.append((await c.join(room, f"Điểm cầu xã {i}"))["participant_id"])
        late = clients[-1]
        name = "Xã Phước Lộc — điểm cầu " + "ư" * 30
        rl = await late.join(room, name)
        assert [p["id"] for p in rl["participants"]] == ids
        for i, c in enumerate(clients[:-1]):
            while True:  # skip the joins of those after c
                joined = await c.event("participant_joined")
                if joined["participant"]["id"] == rl["participant_id"]:
                    break
            assert joined["participant"]["name"] == name
        for c in clients:
            await c.close()
    run(scenario())


def test_request_without_id_gets_no_ok(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        await c.send({"type": "ping"})
        assert (await c.call("ping"))["id"] == 1   # the first reply is the one with an id
        await c.close()
    run(scenario())


# ---- errors -----------------------------------------------------------------------------------

def test_error_codes(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        await c.send("{not json")
        assert_error(await c.recv(), "bad_json")
        await c.send("[1,2,3]")
        assert_error(await c.recv(), "bad_json")
        r = await c.call("fly_to_the_moon")
        assert_error(r, "unknown_type")
        assert r["id"] == 1
        assert_error(await c.call("join", room="bad\u0007room", name="x"), "bad_request")
        assert_error(await c.call("join", room="r", name=42), "bad_request")
        assert_error(await c.call("publish", sdp="v=0"), "not_joined")
        assert_error(await c.call("resume", resume_token="nope"), "resume_failed")
        await c.join(room_name())
        assert_error(await c.call("join", room="x", name="y"), "already_joined")
        assert_error(await c.call("publish", sdp="v=0\r\nthis is not sdp\r\n"), "bad_sdp")
        # join sent subscribe_offer version 1: a version never offered is bad_request
        assert_error(await c.call("subscribe_answer", version=99, sdp="v=0"), "bad_request")
        assert_error(await c.call("subscribe_answer", version=1, sdp="v=0"), "bad_sdp")
        assert_error(await c.call("mute", kind="smell", muted=True), "bad_request")
        await c.send({"type": "ping", "id": {"nested": True}})
        assert_error(await c.recv(), "bad_request")
        await c.send({"type": "ping", "id": 2 ** 70})   # too big for an integer: not JSON we accept
        assert_error(await c.recv(), "bad_json")
        await c.send(b"\x00\x01binary")
        assert_error(await c.recv(), "bad_json")
        assert (await c.call("ping"))["type"] == "ok"   # still open after all that
        await c.close()
    run(scenario())


def test_oversized_message_closes_with_1009(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        await c.send(json.dumps({"type": "ping", "id": 1, "pad": "x" * (70 * 1024)}))
        assert_error(await c.recv(), "too_large")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await c.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # Exactly at the limit is still fine.
        d = await Client.open(diemcau)
        base = json.dumps({"type": "ping", "id": 1, "pad": ""})
        await d.send(json.dumps({"type": "ping", "id": 1, "pad": "y" * (64 * 1024 - len(base))}))
        assert (await d.recv())["type"] == "ok"
        await d.close()
    run(scenario())


def test_messages_in_websocket_fragments_are_gathered(diemcau):
    """A message sent as several frames (continuation frames, RFC 6455 §5.4), a long one
    that the server receives in parts, and whole ones in between are each answered once."""
    async def scenario():
        c = await Client.open(diemcau)
        text = json.dumps({"type": "ping", "id": 1})
        await c.ws.send([text[:5], text[5:9], text[9:]])   # an iterable: one fragment each
        r = await c.recv()
        assert (r["type"], r["id"]) == ("ok", 1), r
        assert (await c.call("ping"))["type"] == "ok"
        long_ping = json.dumps({"type": "ping", "id": 7, "pad": "z" * 20000})
        await c.ws.send([long_ping[:3000], long_ping[3000:]])
        r = await c.recv()
        assert (r["type"], r["id"]) == ("ok", 7), r
        await c.send(json.dumps({"type": "ping", "id": 8, "pad": "w" * 9000}))
        r = await c.recv()
        assert (r["type"], r["id"]) == ("ok", 8), r
        assert (await c.call("ping"))["type"] == "ok"
        await c.close()
    run(scenario())


# ---- media negotiation --------------------------------------------------------------------------

# The fixed slots of every subscriber (PROTOCOL.md, Media model), with the default gallery of 9.
FIXED_SLOTS = [("0", "audio", "chair_audio"), ("1", "video", "chair_video"), ("2", "audio", "floor_audio"),
               ("3", "video", "floor_video"), ("4", "video", "screen"), ("5", "audio", "audio"),
               ("6", "audio", "audio"), ("7", "audio", "audio")]


def gallery_slots(n):
    return [(str(8 + i), "video", "gallery") for i in range(n)]


def slot_layout(offer):
    return [(s["mid"], s["kind"], s["use"]) for s in offer["slots"]]


def showing(slots, participant_id):
    """{mid: use} of the slots showing participant_id."""
    return {s["mid"]: s["use"] for s in slots if s["participant_id"] == participant_id}


async def no_offer_pending(c):
    """True when no subscribe_offer reached c: the ping's reply comes after anything the
    server sent c before it."""
    assert (await c.call("ping"))["type"] == "ok"
    return not [e for e in c.events if e["type"] == "subscribe_offer"]


def test_publish_chromium_offer(diemcau):
    offer = read_fixture(CHROMIUM_OFFER)

    async def scenario():
        room = room_name()
        a, b = await Client.open(diemcau), await Client.open(diemcau)
        ra = await a.join(room)
        await b.join(room, "Trần Thị B")
        # join brings the offer of every slot at once, whatever the room holds
        first = await b.event("subscribe_offer")
        assert first["version"] == 1
        assert slot_layout(first) == FIXED_SLOTS + gallery_slots(9)
        assert all(s["participant_id"] is None for s in first["slots"])
        assert "a=ice-lite" in first["sdp"] and "a=setup:actpass" in first["sdp"]
        assert first["sdp"].count("\r\nm=") == 17 and first["sdp"].count("a=sendonly") == 17

        r = await a.call("publish", sdp=offer)
        assert r["type"] == "ok", r
        answer = r["sdp"]
        assert "a=ice-lite" in answer
        assert any(f" {port} typ host" in answer for port in diemcau.media_ports)
        assert "a=setup:passive" in answer

        # b was already there: its slots are re-pointed at a (an official: an audio slot
        # and a gallery slot), without a new offer.
        update = await b.event("slot_update")
        assert showing(update["slots"], ra["participant_id"]) == {"5": "audio", "8": "gallery"}, update
        assert all(s["active"] for s in update["slots"])
        updated = await b.event("participant_updated")
        assert len(updated["participant"]["tracks"]) == 2
        assert await no_offer_pending(b)

        # A newcomer's offer shows A's tracks right away.
        c = await Client.open(diemcau)
        await c.join(room, "Lê Văn C")
        ev_c = await c.event("subscribe_offer")
        assert len(ev_c["slots"]) == 17
        assert sum(s["participant_id"] == ra["participant_id"] for s in ev_c["slots"]) == 2

        # Answering: an unparsable answer is bad_sdp, a real one ok, the same version again stale.
        assert_error(await b.call("subscribe_answer", version=1, sdp="garbage"), "bad_sdp")
        if os.path.exists(CHROMIUM_SUB_ANSWER):
            with open(CHROMIUM_SUB_ANSWER, encoding="utf-8") as f:
                sub_answer = f.read()
            assert (await b.call("subscribe_answer", version=1, sdp=sub_answer))["type"] == "ok"
            assert_error(await b.call("subscribe_answer", version=1, sdp=sub_answer), "stale_version")

        for cl in (a, b, c):
            await cl.close()
    run(scenario())


def test_publisher_leave_repoints_slots_before_participant_left(diemcau):
    """A leaver's slots are emptied by slot_update, before participant_left, without an offer."""
    offer = read_fixture(CHROMIUM_OFFER)

    async def scenario():
        room = room_name()
        a, b = await Client.open(diemcau), await Client.open(diemcau)
        ra = await a.join(room)
        await b.join(room, "B")
        first = await b.event("subscribe_offer")
        answer = read_fixture(CHROMIUM_SUB_ANSWER)
        assert (await b.call("subscribe_answer", version=first["version"], sdp=answer))["type"] == "ok"
        assert (await a.call("publish", sdp=offer))["type"] == "ok"
        shown = await b.event("slot_update")
        mids = {s["mid"] for s in shown["slots"] if s["participant_id"] == ra["participant_id"]}
        assert len(mids) == 2
        assert (await a.call("leave"))["type"] == "ok"
        # the order on b's socket: the slots emptied, then participant_left
        while True:
            msg = await b.recv()
            if msg["type"] in ("slot_update", "participant_left", "subscribe_offer"):
                break
        assert msg["type"] == "slot_update", msg
        assert {s["mid"] for s in msg["slots"]} == mids
        assert all(not s["active"] and s["participant_id"] is None for s in msg["slots"])
        left = await b.event("participant_left")
        assert left["participant_id"] == ra["participant_id"]
        assert (await b.call("ping"))["type"] == "ok"
        assert not [e for e in b.events if e["type"] == "subscribe_offer"]
        await b.close()
    run(scenario())


def ssrc_by_mid(sdp):
    """{mid: ssrc} of the m-sections of an offer that announce one."""
    out = {}
    for section in sdp.split("\r\nm=")[1:]:
        mid = next((l[6:] for l in section.split("\r\n") if l.startswith("a=mid:")), None)
        ssrc = next((l[7:].split()[0] for l in section.split("\r\n") if l.startswith("a=ssrc:")), None)
        if mid is not None and ssrc is not None:
            out[mid] = ssrc
    return out


def test_slots_keep_their_ssrc_from_one_participant_to_the_next(diemcau):
    """Every slot is sendonly with one SSRC for the whole session: a newcomer takes the slot
    a leaver had by slot_update, with no offer and no inactive m-line in between (Chromium
    binds a receiver to the SSRC it had; this model never takes it away)."""
    offer = read_fixture(CHROMIUM_OFFER)
    answer = read_fixture(CHROMIUM_SUB_ANSWER)

    async def scenario():
        room = room_name()
        a, b = await Client.open(diemcau), await Client.open(diemcau)
        ra = await a.join(room)
        await b.join(room, "B")
        first = await b.event("subscribe_offer")
        assert (await b.call("subscribe_answer", version=first["version"], sdp=answer))["type"] == "ok"
        assert "a=inactive" not in first["sdp"] and len(ssrc_by_mid(first["sdp"])) == 17
        assert (await a.call("publish", sdp=offer))["type"] == "ok"
        assert (await a.call("leave"))["type"] == "ok"
        await b.event("participant_left")
        c = await Client.open(diemcau)
        rc = await c.join(room, "C")
        assert (await c.call("publish", sdp=offer))["type"] == "ok"
        while True:
            update = await b.event("slot_update")
            if any(s["participant_id"] == rc["participant_id"] for s in update["slots"]):
                break
        assert (await b.call("ping"))["type"] == "ok"
        assert not [e for e in b.events if e["type"] == "subscribe_offer"]
        for cl in (b, c):
            await cl.close()
    run(scenario())


def test_gallery_growth_offer_waits_for_the_answer(diemcau):
    """set_gallery adds m-lines through a new offer; while the last offer is unanswered it
    waits, and one offer with all of them follows the answer."""
    answer = read_fixture(CHROMIUM_SUB_ANSWER)

    async def scenario():
        room = room_name()
        b = await Client.open(diemcau)
        await b.join(room, "B")
        first = await b.event("subscribe_offer")
        assert len(first["slots"]) == 17
        assert (await b.call("set_gallery", gallery=12))["type"] == "ok"
        assert (await b.call("set_gallery", gallery=14))["type"] == "ok"
        assert not [e for e in b.events if e["type"] == "subscribe_offer"]
        assert (await b.call("subscribe_answer", version=first["version"], sdp=answer))["type"] == "ok"
        second = await b.event("subscribe_offer")
        assert second["version"] == first["version"] + 1 and len(second["slots"]) == 8 + 14
        assert [s["mid"] for s in second["slots"]] == [str(i) for i in range(22)]
        assert_error(await b.call("set_gallery", gallery=26), "bad_request")
        await b.close()
    run(scenario())


# ---- resume -------------------------------------------------------------------------------------

def test_resume_within_grace_keeps_participant(diemcau):
    async def scenario():
        room = room_name()
        a, b = await Client.open(diemcau), await Client.open(diemcau)
        ra = await a.join(room)
        await b.join(room, "B")
        await a.close()
        await asyncio.sleep(0.3)
        a2 = await Client.open(diemcau)
        r = await a2.call("resume", resume_token=ra["resume_token"])
        assert r["type"] == "ok", r
        assert r["participant_id"] == ra["participant_id"]
        assert r["room"] == room
        assert [p["name"] for p in r["participants"]] == ["B"]
        assert not [e for e in b.events if e["type"] == "participant_left"]
        assert (await b.call("ping"))["type"] == "ok"
        assert not [e for e in b.events if e["type"] == "participant_left"]
        await a2.close()
        await b.close()
    run(scenario())


def test_resume_after_grace_fails(diemcau_factory):
    srv = diemcau_factory("--resume-grace", "1")

    async def scenario():
        room = room_name()
        a, b = await Client.open(srv), await Client.open(srv)
        ra = await a.join(room)
        await b.join(room, "B")
        await a.close()
        left = await asyncio.wait_for(b.event("participant_left"), 4)
        assert left["participant_id"] == ra["participant_id"] and left["reason"] == "timeout"
        a2 = await Client.open(srv)
        assert_error(await a2.call("resume", resume_token=ra["resume_token"]), "resume_failed")
        await a2.close()
        await b.close()
    run(scenario())


# ---- robustness ---------------------------------------------------------------------------------

def garbage_messages(rng, count):
    """Random text, broken and wrong-typed JSON, random binary frames."""
    types = ["join", "publish", "subscribe_answer", "candidate", "mute", "leave", "resume", "ping", "", "x" * 300]
    values = [None, True, 1, -1, 2 ** 63 - 1, 1.5, "", "a" * 5000, [], {}, [1, [2, [3]]], {"a": {"b": None}},
              "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "\u0000", "\ud7ff\ue000"]
    fields = ["id", "type", "room", "name", "sdp", "version", "pc", "candidate", "kind", "muted",
              "resume_token", "token"]
    for _ in range(count):
        shape = rng.randrange(6)
        if shape == 0:
            yield "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 200)))
        elif shape == 1:
            yield rng.randbytes(rng.randrange(1, 300))
        elif shape == 2:
            yield "{" * rng.randrange(1, 5000)
        elif shape == 3:
            yield json.dumps(rng.choice(values))
        else:
            msg = {rng.choice(fields): rng.choice(values) for _ in range(rng.randrange(0, 6))}
            if rng.random() < 0.8:
                msg["type"] = rng.choice(types)
            yield json.dumps(msg)


def test_survives_random_garbage(diemcau):
    async def scenario():
        rng = random.Random(1234)
        room = room_name()
        joined = await Client.open(diemcau)
        await joined.join(room)
        fresh = await Client.open(diemcau)
        for i, msg in enumerate(garbage_messages(rng, 200)):
            target = joined if i % 2 else fresh
            try:
                await target.send(msg)
            except websockets.ConnectionClosed:
                pass
            if i % 40 == 39:
                await asyncio.sleep(0.5)   # stay mostly under the rate limit
        await asyncio.sleep(2.5)            # let the rate limiter refill
        check = await Client.open(diemcau)
        assert (await check.call("ping"))["type"] == "ok"
        for c in (joined, fresh, check):
            await c.close()
        assert diemcau.alive()
    run(scenario())


# ---- configuration and TLS ------------------------------------------------------------------------

def test_config_file_and_overrides(diemcau_factory):
    # configs/default.json sets ports 8080/40000; the fixture's --http-port 0 --media-port 0
    # come first on the command line, but a config file is applied before all options.
    srv = diemcau_factory("--config", os.path.join(ROOT, "configs", "default.json"),
                          "--bind", "127.0.0.1", "--max-room-size", "1")

    async def scenario():
        room = room_name()
        a, b = await Client.open(srv), await Client.open(srv)
        await a.join(room)
        assert_error(await b.call("join", **tokens.join_fields(srv.ws_url, room, "B")), "room_full")
        await b.join(room_name(), "B")   # another room is fine
        await a.close()
        await b.close()
    run(scenario())
    assert srv.http_port not in (0, 8080)


def test_tls(diemcau_factory, tmp_path):
    import shutil
    import ssl
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl command not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    srv = diemcau_factory("--tls-cert", str(cert), "--tls-key", str(key))
    ctx = ssl.create_default_context(cafile=str(cert))
    assert any("https://localhost" in line for line in srv.output().splitlines())
    with urllib.request.urlopen(f"https://127.0.0.1:{srv.http_port}/", context=ctx, timeout=TIMEOUT) as resp:
        assert resp.status == 200

    async def scenario():
        async with websockets.connect(f"wss://127.0.0.1:{srv.http_port}/ws", ssl=ctx,
                                      subprotocols=["diemcau-v1"]) as ws:
            c = Client(ws)
            assert (await c.call("ping"))["type"] == "ok"
    run(scenario())
