"""Small helpers for bus tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.bus import Bus, BusSettings

S = TypeVar("S", bound=BusSettings)


class Halts:
    """For the handle of a service a test runs: `stop` ends its `task`, then its `bus` is closed."""

    bus: Bus
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)
        await self.bus.close()


def service_settings(kind: type[S], redis_url: str, prefix: str, **values: object) -> S:
    """A service's settings for a test: the test's key prefix, short blocking reads, then `values`."""
    return kind(**{"redis_url": redis_url, "pbx_prefix": prefix, "bus_block_ms": 100, **values})


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
