"""Against a real Asterisk when AMI_HOST (AMI_PORT, AMI_USER, AMI_SECRET) points at one."""

from __future__ import annotations

import asyncio
import os

import pytest

from services.ami_gateway.config import GatewaySettings
from services.ami_gateway.gateway import Gateway
from services.bus import Bus, Requester

pytestmark = [
    pytest.mark.real_ami,
    pytest.mark.skipif(not os.environ.get("AMI_HOST"), reason="AMI_HOST is not set: no real Asterisk"),
]


async def test_the_gateway_logs_in_publishes_events_and_runs_actions(redis_url: str, prefix: str) -> None:
    settings = GatewaySettings(redis_url=redis_url, pbx_prefix=prefix)  # AMI_* from the environment
    bus = Bus(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(Gateway(settings, bus).run(stop))
    requester = Requester(bus, "real-ami")
    try:
        for _ in range(100):
            if await bus.redis.hget(bus.key("status:ami_gateway"), "ami_connected") == "1":
                break
            await asyncio.sleep(0.1)
        pong = await requester.request("actions", {"Action": "Ping"}, timeout=10)
        assert pong.get("Ping") == "Pong"
        version = await requester.request(
            "actions", {"Action": "Command", "Command": "core show version"}, timeout=10
        )
        assert version.get("Output").startswith("Asterisk ")
        events = await bus.redis.xrange(bus.key("events"))
        assert any(f.get("Event") == "FullyBooted" for _, f in events)
    finally:
        await requester.close()
        stop.set()
        await task
        await bus.close()
