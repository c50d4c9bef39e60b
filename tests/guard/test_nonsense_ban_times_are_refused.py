"""A ban time that is not a sane number of seconds is refused with a reply, never a crash or a permanent ban;
a damaged ban record saved in Redis is skipped when the guard starts."""

from __future__ import annotations

import json
import logging
import time

import pytest
from pydantic import ValidationError

from services.bus import Bus, Entry, Requester, keys
from services.guard.config import GuardSettings
from services.guard.guard import BANS
from tests.bus.helpers import eventually
from tests.guard.helpers import guard_settings, published, started


async def _ban(requester: Requester, address: str, bantime: str) -> Entry:
    headers = {"address": address, "bantime": bantime}
    return await requester.request(keys.commands("guard"), headers, type="ban", timeout=10, user="admin")


@pytest.mark.parametrize("bantime", ["inf", "-inf", "nan", "-1", "1e12", "1e400", "ten", "0x10"])
async def test_a_nonsense_bantime_is_refused_with_a_reply(redis_url: str, prefix: str, bantime: str) -> None:
    run = await started(guard_settings(redis_url, prefix))
    requester = Requester(run.bus, "test")
    try:
        reply = await _ban(requester, "192.0.2.60", bantime)
        assert reply.meta["status"] == "error" and "bantime" in reply.meta["error"]
        assert reply.meta["request_type"] == "ban" and reply.meta["user"] == "admin"
        assert "192.0.2.60" not in run.backend.banned

        async def dead_lettered() -> bool:
            return await run.bus.redis.xlen(run.bus.key(keys.DEAD)) == 1

        await eventually(dead_lettered)  # once the reply is out, as the handler returns
        (dead,) = [f for _, f in await run.bus.redis.xrange(run.bus.key(keys.DEAD))]
        assert dead["bantime"] == bantime and "bantime" in dead["@error"]
        # The guard lives on and bans with sane times; 0 is a permanent ban, as Odoo's Ban button sends it.
        ok = await _ban(requester, "192.0.2.61", "3600")
        assert ok.meta["status"] == "ok" and "error" not in ok.meta
        assert 3590 < run.backend.banned["192.0.2.61"] <= 3600
        permanent = await _ban(requester, "192.0.2.62", "0")
        assert permanent.meta["status"] == "ok" and run.backend.banned["192.0.2.62"] == 0
        assert not run.task.done()
        await eventually(lambda: published(run, 2))
        assert "192.0.2.60" not in await run.bus.redis.hkeys(run.bus.key(BANS))
    finally:
        await requester.close()
        await run.close()


@pytest.mark.parametrize(
    "name,value", [("GUARD_BANTIME", "inf"), ("GUARD_BANTIME", "-5"), ("GUARD_RECIDIVE_MAX", "1e12")]
)
def test_nonsense_ban_times_in_the_settings_stop_the_guard_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        GuardSettings()


async def test_a_damaged_ban_record_in_redis_is_skipped_on_start(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="guard")
    settings = guard_settings(redis_url, prefix)
    bus = Bus(settings)
    now = time.time()
    good = {"address": "198.51.100.20", "reason": "x", "count": 5, "until": now + 300, "offence": 1}
    good |= {"banned_at": now, "source": "rules", "entry": ""}
    bad = {
        "198.51.100.21": {**good, "address": "198.51.100.21", "until": float("inf")},
        "198.51.100.22": {**good, "address": "198.51.100.22", "until": float("nan")},
        "198.51.100.23": {**good, "address": "198.51.100.23", "until": "tomorrow"},
        "198.51.100.24": {**good, "address": "198.51.100.24", "until": now + 1e12},
        "198.51.100.25": {**good, "address": "198.51.100.26"},  # not the address it is stored under
        "198.51.100.27": {**good, "address": "198.51.100.27", "count": "many"},
    }
    saved = {a: json.dumps(r) for a, r in bad.items()}
    saved |= {"198.51.100.28": "[1, 2]", "198.51.100.20": json.dumps(good)}
    await bus.redis.hset(bus.key(BANS), mapping=saved)
    run = await started(settings)
    try:
        await eventually(run.has("198.51.100.20"))
        assert set(run.backend.banned) == {"198.51.100.20"}
        assert not run.task.done()
        skipped = {
            r.fields["field"] for r in caplog.records if r.getMessage() == "unreadable guard state skipped"
        }
        assert skipped == {*bad, "198.51.100.28"}
        status = await run.status()
        assert status["active_bans"] == "1" and status["firewall_ok"] == "1"
    finally:
        await run.close()
        await bus.close()
