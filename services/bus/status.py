"""A service's live state as a Redis hash (`status:<service>`), for Odoo, `pbx status` and health checks."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from .bus import REDIS_DOWN, Bus
from .entry import now_iso
from .keys import status


def seconds_since_update(fields: Mapping[str, str]) -> float:
    """How old a status hash is: a live service rewrites it every beat (an empty hash counts as ancient)."""
    return time.time() - float(fields.get("updated_ts") or 0)


class Status:
    def __init__(self, bus: Bus, service: str, heartbeat_s: float = 5.0) -> None:
        self.bus = bus
        self.service = service
        self.key = bus.key(status(service))
        self.heartbeat_s = heartbeat_s
        self.fields: dict[str, str] = {
            "service": service,
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
            "started_at": now_iso(),
            "ready": "0",
        }

    async def set(self, **fields: Any) -> None:
        """Remember the fields and write them now; a Redis outage only delays the write to the next beat."""
        self.fields.update({k: "" if v is None else str(v) for k, v in fields.items()})
        try:
            await self._write()
        except REDIS_DOWN:
            pass

    async def _write(self) -> None:
        self.fields["updated_at"] = now_iso()
        self.fields["updated_ts"] = f"{time.time():.3f}"
        await self.bus.redis.hset(self.key, mapping=self.fields)

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Rewrite the hash every beat so readers can tell a live service from a dead one by `updated_ts`."""
        while not stop.is_set():
            try:
                await self._write()
            except REDIS_DOWN:
                pass
            try:
                await asyncio.wait_for(stop.wait(), self.heartbeat_s)
            except TimeoutError:
                pass
        self.fields["ready"] = "0"
        self.fields["stopped_at"] = now_iso()
        try:
            await self._write()
        except REDIS_DOWN:
            pass
