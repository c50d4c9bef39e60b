"""`make bench` keeps working: each benchmark, shrunk, runs end to end and prints its figures line.

Speeds are not asserted here (a test never judges wall-clock time); the figures are `make bench`'s to print.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import OdooProcess
from peers.redis_topology import sentinel_available

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def run_bench(module: str, env_: dict[str, str] | None = None, **sizes: int) -> list[str]:
    shrink = "".join(f"m.{name} = {value}; " for name, value in sizes.items())
    code = f"import importlib; m = importlib.import_module({module!r}); {shrink}m.main()"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ODOO_URL")}  # as `make bench` has
    env.update(env_ or {})
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


def figures(line: str, names: list[str]) -> None:
    pattern = " ".join(f"{name}={NUMBER}" for name in names)
    assert re.fullmatch(pattern, line), line


def test_ingest_bench_prints_ingest_and_ceiling() -> None:
    lines = run_bench("bench.ingest", N_EVENTS=3000)
    figures(lines[-1], ["ingest_events_per_s", "ceiling_events_per_s", "ratio"])


def test_guard_bench_prints_rate_and_ban_delays() -> None:
    lines = run_bench("bench.guard", N_ATTACKERS=200, N_GOOD=100, N_DELAY=20)
    names = ["guard_events_per_s", "ban_delay_p50_ms", "ban_delay_p99_ms", "bus_ceiling_events_per_s"]
    names += ["engine_events_per_s"]
    if "nft_" in lines[-1]:  # where the machine allows network namespaces
        names += ["nft_guard_events_per_s", "nft_ban_delay_p50_ms", "nft_ban_delay_p99_ms"]
    figures(lines[-1], names)


def test_e2e_bench_prints_the_issue_figures_line_last() -> None:
    lines = run_bench("bench.e2e", N_THROUGHPUT=400, N_BASELINE=20, N_LATENCY=300)
    figures(lines[-2], ["e2e_kept_connection p50_ms", "p99_ms"])
    figures(lines[-1], ["e2e_events_per_s", "baseline_events_per_s", "ratio", "p50_ms", "p99_ms"])


def test_recordings_bench_prints_rate_and_peak_memory_last() -> None:
    lines = run_bench("bench.recordings", N_RECORDINGS=2, SECONDS=20)
    figures(lines[-2], ["recordings n", "seconds", "wav_mb", "mp3_mb", "ratio"])
    figures(lines[-1], ["recordings_per_min", "peak_rss_mb"])


@pytest.mark.skipif(not sentinel_available(), reason="redis-server (Sentinel mode) not installed")
def test_failover_bench_prints_failover_loss_and_wait_cost() -> None:
    sizes = {"RUNS": 1, "AFTER_S": 1, "REPEATS": 1, "N_INGEST": 3000, "N_ACKS": 2000, "N_LATENCY": 50}
    lines = run_bench("bench.failover", **sizes)
    names = ["failover_runs", "failover_max_s", "doubled_events", "ingest_events_per_s"]
    names += ["ingest_wait_events_per_s", "acks_per_s", "acks_wait_per_s", "ack_wait_cost_pct"]
    names += ["publish_ms", "publish_wait_ms"]
    # A cost can come out below zero when the machine's speed drifts between the two measures.
    figures(lines[-2].replace("=-", "="), names)
    figures(lines[-1].replace("=-", "="), ["failover_s", "lost_events", "wait_cost_pct"])


def test_real_odoo_bench_says_it_is_skipped_without_odoo_url() -> None:
    assert run_bench("bench.odoo_real") == [
        "odoo_real: skipped (set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD to measure a real Odoo)"
    ]


def test_real_odoo_bench_prints_its_figures_line_last() -> None:
    """Against the Odoo peer: the bench's machinery (a real Odoo is measured by hand: docs/benchmarks.md)."""
    odoo = OdooProcess(latency_ms=1)
    try:
        lines = run_bench(
            "bench.odoo_real", {"ODOO_URL": odoo.url, "ODOO_DB": odoo.db}, N_EVENTS=400, N_PER_EVENT=20
        )
    finally:
        odoo.stop()
    assert lines[0].startswith("odoo 18.0 at http://127.0.0.1:") and "ODOO_CONCURRENCY=4" in lines[0]
    figures(lines[-1], ["odoo_events_per_s", "per_event_events_per_s", "ratio"])


def test_phonebook_bench_prints_the_p99_at_its_rate_last() -> None:
    lines = run_bench("bench.phonebook", N_ENTRIES=2000, N_LOOKUPS=200)
    figures(lines[-2], ["phonebook_p50_ms", "phonebook_max_ms", "entries"])
    figures(lines[-1], ["phonebook_p99_ms", "lookups_per_s"])
