from __future__ import annotations

import asyncio
import logging

import pytest

from peers.ami_peer import demo_calls
from peers.odoo_peer import OdooPeer
from services.bus import Requester, encode, keys
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import (
    Running,
    assert_delivered_once_in_call_order,
    bridge_settings,
    running_bridge,
)

MAPPED = {"Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "Hangup", "Cdr"}


async def publish_calls(run: Running, copies: int = 4) -> list[dict[str, str]]:
    fields = []
    for n, pairs in enumerate(e for _ in range(copies) for c in demo_calls() for e in c.events()):
        fields.append(
            encode(pairs, type="event", server="asterisk1", at="2026-11-24T20:00:00.000000Z", id=f"sess:{n}")
        )
    fields.append(encode({"Event": "VarSet", "Variable": "X"}, type="event", id="sess:varset"))
    await run.bus.publish_fields(keys.EVENTS, fields)
    return fields


async def _received(peer: OdooPeer, n: int) -> bool:
    return len(peer.items("asterisk_plus.call")) >= n


async def test_events_selected_by_the_map_arrive_once_batched_and_normalized(running: Running) -> None:
    fields = await publish_calls(running)
    wanted = [f for f in fields if f.get("Event") in MAPPED]
    await eventually(lambda: _received(running.peer, len(wanted)))
    await asyncio.sleep(0.3)
    items = running.peer.items("asterisk_plus.call")
    assert_delivered_once_in_call_order(items, wanted)  # each once, in per-call order, nothing else
    calls = [c for c in running.peer.calls if c[1] == "on_ami_events"]
    assert len(calls) < len(wanted) / 5  # batched: far fewer calls than events
    inbound = next(i for i in items if i.get("CallerIDNum") == "0470123456")
    assert inbound["@e164"]["CallerIDNum"] == "+32470123456"
    cdr = next(i for i in items if i["Event"] == "Cdr" and i.get("AnswerTime"))
    assert set(cdr["@utc"]) == {"StartTime", "AnswerTime", "EndTime"}


async def test_odoo_down_for_a_while_loses_and_doubles_nothing(running: Running) -> None:
    await eventually(lambda: _connected(running))
    await running.peer.stop()
    fields = await publish_calls(running, copies=2)
    await asyncio.sleep(1.0)
    running.peer.fail_next = 2  # and then two server errors for good measure
    await running.peer.start()
    wanted = [f for f in fields if f.get("Event") in MAPPED]
    await eventually(lambda: _received(running.peer, len(wanted)))
    await asyncio.sleep(0.3)
    assert_delivered_once_in_call_order(running.peer.items("asterisk_plus.call"), wanted)
    assert await running.bus.redis.xlen(running.bus.key(keys.DEAD)) == 0


async def _connected(run: Running) -> bool:
    return (await run.bus.redis.hget(run.bus.key("status:odoo_bridge"), "odoo_connected")) == "1"


async def test_a_slow_odoo_still_gets_everything(running: Running) -> None:
    running.peer.latency = 0.05
    fields = await publish_calls(running, copies=2)
    wanted = [f for f in fields if f.get("Event") in MAPPED]
    await eventually(lambda: _received(running.peer, len(wanted)))
    assert_delivered_once_in_call_order(running.peer.items("asterisk_plus.call"), wanted)


async def test_items_odoo_rejects_go_to_dead_letters_with_its_text(running: Running) -> None:
    running.peer.reject = lambda item: "no partner for this call" if item.get("Event") == "Cdr" else None
    fields = await publish_calls(running, copies=1)
    wanted = [f for f in fields if f.get("Event") in MAPPED and f["Event"] != "Cdr"]
    cdrs = [f for f in fields if f.get("Event") == "Cdr"]
    await eventually(lambda: _received(running.peer, len(wanted)))
    await eventually(lambda: _dead_count(running, len(cdrs)))
    dead = await running.bus.redis.xrange(running.bus.key(keys.DEAD))
    assert {d["@error"] for _, d in dead} == {"Odoo: no partner for this call"}
    assert sorted(d["@id"] for _, d in dead) == sorted(f["@id"] for f in cdrs)


async def _dead_count(run: Running, n: int) -> bool:
    return await run.bus.redis.xlen(run.bus.key(keys.DEAD)) >= n


async def test_a_wrong_password_is_logged_once_then_works_when_fixed(
    redis_url: str, prefix: str, odoo: OdooPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    odoo.users["asterisk1"] = "changed-in-odoo"
    async with running_bridge(bridge_settings(redis_url, prefix, odoo), odoo) as run:
        await asyncio.sleep(1.5)
        refused = [r for r in caplog.records if r.getMessage() == "Odoo login refused"]
        assert len(refused) == 1 and "ODOO_PASSWORD" in refused[0].fields["hint"]  # type: ignore[attr-defined]
        odoo.users["asterisk1"] = "asterisk1"  # the admin puts the agent's password back
        await eventually(lambda: _connected(run))
        await publish_calls(run, copies=1)
        await eventually(lambda: _received(odoo, 10))


async def test_the_events_map_reloads_when_odoo_says_it_changed(running: Running) -> None:
    await eventually(lambda: _connected(running))
    running.peer.config["events_map"] = [
        {
            "id": 1,
            "event": "Hangup",
            "model": "asterisk_plus.call",
            "method": "on_ami_events",
            "conditions": [{"header": "Cause", "op": "equals", "value": "17"}],
        }
    ]
    await running.bus.publish(keys.commands("odoo_bridge"), None, type="events_map.changed")
    await asyncio.sleep(0.5)
    await publish_calls(running, copies=1)
    await eventually(lambda: _received(running.peer, 2))
    await asyncio.sleep(0.3)
    items = running.peer.items("asterisk_plus.call")
    assert [(i["Event"], i["Cause"]) for i in items] == [("Hangup", "17"), ("Hangup", "17")]  # the busy call


async def test_the_test_button_round_trip(running: Running) -> None:
    requester = Requester(running.bus, "odoo.test")
    reply = await requester.request(keys.commands("odoo_bridge"), None, type="test", timeout=10, uid=2)
    await requester.close()
    assert reply.meta["status"] == "ok" and reply.get("Login") == "asterisk1"
    assert reply.get("Message").startswith("Odoo -> bus -> bridge -> Odoo in")


async def test_to_odoo_entries_are_routed_by_type(running: Running) -> None:
    await running.bus.publish(
        keys.TO_ODOO, {"address": "203.0.113.7", "reason": "5 failures"}, type="guard.ban"
    )
    await running.bus.publish(keys.TO_ODOO, {"x": "1"}, type="nobody.knows")
    await eventually(lambda: _has_model(running.peer, "asterisk_plus.ban"))
    await eventually(lambda: _dead_count(running, 1))
    (ban,) = running.peer.items("asterisk_plus.ban")
    assert ban["address"] == "203.0.113.7" and ban["@type"] == "guard.ban"
    ((_, dead),) = await running.bus.redis.xrange(running.bus.key(keys.DEAD))
    assert dead["@error"] == "no Odoo route for @type 'nobody.knows'"


async def _has_model(peer: OdooPeer, model: str) -> bool:
    return bool(peer.items(model))
