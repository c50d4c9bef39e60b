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

from .state import Store, live_paths

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
        links: dict[str, str] = {}
        recording: dict[str, list[str]] = {}  # Uniqueid -> the files its VarSets named in this batch
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
                links[path] = json.dumps(link)
                recording.setdefault(uniqueid, []).append(path)
                self.log.info("recording started", stream=entry.stream, entry=entry.id, file=path)
            elif event in ENDS:
                ended.append(entry.get("Uniqueid"))
            elif event == "FullyBooted":
                try:
                    restarted = max(restarted, _when(entry) - float(entry.get("Uptime") or 0))
                except ValueError:
                    continue
        if recording:
            await self._started(links, recording)
        if restarted:
            ended += await self._before(restarted)  # their channels died with that Asterisk
        return await self._ended([u for u in ended if u])

    async def _started(self, links: dict[str, str], recording: dict[str, list[str]]) -> None:
        """Each channel's files, added to those it records already (the dialplan's and Odoo's MixMonitor)."""
        redis, store = self.store.redis, self.store
        uniqueids = list(recording)
        before = await redis.hmget(store.live, uniqueids)
        pipe = redis.pipeline(transaction=True)
        pipe.hset(store.links, mapping=links)
        for uniqueid, raw in zip(uniqueids, before, strict=True):
            paths = list(dict.fromkeys(live_paths(raw) + recording[uniqueid]))
            pipe.hset(store.live, uniqueid, json.dumps(paths))
        await pipe.execute()

    async def _before(self, moment: float) -> list[str]:
        """Uniqueids of the recordings started before `moment` (a little slack for the clocks' seconds)."""
        live = await self.store.redis.hgetall(self.store.live)
        if not live:
            return []
        firsts = {uniqueid: live_paths(raw)[:1] for uniqueid, raw in live.items()}
        paths = [p for first in firsts.values() for p in first]
        raws = await self.store.redis.hmget(self.store.links, paths) if paths else []
        links = {path: raw for path, raw in zip(paths, raws, strict=True) if raw}
        return [
            uniqueid
            for uniqueid, first in firsts.items()
            if not first or first[0] not in links or json.loads(links[first[0]]).get("at", 0) < moment - 2
        ]

    async def _ended(self, uniqueids: list[str]) -> bool:
        if not uniqueids:
            return False
        redis, store = self.store.redis, self.store
        uniqueids = list(dict.fromkeys(uniqueids))
        raws = await redis.hmget(store.live, uniqueids)
        over = [(u, p) for u, raw in zip(uniqueids, raws, strict=True) for p in live_paths(raw)]
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
