"""The guard's state in Redis, all under the server's prefix.

`guard:bans` (address -> JSON record with `until`), `guard:offences` (address -> "count:last"), `guard:acl`
(Odoo's access list), `guard:sources` (the sliding windows, saved once a second) and `guard:cursor` (the last
security entry counted, saved with them so a replayed entry is not counted twice). Writes wait in an outbox
and go in one round trip with the entries that tell Odoo.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.bus import REDIS_DOWN, Bus, Log, encode, keys

from .records import BanRecord
from .rules import Rules

BANS = "guard:bans"
OFFENCES = "guard:offences"
ACL = "guard:acl"
SOURCES = "guard:sources"
CURSOR = "guard:cursor"


def _write_hash(pipe: Any, key: str, values: dict[str, str | None]) -> None:
    """Queue on `pipe` the writes that make hash `key` hold `values`: HSET the strings, HDEL the Nones."""
    if kept := {k: v for k, v in values.items() if v is not None}:
        pipe.hset(key, mapping=kept)
    if gone := [k for k, v in values.items() if v is None]:
        pipe.hdel(key, *gone)


def stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Store:
    def __init__(self, bus: Bus, rules: Rules, log: Log) -> None:
        self.bus = bus
        self.rules = rules
        self.log = log
        # Redis writes not done yet, in order: ("ban", record) | ("unban", record, reason) | ("acl", json).
        self.outbox: list[tuple[Any, ...]] = []

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

    async def save_sources(self, cursor: tuple[int, int]) -> None:
        """The sliding windows and the cursor, in one transaction (so they always agree)."""
        dirty = self.rules.take_dirty_json()
        pipe = self.bus.redis.pipeline(transaction=True)
        _write_hash(pipe, self.bus.key(SOURCES), dirty)
        pipe.set(self.bus.key(CURSOR), f"{cursor[0]}-{cursor[1]}")
        try:
            await pipe.execute()
        except REDIS_DOWN:
            self.rules.dirty.update(dirty)
            raise

    async def load(self, now: float) -> tuple[tuple[int, int] | None, list[tuple[str, BanRecord]]]:
        """Offences, access list and windows back into the rules; returns the saved cursor (None when there
        is none) and the ban records, by the address they are stored under."""
        r = self.bus.redis
        for address, raw in (await r.hgetall(self.bus.key(OFFENCES))).items():
            with self._unreadable(OFFENCES, address, raw):
                count, _, last = raw.partition(":")
                offences, at = int(count), float(last or now)
                if offences < 0 or not math.isfinite(at):
                    raise ValueError("not a count and a time")
                self.rules.offences[address] = (offences, at)
        acl = await r.get(self.bus.key(ACL))
        if acl:
            with self._unreadable(ACL, "", acl):
                self.rules.set_acl(json.loads(acl))
        for address, raw in (await r.hgetall(self.bus.key(SOURCES))).items():
            with self._unreadable(SOURCES, address, raw):
                self.rules.load_source(address, json.loads(raw))
        cursor = None
        saved = await r.get(self.bus.key(CURSOR))
        if saved:
            with self._unreadable(CURSOR, "", saved):
                cursor = stream_id(saved)
        records = []
        for address, raw in (await r.hgetall(self.bus.key(BANS))).items():
            with self._unreadable(BANS, address, raw):
                records.append((address, BanRecord.from_json(address, raw, now)))
        return cursor, records

    @contextmanager
    def _unreadable(self, key: str, field: str, raw: str) -> Iterator[None]:
        """A damaged piece of state is logged and skipped; it never keeps the guard from starting."""
        try:
            yield
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.log.error(
                "unreadable guard state skipped", key=key, field=field, value=raw[:200], error=str(exc)
            )
