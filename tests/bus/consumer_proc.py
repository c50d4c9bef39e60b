"""A consumer process for tests that kill or signal it.

Its handler records each entry it handles in the Redis hash `<prefix>:seen:<consumer>`; with HANG_AT=<n> it
hangs forever on the n-th entry (so a kill -9 catches it mid-batch), with SLOW=<s> it sleeps s per batch.
"""

from __future__ import annotations

import asyncio
import os
import sys

from services.bus import Bus, BusSettings, Consumer, Entry, run


async def main(stop: asyncio.Event) -> None:
    settings = BusSettings(bus_claim_idle_ms=60_000, bus_block_ms=200)
    bus = Bus(settings)
    name = os.environ["CONSUMER_NAME"]
    hang_at = int(os.environ.get("HANG_AT", "0"))
    slow = float(os.environ.get("SLOW", "0"))
    seen_key = f"{settings.pbx_prefix}:seen:{name}"
    count = 0

    async def handle(batch: list[Entry]) -> None:
        nonlocal count
        for entry in batch:
            count += 1
            await bus.redis.hincrby(seen_key, entry.get("N"), 1)
            if hang_at and count == hang_at:
                await bus.redis.set(f"{settings.pbx_prefix}:hanging", name)
                await asyncio.Event().wait()
        if slow:
            await bus.redis.set(f"{settings.pbx_prefix}:in_batch", name)
            await asyncio.sleep(slow)

    await Consumer(bus, "workers", {"jobs": handle}, batch=10).run(stop)
    await bus.close()


if __name__ == "__main__":
    run("consumer_proc", main)
    sys.exit(0)
