from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from services.bus import Consumer, Entry, Outcome, encode
from tests.bus.helpers import eventually, make_bus

ROOT = Path(__file__).resolve().parents[2]


async def publish_jobs(bus, n: int) -> None:  # type: ignore[no-untyped-def]
    await bus.publish_fields("jobs", [encode({"N": i}, type="job") for i in range(n)])


def start_proc(redis_url: str, prefix: str, name: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "REDIS_URL": redis_url, "PBX_PREFIX": prefix, "CONSUMER_NAME": name, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bus.consumer_proc"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def run_consumer(consumer: Consumer) -> tuple[asyncio.Event, asyncio.Task]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(consumer.run(stop))


async def test_entries_of_a_consumer_killed_mid_batch_are_reclaimed_and_handled_once(
    redis_url: str, prefix: str
) -> None:
    bus = make_bus(redis_url, prefix)
    await publish_jobs(bus, 30)
    victim = start_proc(redis_url, prefix, "victim", HANG_AT="15")
    await eventually(lambda: bus.redis.exists(f"{prefix}:hanging"))
    victim.kill()
    victim.wait()
    group = bus.key("jobs")
    pending = await bus.redis.xpending(group, "workers")
    assert pending["pending"] == 10  # the batch it was working on: nothing of it was acked

    handled: list[str] = []

    async def handle(batch: list[Entry]) -> None:
        handled.extend(e.get("N") for e in batch)

    stop, task = await run_consumer(
        Consumer(bus, "workers", {"jobs": handle}, consumer="rescuer", claim_idle_ms=300, block_ms=100)
    )
    await eventually(lambda: _no_pending(bus))
    stop.set()
    await task
    victim_acked = {str(i) for i in range(10)}
    assert sorted(handled, key=int) == [str(i) for i in range(10, 30)]  # each once, none the victim finished
    assert victim_acked.isdisjoint(handled)
    await bus.close()


async def _no_pending(bus) -> bool:  # type: ignore[no-untyped-def]
    info = await bus.redis.xpending(bus.key("jobs"), "workers")
    groups = await bus.redis.xinfo_groups(bus.key("jobs"))
    return info["pending"] == 0 and groups[0]["entries-read"] == 30


async def test_an_entry_failing_every_time_goes_to_dead_letters_with_its_error(
    redis_url: str, prefix: str
) -> None:
    bus = make_bus(redis_url, prefix, bus_retry_max_s=0.05)
    await publish_jobs(bus, 5)
    calls: dict[str, int] = {}

    async def handle(batch: list[Entry]) -> Outcome:
        for e in batch:
            calls[e.get("N")] = calls.get(e.get("N"), 0) + 1
        return Outcome(retry={e.id: "ValueError: job 3 is poison" for e in batch if e.get("N") == "3"})

    stop, task = await run_consumer(Consumer(bus, "workers", {"jobs": handle}, max_deliveries=4, block_ms=50))
    await eventually(lambda: bus.redis.xlen(bus.key("dead")))
    await eventually(lambda: _no_pending_of(bus, 5))
    stop.set()
    await task
    assert calls == {"0": 1, "1": 1, "2": 1, "3": 4, "4": 1}
    ((_, dead),) = await bus.redis.xrange(bus.key("dead"))
    assert dead["@error"] == "ValueError: job 3 is poison"
    assert dead["@deliveries"] == "4" and dead["@source"] == "jobs" and dead["@group"] == "workers"
    assert dead["N"] == "3" and dead["@type"] == "job"
    await bus.close()


async def test_rejected_entries_are_dead_lettered_at_once_and_the_others_acked(
    redis_url: str, prefix: str
) -> None:
    bus = make_bus(redis_url, prefix)
    await publish_jobs(bus, 4)

    async def handle(batch: list[Entry]) -> Outcome:
        return Outcome(reject={e.id: "odoo said no" for e in batch if e.get("N") in ("1", "2")})

    stop, task = await run_consumer(Consumer(bus, "workers", {"jobs": handle}, block_ms=50))
    await eventually(lambda: _no_pending_of(bus, 4))
    stop.set()
    await task
    dead = await bus.redis.xrange(bus.key("dead"))
    assert [d["N"] for _, d in dead] == ["1", "2"]
    assert {d["@deliveries"] for _, d in dead} == {"1"}
    await bus.close()


async def test_the_dead_letter_hook_hears_of_each_entry_once_and_a_failing_hook_loses_nothing(
    redis_url: str, prefix: str
) -> None:
    bus = make_bus(redis_url, prefix)
    await publish_jobs(bus, 4)
    told: list[tuple[str, str]] = []

    async def handle(batch: list[Entry]) -> Outcome:
        return Outcome(reject={e.id: f"no {e.get('N')}" for e in batch if e.get("N") in ("1", "3")})

    async def on_dead(items: list[tuple[Entry, str]]) -> None:
        told.extend((e.get("N"), error) for e, error in items)
        raise RuntimeError("the hook itself fails")

    consumer = Consumer(bus, "workers", {"jobs": handle}, block_ms=50, on_dead=on_dead)
    stop, task = await run_consumer(consumer)
    await eventually(lambda: _no_pending_of(bus, 4))
    stop.set()
    await task
    assert told == [("1", "no 1"), ("3", "no 3")]
    assert [d["N"] for _, d in await bus.redis.xrange(bus.key("dead"))] == ["1", "3"]
    await bus.close()


async def _no_pending_of(bus, n: int) -> bool:  # type: ignore[no-untyped-def]
    groups = await bus.redis.xinfo_groups(bus.key("jobs"))
    return bool(groups) and groups[0]["entries-read"] == n and groups[0]["pending"] == 0


async def test_a_failed_batch_comes_again_before_newer_entries(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix, bus_retry_max_s=0.05)
    await publish_jobs(bus, 3)
    seen: list[str] = []
    fail_once = {"1"}

    async def handle(batch: list[Entry]) -> None:
        for e in batch:
            if e.get("N") in fail_once:
                fail_once.clear()
                raise ConnectionRefusedError("odoo is down")
            seen.append(e.get("N"))

    stop, task = await run_consumer(Consumer(bus, "workers", {"jobs": handle}, batch=2, block_ms=50))
    await eventually(lambda: _no_pending_of(bus, 3))
    await publish_jobs(bus, 1)
    await eventually(lambda: _no_pending_of(bus, 4))
    stop.set()
    await task
    # Batch [0, 1] failed whole and came again before 2 was read.
    assert seen == ["0", "0", "1", "2", "0"]
    await bus.close()


async def test_sigterm_finishes_the_batch_in_hand_acks_it_and_exits_0(redis_url: str, prefix: str) -> None:
    bus = make_bus(redis_url, prefix)
    await publish_jobs(bus, 5)
    proc = start_proc(redis_url, prefix, "graceful", SLOW="1.0")
    await eventually(lambda: bus.redis.exists(f"{prefix}:in_batch"))
    proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, output.decode()
    assert await bus.redis.xpending(bus.key("jobs"), "workers") == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }
    assert b"consumer stopped" in output
    await bus.close()


async def test_the_consumer_survives_a_redis_restart_and_loses_nothing(own_redis) -> None:  # type: ignore[no-untyped-def]
    bus = make_bus(own_redis.url, "restart", bus_retry_max_s=0.2)
    handled: list[str] = []

    async def handle(batch: list[Entry]) -> None:
        handled.extend(e.get("N") for e in batch)

    stop, task = await run_consumer(Consumer(bus, "workers", {"jobs": handle}, block_ms=100))
    await publish_jobs(bus, 10)
    await eventually(lambda: _count(handled, 10))
    own_redis.restart()
    await bus.publish_fields("jobs", [encode({"N": i}, type="job") for i in range(10, 20)])
    await eventually(lambda: _count(handled, 20))
    stop.set()
    await task
    assert sorted(handled, key=int) == [str(i) for i in range(20)]
    await bus.close()


async def _count(items: list, n: int) -> bool:
    return len(items) >= n
