"""The firewall backends for real, in two network namespaces the test makes (the host firewall is untouched).

A server namespace listens on a TCP port (IPv4 and IPv6); a client namespace reaches it over a veth pair from
several source addresses. Every nft/ipset/iptables command runs inside the server namespace.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from peers.ami_peer import attack
from services.bus import Bus, encode, keys
from services.guard.config import GuardSettings
from services.guard.firewall import Backend, IpsetBackend, NftablesBackend
from services.guard.guard import Guard
from tests.bus.helpers import eventually

PORT = 8099
SERVER_V4, SERVER_V6 = "10.201.0.1", "fd00:201::1"
C1, C2, C3 = "10.201.0.2", "10.201.0.3", "10.201.0.4"
C6 = "fd00:201::2"


def sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


@dataclass
class Net:
    server: str
    client: str

    def exec(self, *args: str) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.server, *args)

    def reachable(self, source: str) -> bool:
        family = "AF_INET6" if ":" in source else "AF_INET"
        target = SERVER_V6 if ":" in source else SERVER_V4
        code = (
            f"import socket; s=socket.socket(socket.{family}); s.settimeout(0.5); s.bind(({source!r}, 0)); "
            f"s.connect(({target!r}, {PORT}))"
        )
        return sh("ip", "netns", "exec", self.client, sys.executable, "-c", code).returncode == 0


def _need_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces and nftables need root (make test runs as root in CI)")
    for tool in ("nft", "ip"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs nftables and iproute2)")


@pytest.fixture
def net() -> Iterator[Net]:
    _need_tools()
    tag = f"{os.getpid()}-{time.monotonic_ns() % 10**6}"
    n = Net(f"pbxg-s{tag}", f"pbxg-c{tag}")
    if sh("ip", "netns", "add", n.server).returncode != 0:
        pytest.skip("this machine forbids creating network namespaces")
    listener = None
    try:
        steps = [
            ("ip", "netns", "add", n.client),
            (
                "ip",
                "link",
                "add",
                "vs",
                "netns",
                n.server,
                "type",
                "veth",
                "peer",
                "name",
                "vc",
                "netns",
                n.client,
            ),
            ("ip", "-n", n.server, "addr", "add", f"{SERVER_V4}/24", "dev", "vs"),
            ("ip", "-n", n.server, "addr", "add", f"{SERVER_V6}/64", "dev", "vs", "nodad"),
            *[("ip", "-n", n.client, "addr", "add", f"{a}/24", "dev", "vc") for a in (C1, C2, C3)],
            ("ip", "-n", n.client, "addr", "add", f"{C6}/64", "dev", "vc", "nodad"),
            ("ip", "-n", n.server, "link", "set", "vs", "up"),
            ("ip", "-n", n.client, "link", "set", "vc", "up"),
            ("ip", "-n", n.server, "link", "set", "lo", "up"),
        ]
        for step in steps:
            result = sh(*step)
            if result.returncode != 0:
                pytest.skip(f"network namespace setup refused: {' '.join(step)}: {result.stderr.strip()}")
        if n.exec("nft", "list", "tables").returncode != 0:
            pytest.skip("nft cannot run in a network namespace here")
        serve = (
            "import socket,threading\n"
            "def serve(family, host):\n"
            "    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"    s.bind((host, {PORT})); s.listen(64)\n"
            "    while True: s.accept()[0].close()\n"
            f"threading.Thread(target=serve, args=(socket.AF_INET6, {SERVER_V6!r}), daemon=True).start()\n"
            f"serve(socket.AF_INET, {SERVER_V4!r})\n"
        )
        listener = subprocess.Popen(
            ["ip", "netns", "exec", n.server, sys.executable, "-c", serve],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if n.reachable(C1) and n.reachable(C6):
                break
            time.sleep(0.05)
        else:
            pytest.skip("the test listener in the namespace cannot be reached")
        yield n
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        sh("ip", "netns", "del", n.client)
        sh("ip", "netns", "del", n.server)


def make(kind: str, n: Net) -> Backend:
    prefix = ["ip", "netns", "exec", n.server]
    if kind == "nftables":
        return NftablesBackend(prefix=prefix)
    for tool in ("ipset", "iptables", "ip6tables"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs ipset and iptables)")
    return IpsetBackend(prefix=prefix)


def drop_rules(kind: str, n: Net) -> int:
    if kind == "nftables":
        return n.exec("nft", "list", "chain", "inet", "pbx_guard", "input").stdout.count("drop")
    return sum(n.exec(tool, "-S", "INPUT").stdout.count("DROP") for tool in ("iptables", "ip6tables"))


async def wait_for(check: Callable[[], bool]) -> None:
    """`eventually` for a check that runs commands in the namespaces (blocking: off the event loop)."""
    await eventually(lambda: asyncio.to_thread(check), timeout=10, every=0.1)


@pytest.mark.parametrize("kind", ["nftables", "ipset"])
async def test_banned_sources_cannot_connect_unbanned_ones_can_and_bans_time_out(kind: str, net: Net) -> None:
    backend = make(kind, net)
    await backend.setup()
    await backend.setup()  # idempotent: still exactly one drop rule per set
    assert drop_rules(kind, net) == 4
    assert all(map(net.reachable, (C1, C2, C3, C6)))

    await backend.apply([(C1, 600), (C6, 600)])
    await backend.apply([(C1, 600), (C6, 600)])  # idempotent
    assert not net.reachable(C1) and not net.reachable(C6)
    assert net.reachable(C2) and net.reachable(C3)

    await backend.remove([C1, C6])
    await backend.remove([C1, C6])  # idempotent
    assert net.reachable(C1) and net.reachable(C6)

    # A short ban ends by itself in the kernel, no guard involved; a ban made longer is not cut short.
    await backend.apply([(C2, 2), (C3, 2)])
    await backend.apply([(C3, 600)], replace=True)
    assert not net.reachable(C2) and not net.reachable(C3)
    await wait_for(lambda: net.reachable(C2))
    assert not net.reachable(C3)
    await backend.unban(C3)
    assert net.reachable(C3)


@pytest.mark.parametrize("kind", ["nftables", "ipset"])
async def test_denied_networks_are_dropped_until_the_access_list_changes(kind: str, net: Net) -> None:
    backend = make(kind, net)
    await backend.setup()
    await backend.set_denied([ipaddress.ip_network("10.201.0.2/31"), ipaddress.ip_network("fd00:201::/126")])
    assert not net.reachable(C1) and not net.reachable(C2) and not net.reachable(C6)
    assert net.reachable(C3)
    await backend.set_denied([ipaddress.ip_network("10.201.0.4/32")])  # replaces the whole list
    assert net.reachable(C1) and net.reachable(C2) and net.reachable(C6)
    assert not net.reachable(C3)
    await backend.setup()  # a restart keeps the sets
    assert not net.reachable(C3)
    await backend.set_denied([])
    assert net.reachable(C3)


async def test_the_guard_bans_an_attacker_in_the_real_firewall(net: Net, redis_url: str, prefix: str) -> None:
    """Security events on the bus -> the guard -> nftables: the attacker's connections are dropped."""
    settings = GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100, guard_bantime=600)
    bus = Bus(settings)
    guard = Guard(settings, bus, NftablesBackend(prefix=["ip", "netns", "exec", net.server]), tick=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(guard.run(stop))
    try:
        at = "2026-11-24T20:00:00.000000Z"
        await bus.publish_fields(keys.SECURITY, [encode(p, type="event", at=at) for p in attack([C1, C6], 5)])
        await wait_for(lambda: not net.reachable(C1) and not net.reachable(C6))
        assert net.reachable(C2)
        await bus.publish(keys.commands("guard"), {"address": C1}, type="unban", user="admin")
        await wait_for(lambda: net.reachable(C1))
        await eventually(lambda: _status_says(bus, active_bans="1"))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bus.close()


async def _status_says(bus: Bus, **expected: str) -> bool:
    status = await bus.redis.hgetall(bus.key(keys.status("guard")))
    return all(status.get(k) == v for k, v in expected.items())
