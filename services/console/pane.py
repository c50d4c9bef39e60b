"""The page's live pane of AMI events: filtered per page, capped per second so a busy PBX cannot flood it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from services.bus import REDIS_DOWN, Bus, Entry, keys


class EventPane:
    def __init__(self) -> None:
        self.on = False
        self.filter = ""
        self.window = 0
        self.sent = 0
        self.skipped = 0

    def wants(self, headers: dict[str, Any]) -> bool:
        if not self.filter:
            return True
        for name in ("Event", "Channel", "DestChannel"):
            value = headers.get(name)
            if isinstance(value, str) and self.filter in value.lower():
                return True
        return False

    def admit(self, per_s: int) -> bool:
        second = int(time.monotonic())
        if second != self.window:
            self.window, self.sent = second, 0
        if self.sent >= per_s:
            self.skipped += 1
            return False
        self.sent += 1
        return True

    async def stream(self, bus: Bus, per_s: int, send: Any) -> None:
        """The live pane: AMI events as they come, filtered per page, capped so a busy PBX can't flood it."""
        key = bus.key(keys.EVENTS)
        last = "$"
        while True:
            if not self.on:
                await asyncio.sleep(0.2)
                last = "$"
                continue
            try:
                result = await bus.redis.xread({key: last}, block=1000, count=200)
            except REDIS_DOWN:
                await asyncio.sleep(1)
                continue
            for _, entries in result or ():
                for entry_id, fields in entries:
                    last = entry_id
                    entry = Entry.from_fields(keys.EVENTS, entry_id, fields)
                    if entry.type != "event" or not self.wants(entry.headers):
                        continue
                    if self.admit(per_s):
                        await send({"type": "event", "id": entry_id, "headers": entry.headers})
            if self.skipped and self.sent < per_s:
                await send({"type": "skipped", "count": self.skipped})
                self.skipped = 0
