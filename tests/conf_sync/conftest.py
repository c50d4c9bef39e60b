"""The conf_sync service with the real gateway, bridge, AMI peer and Odoo peer around it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from peers.ami_peer import AmiPeer
from peers.odoo_peer import OdooPeer
from services.bus import Bus, keys
from services.conf_sync.config import ConfSyncSettings
from services.conf_sync.sync import ConfSync
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import running_agent


@dataclass
class Stack:
    ami: AmiPeer
    odoo: OdooPeer
    bus: Bus
    root: Path
    redis_url: str
    prefix: str
    tmp: Path

    async def start_conf_sync(self, **overrides: Any) -> tuple[ConfSync, asyncio.Event, asyncio.Task]:
        settings = ConfSyncSettings(
            redis_url=self.redis_url,
            pbx_prefix=self.prefix,
            asterisk_conf_dir=str(self.root),
            conf_backup_dir=str(self.tmp / "backups"),
            conf_watch_interval_s=0.1,
            conf_debounce_s=0.3,
            conf_boot_grace_s=0,
            bus_block_ms=100,
            conf_request_timeout_s=10,
            **overrides,
        )
        sync = ConfSync(settings, Bus(settings))
        stop = asyncio.Event()
        task = asyncio.create_task(sync.run(stop))
        await eventually(lambda: _ready(sync))
        return sync, stop, task

    def odoo_file(self, name: str) -> str | None:
        return self.odoo.files.get(name)

    def reloads(self) -> int:
        return sum(1 for a in self.ami.actions_received if ("Action", "Reload") in a)


@pytest.fixture
async def stack(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Stack]:
    root = tmp_path / "asterisk"
    root.mkdir()
    (root / "sip.conf").write_text("[general]\nfrom=asterisk\n")
    (root / "extensions.conf").write_text("[demo]\nexten => 100,1,Answer()\n")
    async with running_agent(redis_url, prefix) as agent:
        bus = Bus(agent.bus.settings)
        yield Stack(agent.ami, agent.odoo, bus, root, redis_url, prefix, tmp_path)
        await bus.close()


async def _ready(sync: ConfSync) -> bool:
    return sync.status.fields.get("ready") == "1"


async def stop_sync(sync: ConfSync, stop: asyncio.Event, task: asyncio.Task) -> None:
    stop.set()
    await asyncio.wait_for(task, 30)
    await sync.bus.close()


async def conf_result(stack: Stack, request_id: str) -> dict | None:
    for item in stack.odoo.items("asterisk_plus.server"):
        if item.get("@type") == "conf.result" and item.get("@id") == request_id:
            return item
    return None


async def send_upload(
    stack: Stack, request_id: str, files: list[dict[str, str]], reload: bool | None = None, **meta: Any
) -> None:
    """An upload as the Upload button sends it; `meta` goes to the envelope (`uid=7`: `@uid`)."""
    payload: dict[str, Any] = {"files": files} if reload is None else {"files": files, "reload": reload}
    await stack.bus.publish(
        keys.commands("conf_sync"), None, type="upload", id=request_id, payload=payload, **meta
    )


async def wait_result(stack: Stack, request_id: str) -> dict:
    """The conf.result Odoo received for a request, once it has."""
    await eventually(lambda: conf_result(stack, request_id))
    result = await conf_result(stack, request_id)
    assert result is not None
    return result
