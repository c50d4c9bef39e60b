"""guard settings (environment variables)."""

from __future__ import annotations

from services.bus import BusSettings

from .rules import RulesConfig


class GuardSettings(BusSettings):
    guard_maxretry: int = 5
    guard_findtime: float = 600.0
    guard_bantime: float = 600.0
    guard_recidive_factor: float = 2.0
    guard_recidive_max: float = 604800.0
    guard_flood_rate: int = 50
    guard_scanner_challenges: int = 10
    # Never banned: loopback, and the hosts of Odoo and of the agent (add them here as CIDRs).
    guard_whitelist: str = "127.0.0.0/8,::1/128"
    guard_backend: str = "log"  # log | nftables | ipset
    guard_nft_table: str = "pbx_guard"

    def rules(self) -> RulesConfig:
        return RulesConfig(
            maxretry=self.guard_maxretry,
            findtime=self.guard_findtime,
            bantime=self.guard_bantime,
            recidive_factor=self.guard_recidive_factor,
            recidive_max=self.guard_recidive_max,
            flood_rate=self.guard_flood_rate,
            scanner_challenges=self.guard_scanner_challenges,
            whitelist=tuple(n.strip() for n in self.guard_whitelist.split(",") if n.strip()),
        )
