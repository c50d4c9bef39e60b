"""`python -m services.guard`: fail2ban-style bans from Asterisk's security events."""

from __future__ import annotations

import asyncio

from services.bus import Bus, Log, run, wait_for_redis

from .config import GuardSettings
from .firewall import make_backend
from .guard import Guard


async def main(stop: asyncio.Event) -> None:
    settings = GuardSettings()
    bus = Bus(settings)
    backend = make_backend(settings.guard_backend, Log("guard.firewall", server=settings.agent_server))
    await wait_for_redis(bus, stop)
    if not stop.is_set():
        await Guard(settings, bus, backend).run(stop)
    await bus.close()


if __name__ == "__main__":
    run("guard", main, GuardSettings().log_level)
