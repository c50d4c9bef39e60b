"""The guard's rules, free of I/O: what Asterisk's security events say about each source address.

Time is always passed in (seconds), so the same sequence of events gives the same bans in tests and in life.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict, deque
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def parse_remote_address(value: str) -> IPAddress | None:
    """`IPV4/UDP/203.0.113.7/5060` or `IPV6/UDP/[2001:db8::1]/5060` (also without brackets) -> the address."""
    parts = value.split("/")
    if len(parts) < 3 or parts[0].upper() not in ("IPV4", "IPV6"):
        return None
    host = "/".join(parts[2:-1]) if len(parts) > 3 else parts[2]
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
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
    bantime: float = 600.0
    recidive_factor: float = 2.0
    recidive_max: float = 7 * 86400.0
    flood_rate: int = 50  # security events per second from one address, whatever their kind
    scanner_challenges: int = 10  # challenges with no success within findtime
    whitelist: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


@dataclass
class _Source:
    failures: deque[float] = field(default_factory=deque)
    challenges: deque[float] = field(default_factory=deque)
    recent: deque[float] = field(default_factory=deque)
    challenged_at: float | None = None
    known_until: float = 0.0


class Rules:
    def __init__(self, config: RulesConfig) -> None:
        self.config = config
        self.whitelist: list[IPNetwork] = [ipaddress.ip_network(n, strict=False) for n in config.whitelist]
        self.allow: list[IPNetwork] = []
        self.deny: list[IPNetwork] = []
        self.sources: dict[IPAddress, _Source] = defaultdict(_Source)
        self.offences: dict[str, int] = {}
        self.banned: set[str] = set()

    def set_acl(self, entries: list[dict[str, str]]) -> list[IPNetwork]:
        """Odoo's access list; returns the deny networks (banned for good by the caller)."""
        allow, deny = [], []
        for entry in entries:
            network = ipaddress.ip_network(str(entry["address"]).strip(), strict=False)
            (allow if entry.get("action") == "allow" else deny).append(network)
        self.allow, self.deny = allow, deny
        return deny

    def protected(self, address: IPAddress) -> bool:
        return any(address in n for n in self.whitelist) or any(address in n for n in self.allow)

    def feed(self, event: str, remote: str, now: float) -> Ban | None:
        """One security event; a Ban when this event makes its source cross a line."""
        address = parse_remote_address(remote)
        if address is None:
            return None
        key = str(address)
        if key in self.banned or self.protected(address):
            return None
        source = self.sources[address]
        cfg = self.config
        horizon = now - cfg.findtime
        source.recent.append(now)
        while source.recent and source.recent[0] <= now - 1.0:
            source.recent.popleft()
        if event == CHALLENGE:
            source.challenged_at = now
            source.challenges.append(now)
            while source.challenges and source.challenges[0] <= horizon:
                source.challenges.popleft()
        elif event == SUCCESS:
            # A challenge answered: a real client. Its own failures stay counted; nobody else's are touched.
            if source.challenged_at is not None and now - source.challenged_at <= cfg.findtime:
                source.known_until = now + cfg.findtime
            source.challenges.clear()
            source.challenged_at = None
        elif event in FAILURES:
            source.failures.append(now)
            while source.failures and source.failures[0] <= horizon:
                source.failures.popleft()
            if len(source.failures) >= cfg.maxretry:
                return self._ban(
                    key,
                    f"{len(source.failures)} failed authentications in {cfg.findtime:g} s",
                    len(source.failures),
                )
        if len(source.challenges) >= cfg.scanner_challenges:
            return self._ban(
                key, f"scanner: {len(source.challenges)} challenges never answered", len(source.challenges)
            )
        if len(source.recent) > cfg.flood_rate and now >= source.known_until:
            return self._ban(key, f"flood: {len(source.recent)} security events in 1 s", len(source.recent))
        return None

    def _ban(self, address: str, reason: str, count: int) -> Ban:
        offence = self.offences.get(address, 0) + 1
        self.offences[address] = offence
        cfg = self.config
        bantime = min(cfg.bantime * cfg.recidive_factor ** (offence - 1), cfg.recidive_max)
        self.banned.add(address)
        self.sources.pop(ipaddress.ip_address(address), None)
        return Ban(
            address, reason if offence == 1 else f"{reason} (offence {offence})", count, bantime, offence
        )

    def released(self, address: str) -> None:
        """The ban ended (expiry or unban): the address starts again from a clean count."""
        self.banned.discard(address)

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
