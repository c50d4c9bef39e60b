"""The service's state in Redis: every file it knows, what it waits for, what it keeps; nothing in memory.

Keys, under the server's prefix:
- `recordings:files` hash: relative path -> the file's state (JSON, `FileState`);
- `recordings:queue` zset: paths to look at, scored by when;
- `recordings:awaiting` zset: paths sent whole, waiting for Odoo's verdict, scored by when sent;
- `recordings:expire` zset: paths stored in Odoo, scored by when the WAV is to be deleted;
- `recordings:links` hash: relative path -> what the events said (Uniqueid, Linkedid, Channel, ended);
- `recordings:live` hash: Uniqueid -> JSON list of the relative paths that channel is recording (a channel can
  be recorded twice: the dialplan's MixMonitor and the one Odoo's policy starts);
- `recordings:keys` hash: dedupe key -> relative path (to find the file a verdict is about).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from services.bus import Bus

WAITING, ENCODED, SENT = "waiting", "encoded", "sent"
STORED, REPORTED, REJECTED = "stored", "reported", "rejected"  # the ends: never looked at again


@dataclass
class FileState:
    path: str  # relative to RECORDINGS_DIR
    stage: str = WAITING
    uniqueid: str = ""
    linkedid: str = ""
    channel: str = ""
    ended: bool = False  # the events said its call (or its MixMonitor) ended
    found: float = 0.0  # when it was first seen
    checks: int = 0  # looks at an unfinished file so far (the backoff)
    status: str = ""  # what its summary says: ok | empty | truncated | invalid | unsupported
    reason: str = ""
    key: str = ""  # dedupe key
    sha256: str = ""  # of the MP3
    size: int = 0
    chunks: int = 0
    sent: int = 0  # chunks on the stream
    duration: float = 0.0
    recorded_at: str = ""  # the WAV's last write, UTC ISO
    sends: int = 0
    final_entry: str = ""  # the summary's stream id
    sent_at: float = 0.0
    done_at: float = 0.0

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> FileState:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def live_paths(raw: str | None) -> list[str]:
    """The paths of a `recordings:live` value (a single path as an older version wrote it)."""
    if not raw:
        return []
    return list(json.loads(raw)) if raw.startswith("[") else [raw]


class Store:
    def __init__(self, bus: Bus) -> None:
        self.redis = bus.redis
        self.files = bus.key("recordings:files")
        self.queue = bus.key("recordings:queue")
        self.awaiting = bus.key("recordings:awaiting")
        self.expire = bus.key("recordings:expire")
        self.links = bus.key("recordings:links")
        self.live = bus.key("recordings:live")
        self.keys = bus.key("recordings:keys")

    async def get(self, path: str) -> FileState | None:
        raw = await self.redis.hget(self.files, path)
        return FileState.load(raw) if raw else None

    async def put(self, state: FileState) -> None:
        await self.redis.hset(self.files, state.path, state.dump())

    async def link(self, path: str) -> dict[str, str]:
        raw = await self.redis.hget(self.links, path)
        return json.loads(raw) if raw else {}

    async def enqueue(self, path: str, when: float, *, only_new: bool = False) -> None:
        await self.redis.zadd(self.queue, {path: when}, nx=only_new)

    async def due(self, now: float) -> tuple[str | None, float | None]:
        """The first path due now, else None and when the next one is."""
        first = await self.redis.zrange(self.queue, 0, 0, withscores=True)
        if not first:
            return None, None
        path, when = first[0]
        return (path, when) if when <= now else (None, when)

    async def known(self) -> set[str]:
        return set(await self.redis.hkeys(self.files))

    async def forget(self, path: str, key: str = "") -> None:
        """The file is gone from disk: nothing of it is kept."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.files, path)
        pipe.hdel(self.links, path)
        pipe.zrem(self.queue, path)
        pipe.zrem(self.awaiting, path)
        pipe.zrem(self.expire, path)
        if key:
            pipe.hdel(self.keys, key)
        await pipe.execute()

    async def finish(self, state: FileState, expire_at: float | None) -> None:
        """A verdict came: the file's end state; it waits for deletion if `expire_at`."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.files, state.path, state.dump())
        pipe.zrem(self.awaiting, state.path)
        pipe.zrem(self.queue, state.path)
        pipe.hdel(self.links, state.path)
        if expire_at is not None:
            pipe.zadd(self.expire, {state.path: expire_at})
        await pipe.execute()

    async def counts(self) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self.queue)
        pipe.zcard(self.awaiting)
        pipe.zcard(self.expire)
        pipe.hlen(self.live)
        queued, awaiting, kept, live = await pipe.execute()
        return {"queued": queued, "awaiting": awaiting, "kept": kept, "recording_now": live}
