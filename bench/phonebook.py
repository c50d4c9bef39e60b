"""Phonebook benchmark: the caller's name as Asterisk's dialplan asks for it, at a steady rate.

The phonebook service runs in a process of its own against a private Redis holding `N_ENTRIES` names (what
Odoo publishes). The bench asks `/cid/<number>?token=...` at `RATE` lookups a second, open loop (each request
at its scheduled time, late or not), `N_LOOKUPS` in all, each on a new TCP connection with `Connection:
close`: Asterisk's `CURL()` runs in the thread of the channel that asks, so calls do not share connections.
Numbers come written as the dialplan sees them (local, `+`, `00`); one in ten is unknown. The latency of a
lookup runs from its scheduled time to the last byte of the answer, so a stall counts for every lookup it
delays.

Prints `phonebook_p50_ms=... phonebook_max_ms=... entries=...`, then `phonebook_p99_ms=... lookups_per_s=...`.
"""

from __future__ import annotations

import asyncio
import random
import time

import redis

from bench.common import percentile, private_redis, service
from peers.local_redis import free_port

N_ENTRIES = 100_000
N_LOOKUPS = 4_000
RATE = 200
TOKEN = "bench-token-0123456789abcdef0123456789"


def number(i: int) -> str:
    return f"+3247{i:07d}"


def fill(url: str, n: int) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    pipe = client.pipeline(transaction=False)
    for start in range(0, n, 5000):
        pipe.hset(
            "pbx:bench:phonebook",
            mapping={
                number(i): f"Contact {i} (Company {i % 997})" for i in range(start, min(n, start + 5000))
            },
        )
    pipe.hset("pbx:bench:phonebook:meta", mapping={"token": TOKEN, "country": "BE", "count": str(n)})
    pipe.execute()


def asked(rng: random.Random, n: int) -> str:
    """A number as the dialplan might write it; one in ten nobody has."""
    i = rng.randrange(n) if rng.random() < 0.9 else n + rng.randrange(1_000_000)
    digits = f"47{i:07d}"
    return rng.choice([f"%2B32{digits}", f"0{digits}", f"0032{digits}"])


async def lookup(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: phonebook\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def wait_ready(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            answer = await lookup(port, "/healthz")
            if b'"published":true' in answer:
                return
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError("the phonebook service did not start")
        await asyncio.sleep(0.1)


async def load(port: int, n_entries: int) -> tuple[list[float], float, int]:
    rng = random.Random(15)
    paths = [f"/cid/{asked(rng, n_entries)}?token={TOKEN}" for _ in range(N_LOOKUPS)]
    latencies: list[float] = []
    found = 0

    async def one(path: str, due: float) -> None:
        nonlocal found
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        answer = await lookup(port, path)
        latencies.append((time.perf_counter() - due) * 1000)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:80]
        found += bool(body)

    start = time.perf_counter() + 0.2
    await asyncio.gather(*(one(path, start + i / RATE) for i, path in enumerate(paths)))
    elapsed = time.perf_counter() - start
    return latencies, N_LOOKUPS / elapsed, found


async def run() -> dict[str, float]:
    with private_redis() as url:
        fill(url, N_ENTRIES)
        port = free_port()
        env = {"REDIS_URL": url, "PBX_PREFIX": "pbx", "AGENT_SERVER": "bench", "PHONEBOOK_HOST": "127.0.0.1"}
        env["PHONEBOOK_PORT"] = str(port)
        with service("phonebook", env):
            await wait_ready(port)
            latencies, rate, found = await load(port, N_ENTRIES)
    assert found > N_LOOKUPS * 0.8, found  # the names came back, not empty answers
    return {
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "rate": rate,
    }


def main() -> None:
    try:  # the client's own event loop adds to every latency measured: the fastest one there is
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    f = asyncio.run(run())
    print(f"phonebook_p50_ms={f['p50']:.2f} phonebook_max_ms={f['max']:.2f} entries={N_ENTRIES}")
    print(f"phonebook_p99_ms={f['p99']:.2f} lookups_per_s={f['rate']:.0f}")


if __name__ == "__main__":
    main()
