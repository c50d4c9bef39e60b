from __future__ import annotations

import asyncio

import pytest

from services.ami.codec import first
from services.ami_gateway import originate
from services.bus import Entry, Requester
from tests.ami_gateway.conftest import Running


@pytest.fixture
async def requester(running: Running):  # type: ignore[no-untyped-def]
    requester = Requester(running.bus, "tests")
    yield requester
    await requester.close()


async def ask(requester: Requester, headers: dict, **kw: object) -> Entry:
    return await requester.request("actions", headers, timeout=kw.pop("timeout", 5.0), **kw)  # type: ignore[arg-type]


async def test_ping(requester: Requester) -> None:
    reply = await ask(requester, {"Action": "Ping"}, uid=7, user="admin")
    assert reply.meta["status"] == "ok" and reply.get("Ping") == "Pong" and reply.get("Response") == "Success"
    assert reply.meta["uid"] == "7" and reply.meta["user"] == "admin"  # the requester's user comes back
    assert "ActionID" not in reply.headers


async def test_command_output_comes_back_as_text(requester: Requester) -> None:
    reply = await ask(requester, {"Action": "Command", "Command": "pjsip show endpoints"})
    assert reply.meta["status"] == "ok"
    lines = reply.get("Output").split("\n")
    assert lines[-1] == "Objects found: 2" and len(lines) == 8
    version = await ask(requester, {"Action": "Command", "Command": "core show version"})
    assert version.get("Output").startswith("Asterisk 22.10.1 built by")


async def test_an_unknown_cli_command_is_an_error_with_asterisks_text(requester: Requester) -> None:
    reply = await ask(requester, {"Action": "Command", "Command": "no such command"})
    assert reply.meta["status"] == "error"
    assert reply.get("Output").startswith("No such command 'no such command'")


async def test_a_list_action_is_collected_into_one_reply(running: Running, requester: Requester) -> None:
    running.peer.channels = {
        f"PJSIP/10{i}-1": [("Channel", f"PJSIP/10{i}-1"), ("ChannelState", "6"), ("ChannelStateDesc", "Up")]
        for i in range(3)
    }
    reply = await ask(requester, {"Action": "Status"})
    assert reply.meta["status"] == "ok" and reply.meta["count"] == "4"
    items = reply.json()
    assert [i["Event"] for i in items] == ["Status", "Status", "Status", "StatusComplete"]
    assert items[0]["Channel"] == "PJSIP/100-1" and items[-1]["ListItems"] == "3"


async def test_reload_and_getconfig(requester: Requester) -> None:
    reply = await ask(requester, {"Action": "Reload"})
    assert reply.meta["status"] == "ok" and reply.get("Message") == "Module Reloaded"
    conf = await ask(requester, {"Action": "GetConfig", "Filename": "manager.conf"})
    assert conf.get("Category-000000") == "general" and conf.get("Line-000000-000001") == "port=5038"
    missing = await ask(requester, {"Action": "GetConfig", "Filename": "nope.conf"})
    assert missing.meta["status"] == "error" and missing.meta["error"] == "Config file not found"


async def test_async_originate_is_queued_and_its_response_follows(requester: Requester) -> None:
    reply = await ask(
        requester,
        {
            "Action": "Originate",
            "Channel": "PJSIP/101",
            "Exten": "0470123456",
            "Context": "from-internal",
            "Priority": "1",
            "Async": "true",
            "CallerID": "Alice <101>",
        },
    )
    assert reply.meta["status"] == "ok"
    events = reply.json()
    assert events[-1]["Event"] == "OriginateResponse" and events[-1]["Response"] == "Success"


async def test_an_originate_to_an_unregistered_phone_is_a_failure_with_the_reason_in_words(
    requester: Requester,
) -> None:
    """Asterisk queues it (Response: Success) and only the OriginateResponse that follows says it failed."""
    reply = await ask(
        requester,
        {
            "Action": "Originate",
            "Channel": "PJSIP/6001",
            "Exten": "101",
            "Context": "from-trunk",
            "Priority": "1",
            "Async": "true",
            "CallerID": "HC Customer <6001>",
        },
    )
    assert reply.meta["status"] == "error"
    assert reply.meta["error"] == (
        "PJSIP/6001: the phone could not be called (not registered, unreachable or no such channel) "
        "(Asterisk reason 0)"
    )
    assert (reply.get("Response"), reply.get("Reason")) == ("Failure", "0")
    assert reply.get("Message") == reply.meta["error"]  # what Odoo shows first
    (event,) = reply.json()
    assert (event["Event"], event["Response"], event["Uniqueid"]) == (
        "OriginateResponse",
        "Failure",
        "<unknown>",
    )


def test_an_async_originate_is_awaited_for_its_ring_time() -> None:
    assert originate.wait_s({"Action": "Originate", "Async": "true"}, 10) == 35.0  # Asterisk's 30 s default
    assert originate.wait_s({"Action": "Originate", "async": "yes", "Timeout": "60000"}, 10) == 65.0
    assert originate.wait_s({"Action": "Originate", "Timeout": "60000"}, 10) == 10  # sync: answered at once
    assert originate.failure([{"Event": "OriginateResponse", "Response": "Success", "Reason": "4"}]) is None
    busy = originate.failure([{"Event": "OriginateResponse", "Response": "Failure", "Reason": "5"}])
    assert busy is not None and busy[0] == "busy (Asterisk reason 5)"


async def test_an_action_outside_the_allowlist_is_refused_by_name(
    running: Running, requester: Requester
) -> None:
    before = len(running.peer.actions_received)
    for name in ("Logoff", "Events", "Login", "DangerousThing"):
        reply = await ask(requester, {"Action": name})
        assert reply.meta["status"] == "error"
        assert reply.meta["error"] == f"action {name} is not allowed (GATEWAY_ACTIONS_ALLOW)"
    # Nothing reached Asterisk but the gateway's own keepalive Pings (panoramisk's `action/...` ids).
    sent = running.peer.actions_received[before:]
    assert [f for f in sent if not first(f, "ActionID").startswith("action/")] == []


async def test_malformed_requests_get_an_error_reply(running: Running, requester: Requester) -> None:
    no_action = await ask(requester, {"Channel": "PJSIP/101"})
    assert no_action.meta["error"] == "malformed request: no Action header"
    late = await running.bus.publish(
        "actions",
        {"Action": "Ping"},
        type="action",
        id="late-1",
        reply_to=requester.stream,
        deadline="2020-01-01T00:00:00.000000Z",
    )
    assert late
    for _ in range(200):
        replies = await running.bus.redis.xrange(running.bus.key(requester.stream))
        found = [f for _, f in replies if f.get("@id") == "late-1"]
        if found:
            break
        await asyncio.sleep(0.02)
    assert found and found[0]["@status"] == "error" and "deadline" in found[0]["@error"]


async def test_a_redelivered_request_is_answered_again_but_not_run_twice(
    running: Running, requester: Requester
) -> None:
    await ask(requester, {"Action": "Reload"}, id="once-1")
    reloads = sum(1 for a in running.peer.actions_received if ("Action", "Reload") in a)
    entry_id = await running.bus.publish(
        "actions", {"Action": "Reload"}, type="action", id="once-1", reply_to=requester.stream
    )
    assert entry_id
    for _ in range(200):
        replies = await running.bus.redis.xrange(running.bus.key(requester.stream))
        if len([f for _, f in replies if f.get("@id") == "once-1"]) == 2:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the redelivered request got no second reply")
    assert sum(1 for a in running.peer.actions_received if ("Action", "Reload") in a) == reloads
