"""redis, svc.*, events, groups and dead against a real Redis (and the real gateway for `events`)."""

from __future__ import annotations

import time

from peers.ami_peer import AmiPeer
from peers.local_redis import RedisServer, free_port
from services.bus import Bus, Consumer, encode, keys
from services.doctor import FAIL, OK, SKIP, WARN, streams
from services.doctor.run import doctor
from tests.ami_gateway.conftest import gateway_settings, start_gateway, wait_logged_in
from tests.bus.helpers import eventually

from .conftest import doctor_settings, only


async def test_redis_with_an_append_only_file_is_ok_without_one_a_warning_or_a_failure(
    own_redis: RedisServer, prefix: str
) -> None:
    settings = doctor_settings(own_redis.url, prefix)
    bus = Bus(settings)
    check = await streams.redis_check(bus, settings)
    assert check.status == OK and "append-only file on" in check.message and "Redis " in check.message

    await bus.redis.config_set("appendonly", "no")
    await bus.redis.config_set("save", "3600 1")
    check = await streams.redis_check(bus, settings)
    assert check.status == WARN and "no append-only file" in check.message and "appendonly yes" in check.fix

    await bus.redis.config_set("save", "")
    check = await streams.redis_check(bus, settings)
    assert check.status == FAIL and "keeps nothing on disk" in check.message
    await bus.close()


async def test_redis_away_fails_and_every_line_needing_it_is_skipped(prefix: str) -> None:
    settings = doctor_settings(f"redis://:secret@127.0.0.1:{free_port()}/0", prefix, console_disabled=True)
    bus = Bus(settings)
    checks = await doctor(bus, settings)
    check = only(checks, "redis")
    assert check.status == FAIL and "cannot reach redis://:***@127.0.0.1:" in check.message
    assert "secret" not in check.message and "REDIS_URL" in check.fix
    for name in ("services", "events", "groups", "dead"):
        assert only(checks, name).status == SKIP
    await bus.close()


async def test_each_service_is_ready_silent_absent_or_not_ready(
    bus: Bus, redis_url: str, prefix: str
) -> None:
    now = time.time()
    base = {"pid": "7", "host": "pbx1", "updated_at": "x"}
    await bus.redis.hset(
        bus.key("status:ami_gateway"), mapping={**base, "ready": "1", "updated_ts": str(now)}
    )
    await bus.redis.hset(
        bus.key("status:odoo_bridge"), mapping={**base, "ready": "1", "updated_ts": str(now - 300)}
    )
    await bus.redis.hset(
        bus.key("status:guard"),
        mapping={**base, "ready": "0", "reason": "Odoo unreachable: refused", "updated_ts": str(now)},
    )
    settings = doctor_settings(redis_url, prefix, console_disabled=True)
    checks = streams.service_checks(await streams.status_of(bus), settings)
    assert (
        only(checks, "svc.ami_gateway").status == OK
        and "pid 7 on pbx1" in only(checks, "svc.ami_gateway").message
    )
    silent = only(checks, "svc.odoo_bridge")
    assert (
        silent.status == FAIL
        and "silent for 300 s" in silent.message
        and "python -m services.odoo_bridge" in silent.fix
    )
    absent = only(checks, "svc.conf_sync")
    assert absent.status == FAIL and "never reported" in absent.message
    waiting = only(checks, "svc.guard")
    assert (
        waiting.status == FAIL
        and "not ready: Odoo unreachable" in waiting.message
        and "odoo.*" in waiting.fix
    )
    assert only(checks, "svc.console").status == OK  # disabled on purpose


async def test_events_flowing_from_the_real_gateway(redis_url: str, prefix: str) -> None:
    peer = await AmiPeer().start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    await wait_logged_in(peer)
    bus = run.bus

    async def reported() -> bool:
        return bool((await streams.status_of(bus))["ami_gateway"].get("last_event_at"))

    await eventually(reported)
    gateway = (await streams.status_of(bus))["ami_gateway"]
    check = await streams.events_check(bus, gateway)
    assert check.status == OK and "entries in the events stream" in check.message

    # An idle PBX: the last event an hour and more ago.
    old = await streams.events_check(bus, {**gateway, "last_event_at": "2020-01-01T00:00:00.000000Z"})
    assert old.status == WARN and "no event from Asterisk for" in old.message and "idle PBX" in old.fix
    quiet = await streams.events_check(bus, {**gateway, "last_event_at": ""})
    assert quiet.status == WARN and "read=" in quiet.fix
    assert (await streams.events_check(bus, {**gateway, "ami_connected": "0"})).status == SKIP
    assert (await streams.events_check(bus, {})).status == SKIP
    run.stop.set()
    await run.task
    await bus.close()
    await peer.stop()


async def test_groups_behind_are_named_and_dead_letters_counted(bus: Bus) -> None:
    assert (await streams.groups_check(bus)).status == WARN  # no group at all yet
    consumer = Consumer(bus, "odoo_bridge", {keys.EVENTS: lambda batch: None})
    await consumer.ensure_groups()
    assert (await streams.groups_check(bus)).status == OK
    await bus.publish_fields(keys.EVENTS, [encode({"Event": "Newchannel"}, type="event")] * 30)
    behind = await streams.groups_check(bus, max_lag=10)
    assert (
        behind.status == WARN and "odoo_bridge is 30 entries behind on events (0 pending)" in behind.message
    )
    assert (await streams.groups_check(bus, max_lag=30)).status == OK

    assert (await streams.dead_check(bus)).status == OK
    await bus.publish(
        keys.DEAD,
        {"Event": "Hangup"},
        type="event",
        source="events",
        group="odoo_bridge",
        error="Odoo: no partner",
    )
    dead = await streams.dead_check(bus)
    assert dead.status == WARN and dead.message.startswith("1 dead letters")
    assert "from odoo_bridge on events: Odoo: no partner" in dead.message and "pbx dead" in dead.fix
    assert "another bus" not in dead.fix
    # Odoo looks each entry up on the bus; not finding it means it reads another Redis or prefix.
    await bus.publish(
        keys.DEAD, {}, type="conf.file", group="odoo_bridge", error="Odoo: no such conf.file on the bus"
    )
    dead = await streams.dead_check(bus)
    assert dead.message.startswith("2 dead letters") and "Odoo reads another bus" in dead.fix
    assert "REDIS_URL and PBX_PREFIX" in dead.fix


async def test_a_password_in_the_redis_url_is_never_shown() -> None:
    assert streams.redacted("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert streams.redacted("rediss://user:pw@h:1/0") == "rediss://user:***@h:1/0"
    assert streams.redacted("redis://h:1/0") == "redis://h:1/0"


async def test_the_bridge_behind_on_the_replies_odoo_code_waits_for_is_named(bus: Bus) -> None:
    consumer = Consumer(bus, "odoo_bridge", {keys.ODOO_REPLIES: lambda batch: None})
    await consumer.ensure_groups()
    await bus.publish_fields(keys.ODOO_REPLIES, [encode({"Response": "Success"}, type="reply")] * 12)
    behind = await streams.groups_check(bus, max_lag=10)
    assert behind.status == WARN and "odoo_bridge is 12 entries behind on odoo_replies" in behind.message
