"""Against a real Odoo with the asterisk_plus module, when ODOO_URL (and ODOO_DB, ODOO_USER...) is set."""

from __future__ import annotations

import os

import pytest

from services.bus import Log
from services.odoo_bridge.config import BridgeSettings
from services.odoo_bridge.odoo import OdooClient

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
