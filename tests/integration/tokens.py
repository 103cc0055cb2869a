"""Join tokens for the tests (spec of issue 11): HS256 JWTs minted and checked here with
Python's hmac, independently of the server's C code, and development tokens fetched from
a running server's POST /api/dev-token.

    token = mint(secret, {"name": "A", "room": "r", "role": "chair", "exp": now + 60})
    claims = verify(token, secret)                     # raises ValueError when it is not valid
    token = dev_token(base_url, room, name, "delegate")
    fields = join_fields(ws_url, room, name)           # {"room", "name", "token"} for a join

Servers started by the tests run in development mode on loopback, so any test may get a
token for any role with join_fields / dev_token.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10
# Test peers join as officials unless they ask otherwise: publish, subscribe and speak,
# what every participant could do before roles existed.
DEFAULT_ROLE = "official"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if "=" in text:
        raise ValueError("padding in base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(secret, claims, header=None):
    """A compact JWT of claims signed HS256 with secret (bytes). header: a dict to sign
    instead of the standard one (forgeries)."""
    header = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims, ensure_ascii=False).encode())
    mac = hmac.new(secret, signing.encode("ascii"), hashlib.sha256).digest()
    return signing + "." + b64url(mac)


def verify(token, secret, now=None):
    """The claims of an HS256 token signed with secret; ValueError when the header, the
    signature or the expiry is wrong."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not three parts")
    header = json.loads(b64url_decode(parts[0]))
    if header.get("alg") != "HS256":
        raise ValueError(f"alg {header.get('alg')!r}")
    mac = hmac.new(secret, (parts[0] + "." + parts[1]).encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, b64url_decode(parts[2])):
        raise ValueError("bad signature")
    claims = json.loads(b64url_decode(parts[1]))
    if (now if now is not None else time.time()) >= claims["exp"]:
        raise ValueError("expired")
    return claims


def http_base(url):
    """http://host:port of a ws:// URL or of a port number (loopback)."""
    if isinstance(url, int):
        return f"http://127.0.0.1:{url}"
    u = urllib.parse.urlsplit(url)
    return f"{'https' if u.scheme in ('wss', 'https') else 'http'}://{u.netloc}"


def post_json(url, body, timeout=TIMEOUT):
    """(status, parsed JSON body) of a POST; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def dev_token(base_url, room, name, role=DEFAULT_ROLE, site=None, scope=None):
    """A join token from the server's /api/dev-token (development mode). base_url: the
    server's http:// base, a ws:// URL or its HTTP port. scope: a room tree node id (room
    may then be None)."""
    body = {"name": name, "role": role}
    if room is not None:
        body["room"] = room
    if site is not None:
        body["site"] = site
    if scope is not None:
        body["scope"] = scope
    status, reply = post_json(http_base(base_url) + "/api/dev-token", body)
    if status != 200:
        raise RuntimeError(f"/api/dev-token answered {status}: {reply}")
    return reply["token"]


def join_fields(url, room, name, role=DEFAULT_ROLE, site=None):
    """The fields of a join request with a development token for room, name and role."""
    return {"room": room, "name": name, "token": dev_token(url, room, name, role, site)}
