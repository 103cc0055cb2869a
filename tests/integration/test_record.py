"""The meeting record across a SIGKILL, read back through the admin HTTP API and
`diemcau export` (PROTOCOL.md "Admin HTTP API", signaling/record.c).

A real server keeps its record in a temporary folder; a chair and two delegates join over
WebSockets with signed tokens (names, sites, roles), a delegate raises a hand, the chair
grants the floor, both chat, the other delegate leaves. Right after the last `ok` the
server is SIGKILLed and started again on the same record. Everything that was
acknowledged must be there: the attendance (the killed participants' leave time is the
meeting's last recorded row, reason `server_stopped`, which record.c writes when it opens a
record with a meeting left open) and the event log (floor grant, chat text), identical over
HTTP (JSON and CSV) and from the command.

    DIEMCAU_BIN=build/diemcau bash tests/run-in-netns.sh /usr/bin/python3 -m pytest -v tests/integration/test_record.py
"""

import csv
import datetime
import io
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import tokens
from server_process import DiemcauServer, server_binary
from test_signaling import Client, room_name, run

SECRET = b"record-test-secret-0123456789-abcdefghijklmnop"
ADMIN = "admin-credential-7f3a9c0e5b1d"
TIMEOUT = 10

CHAIR = {"name": "Nguyễn Văn An", "site": "UBND tỉnh", "role": "chair"}
SPEAKER = {"name": "Trần Thị Bích", "site": "Xã Đông Hòa", "role": "delegate"}
LEAVER = {"name": "Lê Văn Cường, \"Tổ 3\"", "site": "Xã Tây Sơn", "role": "delegate"}
CHAT_SPEAKER = "Báo cáo, số 1:\n\"đủ quân số\""
CHAT_CHAIR = "=Cảm ơn xã Đông Hòa"  # looks like a spreadsheet formula: CSV must defuse it


def write_config(tmp_path, **keys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"token_secret": SECRET.decode(), **keys}))
    return str(path)


def start_server(config, record):
    srv = DiemcauServer(extra_args=["--config", config, "--record", record])
    srv.start()
    return srv


def stop_cleanly(srv):
    alive = srv.alive()
    code = srv.stop()
    assert alive, f"the server exited during the test:\n{srv.output()[-4000:]}"
    assert code == 0 and not srv.sanitizer_reports(), srv.output()[-8000:]


def admin_get(srv, path, credential=ADMIN):
    """(status, headers, body bytes) of a GET under /admin; HTTP errors are returned."""
    headers = {"Authorization": f"Bearer {credential}"} if credential is not None else {}
    req = urllib.request.Request(f"http://127.0.0.1:{srv.http_port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def admin_json(srv, path):
    status, headers, body = admin_get(srv, path)
    assert status == 200, (path, status, body)
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


def admin_csv(srv, path, filename):
    """The rows of a CSV export as dicts, after checking its headers."""
    status, headers, body = admin_get(srv, path)
    assert status == 200, (path, status, body)
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def export_cmd(*args):
    proc = subprocess.run([server_binary(), "export", *args], capture_output=True, timeout=30)
    return proc.returncode, proc.stdout, proc.stderr.decode()


def ms(iso):
    """ms since the epoch of an export's "2026-12-07T08:00:01.000Z"."""
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000)


def now_ms():
    return time.time_ns() // 1_000_000  # truncated like the server's clock: never ahead of it


async def join(srv, room, person, sub):
    c = await Client.open(srv)
    token = tokens.mint(SECRET, {"sub": sub, "room": room, "exp": int(time.time()) + 600, **person})
    r = await c.call("join", room=room, name=person["name"], token=token)
    assert r["type"] == "ok", r
    return c, r["participant_id"]


async def meeting(srv, room):
    """The scripted meeting; returns the participant ids and the wall-clock window of each
    acknowledged action (before the request, after its ok)."""
    ids, when = {}, {}
    clients = {}
    for key, person in (("chair", CHAIR), ("speaker", SPEAKER), ("leaver", LEAVER)):
        t = now_ms()
        clients[key], ids[key] = await join(srv, room, person, f"sub-{key}")
        when[f"join_{key}"] = (t, now_ms())
    chair, speaker, leaver = clients["chair"], clients["speaker"], clients["leaver"]

    async def acknowledged(name, client, type_, **fields):
        t = now_ms()
        r = await client.call(type_, **fields)
        assert r["type"] == "ok", (type_, r)
        when[name] = (t, now_ms())

    await acknowledged("hand", speaker, "raise_hand")
    await acknowledged("grant", chair, "grant_floor", participant_id=ids["speaker"], seconds=120)
    await acknowledged("chat_speaker", speaker, "chat", text=CHAT_SPEAKER)
    await acknowledged("leave", leaver, "leave")
    await acknowledged("chat_chair", chair, "chat", text=CHAT_CHAIR, to="chair")
    return clients, ids, when


def within(iso, window):
    return window[0] <= ms(iso) <= window[1]


def test_record_survives_sigkill_and_exports_every_acknowledged_action(tmp_path):
    config = write_config(tmp_path, admin_token=ADMIN)
    record = str(tmp_path / "record" / "meeting.sqlite")
    room = room_name()

    srv = start_server(config, record)
    try:
        async def scenario():
            clients, ids, when = await meeting(srv, room)
            # killed right after the last ok: nothing gets a chance to be flushed later
            srv.proc.send_signal(signal.SIGKILL)
            killed_at = now_ms()
            srv.proc.wait(TIMEOUT)
            for c in clients.values():
                await c.ws.close()
            return ids, when, killed_at

        ids, when, killed_at = run(scenario())
    finally:
        srv.stop()
    assert srv.returncode == -signal.SIGKILL

    srv = start_server(config, record)
    try:
        meetings = [m for m in admin_json(srv, "/admin/meetings") if m["room"] == room]
        assert len(meetings) == 1, meetings
        m = meetings[0]
        mid = m["meeting_id"]
        # closed at the restart with the time of its last recorded row (the chair's chat)
        assert m["end_reason"] == "server_stopped" and m["joins"] == 3 and m["people"] == 3, m
        assert within(m["started_utc"], when["join_chair"])
        assert within(m["ended_utc"], when["chat_chair"]) and ms(m["ended_utc"]) <= killed_at

        # ---- attendance -----------------------------------------------------------------
        attendance = admin_json(srv, f"/admin/meetings/{mid}/attendance.json")
        by_id = {a["participant_id"]: a for a in attendance}
        assert sorted(by_id) == sorted(ids.values()), attendance
        for key, person in (("chair", CHAIR), ("speaker", SPEAKER), ("leaver", LEAVER)):
            a = by_id[ids[key]]
            assert (a["name"], a["site"], a["role"], a["user_id"]) == (
                person["name"], person["site"], person["role"], f"sub-{key}"), a
            assert within(a["joined_utc"], when[f"join_{key}"]), (key, a, when)
        assert by_id[ids["leaver"]]["leave_reason"] == "left"
        assert within(by_id[ids["leaver"]]["left_utc"], when["leave"])
        for key in ("chair", "speaker"):  # in the meeting when it was killed
            a = by_id[ids[key]]
            assert a["leave_reason"] == "server_stopped" and a["left_utc"] == m["ended_utc"], a

        # ---- event log ------------------------------------------------------------------
        events = admin_json(srv, f"/admin/meetings/{mid}/events.json")
        kinds = [e["kind"] for e in events]
        # server_stopped has the time of the last chat line and comes after it
        assert kinds == ["hand_raised", "floor_granted", "chat", "chat", "server_stopped"], events
        hand = next(e for e in events if e["kind"] == "hand_raised")
        assert hand["actor"] == ids["speaker"] and within(hand["time_utc"], when["hand"])
        grant = next(e for e in events if e["kind"] == "floor_granted")
        assert (grant["actor"], grant["actor_name"], grant["target"], grant["target_name"]) == (
            ids["chair"], CHAIR["name"], ids["speaker"], SPEAKER["name"]), grant
        assert within(grant["time_utc"], when["grant"])
        chats = [e for e in events if e["kind"] == "chat"]
        assert [(c["actor"], c["to"], c["text"]) for c in chats] == [
            (ids["speaker"], "all", CHAT_SPEAKER), (ids["chair"], "chair", CHAT_CHAIR)], chats
        assert within(chats[0]["time_utc"], when["chat_speaker"]) and within(chats[1]["time_utc"], when["chat_chair"])

        # ---- the same in CSV --------------------------------------------------------------
        attendance_csv, rows = admin_csv(srv, f"/admin/meetings/{mid}/attendance.csv",
                                         f"meeting-{mid}-attendance.csv")
        assert [{k: ("" if v is None else str(v)) for k, v in a.items()} for a in attendance] == rows
        events_csv, rows = admin_csv(srv, f"/admin/meetings/{mid}/events.csv", f"meeting-{mid}-events.csv")
        assert [r["kind"] for r in rows] == kinds
        assert [r["text"] for r in rows if r["kind"] == "chat"] == [CHAT_SPEAKER, "'" + CHAT_CHAIR]

        # ---- the export command, beside the running server ---------------------------------
        for args, want in ((["--meeting", str(mid)], attendance), (["--room", room, "--what", "events"], events)):
            code, out, err = export_cmd(*args, "--config", config, "--record", record)
            assert code == 0, err
            assert json.loads(out) == want
        for what, body in (("attendance", attendance_csv), ("events", events_csv)):
            code, out, err = export_cmd("--room", room, "--what", what, "--format", "csv", "--record", record)
            assert code == 0, err
            assert out == body  # byte for byte what the HTTP API sends
    finally:
        stop_cleanly(srv)


def test_admin_credential_is_required(tmp_path):
    config = write_config(tmp_path, admin_token=ADMIN)
    srv = start_server(config, str(tmp_path / "record.sqlite"))
    try:
        for path in ("/admin/meetings", "/admin/meetings/1/attendance.csv", "/admin/nothing"):
            for credential in (None, "", "wrong", ADMIN + "x", ADMIN[:-1]):
                status, _, body = admin_get(srv, path, credential)
                assert status == 401 and json.loads(body)["error"] == "unauthorized", (path, credential, body)
        status, _, body = admin_get(srv, "/admin/meetings/999/attendance.json")
        assert status == 404 and json.loads(body)["error"] == "no_such_meeting", body
        status, _, body = admin_get(srv, "/admin/meetings")
        assert status == 200 and json.loads(body) == []
    finally:
        stop_cleanly(srv)


def test_admin_api_is_off_without_a_credential(tmp_path):
    srv = start_server(write_config(tmp_path), str(tmp_path / "record.sqlite"))
    try:
        status, _, body = admin_get(srv, "/admin/meetings")
        assert status == 404 and "admin_token_file" in json.loads(body)["message"], body
    finally:
        stop_cleanly(srv)


def test_export_command_errors(tmp_path):
    record = str(tmp_path / "record.sqlite")
    code, _, err = export_cmd("--meeting", "1", "--record", str(tmp_path / "missing.sqlite"))
    assert code == 1 and "No such file" in err, err
    (tmp_path / "notes.txt").write_text("not a database at all, not even close to one")
    code, _, err = export_cmd("--meeting", "1", "--record", str(tmp_path / "notes.txt"))
    assert code == 1 and "not a meeting record" in err, err
    srv = start_server(write_config(tmp_path), record)  # creates an empty record
    stop_cleanly(srv)
    code, out, err = export_cmd("--meeting", "7", "--record", record)
    assert code == 1 and "no meeting 7" in err and out == b"", err
    code, _, err = export_cmd("--room", "nowhere", "--record", record)
    assert code == 1 and "no meeting in room" in err, err
    code, out, _ = export_cmd("--what", "meetings", "--record", record)
    assert code == 0 and json.loads(out) == []
    code, _, err = export_cmd("--meeting", "1", "--room", "x", "--record", record)
    assert code == 2 and "Usage" in err
    code, _, err = export_cmd("--meeting", "1", "--format", "xml", "--record", record)
    assert code == 2 and "--format" in err
