"""ODOO_CONCURRENCY: batches of disjoint calls go to Odoo side by side; each call keeps its order, and each
call to Odoo, whichever session of the pool made it, is in the RPC latency histogram once."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from peers.ami_peer import demo_calls
from peers.ami_peer.flows import FLOWS
from peers.odoo_peer import DEFAULT_MAP, OdooPeer
from services.bus import Entry, encode, keys, metrics
from services.odoo_bridge.lanes import CallKeys, split
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import (
    assert_delivered_once_in_call_order,
    bridge_settings,
    call_of,
    running_bridge,
)

MAPPED = {m["event"] for m in DEFAULT_MAP}


def interleaved_calls(rng: random.Random, rounds: int) -> list[list[tuple[str, str]]]:
    """Calls overlapping in time as on a busy PBX: each call's events in order, calls woven together."""
    calls = [c.events() for _ in range(rounds) for c in demo_calls(rng)]
    calls += [FLOWS[name]() for name in FLOWS for _ in range(rounds)]
    rng.shuffle(calls)
    events = []
    live = [iter(c) for c in calls[:6]]
    waiting = iter(calls[6:])
    while live:
        stream = rng.choice(live)
        event = next(stream, None)
        if event is None:
            live.remove(stream)
            following = next(waiting, None)
            if following is not None:
                live.append(iter(following))
            continue
        events.append(event)
    return events


async def test_disjoint_calls_overlap_in_odoo_and_each_call_keeps_its_order(
    redis_url: str, prefix: str
) -> None:
    odoo = await OdooPeer(latency=0.05).start()
    async with running_bridge(
        bridge_settings(redis_url, prefix, odoo, odoo_concurrency=4, odoo_batch=50), odoo, stop_peer=True
    ) as run:

        async def ready() -> bool:
            return (await run.bus.redis.hget(run.bus.key("status:odoo_bridge"), "ready")) == "1"

        await eventually(ready)
        assert odoo.logins == 4  # every session logged in at start, none among the batches
        timed_before = _rpcs_timed(run.bus.server)
        events = interleaved_calls(random.Random(3), rounds=6)
        fields = [
            encode(pairs, type="event", server="asterisk1", at="2026-12-01T04:10:21.000000Z", id=f"s:{n}")
            for n, pairs in enumerate(events)
        ]
        await run.bus.publish_fields(keys.EVENTS, fields)
        wanted = [f for f in fields if f.get("Event") in MAPPED]

        async def all_there() -> bool:
            return len(odoo.items("asterisk_plus.call")) >= len(wanted)

        await eventually(all_there, timeout=60)
        await asyncio.sleep(0.3)
        assert_delivered_once_in_call_order(odoo.items("asterisk_plus.call"), wanted)

        # Batches really were in Odoo at the same time, and two in flight together never shared a call.
        assert odoo.max_in_flight >= 2
        linked: dict[str, str] = {}
        for item in wanted:
            call_of(item, linked)
        spans = [(start, end, {call_of(i, linked) for i in items}) for start, end, items in odoo.spans]
        overlapping = [(a, b) for a, b in itertools.combinations(spans, 2) if a[0] < b[1] and b[0] < a[1]]
        assert overlapping
        assert all(not (a[2] & b[2]) for a, b in overlapping), "two batches in flight held the same call"
        assert await run.bus.redis.xlen(run.bus.key(keys.DEAD)) == 0
        # Every delivery Odoo answered, from four sessions at once, observed once as `ok`.
        delivered = Counter((model, method) for model, method, _ in odoo.calls)
        timed = _rpcs_timed(run.bus.server) - timed_before
        assert +timed == delivered


def _rpcs_timed(server: str) -> Counter[tuple[str, str]]:
    """pbx_odoo_rpc_seconds observations ending `ok` of the deliveries (bridge_on_*, on_ami_events)."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            labels = sample.labels
            if sample.name != "pbx_odoo_rpc_seconds_count" or labels.get("server") != server:
                continue
            method = labels["method"]
            if labels["outcome"] == "ok" and (method.startswith("bridge_on_") or method == "on_ami_events"):
                counts[(labels["model"], method)] = int(sample.value)
    return counts


async def test_concurrency_one_sends_one_batch_at_a_time(redis_url: str, prefix: str) -> None:
    odoo = await OdooPeer(latency=0.02).start()
    async with running_bridge(
        bridge_settings(redis_url, prefix, odoo, odoo_concurrency=1, odoo_batch=20), odoo, stop_peer=True
    ) as run:
        events = interleaved_calls(random.Random(5), rounds=2)
        fields = [encode(p, type="event", server="asterisk1", id=f"s:{n}") for n, p in enumerate(events)]
        await run.bus.publish_fields(keys.EVENTS, fields)
        wanted = [f for f in fields if f.get("Event") in MAPPED]

        async def all_there() -> bool:
            return len(odoo.items("asterisk_plus.call")) >= len(wanted)

        await eventually(all_there, timeout=60)
        assert [i["@id"] for i in odoo.items("asterisk_plus.call")] == [w["@id"] for w in wanted]
        assert odoo.max_in_flight == 1


def entry(n: int, headers: dict[str, str]) -> Entry:
    return Entry("events", f"{n}-0", dict(headers), {"id": f"s:{n}"})


def test_a_cdr_and_an_originate_response_go_with_their_call() -> None:
    """A Cdr names only its channel's UniqueID (here the Local chain's ;2), never the Linkedid."""
    keys_ = CallKeys()
    events = FLOWS["local-chain"]()
    linked = dict(events[0])["Linkedid"]
    found = {dict(e)["Event"]: set() for e in events}
    for n, e in enumerate(events):
        found[dict(e)["Event"]].add(keys_.key(entry(n, dict(e))))
    assert found["Cdr"] == found["OriginateResponse"] == found["Hangup"] == found["DialBegin"] == {linked}
    assert found["DeviceStateChange"] == {""}  # about a device, not a call


@given(
    calls=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=30),
    lanes=st.integers(min_value=1, max_value=6),
    seed=st.integers(),
)
def test_lanes_share_no_call_and_keep_the_stream_order(calls: list[int], lanes: int, seed: int) -> None:
    rng = random.Random(seed)
    order = [c for c, size in enumerate(calls) for _ in range(size)]
    rng.shuffle(order)  # calls interleaved; within a call the numbering below gives its order
    keyed = []
    for n, call in enumerate(order):
        keyed.append((f"call{call}", entry(n, {"Linkedid": f"call{call}"})))
    result = split(keyed, lanes)
    assert 1 <= len(result) <= min(lanes, len(calls))
    assert sorted(e.id for lane in result for e in lane) == sorted(e.id for _, e in keyed)
    owner: dict[str, int] = {}
    for number, lane in enumerate(result):
        assert [int(e.id.split("-")[0]) for e in lane] == sorted(int(e.id.split("-")[0]) for e in lane)
        for e in lane:
            assert owner.setdefault(e.headers["Linkedid"], number) == number
    sizes = [len(lane) for lane in result]
    assert max(sizes) - min(sizes) <= max(calls)  # balanced to within one call
