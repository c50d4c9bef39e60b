"""Caller IDs to E.164, the server's local times to UTC, and each event's own time."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import pytz

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


ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def event_time(item: dict) -> str:
    """When the event happened, UTC ISO: Asterisk's `EventTV` (security events), else its `Timestamp`
    (`timestampevents=yes`), else when the gateway received it (`@at`)."""
    tv = item.get("EventTV")
    if isinstance(tv, str) and tv:
        if len(tv) == 28 and tv.endswith("+0000"):  # what Asterisk writes: 2026-11-24T20:33:20.623+0000
            return tv[:23] + "000Z"
        try:
            return datetime.strptime(tv, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC).strftime(ISO_UTC)
        except ValueError:
            pass
    stamp = item.get("Timestamp")
    if isinstance(stamp, str) and stamp:
        try:
            return datetime.fromtimestamp(float(stamp), UTC).strftime(ISO_UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return item.get("@at") or ""


def enrich(item: dict, country: str, tz: str) -> dict:
    """Add `@e164`, `@utc` and `@time` to an item for Odoo, keeping every original header as it was."""
    e164 = {}
    for name in CALLER_ID_HEADERS:
        value = item.get(name)
        if isinstance(value, str) and (number := to_e164(value, country)):
            e164[name] = number
    if e164:
        item["@e164"] = e164
    utc = {}
    for name in LOCAL_TIME_HEADERS:
        value = item.get(name)
        if isinstance(value, str) and (converted := local_to_utc(value, tz)):
            utc[name] = converted
    if utc:
        item["@utc"] = utc
    item["@time"] = event_time(item)
    return item
