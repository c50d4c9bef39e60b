"""`python -m services.conf_sync`: Asterisk .conf files <-> Odoo."""

from __future__ import annotations

import asyncio

from services.bus import Bus, run, wait_for_redis

from .config import ConfSyncSettings
from .sync import ConfSync


async def main(stop: asyncio.Event) -> None:
    settings = ConfSyncSettings()
    bus = Bus(settings)
    await wait_for_redis(bus, stop)
    if not stop.is_set():
        await ConfSync(settings, bus).run(stop)
    await bus.close()


if __name__ == "__main__":
    run("conf_sync", main, ConfSyncSettings().log_level)
