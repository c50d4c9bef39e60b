"""`pbx` run as people run it: a process of its own against the test's real Redis and key prefix."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.bus import Bus
from tests.bus.helpers import make_bus

ROOT = Path(__file__).resolve().parents[2]
# Settings of the developer's shell that would point `pbx` at another Redis than the test's.
FOREIGN = ("REDIS_SENTINELS", "REDIS_CLUSTER", "REDIS_PASSWORD", "BUS_WAIT_REPLICAS")


def pbx_env(redis_url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    return env | {"REDIS_URL": redis_url, "PBX_PREFIX": prefix, "AGENT_SERVER": "asterisk1"}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`pbx <args>` in a process of its own, with this environment, from the repository's root."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_pbx(redis_url: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(pbx_env(redis_url, prefix), *args)


def start_pbx(redis_url: str, prefix: str, *args: str) -> subprocess.Popen[str]:
    """`pbx` left running (`pbx tail`), with Ctrl-C's SIGINT handled as in a terminal even when the test
    run itself was started in the background (which ignores SIGINT, and children inherit that)."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        env=pbx_env(redis_url, prefix),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


async def pbx(redis_url: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`pbx ...` from an async test, whose event loop keeps running (a gateway may be serving it)."""
    return await asyncio.to_thread(run_pbx, redis_url, prefix, *args)


@pytest.fixture
async def bus(redis_url: str, prefix: str) -> AsyncIterator[Bus]:
    client = make_bus(redis_url, prefix)
    yield client
    await client.close()
