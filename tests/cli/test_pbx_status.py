"""`pbx status`: every service's status hash, its fields sorted, DEGRADED said on the service's line."""

from __future__ import annotations

from services.bus import Bus, Status

from .conftest import pbx


async def test_each_service_and_its_fields(redis_url: str, prefix: str, bus: Bus) -> None:
    await Status(bus, "ami_gateway").set(ready=1, ami_connected=1, asterisk_version="22.10.1")
    await Status(bus, "guard").set(ready=1, degraded="the firewall refuses bans", firewall_ok=0)
    done = await pbx(redis_url, prefix, "status")
    assert done.returncode == 0, done.stderr
    blocks: dict[str, list[str]] = {}
    head = ""
    for line in done.stdout.splitlines():
        if line.startswith(" "):
            blocks[head].append(line.strip())
        else:
            head = line
            blocks[head] = []
    assert set(blocks) == {"status:ami_gateway", "status:guard  DEGRADED: the firewall refuses bans"}
    gateway = blocks["status:ami_gateway"]
    assert gateway == sorted(gateway)
    assert {"ami_connected: 1", "asterisk_version: 22.10.1", "ready: 1"} <= set(gateway)
    assert "firewall_ok: 0" in blocks["status:guard  DEGRADED: the firewall refuses bans"]


async def test_no_service_prints_nothing(redis_url: str, prefix: str) -> None:
    done = await pbx(redis_url, prefix, "status")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
