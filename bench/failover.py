"""Redis high availability: what a Sentinel failover costs the gateway, and what WAIT costs.

- failover: a master, a replica and three Sentinels (down-after 1 s) on loopback; the gateway (its own
  process) fed by the AMI peer at a steady rate; the master is killed -9 mid traffic. `failover_s` runs from
  the kill to the first event the gateway received after it being on the new master (the Sentinels' 1 s to
  agree the master is down, their election, the gateway's reconnect and its buffer's flush); `lost_events`
  counts the events the AMI peer sent that are not on the new master (acked by the old master, never
  replicated), summed over the runs.
- WAIT: the gateway's ingest (as `bench.ingest`, through the Sentinels) with BUS_WAIT_REPLICAS=0 and =1, a
  consumer group's acks likewise, and the time of one event's publish (the latency WAIT adds to a flush);
  `wait_cost_pct` is the gateway's loss of throughput with WAIT (medians of REPEATS turns).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peers.ami_peer import AmiPeer, demo_calls
from peers.redis_topology import SentinelTopology, sentinel_available
from services.ami.codec import Pairs
from services.bus import REDIS_DOWN, Bus, BusSettings, Consumer, Entry, Keys, close_redis, connect_redis

from .common import service
from .ingest import measure_ingest, sample_events

RUNS = 3  # failovers
RATE = 2000  # events per second during a failover
BEFORE_S = 2.0  # traffic before the kill
AFTER_S = 2.0  # traffic after the new master took the first event
REPEATS = 3  # turns of the WAIT measures; the medians are printed
N_INGEST = 50_000  # events per ingest measure (with and without WAIT)
N_ACKS = 50_000  # entries through a consumer group (with and without WAIT)
N_LATENCY = 1000  # single-event publishes (with and without WAIT)


def _settings(topology: SentinelTopology, **overrides: Any) -> BusSettings:
    env: dict[str, Any] = {k.lower(): v for k, v in topology.env().items()}
    return BusSettings(**env, pbx_prefix="bench", **overrides)


def _calls() -> Iterator[Pairs]:
    """AMI events without end."""
    while True:
        for call in demo_calls():
            yield from call.events()


async def one_failover(workdir: Path) -> tuple[float, int, int]:
    """(seconds from the kill to events flowing again, events lost, events doubled)."""
    topology = await asyncio.to_thread(SentinelTopology(workdir).start)
    peer = await AmiPeer(tag_events=True).start()
    settings = _settings(topology)
    key = Keys.of(settings).key("events")
    env = {**topology.env(), "PBX_PREFIX": "bench", "AMI_HOST": "127.0.0.1", "AMI_PORT": str(peer.port)}
    env.update({"AMI_USER": "admin", "AMI_SECRET": "admin"})
    try:
        with service("ami_gateway", env):
            while not any(s.user for s in peer.sessions):
                await asyncio.sleep(0.02)
            replay = asyncio.create_task(peer.replay(_calls(), rate=RATE))
            await asyncio.sleep(BEFORE_S)
            old = await asyncio.to_thread(topology.kill_master)
            killed = time.perf_counter()
            first_after = len(peer.sent_events) + 1
            await asyncio.to_thread(topology.wait_promoted, old)
            client = connect_redis(settings)
            async with asyncio.timeout(60):
                while True:
                    try:
                        last = await client.xrevrange(key, count=1)
                        if last and int(last[0][1].get("PeerSeq", 0)) >= first_after:
                            break
                    except REDIS_DOWN:
                        pass
                    await asyncio.sleep(0.005)
            flowing = time.perf_counter()
            await asyncio.sleep(AFTER_S)
            replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replay
            sent = {int(dict(p)["PeerSeq"]) for _, p in peer.sent_events}
            async with asyncio.timeout(60):
                while True:  # the gateway's buffer drained
                    on_bus = [int(f["PeerSeq"]) for _, f in await client.xrange(key) if "PeerSeq" in f]
                    if on_bus and on_bus[-1] == max(sent):
                        break
                    await asyncio.sleep(0.05)
            await close_redis(client)
    finally:
        await peer.stop()
        await asyncio.to_thread(topology.stop)
    return flowing - killed, len(sent - set(on_bus)), len(on_bus) - len(set(on_bus))


async def acks_per_s(settings: BusSettings, n: int) -> float:
    """Entries a second through a consumer group whose handler does nothing: the acks are the work."""
    bus = Bus(settings)
    stream = f"acks{settings.bus_wait_replicas}"
    await bus.redis.delete(bus.key(stream))
    for i in range(0, n, 1000):
        await bus.publish_fields(stream, [{"n": str(j)} for j in range(i, min(n, i + 1000))])
    done = asyncio.Event()
    count = 0

    async def handle(batch: list[Entry]) -> None:
        nonlocal count
        count += len(batch)
        if count >= n:
            done.set()

    consumer = Consumer(bus, "bench", {stream: handle}, consumer="c1", batch=200)
    await consumer.ensure_groups()
    start = time.perf_counter()
    task = asyncio.create_task(consumer.run(done))
    await done.wait()
    elapsed = time.perf_counter() - start
    await task
    await bus.close()
    return n / elapsed


async def publish_ms(settings: BusSettings, n: int) -> float:
    """Median time of one event's publish_many: what WAIT adds to each flush of the gateway."""
    bus = Bus(settings)
    times = []
    for i in range(n):
        start = time.perf_counter()
        await bus.publish_many([("latency", {"n": str(i)})])
        times.append(time.perf_counter() - start)
    await bus.close()
    return 1000 * statistics.median(times)


async def wait_costs(workdir: Path) -> dict[str, float]:
    """Each figure with and without WAIT, measured in turns so that the machine's drift falls on both."""
    topology = await asyncio.to_thread(SentinelTopology(workdir).start)
    figures: dict[str, list[float]] = {}
    plain, waiting = _settings(topology), _settings(topology, bus_wait_replicas=1)
    try:
        events = sample_events(N_INGEST)
        for _ in range(REPEATS):
            for name, env in (("ingest", {}), ("ingest_wait", {"BUS_WAIT_REPLICAS": "1"})):
                rate = await measure_ingest("", events, {**topology.env(), **env})
                figures.setdefault(name, []).append(rate)
            for name, settings in (("acks", plain), ("acks_wait", waiting)):
                figures.setdefault(name, []).append(await acks_per_s(settings, N_ACKS))
            for name, settings in (("publish_ms", plain), ("publish_wait_ms", waiting)):
                figures.setdefault(name, []).append(await publish_ms(settings, N_LATENCY))
    finally:
        await asyncio.to_thread(topology.stop)
    return {name: statistics.median(values) for name, values in figures.items()}


async def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pbx-bench-failover-") as tmp:
        results = [await one_failover(Path(tmp) / f"run{i}") for i in range(RUNS)]
        costs = await wait_costs(Path(tmp) / "wait")
    return {
        "failover_s": statistics.median(r[0] for r in results),
        "failover_max_s": max(r[0] for r in results),
        "lost_events": sum(r[1] for r in results),
        "doubled_events": sum(r[2] for r in results),
        **costs,
        "wait_cost_pct": 100 * (1 - costs["ingest_wait"] / costs["ingest"]),
        "ack_wait_cost_pct": 100 * (1 - costs["acks_wait"] / costs["acks"]),
    }


def main() -> None:
    if not sentinel_available():
        print("failover: skipped, redis-server (Sentinel mode) is not installed")
        return
    f = asyncio.run(run())
    print(
        f"failover_runs={RUNS} failover_max_s={f['failover_max_s']:.2f} doubled_events={f['doubled_events']} "
        f"ingest_events_per_s={f['ingest']:.0f} ingest_wait_events_per_s={f['ingest_wait']:.0f} "
        f"acks_per_s={f['acks']:.0f} acks_wait_per_s={f['acks_wait']:.0f} "
        f"ack_wait_cost_pct={f['ack_wait_cost_pct']:.1f} publish_ms={f['publish_ms']:.2f} "
        f"publish_wait_ms={f['publish_wait_ms']:.2f}"
    )
    lost, cost = f["lost_events"], f["wait_cost_pct"]
    print(f"failover_s={f['failover_s']:.2f} lost_events={lost} wait_cost_pct={cost:.1f}")


if __name__ == "__main__":
    main()
