"""Generators of bad input for the garbage tests: datagrams for the media port and
malformed WebSocket messages. Deterministic for a given seed."""

import hmac
import json
import random
import socket
import struct
import time
import zlib

STUN_MAGIC = 0x2112A442


# ---- STUN ------------------------------------------------------------------------------

def _stun_attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def stun_binding_request(rng, username, key, controlling=True, with_fingerprint=True):
    """A well-formed ICE binding request; MESSAGE-INTEGRITY computed with `key`
    (give a wrong key to get a request the server must refuse)."""
    tid = rng.randbytes(12)
    attrs = _stun_attr(0x0006, username.encode())                      # USERNAME
    attrs += _stun_attr(0x0024, struct.pack("!I", rng.getrandbits(32)))  # PRIORITY
    if controlling:
        attrs += _stun_attr(0x802A, rng.randbytes(8))                   # ICE-CONTROLLING
        attrs += _stun_attr(0x0025, b"")                                # USE-CANDIDATE
    else:
        attrs += _stun_attr(0x8029, rng.randbytes(8))                   # ICE-CONTROLLED
    # MESSAGE-INTEGRITY over the header with the length including MI itself.
    hdr = struct.pack("!HHI", 0x0001, len(attrs) + 24, STUN_MAGIC) + tid
    mi = hmac.new(key, hdr + attrs, "sha1").digest()
    attrs += _stun_attr(0x0008, mi)
    if with_fingerprint:
        hdr = struct.pack("!HHI", 0x0001, len(attrs) + 8, STUN_MAGIC) + tid
        crc = (zlib.crc32(hdr + attrs) ^ 0x5354554E) & 0xFFFFFFFF
        attrs += _stun_attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", 0x0001, len(attrs), STUN_MAGIC) + tid + attrs


def stun_garbage(rng, username):
    """Valid-looking STUN headers with broken bodies: truncated, lying lengths,
    wrong-key integrity, attributes overrunning the message, odd message types."""
    kind = rng.randrange(8)
    good = stun_binding_request(rng, username, rng.randbytes(22), rng.random() < 0.5)
    if kind == 0:                                   # truncated anywhere
        return good[:rng.randrange(0, len(good))]
    if kind == 1:                                   # wrong key, otherwise perfect
        return good
    if kind == 2:                                   # header length larger than data
        return good[:2] + struct.pack("!H", len(good) + rng.randrange(4, 2000)) + good[4:]
    if kind == 3:                                   # attribute length overruns message
        tid = rng.randbytes(12)
        attr = struct.pack("!HH", rng.choice([0x0006, 0x0008, 0x8028, 0x0024, 0x802A]),
                           rng.randrange(100, 65535)) + rng.randbytes(rng.randrange(0, 32))
        return struct.pack("!HHI", 0x0001, len(attr), STUN_MAGIC) + tid + attr
    if kind == 4:                                   # header only, maybe short
        tid = rng.randbytes(12)
        return (struct.pack("!HHI", rng.choice([0x0001, 0x0101, 0x0111, 0x0011, 0x3FFF]),
                            rng.randrange(0, 200) * 4, STUN_MAGIC) + tid)[:rng.randrange(1, 21)]
    if kind == 5:                                   # short MESSAGE-INTEGRITY
        tid = rng.randbytes(12)
        attrs = _stun_attr(0x0006, username.encode()) + struct.pack("!HH", 0x0008, 20) + rng.randbytes(rng.randrange(0, 20))
        return struct.pack("!HHI", 0x0001, len(attrs), STUN_MAGIC) + tid + attrs
    if kind == 6:                                   # random attributes, consistent lengths
        tid = rng.randbytes(12)
        attrs = b"".join(_stun_attr(rng.getrandbits(16), rng.randbytes(rng.randrange(0, 40)))
                         for _ in range(rng.randrange(1, 12)))
        return struct.pack("!HHI", rng.choice([0x0001, 0x0101, 0x0111]), len(attrs), STUN_MAGIC) + tid + attrs
    # binding response / error response claiming to answer nothing we sent
    tid = rng.randbytes(12)
    attrs = _stun_attr(0x0020, rng.randbytes(8)) + _stun_attr(0x0009, rng.randbytes(rng.randrange(4, 40)))
    return struct.pack("!HHI", rng.choice([0x0101, 0x0111]), len(attrs), STUN_MAGIC) + tid + attrs


# ---- DTLS ------------------------------------------------------------------------------

def dtls_garbage(rng):
    ctype = rng.choice([20, 21, 22, 23, 22, 22, rng.randrange(20, 64)])
    version = rng.choice([b"\xfe\xfd", b"\xfe\xff", b"\x03\x03", rng.randbytes(2)])
    epoch = rng.choice([0, 1, rng.getrandbits(16)])
    seq = rng.getrandbits(48).to_bytes(6, "big")
    if ctype == 22 and rng.random() < 0.7:
        # handshake header: type, length(3), message_seq, frag_offset(3), frag_len(3)
        htype = rng.choice([1, 2, 11, 12, 14, 15, 16, 20, rng.randrange(256)])
        total = rng.randrange(0, 1 << 24)
        off = rng.randrange(0, 1 << 24)
        flen = rng.randrange(0, 1 << 12)
        body = (bytes([htype]) + total.to_bytes(3, "big") + struct.pack("!H", rng.getrandbits(16))
                + off.to_bytes(3, "big") + flen.to_bytes(3, "big")
                + rng.randbytes(rng.randrange(0, 300)))
    else:
        body = rng.randbytes(rng.randrange(0, 600))
    length = rng.choice([len(body), rng.randrange(0, 65536), len(body) + 1, max(0, len(body) - 1)])
    rec = bytes([ctype]) + version + struct.pack("!H", epoch) + seq + struct.pack("!H", length) + body
    if rng.random() < 0.3:                          # several records, the last cut short
        rec += rec[:rng.randrange(1, len(rec))]
    if rng.random() < 0.2:
        rec = rec[:rng.randrange(1, 13)]
    return rec


# ---- RTP / RTCP ------------------------------------------------------------------------

def rtp_garbage(rng, ssrcs=()):
    b0 = rng.choice([0x80, 0x90, 0x80, 0x90, 0xA0, 0xB0, 0x8F, 0x9F])
    pt = rng.choice([96, 102, 111, 0, 127, rng.randrange(128)]) | (0x80 if rng.random() < 0.3 else 0)
    ssrc = rng.choice(list(ssrcs)) if ssrcs and rng.random() < 0.5 else rng.getrandbits(32)
    pkt = struct.pack("!BBHII", b0, pt, rng.getrandbits(16), rng.getrandbits(32), ssrc)
    pkt += b"".join(struct.pack("!I", rng.getrandbits(32)) for _ in range(b0 & 0x0F))  # CSRCs
    if b0 & 0x10:                                   # header extension, maybe lying length
        profile = rng.choice([0xBEDE, 0x1000, rng.getrandbits(16)])
        words = rng.randrange(0, 8)
        claimed = rng.choice([words, words + rng.randrange(1, 500), 0xFFFF])
        pkt += struct.pack("!HH", profile, claimed) + rng.randbytes(words * 4)
    pkt += rng.randbytes(rng.randrange(0, 1300))
    if b0 & 0x20 and rng.random() < 0.5:             # padding count beyond the payload
        pkt += bytes([rng.randrange(1, 256)])
    if rng.random() < 0.3:
        pkt = pkt[:rng.randrange(1, len(pkt))]
    return pkt


def rtcp_garbage(rng, ssrcs=()):
    out = b""
    for _ in range(rng.randrange(1, 5)):
        count = rng.randrange(32)
        pt = rng.choice([200, 201, 202, 203, 204, 205, 206, 207, rng.randrange(192, 224)])
        body = rng.randbytes(rng.randrange(0, 200))
        if ssrcs and rng.random() < 0.5:
            body = struct.pack("!I", rng.getrandbits(32)) + struct.pack("!I", rng.choice(list(ssrcs))) + body
        length = rng.choice([len(body) // 4, rng.randrange(0, 65536), len(body) // 4 + 5])
        out += struct.pack("!BBH", 0x80 | count | (0x20 if rng.random() < 0.1 else 0), pt, length) + body
    if rng.random() < 0.3:
        out = out[:rng.randrange(1, len(out))]
    return out


def random_datagram(rng):
    n = rng.choice([0, 1, 2, 3, 4, 11, 12, 13, 19, 20, 21, rng.randrange(0, 1500),
                    rng.randrange(1500, 9000)])
    return rng.randbytes(n)


def datagram(rng, username, ssrcs):
    r = rng.random()
    if r < 0.25:
        return random_datagram(rng)
    if r < 0.45:
        return stun_garbage(rng, username)
    if r < 0.6:
        return dtls_garbage(rng)
    if r < 0.85:
        return rtp_garbage(rng, ssrcs)
    return rtcp_garbage(rng, ssrcs)


def udp_flood(port, count, sockets, seed, username="x:y", ssrcs=(), burst=50, pause=0.01,
              host="127.0.0.1", time_limit=60.0):
    """Send `count` bad datagrams to host:port from `sockets` fresh UDP sockets (new
    5-tuples), paced in bursts. Drains whatever the server answers. Returns the number
    of datagrams sent and of replies received."""
    rng = random.Random(seed)
    socks = []
    sent = replies = 0
    try:
        for _ in range(sockets):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            s.setblocking(False)
            socks.append(s)
        # A few big ones: a server reading into a small buffer must cope with MSG_TRUNC.
        for s in socks[:2]:
            for n in (9000, 65000):
                s.sendto(rng.randbytes(n), (host, port))
                sent += 1
        i = 0
        deadline = time.monotonic() + time_limit
        while sent < count and time.monotonic() < deadline:
            s = socks[i % len(socks)]
            i += 1
            try:
                s.sendto(datagram(rng, username, ssrcs), (host, port))
                sent += 1
            except (BlockingIOError, InterruptedError, ConnectionRefusedError):
                time.sleep(0.001)
            if i % burst == 0:
                for s2 in socks:
                    while True:
                        try:
                            s2.recv(65536)
                            replies += 1
                        except (BlockingIOError, InterruptedError, ConnectionRefusedError):
                            break
                time.sleep(pause)
    finally:
        for s in socks:
            s.close()
    return sent, replies


# ---- WebSocket -------------------------------------------------------------------------

def malformed_messages(rng):
    """A list of (kind, payload) with kind "text" or "binary"; all < 64 KiB."""
    deep = "[" * 3000 + "]" * 3000
    deep_obj = '{"a":' * 3000 + "1" + "}" * 3000
    msgs = [
        "", " ", "{", "}", "[]", "null", "123", '"str"', "true", '{"type":', "{'type':'ping'}",
        '{"type":"ping","id":1', '{"type":"ping","id":1}}', "\x00\x01\x02", "{\"type\":\"ping\"\x00}",
        '{"type":"\\ud800","id":1}', '{"type":"ping","id":"\\u0000"}', deep, deep_obj,
        '{"type":5}', '{"type":null}', '{"type":["ping"]}', '{"type":{"a":1}}', '{"no_type":1}',
        '{"type":"hello","id":1}', '{"type":"__proto__","id":2}', '{"type":"' + "x" * 5000 + '","id":3}',
        '{"type":"OK","id":4}', '{"type":"error","id":5,"code":"x"}', '{"type":"subscribe_offer","sdp":"v=0"}',
        '{"type":"join"}', '{"type":"join","id":6,"room":123,"name":[]}', '{"type":"join","id":7,"room":"","name":"x"}',
        '{"type":"join","id":8,"room":"a\\u0001b","name":"x"}', '{"type":"join","id":9,"room":"' + "r" * 65 + '","name":"x"}',
        '{"type":"join","id":10,"room":"ok","name":"' + "n" * 1000 + '"}', '{"type":"join","id":11,"room":"ok","name":"   "}',
        '{"type":"join","id":12,"room":"ok","name":null,"token":5}',
        '{"type":"publish","id":13,"sdp":7}', '{"type":"publish","id":14,"sdp":"v=0\\r\\n"}',
        '{"type":"publish","id":15}', '{"type":"subscribe_answer","id":16,"version":"x","sdp":null}',
        '{"type":"subscribe_answer","id":17,"version":-1,"sdp":"garbage"}',
        '{"type":"subscribe_answer","id":18,"version":1e308,"sdp":""}',
        '{"type":"candidate","pc":"nope","candidate":5}', '{"type":"candidate","pc":"publish","candidate":{"candidate":7}}',
        '{"type":"candidate","pc":"subscribe","candidate":{"candidate":"candidate:x","sdpMLineIndex":-5,"sdpMid":{}}}',
        '{"type":"mute","id":19,"kind":"smell","muted":"yes"}', '{"type":"mute","id":20,"kind":"audio"}',
        '{"type":"leave","id":{"a":1}}', '{"type":"resume","id":21,"resume_token":"' + "A" * 1000 + '"}',
        '{"type":"resume","id":22,"resume_token":5}', '{"type":"ping","id":{"a":1}}', '{"type":"ping","id":[1,2]}',
        '{"type":"ping","id":1e400}', '{"type":"ping","id":' + "9" * 400 + "}", '{"type":"ping","id":-0.5}',
        '{"type":"ping","id":true}', '{"type":"ping","id":null}', '{"type":"ping","type":"join","id":23}',
        json.dumps({"type": "ping", "id": "x" * 30000}),
        json.dumps({"type": "publish", "id": 24, "sdp": "v=0\r\n" + "a=" + "z" * 20000 + "\r\n"}),
        json.dumps({"type": "join", "id": 25, "room": "ok", "name": "\u0000\u202e\ufeff"}),
    ]
    out = [("text", m) for m in msgs]
    for _ in range(10):
        out.append(("text", rng.randbytes(rng.randrange(1, 400)).decode("latin-1")))
        out.append(("binary", rng.randbytes(rng.randrange(0, 2000))))
    out.append(("binary", b'{"type":"ping","id":99}'))
    # random mutations of a valid message
    base = '{"type":"join","id":1,"room":"abc","name":"Nguyễn"}'
    for _ in range(20):
        b = list(base)
        for _ in range(rng.randrange(1, 5)):
            b[rng.randrange(len(b))] = chr(rng.randrange(32, 0x3000))
        out.append(("text", "".join(b)))
    return out


def garbage_sdp(rng, offer_sdp):
    """A few broken variants of a real offer."""
    lines = offer_sdp.split("\r\n")
    variants = [
        "\r\n".join(lines[: rng.randrange(1, len(lines))]),            # truncated
        offer_sdp.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP"),
        offer_sdp.replace("a=fingerprint:sha-256", "a=fingerprint:md5"),
        offer_sdp.replace("a=ice-ufrag:", "a=ice-ufrag"),
        offer_sdp.replace("m=video 9", "m=video 99999999999"),
        offer_sdp.replace("a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8/"),
        "\r\n".join(rng.sample(lines, len(lines))),                    # shuffled
        offer_sdp.replace("\r\n", "\n"),
        offer_sdp + "m=video 9 UDP/TLS/RTP/SAVPF " + " ".join(str(i) for i in range(96, 128)) + "\r\n",
        "v=0\r\n" + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" * 60,
    ]
    return variants
