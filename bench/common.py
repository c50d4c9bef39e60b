"""Benchmark plumbing: a private redis-server and service subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peers import local_redis
from peers.local_redis import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the benchmark's own (no persistence), so nothing else competes for it."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with local_redis.private_redis() as server:
        yield server.url


@contextmanager
def service(name: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


class OdooProcess:
    """The Odoo JSON-RPC peer in a process of its own, as a real Odoo is: nothing it does shares the bench's
    event loop. What it receives is read back from its record file (one JSON line per item)."""

    def __init__(self, latency_ms: float, keys: str = "PeerSeq,@id,@entry", close: bool = False) -> None:
        self.port = free_port()
        self.db = "demo"
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.mkdtemp(prefix="pbx-bench-odoo-")
        self._record = Path(self._dir) / "received.jsonl"
        self._record.touch()
        self._offset = 0
        self.received: list[dict[str, Any]] = []
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "peers.odoo_peer", "--port", str(self.port), "--db", self.db, "--quiet"]
            + ["--latency-ms", str(latency_ms), "--record", str(self._record), "--record-keys", keys]
            + (["--close"] if close else []),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, "the Odoo peer", timeout=10)

    def poll(self) -> int:
        """Read the receipts written since the last poll; how many there are in all."""
        with self._record.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        self.received += [json.loads(line) for line in complete.splitlines()]
        return len(self.received)

    def clear(self) -> None:
        self.poll()
        self.received.clear()

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
