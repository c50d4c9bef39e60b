"""Bans and unbans the firewall has not taken yet (it refused, or was not ready): given again until it has.

One element the firewall refuses must not keep the others out (nft refuses a whole script for one bad
element): a refused batch is split until the refused elements stand alone; they wait, each alone, for the
next try, and the status says the firewall does not hold every ban.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from services.bus import Log, StateLog, metrics

from .firewall import Backend, FirewallError
from .records import BanRecord, iso
from .rules import Rules

FIREWALL_RETRY_S = 1.0
ERROR_MAX = 300  # characters of a refusal kept for the status hash (nft repeats its whole script line)


class FirewallSync:
    def __init__(self, backend: Backend, rules: Rules, clock: Callable[[], float], server: str) -> None:
        self.backend = backend
        self.rules = rules
        self.clock = clock
        self.log = Log("guard.firewall", server=server)
        self.to_apply: dict[str, BanRecord] = {}
        self.to_remove: set[str] = set()
        self.replace: set[str] = set()  # may be in the firewall already with another time
        self.refused: dict[str, str] = {}  # address -> why the firewall refused its ban, tried again alone
        self.deny_pending = False
        self.backend_ready = False
        self.error = ""  # why the firewall does not hold every ban now; "" when it does
        self.error_at = 0.0  # when it last refused (kept once it works again)
        self._retry_at = 0.0
        self._refused_retry_at = 0.0
        self._state = StateLog(self.log, f"firewall {backend.name}")
        self.on_applied: Callable[[list[str]], None] | None = None  # benchmarks: the firewall has these
        self._errors = metrics.GUARD_FIREWALL_ERRORS.labels(server, backend.name)
        metrics.GUARD_FIREWALL_PENDING.watch(self, lambda s: s.pending, server=server)

    def want(self, record: BanRecord, known: bool) -> None:
        """The firewall must drop this address for the record's time; `known`: it may hold it already."""
        if known or record.address in self.to_remove:
            self.replace.add(record.address)
        self.to_remove.discard(record.address)
        self.to_apply[record.address] = record

    def drop(self, address: str) -> None:
        """The firewall must let this address through again."""
        self.to_apply.pop(address, None)
        self.refused.pop(address, None)
        self.to_remove.add(address)

    @property
    def pending(self) -> int:
        return len(self.to_apply) + len(self.to_remove)

    @property
    def in_step(self) -> bool:
        """The firewall holds everything it should."""
        return self.backend_ready and not self.to_apply and not self.to_remove

    def figures(self) -> dict[str, str]:
        return {
            "backend_ready": "1" if self.in_step else "0",
            "firewall_pending": str(self.pending),
            "firewall_ok": "0" if self.error else "1",
            "firewall_error": self.error,
            "firewall_error_at": iso(self.error_at),
            "firewall_refused": str(len(self.refused)),
        }

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
                await self._apply(force)
        except (FirewallError, OSError) as exc:
            self._errors.inc()
            self.error_at = self.clock()
            self._retry_at = self.error_at + FIREWALL_RETRY_S
            self.error = str(exc)[:ERROR_MAX]
            self._state.set(
                "refusing; will retry",
                logging.ERROR,
                error=str(exc),
                pending_bans=len(self.to_apply),
                pending_unbans=len(self.to_remove),
            )
            return
        if self.refused:
            address, why = next(iter(self.refused.items()))
            more = f" (and {len(self.refused) - 1} more)" if len(self.refused) > 1 else ""
            self.error = f"refused the ban of {address}{more}: {why}"[:ERROR_MAX]
        else:
            self.error = ""
        self._state.set("ok")

    async def _apply(self, force: bool) -> None:
        now = self.clock()
        self.to_apply = {a: r for a, r in self.to_apply.items() if not r.until or r.until > now}
        for address in [a for a in self.refused if a not in self.to_apply]:
            del self.refused[address]
        # Refused before: each alone, once a retry is due, so that new bans never wait behind them.
        again = force or now >= self._refused_retry_at
        batch = {a: r for a, r in self.to_apply.items() if a not in self.refused or again}
        if not batch:
            return
        refused: dict[str, str] = {}
        for replace in (False, True):
            items = [(a, r.seconds_left(now)) for a, r in batch.items() if (a in self.replace) == replace]
            fresh = [i for i in items if i[0] not in self.refused]
            if fresh:
                refused |= await self._split(fresh, replace, checked=False)
            for item in (i for i in items if i[0] in self.refused):
                refused |= await self._split([item], replace, checked=True)
        if refused:
            self._errors.inc()  # an update the firewall took in part: the refused bans are retried
            self.error_at, self._refused_retry_at = now, now + FIREWALL_RETRY_S
        taken = []
        for address, record in batch.items():
            if address in refused:
                if address not in self.refused:
                    self.log.error(
                        "firewall refused a ban; the others went in", address=address, error=refused[address]
                    )
                self.refused[address] = refused[address]
            elif self.to_apply.get(address) is record:
                if self.refused.pop(address, None) is not None:
                    self.log.info("firewall took a ban it had refused", address=address)
                del self.to_apply[address]
                self.replace.discard(address)
                taken.append(address)
        if self.on_applied is not None and taken:
            self.on_applied(taken)

    async def _split(
        self, items: Sequence[tuple[str, float]], replace: bool, *, checked: bool
    ) -> dict[str, str]:
        """Apply `items`; the ones the firewall refuses, with why. A refused batch is halved until each
        refused element stands alone; FirewallError when the firewall refuses everything (setup fails)."""
        try:
            await (self.backend.apply(items, replace=True) if replace else self.backend.apply(items))
            return {}
        except FirewallError as exc:
            error = str(exc)
        if not checked:
            await self.backend.setup()  # raises when the firewall as a whole refuses: the batch waits whole
        if len(items) == 1:
            return {items[0][0]: error}
        half = len(items) // 2
        first = await self._split(items[:half], replace, checked=True)
        return first | await self._split(items[half:], replace, checked=True)
