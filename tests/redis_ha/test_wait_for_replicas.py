"""What a failover loses, with and without BUS_WAIT_REPLICAS, measured on one kill.

Two publishers write side by side through the Sentinels, one plain, one waiting for a replica (WAIT), and a
consumer group acks each stream. The replica is made to lag (stopped, so the master's output to it piles up
in the master's memory) and the master is killed -9 while it lags: what the master acked but never sent is
gone. The checks:

- plain publishing loses acked entries, and they are one run: the newest the master held, nothing older;
- every entry a WAIT confirmed is on the new master; only what WAIT did not confirm in time (counted in
  `Bus.unreplicated`, and logged) may be missing: while the replica lags, the waiting publisher is held in
  WAIT instead of being told its entries are safe;
- an ack a WAIT confirmed is never undone: that entry is not delivered again after the failover.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from peers.redis_topology import SentinelTopology, sentinel_available
from services.bus import REDIS_DOWN, Bus, BusSettings, Consumer, Entry
from tests.bus.helpers import eventually

pytestmark = pytest.mark.skipif(not sentinel_available(), reason="redis-server (Sentinel mode) not installed")

BATCH = 50
PAYLOAD = "x" * 2000  # big entries fill the replication buffer quickly
LAG_BYTES = 2_000_000  # what must be stuck in the master's output to the replica before the kill


class RecordingBus(Bus):
    """A Bus that notes which acks a WAIT confirmed."""

    def __init__(self, settings: BusSettings) -> None:
        super().__init__(settings)
        self.confirmed_acks: list[str] = []

    async def ack(self, stream_key: str, group: str, ids: list[str]) -> None:
        before = self.unreplicated
        await super().ack(stream_key, group, ids)
        if self.wait_replicas and self.unreplicated == before:
            self.confirmed_acks.extend(ids)


class Publisher:
    def __init__(self, bus: Bus, stream: str) -> None:
        self.bus, self.stream = bus, stream
        self.acked: list[tuple[int, bool]] = []  # (n, a WAIT confirmed it)
        self.seq = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = [(self.stream, {"n": str(self.seq + i), "p": PAYLOAD}) for i in range(BATCH)]
            before = self.bus.unreplicated
            try:
                await self.bus.publish_many(batch)
            except REDIS_DOWN:
                await asyncio.sleep(0.05)
                continue  # the same batch again, to the new master
            confirmed = bool(self.bus.wait_replicas) and self.bus.unreplicated == before
            self.acked += [(self.seq + i, confirmed) for i in range(BATCH)]
            self.seq += BATCH
            await asyncio.sleep(0)


def settings(topology: SentinelTopology, prefix: str, **overrides: Any) -> BusSettings:
    env = {k.lower(): v for k, v in topology.env().items()}
    return BusSettings(**env, pbx_prefix=prefix, bus_block_ms=100, bus_claim_idle_ms=1000, **overrides)


def lagging(topology: SentinelTopology, master: int) -> bool:
    """Bytes the master holds for its (stopped) replica, not yet written to the socket."""
    replicas = topology.client(master).client_list(_type="replica")
    return bool(replicas) and int(replicas[0]["omem"]) >= LAG_BYTES


async def test_wait_confirmed_entries_and_acks_survive_a_failover_that_loses_plain_ones(
    tmp_path: Path, prefix: str
) -> None:
    topology = await asyncio.to_thread(SentinelTopology(tmp_path).start)
    plain = RecordingBus(settings(topology, prefix))
    waiting = RecordingBus(settings(topology, prefix, bus_wait_replicas=1, bus_wait_timeout_ms=200))
    publishers = [Publisher(plain, "plain"), Publisher(waiting, "waiting")]
    delivered: dict[str, Counter[str]] = {"plain": Counter(), "waiting": Counter()}

    def handler(stream: str) -> Any:
        async def handle(batch: list[Entry]) -> None:
            delivered[stream].update(e.id for e in batch)

        return handle

    consumers = [
        Consumer(bus, "workers", {stream: handler(stream)}, consumer=f"{stream}-1")
        for bus, stream in ((RecordingBus(plain.settings), "plain"), (waiting, "waiting"))
    ]
    stop, stop_consumers = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(p.run(stop)) for p in publishers]
    tasks += [asyncio.create_task(c.run(stop_consumers)) for c in consumers]
    replica = topology.server(topology.replica_port())
    try:
        await eventually(lambda: _all(lambda p: len(p.acked) > 500, publishers), timeout=30)
        master = topology.master_port()
        replica.proc.send_signal(signal.SIGSTOP)
        try:
            await eventually(lambda: asyncio.to_thread(lagging, topology, master), timeout=60, every=0.02)
            at_kill = [len(p.acked) for p in publishers]
            topology.server(master).kill()
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        await asyncio.to_thread(topology.wait_promoted, master)
        after = {id(p): n + 200 for p, n in zip(publishers, at_kill, strict=True)}
        await eventually(lambda: _all(lambda p: len(p.acked) > after[id(p)], publishers))
        stop.set()
        await asyncio.gather(*tasks[:2])
        await eventually(lambda: _consumed(consumers, publishers), timeout=60)
    finally:
        stop.set()
        stop_consumers.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    survived = {}
    for p in publishers:
        rows = await p.bus.redis.xrange(p.bus.key(p.stream))
        survived[p.stream] = {int(f["n"]) for _, f in rows}

    # Plain: the master acked entries it never sent; they are the newest before the kill, in one run.
    acked_plain = [n for n, _ in publishers[0].acked[: at_kill[0]]]
    lost_plain = sorted(set(acked_plain) - survived["plain"])
    assert lost_plain, "the lagging replica should have missed acked entries"
    assert lost_plain == list(range(lost_plain[0], lost_plain[-1] + 1))
    assert all(n in survived["plain"] for n in acked_plain if n < lost_plain[0])

    # WAIT: whatever it confirmed survived; what it could not confirm was known as such.
    confirmed = {n for n, ok in publishers[1].acked if ok}
    unconfirmed = {n for n, ok in publishers[1].acked[: at_kill[1]] if not ok}
    assert confirmed and confirmed <= survived["waiting"]
    lost_waiting = sorted({n for n, _ in publishers[1].acked[: at_kill[1]]} - survived["waiting"])
    assert set(lost_waiting) <= unconfirmed

    # An ack WAIT confirmed is not undone: that entry does not come again. Plain acks may be.
    assert waiting.confirmed_acks
    assert all(delivered["waiting"][i] == 1 for i in waiting.confirmed_acks)
    again = {s: sum(1 for c in delivered[s].values() if c > 1) for s in delivered}
    print(
        f"\nlagging replica, one kill: plain lost {len(lost_plain)} of {len(acked_plain)} acked; "
        f"WAIT lost {len(lost_waiting)} ({len(unconfirmed)} unconfirmed, {len(confirmed)} confirmed, "
        f"all kept); delivered again after the failover: {again}"
    )
    for bus in (plain, waiting, consumers[0].bus):
        await bus.close()
    await asyncio.to_thread(topology.stop)


async def _all(check: Any, items: list[Any]) -> bool:
    return all(check(item) for item in items)


async def _consumed(consumers: list[Consumer], publishers: list[Publisher]) -> bool:
    try:
        for consumer, publisher in zip(consumers, publishers, strict=True):
            key = consumer.bus.key(publisher.stream)
            pending = await consumer.bus.redis.xpending(key, consumer.group)
            groups = await consumer.bus.redis.xinfo_groups(key)
            if pending["pending"] or groups[0]["lag"]:
                return False
    except redis.RedisError:
        return False
    return True
