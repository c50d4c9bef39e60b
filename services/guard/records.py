"""Ban records: one ban in force, as the guard keeps it, stores it in `guard:bans` and tells Odoo of it."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from services.bus import encode, iso_utc

from .addresses import normalize_address
from .rules import MAX_BANTIME_S, Ban

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
        _last_iso = (ts, iso_utc(ts))
    return _last_iso[1]


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

    @classmethod
    def from_ban(cls, ban: Ban, source: str, now: float, entry: str) -> BanRecord:
        """The record of a ban decided now (by the rules or a person)."""
        return cls(
            ban.address,
            ban.reason,
            ban.count,
            now + ban.bantime if ban.bantime > 0 else 0.0,
            ban.offence,
            now,
            source,
            entry,
        )

    @classmethod
    def from_json(cls, key: str, raw: str, now: float) -> BanRecord:
        """The record stored under `key` in `guard:bans`, as json() wrote it. ValueError (or TypeError) when
        the guard could not have written it: a damaged or forged record must neither stop a start nor reach
        the firewall (its address goes into nft's script)."""
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        record = cls(**{k: v for k, v in data.items() if k in _FIELDS})
        if record.address != key or normalize_address(key) != key:
            raise ValueError(f"address {record.address!r} stored under {key!r}")
        for name in ("reason", "source", "entry"):
            if type(getattr(record, name)) is not str:
                raise ValueError(f"{name} is not text")
        for name in ("count", "offence"):
            value = getattr(record, name)
            if type(value) is not int or value < 0:
                raise ValueError(f"{name} is not a count: {value!r}")
        for name in ("until", "banned_at"):
            value = getattr(record, name)
            if type(value) not in (int, float) or not 0 <= value < math.inf:
                raise ValueError(f"{name} is not a time: {value!r}")
            setattr(record, name, float(value))
        if record.until > now + MAX_BANTIME_S:
            raise ValueError(f"until is further away than the longest ban: {record.until!r}")
        return record

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


_FIELDS = frozenset(f.name for f in dataclass_fields(BanRecord))
