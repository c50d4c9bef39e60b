"""Into a real Odoo: call-shaped events through the bridge (batches of disjoint calls, `ODOO_CONCURRENCY`
of them side by side) against one event per RPC, on the same Odoo.

Runs when `ODOO_URL` is set, with `ODOO_DB`, `ODOO_USER`, `ODOO_PASSWORD` and `AGENT_SERVER` as the bridge
reads them (the server record must exist in that Odoo); otherwise it says so and measures nothing. The events
are the real call flows (answered by the dialplan, unanswered, Local chains, click-to-call, queue) and the
demo calls, woven together as on a busy PBX, only those the server's events map selects, each call new to
Odoo. The bridge runs as a process of its own, as in production, on a Redis of the bench's own; the clock runs
from the backlog's XADD to the last entry acked. The per-event figure sends items shaped as the bridge's, one
`execute_kw` each, over the same transport.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import odoorpc

from peers.ami_peer import demo_calls
from peers.ami_peer.flows import FLOWS
from services.bus import Entry, connect_redis, encode, now_iso
from services.odoo_bridge.config import BridgeSettings
from services.odoo_bridge.events_map import EventsMap
from services.odoo_bridge.keepalive import KeepAliveOpener
from services.odoo_bridge.normalize import enrich
from services.odoo_bridge.odoo import odoo_rpc

from .common import private_redis, service

N_EVENTS = int(os.environ.get("ODOO_BENCH_EVENTS", "20000"))
N_PER_EVENT = int(os.environ.get("ODOO_BENCH_PER_EVENT", "500"))
LIVE_CALLS = 20  # calls going on at once in the woven stream
TIMEOUT_S = 1800
Pairs = list[tuple[str, str]]


def call_shaped(n: int, events_map: EventsMap, rng: random.Random) -> list[Pairs]:
    """`n` mapped events of whole calls woven together, each call's events in their order."""

    def demo() -> list[Pairs]:
        return [e for c in demo_calls(rng) for e in c.events()]

    kinds: list[Callable[[], list[Pairs]]] = [*FLOWS.values(), demo, demo]
    out: list[Pairs] = []
    live: list[list[Pairs]] = []
    while len(out) < n:
        while len(live) < LIVE_CALLS:
            call = [e for e in rng.choice(kinds)() if events_map.targets(_entry(e))]
            if call:
                live.append(call)
        call = rng.choice(live)
        out.append(call.pop(0))
        if not call:
            live.remove(call)
    return out


def _entry(pairs: Pairs, n: int = 0) -> Entry:
    return Entry.from_fields("events", f"{n}-0", encode(pairs, type="event", server="bench", id=f"x:{n}"))


def connect(settings: BridgeSettings) -> odoorpc.ODOO:
    client = odoo_rpc(settings.odoo_url, settings.odoo_timeout_s, KeepAliveOpener().opener)
    client.login(settings.odoo_db, settings.odoo_user, settings.odoo_password)
    return client


async def through_the_bridge(settings: BridgeSettings, events: list[Pairs]) -> tuple[float, int, str]:
    """(events/s, dead letters, first dead letter's error) for `events` delivered by the bridge."""
    token = uuid.uuid4().hex[:8]
    with private_redis() as url:
        prefix = f"benchodoo{token}"
        env = {"REDIS_URL": url, "PBX_PREFIX": prefix, "LOG_LEVEL": "WARNING"}
        client = connect_redis(url)
        key = f"{prefix}:{settings.agent_server}:"
        with service("odoo_bridge", env):
            async with asyncio.timeout(60):  # the bridge logged in and read the events map
                while (await client.hget(key + "status:odoo_bridge", "ready")) != "1":
                    await asyncio.sleep(0.1)
            fields = [
                encode(p, type="event", server=settings.agent_server, at=now_iso(), id=f"{token}:{n}")
                for n, p in enumerate(events)
            ]
            start = time.monotonic()
            pipe = client.pipeline(transaction=False)
            for f in fields:
                pipe.xadd(key + "events", f)
            ids = await pipe.execute()
            async with asyncio.timeout(TIMEOUT_S):
                while True:
                    groups = await client.xinfo_groups(key + "events")
                    (group,) = [g for g in groups if g["name"] == "odoo_bridge"]
                    if group["last-delivered-id"] == ids[-1] and group["pending"] == 0:
                        break
                    await asyncio.sleep(0.02)
            elapsed = time.monotonic() - start
        dead = await client.xrange(key + "dead")
        await client.aclose()
    return len(events) / elapsed, len(dead), (dead[0][1].get("@error", "") if dead else "")


def one_per_call(settings: BridgeSettings, config: dict[str, Any], events: list[Pairs]) -> float:
    """Each event in its own RPC, as the bridge would shape it: the original agent's way."""
    client = connect(settings)
    events_map = EventsMap(config.get("events_map") or [])
    token = uuid.uuid4().hex[:8]
    calls = []
    for n, pairs in enumerate(events):
        entry = Entry.from_fields(
            "events",
            f"{n}-0",
            encode(pairs, type="event", server=settings.agent_server, at=now_iso(), id=f"{token}:{n}"),
        )
        item = enrich(entry.as_item(), config.get("country_code", ""), config.get("tz") or "UTC")
        calls.append((events_map.targets(entry)[0], item))
    start = time.monotonic()
    for (model, method), item in calls:
        client.execute_kw(model, method, [settings.agent_server, [item]])
    return len(calls) / (time.monotonic() - start)


async def run(settings: BridgeSettings) -> dict[str, float | str]:
    client = connect(settings)
    config = client.execute_kw("asterisk_plus.server", "bridge_get_config", [settings.agent_server])
    events_map = EventsMap(config.get("events_map") or [])
    rng = random.Random()
    batched, dead, error = await through_the_bridge(settings, call_shaped(N_EVENTS, events_map, rng))
    per_event = await asyncio.to_thread(
        one_per_call, settings, config, call_shaped(N_PER_EVENT, events_map, rng)
    )
    return {
        "version": client.version,
        "batched": batched,
        "per_event": per_event,
        "dead": dead,
        "error": error,
    }


def main() -> None:
    if not os.environ.get("ODOO_URL"):
        print("odoo_real: skipped (set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD to measure a real Odoo)")
        return
    settings = BridgeSettings()
    f = asyncio.run(run(settings))
    print(
        f"odoo {f['version']} at {settings.odoo_url} db {settings.odoo_db}: {N_EVENTS} events through the "
        f"bridge "
        f"(ODOO_CONCURRENCY={settings.odoo_concurrency}, ODOO_BATCH={settings.odoo_batch}), "
        f"{N_PER_EVENT} one per call"
    )
    if f["dead"]:
        print(f"odoo_real: {f['dead']} events were dead-lettered, the first with: {f['error']}")
    print(
        f"odoo_events_per_s={f['batched']:.0f} per_event_events_per_s={f['per_event']:.0f} "
        f"ratio={float(f['batched']) / float(f['per_event']):.1f}"
    )


if __name__ == "__main__":
    main()
