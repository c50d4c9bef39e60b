"""The firewall backends for real, in two network namespaces the test makes (the host firewall is untouched).

A server namespace listens on a TCP port (IPv4 and IPv6); a client namespace reaches it over a veth pair from
several source addresses. Every nft/ipset/iptables command runs inside the server namespace.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
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
from services.guard import firewall
from services.guard.config import GuardSettings
from services.guard.firewall import Backend, IpsetBackend, NftablesBackend
from services.guard.guard import BANS, Guard
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


def _element(n: Net, address: str) -> str:
    """The element of `address` as `nft list set` prints it (`10.201.0.2 timeout 1d6h expires ...`), or ""."""
    listing = n.exec("nft", "list", "set", "inet", "pbx_guard", "banned4").stdout
    elements = listing.partition("elements = {")[2].partition("}")[0]
    return next((e.strip() for e in elements.split(",") if e.strip().split(" ")[0] == address), "")


async def _ban(bus: Bus, address: str, seconds: int) -> None:
    await bus.publish(keys.commands("guard"), {"address": address, "bantime": str(seconds)}, type="ban")


async def test_bans_longer_than_27_hours_reach_nft_and_later_bans_still_do(
    net: Net, redis_url: str, prefix: str
) -> None:
    """nft reads no number of 10**8 or more: `timeout 108000000ms` (30 h) was refused, and every later ban."""
    settings = GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100, guard_bantime=600)
    bus = Bus(settings)
    guard = Guard(settings, bus, NftablesBackend(prefix=["ip", "netns", "exec", net.server]), tick=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(guard.run(stop))
    try:
        await eventually(lambda: _status_says(bus, ready="1"))
        await _ban(bus, C1, 30 * 3600)
        await _ban(bus, C2, 3000 * 60)  # the Ban button's 3000 minutes
        await wait_for(lambda: not net.reachable(C1) and not net.reachable(C2))
        # In the kernel with their own timeouts: they end there even with the guard stopped.
        assert _element(net, C1).startswith(f"{C1} timeout 1d6h ")
        assert _element(net, C2).startswith(f"{C2} timeout 2d2h ")
        at = "2026-11-24T20:00:00.000000Z"
        await bus.publish_fields(keys.SECURITY, [encode(p, type="event", at=at) for p in attack([C3], 5)])
        await wait_for(lambda: not net.reachable(C3))
        assert _element(net, C3).startswith(f"{C3} timeout 10m ")
        await eventually(lambda: _status_says(bus, active_bans="3", firewall_ok="1", firewall_pending="0"))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bus.close()


async def test_a_ban_longer_than_a_kernel_timeout_holds_until_the_guard_lifts_it(
    net: Net, redis_url: str, prefix: str
) -> None:
    settings = GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100)
    bus = Bus(settings)
    now = [time.time()]
    backend = NftablesBackend(prefix=["ip", "netns", "exec", net.server])
    guard = Guard(settings, bus, backend, clock=lambda: now[0], tick=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(guard.run(stop))
    try:
        await eventually(lambda: _status_says(bus, ready="1"))
        await _ban(bus, C1, 60 * 86400)
        await wait_for(lambda: not net.reachable(C1))
        assert _element(net, C1) == C1  # no timeout: the guard ends it
        now[0] += 60 * 86400 - 60
        await asyncio.sleep(0.5)  # a few housekeeping ticks: not over yet
        assert not net.reachable(C1)
        now[0] += 61
        await wait_for(lambda: net.reachable(C1))
        assert _element(net, C1) == ""
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bus.close()


async def test_a_ban_nft_refuses_does_not_keep_the_others_out(
    net: Net, redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nft refuses a whole script for one bad element: the others go in, the refused one is reported."""
    # Timeouts written in milliseconds again, as before: nft refuses 30 h ("value too large").
    monkeypatch.setattr(firewall, "nft_timeout", lambda s: f" timeout {max(int(s * 1000), 1000)}ms")
    settings = GuardSettings(redis_url=redis_url, pbx_prefix=prefix, bus_block_ms=100)
    bus = Bus(settings)
    now = time.time()
    saved = {
        a: {"address": a, "reason": "x", "count": 5, "until": now + s, "offence": 1}
        for a, s in [(C1, 600), (C2, 30 * 3600), (C3, 600)]
    }
    await bus.redis.hset(
        bus.key(BANS),
        mapping={a: json.dumps({**r, "banned_at": now, "source": "rules"}) for a, r in saved.items()},
    )
    guard = Guard(settings, bus, NftablesBackend(prefix=["ip", "netns", "exec", net.server]), tick=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(guard.run(stop))
    try:
        # One batch of three on start: refused whole, then split.
        await wait_for(lambda: not net.reachable(C1) and not net.reachable(C3))
        assert net.reachable(C2)
        await eventually(
            lambda: _status_says(bus, firewall_ok="0", firewall_refused="1", firewall_pending="1")
        )
        status = await bus.redis.hgetall(bus.key(keys.status("guard")))
        assert C2 in status["firewall_error"] and "value too large" in status["firewall_error"]
        assert "degraded" in status and C2 in status["degraded"]
        # Later bans are not held back by the refused one.
        await _ban(bus, C6, 600)
        await wait_for(lambda: not net.reachable(C6))
        monkeypatch.undo()  # the firewall takes it once it can
        await wait_for(lambda: not net.reachable(C2))
        await eventually(lambda: _status_says(bus, firewall_ok="1", firewall_refused="0", degraded=""))
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bus.close()
