"""Caller IDs to E.164, the server's local times to UTC, and each event's own time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

import pytz

from services.bus import iso_utc
from services.numbers import MIN_EXTERNAL_DIGITS, to_e164

__all__ = ["MIN_EXTERNAL_DIGITS", "enrich", "local_to_utc", "to_e164"]

CALLER_ID_HEADERS = (
    "CallerIDNum",
    "ConnectedLineNum",
    "DestCallerIDNum",
    "DestConnectedLineNum",
    "Source",
    "Destination",
    "Exten",
)
LOCAL_TIME_HEADERS = ("StartTime", "AnswerTime", "EndTime")


# The same few times come back event after event (a call's CDR times), and strptime costs tens of
# microseconds: the function is pure, so it is cached (to_e164 caches its own).
@lru_cache(maxsize=8192)
def local_to_utc(text: str, tz: str) -> str | None:
    """`2026-11-24 21:33:13` in the server's timezone -> the same instant in UTC, same format.

    On the autumn change an hour happens twice: Asterisk's CDR does not say which, so the later one (standard
    time) is taken. On the spring change an hour does not exist: such a time is read as standard time, which
    lands it just after the change.
    """
    if not text:
        return None
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    zone = pytz.timezone(tz or "UTC")
    try:
        local = zone.localize(naive, is_dst=None)
    except (pytz.AmbiguousTimeError, pytz.NonExistentTimeError):
        local = zone.normalize(zone.localize(naive, is_dst=False))
    return local.astimezone(pytz.UTC).strftime("%Y-%m-%d %H:%M:%S")


def event_time(item: dict[str, Any]) -> str:
    """When the event happened, UTC ISO: Asterisk's `EventTV` (security events), else its `Timestamp`
    (`timestampevents=yes`), else when the gateway received it (`@at`)."""
    tv = item.get("EventTV")
    if isinstance(tv, str) and tv:
        if len(tv) == 28 and tv.endswith("+0000"):  # what Asterisk writes: 2026-11-24T20:33:20.623+0000
            return tv[:23] + "000Z"
        try:
            return iso_utc(datetime.strptime(tv, "%Y-%m-%dT%H:%M:%S.%f%z"))
        except ValueError:
            pass
    stamp = item.get("Timestamp")
    if isinstance(stamp, str) and stamp:
        try:
            return iso_utc(float(stamp))
        except (ValueError, OverflowError, OSError):
            pass
    return item.get("@at") or ""


def enrich(item: dict[str, Any], country: str, tz: str) -> dict[str, Any]:
    """Add `@e164`, `@utc` and `@time` to an item for Odoo, keeping every original header as it was."""
    if e164 := _converted(item, CALLER_ID_HEADERS, lambda number: to_e164(number, country)):
        item["@e164"] = e164
    if utc := _converted(item, LOCAL_TIME_HEADERS, lambda time: local_to_utc(time, tz)):
        item["@utc"] = utc
    item["@time"] = event_time(item)
    return item


def _converted(
    item: dict[str, Any], names: Iterable[str], convert: Callable[[str], str | None]
) -> dict[str, str]:
    """The headers of `names` the item has as text, converted; those that do not convert are left out."""
    out = {}
    for name in names:
        value = item.get(name)
        if isinstance(value, str) and (converted := convert(value)):
            out[name] = converted
    return out
