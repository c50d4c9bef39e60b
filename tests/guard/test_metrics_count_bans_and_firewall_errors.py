"""The guard's own figures for Prometheus: bans made (by source), bans in force, firewall updates refused
(whole, or one ban alone)."""

from __future__ import annotations

import uuid

from peers.ami_peer import attack
from services.bus import metrics
from tests.bus.helpers import eventually
from tests.guard.helpers import Running, guard_settings, publish_security, published, started
from tests.guard.test_firewall_refusals_are_reported import PickyBackend
from tests.guard.test_guard_service import FlakyBackend, _refused


def figure(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_bans_and_firewall_errors_are_counted(redis_url: str, prefix: str) -> None:
    server = f"g{uuid.uuid4().hex[:10]}"  # the counters live in this process: a server name of its own
    backend = FlakyBackend()
    run: Running = await started(guard_settings(redis_url, prefix, agent_server=server), backend)
    await publish_security(run.bus, list(attack(["203.0.113.20", "203.0.113.21"], attempts=5)))
    await eventually(lambda: published(run, 2))
    await eventually(lambda: _refused(backend, 3))
    assert figure("pbx_guard_bans_total", server=server, source="rules") == 2
    assert figure("pbx_guard_active_bans", server=server) == 2
    assert figure("pbx_guard_firewall_errors_total", server=server, backend="log") >= 3
    assert figure("pbx_guard_firewall_pending", server=server) == 2

    backend.working = True
    await eventually(run.has("203.0.113.21"))
    await eventually(lambda: _zero(server, "pbx_guard_firewall_pending"))
    await run.command("ban", {"address": "198.51.100.9", "bantime": "60"})
    await eventually(run.has("198.51.100.9"))
    assert figure("pbx_guard_bans_total", server=server, source="odoo") == 1
    assert figure("pbx_guard_active_bans", server=server) == 3
    await run.close()


async def _zero(server: str, name: str) -> bool:
    return figure(name, server=server) == 0


async def test_a_ban_the_firewall_refuses_alone_is_an_error_and_stays_pending(
    redis_url: str, prefix: str
) -> None:
    server = f"g{uuid.uuid4().hex[:10]}"
    backend = PickyBackend(refuse=["203.0.113.52"])
    run = await started(guard_settings(redis_url, prefix, agent_server=server), backend)
    await publish_security(run.bus, list(attack(["203.0.113.51", "203.0.113.52"], attempts=5)))
    await eventually(run.has("203.0.113.51"))
    await eventually(lambda: _at_least(server, "pbx_guard_firewall_errors_total", 1))
    assert figure("pbx_guard_active_bans", server=server) == 2
    assert figure("pbx_guard_firewall_pending", server=server) == 1  # the refused one, tried again alone

    backend.refuse.clear()
    await eventually(run.has("203.0.113.52"))
    await eventually(lambda: _zero(server, "pbx_guard_firewall_pending"))
    await run.close()


async def _at_least(server: str, name: str, n: float) -> bool:
    return figure(name, server=server, backend="log") >= n
