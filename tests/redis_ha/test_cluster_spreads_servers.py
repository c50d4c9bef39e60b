"""Many PBXes on one Redis Cluster: each server's keys in one slot (its name is the hash tag), the servers
spread over the nodes, and every server's traffic flows as on a single Redis.

Fifty servers are simulated in one process, each with its own cluster client: the gateway's publishing
(events and security in one pipelined call), the bridge's consumer group over three streams in one
XREADGROUP, the guard's group, and a dead letter (a transaction over two of the server's streams)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import redis

from peers.redis_topology import ClusterTopology, cluster_available
from services.bus import Bus, BusSettings, Consumer, Entry, Outcome, Status, keys, wait_for_redis
from services.bus.health import check
from tests.bus.helpers import eventually
from tests.cli.conftest import run_cli

pytestmark = pytest.mark.skipif(not cluster_available(), reason="redis-server and redis-cli not installed")

SERVERS = [f"pbx{i:02d}" for i in range(50)]
EVENTS = 60  # per server; every 4th is a security event too
BRIDGE_STREAMS = (keys.EVENTS, keys.TO_ODOO, keys.commands("odoo_bridge"))


@pytest.fixture
async def cluster(tmp_path: Path) -> Any:
    topology = await asyncio.to_thread(ClusterTopology(tmp_path).start)
    yield topology
    await asyncio.to_thread(topology.stop)


def settings(cluster: ClusterTopology, prefix: str, server: str) -> BusSettings:
    return BusSettings(
        redis_url=cluster.url, redis_cluster=True, pbx_prefix=prefix, agent_server=server, bus_block_ms=100
    )


async def test_fifty_servers_land_on_every_node_and_each_ones_traffic_flows(
    cluster: ClusterTopology, prefix: str
) -> None:
    buses = {s: Bus(settings(cluster, prefix, s)) for s in SERVERS}
    seen: dict[tuple[str, str], list[Entry]] = defaultdict(list)

    def recorder(server: str, group: str, reject_n: str | None = None) -> Any:
        async def handle(batch: list[Entry]) -> Outcome:
            seen[(server, group)].extend(batch)
            refused = [e.id for e in batch if e.headers.get("N") == reject_n]
            return Outcome(reject=dict.fromkeys(refused, "refused by the test"))

        return handle

    consumers = []
    for server, bus in buses.items():
        bridge = recorder(server, "odoo_bridge", reject_n="7")
        consumers.append(Consumer(bus, "odoo_bridge", dict.fromkeys(BRIDGE_STREAMS, bridge), consumer="b-1"))
        consumers.append(Consumer(bus, "guard", {keys.SECURITY: recorder(server, "guard")}, consumer="g-1"))
    stop = asyncio.Event()
    for consumer in consumers:
        await consumer.ensure_groups()
    running = [asyncio.create_task(c.run(stop)) for c in consumers]

    async def gateway(server: str, bus: Bus) -> None:
        for start in range(0, EVENTS, 20):
            items = []
            for n in range(start, start + 20):
                fields = {"@type": "event", "@server": server, "@id": f"s:{n}", "Event": "Newstate"}
                fields["N"] = str(n)
                items.append((keys.EVENTS, fields))
                if n % 4 == 0:
                    items.append((keys.SECURITY, fields))
            await bus.publish_many(items)
        await bus.publish(keys.TO_ODOO, {"N": "to_odoo"}, type="guard.ban")
        await bus.publish(keys.commands("odoo_bridge"), {"N": "command"}, type="test")

    try:
        await asyncio.gather(*(gateway(s, b) for s, b in buses.items()))

        async def all_consumed() -> bool:
            return all(
                len(seen[(s, "odoo_bridge")]) == EVENTS + 2 and len(seen[(s, "guard")]) == EVENTS // 4
                for s in SERVERS
            )

        await eventually(all_consumed, timeout=90, every=0.2)
    finally:
        stop.set()
        await asyncio.gather(*running)

    # Each server saw its own traffic only, events in order, and one entry dead-lettered.
    for server, bus in buses.items():
        bridge = seen[(server, "odoo_bridge")]
        assert {e.meta.get("server", server) for e in bridge} == {server}
        events = [int(e.headers["N"]) for e in bridge if e.stream == keys.EVENTS]
        assert events == list(range(EVENTS))
        assert {e.stream for e in bridge} == set(BRIDGE_STREAMS)
        guard = [int(e.headers["N"]) for e in seen[(server, "guard")]]
        assert guard == list(range(0, EVENTS, 4))
        (dead,) = await bus.redis.xrange(bus.key(keys.DEAD))
        assert dead[1]["N"] == "7" and dead[1]["@error"] == "refused by the test"
        assert (await bus.redis.xpending(bus.key(keys.EVENTS), "odoo_bridge"))["pending"] == 0

    # Where the keys are: every key of a server on one node, and the servers on every node.
    nodes_of: dict[str, set[int]] = defaultdict(set)
    for node in cluster.nodes:
        client = redis.Redis(port=node.port, decode_responses=True)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            nodes_of[key.split(":")[1].strip("{}")].add(node.port)
    assert set(nodes_of) == set(SERVERS)
    assert all(len(ports) == 1 for ports in nodes_of.values()), "a server's keys are split across nodes"
    per_node = {n.port: sorted(s for s, ports in nodes_of.items() if n.port in ports) for n in cluster.nodes}
    assert all(per_node.values()), f"a node holds no server: {per_node}"
    print("\nservers per node:", {port: len(servers) for port, servers in per_node.items()})

    for bus in buses.values():
        await bus.close()


async def test_the_cli_health_check_and_redis_cli_reach_a_servers_keys_on_the_cluster(
    cluster: ClusterTopology, prefix: str
) -> None:
    server = "pbx07"
    s = settings(cluster, prefix, server)
    bus = Bus(s)
    await bus.publish_many([(keys.EVENTS, {"@type": "event", "Event": "FullyBooted"})] * 3)
    status = Status(bus, "ami_gateway")
    await status.set(ready=1)
    await bus.close()

    assert await asyncio.to_thread(check, s, "ami_gateway", 30) == (True, "ready")

    env = {**os.environ, "REDIS_URL": cluster.url, "REDIS_CLUSTER": "yes", "PBX_PREFIX": prefix}
    env["AGENT_SERVER"] = server
    done = await asyncio.to_thread(run_cli, env, "streams")
    assert done.returncode == 0, done.stderr
    assert "events" in done.stdout and "length=3" in done.stdout

    # docs/operations.md's redis-cli lines: `-c` follows the cluster to the node, the quoted key keeps braces.
    key = f"{prefix}:{{{server}}}:events"
    cli = ["redis-cli", "-c", "-p", str(cluster.nodes[0].port)]
    length = await asyncio.to_thread(subprocess.run, [*cli, "XLEN", key], capture_output=True, text=True)
    assert length.stdout.strip() == "3"


async def test_a_service_without_redis_cluster_refuses_a_cluster_node(
    cluster: ClusterTopology, prefix: str
) -> None:
    bus = Bus(BusSettings(redis_url=cluster.url, pbx_prefix=prefix))
    with pytest.raises(RuntimeError, match="REDIS_CLUSTER=yes"):
        await asyncio.wait_for(wait_for_redis(bus), 10)
    await bus.close()


async def test_a_publish_to_a_node_that_no_longer_holds_the_slot_follows_the_cluster(
    cluster: ClusterTopology, prefix: str
) -> None:
    """The gateway's packed publish goes to the node of the server's slot as the client last knew it; when the
    slot has moved (resharding, failover), the node answers MOVED and the batch is written where it lives."""
    bus = Bus(settings(cluster, prefix, "pbx07"))
    await bus.publish_many([(keys.EVENTS, {"N": "0"})])
    manager = bus.redis.nodes_manager
    slot = bus.redis.keyslot(bus.key(keys.EVENTS))
    right = manager.slots_cache[slot][0]
    wrong = next(n for n in manager.nodes_cache.values() if n.name != right.name)
    manager.slots_cache[slot] = [wrong]  # what a client holds just after the slot moved away
    ids = await bus.publish_many([(keys.EVENTS, {"N": "1"}), (keys.SECURITY, {"N": "1"})])
    assert len(ids) == 2
    assert bus.redis.get_node_from_key(bus.key(keys.EVENTS)).name == right.name  # the map was made again
    rows = await bus.redis.xrange(bus.key(keys.EVENTS))
    assert [f["N"] for _, f in rows] == ["0", "1"]
    await bus.close()
