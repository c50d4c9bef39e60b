"""The guard service on a real Redis: bans stored, published for Odoo, restored, expired; Odoo's commands."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from peers.ami_peer import AmiPeer, attack, good_client, security_event
from services.bus import Bus, Entry, Log, encode, keys
from services.guard.firewall import FirewallError, LogBackend
from services.guard.guard import BANS
from tests.ami_gateway.conftest import gateway_settings, start_gateway, wait_logged_in
from tests.bus.helpers import eventually
from tests.guard.helpers import Running, guard_settings, publish_security, published, started


async def test_bans_are_published_for_odoo_and_survive_a_restart(redis_url: str, prefix: str) -> None:
    settings = guard_settings(redis_url, prefix, guard_bantime=3600)
    run = await started(settings)
    await publish_security(run.bus, list(attack(["203.0.113.7", "2001:db8::7"], attempts=5)))
    await eventually(run.has("203.0.113.7"))
    await eventually(run.has("2001:db8::7"))
    await eventually(lambda: published(run, 2))  # stored and published right after the firewall took it
    bans = {f["address"]: f for f in await run.to_odoo("guard.ban")}
    ban = bans["203.0.113.7"]
    assert ban["count"] == "5" and ban["@server"] == "asterisk1" and "failed authentications" in ban["reason"]
    until = time.time() + 3600
    assert abs(_epoch(ban["until"]) - until) < 60
    await run.close()

    again = await started(settings)
    await eventually(again.has("203.0.113.7"))  # re-applied from Redis with the time it has left
    assert 3500 < again.backend.banned["203.0.113.7"] <= 3600
    assert set(again.backend.banned) == {"203.0.113.7", "2001:db8::7"}
    assert len(await again.to_odoo("guard.ban")) == 2  # a restart does not publish the bans again
    await again.close()


async def test_a_batch_partly_counted_already_counts_only_its_new_entries(
    redis_url: str, prefix: str
) -> None:
    run = await started(guard_settings(redis_url, prefix, guard_maxretry=5))
    try:
        failures = [security_event("InvalidPassword", "203.0.113.11") for _ in range(4)]
        await publish_security(run.bus, failures[:3])
        await eventually(lambda: _seen(run, 3))
        rows = await run.bus.redis.xrange(run.bus.key(keys.SECURITY))
        ms, _, seq = rows[-1][0].partition("-")
        # As after a failed ack: the three counted already come again, one new entry behind them.
        batch = [Entry.from_fields(keys.SECURITY, i, f) for i, f in rows]
        batch.append(
            Entry.from_fields(keys.SECURITY, f"{ms}-{int(seq) + 1}", encode(failures[3], type="event"))
        )
        await run.guard.security.handle(batch)
        assert "203.0.113.11" not in run.backend.banned  # 4 failures
        await asyncio.sleep(0.01)  # the next entry id is past the made-up one
        await publish_security(run.bus, failures[:1])
        await eventually(run.has("203.0.113.11"))  # the 5th
        await eventually(lambda: published(run, 1))  # stored and published right after the firewall took it
        (ban,) = await run.to_odoo("guard.ban")
        assert ban["count"] == "5"
    finally:
        await run.close()


def _epoch(iso: str) -> float:
    from services.bus import parse_iso

    return parse_iso(iso).timestamp()


async def test_a_ban_that_expired_while_the_guard_was_down_ends_on_start(redis_url: str, prefix: str) -> None:
    settings = guard_settings(redis_url, prefix)
    bus = Bus(settings)
    old = {"address": "198.51.100.1", "reason": "old", "count": 5, "until": time.time() - 10}
    old |= {"offence": 1, "banned_at": time.time() - 610, "source": "rules"}
    live = {**old, "address": "198.51.100.2", "until": time.time() + 300}
    await bus.redis.hset(
        bus.key(BANS), mapping={"198.51.100.1": json.dumps(old), "198.51.100.2": json.dumps(live)}
    )
    run = await started(settings)
    await eventually(run.has("198.51.100.2"))
    assert "198.51.100.1" not in run.backend.banned
    (unban,) = await run.to_odoo("guard.unban")
    assert unban["address"] == "198.51.100.1" and "while the guard was stopped" in unban["reason"]
    assert not await bus.redis.hexists(bus.key(BANS), "198.51.100.1")
    assert 250 < run.backend.banned["198.51.100.2"] <= 300
    await run.close()
    await bus.close()


async def test_bans_end_by_themselves_at_their_time(redis_url: str, prefix: str) -> None:
    run = await started(guard_settings(redis_url, prefix, guard_bantime=1))
    await publish_security(run.bus, list(attack(["203.0.113.8"], attempts=5)))
    await eventually(run.has("203.0.113.8"))
    await eventually(run.lacks("203.0.113.8"))
    await eventually(lambda: published(run, 1, "guard.unban"))
    (unban,) = await run.to_odoo("guard.unban")
    assert unban["address"] == "203.0.113.8" and unban["reason"] == "ban time over"
    assert not await run.bus.redis.hexists(run.bus.key(BANS), "203.0.113.8")
    await run.close()


async def test_a_repeat_offender_is_banned_twice_as_long_even_across_a_restart(
    redis_url: str, prefix: str
) -> None:
    settings = guard_settings(redis_url, prefix, guard_bantime=1, guard_recidive_factor=60)
    run = await started(settings)
    await publish_security(run.bus, list(attack(["203.0.113.9"], attempts=5)))
    await eventually(run.has("203.0.113.9"))
    await eventually(run.lacks("203.0.113.9"))
    await run.close()
    again = await started(settings)
    await publish_security(again.bus, list(attack(["203.0.113.9"], attempts=5)))
    await eventually(again.has("203.0.113.9"))
    assert again.backend.banned["203.0.113.9"] > 30
    await eventually(lambda: published(again, 2))
    (_, second) = await again.to_odoo("guard.ban")
    assert second["offence"] == "2" and "(offence 2)" in second["reason"]
    await again.close()


async def test_counts_survive_a_restart_and_a_replayed_batch_is_not_counted_twice(
    redis_url: str, prefix: str
) -> None:
    settings = guard_settings(redis_url, prefix, guard_maxretry=5)
    run = await started(settings)
    failures = [security_event("InvalidPassword", "203.0.113.10") for _ in range(3)]
    await publish_security(run.bus, failures)
    await eventually(lambda: _seen(run, 3))
    # The same entries handed in again (as after a failed ack) change nothing.
    rows = await run.bus.redis.xrange(run.bus.key(keys.SECURITY))
    await run.guard.security.handle([Entry.from_fields(keys.SECURITY, i, f) for i, f in rows])
    assert "203.0.113.10" not in run.backend.banned
    await run.close()  # saves the windows

    again = await started(settings)
    await publish_security(again.bus, failures[:1])
    await asyncio.sleep(0.5)
    assert "203.0.113.10" not in again.backend.banned  # 4 failures
    await publish_security(again.bus, failures[:1])
    await eventually(again.has("203.0.113.10"))  # the 5th
    await eventually(lambda: published(again, 1))
    (ban,) = await again.to_odoo("guard.ban")
    assert ban["count"] == "5"
    await again.close()


async def test_entries_acked_but_not_saved_before_a_kill_are_counted_after_the_restart(
    redis_url: str, prefix: str
) -> None:
    settings = guard_settings(redis_url, prefix, guard_maxretry=5)
    # A guard read and acked three failures, then was killed before it saved its windows.
    bus = Bus(settings)
    key = bus.key(keys.SECURITY)
    await publish_security(bus, [security_event("InvalidPassword", "203.0.113.12") for _ in range(3)])
    await bus.redis.xgroup_create(key, "guard", id="0")
    ((_, read),) = await bus.redis.xreadgroup("guard", "killed-guard", {key: ">"})
    await bus.redis.xack(key, "guard", *[entry_id for entry_id, _ in read])
    await bus.close()

    run = await started(settings)
    try:
        await publish_security(run.bus, [security_event("InvalidPassword", "203.0.113.12") for _ in range(2)])
        await eventually(run.has("203.0.113.12"))  # 3 counted again + 2 new
        await eventually(lambda: published(run, 1))
        (ban,) = await run.to_odoo("guard.ban")
        assert ban["count"] == "5"
    finally:
        await run.close()


async def _seen(run: Running, n: int) -> bool:
    return run.guard.events_seen >= n


async def test_manual_ban_and_unban_from_odoo(redis_url: str, prefix: str) -> None:
    run = await started(guard_settings(redis_url, prefix))
    await run.command("ban", {"address": "192.0.2.50", "reason": "seen in logs", "bantime": "0"})
    await eventually(run.has("192.0.2.50"))
    assert run.backend.banned["192.0.2.50"] == 0  # permanent
    await eventually(lambda: published(run, 1))
    (ban,) = await run.to_odoo("guard.ban")
    assert ban["until"] == "" and ban["reason"] == "seen in logs" and ban["source"] == "odoo:admin"
    await run.command("ban", {"address": "192.0.2.51", "bantime": "120"})
    await eventually(run.has("192.0.2.51"))
    assert 110 < run.backend.banned["192.0.2.51"] <= 120
    await run.command("unban", {"address": "192.0.2.50"})
    await eventually(run.lacks("192.0.2.50"))
    await eventually(lambda: published(run, 1, "guard.unban"))
    (unban,) = await run.to_odoo("guard.unban")
    assert unban["address"] == "192.0.2.50" and "admin" in unban["reason"]
    assert "192.0.2.51" in run.backend.banned
    await run.close()


async def test_access_list_deny_drops_for_good_allow_never_bans(redis_url: str, prefix: str) -> None:
    settings = guard_settings(redis_url, prefix, guard_maxretry=3)
    run = await started(settings)
    await publish_security(run.bus, list(attack(["198.51.100.5"], attempts=3)))
    await eventually(run.has("198.51.100.5"))
    acl = [
        {"address": "203.0.113.0/24", "action": "deny", "comment": "a hostile network"},
        {"address": "2001:db8:bad::/48", "action": "deny"},
        {"address": "198.51.100.0/24", "action": "allow", "comment": "our office"},
        {"address": "127.0.0.1", "action": "deny"},  # whitelisted: never denied
    ]
    await run.command("acl", payload=acl)
    await eventually(run.lacks("198.51.100.5"))  # allowed now: its ban is lifted
    assert [str(n) for n in run.backend.denied] == ["203.0.113.0/24", "2001:db8:bad::/48"]
    await publish_security(run.bus, list(attack(["198.51.100.6", "192.0.2.77"], attempts=10)))
    await eventually(run.has("192.0.2.77"))
    assert "198.51.100.6" not in run.backend.banned
    await run.close()

    again = await started(settings)  # the list is kept in Redis and applied again on start
    await eventually(lambda: _denied(again, 2))
    await again.close()


async def _denied(run: Running, n: int) -> bool:
    return len(run.backend.denied) == n


async def test_bad_commands_are_dead_lettered_and_protected_addresses_never_banned(
    redis_url: str, prefix: str
) -> None:
    run = await started(guard_settings(redis_url, prefix, odoo_url="http://192.0.2.80:8069"))
    await run.command("ban", {"address": "not an address"})
    await run.command("ban", {"address": "127.0.0.1"})
    await run.command("ban", {"address": "192.0.2.80"})  # Odoo's host
    await run.command("acl", payload=[{"address": "10.0.0.0/8", "action": "perhaps"}])
    await run.command("reboot")

    async def dead() -> bool:
        return await run.bus.redis.xlen(run.bus.key(keys.DEAD)) == 5

    await eventually(dead)
    errors = [f["@error"] for _, f in await run.bus.redis.xrange(run.bus.key(keys.DEAD))]
    assert "does not appear to be an IPv4 or IPv6 address" in errors[0]
    assert "never banned" in errors[1] and "never banned" in errors[2]
    assert "allow or deny" in errors[3] and "unknown guard command" in errors[4]
    assert run.backend.banned == {}
    # Odoo is told the bans it asked for are not in force.
    assert {f["address"] for f in await run.to_odoo("guard.unban")} == {"127.0.0.1", "192.0.2.80"}
    await publish_security(run.bus, list(attack(["192.0.2.80"], attempts=10)))
    await eventually(lambda: _seen(run, 13))
    assert run.backend.banned == {}
    await run.close()


class FlakyBackend(LogBackend):
    """Refuses everything (setup included) until told to work."""

    def __init__(self) -> None:
        super().__init__(Log("test.firewall"))
        self.working = False
        self.refused = 0

    def _check(self) -> None:
        if not self.working:
            self.refused += 1
            raise FirewallError("nft: Operation not permitted")

    async def setup(self) -> None:
        self._check()

    async def apply(self, bans) -> None:  # type: ignore[no-untyped-def]
        self._check()
        await super().apply(bans)

    async def remove(self, addresses) -> None:  # type: ignore[no-untyped-def]
        self._check()
        await super().remove(addresses)


async def test_a_failing_firewall_is_retried_and_never_stops_the_guard(redis_url: str, prefix: str) -> None:
    backend = FlakyBackend()
    run = await started(guard_settings(redis_url, prefix), backend)
    await publish_security(run.bus, list(attack(["203.0.113.20", "203.0.113.21"], attempts=5)))
    # The bans are decided, stored and published although the firewall refuses them.
    await eventually(lambda: published(run, 2))
    await eventually(lambda: _refused(backend, 3))
    assert backend.banned == {} and not run.task.done()
    status = await run.bus.redis.hgetall(run.bus.key(keys.status("guard")))
    assert status["backend_ready"] == "0"
    backend.working = True
    await eventually(run.has("203.0.113.20"))
    await eventually(run.has("203.0.113.21"))
    # An unban the firewall refuses is retried too.
    backend.working = False
    refused = backend.refused
    await run.command("unban", {"address": "203.0.113.20"})
    await eventually(lambda: _refused(backend, refused + 2))
    assert "203.0.113.20" in backend.banned
    backend.working = True
    await eventually(run.lacks("203.0.113.20"))
    assert "203.0.113.21" in backend.banned
    await run.close()


async def _refused(backend: FlakyBackend, n: int) -> bool:
    return backend.refused >= n


async def test_status_reports_the_guard(redis_url: str, prefix: str) -> None:
    run = await started(guard_settings(redis_url, prefix))
    await publish_security(run.bus, list(attack(["203.0.113.30"], attempts=5)))
    await eventually(run.has("203.0.113.30"))

    async def reported() -> bool:
        status = await run.bus.redis.hgetall(run.bus.key(keys.status("guard")))
        return status.get("active_bans") == "1" and status.get("events_seen") == str(run.guard.events_seen)

    await eventually(reported)
    status = await run.bus.redis.hgetall(run.bus.key(keys.status("guard")))
    assert status["backend"] == "log" and status["backend_ready"] == "1" and status["updated_at"]
    await run.close()


async def test_end_to_end_a_1000_address_attack_bans_exactly_the_attackers(
    redis_url: str, prefix: str
) -> None:
    """The AMI peer -> the gateway -> `security` -> the guard: attackers mixed with normal clients."""
    peer = await AmiPeer().start()
    gateway = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    run = await started(guard_settings(redis_url, prefix))
    try:
        await wait_logged_in(peer)
        attackers = [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(990)]
        attackers += [f"2001:db8::{i:x}" for i in range(1, 11)]
        good = [f"198.51.100.{i}" for i in range(1, 51)] + [f"2001:db8:1::{i:x}" for i in range(1, 11)]
        events = list(attack(attackers, attempts=6))
        normal = [e for g in good for e in good_client(g, times=4)] * 15
        # A good client that mistyped its password a few times is not an attacker either.
        normal[100:100] = [security_event("InvalidPassword", good[0]) for _ in range(3)]
        mixed = [e for pair in itertools.zip_longest(events, normal) for e in pair if e is not None]
        await peer.replay(mixed)

        async def all_seen() -> bool:
            return run.guard.events_seen >= len(mixed) and not run.guard.to_apply

        await eventually(all_seen, timeout=60)
        assert set(run.backend.banned) == set(attackers)
        assert {f["address"] for f in await run.to_odoo("guard.ban")} == set(attackers)
    finally:
        await run.close()
        await gateway.halt()
        await peer.stop()
