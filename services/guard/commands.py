"""Odoo's commands to the guard (through the bridge): ban, unban, the access list; each answered if asked."""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING

from services.bus import REDIS_DOWN, Entry, Log, Outcome

from .addresses import normalize_address
from .records import BanRecord
from .rules import ban_seconds

if TYPE_CHECKING:
    from .guard import Guard


def command_address(entry: Entry) -> str:
    """The command's `address`, normalized; ValueError (saying why) when it is not one."""
    raw = entry.get("address").strip()
    address = normalize_address(raw)
    if address is None:
        ipaddress.ip_address(raw)  # raises the ValueError that explains
        raise ValueError(f"{raw!r} is not an address")
    return address


class Commands:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def handle(self, batch: list[Entry]) -> Outcome:
        guard = self.guard
        outcome = Outcome()
        answers: list[tuple[Entry, str]] = []  # (command, why refused or "")
        async with guard.lock:
            for entry in batch:
                log = guard.log.bind(stream=entry.stream, entry=entry.id, type=entry.type)
                try:
                    await self.run(entry, log)
                    answers.append((entry, ""))
                except (ValueError, KeyError, TypeError) as exc:
                    log.error("command refused", error=str(exc))
                    outcome.reject[entry.id] = f"{type(exc).__name__}: {exc}"
                    answers.append((entry, str(exc)))
            await guard.flush()
        for entry, error in answers:
            if entry.reply_to:
                await self.answer(entry, error)
        return outcome

    async def answer(self, entry: Entry, error: str) -> None:
        """The reply a command asked for; lost on a Redis outage (a refusal is in `dead` anyway)."""
        try:
            address = entry.get("address")
            await self.guard.bus.reply(
                entry, {"address": address} if address else None, ok=not error, error=error
            )
        except REDIS_DOWN as exc:
            self.guard.log.warning("reply lost", stream=entry.stream, entry=entry.id, error=str(exc))

    async def run(self, entry: Entry, log: Log) -> None:
        guard = self.guard
        user = entry.meta.get("user", "")
        if entry.type == "ban":
            address = command_address(entry)
            raw = entry.get("bantime").strip()
            seconds = ban_seconds(raw) if raw else guard.settings.guard_bantime
            if guard.rules.protected(address):
                # Tell Odoo the ban is not in force, then refuse the command (it goes to `dead` with why).
                guard.store.outbox.append(
                    ("unban", BanRecord(address, "", 0, 0, 0, 0, ""), "never banned: whitelisted or allowed")
                )
                raise ValueError(f"{address} is whitelisted or allowed by the access list: never banned")
            now = guard.clock()
            reason = entry.get("reason") or f"banned by {user or '?'}"
            ban = guard.rules.manual_ban(address, seconds, reason, now)
            log.info("manual ban", address=address, seconds=seconds, user=user)
            await guard.add_bans([BanRecord.from_ban(ban, f"odoo:{user}", now, entry.id)])
        elif entry.type == "unban":
            address = command_address(entry)
            log.info("manual unban", address=address, user=user)
            await guard.release([address], f"unbanned by {user or '?'}", forgive=True)
        elif entry.type == "acl":
            acl = entry.json() or []
            if not isinstance(acl, list):
                raise TypeError("the access list must be a JSON list")
            denied = guard.rules.set_acl(acl)
            guard.store.outbox.append(("acl", json.dumps(acl, separators=(",", ":"))))
            guard.firewall.deny_pending = True
            await guard.sync_firewall()
            allowed = [a for a in guard.bans if guard.rules.protected(a)]
            if allowed:
                await guard.release(allowed, "allowed by the access list", forgive=True)
            log.info("access list loaded", entries=len(acl), denied_networks=len(denied), user=user)
        else:
            raise ValueError(f"unknown guard command {entry.type!r}")
