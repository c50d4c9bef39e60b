"""`server.ami_action(...)` from Odoo's side and back (docs/odoo-api.md, "The developer API"): the action the
module publishes runs on the PBX, and the gateway's answer on `odoo_replies` reaches
`asterisk_plus.ami_request.on_ami_replies` once, also when Odoo was away meanwhile (the stream does not
expire as `replies:*` do)."""

from __future__ import annotations

import asyncio
import types
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.bus import keys
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Agent
from tests.odoo_module.module_files import load_bus_client

REPLIES = "odoo_replies"


@pytest.fixture
def module_bus(monkeypatch: pytest.MonkeyPatch) -> Any:
    return load_bus_client(monkeypatch)


async def ami_action(
    module_bus: Any, agent: Agent, action: dict[str, str], deadline_s: float = 30, known: bool = True
) -> str:
    """What `asterisk_plus.server.ami_action` publishes after commit (models/server_ami_action.py), its
    request recorded in Odoo first (unless not `known`)."""
    bus = agent.bus
    server = types.SimpleNamespace(
        name=bus.server, bus_prefix=bus.settings.pbx_prefix, redis_url=bus.settings.redis_url
    )
    request_id = uuid.uuid4().hex
    if known:
        agent.odoo.developer.requests[request_id] = None
    deadline = (datetime.now(UTC) + timedelta(seconds=deadline_s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = module_bus.fields_for(
        server, "action", action, id=request_id, reply_to=REPLIES, deadline=deadline, uid=2, user="admin"
    )
    await asyncio.to_thread(module_bus.publish_now, server, keys.ACTIONS, fields)
    return request_id


async def answered(agent: Agent, request_id: str) -> dict[str, Any]:
    async def heard() -> bool:
        return agent.odoo.developer.requests.get(request_id) is not None

    await eventually(heard)
    reply = agent.odoo.developer.requests[request_id]
    assert reply is not None
    return reply


async def acked(agent: Agent, stream: str, group: str) -> bool:
    return (await agent.bus.redis.xpending(agent.bus.key(stream), group))["pending"] == 0


async def test_a_ping_from_odoo_code_comes_back_to_its_request_once(agent: Agent, module_bus: Any) -> None:
    request_id = await ami_action(module_bus, agent, {"Action": "Ping"})
    reply = await answered(agent, request_id)
    assert (reply["@type"], reply["@status"], reply["@request_type"], reply["@uid"]) == (
        "reply",
        "ok",
        "action",
        "2",
    )
    assert (reply["Response"], reply["Ping"]) == ("Success", "Pong")
    await eventually(lambda: acked(agent, REPLIES, "odoo_bridge"))
    redis, key = agent.bus.redis, agent.bus.key
    assert [f["@id"] for _, f in await redis.xrange(key(REPLIES))] == [request_id]
    assert await redis.ttl(key(REPLIES)) == -1  # never expires: Odoo may be away when it comes
    assert not [f for _, f in await redis.xrange(key(keys.TO_ODOO)) if f.get("@id") == request_id]
    assert await redis.xlen(key(keys.DEAD)) == 0


async def test_a_reply_waits_on_the_bus_while_odoo_is_away(agent: Agent, module_bus: Any) -> None:
    await agent.odoo.stop()
    request_id = await ami_action(module_bus, agent, {"Action": "Ping"})

    async def on_the_bus() -> bool:
        return await agent.bus.redis.xlen(agent.bus.key(REPLIES)) == 1

    await eventually(on_the_bus)
    await asyncio.sleep(1.0)  # the bridge tries and backs off meanwhile
    assert agent.odoo.developer.requests[request_id] is None
    await agent.odoo.start()
    reply = await answered(agent, request_id)
    assert reply["Ping"] == "Pong"


async def test_a_refused_or_late_action_reaches_the_callback_as_an_error(
    agent: Agent, module_bus: Any
) -> None:
    refused = await ami_action(module_bus, agent, {"Action": "NoSuchAction"})
    late = await ami_action(module_bus, agent, {"Action": "Ping"}, deadline_s=-1)
    assert (await answered(agent, refused))["@status"] == "error"
    reply = await answered(agent, late)
    assert reply["@status"] == "error" and "deadline" in reply["@error"]


async def test_a_reply_odoo_does_not_know_is_dead_lettered_and_a_second_delivery_is_a_duplicate(
    agent: Agent, module_bus: Any
) -> None:
    unknown = await ami_action(module_bus, agent, {"Action": "Ping"}, known=False)

    async def dead() -> bool:
        return await agent.bus.redis.xlen(agent.bus.key(keys.DEAD)) == 1

    await eventually(dead)
    ((_, letter),) = await agent.bus.redis.xrange(agent.bus.key(keys.DEAD))
    assert letter["@id"] == unknown and f"no AMI request {unknown}" in letter["@error"]
    known = await ami_action(module_bus, agent, {"Action": "Ping"})
    reply = await answered(agent, known)
    # The same entry again (an ack lost): Odoo says duplicate, the bridge acks it, nothing is dead-lettered.
    fields = {k: v for k, v in reply.items() if not k.startswith(("@entry", "@time", "@e164", "@utc"))}
    await agent.bus.redis.xadd(agent.bus.key(REPLIES), {k: str(v) for k, v in fields.items()})
    await eventually(lambda: _calls(agent, 3))
    await eventually(lambda: acked(agent, REPLIES, "odoo_bridge"))
    assert await agent.bus.redis.xlen(agent.bus.key(keys.DEAD)) == 1


async def _calls(agent: Agent, n: int) -> bool:
    return sum(c[2] for c in agent.odoo.calls if c[1] == "on_ami_replies") >= n
