"""What the AMI events tell about recordings: which file a channel records (VarSet MIXMONITOR_FILENAME), and
when it is over (the channel's Hangup, a MixMonitorStop, or Asterisk started again since: FullyBooted with an
Uptime shorter than the recording's age; every AMI login gets a FullyBooted too, so that alone says nothing).

Asterisk sends no MixMonitorStop when the call simply hangs up (only StopMixMonitor sends one), so the
channel's Hangup is the end. The file may still be closing then; the worker's header check waits for that.
"""

from __future__ import annotations

import json
import time
from pathlib import PurePosixPath

from services.bus import Entry, Log, parse_iso

from .state import Store

ENDS = ("Hangup", "MixMonitorStop")


class EventReader:
    def __init__(self, store: Store, dirs: tuple[str, ...], log: Log) -> None:
        self.store = store
        self.dirs = tuple(PurePosixPath(d) for d in dirs if d)
        self.log = log

    def relative(self, value: str) -> str | None:
        """The file's path inside the recordings directory, or None if it is elsewhere or not a `.wav`."""
        path = PurePosixPath(value)
        if path.is_absolute():
            for base in self.dirs:
                if path.is_relative_to(base):
                    path = path.relative_to(base)
                    break
            else:
                return None
        # MixMonitor puts a relative name in Asterisk's monitor directory.
        if not path.parts or ".." in path.parts or path.suffix != ".wav":
            return None
        return str(path)

    async def handle(self, batch: list[Entry]) -> bool:
        """Record what the batch says; True if some recording ended (the worker has something to do)."""
        redis, store = self.store.redis, self.store
        started = redis.pipeline(transaction=False)
        ended: list[str] = []
        restarted = 0.0  # when Asterisk started, if a FullyBooted said so
        for entry in batch:
            event = entry.get("Event")
            if event == "VarSet" and entry.get("Variable") == "MIXMONITOR_FILENAME":
                path = self.relative(entry.get("Value"))
                if path is None:
                    self.log.warning(
                        "a recording outside the recordings directory, or not a .wav: not taken",
                        stream=entry.stream,
                        entry=entry.id,
                        file=entry.get("Value"),
                    )
                    continue
                uniqueid = entry.get("Uniqueid")
                link = {
                    "uniqueid": uniqueid,
                    "linkedid": entry.get("Linkedid"),
                    "channel": entry.get("Channel"),
                    "ended": False,
                    "at": _when(entry),  # the gateway's clock, as a FullyBooted's is
                }
                started.hset(store.live, uniqueid, path)
                started.hset(store.links, path, json.dumps(link))
                self.log.info("recording started", stream=entry.stream, entry=entry.id, file=path)
            elif event in ENDS:
                ended.append(entry.get("Uniqueid"))
            elif event == "FullyBooted":
                try:
                    restarted = max(restarted, _when(entry) - float(entry.get("Uptime") or 0))
                except ValueError:
                    continue
        await started.execute()
        if restarted:
            ended += await self._before(restarted)  # their channels died with that Asterisk
        return await self._ended([u for u in ended if u])

    async def _before(self, moment: float) -> list[str]:
        """Uniqueids of the recordings started before `moment` (a little slack for the clocks' seconds)."""
        live = await self.store.redis.hgetall(self.store.live)
        if not live:
            return []
        links = await self.store.redis.hmget(self.store.links, list(live.values()))
        return [
            uniqueid
            for (uniqueid, _), raw in zip(live.items(), links, strict=True)
            if not raw or json.loads(raw).get("at", 0) < moment - 2
        ]

    async def _ended(self, uniqueids: list[str]) -> bool:
        if not uniqueids:
            return False
        redis, store = self.store.redis, self.store
        paths = await redis.hmget(store.live, uniqueids)
        over = [(u, p) for u, p in zip(uniqueids, paths, strict=True) if p]
        if not over:
            return False
        links = await redis.hmget(store.links, [p for _, p in over])
        pipe = redis.pipeline(transaction=True)
        now = time.time()
        for (uniqueid, path), raw in zip(over, links, strict=True):
            link = json.loads(raw) if raw else {"uniqueid": uniqueid}
            link["ended"] = True
            pipe.hset(store.links, path, json.dumps(link))
            pipe.hdel(store.live, uniqueid)
            pipe.zadd(store.queue, {path: now})
        await pipe.execute()
        self.log.info("recordings ended", count=len(over), first=over[0][1])
        return True


def _when(entry: Entry) -> float:
    at = entry.meta.get("at")
    return parse_iso(at).timestamp() if at else time.time()
