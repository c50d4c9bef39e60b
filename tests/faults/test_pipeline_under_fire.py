"""Proof under fire: the pipeline as real processes, with every part failing in turn while calls flow.

The AMI peer numbers every event it sends (`PeerSeq`). Afterwards: every event that reached the bus reached
Odoo exactly once and in per-call order, or sits in the dead letters because Odoo was made to reject it; every
event that never reached the bus (sent while no gateway was connected, or in flight in a killed one) lies in a
gap the gateway marked at its place; every attacker whose failures reached the bus is banned exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peers.ami_peer import AmiPeer, attack, demo_calls, good_client
from peers.ami_peer.server import Pairs
from peers.local_redis import RedisServer
from peers.odoo_peer import DEFAULT_MAP, OdooPeer
from services.guard.addresses import parse_remote_address
from services.guard.rules import FAILURES

from .harness import Pipeline

MAPPED = {m["event"] for m in DEFAULT_MAP}
ATTACKERS = [f"203.0.113.{i}" for i in range(1, 41)]
GOOD = [f"198.51.100.{i}" for i in range(1, 21)]
RATE = 250  # events per second from the AMI peer


def rejected(item: dict[str, Any]) -> str | None:
    """Odoo refuses some items for good: they must end in the dead letters, with this text."""
    seq = int(item.get("PeerSeq") or 0)
    if item.get("Event") == "Newstate" and seq % 7 == 0:
        return f"fault suite rejects PeerSeq {seq}"
    return None


def workload(done: asyncio.Event) -> Iterator[Pairs]:
    """Calls without end, with an attack and good clients woven in, until `done`."""
    rng = random.Random(7)
    security = list(attack(ATTACKERS, 7))
    security += [e for address in GOOD for e in good_client(address, 3)]
    rng.shuffle(security)
    n = 0
    while not done.is_set():
        for call in demo_calls(rng):
            for event in call.events():
                yield event
                n += 1
                if n % 8 == 0 and security:
                    yield security.pop()
    yield from security


@pytest.fixture
async def pipeline(tmp_path: Path, own_redis: RedisServer) -> Any:
    ami = await AmiPeer(login_failure_delay=0.05, tag_events=True).start()
    odoo = await OdooPeer().start()
    odoo.reject = rejected
    logs = tmp_path / "logs"
    logs.mkdir()
    pipe = Pipeline(own_redis, ami, odoo, logs)
    yield pipe
    pipe.stop_all()
    await ami.stop()
    await odoo.stop()


async def faults(pipe: Pipeline, log: list[str]) -> None:
    async def step(what: str, pause: float = 2.0) -> None:
        log.append(what)
        await asyncio.sleep(pause)

    for service in ("ami_gateway", "odoo_bridge", "guard"):
        await step(f"kill -9 {service}", 1.0)
        pipe.kill(service)
        await asyncio.sleep(1.0)
        pipe.start(service)
        await pipe.ready(service)
        await asyncio.sleep(2.0)

    await step("restart Redis")
    pipe.redis.restart()
    for service in ("ami_gateway", "odoo_bridge", "guard"):
        await pipe.ready(service)

    await step("Odoo refuses connections for 3 s")
    await pipe.odoo.stop()
    await asyncio.sleep(3)
    await pipe.odoo.start()

    await step("Odoo answers slowly (0.4 s a call) for 3 s")
    pipe.odoo.latency = 0.4
    await asyncio.sleep(3)
    pipe.odoo.latency = 0.0

    await step("Odoo fails one batch with a server error")
    pipe.odoo.fail_next = 1

    await step("the AMI connection drops")
    pipe.ami.drop_connections()
    await pipe.ready("ami_gateway")
    await asyncio.sleep(2)


async def test_nothing_is_lost_or_doubled_whatever_fails(pipeline: Pipeline) -> None:
    pipe = pipeline
    for service in ("ami_gateway", "odoo_bridge", "guard"):
        pipe.start(service)
    for service in ("ami_gateway", "odoo_bridge", "guard"):
        await pipe.ready(service)

    done = asyncio.Event()
    replay = asyncio.create_task(pipe.ami.replay(workload(done), rate=RATE))
    steps: list[str] = []
    try:
        await faults(pipe, steps)
    finally:
        done.set()
        await replay
    await pipe.ami.drain()
    assert all(code is None for code in pipe.alive().values()), pipe.log_tail()

    sent = [int(dict(p)["PeerSeq"]) for _, p in pipe.ami.sent_events]
    client = pipe.client()
    try:
        # Quiet: the gateway has published the last event Asterisk sent (it may still hold a batch in
        # memory when the peer's socket has drained), both consumer groups have nothing pending, and Odoo
        # has what the bus has.
        async with asyncio.timeout(120):
            while True:
                events = await client.xrange(pipe.key("events"))
                bus_mapped = {
                    int(f["PeerSeq"]) for _, f in events if f.get("Event") in MAPPED and "PeerSeq" in f
                }
                odoo_seqs = {int(i["PeerSeq"]) for i in pipe.odoo.items("asterisk_plus.call")}
                dead = await client.xrange(pipe.key("dead"))
                dead_seqs = {int(f["PeerSeq"]) for _, f in dead if "PeerSeq" in f}
                pending = [
                    (await client.xpending(pipe.key(stream), group))["pending"]
                    for stream, group in (("events", "odoo_bridge"), ("security", "guard"))
                ]
                last_on_bus = max((int(f["PeerSeq"]) for _, f in events if "PeerSeq" in f), default=0)
                if last_on_bus == sent[-1] and odoo_seqs | dead_seqs >= bus_mapped and not any(pending):
                    break
                await asyncio.sleep(0.5)
        security = await client.xrange(pipe.key("security"))
        bans_hash = await client.hgetall(pipe.key("guard:bans"))
    finally:
        await client.aclose()

    on_bus = [int(f["PeerSeq"]) for _, f in events if "PeerSeq" in f]

    # 1. The bus holds the events in the order Asterisk sent them, each once.
    assert on_bus == sorted(set(on_bus)), "events on the bus out of order or doubled"

    # 2. Whatever never reached the bus lies in a gap marked at its place, with its time range.
    lost = sorted(set(sent) - set(on_bus))
    stream = [f for _, f in events if "PeerSeq" in f or f.get("@type") == "gap"]
    prev_seq, prev_at = 0, -1  # the last numbered event and its place in `stream`
    unexplained = []
    for at, fields in enumerate(stream):
        if "PeerSeq" not in fields:
            continue
        seq = int(fields["PeerSeq"])
        if seq != prev_seq + 1:
            gaps = [g for g in stream[prev_at + 1 : at] if g.get("@type") == "gap"]
            if not gaps or not all(g["@from"] < g["@to"] for g in gaps):
                unexplained.append((prev_seq, seq))
        prev_seq, prev_at = seq, at
    assert unexplained == [], f"events lost with no gap marker between these PeerSeq: {unexplained}"
    assert set(on_bus) <= set(sent) and on_bus[-1] == sent[-1]
    print(f"\nfaults: {steps}\nsent {len(sent)}, on the bus {len(on_bus)}, lost at the source {len(lost)}")
    gaps = [f for _, f in events if f.get("@type") == "gap"]
    # The gateway's kill and the dropped connection each left one; the Redis restart left none.
    assert len(gaps) == 2, gaps

    # 3. Odoo got every mapped event on the bus exactly once, or it is in the dead letters with its error.
    items = pipe.odoo.items("asterisk_plus.call")
    odoo_list = [int(i["PeerSeq"]) for i in items]
    assert len(odoo_list) == len(set(odoo_list)), "an event reached Odoo twice"
    event_of = {int(f["PeerSeq"]): f["Event"] for _, f in events if "PeerSeq" in f}
    expected_dead = {s for s in bus_mapped if rejected({"Event": event_of[s], "PeerSeq": s})}
    assert set(odoo_list) == bus_mapped - expected_dead
    dead_by_seq = defaultdict(list)
    for _, f in dead:
        dead_by_seq[int(f.get("PeerSeq", -1))].append(f)
    assert set(dead_by_seq) == expected_dead, "the dead letters hold something else than the rejected items"
    for seq, entries in dead_by_seq.items():
        assert len(entries) == 1 and entries[0]["@error"] == f"Odoo: fault suite rejects PeerSeq {seq}"

    # 4. Per call, Odoo received the events in the order Asterisk sent them.
    by_call: dict[str, list[int]] = defaultdict(list)
    for item in items:
        # Cdr carries the call's first channel as UniqueID, which is every channel's Linkedid.
        by_call[item.get("Linkedid") or item["UniqueID"]].append(int(item["PeerSeq"]))
    disordered = {call: seqs for call, seqs in by_call.items() if seqs != sorted(seqs)}
    assert disordered == {}

    # 5. Every attacker whose failures reached the bus is banned once; no good client is.
    failures: dict[str, int] = defaultdict(int)
    for _, f in security:
        if f.get("Event") in FAILURES:
            failures[parse_remote_address(f.get("RemoteAddress")) or ""] += 1
    should_ban = {a for a, n in failures.items() if n >= 5}
    assert should_ban and should_ban <= set(ATTACKERS)
    bans = [i["address"] for i in pipe.odoo.items("asterisk_plus.ban") if i.get("@type") == "guard.ban"]
    doubled = sorted(a for a in set(bans) if bans.count(a) > 1)
    missing, unexpected = sorted(should_ban - set(bans)), sorted(set(bans) - should_ban)
    assert (doubled, missing, unexpected) == ([], [], []), "a ban was lost, applied twice or unfounded"
    assert set(bans_hash) == should_ban
    assert steps  # the schedule ran
