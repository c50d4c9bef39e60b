from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

from peers.ami_peer import AmiPeer
from peers.odoo_peer import OdooPeer
from services.bus import Bus
from services.odoo_bridge.bridge import Bridge
from services.odoo_bridge.config import BridgeSettings
from tests.ami_gateway.conftest import Running as GatewayRunning
from tests.ami_gateway.conftest import gateway_settings, start_gateway, wait_logged_in
from tests.bus.helpers import Halts, service_settings


@dataclass
class Running(Halts):
    peer: OdooPeer
    bridge: Bridge
    bus: Bus
    stop: asyncio.Event
    task: asyncio.Task[None]


def bridge_settings(redis_url: str, prefix: str, peer: OdooPeer, **kw: object) -> BridgeSettings:
    odoo = {"odoo_url": peer.url, "odoo_db": peer.db}
    quick = {"odoo_retry_max_s": 0.2, "bus_retry_max_s": 0.2}
    return service_settings(BridgeSettings, redis_url, prefix, **(odoo | quick | kw))


async def start_bridge(settings: BridgeSettings, peer: OdooPeer) -> Running:
    bus = Bus(settings)
    bridge = Bridge(settings, bus)
    stop = asyncio.Event()
    return Running(peer, bridge, bus, stop, asyncio.create_task(bridge.run(stop)))


@asynccontextmanager
async def running_bridge(
    settings: BridgeSettings, peer: OdooPeer, stop_peer: bool = False
) -> AsyncIterator[Running]:
    """The bridge to `peer`, halted at the end whatever the test did (and the peer stopped: `stop_peer`)."""
    run = await start_bridge(settings, peer)
    try:
        yield run
    finally:
        await run.halt()
        if stop_peer:
            await peer.stop()


@pytest.fixture
async def odoo() -> AsyncIterator[OdooPeer]:
    peer = await OdooPeer().start()
    yield peer
    await peer.stop()


@pytest.fixture
async def running(redis_url: str, prefix: str, odoo: OdooPeer) -> AsyncIterator[Running]:
    run = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
    yield run
    await run.halt()


@dataclass
class Agent:
    ami: AmiPeer
    odoo: OdooPeer
    gateway: GatewayRunning
    bridge: Running

    @property
    def bus(self) -> Bus:
        return self.bridge.bus


@asynccontextmanager
async def running_agent(redis_url: str, prefix: str, ami_peer: AmiPeer | None = None) -> AsyncIterator[Agent]:
    """The agent between an AMI peer (`ami_peer`, else a new one) and an Odoo peer: the gateway and the bridge
    started, the gateway logged in; all halted and stopped at the end."""
    ami = await (ami_peer or AmiPeer()).start()
    odoo = await OdooPeer().start()
    gateway = await start_gateway(gateway_settings(redis_url, prefix, ami.port), ami)
    bridge = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
    await wait_logged_in(ami)
    yield Agent(ami, odoo, gateway, bridge)
    await gateway.halt()
    await bridge.halt()
    await ami.stop()
    await odoo.stop()


@pytest.fixture
async def agent(redis_url: str, prefix: str) -> AsyncIterator[Agent]:
    async with running_agent(redis_url, prefix, AmiPeer(login_failure_delay=0.05)) as running:
        yield running


def call_of(item: dict, linked: dict[str, str]) -> str:
    """The call an item belongs to: its Linkedid (its own channel's, else the dialled one's), or for a Cdr the
    Linkedid of its channel's UniqueID."""
    for prefix in ("", "Dest", "LocalOne"):
        if item.get(prefix + "Linkedid") and item.get(prefix + "Uniqueid"):
            linked.setdefault(item[prefix + "Uniqueid"], item[prefix + "Linkedid"])
    for prefix in ("", "Dest", "LocalOne"):
        if item.get(prefix + "Linkedid"):
            return item[prefix + "Linkedid"]
    uid = item.get("UniqueID") or item.get("Uniqueid") or ""
    return linked.get(uid, uid)


def per_call(items: list[dict]) -> dict[str, list[str]]:
    """Each call's `@id`s in the order given."""
    linked: dict[str, str] = {}
    calls: dict[str, list[str]] = {}
    for item in items:
        calls.setdefault(call_of(item, linked), []).append(item["@id"])
    return calls


def assert_delivered_once_in_call_order(items: list[dict], wanted: list[dict]) -> None:
    """Odoo got exactly the wanted entries, each once, and every call's events in the bus's order."""
    ids = [i["@id"] for i in items]
    assert len(ids) == len(set(ids)), "an entry reached Odoo twice"
    assert sorted(ids) == sorted(w["@id"] for w in wanted)
    assert per_call(items) == per_call(wanted)


def peer_port(url: str) -> int:
    return urlparse(url).port or 80
