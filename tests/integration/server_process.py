"""Start and stop the Điểm Cầu server binary for integration tests.

    with DiemcauServer() as srv:      # binary from $DIEMCAU_BIN (default build/diemcau)
        srv.ws_url, srv.http_port, srv.media_port, srv.pid, srv.rss_kib()

The server is started with `--http-port 0 --media-port 0` and must print a line
`LISTENING http=<port> media=<port>[,<port>…]` (one per media worker) on stdout. Its stdout and stderr are drained by
threads into memory (and `srv.output()`), so it never blocks on a full pipe. Stopping
sends SIGTERM, then SIGKILL after a grace period; `sanitizer_reports()` returns any
AddressSanitizer / LeakSanitizer / UBSan report found in its output.
"""

import contextlib
import os
import shutil
import tempfile
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTENING_RE = re.compile(r"LISTENING http=(\d+) media=([\d,]+)")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


def server_binary():
    return os.environ.get("DIEMCAU_BIN") or os.path.join(ROOT, "build", "diemcau")


def binary_has_asan(path):
    """True when the binary is built with AddressSanitizer (its RSS is then meaningless
    for leak checks: ASan keeps freed memory in quarantine)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class ServerError(Exception):
    pass


class DiemcauServer:
    def __init__(self, binary=None, extra_args=(), start_timeout=20.0, env=None):
        self.binary = binary or server_binary()
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.env = env
        self.proc = None
        self.http_port = None
        self.media_port = None   # the first worker's UDP port
        self.media_ports = []    # every worker's, in worker order (rooms are spread over them)
        self._lines = []
        self._lines_lock = threading.Lock()
        self._listening = threading.Event()
        self._threads = []
        self.returncode = None
        # each server its own meeting record, unless the test names one (--record)
        self._record_dir = None
        if "--record" not in self.extra_args:
            self._record_dir = tempfile.mkdtemp(prefix="diemcau-record-")
            self.extra_args += ["--record", os.path.join(self._record_dir, "record.sqlite")]

    # ---- lifecycle -------------------------------------------------------------

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise ServerError(f"server binary {self.binary} not found or not executable "
                              "(set DIEMCAU_BIN)")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            [self.binary, "--http-port", "0", "--media-port", "0", *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=ROOT)
        for stream, tag in ((self.proc.stdout, "out"), (self.proc.stderr, "err")):
            t = threading.Thread(target=self._drain, args=(stream, tag), daemon=True)
            t.start()
            self._threads.append(t)
        if not self._listening.wait(self.start_timeout):
            out = self.output()
            self.stop()
            raise ServerError(f"server did not print LISTENING within {self.start_timeout}s; "
                              f"output:\n{out[-4000:]}")
        return self

    def _drain(self, stream, tag):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lines_lock:
                self._lines.append(f"[{tag}] {line}")
            if tag == "out" and not self._listening.is_set():
                m = LISTENING_RE.search(line)
                if m:
                    self.http_port = int(m.group(1))
                    self.media_ports = [int(p) for p in m.group(2).split(",")]
                    self.media_port = self.media_ports[0]
                    self._listening.set()
        stream.close()

    def stop(self, grace=10.0):
        """SIGTERM, wait, SIGKILL. Returns the exit code. Idempotent."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for t in self._threads:
            t.join(2)
        if self._record_dir:
            shutil.rmtree(self._record_dir, ignore_errors=True)
            self._record_dir = None
        self.returncode = self.proc.returncode
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- inspection ------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.http_port}/ws"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise ServerError("no VmRSS in /proc status")

    def output(self):
        with self._lines_lock:
            return "\n".join(self._lines)

    def wait_output(self, text, timeout=5.0):
        """The output once it holds text, or after timeout. Needed for stderr: stdout and
        stderr are drained by two threads, so a warning written before LISTENING can still
        sit in its pipe when LISTENING has been read."""
        deadline = time.monotonic() + timeout
        while text not in self.output() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.output()

    def sanitizer_reports(self):
        out = self.output()
        return [m for m in SANITIZER_MARKERS if m in out]


@contextlib.contextmanager
def running(srv):
    """Starts srv and yields it; at the end it must still be running, stop with status 0
    and have no sanitizer report."""
    srv.start()
    try:
        yield srv
    finally:
        alive = srv.alive()
        code = srv.stop()
        assert alive, f"the server exited during the test:\n{srv.output()[-4000:]}"
        assert code == 0 and not srv.sanitizer_reports(), srv.output()[-8000:]
