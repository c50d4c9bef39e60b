"""Asterisk's clock against this machine's, and its timezone against the server's timezone in Odoo (the bridge
reads Cdr times, which Asterisk writes in its local time, in the zone of the server's form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .report import FAIL, OK, WARN, Check, skipped

if TYPE_CHECKING:
    from .ami import AmiFacts

CLOCK_SKEW_S = 5.0


def clock_check(facts: AmiFacts) -> Check:
    if facts.skew_s is None:
        return Check(WARN, "clock", "Asterisk's Ping gave no Timestamp: its clock cannot be compared")
    skew = facts.skew_s
    if abs(skew) > CLOCK_SKEW_S:
        way = "ahead of" if skew > 0 else "behind"
        return Check(
            WARN,
            "clock",
            f"Asterisk's clock is {abs(skew):.0f} s {way} this machine's: call times disagree",
            "run NTP (chrony, systemd-timesyncd) on the Asterisk host and here",
        )
    return Check(OK, "clock", f"Asterisk's clock agrees with this machine's ({skew:+.1f} s)")


def timezone_check(facts: AmiFacts | None, odoo_tz: str | None) -> Check:
    """Asterisk's offsets against those of the zone on the server's form in Odoo (the bridge reads Cdr times
    in that zone)."""
    if facts is None or not facts.logged_in:
        return skipped("timezone", "needs the AMI login")
    if odoo_tz is None:
        return skipped("timezone", "needs the server's configuration from Odoo")
    if not facts.offsets:
        return Check(
            WARN,
            "timezone",
            f"Asterisk's timezone cannot be read ({facts.offsets_error})",
            "give the AMI user write=reporting (Getvar), or compare `date` on the Asterisk host with the "
            f"server form's Timezone ({odoo_tz}) by hand",
        )
    try:
        zone = ZoneInfo(odoo_tz)
    except (ZoneInfoNotFoundError, ValueError):
        return Check(FAIL, "timezone", f"Odoo's server timezone {odoo_tz!r} is not a timezone name")
    year = datetime.now(UTC).year
    instants = {
        "now": datetime.now(UTC),
        "january": datetime(year, 1, 15, 12, tzinfo=UTC),
        "july": datetime(year, 7, 15, 12, tzinfo=UTC),
    }
    theirs = {k: instants[k].astimezone(zone).strftime("%z") for k in facts.offsets}
    if theirs == facts.offsets:
        return Check(
            OK, "timezone", f"Asterisk runs at UTC{facts.offsets['now']}, as {odoo_tz} on Odoo's server form"
        )
    differs = [k for k in facts.offsets if theirs[k] != facts.offsets[k]]
    if "now" in differs:
        differs = ["now"]  # the seasons would say it again
    detail = ", ".join(f"{k}: Asterisk {facts.offsets[k]}, {odoo_tz} {theirs[k]}" for k in differs)
    when = "" if "now" in differs else "part of the year "  # only DST differs: wrong in one season
    return Check(
        WARN,
        "timezone",
        f"Asterisk's local time is not {odoo_tz}'s ({detail}): Cdr times are read {when}off by that",
        "set the Timezone of the Asterisk Server form in Odoo to Asterisk's zone (or Asterisk's TZ to it)",
    )
