"""Guard: security events per second it sustains, and the delay from the Nth failure to the ban (p50/p99)."""

from __future__ import annotations

import asyncio
import time

from peers.ami_peer import attack, good_client
from services.bus import Bus, Log, encode, keys
from services.guard.config import GuardSettings
from services.guard.firewall import LogBackend
from services.guard.guard import Guard

from .common import percentile, private_redis

N_ATTACKERS = 4000
N_DELAY = 300


async def run() -> dict[str, float]:
    with private_redis() as url:
        settings = GuardSettings(redis_url=url, pbx_prefix="bench", bus_block_ms=50, bus_batch=1000)
        bus = Bus(settings)
        backend = LogBackend(Log("bench.quiet"))
        guard = Guard(settings, bus, backend)
        guard.log = Log("bench.quiet")
        stop = asyncio.Event()
        task = asyncio.create_task(guard.run(stop))
        # Throughput: a backlog of attack and normal traffic, timed from first to last event handled.
        events = list(attack([f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(N_ATTACKERS)], 5))
        events += [e for i in range(2000) for e in good_client(f"172.16.{i // 256}.{i % 256}", 2)]
        at = "2026-11-24T20:00:00.000000Z"
        fields = [encode(p, type="event", at=at) for p in events]
        for i in range(0, len(fields), 5000):
            await bus.publish_fields(keys.SECURITY, fields[i : i + 5000])
        while guard.status.fields.get("ready") != "1":
            await asyncio.sleep(0.001)
        start = time.perf_counter()
        while guard.events_seen < len(events):
            await asyncio.sleep(0.002)
        rate = len(events) / (time.perf_counter() - start)
        if len(backend.banned) != N_ATTACKERS:
            raise RuntimeError(f"{len(backend.banned)} bans for {N_ATTACKERS} attackers")
        # Delay: one attacker at a time, from the XADD of its 5th failure to the ban being in the firewall.
        delays = []
        for i in range(N_DELAY):
            address = f"192.168.{i // 256}.{i % 256}"
            burst = [encode(p, type="event", at=at) for p in attack([address], 5)]
            await bus.publish_fields(keys.SECURITY, burst[:-1])
            await asyncio.sleep(0.005)
            sent = time.monotonic()
            await bus.publish_fields(keys.SECURITY, burst[-1:])
            while address not in guard.ban_applied_at:
                await asyncio.sleep(0.0005)
            delays.append((guard.ban_applied_at[address] - sent) * 1000)
        stop.set()
        await task
        await bus.close()
    return {
        "guard_events_per_s": rate,
        "ban_delay_p50_ms": percentile(delays, 50),
        "ban_delay_p99_ms": percentile(delays, 99),
    }


def main() -> None:
    import logging

    logging.getLogger("bench.quiet").disabled = True
    f = asyncio.run(run())
    print(
        f"guard_events_per_s={f['guard_events_per_s']:.0f} ban_delay_p50_ms={f['ban_delay_p50_ms']:.1f} "
        f"ban_delay_p99_ms={f['ban_delay_p99_ms']:.1f}"
    )


if __name__ == "__main__":
    main()
