"""Stream entries: flat string fields that read well in `redis-cli XRANGE`.

Envelope fields start with `@` (AMI header names never do). A repeated header is stored as `Name`, `Name#2`,
`Name#3`... and decodes back to a list, so several `ChanVariable` or `Output` lines survive the round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Headers = dict[str, str | list[str]]
HeaderInput = Mapping[str, Any] | Iterable[tuple[str, Any]]

ENVELOPE = "@"
REPEAT = "#"


# Every time on the bus: UTC, microseconds, `Z` (`2026-11-24T20:33:20.623000Z`); it sorts as text.
ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_iso() -> str:
    return datetime.now(UTC).strftime(ISO_UTC)


def iso_utc(when: datetime | float) -> str:
    """A time (an aware datetime, or epoch seconds) as the bus writes times."""
    if not isinstance(when, datetime):
        return datetime.fromtimestamp(when, UTC).strftime(ISO_UTC)
    return when.astimezone(UTC).strftime(ISO_UTC)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 time with its offset (`Z`, `+00:00` or Asterisk's `+0000`) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else str(value)


def _check_name(name: str) -> None:
    if not name or name.startswith(ENVELOPE) or REPEAT in name:
        raise ValueError(f"invalid header name {name!r}: empty, starts with '@' or contains '#'")


def encode(headers: HeaderInput | None = None, **envelope: Any) -> dict[str, str]:
    """Flat fields for XADD: envelope keys (given without `@`) first, then the headers in order."""
    fields: dict[str, str] = {ENVELOPE + k: _text(v) for k, v in envelope.items() if v is not None}
    if headers is None:
        return fields
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        _check_name(name)
        if isinstance(value, (list, tuple)):
            for one in value:
                _put(fields, name, _text(one))
        else:
            _put(fields, name, _text(value))
    return fields


def _put(fields: dict[str, str], name: str, value: str) -> None:
    if name not in fields:
        fields[name] = value
        return
    n = 2
    while f"{name}{REPEAT}{n}" in fields:
        n += 1
    fields[f"{name}{REPEAT}{n}"] = value


def encode_pairs(pairs: Iterable[tuple[str, str]], envelope: dict[str, str]) -> dict[str, str]:
    """Hot path of the gateway: pairs straight from the AMI parser, envelope already `@`-prefixed."""
    fields = dict(envelope)
    for name, value in pairs:
        if name in fields:
            _put(fields, name, value)
        else:
            fields[name] = value
    return fields


def decode(fields: Mapping[str, str]) -> tuple[Headers, dict[str, str]]:
    """(headers, envelope): repeated headers back as lists, envelope keys without their `@`."""
    headers: Headers = {}
    envelope: dict[str, str] = {}
    for name, value in fields.items():
        if name.startswith(ENVELOPE):
            envelope[name[1:]] = value
            continue
        if REPEAT not in name:  # the common case, and rpartition is not free
            headers[name] = value
            continue
        base, sep, n = name.rpartition(REPEAT)
        if sep and n.isdigit() and base in headers:
            current = headers[base]
            if isinstance(current, list):
                current.append(value)
            else:
                headers[base] = [current, value]
        else:
            headers[name] = value
    return headers, envelope


@dataclass
class Entry:
    """One decoded stream entry. `stream` is relative to the server (`events`, `commands:guard`)."""

    stream: str
    id: str
    headers: Headers
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_fields(cls, stream: str, entry_id: str, fields: Mapping[str, str]) -> Entry:
        headers, meta = decode(fields)
        return cls(stream, entry_id, headers, meta)

    @property
    def type(self) -> str:
        return self.meta.get("type", "")

    @property
    def msg_id(self) -> str:
        return self.meta.get("id", "")

    @property
    def server(self) -> str:
        return self.meta.get("server", "")

    @property
    def reply_to(self) -> str:
        return self.meta.get("reply_to", "")

    def get(self, name: str, default: str = "") -> str:
        """First value of a header, case-insensitive as AMI is."""
        value = self.headers.get(name)
        if value is None:
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), None)
        if value is None:
            return default
        return value[0] if isinstance(value, list) else value

    def json(self) -> Any:
        """The structured payload kept in `@json`, or None."""
        raw = self.meta.get("json")
        return json.loads(raw) if raw else None

    def as_item(self) -> dict[str, Any]:
        """Headers and `@`-envelope in one dict, as Odoo receives an item."""
        item: dict[str, Any] = {ENVELOPE + k: v for k, v in self.meta.items()}
        item.update(self.headers)
        item[ENVELOPE + "entry"] = self.id
        return item

    def fields(self) -> dict[str, str]:
        return encode(self.headers, **self.meta)
