"""Shared pytest fixtures for the integration tests.

Run with Debian's Python (it has python3-websockets and python3-pytest):

    DIEMCAU_BIN=build/diemcau /usr/bin/python3 -m pytest -v tests/integration

The server process itself is handled by `server_process.DiemcauServer` (starts the
binary from $DIEMCAU_BIN, default build/diemcau, with `--http-port 0 --media-port 0`,
reads the `LISTENING http=<port> media=<port>` line, drains its output). The fixtures
here add the checks every test wants when the server stops:

* it exited with status 0 (a clean SIGTERM shutdown; LeakSanitizer makes it non-zero
  on a leak when the binary is built with -Db_sanitize=address), and
* its output holds no AddressSanitizer / LeakSanitizer / UBSan report.

Fixtures:

    def test_x(diemcau):                 # one server with default options
        diemcau.ws_url, diemcau.http_port, diemcau.media_port, diemcau.alive()

    def test_y(diemcau_factory):         # servers with extra command-line options
        srv = diemcau_factory("--resume-grace", "1")

    def test_z(diemcau, vp8_opus):       # skipped when GStreamer lacks VP8/Opus elements
"""

import pytest

from server_process import DiemcauServer, ServerError


@pytest.fixture
def vp8_opus():
    """Skips a webrtcbin test when GStreamer's VP8/Opus elements are missing."""
    import webrtc_peer as wp  # imports GStreamer: only the tests that use it pay for it
    if not (wp.vp8_encoder_available() and wp.opus_available()):
        pytest.skip("GStreamer VP8/Opus elements missing (plugins-good/base)")


@pytest.fixture
def diemcau_factory():
    started = []

    def start(*extra_args):
        srv = DiemcauServer(extra_args=extra_args)
        try:
            srv.start()
        except ServerError as e:
            pytest.fail(str(e))
        started.append(srv)
        return srv

    yield start
    problems = []
    for srv in started:
        was_alive = srv.alive()
        code = srv.stop()
        reports = srv.sanitizer_reports()
        if not was_alive:
            problems.append(f"server exited by itself before the end of the test (status {code})")
        elif code != 0:
            problems.append(f"server exited with status {code} after SIGTERM")
        if reports:
            problems.append(f"sanitizer report(s) {reports}")
        if problems:
            pytest.fail("; ".join(problems) + f"\nserver output:\n{srv.output()[-8000:]}")


@pytest.fixture
def diemcau(diemcau_factory):
    return diemcau_factory()
