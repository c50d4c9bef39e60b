from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets

from peers.local_redis import free_port
from services.bus import Bus, Status
from services.console.config import ConsoleSettings
from services.console.console import Console
from services.console.sessions import COOKIE
from tests.ami_gateway.conftest import Running, running  # noqa: F401 - `running` is a fixture used here
from tests.bus.helpers import Halts, eventually, service_settings


@dataclass
class RunningConsole(Halts):
    console: Console
    bus: Bus
    url: str
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def token(self, uid: int = 2, login: str = "admin", exp_in: float = 60, server: str = "") -> str:
        """What Odoo's Console button stores (odoo_addons/asterisk_plus/models/server.py, action_console)."""
        token = secrets.token_urlsafe(24)
        data = {"uid": uid, "login": login, "server": server or self.bus.server, "exp": time.time() + exp_in}
        await self.bus.redis.set(self.bus.key(f"console:token:{token}"), json.dumps(data), ex=60)
        return token

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, follow_redirects=False)

    async def session_cookie(self, **token_args: Any) -> str:
        async with self.http() as client:
            response = await client.get("/", params={"token": await self.token(**token_args)})
        assert response.status_code == 303, response.text
        return response.cookies[COOKIE]

    @asynccontextmanager
    async def session(self) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
        """The console page of a user who came from Odoo's button: its WebSocket, and the hello it got."""
        async with self.ws(await self.session_cookie()) as ws:
            yield ws, await receive(ws, "hello")

    def ws(self, cookie: str | None, origin: str | None = "", **headers: str) -> Any:
        """A WebSocket as the console's own page opens it (its Origin), or with the `origin` given."""
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        return websockets.connect(
            self.url.replace("http", "ws") + "/ws",
            origin=self.url if origin == "" else origin,  # type: ignore[arg-type]
            additional_headers=headers,
        )


async def start_console(redis_url: str, prefix: str, **overrides: Any) -> RunningConsole:
    port = free_port()
    values: dict[str, Any] = dict(console_host="127.0.0.1", console_port=port)
    settings = service_settings(ConsoleSettings, redis_url, prefix, **(values | overrides))
    bus = Bus(settings)
    console = Console(settings, bus)
    stop = asyncio.Event()
    task = asyncio.create_task(console.run(stop))
    await eventually(lambda: _says(console.status, "ready", "1"), timeout=10)
    return RunningConsole(console, bus, f"http://127.0.0.1:{port}", stop, task)


async def _says(status: Status, name: str, value: str) -> bool:
    return status.fields.get(name) == value


ConsoleFactory = Callable[..., Awaitable[RunningConsole]]


@pytest.fixture
async def make_console(redis_url: str, prefix: str) -> AsyncIterator[ConsoleFactory]:
    started: list[RunningConsole] = []

    async def make(**overrides: Any) -> RunningConsole:
        run = await start_console(redis_url, prefix, **overrides)
        started.append(run)
        return run

    yield make
    for run in started:
        await run.halt()


@pytest.fixture
async def gateway(running: Running) -> Running:  # noqa: F811 - the fixture imported above
    """The gateway of tests/ami_gateway, once it reports Asterisk connected (what the console reads)."""
    await eventually(lambda: _says(running.gateway.status, "ami_connected", "1"), timeout=10)
    return running


async def receive(ws: Any, kind: str, timeout: float = 10) -> dict[str, Any]:
    """The next message of one kind, skipping the others (events, status)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind or (kind != "error" and message["type"] == "error"):
                return message
