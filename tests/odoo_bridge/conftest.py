from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

from peers.odoo_peer import OdooPeer
from services.bus import Bus
from services.odoo_bridge.bridge import Bridge
from services.odoo_bridge.config import BridgeSettings


@dataclass
class Running:
    peer: OdooPeer
    bridge: Bridge
    bus: Bus
    stop: asyncio.Event
    task: asyncio.Task

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)
        await self.bus.close()


def bridge_settings(redis_url: str, prefix: str, peer: OdooPeer, **kw: object) -> BridgeSettings:
    values: dict[str, object] = dict(
        redis_url=redis_url,
        pbx_prefix=prefix,
        odoo_url=peer.url,
        odoo_db=peer.db,
        odoo_retry_max_s=0.2,
        bus_block_ms=100,
        bus_retry_max_s=0.2,
    )
    values.update(kw)
    return BridgeSettings(**values)


async def start_bridge(settings: BridgeSettings, peer: OdooPeer) -> Running:
    bus = Bus(settings)
    bridge = Bridge(settings, bus)
    stop = asyncio.Event()
    return Running(peer, bridge, bus, stop, asyncio.create_task(bridge.run(stop)))


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


def peer_port(url: str) -> int:
    return urlparse(url).port or 80
