"""AMI -> Redis ingest: the gateway (its own process, one core) fed by the AMI peer as fast as it can send.

The ceiling is measured in the same run: a pipelined XADD loop of same-size entries into the same Redis.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from peers.ami_peer import AmiPeer, demo_calls
from services.bus import AsyncRedis, Bus, BusSettings, Keys, close_redis, connect_redis, encode_pairs

from .common import private_redis, service

N_EVENTS = 200_000


def sample_events(n: int) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    while len(out) < n:
        for call in demo_calls():
            out.extend(call.events())
    return out[:n]


async def _wait_len(client: AsyncRedis, key: str, n: int, timeout: float = 120) -> float:
    end = time.perf_counter() + timeout
    while True:
        length = await client.xlen(key)
        if length >= n:
            return time.perf_counter()
        if time.perf_counter() > end:
            raise RuntimeError(f"only {length} of {n} events reached {key}")
        await asyncio.sleep(0.005)


async def measure_ingest(
    redis_url: str, events: list[list[tuple[str, str]]], bus_env: dict[str, str] | None = None
) -> float:
    """`bus_env`: how the gateway reaches Redis when not by `redis_url` alone (Sentinels, WAIT)."""
    peer = await AmiPeer().start()
    peer.record_sent = False
    bus_env = bus_env or {"REDIS_URL": redis_url}
    options: dict[str, Any] = {k.lower(): v for k, v in bus_env.items()}
    settings = BusSettings(**options, pbx_prefix="bench")
    client = connect_redis(settings)
    key = Keys.of(settings).key("events")
    await client.delete(key)
    env = {
        **bus_env,
        "PBX_PREFIX": "bench",
        "AMI_HOST": "127.0.0.1",
        "AMI_PORT": str(peer.port),
        "AMI_USER": "admin",
        "AMI_SECRET": "admin",
    }
    with service("ami_gateway", env):
        for _ in range(400):
            if any(s.user for s in peer.sessions):
                break
            await asyncio.sleep(0.025)
        await _wait_len(client, key, 2)  # FullyBooted + SuccessfulAuth: the pipeline is warm
        base = await client.xlen(key)
        start = time.perf_counter()
        await peer.replay(events, drain_every=2000)
        done = await _wait_len(client, key, base + len(events))
    await peer.stop()
    await close_redis(client)
    return len(events) / (done - start)


async def measure_ceiling(redis_url: str, events: list[list[tuple[str, str]]]) -> float:
    """The same entries XADDed by a plain pipelined loop (the bus's packed pipeline, 1,000 per round trip)."""
    bus = Bus(BusSettings(redis_url=redis_url, pbx_prefix="bench", agent_server="ceiling"))
    envelope = {"@type": "event", "@server": "asterisk1", "@at": "2026-11-24T20:33:13.616283Z"}
    entries = [encode_pairs(p, {**envelope, "@id": f"abcdef012345:{i}"}) for i, p in enumerate(events)]
    start = time.perf_counter()
    for i in range(0, len(entries), 1000):
        await bus.publish_fields("events", entries[i : i + 1000])
    elapsed = time.perf_counter() - start
    await bus.close()
    return len(entries) / elapsed


async def run() -> dict[str, float]:
    events = sample_events(N_EVENTS)
    with private_redis() as url:
        ingest = await measure_ingest(url, events)
        ceiling = await measure_ceiling(url, events)
    return {"ingest_events_per_s": ingest, "ceiling_events_per_s": ceiling, "ratio": ingest / ceiling}


def main() -> None:
    figures = asyncio.run(run())
    print(
        f"ingest_events_per_s={figures['ingest_events_per_s']:.0f} "
        f"ceiling_events_per_s={figures['ceiling_events_per_s']:.0f} ratio={figures['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
