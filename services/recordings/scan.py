"""The directory scan and the housekeeping that comes with it: files no event announced, WAVs kept long
enough, summaries whose verdict never came, channels whose Hangup was lost."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .sender import resend
from .state import REJECTED, SENT, FileState, live_paths

if TYPE_CHECKING:
    from .service import Recordings


class Scanner:
    def __init__(self, service: Recordings) -> None:
        self.service = service

    def _list(self) -> list[str]:
        found = []
        spool = self.service.spool.resolve()
        for root, dirs, files in os.walk(self.service.dir):
            dirs[:] = [d for d in dirs if not d.startswith(".") and Path(root, d).resolve() != spool]
            found += [
                os.path.relpath(os.path.join(root, f), self.service.dir) for f in files if f.endswith(".wav")
            ]
        return found

    async def scan_once(self) -> None:
        now = time.time()
        if not self.service.dir.is_dir():
            if self.service.dir_state.set("missing", logging.ERROR):
                await self.service.status.set(ready=0, reason=f"{self.service.dir} is not a directory")
            return
        if self.service.dir_state.set("present"):
            await self.service.status.set(ready=1, reason="")
        found = await asyncio.to_thread(self._list)
        known = await self.service.store.known()
        pipe = self.service.bus.redis.pipeline(transaction=False)
        for path in (p for p in found if p not in known):
            match = self.service.uniqueid.search(Path(path).name)
            state = FileState(path, found=now, uniqueid=match.group(1) if match else "")
            pipe.hsetnx(self.service.store.files, path, state.dump())
            pipe.zadd(self.service.store.queue, {path: now}, nx=True)
        await pipe.execute()
        if len(found) > len(known):
            self.service.wake.set()
        for path in await self.service.bus.redis.zrangebyscore(self.service.store.expire, "-inf", now):
            kept = await self.service.store.get(path)
            await self.service.delete(kept or FileState(path))
            self.service.log.info("kept long enough: WAV deleted", file=path)
        await self._forget_stale_channels()
        late = now - self.service.settings.recordings_verdict_timeout_s
        for path in await self.service.bus.redis.zrangebyscore(self.service.store.awaiting, "-inf", late):
            await self._no_verdict(path, now)
        await self.service.sender.trim()
        await self.service.status.set(**await self.service.store.counts(), **self.service.counters)

    async def _forget_stale_channels(self) -> None:
        """A channel whose Hangup was lost (a gap) stays in `live` until its file is done: then it goes."""
        redis = self.service.bus.redis
        live = {
            uniqueid: live_paths(raw)
            for uniqueid, raw in (await redis.hgetall(self.service.store.live)).items()
        }
        paths = [path for each in live.values() for path in each]
        if paths:
            links = dict(zip(paths, await redis.hmget(self.service.store.links, paths), strict=True))
            gone = [uniqueid for uniqueid, each in live.items() if all(links[p] is None for p in each)]
            if gone:
                await self.service.bus.redis.hdel(self.service.store.live, *gone)

    async def _no_verdict(self, path: str, now: float) -> None:
        state = await self.service.store.get(path)
        if state is None or state.stage != SENT:
            await self.service.bus.redis.zrem(self.service.store.awaiting, path)
            return
        if await self.service.sender.bridge_holds(state.final_entry):
            await self.service.bus.redis.zadd(
                self.service.store.awaiting, {path: now}
            )  # Odoo is slow or away: wait more
            return
        log = self.service.log.bind(file=path, key=state.key, sends=state.sends)
        if state.sends >= self.service.settings.recordings_max_sends:
            state.stage, state.reason = REJECTED, f"no verdict from Odoo after {state.sends} sends"
            await self.service.store.finish(state, None)
            log.error("given up: the WAV is kept", error=state.reason)
            return
        resend(state, self.service.spool_file(path).exists())
        await self.service.store.put(state)
        await self.service.bus.redis.zrem(self.service.store.awaiting, path)
        await self.service.store.enqueue(path, now)
        log.warning("no verdict while the bridge is done with it: sending again")
        self.service.wake.set()
