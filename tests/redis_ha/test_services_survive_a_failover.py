"""Every service rides a Sentinel failover by itself: the master is killed with -9 while calls and an attack
flow, a replica is promoted, and the same processes (no restart) carry on against the new master.

What asynchronous replication lost is measured, not hidden: the events the old master had acked but not yet
sent to its replica. The check is that they are one run, the last ones the gateway wrote before the kill:
nothing from before, and nothing after (the batch in flight is written again to the new master)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from peers.ami_peer import AmiPeer, attack, demo_calls
from peers.ami_peer.server import Pairs
from peers.local_redis import free_port
from peers.odoo_peer import DEFAULT_MAP, OdooPeer
from peers.redis_topology import SentinelTopology, sentinel_available
from services.bus import close_redis
from services.bus.health import check
from tests.bus.helpers import eventually
from tests.faults.harness import Pipeline

pytestmark = pytest.mark.skipif(not sentinel_available(), reason="redis-server (Sentinel mode) not installed")

SERVICES = ("ami_gateway", "odoo_bridge", "guard", "conf_sync", "console")
RATE = 300  # events per second from the AMI peer
LATE_ATTACKER = "203.0.113.99"


def calls(done: asyncio.Event) -> Any:
    while not done.is_set():
        for call in demo_calls():
            yield from call.events()


@pytest.fixture
async def ha(tmp_path: Path) -> Any:
    topology = await asyncio.to_thread(SentinelTopology(tmp_path / "redis").start)
    ami = await AmiPeer(login_failure_delay=0.05, tag_events=True).start()
    odoo = await OdooPeer().start()
    conf = tmp_path / "asterisk"
    shutil.copytree(Path(__file__).resolve().parents[2] / "peers" / "sample_asterisk_conf", conf)
    logs = tmp_path / "logs"
    logs.mkdir()
    console_port = free_port()
    pipe = Pipeline(
        None,
        ami,
        odoo,
        logs,
        bus_env=topology.env(),
        extra_env={
            "ASTERISK_CONF_DIR": str(conf),
            "CONF_BACKUP_DIR": str(tmp_path / "backups"),
            "CONSOLE_HOST": "127.0.0.1",
            "CONSOLE_PORT": str(console_port),
        },
    )
    pipe.console_port = console_port  # type: ignore[attr-defined]
    yield pipe, topology
    pipe.stop_all()
    await ami.stop()
    await odoo.stop()
    topology.stop()


async def test_every_service_carries_on_after_the_master_is_killed(ha: Any) -> None:
    pipe, topology = ha
    for service in SERVICES:
        pipe.start(service)
    for service in SERVICES:
        await pipe.ready(service)
    pids = {name: proc.pid for name, proc in pipe.procs.items()}

    done = asyncio.Event()
    replay = asyncio.create_task(pipe.ami.replay(calls(done), rate=RATE))
    await asyncio.sleep(2)
    old = await asyncio.to_thread(topology.kill_master)
    killed_at = time.time()
    new = await asyncio.to_thread(topology.wait_promoted, old)
    assert new != old
    await asyncio.sleep(2)
    # Work that starts after the failover: an attack, a command for conf_sync.
    for pairs in attack([LATE_ATTACKER], 6):
        pipe.ami.emit(pairs)
    client = pipe.client()
    try:
        await client.xadd(
            pipe.key("commands:conf_sync"), {"@type": "download", "@id": "after-failover", "@uid": "4242"}
        )
        await asyncio.sleep(2)
        done.set()
        await replay
        await pipe.ami.drain()

        async def settled() -> bool:
            items = pipe.odoo.items()
            last_mapped = max(int(dict(p)["PeerSeq"]) for _, p in pipe.ami.sent_events if mapped(p))
            return (
                any(i.get("@uid") == "4242" and i.get("@type") == "conf.result" for i in items)
                and any(i.get("address") == LATE_ATTACKER for i in pipe.odoo.items(BANS))
                and any(int(i.get("PeerSeq") or 0) == last_mapped for i in pipe.odoo.items(CALLS))
            )

        try:
            await eventually(settled, timeout=60, every=0.2)
        except AssertionError:
            raise AssertionError(f"nothing flows after the failover\n{pipe.log_tail()}") from None

        # The same processes, each writing its status to the new master.
        assert pipe.alive() == dict.fromkeys(SERVICES), pipe.log_tail()
        assert {name: proc.pid for name, proc in pipe.procs.items()} == pids
        for service in SERVICES:

            async def rewritten(service: str = service) -> bool:
                # The heartbeat comes every 5 s: the hash the replica had may still be the last word.
                fields = await client.hgetall(pipe.key(f"status:{service}"))
                return float(fields.get("updated_ts") or 0) > killed_at

            await eventually(rewritten, timeout=20, every=0.2)
            fields = await client.hgetall(pipe.key(f"status:{service}"))
            assert fields.get("pid") == str(pids[service]) and fields.get("ready") == "1", (service, fields)
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{pipe.console_port}/healthz")
        assert health.status_code == 200, health.text
        # The containers' health check and the `pbx` command find the new master too.
        for service in SERVICES:
            assert await asyncio.to_thread(check, pipe.settings(), service, 30) == (True, "ready")
        env = {**pipe.env("cli"), "CONSUMER_NAME": ""}
        cli = [sys.executable, "-m", "services.cli", "status"]
        done = await asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
        assert done.returncode == 0 and "conf_sync" in done.stdout, done.stderr

        events = await client.xrange(pipe.key("events"))
    finally:
        await close_redis(client)

    sent = [int(dict(p)["PeerSeq"]) for _, p in pipe.ami.sent_events]
    on_bus = [int(f["PeerSeq"]) for _, f in events if "PeerSeq" in f]
    lost = sorted(set(sent) - set(on_bus))
    doubled = len(on_bus) - len(set(on_bus))
    print(f"\nfailover: sent {len(sent)}, on the bus {len(set(on_bus))}, lost {len(lost)}, doubled {doubled}")
    assert set(on_bus) <= set(sent)
    # No gap marker: the AMI side never stopped; a Redis failover is the gateway's buffer's business.
    assert not [f for _, f in events if f.get("@type") == "gap"]
    if lost:
        # One run, not scattered holes: the tail of what the old master held when it died.
        assert lost == list(range(lost[0], lost[-1] + 1)), lost
        assert lost[0] > 1 and lost[-1] < sent[-1]


CALLS, BANS = "asterisk_plus.call", "asterisk_plus.ban"
MAPPED = {m["event"] for m in DEFAULT_MAP}


def mapped(pairs: Pairs) -> bool:
    """An event the bridge delivers to Odoo (the events map)."""
    return dict(pairs).get("Event") in MAPPED
