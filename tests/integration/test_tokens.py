"""Join tokens over real HTTP and the command line (spec of issue 11): POST /api/dev-token
and GET /api/info in and out of development mode, who may mint development tokens, the
refusal to start a deployment without a proper secret, a secret that never reaches the
output, and `diemcau token`.

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_tokens.py
"""

import http.client
import json
import os
import subprocess
import time
import urllib.request

import pytest

import tokens
from server_process import ROOT, SANITIZER_MARKERS, DiemcauServer, server_binary
from test_startup import start_failing

TIMEOUT = 5
SECRET = b"integration-test-secret-0123456789-abcdefgh"
OTHER_ADDR = "10.213.0.7"  # a second, non-loopback address on lo (private namespace only)


def write_config(tmp_path, name="config.json", **keys):
    path = tmp_path / name
    path.write_text(json.dumps(keys))
    return str(path)


def secret_config(tmp_path, dev_mode=True, secret=SECRET):
    secret_file = tmp_path / "token.secret"
    secret_file.write_bytes(b"\n  " + secret + b"\n")  # trimmed when read
    return write_config(tmp_path, dev_mode=dev_mode, token_secret_file=str(secret_file))


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def private_namespace():
    """Only inside tests/run-in-netns.sh (nothing but lo) may a test add addresses."""
    try:
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    lines = links.stdout.strip().splitlines()
    return len(lines) == 1 and " lo: " in lines[0]


# ---- development mode ------------------------------------------------------------------------

def test_dev_token_from_loopback_is_a_valid_token(diemcau_factory, tmp_path):
    srv = diemcau_factory("--config", secret_config(tmp_path))
    base = f"http://127.0.0.1:{srv.http_port}"
    assert get_json(base + "/api/info")[1]["dev_mode"] is True
    status, reply = tokens.post_json(base + "/api/dev-token", {"room": "Họp tỉnh", "name": "  UBND xã A ",
                                                                "role": "delegate", "site": "Xã A"})
    assert status == 200, reply
    assert reply["expires_in"] == 43200
    claims = tokens.verify(reply["token"], SECRET)
    assert claims["room"] == "Họp tỉnh" and claims["name"] == "UBND xã A" and claims["site"] == "Xã A"
    assert claims["role"] == "delegate" and "grants" not in claims and claims["sub"]
    assert abs(claims["exp"] - (time.time() + 43200)) < 60
    # Over IPv6 loopback too (the default dev_token_clients has ::1/128).
    conn = http.client.HTTPConnection("::1", srv.http_port, timeout=TIMEOUT)
    conn.request("POST", "/api/dev-token", json.dumps({"room": "r", "name": "B", "role": "observer"}))
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    assert tokens.verify(json.loads(resp.read())["token"], SECRET)["role"] == "observer"


def test_dev_token_refuses_bad_requests(diemcau):
    base = f"http://127.0.0.1:{diemcau.http_port}"
    for body in ({"room": "r", "name": "A", "role": "king"}, {"room": "r", "role": "chair"},
                 {"room": "", "name": "A", "role": "chair"}, {"room": "r", "name": "A\u0007", "role": "chair"}):
        status, reply = tokens.post_json(base + "/api/dev-token", body)
        assert status == 400 and reply["error"] == "bad_request", (body, reply)
    assert get_json(base + "/api/dev-token")[0] == 405
    status, reply = get_json(base + "/api/nothing-here")
    assert status == 404 and reply["error"] == "not_found"
    # The static files are still served beside the API.
    with urllib.request.urlopen(base + "/", timeout=TIMEOUT) as resp:
        assert resp.status == 200


def test_body_over_the_limit_is_413(diemcau):
    conn = http.client.HTTPConnection("127.0.0.1", diemcau.http_port, timeout=TIMEOUT)
    conn.request("POST", "/api/dev-token", b"{" + b" " * 9000 + b"}")
    resp = conn.getresponse()
    assert resp.status == 413 and json.loads(resp.read())["error"] == "too_large"


@pytest.mark.skipif(not private_namespace(), reason="needs tests/run-in-netns.sh (adds an address to lo)")
def test_dev_token_from_another_address_is_403(diemcau):
    subprocess.run(["ip", "addr", "add", f"{OTHER_ADDR}/32", "dev", "lo"], check=True)
    try:
        # The server listens on all addresses; this client's address is OTHER_ADDR.
        status, reply = tokens.post_json(f"http://{OTHER_ADDR}:{diemcau.http_port}/api/dev-token",
                                         {"room": "r", "name": "A", "role": "chair"})
        assert status == 403 and reply["error"] == "forbidden", reply
        status, info = get_json(f"http://{OTHER_ADDR}:{diemcau.http_port}/api/info")
        assert status == 200 and info["dev_mode"] is True  # /api/info is for everyone
    finally:
        subprocess.run(["ip", "addr", "del", f"{OTHER_ADDR}/32", "dev", "lo"], check=True)


def test_dev_mode_off_has_no_dev_token(diemcau_factory, tmp_path):
    srv = diemcau_factory("--config", secret_config(tmp_path, dev_mode=False))
    base = f"http://127.0.0.1:{srv.http_port}"
    status, reply = tokens.post_json(base + "/api/dev-token", {"room": "r", "name": "A", "role": "chair"})
    assert status == 404 and reply["error"] == "not_found", reply
    assert get_json(base + "/api/info")[1]["dev_mode"] is False
    assert "/api/dev-token is off" in srv.output()


def test_banner_says_development_mode(diemcau):
    out = diemcau.output()
    assert "DEVELOPMENT MODE" in out and "127.0.0.1/32, ::1/128" in out, out


# ---- a deployment's secret ---------------------------------------------------------------------

def test_production_config_without_secret_refuses_to_start(tmp_path):
    code, err = start_failing("--config", write_config(tmp_path, dev_mode=False))
    assert "token_secret" in err and "dev_mode" in err, err
    # configs/production.json names a secret file that is not on this machine.
    code, err = start_failing("--config", os.path.join(ROOT, "configs", "production.json"), "--http-port", "0",
                              "--tls-cert", "", "--tls-key", "", "--announce-ip", "127.0.0.1")
    assert "token_secret_file /etc/diemcau/token.secret" in err, err


def test_short_secret_refuses_to_start_and_is_not_printed(tmp_path):
    short = b"only-twenty-five-bytes-xy"
    code, err = start_failing("--config", secret_config(tmp_path, dev_mode=False, secret=short))
    assert "token_secret is too short" in err and "32" in err, err
    assert short.decode() not in err
    code, err = start_failing("--config", write_config(tmp_path, dev_mode=False, token_secret=short.decode()))
    assert "too short" in err and short.decode() not in err, err


def test_secret_never_in_the_output(tmp_path):
    with DiemcauServer(extra_args=["--config", secret_config(tmp_path, dev_mode=False)]) as srv:
        tokens.post_json(f"http://127.0.0.1:{srv.http_port}/api/dev-token", {"room": "r", "name": "A", "role": "chair"})
    assert srv.returncode == 0 and not srv.sanitizer_reports(), srv.output()
    assert SECRET.decode() not in srv.output()


# ---- diemcau token ---------------------------------------------------------------------------------

def run_token_cmd(*args):
    return subprocess.run([server_binary(), "token", *args], capture_output=True, text=True, timeout=30, cwd=ROOT)


def test_token_command_mints_a_token_the_secret_verifies(tmp_path):
    config = secret_config(tmp_path, dev_mode=False)
    proc = run_token_cmd("--room", "Họp tỉnh", "--role", "delegate", "--name", "UBND xã Tân Lập",
                         "--site", "Tân Lập", "--sub", "site-042", "--grants", "publish,subscribe,speak",
                         "--ttl", "600", "--config", config)
    assert proc.returncode == 0, proc.stderr
    claims = tokens.verify(proc.stdout.strip(), SECRET)
    assert claims["room"] == "Họp tỉnh" and claims["role"] == "delegate" and claims["sub"] == "site-042"
    assert claims["name"] == "UBND xã Tân Lập" and claims["site"] == "Tân Lập"
    assert claims["grants"] == ["publish", "subscribe", "speak"]
    assert abs(claims["exp"] - (time.time() + 600)) < 30
    proc = run_token_cmd("--room-prefix", "Huyện A/", "--role", "chair", "--name", "Chủ tọa", "--config", config)
    claims = tokens.verify(proc.stdout.strip(), SECRET)
    assert claims["room_prefix"] == "Huyện A/" and "room" not in claims and "grants" not in claims
    assert abs(claims["exp"] - (time.time() + 43200)) < 30


@pytest.mark.parametrize("args", [
    [],
    ["--room", "r", "--role", "chair"],                                        # no name
    ["--room", "r", "--room-prefix", "r", "--role", "chair", "--name", "A"],   # both
    ["--room", "r", "--role", "king", "--name", "A"],
    ["--room", "r", "--role", "chair", "--name", "A", "--grants", "fly"],
    ["--room", "r", "--role", "chair", "--name", "A", "--ttl", "-5"],
    ["--room", "r", "--role", "chair", "--name", "A", "--bogus", "x"],
    ["--room", "r", "--role", "chair", "--name"],
])
def test_token_command_bad_arguments_exit_2(args):
    proc = run_token_cmd(*args)
    assert proc.returncode == 2 and "Usage: diemcau token" in proc.stderr, proc
    assert proc.stdout == ""
    assert not any(m in proc.stderr for m in SANITIZER_MARKERS), proc.stderr


def test_token_command_without_secret_exits_1(tmp_path):
    proc = run_token_cmd("--room", "r", "--role", "chair", "--name", "A")
    assert proc.returncode == 1 and "token_secret_file" in proc.stderr and proc.stdout == "", proc
