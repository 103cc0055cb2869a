"""What the server says when it starts, or cannot: a port in use, a missing or wrong TLS
certificate or key, a missing config file, a copy of configs/default.json elsewhere, the
start-up banner and its warning, and http:// on the TLS port.

    DIEMCAU_BIN=build/diemcau /usr/bin/python3 -m pytest -v tests/integration/test_startup.py
"""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import urllib.request

import pytest

from raw_ws import upgrade
from server_process import ROOT, SANITIZER_MARKERS, DiemcauServer, server_binary

TIMEOUT = 5


def start_failing(*args):
    """Runs the server with args, expecting it to refuse to start; returns (status, stderr)."""
    proc = subprocess.run([server_binary(), "--http-port", "0", "--media-port", "0", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode != 0, f"the server started:\n{proc.stdout}\n{proc.stderr}"
    assert not any(m in proc.stderr for m in SANITIZER_MARKERS), proc.stderr
    return proc.returncode, proc.stderr


def last_line(text):
    return text.strip().splitlines()[-1]


def make_cert(directory, name="cert"):
    if not shutil.which("openssl"):
        pytest.skip("openssl command not installed")
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


# ---- errors at start ------------------------------------------------------------------------------

@pytest.mark.parametrize("bind", ["127.0.0.1", "0.0.0.0"])
def test_http_port_in_use_is_named(bind):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status, err = start_failing("--bind", bind, "--http-port", str(port))
    line = last_line(err)
    assert f"HTTP port {port}" in line and "already in use" in line and "--http-port" in line, err


def test_missing_config_file_says_cannot_open(tmp_path):
    path = tmp_path / "nothing.json"
    status, err = start_failing("--config", str(path))
    assert status == 2
    assert last_line(err) == f"diemcau: cannot open config file {path}: No such file or directory", err


def test_missing_tls_certificate_is_named(tmp_path):
    cert, key = make_cert(tmp_path)
    missing = tmp_path / "gone.pem"
    _, err = start_failing("--tls-cert", str(missing), "--tls-key", str(key))
    assert last_line(err) == f"diemcau: cannot read the TLS certificate {missing}: No such file or directory", err
    _, err = start_failing("--tls-cert", str(cert), "--tls-key", str(missing))
    assert last_line(err) == f"diemcau: cannot read the TLS key {missing}: No such file or directory", err


def test_wrong_tls_files_are_named(tmp_path):
    cert, key = make_cert(tmp_path)
    _, other_key = make_cert(tmp_path, "other")
    _, err = start_failing("--tls-cert", str(key), "--tls-key", str(key))
    assert f"the TLS certificate {key} holds no PEM certificate" in last_line(err), err
    _, err = start_failing("--tls-cert", str(cert), "--tls-key", str(cert))
    assert f"the TLS key {cert} holds no PEM private key" in last_line(err), err
    _, err = start_failing("--tls-cert", str(cert), "--tls-key", str(other_key))
    assert f"the TLS key {other_key} does not belong to the certificate {cert}" in last_line(err), err


# ---- config files ---------------------------------------------------------------------------------

def test_copy_of_default_config_elsewhere_starts(diemcau_factory, tmp_path):
    elsewhere = tmp_path / "etc" / "diemcau"
    elsewhere.mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "configs", "default.json"), elsewhere / "config.json")
    srv = diemcau_factory("--config", str(elsewhere / "config.json"), "--bind", "127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.http_port}/", timeout=TIMEOUT) as resp:
        assert resp.status == 200
        assert b"<html" in resp.read().lower()


def test_wrong_web_root_says_where_it_looked(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"web_root": "no-such-folder"}')
    _, err = start_failing("--config", str(path))
    line = last_line(err)
    assert "web_root" in line and "no-such-folder" in line and "No such file or directory" in line, err
    assert "program's folder" in line, err


# ---- banner ---------------------------------------------------------------------------------------

def test_banner_shows_effective_settings_and_warns_about_loopback(diemcau_factory):
    srv = diemcau_factory("--workers", "2", "--announce-ip", "127.0.0.1")
    out = srv.wait_output("[err] warning: the announced media address")
    settings = out[out.index("Điểm Cầu settings:"):]
    assert f"0.0.0.0 port {srv.http_port}, TLS off" in settings, out
    assert "ports " + ",".join(str(p) for p in srv.media_ports) + " (2 workers)" in settings, out
    assert "announced to browsers as 127.0.0.1" in settings, out
    assert os.path.join("client-web") in settings.split("web root", 1)[1].splitlines()[0], out
    assert f"http://localhost:{srv.http_port}/" in settings, out
    assert "[err] warning: the announced media address is 127.0.0.1 (loopback)" in out, out


def test_banner_for_a_lan_address_without_tls(diemcau_factory):
    srv = diemcau_factory("--announce-ip", "192.0.2.10")
    out = srv.wait_output("[err] warning: without TLS")
    assert f"open                  http://192.0.2.10:{srv.http_port}/" in out, out
    assert "[err] warning: without TLS, browsers on other machines refuse camera and microphone" in out, out
    assert "(loopback)" not in out, out


def test_no_loopback_warning_when_listening_on_loopback_only():
    # An absence is judged on the whole output: stop the server (both pipes read to the
    # end), then look.
    with DiemcauServer(extra_args=("--bind", "127.0.0.1", "--media-bind", "127.0.0.1")) as srv:
        assert srv.alive()
    out = srv.output()
    assert srv.returncode == 0 and not srv.sanitizer_reports(), out
    assert "Điểm Cầu settings:" in out
    assert "warning" not in out, out


# ---- TLS port -------------------------------------------------------------------------------------

def test_http_on_the_tls_port_redirects_to_https(diemcau_factory, tmp_path):
    cert, key = make_cert(tmp_path)
    srv = diemcau_factory("--tls-cert", str(cert), "--tls-key", str(key))
    assert "TLS on" in srv.output()
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=TIMEOUT)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.status == 301, resp.status
    assert resp.getheader("Location") == f"https://127.0.0.1:{srv.http_port}/", resp.getheaders()
    conn.close()
    # the redirect leads to the page
    ctx = ssl.create_default_context(cafile=str(cert))
    with urllib.request.urlopen(resp.getheader("Location"), context=ctx, timeout=TIMEOUT) as page:
        assert page.status == 200
    # a plain ws:// upgrade is refused, not served unencrypted
    s, status, _ = upgrade(srv.http_port)
    s.close()
    assert status == 403, status
    # over TLS, refusals are HTTP statuses too, and the right path upgrades
    for path, want in (("/nope", 404), ("/ws", 101)):
        raw = socket.create_connection(("127.0.0.1", srv.http_port), timeout=TIMEOUT)
        s, status, _ = upgrade(srv.http_port, path, sock=ctx.wrap_socket(raw, server_hostname="127.0.0.1"))
        s.close()
        assert status == want, (path, status)
