"""Request/reply over streams: a request names its reply stream and carries an id and a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .bus import REDIS_DOWN, Bus
from .entry import Entry, HeaderInput, iso_utc, parse_iso
from .keys import replies
from .log import Log


class RequestTimeout(TimeoutError):
    """Nobody answered before the deadline."""


def new_request_id() -> str:
    return uuid.uuid4().hex


def deadline_after(seconds: float) -> str:
    return iso_utc(datetime.now(UTC) + timedelta(seconds=seconds))


def expired(request: Entry) -> bool:
    deadline = request.meta.get("deadline")
    if not deadline:
        return False
    try:
        return parse_iso(deadline) < datetime.now(UTC)
    except ValueError:
        return False


class Requester:
    """Sends requests and matches replies by id, with one reader on `replies:<name>`.

    Start it before the first request: the reader begins at the stream's current end, so no reply can slip
    past between sending and listening.
    """

    def __init__(self, bus: Bus, name: str | None = None) -> None:
        self.bus = bus
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.stream = replies(self.name)
        self._waiting: dict[str, asyncio.Future[Entry]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self.log = Log("bus.rpc", server=bus.server, stream=self.stream)

    async def start(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name=f"replies-{self.name}")
        await self._ready.wait()

    async def close(self) -> None:
        # The reader notices the flag within one XREAD block; cancelling a blocked redis-py read is not
        # dependable (its retry logic may issue the command again), so cancel only as a last resort.
        self._closing = True
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 5)
            except TimeoutError:
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader
            self._reader = None
        for fut in self._waiting.values():
            fut.cancel()

    async def request(
        self,
        stream: str,
        headers: HeaderInput | None = None,
        *,
        type: str = "action",
        timeout: float = 10.0,
        payload: Any = None,
        **meta: Any,
    ) -> Entry:
        """Publish a request on `stream` and wait for its reply; RequestTimeout when none comes in time."""
        await self.start()
        request_id = meta.pop("id", None) or new_request_id()
        fut: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = fut
        try:
            await self.bus.publish(
                stream,
                headers,
                type=type,
                payload=payload,
                id=request_id,
                reply_to=self.stream,
                deadline=deadline_after(timeout),
                **meta,
            )
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply to {type} on {stream} within {timeout:g} s") from exc
        finally:
            self._waiting.pop(request_id, None)

    async def _read(self) -> None:
        key = self.bus.key(self.stream)
        last = "$"
        while not self._closing:
            try:
                if last == "$":
                    newest = await self.bus.redis.xrevrange(key, count=1)
                    last = newest[0][0] if newest else "0-0"
                    self._ready.set()
                result = await self.bus.redis.xread({key: last}, block=1000, count=500)
            except REDIS_DOWN as exc:
                self.log.warning("reply reader lost Redis, retrying", error=str(exc))
                self._ready.set()
                await asyncio.sleep(0.5)
                continue
            for _, entries in result or []:
                for entry_id, fields in entries:
                    last = entry_id
                    entry = Entry.from_fields(self.stream, entry_id, fields)
                    fut = self._waiting.get(entry.msg_id)
                    if fut is not None and not fut.done():
                        fut.set_result(entry)
