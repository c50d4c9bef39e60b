"""The Odoo module builds the same keys as the agent, on a single Redis and on a cluster, and its commands
reach the agent's consumer groups there. The module's bus_client.py runs here as it is, with Odoo's one import
(`odoo.exceptions.UserError`) stood in for, and compat.py beside it."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path
from typing import Any

import pytest

from peers.redis_topology import ClusterTopology, cluster_available
from services.bus import Bus, BusSettings, Consumer, Entry, keys
from tests.odoo_module.module_files import load_bus_client

MODULE_BUS = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus" / "bus_client.py"


@pytest.fixture
def odoo_bus(monkeypatch: pytest.MonkeyPatch) -> Any:
    return load_bus_client(monkeypatch)


def record(url: str, prefix: str, name: str) -> types.SimpleNamespace:
    """What the module reads of an asterisk_plus.server record."""
    return types.SimpleNamespace(name=name, bus_prefix=prefix, redis_url=url)


async def roundtrip(odoo_bus: Any, settings: BusSettings) -> None:
    """Odoo publishes a command for the bridge and waits for the reply; the agent's group answers it."""
    bus = Bus(settings)
    server = record(settings.redis_url, settings.pbx_prefix, settings.agent_server)
    for name in (keys.EVENTS, keys.commands("odoo_bridge"), "console:token:abc"):
        assert odoo_bus.key(server, name) == bus.key(name)

    async def answer(batch: list[Entry]) -> None:
        for entry in batch:
            await bus.reply(entry, {"Pong": entry.headers["Ping"]})

    stop = asyncio.Event()
    consumer = Consumer(bus, "odoo_bridge", {keys.commands("odoo_bridge"): answer}, block_ms=100)
    await consumer.ensure_groups()
    task = asyncio.create_task(consumer.run(stop))
    try:
        fields = odoo_bus.fields_for(server, "test", {"Ping": "42"}, reply_to="replies:odoo-req-1")
        await asyncio.to_thread(odoo_bus.publish_now, server, keys.commands("odoo_bridge"), fields)
        reply = await asyncio.to_thread(odoo_bus.wait_reply, server, "replies:odoo-req-1", 10)
        assert reply is not None and reply["Pong"] == "42" and reply["@id"] == fields["@id"]
        assert odoo_bus.on_bus(server, keys.commands("odoo_bridge"), [{"@entry": "0-1"}]) == [False]
    finally:
        stop.set()
        await task
        await bus.close()


async def test_on_a_single_redis_the_module_keeps_the_plain_keys(
    odoo_bus: Any, redis_url: str, prefix: str
) -> None:
    settings = BusSettings(redis_url=redis_url, pbx_prefix=prefix, agent_server="asterisk1")
    assert odoo_bus.key(record(redis_url, prefix, "asterisk1"), "events") == f"{prefix}:asterisk1:events"
    await roundtrip(odoo_bus, settings)


@pytest.mark.skipif(not cluster_available(), reason="redis-server and redis-cli not installed")
async def test_on_a_cluster_the_module_tags_the_server_as_the_agent_does(
    odoo_bus: Any, tmp_path: Path, prefix: str
) -> None:
    cluster = await asyncio.to_thread(ClusterTopology(tmp_path).start)
    try:
        for server in ("asterisk1", "pbx07", "pbx31"):  # on different nodes
            settings = BusSettings(
                redis_url=cluster.url, redis_cluster=True, pbx_prefix=prefix, agent_server=server
            )
            tagged = f"{prefix}:{{{server}}}:events"
            assert odoo_bus.key(record(cluster.url, prefix, server), "events") == tagged
            await roundtrip(odoo_bus, settings)
    finally:
        await asyncio.to_thread(cluster.stop)
