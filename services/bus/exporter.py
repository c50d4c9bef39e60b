"""Serving a service's metrics: GET /metrics over HTTP, and the consumer groups' lag read from Redis.

`serve()` (services/bus/service.py) starts both with `Metrics.start` and ends them with the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import metrics
from .backoff import sleep
from .bus import REDIS_DOWN, Bus
from .keys import DEAD
from .log import Log, StateLog


async def read_groups(bus: Bus) -> None:
    """Lag and pending of this process's groups, and the length of their streams and of `dead`."""
    server = bus.server
    targets = [(key, stream, group) for (s, key, group), stream in metrics.groups.items() if s == server]
    streams = {key: stream for key, stream, _ in targets}
    streams[bus.key(DEAD)] = DEAD
    pipe = bus.redis.pipeline(transaction=False)
    for key in streams:
        pipe.xlen(key)
    for key, _, _ in targets:
        pipe.xinfo_groups(key)
    replies = await pipe.execute(raise_on_error=False)
    lengths, infos_of = replies[: len(streams)], replies[len(streams) :]
    for stream, length in zip(streams.values(), lengths, strict=True):
        if isinstance(length, int):
            metrics.STREAM_LENGTH.labels(server, stream).set(length)
    for (_, stream, group), infos in zip(targets, infos_of, strict=True):
        if isinstance(infos, Exception):
            continue  # no stream yet: the group is made with it
        info = next((i for i in infos if _text(i.get("name")) == group), None)
        if info is None:
            continue
        lag = info.get("lag")
        metrics.GROUP_LAG.labels(server, stream, group).set(math.nan if lag is None else float(lag))
        metrics.GROUP_PENDING.labels(server, stream, group).set(float(info.get("pending") or 0))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def poll_groups(bus: Bus, stop: asyncio.Event, interval: float) -> None:
    state = StateLog(Log("bus.metrics", server=bus.server), "groups read")
    while not stop.is_set():
        try:
            await read_groups(bus)
            metrics.REDIS_UP.labels(bus.server).set(1)
            state.set("ok", logging.DEBUG)
        except REDIS_DOWN as exc:
            metrics.REDIS_UP.labels(bus.server).set(0)
            state.set("failing", error=str(exc))
        except Exception as exc:  # a figure never stops the service; say what broke it
            state.set("broken", logging.ERROR, error=f"{type(exc).__name__}: {exc}")
        await sleep(interval, stop)


def render() -> bytes:
    return generate_latest(metrics.REGISTRY)


class Exporter:
    """GET /metrics over plain HTTP, served by the service's own event loop (no thread, no framework)."""

    def __init__(self, host: str, port: int, log: Log) -> None:
        self.host, self.port, self.log = host, port, log
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> bool:
        """Listen; a port already taken is logged and the service runs on without metrics."""
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as exc:
            self.log.error(
                "metrics not served: cannot listen",
                host=self.host,
                port=self.port,
                error=str(exc),
                hint="set METRICS_PORT to a free port, or 0 for no metrics",
            )
            return False
        self.port = self._server.sockets[0].getsockname()[1]
        self.log.info("metrics served", url=f"http://{self.host}:{self.port}/metrics")
        return True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readline()
                while (await reader.readline()).strip():
                    pass  # the headers: nothing in them changes the answer
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method not in ("GET", "HEAD"):
                status, body, kind = "405 Method Not Allowed", b"GET only\n", "text/plain"
            elif path == "/metrics":
                status, body, kind = "200 OK", render(), CONTENT_TYPE_LATEST
            else:
                status, body, kind = "404 Not Found", b"metrics are at /metrics\n", "text/plain"
            head = f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            writer.write((head + "Connection: close\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()


class Metrics:
    """What `serve()` runs for metrics: the exporter and the groups' poller, ended with the service."""

    def __init__(
        self, exporter: Exporter | None, poller: asyncio.Task[None] | None, stop: asyncio.Event
    ) -> None:
        self.exporter, self.poller, self._stop = exporter, poller, stop

    @classmethod
    async def start(cls, service: str, settings: Any, bus: Bus) -> Metrics:
        stop = asyncio.Event()
        port = settings.metrics_port
        if port is None:
            port = metrics.DEFAULT_PORTS.get(service, 0)
        if not port:
            return cls(None, None, stop)
        metrics.SERVICE_INFO.labels(bus.server, service).set(1)
        exporter = Exporter(
            settings.metrics_host, port, Log("bus.metrics", server=bus.server, service=service)
        )
        if not await exporter.start():
            return cls(None, None, stop)
        poller = asyncio.create_task(poll_groups(bus, stop, settings.metrics_interval_s))
        return cls(exporter, poller, stop)

    async def close(self) -> None:
        self._stop.set()
        if self.poller is not None:
            await self.poller
        if self.exporter is not None:
            await self.exporter.close()
