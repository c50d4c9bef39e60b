"""`python -m services.ami_gateway`: AMI <-> bus."""

from __future__ import annotations

import asyncio

from services.bus import Bus, run, wait_for_redis

from .config import GatewaySettings
from .gateway import Gateway


async def main(stop: asyncio.Event) -> None:
    settings = GatewaySettings()
    bus = Bus(settings)
    await wait_for_redis(bus, stop)
    if not stop.is_set():
        await Gateway(settings, bus).run(stop)
    await bus.close()


if __name__ == "__main__":
    run("ami_gateway", main, GatewaySettings().log_level)
