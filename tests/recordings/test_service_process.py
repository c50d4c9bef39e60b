"""The service as a process of its own: killed with -9 in the middle of a file, and given a one-hour file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from peers.odoo_peer import OdooPeer
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import bridge_settings, start_bridge

from .helpers import WINDOW, ServiceProcess, mp3_frames, write_wav


@pytest.fixture
def service(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    (tmp_path / "monitor").mkdir()
    proc = ServiceProcess(redis_url, prefix, tmp_path)
    yield proc
    if proc.proc is not None and proc.proc.poll() is None:
        proc.proc.kill()
        proc.proc.wait()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def file_state(client: aioredis.Redis, prefix: str, path: str) -> dict:
    raw = await client.hget(f"{prefix}:asterisk1:recordings:files", path)
    return json.loads(raw) if raw else {}


async def test_killed_with_9_mid_file_it_resumes_and_the_recording_arrives_once_whole(
    service: ServiceProcess, client: aioredis.Redis, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    name = "rec-1796100002.4.wav"
    write_wav(tmp_path / "monitor" / name, 60)
    stream = f"{prefix}:asterisk1:recordings"
    service.start()
    # No bridge yet: the service sends up to its window and waits there, in the middle of the file.
    state: dict = {}

    async def at_window() -> bool:
        state.update(await file_state(client, prefix, name))
        return state.get("sent") == WINDOW

    await eventually(at_window, timeout=60)
    assert state["chunks"] > 2 * WINDOW and state["stage"] == "encoded"
    service.kill9()
    entries = await client.xrange(stream)
    prefix_ = f"{state['key']}:{state['sha256']}"
    assert [f["@id"] for _, f in entries] == [f"{prefix_}:{i}" for i in range(WINDOW)]

    odoo = await OdooPeer().start()
    bridge = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
    service.start()
    try:
        await eventually(lambda: _has(odoo, 1), timeout=60)
        (recording,) = odoo.recordings.recordings.values()
        assert recording.file == name and recording.data is not None
        assert hashlib.sha256(recording.data).hexdigest() == recording.sha256 == state["sha256"]
        assert len(recording.data) == state["size"] and abs(mp3_frames(recording.data)[1] - 60) < 0.3
        receipts = odoo.recordings.chunk_receipts
        assert sorted(receipts) == sorted(f"{prefix_}:{i}" for i in range(state["chunks"]))
        assert set(receipts.values()) == {1}  # no chunk twice: each went onto the bus with its progress
        assert odoo.recordings.summary_receipts[recording.key] == 1
        await eventually(lambda: _missing(tmp_path / "monitor" / name))
        # What the bridge delivered is trimmed from the stream.
        await eventually(lambda: _empty(client, stream))
        assert service.stop() == 0
    finally:
        await bridge.halt()
        await odoo.stop()


async def _has(odoo: OdooPeer, n: int) -> bool:
    return len(odoo.recordings.recordings) == n


async def _missing(path: Path) -> bool:
    return not path.exists()


async def _empty(client: aioredis.Redis, stream: str) -> bool:
    return await client.xlen(stream) == 0


def one_hour_wav(path: Path) -> None:
    minute = write_wav(path, 60)
    with open(path, "r+b") as f:  # the header of one minute, made to say one hour
        f.seek(0, 2)
        for _ in range(59):
            f.write(minute)
        f.seek(4)
        f.write((36 + len(minute) * 60).to_bytes(4, "little"))
        f.seek(40)
        f.write((len(minute) * 60).to_bytes(4, "little"))


async def test_a_one_hour_recording_is_encoded_and_sent_in_bounded_memory(
    service: ServiceProcess, client: aioredis.Redis, prefix: str, tmp_path: Path
) -> None:
    name = "rec-1796100003.5.wav"
    path = tmp_path / "monitor" / name
    one_hour_wav(path)
    assert path.stat().st_size == 44 + 8000 * 2 * 3600
    service.env["RECORDINGS_CHUNK_BYTES"] = str(262_144)
    service.env["RECORDINGS_WINDOW_BYTES"] = str(64 * 1024 * 1024)
    service.env["RECORDINGS_MP3_QUALITY"] = "7"
    service.start()
    state: dict = {}

    async def sent() -> bool:
        state.update(await file_state(client, prefix, name))
        return state.get("stage") == "sent"

    await eventually(sent, timeout=240, every=0.5)
    assert abs(state["duration"] - 3600) < 0.01 and state["chunks"] == -(-state["size"] // 262_144)
    peak = service.peak_rss_mb()
    # The WAV alone is 55 MiB (the service's peak was about 45 MiB here): it was never held whole.
    assert peak < 80, f"peak RSS {peak:.0f} MiB"
    assert service.stop() == 0
