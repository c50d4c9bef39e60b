"""The guard service: security events in, bans out (firewall, Redis state, Odoo through the bridge)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from datetime import UTC, datetime

from services.bus import Bus, Consumer, Entry, Log, Outcome, Status, encode, keys, parse_iso
from services.bus.bus import _sleep

from .config import GuardSettings
from .firewall import Backend, FirewallError
from .rules import Ban, Rules

GROUP = "guard"
BANS = "guard:bans"  # hash address -> JSON {reason, count, until, offence, banned_at}
OFFENCES = "guard:offences"  # hash address -> number of bans so far (recidive survives restarts)
ACL = "guard:acl"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts else ""


class Guard:
    def __init__(self, settings: GuardSettings, bus: Bus, backend: Backend) -> None:
        self.settings = settings
        self.bus = bus
        self.backend = backend
        self.rules = Rules(settings.rules())
        self.log = Log("guard", server=bus.server)
        self.status = Status(bus, "guard")
        self.bans: dict[str, dict] = {}
        self.unapplied: dict[str, float] = {}  # address -> until: the firewall refused, try again
        self.events_seen = 0
        self.clock = 0.0  # the newest event time seen: windows follow the events, not the wall clock
        self.ban_applied_at: dict[str, float] = {}  # for benchmarks: when the firewall got it (monotonic)

    # -- state ----------------------------------------------------------------------------------------------

    async def restore(self) -> None:
        """Bans from Redis: expired ones ended while we were away; the others go back into the firewall."""
        r = self.bus.redis
        self.rules.offences = {a: int(n) for a, n in (await r.hgetall(self.bus.key(OFFENCES))).items()}
        acl = await r.get(self.bus.key(ACL))
        if acl:
            self.rules.set_acl(json.loads(acl))
        now = time.time()
        for address, raw in (await r.hgetall(self.bus.key(BANS))).items():
            ban = json.loads(raw)
            if ban["until"] and ban["until"] <= now:
                await self._release(address, "expired while the guard was stopped")
                continue
            self.bans[address] = ban
            self.rules.banned.add(address)
            await self._apply(address, ban["until"] - now if ban["until"] else 0, ban["until"])
        self.log.info("bans restored", active=len(self.bans))

    async def _apply(self, address: str, seconds: float, until: float) -> None:
        try:
            await self.backend.ban(address, seconds)
            self.unapplied.pop(address, None)
            self.ban_applied_at[address] = time.monotonic()
        except (FirewallError, OSError) as exc:
            self.unapplied[address] = until
            self.log.error("firewall refused the ban; will retry", address=address, error=str(exc))

    async def ban(self, ban: Ban, source: str) -> None:
        await self.ban_many([ban], source)

    async def ban_many(self, bans: list[Ban], source: str) -> None:
        """Firewall first, then one round trip stores every ban and tells Odoo about it."""
        if not bans:
            return
        now = time.time()
        pipe = self.bus.redis.pipeline(transaction=False)
        for ban in bans:
            until = now + ban.bantime if ban.bantime else 0.0
            record = {
                "reason": ban.reason,
                "count": ban.count,
                "until": until,
                "offence": ban.offence,
                "banned_at": now,
                "source": source,
            }
            self.bans[ban.address] = record
            await self._apply(ban.address, ban.bantime, until)
            pipe.hset(self.bus.key(BANS), ban.address, json.dumps(record))
            pipe.hset(self.bus.key(OFFENCES), ban.address, ban.offence)
            fields = encode(
                {
                    "address": ban.address,
                    "reason": ban.reason,
                    "count": ban.count,
                    "until": _iso(until),
                    "offence": ban.offence,
                    "source": source,
                },
                **self.bus.envelope("guard.ban"),
            )
            pipe.xadd(
                self.bus.key(keys.TO_ODOO), fields, maxlen=self.bus.maxlen(keys.TO_ODOO), approximate=True
            )
            self.log.warning(
                "banned",
                address=ban.address,
                reason=ban.reason,
                count=ban.count,
                seconds=round(ban.bantime),
                offence=ban.offence,
                backend=self.backend.name,
            )
        await pipe.execute()

    async def _release(self, address: str, reason: str) -> None:
        try:
            await self.backend.unban(address)
        except (FirewallError, OSError) as exc:
            self.log.error("firewall refused the unban", address=address, error=str(exc))
        self.bans.pop(address, None)
        self.unapplied.pop(address, None)
        self.rules.released(address)
        await self.bus.redis.hdel(self.bus.key(BANS), address)
        await self.bus.publish(keys.TO_ODOO, {"address": address, "reason": reason}, type="guard.unban")
        self.log.info("unbanned", address=address, reason=reason)

    # -- handlers -------------------------------------------------------------------------------------------

    async def handle_security(self, batch: list[Entry]) -> None:
        bans: list[Ban] = []
        for entry in batch:
            at = entry.meta.get("at")
            now = parse_iso(at).timestamp() if at else time.time()
            self.clock = max(self.clock, now)
            ban = self.rules.feed(entry.get("Event"), entry.get("RemoteAddress"), now)
            if ban is not None:
                bans.append(ban)
        # The batch is acked only after its bans are stored: a crash in between replays the events.
        await self.ban_many(bans, "rules")
        self.events_seen += len(batch)

    async def handle_commands(self, batch: list[Entry]) -> Outcome:
        outcome = Outcome()
        for entry in batch:
            log = self.log.bind(stream=entry.stream, entry=entry.id)
            try:
                await self._command(entry)
            except (ValueError, KeyError, TypeError) as exc:
                log.error("command refused", type=entry.type, error=str(exc))
                outcome.reject[entry.id] = f"{type(exc).__name__}: {exc}"
        return outcome

    async def _command(self, entry: Entry) -> None:
        if entry.type == "ban":
            address = str(ipaddress.ip_address(entry.get("address").strip()))
            seconds = float(entry.get("bantime") or self.settings.guard_bantime)
            if address in self.bans:
                await self._release(address, "replaced by a manual ban")
            offence = self.rules.offences.get(address, 0) + 1
            self.rules.offences[address] = offence
            self.rules.banned.add(address)
            await self.ban(
                Ban(address, entry.get("reason") or "manual ban from Odoo", 0, seconds, offence),
                f"odoo:{entry.meta.get('user', '')}",
            )
        elif entry.type == "unban":
            address = str(ipaddress.ip_address(entry.get("address").strip()))
            await self._release(address, f"unbanned from Odoo by {entry.meta.get('user', '?')}")
        elif entry.type == "acl":
            acl = entry.json() or []
            deny = self.rules.set_acl(acl)
            await self.bus.redis.set(self.bus.key(ACL), json.dumps(acl))
            # Networks are denied for good; single addresses go into the firewall now.
            for network in deny:
                if network.num_addresses == 1:
                    address = str(network.network_address)
                    if address not in self.bans:
                        self.rules.banned.add(address)
                        await self.ban(Ban(address, "denied by the access list", 0, 0), "acl")
            for address in [a for a in self.bans if self.rules.protected(ipaddress.ip_address(a))]:
                await self._release(address, "allowed by the access list")
            self.log.info("access list loaded", entries=len(acl), deny=len(deny))
        else:
            raise ValueError(f"unknown guard command {entry.type!r}")

    async def housekeeping(self, stop: asyncio.Event) -> None:
        """End expired bans, retry refused ones, forget idle counters; once a second."""
        while not stop.is_set():
            now = time.time()
            for address, ban in list(self.bans.items()):
                if ban["until"] and ban["until"] <= now:
                    await self._release(address, "ban time over")
            for address, until in list(self.unapplied.items()):
                await self._apply(address, until - now if until else 0, until)
            if self.clock:
                self.rules.forget_idle(self.clock)
            self.status.fields.update(
                active_bans=str(len(self.bans)),
                events_seen=str(self.events_seen),
                unapplied=str(len(self.unapplied)),
            )
            await _sleep(1.0, stop)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.backend.setup()
                break
            except (FirewallError, OSError) as exc:
                self.log.error(
                    "firewall backend not ready; retrying", backend=self.backend.name, error=str(exc)
                )
                await self.status.set(ready=0, reason=f"firewall: {exc}")
                await _sleep(5.0, stop)
        await self.restore()
        await self.status.set(ready=1, reason="", backend=self.backend.name)
        consumer = Consumer(
            self.bus,
            GROUP,
            {keys.SECURITY: self.handle_security, keys.commands("guard"): self.handle_commands},
        )
        await asyncio.gather(consumer.run(stop), self.housekeeping(stop), self.status.heartbeat(stop))
