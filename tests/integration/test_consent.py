"""A subscriber slow to answer, with real webrtcbin peers (docs/CONSENT.md).

Run with Debian's Python inside tests/run-in-netns.sh, like the other integration tests.
"""

import asyncio

from slow_subscribers import SlowPeer

TEST_TIMEOUT = 60


def test_checks_before_the_answer_are_answered(diemcau, vp8_opus):
    """B's ICE agent (libnice in webrtcbin) starts its connectivity checks as soon as B has
    applied the server's subscribe offer; B's busy process sends the answer 3 s later. libnice
    gives its checks up within ~2 s and, the server being ICE-lite, never checks again: the
    server must answer checks for the credentials of the offer it sent, answer or not, or
    B never sees anything (and 30 s later the server reports `subscribe timeout`)."""
    async def run():
        a = SlowPeer(diemcau.ws_url, "consent", "A", width=160, height=120, framerate=10)
        b = SlowPeer(diemcau.ws_url, "consent", "B", answer_delay=3.0)
        try:
            await a.connect()
            await a.publish()
            await b.connect()
            await b.wait_for(lambda: b.video_frames() > 10, 20, "B decoding A's video")
            assert b.media_states.get("subscribe") == "connected", b.diagnostics()
            assert b.answers_sent, "B never answered"
        finally:
            await b.close()
            await a.close()
    asyncio.run(asyncio.wait_for(run(), TEST_TIMEOUT))


def video_mid(peer, participant_id):
    for mid, slot in peer.slots.items():
        if slot.get("participant_id") == participant_id and slot.get("kind") == "video" and slot.get("active"):
            return mid
    return None


def test_new_peer_connection_checking_before_its_answer(diemcau, vp8_opus):
    """The same, from a new RTCPeerConnection: B answers a later offer (its gallery grew)
    from a fresh webrtcbin (another ICE ufrag), whose checks, with the server's unchanged
    credentials, come 3 s before its answer. They reach the transport the answer then gives
    a new peer; the address they bound must survive that, or B's new connection, done with
    its checks, never gets through."""
    async def run():
        a = SlowPeer(diemcau.ws_url, "consent", "A", width=160, height=120, framerate=10)
        b = SlowPeer(diemcau.ws_url, "consent", "B", answer_delay=3.0)
        try:
            await a.connect()
            await a.publish()
            await b.connect()
            await b.wait_for(lambda: b.video_frames() > 10, 20, "B decoding A's video")
            b.restart_next_offer = True
            await b.sig.request("set_gallery", timeout=10, gallery=12)
            await b.wait_for(lambda: b.subscribe_restarts > 0, 15, "a fresh subscribe webrtcbin")
            await b.wait_for(lambda: len(b.subscribe_answers) >= 2, 15, "the answer from the new webrtcbin")
            mid = video_mid(b, a.participant_id)
            before = b.video_frames(mid)
            await b.wait_for(lambda: b.video_frames(mid) > before + 10, 20, "B decoding A's video again")
        finally:
            await b.close()
            await a.close()
    asyncio.run(asyncio.wait_for(run(), TEST_TIMEOUT * 2))
