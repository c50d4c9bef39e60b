"""Commands from the page reach Asterisk as AMI `Command` over the bus, and are recorded for Odoo."""

from __future__ import annotations

import asyncio
import json

from services.bus import Entry, keys

from ..ami_gateway.conftest import Running
from .conftest import ConsoleFactory, receive


async def command(ws, line: str, id: int = 1) -> dict:  # type: ignore[no-untyped-def]
    await ws.send(json.dumps({"type": "command", "id": id, "line": line}))
    return await receive(ws, "output")


async def test_a_command_runs_in_asterisk_and_is_recorded_for_odoo(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    cookie = await run.session_cookie(uid=7, login="alice")
    async with run.ws(cookie) as ws:
        hello = await receive(ws, "hello")
        assert hello["user"] == "alice" and hello["history"] == []
        assert hello["asterisk"]["connected"] is True
        answer = await command(ws, "core show version")
    assert answer["ok"] is True
    assert answer["text"].startswith("Asterisk 22.")

    raw = await run.bus.redis.xrange(run.bus.key(keys.TO_ODOO))
    to_odoo = [Entry.from_fields(keys.TO_ODOO, i, f) for i, f in raw]
    recorded = [e for e in to_odoo if e.type == "console.command"]
    assert len(recorded) == 1
    entry = recorded[0]
    assert entry.get("command") == "core show version" and entry.get("status") == "ok"
    assert entry.get("output").startswith("Asterisk 22.")
    assert len(entry.meta["id"]) == 32  # Odoo's dedupe key
    assert (
        entry.meta["uid"] == "7" and entry.meta["user"] == "alice" and entry.meta["server"] == run.bus.server
    )

    # The history is the user's own and comes back in a new session.
    async with run.ws(await run.session_cookie(uid=7, login="alice")) as ws:
        assert (await receive(ws, "hello"))["history"] == ["core show version"]
    async with run.ws(await run.session_cookie(uid=8, login="bob")) as ws:
        assert (await receive(ws, "hello"))["history"] == []


async def test_an_unknown_command_shows_asterisks_answer(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    async with run.session() as (ws, _hello):
        answer = await command(ws, "no such thing")
    assert answer["ok"] is False
    assert "No such command" in answer["text"]


async def test_tab_completion_uses_asterisks_own_matches(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    async with run.session() as (ws, _hello):
        await ws.send(json.dumps({"type": "complete", "id": 1, "line": "core sh"}))
        one = await receive(ws, "matches")
        await ws.send(json.dumps({"type": "complete", "id": 2, "line": "core show "}))
        many = await receive(ws, "matches")
    assert one["word"] == "sh" and one["matches"] == ["show"]
    assert many["word"] == ""
    assert {"version", "uptime", "channels"} <= set(many["matches"])
    # Completion asks Asterisk; it is not a command the user ran, so nothing is recorded.
    to_odoo = await run.bus.redis.xrange(run.bus.key(keys.TO_ODOO))
    assert not [f for _, f in to_odoo if f.get("@type") == "console.command"]
    sent = [f.get("Command") for _, f in await run.bus.redis.xrange(run.bus.key(keys.ACTIONS))]
    assert sent == ['_command matchesarray "core sh" "sh"', '_command matchesarray "core show " ""']


async def test_bad_input_gets_a_clear_message_and_reaches_nobody(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console(console_max_command=50)
    async with run.session() as (ws, _hello):
        replies = []
        for line in ["   ", "x" * 51, "core show version\r\nAction: Originate", "core\x07"]:
            await ws.send(json.dumps({"type": "command", "id": 1, "line": line}))
            replies.append((await receive(ws, "error"))["text"])
        await ws.send("not json")
        replies.append((await receive(ws, "error"))["text"])
        await ws.send(json.dumps({"type": "shell", "line": "ls"}))
        replies.append((await receive(ws, "error"))["text"])
    assert replies == [
        "empty command",
        "command too long (51 characters, at most 50)",
        "control characters are not allowed in a command",
        "control characters are not allowed in a command",
        "unreadable message",
        "unknown message type 'shell'",
    ]
    assert await run.bus.redis.xlen(run.bus.key(keys.ACTIONS)) == 0


async def test_a_flood_of_commands_is_rate_limited_per_session(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console(console_rate_per_s=0.01, console_rate_burst=3)
    async with run.session() as (ws, _hello):
        answers = [await command(ws, "core show uptime", i) for i in range(3)]
        await ws.send(json.dumps({"type": "command", "id": 9, "line": "core show uptime"}))
        refused = await receive(ws, "error")
    assert all(a["ok"] for a in answers)
    assert refused["id"] == 9 and refused["text"].startswith("too many commands: wait")
    # Another session has its own allowance.
    async with run.session() as (ws, _hello):
        assert (await command(ws, "core show uptime"))["ok"] is True


async def test_without_a_gateway_the_page_says_asterisk_not_connected(make_console: ConsoleFactory) -> None:
    run = await make_console(console_command_timeout_s=2)
    async with run.session() as (ws, hello):
        answer = await command(ws, "core show version")
    assert hello["asterisk"]["connected"] is False
    assert answer["ok"] is False
    assert answer["text"] == "Asterisk not connected: the AMI gateway is not running"


async def test_when_asterisk_goes_away_the_page_is_told_and_commands_fail_fast(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    async with run.session() as (ws, hello):
        assert hello["asterisk"]["connected"] is True
        await gateway.peer.stop_listening()
        gateway.peer.drop_connections()
        status = await receive(ws, "status")
        answer = await command(ws, "core show version")
    assert status["asterisk"]["connected"] is False
    assert answer["ok"] is False and answer["text"].startswith("Asterisk not connected")


async def test_the_event_pane_streams_events_matching_its_filter(
    make_console: ConsoleFactory, gateway: Running
) -> None:
    run = await make_console()
    async with run.session() as (ws, _hello):
        await ws.send(json.dumps({"type": "events", "on": True, "filter": "hangup"}))
        await asyncio.sleep(0.3)  # the pane reads from the stream's end on
        for name in ["Newchannel", "Hangup", "VarSet", "Hangup"]:
            await run.bus.publish(keys.EVENTS, {"Event": name, "Channel": "PJSIP/101-1"}, type="event")
        first = await receive(ws, "event")
        second = await receive(ws, "event")
    assert [first["headers"]["Event"], second["headers"]["Event"]] == ["Hangup", "Hangup"]
