from __future__ import annotations

import asyncio
import itertools
import json
import time

from peers.ami_peer import AmiPeer, attack, good_client, security_event
from services.bus import Bus, Log, encode, keys
from services.guard.config import GuardSettings
from services.guard.firewall import LogBackend
from services.guard.guard import BANS, Guard
from tests.ami_gateway.conftest import gateway_settings, start_gateway, wait_logged_in
from tests.bus.helpers import eventually


def guard_settings(redis_url: str, prefix: str, **kw: object) -> GuardSettings:
    return GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100, **kw)


async def start_guard(settings: GuardSettings) -> tuple[Guard, LogBackend, asyncio.Event, asyncio.Task]:
    bus = Bus(settings)
    backend = LogBackend(Log("test.firewall"))
    guard = Guard(settings, bus, backend)
    stop = asyncio.Event()
    return guard, backend, stop, asyncio.create_task(guard.run(stop))


async def stop_guard(guard: Guard, stop: asyncio.Event, task: asyncio.Task) -> None:
    stop.set()
    await asyncio.wait_for(task, 30)
    await guard.bus.close()


async def publish_security(bus: Bus, events: list[list[tuple[str, str]]]) -> None:
    await bus.publish_fields(
        keys.SECURITY, [encode(p, type="event", at="2026-11-24T20:00:00.000000Z") for p in events]
    )


async def test_bans_are_published_for_odoo_and_survive_a_restart(redis_url: str, prefix: str) -> None:
    settings = guard_settings(redis_url, prefix, guard_bantime=3600)
    guard, backend, stop, task = await start_guard(settings)
    await publish_security(guard.bus, list(attack(["203.0.113.7"], attempts=5)))
    await eventually(lambda: _has(backend, "203.0.113.7"))
    ((_, ban),) = await guard.bus.redis.xrange(guard.bus.key(keys.TO_ODOO))
    assert ban["@type"] == "guard.ban" and ban["address"] == "203.0.113.7" and ban["count"] == "5"
    assert ban["until"].endswith("Z") and "failed authentications" in ban["reason"]
    await stop_guard(guard, stop, task)

    guard2, backend2, stop2, task2 = await start_guard(settings)
    await eventually(lambda: _has(backend2, "203.0.113.7"))  # re-applied from Redis
    assert 3500 < backend2.banned["203.0.113.7"] <= 3600
    await stop_guard(guard2, stop2, task2)


async def _has(backend: LogBackend, address: str) -> bool:
    return address in backend.banned


async def test_a_ban_that_expired_while_the_guard_was_down_ends_on_start(redis_url: str, prefix: str) -> None:
    settings = guard_settings(redis_url, prefix)
    bus = Bus(settings)
    record = {
        "reason": "old",
        "count": 5,
        "until": time.time() - 10,
        "offence": 1,
        "banned_at": 0,
        "source": "x",
    }
    await bus.redis.hset(bus.key(BANS), "198.51.100.1", json.dumps(record))
    guard, backend, stop, task = await start_guard(settings)
    await eventually(lambda: _unbanned_published(bus))
    assert "198.51.100.1" not in backend.banned
    assert not await bus.redis.hexists(bus.key(BANS), "198.51.100.1")
    await stop_guard(guard, stop, task)
    await bus.close()


async def _unbanned_published(bus: Bus) -> bool:
    rows = await bus.redis.xrange(bus.key(keys.TO_ODOO))
    return any(f["@type"] == "guard.unban" and f["address"] == "198.51.100.1" for _, f in rows)


async def test_bans_end_by_themselves_at_their_time(redis_url: str, prefix: str) -> None:
    guard, backend, stop, task = await start_guard(guard_settings(redis_url, prefix, guard_bantime=1))
    await publish_security(guard.bus, list(attack(["203.0.113.8"], attempts=5)))
    await eventually(lambda: _has(backend, "203.0.113.8"))
    await eventually(lambda: _gone(backend, "203.0.113.8"))
    await stop_guard(guard, stop, task)


async def _gone(backend: LogBackend, address: str) -> bool:
    return address not in backend.banned


async def test_manual_ban_unban_and_access_list_from_odoo(redis_url: str, prefix: str) -> None:
    guard, backend, stop, task = await start_guard(guard_settings(redis_url, prefix))
    bus = guard.bus
    cmd = keys.commands("guard")
    await bus.publish(
        cmd, {"address": "192.0.2.50", "reason": "seen in logs", "bantime": "0"}, type="ban", user="admin"
    )
    await eventually(lambda: _has(backend, "192.0.2.50"))
    assert backend.banned["192.0.2.50"] == 0  # permanent
    await bus.publish(cmd, {"address": "192.0.2.50"}, type="unban", user="admin")
    await eventually(lambda: _gone(backend, "192.0.2.50"))
    await bus.publish(
        cmd,
        None,
        type="acl",
        payload=[
            {"address": "203.0.113.99", "action": "deny"},
            {"address": "198.51.100.0/24", "action": "allow"},
        ],
    )
    await eventually(lambda: _has(backend, "203.0.113.99"))
    await publish_security(bus, list(attack(["198.51.100.5"], attempts=10)))
    await bus.publish(cmd, {"address": "not an address"}, type="ban")
    await eventually(lambda: _dead(bus))
    assert "198.51.100.5" not in backend.banned  # allowed by the access list
    ((_, dead),) = await bus.redis.xrange(bus.key(keys.DEAD))
    assert "does not appear to be an IPv4 or IPv6 address" in dead["@error"]
    await stop_guard(guard, stop, task)


async def _dead(bus: Bus) -> bool:
    return await bus.redis.xlen(bus.key(keys.DEAD)) > 0


async def test_end_to_end_a_1000_address_attack_bans_exactly_the_attackers(
    redis_url: str, prefix: str
) -> None:
    peer = await AmiPeer().start()
    gateway = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    guard, backend, stop, task = await start_guard(guard_settings(redis_url, prefix))
    try:
        await wait_logged_in(peer)
        attackers = [f"203.0.{i // 250}.{i % 250 + 1}" for i in range(990)]
        attackers += [f"2001:db8::{i:x}" for i in range(1, 11)]
        good = [f"198.51.100.{i}" for i in range(1, 51)]
        events = list(attack(attackers, attempts=6))
        normal = [e for g in good for e in good_client(g, times=4)] * 15
        # A good client that mistyped its password twice is not an attacker either.
        normal[100:100] = [security_event("InvalidPassword", good[0]) for _ in range(2)]
        mixed = [e for pair in itertools.zip_longest(events, normal) for e in pair if e is not None]
        await peer.replay(mixed)
        await eventually(lambda: _count(backend, len(attackers)), timeout=60)
        await asyncio.sleep(0.5)
        assert set(backend.banned) == set(attackers)
    finally:
        await stop_guard(guard, stop, task)
        gateway.stop.set()
        await gateway.task
        await gateway.bus.close()
        await peer.stop()


async def _count(backend: LogBackend, n: int) -> bool:
    return len(backend.banned) >= n
