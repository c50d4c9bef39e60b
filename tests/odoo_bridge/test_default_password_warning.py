"""The bridge says once, at its first login, that the system account still has the seed's public password."""

from __future__ import annotations

import logging

import pytest

from peers.odoo_peer import OdooPeer
from services.bus import Requester, keys
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Running, bridge_settings, running_bridge

WARNING = "the system account still has the seed's default password"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(WARNING)]


async def _connected(run: Running) -> bool:
    return (await run.bus.redis.hget(run.bus.key("status:odoo_bridge"), "odoo_connected")) == "1"


async def _round_trip(run: Running) -> None:
    requester = Requester(run.bus, "odoo.test")
    try:
        reply = await requester.request(keys.commands("odoo_bridge"), None, type="test", timeout=10)
    finally:
        await requester.close()
    assert reply.meta["status"] == "ok"


async def test_the_seeds_password_is_warned_about_once_per_process(
    redis_url: str, prefix: str, odoo: OdooPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # ODOO_PASSWORD left default
    async with running_bridge(bridge_settings(redis_url, prefix, odoo), odoo) as run:
        await eventually(lambda: _connected(run))
        [warning] = _warnings(caplog)
        assert warning.levelno == logging.WARNING
        assert warning.fields["user"] == "asterisk1" and "Password" in warning.fields["hint"]  # type: ignore[attr-defined]
        logins = odoo.connections
        await odoo.stop()  # Odoo restarts: the bridge logs in again on its next call
        await odoo.start()
        await _round_trip(run)
        assert odoo.connections > logins
        assert len(_warnings(caplog)) == 1


async def test_a_changed_password_is_not_warned_about(
    redis_url: str, prefix: str, odoo: OdooPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    odoo.users["asterisk1"] = "n0t-the-seed"
    async with running_bridge(
        bridge_settings(redis_url, prefix, odoo, odoo_password="n0t-the-seed"), odoo
    ) as run:
        await eventually(lambda: _connected(run))
        await _round_trip(run)
        assert _warnings(caplog) == []
