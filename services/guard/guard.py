"""The guard service: security events in, bans out (firewall, Redis state, Odoo through the bridge).

Per batch of events: the rules run in memory, the new bans go to the firewall in one call, then one Redis
round trip stores them and tells Odoo; the batch is acked after that. The events are read in `security.py`,
Odoo's commands in `commands.py`, ban records are in `records.py`, the state in Redis in `store.py`, the
firewall's catching up in `sync.py`; here are the bans in force, the start and the loop.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import socket
import time
from collections.abc import Callable, Iterable

from redis.exceptions import ResponseError

from services.bus import (
    REDIS_DOWN,
    Backoff,
    Bus,
    Consumer,
    Entry,
    Log,
    StateLog,
    Status,
    keys,
    metrics,
    sleep,
)

from .addresses import normalize_address
from .commands import Commands
from .config import GuardSettings
from .firewall import Backend
from .records import BanRecord, iso
from .rules import Rules
from .security import SecurityEvents
from .store import ACL, BANS, CURSOR, OFFENCES, SOURCES, Store, stream_id
from .sync import FIREWALL_RETRY_S, FirewallSync

__all__ = [
    "ACL",
    "BANS",
    "CURSOR",
    "FIREWALL_RETRY_S",
    "GROUP",
    "OFFENCES",
    "SOURCES",
    "BanRecord",
    "Guard",
    "iso",
]

GROUP = "guard"
FORGET_EVERY_S = 30.0


class Guard:
    def __init__(
        self,
        settings: GuardSettings,
        bus: Bus,
        backend: Backend,
        *,
        clock: Callable[[], float] = time.time,
        tick: float = 1.0,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.backend = backend
        self.clock = clock
        self.tick = tick
        self.rules = Rules(settings.rules())
        self.log = Log("guard", server=bus.server)
        self.status = Status(bus, "guard")
        self.lock = asyncio.Lock()
        self.bans: dict[str, BanRecord] = {}
        self._expiry: list[tuple[float, str]] = []  # heap of (until, address); stale pairs are skipped
        self.firewall = FirewallSync(backend, self.rules, clock, bus.server)
        self.store = Store(bus, self.rules, self.log)
        self.cursor: tuple[int, int] = (0, 0)
        self.event_clock = 0.0  # the newest event time seen: windows follow the events, not the wall clock
        self.events_seen = 0
        self.bans_total = 0
        self._next_forget = 0.0
        self.security = SecurityEvents(self)
        self.commands = Commands(self)
        metrics.GUARD_ACTIVE_BANS.watch(self, lambda g: len(g.bans), server=bus.server)

    @property
    def to_apply(self) -> dict[str, BanRecord]:
        """Bans the firewall has not taken yet."""
        return self.firewall.to_apply

    @property
    def on_applied(self) -> Callable[[list[str]], None] | None:
        return self.firewall.on_applied

    @on_applied.setter
    def on_applied(self, callback: Callable[[list[str]], None] | None) -> None:
        self.firewall.on_applied = callback  # benchmarks: the firewall has these

    async def sync_firewall(self, force: bool = False) -> None:
        await self.firewall.sync(force)

    async def flush(self) -> None:
        await self.store.flush()

    # -- state ----------------------------------------------------------------------------------------------

    def _hold(self, record: BanRecord) -> None:
        """A ban is in force: remembered, due for the firewall, due to end."""
        self.firewall.want(record, known=record.address in self.bans)
        self.bans[record.address] = record
        self.rules.banned.add(record.address)
        if record.until:
            heapq.heappush(self._expiry, (record.until, record.address))

    async def add_bans(self, records: Iterable[BanRecord]) -> None:
        """Firewall first (protection as soon as possible), then one Redis round trip stores and publishes."""
        backend, commands = self.backend.name, keys.commands("guard")
        for record in records:
            self._hold(record)
            self.store.outbox.append(("ban", record))
            self.bans_total += 1
            metrics.GUARD_BANS.labels(self.bus.server, record.source.split(":")[0]).inc()
            self.log.warning(
                "banned",
                address=record.address,
                reason=record.reason,
                count=record.count,
                until=iso(record.until) or "permanent",
                offence=record.offence,
                source=record.source,
                backend=backend,
                stream=keys.SECURITY if record.source == "rules" else commands,
                entry=record.entry,
            )
        await self.sync_firewall()
        await self.flush()

    async def release(self, addresses: Iterable[str], reason: str, *, forgive: bool = False) -> None:
        """End bans (expiry, unban from Odoo, access list): firewall, Redis, Odoo."""
        for address in addresses:
            record = self.bans.pop(address, None)
            self.rules.released(address, forgive=forgive)
            self.firewall.drop(address)
            self.store.outbox.append(("unban", record or BanRecord(address, "", 0, 0, 0, 0, ""), reason))
            self.log.info("unbanned", address=address, reason=reason)
        await self.sync_firewall()
        await self.flush()

    async def restore(self) -> None:
        """State from Redis. Bans that ended while the guard was away are lifted (and Odoo told); the others
        go back into the firewall with the time they have left."""
        now = self.clock()
        cursor, records = await self.store.load(now)
        self.firewall.deny_pending = True
        if cursor is not None:
            self.cursor = cursor
        expired = []
        for address, record in records:
            if record.until and record.until <= now:
                self.bans[address] = record
                expired.append(address)
            else:
                self._hold(record)
        self.log.info("state restored", active=len(self.bans) - len(expired), expired=len(expired))
        await self.sync_firewall(force=True)
        if expired:
            await self.release(expired, "ban time over while the guard was stopped")

    async def catch_up(self) -> None:
        """Count again what the group delivered past the saved cursor: a guard killed between its ack and its
        next save counted those entries in memory only, and the group will not deliver them again."""
        key = self.bus.key(keys.SECURITY)
        try:
            groups = await self.bus.redis.xinfo_groups(key)
        except ResponseError:  # no stream yet
            return
        delivered = next((g["last-delivered-id"] for g in groups if g["name"] == GROUP), None)
        if delivered is None or stream_id(delivered) <= self.cursor:
            return
        start = f"({self.cursor[0]}-{self.cursor[1]}" if self.cursor != (0, 0) else "-"
        counted = 0
        while True:
            entries = await self.bus.redis.xrange(key, min=start, max=delivered, count=1000)
            if not entries:
                break
            await self.security.handle([Entry.from_fields(keys.SECURITY, i, f) for i, f in entries])
            counted += len(entries)
            start = "(" + entries[-1][0]
        self.log.info("counted again what the last run had not saved", entries=counted, up_to=delivered)

    async def trust_own_hosts(self) -> None:
        """Whitelist the addresses of Odoo, Redis and Asterisk's AMI host (never ban our own side)."""
        extra: list[str] = []
        for host in self.settings.trusted_hosts():
            address = normalize_address(host)
            if address is not None:
                extra.append(address)
                continue
            try:
                infos = await asyncio.to_thread(socket.getaddrinfo, host, None)
            except OSError as exc:
                self.log.warning("cannot resolve a host to whitelist", host=host, error=str(exc))
                continue
            extra += [a for a in (normalize_address(str(i[4][0])) for i in infos) if a]
        if extra:
            self.rules.set_whitelist([*self.settings.whitelist(), *dict.fromkeys(extra)])
            self.log.info("whitelisted our own hosts", addresses=",".join(dict.fromkeys(extra)))

    # -- the loop -------------------------------------------------------------------------------------------

    async def expire(self) -> None:
        now, due = self.clock(), []
        while self._expiry and self._expiry[0][0] <= now:
            until, address = heapq.heappop(self._expiry)
            record = self.bans.get(address)
            if record is not None and record.until == until:
                due.append(address)
        if due:
            await self.release(due, "ban time over")

    async def housekeeping(self, stop: asyncio.Event) -> None:
        """Once a tick: end bans whose time is over, retry the firewall, save the windows, report status."""
        redis_state = StateLog(self.log, "redis (guard state)")
        while True:
            stopping = stop.is_set()
            try:
                async with self.lock:
                    await self.expire()
                    await self.sync_firewall()
                    await self.flush()
                    if self.event_clock and time.monotonic() >= self._next_forget:
                        self.rules.forget_idle(self.event_clock)  # a scan of every source: not every tick
                        self._next_forget = time.monotonic() + FORGET_EVERY_S
                    await self.store.save_sources(self.cursor)
                figures = self.figures()
                if any(self.status.fields.get(k) != v for k, v in figures.items()):
                    await self.status.set(**figures)  # fresh for Odoo's form; the heartbeat does the rest
                redis_state.set("ok")
            except REDIS_DOWN as exc:
                redis_state.set("unreachable; will retry", logging.WARNING, error=str(exc))
            if stopping:
                return
            await sleep(self.tick, stop)

    def figures(self) -> dict[str, str]:
        """The status hash's figures; `degraded` (the health check reads it): bans miss the firewall."""
        error = self.firewall.error
        return {
            "backend": self.backend.name,
            "active_bans": str(len(self.bans)),
            "bans_total": str(self.bans_total),
            "denied_networks": str(len(self.rules.denied)),
            "tracked_sources": str(len(self.rules.sources)),
            "events_seen": str(self.events_seen),
            **self.firewall.figures(),
            "degraded": f"bans do not reach the firewall ({self.backend.name}): {error}" if error else "",
        }

    async def start(self, stop: asyncio.Event) -> bool:
        """Whitelist our hosts, restore the state (waiting for Redis if need be); False if stopped first."""
        await self.trust_own_hosts()
        backoff = Backoff(0.2, 5.0)
        while not stop.is_set():
            try:
                async with self.lock:
                    await self.restore()
                await self.catch_up()
                await self.status.set(ready=1, reason="", **self.figures())
                return True
            except REDIS_DOWN as exc:
                self.log.warning("cannot read the guard state from Redis; retrying", error=str(exc))
                await backoff.sleep(stop)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        if not await self.start(stop):
            return
        consumer = Consumer(
            self.bus,
            GROUP,
            {keys.SECURITY: self.security.handle, keys.commands("guard"): self.commands.handle},
        )
        await asyncio.gather(consumer.run(stop), self.housekeeping(stop), self.status.heartbeat(stop))
