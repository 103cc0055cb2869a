"""Protocol rules an independent client relies on (PROTOCOL.md), over real WebSockets:
the rate limit and the close of a flooding connection, candidate validation, the id and
type rules, and strings holding U+0000.

    DIEMCAU_BIN=build/diemcau /usr/bin/python3 -m pytest -v tests/integration/test_protocol_rules.py
"""

import asyncio
import json

from raw_ws import frame, read_until_close, upgrade
from test_signaling import (CHROMIUM_OFFER, CHROMIUM_SUB_ANSWER, Client, assert_error, read_fixture, room_name,
                            run)

BURST = 100            # rate_limit_burst default
FLOOD_MESSAGES = 20    # DC_RATE_LIMIT_FLOOD_MESSAGES


def test_junk_flood_is_rate_limited_then_closed_1008(diemcau):
    s, status, _ = upgrade(diemcau.http_port)
    with s:
        assert status == 101
        s.sendall(b"".join(frame(0x1, b"junk %d" % i) for i in range(300)))
        close_code, texts = read_until_close(s)
    codes = [json.loads(t).get("code") for t in texts]
    assert codes.count("bad_json") >= BURST, codes           # the burst: each gets its own error
    assert codes[-FLOOD_MESSAGES:] == ["rate_limited"] * FLOOD_MESSAGES, codes
    assert len(codes) < 300, f"{len(codes)} replies to 300 junk frames"
    assert close_code == 1008, close_code


def test_rate_limited_requests_keep_their_id_and_a_pause_recovers(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        n = BURST + FLOOD_MESSAGES // 2       # over the burst, under the flood close
        for i in range(n):
            await c.send({"type": "ping", "id": i})
        replies = [await c.recv() for _ in range(n)]
        limited = [m for m in replies if m.get("code") == "rate_limited"]
        assert limited, replies
        assert all(isinstance(m.get("id"), int) for m in limited), limited
        assert sum(m["type"] == "ok" for m in replies) >= BURST
        await asyncio.sleep(0.5)              # 25 messages' worth of allowance at 50/s
        assert (await c.call("ping"))["type"] == "ok"
        await c.close()
    run(scenario())


# ---- candidates ---------------------------------------------------------------------------------

GOOD_CANDIDATES = [
    "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.1 rport 46154 "
    "generation 0 ufrag EEtu network-id 3 network-cost 10",
    "candidate:1 1 UDP 2122252543 0ccb4b8e-6f13-4c4a-9e0b-0d0c8c1c2f3a.local 54321 typ host",
    "candidate:3 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0",
    "candidate:4 1 udp 2122262783 2001:db8::1 50000 typ host generation 0",
    "candidate:a+/Z 2 UDP 1 127.0.0.1 0 typ relay raddr 0.0.0.0 rport 0",
    "",
]

BAD_CANDIDATES = [
    "garbage",
    "candidate:",
    "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host",
    "candidate:1 1 udp 1 127.0.0.1 5000",                    # no typ
    "candidate:1 1 udp 1 127.0.0.1 5000 typ",                # typ without a type
    "candidate:1 0 udp 1 127.0.0.1 5000 typ host",           # component 0
    "candidate:1 257 udp 1 127.0.0.1 5000 typ host",         # component > 256
    "candidate:1 1 udp 4294967296 127.0.0.1 5000 typ host",  # priority > 2^32-1
    "candidate:1 1 udp 1 127.0.0.1 65536 typ host",          # port > 65535
    "candidate:1 1 udp 1 bad_host! 5000 typ host",
    "candidate:" + "x" * 33 + " 1 udp 1 127.0.0.1 5000 typ host",  # foundation > 32
    "candidate:1 1 udp 1 127.0.0.1 5000 typ host raddr",     # extension name without value
    "candidate:1  1 udp 1 127.0.0.1 5000 typ host",          # two spaces
    "candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n",
    "candidate:1 1 udp 1 127.0.0.1 5000 typ host name " + "x" * 1100,   # over 1024 bytes
]


def test_candidate_strings_are_validated(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        await c.join(room_name())
        for text in GOOD_CANDIDATES:
            r = await c.call("candidate", pc="publish", candidate={"candidate": text, "sdpMid": "0"})
            assert r["type"] == "ok", (text, r)
        for i, text in enumerate(BAD_CANDIDATES):
            if i % 40 == 39:
                await asyncio.sleep(1)
            r = await c.call("candidate", pc="subscribe", candidate={"candidate": text})
            assert_error(r, "bad_request")
            assert "candidate" in r["message"], r
        await c.close()
    run(scenario())


# ---- ids, types, U+0000 -------------------------------------------------------------------------

def test_id_type_and_nul_rules(diemcau):
    async def scenario():
        c = await Client.open(diemcau)
        await c.send('{"type":"ping","id":9223372036854775807}')
        assert (await c.recv()) == {"type": "ok", "id": 9223372036854775807}
        await c.send('{"type":"ping","id":-9223372036854775808}')
        assert (await c.recv())["id"] == -9223372036854775808
        await c.send('{"type":"ping","id":9223372036854775808}')      # beyond int64: not JSON we take
        assert_error(await c.recv(), "bad_json")
        await c.send('{"type":"ping","id":null}')
        r = await c.recv()
        assert_error(r, "bad_request")
        assert "id" not in r
        await c.send('{"id":5}')
        r = await c.recv()
        assert_error(r, "bad_request")
        assert r["id"] == 5 and "type" in r["message"], r
        # valid JSON, but U+0000 has no place in any field: bad_request, not bad_json
        await c.send('{"type":"join","id":6,"room":"r","name":"A\\u0000B"}')
        r = await c.recv()
        assert_error(r, "bad_request")
        assert "U+0000" in r["message"], r
        await c.send('{"type":"join","id":7,"room":"r","name":"A\\u0007B"}')
        r = await c.recv()
        assert_error(r, "bad_request")
        assert r["id"] == 7
        await c.close()
    run(scenario())


# ---- order of events on leave --------------------------------------------------------------------

async def types_until(c, last_type, want):
    """Types of the messages c receives until (and with) the first of type last_type, after
    the events already buffered; stops early once `want` messages were seen."""
    seen = [m["type"] for m in c.events]
    c.events.clear()
    while last_type not in seen and len(seen) < want:
        seen.append((await c.recv())["type"])
    return seen


def test_leave_order_slot_update_then_participant_left(diemcau):
    offer, answer = read_fixture(CHROMIUM_OFFER), read_fixture(CHROMIUM_SUB_ANSWER)

    async def scenario():
        room = room_name()
        a, b, c = await Client.open(diemcau), await Client.open(diemcau), await Client.open(diemcau)
        await a.join(room)
        await b.join(room, "B")
        await c.join(room, "C")
        first_b, first_c = await b.event("subscribe_offer"), await c.event("subscribe_offer")
        assert (await b.call("subscribe_answer", version=first_b["version"], sdp=answer))["type"] == "ok"
        # c leaves its offer unanswered: its slots are re-pointed all the same
        assert (await a.call("publish", sdp=offer))["type"] == "ok"
        for x in (b, c):
            await x.event("slot_update")
            assert (await x.call("ping"))["type"] == "ok"   # its reply comes after all the publish caused
            x.events.clear()
        assert (await a.call("leave"))["type"] == "ok"
        # answered or not, a subscriber hears that the leaver's slots are empty first
        order = ("slot_update", "participant_left", "subscribe_offer")
        for x in (b, c):
            assert [t for t in await types_until(x, "participant_left", 8) if t in order] == \
                ["slot_update", "participant_left"]
        assert (await c.call("subscribe_answer", version=first_c["version"], sdp=answer))["type"] == "ok"
        assert (await c.call("ping"))["type"] == "ok"
        assert not [e for e in c.events if e["type"] == "subscribe_offer"]   # nothing to renegotiate
        for x in (b, c):
            await x.close()
    run(scenario())
