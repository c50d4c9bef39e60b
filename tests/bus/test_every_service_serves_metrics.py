"""Every service, run as its own process (`python -m services.<name>`), serves Prometheus metrics on its
port, and the numbers move as entries flow: AMI peer -> gateway -> Redis -> bridge -> Odoo peer, the guard
banning an attack, conf_sync's initial update, a console session and command; Odoo down then back."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from peers.ami_peer import AmiPeer, attack, demo_calls, good_client
from peers.local_redis import free_port
from peers.odoo_peer import OdooPeer
from services.console.sessions import COOKIE
from tests.bus.helpers import Samples, eventually, scrape, value
from tests.faults.harness import ROOT, Pipeline

SERVICES = ("ami_gateway", "odoo_bridge", "guard", "conf_sync", "console")
ATTACKERS = [f"203.0.113.{i}" for i in range(1, 5)]


@pytest.fixture
async def pipe(tmp_path: Path, redis_url: str, prefix: str) -> AsyncIterator[Pipeline]:
    ami = await AmiPeer(login_failure_delay=0.05).start()
    odoo = await OdooPeer().start()
    # Every Cdr also goes to a method this Odoo does not have: refused, retried, then dead-lettered.
    cdr_elsewhere = {"event": "Cdr", "model": "asterisk_plus.call", "method": "no_such_method"}
    odoo.config["events_map"].append({"id": 99, **cdr_elsewhere, "conditions": []})
    (tmp_path / "logs").mkdir()
    shutil.copytree(ROOT / "peers" / "sample_asterisk_conf", tmp_path / "asterisk")
    pipeline = Pipeline(
        None,
        ami,
        odoo,
        tmp_path / "logs",
        prefix=prefix,
        bus_env={"REDIS_URL": redis_url},
        extra_env={
            "ASTERISK_CONF_DIR": str(tmp_path / "asterisk"),
            "CONF_BACKUP_DIR": str(tmp_path / "backups"),
            "CONSOLE_HOST": "127.0.0.1",
            "CONSOLE_PORT": str(free_port()),
            "BUS_MAX_DELIVERIES": "3",
            "BUS_RETRY_MAX_S": "0.5",
            "METRICS_HOST": "127.0.0.1",
            "METRICS_INTERVAL_S": "0.2",
        },
        metrics_ports={service: free_port() for service in SERVICES},
    )
    yield pipeline
    pipeline.stop_all()
    await ami.stop()
    await odoo.stop()


def page(pipe: Pipeline, service: str) -> str:
    return f"http://127.0.0.1:{pipe.metrics_ports[service]}/metrics"


async def until(pipe: Pipeline, service: str, what: str, check: object, timeout: float = 30) -> Samples:
    """Scrape the service until `check(samples)` holds; fails with the last figures and the logs."""
    last: list[Samples] = [[]]

    async def holds() -> bool:
        last[0] = await scrape(page(pipe, service))
        return bool(check(last[0]))  # type: ignore[operator]

    try:
        await eventually(holds, timeout=timeout, every=0.2)
    except AssertionError:
        figures = "\n".join(f"{n} {lab} {v}" for n, lab, v in last[0] if n.startswith("pbx_"))
        raise AssertionError(f"{service}: {what}\n{figures}\n{pipe.log_tail()}") from None
    return last[0]


async def test_every_service_serves_metrics_that_move_with_the_traffic(pipe: Pipeline) -> None:
    for service in SERVICES:
        pipe.start(service)
    for service in SERVICES:
        await pipe.ready(service)
    server = pipe.server
    for service in SERVICES:
        samples = await until(
            pipe, service, "says which service it is and that Redis answers",
            lambda s, service=service: value(s, "pbx_service_info", service=service) == 1
            and value(s, "pbx_redis_up", server=server) == 1,
        )  # fmt: skip
    samples = await scrape(page(pipe, "ami_gateway"))
    assert value(samples, "pbx_ami_connected", server=server) == 1
    assert value(samples, "pbx_gateway_buffered_events", server=server) == 0

    # Odoo goes away while calls and an attack come in: the bridge holds its batch, pending and unacked.
    await pipe.odoo.stop()
    events = [e for call in demo_calls() * 2 for e in call.events()]
    events += list(attack(ATTACKERS, 6)) + list(good_client("198.51.100.7"))
    await pipe.ami.replay(events, rate=500)
    redis = pipe.client()
    n_events = len(events)

    async def stream_len(name: str) -> int:
        return await redis.xlen(pipe.key(name))

    await eventually(lambda: _at_least(stream_len("events"), n_events))
    in_events, in_security = await stream_len("events"), await stream_len("security")
    await until(
        pipe, "ami_gateway", "counts every event it wrote",
        lambda s: value(s, "pbx_entries_out_total", stream="events") == in_events
        and value(s, "pbx_entries_out_total", stream="security") == in_security,
    )  # fmt: skip
    events_of = {"server": server, "stream": "events", "group": "odoo_bridge"}
    await until(
        pipe, "odoo_bridge", "holds a batch while Odoo is down",
        lambda s: (value(s, "pbx_group_pending", **events_of) or 0) > 0
        and (value(s, "pbx_odoo_rpc_seconds_count", outcome="OdooDown") or 0) > 0,
    )  # fmt: skip

    # Odoo is back: everything is delivered, the Cdr refused by the missing method end in the dead letters.
    await pipe.odoo.start()
    cdrs = sum(1 for e in events if e[0] == ("Event", "Cdr"))
    samples = await until(
        pipe, "odoo_bridge", "delivered everything, Cdr dead-lettered after 3 deliveries",
        lambda s: value(s, "pbx_group_pending", **events_of) == 0
        and value(s, "pbx_group_lag", **events_of) == 0
        and value(s, "pbx_entries_dead_lettered_total", **events_of) == cdrs,
    )  # fmt: skip
    assert value(samples, "pbx_entries_in_total", **events_of) == in_events - cdrs
    assert value(samples, "pbx_entries_retried_total", **events_of) == 2 * cdrs
    assert value(samples, "pbx_odoo_rpc_seconds_count", method="on_ami_events", outcome="ok") > 0
    assert value(samples, "pbx_odoo_rpc_seconds_count", method="no_such_method", outcome="OdooRefused") > 0
    assert value(samples, "pbx_stream_length", server=server, stream="dead") == cdrs
    assert await stream_len("dead") == cdrs

    samples = await until(
        pipe, "guard", "counted the security events and banned each attacker once",
        lambda s: value(s, "pbx_entries_in_total", stream="security", group="guard") == in_security
        and value(s, "pbx_guard_bans_total", source="rules") == len(ATTACKERS),
    )  # fmt: skip
    assert value(samples, "pbx_guard_active_bans", server=server) == len(ATTACKERS)
    assert value(samples, "pbx_guard_firewall_pending", server=server) == 0

    # conf_sync's group starts at the end of the stream ("$"): it reads what came after it started.
    samples = await until(
        pipe, "conf_sync", "read every event and sent the conf files to Odoo",
        lambda s: (value(s, "pbx_entries_in_total", stream="events", group="conf_sync") or 0) >= n_events
        and value(s, "pbx_group_lag", stream="events", group="conf_sync") == 0,
    )  # fmt: skip
    assert value(samples, "pbx_entries_out_total", stream="to_odoo") >= 2  # files + initial_done

    await console_session(pipe)
    await redis.aclose()


async def console_session(pipe: Pipeline) -> None:
    """A person opens the console and runs a command: one session while the page is open, then none."""
    url = f"http://127.0.0.1:{pipe.extra_env['CONSOLE_PORT']}"
    token = "t" * 20 + pipe.prefix[-8:].replace(".", "x")
    data = {"uid": 2, "login": "admin", "server": pipe.server, "exp": 4e9}
    redis = pipe.client()
    await redis.set(pipe.key(f"console:token:{token}"), json.dumps(data), ex=60)
    await redis.aclose()
    async with httpx.AsyncClient(base_url=url) as client:
        cookie = (await client.get("/", params={"token": token})).cookies[COOKIE]
    connect = websockets.connect(
        url.replace("http", "ws") + "/ws", origin=url, additional_headers={"Cookie": f"{COOKIE}={cookie}"}
    )  # type: ignore[arg-type]
    async with connect as ws:
        await until(pipe, "console", "one page open", lambda s: value(s, "pbx_console_sessions") == 1)
        await ws.send(json.dumps({"type": "command", "id": 1, "line": "core show version"}))
        async with asyncio.timeout(10):
            while json.loads(await ws.recv())["type"] != "output":
                pass
        samples = await scrape(page(pipe, "console"))
        assert value(samples, "pbx_console_commands_total", outcome="ok") == 1
    await until(pipe, "console", "no page open", lambda s: value(s, "pbx_console_sessions") == 0)


async def _at_least(count: object, n: int) -> bool:
    return await count >= n  # type: ignore[operator]
