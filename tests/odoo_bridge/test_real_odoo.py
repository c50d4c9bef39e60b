"""Against a real Odoo with the asterisk_plus module, when ODOO_URL (and ODOO_DB, ODOO_USER...) is set."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from services.bus import Bus, Log, encode, keys
from services.odoo_bridge.bridge import Bridge
from services.odoo_bridge.config import BridgeSettings
from services.odoo_bridge.odoo import OdooClient
from tests.bus.helpers import eventually
from tests.odoo_bridge.test_parallel_lanes import interleaved_calls

pytestmark = [
    pytest.mark.real_odoo,
    pytest.mark.skipif(not os.environ.get("ODOO_URL"), reason="ODOO_URL is not set: no real Odoo"),
]


async def test_the_system_account_reads_the_config_and_delivers_an_event() -> None:
    client = OdooClient(BridgeSettings(), Log("test"))
    config = await client.call(
        "asterisk_plus.server", "bridge_get_config", os.environ.get("AGENT_SERVER", "asterisk1")
    )
    assert "events_map" in config
    results = await client.call(
        "asterisk_plus.call",
        "on_ami_events",
        os.environ.get("AGENT_SERVER", "asterisk1"),
        [
            {
                "Event": "Newchannel",
                "@id": "real-odoo-test:1",
                "Channel": "PJSIP/101-1",
                "Uniqueid": "1.1",
                "Linkedid": "1.1",
                "CallerIDNum": "101",
            }
        ],
    )
    assert results[0]["status"] in ("ok", "duplicate")


async def test_a_console_command_lands_in_the_console_history_once() -> None:
    client = OdooClient(BridgeSettings(), Log("test"))
    server = os.environ.get("AGENT_SERVER", "asterisk1")
    item = {
        "@id": f"real-odoo-console-{os.getpid()}",
        "@type": "console.command",
        "@uid": "2",
        "@user": "admin",
        "@server": server,
        "@at": "2026-11-24T20:00:00.123456Z",
        "command": "core show version",
        "status": "ok",
        "output": "Asterisk 22.10.1",
    }
    first = await client.call("asterisk_plus.console_command", "bridge_on_commands", server, [item])
    again = await client.call("asterisk_plus.console_command", "bridge_on_commands", server, [item])
    assert first == [{"status": "ok"}]
    assert again == [{"status": "duplicate"}]


async def test_click_to_call_replies_as_the_gateway_writes_them_are_accepted() -> None:
    client = OdooClient(BridgeSettings(), Log("test"))
    server = os.environ.get("AGENT_SERVER", "asterisk1")
    common = {"@type": "reply", "@server": server, "@uid": "2", "@user": "admin", "@request_type": "action"}
    ok = {**common, "@id": f"real-c2c-ok-{os.getpid()}", "@status": "ok", "Response": "Success"}
    failed = {
        **common,
        "@id": f"real-c2c-failed-{os.getpid()}",
        "@status": "error",
        "@error": "PJSIP/6001: the phone could not be called (Asterisk reason 0)",
        "Response": "Failure",
        "Reason": "0",
        "Message": "PJSIP/6001: the phone could not be called (Asterisk reason 0)",
    }
    for item in (ok, failed):
        item["@time"] = item["@at"] = "2026-12-01T04:10:21.000000Z"
    results = await client.call("asterisk_plus.server", "bridge_on_replies", server, [ok, failed])
    assert [r["status"] for r in results] == ["ok", "ok"]


async def test_the_real_flows_through_parallel_lanes_are_all_accepted(redis_url: str, prefix: str) -> None:
    settings = BridgeSettings(redis_url=redis_url, pbx_prefix=prefix, odoo_concurrency=4, odoo_batch=25)
    bus = Bus(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(Bridge(settings, bus).run(stop))
    try:
        events = interleaved_calls(random.Random(), rounds=2)
        token = os.urandom(4).hex()
        fields = [
            encode(p, type="event", server=settings.agent_server, id=f"{token}:{n}")
            for n, p in enumerate(events)
        ]
        ids = await bus.publish_fields(keys.EVENTS, fields)

        async def all_acked() -> bool:
            groups = await bus.redis.xinfo_groups(bus.key(keys.EVENTS))
            return any(g["last-delivered-id"] == ids[-1] and g["pending"] == 0 for g in groups)

        await eventually(all_acked, timeout=120)
        dead = await bus.redis.xrange(bus.key(keys.DEAD))
        assert dead == [], dead[0][1].get("@error")
    finally:
        stop.set()
        await task
        await bus.close()
