"""guard settings (environment variables)."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from pydantic import field_validator

from services.bus import BusSettings

from .rules import RulesConfig, ban_seconds


class GuardSettings(BusSettings):
    guard_maxretry: int = 5
    guard_findtime: float = 600.0
    guard_bantime: float = 600.0
    guard_recidive_factor: float = 2.0
    guard_recidive_max: float = 604800.0
    guard_recidive_findtime: float = 86400.0
    guard_flood_rate: int = 50
    guard_scanner_challenges: int = 10
    guard_max_sources: int = 200_000
    # Never banned: loopback, plus the hosts of ODOO_URL, REDIS_URL and AMI_HOST (resolved at start).
    guard_whitelist: str = "127.0.0.0/8,::1/128"
    guard_backend: str = "log"  # log | nftables | ipset
    guard_nft_table: str = "pbx_guard"
    # Read only to whitelist their hosts (the same variables the bridge and the gateway use).
    odoo_url: str = ""
    ami_host: str = ""

    @field_validator("guard_bantime", "guard_recidive_max")
    @classmethod
    def _ban_time(cls, value: float) -> float:
        return ban_seconds(value, "a ban time")

    @field_validator("guard_findtime", "guard_recidive_findtime", "guard_recidive_factor")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"must be a finite number above 0, not {value!r}")
        return value

    def rules(self) -> RulesConfig:
        return RulesConfig(
            maxretry=self.guard_maxretry,
            findtime=self.guard_findtime,
            bantime=self.guard_bantime,
            recidive_factor=self.guard_recidive_factor,
            recidive_max=self.guard_recidive_max,
            recidive_findtime=self.guard_recidive_findtime,
            flood_rate=self.guard_flood_rate,
            scanner_challenges=self.guard_scanner_challenges,
            max_sources=self.guard_max_sources,
            whitelist=self.whitelist(),
        )

    def whitelist(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.guard_whitelist.split(",") if n.strip())

    def trusted_hosts(self) -> list[str]:
        """Host names or addresses of Odoo, Redis (the agent's host) and Asterisk's AMI, to whitelist."""
        hosts = [urlsplit(self.odoo_url).hostname, urlsplit(self.redis_url).hostname, self.ami_host.strip()]
        return [h for h in dict.fromkeys(hosts) if h]
