"""An entry on `actions` that hides a second action, or more than the allowlist checked, is refused with a
reason and nothing of it reaches Asterisk: the AMI peer's record of what arrived on the wire says so."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from peers.ami_peer import AmiPeer
from services.ami.codec import first
from services.bus import Requester, deadline_after
from tests.ami_gateway.conftest import Running, gateway_settings, start_gateway, wait_logged_in

ORIGINATE = "Action: Originate\r\nChannel: Local/s@default\r\nApplication: System\r\nData: touch /tmp/pwned"


@contextlib.asynccontextmanager
async def own_gateway(
    redis_url: str, prefix: str, **overrides: object
) -> AsyncIterator[tuple[AmiPeer, Requester]]:
    """A peer and a gateway with settings of the test's own."""
    peer = await AmiPeer(login_failure_delay=0.05).start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port, **overrides), peer)
    requester = Requester(run.bus, "tests")
    try:
        await wait_logged_in(peer)
        yield peer, requester
    finally:
        await requester.close()
        await run.halt()
        await peer.stop()


@pytest.fixture
async def requester(running: Running):  # type: ignore[no-untyped-def]
    requester = Requester(running.bus, "tests")
    yield requester
    await requester.close()


def from_the_bus(frames: list) -> list:
    """Frames but the gateway's own keepalive Ping and CoreSettings (panoramisk's `action/...` ActionIDs),
    which come at any time; a smuggled frame has no ActionID and counts."""
    return [f for f in frames if not first(f, "ActionID").startswith("action/")]


def actions_on_the_wire(running: Running, since: int) -> list[str]:
    """Each frame the peer read since `since`, as its Action headers (all of them, whatever their case)."""
    return [
        "+".join(value.lower() for name, value in frame if name.lower() == "action")
        for frame in from_the_bus(running.peer.actions_received[since:])
    ]


async def still_pings(requester: Requester) -> None:
    # The gateway's AMI session survived: a plain Ping still goes through.
    reply = await requester.request("actions", {"Action": "Ping"}, timeout=5.0)
    assert reply.meta["status"] == "ok" and reply.get("Ping") == "Pong"


@pytest.mark.parametrize(
    "name",
    [
        f"X-Pad: 1\r\n\r\n{ORIGINATE}\r\nX-End",  # a whole second frame behind the Ping
        f"X-Pad: 1\n\n{ORIGINATE}\nX-End",  # lone LFs, which Asterisk reads as line ends too
        f"X-Pad\r\n{ORIGINATE.splitlines()[0]}",  # one more header line inside the Ping's own frame
    ],
    ids=["crlf-frame", "lf-frame", "crlf-header"],
)
async def test_a_line_break_in_a_header_name_cannot_smuggle_an_originate_behind_a_ping(
    running: Running, requester: Requester, name: str
) -> None:
    before = len(running.peer.actions_received)
    reply = await requester.request("actions", [("Action", "Ping"), (name, "1")], timeout=5.0)
    await still_pings(requester)
    assert not any("originate" in str(frame).lower() for frame in running.peer.actions_received)
    assert actions_on_the_wire(running, before) == ["ping"]  # only the later, honest Ping
    assert reply.meta["status"] == "error"
    assert "header name" in reply.meta["error"] and "not an AMI token" in reply.meta["error"]


@pytest.mark.parametrize(
    "name",
    ["X Pad", "X:Pad", "Chan\x00nel", "Kanäle", " Action", "Data.x"],
    ids=["space", "colon", "nul", "non-ascii", "leading-space", "dot"],
)
async def test_a_header_name_that_is_not_an_ami_token_is_refused(
    running: Running, requester: Requester, name: str
) -> None:
    before = len(running.peer.actions_received)
    reply = await requester.request("actions", [("Action", "Ping"), (name, "1")], timeout=5.0)
    assert reply.meta["status"] == "error" and "not an AMI token" in reply.meta["error"]
    assert actions_on_the_wire(running, before) == []


@pytest.mark.parametrize("second", ["action", "ACTION", "Action"])
async def test_a_second_action_header_in_any_case_is_refused_not_sent(
    running: Running, requester: Requester, second: str
) -> None:
    before = len(running.peer.actions_received)
    # ("Action", "Logoff") twice in a row travels as `Action` + `Action#2`, the bus's repeated header.
    reply = await requester.request("actions", [("Action", "Ping"), (second, "Logoff")], timeout=5.0)
    await wait_logged_in(running.peer)  # a gateway logged off by a smuggled Logoff logs in again
    await still_pings(requester)
    assert not any("logoff" in frame for frame in actions_on_the_wire(running, before))
    assert actions_on_the_wire(running, before) == ["ping"]
    assert reply.meta["status"] == "error"
    assert reply.meta["error"] == f"malformed request: more than one Action header (Action, {second})"


async def test_a_repeated_action_written_raw_on_the_stream_is_refused(
    running: Running, requester: Requester
) -> None:
    """Whatever a bus writer puts in the fields: `Action#2`, `action#2`, `Action#x` all come back refused."""
    await requester.start()
    before = len(running.peer.actions_received)
    variants = {
        "r1": {"Action": "Ping", "Action#2": "Logoff"},
        "r2": {"Action": "Ping", "action#2": "Logoff"},
        "r3": {"Action#2": "Logoff", "Action": "Ping"},
        "r4": {"Action": "Ping", "Action#x": "Logoff"},
    }
    for rid, headers in variants.items():
        fields = {
            "@type": "action",
            "@id": rid,
            "@reply_to": requester.stream,
            "@deadline": deadline_after(5),
            **headers,
        }
        await running.bus.redis.xadd(running.bus.key("actions"), fields)
    answers: dict[str, dict[str, str]] = {}
    for _ in range(250):
        for _, f in await running.bus.redis.xrange(running.bus.key(requester.stream)):
            if f.get("@id") in variants:
                answers[f["@id"]] = f
        if len(answers) == len(variants):
            break
        await asyncio.sleep(0.02)
    assert set(answers) == set(variants)
    assert all(a["@status"] == "error" for a in answers.values()), answers
    assert "more than one Action header" in answers["r1"]["@error"]
    assert "not an AMI token" in answers["r2"]["@error"]  # `action#2` is no repeat of `Action`: a bad name
    assert all(a["@error"] for a in answers.values())
    await still_pings(requester)
    assert actions_on_the_wire(running, before) == ["ping"]


async def test_an_action_over_the_size_limit_is_refused(redis_url: str, prefix: str) -> None:
    async with own_gateway(redis_url, prefix, gateway_max_action_bytes=2000) as (peer, requester):
        before = len(peer.actions_received)
        padded = {"Action": "Command", "Command": "core show uptime", "X-Pad": ["y" * 100] * 30}
        big = await requester.request("actions", padded, timeout=5.0)
        fits = await requester.request(
            "actions", {"Action": "Command", "Command": "core show version"}, timeout=5.0
        )
        assert [first(f, "Command") for f in from_the_bus(peer.actions_received[before:])] == [
            "core show version"
        ]
        assert big.meta["status"] == "error"
        assert big.meta["error"].startswith("action Command is too large: ")
        assert "GATEWAY_MAX_ACTION_BYTES = 2000" in big.meta["error"]
        assert fits.meta["status"] == "ok"


async def test_a_header_line_longer_than_asterisk_reads_is_refused(
    running: Running, requester: Requester
) -> None:
    """An older Asterisk reads the tail of an over-long line as a line of its own: a header of its own."""
    before = len(running.peer.actions_received)
    tail = "\tAction: Originate"  # what the tail would be, read alone (no line break: those are refused)
    reply = await requester.request(
        "actions", {"Action": "Command", "Command": "x" * 1010 + tail}, timeout=5.0
    )
    assert actions_on_the_wire(running, before) == []
    assert reply.meta["status"] == "error"
    assert reply.meta["error"] == (
        "action Command refused: header Command makes a line of 1039 bytes, Asterisk reads at most 1024"
    )


@pytest.mark.parametrize("action", ["GetConfig", "GetConfigJSON", "getconfig"])
@pytest.mark.parametrize(
    "filename", ["../../../etc/passwd", "/etc/shadow", "sub/manager.conf", "..", "a..b.conf", "x\\..\\y"]
)
async def test_getconfig_outside_the_conf_directory_is_refused(
    running: Running, requester: Requester, action: str, filename: str
) -> None:
    """CVE-2023-49294: GetConfig of an older Asterisk reads any file its user can, given a path."""
    before = len(running.peer.actions_received)
    reply = await requester.request("actions", {"Action": action, "Filename": filename}, timeout=5.0)
    assert reply.meta["status"] == "error"
    assert reply.meta["error"] == (
        f"action {action} refused: Filename {filename!r} must be a plain file name in Asterisk's "
        "configuration directory (no '/', '\\' or '..')"
    )
    assert actions_on_the_wire(running, before) == []


async def test_updateconfig_outside_the_conf_directory_is_refused_even_when_allowed(
    redis_url: str, prefix: str
) -> None:
    async with own_gateway(redis_url, prefix, gateway_actions_allow="Ping,UpdateConfig") as (peer, requester):
        before = len(peer.actions_received)
        for field in ("SrcFilename", "DstFilename"):
            headers = {"Action": "UpdateConfig", "SrcFilename": "sip.conf", "DstFilename": "sip.conf"}
            headers[field] = "../../tmp/x.conf"
            reply = await requester.request("actions", headers, timeout=5.0)
            assert reply.meta["status"] == "error" and f"{field} '../../tmp/x.conf'" in reply.meta["error"]
        assert from_the_bus(peer.actions_received[before:]) == []


async def test_a_plain_conf_file_name_still_reads(running: Running, requester: Requester) -> None:
    reply = await requester.request(
        "actions", {"Action": "GetConfig", "Filename": "manager.conf"}, timeout=5.0
    )
    assert reply.meta["status"] == "ok" and reply.get("Category-000000") == "general"
