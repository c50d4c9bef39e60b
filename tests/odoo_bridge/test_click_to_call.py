"""Click-to-call from Odoo's side and back: the Originate Odoo publishes runs on the PBX, and its result
reaches Odoo twice, as the user's reply and as the call's OriginateResponse event."""

from __future__ import annotations

import uuid
from typing import Any

from peers.odoo_peer import OdooPeer
from services.bus import Bus, keys, now_iso
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Agent


async def click_to_call(bus: Bus, channel: str, number: str, uid: int = 2) -> str:
    """What the module's `action_asterisk_call` writes (models/res_partner.py, through models/bus.py)."""
    request_id = uuid.uuid4().hex
    fields = {
        "@type": "action",
        "@server": "asterisk1",
        "@at": now_iso(),
        "@id": request_id,
        "@reply_to": "to_odoo",
        "@uid": str(uid),
        "@user": "admin",
        "Action": "Originate",
        "Channel": channel,
        "Exten": number,
        "Context": "from-internal",
        "Priority": "1",
        "Async": "true",
        "CallerID": "Customer <101>",
    }
    await bus.redis.xadd(bus.key(keys.ACTIONS), fields)
    return request_id


def delivered(odoo: OdooPeer, method: str, match: Any) -> list[dict[str, Any]]:
    return [r.item for r in odoo.received if r.method == method and match(r.item)]


async def results_of(agent: Agent, request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reply Odoo got for the request, and the OriginateResponse event the events map sent it."""

    def reply(item: dict[str, Any]) -> bool:
        return item.get("@id") == request_id

    def event(item: dict[str, Any]) -> bool:
        return item.get("Event") == "OriginateResponse" and item.get("ActionID", "").endswith(request_id)

    async def both() -> bool:
        return bool(delivered(agent.odoo, "bridge_on_replies", reply)) and bool(
            delivered(agent.odoo, "on_ami_events", event)
        )

    await eventually(both)
    (got_reply,) = delivered(agent.odoo, "bridge_on_replies", reply)
    (got_event,) = delivered(agent.odoo, "on_ami_events", event)
    await answered_once(agent, request_id)
    return got_reply, got_event


async def answered_once(agent: Agent, request_id: str) -> None:
    """The gateway acked the request after one reply: not retried, not answered again, not dead-lettered."""
    redis, key = agent.bus.redis, agent.bus.key

    async def acked() -> bool:
        return (await redis.xpending(key(keys.ACTIONS), "ami_gateway"))["pending"] == 0

    await eventually(acked)
    replies = [f for _, f in await redis.xrange(key(keys.TO_ODOO)) if f.get("@id") == request_id]
    assert len(replies) == 1
    assert await redis.xlen(key(keys.DEAD)) == 0


async def test_a_click_to_call_to_a_reachable_phone_comes_back_as_ok(agent: Agent) -> None:
    request_id = await click_to_call(agent.bus, "PJSIP/101", "0470123456")
    reply, event = await results_of(agent, request_id)
    assert (reply["@type"], reply["@status"], reply["@uid"], reply["@request_type"]) == (
        "reply",
        "ok",
        "2",
        "action",
    )
    assert reply["Response"] == "Success" and reply["Message"] == "Originate successfully queued"
    assert (event["Response"], event["Reason"]) == ("Success", "4")


async def test_a_click_to_call_to_an_unregistered_phone_comes_back_as_its_failure(agent: Agent) -> None:
    request_id = await click_to_call(agent.bus, "PJSIP/6001", "0470123456", uid=7)
    reply, event = await results_of(agent, request_id)
    assert (reply["@status"], reply["@uid"], reply["Response"], reply["Reason"]) == (
        "error",
        "7",
        "Failure",
        "0",
    )
    assert reply["@error"] == reply["Message"]
    assert "could not be called (not registered" in reply["Message"]
    assert (event["Response"], event["Reason"], event["Uniqueid"]) == ("Failure", "0", "<unknown>")
