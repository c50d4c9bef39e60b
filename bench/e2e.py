"""End to end: AMI peer -> gateway -> Redis -> bridge -> Odoo peer (5 ms per call), against a baseline that
forwards each event with its own RPC (the original agent's way), and the latency at 1,000 events/s.

Every part is a process of its own: the gateway, the bridge, Redis and the Odoo peer; the AMI peer (whose send
times start the latency clock) is this process. Both designs use the same Odoo peer and the same transport,
and the peer closes the connection after every answer as Odoo's own server does; the latency is also measured
with the connection kept (Odoo behind a proxy), printed on the line before the figures line.
"""

from __future__ import annotations

import asyncio
import time

import odoorpc

from peers.ami_peer import AmiPeer, demo_calls
from services.odoo_bridge.keepalive import KeepAliveOpener

from .common import OdooProcess, percentile, private_redis, service

LATENCY = 0.005
N_THROUGHPUT = 20_000
N_BASELINE = 1_000
RATE = 1000
N_LATENCY = 5_000
MAPPED = {"Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "Hangup", "Cdr"}


def mapped_events(n: int) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    while len(out) < n:
        out += [e for c in demo_calls() for e in c.events() if e[0][1] in MAPPED]
    return out[:n]


async def wait_items(odoo: OdooProcess, n: int, timeout: float = 300) -> float:
    """When the n-th item reached Odoo, by the peer's clock (time.time, the AMI peer's clock too)."""
    end = time.monotonic() + timeout
    while odoo.poll() < n:
        if time.monotonic() > end:
            raise RuntimeError(f"only {len(odoo.received)} of {n} events reached Odoo")
        await asyncio.sleep(0.05)
    return float(max(r["wall"] for r in odoo.received))


async def pipeline(redis_url: str, *, close: bool, throughput: bool = True) -> tuple[float, float, float]:
    """(events/s, p50 ms, p99 ms); `close`: Odoo closes the connection after every answer."""
    ami = await AmiPeer(tag_events=True).start()
    odoo = OdooProcess(latency_ms=LATENCY * 1000, close=close)
    env = {
        "REDIS_URL": redis_url,
        "PBX_PREFIX": "e2e-close" if close else "e2e-keep",
        "AMI_HOST": "127.0.0.1",
        "AMI_PORT": str(ami.port),
        "ODOO_URL": odoo.url,
        "ODOO_DB": odoo.db,
        "BUS_BATCH": "1000",
    }
    with service("ami_gateway", env), service("odoo_bridge", env):
        while not any(s.user for s in ami.sessions):
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)
        rate = float("nan")
        if throughput:
            odoo.clear()
            ami.sent_events.clear()
            start = time.time()
            await ami.replay(mapped_events(N_THROUGHPUT), drain_every=1000)
            rate = N_THROUGHPUT / (await wait_items(odoo, N_THROUGHPUT) - start)
        # Latency at a steady 1,000 events/s: from the AMI peer's send to the Odoo peer's receipt.
        odoo.clear()
        ami.sent_events.clear()
        await ami.replay(mapped_events(N_LATENCY), rate=RATE)
        await wait_items(odoo, N_LATENCY)
        sent = {dict(p)["PeerSeq"]: t for t, p in ami.sent_events}
        delays = [(r["wall"] - sent[r["item"]["PeerSeq"]]) * 1000 for r in odoo.received]
    await ami.stop()
    odoo.stop()
    return rate, percentile(delays, 50), percentile(delays, 99)


async def baseline() -> float:
    """One RPC per event, as the per-event design does: the same Odoo peer, the same 5 ms per call."""
    odoo = OdooProcess(latency_ms=LATENCY * 1000, close=True)
    items = [dict(p) | {"@id": f"b:{i}"} for i, p in enumerate(mapped_events(N_BASELINE))]

    def forward() -> float:
        client = odoorpc.ODOO("127.0.0.1", port=odoo.port, opener=KeepAliveOpener().opener)
        client.login(odoo.db, "asterisk1", "asterisk1")
        start = time.monotonic()
        for item in items:
            client.execute_kw("asterisk_plus.call", "on_ami_events", ["asterisk1", [item]])
        return N_BASELINE / (time.monotonic() - start)

    rate = await asyncio.to_thread(forward)
    odoo.stop()
    return rate


async def run() -> dict[str, float]:
    with private_redis() as url:
        # Odoo's own server closes the connection after every answer (werkzeug), so each call connects anew;
        # behind a proxy (nginx) the bridge's connection is kept: both are measured, the former is the figure.
        _, kept_p50, kept_p99 = await pipeline(url, close=False, throughput=False)
        e2e, p50, p99 = await pipeline(url, close=True)
    base = await baseline()
    return {
        "e2e_events_per_s": e2e,
        "baseline_events_per_s": base,
        "ratio": e2e / base,
        "p50_ms": p50,
        "p99_ms": p99,
        "kept_p50_ms": kept_p50,
        "kept_p99_ms": kept_p99,
    }


def main() -> None:
    f = asyncio.run(run())
    print(f"e2e_kept_connection p50_ms={f['kept_p50_ms']:.1f} p99_ms={f['kept_p99_ms']:.1f}")
    print(
        f"e2e_events_per_s={f['e2e_events_per_s']:.0f} "
        f"baseline_events_per_s={f['baseline_events_per_s']:.0f} "
        f"ratio={f['ratio']:.1f} p50_ms={f['p50_ms']:.1f} p99_ms={f['p99_ms']:.1f}"
    )


if __name__ == "__main__":
    main()
