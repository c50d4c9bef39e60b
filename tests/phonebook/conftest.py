from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from peers.local_redis import free_port
from services.bus import Bus
from services.phonebook.config import PhonebookSettings
from services.phonebook.service import PhonebookService
from tests.bus.helpers import Halts, eventually, service_settings

TOKEN = "s3cr3t-token-of-the-server-0123456789"


@dataclass
class RunningPhonebook(Halts):
    service: PhonebookService
    bus: Bus
    url: str
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def publish(self, entries: dict[str, str], token: str = TOKEN, country: str = "BE") -> None:
        """What Odoo writes (odoo_addons/asterisk_plus/models/phonebook.py)."""
        redis = self.bus.redis
        await redis.delete(self.bus.key("phonebook"))
        if entries:
            await redis.hset(self.bus.key("phonebook"), mapping=entries)
        meta = {
            "token": token,
            "country": country,
            "count": str(len(entries)),
            "updated_at": "2026-12-01T06:00:00",
        }
        await redis.hset(self.bus.key("phonebook:meta"), mapping=meta)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url)

    async def cid(self, number: str, token: str | None = TOKEN) -> httpx.Response:
        async with self.http() as client:
            return await client.get(f"/cid/{number}", params={"token": token} if token is not None else {})


async def start_phonebook(redis_url: str, prefix: str, **overrides: Any) -> RunningPhonebook:
    port = free_port()
    values: dict[str, Any] = dict(
        phonebook_host="127.0.0.1", phonebook_port=port, phonebook_meta_refresh_s=0.05
    )
    settings = service_settings(PhonebookSettings, redis_url, prefix, **(values | overrides))
    bus = Bus(settings)
    service = PhonebookService(settings, bus)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))

    async def ready() -> bool:
        return service.status.fields.get("ready") == "1"

    await eventually(ready, timeout=10)
    return RunningPhonebook(service, bus, f"http://127.0.0.1:{port}", stop, task)


PhonebookFactory = Callable[..., Awaitable[RunningPhonebook]]


@pytest.fixture
async def phonebook(redis_url: str, prefix: str) -> AsyncIterator[PhonebookFactory]:
    started: list[RunningPhonebook] = []

    async def factory(**overrides: Any) -> RunningPhonebook:
        run = await start_phonebook(overrides.pop("redis_url", redis_url), prefix, **overrides)
        started.append(run)
        return run

    yield factory
    for run in started:
        await run.halt()
