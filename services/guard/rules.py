"""The guard's rules, free of I/O: what Asterisk's security events say about each source address.

Time is always passed in (seconds, from the event's `EventTV` or a clock), so the same sequence of events
gives the same bans in tests and in life.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.bus import parse_iso

from .addresses import parse_remote_address
from .lists import Lists

FAILURES = frozenset(
    {
        "InvalidAccountID",
        "InvalidPassword",
        "ChallengeResponseFailed",
        "FailedACL",
        "RequestBadFormat",
        "RequestNotAllowed",
        "AuthMethodNotAllowed",
        "UnexpectedAddress",
    }
)
CHALLENGE = "ChallengeSent"
SUCCESS = "SuccessfulAuth"

# The longest ban: longer is a slip of the finger or a test of the guard (0 bans for good).
MAX_BANTIME_S = 366 * 86400.0


def ban_seconds(value: str | float, name: str = "bantime") -> float:
    """A ban time in seconds, checked: a finite number from 0 (for good) to MAX_BANTIME_S; else ValueError."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if not 0 <= seconds <= MAX_BANTIME_S:  # nan fails both comparisons
        raise ValueError(
            f"{name} must be 0 (for good) to {MAX_BANTIME_S:.0f} seconds (366 days), not {value!r}"
        )
    return seconds


def parse_event_time(value: str | None) -> float | None:
    """`EventTV` (`2026-11-24T20:33:20.623+0000`) as epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return parse_iso(value).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Ban:
    address: str
    reason: str
    count: int
    bantime: float  # seconds; 0 = permanent
    offence: int = 1


@dataclass
class RulesConfig:
    maxretry: int = 5
    findtime: float = 600.0
    bantime: float = 600.0  # 0 = permanent
    recidive_factor: float = 2.0
    recidive_max: float = 7 * 86400.0
    recidive_findtime: float = 86400.0  # an address banned again within this is a repeat offender
    flood_rate: int = 50  # security events per second from one address, whatever their kind
    scanner_challenges: int = 10  # challenges with no success within findtime
    max_sources: int = 200_000  # addresses tracked at once; the least recently seen go first
    whitelist: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


@dataclass(slots=True)
class _Source:
    failures: deque[float] = field(default_factory=deque)
    challenges: deque[float] = field(default_factory=deque)  # challenges not yet answered by a success
    recent: deque[float] = field(default_factory=deque)  # every event of the last second (flood)
    known_until: float = 0.0  # a client that authenticates after a challenge: never flood-banned until then
    seen: float = 0.0


def _slide(window: deque[float], now: float, horizon: float) -> int:
    """Add `now` to a sliding window and drop the times at or before `horizon`; how many are left."""
    window.append(now)
    while window and window[0] <= horizon:
        window.popleft()
    return len(window)


def _state(s: _Source) -> dict[str, Any]:
    return {"f": list(s.failures), "c": list(s.challenges), "k": s.known_until, "s": s.seen}


def _state_json(s: _Source) -> str:
    """json.dumps(_state(s)), compact, built directly: it runs over every address seen in the last second."""
    # repr() of a finite float is JSON's own form; inf and nan (never times, but who knows) have an n.
    text = (
        f'{{"f":[{",".join(map(repr, s.failures))}],"c":[{",".join(map(repr, s.challenges))}],'
        f'"k":{s.known_until!r},"s":{s.seen!r}}}'
    )
    return json.dumps(_state(s), separators=(",", ":")) if "n" in text else text


class Rules(Lists):
    """The rule engine; the whitelist and the access list (`Lists`) come before any rule."""

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config.whitelist)
        self.config = config

        self.sources: dict[str, _Source] = {}
        self.offences: dict[str, tuple[int, float]] = {}  # address -> (bans so far, time of the last)
        self.banned: set[str] = set()
        self.dirty: set[str] = set()  # sources changed since the last take_dirty()

    # -- events ---------------------------------------------------------------------------------------------

    def feed(self, event: str, remote: str | None, now: float) -> Ban | None:
        """One security event; a Ban when this event makes its source cross a line."""
        address = parse_remote_address(remote)
        if address is None or address in self.banned:
            return None
        protected = self.protected_cache.get(address)  # the cache of protected(), looked at first: hot path
        if protected or (protected is None and self.protected(address)):
            return None
        if self.denied and self.is_denied(address):
            return None  # dropped for good already
        source = self.sources.get(address)
        if source is None:
            if len(self.sources) >= self.config.max_sources:
                self._evict()
            source = self.sources[address] = _Source()
        self.dirty.add(address)
        source.seen = now
        cfg = self.config
        recent = _slide(source.recent, now, now - 1.0)
        horizon = now - cfg.findtime
        if event in FAILURES:
            if (n := _slide(source.failures, now, horizon)) >= cfg.maxretry:
                return self._ban(address, f"{n} failed authentications in {cfg.findtime:g} s", n, now)
        elif event == CHALLENGE:
            if (n := _slide(source.challenges, now, horizon)) >= cfg.scanner_challenges:
                return self._ban(address, f"scanner: {n} challenges never answered", n, now)
        elif event == SUCCESS:
            # A challenge answered: a real client. Its own failures stay counted; nobody else's are touched.
            if source.challenges and now - source.challenges[-1] <= cfg.findtime:
                source.known_until = now + cfg.findtime
            source.challenges.clear()
        if recent > cfg.flood_rate and now >= source.known_until:
            return self._ban(address, f"flood: {recent} security events in 1 s", recent, now)
        return None

    def _bantime(self, offence: int) -> float:
        cfg = self.config
        if cfg.bantime <= 0:
            return 0.0
        try:
            longer = cfg.bantime * cfg.recidive_factor ** (offence - 1)
        except OverflowError:  # some thousand offences
            longer = math.inf
        return min(longer, max(cfg.recidive_max, cfg.bantime))

    def _next_offence(self, address: str, now: float) -> int:
        count, last = self.offences.get(address, (0, 0.0))
        if now - last > self.config.recidive_findtime:
            count = 0
        self.offences[address] = (count + 1, now)
        return count + 1

    def _banned(self, address: str, now: float) -> int:
        """The address is banned from now: its window is dropped; returns its offence number."""
        self.banned.add(address)
        self.sources.pop(address, None)
        self.dirty.add(address)
        return self._next_offence(address, now)

    def _ban(self, address: str, reason: str, count: int, now: float) -> Ban:
        offence = self._banned(address, now)
        if offence > 1:
            reason = f"{reason} (offence {offence})"
        return Ban(address, reason, count, self._bantime(offence), offence)

    def manual_ban(self, address: str, seconds: float, reason: str, now: float) -> Ban:
        """A ban a person asked for: their length, still counted as an offence."""
        return Ban(address, reason, 0, max(seconds, 0.0), self._banned(address, now))

    def released(self, address: str, *, forgive: bool = False) -> None:
        """The ban ended (expiry or unban): the address starts again from a clean count.

        `forgive` (a person unbanned it) also forgets its past offences."""
        self.banned.discard(address)
        if self.sources.pop(address, None) is not None:
            self.dirty.add(address)
        if forgive:
            self.offences.pop(address, None)

    # -- memory ---------------------------------------------------------------------------------------------

    def _evict(self) -> None:
        """Too many addresses at once (a spoofed flood): forget the tenth seen longest ago."""
        ordered = sorted(self.sources.items(), key=lambda item: item[1].seen)
        for address, _ in ordered[: max(1, len(ordered) // 10)]:
            del self.sources[address]
            self.dirty.add(address)

    def forget_idle(self, now: float) -> None:
        """Drop sources with nothing in their windows, so memory follows the active addresses only."""
        horizon = now - self.config.findtime
        idle = [
            a
            for a, s in self.sources.items()
            if (not s.failures or s.failures[-1] <= horizon)
            and (not s.challenges or s.challenges[-1] <= horizon)
            and (not s.recent or s.recent[-1] <= now - 1.0)
            and s.known_until <= now
        ]
        for address in idle:
            del self.sources[address]
            self.dirty.add(address)
        expired = now - self.config.recidive_findtime
        for address in [a for a, (_, last) in self.offences.items() if last < expired]:
            del self.offences[address]

    # -- persistence ----------------------------------------------------------------------------------------

    def take_dirty(self) -> dict[str, dict[str, Any] | None]:
        """Sources changed since the last call: address -> its state, or None when it is gone."""
        return self._take_dirty(_state)

    def take_dirty_json(self) -> dict[str, str | None]:
        """take_dirty() with each state as the JSON json.dumps would write (compact)."""
        return self._take_dirty(_state_json)

    def _take_dirty(self, form: Callable[[_Source], Any]) -> dict[str, Any]:
        sources = self.sources
        out = {}
        for address in self.dirty:
            s = sources.get(address)
            out[address] = None if s is None else form(s)
        self.dirty = set()
        return out

    def load_source(self, address: str, state: Mapping[str, Any]) -> None:
        self.sources[address] = _Source(
            failures=deque(float(x) for x in state.get("f", ())),
            challenges=deque(float(x) for x in state.get("c", ())),
            known_until=float(state.get("k", 0.0)),
            seen=float(state.get("s", 0.0)),
        )
