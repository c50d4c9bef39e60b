"""Guard benchmark: security events per second, and the delay from the Nth failure to the ban in the firewall.

- `guard_events_per_s`: the guard service (consumer group, rules, bans stored and published) on a real Redis
  working through a backlog of attack and normal traffic on `security`, log-only backend (logs written to
  /dev/null, so their cost counts).
- `ban_delay_p50_ms` / `ban_delay_p99_ms`: from just before the XADD of an attacker's 5th failure to the ban
  being accepted by the firewall backend (log-only), attackers one at a time.
- `bus_ceiling_events_per_s`: the same backlog through a consumer group whose handler does nothing: the
  most any consumer of the bus library gets on this machine at this moment (read the guard's figure by it).
- `engine_events_per_s`: the rules alone, no I/O.
- `nft_*`: the same two measures with the nftables backend, in a network namespace of the benchmark's own
  (the host firewall is untouched); printed only where nft and namespaces are available (root).

Prints one line: `guard_events_per_s=... ban_delay_p50_ms=... ban_delay_p99_ms=... ...`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import percentile, private_redis
from peers.ami_peer import attack, good_client
from services.bus import Bus, Consumer, Entry, Log, encode, keys, tune_gc
from services.bus import log as bus_log
from services.guard.config import GuardSettings
from services.guard.firewall import Backend, LogBackend, NftablesBackend
from services.guard.guard import Guard
from services.guard.rules import Rules, RulesConfig

N_ATTACKERS = 4000
N_GOOD = 2000
N_DELAY = 300
AT = "2026-11-24T20:00:00.000000Z"


def _address(i: int, base: str = "10") -> str:
    return f"{base}.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def backlog(n_attackers: int, n_good: int) -> list[dict[str, str]]:
    events = list(attack([_address(i) for i in range(n_attackers)], 5))
    events += [e for i in range(n_good) for e in good_client(_address(i, "172"), 2)]
    return [encode(p, type="event", at=AT) for p in events]


async def publish_backlog(bus: Bus, n_attackers: int) -> list[dict[str, str]]:
    fields = backlog(n_attackers, N_GOOD)
    for i in range(0, len(fields), 5000):
        await bus.publish_fields(keys.SECURITY, fields[i : i + 5000])
    return fields


def engine_rate() -> float:
    """The rules alone over (event, RemoteAddress, time) triples."""
    fields = backlog(20_000, 10_000)
    triples = [(f["Event"], f["RemoteAddress"], 1_000_000.0 + i / 10_000) for i, f in enumerate(fields)]
    rules = Rules(RulesConfig())
    start = time.perf_counter()
    for event, remote, at in triples:
        rules.feed(event, remote, at)
    return len(triples) / (time.perf_counter() - start)


async def measure(url: str, backend: Backend, tag: str, n_attackers: int, n_delay: int) -> dict[str, float]:
    settings = GuardSettings(
        redis_url=url, pbx_prefix=f"bench{tag}", bus_block_ms=50, bus_batch=1000, guard_flood_rate=10**6
    )
    bus = Bus(settings)
    guard = Guard(settings, bus, backend)
    applied: dict[str, float] = {}
    guard.on_applied = lambda addresses: applied.update(dict.fromkeys(addresses, time.perf_counter()))
    stop = asyncio.Event()
    task = asyncio.create_task(guard.run(stop))
    try:
        # Throughput: the backlog is written first, then timed from the guard's start to its last event.
        fields = await publish_backlog(bus, n_attackers)
        while guard.status.fields.get("ready") != "1":
            await asyncio.sleep(0.001)
        start = time.perf_counter()
        while guard.events_seen < len(fields) or guard.to_apply:
            await asyncio.sleep(0.002)
        rate = len(fields) / (time.perf_counter() - start)
        if len(applied) != n_attackers or guard.to_apply:
            raise RuntimeError(f"{len(applied)} bans in the firewall for {n_attackers} attackers")
        # Delay: one attacker at a time, the guard idle in its blocking read as in life.
        delays = []
        for i in range(n_delay):
            address = _address(i, "192")
            burst = [encode(p, type="event", at=AT) for p in attack([address], 5)]
            await bus.publish_fields(keys.SECURITY, burst[:-1])
            await asyncio.sleep(0.005)
            sent = time.perf_counter()
            await bus.publish_fields(keys.SECURITY, burst[-1:])
            while address not in applied:
                await asyncio.sleep(0.0002)
            delays.append((applied[address] - sent) * 1000)
    finally:
        stop.set()
        await task
        await bus.close()
    return {"events_per_s": rate, "p50": percentile(delays, 50), "p99": percentile(delays, 99)}


@contextmanager
def namespace() -> Iterator[str | None]:
    """A bare network namespace for nft to work in, or None where that is not possible."""
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        yield None
        return
    name = f"pbxg-bench{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


async def bus_ceiling(url: str) -> float:
    """The same backlog through a consumer group with a handler that does nothing: what the bus allows."""
    settings = GuardSettings(redis_url=url, pbx_prefix="benchbus", bus_block_ms=50, bus_batch=1000)
    bus = Bus(settings)
    fields = await publish_backlog(bus, N_ATTACKERS)
    seen = 0

    async def handler(batch: list[Entry]) -> None:
        nonlocal seen
        seen += len(batch)

    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(Consumer(bus, "guard", {keys.SECURITY: handler}, start_id="0").run(stop))
    while seen < len(fields):
        await asyncio.sleep(0.002)
    rate = len(fields) / (time.perf_counter() - start)
    stop.set()
    await task
    await bus.close()
    return rate


async def run() -> dict[str, float]:
    figures: dict[str, float] = {"engine_events_per_s": engine_rate()}
    with private_redis() as url:
        figures["bus_ceiling_events_per_s"] = await bus_ceiling(url)
        log_only = await measure(url, LogBackend(Log("guard.firewall")), "log", N_ATTACKERS, N_DELAY)
        figures |= {
            "guard_events_per_s": log_only["events_per_s"],
            "ban_delay_p50_ms": log_only["p50"],
            "ban_delay_p99_ms": log_only["p99"],
        }
        with namespace() as ns:
            if ns is not None:
                nft = NftablesBackend(prefix=["ip", "netns", "exec", ns])
                real = await measure(url, nft, "nft", N_ATTACKERS, 100)
                figures |= {
                    "nft_guard_events_per_s": real["events_per_s"],
                    "nft_ban_delay_p50_ms": real["p50"],
                    "nft_ban_delay_p99_ms": real["p99"],
                }
    return figures


def main() -> None:
    tune_gc()  # as every `python -m services.<name>` does
    bus_log.setup("INFO")
    sink = open(os.devnull, "w")  # for the whole run
    for handler in logging.getLogger().handlers:
        handler.setStream(sink)  # type: ignore[attr-defined]
    f = asyncio.run(run())
    order = ["guard_events_per_s", "ban_delay_p50_ms", "ban_delay_p99_ms", "bus_ceiling_events_per_s"]
    order += ["engine_events_per_s"]
    order += [k for k in f if k.startswith("nft_")]
    print(" ".join(f"{k}={f[k]:.0f}" if k.endswith("per_s") else f"{k}={f[k]:.1f}" for k in order))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
