"""A firewall that refuses: one refused ban does not hold the others back, and status, health and `pbx status`
say that bans do not reach the firewall."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence

from peers.ami_peer import attack
from services.bus import BusSettings, Log, parse_iso
from services.bus.health import check
from services.guard.firewall import FirewallError, LogBackend
from tests.bus.helpers import eventually
from tests.guard.helpers import Running, guard_settings, publish_security, started


class PickyBackend(LogBackend):
    """Refuses every batch that holds one of `refuse`, as nft refuses a whole script for one bad element;
    with `down`, refuses everything (nft missing, no rights)."""

    def __init__(self, refuse: Sequence[str] = ()) -> None:
        super().__init__(Log("test.firewall"))
        self.refuse = set(refuse)
        self.down = False
        self.calls = 0

    async def setup(self) -> None:
        if self.down:
            raise FirewallError("nft: Operation not permitted")

    async def apply(self, bans, replace: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.down:
            raise FirewallError("nft: Operation not permitted")
        bad = [a for a, _ in bans if a in self.refuse]
        if bad:
            raise FirewallError(
                f"nft -f -: Error: value too large: add element inet pbx_guard banned4 {{ {bad[0]} }}"
            )
        await super().apply(bans, replace)


def _health(run: Running) -> tuple[bool, str]:
    s = run.bus.settings
    return check(BusSettings(redis_url=s.redis_url, pbx_prefix=s.pbx_prefix), "guard", 30)


def _pbx_status(run: Running) -> str:
    s = run.bus.settings
    env = {**os.environ, "REDIS_URL": s.redis_url, "PBX_PREFIX": s.pbx_prefix}
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "status"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


async def _status_says(run: Running, **expected: str) -> bool:
    status = await run.status()
    return all(status.get(k) == v for k, v in expected.items())


async def test_one_ban_the_firewall_refuses_does_not_hold_back_the_others(
    redis_url: str, prefix: str
) -> None:
    backend = PickyBackend(refuse=["203.0.113.42"])
    run = await started(guard_settings(redis_url, prefix), backend)
    try:
        attackers = ["203.0.113.41", "203.0.113.42", "203.0.113.43"]
        await publish_security(run.bus, list(attack(attackers, attempts=5)))
        await eventually(run.has("203.0.113.41"))
        await eventually(run.has("203.0.113.43"))
        assert "203.0.113.42" not in backend.banned
        await eventually(lambda: _status_says(run, firewall_ok="0", firewall_refused="1"))
        status = await run.status()
        assert "203.0.113.42" in status["firewall_error"] and "value too large" in status["firewall_error"]
        assert status["backend_ready"] == "0" and status["firewall_pending"] == "1"
        # A later ban goes in although the refused one is still waiting.
        await publish_security(run.bus, list(attack(["203.0.113.44"], attempts=5)))
        await eventually(run.has("203.0.113.44"))
        ok, reason = await asyncio.to_thread(_health, run)
        assert not ok and "degraded" in reason and "203.0.113.42" in reason
        # Once the firewall takes it, all is well again.
        backend.refuse.clear()
        await eventually(run.has("203.0.113.42"))
        await eventually(lambda: _status_says(run, firewall_ok="1", firewall_refused="0", firewall_error=""))
        assert await asyncio.to_thread(_health, run) == (True, "ready")
        assert not run.task.done()
    finally:
        await run.close()


async def test_health_and_pbx_status_say_when_bans_do_not_reach_the_firewall(
    redis_url: str, prefix: str
) -> None:
    backend = PickyBackend()
    run = await started(guard_settings(redis_url, prefix), backend)
    try:
        assert await asyncio.to_thread(_health, run) == (True, "ready")
        assert "DEGRADED" not in await asyncio.to_thread(_pbx_status, run)
        backend.down = True
        await publish_security(run.bus, list(attack(["203.0.113.50"], attempts=5)))
        await eventually(lambda: _status_says(run, firewall_ok="0", backend_ready="0"))
        status = await run.status()
        assert "Operation not permitted" in status["firewall_error"]
        parse_iso(status["firewall_error_at"])  # when it last refused
        assert status["ready"] == "1"  # still consuming and deciding bans: only the firewall lags
        ok, reason = await asyncio.to_thread(_health, run)
        assert not ok and reason.startswith("degraded: ") and "Operation not permitted" in reason
        printed = await asyncio.to_thread(_pbx_status, run)
        assert "status:guard  DEGRADED: " in printed and "firewall_ok: 0" in printed

        backend.down = False
        await eventually(run.has("203.0.113.50"))
        await eventually(lambda: _status_says(run, firewall_ok="1", backend_ready="1", degraded=""))
        assert await asyncio.to_thread(_health, run) == (True, "ready")
        status = await run.status()
        assert status["firewall_error"] == "" and status["firewall_error_at"]  # the last error's time stays
    finally:
        await run.close()
