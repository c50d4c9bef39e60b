"""Asterisk's security events, a batch at a time, through the rules; the bans they earn go to the guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.bus import Entry, Outcome, parse_iso

from .records import BanRecord
from .rules import Ban, parse_event_time
from .store import stream_id

if TYPE_CHECKING:
    from .guard import Guard


class SecurityEvents:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def event_time(self, entry: Entry) -> float:
        at = parse_event_time(entry.headers.get("EventTV"))  # type: ignore[arg-type]
        if at is None:
            raw = entry.meta.get("at")
            try:
                at = parse_iso(raw).timestamp() if raw else None
            except ValueError:
                at = None
        return at if at is not None else self.guard.clock()

    async def handle(self, batch: list[Entry]) -> Outcome | None:
        guard = self.guard
        async with guard.lock:
            bans: list[tuple[Ban, str]] = []
            feed, cursor = guard.rules.feed, guard.cursor
            # A batch comes in stream order: only one that starts at or before the cursor (a retried batch,
            # or one saved before a restart) needs its entries compared one by one.
            first = 0
            if batch and stream_id(batch[0].id) <= cursor:
                while first < len(batch) and stream_id(batch[first].id) <= cursor:
                    first += 1  # counted already
            if first < len(batch):
                cursor = max(cursor, stream_id(batch[-1].id))
            event_clock = guard.event_clock
            last_tv: object = None
            at = 0.0
            outcome = None
            for i in range(first, len(batch)):
                entry = batch[i]
                headers = entry.headers
                try:
                    tv = headers.get("EventTV")
                    if tv is None or tv != last_tv:  # else: the same stamp as the last event (one burst)
                        parsed = parse_event_time(tv)  # type: ignore[arg-type]
                        at = self.event_time(entry) if parsed is None else parsed
                        last_tv = None if parsed is None else tv
                    ban = feed(headers.get("Event", ""), headers.get("RemoteAddress"), at)  # type: ignore[arg-type]
                except (TypeError, ValueError, AttributeError) as exc:
                    # An entry Asterisk would not write (a header twice): refused alone, the batch goes on.
                    outcome = outcome or Outcome()
                    outcome.reject[entry.id] = self.unusable(entry, exc)
                    continue
                if at > event_clock:
                    event_clock = at
                if ban is not None:
                    bans.append((ban, entry.id))
            guard.event_clock = event_clock
            guard.cursor = cursor
            guard.events_seen += len(batch)
            # The batch is acked only after its bans are stored: on a Redis outage the outbox keeps them and
            # the handler raises, so the batch comes again (and is not counted twice).
            if bans:
                now = guard.clock()
                await guard.add_bans([BanRecord.from_ban(b, "rules", now, entry_id) for b, entry_id in bans])
            else:
                await guard.flush()
        return outcome

    def unusable(self, entry: Entry, exc: Exception) -> str:
        """Why a security entry is refused (dead-lettered alone), logged."""
        twice = [
            name
            for name in ("Event", "RemoteAddress", "EventTV")
            if isinstance(entry.headers.get(name), list)
        ]
        error = (
            f"{' and '.join(twice)} more than once: one security event has one of each"
            if twice
            else f"{type(exc).__name__}: {exc}"
        )
        self.guard.log.error("security entry refused", stream=entry.stream, entry=entry.id, error=error)
        return error
