"""The consumer-group loop every service runs.

At-least-once: an entry is acked only after its handler returned without reporting it failed. A failed entry
stays pending and comes again (after a backoff) before anything new is read, so per-stream order holds; after
`max_deliveries` it moves to the `dead` stream with the error and its original fields. Entries left pending by
a dead consumer are taken over with XAUTOCLAIM once idle for `claim_idle_ms`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from prometheus_client import Counter
from redis.exceptions import ResponseError

from . import metrics
from .backoff import Backoff, sleep
from .bus import REDIS_DOWN, Bus
from .client import StreamBatch, StreamEntry
from .entry import Entry, now_iso
from .keys import DEAD
from .log import Log, StateLog


@dataclass
class Outcome:
    """What a handler says about its batch; entries it does not name are done and get acked."""

    retry: dict[str, str] = field(default_factory=dict)  # entry id -> error: deliver again later
    reject: dict[str, str] = field(default_factory=dict)  # entry id -> error: dead-letter now


Handler = Callable[[list[Entry]], Awaitable[Outcome | None]]
# Told of entries just dead-lettered (entry, error), e.g. to answer a requester that waits for a verdict.
DeadHook = Callable[[list[tuple[Entry, str]]], Awaitable[None]]


def default_consumer_name() -> str:
    return os.environ.get("CONSUMER_NAME") or f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Counters:
    handled: int = 0
    retried: int = 0
    dead: int = 0
    claimed: int = 0


@dataclass
class _Figures:
    """The Prometheus counters of one stream of one group (made once: `labels()` is a lookup)."""

    handled: Counter
    retried: Counter
    dead: Counter
    claimed: Counter

    @classmethod
    def of(cls, server: str, stream: str, group: str) -> _Figures:
        labels = (server, metrics.stream_label(stream), group)
        return cls(
            metrics.ENTRIES_IN.labels(*labels),
            metrics.ENTRIES_RETRIED.labels(*labels),
            metrics.ENTRIES_DEAD.labels(*labels),
            metrics.ENTRIES_CLAIMED.labels(*labels),
        )


class Consumer:
    def __init__(
        self,
        bus: Bus,
        group: str,
        handlers: Mapping[str, Handler],
        *,
        consumer: str | None = None,
        batch: int | None = None,
        block_ms: int | None = None,
        claim_idle_ms: int | None = None,
        max_deliveries: int | None = None,
        start_id: str = "0",
        on_dead: DeadHook | None = None,
    ) -> None:
        s = bus.settings
        self.bus = bus
        self.group = group
        self.handlers = dict(handlers)
        self.name = consumer or default_consumer_name()
        self.batch = batch or s.bus_batch
        self.block_ms = block_ms if block_ms is not None else s.bus_block_ms
        self.claim_idle_ms = claim_idle_ms if claim_idle_ms is not None else s.bus_claim_idle_ms
        self.max_deliveries = max_deliveries or s.bus_max_deliveries
        self.retry_max_s = s.bus_retry_max_s
        self.start_id = start_id
        self.on_dead = on_dead
        self.counters = Counters()
        self.log = Log(f"bus.consumer.{group}", server=bus.server, group=group, consumer=self.name)
        self._keys = {bus.key(stream): stream for stream in self.handlers}
        self._claim_cursor = {key: "0-0" for key in self._keys}
        self._next_claim = 0.0
        self._redis_state = StateLog(self.log, "redis")
        self._figures = {stream: _Figures.of(bus.server, stream, group) for stream in self.handlers}
        for key, stream in self._keys.items():
            metrics.track_group(bus.server, key, stream, group)

    async def ensure_groups(self) -> None:
        for key in self._keys:
            try:
                await self.bus.redis.xgroup_create(key, self.group, id=self.start_id, mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the batch in hand is finished and acked first."""
        own_pending = True  # a consumer of the same name may have left entries behind
        retry = Backoff(0.2, self.retry_max_s)  # a handler failed: its entries come again after this
        redis_down = Backoff(0.2, 5.0)
        while not stop.is_set():
            try:
                if own_pending and retry.delay:
                    await sleep(retry.delay, stop)
                    if stop.is_set():
                        break
                if self._redis_state.state != "connected":
                    await self.ensure_groups()
                    self._redis_state.set("connected")
                failed = await self._claim_stale()
                if own_pending:
                    batches = await self._read("0", block=False)
                    if not any(entries for _, entries in batches):
                        own_pending = False
                        continue
                else:
                    batches = await self._read(">", block=True)
                redis_down.reset()
                for key, entries in batches:
                    failed |= await self._handle(self._keys[key], entries)
                if failed:
                    own_pending = True
                    retry.next()
                elif not own_pending:
                    retry.reset()
            except REDIS_DOWN as exc:
                self._redis_state.set("unreachable", logging.WARNING, error=str(exc))
                own_pending = True
                await redis_down.sleep(stop)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis lost the stream (restarted without persistence): make the group again.
                self.log.warning("consumer group missing, creating it again", error=str(exc))
                await self.ensure_groups()
        self.log.info("consumer stopped", **vars(self.counters))

    async def _read(self, start: str, *, block: bool) -> StreamBatch:
        # A short block keeps the stop check responsive without cancelling a read in flight (which could
        # leave entries delivered to this consumer but never seen until the next start).
        streams = {key: start for key in self._keys}
        block_ms = self.block_ms if block else None
        return (
            await self.bus.redis.xreadgroup(self.group, self.name, streams, count=self.batch, block=block_ms)
            or []
        )

    async def _claim_stale(self) -> bool:
        now = time.monotonic()
        if now < self._next_claim:
            return False
        self._next_claim = now + max(self.claim_idle_ms / 2000, 0.5)
        failed = False
        for key, stream in self._keys.items():
            cursor, claimed, deleted = await self.bus.redis.xautoclaim(
                key, self.group, self.name, self.claim_idle_ms, self._claim_cursor[key], count=self.batch
            )
            self._claim_cursor[key] = cursor
            for entry_id in deleted or []:
                self.log.error(
                    "pending entry was trimmed before it was handled", stream=stream, entry=entry_id
                )
            if claimed:
                self.counters.claimed += len(claimed)
                self._figures[stream].claimed.inc(len(claimed))
                self.log.info("claimed stale entries", stream=stream, count=len(claimed), first=claimed[0][0])
                failed |= await self._handle(stream, claimed)
        return failed

    async def _handle(self, stream: str, raw: list[StreamEntry]) -> bool:
        """Run the handler on one stream's batch, ack what succeeded; True if some entries must come again."""
        key = self.bus.key(stream)
        entries: list[Entry] = []
        lost: list[str] = []
        for entry_id, fields in raw:
            if fields:
                entries.append(Entry.from_fields(stream, entry_id, fields))
            else:
                lost.append(entry_id)
        if lost:
            self.log.error(
                "pending entries were trimmed before they were handled",
                stream=stream,
                count=len(lost),
                first=lost[0],
            )
            await self.bus.redis.xack(key, self.group, *lost)
        if not entries:
            return False
        handler = self.handlers[stream]
        try:
            outcome = await handler(entries) or Outcome()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the handler's failure is the batch's, never the loop's
            error = f"{type(exc).__name__}: {exc}"
            self.log.warning(
                "handler failed, batch will be delivered again",
                stream=stream,
                entry=entries[0].id,
                count=len(entries),
                error=error,
            )
            outcome = Outcome(retry={e.id: error for e in entries})
        done = [e.id for e in entries if e.id not in outcome.retry and e.id not in outcome.reject]
        if done:
            await self.bus.ack(key, self.group, done)
            self.counters.handled += len(done)
            self._figures[stream].handled.inc(len(done))
        dead = dict(outcome.reject)
        retry = {i: err for i, err in outcome.retry.items() if i not in dead}
        deliveries: dict[str, int] = {}
        if retry or dead:
            deliveries = await self._deliveries(key, list(retry) + list(dead))
            for entry_id, error in list(retry.items()):
                if deliveries.get(entry_id, 0) >= self.max_deliveries:
                    dead[entry_id] = error
                    del retry[entry_id]
        if dead:
            by_id = {e.id: e for e in entries}
            await self._dead_letter(
                key, stream, [(by_id[i], err, deliveries.get(i, 0)) for i, err in dead.items()]
            )
        self.counters.retried += len(retry)
        self._figures[stream].retried.inc(len(retry))
        return bool(retry)

    async def _deliveries(self, key: str, ids: list[str]) -> dict[str, int]:
        pipe = self.bus.redis.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xpending_range(key, self.group, min=entry_id, max=entry_id, count=1)
        counts: dict[str, int] = {}
        for entry_id, rows in zip(ids, await pipe.execute(), strict=True):
            counts[entry_id] = rows[0]["times_delivered"] if rows else 0
        return counts

    async def _dead_letter(self, key: str, stream: str, items: list[tuple[Entry, str, int]]) -> None:
        dead_key = self.bus.key(DEAD)
        pipe = self.bus.redis.pipeline(transaction=True)
        for entry, error, deliveries in items:
            fields = {
                "@source": stream,
                "@source_id": entry.id,
                "@group": self.group,
                "@error": error,
                "@deliveries": str(deliveries),
                "@dead_at": now_iso(),
                **entry.fields(),
            }
            pipe.xadd(dead_key, fields, maxlen=self.bus.maxlen(DEAD), approximate=True)
            pipe.xack(key, self.group, entry.id)
        await pipe.execute()
        self.counters.dead += len(items)
        self._figures[stream].dead.inc(len(items))
        self.bus.count_out(DEAD, len(items))
        for entry, error, deliveries in items:
            self.log.error(
                "entry dead-lettered", stream=stream, entry=entry.id, deliveries=deliveries, error=error
            )
        if self.on_dead is not None:
            try:
                await self.on_dead([(entry, error) for entry, error, _ in items])
            except REDIS_DOWN:
                raise
            except Exception:  # the entries are dead-lettered and acked whatever the hook does
                self.log.exception("dead-letter hook failed", stream=stream, entry=items[0][0].id)
