from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from peers.ami_peer import AmiPeer
from services.ami_gateway.config import GatewaySettings
from services.ami_gateway.gateway import Gateway
from services.bus import Bus
from tests.bus.helpers import Halts, service_settings


@dataclass
class Running(Halts):
    """A gateway a test runs; `halt()` leaves the peer to the test."""

    peer: AmiPeer
    gateway: Gateway
    bus: Bus
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def stream(self, name: str) -> list[tuple[str, dict[str, str]]]:
        return await self.bus.redis.xrange(self.bus.key(name))


def gateway_settings(redis_url: str, prefix: str, port: int, **overrides: object) -> GatewaySettings:
    ami = {"ami_host": "127.0.0.1", "ami_port": port, "ami_user": "admin", "ami_secret": "admin"}
    quick = {"ami_ping_interval_s": 0.5, "ami_ping_timeout_s": 5.0, "ami_reconnect_max_s": 0.5}
    return service_settings(GatewaySettings, redis_url, prefix, **(ami | quick | overrides))


async def start_gateway(settings: GatewaySettings, peer: AmiPeer) -> Running:
    bus = Bus(settings)
    stop = asyncio.Event()
    gateway = Gateway(settings, bus)
    task = asyncio.create_task(gateway.run(stop))
    return Running(peer, gateway, bus, stop, task)


async def wait_logged_in(peer: AmiPeer, n: int = 1) -> None:
    for _ in range(400):
        if sum(1 for s in peer.sessions if s.user) >= n:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the gateway never logged in to the AMI peer")


@pytest.fixture
async def running(redis_url: str, prefix: str) -> AsyncIterator[Running]:
    peer = await AmiPeer(login_failure_delay=0.05, tag_events=True).start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    await wait_logged_in(peer)
    yield run
    await run.halt()
    await peer.stop()
