"""What each client really sent to the server's media ports, seen on the wire.

    with WireLog(srv.media_ports) as wire:   # a separate process reading lo (AF_PACKET)
        ...
    wire.kinds(port)            # {"stun-request": 3, "rtcp": 12, ...} sent from that port
    wire.longest_silence(port)  # longest time (s) without an authenticated datagram

It settles "who was silent" when the server reports a lost connection: the server's view
is its own log, this is the client's side of the same traffic, read below both. Only
datagrams to a media port are kept, classified by first byte (RFC 7983): a STUN binding
request (the only STUN a server can authenticate), a binding indication (libnice's
keepalive: no MESSAGE-INTEGRITY, so it proves nothing), DTLS, RTCP, RTP. A separate
process with a large socket buffer, so that a busy test process does not drop packets;
whatever the kernel dropped anyway is reported (`dropped`). Needs root (or CAP_NET_RAW)
and the test's network namespace (tests/run-in-netns.sh).
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
# What the server accepts as a sign of life from a bound address (sfu/transport.c).
AUTHENTICATED = ("stun-request", "dtls", "rtcp", "rtp")


def classify(payload):
    if not payload:
        return "other"
    b = payload[0]
    if b < 4 and len(payload) >= 2:
        kind = struct.unpack("!H", payload[:2])[0]
        return {0x0001: "stun-request", 0x0011: "stun-indication"}.get(kind, "stun-other")
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        return "rtcp" if len(payload) > 1 and 192 <= payload[1] <= 223 else "rtp"
    return "other"


def _capture(ports):
    """The child process: log (time, source port, kind) of datagrams to the media ports
    until SIGTERM, then print one JSON document."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: root may exceed rmem_max
    s.bind(("lo", 0))
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    t0 = time.monotonic()
    events = {}   # source port -> [[t, kind], ...], RTP thinned to one per 100 ms
    last_rtp = {}
    print("ready", flush=True)
    while not stop:
        try:
            data, addr = s.recvfrom(65535)
        except (socket.timeout, InterruptedError):
            continue
        if addr[2] == PACKET_OUTGOING:  # loopback shows each datagram twice
            continue
        ip = data[14:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        if dport not in ports:
            continue
        t = round(time.monotonic() - t0, 3)
        kind = classify(ip[ihl + 8:])
        if kind == "rtp":
            if t - last_rtp.get(sport, -1) < 0.1:
                continue
            last_rtp[sport] = t
        events.setdefault(sport, []).append((t, kind))
    packets, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    json.dump({"t0": t0, "end": time.monotonic() - t0, "dropped": drops, "events": events}, sys.stdout)
    sys.stdout.flush()


class WireLog:
    def __init__(self, ports):
        self.ports = [int(p) for p in ports]
        self.proc = None
        self.events = {}
        self.t0 = 0.0   # CLOCK_MONOTONIC of time 0 in the log (the same clock as time.monotonic())
        self.end = 0.0
        self.dropped = 0

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *map(str, self.ports)],
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("wire_log: capture did not start (root and a network namespace needed)")
        return self

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        self.proc = None
        doc = json.loads(out)
        self.t0, self.end, self.dropped = doc["t0"], doc["end"], doc["dropped"]
        self.events = {int(k): v for k, v in doc["events"].items()}

    def __exit__(self, *exc):
        self.stop()

    def kinds(self, port):
        out = {}
        for _, kind in self.events.get(port, []):
            out[kind] = out.get(kind, 0) + 1
        return out

    def times(self, port, kind):
        """Times (s, on time.monotonic()'s clock) of the datagrams of one kind from port."""
        return [self.t0 + t for t, k in self.events.get(port, []) if k == kind]

    def longest_silence(self, port):
        """Longest gap (s) between authenticated datagrams from port, up to the end of the
        capture; None if it sent none."""
        times = [t for t, kind in self.events.get(port, []) if kind in AUTHENTICATED]
        if not times:
            return None
        gaps = [b - a for a, b in zip(times, times[1:] + [self.end])]
        return max(gaps)


if __name__ == "__main__":
    _capture({int(p) for p in sys.argv[1:]})
