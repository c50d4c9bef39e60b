"""Small helpers for bus tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.bus import Bus, BusSettings


def make_bus(redis_url: str, prefix: str, **overrides: object) -> Bus:
    settings = BusSettings(redis_url=redis_url, pbx_prefix=prefix, agent_server="asterisk1", **overrides)
    return Bus(settings)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, every: float = 0.05
) -> None:
    """Wait for a condition the system must reach; fails the test if it never does."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if await check():
            return
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(every)
