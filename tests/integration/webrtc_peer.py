"""A WebRTC test peer for Điểm Cầu built on GStreamer's webrtcbin.

It speaks the signaling protocol of signaling/PROTOCOL.md over asyncio + websockets:

    peer = WebRTCPeer(ws_url, room="r1", name="A", video_codec="vp8")
    await peer.connect()           # WebSocket + join
    await peer.publish()           # videotestsrc/audiotestsrc -> sendonly webrtcbin
    ...                            # subscribe_offer events are answered automatically
    peer.video_frames()            # decoded video frames over all slots
    await peer.close()

Media paths:
  * publish: videotestsrc -> vp8enc (or an H.264 encoder) -> RTP payloader, and
    audiotestsrc -> opusenc -> rtpopuspay, into one sendonly BUNDLEd webrtcbin; the
    server answers.
  * subscribe: a second webrtcbin gets the server's `subscribe_offer`, answers, and each
    incoming stream goes through decodebin into a fakesink; a pad probe on the decoded
    side counts video frames / audio buffers per slot (mid).

Networking is confined to 127.0.0.1: libnice is told to use 127.0.0.1 as its only local
address (it skips loopback by default), ICE-TCP is off and no STUN server is set.

No GLib main loop is needed: webrtcbin and its libnice agent run their own threads;
promise and signal callbacks are bridged into asyncio with call_soon_threadsafe, and bus
messages are collected by a sync handler.

Debian's /usr/bin/python3 is required (python3-gi, gir1.2-gst-plugins-bad-1.0,
python3-websockets).
"""

import asyncio
import ctypes
import itertools
import json
import logging
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

import websockets  # noqa: E402

import tokens  # noqa: E402

Gst.init(None)

log = logging.getLogger("webrtc_peer")

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT = 10.0


class ProtocolError(Exception):
    """The server answered a request with {"type":"error"}."""

    def __init__(self, msg):
        self.msg = msg
        self.code = msg.get("code")
        super().__init__(f"{msg.get('code')}: {msg.get('message')}")


class PeerError(Exception):
    pass


def have_element(name):
    return Gst.ElementFactory.find(name) is not None


def h264_encoder():
    """Name of a usable H.264 encoder element, or None."""
    for name in ("x264enc", "openh264enc"):
        if have_element(name):
            return name
    return None


def vp8_encoder_available():
    return all(have_element(e) for e in ("vp8enc", "rtpvp8pay", "vp8dec", "rtpvp8depay"))


def opus_available():
    return all(have_element(e) for e in ("opusenc", "rtpopuspay", "opusdec", "rtpopusdepay"))


_gobject_lib = None


def _gobject_refcount_fix(obj):
    """Give back the reference PyGObject takes from webrtcbin's ICE object.

    GStreamer 1.22's webrtcbin keeps its GstWebRTCNice with the *floating* reference it
    was created with. The first time Python wraps it (get_property("ice-agent")),
    PyGObject sinks that floating reference and owns it; when the wrapper dies the object
    is freed under webrtcbin (seen here: CRITICALs in gst_webrtc_ice_add_stream, then a
    segfault). If the C refcount is 1 while our wrapper is alive, webrtcbin holds no
    reference of its own, so add one (via ctypes: PyGObject would undo obj.ref()).
    """
    global _gobject_lib
    if _gobject_lib is None:
        lib = ctypes.CDLL("libgobject-2.0.so.0")
        lib.g_object_ref.argtypes = [ctypes.c_void_p]
        lib.g_object_ref.restype = ctypes.c_void_p
        ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
        ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        _gobject_lib = lib
    ptr = ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)
    # GObject layout: GTypeInstance (one pointer), then guint ref_count.
    refcount = ctypes.c_uint.from_address(ptr + ctypes.sizeof(ctypes.c_void_p)).value
    if refcount == 1:
        _gobject_lib.g_object_ref(ptr)


def configure_loopback_ice(webrtc):
    """Make webrtcbin's libnice agent gather only a UDP host candidate on 127.0.0.1.

    Call once per webrtcbin, right after creating it (see _gobject_refcount_fix)."""
    ice = webrtc.get_property("ice-agent")
    _gobject_refcount_fix(ice)
    ice.set_property("ice-tcp", False)
    ice.set_property("ice-udp", True)
    agent = ice.get_property("agent")
    addr = Nice.Address.new()
    if not addr.set_from_string(LOOPBACK):
        raise PeerError("cannot parse loopback address")
    if not agent.add_local_address(addr):
        raise PeerError("nice_agent_add_local_address(127.0.0.1) failed")


def sdp_media_count(sdp_text):
    return sum(1 for line in sdp_text.splitlines() if line.startswith("m="))


def sdp_media_kinds_mids(sdp_text):
    """[(kind, mid)] for each m-line (mid None when absent)."""
    out = []
    for line in sdp_text.splitlines():
        if line.startswith("m="):
            out.append([line[2:].split(" ", 1)[0], None])
        elif line.startswith("a=mid:") and out:
            out[-1][1] = line[6:].strip()
    return [tuple(x) for x in out]


def sdp_attr_values(sdp_text, name):
    """All values of `a=<name>:...` lines, in order."""
    prefix = f"a={name}:"
    return [line[len(prefix):].strip() for line in sdp_text.splitlines() if line.startswith(prefix)]


class Signaling:
    """One WebSocket to the server: requests with ids, and an event queue."""

    def __init__(self, url, open_timeout=DEFAULT_TIMEOUT):
        self.url = url
        self.open_timeout = open_timeout
        self.ws = None
        self.events = asyncio.Queue()
        self.unsolicited_errors = []
        self._pending = {}
        self._ids = itertools.count(1)
        self._reader = None
        self.closed = asyncio.Event()
        self.close_code = None

    async def connect(self):
        self.ws = await asyncio.wait_for(
            websockets.connect(self.url, subprotocols=["diemcau-v1"],
                               open_timeout=self.open_timeout, max_size=4 * 1024 * 1024,
                               ping_interval=None),
            self.open_timeout + 1)
        self._reader = asyncio.ensure_future(self._read_loop())

    async def _read_loop(self):
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    log.warning("%s: binary frame from server (%d bytes)", self.url, len(raw))
                    continue
                try:
                    msg = json.loads(raw)
                except ValueError:
                    log.warning("server sent non-JSON: %r", raw[:200])
                    continue
                mtype = msg.get("type")
                mid = msg.get("id")
                if mtype in ("ok", "error") and mid is not None and mid in self._pending:
                    fut = self._pending.pop(mid)
                    if not fut.done():
                        fut.set_result(msg)
                elif mtype == "error":
                    self.unsolicited_errors.append(msg)
                    await self.events.put(msg)
                else:
                    await self.events.put(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(PeerError(f"WebSocket closed (code {self.ws.close_code})"))
            self._pending.clear()

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def request(self, mtype, timeout=DEFAULT_TIMEOUT, **fields):
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        msg = {"type": mtype, "id": rid}
        msg.update(fields)
        await self.send(msg)
        try:
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(rid, None)
        if reply.get("type") == "error":
            raise ProtocolError(reply)
        return reply

    async def next_event(self, types=None, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError(f"no event {types} within {timeout}s")
            ev = await asyncio.wait_for(self.events.get(), left)
            if types is None or ev.get("type") in types:
                return ev

    async def close(self):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:  # noqa: BLE001 - best effort on teardown
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await asyncio.wait_for(self._reader, 2)
            except BaseException:  # noqa: BLE001
                pass


class _Pipeline:
    """A Gst pipeline with a bus sync handler collecting errors and warnings."""

    def __init__(self, description, label):
        self.label = label
        element = Gst.parse_launch(description)
        if isinstance(element, Gst.Pipeline):
            self.pipe = element
        else:  # a single element: parse_launch returns it bare
            self.pipe = Gst.Pipeline.new(label)
            self.pipe.add(element)
        self.errors = []
        self.warnings = []
        bus = self.pipe.get_bus()
        bus.set_sync_handler(self._on_bus)

    def _on_bus(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            text = f"{self.label}: {msg.src.get_name()}: {err.message} ({dbg})"
            log.error("%s", text)
            self.errors.append(text)
        elif msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            text = f"{self.label}: {msg.src.get_name()}: {err.message}"
            log.warning("%s", text)
            self.warnings.append(text)
        return Gst.BusSyncReply.DROP

    def get(self, name):
        return self.pipe.get_by_name(name)

    def play(self):
        if self.pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise PeerError(f"{self.label}: cannot set PLAYING: {self.errors}")

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)
        self.pipe.get_bus().set_sync_handler(None)


async def _promise(loop, emit, timeout, what):
    """Run emit(promise) and wait for the Gst.Promise reply in asyncio."""
    fut = loop.create_future()

    def on_done(promise):
        def settle():
            if not fut.done():
                fut.set_result(promise)
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:
            pass  # loop already closed during teardown

    promise = Gst.Promise.new_with_change_func(on_done)
    emit(promise)
    try:
        promise = await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        promise.interrupt()
        raise PeerError(f"webrtcbin did not complete {what} within {timeout}s")
    if promise.wait() != Gst.PromiseResult.REPLIED:
        raise PeerError(f"webrtcbin {what}: promise not replied")
    reply = promise.get_reply()
    if reply is not None and reply.has_field("error"):
        raise PeerError(f"webrtcbin {what}: {reply.get_value('error')}")
    return reply


class WebRTCPeer:
    """One participant: a signaling connection, a publish and a subscribe webrtcbin."""

    def __init__(self, ws_url, room, name, video_codec="vp8", audio=True, video=True,
                 send_candidates=True, width=320, height=240, framerate=30,
                 keyframe_interval=30, latency_ms=100, timeout=DEFAULT_TIMEOUT,
                 restart_subscribe=False, role=tokens.DEFAULT_ROLE):
        self.ws_url = ws_url
        self.room = room
        self.name = name
        self.role = role
        self.video_codec = video_codec.lower()
        self.audio = audio
        self.video = video
        self.send_candidates = send_candidates
        self.width, self.height, self.framerate = width, height, framerate
        self.keyframe_interval = keyframe_interval
        self.latency_ms = latency_ms
        self.timeout = timeout
        # Answer an offer webrtcbin cannot take (a direction change) with a fresh
        # subscribe webrtcbin instead of failing.
        self.restart_subscribe = restart_subscribe
        self.subscribe_restarts = 0
        self._retired = []               # subscribe pipelines replaced by a restart

        self.sig = Signaling(ws_url, open_timeout=timeout)
        self.participant_id = None
        self.join_result = None
        self.publish_offer_sdp = None
        self.publish_answer_sdp = None
        self.subscribe_offers = []       # (version, sdp) in order of arrival
        self.subscribe_answers = []      # versions answered
        self.slots = {}                  # mid -> slot dict from the server
        self.restart_next_offer = False  # answer the next subscribe offer from a new webrtcbin
        self.events = []                 # every event received (for debugging / asserts)
        self.errors = []                 # errors from our own tasks

        self._loop = None
        self._pub = None
        self._sub = None
        self._sub_lock = asyncio.Lock()
        self._event_task = None
        self._lock = threading.Lock()
        self._video_frames = {}          # mid -> decoded frames
        self._audio_buffers = {}         # mid -> decoded audio buffers
        self._rtp_packets = {}           # mid -> RTP packets received (before decoding)
        self._decoded_caps = {}          # mid -> caps string of decoded output
        self._encoding_names = {}        # mid -> RTP encoding-name
        self.connection_states = {"publish": "new", "subscribe": "new"}
        self.media_states = {}           # pc -> last media_state event

    # ---- counters -------------------------------------------------------

    def video_frames(self, mid=None):
        with self._lock:
            if mid is not None:
                return self._video_frames.get(mid, 0)
            return sum(self._video_frames.values())

    def audio_buffers(self, mid=None):
        with self._lock:
            if mid is not None:
                return self._audio_buffers.get(mid, 0)
            return sum(self._audio_buffers.values())

    def rtp_packets(self, mid=None):
        """RTP packets the subscribe webrtcbin handed out on slot mid (all slots if None):
        what the server forwarded, counted before any decoder could conceal a gap."""
        with self._lock:
            if mid is not None:
                return self._rtp_packets.get(mid, 0)
            return sum(self._rtp_packets.values())

    def counts(self):
        with self._lock:
            return {"video": dict(self._video_frames), "audio": dict(self._audio_buffers),
                    "encoding": dict(self._encoding_names)}

    def pipeline_errors(self):
        out = []
        for p in (self._pub, self._sub, *self._retired):
            if p is not None:
                out.extend(p.errors)
        return out

    # ---- signaling --------------------------------------------------------

    async def connect(self, join=True):
        self._loop = asyncio.get_running_loop()
        await self.sig.connect()
        self._event_task = asyncio.ensure_future(self._event_loop())
        if join:
            await self.join()

    async def join(self):
        res = await self.sig.request("join", timeout=self.timeout,
                                     **tokens.join_fields(self.ws_url, self.room, self.name, self.role))
        self.join_result = res
        self.participant_id = res.get("participant_id")
        if not isinstance(self.participant_id, str):
            raise PeerError(f"join result without participant_id: {res}")
        return res

    async def ping(self):
        return await self.sig.request("ping", timeout=self.timeout)

    async def _event_loop(self):
        while True:
            ev = await self.sig.events.get()
            self.events.append(ev)
            etype = ev.get("type")
            try:
                if etype == "subscribe_offer":
                    await self._on_subscribe_offer(ev)
                elif etype == "slot_update":
                    self._update_slots(ev.get("slots"))
                elif etype == "media_state":
                    self.media_states[ev.get("pc")] = ev.get("state")
                elif etype == "error":
                    log.warning("%s: server error event: %s", self.name, ev)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - kept for the test to assert on
                log.exception("%s: handling %s failed", self.name, etype)
                self.errors.append(f"{etype}: {e!r}")

    def _update_slots(self, slots):
        if not isinstance(slots, list):
            return
        for s in slots:
            if isinstance(s, dict) and "mid" in s:
                self.slots[str(s["mid"])] = s

    # ---- publish ------------------------------------------------------------

    def _publish_description(self):
        parts = ["webrtcbin name=pub bundle-policy=max-bundle latency=%d" % self.latency_ms]
        if self.video:
            src = ("videotestsrc is-live=true pattern=ball ! "
                   f"video/x-raw,width={self.width},height={self.height},"
                   f"framerate={self.framerate}/1 ! videoconvert ! queue max-size-buffers=4 leaky=downstream ! ")
            if self.video_codec == "vp8":
                enc = (f"vp8enc deadline=1 keyframe-max-dist={self.keyframe_interval} "
                       "target-bitrate=300000 ! rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit ! "
                       "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000")
            elif self.video_codec == "h264":
                encname = h264_encoder()
                if encname is None:
                    raise PeerError("no H.264 encoder (x264enc/openh264enc)")
                if encname == "x264enc":
                    enc = (f"x264enc tune=zerolatency speed-preset=ultrafast bitrate=300 "
                           f"key-int-max={self.keyframe_interval} ! ")
                else:
                    enc = (f"openh264enc bitrate=300000 complexity=low "
                           f"gop-size={self.keyframe_interval} ! ")
                enc += ("video/x-h264,profile=constrained-baseline ! h264parse ! "
                        "rtph264pay pt=102 mtu=1200 config-interval=-1 aggregate-mode=zero-latency ! "
                        "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
                        "packetization-mode=(string)1")
            else:
                raise PeerError(f"unknown video codec {self.video_codec}")
            parts.append(src + enc + " ! pub.")
        if self.audio:
            parts.append("audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! "
                         "audioconvert ! audioresample ! queue max-size-buffers=4 leaky=downstream ! "
                         "opusenc bitrate=32000 ! rtpopuspay pt=111 ! "
                         "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! pub.")
        return " ".join(parts)

    async def publish(self):
        """Create the publish webrtcbin, send our offer, apply the server's answer."""
        loop = self._loop
        self._pub = _Pipeline(self._publish_description(), f"{self.name}/publish")
        webrtc = self._pub.get("pub")
        configure_loopback_ice(webrtc)
        webrtc.connect("notify::connection-state", self._on_state, "publish")
        if self.send_candidates:
            webrtc.connect("on-ice-candidate", self._on_ice_candidate, "publish")
        idx = 0
        while True:  # "get-transceivers" returns a GArray PyGObject cannot iterate
            t = webrtc.emit("get-transceiver", idx)
            if t is None:
                break
            t.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
            idx += 1
        if idx != int(self.audio) + int(self.video):
            raise PeerError(f"expected {int(self.audio) + int(self.video)} transceivers, got {idx}")
        self._pub.play()

        # Wait (bounded) for caps on webrtcbin's sink pads so the offer carries the
        # payloaders' full caps (H.264 profile-level-id etc.).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pads = list(webrtc.sinkpads)
            if pads and all(p.get_current_caps() is not None for p in pads):
                break
            await asyncio.sleep(0.05)

        reply = await _promise(loop, lambda p: webrtc.emit("create-offer", None, p),
                               self.timeout, "create-offer")
        offer = reply.get_value("offer")
        await _promise(loop, lambda p: webrtc.emit("set-local-description", offer, p),
                       self.timeout, "set-local-description(offer)")
        self.publish_offer_sdp = offer.sdp.as_text()
        res = await self.sig.request("publish", timeout=self.timeout, sdp=self.publish_offer_sdp)
        answer_text = res.get("sdp")
        if not isinstance(answer_text, str):
            raise PeerError(f"publish result without sdp: {res}")
        self.publish_answer_sdp = answer_text
        answer = self._description(GstWebRTC.WebRTCSDPType.ANSWER, answer_text)
        await _promise(loop, lambda p: webrtc.emit("set-remote-description", answer, p),
                       self.timeout, "set-remote-description(answer)")
        return answer_text

    @staticmethod
    def _description(kind, text):
        res, msg = GstSdp.SDPMessage.new_from_text(text)
        if res != GstSdp.SDPResult.OK:
            raise PeerError(f"cannot parse SDP from server: {res}")
        return GstWebRTC.WebRTCSessionDescription.new(kind, msg)

    def _on_state(self, webrtc, pspec, pc):
        state = webrtc.get_property("connection-state")
        self.connection_states[pc] = state.value_nick
        log.info("%s/%s: connection-state %s", self.name, pc, state.value_nick)

    def _on_ice_candidate(self, webrtc, mlineindex, candidate, pc):
        msg = {"type": "candidate", "pc": pc,
               "candidate": {"candidate": candidate, "sdpMLineIndex": int(mlineindex)}}
        loop = self._loop

        def send():
            if self.sig.ws is not None and not self.sig.closed.is_set():
                asyncio.ensure_future(self._send_quiet(msg))
        try:
            loop.call_soon_threadsafe(send)
        except RuntimeError:
            pass

    async def _send_quiet(self, msg):
        try:
            await self.sig.send(msg)
        except Exception:  # noqa: BLE001 - candidates are advisory for an ICE-lite server
            pass

    # ---- subscribe ----------------------------------------------------------

    async def _on_subscribe_offer(self, ev):
        version = ev.get("version")
        sdp = ev.get("sdp")
        if not isinstance(sdp, str):
            raise PeerError(f"subscribe_offer without sdp: {ev}")
        self._update_slots(ev.get("slots"))
        self.subscribe_offers.append((version, sdp))
        async with self._sub_lock:
            if self._sub is not None and self.restart_next_offer:
                # the test wants this offer answered from a new peer connection
                self.restart_next_offer = False
                await self._restart_subscribe_pipeline("a new peer connection asked for")
            if self._sub is None:
                self._sub = self._new_subscribe_pipeline()
            try:
                answer = await self._answer_offer(sdp)
            except PeerError as e:
                if not (self.restart_subscribe and "direction changes are not implemented" in str(e)):
                    raise
                # webrtcbin 1.22 cannot re-activate an inactive m-line (nor make any
                # other direction change): answer from a fresh subscribe webrtcbin.
                await self._restart_subscribe_pipeline("webrtcbin cannot change directions")
                answer = await self._answer_offer(sdp)
            try:
                await self.sig.request("subscribe_answer", timeout=self.timeout,
                                       version=version, sdp=answer)
                self.subscribe_answers.append(version)
            except ProtocolError as e:
                if e.code != "stale_version":
                    raise
                log.info("%s: answer to version %s is stale", self.name, version)

    async def _restart_subscribe_pipeline(self, why):
        """A fresh subscribe webrtcbin (new ICE credentials and DTLS certificate)."""
        log.info("%s: %s; new subscribe webrtcbin", self.name, why)
        self.subscribe_restarts += 1
        old, self._sub = self._sub, None
        self._retired.append(old)
        await self._stop_pipeline(old)
        self._sub = self._new_subscribe_pipeline()

    def _new_subscribe_pipeline(self):
        pipe = _Pipeline(f"webrtcbin name=sub bundle-policy=max-bundle latency={self.latency_ms}",
                         f"{self.name}/subscribe")
        webrtc = pipe.get("sub")
        configure_loopback_ice(webrtc)
        webrtc.connect("pad-added", self._on_sub_pad, pipe)
        webrtc.connect("notify::connection-state", self._on_state, "subscribe")
        if self.send_candidates:
            webrtc.connect("on-ice-candidate", self._on_ice_candidate, "subscribe")
        pipe.play()
        return pipe

    async def _answer_offer(self, sdp):
        """set-remote-description(offer), create-answer, set-local-description; returns
        the answer's SDP text."""
        loop = self._loop
        webrtc = self._sub.get("sub")
        offer = self._description(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        await _promise(loop, lambda p: webrtc.emit("set-remote-description", offer, p),
                       self.timeout, "set-remote-description(offer)")
        self._add_recv_transceivers(webrtc, sdp)
        reply = await _promise(loop, lambda p: webrtc.emit("create-answer", None, p),
                               self.timeout, "create-answer")
        answer = reply.get_value("answer")
        await _promise(loop, lambda p: webrtc.emit("set-local-description", answer, p),
                       self.timeout, "set-local-description(answer)")
        return answer.sdp.as_text()

    def _add_recv_transceivers(self, webrtc, offer_text):
        """Give webrtcbin a recvonly transceiver, with codec-preferences, for each m-line
        of the offer that has none yet.

        Without one, webrtcbin 1.22 creates a transceiver while answering and answers
        with the offer's first codec only. The server offers VP8 and H.264 on every video
        slot, so this is how the peer chooses what it receives."""
        video = {"vp8": "VP8", "h264": "H264"}[self.video_codec]
        caps = {
            "audio": Gst.Caps.from_string("application/x-rtp,media=audio,encoding-name=OPUS"),
            "video": Gst.Caps.from_string(f"application/x-rtp,media=video,encoding-name={video}"),
        }
        kinds = {GstWebRTC.WebRTCKind.AUDIO: "audio", GstWebRTC.WebRTCKind.VIDEO: "video"}
        have_mids, spare = set(), {"audio": 0, "video": 0}
        idx = 0
        while True:
            t = webrtc.emit("get-transceiver", idx)
            if t is None:
                break
            idx += 1
            mid = t.get_property("mid")
            if mid is not None:
                have_mids.add(mid)
            elif kinds.get(t.get_property("kind")) in spare:
                spare[kinds[t.get_property("kind")]] += 1
        for kind, mid in sdp_media_kinds_mids(offer_text):
            if kind not in caps or mid in have_mids:
                continue
            if spare[kind] > 0:
                spare[kind] -= 1
                continue
            t = webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                            caps[kind])
            if t is None:
                raise PeerError(f"add-transceiver({kind}) failed")

    def _on_sub_pad(self, webrtc, pad, owner):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        mid = None
        try:
            trans = pad.get_property("transceiver")
            if trans is not None:
                mid = trans.get_property("mid")
        except TypeError:
            pass
        if mid is None:
            mid = pad.get_name()
        caps = pad.get_current_caps() or pad.query_caps(None)
        enc = None
        if caps is not None and caps.get_size() > 0:
            enc = caps.get_structure(0).get_string("encoding-name")
        with self._lock:
            self._encoding_names[mid] = enc
        log.info("%s: incoming stream mid=%s encoding=%s", self.name, mid, enc)

        def count_rtp(p, info):
            with self._lock:
                self._rtp_packets[mid] = self._rtp_packets.get(mid, 0) + 1
            return Gst.PadProbeReturn.OK
        pad.add_probe(Gst.PadProbeType.BUFFER, count_rtp)

        pipe = owner.pipe
        decode = Gst.ElementFactory.make("decodebin")
        pipe.add(decode)
        decode.connect("pad-added", self._on_decoded_pad, mid, owner)
        decode.sync_state_with_parent()
        if pad.link(decode.get_static_pad("sink")) != Gst.PadLinkReturn.OK:
            self.errors.append(f"cannot link webrtcbin pad {pad.get_name()} to decodebin")

    def _on_decoded_pad(self, decode, pad, mid, owner):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name() if caps and caps.get_size() else ""
        if name.startswith("video/"):
            kind, table = "video", self._video_frames
        elif name.startswith("audio/"):
            kind, table = "audio", self._audio_buffers
        else:
            log.warning("%s: unexpected decoded caps %s", self.name, name)
            kind, table = None, None
        pipe = owner.pipe
        q = Gst.ElementFactory.make("queue")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)
        pipe.add(q)
        pipe.add(sink)
        q.link(sink)
        q.sync_state_with_parent()
        sink.sync_state_with_parent()
        with self._lock:
            self._decoded_caps[mid] = caps.to_string() if caps else None
            if table is not None:
                table.setdefault(mid, 0)

        if table is not None:
            def count(p, info, table=table):
                with self._lock:
                    table[mid] = table.get(mid, 0) + 1
                return Gst.PadProbeReturn.OK
            pad.add_probe(Gst.PadProbeType.BUFFER, count)
        pad.link(q.get_static_pad("sink"))
        log.info("%s: decoding %s on mid=%s", self.name, kind, mid)

    # ---- waiting helpers ------------------------------------------------------

    async def wait_for(self, predicate, timeout, what):
        """Poll predicate() until true; raise with a diagnostic after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            errs = self.pipeline_errors()
            if errs:
                raise PeerError(f"{self.name}: pipeline error while waiting for {what}: {errs}")
            await asyncio.sleep(0.1)
        raise PeerError(f"{self.name}: timed out after {timeout}s waiting for {what}; "
                        f"{self.diagnostics()}")

    def diagnostics(self):
        return (f"counts={self.counts()} states={self.connection_states} "
                f"media_states={self.media_states} slots={self.slots} "
                f"offers={[v for v, _ in self.subscribe_offers]} answered={self.subscribe_answers} "
                f"errors={self.errors} pipeline_errors={self.pipeline_errors()} "
                f"server_errors={self.sig.unsolicited_errors}")

    # ---- teardown -------------------------------------------------------------

    async def close(self, leave=True):
        """Leave (best effort), close the WebSocket and stop both pipelines. Never raises."""
        if leave and self.sig.ws is not None and not self.sig.closed.is_set():
            try:
                await self.sig.request("leave", timeout=3)
            except Exception:  # noqa: BLE001
                pass
        if self._event_task is not None:
            self._event_task.cancel()
            try:
                await asyncio.wait_for(self._event_task, 2)
            except BaseException:  # noqa: BLE001
                pass
        await self.sig.close()
        for p in (self._pub, self._sub):
            if p is not None:
                await self._stop_pipeline(p)

    async def _stop_pipeline(self, p):
        # A daemon thread, not the default executor: if set_state(NULL) ever hung,
        # asyncio.run() would wait for the executor forever at exit.
        done = threading.Event()

        def stop():
            try:
                p.stop()
            finally:
                done.set()
        threading.Thread(target=stop, daemon=True, name=f"stop-{p.label}").start()
        deadline = time.monotonic() + 10
        while not done.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not done.is_set():
            log.error("%s: stopping %s hung for 10 s", self.name, p.label)
            self.errors.append(f"stopping {p.label} hung")
