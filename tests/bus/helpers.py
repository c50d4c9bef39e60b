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


Samples = list[tuple[str, dict[str, str], float]]


async def scrape(url: str) -> Samples:
    """GET a /metrics page as Prometheus does and parse it: (sample name, labels, value) each."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sum of the samples of that name whose labels include these; None when there is none."""
    found = [v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())]
    return sum(found) if found else None
