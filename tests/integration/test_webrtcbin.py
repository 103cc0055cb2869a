"""Interop with an independent WebRTC stack: GStreamer webrtcbin through the SFU.

One webrtcbin peer publishes videotestsrc (VP8, or H.264 in the H.264 variant) and
audiotestsrc Opus; a second peer subscribes through the server's subscribe_offer and
decodes what arrives. Run inside a network namespace with only `lo` up, e.g.

    unshare --net bash -c 'ip link set lo up; DIEMCAU_BIN=build/diemcau \
        /usr/bin/python3 -m pytest -v tests/integration/test_webrtcbin.py'
"""

import asyncio
import logging
import uuid

import pytest

import webrtc_peer as wp

TEST_TIMEOUT = 60          # whole test, seconds
MEDIA_TIMEOUT = 20         # the brief: > 30 decoded frames within 20 s
MIN_VIDEO_FRAMES = 30
MIN_AUDIO_BUFFERS = 25     # Opus at 20 ms: ~50 per second

logging.basicConfig(level=logging.INFO)


def room_name():
    return "it-" + uuid.uuid4().hex[:10]


def run(coro):
    asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT))


def video_mid(peer, publisher_id):
    """The mid of the video slot that shows `publisher_id`, per the server's slots."""
    for mid, slot in peer.slots.items():
        if slot.get("kind") == "video" and slot.get("participant_id") == publisher_id:
            return mid
    return None


async def publish_then_decode(a, b):
    """A joins and publishes, then B joins and decodes A's video; returns B's mid for it."""
    await a.connect()
    await a.publish()
    await b.connect()
    await b.wait_for(lambda: b.video_frames() > MIN_VIDEO_FRAMES, MEDIA_TIMEOUT,
                     "B decoding A's video")
    return video_mid(b, a.participant_id)


async def publish_and_subscribe(server, codec, subscriber_first):
    room = room_name()
    pub = wp.WebRTCPeer(server.ws_url, room, "Nguyễn Văn A", video_codec=codec)
    sub = wp.WebRTCPeer(server.ws_url, room, "Trần Thị B", video_codec=codec)
    try:
        if subscriber_first:
            await sub.connect()
            await pub.connect()
            await pub.publish()
        else:
            await pub.connect()
            await pub.publish()
            await sub.connect()
            others = [p.get("id") for p in sub.join_result.get("participants", [])]
            assert pub.participant_id in others, sub.join_result

        await sub.wait_for(
            lambda: sub.video_frames() > MIN_VIDEO_FRAMES and sub.audio_buffers() > MIN_AUDIO_BUFFERS,
            MEDIA_TIMEOUT, f"> {MIN_VIDEO_FRAMES} decoded video frames and "
                           f"> {MIN_AUDIO_BUFFERS} audio buffers")

        counts = sub.counts()
        logging.info("subscriber counts: %s", counts)
        mid = video_mid(sub, pub.participant_id)
        assert mid is not None, f"no video slot for {pub.participant_id}: {sub.slots}"
        assert sub.video_frames(mid) > MIN_VIDEO_FRAMES, counts
        expected = "VP8" if codec == "vp8" else "H264"
        assert counts["encoding"].get(mid) == expected, counts
        audio_mids = [m for m, s in sub.slots.items()
                      if s.get("kind") == "audio" and s.get("participant_id") == pub.participant_id]
        assert audio_mids and sub.audio_buffers(audio_mids[0]) > 0, (sub.slots, counts)

        assert sub.subscribe_answers, "subscriber never answered a subscribe_offer"
        assert pub.connection_states["publish"] == "connected", pub.connection_states
        assert sub.connection_states["subscribe"] == "connected", sub.connection_states
        for p in (pub, sub):
            assert not p.errors, p.errors
            assert not p.pipeline_errors(), p.pipeline_errors()
            assert not p.sig.unsolicited_errors, p.sig.unsolicited_errors
        assert server.alive()
    finally:
        await sub.close()
        await pub.close()


@pytest.mark.parametrize("subscriber_first", [False, True],
                         ids=["publisher-first", "subscriber-first"])
def test_vp8_opus(diemcau, subscriber_first, vp8_opus):
    run(publish_and_subscribe(diemcau, "vp8", subscriber_first))


def test_h264_opus(diemcau):
    enc = wp.h264_encoder()
    if enc is None:
        pytest.skip("no H.264 encoder: neither x264enc (gstreamer1.0-plugins-ugly) nor "
                    "openh264enc (gstreamer1.0-plugins-bad) is installed")
    if not (wp.have_element("rtph264pay") and wp.have_element("h264parse")
            and (wp.have_element("avdec_h264") or wp.have_element("openh264dec"))):
        pytest.skip("H.264 payloader/parser/decoder missing")
    run(publish_and_subscribe(diemcau, "h264", subscriber_first=False))



async def third_publisher_then_leave(server):
    """A publishes and B decodes; C joins later and publishes: B's subscription is
    renegotiated with added slots and B decodes C too. Then A leaves: A's slots go
    inactive (another renegotiation) and B keeps decoding C.

    (Not tested here: re-using a freed slot for a newcomer. That re-activates an inactive
    m-line, and webrtcbin 1.22 refuses such an answer: "transceiver direction changes
    are not implemented".)"""
    room = room_name()
    a = wp.WebRTCPeer(server.ws_url, room, "Phạm A")
    b = wp.WebRTCPeer(server.ws_url, room, "Hoàng B")
    c = wp.WebRTCPeer(server.ws_url, room, "Đỗ C")
    try:
        mid_a = await publish_then_decode(a, b)
        assert mid_a is not None, b.slots

        await c.connect()
        await c.publish()
        await b.wait_for(lambda: video_mid(b, c.participant_id) is not None, 10,
                         "a video slot showing C")
        mid_c = video_mid(b, c.participant_id)
        assert mid_c != mid_a, b.slots
        await b.wait_for(lambda: b.video_frames(mid_c) > MIN_VIDEO_FRAMES, MEDIA_TIMEOUT,
                         "B decoding C's video")
        # C, who joined last, sees A at once.
        await c.wait_for(lambda: c.video_frames(video_mid(c, a.participant_id) or "-") > MIN_VIDEO_FRAMES,
                         MEDIA_TIMEOUT, "C decoding A's video")

        await a.close()  # sends leave
        await b.wait_for(lambda: any(e.get("type") == "participant_left" for e in b.events),
                         5, "participant_left for A")
        await b.wait_for(lambda: all(s.get("participant_id") != a.participant_id
                                     for s in b.slots.values()), 5, "A's slots to be released")
        await b.wait_for(lambda: b.subscribe_answers and
                         b.subscribe_answers[-1] == b.subscribe_offers[-1][0], 10,
                         "B to answer the latest subscribe_offer")
        before = b.video_frames(mid_c)
        await b.wait_for(lambda: b.video_frames(mid_c) > before + MIN_VIDEO_FRAMES, MEDIA_TIMEOUT,
                         "B still decoding C after A left")
        for p in (b, c):
            assert not p.errors, p.errors
            assert not p.pipeline_errors(), p.pipeline_errors()
            assert not p.sig.unsolicited_errors, p.sig.unsolicited_errors
    finally:
        await c.close()
        await b.close()
        await a.close()


def test_third_publisher_then_leave(diemcau, vp8_opus):
    run(third_publisher_then_leave(diemcau))


async def freed_slot_reused(server):
    room = room_name()
    a = wp.WebRTCPeer(server.ws_url, room, "Phạm A")
    b = wp.WebRTCPeer(server.ws_url, room, "Hoàng B", restart_subscribe=True)
    c = wp.WebRTCPeer(server.ws_url, room, "Đỗ C")
    try:
        mid = await publish_then_decode(a, b)
        await a.close()
        await b.wait_for(lambda: all(s.get("participant_id") != a.participant_id
                                     for s in b.slots.values()), 5, "A's slots to be released")
        before = b.video_frames(mid)
        await c.connect()
        await c.publish()
        await b.wait_for(lambda: video_mid(b, c.participant_id) is not None, 10, "a slot showing C")
        assert video_mid(b, c.participant_id) == mid, b.slots
        await b.wait_for(lambda: b.video_frames(mid) > before + MIN_VIDEO_FRAMES, 10,
                         f"B decoding C's video on the reused slot {mid}")
        assert not b.errors, b.errors
    finally:
        await c.close()
        await b.close()
        await a.close()


# webrtcbin 1.22 cannot answer an offer that re-activates a freed (inactive) slot
# ("transceiver direction changes are not implemented"), so the peer answers from a fresh
# webrtcbin: new ICE ufrag, same DTLS certificate. The server must treat that as a new
# subscribe connection.
def test_freed_slot_reused_by_newcomer(diemcau, vp8_opus):
    run(freed_slot_reused(diemcau))
