"""Roles the server enforces (spec of issue 11), at the protocol level with the Python test
peers: forged, expired and wrong-room join tokens are refused with their codes; an
observer may not publish; a delegate may not moderate; a delegate's audio reaches nobody
until the chair grants the floor, reaches everyone within a second of the grant, and stops
at the revoke (RTP counted at the receivers, and the server's not_allowed drop counter).

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_roles.py
"""

import asyncio
import contextlib
import json
import logging
import re
import time


import tokens
from server_process import DiemcauServer, running
from test_signaling import CHROMIUM_OFFER, Client, assert_error, read_fixture, room_name, run

SECRET = b"roles-test-secret-0123456789-abcdefghijklmnop"
MEDIA_TIMEOUT = 30


@contextlib.contextmanager
def server(tmp_path, counters=False):
    """A development-mode server whose token secret the test knows; with counters, the
    engine's packet counters are logged every second (DIEMCAU_HEAP_LOG)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"token_secret": SECRET.decode()}))
    env = {"DIEMCAU_HEAP_LOG": "1"} if counters else None
    with running(DiemcauServer(extra_args=["--config", str(config)], env=env)) as srv:
        yield srv


def claims(room, name="A", role="delegate", **extra):
    return {"sub": name, "name": name, "room": room, "role": role, "exp": int(time.time()) + 600, **extra}


# ---- join tokens -------------------------------------------------------------------------------

def test_bad_tokens_are_refused_with_their_codes(tmp_path):
    room = room_name()
    cases = [
        (None, "unauthorized"),
        ("not.a.token", "unauthorized"),
        (tokens.mint(b"another-secret-0123456789-0123456789", claims(room)), "unauthorized"),     # forged
        (tokens.mint(SECRET, claims(room), header={"alg": "none", "typ": "JWT"}), "unauthorized"),
        (tokens.mint(SECRET, claims(room, exp=int(time.time()) - 3600)), "token_expired"),
        (tokens.mint(SECRET, claims(room, nbf=int(time.time()) + 3600)), "token_expired"),
        (tokens.mint(SECRET, claims("another room")), "wrong_room"),
        (tokens.mint(SECRET, {k: v for k, v in claims(room).items() if k != "room"} | {"room_prefix": "x-"}),
         "wrong_room"),
    ]

    async def scenario(srv):
        c = await Client.open(srv)
        for token, code in cases:
            fields = {"room": room, "name": "A"} | ({"token": token} if token else {})
            assert_error(await c.call("join", **fields), code)
        # The same connection may still join with a good token; its name is the token's.
        r = await c.call("join", room=room, name="ignored",
                         token=tokens.mint(SECRET, claims(room, name="UBND xã A", role="chair")))
        assert r["type"] == "ok", r
        assert r["role"] == "chair" and "moderate" in r["grants"], r
        await c.close()

    with server(tmp_path) as srv:
        run(scenario(srv))


def test_observer_may_not_publish_and_delegate_may_not_moderate(tmp_path):
    offer = read_fixture(CHROMIUM_OFFER)

    async def scenario(srv):
        room = room_name()
        chair, observer, delegate = await Client.open(srv), await Client.open(srv), await Client.open(srv)
        r_chair = await chair.join(room, "Chủ tọa", role="chair")
        await observer.join(room, "Quan sát", role="observer")
        await delegate.join(room, "Xã A", role="delegate")
        assert_error(await observer.call("publish", sdp=offer), "forbidden")
        assert_error(await delegate.call("mute_participant", participant_id=r_chair["participant_id"],
                                         kind="audio", muted=True), "forbidden")
        assert_error(await delegate.call("grant_floor", participant_id=r_chair["participant_id"]), "forbidden")
        for c in (chair, observer, delegate):
            await c.close()

    with server(tmp_path) as srv:
        run(scenario(srv))


# ---- the floor gates a delegate's audio -----------------------------------------------------

async def wait_counters_line(srv, after):
    """The drop_not_allowed counter from a counters line logged after `after` lines."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [l for l in srv.output().splitlines() if "drop_not_allowed=" in l]
        if len(lines) > after:
            return int(re.search(r"drop_not_allowed=(\d+)", lines[-1]).group(1)), len(lines)
        await asyncio.sleep(0.1)
    raise AssertionError("no engine counters line within 5 s")


def counters_lines(srv):
    return len([l for l in srv.output().splitlines() if "drop_not_allowed=" in l])


async def floor_gates_audio(srv):
    import webrtc_peer as wp
    room = room_name()
    chair = wp.WebRTCPeer(srv.ws_url, room, "Chủ tọa", role="chair")
    observer = wp.WebRTCPeer(srv.ws_url, room, "Quan sát", role="observer")
    delegate = wp.WebRTCPeer(srv.ws_url, room, "UBND xã A", role="delegate")
    receivers = (chair, observer)
    try:
        for p in (chair, observer, delegate):
            await p.connect()
        await delegate.publish()
        # The receivers see the delegate's video: their subscriptions carry media.
        for r in receivers:
            await r.wait_for(lambda r=r: r.video_frames() > 10, MEDIA_TIMEOUT, "the delegate's video")
        # Audio is sent all along but the gate is closed: nothing reaches anyone, and the
        # engine counts the packets it drops.
        drops_before, lines = await wait_counters_line(srv, counters_lines(srv))
        await asyncio.sleep(1.5)
        drops_later, lines = await wait_counters_line(srv, lines)
        logging.info("before the floor: not_allowed drops %d -> %d", drops_before, drops_later)
        assert drops_later > drops_before, (drops_before, drops_later)
        for r in receivers:
            assert r.audio_buffers() == 0 and audio_rtp(r) == 0, r.diagnostics()

        granted_at = time.monotonic()
        await chair.sig.request("grant_floor", participant_id=delegate.participant_id)
        for r in receivers:
            await r.wait_for(lambda r=r: audio_rtp(r) > 0, 1.0 - (time.monotonic() - granted_at) + 0.05,
                             "the delegate's audio within 1 s of the grant")
        logging.info("delegate audio at the receivers %.2f s after the grant",
                     time.monotonic() - granted_at)
        assert time.monotonic() - granted_at <= 1.05
        await asyncio.sleep(1.0)
        assert all(audio_rtp(r) > 20 for r in receivers), [r.counts() for r in receivers]

        await chair.sig.request("revoke_floor")
        await asyncio.sleep(0.5)  # packets already in flight or in the jitter buffers
        stopped = [audio_rtp(r) for r in receivers]
        drops_at_revoke, lines = await wait_counters_line(srv, counters_lines(srv))
        await asyncio.sleep(1.5)
        assert [audio_rtp(r) for r in receivers] == stopped, [r.counts() for r in receivers]
        drops_after, _ = await wait_counters_line(srv, lines)
        logging.info("after the revoke: audio RTP %s, not_allowed drops %d -> %d", stopped, drops_at_revoke,
                     drops_after)
        assert drops_after > drops_at_revoke
        for p in (chair, observer, delegate):
            assert not p.errors and not p.pipeline_errors(), (p.errors, p.pipeline_errors())
    finally:
        for p in (delegate, observer, chair):
            await p.close()


def audio_rtp(peer):
    """RTP packets received on the peer's audio (Opus) slots."""
    return sum(peer.rtp_packets(mid) for mid, enc in peer.counts()["encoding"].items() if enc == "OPUS")


def test_delegate_audio_needs_the_floor(tmp_path, vp8_opus):
    with server(tmp_path, counters=True) as srv:
        run(floor_gates_audio(srv), timeout=120)
