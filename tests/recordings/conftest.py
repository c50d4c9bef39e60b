"""The recordings service with the real gateway, bridge, AMI peer and Odoo peer around it, in one loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from peers.ami_peer import AmiPeer
from peers.ami_peer.flows.recording import RecordedCall, play_recorded_call
from peers.odoo_peer import OdooPeer
from peers.odoo_peer.recordings import Recording
from services.bus import Bus
from services.recordings.config import RecordingsSettings
from services.recordings.service import Recordings
from services.recordings.state import FileState
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Running, running_agent

ASTERISK_DIR = "/var/spool/asterisk/monitor"


def recordings_settings(redis_url: str, prefix: str, tmp: Path, **overrides: Any) -> RecordingsSettings:
    values: dict[str, Any] = dict(
        redis_url=redis_url,
        pbx_prefix=prefix,
        recordings_dir=str(tmp / "monitor"),
        recordings_asterisk_dir=ASTERISK_DIR,
        recordings_spool_dir=str(tmp / "spool"),
        recordings_chunk_bytes=4096,
        recordings_scan_interval_s=0.2,
        recordings_settle_s=0.1,
        recordings_mp3_quality=7,
        bus_block_ms=100,
        bus_retry_max_s=0.2,
    )
    values.update(overrides)
    return RecordingsSettings(**values)


@dataclass
class Stack:
    ami: AmiPeer
    odoo: OdooPeer
    bus: Bus
    dir: Path
    redis_url: str
    prefix: str
    tmp: Path
    bridge: Running
    service: Recordings | None = None
    stop: asyncio.Event | None = None
    task: asyncio.Task | None = None

    async def start(self, **overrides: Any) -> Recordings:
        settings = recordings_settings(self.redis_url, self.prefix, self.tmp, **overrides)
        self.service = Recordings(settings, Bus(settings))
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.service.run(self.stop))
        service = self.service
        await eventually(lambda: _ready(service))
        return service

    async def halt(self) -> None:
        if self.service is not None and self.stop is not None and self.task is not None:
            self.stop.set()
            await asyncio.wait_for(self.task, 30)
            await self.service.bus.close()
            self.service = None

    async def call(self, **kw: Any) -> RecordedCall:
        call = RecordedCall(directory=self.dir, asterisk_dir=ASTERISK_DIR, **kw)
        await play_recorded_call(self.ami, call)
        return call

    def recording(self, call: RecordedCall) -> Recording | None:
        return next(
            (r for r in self.odoo.recordings.recordings.values() if r.uniqueid == call.uniqueid), None
        )

    async def arrived(self, call: RecordedCall) -> Recording:
        found: list[Recording] = []

        async def check() -> bool:
            recording = self.recording(call)
            if recording is not None:
                found.append(recording)
            return bool(found)

        await eventually(check)
        return found[0]

    async def arrived_file(self, name: str) -> Recording:
        """The recording of this file (its name in the recordings directory), once Odoo has it."""
        found: list[Recording] = []

        async def check() -> bool:
            found[:] = [r for r in self.odoo.recordings.recordings.values() if r.file == name][:1]
            return bool(found)

        await eventually(check)
        return found[0]

    async def state(self, path: str) -> FileState | None:
        assert self.service is not None
        return await self.service.store.get(path)

    def call_events(self) -> list[dict[str, Any]]:
        return self.odoo.items("asterisk_plus.call")


async def _ready(service: Recordings) -> bool:
    return service.status.fields.get("ready") == "1"


@pytest.fixture
async def stack(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Stack]:
    monitor = tmp_path / "monitor"
    monitor.mkdir()
    async with running_agent(redis_url, prefix) as agent:
        bus = Bus(agent.bus.settings)
        stack = Stack(agent.ami, agent.odoo, bus, monitor, redis_url, prefix, tmp_path, agent.bridge)
        yield stack
        await stack.halt()
        await bus.close()
