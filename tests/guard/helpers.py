"""What the guard's tests share: a guard running on a real Redis with the log-only backend, and its checks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.bus import Bus, Log, encode, keys
from services.guard.config import GuardSettings
from services.guard.firewall import LogBackend
from services.guard.guard import Guard
from tests.bus.helpers import eventually

AT = "2026-11-24T20:00:00.000000Z"


def guard_settings(redis_url: str, prefix: str, **kw: object) -> GuardSettings:
    return GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100, **kw)


class Running:
    def __init__(self, settings: GuardSettings, backend: LogBackend | None = None) -> None:
        self.bus = Bus(settings)
        self.backend = backend or LogBackend(Log("test.firewall"))
        self.guard = Guard(settings, self.bus, self.backend, tick=0.1)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.guard.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)
        await self.bus.close()

    def has(self, address: str):  # type: ignore[no-untyped-def]
        async def check() -> bool:
            return address in self.backend.banned

        return check

    def lacks(self, address: str):  # type: ignore[no-untyped-def]
        async def check() -> bool:
            return address not in self.backend.banned

        return check

    async def to_odoo(self, type_: str | None = None) -> list[dict[str, str]]:
        rows = [f for _, f in await self.bus.redis.xrange(self.bus.key(keys.TO_ODOO))]
        return [f for f in rows if type_ is None or f["@type"] == type_]

    async def command(
        self, type_: str, headers: dict[str, str] | None = None, payload: object = None
    ) -> None:
        await self.bus.publish(keys.commands("guard"), headers, type=type_, payload=payload, user="admin")

    async def status(self) -> dict[str, str]:
        return await self.bus.redis.hgetall(self.bus.key(keys.status("guard")))


async def started(settings: GuardSettings, backend: LogBackend | None = None) -> Running:
    """A guard running and ready (its state restored)."""
    run = Running(settings, backend)

    async def ready() -> bool:
        return await run.bus.redis.hget(run.bus.key(keys.status("guard")), "ready") == "1"

    await eventually(ready)
    return run


async def publish_security(bus: Bus, events: Sequence[Sequence[tuple[str, str]]]) -> None:
    await bus.publish_fields(keys.SECURITY, [encode(p, type="event", at=AT) for p in events])


async def published(run: Running, n: int, type_: str = "guard.ban") -> bool:
    return len(await run.to_odoo(type_)) >= n
