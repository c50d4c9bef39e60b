"""Onto the `recordings` stream: a recording's chunks, then its summary, each written together with the file's
state in one MULTI, so that a kill at any moment leaves neither a chunk sent twice nor one skipped.

The stream is read by the bridge's group only. What that group has acked is trimmed (XTRIM MINID), and
while the bytes the bridge has not delivered pass RECORDINGS_WINDOW_BYTES the service waits: Redis holds
a bounded part of the recordings, however slow Odoo is.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

from redis.exceptions import ResponseError

from services.bus import Backoff, Bus, encode, keys

from .encode import read_chunk
from .state import ENCODED, SENT, WAITING, FileState, Store

BRIDGE_GROUP = "odoo_bridge"  # the group that delivers the stream to Odoo
VERDICTS = keys.commands("recordings")  # where the bridge answers each summary


def stream_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


class Sender:
    def __init__(self, bus: Bus, store: Store, chunk_bytes: int, window_bytes: int) -> None:
        self.bus = bus
        self.store = store
        self.stream = keys.RECORDINGS
        self.key = bus.key(self.stream)
        self.chunk_bytes = chunk_bytes
        self.window = max(1, window_bytes // chunk_bytes)

    async def send(self, state: FileState, spool: Path | None, stop: asyncio.Event) -> bool:
        """Chunks from `state.sent` on, then the summary; False if stopped first (the state says how far)."""
        redis = self.bus.redis
        while state.sent < state.chunks:
            if not await self.wait_window(stop):
                return False
            assert spool is not None
            data = await asyncio.to_thread(read_chunk, spool, state.sent, self.chunk_bytes)
            fields = self._fields(
                "recording.chunk",
                f"{state.key}:{state.sha256}:{state.sent}",
                {
                    "recording": state.key,
                    "sha256": state.sha256,
                    "index": str(state.sent),
                    "data": base64.b64encode(data).decode(),
                },
            )
            state.sent += 1
            pipe = redis.pipeline(transaction=True)
            pipe.xadd(self.key, fields, maxlen=self.bus.maxlen(self.stream), approximate=True)
            pipe.hset(self.store.files, state.path, state.dump())
            await pipe.execute()
            self.bus.count_out(self.stream)  # written outside Bus.publish, which counts its own
        state.stage, state.sends, state.sent_at = SENT, state.sends + 1, time.time()
        pipe = redis.pipeline(transaction=True)
        pipe.xadd(self.key, self._summary(state), maxlen=self.bus.maxlen(self.stream), approximate=True)
        pipe.hset(self.store.files, state.path, state.dump())
        pipe.hset(self.store.keys, state.key, state.path)
        pipe.zadd(self.store.awaiting, {state.path: state.sent_at})
        pipe.zrem(self.store.queue, state.path)
        entry_id, *_ = await pipe.execute()
        self.bus.count_out(self.stream)
        state.final_entry = entry_id
        await self.store.put(state)
        return True

    def _fields(self, type_: str, id_: str, headers: dict[str, str], **meta: Any) -> dict[str, str]:
        return encode(headers, **self.bus.envelope(type_, id=id_, **meta))

    def _summary(self, state: FileState) -> dict[str, str]:
        name = Path(state.path).name
        headers = {
            "Uniqueid": state.uniqueid,
            "Linkedid": state.linkedid,
            "Channel": state.channel,
            "status": state.status,
            "reason": state.reason,
            "file": state.path,
            "name": str(Path(name).with_suffix(".mp3")) if state.status == "ok" else name,
            "mimetype": "audio/mpeg" if state.status == "ok" else "",
            "sha256": state.sha256,
            "size": str(state.size),
            "chunks": str(state.chunks),
            "duration": f"{state.duration:.3f}",
            "recorded_at": state.recorded_at,
        }
        return self._fields("recording", state.key, headers, reply_to=VERDICTS)

    # -- the bridge's progress ------------------------------------------------------------------------------

    async def _group(self) -> dict[str, Any] | None:
        try:
            groups = await self.bus.redis.xinfo_groups(self.key)
        except ResponseError:
            return None  # no stream yet
        return next((g for g in groups if g.get("name") == BRIDGE_GROUP), None)

    async def trim(self) -> None:
        """Drop what the bridge has delivered (acked); nothing it has yet to read or is still delivering."""
        group = await self._group()
        if group is None:
            return
        last = stream_id(group["last-delivered-id"])
        floor = (last[0], last[1] + 1)
        if group.get("pending"):
            summary = await self.bus.redis.xpending(self.key, BRIDGE_GROUP)
            if summary.get("min"):
                floor = min(floor, stream_id(summary["min"]))
        await self.bus.redis.xtrim(self.key, minid=f"{floor[0]}-{floor[1]}", approximate=False)

    async def wait_window(self, stop: asyncio.Event) -> bool:
        """Wait until the bridge has delivered enough; False if stopped meanwhile."""
        backoff = Backoff(0.05, 1.0)
        while not stop.is_set():
            await self.trim()
            if await self.bus.redis.xlen(self.key) < self.window:
                return True
            await backoff.sleep(stop)
        return False

    async def bridge_holds(self, entry_id: str) -> bool:
        """Whether the bridge has still to deliver this entry (not read yet, or read and not acked)."""
        if not entry_id:
            return False  # killed between the summary and its id: unknown, so sent again (Odoo dedupes)
        group = await self._group()
        if group is None or stream_id(group["last-delivered-id"]) < stream_id(entry_id):
            return True  # not read yet (no bridge has ever read the stream: it will)
        pending = await self.bus.redis.xpending_range(
            self.key, BRIDGE_GROUP, min=entry_id, max=entry_id, count=1
        )
        return bool(pending)


def resend(state: FileState, spool_exists: bool) -> None:
    """Back to sending: from the spool if it is still there, else from the WAV."""
    state.sent, state.final_entry = 0, ""
    if state.status == "ok" and not spool_exists:
        state.stage = WAITING
    else:
        state.stage = ENCODED
