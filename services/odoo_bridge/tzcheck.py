"""A Cdr's times are Asterisk's local clock, read in the timezone Odoo holds for the server. When the two
disagree, a Cdr's EndTime lands hours away from the moment the Cdr arrived: said once per offset."""

from __future__ import annotations

from datetime import UTC, datetime

from services.bus import Entry, Log, parse_iso

from .normalize import local_to_utc

# Timezones differ by whole quarters of an hour: one wrong setting gives one offset, one warning.
QUARTER_S = 900


def span(seconds: int) -> str:
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class TimezoneCheck:
    def __init__(self, log: Log, server: str, tolerance_s: float) -> None:
        self.log = log
        self.server = server
        self.tolerance_s = tolerance_s
        self.warned: set[tuple[str, int]] = set()
        self.last_warning = ""

    def offset(self, entry: Entry, tz: str) -> int | None:
        """Seconds from the Cdr's arrival to its EndTime read in `tz`, when beyond the tolerance."""
        end = local_to_utc(entry.get("EndTime"), tz)
        arrived = entry.meta.get("at")
        if not end or not arrived:
            return None
        try:
            ended = datetime.strptime(end, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            delta = (ended - parse_iso(arrived)).total_seconds()
        except ValueError:
            return None
        if abs(delta) <= self.tolerance_s:
            return None
        return round(delta / QUARTER_S) * QUARTER_S or round(delta)

    def check(self, entry: Entry, tz: str) -> str | None:
        """The warning's text the first time this server's Cdrs are off by this much, else None."""
        offset = self.offset(entry, tz)
        if offset is None or (self.server, offset) in self.warned:
            return None
        self.warned.add((self.server, offset))
        text = (
            f"Cdr EndTime read in the server's timezone ({tz}) is {span(offset)} "
            f"{'later' if offset > 0 else 'earlier'} than the Cdr's arrival: the timezone set for this "
            f"server in Odoo is probably wrong, by {span(offset)}"
        )
        self.last_warning = text
        self.log.warning(
            "the server's timezone in Odoo is probably wrong",
            detail=text,
            offset_s=offset,
            tz=tz,
            stream=entry.stream,
            entry=entry.id,
        )
        return text
