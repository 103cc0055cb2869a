"""One slow process driving many WebRTC peers against a real server: who loses media?

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 \\
        tests/integration/slow_subscribers.py --peers 30 --publishers 3 --seconds 75 --cpu-percent 15

Starts the server, then --peers webrtcbin participants (webrtc_peer.py) in this one
process, the first --publishers of them publishing small video and audio, every one
subscribing. The process can be made slow the way a loaded client machine is: a CPU
quota for itself (--cpu-percent, a cgroup, as if other programs took the rest of a
core) and a pause before each subscribe answer (--answer-delay). It then compares three
views of every `media_state … timeout` the server sent:

  * what the client was told (the `media_state` events),
  * the server's own log (`media: <participant> <pc> timeout: <how long silent>`),
  * the wire (wire_log.py): the longest time the client's connection sent no
    authenticated datagram (connectivity check, DTLS, SRTP, SRTCP) to the server.

A timeout after a wire silence shorter than the consent timeout is the server's fault;
after a longer one, the client's. Exits 1 if any timeout was the server's fault.
Findings and figures: docs/CONSENT.md.
"""

import argparse
import asyncio
import collections
import logging
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import DiemcauServer  # noqa: E402
import webrtc_peer as wp  # noqa: E402
from wire_log import WireLog  # noqa: E402

MEDIA_LOG_RE = re.compile(r"media: (\S+) (publish|subscribe) (\w+): (.*)")


class CpuQuota:
    """Limits this process to a share of one CPU with a cgroup (v2 or v1 cpu controller)."""

    def __init__(self, percent):
        self.percent = percent
        self.path = None
        self.procs_back = None

    def __enter__(self):
        if not self.percent:
            return self
        name = f"diemcau-slow-{os.getpid()}"
        quota = int(self.percent * 1000)
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):  # v2
            self.path, self.procs_back = f"/sys/fs/cgroup/{name}", "/sys/fs/cgroup/cgroup.procs"
            os.mkdir(self.path)
            self._write("cpu.max", f"{quota} 100000")
        else:
            self.path, self.procs_back = f"/sys/fs/cgroup/cpu/{name}", "/sys/fs/cgroup/cpu/cgroup.procs"
            os.mkdir(self.path)
            self._write("cpu.cfs_period_us", "100000")
            self._write("cpu.cfs_quota_us", str(quota))
        self._write("cgroup.procs", str(os.getpid()))
        return self

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def __exit__(self, *exc):
        if self.path:
            with open(self.procs_back, "w") as f:
                f.write(str(os.getpid()))
            os.rmdir(self.path)


class SlowPeer(wp.WebRTCPeer):
    """A webrtc_peer that notes its local UDP ports per connection (from its own ICE
    candidates) and can wait before answering each subscribe offer."""

    def __init__(self, *args, answer_delay=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_delay = answer_delay
        self.ports = collections.defaultdict(set)
        self.answers_sent = []  # time.monotonic() of each subscribe_answer sent

    def _on_ice_candidate(self, webrtc, mlineindex, candidate, pc):
        parts = candidate.split()
        if len(parts) > 5 and parts[2].lower() == "udp":
            self.ports[pc].add(int(parts[5]))
        super()._on_ice_candidate(webrtc, mlineindex, candidate, pc)

    async def _on_subscribe_offer(self, ev):
        request = self.sig.request

        async def noted(mtype, **fields):
            if mtype == "subscribe_answer":  # the offer is applied: its checks have begun
                await asyncio.sleep(self.answer_delay)
                self.answers_sent.append(time.monotonic())
            return await request(mtype, **fields)
        self.sig.request = noted
        try:
            await super()._on_subscribe_offer(ev)
        finally:
            self.sig.request = request


def consent_config(timeout_ms):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    f.write('{"consent_timeout_ms": %d}' % timeout_ms)
    f.close()
    return f.name


async def run(args):
    config = consent_config(args.consent_timeout_ms)
    srv = DiemcauServer(extra_args=["--workers", "1", "--config", config], start_timeout=60)
    srv.start()
    peers = []
    try:
        with WireLog(srv.media_ports) as wire, CpuQuota(args.cpu_percent):
            peers = [SlowPeer(srv.ws_url, "slow", f"p{i}", width=160, height=120, framerate=10,
                              restart_subscribe=True, timeout=120, answer_delay=args.answer_delay)
                     for i in range(args.peers)]
            t0 = time.monotonic()

            async def start(i, p):
                await p.connect()
                if i < args.publishers:
                    await p.publish()
            await asyncio.gather(*(start(i, p) for i, p in enumerate(peers)))
            print(f"all {len(peers)} joined in {time.monotonic() - t0:.1f} s", flush=True)
            await asyncio.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
            told = {}
            for p in peers:
                for ev in p.events:
                    if ev.get("type") == "media_state" and ev.get("state") == "timeout":
                        told[(p.participant_id, ev.get("pc"))] = told.get((p.participant_id, ev.get("pc")), 0) + 1
    finally:
        # the server first: 30 slow peers leaving one by one would each set off offers to
        # the rest, every answer delayed, and take minutes
        srv.stop()
        os.unlink(config)
        logging.getLogger("webrtc_peer").setLevel(logging.CRITICAL)  # the WebSockets close under them
        await asyncio.gather(*(p.close(leave=False) for p in peers))
    return report(args, peers, srv.output(), wire, told)


def report(args, peers, server_output, wire, told):
    """One line per connection the server declared timed out, with its fault."""
    by_id = {p.participant_id: p for p in peers}
    logged = {}
    for line in server_output.splitlines():
        m = MEDIA_LOG_RE.search(line)
        if m and m.group(3) == "timeout":
            logged[(m.group(1), m.group(2))] = m.group(4)
    limit = args.consent_timeout_ms / 1000
    faults = collections.Counter()
    print(f"server sent media_state timeout {sum(told.values())} times "
          f"({sum(n for (_, pc), n in told.items() if pc == 'subscribe')} subscribe); "
          f"wire capture dropped {wire.dropped} datagrams")
    for (pid, pc), n in sorted(told.items()):
        p = by_id[pid]
        detail = logged.get((pid, pc), "")
        for port in sorted(p.ports.get(pc, ())):
            silence = wire.longest_silence(port)
            checks = wire.times(port, "stun-request")
            # the answer this connection's checks belonged to: the first sent after they began
            answer = next((t for t in p.answers_sent if checks and t >= checks[0]), None)
            # checks on the wire that the server says never came, or that all came before
            # the answer (the only thing the server was waiting for): it dropped them
            dropped = bool(checks) and (detail.startswith("no ICE connectivity check")
                                        or (answer is not None and checks[-1] < answer))
            fault = "SERVER" if dropped or (silence is not None and silence < limit) else "client"
            faults[fault] += 1
            quiet = "never sent" if silence is None else f"longest wire silence {silence:.1f} s"
            if answer is not None:
                quiet += f"; its checks {checks[0] - answer:+.1f} .. {checks[-1] - answer:+.1f} s from its answer"
            print(f"  {p.name} {pc} timeout x{n} [server: {detail or 'no log line'}]: "
                  f"port {port} sent {wire.kinds(port)}, {quiet} -> {fault}")
    print(f"verdict: {faults['SERVER']} timed-out connection(s) the server's fault, "
          f"{faults['client']} the client's (consent timeout {limit:.0f} s)")
    return 1 if faults["SERVER"] else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", type=int, default=30)
    ap.add_argument("--publishers", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=75)
    ap.add_argument("--cpu-percent", type=float, default=0, help="CPU quota for this process (0: none)")
    ap.add_argument("--answer-delay", type=float, default=0,
                    help="seconds between applying a subscribe offer (checks start) and sending the answer")
    ap.add_argument("--consent-timeout-ms", type=int, default=30000)
    sys.exit(asyncio.run(run(ap.parse_args())))


if __name__ == "__main__":
    main()
