"""GET /metrics during a real call (PROTOCOL.md "Metrics", signaling/metrics.c).

A server with an admin credential; a GStreamer webrtcbin peer publishes VP8 and Opus, a
second one decodes it. /metrics is scraped during the call: the text must pass
`promtool check metrics` (Debian package prometheus), the packet counters must rise from
one scrape to the next, the room's head counts must be right, and the label sets must stay
bounded (room, worker, reason, direction; never a participant). When the publisher leaves,
no counter may go down: what it counted stays in the totals. Without the admin credential
/metrics answers 401; without one configured it is off (404).

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_metrics.py
"""

import asyncio
import logging
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import webrtc_peer as wp
from test_webrtcbin import publish_then_decode, room_name

ADMIN = "metrics-admin-credential-5c1e9a07d2"
TEST_TIMEOUT = 90
SCRAPE_TIMEOUT = 15  # link reports come every 2 s; generous for the ASan build
ALLOWED_LABELS = {"room", "worker", "reason", "direction", "le", "version"}

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(srv, credential=ADMIN, method="GET"):
    """(status, content type, body text) of a request for /metrics; errors are returned."""
    headers = {"Authorization": f"Bearer {credential}"} if credential is not None else {}
    req = urllib.request.Request(f"http://127.0.0.1:{srv.http_port}/metrics", headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


class Scrape:
    """One exposition parsed: samples by (name, labels), the TYPE of each family."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                self.types[name] = kind
            elif line and not line.startswith("#"):
                m = SAMPLE_RE.match(line)
                assert m, f"not a sample line: {line!r}"
                labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
                self.samples[(m.group(1), labels)] = float(m.group(3))

    def value(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def monotonic(self):
        """Every sample of a counter or histogram family: those may only rise."""
        out = {}
        for (name, labels), v in self.samples.items():
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in self.types else name
            if self.types.get(family) in ("counter", "histogram"):
                out[(name, labels)] = v
        return out


def promtool_check(text):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: install the Debian package prometheus (scripts/install-deps.sh --test)")
    proc = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        f"promtool check metrics: {proc.stdout.decode()} {proc.stderr.decode()}"


async def scrape_ok(srv):
    status, ctype, body = await asyncio.to_thread(scrape, srv)
    assert status == 200, (status, body)
    assert ctype == "text/plain; version=0.0.4; charset=utf-8", ctype
    return Scrape(body)


async def wait_scrape(srv, predicate, what):
    """Scrapes until predicate(scrape) holds; the last scrape."""
    deadline = time.monotonic() + SCRAPE_TIMEOUT
    while True:
        s = await scrape_ok(srv)
        if predicate(s):
            return s
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {SCRAPE_TIMEOUT} s waiting for {what}; last scrape:\n{s.text}")
        await asyncio.sleep(0.25)


def assert_bounded(s, participant_ids):
    for (name, labels) in s.samples:
        names = {k for k, _ in labels}
        assert names <= ALLOWED_LABELS, f"{name}: unexpected labels {names - ALLOWED_LABELS}"
    for pid in participant_ids:
        assert pid not in s.text, f"participant id {pid} in /metrics"


def assert_none_went_down(before, after):
    went_down = {k: (v, after.samples.get(k)) for k, v in before.monotonic().items()
                 if k not in after.samples or after.samples[k] < v}
    assert not went_down, f"counters that went down or vanished: {went_down}"


def rose(before, after, name):
    return (after.value(name) or 0) > (before.value(name) or 0)


async def call_scraped(srv):
    room = room_name()
    pub = wp.WebRTCPeer(srv.ws_url, room, "Nguyễn Văn Phát")
    sub = wp.WebRTCPeer(srv.ws_url, room, "Trần Thị Xem")
    try:
        await publish_then_decode(pub, sub)
        ids = [pub.participant_id, sub.participant_id]

        # the first scrape once a link report has been summed: every family is there
        first = await wait_scrape(srv, lambda s: (s.value("diemcau_rtp_received_total") or 0) > 0,
                                  "a link report with RTP received")
        promtool_check(first.text)
        assert first.value("diemcau_room_participants", room=room) == 2, first.text
        assert first.value("diemcau_room_publishers", room=room) == 1, first.text
        assert first.value("diemcau_rooms") == 1
        assert first.value("diemcau_websocket_connections") == 2
        assert first.value("diemcau_transports") >= 2  # the publisher's, the subscriber's
        assert_bounded(first, ids)

        # media keeps flowing: the packet counters rise between scrapes
        packet_counters = ("diemcau_datagrams_received_total", "diemcau_datagrams_sent_total",
                           "diemcau_rtp_forwarded_total", "diemcau_received_bytes_total",
                           "diemcau_sent_bytes_total", "diemcau_rtp_received_total",
                           "diemcau_link_reports_total")
        second = await wait_scrape(srv, lambda s: all(rose(first, s, n) for n in packet_counters),
                                   f"all of {packet_counters} to rise")
        promtool_check(second.text)
        logging.info("second scrape: %s, rtt observations %s, keyframe requests in %s out %s",
                     {n: second.value(n) for n in packet_counters},
                     second.value("diemcau_link_rtt_seconds_count", direction="subscribe"),
                     second.value("diemcau_keyframe_requests_received_total"),
                     second.value("diemcau_keyframe_requests_sent_total"))
        assert_bounded(second, ids)
        assert_none_went_down(first, second)
        workers = [v for (n, _), v in second.samples.items() if n == "diemcau_worker_cpu_seconds_total"]
        assert workers and sum(workers) > 0, second.text
        received = sum(v for (n, _), v in second.samples.items() if n == "diemcau_worker_datagrams_received_total")
        assert received > 0, second.text

        # the publisher leaves: the room shrinks, and nothing it counted is taken back
        await pub.close()
        third = await wait_scrape(srv, lambda s: s.value("diemcau_room_participants", room=room) == 1,
                                  "the room to count one participant")
        promtool_check(third.text)
        assert third.value("diemcau_room_publishers", room=room) == 0, third.text
        assert_none_went_down(second, third)
        assert not pub.errors and not sub.errors, (pub.errors, sub.errors)
    finally:
        await sub.close()
        await pub.close()


def test_metrics_during_a_call(diemcau_factory, vp8_opus, tmp_path):
    token_file = tmp_path / "admin.token"
    token_file.write_text(ADMIN)
    srv = diemcau_factory("--admin-token-file", str(token_file))

    for credential in (None, "", "wrong-" + ADMIN, ADMIN[:-1]):
        status, _, body = scrape(srv, credential)
        assert status == 401, (credential, status, body)
        assert "diemcau_" not in body
    assert scrape(srv, method="POST")[0] == 405

    asyncio.run(asyncio.wait_for(call_scraped(srv), TEST_TIMEOUT))


def test_metrics_off_without_admin_credential(diemcau):
    status, _, body = scrape(diemcau)
    assert status == 404, (status, body)
    assert "diemcau_" not in body
