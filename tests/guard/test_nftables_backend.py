"""The nftables backend for real, in two network namespaces the test makes (host firewall untouched)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from services.guard.firewall import NftablesBackend

SERVER, CLIENT = f"pbxg-s{os.getpid()}", f"pbxg-c{os.getpid()}"
PORT = 8099


def sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


@pytest.fixture
def namespaces() -> Iterator[subprocess.Popen]:
    if shutil.which("nft") is None or shutil.which("ip") is None:
        pytest.skip("nft or ip is not installed (make test installs nftables and iproute2 as root)")
    if sh("ip", "netns", "add", SERVER).returncode != 0:
        pytest.skip("this machine forbids creating network namespaces")
    listener = None
    try:
        steps = [
            ("ip", "netns", "add", CLIENT),
            (
                "ip",
                "link",
                "add",
                "vs",
                "netns",
                SERVER,
                "type",
                "veth",
                "peer",
                "name",
                "vc",
                "netns",
                CLIENT,
            ),
            ("ip", "-n", SERVER, "addr", "add", "10.201.0.1/24", "dev", "vs"),
            ("ip", "-n", CLIENT, "addr", "add", "10.201.0.2/24", "dev", "vc"),
            ("ip", "-n", CLIENT, "addr", "add", "10.201.0.3/24", "dev", "vc"),
            ("ip", "-n", SERVER, "link", "set", "vs", "up"),
            ("ip", "-n", CLIENT, "link", "set", "vc", "up"),
            ("ip", "-n", SERVER, "link", "set", "lo", "up"),
        ]
        for step in steps:
            result = sh(*step)
            if result.returncode != 0:
                pytest.skip(f"network namespace setup refused: {' '.join(step)}: {result.stderr.strip()}")
        if sh("ip", "netns", "exec", SERVER, "nft", "list", "tables").returncode != 0:
            pytest.skip("nft cannot run in a network namespace here")
        listener = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                SERVER,
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "10.201.0.1",
                str(PORT),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if reachable("10.201.0.2"):
                break
            time.sleep(0.05)
        yield listener
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        sh("ip", "netns", "del", CLIENT)
        sh("ip", "netns", "del", SERVER)


def reachable(source: str) -> bool:
    code = (
        f"import socket; s=socket.socket(); s.settimeout(0.5); s.bind(({source!r}, 0)); "
        f"s.connect(('10.201.0.1', {PORT}))"
    )
    return sh("ip", "netns", "exec", CLIENT, sys.executable, "-c", code).returncode == 0


async def wait_for(check, expected: bool, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while await asyncio.to_thread(check) != expected:
        if time.monotonic() > end:
            raise AssertionError(f"still {not expected} after {timeout} s")
        await asyncio.sleep(0.2)


async def test_a_banned_source_cannot_connect_an_unbanned_one_can_and_bans_time_out(namespaces) -> None:  # type: ignore[no-untyped-def]
    backend = NftablesBackend(prefix=["ip", "netns", "exec", SERVER])
    await backend.setup()
    await backend.setup()  # idempotent: still exactly one pair of drop rules
    listing = sh("ip", "netns", "exec", SERVER, "nft", "list", "chain", "inet", "pbx_guard", "input").stdout
    assert listing.count("drop") == 2
    assert reachable("10.201.0.2") and reachable("10.201.0.3")

    await backend.ban("10.201.0.2", 600)
    await backend.ban("10.201.0.2", 600)  # idempotent
    assert not reachable("10.201.0.2")
    assert reachable("10.201.0.3")

    await backend.unban("10.201.0.2")
    await backend.unban("10.201.0.2")  # idempotent
    assert reachable("10.201.0.2")

    await backend.ban("10.201.0.3", 2)
    assert not reachable("10.201.0.3")
    await wait_for(lambda: reachable("10.201.0.3"), True)  # the kernel ended it, no guard involved
    await backend.ban("2001:db8::1", 60)  # the IPv6 set takes IPv6 addresses
    assert (
        "2001:db8::1"
        in sh("ip", "netns", "exec", SERVER, "nft", "list", "set", "inet", "pbx_guard", "banned6").stdout
    )
