"""A WebSocket client on a raw socket, for tests that must send what a proper client
library never would: odd upgrade headers, unmasked frames, lying frame lengths.

    s, status, headers = upgrade(port, headers={"Sec-WebSocket-Version": "99"})
    s.sendall(frame(0x1, b'{"type":"ping","id":1}'))
    opcode, payload = read_frame(s)
"""

import base64
import os
import socket
import struct


def _read_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def upgrade(port, path="/ws", headers=None, omit=(), timeout=5.0, sock=None):
    """Sends an upgrade request (a valid one, changed by `headers` and `omit`) and reads the
    response head. Returns (socket, status, {lower-case name: value}); status is None when
    the server closed without answering."""
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=timeout)
    h = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), "Sec-WebSocket-Version": "13"}
    h.update(headers or {})
    for name in omit:
        h.pop(name, None)
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    s.sendall(request.encode())
    try:
        head = _read_until(s, b"\r\n\r\n")
    except ConnectionResetError:
        head = b""
    if not head:
        return s, None, {}
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return s, status, fields


def frame(opcode, payload, mask=True, fin=True, announced_length=None):
    """One client frame; `announced_length` puts another length in the header than the
    payload has (the payload is sent as given)."""
    n = len(payload) if announced_length is None else announced_length
    head = bytes([(0x80 if fin else 0) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 1 << 16:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_frame(sock):
    """(opcode, payload) of the next server frame (servers do not mask)."""
    b0, b1 = _recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _recv_exact(sock, 8))[0]
    return b0 & 0x0F, _recv_exact(sock, n)


def read_until_close(sock):
    """Reads frames until a close frame; returns (its close code or None, [text payloads
    before it]). Raises ConnectionError if the TCP connection ends without a close frame."""
    texts = []
    while True:
        opcode, payload = read_frame(sock)
        if opcode == 0x8:
            return (struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None), texts
        if opcode == 0x1:
            texts.append(payload.decode())
