"""Bans and unbans the firewall has not taken yet (it refused, or was not ready): given again until it has."""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.bus import Log, StateLog

from .firewall import Backend, FirewallError
from .records import BanRecord
from .rules import Rules

FIREWALL_RETRY_S = 1.0


class FirewallSync:
    def __init__(self, backend: Backend, rules: Rules, clock: Callable[[], float], server: str) -> None:
        self.backend = backend
        self.rules = rules
        self.clock = clock
        self.to_apply: dict[str, BanRecord] = {}
        self.to_remove: set[str] = set()
        self.replace: set[str] = set()  # may be in the firewall already with another time
        self.deny_pending = False
        self.backend_ready = False
        self._retry_at = 0.0
        self._state = StateLog(Log("guard.firewall", server=server), f"firewall {backend.name}")
        self.on_applied: Callable[[list[str]], None] | None = None  # benchmarks: the firewall has these

    def want(self, record: BanRecord, known: bool) -> None:
        """The firewall must drop this address for the record's time; `known`: it may hold it already."""
        if known or record.address in self.to_remove:
            self.replace.add(record.address)
        self.to_remove.discard(record.address)
        self.to_apply[record.address] = record

    def drop(self, address: str) -> None:
        """The firewall must let this address through again."""
        self.to_apply.pop(address, None)
        self.to_remove.add(address)

    @property
    def pending(self) -> int:
        return len(self.to_apply) + len(self.to_remove)

    @property
    def in_step(self) -> bool:
        """The firewall holds everything it should."""
        return self.backend_ready and not self.to_apply and not self.to_remove

    async def sync(self, force: bool = False) -> None:
        """Give the firewall what it has not taken yet; a refusal is logged and retried, never raised."""
        if not force and self.clock() < self._retry_at:
            return
        try:
            if not self.backend_ready:
                await self.backend.setup()
                self.backend_ready = True
            if self.deny_pending:
                await self.backend.set_denied(self.rules.denied)
                self.deny_pending = False
            if self.to_remove:
                gone = list(self.to_remove)
                await self.backend.remove(gone)
                self.to_remove.difference_update(gone)
            if self.to_apply:
                now = self.clock()
                batch = {a: r for a, r in self.to_apply.items() if not r.until or r.until > now}
                fresh = [(a, r.seconds_left(now)) for a, r in batch.items() if a not in self.replace]
                again = [(a, r.seconds_left(now)) for a, r in batch.items() if a in self.replace]
                if fresh:
                    await self.backend.apply(fresh)
                if again:
                    await self.backend.apply(again, replace=True)
                for address, record in batch.items():
                    if self.to_apply.get(address) is record:
                        del self.to_apply[address]
                        self.replace.discard(address)
                self.to_apply = {a: r for a, r in self.to_apply.items() if not r.until or r.until > now}
                if self.on_applied is not None:
                    self.on_applied(list(batch))
            self._state.set("ok")
        except (FirewallError, OSError) as exc:
            self._retry_at = self.clock() + FIREWALL_RETRY_S
            self._state.set(
                "refusing; will retry",
                logging.ERROR,
                error=str(exc),
                pending_bans=len(self.to_apply),
                pending_unbans=len(self.to_remove),
            )
