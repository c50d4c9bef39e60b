"""`make bench` keeps working: each benchmark, shrunk, runs end to end and prints its figures line.

Speeds are not asserted here (a test never judges wall-clock time); the figures are `make bench`'s to print.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def run_bench(module: str, **sizes: int) -> list[str]:
    shrink = "; ".join(f"m.{name} = {value}" for name, value in sizes.items())
    code = f"import importlib; m = importlib.import_module({module!r}); {shrink}; m.main()"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # a private Redis, as `make bench` has
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
