"""The phonebook as a process (`python -m services.phonebook`) serves its metrics on its own port (9816
unless METRICS_PORT says otherwise): which service it is, Redis reached, the process's figures; and it
answers the dialplan meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from peers.local_redis import free_port, wait_for_port
from tests.bus.helpers import Samples, eventually, scrape, value

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ports(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    http, metrics = free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "PBX_PREFIX": prefix,
        "PHONEBOOK_HOST": "127.0.0.1",
        "PHONEBOOK_PORT": str(http),
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(metrics),
        "METRICS_INTERVAL_S": "0.2",
    }
    with open(tmp_path / "phonebook.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.phonebook"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        wait_for_port(http, "the phonebook")
        wait_for_port(metrics, "the phonebook's metrics")
        yield http, metrics
    finally:
        proc.terminate()
        assert proc.wait(30) == 0, (tmp_path / "phonebook.log").read_text()


async def test_serves_its_metrics_and_answers_the_dialplan(ports: tuple[int, int]) -> None:
    http, metrics = ports
    last: list[Samples] = [[]]

    async def up() -> bool:
        last[0] = await scrape(f"http://127.0.0.1:{metrics}/metrics")
        return value(last[0], "pbx_redis_up") == 1

    await eventually(up, timeout=30)
    samples = last[0]
    assert value(samples, "pbx_service_info", service="phonebook") == 1
    assert (value(samples, "process_resident_memory_bytes") or 0) > 0
    assert value(samples, "pbx_entries_out_total") is None  # it reads Redis, never writes a stream
    async with httpx.AsyncClient() as client:
        # Odoo has published no book here: the dialplan is told to carry on without a name.
        response = await client.get(f"http://127.0.0.1:{http}/cid/0470123456", params={"token": "x"})
    assert response.status_code == 503
