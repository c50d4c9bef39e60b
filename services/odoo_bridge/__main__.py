"""`python -m services.odoo_bridge`: the bus <-> Odoo."""

from __future__ import annotations

import asyncio

from services.bus import Bus, run, wait_for_redis

from .bridge import Bridge
from .config import BridgeSettings


async def main(stop: asyncio.Event) -> None:
    settings = BridgeSettings()
    bus = Bus(settings)
    await wait_for_redis(bus, stop)
    if not stop.is_set():
        await Bridge(settings, bus).run(stop)
    await bus.close()


if __name__ == "__main__":
    run("odoo_bridge", main, BridgeSettings().log_level)
