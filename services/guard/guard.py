"""The guard service: security events in, bans out (firewall, Redis state, Odoo through the bridge).

Per batch of events: the rules run in memory, the new bans go to the firewall in one call, then one Redis
round trip stores them and tells Odoo; the batch is acked after that. State in Redis (all under the server's
prefix): `guard:bans` (address -> JSON record with `until`), `guard:offences` (address -> "count:last"),
`guard:acl` (Odoo's access list), `guard:sources` (the sliding windows, saved once a second) and
`guard:cursor` (the last security entry counted, saved with them so a replayed entry is not counted twice).
"""

from __future__ import annotations

import asyncio
import heapq
import ipaddress
import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ResponseError

from services.bus import (
    REDIS_DOWN,
    Bus,
    Consumer,
    Entry,
    Log,
    Outcome,
    StateLog,
    Status,
    encode,
    keys,
    metrics,
    parse_iso,
)
from services.bus.bus import _sleep

from .config import GuardSettings
from .firewall import Backend, FirewallError
from .rules import Ban, Rules, normalize_address, parse_event_time

GROUP = "guard"
BANS = "guard:bans"
OFFENCES = "guard:offences"
ACL = "guard:acl"
SOURCES = "guard:sources"
CURSOR = "guard:cursor"
FIREWALL_RETRY_S = 1.0
FORGET_EVERY_S = 30.0


# One encoder for every write: json.dumps with arguments builds a new encoder on each call.
_json = json.JSONEncoder(separators=(",", ":")).encode
_string = json.encoder.encode_basestring_ascii  # a str as JSON, as json.dumps writes it
_last_iso: tuple[float, str] = (0.0, "")


def _text(value: Any) -> str:
    """A field value as encode() writes it (a restored record may hold odd types)."""
    return value if type(value) is str else encode({"v": value})["v"]


def iso(ts: float) -> str:
    """An epoch time as ISO 8601 UTC. The bans of one batch share their `until`: the last answer is kept."""
    global _last_iso
    if not ts:
        return ""
    if _last_iso[0] != ts:
        _last_iso = (ts, datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return _last_iso[1]


def _write_hash(pipe: Any, key: str, values: dict[str, str | None]) -> None:
    """Queue on `pipe` the writes that make hash `key` hold `values`: HSET the strings, HDEL the Nones."""
    if kept := {k: v for k, v in values.items() if v is not None}:
        pipe.hset(key, mapping=kept)
    if gone := [k for k, v in values.items() if v is None]:
        pipe.hdel(key, *gone)


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class BanRecord:
    address: str
    reason: str
    count: int
    until: float  # epoch seconds; 0 = permanent
    offence: int
    banned_at: float
    source: str  # rules | odoo:<login> | ...
    entry: str = ""  # the bus entry that caused it (the last failure, or Odoo's command)

    def seconds_left(self, now: float) -> float:
        return 0.0 if not self.until else self.until - now

    def json(self) -> str:
        """The record as stored in `guard:bans` (what `restore` reads back): json.dumps(asdict(record)),
        compact. Written directly when the types are the usual ones (a flood brings thousands a second)."""
        a, r, so, e, c, o, u, b = (
            self.address,
            self.reason,
            self.source,
            self.entry,
            self.count,
            self.offence,
            self.until,
            self.banned_at,
        )
        if (
            type(a) is type(r) is type(so) is type(e) is str
            and type(c) is type(o) is int
            and type(u) is type(b) is float
            and math.isfinite(u)
            and math.isfinite(b)
        ):
            # repr() of an int or a finite float is what json writes; the strings go through json's own.
            return (
                f'{{"address":{_string(a)},"reason":{_string(r)},"count":{c!r},"until":{u!r},'
                f'"offence":{o!r},"banned_at":{b!r},"source":{_string(so)},"entry":{_string(e)}}}'
            )
        return _json(asdict(self))

    def fields(self) -> dict[str, str]:
        return {
            "address": _text(self.address),
            "reason": _text(self.reason),
            "count": str(self.count),
            "until": iso(self.until),
            "offence": str(self.offence),
            "source": _text(self.source),
        }


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
        # What the firewall has not taken yet (it refused, or was not ready): retried until it does.
        self.to_apply: dict[str, BanRecord] = {}
        self.to_remove: set[str] = set()
        self.replace: set[str] = set()  # may be in the firewall already with another time
        self.deny_pending = False
        self.backend_ready = False
        self._fw_retry_at = 0.0
        self._next_forget = 0.0
        self._fw_state = StateLog(Log("guard.firewall", server=bus.server), f"firewall {backend.name}")
        # Redis writes not done yet, in order: ("ban", record) | ("unban", record, reason) | ("acl", json).
        self.outbox: list[tuple[Any, ...]] = []
        self.cursor: tuple[int, int] = (0, 0)
        self.event_clock = 0.0  # the newest event time seen: windows follow the events, not the wall clock
        self.events_seen = 0
        self.bans_total = 0
        self.on_applied: Callable[[list[str]], None] | None = None  # benchmarks: the firewall has these
        metrics.GUARD_ACTIVE_BANS.watch(self, lambda g: len(g.bans), server=bus.server)
        pending = metrics.GUARD_FIREWALL_PENDING
        pending.watch(self, lambda g: len(g.to_apply) + len(g.to_remove), server=bus.server)

    # -- firewall -------------------------------------------------------------------------------------------

    async def sync_firewall(self, force: bool = False) -> None:
        """Give the firewall what it has not taken yet; a refusal is logged and retried, never raised."""
        if not force and self.clock() < self._fw_retry_at:
            return
        try:
            if not self.backend_ready:
                await self.backend.setup()
                self.backend_ready = True
            if self.deny_pending:
                await self.backend.set_denied(self.rules.denied)
                self.deny_pending = False
            if self.to_remove:
                gone = list(self.to_remove)
                await self.backend.remove(gone)
                self.to_remove.difference_update(gone)
            if self.to_apply:
                now = self.clock()
                batch = {a: r for a, r in self.to_apply.items() if not r.until or r.until > now}
                fresh = [(a, r.seconds_left(now)) for a, r in batch.items() if a not in self.replace]
                again = [(a, r.seconds_left(now)) for a, r in batch.items() if a in self.replace]
                if fresh:
                    await self.backend.apply(fresh)
                if again:
                    await self.backend.apply(again, replace=True)
                for address, record in batch.items():
                    if self.to_apply.get(address) is record:
                        del self.to_apply[address]
                        self.replace.discard(address)
                self.to_apply = {a: r for a, r in self.to_apply.items() if not r.until or r.until > now}
                if self.on_applied is not None:
                    self.on_applied(list(batch))
            self._fw_state.set("ok")
        except (FirewallError, OSError) as exc:
            self._fw_retry_at = self.clock() + FIREWALL_RETRY_S
            metrics.GUARD_FIREWALL_ERRORS.labels(self.bus.server, self.backend.name).inc()
            self._fw_state.set(
                "refusing; will retry",
                logging.ERROR,
                error=str(exc),
                pending_bans=len(self.to_apply),
                pending_unbans=len(self.to_remove),
            )

    # -- state ----------------------------------------------------------------------------------------------

    def _record(self, ban: Ban, source: str, now: float, entry: str) -> BanRecord:
        return BanRecord(
            ban.address,
            ban.reason,
            ban.count,
            now + ban.bantime if ban.bantime > 0 else 0.0,
            ban.offence,
            now,
            source,
            entry,
        )

    def _hold(self, record: BanRecord) -> None:
        """A ban is in force: remembered, due for the firewall, due to end."""
        if record.address in self.bans or record.address in self.to_remove:
            self.replace.add(record.address)
        self.bans[record.address] = record
        self.rules.banned.add(record.address)
        self.to_remove.discard(record.address)
        self.to_apply[record.address] = record
        if record.until:
            heapq.heappush(self._expiry, (record.until, record.address))

    async def add_bans(self, records: Iterable[BanRecord]) -> None:
        """Firewall first (protection as soon as possible), then one Redis round trip stores and publishes."""
        backend, commands = self.backend.name, keys.commands("guard")
        for record in records:
            self._hold(record)
            self.outbox.append(("ban", record))
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
            self.to_apply.pop(address, None)
            self.to_remove.add(address)
            self.outbox.append(("unban", record or BanRecord(address, "", 0, 0, 0, 0, ""), reason))
            self.log.info("unbanned", address=address, reason=reason)
        await self.sync_firewall()
        await self.flush()

    async def flush(self) -> None:
        """Every pending Redis write: the state in one pipeline (each hash in one command), the entries for
        Odoo in one packed XADD round trip. On a Redis outage they all stay for the next try."""
        if not self.outbox:
            return
        items, self.outbox = self.outbox, []
        bans: dict[str, str | None] = {}  # the last word on each address wins
        acl: str | None = None
        messages: list[tuple[str, dict[str, str]]] = []
        # The envelope is encoded once per kind and flush (one `@at` for the lot); BanRecord.fields() are
        # plain strings under fixed header names, which encode() would give back as they are.
        envelopes: dict[str, dict[str, str]] = {}
        for item in items:
            kind, record = item[0], item[1]
            if kind == "acl":
                acl = record
                continue
            head = envelopes.get(kind)
            if head is None:
                head = envelopes[kind] = encode(None, **self.bus.envelope(f"guard.{kind}"))
            fields = {**head, **record.fields()}
            if kind == "ban":
                bans[record.address] = record.json()
            else:
                bans[record.address] = None
                fields["reason"] = item[2]
            messages.append((keys.TO_ODOO, fields))
        offences: dict[str, str | None] = {}  # "count:last", None once forgiven
        for address in bans:
            known = self.rules.offences.get(address)
            offences[address] = None if known is None else f"{known[0]}:{known[1]}"
        pipe = self.bus.redis.pipeline(transaction=False)
        _write_hash(pipe, self.bus.key(BANS), bans)
        _write_hash(pipe, self.bus.key(OFFENCES), offences)
        if acl is not None:
            pipe.set(self.bus.key(ACL), acl)
        try:
            await pipe.execute()
            await self.bus.publish_many(messages)
        except REDIS_DOWN:
            self.outbox = items + self.outbox
            raise

    async def save_sources(self) -> None:
        """The sliding windows and the cursor, in one transaction (so they always agree)."""
        dirty = self.rules.take_dirty_json()
        pipe = self.bus.redis.pipeline(transaction=True)
        _write_hash(pipe, self.bus.key(SOURCES), dirty)
        pipe.set(self.bus.key(CURSOR), f"{self.cursor[0]}-{self.cursor[1]}")
        try:
            await pipe.execute()
        except REDIS_DOWN:
            self.rules.dirty.update(dirty)
            raise

    async def restore(self) -> None:
        """State from Redis. Bans that ended while the guard was away are lifted (and Odoo told); the others
        go back into the firewall with the time they have left."""
        r, now = self.bus.redis, self.clock()
        for address, raw in (await r.hgetall(self.bus.key(OFFENCES))).items():
            with self._unreadable(OFFENCES, address, raw):
                count, _, last = raw.partition(":")
                self.rules.offences[address] = (int(count), float(last or now))
        acl = await r.get(self.bus.key(ACL))
        if acl:
            with self._unreadable(ACL, "", acl):
                self.rules.set_acl(json.loads(acl))
        self.deny_pending = True
        for address, raw in (await r.hgetall(self.bus.key(SOURCES))).items():
            with self._unreadable(SOURCES, address, raw):
                self.rules.load_source(address, json.loads(raw))
        cursor = await r.get(self.bus.key(CURSOR))
        if cursor:
            with self._unreadable(CURSOR, "", cursor):
                self.cursor = _stream_id(cursor)
        expired = []
        names = {f.name for f in dataclass_fields(BanRecord)}
        for address, raw in (await r.hgetall(self.bus.key(BANS))).items():
            record = None
            with self._unreadable(BANS, address, raw):
                record = BanRecord(**{k: v for k, v in json.loads(raw).items() if k in names})
            if record is None:
                continue
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
        if delivered is None or _stream_id(delivered) <= self.cursor:
            return
        start = f"({self.cursor[0]}-{self.cursor[1]}" if self.cursor != (0, 0) else "-"
        counted = 0
        while True:
            entries = await self.bus.redis.xrange(key, min=start, max=delivered, count=1000)
            if not entries:
                break
            await self.handle_security([Entry.from_fields(keys.SECURITY, i, f) for i, f in entries])
            counted += len(entries)
            start = "(" + entries[-1][0]
        self.log.info("counted again what the last run had not saved", entries=counted, up_to=delivered)

    @contextmanager
    def _unreadable(self, key: str, field: str, raw: str) -> Iterator[None]:
        """A damaged piece of state is logged and skipped; it never keeps the guard from starting."""
        try:
            yield
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.log.error(
                "unreadable guard state skipped", key=key, field=field, value=raw[:200], error=str(exc)
            )

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

    # -- handlers -------------------------------------------------------------------------------------------

    def _event_time(self, entry: Entry) -> float:
        at = parse_event_time(entry.headers.get("EventTV"))  # type: ignore[arg-type]
        if at is None:
            raw = entry.meta.get("at")
            try:
                at = parse_iso(raw).timestamp() if raw else None
            except ValueError:
                at = None
        return at if at is not None else self.clock()

    async def handle_security(self, batch: list[Entry]) -> None:
        async with self.lock:
            bans: list[tuple[Ban, str]] = []
            feed, cursor = self.rules.feed, self.cursor
            # A batch comes in stream order: only one that starts at or before the cursor (a retried batch,
            # or one saved before a restart) needs its entries compared one by one.
            first = 0
            if batch and _stream_id(batch[0].id) <= cursor:
                while first < len(batch) and _stream_id(batch[first].id) <= cursor:
                    first += 1  # counted already
            if first < len(batch):
                cursor = max(cursor, _stream_id(batch[-1].id))
            event_clock = self.event_clock
            last_tv: object = None
            at = 0.0
            for i in range(first, len(batch)):
                entry = batch[i]
                headers = entry.headers
                tv = headers.get("EventTV")
                if tv is None or tv != last_tv:  # else: the same stamp as the last event (one burst)
                    parsed = parse_event_time(tv)  # type: ignore[arg-type]
                    at = self._event_time(entry) if parsed is None else parsed
                    last_tv = None if parsed is None else tv
                if at > event_clock:
                    event_clock = at
                ban = feed(headers.get("Event", ""), headers.get("RemoteAddress"), at)  # type: ignore[arg-type]
                if ban is not None:
                    bans.append((ban, entry.id))
            self.event_clock = event_clock
            self.cursor = cursor
            self.events_seen += len(batch)
            # The batch is acked only after its bans are stored: on a Redis outage the outbox keeps them and
            # the handler raises, so the batch comes again (and is not counted twice).
            if bans:
                now = self.clock()
                await self.add_bans([self._record(b, "rules", now, entry_id) for b, entry_id in bans])
            else:
                await self.flush()

    async def handle_commands(self, batch: list[Entry]) -> Outcome:
        outcome = Outcome()
        async with self.lock:
            for entry in batch:
                log = self.log.bind(stream=entry.stream, entry=entry.id, type=entry.type)
                try:
                    await self._command(entry, log)
                except (ValueError, KeyError, TypeError) as exc:
                    log.error("command refused", error=str(exc))
                    outcome.reject[entry.id] = f"{type(exc).__name__}: {exc}"
            await self.flush()
        return outcome

    def _address(self, entry: Entry) -> str:
        raw = entry.get("address").strip()
        address = normalize_address(raw)
        if address is None:
            ipaddress.ip_address(raw)  # raises the ValueError that explains
            raise ValueError(f"{raw!r} is not an address")
        return address

    async def _command(self, entry: Entry, log: Log) -> None:
        user = entry.meta.get("user", "")
        if entry.type == "ban":
            address = self._address(entry)
            if self.rules.protected(address):
                # Tell Odoo the ban is not in force, then refuse the command (it goes to `dead` with why).
                self.outbox.append(
                    ("unban", BanRecord(address, "", 0, 0, 0, 0, ""), "never banned: whitelisted or allowed")
                )
                raise ValueError(f"{address} is whitelisted or allowed by the access list: never banned")
            raw = entry.get("bantime").strip()
            seconds = float(raw) if raw else self.settings.guard_bantime
            now = self.clock()
            reason = entry.get("reason") or f"banned by {user or '?'}"
            ban = self.rules.manual_ban(address, seconds, reason, now)
            log.info("manual ban", address=address, seconds=seconds, user=user)
            await self.add_bans([self._record(ban, f"odoo:{user}", now, entry.id)])
        elif entry.type == "unban":
            address = self._address(entry)
            log.info("manual unban", address=address, user=user)
            await self.release([address], f"unbanned by {user or '?'}", forgive=True)
        elif entry.type == "acl":
            acl = entry.json() or []
            if not isinstance(acl, list):
                raise TypeError("the access list must be a JSON list")
            denied = self.rules.set_acl(acl)
            self.outbox.append(("acl", json.dumps(acl, separators=(",", ":"))))
            self.deny_pending = True
            await self.sync_firewall()
            allowed = [a for a in self.bans if self.rules.protected(a)]
            if allowed:
                await self.release(allowed, "allowed by the access list", forgive=True)
            log.info("access list loaded", entries=len(acl), denied_networks=len(denied), user=user)
        else:
            raise ValueError(f"unknown guard command {entry.type!r}")

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
                    await self.save_sources()
                figures = self.figures()
                if any(self.status.fields.get(k) != v for k, v in figures.items()):
                    await self.status.set(**figures)  # fresh for Odoo's form; the heartbeat does the rest
                redis_state.set("ok")
            except REDIS_DOWN as exc:
                redis_state.set("unreachable; will retry", logging.WARNING, error=str(exc))
            if stopping:
                return
            await _sleep(self.tick, stop)

    def figures(self) -> dict[str, str]:
        return {
            "backend": self.backend.name,
            "backend_ready": "1" if self.backend_ready and not self.to_apply and not self.to_remove else "0",
            "active_bans": str(len(self.bans)),
            "bans_total": str(self.bans_total),
            "denied_networks": str(len(self.rules.denied)),
            "tracked_sources": str(len(self.rules.sources)),
            "events_seen": str(self.events_seen),
            "firewall_pending": str(len(self.to_apply) + len(self.to_remove)),
        }

    async def start(self, stop: asyncio.Event) -> bool:
        """Whitelist our hosts, restore the state (waiting for Redis if need be); False if stopped first."""
        await self.trust_own_hosts()
        delay = 0.2
        while not stop.is_set():
            try:
                async with self.lock:
                    await self.restore()
                await self.catch_up()
                await self.status.set(ready=1, reason="", **self.figures())
                return True
            except REDIS_DOWN as exc:
                self.log.warning("cannot read the guard state from Redis; retrying", error=str(exc))
                await _sleep(delay, stop)
                delay = min(delay * 2, 5.0)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        if not await self.start(stop):
            return
        consumer = Consumer(
            self.bus,
            GROUP,
            {keys.SECURITY: self.handle_security, keys.commands("guard"): self.handle_commands},
        )
        await asyncio.gather(consumer.run(stop), self.housekeeping(stop), self.status.heartbeat(stop))
